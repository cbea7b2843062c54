"""Why a file was refused before any byte of it went to the device."""

from __future__ import annotations

from smpkit.protocol.errors import SMPError


class ImageError(SMPError):
    """The file cannot be uploaded as an MCUboot image (pass `allow_raw` to send it anyway)."""


class NotAnImage(ImageError):
    """The file does not start with the MCUboot header magic (or uses a layout Zephyr refuses)."""


class TruncatedImage(ImageError):
    """The file ends before the end of what its header and TLV areas announce."""


class InvalidHeader(ImageError):
    """The header has the magic but impossible sizes."""


class InvalidTLVArea(ImageError):
    """A TLV area has the wrong magic, a wrong total size, or an entry running past its end."""


class HashMismatch(ImageError):
    """The hash TLV does not match the header, body and protected TLVs: the file is corrupt."""

    def __init__(self, message: str, expected: bytes, actual: bytes) -> None:
        super().__init__(message)
        self.expected = expected
        self.actual = actual
