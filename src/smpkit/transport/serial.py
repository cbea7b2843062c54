"""SMP over a serial port: console framing (base64 lines with markers) or raw UART.

Reading uses `loop.add_reader` on the port's file descriptor (POSIX) or a reader
thread elsewhere. Console output that is not SMP goes to `console_lines` (and the
optional `on_console_line` callback) instead of being mistaken for responses.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
from collections.abc import Callable
from typing import Any

from smpkit.protocol.errors import SMPProtocolError
from smpkit.protocol.packetizer import Packetizer
from smpkit.protocol.serial_framing import RAW_PER_LINE, ConsoleText, Frame, FrameDecoder, FrameError, encode_frame
from smpkit.transport.base import SMPTransport
from smpkit.transport.errors import SMPDeviceNotFound, SMPTransportDisconnected, SMPTransportException

log = logging.getLogger(__name__)

#: Gap after each console line, once it has left the port. Zephyr's UART receiver has
#: two line buffers (CONFIG_UART_MCUMGR_RX_BUF_COUNT) and no flow control: a short pause
#: lets it hand a line to its work queue before the next one lands.
DEFAULT_LINE_DELAY_MS = 1.0
#: Console framing carries at most 0xFFFF bytes after the length field, CRC included.
_CONSOLE_MAX_MESSAGE = 0xFFFF - 2
_RAW_MAX_MESSAGE = 8 + 0xFFFF
_CLOSED = b""
_TEXT_CONTROLS = frozenset(b"\t\r\x1b\x07\x08")


def _is_noise(line: bytes) -> bool:
    """Console text is printable UTF-8; anything else (wrong baud rate, raw SMP) is noise."""
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return any(ord(c) < 0x20 and ord(c) not in _TEXT_CONTROLS for c in text)


class SMPSerialTransport(SMPTransport):
    """A serial port (`/dev/ttyACM0`, `COM3`, a pty).

    `raw=True` speaks raw SMP (CONFIG_MCUMGR_TRANSPORT_RAW_UART) instead of console
    framing. `line_delay_ms` paces console lines for UARTs without flow control
    (0 turns pacing off). `line_bytes` is raw bytes per line (93 keeps lines at the
    127 bytes Zephyr's 128-byte receive buffer takes).
    """

    scheme = "serial"

    def __init__(
        self,
        baudrate: int = 115200,
        *,
        raw: bool = False,
        line_delay_ms: float = DEFAULT_LINE_DELAY_MS,
        line_bytes: int = RAW_PER_LINE,
        console_queue_size: int = 1000,
        on_console_line: Callable[[str], None] | None = None,
        rtscts: bool = False,
    ) -> None:
        if line_bytes % 3 or line_bytes <= 0:
            raise ValueError("line_bytes must be a positive multiple of 3 (each line's base64 stands alone)")
        self.baudrate = baudrate
        self.raw = raw
        self.line_delay_ms = line_delay_ms
        self.line_bytes = line_bytes
        self.rtscts = rtscts
        self.framing_overhead = 0 if raw else 4
        self.on_console_line = on_console_line
        #: Ordinary console output of the device, one decoded line per item (oldest dropped when full).
        self.console_lines: asyncio.Queue[str] = asyncio.Queue(console_queue_size)
        self._port: Any = None
        self._queue: asyncio.Queue[bytes] = asyncio.Queue()
        self._decoder = FrameDecoder()
        self._packetizer = Packetizer(_RAW_MAX_MESSAGE)
        self._noise = 0
        self._write_lock = asyncio.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._reader_fd: int | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self.port_name: str | None = None

    # -- link ---------------------------------------------------------------------------

    async def connect(self, address: str, timeout_s: float) -> None:
        """Open the port, waiting up to `timeout_s` for it to appear (USB re-enumeration)."""
        await self.disconnect()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while True:
            try:
                port = await asyncio.to_thread(self._open, address)
                break
            except SMPDeviceNotFound:
                if loop.time() >= deadline:
                    raise
                await asyncio.sleep(0.05)
        self._port, self._loop, self.port_name = port, loop, address
        self._queue = asyncio.Queue()
        self._decoder.reset()
        self._packetizer.reset()
        self._start_reader(port)
        log.debug("serial port %s open (%s)", address, "raw" if self.raw else "console framing")

    def _open(self, address: str) -> Any:
        import serial

        try:
            port = serial.Serial(address, self.baudrate, timeout=0, write_timeout=None, rtscts=self.rtscts)
        except (serial.SerialException, OSError) as exc:
            raise SMPDeviceNotFound(f"cannot open serial port {address}: {exc}") from exc
        with contextlib.suppress(Exception):
            port.reset_input_buffer()
        return port

    def _start_reader(self, port: Any) -> None:
        assert self._loop is not None
        fileno = getattr(port, "fileno", None)
        if os.name == "posix" and fileno is not None:
            self._reader_fd = fileno()
            self._loop.add_reader(self._reader_fd, self._on_readable)
            return
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._thread_reader, args=(port, self._loop), daemon=True)
        self._thread.start()

    def _on_readable(self) -> None:
        assert self._reader_fd is not None
        try:
            data = os.read(self._reader_fd, 65536)
        except BlockingIOError:
            return
        except OSError as exc:  # EIO: the device went away (pty closed, USB unplugged)
            log.debug("serial read failed: %s", exc)
            data = b""
        if not data:
            self._lost()
            return
        self._feed(data)

    def _thread_reader(self, port: Any, loop: asyncio.AbstractEventLoop) -> None:
        while not self._stop.is_set():
            try:
                data = port.read(max(1, port.in_waiting))
            except Exception as exc:
                log.debug("serial read failed: %s", exc)
                loop.call_soon_threadsafe(self._lost)
                return
            if data:
                loop.call_soon_threadsafe(self._feed, data)

    def _stop_reader(self) -> None:
        if self._reader_fd is not None and self._loop is not None:
            self._loop.remove_reader(self._reader_fd)
        self._reader_fd = None
        self._stop.set()
        self._thread = None

    def _lost(self) -> None:
        self._stop_reader()
        port, self._port = self._port, None
        if port is not None:
            with contextlib.suppress(Exception):
                port.close()
        self._queue.put_nowait(_CLOSED)

    async def disconnect(self) -> None:
        self._stop_reader()
        port, self._port = self._port, None
        if port is not None:
            with contextlib.suppress(Exception):
                await asyncio.to_thread(port.close)

    # -- receiving ----------------------------------------------------------------------

    def _feed(self, data: bytes) -> None:
        if self.raw:
            self._feed_raw(data)
            return
        for event in self._decoder.feed(data):
            if isinstance(event, Frame):
                self._queue.put_nowait(event.message)
            elif isinstance(event, ConsoleText):
                self._console(event.text)
            elif isinstance(event, FrameError):
                self._noise += 1
                log.debug("dropped a serial frame: %s", event.error)

    def _feed_raw(self, data: bytes) -> None:
        try:
            messages = self._packetizer.feed(data)
        except SMPProtocolError as exc:
            self._noise += len(data)
            log.debug("raw serial stream lost its place: %s", exc)
            return
        for message in messages:
            self._queue.put_nowait(message)

    def _console(self, line: bytes) -> None:
        if _is_noise(line):
            self._noise += len(line) or 1
            log.debug("serial noise: %r", line[:40])
            return
        text = line.decode("utf-8")
        if self.console_lines.full():
            self.console_lines.get_nowait()
        self.console_lines.put_nowait(text)
        if self.on_console_line is not None:
            self.on_console_line(text)

    async def receive(self) -> bytes:
        if self._port is None and self._queue.empty():
            raise SMPTransportDisconnected("serial port is not open")
        data = await self._queue.get()
        if not data:
            raise SMPTransportDisconnected("serial port closed (device reset or unplugged?)")
        return data

    # -- sending ------------------------------------------------------------------------

    async def send(self, data: bytes) -> None:
        async with self._write_lock:
            if self.raw:
                await self._write(data)
                return
            frame = encode_frame(data, self.line_bytes, self.line_bytes)
            lines = frame.splitlines(keepends=True)
            for line in lines:
                await self._write(line)
                await self._pace()

    async def _write(self, data: bytes) -> None:
        port = self._port
        if port is None:
            raise SMPTransportDisconnected("serial port is not open")
        try:
            written = port.write(data)
        except Exception as exc:
            self._lost()
            raise SMPTransportDisconnected(f"serial write failed: {exc}") from exc
        if written is not None and written < len(data):
            await asyncio.to_thread(port.write, data[written:])

    async def _pace(self) -> None:
        if self.line_delay_ms <= 0 or self._port is None:
            return
        port = self._port
        # Wait until the line has left the port, so the gap exists on the wire too.
        with contextlib.suppress(Exception):
            await asyncio.to_thread(port.flush)
        await asyncio.sleep(self.line_delay_ms / 1000)

    # -- sizes --------------------------------------------------------------------------

    @property
    def mtu(self) -> int:
        return _RAW_MAX_MESSAGE if self.raw else _CONSOLE_MAX_MESSAGE

    @property
    def is_connected(self) -> bool:
        return self._port is not None

    @property
    def noise(self) -> int:
        return self._noise

    async def reconnect(self, address: str, timeout_s: float) -> None:
        await self.disconnect()
        try:
            await self.connect(address, timeout_s)
        except SMPTransportException as exc:
            raise SMPTransportDisconnected(f"{address} did not come back within {timeout_s:.1f} s: {exc}") from exc
