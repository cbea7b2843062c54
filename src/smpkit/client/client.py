"""`SMPClient`: the asyncio SMP client.

    async with SMPClient("udp://127.0.0.1:1337") as client:
        await client.os.echo("hi")

Many tasks may share one client: requests are pipelined up to the adaptive window,
matched to their responses by the dispatcher, and retried when that is safe.
"""

from __future__ import annotations

import asyncio
import logging
import os
from types import TracebackType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from smpkit.workflows.progress import Operation

from smpkit.client.dispatcher import Dispatcher
from smpkit.client.groups import (
    EnumGroup,
    FSGroup,
    ImageGroup,
    OSGroup,
    SettingsGroup,
    ShellGroup,
    StatGroup,
    ZephyrGroup,
)
from smpkit.client.pacing import Pacer
from smpkit.client.retry import Attempts, RetryPolicy, is_no_buffer, is_retriable
from smpkit.client.window import Ticket, Window
from smpkit.protocol.codec import Message, encode_request_body, parse_response
from smpkit.protocol.errors import SMPDecodeError, SMPResponseError
from smpkit.protocol.groups.os import McumgrParams
from smpkit.protocol.header import HEADER_SIZE, Version
from smpkit.protocol.model import Request, ResponseT
from smpkit.transport.base import SMPTransport
from smpkit.transport.errors import (
    SMPTransportDisconnected,
    SMPTransportException,
    SMPTransportTimeout,
)

log = logging.getLogger(__name__)

#: Used when the device does not report its buffers (rc 8, or no answer): Zephyr's
#: default net-buffer size, and a count that allows one request in flight.
DEFAULT_BUF_SIZE = 384
DEFAULT_BUF_COUNT = 2
#: Over BLE, requests at least this share of the largest request go at most 2 at a time
#: (zephyr-ble-observations §4: depth 3 drops chunks near buf_size, depth 2 is safe).
BLE_LARGE_SHARE = 0.4
BLE_LARGE_CAP = 2
#: The window over BLE stays at 2 or more when the device's buffers allow a sustained 2
#: (buf_count - 2: a request sent on an answer finds that answer's two buffers still held).
#: At 1 a silent drop shows only as a timeout; at 2 the next answer gives it away.
BLE_MIN_WINDOW = 2
#: With pacing (UDP and serial, long round trips) at most this many times the device's buffers in flight.
PACED_DEPTH_PER_BUFFER = 2
_BLE_SCHEMES = ("ble", "bumble")


