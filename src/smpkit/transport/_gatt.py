"""What every SMP-over-GATT transport shares: cutting requests into writes, reassembling notifications.

The bleak transport (`ble.py`) and the Bumble transport (`bumble.py`) only differ in how they
find a device, connect, write one ATT value and learn the usable write size. Everything
else lives here, so the Bumble tests exercise the very code the bleak path runs.
"""

from __future__ import annotations

import asyncio
import uuid
from abc import abstractmethod
from collections.abc import Iterator

from smpkit.protocol.header import HEADER_SIZE
from smpkit.protocol.packetizer import Packetizer
from smpkit.transport.base import SMPTransport
from smpkit.transport.errors import SMPTransportDisconnected

SMP_SERVICE_UUID = uuid.UUID("8D53DC1D-1DB7-4CD3-868B-8A527460AA84")
SMP_CHARACTERISTIC_UUID = uuid.UUID("DA2E7828-FBCE-4E01-AE9E-261174997C48")

#: ATT_MTU 23 minus the 3-byte ATT write header: what every link can carry.
BLE_MIN_WRITE = 20
#: The ATT MTU we ask for; Zephyr's default L2CAP MTU (CONFIG_BT_L2CAP_TX_MTU) tops out at 498.
PREFERRED_ATT_MTU = 498
ATT_WRITE_OVERHEAD = 3
#: An attribute value never exceeds 512 bytes (Core spec Vol 3, Part F, 3.2.9).
MAX_ATTRIBUTE_VALUE = 512


def split_messages(data: bytes) -> list[bytes]:
    """Cut `data` at SMP message boundaries (a caller may hand over two messages back to back).

    Bytes that do not end on a boundary stay with the last message: they are the caller's
    problem, but they must not be glued to the start of another message in one write.
    """
    messages: list[bytes] = []
    view = memoryview(data)
    while len(view) >= HEADER_SIZE:
        size = HEADER_SIZE + ((view[2] << 8) | view[3])
        if size > len(view):
            break
        messages.append(bytes(view[:size]))
        view = view[size:]
    if len(view):
        if messages:
            messages[-1] += bytes(view)
        else:
            messages.append(bytes(view))
    return messages


def iter_writes(message: bytes, write_size: int) -> Iterator[bytes]:
    """The writes of one message: `write_size` bytes each, the first always holding the whole header.

    Zephyr's reassembly (smp_bt.c) drops a request whose first write is shorter than the header.
    """
    if write_size < HEADER_SIZE:
        raise ValueError(f"a write of {write_size} bytes cannot hold the {HEADER_SIZE}-byte SMP header")
    for offset in range(0, len(message), write_size):
        yield message[offset : offset + write_size]


class GattSMPTransport(SMPTransport):
    """The shared half of a GATT transport. Subclasses implement `connect`, `disconnect` and `_write`.

    A subclass calls `_link_up(write_size)` once notifications are on, `_on_notification(data)`
    for every notification and `_link_down()` when the link drops.
    """

    def __init__(self) -> None:
        self._write_size = BLE_MIN_WRITE
        self._device_buffer: int | None = None
        self._packetizer = Packetizer()
        self._messages: asyncio.Queue[bytes | None] = asyncio.Queue()
        self._up = False
        self._send_lock = asyncio.Lock()
        self._writes = 0

    @abstractmethod
    async def _write(self, chunk: bytes) -> None:
        """Write one ATT value (without response); raise `SMPTransportDisconnected` if the link is gone."""

    # ---- called by the subclasses -------------------------------------------------------------

    def _link_up(self, write_size: int) -> None:
        self._write_size = max(BLE_MIN_WRITE, min(write_size, MAX_ATTRIBUTE_VALUE))
        self._packetizer.reset()
        self._messages = asyncio.Queue()
        self._up = True

    def _link_down(self) -> None:
        if not self._up:
            return
        self._up = False
        self._packetizer.reset()
        self._messages.put_nowait(None)  # wakes a waiting receive() at once

    def _on_notification(self, data: bytes | bytearray) -> None:
        if not self._up:
            return
        for message in self._packetizer.feed(data):
            self._messages.put_nowait(message)

    # ---- SMPTransport ---------------------------------------------------------------------------

    @property
    def is_connected(self) -> bool:
        return self._up

    @property
    def mtu(self) -> int:
        """The largest single write: ATT MTU - 3."""
        return self._write_size

    @property
    def max_packet_size(self) -> int:
        """The device's `buf_size` when it reassembles (buf_size > one write), else one write."""
        if self._device_buffer is not None and self._device_buffer > self._write_size:
            return self._device_buffer
        return self._write_size

    @property
    def writes(self) -> int:
        """ATT writes sent so far (for tests and benchmarks)."""
        return self._writes

    def set_device_buffer(self, buf_size: int) -> None:
        self._device_buffer = buf_size if buf_size > 0 else None

    async def send(self, data: bytes) -> None:
        """Write each SMP message in `data` as MTU-sized writes; writes of two messages never mix."""
        if not self._up:
            raise SMPTransportDisconnected(f"{type(self).__name__} is not connected")
        async with self._send_lock:
            for message in split_messages(bytes(data)):
                for chunk in iter_writes(message, self._write_size):
                    if not self._up:
                        raise SMPTransportDisconnected(f"{type(self).__name__} disconnected while sending")
                    await self._write(chunk)
                    self._writes += 1

    async def receive(self) -> bytes:
        """One whole SMP message, however many notifications it took; several may be queued."""
        queue = self._messages
        if queue.empty() and not self._up:
            raise SMPTransportDisconnected(f"{type(self).__name__} is not connected")
        message = await queue.get()
        if message is None:
            raise SMPTransportDisconnected(f"{type(self).__name__}: the device disconnected")
        return message
