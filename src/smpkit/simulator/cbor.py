"""CBOR encoding as Zephyr's zcbor does it for responses: every map and array indefinite.

Zephyr builds use zcbor's non-canonical mode, so a response map is `bf ... ff` and
nested maps and arrays are indefinite too (`9f ... ff`). Integers, strings and byte
strings use the shortest definite form.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from typing import Any

_BREAK = b"\xff"


def _head(major: int, value: int) -> bytes:
    mt = major << 5
    if value < 24:
        return bytes((mt | value,))
    if value < 0x100:
        return bytes((mt | 24, value))
    if value < 0x10000:
        return bytes((mt | 25,)) + value.to_bytes(2, "big")
    if value < 0x100000000:
        return bytes((mt | 26,)) + value.to_bytes(4, "big")
    return bytes((mt | 27,)) + value.to_bytes(8, "big")


def _encode(value: Any, out: bytearray) -> None:
    if value is True:
        out += b"\xf5"
    elif value is False:
        out += b"\xf4"
    elif value is None:
        out += b"\xf6"
    elif isinstance(value, int):
        out += _head(0, value) if value >= 0 else _head(1, -1 - value)
    elif isinstance(value, str):
        raw = value.encode()
        out += _head(3, len(raw))
        out += raw
    elif isinstance(value, (bytes, bytearray, memoryview)):
        out += _head(2, len(value))
        out += value
    elif isinstance(value, Mapping):
        out += b"\xbf"
        for key, item in value.items():
            _encode(key, out)
            _encode(item, out)
        out += _BREAK
    elif isinstance(value, (list, tuple)):
        out += b"\x9f"
        for item in value:
            _encode(item, out)
        out += _BREAK
    elif isinstance(value, float):
        out += b"\xfb" + struct.pack(">d", value)
    else:
        raise TypeError(f"cannot encode {type(value).__name__} as CBOR")


def encode_indefinite(value: Any) -> bytes:
    """`value` as Zephyr would encode it (maps and arrays indefinite-length)."""
    out = bytearray()
    _encode(value, out)
    return bytes(out)