class SMPClient:
    """An SMP client over any `SMPTransport`, or over a connection string.

    `timeout` is per attempt and `retries` the extra attempts of a retriable request;
    `window` fixes the in-flight limit (default: adaptive from the device's buffers).
    """

    def __init__(
        self,
        transport_or_url: SMPTransport | str,
        address: str | None = None,
        *,
        timeout: float = 2.5,
        retries: int = 3,
        window: int | None = None,
        version: Version = Version.V2,
        connect_timeout: float = 5.0,
        params_timeout: float = 1.0,
        auto_reconnect: bool = True,
    ) -> None:
        if isinstance(transport_or_url, str):
            from smpkit.transport.url import open_url

            transport, url_address = open_url(transport_or_url)
            address = address or url_address
        else:
            transport = transport_or_url
        if address is None:
            raise ValueError("an address is needed with an explicit transport")
        self.transport = transport
        self.address = address
        self.timeout = timeout
        self.retries = retries
        self.version = version
        self.connect_timeout = connect_timeout
        self.params_timeout = params_timeout
        self.auto_reconnect = auto_reconnect
        self._fixed_window = window
        self._buf_size = DEFAULT_BUF_SIZE
        self._buf_count = DEFAULT_BUF_COUNT
        #: True once the device answered the MCUmgr parameters command.
        self.params_known = False
        self._window = Window(window or 1)
        self._dispatcher = Dispatcher(transport, version)
        self._reconnect_lock = asyncio.Lock()
        self._closing = False
        self.os = OSGroup(self)
        self.image = ImageGroup(self)
        self.stat = StatGroup(self)
        self.settings = SettingsGroup(self)
        self.fs = FSGroup(self)
        self.shell = ShellGroup(self)
        self.enum = EnumGroup(self)
        self.zephyr = ZephyrGroup(self)

    # -- lifecycle ----------------------------------------------------------------------

    async def __aenter__(self) -> SMPClient:
        await self.connect()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.disconnect()

    async def connect(self) -> None:
        """Open the link and learn the device's buffers (defaults when it does not say)."""
        self._closing = False
        await self.transport.connect(self.address, self.connect_timeout)
        self._dispatcher.start()
        await self._learn_params(require_answer=False)

    async def disconnect(self) -> None:
        self._closing = True
        await self._dispatcher.stop()
        await self.transport.disconnect()

    def upgrade(self, file: str | os.PathLike[str] | bytes, **options: Any) -> Operation[Any, Any]:
        """`smpkit.workflows.upgrade`: upload, test, reset, reconnect, verify, confirm.

        `await client.upgrade("app.signed.bin")`, or `async for step in client.upgrade(...)`.
        """
        from smpkit.workflows.upgrade import upgrade

        return upgrade(self, file, **options)

    async def reconnect(self, timeout_s: float = 30.0) -> None:
        """Wait for the device to come back (after a reset), re-reading its buffers; raise after `timeout_s`."""
        async with self._reconnect_lock:
            await self._reconnect(timeout_s)

    async def _reconnect(self, timeout_s: float) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        last: Exception | None = None
        while (remaining := deadline - loop.time()) > 0:
            await self._dispatcher.stop(SMPTransportDisconnected("reconnecting"))
            try:
                await self.transport.reconnect(self.address, remaining)
                self._dispatcher.start()
                await self._learn_params(require_answer=True, probe_timeout=min(self.params_timeout, remaining))
                self._closing = False
                return
            except (SMPTransportException, OSError) as exc:
                last = exc
                log.debug("device not back yet: %s", exc)
                await asyncio.sleep(min(0.1, max(0.0, deadline - loop.time())))
        await self._dispatcher.stop(SMPTransportDisconnected("reconnect failed"))
        raise SMPTransportDisconnected(f"the device did not come back within {timeout_s:.1f} s: {last}")

    async def _learn_params(self, *, require_answer: bool, probe_timeout: float | None = None) -> None:
        timeout = probe_timeout if probe_timeout is not None else self.params_timeout
        buf_size, buf_count, known = DEFAULT_BUF_SIZE, DEFAULT_BUF_COUNT, False
        try:
            params = await self.request(McumgrParams(), timeout=timeout, retries=1, _probe=True)
            buf_size, buf_count, known = params.buf_size, params.buf_count, True
        except (SMPResponseError, SMPDecodeError) as exc:  # rc 8 (MCUboot, old builds): the device is there
            log.debug("device does not report its buffers (%s); using defaults", exc)
        except SMPTransportTimeout:
            if require_answer:
                raise
            log.info("device did not answer the parameters request; using defaults")
        self._set_buffers(max(buf_size, HEADER_SIZE + 1), max(buf_count, 1), known)

    def _set_buffers(self, buf_size: int, buf_count: int, known: bool) -> None:
        self._buf_size, self._buf_count, self.params_known = buf_size, buf_count, known
        self.transport.set_device_buffer(buf_size)
        ble = self.transport.scheme in _BLE_SCHEMES
        floor = max(1, min(BLE_MIN_WINDOW, buf_count - 2)) if ble and known else 1
        self._window.minimum = min(floor, self._fixed_window or floor)
        if self._fixed_window is not None:
            self._window.reset(self._fixed_window)
        elif not known:
            self._window.reset(1)
        else:
            # Safe depth buf_count - 1 (one buffer is needed for the response); over UDP and
            # serial, retriable requests may probe one deeper. Over BLE a Zephyr 3.4 server
            # answers the 4th of 4 buffers with rc 2, so no probing there.
            safe = max(1, buf_count - 1)
            self._window.reset(safe, safe if ble else max(safe, buf_count))
        # Over UDP and serial a long link may take more than the buffers, paced (pacing.py); never over BLE.
        pacer = Pacer(self._window.safe, PACED_DEPTH_PER_BUFFER * buf_count)
        paced = known and not ble and self._fixed_window is None
        self._window.pacer = pacer if paced else None
        self._dispatcher.on_answer = pacer.on_answer if paced else None
        if ble:
            self._window.large_cap = BLE_LARGE_CAP
            self._window.large_threshold = int(self.max_request_size * BLE_LARGE_SHARE)
            self._window.loss_lowers_ceiling = True

    # -- sizes and window ---------------------------------------------------------------

    @property
    def buf_size(self) -> int:
        return self._buf_size

    @property
    def buf_count(self) -> int:
        return self._buf_count

    @property
    def max_request_size(self) -> int:
        """The largest SMP message (header included) the device and the link both take."""
        return min(self._buf_size - self.transport.framing_overhead, self.transport.max_packet_size)

    @property
    def window(self) -> Window:
        """The in-flight limit (`window.size`), shared by every task using this client."""
        return self._window

    @property
    def stats(self) -> Any:
        """Counters of the dispatcher (sent, matched, dropped, lost, timeouts)."""
        return self._dispatcher.stats

    # -- requests -----------------------------------------------------------------------

    async def request(
        self,
        request: Request[ResponseT],
        *,
        timeout: float | None = None,
        retries: int | None = None,
        deadline: float | None = None,
        _probe: bool = False,
    ) -> ResponseT:
        """Send `request` and return its typed response, or raise the typed error.

        `timeout` is per attempt; retriable requests are resent up to `retries` times
        within `deadline` seconds (default: every attempt's full timeout), counted from
        when the request first gets a place in the window.
        """
        policy = RetryPolicy(
            timeout if timeout is not None else self.timeout,
            retries if retries is not None else self.retries,
            deadline,
        )
        group, command, op = request.target()
        body = encode_request_body(request)
        size = HEADER_SIZE + len(body)
        if size > self.max_request_size and self.params_known and not _probe:
            log.debug("a %d-byte request exceeds the %d-byte limit; it may go unanswered", size, self.max_request_size)
        retriable = is_retriable(request)
        attempts: Attempts | None = None
        while True:
            ticket = await self._window.acquire(size, retriable)
            attempts = attempts or Attempts(policy)
            attempts.done += 1
            try:
                message = await self._attempt(int(op), group, command, body, attempts, ticket)
            except SMPTransportTimeout:
                if retriable and attempts.may_retry():
                    continue
                raise
            except SMPTransportDisconnected:
                if retriable and not _probe and attempts.may_retry() and await self._recover(attempts.remaining):
                    continue
                raise
            try:
                response = parse_response(request, message.body)
            except SMPResponseError as exc:
                if is_no_buffer(exc) and attempts.may_resend_unrun():
                    self._window.on_loss(ticket)
                    await asyncio.sleep(0.005 * attempts.unrun)
                    continue
                raise
            self._window.on_success()
            return response

    async def _attempt(
        self, op: int, group: int, command: int, body: bytes, attempts: Attempts, ticket: Ticket
    ) -> Message:
        try:
            return await self._dispatcher.exchange(op, group, command, body, attempts.next_timeout())
        except SMPTransportTimeout:
            self._window.on_loss(ticket)
            raise
        finally:
            await self._window.release(ticket)

    async def _recover(self, remaining: float) -> bool:
        """After the link dropped by itself, try to get it back within the operation's deadline."""
        if self._closing or not self.auto_reconnect or remaining <= 0:
            return False
        try:
            async with self._reconnect_lock:
                if not self._dispatcher.running:
                    await self._reconnect(remaining)
        except SMPTransportException:
            return False
        return True

    def __repr__(self) -> str:
        return (
            f"SMPClient({self.transport.scheme}://{self.address}, buf {self._buf_size}x{self._buf_count}, "
            f"window {self._window.size})"
        )
