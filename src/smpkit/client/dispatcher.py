"""Sequence numbers, sending, and matching responses to the requests that await them.

One reader task takes every message the transport delivers. A response completes
the pending request with the same sequence number, group and command; anything
else (late, duplicate, unknown, unreadable) is dropped with a debug log.

Zephyr answers strictly in request order. So when the response to the request sent
n-th arrives, every request sent before it that is still pending was dropped by the
device and will never be answered: those are failed at once with `SMPRequestLost`,
and the caller can resend without waiting out a timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from smpkit.protocol.codec import Message, decode_message
from smpkit.protocol.errors import SMPProtocolError
from smpkit.protocol.header import HEADER_SIZE, Version, pack_header
from smpkit.transport.base import SMPTransport
from smpkit.transport.errors import (
    SMPRequestLost,
    SMPTransportDisconnected,
    SMPTransportTimeout,
    SMPUnreadableResponse,
)

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Pending:
    seq: int
    group: int
    command: int
    order: int
    future: asyncio.Future[Message] = field(repr=False)
    sent_at: float = 0.0


@dataclass(slots=True)
class DispatcherStats:
    sent: int = 0
    matched: int = 0
    dropped: int = 0
    lost: int = 0
    timeouts: int = 0
    #: The most requests sent and not yet answered (nor given up) at once.
    max_in_flight: int = 0


class Dispatcher:
    """Owns sequence numbers (0..255, wrapping) and the reader task of one link."""

    def __init__(self, transport: SMPTransport, version: int = Version.V2) -> None:
        self.transport = transport
        self.version = version
        self.stats = DispatcherStats()
        self._pending: dict[int, Pending] = {}
        self._next_seq = 0
        self._order = itertools.count()
        self._send_lock = asyncio.Lock()
        self._reader: asyncio.Task[None] | None = None
        self._closed_error: Exception | None = None
        #: Told (send order, sent at, answered at) of every matched answer, in loop time (the pacer).
        self.on_answer: Callable[[int, float, float], None] | None = None

    # -- lifecycle ----------------------------------------------------------------------

    def start(self) -> None:
        self._closed_error = None
        self._reader = asyncio.get_running_loop().create_task(self._read_loop(), name="smpkit-dispatcher")

    async def stop(self, error: Exception | None = None) -> None:
        reader, self._reader = self._reader, None
        if reader is not None and not reader.done():
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await reader
        self._fail_all(error or SMPTransportDisconnected("the client closed the link"))

    @property
    def running(self) -> bool:
        return self._reader is not None and not self._reader.done()

    @property
    def pending(self) -> int:
        return len(self._pending)

    # -- requests -----------------------------------------------------------------------

    def _allocate_seq(self) -> int:
        for _ in range(256):
            seq = self._next_seq
            self._next_seq = (seq + 1) & 0xFF
            if seq not in self._pending:
                return seq
        raise SMPTransportTimeout("256 requests are pending: no sequence number is free")

    async def exchange(self, op: int, group: int, command: int, body: bytes, timeout: float) -> Message:
        """Send one message and wait for its response (or raise a transport error)."""
        if not self.running:
            raise self._closed_error or SMPTransportDisconnected("the link is down")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Message] = loop.create_future()
        noise_before = self.transport.noise
        async with self._send_lock:
            seq = self._allocate_seq()
            entry = Pending(seq, group, command, next(self._order), future, loop.time())
            self._pending[seq] = entry
            self.stats.max_in_flight = max(self.stats.max_in_flight, len(self._pending))
            header = pack_header(op, self.version, len(body), group, seq, command)
            try:
                await self.transport.send(header + body)
            except BaseException:
                self._pending.pop(seq, None)
                raise
            self.stats.sent += 1
        try:
            return await asyncio.wait_for(asyncio.shield(future), timeout)
        except (TimeoutError, asyncio.TimeoutError):  # distinct classes before Python 3.11
            if self._pending.get(seq) is entry:
                del self._pending[seq]
            if future.done() and not future.cancelled():
                return future.result()  # answered in the same instant
            self.stats.timeouts += 1
            if self.transport.noise != noise_before:
                raise SMPUnreadableResponse(
                    f"no readable response to seq {seq} within {timeout:.2f} s, but unreadable bytes arrived "
                    "(wrong baud rate, framing or transport?)"
                ) from None
            raise SMPTransportTimeout(
                f"no response to seq {seq} (group {group}, command {command}) within {timeout:.2f} s"
            ) from None
        finally:
            if not future.done():
                future.cancel()
            if self._pending.get(seq) is entry:
                del self._pending[seq]

    # -- the reader ---------------------------------------------------------------------

    async def _read_loop(self) -> None:
        try:
            while True:
                data = await self.transport.receive()
                self._on_message(data)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            error = exc if isinstance(exc, SMPTransportDisconnected) else SMPTransportDisconnected(str(exc))
            log.debug("reader stopped: %s", exc)
            self._closed_error = error
            self._fail_all(error)

    def _on_message(self, data: bytes) -> None:
        if len(data) < HEADER_SIZE:
            self._drop("a message shorter than a header", data)
            return
        try:
            message = decode_message(data)
        except SMPProtocolError as exc:
            self._drop(f"an unreadable message ({exc})", data)
            return
        header = message.header
        entry = self._pending.get(header.sequence)
        if entry is None:
            self._drop(f"a late, duplicate or unknown response (seq {header.sequence})", data)
            return
        if (header.group, header.command) != (entry.group, entry.command) or header.op not in (1, 3):
            self._drop(f"a response whose group/command/op does not match seq {header.sequence}", data)
            return
        del self._pending[header.sequence]
        self.stats.matched += 1
        if self.on_answer is not None:
            self.on_answer(entry.order, entry.sent_at, asyncio.get_running_loop().time())
        if not entry.future.done():
            entry.future.set_result(message)
        self._fail_earlier(entry.order)

    def _fail_earlier(self, order: int) -> None:
        earlier = [p for p in self._pending.values() if p.order < order]
        for p in earlier:
            del self._pending[p.seq]
            self.stats.lost += 1
            log.debug("seq %d was overtaken by a later response: the device dropped it", p.seq)
            if not p.future.done():
                p.future.set_exception(SMPRequestLost(f"the device dropped seq {p.seq} (a later request was answered)"))

    def _drop(self, what: str, data: bytes) -> None:
        self.stats.dropped += 1
        log.debug("dropped %s: %s", what, data[:16].hex())

    def _fail_all(self, error: Exception) -> None:
        pending, self._pending = self._pending, {}
        for p in pending.values():
            if not p.future.done():
                p.future.set_exception(error)
