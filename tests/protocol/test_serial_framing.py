"""Serial console framing: encoder, incremental decoder, console text, corruption and resync."""

from __future__ import annotations

import base64
import itertools
from collections.abc import Iterable

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from smp import packet as smp_packet

from smpkit.protocol import SMPBadCRC, SMPFramingError
from smpkit.protocol.serial_framing import (
    CONTINUE,
    RAW_PER_LINE,
    START,
    ConsoleText,
    Frame,
    FrameDecoder,
    FrameError,
    FrameEvent,
    crc16_xmodem,
    encode_frame,
    frame_stream,
)

FAST = settings(max_examples=100, deadline=None)

smp_messages = st.binary(min_size=8, max_size=400)
line_sizes = st.integers(1, 120)
#: Console output: no newline, no framing marker, no CR (a CR would be taken for a CRLF ending).
console_lines = st.binary(min_size=1, max_size=40).filter(
    lambda b: b"\n" not in b and b"\r" not in b and START not in b and CONTINUE not in b and b"\x04" not in b
)


def feed_chunked(decoder: FrameDecoder, data: bytes, cuts: Iterable[int]) -> list[FrameEvent]:
    bounds = [0, *sorted(cuts), len(data)]
    events: list[FrameEvent] = []
    for a, b in itertools.pairwise(bounds):
        events += decoder.feed(data[a:b])
    return events


def lines_of(wire: bytes) -> list[bytes]:
    return [line + b"\n" for line in wire.split(b"\n")[:-1]]


def frames(events: list[FrameEvent]) -> list[bytes]:
    return [e.message for e in events if isinstance(e, Frame)]


def errors(events: list[FrameEvent]) -> list[SMPFramingError]:
    return [e.error for e in events if isinstance(e, FrameError)]


def texts(events: list[FrameEvent]) -> list[bytes]:
    return [e.text for e in events if isinstance(e, ConsoleText) and e.text]


@FAST
@given(msg=smp_messages, first=line_sizes, rest=line_sizes, data=st.data(), crlf=st.booleans())
def test_roundtrip_any_line_sizes_any_chunking(
    msg: bytes, first: int, rest: int, data: st.DataObject, crlf: bool
) -> None:
    wire = encode_frame(msg, first, rest)
    if crlf:
        wire = wire.replace(b"\n", b"\r\n")
    cuts = data.draw(st.lists(st.integers(0, len(wire)), max_size=15))
    events = feed_chunked(FrameDecoder(), wire, cuts)
    assert events == [Frame(msg)]


@FAST
@given(msg=smp_messages)
def test_default_lines_fit_zephyrs_receive_buffer(msg: bytes) -> None:
    wire = encode_frame(msg)
    assert all(len(line) <= 127 for line in lines_of(wire))
    assert lines_of(wire)[0].startswith(START)
    assert all(line.startswith(CONTINUE) for line in lines_of(wire)[1:])
    stream = b"".join(base64.b64decode(line[2:-1]) for line in lines_of(wire))  # each line decodes alone
    assert stream == frame_stream(msg)
    assert FrameDecoder(max_line=128, strict=True).feed(wire) == [Frame(msg)]


@FAST
@given(
    data=st.data(),
    msgs=st.lists(smp_messages, min_size=1, max_size=4),
    crlf=st.booleans(),
    strict=st.booleans(),
)
def test_console_text_between_frames_and_between_lines(
    data: st.DataObject, msgs: list[bytes], crlf: bool, strict: bool
) -> None:
    """Zephyr ignores plain text lines before a frame and between its lines (observations §7)."""
    wire = b""
    sent_text: list[bytes] = []
    for msg in msgs:
        for line in lines_of(encode_frame(msg, 30, 60)):
            for text in data.draw(st.lists(console_lines, max_size=2)):
                wire += text + b"\n"
                sent_text.append(text)
            wire += line
    trailing = data.draw(st.lists(console_lines, max_size=2))
    wire += b"".join(t + b"\n" for t in trailing)
    sent_text += trailing
    if crlf:
        wire = wire.replace(b"\n", b"\r\n")
    cuts = data.draw(st.lists(st.integers(0, len(wire)), max_size=10))
    events = feed_chunked(FrameDecoder(strict=strict), wire, cuts)
    assert frames(events) == msgs
    assert texts(events) == sent_text
    assert errors(events) == []


def test_text_before_marker_on_the_same_line() -> None:
    """Lenient (client) mode splits the text off; strict mode drops the frame like Zephyr does."""
    msg = bytes.fromhex("0b00000a00004200bf61726568656c6c6fff")
    wire = b"uart:~$ " + encode_frame(msg)
    assert FrameDecoder().feed(wire) == [ConsoleText(b"uart:~$ "), Frame(msg)]
    assert FrameDecoder(strict=True).feed(wire) == [ConsoleText(wire[:-1])]


@st.composite
def corrupted_payload(draw: st.DrawFn) -> tuple[bytes, bytes, bytes]:
    """A frame with one base64 character of its payload replaced, and a good frame after it."""
    msg = draw(smp_messages)
    wire = bytearray(encode_frame(msg, 30, 30))
    payload = [i for i, line_start in _payload_positions(bytes(wire))]
    pos = draw(st.sampled_from(payload))
    new = draw(st.integers(0, 255).filter(lambda b: b != wire[pos]))
    wire[pos] = new
    good = draw(smp_messages)
    return msg, bytes(wire), good


