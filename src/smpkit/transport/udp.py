"""SMP over UDP: one datagram carries one SMP message (IPv4 and IPv6)."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket

from smpkit.transport.base import SMPTransport
from smpkit.transport.errors import SMPTransportDisconnected, SMPTransportException

log = logging.getLogger(__name__)

#: Zephyr's CONFIG_MCUMGR_TRANSPORT_UDP_MTU: a 1500-byte request is answered, 1501 is cut (observed).
ZEPHYR_UDP_MTU = 1500
#: Largest datagrams that cross a 1500-byte Ethernet link unfragmented (IPv4: 20 + 8 bytes of
#: headers, IPv6: 40 + 8). Zephyr drops IP fragments unless CONFIG_NET_IPV4_FRAGMENT /
#: CONFIG_NET_IPV6_FRAGMENT are enabled (both default n), so off-host we stay below them.
ETHERNET_SAFE_IPV4 = 1472
ETHERNET_SAFE_IPV6 = 1452
_CLOSED = b""


def split_host_port(address: str, default_port: int | None = None) -> tuple[str, int]:
    """`host:port`, `[v6]:port`, a bare IPv6 address or a bare host (then `default_port`)."""
    address = address.strip()
    if address.startswith("["):
        host, _, rest = address[1:].partition("]")
        port_text = rest[1:] if rest.startswith(":") else ""
    elif address.count(":") == 1:
        host, _, port_text = address.partition(":")
    else:  # a bare host name, IPv4 or IPv6 address
        host, port_text = address, ""
    if not port_text:
        if default_port is None:
            raise ValueError(f"no port in UDP address {address!r} (use host:port or [v6]:port)")
        return host, default_port
    try:
        port = int(port_text)
    except ValueError:
        raise ValueError(f"bad port in UDP address {address!r}") from None
    if not 0 < port < 65536:
        raise ValueError(f"port out of range in UDP address {address!r}")
    return host, port


def default_datagram_limit(host: str, family: int) -> int:
    """1500 on loopback (no link in between); the unfragmented Ethernet payload otherwise."""
    try:
        if ipaddress.ip_address(host.split("%")[0]).is_loopback:
            return ZEPHYR_UDP_MTU
    except ValueError:
        pass
    return ETHERNET_SAFE_IPV6 if family == socket.AF_INET6 else ETHERNET_SAFE_IPV4


class _Protocol(asyncio.DatagramProtocol):
    def __init__(self, queue: asyncio.Queue[bytes]) -> None:
        self.queue = queue
        self.refused = 0

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        if data:
            self.queue.put_nowait(data)

    def error_received(self, exc: Exception) -> None:
        # ICMP port unreachable on a connected socket: nobody listens (yet); keep waiting.
        self.refused += 1
        log.debug("UDP error from the device: %s", exc)

    def connection_lost(self, exc: Exception | None) -> None:
        self.queue.put_nowait(_CLOSED)


class SMPUDPTransport(SMPTransport):
    """UDP to `host:port`.

    `mtu` is the largest datagram sent. By default it is Zephyr's 1500-byte limit on a
    loopback address and the unfragmented Ethernet size (1472 / 1452) elsewhere.
    """

    scheme = "udp"

    def __init__(self, mtu: int | None = None, port: int | None = None) -> None:
        self._requested_mtu = mtu
        self._mtu = mtu if mtu is not None else ZEPHYR_UDP_MTU
        self._default_port = port
        self._transport: asyncio.DatagramTransport | None = None
        self._protocol: _Protocol | None = None
        self._queue: asyncio.Queue[bytes] = asyncio.Queue()
        self.remote: tuple[str, int] | None = None

    async def connect(self, address: str, timeout_s: float) -> None:
        await self.disconnect()
        host, port = split_host_port(address, self._default_port)
        loop = asyncio.get_running_loop()
        self._queue = asyncio.Queue()
        try:
            infos = await asyncio.wait_for(
                loop.getaddrinfo(host, port, type=socket.SOCK_DGRAM, proto=socket.IPPROTO_UDP), timeout_s
            )
            family, _, _, _, sockaddr = infos[0]
            remote = (str(sockaddr[0]), int(sockaddr[1]))
            transport, protocol = await asyncio.wait_for(
                loop.create_datagram_endpoint(lambda: _Protocol(self._queue), remote_addr=remote, family=family),
                timeout_s,
            )
        except (OSError, TimeoutError, asyncio.TimeoutError) as exc:
            raise SMPTransportException(f"cannot open UDP to {address}: {exc}") from exc
        self._transport, self._protocol = transport, protocol
        self.remote = remote
        if self._requested_mtu is None:
            self._mtu = default_datagram_limit(remote[0], family)
        log.debug("UDP connected to %s", self.remote)

    async def disconnect(self) -> None:
        if self._transport is not None:
            self._transport.close()
            self._transport = None

    async def send(self, data: bytes) -> None:
        if self._transport is None or self._transport.is_closing():
            raise SMPTransportDisconnected("UDP transport is not connected")
        if len(data) > self._mtu:
            raise SMPTransportException(f"a {len(data)}-byte message exceeds the {self._mtu}-byte UDP limit")
        self._transport.sendto(data)

    async def receive(self) -> bytes:
        if self._transport is None and self._queue.empty():
            raise SMPTransportDisconnected("UDP transport is not connected")
        data = await self._queue.get()
        if data is _CLOSED or not data:
            raise SMPTransportDisconnected("UDP transport closed")
        return data

    @property
    def mtu(self) -> int:
        return self._mtu

    @property
    def is_connected(self) -> bool:
        return self._transport is not None and not self._transport.is_closing()

    async def reconnect(self, address: str, timeout_s: float) -> None:
        # UDP has no link to lose: reopen the socket; the client probes the device until it answers.
        await self.connect(address, timeout_s)
