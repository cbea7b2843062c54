"""File transfers over the fs group against the simulator over UDP."""

from __future__ import annotations

from pathlib import Path

import pytest

from smpkit.image.build import make_test_body
from smpkit.simulator import Faults
from smpkit.workflows.files import (
    PART_SUFFIX,
    FileVerificationFailed,
    LocalFileExists,
    download_bytes,
    download_file,
    upload_file,
)
from smpkit.workflows.progress import Progress

from .conftest import SimFactory, client_for

DATA = make_test_body(12_000, seed=9)


def device_file(sim: object, name: str) -> Path:
    path = sim.device.fs_path(name)  # type: ignore[attr-defined]
    assert path is not None
    return Path(path)


async def test_upload_then_download_round_trip(udp_sim: SimFactory, tmp_path: Path) -> None:
    sim, url = await udp_sim()
    seen: list[Progress] = []
    async with client_for(url) as client:
        up = await upload_file(client, DATA, "/lfs1/data.bin", on_progress=seen.append)
        assert device_file(sim, "/lfs1/data.bin").read_bytes() == DATA
        dest = tmp_path / "copy.bin"
        down = await download_file(client, "/lfs1/data.bin", dest)
    assert up.verified in ("sha256", "crc32") and down.verified == up.verified
    assert dest.read_bytes() == DATA and not (tmp_path / ("copy.bin" + PART_SUFFIX)).exists()
    assert seen[-1].done == len(DATA)


async def test_download_pipelines_requests(udp_sim: SimFactory) -> None:
    sim, url = await udp_sim(faults=Faults(latency_ms=3))
    device_file(sim, "/lfs1/big.bin").write_bytes(DATA)
    async with client_for(url) as client:
        assert await download_bytes(client, "/lfs1/big.bin") == DATA
        peak = client.stats.max_in_flight
    assert peak >= 2


async def test_refuses_to_overwrite_and_writes_atomically(udp_sim: SimFactory, tmp_path: Path) -> None:
    sim, url = await udp_sim()
    device_file(sim, "/lfs1/f.bin").write_bytes(DATA)
    dest = tmp_path / "f.bin"
    dest.write_bytes(b"keep me")
    async with client_for(url) as client:
        with pytest.raises(LocalFileExists):
            download_file(client, "/lfs1/f.bin", dest)
        assert dest.read_bytes() == b"keep me"
        await download_file(client, "/lfs1/f.bin", dest, overwrite=True)
    assert dest.read_bytes() == DATA


async def test_download_resumes_from_a_part_file(udp_sim: SimFactory, tmp_path: Path) -> None:
    sim, url = await udp_sim()
    device_file(sim, "/lfs1/r.bin").write_bytes(DATA)
    dest = tmp_path / "r.bin"
    (tmp_path / ("r.bin" + PART_SUFFIX)).write_bytes(DATA[:5000])
    async with client_for(url) as client:
        result = await download_file(client, "/lfs1/r.bin", dest)
    assert result.resumed_from == 5000 and dest.read_bytes() == DATA


async def test_download_restarts_when_the_part_file_is_stale(udp_sim: SimFactory, tmp_path: Path) -> None:
    sim, url = await udp_sim()
    device_file(sim, "/lfs1/s.bin").write_bytes(DATA)
    dest = tmp_path / "s.bin"
    (tmp_path / ("s.bin" + PART_SUFFIX)).write_bytes(b"\x00" * 5000)
    async with client_for(url) as client:
        result = await download_file(client, "/lfs1/s.bin", dest)
    assert result.resumed_from == 0 and dest.read_bytes() == DATA


async def test_upload_resumes_a_partial_device_file(udp_sim: SimFactory) -> None:
    sim, url = await udp_sim()
    device_file(sim, "/lfs1/p.bin").write_bytes(DATA[:7000])
    async with client_for(url) as client:
        result = await upload_file(client, DATA, "/lfs1/p.bin", resume=True)
    assert result.resumed_from == 7000 and result.bytes_sent == len(DATA) - 7000
    assert device_file(sim, "/lfs1/p.bin").read_bytes() == DATA


async def test_upload_over_a_lossy_link(udp_sim: SimFactory) -> None:
    sim, url = await udp_sim(faults=Faults(loss=0.05, duplicate=0.02, seed=4))
    async with client_for(url) as client:
        result = await upload_file(client, DATA, "/lfs1/lossy.bin")
        copy = await download_bytes(client, "/lfs1/lossy.bin")
    assert device_file(sim, "/lfs1/lossy.bin").read_bytes() == DATA == copy
    assert result.verified in ("sha256", "crc32")


async def test_empty_file(udp_sim: SimFactory, tmp_path: Path) -> None:
    sim, url = await udp_sim()
    async with client_for(url) as client:
        result = await upload_file(client, b"", "/lfs1/empty.bin")
    assert result.verified == "none" and device_file(sim, "/lfs1/empty.bin").read_bytes() == b""


async def test_verification_detects_a_changed_file(udp_sim: SimFactory, tmp_path: Path) -> None:
    from smpkit.workflows.files import verify_remote

    sim, url = await udp_sim()
    device_file(sim, "/lfs1/v.bin").write_bytes(DATA)
    async with client_for(url) as client:
        assert await verify_remote(client, "/lfs1/v.bin", DATA) in ("sha256", "crc32")
        with pytest.raises(FileVerificationFailed):
            await verify_remote(client, "/lfs1/v.bin", DATA[:-1] + b"\x00")


async def test_verification_uses_what_the_device_holds(udp_sim: SimFactory) -> None:
    """The device's own hash of its file decides: a file changed on the device after the transfer fails."""
    from smpkit.workflows.files import verify_remote

    sim, url = await udp_sim()
    device_file(sim, "/lfs1/w.bin").write_bytes(DATA)
    async with client_for(url) as client:
        assert await verify_remote(client, "/lfs1/w.bin", DATA) in ("sha256", "crc32")
        device_file(sim, "/lfs1/w.bin").write_bytes(DATA[:-1] + b"\x00")  # flash changed behind our back
        with pytest.raises(FileVerificationFailed):
            await verify_remote(client, "/lfs1/w.bin", DATA)
