"""Rules of the window over BLE (zephyr-ble-observations §3-4).

It starts at buf_count - 1 (a burst of 3 is answered), takes at most 2 requests near
buf_size, and treats rc 2 (ENOMEM) and silence as a reason to shrink and resend, never as
a failure for the caller.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from smpkit.image.build import make_image, make_test_body
from smpkit.workflows.upload import upload

from .support import ble_rig


async def _echo_burst(rig_client: object, tasks: int, rounds: int) -> list[bool]:
    from smpkit import SMPClient

    assert isinstance(rig_client, SMPClient)

    async def worker(task: int) -> list[bool]:
        out = []
        for n in range(rounds):
            text = f"{task}-{n}-" + "z" * (11 * ((task + n) % 7))
            out.append(await rig_client.os.echo(text) == text)
        return out

    results = await asyncio.gather(*(worker(task) for task in range(tasks)))
    return [ok for row in results for ok in row]


async def test_window_starts_at_buf_count_minus_one() -> None:
    async with ble_rig() as rig:
        client = rig.client
        assert (client.buf_size, client.buf_count, client.max_request_size) == (2475, 4, 2475)
        assert client.window.size == 3
        assert client.window.limit_for(40) == 3
        tickets = rig.tickets()
        await asyncio.sleep(0.1)  # an idle device, as in the captured bursts
        assert all(await _echo_burst(client, tasks=3, rounds=1))
    assert max(t.depth for _, t in tickets) == 3
    stats = rig.model_stats
    assert (stats.enomem, stats.rejected_writes) == (0, 0)


async def test_requests_near_buf_size_go_at_most_two_at_a_time(tmp_path: Path) -> None:
    image = make_image(make_test_body(24 * 1024, seed=5), (2, 0, 0, 0))
    async with ble_rig() as rig:
        client = rig.client
        assert client.window.limit_for(2475) == 2
        assert client.window.limit_for(2475 * 2 // 3) == 2
        tickets = rig.tickets()
        # the workflow asks for 4 in flight; the window lets 2 of these chunks out at a time
        result = await upload(client, image, depth=4)
    chunks = [t.depth for size, t in tickets if size > 100]  # the last chunk is a short one
    assert len(chunks) == result.chunks
    assert max(chunks) == 2
    assert result.rewinds == 0
    assert (rig.model_stats.enomem, rig.model_stats.rejected_writes) == (0, 0)
    assert rig.slot_sha256(len(image)) == _sha(image)


async def test_rc_2_shrinks_the_window_and_is_resent() -> None:
    # a window of 4 on purpose: a burst of 4 to an idle device gets the first answered rc 2
    async with ble_rig(window=4, scale=1.0) as rig:
        client = rig.client
        assert client.window.size == 4
        await asyncio.sleep(0.1)  # an idle device (virtual time: the 4 land within its wake-up time)
        assert all(await _echo_burst(client, tasks=4, rounds=1))
        assert rig.model_stats.enomem == 1
        assert client.window.shrinks >= 1 and client.window.size < 4
        assert all(await _echo_burst(client, tasks=8, rounds=4))
    assert client.stats.timeouts == 0


async def test_silent_drops_shrink_the_window_and_are_resent() -> None:
    # 6 in flight: Zephyr has 4 buffers and drops the rest of the burst without a word
    async with ble_rig(window=6) as rig:
        client = rig.client
        await asyncio.sleep(0.05)
        assert all(await _echo_burst(client, tasks=8, rounds=6))
        lost, shrinks = client.stats.lost, client.window.shrinks
        assert rig.model_stats.rejected_writes >= 1
        assert lost >= 1 and shrinks >= 1
        assert client.window.ceiling < 6
        # once it learned the depth the device keeps up with, a second round loses at most a probe's worth
        assert all(await _echo_burst(client, tasks=8, rounds=6))
        assert client.stats.lost - lost <= 2


def _sha(data: bytes) -> bytes:
    import hashlib

    return hashlib.sha256(data).digest()


async def test_a_small_request_waits_while_large_ones_fill_the_cap() -> None:
    from smpkit.client.window import Window

    window = Window(3, large_cap=2, large_threshold=1000)
    big = [await window.acquire(2475), await window.acquire(2475)]
    small = asyncio.create_task(window.acquire(20))
    await asyncio.sleep(0.01)
    assert not small.done()  # a third request would be a third buffer held at the device
    await window.release(big[0])
    ticket = await asyncio.wait_for(small, 1.0)
    assert ticket.depth == 2 and big[1].depth == 2


def test_over_ble_a_loss_within_the_safe_depth_lowers_the_ceiling() -> None:
    from smpkit.client.window import Ticket, Window

    window = Window(3, minimum=2, loss_lowers_ceiling=True)
    window.on_loss(Ticket(window.epoch, depth=3))
    assert (window.size, window.ceiling) == (2, 2)
    window.on_loss(Ticket(window.epoch, depth=2))
    assert (window.size, window.ceiling) == (2, 2)  # never below the floor


async def test_these_tests_run_on_virtual_time() -> None:
    from vtime import VirtualTimeLoop

    loop = asyncio.get_running_loop()
    assert isinstance(loop, VirtualTimeLoop)
    before = loop.time()
    await asyncio.sleep(30.0)  # costs no wall time
    assert loop.time() - before == 30.0
