"""Image group (1): state list/set, upload, erase, slot info (Zephyr img_mgmt with MCUboot swap)."""

from __future__ import annotations

import hashlib
from typing import Any

from smpkit.simulator.device import Device, ImagePair, UploadSession
from smpkit.simulator.handlers import READ, WRITE, Call, Command, GroupError, MgmtError, NoResponse, args
from smpkit.simulator.mcuboot import MAGIC, header_version

GROUP = 1
NAME = "img mgmt"

HASH_NOT_FOUND = 8
NO_FREE_SLOT = 9
INVALID_SLOT = 14
INVALID_OFFSET = 20
INVALID_LENGTH = 21
INVALID_IMAGE_HEADER = 22
INVALID_IMAGE_HEADER_MAGIC = 23
INVALID_HASH = 24
CURRENT_VERSION_IS_NEWER = 27
IMAGE_ALREADY_PENDING = 28
INVALID_IMAGE_TOO_LARGE = 30
INVALID_IMAGE_DATA_OVERRUN = 31
IMAGE_SETTING_TEST_TO_ACTIVE_DENIED = 33

#: `rsn` texts of a verbose-errors build (img_mgmt.c's IMG_MGMT_UPLOAD_ACTION_SET_RC_RSN).
REASONS = {
    INVALID_IMAGE_HEADER: "header malformed",
    INVALID_IMAGE_HEADER_MAGIC: "magic mismatch",
    NO_FREE_SLOT: "no slot",
    CURRENT_VERSION_IS_NEWER: "downgrade",
    INVALID_IMAGE_TOO_LARGE: "img too large",
    INVALID_IMAGE_DATA_OVERRUN: "data overrun",
}


def _fail(rc: int) -> GroupError:
    return GroupError(GROUP, rc, reason=REASONS.get(rc))


def state_list(device: Device) -> dict[str, Any]:
    multi = len(device.images) > 1
    entries: list[dict[str, Any]] = []
    for index, pair in enumerate(device.images):
        for slot_no in (0, 1):
            slot = pair.slot(slot_no)
            info = slot.info
            if info is None:
                continue
            entry: dict[str, Any] = {"image": index} if multi else {}
            active = slot_no == 0
            entry.update(
                slot=slot_no,
                version=info.version_text,
                hash=slot.hash,
                bootable=info.bootable,
                pending=not active and pair.pending is not None,
                confirmed=pair.primary_confirmed if active else pair.reverting,
                active=active,
                permanent=not active and pair.pending == "perm",
            )
            entries.append(entry)
    return {"images": entries, "splitStatus": 0}


def state_read(call: Call) -> dict[str, Any]:
    return state_list(call.device)


def state_write(call: Call) -> dict[str, Any]:
    device = call.device
    if not device.profile.image_state_write:
        raise MgmtError(8)
    found = args(call.body, {"hash": "bstr", "confirm": "bool"})
    confirm = found.get("confirm", False)
    digest = found.get("hash")
    if digest is None:
        if not confirm:
            raise _fail(INVALID_HASH)
        _confirm_running(device.images[0])
    else:
        if len(digest) != 32:
            raise _fail(INVALID_HASH)
        where = device.find_hash(digest)
        if where is None:
            raise _fail(HASH_NOT_FOUND)
        pair = device.images[where[0]]
        if where[1] == 0:
            if not confirm:
                raise _fail(IMAGE_SETTING_TEST_TO_ACTIVE_DENIED)
            _confirm_running(pair)
        else:
            _mark_secondary(pair, "perm" if confirm else "test")
    device.changed("image")
    return state_list(device)


def _confirm_running(pair: ImagePair) -> None:
    if pair.pending is not None:
        raise _fail(IMAGE_ALREADY_PENDING)
    pair.primary_confirmed = True


def _mark_secondary(pair: ImagePair, how: str) -> None:
    if pair.reverting:
        raise _fail(IMAGE_ALREADY_PENDING)
    if pair.pending == "perm" and how == "test":
        return
    pair.pending = "perm" if how == "perm" else "test"


_UPLOAD_ARGS = {"off": "uint", "data": "bstr", "len": "uint", "sha": "bstr", "image": "uint", "upgrade": "bool"}


def upload(call: Call) -> dict[str, Any]:
    device = call.device
    req = args(call.body, _UPLOAD_ARGS)
    if "off" not in req:
        raise _fail(INVALID_OFFSET)
    data: bytes = req.get("data", b"")
    if req["off"] == 0:
        return _upload_start(device, req, data)
    return _upload_continue(device, req["off"], data)


