"""Helpers shared by the BLE tests."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from smpkit.protocol import Header, Op, decode_message, encode_message, encode_request
from smpkit.protocol.groups.image import ImageUpload
from smpkit.protocol.sizing import image_chunk_size
from smpkit.transport.base import SMPTransport

SIM_NAME = "smpkit-ble-test"


async def echo_handler(request: bytes) -> Sequence[bytes]:
    """A tiny SMP server: os echo and MCUmgr parameters; anything else gets rc 8."""
    message = decode_message(request)
    header = message.header
    if header.group == 0 and header.command == 0:
        body: dict[str, object] = {"r": message.body.get("d", "")}
    elif header.group == 0 and header.command == 6:
        body = {"buf_size": 2475, "buf_count": 4}
    else:
        body = {"rc": 8}
    op = Op.READ_RSP if header.op == Op.READ else Op.WRITE_RSP
    return [encode_message(replace(header, op=op), body)]


def header_of(message: bytes) -> Header:
    return Header.unpack(message)


IMGTOOL = Path(sys.executable).parent / "imgtool"


def build_image(directory: Path, size: int, version: str = "1.2.3") -> bytes:
    """A valid, unsigned MCUboot image of about `size` bytes, built by imgtool."""
    body = directory / f"app-{size}.bin"
    body.write_bytes(bytes((i * 7 + (i >> 8)) & 0xFF for i in range(size)))
    out = directory / f"app-{size}-signed.bin"
    subprocess.run(
        [str(IMGTOOL), "create", "-v", version, "-H", "0x200", "--pad-header", "-S", hex(0x80000), body, out],
        check=True,
        capture_output=True,
    )
    return out.read_bytes()


class UploadHandler:
    """os echo/params plus image upload into memory (stands in for the simulator's image group)."""

    def __init__(self, buf_size: int = 2475) -> None:
        self.buf_size = buf_size
        self.image = bytearray()
        self.total: int | None = None

    async def __call__(self, request: bytes) -> Sequence[bytes]:
        message = decode_message(request)
        header = message.header
        if (header.group, header.command) == (1, 1):
            body = message.body
            if body["off"] == 0:
                self.image.clear()
                self.total = body["len"]
            if body["off"] == len(self.image):
                self.image += body["data"]
            return [encode_message(replace(header, op=Op.WRITE_RSP), {"off": len(self.image)})]
        if (header.group, header.command) == (0, 6):
            params = {"buf_size": self.buf_size, "buf_count": 4}
            return [encode_message(replace(header, op=Op.READ_RSP), params)]
        return await echo_handler(request)


async def upload(transport: SMPTransport, image: bytes, window: int = 2) -> list[int]:
    """Upload `image` with up to `window` chunks in flight; returns the packet sizes sent."""
    budget = transport.max_packet_size
    sha = hashlib.sha256(image).digest()
    sizes: list[int] = []
    offsets: list[int] = []
    off = 0
    acked = 0
    seq = 0
    while acked < len(image):
        while off < len(image) and len(offsets) < window:
            first = off == 0
            fits = image_chunk_size(budget, off, len(image) if first else None, sha if first else None)
            n = min(len(image) - off, fits)
            request = ImageUpload(
                off=off, data=image[off : off + n], len=len(image) if first else None, sha=sha if first else None
            )
            packet = encode_request(request, seq & 0xFF)
            seq += 1
            await transport.send(packet)
            sizes.append(len(packet))
            off += n
            offsets.append(off)
        reply = decode_message(await transport.receive())
        expected = offsets.pop(0)
        acked = reply.body["off"]
        assert acked == expected, (acked, expected)
    return sizes
