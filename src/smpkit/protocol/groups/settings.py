"""Settings group (3): values are raw bytes whose type only the application knows."""

from __future__ import annotations

from dataclasses import dataclass

from smpkit.protocol.header import Op
from smpkit.protocol.model import EmptyResponse, Request, Response

GROUP = 3


@dataclass(frozen=True, slots=True)
class SettingsReadResponse(Response):
    val: bytes
    max_size: int | None = None


@dataclass(frozen=True, slots=True)
class SettingsRead(Request[SettingsReadResponse], group=GROUP, command=0, op=Op.READ):
    name: str
    max_size: int | None = None


@dataclass(frozen=True, slots=True)
class SettingsWrite(Request[EmptyResponse], group=GROUP, command=0, op=Op.WRITE):
    name: str
    val: bytes


@dataclass(frozen=True, slots=True)
class SettingsDelete(Request[EmptyResponse], group=GROUP, command=1, op=Op.WRITE):
    name: str


@dataclass(frozen=True, slots=True)
class SettingsCommit(Request[EmptyResponse], group=GROUP, command=2, op=Op.WRITE):
    """Apply the settings written so far."""


@dataclass(frozen=True, slots=True)
class SettingsLoad(Request[EmptyResponse], group=GROUP, command=3, op=Op.READ):
    """Load the settings from storage."""


@dataclass(frozen=True, slots=True)
class SettingsSave(Request[EmptyResponse], group=GROUP, command=3, op=Op.WRITE):
    """Save the settings to storage."""
