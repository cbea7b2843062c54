"""The buffer and timing model of Zephyr's MCUmgr BT transport (smp_bt.c, smp_reassembly.c, smp.c).

A BLE peripheral feeds every ATT write to a `BleReassembly` and hands each completed request
to a `BleResponder`, which answers it the way the captured `zephyr-3.4-ble` server did
(`profiles_ble.py`): `{"rc":2}` when the request holds the last net_buf, `{"rc":7}` when the
response would not fit, one request at a time, notifications of exactly MTU - 3 bytes.
A profile opts in by setting `DeviceProfile.ble_timing`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from smpkit.protocol.header import HEADER_SIZE

if TYPE_CHECKING:
    from smpkit.simulator.config import DeviceProfile

#: ATT error Zephyr's smp_bt returns for a write it could not take (BT_ATT_ERR_VALUE_NOT_ALLOWED).
ATT_VALUE_NOT_ALLOWED = 0x13
ATT_WRITE_OVERHEAD = 3

#: MGMT_ERR_ENOMEM and MGMT_ERR_EMSGSIZE.
RC_ENOMEM, RC_EMSGSIZE = 2, 7

#: An RX backlog shorter than this is not waited for: asyncio's timers wake in whole milliseconds
#: (epoll), so waiting for a few microseconds would cost up to a millisecond, and the outcomes of
#: short requests (8 echoes 5 ms apart) hinge on less than that.
RX_SLACK_S = 0.001


@dataclass(frozen=True, slots=True)
class BleTiming:
    """The server's clock, fitted to the capture (virtual controller, native_posix; see docs/ble-conformance.md).

    - `wake_ms`: an idle SMP work queue takes this long to reach a newly completed request
      and allocate its response buffer; requests written back to back within it all hold
      their buffers by then (depth 4: the first one is answered rc 2).
    - `respond_ms`: after waking, the handler runs and the first notification goes out.
    - `next_ms`: a busy worker reaches the next queued request this long after freeing the last.
    - `notify_ms`: smp_bt waits for each notification to complete before the next one, and
      the request and response buffers are freed only after the last one completed.
    - `rx_us_per_byte`: the BT RX thread's cost per written byte. Writes go through it one after
      another, a request reaches the work queue only once its last write has, and the work
      queue (prio 3) runs only while BT RX (cooperative, prio -8) has nothing left to do.
    - `upload_ms`: img_mgmt's work per image upload chunk (group 1, id 1) once it has its
      response buffer, whatever the chunk's size and whether it is written (window 4's `off`
      answers to chunks it skipped are as far apart as written ones).
    Fitted so that the capture's outcomes come out the same: depth 2/3 answered, depth 4 rc 2
    + 3 answers, depth 5+ silent drops, 8 echoes 5 ms apart -> 1st-3rd + 8th answered, 20 ms
    apart -> all, 2 image chunks in flight lose nothing and 3 lose some; and, with the last two,
    that a 64 KiB upload of 2475-byte chunks takes about as long as captured (1.81 s with one
    chunk in flight, 1.39 s with two: the second chunk's writes pass BT RX while the first is
    answered, and the worker is never idle). `scale` multiplies all.
    """

    wake_ms: float = 14.0
    respond_ms: float = 6.0
    next_ms: float = 1.0
    notify_ms: float = 20.0
    rx_us_per_byte: float = 12.0
    upload_ms: float = 12.0
    scale: float = 1.0

    def seconds(self, ms: float) -> float:
        return ms * self.scale / 1000.0

    def rx_seconds(self, size: int) -> float:
        return self.seconds(size * self.rx_us_per_byte / 1000.0)


class BleRxThread:
    """Zephyr's BT RX thread, one per device: the clock of the writes it still has to get through."""

    def __init__(self, timing: BleTiming) -> None:
        self.timing = timing
        self.busy_until = 0.0

    def receive(self, size: int) -> float:
        """Queue a write of `size` bytes; the loop time at which BT RX is done with it."""
        now = asyncio.get_running_loop().time()
        self.busy_until = max(now, self.busy_until) + self.timing.rx_seconds(size)
        return self.busy_until

    async def idle(self) -> None:
        """Until BT RX has no write left (it runs before the SMP work queue)."""
        left = self.busy_until - asyncio.get_running_loop().time()
        if left > RX_SLACK_S:
            await asyncio.sleep(left)
            await self.idle()  # writes that came in meanwhile go first too


