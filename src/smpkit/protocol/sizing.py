"""How much data fits in a request of a given size (exact, for our own encoder)."""

from __future__ import annotations

from smpkit.protocol.codec import encode_request
from smpkit.protocol.groups.fs import FileUpload
from smpkit.protocol.groups.image import ImageUpload
from smpkit.protocol.header import HEADER_SIZE


def bstr_header_size(length: int) -> int:
    """Bytes CBOR needs before a byte string of `length` bytes."""
    if length < 24:
        return 1
    if length < 0x100:
        return 2
    if length < 0x10000:
        return 3
    if length < 0x100000000:
        return 5
    return 9


#: The largest SMP message: the header's length field is 16 bits.
MAX_MESSAGE = HEADER_SIZE + 0xFFFF


def fit_data(budget: int, size_with_empty_data: int) -> int:
    """Largest n such that the message, whose size with empty data is given, stays within `budget`.

    An empty byte string costs one header byte; n bytes cost `bstr_header_size(n) + n`.
    The result fills the budget exactly, or leaves one byte unused where the byte
    string's header grows (n = 24, 256: no n makes the message exactly `budget`).
    """
    room = min(budget, MAX_MESSAGE) - (size_with_empty_data - 1)
    for header in (1, 2, 3, 5):
        n = room - header
        if n >= 0 and bstr_header_size(n) <= header:
            return n  # the first (smallest) header that fits gives the largest n
    return 0


def image_chunk_size(
    budget: int,
    off: int,
    total: int | None = None,
    sha: bytes | None = None,
    image: int | None = None,
    upgrade: bool | None = None,
) -> int:
    """Data bytes of an image-upload chunk at `off` that fill a `budget`-byte message exactly."""
    empty = ImageUpload(off=off, data=b"", len=total, sha=sha, image=image, upgrade=upgrade)
    return fit_data(budget, len(encode_request(empty, 0)))


def file_chunk_size(budget: int, off: int, name: str, total: int | None = None) -> int:
    """Data bytes of a file-upload chunk that fill a `budget`-byte message exactly."""
    empty = FileUpload(off=off, data=b"", name=name, len=total)
    return fit_data(budget, len(encode_request(empty, 0)))


def message_budget(buf_size: int | None, transport_limit: int | None) -> int:
    """The largest request: the device's buffer and the transport's limit, whichever is smaller."""
    limits = [x for x in (buf_size, transport_limit) if x is not None]
    return min(limits) if limits else 256 + HEADER_SIZE
