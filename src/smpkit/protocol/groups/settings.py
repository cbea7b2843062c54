"""Settings group (3): values are raw bytes whose type only the application knows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from smpkit.protocol.header import Op
from smpkit.protocol.model import EmptyResponse, Request, Response

GROUP = 3


@dataclass(frozen=True, slots=True)
class SettingsReadResponse(Response):
    val: bytes
    max_size: int | None = None


@dataclass(frozen=True, slots=True)
class SettingsRead(Request[SettingsReadResponse]):
    GROUP: ClassVar[int] = GROUP
    COMMAND: ClassVar[int] = 0
    OP: ClassVar[Op] = Op.READ
    RESPONSE: ClassVar[type[Response]] = SettingsReadResponse
    name: str
    max_size: int | None = None


@dataclass(frozen=True, slots=True)
class SettingsWrite(Request[EmptyResponse]):
    GROUP: ClassVar[int] = GROUP
    COMMAND: ClassVar[int] = 0
    OP: ClassVar[Op] = Op.WRITE
    RESPONSE: ClassVar[type[Response]] = EmptyResponse
    name: str
    val: bytes


@dataclass(frozen=True, slots=True)
class SettingsDelete(Request[EmptyResponse]):
    GROUP: ClassVar[int] = GROUP
    COMMAND: ClassVar[int] = 1
    OP: ClassVar[Op] = Op.WRITE
    RESPONSE: ClassVar[type[Response]] = EmptyResponse
    name: str


@dataclass(frozen=True, slots=True)
class SettingsCommit(Request[EmptyResponse]):
    GROUP: ClassVar[int] = GROUP
    COMMAND: ClassVar[int] = 2
    OP: ClassVar[Op] = Op.WRITE
    RESPONSE: ClassVar[type[Response]] = EmptyResponse


@dataclass(frozen=True, slots=True)
class SettingsLoad(Request[EmptyResponse]):
    GROUP: ClassVar[int] = GROUP
    COMMAND: ClassVar[int] = 3
    OP: ClassVar[Op] = Op.READ
    RESPONSE: ClassVar[type[Response]] = EmptyResponse


@dataclass(frozen=True, slots=True)
class SettingsSave(Request[EmptyResponse]):
    GROUP: ClassVar[int] = GROUP
    COMMAND: ClassVar[int] = 3
    OP: ClassVar[Op] = Op.WRITE
    RESPONSE: ClassVar[type[Response]] = EmptyResponse
