"""Enumeration group (10): which groups the device serves."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from smpkit.protocol.header import Op
from smpkit.protocol.model import Request, Response, wire

GROUP = 10


@dataclass(frozen=True, slots=True)
class EnumCountResponse(Response):
    count: int


@dataclass(frozen=True, slots=True)
class EnumCount(Request[EnumCountResponse]):
    GROUP: ClassVar[int] = GROUP
    COMMAND: ClassVar[int] = 0
    OP: ClassVar[Op] = Op.READ
    RESPONSE: ClassVar[type[Response]] = EnumCountResponse


@dataclass(frozen=True, slots=True)
class EnumListResponse(Response):
    groups: list[int]


@dataclass(frozen=True, slots=True)
class EnumList(Request[EnumListResponse]):
    GROUP: ClassVar[int] = GROUP
    COMMAND: ClassVar[int] = 1
    OP: ClassVar[Op] = Op.READ
    RESPONSE: ClassVar[type[Response]] = EnumListResponse


@dataclass(frozen=True, slots=True)
class EnumSingleResponse(Response):
    """`end` is true for the last group only (the device leaves it out otherwise)."""

    group: int
    end: bool = wire(default=False, omit_default=True)


@dataclass(frozen=True, slots=True)
class EnumSingle(Request[EnumSingleResponse]):
    GROUP: ClassVar[int] = GROUP
    COMMAND: ClassVar[int] = 2
    OP: ClassVar[Op] = Op.READ
    RESPONSE: ClassVar[type[Response]] = EnumSingleResponse
    index: int | None = None


@dataclass(frozen=True, slots=True)
class GroupDetails(Response):
    group: int
    name: str | None = None
    handlers: int | None = None


@dataclass(frozen=True, slots=True)
class EnumDetailsResponse(Response):
    groups: list[GroupDetails]


@dataclass(frozen=True, slots=True)
class EnumDetails(Request[EnumDetailsResponse]):
    GROUP: ClassVar[int] = GROUP
    COMMAND: ClassVar[int] = 3
    OP: ClassVar[Op] = Op.READ
    RESPONSE: ClassVar[type[Response]] = EnumDetailsResponse
    groups: list[int] | None = None
