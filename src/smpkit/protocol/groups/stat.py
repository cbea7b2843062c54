"""Statistics group (2)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from smpkit.protocol.header import Op
from smpkit.protocol.model import Request, Response

GROUP = 2


@dataclass(frozen=True, slots=True)
class StatShowResponse(Response):
    name: str
    fields: dict[str, int]


@dataclass(frozen=True, slots=True)
class StatShow(Request[StatShowResponse]):
    GROUP: ClassVar[int] = GROUP
    COMMAND: ClassVar[int] = 0
    OP: ClassVar[Op] = Op.READ
    RESPONSE: ClassVar[type[Response]] = StatShowResponse
    name: str


@dataclass(frozen=True, slots=True)
class StatListResponse(Response):
    stat_list: list[str]


@dataclass(frozen=True, slots=True)
class StatList(Request[StatListResponse]):
    GROUP: ClassVar[int] = GROUP
    COMMAND: ClassVar[int] = 1
    OP: ClassVar[Op] = Op.READ
    RESPONSE: ClassVar[type[Response]] = StatListResponse
