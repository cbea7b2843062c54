"""Zephyr basic group (63)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from smpkit.protocol.header import Op
from smpkit.protocol.model import EmptyResponse, Request, Response


@dataclass(frozen=True, slots=True)
class StorageErase(Request[EmptyResponse]):
    """Erase the whole `storage_partition` (settings, NVS, ...)."""

    GROUP: ClassVar[int] = 63
    COMMAND: ClassVar[int] = 0
    OP: ClassVar[Op] = Op.WRITE
    RESPONSE: ClassVar[type[Response]] = EmptyResponse
    IDEMPOTENT: ClassVar[bool] = False
