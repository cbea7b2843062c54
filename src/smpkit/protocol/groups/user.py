"""User and vendor groups (64 and up): raw maps in, raw maps out."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from smpkit.protocol.header import Op
from smpkit.protocol.model import Request, Response


@dataclass(frozen=True, slots=True)
class RawResponse(Response):
    body: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_body(cls, body: Mapping[str, Any], where: str | None = None) -> RawResponse:
        return cls(dict(body))

    def to_body(self) -> dict[str, Any]:
        return dict(self.body)


@dataclass(frozen=True, slots=True)
class RawRequest(Request[RawResponse]):
    """Any command of any group, with its body as a plain map."""

    RESPONSE: ClassVar[type[Response]] = RawResponse
    group: int
    command: int
    op: Op
    body: dict[str, Any] = field(default_factory=dict)

    def to_body(self) -> dict[str, Any]:
        return dict(self.body)

    def target(self) -> tuple[int, int, Op]:
        return self.group, self.command, self.op
