"""The 8-byte SMP header: packing, unpacking, validation."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smpkit.protocol import HEADER_SIZE, Header, Op, SMPHeaderError, Version
from smpkit.protocol.header import pack_header, unpack_header

FAST = settings(max_examples=200, deadline=None)

LIMITS = {"op": 7, "version": 3, "flags": 0xFF, "length": 0xFFFF, "group": 0xFFFF, "sequence": 0xFF, "command": 0xFF}

headers = st.builds(
    Header,
    op=st.integers(0, 3),
    version=st.integers(0, 3),
    flags=st.integers(0, 0xFF),
    length=st.integers(0, 0xFFFF),
    group=st.integers(0, 0xFFFF),
    sequence=st.integers(0, 0xFF),
    command=st.integers(0, 0xFF),
)


@FAST
@given(header=headers)
def test_pack_unpack_roundtrip(header: Header) -> None:
    raw = header.pack()
    assert len(raw) == HEADER_SIZE
    assert Header.unpack(raw) == header
    assert unpack_header(raw) == header
    assert Header.unpack(raw + b"body") == header
    assert header.validate() is header
    assert pack_header(header.op, header.version, header.length, header.group, header.sequence, header.command) == (
        raw if header.flags == 0 else raw[:1] + b"\x00" + raw[2:]
    )


@FAST
@given(raw=st.binary(min_size=8, max_size=8))
def test_unpack_any_8_bytes_ignores_reserved_bits(raw: bytes) -> None:
    header = Header.unpack(raw)
    assert header.op == raw[0] & 7
    assert header.version == (raw[0] >> 3) & 3
    repacked = header.pack()
    assert repacked[0] == raw[0] & 0x1F
    assert repacked[1:] == raw[1:]


def test_bit_layout() -> None:
    """Byte 0 is (version << 3) | op; all multi-byte fields are big-endian (reference §1)."""
    header = Header(op=Op.WRITE, version=Version.V2, flags=0, length=0x0102, group=0x0304, sequence=0x42, command=7)
    assert header.pack() == bytes([0x0A, 0x00, 0x01, 0x02, 0x03, 0x04, 0x42, 0x07])
    assert Header.unpack(bytes.fromhex("0800000100010100")) == Header(0, 1, 0, 1, 1, 1, 0)
    assert Op.READ.response is Op.READ_RSP and Op.WRITE.response is Op.WRITE_RSP
    assert Op.READ_RSP.is_response and not Op.WRITE.is_response


@FAST
@given(raw=st.binary(max_size=HEADER_SIZE - 1))
def test_short_data_is_a_header_error(raw: bytes) -> None:
    with pytest.raises(SMPHeaderError, match="8 bytes"):
        Header.unpack(raw)
    with pytest.raises(SMPHeaderError):
        unpack_header(raw)


@pytest.mark.parametrize("name", list(LIMITS))
@pytest.mark.parametrize("too_big", [True, False], ids=["over", "negative"])
def test_out_of_range_fields_are_header_errors(name: str, too_big: bool) -> None:
    base = Header(0, 1, 0, 0, 0, 0, 0)
    bad = dataclasses.replace(base, **{name: LIMITS[name] + 1 if too_big else -1})
    with pytest.raises(SMPHeaderError, match=name):
        bad.validate()
    with pytest.raises(SMPHeaderError, match=name):
        bad.pack()


@pytest.mark.parametrize("op", [4, 5, 7])
def test_ops_4_to_7_pack_but_do_not_validate(op: int) -> None:
    """Zephyr answers op 5 with rc 8 (observations §1), so the header must carry it."""
    header = Header(op, 1, 0, 0, 0, 0, 0)
    assert Header.unpack(header.pack()) == header
    with pytest.raises(SMPHeaderError, match="op"):
        header.validate()