def _upload_start(device: Device, req: dict[str, Any], data: bytes) -> dict[str, Any]:
    if len(data) < 32:
        raise _fail(INVALID_IMAGE_HEADER)
    if "len" not in req:
        device.upload = None  # the open session ends too: the next chunk gets {"off":0} (zephyr-ble img_ooo_*)
        raise _fail(INVALID_LENGTH)
    if int.from_bytes(data[:4], "little") != MAGIC:
        raise _fail(INVALID_IMAGE_HEADER_MAGIC)
    sha: bytes = req.get("sha", b"")
    if len(sha) > 32:
        raise _fail(INVALID_HASH)
    session = device.upload
    if sha and session is not None and session.sha == sha:
        return {"off": session.off}  # resume: this chunk is not written again
    image = req.get("image", 0)
    if not 0 <= image < len(device.images):
        raise _fail(NO_FREE_SLOT)
    pair = device.images[image]
    if pair.secondary_in_use():
        raise _fail(NO_FREE_SLOT)
    size: int = req["len"]
    if size > pair.secondary.size:
        raise _fail(INVALID_IMAGE_TOO_LARGE)
    if req.get("upgrade"):
        new, running = header_version(data), pair.primary.info
        if new is None or running is None or new[:3] <= running.version[:3]:
            raise _fail(CURRENT_VERSION_IS_NEWER)
    device.upload = UploadSession(image, size, 0, sha)
    if device.profile.image_upload_match and len(sha) == 32 and _slot_matches(pair, size, sha):
        device.upload = None
        return {"off": size, "match": True}
    pair.secondary.erase()
    return _write(device, device.upload, pair, data)


def _slot_matches(pair: ImagePair, size: int, sha: bytes) -> bool:
    held = pair.secondary.data
    return len(held) >= size and hashlib.sha256(held[:size]).digest() == sha


def _upload_continue(device: Device, off: int, data: bytes) -> dict[str, Any]:
    session = device.upload
    if session is None:
        return {"off": 0}
    if off != session.off:
        return {"off": session.off}
    if off + len(data) > session.size:
        device.upload = None
        raise _fail(INVALID_IMAGE_DATA_OVERRUN)
    return _write(device, session, device.images[session.image], data)


def _write(device: Device, session: UploadSession, pair: ImagePair, data: bytes) -> dict[str, Any]:
    before = session.off
    pair.secondary.write(session.off, data)
    session.off += len(data)
    if device.reset_during_upload and before < session.size // 2 <= session.off < session.size:
        device.reset_during_upload = False
        device.request_reset()
        raise NoResponse
    if session.off < session.size:
        return {"off": session.off}
    device.upload = None
    device.changed("image")
    body: dict[str, Any] = {"off": session.off}
    if device.profile.image_upload_match:
        body["match"] = len(session.sha) == 32 and _slot_matches(pair, session.size, session.sha)
    return body


def erase(call: Call) -> dict[str, Any]:
    device = call.device
    abs_slot = args(call.body, {"slot": "uint"}).get("slot", 1)
    where = device.slot_by_abs(abs_slot)
    if where is None:
        raise _fail(INVALID_SLOT)
    pair, slot_no = where
    if slot_no == 0 or pair.secondary_in_use():
        raise _fail(NO_FREE_SLOT)
    empty_error = device.profile.image_erase_empty_error
    if empty_error is not None and not pair.secondary.data:
        raise GroupError(*empty_error)  # zephyr-3.4-ble: erasing a never-written slot fails
    pair.secondary.erase()
    device.upload = None
    device.changed("image")
    return {}


def slot_info(call: Call) -> dict[str, Any]:
    device = call.device
    images: list[dict[str, Any]] = []
    for index, pair in enumerate(device.images):
        entry: dict[str, Any] = {
            "image": index,
            "slots": [
                {"slot": 0, "size": pair.primary.size},
                {"slot": 1, "size": pair.secondary.size, "upload_image_id": index},
            ],
        }
        images.append(entry)
    return {"images": images}


COMMANDS = {
    (0, READ): Command(state_read, takes_args=False),
    (0, WRITE): Command(state_write),
    (1, WRITE): Command(upload),
    (5, WRITE): Command(erase),
    (6, READ): Command(slot_info, takes_args=False),
}
