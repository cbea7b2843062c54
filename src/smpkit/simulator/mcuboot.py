"""A minimal private MCUboot image reader and writer for the simulator.

Reads what the image group needs from a slot's bytes (header, version, flags and the
SHA-256 TLV), and builds a small valid image for the boot slot. The public reader
lives in `smpkit.image`; this one stays private so the simulator stands alone.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass

MAGIC = 0x96F3B83D
HEADER = struct.Struct("<IIHHIIBBHII")
TLV_INFO_MAGIC = 0x6907
TLV_PROT_INFO_MAGIC = 0x6908
TLV_SHA256 = 0x10
FLAG_NON_BOOTABLE = 0x10


@dataclass(frozen=True, slots=True)
class ImageInfo:
    version: tuple[int, int, int, int]
    flags: int
    hash: bytes
    hdr_size: int
    img_size: int

    @property
    def version_text(self) -> str:
        major, minor, rev, build = self.version
        text = f"{major}.{minor}.{rev}"
        return f"{text}.{build}" if build else text

    @property
    def bootable(self) -> bool:
        return not self.flags & FLAG_NON_BOOTABLE


def parse_version(text: str) -> tuple[int, int, int, int]:
    parts = [int(p) for p in text.split(".")] + [0, 0, 0, 0]
    return parts[0], parts[1], parts[2], parts[3]


def header_version(data: bytes) -> tuple[int, int, int, int] | None:
    """The version in an image header (first 32 bytes), or None if there is no MCUboot header."""
    if len(data) < HEADER.size:
        return None
    fields = HEADER.unpack_from(data)
    if fields[0] != MAGIC:
        return None
    return fields[6], fields[7], fields[8], fields[9]


def parse_image(data: bytes | bytearray) -> ImageInfo | None:
    """Header and SHA-256 TLV of the image at the start of `data`; None when it is not a whole image.

    Like Zephyr's `img_mgmt_read_info`, the first SHA-256 TLV of length 32 in the
    unprotected area is the image hash.
    """
    if len(data) < HEADER.size:
        return None
    magic, _load, hdr_size, prot_size, img_size, flags, major, minor, rev, build, _pad = HEADER.unpack_from(data)
    if magic != MAGIC:
        return None
    pos = hdr_size + img_size + prot_size
    if pos + 4 > len(data):
        return None
    info_magic, total = struct.unpack_from("<HH", data, pos)
    if info_magic != TLV_INFO_MAGIC or pos + total > len(data):
        return None
    end = pos + total
    pos += 4
    while pos + 4 <= end:
        kind, length = struct.unpack_from("<HH", data, pos)
        if kind == TLV_SHA256 and length == 32 and pos + 4 + 32 <= end:
            digest = bytes(data[pos + 4 : pos + 36])
            return ImageInfo((major, minor, rev, build), flags, digest, hdr_size, img_size)
        pos += 4 + length
    return None


def build_image(version: str, body: bytes, hdr_size: int = 0x200) -> bytes:
    """A valid unsigned MCUboot image (header, body, SHA-256 TLV), as `imgtool create` makes it."""
    major, minor, rev, build = parse_version(version)
    header = HEADER.pack(MAGIC, 0, hdr_size, 0, len(body), 0, major, minor, rev, build, 0)
    signed = header.ljust(hdr_size, b"\x00") + body
    digest = hashlib.sha256(signed).digest()
    tlvs = struct.pack("<HH", TLV_SHA256, 32) + digest
    return signed + struct.pack("<HH", TLV_INFO_MAGIC, 4 + len(tlvs)) + tlvs
