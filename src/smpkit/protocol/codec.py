"""Turning models into SMP messages and SMP messages back into models or errors."""

from __future__ import annotations

import struct
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeGuard

import cbor2

from smpkit.protocol.errors import SMPDecodeError, SMPGroupError, SMPHeaderError, SMPMgmtError, SMPResponseError
from smpkit.protocol.header import HEADER_SIZE, Header, Version, pack_header, slot_setter, unpack_header
from smpkit.protocol.model import Request, ResponseT

_EMPTY_MAP = b"\xa0"


def encode_body(body: Mapping[str, Any]) -> bytes:
    """Definite-length CBOR of a request map (an empty map is still sent)."""
    return cbor2.dumps(body) if body else _EMPTY_MAP


def decode_body(data: bytes | bytearray | memoryview) -> dict[str, Any]:
    """Decode a CBOR map (definite or indefinite). An empty body reads as `{}`."""
    if not data:
        return {}
    try:
        value = cbor2.loads(data)
    except Exception as exc:  # cbor2 raises several types for bad input
        raise SMPDecodeError(f"body is not valid CBOR: {exc}") from exc
    if not isinstance(value, dict):
        raise SMPDecodeError(f"body is a CBOR {type(value).__name__}, not a map")
    return value


def encode_request_body(request: Request[Any]) -> bytes:
    """The CBOR body of `request` (hand-rolled for the hot upload request, cbor2 otherwise)."""
    body = request._fast_cbor()
    return encode_body(request.to_body()) if body is None else body


def encode_request(request: Request[Any], sequence: int, version: int = Version.V2) -> bytes:
    """The whole SMP message (header + CBOR body) of `request`."""
    group, command, op = request.target()
    body = encode_request_body(request)
    try:
        return pack_header(op, version, len(body), group, sequence, command) + body
    except struct.error as exc:  # a field out of range, or a body over 65535 bytes
        raise SMPHeaderError(f"cannot encode {type(request).__name__} (body {len(body)} bytes): {exc}") from None


def encode_message(header: Header, body: Mapping[str, Any] | bytes | bytearray | memoryview) -> bytes:
    """A message from an explicit header; `header.length` is replaced by the real length."""
    payload = bytes(body) if isinstance(body, (bytes, bytearray, memoryview)) else encode_body(body)
    h = header
    try:
        return pack_header(h.op, h.version, len(payload), h.group, h.sequence, h.command) + payload
    except struct.error as exc:
        raise SMPHeaderError(f"cannot encode a message (body {len(payload)} bytes): {exc}") from None


@dataclass(frozen=True, slots=True)
class Message:
    """One decoded SMP message: its header and its CBOR map."""

    header: Header
    body: dict[str, Any]


def decode_message(data: bytes | bytearray | memoryview) -> Message:
    """Decode one whole SMP message; the body must be exactly `header.length` bytes long or more."""
    header = unpack_header(data)
    end = HEADER_SIZE + header.length
    if len(data) < end:
        raise SMPDecodeError(f"message declares {header.length} body bytes but carries {len(data) - HEADER_SIZE}")
    message = _new(Message)  # hot path (every received message): skip the frozen dataclass __init__
    _set_header(message, header)
    _set_body(message, decode_body(data[HEADER_SIZE:end]))
    return message


_new = object.__new__
_set_header = slot_setter(Message, "header")
_set_body = slot_setter(Message, "body")


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def response_error(body: Mapping[str, Any], request_group: int | None = None) -> SMPResponseError | None:
    """The error a response body reports, or None for success (a legacy `"rc": 0` is success)."""
    err = body.get("err")
    if isinstance(err, dict):
        group, rc = err.get("group"), err.get("rc")
        if _is_int(group) and _is_int(rc) and rc != 0:
            error: SMPResponseError = SMPGroupError(group, rc)
            error.body = dict(body)
            return error
    rc = body.get("rc")
    if _is_int(rc) and rc != 0:
        reason = body.get("rsn")
        error = SMPMgmtError(rc, reason if isinstance(reason, str) else None, request_group)
        error.body = dict(body)
        return error
    return None


def parse_response(request: Request[ResponseT], body: Mapping[str, Any]) -> ResponseT:
    """The typed response to `request`, or raise the typed error the body reports.

    For responses whose legacy `"rc"` is the command's result (shell: `{"o": ..., "rc": N}`),
    that `rc` is not an error; an `err` map still is.
    """
    response = request.RESPONSE
    if "err" in body or "rc" in body:
        checked = body
        if response.RC_IS_RESULT and "o" in body:
            checked = {k: v for k, v in body.items() if k != "rc"}
        error = response_error(checked, request.target()[0])
        if error is not None:
            error.body = dict(body)
            raise error
    return response.from_body(body)  # type: ignore[return-value]
