"""The offset pipeline both uploads share (image and fs file).

Up to `window()` chunk requests are in flight, each addressed by its offset. The
transfer's policy judges every answer or failure into a `Step`: the offset the device
expects next and whether to resend from there. A rewind starts a new epoch, so the
answers to chunks sent before it cannot cause a second rewind.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

T = TypeVar("T")

#: Consecutive rewinds without progress before giving up.
MAX_STALLS = 50


@dataclass(frozen=True, slots=True)
class Chunk:
    off: int
    end: int
    #: Whether no rewind happened since the chunk was sent.
    current: bool


@dataclass(frozen=True, slots=True)
class Step:
    off: int
    rewind: bool
    #: A timeout with no later answer either: the device may be gone.
    silent: bool = False


class OffsetPolicy(Protocol[T]):
    """What one transfer decides; the pipeline does the rest."""

    total: int

    def window(self) -> int:
        """How many chunks may be in flight now."""

    def send(self, off: int) -> tuple[Coroutine[Any, Any, T], int]:
        """The request for the chunk at `off` (counted as sent) and the chunk's end."""

    def judge(self, task: asyncio.Task[T], chunk: Chunk, device_off: int) -> Step | None:
        """What an answer or failure means; None stops the pipeline (the device lost the session)."""

    def advanced(self, device_off: int) -> None:
        """The device holds more than before."""

    def rewound(self, step: Step, device_off: int) -> None:
        """Sending starts again at `device_off`."""

    def stalled(self, device_off: int) -> Exception:
        """The error for MAX_STALLS rewinds without progress."""


def window_depth(client: Any, depth: int | None = None) -> int:
    """`depth` if given, else the client's window (2 without one)."""
    if depth:
        return depth
    size = getattr(getattr(client, "window", None), "size", None)
    return int(size) if isinstance(size, int) and size > 0 else 2


async def send_pipelined(policy: OffsetPolicy[T], device_off: int) -> int | None:
    """Send from `device_off` until the device holds `policy.total` bytes; None if the policy stops it."""
    return await _Pipeline(policy, device_off).run()


class _Pipeline(Generic[T]):
    def __init__(self, policy: OffsetPolicy[T], device_off: int) -> None:
        self.policy = policy
        self.device_off = device_off
        self.next_off = device_off
        self.epoch = 0
        self.stalls = 0
        self.pending: dict[asyncio.Task[T], tuple[int, int, int]] = {}

    async def run(self) -> int | None:
        try:
            while self.device_off < self.policy.total:
                self._fill()
                done, _ = await asyncio.wait(self.pending, return_when=asyncio.FIRST_COMPLETED)
                # Answers first: they tell whether a chunk that failed was in fact written.
                for task in sorted(done, key=lambda t: t.exception() is not None):
                    off, end, epoch = self.pending.pop(task)
                    step = self.policy.judge(task, Chunk(off, end, epoch == self.epoch), self.device_off)
                    if step is None:
                        return None
                    self._apply(step)
            return self.device_off
        finally:
            await self._cancel()

    def _fill(self) -> None:
        depth = self.policy.window()
        while len(self.pending) < depth and self.next_off < self.policy.total:
            request, end = self.policy.send(self.next_off)
            self.pending[asyncio.ensure_future(request)] = (self.next_off, end, self.epoch)
            self.next_off = end

    def _apply(self, step: Step) -> None:
        if step.off > self.device_off:
            self.device_off, self.stalls = step.off, 0
            self.policy.advanced(self.device_off)
        if step.rewind and self.device_off < self.policy.total:
            self.epoch += 1
            self.stalls += 1
            if self.stalls > MAX_STALLS:
                raise self.policy.stalled(self.device_off)
            self.policy.rewound(step, self.device_off)
            self.next_off = self.device_off

    async def _cancel(self) -> None:
        for task in self.pending:
            task.cancel()
        if self.pending:
            await asyncio.gather(*self.pending, return_exceptions=True)
