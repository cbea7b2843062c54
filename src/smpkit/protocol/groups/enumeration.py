"""Enumeration group (10): which groups the device serves."""

from __future__ import annotations

from dataclasses import dataclass

from smpkit.protocol.header import Op
from smpkit.protocol.model import Request, Response, wire

GROUP = 10


@dataclass(frozen=True, slots=True)
class EnumCountResponse(Response):
    count: int


@dataclass(frozen=True, slots=True)
class EnumCount(Request[EnumCountResponse], group=GROUP, command=0, op=Op.READ):
    """How many groups the device serves."""


@dataclass(frozen=True, slots=True)
class EnumListResponse(Response):
    groups: list[int]


@dataclass(frozen=True, slots=True)
class EnumList(Request[EnumListResponse], group=GROUP, command=1, op=Op.READ):
    """The ids of the groups the device serves, in registration order."""


@dataclass(frozen=True, slots=True)
class EnumSingleResponse(Response):
    """`end` is true for the last group only (the device leaves it out otherwise)."""

    group: int
    end: bool = wire(default=False, omit_default=True)


@dataclass(frozen=True, slots=True)
class EnumSingle(Request[EnumSingleResponse], group=GROUP, command=2, op=Op.READ):
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
class EnumDetails(Request[EnumDetailsResponse], group=GROUP, command=3, op=Op.READ):
    groups: list[int] | None = None
