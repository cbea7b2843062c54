"""Fixtures for the BLE tests: two Bumble hosts on one virtual link, no radio, no hardware."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from ble_support import SIM_NAME, echo_handler
from bumble.link import LocalLink

from smpkit.simulator.transports.ble import SMPBLEPeripheral
from smpkit.transport.bumble import SMPBumbleTransport


@pytest.fixture
def link() -> LocalLink:
    return LocalLink()


@pytest.fixture
async def peripheral(link: LocalLink) -> AsyncIterator[SMPBLEPeripheral]:
    async with SMPBLEPeripheral(echo_handler, hci=link, name=SIM_NAME) as server:
        yield server


@pytest.fixture
async def transport(link: LocalLink) -> AsyncIterator[SMPBumbleTransport]:
    client = SMPBumbleTransport(hci=link)
    yield client
    await client.disconnect()
