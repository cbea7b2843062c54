"""The virtual-time loop the timing-sensitive tests run on (tests/vtime.py)."""

from __future__ import annotations

import asyncio
import socket
import time

import vtime


def test_sleeps_cost_no_wall_time_and_land_exactly() -> None:
    async def main() -> list[float]:
        loop = asyncio.get_running_loop()
        seen = []
        for delay in (0.003, 10.0, 0.0005):
            await asyncio.sleep(delay)
            seen.append(loop.time())
        return seen

    started = time.monotonic()
    assert vtime.run(main()) == [0.003, 10.003, 10.0035]
    assert time.monotonic() - started < 5.0


def test_the_clock_does_not_move_while_something_can_run() -> None:
    """CPU work between awaits is free: a busy loop of callbacks does not advance the clock."""

    async def main() -> float:
        loop = asyncio.get_running_loop()
        for _ in range(1000):
            await asyncio.sleep(0)
            sum(range(1000))
        return loop.time()

    assert vtime.run(main()) == 0.0


def test_io_already_in_the_kernel_is_taken_before_time_jumps() -> None:
    """A datagram sent on loopback is delivered before a 1 s timer fires, as in real time."""

    async def main() -> tuple[str, float]:
        loop = asyncio.get_running_loop()
        a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
        a.setblocking(False)
        b.setblocking(False)
        got: asyncio.Future[str] = loop.create_future()
        loop.add_reader(b.fileno(), lambda: got.done() or got.set_result("data"))
        timer = loop.call_later(1.0, lambda: got.done() or got.set_result("timeout"))
        a.send(b"x")
        result = await got
        timer.cancel()
        loop.remove_reader(b.fileno())
        a.close()
        b.close()
        return result, loop.time()

    assert vtime.run(main()) == ("data", 0.0)


def test_a_thread_job_holds_the_clock_back() -> None:
    """While an executor job runs the clock stands still (the loop waits in real time): work in a
    thread counts like work on the loop, as no device time, and a timer cannot overtake it."""

    async def main() -> tuple[bool, float, float]:
        loop = asyncio.get_running_loop()
        job = loop.run_in_executor(None, time.sleep, 0.2)
        late = asyncio.ensure_future(asyncio.sleep(0.05))
        done, _ = await asyncio.wait({job, late}, return_when=asyncio.FIRST_COMPLETED)
        at_job = loop.time()
        await late
        return done == {job}, at_job, loop.time()

    job_first, at_job, at_timer = vtime.run(main())
    assert job_first and at_job == 0.0 and at_timer == 0.05
