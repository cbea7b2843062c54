"""SMP over a serial console: framing lines, base64, length and CRC-16/XMODEM.

A frame is `06 09` + base64 + `\\n`, continued by `04 14` + base64 + `\\n` lines.
The base64 decodes to: u16 BE total length (message + 2), the SMP message, u16 BE CRC.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from smpkit.protocol.errors import SMPBadCRC, SMPFramingError

START = b"\x06\x09"
CONTINUE = b"\x04\x14"
#: Zephyr's UART receive buffer (CONFIG_UART_MCUMGR_RX_BUF_SIZE), newline included.
ZEPHYR_RX_LINE = 128
#: Raw bytes per line that keep a line at 127 bytes (124 base64 characters).
RAW_PER_LINE = 93


def crc16_xmodem(data: bytes | bytearray | memoryview, crc: int = 0) -> int:
    """CRC-16/XMODEM (poly 0x1021, init 0, no reflection); Zephyr calls it crc16_itu_t."""
    return binascii.crc_hqx(data, crc)


def frame_stream(message: bytes) -> bytes:
    """The decoded stream of one frame: length, message, CRC."""
    size = len(message) + 2
    crc = crc16_xmodem(message)
    return size.to_bytes(2, "big") + message + crc.to_bytes(2, "big")


def encode_frame(message: bytes, first_line: int = RAW_PER_LINE, next_lines: int = RAW_PER_LINE) -> bytes:
    """All the lines of one frame. Line sizes are raw bytes per line (multiples of 3 keep lines decodable alone)."""
    if first_line < 1 or next_lines < 1:
        raise ValueError(f"line sizes must be positive, got {first_line} and {next_lines}")
    stream = frame_stream(message)
    out = bytearray()
    pos, marker, step = 0, START, first_line
    while True:
        piece = stream[pos : pos + step]
        out += marker
        out += binascii.b2a_base64(piece, newline=False)
        out += b"\n"
        pos += step
        if pos >= len(stream):
            return bytes(out)
        marker, step = CONTINUE, next_lines


def max_message_size_for_line_budget(buf_size: int) -> int:
    """Largest SMP message a device with `buf_size` net-buffers takes over console framing."""
    return buf_size - 4


@dataclass(frozen=True, slots=True)
class ConsoleText:
    """A line of ordinary console output (not SMP), newline stripped."""

    text: bytes


@dataclass(frozen=True, slots=True)
class Frame:
    """A whole SMP message decoded from console framing."""

    message: bytes


@dataclass(frozen=True, slots=True)
class FrameError:
    """A frame that was dropped, with the typed reason."""

    error: SMPFramingError


FrameEvent = ConsoleText | Frame | FrameError


class FrameDecoder:
    """Incremental decoder: bytes in any chunking -> frames, console text and errors.

    `strict` mimics Zephyr's receiver: a marker must start the line and a line
    longer than `max_line` is dropped. The lenient default (for clients) also
    finds a marker after text on the same line.
    """

    def __init__(self, *, max_line: int | None = None, strict: bool = False) -> None:
        self.max_line = max_line
        self.strict = strict
        self._line = bytearray()
        self._overlong = False
        self._stream: bytearray | None = None
        self._carry = b""

    @property
    def in_frame(self) -> bool:
        return self._stream is not None

    def reset(self) -> None:
        self._line.clear()
        self._overlong = False
        self._stream = None
        self._carry = b""

    def feed(self, data: bytes | bytearray | memoryview) -> list[FrameEvent]:
        events: list[FrameEvent] = []
        view = bytes(data)
        start = 0
        while True:
            newline = view.find(b"\n", start)
            if newline < 0:
                self._append(view[start:])
                return events
            self._append(view[start:newline])
            line, overlong = bytes(self._line), self._overlong
            self._line.clear()
            self._overlong = False
            self._handle_line(line, overlong, events)
            start = newline + 1

    def _append(self, chunk: bytes) -> None:
        if self.max_line is not None and len(self._line) + len(chunk) + 1 > self.max_line:
            self._overlong = True
            self._line.clear()
            return
        self._line += chunk

    def _handle_line(self, line: bytes, overlong: bool, events: list[FrameEvent]) -> None:
        if line.endswith(b"\r"):
            line = line[:-1]
        if overlong:
            if self._stream is not None:
                self._drop(events, SMPFramingError("line longer than the receive buffer"))
            return
        cuts = _marker_positions(line) if not self.strict else [0] if line.startswith((START, CONTINUE)) else []
        if not cuts:
            if line or self._stream is None:
                events.append(ConsoleText(line))
            return
        if cuts[0] > 0:
            events.append(ConsoleText(line[: cuts[0]]))
        # Lenient mode: every marker starts a segment, so lines merged by a lost newline still decode.
        for begin, end in zip(cuts, [*cuts[1:], len(line)], strict=True):
            self._handle_segment(line[begin:end], events)

    def _handle_segment(self, segment: bytes, events: list[FrameEvent]) -> None:
        """`segment` starts with a marker and runs to the next marker or the end of the line."""
        if segment.startswith(START):
            if self._stream is not None:
                self._drop(events, SMPFramingError("a new frame started before the previous one ended"))
            self._stream = bytearray()
            self._carry = b""
            self._add_text(segment[2:], events)
        elif self._stream is not None:
            self._add_text(segment[2:], events)
        else:
            events.append(FrameError(SMPFramingError("continuation line without a start line")))

    def _add_text(self, text: bytes, events: list[FrameEvent]) -> None:
        assert self._stream is not None
        text = self._carry + text
        usable = len(text) - len(text) % 4
        self._carry = text[usable:]
        try:
            self._stream += base64.b64decode(text[:usable], validate=True)
        except (binascii.Error, ValueError) as exc:
            self._drop(events, SMPFramingError(f"invalid base64: {exc}"))
            return
        self._check_complete(events)

    def _check_complete(self, events: list[FrameEvent]) -> None:
        stream = self._stream
        assert stream is not None
        if len(stream) < 2:
            return
        total = (stream[0] << 8) | stream[1]
        have = len(stream) - 2
        if have < total:
            return
        if have > total or self._carry:
            self._drop(events, SMPFramingError(f"frame carries {have} bytes but declares {total}"))
            return
        if total < 2:
            self._drop(events, SMPFramingError("frame too short to hold a CRC"))
            return
        body = bytes(stream[2:])
        if crc16_xmodem(body) != 0:
            self._drop(events, SMPBadCRC(f"bad CRC over a {total}-byte frame"))
            return
        self._stream = None
        events.append(Frame(body[:-2]))

    def _drop(self, events: list[FrameEvent], error: SMPFramingError) -> None:
        self._stream = None
        self._carry = b""
        events.append(FrameError(error))


def _marker_positions(line: bytes) -> list[int]:
    positions = []
    for marker in (START, CONTINUE):
        at = line.find(marker)
        while at >= 0:
            positions.append(at)
            at = line.find(marker, at + 2)
    return sorted(positions)
