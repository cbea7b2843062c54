"""File-system group (8)."""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from typing import Any, ClassVar

from smpkit.protocol.header import Op
from smpkit.protocol.model import EmptyResponse, Request, Response

GROUP = 8


@dataclass(frozen=True, slots=True)
class FileDownloadResponse(Response):
    """`len` (the file size) comes only with the chunk at offset 0."""

    off: int
    data: bytes
    len: int | None = None


@dataclass(frozen=True, slots=True)
class FileDownload(Request[FileDownloadResponse]):
    GROUP: ClassVar[int] = GROUP
    COMMAND: ClassVar[int] = 0
    OP: ClassVar[Op] = Op.READ
    RESPONSE: ClassVar[type[Response]] = FileDownloadResponse
    off: int
    name: str


@dataclass(frozen=True, slots=True)
class FileUploadResponse(Response):
    off: int


@dataclass(frozen=True, slots=True)
class FileUpload(Request[FileUploadResponse]):
    """A chunk; off 0 needs `len` and creates or truncates the file."""

    GROUP: ClassVar[int] = GROUP
    COMMAND: ClassVar[int] = 0
    OP: ClassVar[Op] = Op.WRITE
    RESPONSE: ClassVar[type[Response]] = FileUploadResponse
    off: int
    data: bytes
    name: str
    len: int | None = None

    def to_body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"off": self.off, "data": self.data, "name": self.name}
        if self.len is not None:
            body["len"] = self.len
        return body


@dataclass(frozen=True, slots=True)
class FileStatusResponse(Response):
    len: int


@dataclass(frozen=True, slots=True)
class FileStatus(Request[FileStatusResponse]):
    GROUP: ClassVar[int] = GROUP
    COMMAND: ClassVar[int] = 1
    OP: ClassVar[Op] = Op.READ
    RESPONSE: ClassVar[type[Response]] = FileStatusResponse
    name: str


@dataclass(frozen=True, slots=True)
class FileHashResponse(Response):
    """`output` is an integer for crc32 and 32 bytes for sha256."""

    type: str
    output: int | bytes
    len: int | None = None
    off: int | None = None


@dataclass(frozen=True, slots=True)
class FileHash(Request[FileHashResponse]):
    GROUP: ClassVar[int] = GROUP
    COMMAND: ClassVar[int] = 2
    OP: ClassVar[Op] = Op.READ
    # builtins.type: the field `type` below shadows the builtin when hints are evaluated.
    RESPONSE: ClassVar[builtins.type[Response]] = FileHashResponse
    name: str
    type: str | None = None
    off: int | None = None
    len: int | None = None


@dataclass(frozen=True, slots=True)
class HashTypeInfo(Response):
    format: int
    size: int


@dataclass(frozen=True, slots=True)
class FileHashTypesResponse(Response):
    types: dict[str, HashTypeInfo]


@dataclass(frozen=True, slots=True)
class FileHashTypes(Request[FileHashTypesResponse]):
    GROUP: ClassVar[int] = GROUP
    COMMAND: ClassVar[int] = 3
    OP: ClassVar[Op] = Op.READ
    RESPONSE: ClassVar[type[Response]] = FileHashTypesResponse


@dataclass(frozen=True, slots=True)
class FileClose(Request[EmptyResponse]):
    GROUP: ClassVar[int] = GROUP
    COMMAND: ClassVar[int] = 4
    OP: ClassVar[Op] = Op.WRITE
    RESPONSE: ClassVar[type[Response]] = EmptyResponse
