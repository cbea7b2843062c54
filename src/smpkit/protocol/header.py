"""The 8-byte SMP header (sans I/O)."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import IntEnum

from smpkit.protocol.errors import SMPHeaderError

HEADER_SIZE = 8
_HEADER = struct.Struct(">BBHHBB")


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
        b0, flags, length, group, seq, command = _HEADER.unpack_from(data)
        return cls(b0 & 0x07, (b0 >> 3) & 0x03, flags, length, group, seq, command)

    def validate(self) -> Header:
        """Check ranges; raise `SMPHeaderError` on a header no SMP peer may send."""
        if not 0 <= self.op <= 3:
            raise SMPHeaderError(f"invalid op {self.op}")
        if not 0 <= self.version <= 3:
            raise SMPHeaderError(f"invalid version {self.version}")
        for name, value, limit in (
            ("flags", self.flags, 0xFF),
            ("length", self.length, 0xFFFF),
            ("group", self.group, 0xFFFF),
            ("sequence", self.sequence, 0xFF),
            ("command", self.command, 0xFF),
        ):
            if not 0 <= value <= limit:
                raise SMPHeaderError(f"{name} {value} out of range 0..{limit}")
        return self


def pack_header(op: int, version: int, length: int, group: int, seq: int, command: int) -> bytes:
    """Fast path used by the encoder: no dataclass allocation."""
    return _HEADER.pack((version << 3) | op, 0, length, group, seq, command)
