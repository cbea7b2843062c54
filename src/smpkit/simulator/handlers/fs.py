"""File-system group (8) on a real host directory mounted at the profile's mount point."""

from __future__ import annotations

import hashlib
import time
import zlib
from pathlib import Path
from typing import Any

from smpkit.simulator.device import Device, FileUpload
from smpkit.simulator.handlers import READ, WRITE, Call, Command, GroupError, MgmtError, args

GROUP = 8
NAME = "fs mgmt"
FILE_NOT_FOUND, FILE_IS_DIRECTORY, FILE_READ_FAILED, FILE_WRITE_FAILED = 3, 4, 7, 10
FILE_OFFSET_NOT_VALID, FILE_OFFSET_LARGER_THAN_FILE = 11, 12
CHECKSUM_HASH_NOT_FOUND, MOUNT_POINT_NOT_FOUND, FILE_EMPTY = 13, 14, 16

HASH_TYPES: dict[str, dict[str, int]] = {"crc32": {"format": 0, "size": 4}, "sha256": {"format": 1, "size": 32}}


def _path(call: Call, name: str | None) -> Path:
    """Host path of `name`; empty or over-long names fail decoding in Zephyr (rc 3)."""
    device = call.device
    device.expire_file_upload()
    if not name or len(name) >= device.profile.fs_path_len:
        raise MgmtError(3)
    path = device.fs_path(name)
    if path is None:
        raise GroupError(GROUP, MOUNT_POINT_NOT_FOUND)
    return path


def _existing_file(path: Path) -> int:
    """Size of the file at `path` as stored (FS 3 if missing, FS 4 if a directory)."""
    if path.is_dir():
        raise GroupError(GROUP, FILE_IS_DIRECTORY)
    try:
        return path.stat().st_size
    except OSError:
        raise GroupError(GROUP, FILE_NOT_FOUND) from None


def download(call: Call) -> dict[str, Any]:
    req = args(call.body, {"off": "uint", "name": "tstr"})
    if "off" not in req or "name" not in req:
        raise MgmtError(3)
    path = _path(call, req["name"])
    size = _existing_file(path)
    off: int = req["off"]
    try:
        with open(path, "rb") as fh:
            fh.seek(off)
            data = fh.read(call.device.profile.fs_chunk)
    except OSError:
        raise GroupError(GROUP, FILE_READ_FAILED) from None
    body: dict[str, Any] = {"off": off, "data": data}
    if off == 0:
        body["len"] = size
    return body


def upload(call: Call) -> dict[str, Any]:
    req = args(call.body, {"off": "uint", "data": "bstr", "name": "tstr", "len": "uint"})
    if "off" not in req or "data" not in req or "name" not in req:
        raise MgmtError(3)
    if req["off"] == 0 and "len" not in req:
        raise MgmtError(3)
    path = _path(call, req["name"])
    device = call.device
    if req["off"] == 0:
        return _upload_start(device, req["name"], path, req["len"], req["data"])
    return _upload_continue(device, req["name"], path, req["off"], req["data"], req.get("len"))


def _upload_start(device: Device, name: str, path: Path, size: int, data: bytes) -> dict[str, Any]:
    device.close_file_upload()
    if not path.parent.is_dir():
        raise GroupError(GROUP, MOUNT_POINT_NOT_FOUND)
    if path.is_dir():
        raise GroupError(GROUP, FILE_IS_DIRECTORY)
    try:
        path.write_bytes(b"")
    except OSError:
        raise GroupError(GROUP, FILE_WRITE_FAILED) from None
    device.file_upload = FileUpload(name, path, len(data), size, bytearray(data))
    if len(data) >= size:
        device.close_file_upload()
    device.changed("fs")
    return {"off": len(data)}


def _upload_continue(device: Device, name: str, path: Path, off: int, data: bytes, size: int | None) -> dict[str, Any]:
    session = device.file_upload
    if session is None or session.name != name:
        device.close_file_upload()
        expected = path.stat().st_size if path.is_file() else 0
        session = FileUpload(name, path, expected, size if size is not None else -1)
    if off != session.off:
        device.file_upload = session
        device.close_file_upload()
        raise GroupError(GROUP, FILE_OFFSET_NOT_VALID, extra={"len": session.off})
    device.file_upload = session
    session.pending += data
    session.off += len(data)
    session.last_used = time.monotonic()
    if 0 <= session.size <= session.off:
        device.close_file_upload()
    return {"off": session.off}


def status(call: Call) -> dict[str, Any]:
    name = args(call.body, {"name": "tstr"}).get("name")
    return {"len": _existing_file(_path(call, name))}


def file_hash(call: Call) -> dict[str, Any]:
    req = args(call.body, {"name": "tstr", "type": "tstr", "off": "uint", "len": "uint"})
    kind = req.get("type", "crc32")
    if kind not in HASH_TYPES:
        raise GroupError(GROUP, CHECKSUM_HASH_NOT_FOUND)
    if req.get("len") == 0:
        raise MgmtError(3)
    path = _path(call, req.get("name"))
    size = _existing_file(path)
    if size == 0:
        raise GroupError(GROUP, FILE_EMPTY)
    off = req.get("off", 0)
    if off >= size:
        raise GroupError(GROUP, FILE_OFFSET_LARGER_THAN_FILE)
    with open(path, "rb") as fh:
        fh.seek(off)
        data = fh.read(req.get("len", size - off))
    output: int | bytes = zlib.crc32(data) if kind == "crc32" else hashlib.sha256(data).digest()
    body: dict[str, Any] = {"type": kind}
    if off:
        body["off"] = off
    body["len"] = len(data)
    body["output"] = output
    return body


def hash_types(call: Call) -> dict[str, Any]:
    return {"types": {name: dict(info) for name, info in HASH_TYPES.items()}}


def close(call: Call) -> dict[str, Any]:
    call.device.close_file_upload()
    return {}


COMMANDS = {
    (0, READ): Command(download),
    (0, WRITE): Command(upload),
    (1, READ): Command(status),
    (2, READ): Command(file_hash),
    (3, READ): Command(hash_types, takes_args=False),
    (4, WRITE): Command(close, takes_args=False),
}
