"""Turning models into SMP messages and SMP messages back into models or errors."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import cbor2

from smpkit.protocol.errors import SMPDecodeError, SMPGroupError, SMPMgmtError, SMPResponseError
from smpkit.protocol.header import HEADER_SIZE, Header, Version, pack_header
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


def encode_request(request: Request[Any], sequence: int, version: int = Version.V2) -> bytes:
    """The whole SMP message (header + CBOR body) of `request`."""
    group, command, op = request.target()
    body = encode_body(request.to_body())
    return pack_header(int(op), version, len(body), group, sequence, command) + body


def encode_message(header: Header, body: Mapping[str, Any] | bytes) -> bytes:
    """A message from an explicit header; `header.length` is replaced by the real length."""
    payload = body if isinstance(body, bytes) else encode_body(body)
    return pack_header(header.op, header.version, len(payload), header.group, header.sequence, header.command) + payload


@dataclass(frozen=True, slots=True)
class Message:
    """One decoded SMP message: its header and its CBOR map."""

    header: Header
    body: dict[str, Any]


def decode_message(data: bytes | bytearray | memoryview) -> Message:
    """Decode one whole SMP message; the body must be exactly `header.length` bytes long or more."""
    header = Header.unpack(data)
    end = HEADER_SIZE + header.length
    if len(data) < end:
        raise SMPDecodeError(f"message declares {header.length} body bytes but carries {len(data) - HEADER_SIZE}")
    return Message(header, decode_body(data[HEADER_SIZE:end]))


def response_error(body: Mapping[str, Any], request_group: int | None = None) -> SMPResponseError | None:
    """The error a response body reports, or None for success (a legacy `"rc": 0` is success)."""
    err = body.get("err")
    if isinstance(err, dict):
        group, rc = err.get("group"), err.get("rc")
        if isinstance(group, int) and isinstance(rc, int) and rc != 0:
            error: SMPResponseError = SMPGroupError(group, rc)
            error.body = dict(body)
            return error
    rc = body.get("rc")
    if isinstance(rc, int) and not isinstance(rc, bool) and rc != 0:
        reason = body.get("rsn")
        error = SMPMgmtError(rc, reason if isinstance(reason, str) else None, request_group)
        error.body = dict(body)
        return error
    return None


def parse_response(request: Request[ResponseT], body: Mapping[str, Any]) -> ResponseT:
    """The typed response to `request`, or raise the typed error the body reports."""
    legacy_result = getattr(request.RESPONSE, "RC_IS_RESULT", False) and "o" in body
    error = None if legacy_result else response_error(body, request.target()[0])
    if error is not None:
        raise error
    return request.RESPONSE.from_body(body)  # type: ignore[return-value]
