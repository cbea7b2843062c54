"""The simulator served as a BLE peripheral: its image group and reboots over the virtual link."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from ble_support import build_image, upload
from bumble.link import LocalLink

from smpkit.protocol import decode_message, encode_request, parse_response
from smpkit.protocol.groups.image import ImageStateRead
from smpkit.protocol.groups.os import Echo, McumgrParams, Reset
from smpkit.simulator import Simulator, SimulatorConfig
from smpkit.simulator.transports.ble import SMPBLEPeripheral, serve_ble
from smpkit.transport.bumble import SMPBumbleTransport
from smpkit.transport.errors import SMPTransportDisconnected

NAME = "smpkit-sim-ble"


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator(SimulatorConfig(buf_size=2475, buf_count=4)) as simulator:
        yield simulator


@pytest.fixture
async def server(sim: Simulator, link: LocalLink) -> SMPBLEPeripheral:
    peripheral = await serve_ble(sim, hci=link, name=NAME, new_address_on_reboot=True)
    assert peripheral.url == f"ble://{NAME}"
    return peripheral


async def request(transport: SMPBumbleTransport, packet: bytes) -> dict[str, object]:
    body: dict[str, object] = decode_message(await asyncio.wait_for(transport.send_and_receive(packet), 5.0)).body
    return body


async def test_image_upload_over_ble_with_chunks_larger_than_the_mtu(
    sim: Simulator, server: SMPBLEPeripheral, transport: SMPBumbleTransport, tmp_path: Path
) -> None:
    image = build_image(tmp_path, 60_000)
    await transport.connect(NAME, timeout_s=5.0)
    params = await request(transport, encode_request(McumgrParams(), 0))
    assert params["buf_size"] == 2475
    transport.set_device_buffer(int(params["buf_size"]))  # type: ignore[call-overload]
    sizes = await asyncio.wait_for(upload(transport, image, window=2), 30.0)
    assert max(sizes) == 2475 and transport.mtu == 495
    body = await request(transport, encode_request(ImageStateRead(), 9))
    state = parse_response(ImageStateRead(), body)
    assert [(s.slot, s.version) for s in state.images if s.slot == 1] == [(1, "1.2.3")]
    assert server.stats.dropped_writes == 0


async def test_reboot_drops_the_link_and_the_device_comes_back_under_a_new_address(
    sim: Simulator, server: SMPBLEPeripheral, transport: SMPBumbleTransport
) -> None:
    await transport.connect(NAME, timeout_s=5.0)
    old = transport.peer_address
    assert (await request(transport, encode_request(Reset(), 1))) in ({}, {"rc": 0})
    with pytest.raises(SMPTransportDisconnected):
        await asyncio.wait_for(transport.receive(), 5.0)
    await transport.reconnect(NAME, timeout_s=10.0)
    assert transport.peer_address != old
    assert (await request(transport, encode_request(Echo(d="again"), 2))) == {"r": "again"}
