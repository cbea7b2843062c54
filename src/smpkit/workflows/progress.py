"""Progress of a transfer, reported through a callback and as an async iterator."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Generator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from smpkit.protocol.errors import SMPError

T = TypeVar("T")
E = TypeVar("E")


@dataclass(frozen=True, slots=True)
class Progress:
    """`done` bytes of `total` confirmed by the device; `rate` in bytes/s since the transfer started."""

    done: int
    total: int
    rate: float
    elapsed: float

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 1.0


ProgressCallback = Callable[[Progress], Any]


class TransferError(SMPError):
    """A transfer workflow failed (the device's own error, if any, is the `__cause__`)."""


class TransferInterrupted(TransferError):
    """The link went down mid-transfer; `offset` is what the device had confirmed. Run it again to resume."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.offset = offset


class VerificationFailed(TransferError):
    """The device holds different bytes from the ones sent."""


class Meter:
    """Turns confirmed offsets into `Progress` reports (rate counts only this run's bytes)."""

    def __init__(self, total: int, start: int, callback: ProgressCallback | None) -> None:
        self.total = total
        self.start = start
        self.done = start
        self.callback = callback
        self.began = time.perf_counter()

    def elapsed(self) -> float:
        return time.perf_counter() - self.began

    def snapshot(self) -> Progress:
        elapsed = self.elapsed()
        rate = (self.done - self.start) / elapsed if elapsed > 0 else 0.0
        return Progress(self.done, self.total, rate, elapsed)

    def restart(self, start: int) -> None:
        self.start = self.done = start
        self.began = time.perf_counter()

    def update(self, done: int) -> None:
        if done == self.done:
            return
        self.done = done
        if self.callback is not None:
            self.callback(self.snapshot())


class Operation(Generic[T, E]):
    """A running workflow: `await` it for the result, or `async for` its events (then `await` it).

    ```python
    transfer = upload(client, "app.signed")
    async for p in transfer:
        print(p.done, p.total, p.rate)
    result = await transfer
    ```
    The workflow starts at the first `await` or iteration.
    """

    def __init__(
        self, run: Callable[[Callable[[E], None]], Awaitable[T]], callback: Callable[[E], Any] | None = None
    ) -> None:
        self._run = run
        self._callback = callback
        self._task: asyncio.Task[T] | None = None
        self._queue: asyncio.Queue[E | None] = asyncio.Queue()

    def _start(self) -> asyncio.Task[T]:
        if self._task is None:
            self._task = asyncio.ensure_future(self._runner())
        return self._task

    def _report(self, event: E) -> None:
        if self._callback is not None:
            self._callback(event)
        self._queue.put_nowait(event)

    async def _runner(self) -> T:
        try:
            return await self._run(self._report)
        finally:
            self._queue.put_nowait(None)

    def __await__(self) -> Generator[Any, None, T]:
        return self._start().__await__()

    def __aiter__(self) -> AsyncIterator[E]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[E]:
        task = self._start()
        while True:
            item = await self._queue.get()
            if item is None:
                break
            yield item
        await task  # re-raises the workflow's error, if any

    def cancel(self) -> None:
        if self._task is not None:
            self._task.cancel()


Transfer = Operation[T, Progress]
