"""Raw bytes over the simulator's real pseudo-terminal: console framing, Zephyr's line cuts, raw UART."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator

import pytest

from smpkit.protocol import decode_message, encode_request
from smpkit.protocol.groups.os import Echo, TaskStat
from smpkit.protocol.serial_framing import encode_frame
from smpkit.simulator import Simulator, SimulatorConfig

from .conftest import PtyPeer


@pytest.fixture
async def pty(sim: Simulator) -> AsyncIterator[PtyPeer]:
    server = await sim.serve_serial_pty()
    assert server.url == f"serial://{server.path}" and server.path.startswith("/dev/")
    peer = PtyPeer(server.path)
    yield peer
    peer.close()


async def test_echo_matches_zephyrs_bytes(pty: PtyPeer) -> None:
    pty.write(bytes.fromhex("060941424d4b4141414a41414142414b46685a47566f5a57787362336f320a"))  # from the capture
    await pty.frame()
    assert bytes(pty.wire) == bytes.fromhex("06094142514c4141414b41414142414c3968636d566f5a577873622f2f304a413d3d0a")


async def test_long_answers_use_zephyrs_line_cuts(pty: PtyPeer) -> None:
    pty.send_frame(encode_request(Echo(d="L" * 300), 3))
    message = await pty.frame()
    assert decode_message(message).body == {"r": "L" * 300}
    lines = bytes(pty.wire).split(b"\n")[:-1]
    assert [len(line) + 1 for line in lines[:-1]] == [127] + [123] * (len(lines) - 2)
    assert bytes(pty.wire) == encode_frame(message, 93, 90)


async def test_text_lines_are_ignored_and_bad_frames_dropped(pty: PtyPeer) -> None:
    good = encode_frame(encode_request(Echo(d="ok"), 1))
    bad_crc = bytearray(encode_frame(encode_request(Echo(d="bad"), 2)))
    bad_crc[-3] ^= 0x01
    pty.write(b"some console text\r\n" + bytes(bad_crc) + b"junk" + good)  # marker after text: dropped
    pty.write(b"hello\n" + good)
    assert decode_message(await pty.frame()).body == {"r": "ok"}
    with pytest.raises(asyncio.TimeoutError):
        await pty.frame(timeout=0.3)


async def test_requests_over_buf_size_minus_4_get_no_answer() -> None:
    async with Simulator(SimulatorConfig(buf_size=384)) as sim:
        server = await sim.serve_serial_pty()
        peer = PtyPeer(server.path)
        fits = encode_request(Echo(d="A" * (380 - 14)), 1)
        too_big = encode_request(Echo(d="A" * (381 - 14)), 2)
        assert (len(fits), len(too_big)) == (380, 381)
        peer.send_frame(too_big)
        peer.send_frame(fits)
        assert decode_message(await peer.frame()).header.sequence == 1
        with pytest.raises(asyncio.TimeoutError):
            await peer.frame(timeout=0.3)
        peer.close()


async def test_raw_uart_mode() -> None:
    async with Simulator() as sim:
        server = await sim.serve_serial_pty(raw=True)
        assert server.url.endswith("?raw=1")
        peer = PtyPeer(server.path)
        request = encode_request(Echo(d="raw"), 5) + encode_request(TaskStat(), 6)
        peer.write(request[:5])
        await asyncio.sleep(0.05)
        peer.write(request[5:])
        first = await peer.read_raw(8 + 9)
        assert decode_message(first[:17]).body == {"r": "raw"}
        peer.close()


async def test_baud_rate_paces_the_answer() -> None:
    """At 9600 baud (10 bits a byte) the answer's wire bytes cannot arrive faster than the line
    carries them. A lower bound only: a loaded machine can make it slower, never faster."""
    async with Simulator() as sim:
        server = await sim.serve_serial_pty(baud=9600)
        assert "baud=9600" in server.url
        peer = PtyPeer(server.path)
        loop = asyncio.get_running_loop()
        started = loop.time()
        peer.send_frame(encode_request(Echo(d="slow" * 60), 1))
        assert decode_message(await peer.frame()).body == {"r": "slow" * 60}
        took = loop.time() - started
        line_time = len(peer.wire) * 10 / 9600  # ~0.36 s for the ~350 wire bytes
        assert took >= 0.95 * line_time, f"{len(peer.wire)} bytes in {took:.3f} s: faster than 9600 baud"
        peer.close()


async def test_drop_after_hangs_up_the_pty() -> None:
    from smpkit.simulator import Faults

    async with Simulator(faults=Faults(drop_after=1)) as sim:
        server = await sim.serve_serial_pty()
        peer = PtyPeer(server.path)
        peer.send_frame(encode_request(Echo(d="one"), 1))
        assert decode_message(await peer.frame()).body == {"r": "one"}
        peer.send_frame(encode_request(Echo(d="two"), 2))
        await asyncio.sleep(0.1)
        assert server.session.link_dropped
        try:
            data = os.read(peer.fd, 100)  # the device side is gone: EOF or EIO, not "no data yet"
        except BlockingIOError:
            pytest.fail("the pty is still open")
        except OSError:
            data = b""
        assert data == b""
        peer.close()
