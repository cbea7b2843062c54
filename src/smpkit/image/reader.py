"""Parse and check MCUboot images (`.bin`, `.signed`, `.hex`) before they go to a device.

Layout and checks follow MCUboot's `image.h`/`image_validate.c` and Zephyr's
`img_mgmt_util.c`: the state-list `hash` is the first SHA-256 TLV in the
unprotected area and covers header + body + protected TLV area.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union

from smpkit.image.errors import HashMismatch, ImageError, InvalidHeader, InvalidTLVArea, NotAnImage, TruncatedImage
from smpkit.image.format import (
    BOOT_MAGIC,
    BOOT_MAGIC_ALT_TAIL,
    HASH_TLVS,
    HEADER_SIZE,
    HEADER_STRUCT,
    IMAGE_MAGIC,
    IMAGE_MAGIC_V1,
    TLV_ENTRY_STRUCT,
    TLV_INFO_MAGIC,
    TLV_INFO_STRUCT,
    TLV_PROT_INFO_MAGIC,
    ImageFlag,
    TLVType,
    flag_names,
    tlv_name,
)

PathLike = Union[str, "os.PathLike[str]"]

_VERSION_RE = re.compile(r"^\s*(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:[.+](\d+))?\s*$")


@dataclass(frozen=True, slots=True, order=True)
class ImageVersion:
    """`major.minor.revision[.build]`; ordered the way MCUboot compares versions."""

    major: int
    minor: int
    revision: int
    build: int = 0

    def __str__(self) -> str:
        # Zephyr prints the build number only when it is non-zero (img_mgmt_ver_str).
        base = f"{self.major}.{self.minor}.{self.revision}"
        return f"{base}.{self.build}" if self.build else base

    @classmethod
    def parse(cls, text: str) -> ImageVersion:
        """Accept `1.2.3`, `1.2.3.4` (device format) and `1.2.3+4` (imgtool format)."""
        match = _VERSION_RE.match(text)
        if match is None:
            raise ValueError(f"not an image version: {text!r}")
        parts = [int(p) if p is not None else 0 for p in match.groups()]
        return cls(*parts)

    def same_release(self, other: ImageVersion) -> bool:
        return (self.major, self.minor, self.revision) == (other.major, other.minor, other.revision)


@dataclass(frozen=True, slots=True)
class ImageHeader:
    magic: int
    load_addr: int
    hdr_size: int
    protect_tlv_size: int
    img_size: int
    flags: ImageFlag
    version: ImageVersion

    @property
    def flag_names(self) -> list[str]:
        return flag_names(int(self.flags))

    @classmethod
    def unpack(cls, raw: bytes) -> ImageHeader:
        magic, load, hdr, prot, size, flags, major, minor, rev, build = HEADER_STRUCT.unpack_from(raw)
        return cls(magic, load, hdr, prot, size, ImageFlag(flags), ImageVersion(major, minor, rev, build))


@dataclass(frozen=True, slots=True)
class TLV:
    """One entry; `offset` is where its 4-byte entry header starts in the file."""

    type: int
    value: bytes = field(repr=False)
    offset: int
    protected: bool

    @property
    def name(self) -> str:
        return tlv_name(self.type)

    def describe(self) -> str:
        """The value in a human form where the type has a known layout."""
        decoded = _decode_tlv(self.type, self.value)
        return decoded if decoded is not None else self.value.hex()


@dataclass(frozen=True, slots=True)
class Dependency:
    image: int
    version: ImageVersion


@dataclass(frozen=True, slots=True)
class Trailer:
    """The MCUboot trailer of a padded image (`imgtool --pad`)."""

    magic_offset: int
    image_ok: bool
    max_align: int


@dataclass(frozen=True, slots=True)
class TLVArea:
    offset: int
    size: int
    magic: int


@dataclass(frozen=True, slots=True)
class McubootImage:
    """A checked MCUboot image. `data` is exactly what an upload sends."""

    data: bytes = field(repr=False)
    header: ImageHeader
    protected_area: TLVArea | None
    tlv_area: TLVArea
    protected_tlvs: tuple[TLV, ...]
    tlvs: tuple[TLV, ...]
    #: SHA-256 TLV value: what the device shows as `hash` in image state (None if the image has none).
    hash: bytes | None
    #: SHA-256 of the whole file: the upload `sha`.
    file_sha256: bytes
    #: Which hash TLV was checked against the content ("sha256", "sha384", "sha512" or None).
    verified_with: str | None
    trailer: Trailer | None
    source: str | None = None
    warnings: tuple[str, ...] = ()

    raw = False

    @property
    def version(self) -> ImageVersion:
        return self.header.version

    @property
    def size(self) -> int:
        return len(self.data)

    @property
    def hashed_size(self) -> int:
        """Bytes covered by the hash TLV: header, body and protected TLV area."""
        return self.header.hdr_size + self.header.img_size + self.header.protect_tlv_size

    @property
    def image_end(self) -> int:
        """End of the unprotected TLV area; anything after is padding or trailer."""
        return self.tlv_area.offset + self.tlv_area.size

    @property
    def body(self) -> bytes:
        start = self.header.hdr_size
        return self.data[start : start + self.header.img_size]

    @property
    def bootable(self) -> bool:
        return not self.header.flags & ImageFlag.NON_BOOTABLE

    @property
    def all_tlvs(self) -> tuple[TLV, ...]:
        return self.protected_tlvs + self.tlvs

    def find(self, kind: int) -> TLV | None:
        return next((t for t in self.all_tlvs if t.type == kind), None)

    @property
    def security_counter(self) -> int | None:
        tlv = self.find(TLVType.SEC_CNT)
        return struct.unpack_from("<I", tlv.value)[0] if tlv is not None and len(tlv.value) >= 4 else None

    @property
    def dependencies(self) -> list[Dependency]:
        return [d for t in self.all_tlvs if t.type == TLVType.DEPENDENCY and (d := _dependency(t.value))]

    @property
    def signatures(self) -> list[str]:
        signature_types = {0x20, 0x21, 0x22, 0x23, 0x24, 0x25}
        return [t.name for t in self.tlvs if t.type in signature_types]

    @property
    def is_signed(self) -> bool:
        return bool(self.signatures)

    def summary(self) -> list[tuple[str, str]]:
        """(label, value) rows for `smpkit image info`."""
        h = self.header
        rows = [
            ("file", self.source or "-"),
            ("size", f"{self.size} bytes"),
            ("version", str(h.version)),
            ("hash", self.hash.hex() if self.hash else "- (no SHA-256 TLV)"),
            ("file sha256", self.file_sha256.hex()),
            ("load address", f"0x{h.load_addr:08x}"),
            ("header size", str(h.hdr_size)),
            ("body size", str(h.img_size)),
            ("protected TLV size", str(h.protect_tlv_size)),
            ("flags", ", ".join(h.flag_names) or "none"),
            ("signed", ", ".join(self.signatures) or "no"),
        ]
        if self.trailer is not None:
            rows.append(("trailer", f"at {self.trailer.magic_offset}, image_ok={self.trailer.image_ok}"))
        for tlv in self.all_tlvs:
            where = "protected" if tlv.protected else "tlv"
            rows.append((f"{where} {tlv.name} (0x{tlv.type:02x})", tlv.describe()))
        rows.extend(("warning", w) for w in self.warnings)
        return rows


@dataclass(frozen=True, slots=True)
class RawPayload:
    """Data uploaded on purpose without MCUboot checks (`allow_raw`)."""

    data: bytes = field(repr=False)
    file_sha256: bytes
    reason: str
    source: str | None = None

    raw = True
    hash = None
    version = None

    @property
    def size(self) -> int:
        return len(self.data)


UploadSource = McubootImage | RawPayload


def _dependency(value: bytes) -> Dependency | None:
    if len(value) < 12:
        return None
    image = value[0]
    major, minor, rev, build = struct.unpack_from("<BBHI", value, 4)
    return Dependency(image, ImageVersion(major, minor, rev, build))


def _decode_tlv(kind: int, value: bytes) -> str | None:
    if kind == TLVType.SEC_CNT and len(value) == 4:
        return str(struct.unpack("<I", value)[0])
    if kind == TLVType.DEPENDENCY:
        dep = _dependency(value)
        return f"image {dep.image} >= {dep.version}" if dep else None
    if kind in (TLVType.DECOMP_SIZE, TLVType.COMP_DEC_SIZE) and len(value) == 4:
        return str(struct.unpack("<I", value)[0])
    if kind == TLVType.BOOT_RECORD:
        try:
            import cbor2

            record = cbor2.loads(value)
        except Exception:
            return None
        if isinstance(record, dict):
            return ", ".join(f"{k}={v.hex() if isinstance(v, bytes) else v}" for k, v in record.items())
        return repr(record)
    return None


def _walk(data: bytes, area: TLVArea, protected: bool) -> Iterator[TLV]:
    pos, end = area.offset + TLV_INFO_STRUCT.size, area.offset + area.size
    while pos < end:
        if pos + TLV_ENTRY_STRUCT.size > end:
            raise InvalidTLVArea(f"TLV entry header at {pos} runs past the end of its area ({end})")
        kind, length = TLV_ENTRY_STRUCT.unpack_from(data, pos)
        value_at = pos + TLV_ENTRY_STRUCT.size
        if value_at + length > end:
            raise InvalidTLVArea(f"TLV {tlv_name(kind)} at {pos} ({length} bytes) runs past the end of its area")
        yield TLV(kind, data[value_at : value_at + length], pos, protected)
        pos = value_at + length


def _area(data: bytes, offset: int, magic: int, what: str) -> TLVArea:
    if offset + TLV_INFO_STRUCT.size > len(data):
        raise TruncatedImage(f"the file ends at {len(data)} bytes, before the {what} TLV area at {offset}")
    found, total = TLV_INFO_STRUCT.unpack_from(data, offset)
    if found != magic:
        raise InvalidTLVArea(f"{what} TLV area at {offset}: magic 0x{found:04x}, expected 0x{magic:04x}")
    if total < TLV_INFO_STRUCT.size:
        raise InvalidTLVArea(f"{what} TLV area at {offset}: total size {total} is smaller than its own header")
    if offset + total > len(data):
        raise TruncatedImage(f"the {what} TLV area ends at {offset + total}, the file at {len(data)}")
    return TLVArea(offset, total, found)


def _header(data: bytes) -> ImageHeader:
    if len(data) >= 4:
        (magic,) = struct.unpack_from("<I", data)
        if magic == IMAGE_MAGIC_V1:
            raise NotAnImage("obsolete MCUboot v1 image magic (0x96f3b83c); Zephyr accepts only 0x96f3b83d")
        if struct.unpack_from(">I", data)[0] == IMAGE_MAGIC:
            raise NotAnImage("big-endian MCUboot image (imgtool -e big); Zephyr expects little-endian")
        if magic != IMAGE_MAGIC:
            raise NotAnImage(f"no MCUboot header magic (found {data[:4].hex()}, expected 3db8f396)")
    if len(data) < HEADER_SIZE:
        if data[:4] == struct.pack("<I", IMAGE_MAGIC):
            raise TruncatedImage(f"only {len(data)} bytes: shorter than the 32-byte MCUboot header")
        raise NotAnImage(f"only {len(data)} bytes: too short to be an MCUboot image")
    header = ImageHeader.unpack(data)
    if header.hdr_size < HEADER_SIZE:
        raise InvalidHeader(f"header size {header.hdr_size} is smaller than 32")
    return header


def _trailer(data: bytes, image_end: int) -> Trailer | None:
    if len(data) - image_end < 16:
        return None
    tail = data[-16:]
    if tail == BOOT_MAGIC:
        max_align = 8
    elif tail[2:] == BOOT_MAGIC_ALT_TAIL:
        max_align = struct.unpack_from("<H", tail)[0] or 8
    else:
        return None
    magic_aligned = -(-16 // max_align) * max_align
    image_ok_at = len(data) - (magic_aligned + max_align)
    image_ok = image_ok_at >= image_end and data[image_ok_at] == 0x01
    return Trailer(len(data) - 16, image_ok, max_align)


def _check_hash(data: bytes, hashed_size: int, tlvs: tuple[TLV, ...]) -> tuple[bytes | None, str | None]:
    sha256 = [t for t in tlvs if t.type == TLVType.SHA256]
    if len(sha256) > 1:
        raise InvalidTLVArea("more than one SHA-256 TLV (Zephyr refuses such an image)")
    checked: str | None = None
    for tlv in tlvs:
        algorithm = HASH_TLVS.get(tlv.type)
        if algorithm is None:
            continue
        actual = hashlib.new(algorithm, data[:hashed_size]).digest()
        if actual != tlv.value:
            raise HashMismatch(
                f"{algorithm} TLV {tlv.value.hex()} does not match the image content ({actual.hex()}): "
                "the file is corrupt",
                expected=tlv.value,
                actual=actual,
            )
        checked = checked or algorithm
    return (sha256[0].value if sha256 else None), checked


def parse_image(data: bytes, *, source: str | None = None) -> McubootImage:
    """Check `data` as an MCUboot image and describe it; raise an `ImageError` subclass if it is not one."""
    data = bytes(data)
    header = _header(data)
    body_end = header.hdr_size + header.img_size
    if body_end > len(data):
        raise TruncatedImage(f"header announces {body_end} bytes of header and body, the file has {len(data)}")
    protected_area = None
    protected: tuple[TLV, ...] = ()
    next_area = body_end
    if header.protect_tlv_size:
        protected_area = _area(data, body_end, TLV_PROT_INFO_MAGIC, "protected")
        if protected_area.size != header.protect_tlv_size:
            raise InvalidTLVArea(
                f"protected TLV area total {protected_area.size} differs from the header's {header.protect_tlv_size}"
            )
        protected = tuple(_walk(data, protected_area, True))
        next_area = body_end + protected_area.size
    elif len(data) >= body_end + 2 and struct.unpack_from("<H", data, body_end)[0] == TLV_PROT_INFO_MAGIC:
        raise InvalidTLVArea("a protected TLV area follows the body but the header's protected size is 0")
    tlv_area = _area(data, next_area, TLV_INFO_MAGIC, "unprotected")
    tlvs = tuple(_walk(data, tlv_area, False))
    image_hash, checked = _check_hash(data, header.hdr_size + header.img_size + header.protect_tlv_size, tlvs)
    warnings = []
    if image_hash is None:
        warnings.append("no SHA-256 TLV: Zephyr will not list this image in its state")
    if checked is None:
        warnings.append("no hash TLV: the content could not be checked")
    return McubootImage(
        data=data,
        header=header,
        protected_area=protected_area,
        tlv_area=tlv_area,
        protected_tlvs=protected,
        tlvs=tlvs,
        hash=image_hash,
        file_sha256=hashlib.sha256(data).digest(),
        verified_with=checked,
        trailer=_trailer(data, tlv_area.offset + tlv_area.size),
        source=source,
        warnings=tuple(warnings),
    )


def _looks_like_hex(data: bytes) -> bool:
    head = data[:64].lstrip()
    return head.startswith(b":") and all(c in b"0123456789abcdefABCDEF:\r\n" for c in head)


def hex_to_bin(text: bytes) -> bytes:
    """Intel HEX to the binary it describes, from its lowest to its highest address (gaps as 0xff)."""
    from intelhex import IntelHex, IntelHexError

    ih = IntelHex()
    try:
        ih.loadhex(io.StringIO(text.decode("ascii")))
    except (IntelHexError, UnicodeDecodeError, ValueError) as exc:
        raise NotAnImage(f"not a valid Intel HEX file: {exc}") from exc
    if ih.minaddr() is None:
        raise NotAnImage("the Intel HEX file holds no data")
    return bytes(ih.tobinstr(start=ih.minaddr(), end=ih.maxaddr()))


def read_bytes(path: PathLike) -> bytes:
    """The bytes an upload of `path` sends: `.hex` files are converted, anything else is taken as is."""
    raw = Path(path).read_bytes()
    if Path(path).suffix.lower() == ".hex" or _looks_like_hex(raw):
        return hex_to_bin(raw)
    return raw


def read_image(path: PathLike) -> McubootImage:
    """Read and check the MCUboot image at `path` (`.bin`, `.signed`, `.hex`)."""
    return parse_image(read_bytes(path), source=os.fspath(path))


def load_upload(source: PathLike | bytes | UploadSource, *, allow_raw: bool = False) -> UploadSource:
    """What an upload sends: a checked image, or (with `allow_raw`) the data as is when the checks fail."""
    if isinstance(source, (McubootImage, RawPayload)):
        return source
    if isinstance(source, (bytes, bytearray, memoryview)):
        name, data = None, bytes(source)
    else:
        name = os.fspath(source)
        data = read_bytes(name)
    try:
        return parse_image(data, source=name)
    except ImageError as exc:
        if not allow_raw:
            raise
        return RawPayload(data=data, file_sha256=hashlib.sha256(data).digest(), reason=str(exc), source=name)


def describe(obj: Any) -> str:
    """A multi-line text summary of an image (used by the CLI and in logs)."""
    if isinstance(obj, McubootImage):
        width = max(len(label) for label, _ in obj.summary())
        return "\n".join(f"{label:<{width}}  {value}" for label, value in obj.summary())
    return repr(obj)
