"""How many jobs may run at once: overall, and per physical link.

A serial port carries one conversation at a time; a BLE adapter one connection at a
time unless it says it can hold more (`ble_links`). UDP devices share nothing. Links are
counted per gateway host, since two gateways each have their own /dev/ttyACM0.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from urllib.parse import parse_qs, urlsplit

from smpkit.workflows.fleet.model import FleetDevice


def link_of(device: FleetDevice) -> str | None:
    """The shared resource a device's connection occupies (None: nothing shared)."""
    url = urlsplit(device.conn)
    where = device.host or ""
    if url.scheme == "serial":
        return f"{where}|serial:{url.netloc}{url.path}"
    if url.scheme == "ble":
        adapter = (parse_qs(url.query).get("adapter") or ["default"])[0]
        return f"{where}|ble:{adapter}"
    if url.scheme == "bumble":
        hci = (parse_qs(url.query).get("hci") or ["default"])[0]
        return f"{where}|ble:{hci}"
    return None


class Limits:
    """`async with limits.slot(device):` waits for the device's link, then for a free overall slot."""

    def __init__(self, concurrency: int, ble_links: int = 1, serial_links: int = 1) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self._overall = asyncio.Semaphore(concurrency)
        self._per_kind = {"ble": max(1, ble_links), "serial": max(1, serial_links)}
        self._links: dict[str, asyncio.Semaphore] = {}

    def _link(self, key: str) -> asyncio.Semaphore:
        if key not in self._links:
            kind = key.split("|", 1)[1].split(":", 1)[0]
            self._links[key] = asyncio.Semaphore(self._per_kind.get(kind, 1))
        return self._links[key]

    @contextlib.asynccontextmanager
    async def slot(self, device: FleetDevice) -> AsyncIterator[None]:
        key = link_of(device)
        # The link first: a device waiting for a busy port must not hold one of the overall slots.
        async with contextlib.AsyncExitStack() as stack:
            if key is not None:
                await stack.enter_async_context(self._link(key))
            await stack.enter_async_context(self._overall)
            yield
