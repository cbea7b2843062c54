"""Command handlers, one module per SMP group.

Each module exposes `GROUP` (its id), `NAME` (as `enum details` reports it) and
`COMMANDS`: a table of (command id, op) -> `Command`. A handler gets a `Call` and
returns the response map, or raises `GroupError` (v2 `err`, translated for v1) or
`MgmtError` (a plain `rc`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from smpkit.simulator.device import Device

READ, WRITE = 0, 2


class MgmtError(Exception):
    """An SMP-level failure: the body is `{"rc": rc}` in both protocol versions."""

    def __init__(self, rc: int) -> None:
        super().__init__(f"rc {rc}")
        self.rc = rc


class GroupError(Exception):
    """A group failure: `{"err": {"group", "rc"}}` plus `extra` keys in v2; a translated `rc` in v1."""

    def __init__(self, group: int, rc: int, extra: Mapping[str, Any] | None = None, reason: str | None = None) -> None:
        super().__init__(f"group {group} rc {rc}")
        self.group = group
        self.rc = rc
        self.extra = dict(extra or {})
        self.reason = reason


class NoResponse(Exception):
    """The device does not answer this request (it reset while handling it)."""


@dataclass(slots=True)
class Call:
    device: Device
    body: dict[str, Any]
    op: int
    version: int
    sequence: int


Handler = Callable[[Call], dict[str, Any]]


@dataclass(frozen=True, slots=True)
class Command:
    handler: Handler
    #: False: Zephyr never decodes the body, so anything (even bad CBOR) is accepted.
    takes_args: bool = True


@dataclass(frozen=True, slots=True)
class GroupSpec:
    group: int
    name: str
    commands: Mapping[tuple[int, int], Command] = field(default_factory=dict)

    @property
    def handler_count(self) -> int:
        """Size of Zephyr's handler array: the highest command id plus one."""
        return max((cmd for cmd, _ in self.commands), default=-1) + 1


# zcbor-like argument decoding: a present key of the wrong type fails the whole request (rc 3).
def _is_uint(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


_CHECKS: dict[str, Callable[[Any], bool]] = {
    "uint": _is_uint,
    "int": _is_int,
    "tstr": lambda v: isinstance(v, str),
    "bstr": lambda v: isinstance(v, (bytes, bytearray)),
    "bool": lambda v: isinstance(v, bool),
    "list": lambda v: isinstance(v, list),
    "map": lambda v: isinstance(v, dict),
}


def args(body: Mapping[str, Any], spec: Mapping[str, str]) -> dict[str, Any]:
    """The keys of `spec` found in `body`, type-checked as zcbor would (wrong type: rc 3)."""
    found: dict[str, Any] = {}
    for key, kind in spec.items():
        if key in body:
            value = body[key]
            if not _CHECKS[kind](value):
                raise MgmtError(3)
            found[key] = bytes(value) if isinstance(value, bytearray) else value
    return found
