"""SMP over a real Bumble host stack on each side of a virtual link (no radio, no hardware)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from ble_support import SIM_NAME, UploadHandler, build_image, echo_handler, upload
from bumble.keys import JsonKeyStore
from bumble.link import LocalLink

from smpkit.protocol import decode_message, encode_request
from smpkit.protocol.groups.os import Echo, McumgrParams
from smpkit.simulator.transports.ble import SMPBLEPeripheral
from smpkit.transport.bumble import (
    SMPBumbleTransport,
    SMPBumbleTransportDeviceNotFound,
    SMPBumbleTransportNotSMPServer,
    open_bumble_device,
)
from smpkit.transport.errors import SMPTransportDisconnected


async def echo(transport: SMPBumbleTransport, text: str, seq: int = 1) -> str:
    reply = await asyncio.wait_for(transport.send_and_receive(encode_request(Echo(d=text), seq)), 5.0)
    result: str = decode_message(reply).body["r"]
    return result


async def test_connect_by_name_and_echo(peripheral: SMPBLEPeripheral, transport: SMPBumbleTransport) -> None:
    await transport.connect(SIM_NAME, timeout_s=5.0)
    assert await echo(transport, "hello") == "hello"
    assert transport.peer_address is not None
    assert transport.peer_address.split("/")[0] == peripheral.address


async def test_connect_by_address(peripheral: SMPBLEPeripheral, transport: SMPBumbleTransport) -> None:
    await transport.connect(peripheral.address, timeout_s=5.0)
    assert await echo(transport, "by address") == "by address"


async def test_scan_finds_the_smp_device_with_its_scan_response_name(
    link: LocalLink, peripheral: SMPBLEPeripheral, transport: SMPBumbleTransport
) -> None:
    # a second advertiser that is no SMP server must not be listed
    other, close_other = await open_bumble_device(link, "not-smp", "C1:00:00:00:00:09")
    await other.power_on()
    await other.start_advertising(advertising_data=bytes([6, 0x09]) + b"other", advertising_interval_min=20.0)
    try:
        results = await transport.scan(timeout_s=0.5)
        everything = await transport.scan(timeout_s=0.5, smp_only=False)
    finally:
        await close_other()
    assert [(r.name, r.address.split("/")[0]) for r in results] == [(SIM_NAME, peripheral.address)]
    assert results[0].rssi is not None
    assert "other" in {r.name for r in everything}


async def test_name_not_found(peripheral: SMPBLEPeripheral, transport: SMPBumbleTransport) -> None:
    with pytest.raises(SMPBumbleTransportDeviceNotFound):
        await transport.connect("no-such-device", timeout_s=0.5)
    assert not transport.is_connected


async def test_a_device_without_smp_is_refused(link: LocalLink, transport: SMPBumbleTransport) -> None:
    plain, close_plain = await open_bumble_device(link, "plain", "C1:00:00:00:00:0A")
    await plain.power_on()
    await plain.start_advertising(advertising_data=bytes([6, 0x09]) + b"plain", advertising_interval_min=20.0)
    try:
        with pytest.raises(SMPBumbleTransportNotSMPServer):
            await transport.connect("plain", timeout_s=3.0)
    finally:
        await close_plain()


async def test_mtu_negotiated_on_both_sides(peripheral: SMPBLEPeripheral, transport: SMPBumbleTransport) -> None:
    await transport.connect(SIM_NAME, timeout_s=5.0)
    assert transport.att_mtu == 498
    assert transport.mtu == 495
    assert peripheral.stats.mtus == [498]
    assert peripheral.connections[0].att_mtu == 498


async def test_mtu_capped_by_the_server(link: LocalLink) -> None:
    async with SMPBLEPeripheral(echo_handler, hci=link, name="small", max_mtu=247) as server:
        client = SMPBumbleTransport(hci=link)
        try:
            await client.connect("small", timeout_s=5.0)
            assert (client.att_mtu, client.mtu) == (247, 244)
            assert server.stats.mtus == [247]
            # a 1000-byte echo comes back as notifications of exactly MTU - 3 bytes
            text = "x" * 1000
            assert await echo(client, text) == text
            sizes = server.stats.notifications
            assert sizes[:-1] == [244] * (len(sizes) - 1) and 0 < sizes[-1] <= 244
        finally:
            await client.disconnect()


async def test_requests_larger_than_one_write(peripheral: SMPBLEPeripheral, transport: SMPBumbleTransport) -> None:
    await transport.connect(SIM_NAME, timeout_s=5.0)
    transport.set_device_buffer(2475)
    assert transport.max_packet_size == 2475
    text = "y" * 2000
    before = transport.writes
    assert await echo(transport, text) == text
    assert transport.writes - before == -(-(2000 + 8 + 4) // 495)
    assert peripheral.stats.dropped_writes == 0


async def test_two_messages_in_one_send_never_share_a_write(
    peripheral: SMPBLEPeripheral, transport: SMPBumbleTransport
) -> None:
    # Zephyr drops both requests when one write holds the end of one and the start of the next
    await transport.connect(SIM_NAME, timeout_s=5.0)
    first, second = encode_request(Echo(d="a" * 600), 1), encode_request(Echo(d="b"), 2)
    await transport.send(first + second)
    replies = [decode_message(await asyncio.wait_for(transport.receive(), 5.0)) for _ in range(2)]
    assert [r.body["r"] for r in replies] == ["a" * 600, "b"]
    assert peripheral.stats.dropped_writes == 0


async def test_two_responses_in_one_notification_burst(link: LocalLink) -> None:
    async with SMPBLEPeripheral(echo_handler, hci=link, name=SIM_NAME, latency_ms=30) as server:
        client = SMPBumbleTransport(hci=link)
        try:
            await client.connect(SIM_NAME, timeout_s=5.0)
            # both requests are in flight before any answer; the answers then come back to back
            await client.send(encode_request(Echo(d="one" * 200), 1))
            await client.send(encode_request(McumgrParams(), 2))
            await asyncio.sleep(0.2)
            replies = [decode_message(await asyncio.wait_for(client.receive(), 5.0)) for _ in range(2)]
            assert [r.header.sequence for r in replies] == [1, 2]
            assert replies[0].body == {"r": "one" * 200}
            assert replies[1].body == {"buf_size": 2475, "buf_count": 4}
            assert server.stats.responses == 2
        finally:
            await client.disconnect()


async def test_disconnect_wakes_a_waiting_receive(link: LocalLink) -> None:
    async with SMPBLEPeripheral(echo_handler, hci=link, name=SIM_NAME, latency_ms=500, drop_after=1):
        client = SMPBumbleTransport(hci=link)
        try:
            await client.connect(SIM_NAME, timeout_s=5.0)
            waiting = asyncio.ensure_future(client.receive())
            await client.send(encode_request(Echo(d="never answered"), 1))
            with pytest.raises(SMPTransportDisconnected):
                await asyncio.wait_for(waiting, 2.0)  # well before the 500 ms answer would be due... or never
            assert not client.is_connected
            with pytest.raises(SMPTransportDisconnected):
                await client.send(encode_request(Echo(d="x"), 2))
        finally:
            await client.disconnect()


async def test_disconnect_in_the_middle_of_a_request_discards_it(
    peripheral: SMPBLEPeripheral, transport: SMPBumbleTransport
) -> None:
    await transport.connect(SIM_NAME, timeout_s=5.0)
    request = encode_request(Echo(d="z" * 1200), 1)
    await transport._write(request[:495])  # half a request, then the link drops
    await asyncio.sleep(0.05)
    await peripheral.disconnect_all()
    await asyncio.sleep(0.05)
    assert not transport.is_connected
    await transport.connect(SIM_NAME, timeout_s=5.0)
    await transport._write(request[495:990])  # the rest of the old request: no header, dropped
    assert await echo(transport, "fresh", seq=2) == "fresh"
    assert peripheral.stats.requests == 1


async def test_reset_and_reconnect_by_name_under_a_new_address(
    peripheral: SMPBLEPeripheral, transport: SMPBumbleTransport
) -> None:
    await transport.connect(SIM_NAME, timeout_s=5.0)
    old_address = transport.peer_address
    resets = []
    peripheral.on_reset = lambda: resets.append(1)
    reset = asyncio.ensure_future(peripheral.reset(downtime_s=0.3, new_address=True))
    with pytest.raises(SMPTransportDisconnected):
        await asyncio.wait_for(transport.receive(), 2.0)
    await transport.reconnect(SIM_NAME, timeout_s=5.0)
    await reset
    assert resets == [1]
    assert transport.peer_address != old_address
    assert transport.peer_address is not None
    assert transport.peer_address.split("/")[0] == peripheral.address
    assert await echo(transport, "back") == "back"


async def test_image_upload_with_chunks_larger_than_the_mtu(link: LocalLink, tmp_path: Path) -> None:
    image = build_image(tmp_path, 40_000)
    handler = UploadHandler()
    async with SMPBLEPeripheral(handler, hci=link, name=SIM_NAME) as server:
        client = SMPBumbleTransport(hci=link)
        try:
            await client.connect(SIM_NAME, timeout_s=5.0)
            params = decode_message(await client.send_and_receive(encode_request(McumgrParams(), 0)))
            client.set_device_buffer(params.body["buf_size"])
            sizes = await asyncio.wait_for(upload(client, image, window=2), 30.0)
        finally:
            await client.disconnect()
    assert bytes(handler.image) == image
    assert max(sizes) == 2475 > client.mtu
    assert server.stats.dropped_writes == 0


async def test_pairing_with_a_keystore(link: LocalLink, tmp_path: Path) -> None:
    keys = tmp_path / "keys.json"
    async with SMPBLEPeripheral(echo_handler, hci=link, name=SIM_NAME, require_encryption=True) as server:
        # without pairing the device ignores our writes
        plain = SMPBumbleTransport(hci=link, host_address="F0:5C:81:00:00:03")
        try:
            await plain.connect(SIM_NAME, timeout_s=5.0)
            await plain.send(encode_request(Echo(d="hi"), 1))
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(plain.receive(), 0.3)
        finally:
            await plain.disconnect()

        paired = SMPBumbleTransport(hci=link, keystore=str(keys), pair=True)
        try:
            await paired.connect(SIM_NAME, timeout_s=5.0)
            assert paired.connection is not None and paired.connection.is_encrypted
            assert await echo(paired, "secret") == "secret"
        finally:
            await paired.disconnect()
        stored = await JsonKeyStore("F0:5C:81:00:00:02", str(keys)).get_all()
        assert [address.split("/")[0] for address, _ in stored] == [server.address]

        # the bond is reused on the next connection: encrypted without pairing again
        again = SMPBumbleTransport(hci=link, keystore=str(keys))
        try:
            await again.connect(SIM_NAME, timeout_s=5.0)
            assert again.connection is not None and again.connection.is_encrypted
            assert await echo(again, "bonded") == "bonded"
        finally:
            await again.disconnect()


