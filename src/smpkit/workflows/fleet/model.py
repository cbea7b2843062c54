"""What a fleet campaign works on and what it reports: devices, outcomes, results, events."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: A device's outcome in the report. "planned" only in a dry run.
UPGRADED = "upgraded"
ALREADY = "already"
FAILED = "failed"
SKIPPED = "skipped"
PLANNED = "planned"
OK_OUTCOMES = frozenset({UPGRADED, ALREADY, PLANNED})


@dataclass(frozen=True, slots=True)
class FleetDevice:
    """One entry of the fleet file. `host` names the gateway that owns its port or adapter."""

    name: str
    conn: str
    host: str | None = None
    tags: tuple[str, ...] = ()
    #: The board `os info` must report (hardware platform, format letter `i`), when pinned.
    board: str | None = None
    timeout: float | None = None
    retries: int | None = None


@dataclass(frozen=True, slots=True)
class JobOutcome:
    """What one device's job returns, wherever it ran (picklable for Dask)."""

    outcome: str
    version: str | None = None
    hash: str | None = None
    error: str | None = None
    #: The gateway that ran the job (None: this machine).
    ran_on: str | None = None


@dataclass(slots=True)
class DeviceResult:
    """One line of the report (`devices[]` in `--json`)."""

    name: str
    host: str | None
    outcome: str
    version: str | None = None
    hash: str | None = None
    seconds: float = 0.0
    error: str | None = None
    attempts: int = 0

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "host": self.host, "outcome": self.outcome, "version": self.version,
                "hash": self.hash, "seconds": round(self.seconds, 3), "error": self.error}


@dataclass(frozen=True, slots=True)
class FleetEvent:
    """Something the live view shows. `kind`: wave, start, step, progress, done, abort."""

    kind: str
    name: str = ""
    step: str = ""
    detail: str = ""
    done: int = 0
    total: int = 0
    result: DeviceResult | None = None
    wave: int = 0


@dataclass(slots=True)
class CampaignReport:
    results: list[DeviceResult]
    waves: list[int]
    aborted: bool = False
    abort_reason: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> dict[str, int]:
        counts = {UPGRADED: 0, ALREADY: 0, FAILED: 0, SKIPPED: 0}
        for result in self.results:
            counts[result.outcome] = counts.get(result.outcome, 0) + 1
        return counts

    @property
    def failed(self) -> int:
        return sum(1 for r in self.results if r.outcome == FAILED)

    def to_json(self) -> dict[str, Any]:
        return {"summary": self.summary(), "devices": [r.to_json() for r in self.results],
                "waves": self.waves, "aborted": self.aborted, "abort_reason": self.abort_reason, **self.extra}
