"""The client's convenience entry points reach the workflows: client.image.upload, client.upgrade, client.fs.*."""

from __future__ import annotations

from pathlib import Path

from .conftest import SimFactory, big_image, client_for


async def test_client_image_upload_and_upgrade(udp_sim: SimFactory) -> None:
    _, url = await udp_sim()
    image = big_image(20_000, version=(4, 5, 6, 0))
    async with client_for(url) as client:
        result = await client.image.upload(image.data)
        assert result.verified
        listed = {s.hash for s in (await client.image.state()).images}
        assert image.hash in listed
        outcome = await client.upgrade(image.data)
        running = [s for s in (await client.image.state()).images if s.active]
    assert running and running[0].hash == image.hash and running[0].confirmed
    assert (outcome.outcome, outcome.version, outcome.confirmed) == ("upgraded", "4.5.6", True)
    assert outcome.hash == image.hash


async def test_client_fs_entry_points(udp_sim: SimFactory, tmp_path: Path) -> None:
    _, url = await udp_sim()
    payload = bytes(range(256)) * 40
    async with client_for(url) as client:
        await client.fs.upload("/lfs1/blob.bin", payload)
        assert await client.fs.download("/lfs1/blob.bin") == payload
        dest = tmp_path / "copy.bin"
        await client.fs.download_file("/lfs1/blob.bin", dest)
        assert dest.read_bytes() == payload
        await client.fs.upload_file(dest, "/lfs1/again.bin")
        assert await client.fs.status("/lfs1/again.bin") == len(payload)
