"""Hand `smpkit simulate ...` to the simulator's own command (cli/simulate.py), imported only when used."""

from __future__ import annotations

import importlib
import sys
from typing import Any

import typer

from smpkit.cli.main import CLICK_EXCEPTION


def _command() -> Any:
    try:
        module: Any = importlib.import_module("smpkit.cli.simulate")
    except ImportError as exc:
        raise RuntimeError(f"the simulator command is not available: {exc}") from exc
    for attr in ("app", "simulate_app", "cli"):
        obj = getattr(module, attr, None)
        if isinstance(obj, typer.Typer):
            return typer.main.get_command(obj)
        if obj is not None and callable(getattr(obj, "main", None)):
            return obj
    for attr in ("simulate", "main", "run"):
        fn = getattr(module, attr, None)
        if callable(fn):
            wrapper = typer.Typer(add_completion=False)
            wrapper.command()(fn)
            return typer.main.get_command(wrapper)
    raise RuntimeError("smpkit.cli.simulate defines no command")


def run_simulate(args: list[str]) -> int:
    """Run the simulator command with `args`; return its exit code."""
    command = _command()
    try:
        result = command.main(args=args, prog_name="smpkit simulate", standalone_mode=False)
    except typer.Exit as exc:
        return int(exc.exit_code)
    except typer.Abort:
        return 130
    except KeyboardInterrupt:
        sys.stderr.write("\n")
        return 0
    except CLICK_EXCEPTION as exc:
        exc.show()  # type: ignore[attr-defined]
        return int(exc.exit_code)  # type: ignore[attr-defined]
    return int(result) if isinstance(result, int) else 0