class NetBufPool:
    """CONFIG_MCUMGR_TRANSPORT_NETBUF_COUNT buffers, shared by requests being reassembled or queued and responses."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.used = 0
        self.peak = 0

    @property
    def free(self) -> int:
        return self.count - self.used

    def take(self) -> bool:
        if self.used >= self.count:
            return False
        self.used += 1
        self.peak = max(self.peak, self.used)
        return True

    def give(self, n: int = 1) -> None:
        self.used = max(0, self.used - n)


@dataclass(slots=True)
class BleStats:
    """What the model did, for tests and benchmarks."""

    writes: int = 0
    rejected_writes: int = 0
    requests: int = 0
    enomem: int = 0
    emsgsize: int = 0
    responses: int = 0
    notifications: int = 0


class BleReassembly:
    """smp_bt_chr_write + smp_reassembly_collect for one connection.

    `feed()` returns (request or None, ATT error or None). A Write Command hides the ATT
    error; a Write Request reports it. Rules (all captured):
    - the first write must hold the header; its `len` + 8 must fit buf_size (else 0x13);
    - the first write takes a net_buf (none left: 0x13, the request is lost);
    - a write longer than the bytes still missing drops the partial request and itself;
    - no timeout: a partial request waits for its bytes as long as the link is up.
    """

    def __init__(self, pool: NetBufPool, buf_size: int, stats: BleStats | None = None) -> None:
        self.pool = pool
        self.buf_size = buf_size
        self.stats = stats if stats is not None else BleStats()
        self._partial: bytearray | None = None
        self._expected = 0

    @property
    def holding(self) -> bool:
        return self._partial is not None

    def reset(self) -> None:
        """Disconnect: the partial request and its buffer are dropped."""
        if self._partial is not None:
            self._partial = None
            self.pool.give()

    def feed(self, write: bytes) -> tuple[bytes | None, int | None]:
        self.stats.writes += 1
        if self._partial is None:
            if len(write) < HEADER_SIZE:
                return self._reject()
            expected = HEADER_SIZE + ((write[2] << 8) | write[3])
            if expected > self.buf_size or not self.pool.take():
                return self._reject()
            self._partial = bytearray()
            self._expected = expected
        if len(write) > self._expected - len(self._partial):
            self.reset()
            return self._reject()
        self._partial += write
        if len(self._partial) < self._expected:
            return None, None
        request = bytes(self._partial)
        self._partial = None  # the buffer now travels with the request
        self.stats.requests += 1
        return request, None

    def _reject(self) -> tuple[None, int]:
        self.stats.rejected_writes += 1
        return None, ATT_VALUE_NOT_ALLOWED


Handler = Callable[[bytes], Awaitable[Sequence[bytes]]]
Notify = Callable[[bytes], Awaitable[None]]


def error_response(request: bytes, rc: int) -> bytes:
    """smp_on_err: the request's header with op read->1/write->3 and body `{"rc":rc}` (indefinite map)."""
    body = bytes((0xBF, 0x62, 0x72, 0x63, rc, 0xFF))
    op = (request[0] & 0x07) | 0x01
    first = (request[0] & 0x18) | op
    return bytes((first, 0, len(body) >> 8, len(body) & 0xFF)) + request[4:8] + body


def cut_notifications(response: bytes, att_mtu: int) -> list[bytes]:
    """Exactly MTU - 3 bytes per notification, the last one the rest; never two responses in one."""
    size = att_mtu - ATT_WRITE_OVERHEAD
    return [response[i : i + size] for i in range(0, len(response), size)]


def is_image_upload(request: bytes) -> bool:
    """A write of group 1 (image), command 1 (upload)."""
    return request[0] & 0x07 == 2 and request[4:6] == b"\x00\x01" and request[7] == 1


