"""Waves and the abort rule of a campaign.

`--waves 1,10%,100%` names cumulative sizes: the first wave is 1 device, the second
brings the total to 10 % of the selected devices, the last to all of them. Devices past
the last size are reported as skipped. `--max-failures 5%` (or a count) is checked before
each next wave, once at least the first wave has run (or `min_executed` devices).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Amount:
    """A count (`3`) or a percentage (`10%`) of some total."""

    value: float
    percent: bool

    @classmethod
    def parse(cls, text: str) -> Amount:
        raw = text.strip()
        percent = raw.endswith("%")
        number = raw.removesuffix("%").strip()
        try:
            value = float(number)
        except ValueError:
            raise ValueError(f"{text!r} is neither a count nor a percentage (e.g. 5 or 10%)") from None
        if value < 0 or not math.isfinite(value) or (percent and value > 100):
            raise ValueError(f"{text!r} is out of range")
        if not percent and value != int(value):
            raise ValueError(f"{text!r}: a count must be a whole number")
        return cls(value, percent)

    def of(self, total: int) -> int:
        """The amount of `total` devices, rounded up (10 % of 5 devices is 1)."""
        return math.ceil(total * self.value / 100) if self.percent else int(self.value)

    def __str__(self) -> str:
        return f"{self.value:g}%" if self.percent else str(int(self.value))


def parse_waves(spec: str | None) -> list[Amount]:
    if not spec:
        return [Amount(100, True)]
    amounts = [Amount.parse(part) for part in spec.split(",") if part.strip()]
    if not amounts:
        raise ValueError(f"--waves {spec!r}: give sizes like 1,10%,100%")
    return amounts


def wave_sizes(amounts: list[Amount], total: int) -> list[int]:
    """The number of devices in each wave (cumulative amounts -> sizes; empty waves dropped)."""
    sizes: list[int] = []
    covered = 0
    for amount in amounts:
        target = min(total, max(amount.of(total), covered))
        if target > covered:
            sizes.append(target - covered)
            covered = target
    return sizes


def split_waves(items: list[T], amounts: list[Amount]) -> tuple[list[list[T]], list[T]]:
    """`items` cut into waves, and the ones no wave covers."""
    waves: list[list[T]] = []
    start = 0
    for size in wave_sizes(amounts, len(items)):
        waves.append(items[start:start + size])
        start += size
    return waves, items[start:]


@dataclass(frozen=True, slots=True)
class AbortRule:
    """Stop before the next wave when more than `max_failures` of the executed devices failed."""

    max_failures: Amount | None = None
    #: Devices that must have run before the rule applies (None: the whole first wave).
    min_executed: int | None = None

    def verdict(self, executed: int, failed: int, first_wave: int) -> str | None:
        """Why to stop, or None to go on."""
        if self.max_failures is None or executed == 0:
            return None
        needed = self.min_executed if self.min_executed is not None else first_wave
        if executed < needed:
            return None
        limit = self.max_failures
        exceeded = failed * 100 > limit.value * executed if limit.percent else failed > limit.value
        if not exceeded:
            return None
        return f"{failed} of {executed} devices failed (more than {limit}): later waves skipped"
