"""SMP over UDP (IPv4 or IPv6): one datagram is one packet; answers go to the sender."""

from __future__ import annotations

import asyncio
from collections import deque
from typing import TYPE_CHECKING, Any

from smpkit.simulator.session import Session

if TYPE_CHECKING:
    from smpkit.simulator.simulator import Simulator


class _Protocol(asyncio.DatagramProtocol):
    def __init__(self, server: UDPServer) -> None:
        self.server = server

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.server.datagram_received(data, addr)

    def error_received(self, exc: Exception) -> None:  # ICMP port unreachable from a gone client
        pass


class UDPServer:
    def __init__(self, sim: Simulator, host: str, port: int) -> None:
        self.sim = sim
        self.host = host
        self.port = port
        self._transport: asyncio.DatagramTransport | None = None
        self._backlog: deque[tuple[bytes, Any]] = deque()
        self._busy_until = 0.0
        self._dropped_while_busy = False
        self._outbox: deque[tuple[float, bytes, Any]] = deque()
        self.dead = False
        self.session: Session = sim.new_session("udp", self._send, self._drop_link)

    async def start(self) -> UDPServer:
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(lambda: _Protocol(self), local_addr=(self.host, self.port))
        self._transport = transport
        self.port = transport.get_extra_info("sockname")[1]
        return self

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"udp://{host}:{self.port}"

    def datagram_received(self, data: bytes, addr: Any) -> None:
        if self.dead:
            return
        profile = self.sim.device.profile
        if profile.udp_max_datagram is not None and len(data) > profile.udp_max_datagram:
            data = data[: profile.udp_max_datagram]
        if profile.udp_busy_ms is not None:
            self._backlog.append((data, addr))
            self._pump(profile.udp_busy_ms / 1000)
            return
        self.session.receive(data, addr)

    def _pump(self, busy_s: float) -> None:
        """native_sim quirk (profiles.py `udp_busy_ms`): requests are taken one at a time, each
        keeps the server busy for `busy_s`, and the one datagram read while busy is lost."""
        loop = asyncio.get_running_loop()
        while self._backlog:
            now = loop.time()
            if now >= self._busy_until:
                data, addr = self._backlog.popleft()
                self._busy_until = now + busy_s
                self._dropped_while_busy = False
                loop.call_at(self._busy_until, self._pump, busy_s)
                self.session.receive(data, addr)
            elif not self._dropped_while_busy:
                self._backlog.popleft()
                self._dropped_while_busy = True
            else:
                return

    def _send(self, data: bytes, addr: Any) -> None:
        loop = asyncio.get_running_loop()
        now = loop.time()
        if self.sim.device.profile.udp_busy_ms is not None and (now < self._busy_until or self._outbox):
            # The answer leaves when the work is done; answers keep their order.
            self._outbox.append((max(now, self._busy_until), data, addr))
            if len(self._outbox) == 1:
                loop.call_at(self._outbox[0][0], self._flush_outbox)
            return
        self._sendto(data, addr)

    def _flush_outbox(self) -> None:
        loop = asyncio.get_running_loop()
        while self._outbox and self._outbox[0][0] <= loop.time() + 0.001:  # timers may fire a tick early
            _due, data, addr = self._outbox.popleft()
            self._sendto(data, addr)
        if self._outbox:
            loop.call_at(self._outbox[0][0], self._flush_outbox)

    def _sendto(self, data: bytes, addr: Any) -> None:
        if self._transport is not None and not self._transport.is_closing():
            self._transport.sendto(data, addr)

    def _drop_link(self) -> None:
        self.dead = True

    def on_reboot(self) -> None:
        self.session.reset()

    async def close(self) -> None:
        self.session.close()
        if self._transport is not None:
            self._transport.close()
            self._transport = None
