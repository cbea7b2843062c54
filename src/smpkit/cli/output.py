"""Printing for people (rich, imported on first use) and for scripts (`--json`)."""

from __future__ import annotations

import dataclasses
import json
import os
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress
    from rich.table import Table


def jsonable(value: Any) -> Any:
    """Models -> their protocol maps, bytes -> lowercase hex, recursively."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex()
    to_body = getattr(value, "to_body", None)
    if callable(to_body) and dataclasses.is_dataclass(value):
        return jsonable(to_body())
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in value]
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    return value


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


class Output:
    """One per invocation: knows `--json`, `-q`/`-v` and whether colours are wanted."""

    def __init__(self, json_mode: bool = False, quiet: bool = False, verbose: int = 0,
                 color: bool | None = None) -> None:
        self.json_mode = json_mode
        self.quiet = quiet
        self.verbose = verbose
        if color is None:
            color = _isatty(sys.stdout) and not os.environ.get("NO_COLOR")
        self.color = color
        self._console: Console | None = None
        self._err: Console | None = None

    @property
    def console(self) -> Console:
        if self._console is None:
            from rich.console import Console

            tty = _isatty(sys.stdout)
            self._console = Console(no_color=not self.color, highlight=False,
                                    force_terminal=True if self.color else None,
                                    color_system="auto" if self.color else None,
                                    width=None if tty else 200)
        return self._console

    @property
    def err(self) -> Console:
        if self._err is None:
            from rich.console import Console

            tty = _isatty(sys.stderr)
            self._err = Console(stderr=True, no_color=not tty or bool(os.environ.get("NO_COLOR")),
                                highlight=False, color_system="auto" if tty else None, width=None if tty else 200)
        return self._err

    def json(self, data: Any) -> None:
        sys.stdout.write(json.dumps(jsonable(data), indent=2) + "\n")
        sys.stdout.flush()

    def emit(self, data: Any, human: Any = None) -> None:
        """Print `data` as JSON in `--json` mode, else `human` (a rich renderable, a string or a callable)."""
        if self.json_mode:
            self.json(data)
            return
        if human is None:
            return
        if callable(human):
            human = human()
        if human is not None:
            self.console.print(human)

    def show(self, human: Any) -> None:
        """Print a renderable (or what a callable returns) for people only."""
        if not self.json_mode:
            self.console.print(human() if callable(human) else human)

    def info(self, message: str) -> None:
        """A status line for people: stderr, silenced by -q and by --json."""
        if not self.quiet and not self.json_mode:
            self.err.print(message, markup=True, highlight=False, soft_wrap=True)

    def debug(self, message: str) -> None:
        if self.verbose and not self.json_mode:
            self.err.print(f"[dim]{message}[/dim]")

    def error(self, line: str) -> None:
        sys.stderr.write(line + "\n")
        sys.stderr.flush()

    def table(self, *columns: str, title: str | None = None) -> Table:
        from rich.table import Table

        table = Table(title=title, box=_box(self.color), header_style="bold" if self.color else "")
        for column in columns:
            table.add_column(column)
        return table

    @property
    def show_progress(self) -> bool:
        return not self.json_mode and not self.quiet and _isatty(sys.stderr)

    @contextmanager
    def progress(self, description: str, total: int | None, unit_bytes: bool = True) -> Iterator[ProgressTask]:
        """A progress bar with rate and ETA on a terminal; a summary line otherwise."""
        task = ProgressTask(self, description, total, unit_bytes)
        if self.show_progress:
            from rich.progress import (
                BarColumn,
                DownloadColumn,
                MofNCompleteColumn,
                Progress,
                TaskProgressColumn,
                TextColumn,
                TimeRemainingColumn,
                TransferSpeedColumn,
            )

            columns: list[Any] = [TextColumn("{task.description}"), BarColumn(), TaskProgressColumn()]
            if unit_bytes:
                columns += [DownloadColumn(), TransferSpeedColumn()]
            else:
                columns += [MofNCompleteColumn()]
            columns += [TextColumn("ETA"), TimeRemainingColumn()]
            with Progress(*columns, console=self.err, transient=False) as bar:
                task.attach(bar)
                yield task
        else:
            yield task
        task.finish()


class ProgressTask:
    """What commands update; it drives a rich bar when one is shown."""

    def __init__(self, out: Output, description: str, total: int | None, unit_bytes: bool) -> None:
        self.out = out
        self.description = description
        self.total = total
        self.completed = 0
        self.unit_bytes = unit_bytes
        self.started = time.monotonic()
        self._bar: Progress | None = None
        self._id: Any = None

    def attach(self, bar: Progress) -> None:
        self._bar = bar
        self._id = bar.add_task(self.description, total=self.total)

    def update(self, completed: int, total: int | None = None, description: str | None = None) -> None:
        self.completed = completed
        if total is not None:
            self.total = total
        if description is not None:
            self.description = description
        if self._bar is not None:
            self._bar.update(self._id, completed=completed, total=self.total, description=self.description)

    def finish(self) -> None:
        """Without a bar nothing is printed here: the command prints its own summary."""
        self._bar = None


def _box(color: bool) -> Any:
    from rich import box

    return box.ROUNDED if color else box.ASCII


def yes_no(flag: bool | None) -> str:
    return "yes" if flag else ""
