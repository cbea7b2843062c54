"""Byte-exact vectors from smp-protocol.md (§6.2 worked example, §12 table)."""

from __future__ import annotations

import pytest

from smpkit.protocol import (
    SMPGroupError,
    SMPMgmtError,
    decode_message,
    encode_request,
    parse_response,
)
from smpkit.protocol.groups.image import ImageStateRead, ImageUpload, ImageUploadResponse
from smpkit.protocol.groups.os import Echo, EchoResponse, McumgrParams
from smpkit.protocol.serial_framing import Frame, FrameDecoder, crc16_xmodem, encode_frame, frame_stream

ECHO_REQUEST = bytes.fromhex("0a 00 00 09 00 00 42 00 a1 61 64 65 68 65 6c 6c 6f")
ECHO_RESPONSE = bytes.fromhex("0b 00 00 0a 00 00 42 00 bf 61 72 65 68 65 6c 6c 6f ff")
ECHO_REQUEST_LINE = b"\x06\x09ABMKAAAJAABCAKFhZGVoZWxsb0YZ\n"
ECHO_RESPONSE_LINE = b"\x06\x09ABQLAAAKAABCAL9hcmVoZWxsb/8s+w==\n"


def response(group: int, seq: int, command: int, body_hex: str) -> bytes:
    """A v2 write response carrying `body_hex` (header built by hand, not by smpkit)."""
    body = bytes.fromhex(body_hex)
    return bytes([0x0B, 0, 0, len(body), 0, group, seq, command]) + body


def test_echo_request_bytes() -> None:
    assert encode_request(Echo(d="hello"), 0x42) == ECHO_REQUEST


def test_echo_response_decodes() -> None:
    message = decode_message(ECHO_RESPONSE)
    assert (message.header.op, message.header.version, message.header.sequence, message.header.length) == (
        3,
        1,
        0x42,
        10,
    )
    assert parse_response(Echo(d="hello"), message.body) == EchoResponse(r="hello")


def test_serial_echo_request_line() -> None:
    assert crc16_xmodem(ECHO_REQUEST) == 0x4619
    assert frame_stream(ECHO_REQUEST) == b"\x00\x13" + ECHO_REQUEST + b"\x46\x19"
    assert encode_frame(ECHO_REQUEST) == ECHO_REQUEST_LINE
    assert len(ECHO_REQUEST_LINE) == 31
    assert FrameDecoder().feed(ECHO_REQUEST_LINE) == [Frame(ECHO_REQUEST)]


def test_serial_echo_response_line() -> None:
    assert crc16_xmodem(ECHO_RESPONSE) == 0x2CFB
    assert encode_frame(ECHO_RESPONSE) == ECHO_RESPONSE_LINE
    assert FrameDecoder(max_line=128, strict=True).feed(ECHO_RESPONSE_LINE) == [Frame(ECHO_RESPONSE)]


def test_section_12_requests() -> None:
    assert encode_request(ImageStateRead(), 1) == bytes.fromhex("08 00 00 01 00 01 01 00 a0")
    assert encode_request(McumgrParams(), 2) == bytes.fromhex("08 00 00 01 00 00 02 06 a0")


@pytest.mark.parametrize("body", ["bf 62 72 63 08 ff", "a1 62 72 63 08"], ids=["indefinite", "definite"])
def test_section_12_unknown_command(body: str) -> None:
    raw = bytes.fromhex(
        "0b 00 00 00 00 00 05 00 ".replace("00 00 00", f"00 00 {len(bytes.fromhex(body)):02x}", 1) + body
    )
    with pytest.raises(SMPMgmtError) as info:
        parse_response(Echo(d=""), decode_message(raw).body)
    assert info.value.name == "MGMT.ENOTSUP"


def test_section_12_bad_magic_upload() -> None:
    raw = response(1, 7, 1, "bf 63 65 72 72 bf 65 67 72 6f 75 70 01 62 72 63 17 ff ff")
    with pytest.raises(SMPGroupError) as info:
        parse_response(ImageUpload(off=0, data=b"x" * 32), decode_message(raw).body)
    assert info.value.name == "IMAGE.INVALID_IMAGE_HEADER_MAGIC"
    assert "magic" in info.value.sentence


def test_section_12_upload_continue() -> None:
    raw = response(1, 8, 1, "bf 63 6f 66 66 19 10 00 ff")
    assert parse_response(ImageUpload(off=0, data=b""), decode_message(raw).body) == ImageUploadResponse(off=4096)


def test_indefinite_strings_and_arrays() -> None:
    """zcbor may chunk strings; cbor2 joins them, so the models see plain values."""
    raw = response(0, 1, 0, "bf 61 72 7f 62 68 65 63 6c 6c 6f ff ff")  # {"r": "he" "llo"}: a chunked text string
    assert parse_response(Echo(d="hello"), decode_message(raw).body) == EchoResponse(r="hello")
