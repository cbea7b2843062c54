"""`smpkit simulate`: run the device simulator until interrupted.

Prints one ready line per server (`listening on udp://127.0.0.1:41234`) on stdout, then
one line per handled request on stderr.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import typer

DEFAULT_UDP = "127.0.0.1:1337"

_typer_app = typer.Typer(add_completion=False, help="Run a simulated Zephyr SMP device.")


def _split_host_port(text: str) -> tuple[str, int]:
    """`HOST:PORT`, `[v6]:PORT`, `HOST` or `:PORT` (defaults 127.0.0.1 and 1337)."""
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port = rest.lstrip(":")
    elif text.count(":") == 1:
        host, port = text.split(":")
    elif ":" in text:  # a bare IPv6 address
        host, port = text, ""
    else:
        host, port = text, ""
    try:
        return host or "127.0.0.1", int(port) if port else 1337
    except ValueError:
        raise typer.BadParameter(f"bad port in {text!r}") from None


def simulate(
    udp: str | None = typer.Option(
        None, "--udp", help="Serve SMP over UDP on HOST:PORT (default 127.0.0.1:1337; port 0 = any)."
    ),
    serial_pty: bool = typer.Option(False, "--serial-pty", help="Serve SMP on a new pseudo-terminal."),
    raw: bool = typer.Option(False, "--raw", help="Raw UART on the pty (no console framing)."),
    baud: int | None = typer.Option(None, "--baud", help="Pace the pty at this baud rate."),
    buf_size: int | None = typer.Option(None, "--buf-size", help="MCUmgr buffer size (buf_size)."),
    buf_count: int | None = typer.Option(None, "--buf-count", help="MCUmgr buffer count (buf_count)."),
    image: Path | None = typer.Option(None, "--image", help="MCUboot image the device runs at first boot."),  # noqa: B008
    state: Path | None = typer.Option(None, "--state", help="Keep slots, settings and files in DIR across runs."),  # noqa: B008
    profile: str = typer.Option("default", "--profile", help="Device profile (default, zephyr-4.4-udp, ...)."),
    fs_root: Path | None = typer.Option(None, "--fs", help="Directory served at /lfs1 (default: temporary)."),  # noqa: B008
    latency: float = typer.Option(0.0, "--latency", help="One-way latency in ms."),
    jitter: float = typer.Option(0.0, "--jitter", help="Extra random delay up to this many ms."),
    loss: float = typer.Option(0.0, "--loss", help="Probability that a request is lost."),
    duplicate: float = typer.Option(0.0, "--duplicate", help="Probability that a request arrives twice."),
    reorder: float = typer.Option(0.0, "--reorder", help="Probability that a request is overtaken by the next."),
    bandwidth: int | None = typer.Option(None, "--bandwidth", help="Link speed cap in bytes per second."),
    drop_after: int | None = typer.Option(None, "--drop-after", help="Drop the link after N packets."),
    reset_during_upload: bool = typer.Option(False, "--reset-during-upload", help="Reset once mid-upload."),
    seed: int = typer.Option(0, "--seed", help="Seed of the fault injection."),
    ble: bool = typer.Option(False, "--ble", help="Serve as a BLE peripheral (GATT SMP service) through Bumble."),
    hci: str | None = typer.Option(
        None, "--hci", help="Bumble HCI spec of the controller for --ble (usb:0, serial:..., tcp-client:HOST:PORT); "
        "default: a virtual link, joinable over HCI on 127.0.0.1."
    ),
    name: str | None = typer.Option(None, "--name", help="Advertised BLE name for --ble (default smpkit-sim)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Do not log requests."),
    count: int = typer.Option(1, "--count", min=1, max=10_000,
                              help="Run N devices, each with its own port, state (DIR/dev-I) and faults."),
) -> None:
    """Run a simulated Zephyr SMP device until interrupted."""
    if (hci or name) and not ble:
        raise typer.BadParameter("--hci and --name go with --ble", param_hint="--ble")
    if udp is None and not serial_pty and not ble:
        udp = DEFAULT_UDP
    if count > 1 and ble:
        raise typer.BadParameter("--count goes with --udp and --serial-pty, not --ble yet", param_hint="--count")
    from smpkit.simulator import Faults, SimulatorConfig

    faults = Faults(
        latency_ms=latency,
        jitter_ms=jitter,
        loss=loss,
        duplicate=duplicate,
        reorder=reorder,
        bandwidth=bandwidth,
        drop_after=drop_after,
        reset_during_upload=reset_during_upload,
        seed=seed,
    )
    if count > 1 and fs_root is not None:
        raise typer.BadParameter("--fs serves one directory: with --count use --state DIR", param_hint="--fs")
    configs = [
        SimulatorConfig(buf_size=buf_size, buf_count=buf_count, profile=profile, image=image, fs_root=fs_root,
                        state_dir=_device_state(state, index, count))
        for index in range(count)
    ]
    # Each device draws its own faults: the same options, a seed of its own.
    fleet = [(config, dataclasses.replace(faults, seed=seed + index)) for index, config in enumerate(configs)]
    try:
        asyncio.run(_run(fleet, udp, serial_pty, raw, baud, quiet, (hci, name) if ble else None))
    except KeyboardInterrupt:
        pass
    except ValueError as exc:  # unknown profile and similar
        raise typer.BadParameter(str(exc)) from None


def _device_state(state: Path | None, index: int, count: int) -> Path | None:
    """`--state DIR`: DIR itself for one device, DIR/dev-0, DIR/dev-1, ... for a fleet."""
    if state is None or count == 1:
        return state
    return state / f"dev-{index}"


async def _run(
    fleet: list[tuple[Any, Any]],
    udp: str | None,
    serial_pty: bool,
    raw: bool,
    baud: int | None,
    quiet: bool,
    ble: tuple[str | None, str | None] | None = None,
) -> None:
    async with contextlib.AsyncExitStack() as stack:
        for index, (config, faults) in enumerate(fleet):
            prefix = f"[dev-{index}] " if len(fleet) > 1 else ""
            sim = await stack.enter_async_context(_simulator(config, faults, quiet, prefix))
            if udp is not None:
                host, port = _split_host_port(udp)
                server = await sim.serve_udp(host, port + index if port else 0)
                print(f"listening on {server.url}", flush=True)
            if serial_pty:
                pty = await sim.serve_serial_pty(baud=baud, raw=raw)
                print(f"listening on {pty.url}", flush=True)
            if ble is not None:
                for url in await _serve_ble(sim, *ble):
                    print(f"listening on {url}", flush=True)
        await _wait_for_signal()


@contextlib.asynccontextmanager
async def _simulator(config: Any, faults: Any, quiet: bool, prefix: str) -> AsyncIterator[Any]:
    from smpkit.simulator import RequestRecord, Simulator

    async with Simulator(config, faults) as sim:
        sim.keep_records = False
        if not quiet:

            def log(record: RequestRecord) -> None:
                sys.stderr.write(prefix + record.describe() + "\n")
                sys.stderr.flush()

            sim.on_request = log
        yield sim


async def _wait_for_signal() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):  # not the main thread
            loop.add_signal_handler(sig, stop.set)
    await stop.wait()


async def _serve_ble(sim: Any, hci: str | None, name: str | None) -> list[str]:
    """Start the BLE peripheral; without --hci, on a virtual link that other processes join over TCP HCI."""
    from smpkit.simulator.transports.ble import DEFAULT_NAME, serve_ble

    name = name or DEFAULT_NAME
    if hci is not None:
        server = await serve_ble(sim, hci=hci, name=name)
        return [server.url]
    from bumble.link import LocalLink

    from smpkit.transport.bumble import serve_virtual_controller

    link = LocalLink()  # type: ignore[no-untyped-call]
    server = await serve_ble(sim, hci=link, name=name)
    spec, close = await serve_virtual_controller(link)
    sim.add_server(_Closer(spec, close))
    return [server.url, f"bumble://{name}?hci={spec}"]


class _Closer:
    """Lets the simulator close the TCP HCI endpoint of the virtual link with its servers."""

    def __init__(self, url: str, close: Any) -> None:
        self.url = url
        self._close = close

    async def close(self) -> None:
        await self._close()

    def on_reboot(self) -> None:
        return None


_typer_app.command()(simulate)


def normalize_args(argv: list[str]) -> list[str]:
    """Give a bare `--udp` (last, or followed by another option) its default value."""
    out: list[str] = []
    for index, arg in enumerate(argv):
        out.append(arg)
        if arg == "--udp":
            following = argv[index + 1] if index + 1 < len(argv) else None
            if following is None or following.startswith("-"):
                out.append(DEFAULT_UDP)
    return out


class _SimulateCommand:
    """The click command, with `--udp`'s optional value handled before click sees the arguments."""

    def __init__(self) -> None:
        self.command = typer.main.get_command(_typer_app)

    def main(self, args: list[str] | None = None, **kwargs: Any) -> Any:
        argv = list(sys.argv[1:] if args is None else args)
        return self.command.main(args=normalize_args(argv), **kwargs)


#: What `smpkit simulate` runs (see cli/simulate_bridge.py).
app = _SimulateCommand()


def main(argv: list[str] | None = None) -> int:
    """Entry point of `python -m smpkit.simulator`."""
    try:
        app.main(args=argv, prog_name="smpkit simulate", standalone_mode=True)
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0
