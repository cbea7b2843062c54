"""Pacing: more requests in flight than the device has buffers, spread over the round trip.

A Zephyr server holds at most `buf_count` requests and drops silently any that lands
while they are all held. Requests sent back to back arrive together, so without pacing
the window stops at the buffer count, and a long link then carries one window per round
trip. When the round trip is much longer than the time the device needs per request,
more can be on their way as long as they arrive spaced out: each is served before the
next lands, and the device never holds more than a few.

The pacer learns two figures from the answers (fed by the dispatcher):

* `min_rtt`: the smallest recent round trip (send to answer);
* `service`: Zephyr serves one request at a time, so the answers to two consecutive
  requests that were on their way together leave at least one service time apart: their
  gap bounds the service time from above. The bound is tight when the sender did not set
  the gap, i.e. the two were sent back to back (within `MIN_GAP_S`) or much closer together
  than they were answered; only those pairs are sampled, so paced sends (whose gaps are
  the pacer's own) do not inflate the figure.

It allows a depth of `min_rtt / gap` where the gap is `SERVICE_MARGIN` service times and
at least `MIN_GAP_S`, capped by `limit`. Sends beyond the safe depth then leave no sooner
than `min_rtt / window` after the previous one. Until it has seen `MIN_SERVICE_SAMPLES`
service samples (a device that drops the second of two requests gives none) it allows
nothing beyond the window's usual limits.
"""

from __future__ import annotations

import statistics
from collections import deque
from dataclasses import dataclass

#: asyncio sleeps in whole milliseconds (epoll), so sends cannot be spaced more finely than this,
#: and arrivals closer than this may be handled as one burst. Shorter round trips are not paced.
MIN_GAP_S = 0.001
#: Spacing of paced sends, in device service times: room for jitter on the link and the device.
SERVICE_MARGIN = 4
#: A pair sent further apart than `MIN_GAP_S` is still sampled when it was sent within this
#: share of the gap between its answers (the device stretched it).
QUEUED_SHARE = 0.5
RTT_SAMPLES = 32
SERVICE_SAMPLES = 9
MIN_SERVICE_SAMPLES = 4


@dataclass(frozen=True, slots=True)
class _Answer:
    order: int
    sent_at: float
    received_at: float


class Pacer:
    """Decides how deep the window may go beyond `safe` and when a send beyond it may leave."""

    def __init__(self, safe: int, limit: int) -> None:
        self.safe = safe
        self.limit = limit
        self._rtts: deque[float] = deque(maxlen=RTT_SAMPLES)
        self._services: deque[float] = deque(maxlen=SERVICE_SAMPLES)
        self._last: _Answer | None = None
        self._last_send_at = 0.0
        #: Sends that waited for their turn.
        self.paced = 0

    # -- what the answers tell ------------------------------------------------------------

    def on_answer(self, order: int, sent_at: float, received_at: float) -> None:
        """The request sent `order`-th (at `sent_at`) was answered at `received_at`."""
        self._rtts.append(max(0.0, received_at - sent_at))
        last, self._last = self._last, _Answer(order, sent_at, received_at)
        if last is None or order != last.order + 1 or sent_at >= last.received_at:
            return  # not consecutive, or not on their way together: the device was idle in between
        gap = received_at - last.received_at
        if sent_at - last.sent_at < max(MIN_GAP_S, gap * QUEUED_SHARE):
            self._services.append(max(0.0, gap))

    @property
    def min_rtt(self) -> float | None:
        return min(self._rtts) if self._rtts else None

    @property
    def service(self) -> float | None:
        """The device's time per request (median of recent samples), once known."""
        if len(self._services) < MIN_SERVICE_SAMPLES:
            return None
        return statistics.median(self._services)

    def _safe_gap(self) -> float | None:
        service = self.service
        return None if service is None else max(MIN_GAP_S, SERVICE_MARGIN * service)

    # -- what the window may do -----------------------------------------------------------

    def depth_limit(self) -> int:
        """How many may be in flight when paced; 0 while the figures do not allow more than `safe`."""
        gap, rtt = self._safe_gap(), self.min_rtt
        if gap is None or rtt is None:
            return 0
        depth = min(self.limit, int(rtt / gap))
        return depth if depth > self.safe else 0

    @property
    def active(self) -> bool:
        return self.depth_limit() > 0

    def interval(self, window: int) -> float:
        """Spacing of sends beyond the safe depth: a window's worth per round trip, never below the safe gap."""
        gap, rtt = self._safe_gap(), self.min_rtt
        if gap is None or rtt is None:
            return 0.0
        return max(gap, rtt / max(1, window))

    def schedule(self, now: float, depth: int, window: int) -> float:
        """Seconds to wait before sending a request that makes `depth` in flight (0: send now)."""
        if depth <= self.safe or not self.active:
            self._last_send_at = max(self._last_send_at, now)
            return 0.0
        at = max(now, self._last_send_at + self.interval(window))
        self._last_send_at = at
        if at > now:
            self.paced += 1
        return at - now
