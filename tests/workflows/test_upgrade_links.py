"""Whole upgrade cycles over the serial pty and over the virtual BLE link (UDP is in test_upgrade.py).

Each link: an upgrade that is confirmed stays after another reset; one left unconfirmed
reverts to the old image at the next reset.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import pytest
from bumble.link import LocalLink

from smpkit import SMPClient
from smpkit.image import McubootImage
from smpkit.simulator import Simulator, SimulatorConfig
from smpkit.transport.bumble import SMPBumbleTransport
from smpkit.workflows.upgrade import upgrade

from .conftest import big_image

ClientFactory = Callable[[], AsyncIterator[tuple[Simulator, SMPClient]]]
FAST = {"reset_delay_s": 0.02}


@asynccontextmanager
async def over_serial() -> AsyncIterator[tuple[Simulator, SMPClient]]:
    async with Simulator(SimulatorConfig(buf_size=1024, buf_count=4, **FAST)) as sim:
        server = await sim.serve_serial_pty()
        async with SMPClient(server.url, timeout=1.0) as client:
            yield sim, client


@asynccontextmanager
async def over_ble() -> AsyncIterator[tuple[Simulator, SMPClient]]:
    link = LocalLink()
    async with Simulator(SimulatorConfig(buf_size=2475, buf_count=4, **FAST)) as sim:
        await sim.serve_ble(link, name="upgrade-ble")
        transport = SMPBumbleTransport(hci=link)
        async with SMPClient(transport, "upgrade-ble", timeout=2.0) as client:
            yield sim, client


LINKS = {"serial": over_serial, "ble": over_ble}


def running(state: object) -> list[tuple[str, bool]]:
    return [(s.version, s.confirmed) for s in state.images if s.active]  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def new_image() -> McubootImage:
    return big_image(30_000, version=(5, 1, 0, 0), seed=11)


@pytest.mark.parametrize("link", sorted(LINKS))
async def test_confirmed_upgrade_stays(link: str, new_image: McubootImage) -> None:
    async with LINKS[link]() as (sim, client):
        result = await upgrade(client, new_image, reconnect_timeout=20.0)
        assert result.outcome == "upgraded" and result.confirmed
        assert running(await client.image.state()) == [("5.1.0", True)]
        await client.os.reset()
        await client.reconnect(20.0)
        assert running(await client.image.state()) == [("5.1.0", True)]
        assert sim.device.images[0].slot(0).hash == new_image.hash


@pytest.mark.parametrize("link", sorted(LINKS))
async def test_unconfirmed_upgrade_reverts(link: str, new_image: McubootImage) -> None:
    async with LINKS[link]() as (sim, client):
        before = running(await client.image.state())
        result = await upgrade(client, new_image, confirm=False, reconnect_timeout=20.0)
        assert result.outcome == "upgraded" and not result.confirmed
        assert running(await client.image.state()) == [("5.1.0", False)]
        await client.os.reset()
        await client.reconnect(20.0)
        assert running(await client.image.state()) == before
        assert sim.device.images[0].slot(0).hash != new_image.hash
