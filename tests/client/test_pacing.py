"""The pacer on its own: fed answer times by hand, no clock, no link."""

from __future__ import annotations

import pytest

from smpkit.client.pacing import MIN_GAP_S, MIN_SERVICE_SAMPLES, SERVICE_MARGIN, Pacer
from smpkit.client.window import Window

RTT = 0.020


def feed_bursts(pacer: Pacer, *, rtt: float, service: float, bursts: int, size: int = 3, start: int = 0) -> int:
    """Bursts of `size` requests sent back to back; the device answers one per `service`."""
    order, now = start, 0.0
    for _ in range(bursts):
        sent = [now + 0.00002 * i for i in range(size)]
        for i, sent_at in enumerate(sent):
            pacer.on_answer(order, sent_at, now + rtt + i * service)
            order += 1
        now += rtt + size * service + 0.001
    return order


def test_no_pacing_before_the_device_has_shown_its_service_time() -> None:
    pacer = Pacer(safe=3, limit=8)
    for order in range(10):  # one at a time: never on their way together
        pacer.on_answer(order, order * 0.05, order * 0.05 + RTT)
    assert pacer.min_rtt == pytest.approx(RTT)
    assert pacer.service is None and pacer.depth_limit() == 0 and not pacer.active
    assert pacer.schedule(1.0, depth=6, window=6) == 0.0 and pacer.paced == 0


def test_a_long_round_trip_and_a_quick_device_allow_paced_depth() -> None:
    pacer = Pacer(safe=3, limit=8)
    feed_bursts(pacer, rtt=RTT, service=0.00005, bursts=MIN_SERVICE_SAMPLES)
    assert pacer.service == pytest.approx(0.00005)
    assert pacer.depth_limit() == 8  # 20 ms / 1 ms would be 20: capped at 2 x buf_count
    assert pacer.interval(8) == pytest.approx(RTT / 8)
    assert pacer.interval(40) == pytest.approx(MIN_GAP_S)  # never below the timer's resolution


def test_sends_beyond_the_safe_depth_are_spaced_over_the_round_trip() -> None:
    pacer = Pacer(safe=3, limit=8)
    feed_bursts(pacer, rtt=RTT, service=0.00005, bursts=MIN_SERVICE_SAMPLES)
    now = 10.0
    assert [pacer.schedule(now, depth, window=8) for depth in (1, 2, 3)] == [0.0, 0.0, 0.0]
    waits = [pacer.schedule(now, depth, window=8) for depth in (4, 5, 6)]
    assert waits == pytest.approx([RTT / 8, 2 * RTT / 8, 3 * RTT / 8])
    assert pacer.paced == 3
    # a send that finds its turn already past goes at once, and the next one is spaced from it
    assert pacer.schedule(now + 1.0, 7, window=8) == 0.0
    assert pacer.schedule(now + 1.0, 8, window=8) == pytest.approx(RTT / 8)


def test_a_short_round_trip_is_not_paced() -> None:
    pacer = Pacer(safe=3, limit=8)
    feed_bursts(pacer, rtt=0.0003, service=0.00003, bursts=MIN_SERVICE_SAMPLES)  # loopback, no latency
    assert pacer.service is not None and pacer.depth_limit() == 0
    assert pacer.schedule(1.0, depth=4, window=4) == 0.0


def test_a_device_as_slow_as_the_round_trip_is_not_paced() -> None:
    # native_sim over UDP: 10 ms of work per request, answers 10 ms apart
    pacer = Pacer(safe=1, limit=4)
    feed_bursts(pacer, rtt=0.011, service=0.010, bursts=MIN_SERVICE_SAMPLES, size=2)
    assert pacer.service == pytest.approx(0.010)
    assert pacer.depth_limit() == 0


def test_paced_sends_do_not_count_as_service_samples_but_a_slowing_device_does() -> None:
    pacer = Pacer(safe=3, limit=8)
    order = feed_bursts(pacer, rtt=RTT, service=0.00005, bursts=MIN_SERVICE_SAMPLES)
    before = pacer.service
    gap = RTT / 8
    for i in range(20):  # paced: answers as far apart as the sends
        pacer.on_answer(order + i, 100.0 + i * gap, 100.0 + RTT + i * gap)
    assert pacer.service == before and pacer.depth_limit() == 8
    order += 20
    slow = 0.006  # the device now needs 6 ms per request: answers spread well beyond the sends
    for i in range(10):
        pacer.on_answer(order + i, 200.0 + i * gap, 200.0 + RTT + i * slow)
    assert pacer.service == pytest.approx(slow)
    assert SERVICE_MARGIN * slow > RTT / 4
    assert pacer.depth_limit() == 0  # 20 ms / (4 x 6 ms): no room beyond the safe depth


def test_the_window_grows_beyond_its_maximum_only_while_the_pacer_allows() -> None:
    window = Window(3, 4)
    pacer = Pacer(window.safe, limit=8)
    window.pacer = pacer
    for _ in range(200):
        window.on_success()
    assert (window.size, window.top) == (4, 4)  # not active yet: the usual probe limit
    feed_bursts(pacer, rtt=RTT, service=0.00005, bursts=MIN_SERVICE_SAMPLES)
    for _ in range(200):
        window.on_success()
    assert (window.size, window.top, window.ceiling) == (8, 8, 8)
    assert window.limit_for(10, retriable=False) == 3  # never beyond the safe depth without a resend


async def test_a_loss_at_a_paced_depth_halves_and_lowers_the_ceiling() -> None:
    window = Window(3, 4)
    pacer = Pacer(window.safe, limit=8)
    window.pacer = pacer
    feed_bursts(pacer, rtt=RTT, service=0.00005, bursts=MIN_SERVICE_SAMPLES)
    for _ in range(200):
        window.on_success()
    tickets = [await window.acquire() for _ in range(7)]
    assert pacer.paced == 4  # the first 3 went at once, the 4 beyond the safe depth waited their turn
    window.on_loss(tickets[-1])  # the request at depth 7 was dropped
    assert (window.size, window.ceiling, window.shrinks) == (4, 6, 1)
    for ticket in tickets:
        await window.release(ticket)
