"""OS group (0): echo, task and memory statistics, date-time, reset, parameters, info."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from smpkit.protocol.header import Op
from smpkit.protocol.model import EmptyResponse, Request, Response, wire

GROUP = 0


@dataclass(frozen=True, slots=True)
class EchoResponse(Response):
    r: str


@dataclass(frozen=True, slots=True)
class Echo(Request[EchoResponse], group=GROUP, command=0, op=Op.WRITE):
    """Echo `d` back (Zephyr answers a missing `d` with "")."""

    d: str = ""


@dataclass(frozen=True, slots=True)
class TaskInfo(Response):
    prio: int
    tid: int
    state: int
    stksiz: int | None = None
    stkuse: int | None = None
    runtime: int | None = None
    cswcnt: int | None = None
    last_checkin: int | None = None
    next_checkin: int | None = None


@dataclass(frozen=True, slots=True)
class TaskStatResponse(Response):
    tasks: dict[str, TaskInfo]


@dataclass(frozen=True, slots=True)
class TaskStat(Request[TaskStatResponse], group=GROUP, command=2, op=Op.READ):
    """Statistics of every thread."""


@dataclass(frozen=True, slots=True)
class MemoryPool(Response):
    blksiz: int
    nblks: int
    nfree: int
    min: int | None = None


@dataclass(frozen=True, slots=True)
class MemoryPoolStatsResponse(Response):
    """Pools by name. Accepts both the `{"mpools": {...}}` and the top-level shape."""

    mpools: dict[str, MemoryPool]

    @classmethod
    def from_body(cls, body: Mapping[str, Any], where: str | None = None) -> MemoryPoolStatsResponse:
        if "mpools" in body:  # a non-map "mpools" is a type error, not the top-level shape
            return super(MemoryPoolStatsResponse, cls).from_body(body, where)
        pools = {k: v for k, v in body.items() if isinstance(v, dict)}
        return super(MemoryPoolStatsResponse, cls).from_body({"mpools": pools}, where)


@dataclass(frozen=True, slots=True)
class MemoryPoolStats(Request[MemoryPoolStatsResponse], group=GROUP, command=3, op=Op.READ):
    """Statistics of every memory pool or heap."""


@dataclass(frozen=True, slots=True)
class DateTimeResponse(Response):
    datetime: str


@dataclass(frozen=True, slots=True)
class DateTimeGet(Request[DateTimeResponse], group=GROUP, command=4, op=Op.READ):
    """Read the device's real-time clock."""


@dataclass(frozen=True, slots=True)
class DateTimeSet(Request[EmptyResponse], group=GROUP, command=4, op=Op.WRITE):
    """Set the RTC; send `YYYY-MM-DDTHH:MM:SS[.mmm]` without a time zone."""

    datetime: str


@dataclass(frozen=True, slots=True)
class Reset(Request[EmptyResponse], group=GROUP, command=5, op=Op.WRITE, idempotent=False):
    """Reboot the device; `boot_mode` 1 asks for the bootloader (serial recovery)."""

    force: bool | None = None
    boot_mode: int | None = None


@dataclass(frozen=True, slots=True)
class McumgrParamsResponse(Response):
    buf_size: int
    buf_count: int


@dataclass(frozen=True, slots=True)
class McumgrParams(Request[McumgrParamsResponse], group=GROUP, command=6, op=Op.READ):
    """The device's SMP buffer size and count."""


@dataclass(frozen=True, slots=True)
class OSInfoResponse(Response):
    output: str


@dataclass(frozen=True, slots=True)
class OSInfo(Request[OSInfoResponse], group=GROUP, command=7, op=Op.READ):
    """`format` letters: s n r v b m p i o, or a for all."""

    format: str | None = None


@dataclass(frozen=True, slots=True)
class BootloaderInfoResponse(Response):
    bootloader: str | None = None
    mode: int | None = None
    no_downgrade: bool = wire("no-downgrade", False, omit_default=True)
    active: int | None = None


@dataclass(frozen=True, slots=True)
class BootloaderInfo(Request[BootloaderInfoResponse], group=GROUP, command=8, op=Op.READ):
    """No query: the bootloader's name; `query="mode"`: MCUboot's mode number."""

    query: str | None = None


class MCUbootMode:
    """Values of `BootloaderInfoResponse.mode`."""

    NAMES: ClassVar[dict[int, str]] = {
        -1: "unknown",
        0: "single slot",
        1: "swap using scratch",
        2: "overwrite only",
        3: "swap without scratch",
        4: "direct-XIP",
        5: "direct-XIP with revert",
        6: "RAM load",
        7: "firmware loader",
        8: "single-slot RAM load",
        9: "swap using offset",
    }
