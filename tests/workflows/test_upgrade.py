"""The upgrade flow against the simulator over UDP: full cycles, revert, skip, dry run, multi-image."""

from __future__ import annotations

from pathlib import Path

import pytest
from image.imgtools import Images

from smpkit.image import McubootImage, read_image
from smpkit.simulator.config import DeviceProfile, ImageSlotProfile
from smpkit.workflows.upgrade import Step, StepEvent, UpgradeError, upgrade

from .conftest import SimFactory, client_for, uploads

FAST = {"reset_delay_s": 0.02}


def running(state: object, image: int = 0) -> list[tuple[str, bool]]:
    return [(s.version, s.confirmed) for s in state.images if s.active and (s.image or 0) == image]  # type: ignore[attr-defined]


def steps(events: list[StepEvent]) -> list[tuple[str, str]]:
    return [(e.step.value, e.status) for e in events if e.status != "progress"]


async def test_full_upgrade_cycle_confirms_the_new_image(udp_sim: SimFactory, signed_image: McubootImage) -> None:
    sim, url = await udp_sim(**FAST)
    events: list[StepEvent] = []
    async with client_for(url) as client:
        result = await upgrade(client, signed_image, on_step=events.append)
        state = await client.image.state()
    assert result.outcome == "upgraded" and result.confirmed
    assert running(state) == [("2.0.0", True)]
    assert sim.device.images[0].slot(0).hash == signed_image.hash
    assert steps(events) == [
        ("read-state", "start"), ("read-state", "done"),
        ("upload", "start"), ("upload", "done"),
        ("check-upload", "start"), ("check-upload", "done"),
        ("test", "start"), ("test", "done"),
        ("reset", "start"), ("reset", "done"),
        ("reconnect", "start"), ("reconnect", "done"),
        ("check-running", "start"), ("check-running", "done"),
        ("confirm", "start"), ("confirm", "done"),
        ("done", "done"),
    ]  # fmt: skip
    assert any(e.progress is not None for e in events)
    # It stays after another reset.
    async with client_for(url) as client:
        await client.os.reset()
        await client.reconnect(5.0)
        assert running(await client.image.state()) == [("2.0.0", True)]


async def test_unconfirmed_upgrade_reverts_at_the_next_reset(udp_sim: SimFactory, signed_image: McubootImage) -> None:
    sim, url = await udp_sim(**FAST)
    async with client_for(url) as client:
        before = running(await client.image.state())
        result = await upgrade(client, signed_image, confirm=False)
        assert result.outcome == "upgraded" and not result.confirmed
        assert running(await client.image.state()) == [("2.0.0", False)]
        await client.os.reset()
        await client.reconnect(5.0)
        after = await client.image.state()
    assert running(after) == before == [("1.0.0", True)]
    assert sim.device.images[0].slot(0).hash != signed_image.hash


async def test_events_as_async_iterator_and_skip_when_running(udp_sim: SimFactory, signed_image: McubootImage) -> None:
    sim, url = await udp_sim(**FAST)
    async with client_for(url) as client:
        flow = upgrade(client, signed_image)
        events = [e async for e in flow]
        assert (await flow).outcome == "upgraded"
        assert events[-1].step is Step.DONE
        count = len(uploads(sim))
        again = await upgrade(client, signed_image)
    assert again.outcome == "already-running" and again.upload is None
    assert len(uploads(sim)) == count


async def test_upload_is_skipped_when_the_image_is_already_in_a_slot(
    udp_sim: SimFactory, signed_image: McubootImage
) -> None:
    sim, url = await udp_sim(**FAST)
    async with client_for(url) as client:
        from smpkit.workflows.upload import upload

        await upload(client, signed_image)
        count = len(uploads(sim))
        events: list[StepEvent] = []
        result = await upgrade(client, signed_image, on_step=events.append)
    assert result.outcome == "upgraded" and result.upload is None
    assert ("upload", "skipped") in steps(events)
    assert len(uploads(sim)) == count


async def test_dry_run_changes_nothing(udp_sim: SimFactory, signed_image: McubootImage) -> None:
    sim, url = await udp_sim(**FAST)
    async with client_for(url) as client:
        result = await upgrade(client, signed_image, dry_run=True)
        state = await client.image.state()
    assert result.outcome == "planned"
    assert all(e.status in ("start", "done", "skipped") for e in result.steps)
    assert uploads(sim) == [] and len(state.images) == 1
    assert sim.device.images[0].slot(0).hash != signed_image.hash


async def test_without_reset_the_image_is_left_pending(udp_sim: SimFactory, signed_image: McubootImage) -> None:
    _sim, url = await udp_sim(**FAST)
    async with client_for(url) as client:
        result = await upgrade(client, signed_image, reset=False)
        state = await client.image.state()
    assert result.outcome == "tested"
    assert [(s.slot, s.pending) for s in state.images] == [(0, False), (1, True)]


async def test_multi_image_upgrade_of_image_1(udp_sim: SimFactory, wf_images: Images) -> None:
    profile = DeviceProfile(image=ImageSlotProfile(num_images=2))
    sim, url = await udp_sim(profile=profile, **FAST)
    second = read_image(wf_images.make("net-1.5.0.bin", "-d", "(0,1.0.0)", version="1.5.0"))
    async with client_for(url) as client:
        result = await upgrade(client, second, image=1)
        state = await client.image.state()
    assert result.outcome == "upgraded" and result.image == 1
    assert running(state, 1) == [("1.5.0", True)]
    assert running(state, 0) == [("1.0.0", True)]
    assert sim.device.images[1].slot(0).hash == second.hash


async def test_a_device_that_does_not_swap_is_reported(
    udp_sim: SimFactory, signed_image: McubootImage, monkeypatch: pytest.MonkeyPatch
) -> None:
    sim, url = await udp_sim(**FAST)
    monkeypatch.setattr(type(sim.device.images[0]), "boot", lambda self: None)  # MCUboot refuses the image
    async with client_for(url) as client:
        with pytest.raises(UpgradeError) as caught:
            await upgrade(client, signed_image)
    assert caught.value.step is Step.CHECK_RUNNING


def test_upgrade_refuses_an_image_without_sha256(tmp_path: Path, wf_images: Images) -> None:
    from smpkit.image import ImageError

    path = wf_images.make("sha384-only.bin", "--sha", "384")
    with pytest.raises(ImageError):
        upgrade(object(), path)  # type: ignore[arg-type]
