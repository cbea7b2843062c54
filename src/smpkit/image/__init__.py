"""MCUboot image reader: checks a file before any byte of it goes to a device (no I/O beyond reading it)."""

from smpkit.image.errors import HashMismatch, ImageError, InvalidHeader, InvalidTLVArea, NotAnImage, TruncatedImage
from smpkit.image.format import IMAGE_MAGIC, ImageFlag, TLVType, tlv_name
from smpkit.image.reader import (
    TLV,
    Dependency,
    ImageHeader,
    ImageVersion,
    McubootImage,
    RawPayload,
    Trailer,
    UploadSource,
    describe,
    hex_to_bin,
    load_upload,
    parse_image,
    read_bytes,
    read_image,
)

__all__ = [
    "IMAGE_MAGIC",
    "TLV",
    "Dependency",
    "HashMismatch",
    "ImageError",
    "ImageFlag",
    "ImageHeader",
    "ImageVersion",
    "InvalidHeader",
    "InvalidTLVArea",
    "McubootImage",
    "NotAnImage",
    "RawPayload",
    "TLVType",
    "Trailer",
    "TruncatedImage",
    "UploadSource",
    "describe",
    "hex_to_bin",
    "load_upload",
    "parse_image",
    "read_bytes",
    "read_image",
    "tlv_name",
]
