"""The adaptive in-flight limit (AIMD).

Zephyr answers a request only if a net-buffer is free when it lands, and drops it
silently otherwise. The window starts at the depth the device's buffers make safe
(`buf_count - 1`), halves on a loss, a timeout or rc 2 (ENOMEM), and creeps back
up by about one request per window's worth of successes.

Above the safe depth it may probe up to `maximum`, for retriable requests only: on a
link whose latency keeps requests apart (the device frees a buffer before the next one
lands) that is pure gain. A loss while probing lowers the ceiling to the depth that
worked; it is probed again only after `REPROBE_AFTER` successes.

With `loss_lowers_ceiling` (BLE) every loss lowers the ceiling below the depth it happened
at, even within the safe depth: the ATT bearer never loses a packet, so a loss there is the
device out of buffers. Zephyr 3.4 over BLE takes a burst of 3 but loses some at a sustained 3,
because a request sent on an answer lands while that answer's two buffers are still held.

With a `pacer` (UDP and serial, see pacing.py) the window may grow beyond `maximum` on a link
whose round trip is long next to the device's service time: sends beyond the safe depth are
then spaced out so that they reach the device one by one. Losses are handled as above.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

from smpkit.client.pacing import Pacer

#: Successes before a ceiling lowered by a failed probe is raised again by one.
REPROBE_AFTER = 128
#: `_ceiling` when no loss lowered it: the window may go as deep as `top`.
UNLOWERED = 1 << 16


@dataclass(slots=True)
class Ticket:
    """One request's place in the window, and the window epoch it was sent in."""

    epoch: int
    #: The most requests in flight while this one was (itself included): a request answered
    #: rc 2 or dropped was often sent first, and overloaded by the ones sent after it.
    depth: int = 1
    released: bool = False
    #: At or above `large_threshold`: while it is in flight, every request is held to `large_cap`.
    large: bool = False


class Window:
    """At most `size` requests in flight; fewer (`large_cap`, BLE: 2) while a large one is among them."""

    def __init__(
        self,
        initial: int,
        maximum: int | None = None,
        *,
        minimum: int = 1,
        large_cap: int | None = None,
        large_threshold: int | None = None,
        loss_lowers_ceiling: bool = False,
    ) -> None:
        self.minimum = max(1, minimum)
        self.loss_lowers_ceiling = loss_lowers_ceiling
        self.large_cap = large_cap
        self.large_threshold = large_threshold
        self.in_flight = 0
        self._open: dict[int, Ticket] = {}
        self.epoch = 0
        self.shrinks = 0
        self._changed = asyncio.Condition()
        #: Spaces out sends beyond the safe depth and allows more of them (None: no pacing).
        self.pacer: Pacer | None = None
        #: The most requests in flight at once since the last reset.
        self.peak = 0
        self.safe = self.maximum = self._ceiling = self._successes = 0
        self._size = 0.0
        self.reset(initial, maximum)

    @property
    def size(self) -> int:
        return min(int(self._size), self.ceiling)

    @property
    def top(self) -> int:
        """The deepest the window may go: `maximum`, or deeper while the pacer allows it."""
        paced = self.pacer.depth_limit() if self.pacer is not None else 0
        return max(self.maximum, paced)

    @property
    def ceiling(self) -> int:
        """How far the window may grow now (lowered by a failed probe; below `safe` only with `loss_lowers_ceiling`)."""
        return min(self._ceiling, self.top)

    def is_large(self, request_size: int) -> bool:
        return self.large_cap is not None and self.large_threshold is not None and request_size >= self.large_threshold

    def limit_for(self, request_size: int, retriable: bool = True) -> int:
        """How many may be in flight when a request of `request_size` bytes goes out."""
        limit = self.size if retriable else min(self.size, self.safe)
        # A small request joining large ones in flight is one more buffer held all the same.
        if self.large_cap is not None and (self.is_large(request_size) or self.large_in_flight):
            limit = min(limit, self.large_cap)
        return max(1, limit)

    @property
    def large_in_flight(self) -> int:
        return sum(1 for ticket in self._open.values() if ticket.large)

    async def acquire(self, request_size: int = 0, retriable: bool = True) -> Ticket:
        async with self._changed:
            await self._changed.wait_for(lambda: self.in_flight < self.limit_for(request_size, retriable))
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
            ticket = Ticket(self.epoch, self.in_flight, large=self.is_large(request_size))
            self._open[id(ticket)] = ticket
            for other in self._open.values():
                other.depth = max(other.depth, self.in_flight)
        if self.pacer is not None:
            delay = self.pacer.schedule(asyncio.get_running_loop().time(), ticket.depth, self.size)
            if delay > 0:
                try:
                    await asyncio.sleep(delay)
                except BaseException:
                    await asyncio.shield(self.release(ticket))
                    raise
        return ticket

    async def release(self, ticket: Ticket) -> None:
        if ticket.released:
            return
        ticket.released = True
        self._open.pop(id(ticket), None)
        async with self._changed:
            self.in_flight -= 1
            self._changed.notify_all()

    @contextlib.asynccontextmanager
    async def slot(self, request_size: int = 0, retriable: bool = True) -> AsyncIterator[Ticket]:
        ticket = await self.acquire(request_size, retriable)
        try:
            yield ticket
        finally:
            await asyncio.shield(self.release(ticket))

    def on_success(self) -> None:
        ceiling = self.ceiling
        if self._size < ceiling:
            self._size = min(float(ceiling), self._size + 1.0 / max(1.0, self._size))
        if self._ceiling < self.top:
            self._successes += 1
            if self._successes >= REPROBE_AFTER:
                self._successes = 0
                self._ceiling += 1

    def on_loss(self, ticket: Ticket) -> None:
        """Halve once per epoch: the other losses of the same burst were caused by the same overload."""
        if ticket.epoch != self.epoch:
            return
        current = self.size
        self.epoch += 1
        self.shrinks += 1
        if ticket.depth > self.safe:  # a probe above the safe depth failed: stop below it for a while
            self._ceiling = max(self.safe, ticket.depth - 1)
            self._successes = 0
        elif self.loss_lowers_ceiling and ticket.depth > self.minimum:
            self._ceiling = min(self._ceiling, ticket.depth - 1)
            self._successes = 0
        self._size = max(float(self.minimum), float(current // 2))

    def reset(self, initial: int, maximum: int | None = None) -> None:
        """New device limits (after connect or reconnect): `initial` is the safe depth, `maximum` the probe limit."""
        self.safe = max(self.minimum, initial)
        self.maximum = max(self.safe, maximum if maximum is not None else initial)
        self._ceiling = UNLOWERED
        self.peak = 0
        self._successes = 0
        self._size = float(self.safe)
        self.epoch += 1
