"""Virtual time for tests: an event loop whose clock jumps to the next timer when nothing can run.

`loop.time()` starts at 0 and moves only when the loop would otherwise sleep: it first polls
the selector without waiting (so bytes already handed to the kernel, e.g. a UDP datagram on
loopback or a pty line, are taken before time moves), and only when no callback is ready, no
I/O is ready and no executor job is still running does it jump straight to the earliest timer.
CPU time spent by the code under test (two Bumble hosts, CBOR, the simulator) therefore costs
zero device time, and a model's "3 ms later" is exactly 3 ms later on every machine.

While a thread-pool job is running (`run_in_executor`, `asyncio.to_thread`) the loop waits in
real time, because the job's result would otherwise arrive after timers that in reality fire
later. Work in another process is not seen: keep tests whose peer is a subprocess on real time.

Use `run(coro)` from a plain (sync) test.
"""

from __future__ import annotations

import asyncio
import selectors
from collections.abc import Callable, Coroutine
from concurrent.futures import Executor
from typing import Any, TypeVar

T = TypeVar("T")


class _JumpingSelector(selectors.BaseSelector):
    """Wraps the loop's selector: a wait of `timeout` seconds becomes a poll plus a clock jump."""

    def __init__(self, real: selectors.BaseSelector, loop: VirtualTimeLoop) -> None:
        self._real = real
        self._loop = loop

    def register(self, fileobj: Any, events: int, data: Any = None) -> selectors.SelectorKey:
        return self._real.register(fileobj, events, data)

    def unregister(self, fileobj: Any) -> selectors.SelectorKey:
        return self._real.unregister(fileobj)

    def modify(self, fileobj: Any, events: int, data: Any = None) -> selectors.SelectorKey:
        return self._real.modify(fileobj, events, data)

    def get_key(self, fileobj: Any) -> selectors.SelectorKey:
        return self._real.get_key(fileobj)

    def get_map(self) -> Any:
        return self._real.get_map()

    def close(self) -> None:
        self._real.close()

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        ready = self._real.select(0)
        if ready or timeout == 0:
            return ready
        if self._loop.pending_jobs or timeout is None:
            # a thread is still working (or nothing is scheduled): wait for real
            return self._real.select(timeout)
        self._loop.jump(timeout)
        return []


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    """A selector event loop on a virtual clock (see the module docstring)."""

    def __init__(self) -> None:
        super().__init__()
        self._virtual_now = 0.0
        self.pending_jobs = 0
        self._selector = _JumpingSelector(self._selector, self)  # type: ignore[has-type]

    def time(self) -> float:
        return self._virtual_now

    def jump(self, timeout: float) -> None:
        """To the earliest timer exactly (adding `timeout` could fall a rounding error short of it).

        The loop then runs every timer due within its clock resolution of that one; the clock
        goes to the latest of them, so that no callback runs before its own time (a simulator
        answering "when the busy window ends" must not be a rounding error early).
        """
        scheduled = self._scheduled  # type: ignore[attr-defined]
        if not scheduled:
            self._virtual_now += timeout
            return
        first = scheduled[0].when()
        due = [h.when() for h in scheduled if h.when() < first + self._clock_resolution]  # type: ignore[attr-defined]
        self._virtual_now = max(self._virtual_now, *due)

    def run_in_executor(self, executor: Executor | None, func: Callable[..., T], *args: Any) -> asyncio.Future[T]:
        future = super().run_in_executor(executor, func, *args)
        self.pending_jobs += 1

        def done(_: asyncio.Future[T]) -> None:
            self.pending_jobs -= 1

        future.add_done_callback(done)
        return future


def run(coro: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run(coro)` on a fresh `VirtualTimeLoop`."""
    loop = VirtualTimeLoop()
    try:
        asyncio.set_event_loop(loop)
        return loop.run_until_complete(coro)
    finally:
        try:
            pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
            for task in pending:
                task.cancel()
            if pending:
                loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.run_until_complete(loop.shutdown_default_executor())
        finally:
            asyncio.set_event_loop(None)
            loop.close()
