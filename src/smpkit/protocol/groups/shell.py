"""Shell group (9)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from smpkit.protocol.header import Op
from smpkit.protocol.model import Request, Response


@dataclass(frozen=True, slots=True)
class ShellExecResponse(Response):
    """`ret` is the command's own return value, not an SMP error (legacy builds call it `rc`)."""

    #: A legacy body's "rc" next to "o" is the command result, not an SMP error.
    RC_IS_RESULT: ClassVar[bool] = True
    o: str
    ret: int = 0

    @classmethod
    def from_body(cls, body: Mapping[str, Any], where: str | None = None) -> ShellExecResponse:
        if "ret" not in body and "rc" in body:
            body = {**body, "ret": body["rc"]}
        return super(ShellExecResponse, cls).from_body(body, where)


@dataclass(frozen=True, slots=True)
class ShellExec(Request[ShellExecResponse], group=9, command=0, op=Op.WRITE, idempotent=False):
    argv: list[str]
