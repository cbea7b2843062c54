"""Fixtures: a simulator with UDP and pty servers, raw UDP/pty peers, and imgtool-made images."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import tty
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from smpkit.protocol.serial_framing import Frame, FrameDecoder, encode_frame
from smpkit.simulator import Simulator, SimulatorConfig

IMGTOOL = Path(sys.executable).with_name("imgtool")


def make_image(tmp_path: Path, version: str = "1.2.3", size: int = 20000, seed: int = 1) -> bytes:
    """An MCUboot image made by imgtool, as a firmware build would produce it."""
    body = tmp_path / f"body-{version}-{seed}.bin"
    body.write_bytes(bytes((i * 7 + seed) & 0xFF for i in range(size)))
    out = tmp_path / f"image-{version}-{seed}.bin"
    subprocess.run(
        [
            str(IMGTOOL),
            "create",
            "--align",
            "4",
            "--version",
            version,
            "--header-size",
            "0x200",
            "--slot-size",
            "0x80000",
            "--pad-header",
            str(body),
            str(out),
        ],
        check=True,
        capture_output=True,
    )
    return out.read_bytes()


@pytest.fixture
def image_v123(tmp_path: Path) -> bytes:
    return make_image(tmp_path)


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator(SimulatorConfig(reset_delay_s=0.05)) as simulator:
        yield simulator


class UDPPeer:
    """A bare UDP socket that talks bytes to the simulator."""

    def __init__(self, host: str, port: int) -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_DGRAM)
        self.sock.setblocking(False)
        self.sock.connect((host, port))

    async def send(self, data: bytes) -> None:
        await asyncio.get_running_loop().sock_sendall(self.sock, data)

    async def recv(self, timeout: float = 2.0) -> bytes:
        return await asyncio.wait_for(asyncio.get_running_loop().sock_recv(self.sock, 65536), timeout)

    async def recv_all(self, quiet: float = 0.3) -> list[bytes]:
        """Everything that arrives until nothing has come for `quiet` seconds."""
        out: list[bytes] = []
        while True:
            try:
                out.append(await self.recv(quiet))
            except asyncio.TimeoutError:
                return out

    async def exchange(self, data: bytes) -> bytes:
        await self.send(data)
        return await self.recv()

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
async def udp(sim: Simulator) -> AsyncIterator[UDPPeer]:
    server = await sim.serve_udp("127.0.0.1", 0)
    peer = UDPPeer("127.0.0.1", server.port)  # type: ignore[attr-defined]
    yield peer
    peer.close()


class PtyPeer:
    """The client end of the simulator's pty, opened raw like a serial port."""

    def __init__(self, path: str) -> None:
        self.fd = os.open(path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
        tty.setraw(self.fd)
        self.decoder = FrameDecoder()
        self.wire = bytearray()
        self.frames: asyncio.Queue[bytes] = asyncio.Queue()
        self.raw_bytes: asyncio.Queue[bytes] = asyncio.Queue()
        asyncio.get_running_loop().add_reader(self.fd, self._readable)

    def _readable(self) -> None:
        try:
            data = os.read(self.fd, 65536)
        except OSError:
            return
        self.wire += data
        self.raw_bytes.put_nowait(data)
        for event in self.decoder.feed(data):
            if isinstance(event, Frame):
                self.frames.put_nowait(event.message)

    def write(self, data: bytes) -> None:
        os.write(self.fd, data)

    def send_frame(self, message: bytes) -> None:
        self.write(encode_frame(message))

    async def frame(self, timeout: float = 2.0) -> bytes:
        return await asyncio.wait_for(self.frames.get(), timeout)

    async def read_raw(self, size: int, timeout: float = 2.0) -> bytes:
        out = bytearray()
        while len(out) < size:
            out += await asyncio.wait_for(self.raw_bytes.get(), timeout)
        return bytes(out)

    def close(self) -> None:
        asyncio.get_running_loop().remove_reader(self.fd)
        os.close(self.fd)