class BleResponder:
    """The SMP work queue for one connection: one request at a time, in order, with the capture's timing.

    A completed request holds the net_buf it was reassembled in. When the worker reaches it
    (`wake_ms` after an idle period, `next_ms` after the previous request), it takes a second
    buffer for the response; with none left the request buffer carries `{"rc":2}` instead.
    Each notification then waits `notify_ms` for its completion, and both buffers are freed
    after the last one (smp_bt_tx_pkt waits on the notify semaphore).
    """

    def __init__(
        self,
        pool: NetBufPool,
        buf_size: int,
        timing: BleTiming,
        handler: Handler,
        notify: Notify,
        att_mtu: Callable[[], int],
        stats: BleStats | None = None,
        rx: BleRxThread | None = None,
    ) -> None:
        self.rx = rx if rx is not None else BleRxThread(timing)
        self.pool = pool
        self.buf_size = buf_size
        self.timing = timing
        self.handler = handler
        self.notify = notify
        self.att_mtu = att_mtu
        self.stats = stats if stats is not None else BleStats()
        self._queue: asyncio.Queue[bytes] = asyncio.Queue()
        self._busy = False
        self._task: asyncio.Task[None] | None = None

    def submit(self, request: bytes) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._work())
        self._queue.put_nowait(request)

    @property
    def idle(self) -> bool:
        return not self._busy and self._queue.empty()

    def close(self) -> None:
        """Disconnect: queued requests are discarded with their buffers; an answer being sent is cut off."""
        while not self._queue.empty():
            self._queue.get_nowait()
            self.pool.give()
        if self._task is not None:
            self._task.cancel()
            self._task = None
        if self._busy:
            self._busy = False

    async def _work(self) -> None:
        was_busy = False
        while True:
            if self._queue.empty():
                was_busy = False
            request = await self._queue.get()
            self._busy = True
            held = [1]
            try:
                await asyncio.sleep(self.timing.seconds(self.timing.next_ms if was_busy else self.timing.wake_ms))
                await self.rx.idle()
                responses = await self._answer(request, held)
                if not was_busy:
                    await asyncio.sleep(self.timing.seconds(self.timing.respond_ms))
                for response in responses:
                    await self._send(response)
            finally:
                self.pool.give(held[0])
                self._busy = False
            was_busy = True

    async def _answer(self, request: bytes, held: list[int]) -> list[bytes]:
        """The responses; `{"rc":2}` in the request's own buffer when no buffer is left for them."""
        if not self.pool.take():
            self.stats.enomem += 1
            return [error_response(request, RC_ENOMEM)]
        held[0] = 2
        if is_image_upload(request):
            await asyncio.sleep(self.timing.seconds(self.timing.upload_ms))
        out: list[bytes] = []
        for response in await self.handler(request):
            if len(response) > self.buf_size:
                self.stats.emsgsize += 1
                response = error_response(request, RC_EMSGSIZE)
            out.append(response)
        return out

    async def _send(self, response: bytes) -> None:
        self.stats.responses += 1
        for piece in cut_notifications(response, self.att_mtu()):
            with contextlib.suppress(Exception):
                await self.notify(piece)
            self.stats.notifications += 1
            await asyncio.sleep(self.timing.seconds(self.timing.notify_ms))


class BleSmpServer:
    """Everything of one device's BLE SMP path: the shared pool, and a reassembly + responder per connection."""

    def __init__(self, profile: DeviceProfile, handler: Handler) -> None:
        self.profile = profile
        self.timing = profile.ble_timing or BleTiming()
        self.handler = handler
        self.pool = NetBufPool(profile.buf_count)
        self.stats = BleStats()
        self.rx = BleRxThread(self.timing)

    def connection(self, notify: Notify, att_mtu: Callable[[], int]) -> BleConnection:
        return BleConnection(self, notify, att_mtu)


class BleConnection:
    """One central: `write()` for every ATT write (returns the ATT error or None), `close()` on disconnect."""

    def __init__(self, server: BleSmpServer, notify: Notify, att_mtu: Callable[[], int]) -> None:
        profile = server.profile
        self.pool = server.pool
        self.rx = server.rx
        self.reassembly = BleReassembly(server.pool, profile.buf_size, server.stats)
        self.responder = BleResponder(
            server.pool, profile.buf_size, server.timing, server.handler, notify, att_mtu, server.stats, server.rx
        )
        #: requests whose last write BT RX has not got through yet (each holds its net_buf)
        self._arriving: set[asyncio.TimerHandle] = set()

    def write(self, value: bytes) -> int | None:
        # buffers are taken (or refused) as the write arrives, so a Write Request gets its ATT error at once;
        # only a write that is kept costs BT RX time (a refused one never reaches the net_buf copy)
        request, error = self.reassembly.feed(value)
        ready = self.rx.receive(len(value)) if error is None else 0.0
        if request is not None:
            self._arrive_at(ready, request)
        return error

    def _arrive_at(self, ready: float, request: bytes) -> None:
        loop = asyncio.get_running_loop()
        if ready - loop.time() <= RX_SLACK_S:
            self.responder.submit(request)
            return

        def arrive() -> None:
            self._arriving.discard(handle)
            self.responder.submit(request)

        handle = loop.call_at(ready, arrive)
        self._arriving.add(handle)

    def close(self) -> None:
        for handle in self._arriving:
            handle.cancel()
            self.pool.give()
        self._arriving.clear()
        self.reassembly.reset()
        self.responder.close()


def ble_model_for(simulator: Any) -> BleSmpServer | None:
    """The buffer/timing model serving `simulator` over BLE, when its profile has one (`ble_timing`)."""
    # simulator.profile already carries the `buf_size`/`buf_count` given on the command line
    profile: DeviceProfile = simulator.profile
    if profile.ble_timing is None:
        return None

    async def handle(request: bytes) -> Sequence[bytes]:
        responses: Sequence[bytes] = await simulator.handle_packet(request, "ble")
        return responses

    return BleSmpServer(profile, handle)
