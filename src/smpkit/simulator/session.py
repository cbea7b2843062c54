"""A transport's link to the device: faults in, Zephyr's buffer limit, faults out.

Every server (UDP, serial pty, and a BLE GATT server) owns one `Session`: it calls
`receive(packet, peer)` for each whole packet and gets the answers through the `send`
callback it gave. At most `buf_count` requests are held (queued, or answered but not
yet sent); a request that finds no free buffer is dropped silently, as Zephyr drops it.
`handle_packet()` is the plain seam: process one packet now and return the answers.
"""

from __future__ import annotations

import asyncio
import random
from collections import deque
from collections.abc import Callable
from typing import Any

from smpkit.simulator.device import Device
from smpkit.simulator.faults import Faults, Link
from smpkit.simulator.server import RequestProcessor

Send = Callable[[bytes, Any], None]


class Session:
    def __init__(
        self,
        name: str,
        device: Device,
        processor: RequestProcessor,
        send: Send,
        faults: Faults,
        rng: random.Random,
        on_link_drop: Callable[[], None] | None = None,
    ) -> None:
        self.name = name
        self.device = device
        self.processor = processor
        self.faults = faults
        self._send = send
        self._on_link_drop = on_link_drop
        self._queue: deque[tuple[bytes, Any]] = deque()
        self._scheduled = False
        self._unsent = 0
        self.received = 0
        self.dropped_full = 0
        self.dropped_offline = 0
        self.link_dropped = False
        self.inbound: Link[tuple[bytes, Any]] = Link(faults, rng, self._enqueue, unreliable=True)
        self.outbound: Link[tuple[bytes, Any]] = Link(
            faults, rng, self._transmit, unreliable=False, on_wire=self._buffer_freed
        )

    @property
    def held(self) -> int:
        return len(self._queue) + self._unsent

    def receive(self, packet: bytes, peer: Any = None) -> None:
        """A whole packet arrived from the client."""
        if self.link_dropped:
            return
        self.received += 1
        limit = self.faults.drop_after
        if limit is not None and self.received > limit:
            self.drop_link()
            return
        self.inbound.send((packet, peer), len(packet))

    def drop_link(self) -> None:
        if self.link_dropped:
            return
        self.link_dropped = True
        self._queue.clear()
        if self._on_link_drop is not None:
            self._on_link_drop()

    async def handle_packet(self, packet: bytes) -> list[bytes]:
        """Process one packet now (no queue, no faults) and return the answers."""
        if not self.device.online:
            return []
        return self.processor.handle_packet(packet, self.name)

    def reset(self) -> None:
        """The device rebooted: requests it held are gone."""
        self._queue.clear()

    def _enqueue(self, item: tuple[bytes, Any]) -> None:
        if self.link_dropped:
            return
        if not self.device.online:
            self.dropped_offline += 1
            return
        if self.held >= self.device.profile.buf_count:
            self.dropped_full += 1
            return
        self._queue.append(item)
        if not self._scheduled:
            self._scheduled = True
            asyncio.get_running_loop().call_soon(self._drain)

    def _drain(self) -> None:
        self._scheduled = False
        while self._queue:
            packet, peer = self._queue.popleft()
            if not self.device.online or self.link_dropped:
                continue
            for response in self.processor.handle_packet(packet, self.name):
                self._unsent += 1
                self.outbound.send((response, peer), len(response))

    def _buffer_freed(self) -> None:
        self._unsent -= 1

    def _transmit(self, item: tuple[bytes, Any]) -> None:
        if not self.link_dropped:
            self._send(*item)

    def close(self) -> None:
        self.inbound.close()
        self.outbound.close()
        self._queue.clear()
