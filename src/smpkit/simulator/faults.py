"""Seeded fault injection: latency, jitter, bandwidth, loss, duplicates, reordering, link drops."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")

#: How long a reordered packet waits for a later one to overtake it.
REORDER_HOLD_S = 0.05


@dataclass(frozen=True, slots=True)
class Faults:
    """What goes wrong on the link. Probabilities are per request; all randomness comes from `seed`."""

    latency_ms: float = 0.0
    jitter_ms: float = 0.0
    loss: float = 0.0
    duplicate: float = 0.0
    reorder: float = 0.0
    #: Bytes per second in each direction; None = unlimited.
    bandwidth: int | None = None
    #: Drop the link (UDP: go silent; pty: hang up) after this many received packets.
    drop_after: int | None = None
    #: Reset the device once, without answering, when an image upload passes half its length.
    reset_during_upload: bool = False
    seed: int = 0

    @property
    def delays(self) -> bool:
        return bool(self.latency_ms or self.jitter_ms or self.bandwidth)

    @property
    def lossy(self) -> bool:
        return bool(self.loss or self.duplicate or self.reorder)


NO_FAULTS = Faults()


class Link(Generic[T]):
    """One direction of the link: applies the faults and delivers items in order.

    `unreliable` links (requests) also lose, duplicate and reorder; the response
    direction only gets latency, jitter and the bandwidth cap.
    """

    def __init__(
        self,
        faults: Faults,
        rng: random.Random,
        deliver: Callable[[T], None],
        *,
        unreliable: bool,
        on_wire: Callable[[], None] | None = None,
    ) -> None:
        self.faults = faults
        #: Called when an item has been put on the wire (bandwidth done; latency still to come).
        self.on_wire = on_wire
        self.rng = rng
        self.deliver = deliver
        self.unreliable = unreliable and faults.lossy
        self.direct = not faults.delays and not self.unreliable
        self._busy_until = 0.0
        self._last_at = 0.0
        self._held: tuple[T, int] | None = None
        self._held_timer: asyncio.TimerHandle | None = None
        self.lost = 0
        self.duplicated = 0
        self.reordered = 0

    def send(self, item: T, size: int) -> None:
        if self.direct:
            self._wired()
            self.deliver(item)
            return
        copies = 1
        if self.unreliable:
            f, rng = self.faults, self.rng
            if f.loss and rng.random() < f.loss:
                self.lost += 1
                return
            if f.duplicate and rng.random() < f.duplicate:
                copies = 2
                self.duplicated += 1
            if f.reorder and self._held is None and rng.random() < f.reorder:
                self.reordered += 1
                self._held = (item, size)
                self._held_timer = asyncio.get_running_loop().call_later(REORDER_HOLD_S, self._release)
                return
        for _ in range(copies):
            self._schedule(item, size)
        self._release()

    def _release(self) -> None:
        held, self._held = self._held, None
        if self._held_timer is not None:
            self._held_timer.cancel()
            self._held_timer = None
        if held is not None:
            self._schedule(*held)

    def _schedule(self, item: T, size: int) -> None:
        loop = asyncio.get_running_loop()
        now = loop.time()
        f = self.faults
        start = max(now, self._busy_until)
        if f.bandwidth:
            start += size / f.bandwidth
            self._busy_until = start
        delay = f.latency_ms / 1000.0
        if f.jitter_ms:
            delay += self.rng.uniform(0.0, f.jitter_ms) / 1000.0
        at = max(start + delay, self._last_at + 1e-6)  # strictly later: equal timer deadlines may swap
        self._last_at = at
        if start <= now:
            self._wired()
        else:
            loop.call_at(start, self._wired)
        if at <= now:
            self.deliver(item)
        else:
            loop.call_at(at, self.deliver, item)

    def _wired(self) -> None:
        if self.on_wire is not None:
            self.on_wire()

    def close(self) -> None:
        if self._held_timer is not None:
            self._held_timer.cancel()
        self._held = None
