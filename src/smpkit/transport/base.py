"""The transport interface: small enough that a new transport is a page of code.

A transport moves whole SMP messages. It does not know about sequence numbers,
retries or models; the client does.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod

from smpkit.transport.errors import SMPTransportDisconnected


class SMPTransport(ABC):
    """Connect, send one SMP message, receive one SMP message, report sizes.

    `max_packet_size` is the largest SMP message (header included) the link
    itself can carry; the client takes the minimum of it and the device's
    `buf_size`. Call `set_device_buffer()` once the device's buffer is known:
    transports that split a message into several writes (BLE with reassembly)
    use it to decide how large a message may be.
    """

    #: Name used in connection strings and logs (`udp`, `serial`, `ble`, ...).
    scheme: str = ""
    #: Bytes of the device's buffer the link's framing takes per message (serial console: length + CRC = 4).
    framing_overhead: int = 0
    #: Pause between connection attempts while `reconnect` waits for the device to come back.
    reconnect_pause_s: float = 0.2

    @abstractmethod
    async def connect(self, address: str, timeout_s: float) -> None:
        """Open the link to `address` (its meaning is the transport's)."""

    @abstractmethod
    async def disconnect(self) -> None:
        """Close the link; safe to call twice."""

    @abstractmethod
    async def send(self, data: bytes) -> None:
        """Send one whole SMP message."""

    @abstractmethod
    async def receive(self) -> bytes:
        """The next whole SMP message from the device; raise `SMPTransportDisconnected` when the link drops."""

    async def send_and_receive(self, data: bytes) -> bytes:
        """Stop-and-wait helper kept for users of the existing Python client."""
        await self.send(data)
        return await self.receive()

    @property
    @abstractmethod
    def mtu(self) -> int:
        """The largest single write the link takes."""

    @property
    def max_packet_size(self) -> int:
        """The largest SMP message the link carries (may exceed `mtu` when the device reassembles)."""
        return self.mtu

    @property
    def is_connected(self) -> bool:
        return True

    @property
    def noise(self) -> int:
        """Bytes received so far that formed neither an SMP message nor console text.

        The client compares it before and after a timeout to tell a silent device
        from one that answers garbage (wrong baud rate, wrong framing).
        """
        return 0

    def set_device_buffer(self, buf_size: int) -> None:
        """Tell the transport the device's `buf_size` (from MCUmgr params)."""
        return None

    async def reconnect(self, address: str, timeout_s: float) -> None:
        """Come back after the device reset: retry `connect` until `timeout_s` runs out."""
        await self.disconnect()
        await self._connect_until(address, timeout_s)

    async def _connect_until(self, address: str, timeout_s: float) -> None:
        """Call `connect` (at most 5 s a try, `reconnect_pause_s` apart) until it works or `timeout_s` is over."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        last: Exception | None = None
        while (remaining := deadline - loop.time()) > 0:
            try:
                await self.connect(address, min(remaining, 5.0))
                return
            except Exception as exc:
                last = exc
                await asyncio.sleep(min(self.reconnect_pause_s, max(0.0, deadline - loop.time())))
        raise SMPTransportDisconnected(f"device did not come back within {timeout_s:.1f} s: {last}")
