"""Statistics group (2)."""

from __future__ import annotations

from dataclasses import dataclass

from smpkit.protocol.header import Op
from smpkit.protocol.model import Request, Response

GROUP = 2


@dataclass(frozen=True, slots=True)
class StatShowResponse(Response):
    name: str
    fields: dict[str, int]


@dataclass(frozen=True, slots=True)
class StatShow(Request[StatShowResponse], group=GROUP, command=0, op=Op.READ):
    name: str


@dataclass(frozen=True, slots=True)
class StatListResponse(Response):
    stat_list: list[str]


@dataclass(frozen=True, slots=True)
class StatList(Request[StatListResponse], group=GROUP, command=1, op=Op.READ):
    """The names of the statistics groups."""
