"""Fixtures: the test-local fake device over UDP (IPv4 and IPv6) and over a real pty."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from .fakedev import FakePtyDevice, FakeUDPDevice


@pytest.fixture
async def udp_device() -> AsyncIterator[FakeUDPDevice]:
    device = FakeUDPDevice()
    device.url = await device.start()  # type: ignore[attr-defined]
    yield device
    await device.close()


@pytest.fixture
async def pty_device(tmp_path: Path) -> AsyncIterator[FakePtyDevice]:
    device = FakePtyDevice(link=tmp_path / "ttyFAKE")
    device.url = device.start()  # type: ignore[attr-defined]
    yield device
    await device.close()
