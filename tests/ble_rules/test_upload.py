"""Image upload over BLE against `zephyr-3.4-ble`: no data lost, and a lost chunk costs no timeout.

Zephyr does not answer a chunk it had no buffer for; it answers the chunks after it with the
offset it still expects (zephyr-ble-observations §4). The upload must rewind to that offset
on the first such answer instead of waiting out the lost chunk's timeout.
"""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

from smpkit.image import parse_image
from smpkit.image.build import make_image, make_test_body
from smpkit.protocol import decode_message
from smpkit.workflows.upload import upload

from .support import ble_rig, build_image


class LoseChunks:
    """Loses the n-th image upload requests (1-based) on their way to the device, once each."""

    def __init__(self, *nth: int) -> None:
        self.nth = set(nth)
        self.seen = 0
        self.lost_offsets: list[int] = []

    def __call__(self, message: bytes) -> bool:
        if (message[4:6], message[7]) != (b"\x00\x01", 1):
            return False
        self.seen += 1
        if self.seen not in self.nth:
            return False
        self.lost_offsets.append(decode_message(message).body["off"])
        return True


def _sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


async def test_64k_imgtool_image_arrives_whole(tmp_path: Path) -> None:
    image = build_image(tmp_path, 65536 - 0x200 - 64)
    assert 64 * 1024 - 600 < len(image) <= 64 * 1024 + 600
    info = parse_image(image)
    async with ble_rig() as rig:
        result = await upload(rig.client, image)
        listed = rig.sim.device.find_hash(info.hash) if info.hash else None
    assert result.total == len(image) and result.verified == "state"
    assert rig.slot_sha256(len(image)) == _sha(image)
    assert listed is not None
    assert rig.client.stats.timeouts == 0
    assert (rig.model_stats.enomem, rig.model_stats.rejected_writes) == (0, 0)


async def test_a_lost_chunk_rewinds_on_the_next_answer() -> None:
    image = make_image(make_test_body(40 * 1024, seed=9), (1, 0, 0, 0))
    lose = LoseChunks(5, 11)
    # a 10 s timeout: waiting one out would be plain in the counters below
    async with ble_rig(lose=lose, timeout=10.0) as rig:
        result = await upload(rig.client, image, timeout=10.0)
        stats = rig.client.stats
    assert len(lose.lost_offsets) == 2 and len(rig.log.lost) == 2
    assert result.rewinds >= 2
    assert stats.timeouts == 0
    assert stats.lost >= 2  # each lost chunk was given up when a later one was answered
    assert rig.slot_sha256(len(image)) == _sha(image)


async def test_forced_depth_4_upload_resends_and_loses_nothing() -> None:
    image = make_image(make_test_body(48 * 1024, seed=4), (1, 1, 0, 0))
    async with ble_rig(window=4, scale=1.0) as rig:
        client = rig.client
        client.window.large_cap = None  # deliberately past the rule: 4 chunks near buf_size in flight
        await asyncio.sleep(0.1)
        result = await upload(client, image, depth=4)
        model = rig.model_stats
    # the device ran out of buffers (rc 2 or silent drops), the caller never saw it
    assert model.enomem + model.rejected_writes >= 1
    assert client.window.shrinks >= 1 and client.window.ceiling < 4
    assert client.stats.timeouts == 0
    assert result.total == len(image)
    assert rig.slot_sha256(len(image)) == _sha(image)
