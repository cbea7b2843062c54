"""Image group (1): slot state, upload, erase and slot information."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from smpkit.protocol.header import Op, slot_setter
from smpkit.protocol.model import EmptyResponse, Request, Response, wire

GROUP = 1
IMAGE_MAGIC = b"\x3d\xb8\xf3\x96"


@dataclass(frozen=True, slots=True)
class ImageSlotState(Response):
    """One slot holding a valid image. Absent flags are false."""

    slot: int
    version: str
    hash: bytes | None = None
    image: int | None = None
    bootable: bool = False
    pending: bool = False
    confirmed: bool = False
    active: bool = False
    permanent: bool = False


@dataclass(frozen=True, slots=True)
class ImageStateResponse(Response):
    images: list[ImageSlotState]
    split_status: int | None = wire("splitStatus", None)


@dataclass(frozen=True, slots=True)
class ImageStateRead(Request[ImageStateResponse], group=GROUP, command=0, op=Op.READ):
    """List the slots that hold a valid image."""


@dataclass(frozen=True, slots=True)
class ImageStateWrite(Request[ImageStateResponse], group=GROUP, command=0, op=Op.WRITE):
    """`confirm=False` with a hash: test that image once. `confirm=True`: make permanent."""

    hash: bytes | None = None
    confirm: bool | None = None


@dataclass(frozen=True, slots=True)
class ImageUploadResponse(Response):
    """`off` is the next offset the device expects; `match` only on the last chunk of some builds."""

    off: int
    match: bool | None = None

    @classmethod
    def from_body(cls, body: Mapping[str, Any], where: str | None = None) -> ImageUploadResponse:
        # Hot path (one per chunk): the common shapes skip the generic field walk.
        off = body.get("off")
        match = body.get("match")
        if type(off) is int and (match is None or type(match) is bool) and cls is ImageUploadResponse:
            response = _new(ImageUploadResponse)
            _set_off(response, off)
            _set_match(response, match)
            return response
        return super(ImageUploadResponse, cls).from_body(body, where)


_new = object.__new__
_set_off = slot_setter(ImageUploadResponse, "off")
_set_match = slot_setter(ImageUploadResponse, "match")


def _cbor_uint(value: int) -> bytes:
    if value < 24:
        return _SMALL[value]
    if value < 0x100:
        return b"\x18" + _SMALL[value]
    if value < 0x10000:
        return b"\x19" + value.to_bytes(2, "big")
    if value < 0x100000000:
        return b"\x1a" + value.to_bytes(4, "big")
    return b"\x1b" + value.to_bytes(8, "big")


def _bstr_head(n: int) -> bytes:
    if n < 24:
        return _SMALL[0x40 | n]
    if n < 0x100:
        return b"\x58" + _SMALL[n]
    if n < 0x10000:
        return b"\x59" + n.to_bytes(2, "big")
    return b"\x5a" + n.to_bytes(4, "big")


_SMALL = [bytes((i,)) for i in range(256)]
_U64 = 1 << 64


def _plain_uint(value: object) -> bool:
    return type(value) is int and 0 <= value < _U64


@dataclass(frozen=True, slots=True)
class ImageUpload(Request[ImageUploadResponse], group=GROUP, command=1, op=Op.WRITE):
    """One chunk. The first (off 0) carries `len` and, for resume and checking, `sha`."""

    off: int
    data: bytes
    len: int | None = None
    sha: bytes | None = None
    image: int | None = None
    upgrade: bool | None = None

    def __init__(
        self,
        off: int,
        data: bytes,
        len: int | None = None,
        sha: bytes | None = None,
        image: int | None = None,
        upgrade: bool | None = None,
    ) -> None:
        # Same signature as the generated __init__ (dataclass keeps a hand-written one); filling
        # the slots directly halves the cost of building one request per chunk.
        _set_up_off(self, off)
        _set_up_data(self, data)
        _set_up_len(self, len)
        _set_up_sha(self, sha)
        _set_up_image(self, image)
        _set_up_upgrade(self, upgrade)

    def _fast_cbor(self) -> bytes | None:
        # The bytes cbor2 would produce for to_body(), built directly (same key order).
        off, data = self.off, self.data
        if type(off) is not int or type(data) is not bytes or not 0 <= off < _U64:
            return None
        if self.len is None and self.sha is None and self.image is None and self.upgrade is None:
            return b"".join((b"\xa2\x63off", _cbor_uint(off), b"\x64data", _bstr_head(len(data)), data))
        return self._first_chunk_cbor()

    def _first_chunk_cbor(self) -> bytes | None:
        length, sha, image, upgrade = self.len, self.sha, self.image, self.upgrade
        parts = [b"", b"\x63off", _cbor_uint(self.off), b"\x64data", _bstr_head(len(self.data)), self.data]
        if length is not None:
            if not _plain_uint(length):
                return None
            parts += (b"\x63len", _cbor_uint(length))
        if sha is not None:
            if type(sha) is not bytes:
                return None
            parts += (b"\x63sha", _bstr_head(len(sha)), sha)
        if image is not None:
            if not _plain_uint(image):
                return None
            parts += (b"\x65image", _cbor_uint(image))
        if upgrade is not None:
            if type(upgrade) is not bool:
                return None
            parts += (b"\x67upgrade", b"\xf5" if upgrade else b"\xf4")
        pairs = 2 + sum(x is not None for x in (length, sha, image, upgrade))
        parts[0] = _SMALL[0xA0 + pairs]
        return b"".join(parts)

    def to_body(self) -> dict[str, Any]:  # hot path: no reflection
        body: dict[str, Any] = {"off": self.off, "data": self.data}
        if self.len is not None:
            body["len"] = self.len
        if self.sha is not None:
            body["sha"] = self.sha
        if self.image is not None:
            body["image"] = self.image
        if self.upgrade is not None:
            body["upgrade"] = self.upgrade
        return body


_set_up_off = slot_setter(ImageUpload, "off")
_set_up_data = slot_setter(ImageUpload, "data")
_set_up_len = slot_setter(ImageUpload, "len")
_set_up_sha = slot_setter(ImageUpload, "sha")
_set_up_image = slot_setter(ImageUpload, "image")
_set_up_upgrade = slot_setter(ImageUpload, "upgrade")


@dataclass(frozen=True, slots=True)
class ImageErase(Request[EmptyResponse], group=GROUP, command=5, op=Op.WRITE):
    """Erase a slot (default: the one opposite the running image)."""

    slot: int | None = None


@dataclass(frozen=True, slots=True)
class SlotInfoSlot(Response):
    slot: int
    size: int | None = None
    upload_image_id: int | None = None
    rc: int | None = None


@dataclass(frozen=True, slots=True)
class SlotInfoImage(Response):
    image: int
    slots: list[SlotInfoSlot]
    max_image_size: int | None = None


@dataclass(frozen=True, slots=True)
class SlotInfoResponse(Response):
    images: list[SlotInfoImage]


@dataclass(frozen=True, slots=True)
class SlotInfo(Request[SlotInfoResponse], group=GROUP, command=6, op=Op.READ):
    """Sizes of every image's slots."""
