"""`smpkit scan`: serial ports and Bluetooth LE devices that advertise the SMP service."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

import typer

from smpkit.cli.connection import ble_url, serial_url
from smpkit.cli.context import State, state_of
from smpkit.cli.errors import CliError, ExitCode


def register(app: typer.Typer) -> None:
    app.command("scan")(scan)


def serial_ports() -> list[dict[str, Any]]:
    from serial.tools import list_ports

    found = []
    for port in sorted(list_ports.comports(), key=lambda p: p.device):
        description = port.description if port.description and port.description != "n/a" else None
        found.append({"transport": "serial", "name": description, "address": port.device, "rssi": None,
                      "conn": serial_url(port.device)})
    return found


async def ble_devices(seconds: float, hci: str | None) -> list[dict[str, Any]]:
    if hci:
        from smpkit.transport.bumble import SMPBumbleTransport

        transport = SMPBumbleTransport(hci=hci)
        try:
            results = await transport.scan(seconds)
        finally:
            await transport.disconnect()
        # a shortened name (only the advertisement got through) is shown as such; connect by address then
        items = [(r.name if r.name_complete or not r.name else f"{r.name}…", r.address, r.rssi) for r in results]
        return [{"transport": "bumble", "name": name, "address": address, "rssi": rssi,
                 "conn": ble_url(address if name and name.endswith("…") else name or address, hci)}
                for name, address, rssi in items]
    else:
        from smpkit.transport.ble import SMPBLETransport

        devices = await SMPBLETransport.scan(timeout=max(1, round(seconds)))
        items = [(d.name, d.address, getattr(d, "rssi", None)) for d in devices]
    return [{"transport": "bumble" if hci else "ble", "name": name, "address": address, "rssi": rssi,
             "conn": ble_url(name or address, hci)} for name, address, rssi in items]


async def _ticking(state: State, seconds: float, work: Any) -> Any:
    with state.out.progress("scanning Bluetooth LE", total=int(seconds * 10), unit_bytes=False) as task:
        job = asyncio.ensure_future(work)
        ticks = 0
        while not job.done():
            await asyncio.wait([job], timeout=0.1)
            ticks = min(ticks + 1, int(seconds * 10))
            task.update(ticks)
        task.update(int(seconds * 10))
        return job.result()


def scan(
    ctx: typer.Context,
    duration: Annotated[float, typer.Option("--duration", "-s", metavar="SECONDS",
                                            help="How long to listen for BLE advertisements.")] = 5.0,
    ble: Annotated[bool, typer.Option("--ble/--no-ble", help="Look for BLE devices (global --hci SPEC: "
                                                             "through Bumble).")] = True,
    serial: Annotated[bool, typer.Option("--serial/--no-serial", help="List serial ports.")] = True,
) -> None:
    """List serial ports and BLE devices advertising the SMP service, with the connection to use."""
    state = state_of(ctx)
    devices: list[dict[str, Any]] = []
    errors: list[str] = []
    if serial:
        try:
            devices += serial_ports()
        except Exception as exc:  # a broken port enumerator must not hide BLE results
            errors.append(f"serial: {exc}")
    if ble:
        try:
            devices += asyncio.run(_ticking(state, duration, ble_devices(duration, state.flags.hci)))
        except Exception as exc:
            errors.append(f"BLE: {type(exc).__name__}: {exc}".rstrip(": "))
    for err in errors:
        state.out.error(f"warning: scan {err}")

    def human() -> Any:
        table = state.out.table("transport", "name", "address", "rssi", "use")
        for d in devices:
            table.add_row(d["transport"], d["name"] or "", d["address"], "" if d["rssi"] is None else str(d["rssi"]),
                          _flag_for(d))
        if not devices:
            table.add_row("-", "(nothing found)", "", "", "")
        return table

    state.out.emit({"devices": devices, "errors": errors}, human)
    if errors and not devices and len(errors) == int(serial) + int(ble):
        raise CliError("scan: no source could be scanned", ExitCode.CONNECTION,
                       "check the Bluetooth adapter or pass --hci SPEC")


def _flag_for(device: dict[str, Any]) -> str:
    if device["transport"] == "serial":
        return f"--serial {device['address']}"
    return f"--conn {device['conn']}"
