"""Write small valid MCUboot images without imgtool (for the simulator, the demo and tests).

The output is an unsigned, hash-only image the way `imgtool create` lays it out:
header (padded to `header_size`), body, optional protected TLV area, and an
unprotected TLV area holding the SHA-256 TLV.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Iterable, Sequence

from smpkit.image.format import (
    HEADER_SIZE,
    HEADER_STRUCT,
    IMAGE_MAGIC,
    TLV_ENTRY_STRUCT,
    TLV_INFO_MAGIC,
    TLV_INFO_STRUCT,
    TLV_PROT_INFO_MAGIC,
    ImageFlag,
    TLVType,
)
from smpkit.image.reader import ImageVersion

VersionLike = ImageVersion | Sequence[int] | str


def _version(value: VersionLike) -> ImageVersion:
    if isinstance(value, ImageVersion):
        return value
    if isinstance(value, str):
        return ImageVersion.parse(value)
    return ImageVersion(*value)


def _tlv_area(magic: int, entries: Iterable[tuple[int, bytes]]) -> bytes:
    payload = b"".join(TLV_ENTRY_STRUCT.pack(kind, len(value)) + value for kind, value in entries)
    return TLV_INFO_STRUCT.pack(magic, TLV_INFO_STRUCT.size + len(payload)) + payload


def make_image(
    body: bytes,
    version: VersionLike = (1, 2, 3, 0),
    *,
    header_size: int = 0x200,
    load_addr: int = 0,
    flags: int = 0,
    security_counter: int | None = None,
    dependencies: Sequence[tuple[int, VersionLike]] = (),
    protected_tlvs: Sequence[tuple[int, bytes]] = (),
    extra_tlvs: Sequence[tuple[int, bytes]] = (),
) -> bytes:
    """A valid MCUboot image around `body` whose SHA-256 TLV matches (what the device reports as `hash`)."""
    if header_size < HEADER_SIZE:
        raise ValueError("header_size must be at least 32")
    ver = _version(version)
    protected: list[tuple[int, bytes]] = []
    for image, dep_version in dependencies:
        dv = _version(dep_version)
        packed = struct.pack("<B3xBBHI", image, dv.major, dv.minor, dv.revision, dv.build)
        protected.append((TLVType.DEPENDENCY, packed))
    if security_counter is not None:
        protected.append((TLVType.SEC_CNT, struct.pack("<I", security_counter)))
    protected.extend(protected_tlvs)
    protected_area = _tlv_area(TLV_PROT_INFO_MAGIC, protected) if protected else b""
    header = HEADER_STRUCT.pack(
        IMAGE_MAGIC,
        load_addr,
        header_size,
        len(protected_area),
        len(body),
        int(ImageFlag(flags)),
        ver.major,
        ver.minor,
        ver.revision,
        ver.build,
    )
    hashed = header + bytes(header_size - HEADER_SIZE) + bytes(body) + protected_area
    digest = hashlib.sha256(hashed).digest()
    return hashed + _tlv_area(TLV_INFO_MAGIC, [(TLVType.SHA256, digest), *extra_tlvs])


def make_test_body(size: int, seed: int = 0) -> bytes:
    """Deterministic non-repeating filler for image bodies (no randomness needed)."""
    out = bytearray()
    counter = 0
    while len(out) < size:
        out += hashlib.sha256(f"{seed}:{counter}".encode()).digest()
        counter += 1
    return bytes(out[:size])
