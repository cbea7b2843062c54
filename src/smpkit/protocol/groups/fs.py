"""File-system group (8)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

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
class FileDownload(Request[FileDownloadResponse], group=GROUP, command=0, op=Op.READ):
    off: int
    name: str


@dataclass(frozen=True, slots=True)
class FileUploadResponse(Response):
    off: int


@dataclass(frozen=True, slots=True)
class FileUpload(Request[FileUploadResponse], group=GROUP, command=0, op=Op.WRITE):
    """A chunk; off 0 needs `len` and creates or truncates the file."""

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
class FileStatus(Request[FileStatusResponse], group=GROUP, command=1, op=Op.READ):
    name: str


@dataclass(frozen=True, slots=True)
class FileHashResponse(Response):
    """`output` is an integer for crc32 and 32 bytes for sha256."""

    type: str
    output: int | bytes
    len: int | None = None
    off: int | None = None


@dataclass(frozen=True, slots=True)
class FileHash(Request[FileHashResponse], group=GROUP, command=2, op=Op.READ):
    """Hash or checksum (default crc32) of a file or a range of it."""

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
class FileHashTypes(Request[FileHashTypesResponse], group=GROUP, command=3, op=Op.READ):
    """The hash and checksum types the device supports."""


@dataclass(frozen=True, slots=True)
class FileClose(Request[EmptyResponse], group=GROUP, command=4, op=Op.WRITE):
    """Close the file the device keeps open between chunks."""
