"""The 8-byte SMP header (sans I/O)."""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum
from typing import Any, TypeVar

from smpkit.protocol.errors import SMPHeaderError

HEADER_SIZE = 8
_HEADER = struct.Struct(">BBHHBB")
T = TypeVar("T")


class Op(IntEnum):
    """The header's operation field."""

    READ = 0
    READ_RSP = 1
    WRITE = 2
    WRITE_RSP = 3

    @property
    def is_response(self) -> bool:
        return self in (Op.READ_RSP, Op.WRITE_RSP)

    @property
    def response(self) -> Op:
        """The op a server answers this request op with (Zephyr: READ_RSP only for READ)."""
        return Op.READ_RSP if self is Op.READ else Op.WRITE_RSP


class Version(IntEnum):
    """SMP protocol version carried in bits 4..3 of byte 0."""

    V1 = 0
    V2 = 1


@dataclass(frozen=True, slots=True)
class Header:
    """An SMP message header. `length` counts the CBOR body only."""

    op: int
    version: int
    flags: int
    length: int
    group: int
    sequence: int
    command: int

    def pack(self) -> bytes:
        """The 8 header bytes; `SMPHeaderError` if a field does not fit its bits.

        Op 4..7 and version 2..3 fit and are packed (tests and fault injection send them);
        `validate()` is the check for what a peer may legitimately send.
        """
        self._check_widths()
        return _HEADER.pack(
            (self.version << 3) | self.op,
            self.flags,
            self.length,
            self.group,
            self.sequence,
            self.command,
        )

    @classmethod
    def unpack(cls, data: bytes | bytearray | memoryview) -> Header:
        """Parse the first 8 bytes of `data`; reserved bits of byte 0 are ignored."""
        if len(data) < HEADER_SIZE:
            raise SMPHeaderError(f"an SMP header needs {HEADER_SIZE} bytes, got {len(data)}")
        if cls is Header:
            return unpack_header(data)
        b0, flags, length, group, seq, command = _HEADER.unpack_from(data)
        return cls(b0 & 0x07, (b0 >> 3) & 0x03, flags, length, group, seq, command)

    def validate(self) -> Header:
        """Check ranges; raise `SMPHeaderError` on a header no SMP peer may send."""
        if not 0 <= self.op <= 3:
            raise SMPHeaderError(f"invalid op {self.op}")
        self._check_widths()
        return self

    def _check_widths(self) -> None:
        for name, value, limit in (
            ("op", self.op, 0x07),
            ("version", self.version, 0x03),
            ("flags", self.flags, 0xFF),
            ("length", self.length, 0xFFFF),
            ("group", self.group, 0xFFFF),
            ("sequence", self.sequence, 0xFF),
            ("command", self.command, 0xFF),
        ):
            if not isinstance(value, int) or not 0 <= value <= limit:
                raise SMPHeaderError(f"{name} {value!r} out of range 0..{limit}")


def slot_setter(cls: type[T], name: str) -> Callable[[T, Any], None]:
    """The raw slot setter of a frozen slots dataclass field (bypasses the frozen check)."""
    setter: Callable[[T, Any], None] = cls.__dict__[name].__set__
    return setter


_new = object.__new__
_set_op = slot_setter(Header, "op")
_set_version = slot_setter(Header, "version")
_set_flags = slot_setter(Header, "flags")
_set_length = slot_setter(Header, "length")
_set_group = slot_setter(Header, "group")
_set_sequence = slot_setter(Header, "sequence")
_set_command = slot_setter(Header, "command")


def unpack_header(data: bytes | bytearray | memoryview) -> Header:
    """`Header.unpack` for the hot path (every received message)."""
    if len(data) < HEADER_SIZE:
        raise SMPHeaderError(f"an SMP header needs {HEADER_SIZE} bytes, got {len(data)}")
    b0, flags, length, group, seq, command = _HEADER.unpack_from(data)
    # Fill the slots directly, skipping the frozen dataclass __init__ (one object.__setattr__ per field).
    header = _new(Header)
    _set_op(header, b0 & 0x07)
    _set_version(header, (b0 >> 3) & 0x03)
    _set_flags(header, flags)
    _set_length(header, length)
    _set_group(header, group)
    _set_sequence(header, seq)
    _set_command(header, command)
    return header


def pack_header(op: int, version: int, length: int, group: int, seq: int, command: int) -> bytes:
    """Fast path used by the encoder: no dataclass allocation."""
    return _HEADER.pack((version << 3) | op, 0, length, group, seq, command)
