"""The SMP protocol core: no I/O, no asyncio. Bytes in, models and errors out."""

from smpkit.protocol.codec import (
    Message,
    decode_body,
    decode_message,
    encode_body,
    encode_message,
    encode_request,
    parse_response,
    response_error,
)
from smpkit.protocol.errors import (
    SMPBadCRC,
    SMPDecodeError,
    SMPError,
    SMPFramingError,
    SMPGroupError,
    SMPHeaderError,
    SMPMgmtError,
    SMPProtocolError,
    SMPResponseError,
)
from smpkit.protocol.groups import Group
from smpkit.protocol.header import HEADER_SIZE, Header, Op, Version
from smpkit.protocol.model import EmptyResponse, Request, Response, request_class
from smpkit.protocol.packetizer import Packetizer

__all__ = [
    "HEADER_SIZE",
    "EmptyResponse",
    "Group",
    "Header",
    "Message",
    "Op",
    "Packetizer",
    "Request",
    "Response",
    "SMPBadCRC",
    "SMPDecodeError",
    "SMPError",
    "SMPFramingError",
    "SMPGroupError",
    "SMPHeaderError",
    "SMPMgmtError",
    "SMPProtocolError",
    "SMPResponseError",
    "Version",
    "decode_body",
    "decode_message",
    "encode_body",
    "encode_message",
    "encode_request",
    "parse_response",
    "request_class",
    "response_error",
]