def _payload_positions(wire: bytes) -> list[tuple[int, int]]:
    positions = []
    start = 0
    for line in wire.split(b"\n")[:-1]:
        positions += [(start + i, start) for i in range(2, len(line))]
        start += len(line) + 1
    return positions


@FAST
@given(case=corrupted_payload(), data=st.data())
def test_corrupted_payload_is_reported_and_the_next_frame_decodes(
    case: tuple[bytes, bytes, bytes], data: st.DataObject
) -> None:
    msg, bad_wire, good = case
    wire = bad_wire + encode_frame(good)
    cuts = data.draw(st.lists(st.integers(0, len(wire)), max_size=8))
    events = feed_chunked(FrameDecoder(), wire, cuts)
    got = frames(events)
    assert got[-1:] == [good]  # resynchronised
    assert set(got[:-1]) <= {msg}  # never a frame with wrong contents
    if msg not in got[:-1]:  # base64's spare bits can hide a change; otherwise it is reported
        assert errors(events), events
        assert all(isinstance(e, SMPFramingError) for e in errors(events))


@FAST
@given(msg=smp_messages, good=smp_messages, data=st.data())
def test_any_corrupted_byte_never_yields_a_wrong_frame(msg: bytes, good: bytes, data: st.DataObject) -> None:
    """Markers, newlines, anything: the decoder recovers for the next frame."""
    wire = bytearray(encode_frame(msg, 30, 45))
    pos = data.draw(st.integers(0, len(wire) - 1))
    wire[pos] = data.draw(st.integers(0, 255).filter(lambda b: b != wire[pos]))
    events = FrameDecoder().feed(bytes(wire) + encode_frame(good))
    got = frames(events)
    assert got[-1:] == [good]
    assert set(got[:-1]) <= {msg}


def test_bad_crc_is_typed() -> None:
    msg = bytes.fromhex("0a00000900004200a161646568656c6c6f")
    stream = bytearray(frame_stream(msg))
    stream[-1] ^= 0x01
    wire = START + base64.b64encode(bytes(stream)) + b"\n"
    events = FrameDecoder().feed(wire + encode_frame(msg))
    assert isinstance(events[0], FrameError) and isinstance(events[0].error, SMPBadCRC)
    assert events[1:] == [Frame(msg)]


@pytest.mark.parametrize(
    ("wire", "reason"),
    [
        (START + b"AB!D\n", "base64"),
        (START + base64.b64encode(b"\x00\x02abc") + b"\n", "declares"),  # more bytes than declared
        (START + base64.b64encode(b"\x00\x01\x00") + b"\n", "short"),
        (CONTINUE + b"AAAA\n", "without a start"),
    ],
)
def test_framing_errors_then_resync(wire: bytes, reason: str) -> None:
    msg = bytes.fromhex("0800000100000206a0")
    events = FrameDecoder().feed(wire + encode_frame(msg))
    assert len(errors(events)) == 1 and reason in str(errors(events)[0])
    assert frames(events) == [msg]


def test_new_start_drops_a_half_frame() -> None:
    """observations §7: `serial_partial_then_new`."""
    first = lines_of(encode_frame(bytes(200), 30, 30))[0]
    msg = bytes.fromhex("0800000100000206a0")
    events = FrameDecoder().feed(first + encode_frame(msg))
    assert "before the previous one ended" in str(errors(events)[0])
    assert frames(events) == [msg]


def test_overlong_line_is_dropped_with_its_frame() -> None:
    msg = bytes(300)
    wire = encode_frame(msg, 93, 96)  # continuation lines: 128 base64 chars + marker + newline = 131 bytes
    events = FrameDecoder(max_line=128).feed(wire + encode_frame(msg))
    assert errors(events) and "longer" in str(errors(events)[0])
    assert frames(events) == [msg]
    assert FrameDecoder(max_line=131).feed(wire) == [Frame(msg)]


def test_encoder_rejects_empty_lines() -> None:
    with pytest.raises(ValueError):
        encode_frame(b"x", 0, 3)


def test_crc16_xmodem_check_value() -> None:
    assert crc16_xmodem(b"123456789") == 0x31C3
    assert RAW_PER_LINE == 93


@FAST
@given(msg=smp_messages, line_length=st.integers(8, 200))
def test_smp_package_encoding_decodes(msg: bytes, line_length: int) -> None:
    """The PyPI `smp` package cuts the base64 text every (line_length - 4) // 4 * 4 characters."""
    assume((line_length - 4) // 4 > 0)
    wire = b"".join(smp_packet.encode(msg, line_length))
    assert FrameDecoder().feed(wire) == [Frame(msg)]


@FAST
@given(msg=smp_messages, first=st.integers(1, 40).map(lambda n: 3 * n), rest=st.integers(1, 40).map(lambda n: 3 * n))
def test_smp_package_decodes_our_encoding(msg: bytes, first: int, rest: int) -> None:
    decoder = smp_packet.decode()
    next(decoder)
    with pytest.raises(StopIteration) as stop:
        for line in lines_of(encode_frame(msg, first, rest)):
            decoder.send(line)
    assert stop.value.value == msg
