"""Servers that carry SMP to the simulated device: UDP, a serial pseudo-terminal (and BLE)."""

from __future__ import annotations

from typing import Protocol


class Server(Protocol):
    """What every transport server offers."""

    @property
    def url(self) -> str: ...

    async def close(self) -> None: ...

    def on_reboot(self) -> None: ...
