"""Zephyr basic group (63)."""

from __future__ import annotations

from dataclasses import dataclass

from smpkit.protocol.header import Op
from smpkit.protocol.model import EmptyResponse, Request


@dataclass(frozen=True, slots=True)
class StorageErase(Request[EmptyResponse], group=63, command=0, op=Op.WRITE, idempotent=False):
    """Erase the whole `storage_partition` (settings, NVS, ...)."""

