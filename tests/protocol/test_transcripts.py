"""Every response captured from real Zephyr servers decodes, and parses to a model or a typed error."""

from __future__ import annotations

import json
from collections import Counter
from functools import cache
from typing import Any

import pytest
from reference import REFERENCE_DIR, corpus

from smpkit.protocol import (
    HEADER_SIZE,
    Header,
    Op,
    Request,
    SMPError,
    SMPResponseError,
    decode_message,
    parse_response,
    request_class,
)
from smpkit.protocol.groups.user import RawRequest
from smpkit.protocol.serial_framing import Frame, FrameDecoder, encode_frame

from .models import sample_model

REFERENCE = REFERENCE_DIR
CORPORA = ["zephyr-4.4-transcripts.json", "zephyr-ble-transcripts.json"]

@cache
def load(name: str) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = json.loads(corpus(name).read_text())
    return records


def as_wire_values(value: Any) -> Any:
    """The corpus writes byte strings as "h'<hex>'"; turn them back into bytes."""
    if isinstance(value, str) and value.startswith("h'") and value.endswith("'"):
        return bytes.fromhex(value[2:-1])
    if isinstance(value, dict):
        return {k: as_wire_values(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_wire_values(v) for v in value]
    return value


def requests_of(record: dict[str, Any]) -> list[bytes]:
    raw = record.get("request_hex")
    if raw is None:
        return []
    return [bytes.fromhex(h) for h in (raw if isinstance(raw, list) else [raw])]


def request_for(record: dict[str, Any], response: Header) -> Request[Any]:
    """The model of the request this response answers (RawRequest for response ops and unknown commands)."""
    op: int = Op.READ if response.op == Op.READ_RSP else Op.WRITE  # BLE upload records list chunks, not requests
    body: dict[str, Any] = {}
    for raw in requests_of(record):
        if len(raw) < HEADER_SIZE:
            continue
        header = Header.unpack(raw)
        if (header.sequence, header.group, header.command) == (response.sequence, response.group, response.command):
            op = header.op
            try:
                body = decode_message(raw).body
            except SMPError:
                body = {}
            break
    cls = request_class(response.group, response.command, op) if op in (Op.READ, Op.WRITE) else None
    if cls is None:
        return RawRequest(response.group, response.command, Op(op) if op <= 3 else Op.WRITE, body)
    try:
        request: Request[Any] = cls.from_body(body)
    except SMPError:  # deliberately malformed requests (wrong types, missing keys)
        request = sample_model(cls)
    return request


@pytest.mark.parametrize("corpus", CORPORA)
def test_every_response_decodes_and_parses(corpus: str) -> None:
    outcomes: Counter[str] = Counter()
    for record in load(corpus):
        for captured in record["responses"]:
            message = decode_message(bytes.fromhex(captured["hex"]))
            decoded = captured["decoded"]
            h = message.header
            assert (h.op, h.version, h.flags, h.length, h.group, h.sequence, h.command) == (
                decoded["op"],
                decoded["ver"],
                decoded["flags"],
                decoded["len"],
                decoded["group"],
                decoded["seq"],
                decoded["id"],
            ), record["case"]
            assert message.body == as_wire_values(decoded["body"]), record["case"]
            request = request_for(record, h)
            try:
                result = parse_response(request, message.body)
            except SMPResponseError as exc:
                outcomes[f"error {exc.name}"] += 1
            except SMPError as exc:  # e.g. a decode error: still one of ours
                outcomes[f"{type(exc).__name__}"] += 1
            else:
                assert isinstance(result, request.RESPONSE), (record["case"], result)
                outcomes["typed " + type(result).__name__] += 1
    total = sum(outcomes.values())
    print(f"\n{corpus}: {total} responses")
    for outcome, count in sorted(outcomes.items()):
        print(f"  {count:4d}  {outcome}")
    assert total == sum(len(r["responses"]) for r in load(corpus)) > 100
    assert not [k for k in outcomes if k.startswith("SMPDecodeError")], outcomes


def _framed_responses() -> list[tuple[str, bytes, bytes]]:
    found = []
    for record in load(CORPORA[0]):
        for captured in record["responses"]:
            if captured.get("wire_hex") and captured["crc_ok"]:
                found.append((record["case"], bytes.fromhex(captured["hex"]), bytes.fromhex(captured["wire_hex"])))
    return found


def test_serial_responses_are_byte_exact() -> None:
    """Zephyr cuts its lines at 93 raw bytes, then 90 (observations §6): our encoder reproduces every one."""
    framed = _framed_responses()
    assert len(framed) > 600
    for case, message, wire in framed:
        assert encode_frame(message, 93, 90) == wire, case
        assert FrameDecoder(max_line=128, strict=True).feed(wire) == [Frame(message)], case
