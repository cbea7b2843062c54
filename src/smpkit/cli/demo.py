"""`smpkit demo`: a whole firmware upgrade against the built-in simulator, in one process.

It starts the simulator on loopback UDP (or a serial pseudo-terminal), builds an
MCUboot image one version above the one the simulated device runs, and upgrades to
it with the same code `smpkit upgrade` uses: slots before, steps with a progress bar,
slots after.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer

from smpkit.cli.context import State, make_client, run_async, state_of


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)


def make_demo_image(path: Path, size: int, version: str) -> Path:
    """Write an unsigned, hash-only MCUboot image of `size` body bytes."""
    from smpkit.image.build import make_image, make_test_body

    path.write_bytes(make_image(make_test_body(size, seed=7), version))
    return path


def next_version(running: str) -> str:
    parts = [int(p) for p in running.split("+")[0].split(".")[:3] if p.isdigit()]
    while len(parts) < 3:
        parts.append(0)
    return f"{parts[0]}.{parts[1] + 1}.0"


def demo(
    ctx: typer.Context,
    size: Annotated[int, typer.Option("--size", metavar="KIB", help="Image body size in KiB.")] = 256,
    latency: Annotated[float, typer.Option("--latency", metavar="MS", help="Injected one-way latency (ms), "
                                                                          "to watch the pipeline work.")] = 2.0,
    serial: Annotated[bool, typer.Option("--serial", help="Use a serial pseudo-terminal instead of UDP.")] = False,
    keep: Annotated[Path | None, typer.Option("--keep", metavar="DIR", help="Keep the generated image in "
                                                                            "DIR.")] = None,
) -> None:
    """Upgrade the built-in simulator's firmware with a generated MCUboot image (no board needed)."""
    from smpkit.cli.context import CommandFailed

    state = state_of(ctx)
    try:
        run_async(lambda: _demo(state, size * 1024, latency, serial, keep))
    except (KeyboardInterrupt, typer.Exit):
        raise
    except Exception as exc:
        from smpkit.cli.errors import CliError

        if isinstance(exc, CliError):
            raise
        raise CommandFailed("demo", None, exc) from exc


async def _demo(state: State, size: int, latency_ms: float, serial: bool, keep: Path | None) -> None:
    from smpkit.cli.images import read_state, slot_rows
    from smpkit.cli.transfer import run_upgrade
    from smpkit.simulator import Faults, Simulator, SimulatorConfig

    out = state.out
    faults = Faults(latency_ms=latency_ms) if latency_ms else Faults()
    async with Simulator(SimulatorConfig(), faults=faults) as sim:
        server = await (sim.serve_serial_pty() if serial else sim.serve_udp("127.0.0.1", 0))
        out.info(f"simulator listening on {server.url} (latency {latency_ms:g} ms each way)")
        with tempfile.TemporaryDirectory(prefix="smpkit-demo-") as tmp:
            folder = keep or Path(tmp)
            folder.mkdir(parents=True, exist_ok=True)
            async with make_client(server.url, state.effective_timeout, state.effective_retries) as client:
                running = [r for r in slot_rows(await read_state(client)) if r["active"]]
                version = next_version(running[0]["version"] if running else "1.0.0")
                image = make_demo_image(folder / f"demo-{version}.bin", size, version)
                out.info(f"generated {image.name}: MCUboot image, version {version}, {image.stat().st_size} bytes")
                report: dict[str, Any] = await run_upgrade(client, state, image, image=0, confirm=True,
                                                           dry_run=False, reconnect_timeout=10.0, show_tables=True)
            if report["outcome"] != "upgraded":
                from smpkit.cli.errors import VerificationError

                raise VerificationError(f"demo: the upgrade ended as {report['outcome']!r}")
            out.info(f"done: the simulated device now runs {version}, confirmed. "
                     f"Next: `smpkit simulate --udp 127.0.0.1:1337` and `smpkit --udp 127.0.0.1:1337 image list`.")
