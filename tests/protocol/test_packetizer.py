"""The stream packetizer: whole SMP messages out of bytes cut anywhere."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smpkit.protocol import Header, Packetizer, SMPProtocolError, encode_request
from smpkit.protocol.groups.os import Echo

FAST = settings(max_examples=100, deadline=None)


@st.composite
def messages(draw: st.DrawFn, max_body: int = 300) -> bytes:
    body = draw(st.binary(max_size=max_body))
    header = Header(
        op=draw(st.integers(0, 3)),
        version=draw(st.integers(0, 1)),
        flags=0,
        length=len(body),
        group=draw(st.integers(0, 0xFFFF)),
        sequence=draw(st.integers(0, 255)),
        command=draw(st.integers(0, 255)),
    )
    return header.pack() + body


@st.composite
def splits(draw: st.DrawFn, data: bytes) -> list[bytes]:
    cuts = sorted(draw(st.lists(st.integers(0, len(data)), max_size=12)))
    bounds = [0, *cuts, len(data)]
    return [data[a:b] for a, b in itertools.pairwise(bounds)]


@FAST
@given(data=st.data(), msgs=st.lists(messages(), min_size=1, max_size=6))
def test_any_split_of_back_to_back_messages(data: st.DataObject, msgs: list[bytes]) -> None:
    stream = b"".join(msgs)
    packetizer = Packetizer()
    out: list[bytes] = []
    for piece in data.draw(splits(stream)):
        out += packetizer.feed(piece)
    assert out == msgs
    assert packetizer.pending == 0 and not packetizer.in_message


@FAST
@given(msgs=st.lists(messages(max_body=40), min_size=2, max_size=5))
def test_several_messages_in_one_feed(msgs: list[bytes]) -> None:
    assert Packetizer().feed(b"".join(msgs)) == msgs


@FAST
@given(msg=messages(), data=st.data())
def test_partial_message_is_held(msg: bytes, data: st.DataObject) -> None:
    cut = data.draw(st.integers(0, len(msg) - 1))
    packetizer = Packetizer()
    assert packetizer.feed(msg[:cut]) == []
    assert packetizer.pending == cut and packetizer.in_message == (cut > 0)
    assert packetizer.feed(memoryview(msg)[cut:]) == [msg]
    packetizer.feed(msg[:cut])
    packetizer.reset()
    assert packetizer.pending == 0
    assert packetizer.feed(msg) == [msg]


@FAST
@given(limit=st.integers(8, 400), msgs=st.lists(messages(max_body=400), min_size=1, max_size=4))
def test_max_message_size(limit: int, msgs: list[bytes]) -> None:
    """Messages up to the limit pass; the first longer header raises, after the good ones before it."""
    packetizer = Packetizer(max_message_size=limit)
    good = []
    for msg in msgs:
        if len(msg) > limit:
            break
        good.append(msg)
    stream = b"".join(msgs)
    if len(good) == len(msgs):
        assert packetizer.feed(stream) == msgs
        return
    if good:
        assert packetizer.feed(stream) == good  # nothing before the bad header is lost
        stream = b""  # the bad header is still first in the buffer: the next feed raises
    with pytest.raises(SMPProtocolError, match="limit"):
        packetizer.feed(stream)
    assert packetizer.pending == 0  # the stream lost its place: the buffer was dropped
    empty = Header(0, 1, 0, 0, 0, 7, 0).pack()  # 8 bytes: fits every limit tried
    assert packetizer.feed(empty) == [empty]


def test_echo_in_notification_sized_pieces() -> None:
    echo = encode_request(Echo(d="L" * 1000), 3)
    packetizer = Packetizer()
    out = [m for i in range(0, len(echo), 20) for m in packetizer.feed(echo[i : i + 20])]
    assert out == [echo]


def test_oversized_header_alone_raises_at_once() -> None:
    packetizer = Packetizer(max_message_size=100)
    with pytest.raises(SMPProtocolError):
        packetizer.feed(Header(2, 1, 0, 200, 0, 0, 0).pack())
    assert packetizer.pending == 0
