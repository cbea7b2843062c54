"""Connection strings, the serial transport's modes and console output, the window on its own."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from smpkit import SMPClient
from smpkit.client.window import Window
from smpkit.transport.serial import SMPSerialTransport
from smpkit.transport.udp import SMPUDPTransport, split_host_port
from smpkit.transport.url import parse

from .fakedev import FakePtyDevice


def test_connection_strings() -> None:
    udp = parse("udp://127.0.0.1:1337")
    assert (udp.scheme, udp.address) == ("udp", "127.0.0.1:1337")
    assert isinstance(udp.transport(), SMPUDPTransport)
    assert parse("udp://[::1]:9000").address == "[::1]:9000"
    assert split_host_port("[::1]:9000") == ("::1", 9000)
    assert split_host_port("::1", 1337) == ("::1", 1337)
    assert split_host_port("localhost:5") == ("localhost", 5)
    with pytest.raises(ValueError):
        split_host_port("localhost")
    serial = parse("serial:///dev/ttyACM0?baud=1000000&raw=1&line_delay_ms=5")
    assert serial.address == "/dev/ttyACM0"
    transport = serial.transport()
    assert isinstance(transport, SMPSerialTransport)
    assert (transport.baudrate, transport.raw, transport.line_delay_ms) == (1000000, True, 5.0)
    assert transport.framing_overhead == 0
    console = parse("serial://COM3").transport()
    assert isinstance(console, SMPSerialTransport) and console.framing_overhead == 4 and not console.raw
    assert parse("serial://COM3").address == "COM3"
    ble = parse("ble://AA:BB:CC:DD:EE:FF")
    assert (ble.scheme, ble.address) == ("ble", "AA:BB:CC:DD:EE:FF")
    assert parse("ble://My%20Device").address == "My Device"
    bumble = parse("bumble://smp-sim?hci=usb:0")
    assert (bumble.address, bumble.options) == ("smp-sim", {"hci": "usb:0"})
    for bad in ("tcp://x:1", "udp://", "/dev/ttyACM0"):
        with pytest.raises(ValueError):
            parse(bad)
    with pytest.raises(ValueError):
        parse("serial:///dev/x?bogus=1").transport()


def test_ble_and_bumble_strings_build_their_transports() -> None:
    # no importorskip: bleak and Bumble are smpkit's own dependencies, a broken import must fail here
    assert parse("ble://AA:BB:CC:DD:EE:FF").transport().scheme == "ble"
    assert parse("bumble://smp-sim?hci=usb:0").transport().scheme == "bumble"


async def test_console_output_is_kept_apart(pty_device: FakePtyDevice) -> None:
    seen: list[str] = []
    transport = SMPSerialTransport(line_delay_ms=0, on_console_line=seen.append)
    async with SMPClient(transport, str(pty_device.link)) as client:
        pty_device.write_raw(b"[00:00:01.000] <inf> app: booting\r\n")
        assert await client.os.echo("a") == "a"
        pty_device.write_raw(b"uart:~$ \x1b[1;32mhello\x1b[0m\n")
        assert await client.os.echo("b") == "b"
        lines = [await asyncio.wait_for(transport.console_lines.get(), 2) for _ in range(2)]
        assert lines == ["[00:00:01.000] <inf> app: booting", "uart:~$ \x1b[1;32mhello\x1b[0m"]
        assert seen == lines
        assert transport.noise == 0


async def test_raw_serial_mode(tmp_path: Path) -> None:
    device = FakePtyDevice(link=tmp_path / "ttyRAW", raw=True)
    url = device.start() + "?raw=1"
    try:
        async with SMPClient(url) as client:
            assert client.max_request_size == 2048  # no console framing to take from buf_size
            texts = [f"r{i}" * 50 for i in range(10)]
            assert await asyncio.gather(*(client.os.echo(t) for t in texts)) == texts
        assert device.received.startswith(bytes.fromhex("0800000100000006a0"))  # params, unframed
        assert b"\x06\x09" not in device.received
    finally:
        await device.close()


async def test_console_framing_lines_fit_zephyrs_buffer(pty_device: FakePtyDevice) -> None:
    async with SMPClient(pty_device.url + "?line_delay_ms=0.5") as client:  # type: ignore[attr-defined]
        assert client.max_request_size == 2048 - 4
        text = "z" * 1900
        assert await client.os.echo(text) == text
    lines = bytes(pty_device.received).split(b"\n")
    assert max(len(line) + 1 for line in lines) <= 127
    assert sum(1 for line in lines if line.startswith(b"\x04\x14")) >= 15


async def test_missing_serial_port(tmp_path: Path) -> None:
    from smpkit.transport.errors import SMPDeviceNotFound

    transport = SMPSerialTransport()
    with pytest.raises(SMPDeviceNotFound):
        await transport.connect(str(tmp_path / "nope"), 0.2)


async def test_window_limits_and_aimd() -> None:
    window = Window(3, large_cap=2, large_threshold=1000)
    assert (window.limit_for(10), window.limit_for(2000)) == (3, 2)
    tickets = [await window.acquire() for _ in range(3)]
    waiter = asyncio.create_task(window.acquire())
    await asyncio.sleep(0.01)
    assert not waiter.done() and window.in_flight == 3
    await window.release(tickets[0])
    tickets.append(await waiter)
    window.on_loss(tickets[1])
    window.on_loss(tickets[2])  # same burst: halved once
    assert (window.size, window.shrinks) == (1, 1)
    for t in tickets[1:]:
        await window.release(t)
    for _ in range(4):
        window.on_success()
    assert window.size == 3  # back to the device's limit, never beyond
    window.on_success()
    assert window.size == 3


async def test_window_probes_one_deeper_and_learns() -> None:
    from smpkit.client import window as window_mod

    window = Window(3, 4)
    assert window.size == 3
    for _ in range(4):
        window.on_success()
    assert window.size == 4  # probing above the safe depth
    assert window.limit_for(10, retriable=False) == 3  # never for requests that cannot be resent
    tickets = [await window.acquire() for _ in range(4)]
    window.on_loss(tickets[3])  # the probe at depth 4 failed
    assert (window.size, window.ceiling) == (2, 3)
    for t in tickets:
        await window.release(t)
    for _ in range(10):
        window.on_success()
    assert window.size == 3  # back to the safe depth, not beyond
    for _ in range(window_mod.REPROBE_AFTER):
        window.on_success()
    assert window.ceiling == 4  # probed again after enough successes
