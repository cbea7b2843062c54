"""Image group (1): slot state, upload, erase and slot information."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from smpkit.protocol.header import Op
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
class ImageStateRead(Request[ImageStateResponse]):
    GROUP: ClassVar[int] = GROUP
    COMMAND: ClassVar[int] = 0
    OP: ClassVar[Op] = Op.READ
    RESPONSE: ClassVar[type[Response]] = ImageStateResponse


@dataclass(frozen=True, slots=True)
class ImageStateWrite(Request[ImageStateResponse]):
    """`confirm=False` with a hash: test that image once. `confirm=True`: make permanent."""

    GROUP: ClassVar[int] = GROUP
    COMMAND: ClassVar[int] = 0
    OP: ClassVar[Op] = Op.WRITE
    RESPONSE: ClassVar[type[Response]] = ImageStateResponse
    hash: bytes | None = None
    confirm: bool | None = None


@dataclass(frozen=True, slots=True)
class ImageUploadResponse(Response):
    """`off` is the next offset the device expects; `match` only on the last chunk of some builds."""

    off: int
    match: bool | None = None


@dataclass(frozen=True, slots=True)
class ImageUpload(Request[ImageUploadResponse]):
    """One chunk. The first (off 0) carries `len` and, for resume and checking, `sha`."""

    GROUP: ClassVar[int] = GROUP
    COMMAND: ClassVar[int] = 1
    OP: ClassVar[Op] = Op.WRITE
    RESPONSE: ClassVar[type[Response]] = ImageUploadResponse
    off: int
    data: bytes
    len: int | None = None
    sha: bytes | None = None
    image: int | None = None
    upgrade: bool | None = None

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


@dataclass(frozen=True, slots=True)
class ImageErase(Request[EmptyResponse]):
    """Erase a slot (default: the one opposite the running image)."""

    GROUP: ClassVar[int] = GROUP
    COMMAND: ClassVar[int] = 5
    OP: ClassVar[Op] = Op.WRITE
    RESPONSE: ClassVar[type[Response]] = EmptyResponse
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
class SlotInfo(Request[SlotInfoResponse]):
    GROUP: ClassVar[int] = GROUP
    COMMAND: ClassVar[int] = 6
    OP: ClassVar[Op] = Op.READ
    RESPONSE: ClassVar[type[Response]] = SlotInfoResponse
