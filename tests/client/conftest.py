"""Fixtures: the test-local fake device over UDP (IPv4 and IPv6) and over a real pty."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from vtime import VirtualTimeLoop

from .fakedev import FakePtyDevice, FakeUDPDevice


@pytest.fixture
async def udp_device() -> AsyncIterator[FakeUDPDevice]:
    device = FakeUDPDevice()
    device.url = await device.start()  # type: ignore[attr-defined]
    yield device
    await device.close()
    device.check()


@pytest.fixture
async def pty_device(tmp_path: Path) -> AsyncIterator[FakePtyDevice]:
    device = FakePtyDevice(link=tmp_path / "ttyFAKE")
    device.url = device.start()  # type: ignore[attr-defined]
    yield device
    await device.close()
    device.check()


def pytest_asyncio_loop_factories(config: pytest.Config, item: pytest.Item) -> Mapping[str, Any]:
    """The fault tests count exact timeouts and resends under 0.1-0.3 s timeouts: on virtual time
    (`tests/vtime.py`) a loaded machine cannot add one. Over UDP only: loopback datagrams are in
    the socket buffer when `sendto` returns, while a pty hands bytes over later (real time there)."""
    fixtures = getattr(item, "fixturenames", ())
    if item.path.name == "test_faults.py" and "pty_device" not in fixtures:
        return {"virtual_time": VirtualTimeLoop}
    if item.path.name == "test_simulator.py" and item.name.endswith("_over_udp"):
        return {"virtual_time": VirtualTimeLoop}  # 0.2 s timeouts under 20 % loss: exact retries
    if item.path.name == "test_pacing.py":
        return {"virtual_time": VirtualTimeLoop}  # the pacer's waits are counted, no I/O involved
    return {"real_time": asyncio.new_event_loop}
