"""Image upload exactly as Zephyr handles it, driven with raw requests over UDP."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from smpkit.protocol import Op, decode_message, encode_request
from smpkit.protocol.groups.image import ImageErase, ImageStateRead, ImageUpload, SlotInfo
from smpkit.protocol.groups.user import RawRequest
from smpkit.simulator import Simulator, SimulatorConfig

from .conftest import UDPPeer, make_image


async def call(peer: UDPPeer, request: Any, version: int = 1) -> dict[str, Any]:
    return decode_message(await peer.exchange(encode_request(request, 1, version))).body


async def test_first_chunk_checks(udp: UDPPeer, image_v123: bytes) -> None:
    img = image_v123
    no_off = RawRequest(group=1, command=1, op=Op.WRITE, body={"data": img[:64], "len": len(img)})
    assert await call(udp, no_off) == {"err": {"group": 1, "rc": 20}}
    assert await call(udp, ImageUpload(off=0, data=img[:64])) == {"err": {"group": 1, "rc": 21}}
    assert await call(udp, ImageUpload(off=0, data=img[:16], len=len(img))) == {"err": {"group": 1, "rc": 22}}
    assert await call(udp, ImageUpload(off=0, data=bytes(64), len=len(img))) == {"err": {"group": 1, "rc": 23}}
    assert await call(udp, ImageUpload(off=0, data=bytes(64), len=len(img)), version=0) == {"rc": 1}
    assert await call(udp, ImageUpload(off=0, data=img[:64], len=len(img), sha=bytes(40))) == {
        "err": {"group": 1, "rc": 24}
    }
    assert await call(udp, ImageUpload(off=0, data=img[:64], len=0x300000)) == {"err": {"group": 1, "rc": 30}}
    assert await call(udp, ImageUpload(off=512, data=img[512:1024])) == {"off": 0}  # no session


async def test_session_resume_out_of_order_overrun_and_match(sim: Simulator, udp: UDPPeer, image_v123: bytes) -> None:
    img, sha = image_v123, hashlib.sha256(image_v123).digest()
    assert await call(udp, ImageUpload(off=0, data=img[:512], len=len(img), sha=sha)) == {"off": 512}
    assert await call(udp, ImageUpload(off=512, data=img[512:1024])) == {"off": 1024}
    assert await call(udp, ImageUpload(off=2048, data=img[2048:2560])) == {"off": 1024}  # out of order
    assert await call(udp, ImageUpload(off=512, data=img[512:1024])) == {"off": 1024}  # duplicate
    assert await call(udp, ImageUpload(off=0, data=img[:512], len=len(img), sha=sha)) == {"off": 1024}  # resume
    off = 1024
    while off + 1000 < len(img):
        assert await call(udp, ImageUpload(off=off, data=img[off : off + 1000])) == {"off": off + 1000}
        off += 1000
    assert await call(udp, ImageUpload(off=off, data=img[off:] + b"xx")) == {"err": {"group": 1, "rc": 31}}
    assert await call(udp, ImageUpload(off=off, data=img[off:])) == {"off": 0}  # session dropped
    # start again; the last chunk completes with a match
    off = 0
    while off < len(img):
        first = {"len": len(img), "sha": sha} if off == 0 else {}
        body = await call(udp, ImageUpload(off=off, data=img[off : off + 1400], **first))
        off = body["off"]
    assert body == {"off": len(img), "match": True}
    state = await call(udp, ImageStateRead())
    assert [e["version"] for e in state["images"]] == ["1.0.0", "1.2.3"]
    # the same image again: already in the slot, so the first chunk ends the upload
    again = await call(udp, ImageUpload(off=0, data=img[:512], len=len(img), sha=sha))
    assert again == {"off": len(img), "match": True}


async def test_upgrade_version_check(udp: UDPPeer, tmp_path: Path) -> None:
    older = make_image(tmp_path, "0.9.0", size=2000)
    newer = make_image(tmp_path, "1.0.1", size=2000)
    assert await call(udp, ImageUpload(off=0, data=older[:512], len=len(older), upgrade=True)) == {
        "err": {"group": 1, "rc": 27}
    }
    assert await call(udp, ImageUpload(off=0, data=older[:512], len=len(older), upgrade=True), version=0) == {"rc": 6}
    assert await call(udp, ImageUpload(off=0, data=newer[:512], len=len(newer), upgrade=True)) == {"off": 512}


async def test_verbose_errors_add_rsn_in_v1(tmp_path: Path) -> None:
    async with Simulator(SimulatorConfig(profile="zephyr-4.4-mcuboot")) as sim:
        server = await sim.serve_udp("127.0.0.1", 0)
        peer = UDPPeer("127.0.0.1", server.port)
        body = await call(peer, ImageUpload(off=0, data=bytes(64), len=1000), version=0)
        assert body == {"rc": 1, "rsn": "magic mismatch"}
        image = make_image(tmp_path, "1.2.3", size=3000)
        off = 0
        while off < len(image):
            first = {"len": len(image), "sha": hashlib.sha256(image).digest()} if off == 0 else {}
            body = await call(peer, ImageUpload(off=off, data=image[off : off + 512], **first))
            off = body["off"]
        assert body == {"off": len(image)}  # that build has no image check: no "match"
        peer.close()


async def test_erase_rules_and_slot_info(sim: Simulator, udp: UDPPeer, image_v123: bytes) -> None:
    assert await call(udp, ImageErase(slot=0)) == {"err": {"group": 1, "rc": 9}}
    assert await call(udp, ImageErase(slot=7)) == {"err": {"group": 1, "rc": 14}}
    await call(udp, ImageUpload(off=0, data=image_v123[:512], len=len(image_v123)))
    assert sim.device.upload is not None
    assert await call(udp, ImageErase()) == {}
    assert sim.device.upload is None and sim.device.images[0].secondary.is_empty
    info = await call(udp, SlotInfo())
    slots = [{"slot": 0, "size": 0x80000}, {"slot": 1, "size": 0x80000, "upload_image_id": 0}]
    assert info == {"images": [{"image": 0, "slots": slots}]}


async def test_state_write_errors(sim: Simulator, udp: UDPPeer) -> None:
    from smpkit.protocol.groups.image import ImageStateWrite

    running = sim.device.images[0].primary.hash
    assert await call(udp, ImageStateWrite(hash=running, confirm=False)) == {"err": {"group": 1, "rc": 33}}
    assert await call(udp, ImageStateWrite(hash=bytes(32), confirm=False)) == {"err": {"group": 1, "rc": 8}}
    assert await call(udp, ImageStateWrite(hash=bytes(16), confirm=False)) == {"err": {"group": 1, "rc": 24}}
    assert await call(udp, ImageStateWrite(confirm=False)) == {"err": {"group": 1, "rc": 24}}
    assert (await call(udp, ImageStateWrite(confirm=True)))["images"][0]["confirmed"] is True
