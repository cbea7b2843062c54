"""Image upload against the simulator over real UDP and a real pty."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib

import pytest

from smpkit.image import HashMismatch, McubootImage, NotAnImage, parse_image
from smpkit.image.build import make_image, make_test_body
from smpkit.protocol.codec import encode_request
from smpkit.protocol.errors import SMPGroupError
from smpkit.protocol.groups.image import ImageUpload
from smpkit.simulator import Faults, Simulator, SimulatorConfig
from smpkit.workflows.progress import Progress
from smpkit.workflows.upload import UploadInterrupted, upload

from .conftest import SimFactory, big_image, client_for, slot_bytes, uploads


async def test_upload_signed_image_over_udp(udp_sim: SimFactory, signed_image: McubootImage) -> None:
    sim, url = await udp_sim()
    seen: list[Progress] = []
    async with client_for(url) as client:
        result = await upload(client, signed_image, on_progress=seen.append)
        state = await client.image.state()
    assert slot_bytes(sim) == signed_image.data
    assert result.match is True and result.verified == "match"
    assert result.total == signed_image.size and result.resumed_from == 0
    assert [s.hash for s in state.images if s.slot == 1] == [signed_image.hash]
    assert seen and seen[-1].done == seen[-1].total == signed_image.size
    assert [p.done for p in seen] == sorted(p.done for p in seen)


async def test_progress_as_async_iterator(udp_sim: SimFactory) -> None:
    sim, url = await udp_sim()
    image = big_image(60_000)
    async with client_for(url) as client:
        transfer = upload(client, image)
        reports = [p async for p in transfer]
        result = await transfer
    assert reports[-1].done == image.size and all(p.rate >= 0 for p in reports)
    assert len(reports) >= 10 and result.verified == "match"
    assert slot_bytes(sim) == image.data


async def test_chunks_fill_the_request_budget_exactly(udp_sim: SimFactory) -> None:
    _sim, url = await udp_sim()
    image = big_image(70_000)
    async with client_for(url) as client:
        budget = client.max_request_size
        sent: list[int] = []
        original = client.request

        async def spy(request: object, **kw: object) -> object:
            if isinstance(request, ImageUpload):
                sent.append(len(encode_request(request, 0)))
            return await original(request, **kw)  # type: ignore[arg-type]

        client.request = spy  # type: ignore[method-assign]
        await upload(client, image)
    assert sent[:-1] == [budget] * (len(sent) - 1)  # only the last chunk is short
    assert sent[-1] <= budget


async def test_pipelining_keeps_several_chunks_in_flight(udp_sim: SimFactory) -> None:
    _sim, url = await udp_sim(faults=Faults(latency_ms=5))
    image = big_image(60_000)
    async with client_for(url) as client:
        await upload(client, image)
        peak = client.stats.max_in_flight
        window = client.window
    # every slot the window gives is used; at 5 ms each way pacing may take it beyond `maximum`
    assert window.maximum >= 2 and peak == window.peak >= window.maximum


async def test_upload_over_serial_pty(signed_image: McubootImage) -> None:
    from smpkit import SMPClient

    async with Simulator(SimulatorConfig(buf_size=512, buf_count=4)) as sim:
        server = await sim.serve_serial_pty()
        async with SMPClient(server.url, timeout=2.0) as client:
            result = await upload(client, signed_image)
    assert result.verified == "match"
    assert slot_bytes(sim) == signed_image.data


async def test_lossy_link_upload_completes_with_the_right_hash(udp_sim: SimFactory) -> None:
    sim, url = await udp_sim(faults=Faults(loss=0.05, duplicate=0.02, seed=11))
    image = big_image(150_000)
    async with client_for(url) as client:
        result = await upload(client, image)
        state = await client.image.state()
    assert sim.sessions[0].inbound.lost > 0 and sim.sessions[0].inbound.duplicated > 0
    assert result.rewinds > 0
    assert [s.hash for s in state.images if s.slot == 1] == [image.hash]
    assert hashlib.sha256(slot_bytes(sim)).digest() == image.file_sha256


async def test_reordered_chunks_are_recovered(udp_sim: SimFactory) -> None:
    sim, url = await udp_sim(faults=Faults(reorder=0.1, seed=5))
    image = big_image(80_000)
    async with client_for(url) as client:
        result = await upload(client, image)
    assert sim.sessions[0].inbound.reordered > 0
    assert result.verified == "match" and slot_bytes(sim) == image.data


async def test_dropped_link_resumes_within_one_window(udp_sim: SimFactory) -> None:
    sim, url = await udp_sim(faults=Faults(drop_after=40))
    image = big_image(100_000)
    async with client_for(url, timeout=0.3) as client:
        chunk = client.max_request_size
        with pytest.raises(UploadInterrupted) as caught:
            await upload(client, image)
        window = client.window.maximum
    assert sim.device.upload is not None
    held = sim.device.upload.off
    assert 0 < held < image.size
    interrupted = caught.value
    assert interrupted.offset <= held
    # The device holds all but at most one window of what was sent.
    assert interrupted.sent_to - held <= window * chunk

    sim.faults = dataclasses.replace(sim.faults, drop_after=None)  # the link comes back
    server = await sim.serve_udp("127.0.0.1", 0)
    async with client_for(server.url) as client:
        result = await upload(client, image, resume=True)
    assert result.resumed_from == held
    # Only the small resume probe is sent twice; everything else goes once.
    assert result.bytes_sent - (image.size - held) <= image.header.hdr_size + 8
    assert result.verified == "match" and slot_bytes(sim) == image.data


async def test_resume_without_hint_also_continues(udp_sim: SimFactory) -> None:
    sim, url = await udp_sim(faults=Faults(drop_after=30))
    image = big_image(80_000)
    async with client_for(url, timeout=0.3) as client:
        with pytest.raises(UploadInterrupted):
            await upload(client, image)
    assert sim.device.upload is not None
    held = sim.device.upload.off
    sim.faults = dataclasses.replace(sim.faults, drop_after=None)
    server = await sim.serve_udp("127.0.0.1", 0)
    async with client_for(server.url) as client:
        result = await upload(client, image)
    assert result.resumed_from == held > 0
    assert slot_bytes(sim) == image.data


async def test_device_reset_mid_upload_restarts_the_session(udp_sim: SimFactory) -> None:
    sim, url = await udp_sim(faults=Faults(reset_during_upload=True), reset_delay_s=0.01)
    image = big_image(80_000)
    async with client_for(url, timeout=0.3) as client:
        result = await upload(client, image)
    assert result.restarts >= 1
    assert result.verified == "match" and slot_bytes(sim) == image.data


async def test_broken_image_is_refused_before_any_byte_is_sent(udp_sim: SimFactory) -> None:
    sim, url = await udp_sim()
    data = bytearray(make_image(make_test_body(5000)))
    data[0x200 + 100] ^= 0xFF
    async with client_for(url) as client:
        with pytest.raises(HashMismatch):
            upload(client, bytes(data))
        with pytest.raises(NotAnImage):
            upload(client, b"hello world" * 10)
        await asyncio.sleep(0)
    assert uploads(sim) == []


async def test_allow_raw_sends_data_as_is(udp_sim: SimFactory) -> None:
    sim, url = await udp_sim()
    junk = b"\x00" * 5000
    async with client_for(url) as client:
        with pytest.raises(SMPGroupError) as caught:  # the device checks the header magic
            await upload(client, junk, allow_raw=True)
        assert caught.value.rc == 23
        image = make_image(make_test_body(3000))
        headless = image[:-10] + b"\xee" * 10  # a header but a damaged TLV area
        result = await upload(client, headless, allow_raw=True)
    assert result.verified == "match"  # the device checked the file's SHA-256
    assert slot_bytes(sim) == headless


async def test_upload_of_the_same_image_twice_matches_immediately(udp_sim: SimFactory) -> None:
    sim, url = await udp_sim()
    image = big_image(40_000)
    async with client_for(url) as client:
        await upload(client, image)
        before = len(uploads(sim))
        again = await upload(client, image)
    assert again.match is True and len(uploads(sim)) == before + 1
    assert again.resumed_from == image.size


def test_small_images_parse() -> None:
    assert parse_image(make_image(b"x" * 40)).body == b"x" * 40


async def test_pacing_takes_more_chunks_than_buffers_on_a_long_link(udp_sim: SimFactory) -> None:
    # 10 ms each way, 4 buffers: paced sends reach the device one by one, so more than 4 fly at once
    sim, url = await udp_sim(faults=Faults(latency_ms=10))
    image = big_image(64 * 1024)
    async with client_for(url, timeout=2.0) as client:
        result = await upload(client, image)
        stats, window = client.stats, client.window
        assert window.pacer is not None and window.pacer.paced > 0
    assert stats.max_in_flight > 4 and window.peak > 4
    # Pacing keeps arrivals apart, so the device's 4 buffers are never all held (on virtual time
    # no event-loop stall can bunch arrivals: conftest.py).
    dropped = sum(s.dropped_full for s in sim.sessions)
    assert stats.timeouts == 0 and stats.lost == 0 and result.rewinds == 0 and dropped == 0
    assert result.verified == "match" and slot_bytes(sim)[: len(image.data)] == image.data
