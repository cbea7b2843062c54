"""A small stand-in for the simulator core's SMP dispatcher, driven by the `zephyr-3.4-ble` profile.

The replay harness uses the simulator's own dispatcher when `smpkit.simulator` provides one
(see `harness.make_handler`); this stand-in keeps the harness testable on its own and covers
exactly the commands the BLE corpus uses.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import cbor2

from smpkit.simulator.cbor import encode_indefinite
from smpkit.simulator.mcuboot import parse_image
from smpkit.simulator.profiles_ble import ZephyrBleProfile


class _Rc(Exception):
    def __init__(self, body: dict[str, Any]) -> None:
        self.body = body


def _rc(rc: int) -> _Rc:
    return _Rc({"rc": rc})


def _err(group: int, rc: int) -> _Rc:
    return _Rc({"err": {"group": group, "rc": rc}})


@dataclass
class _Upload:
    length: int
    sha: bytes | None
    data: bytearray = field(default_factory=bytearray)


@dataclass
class StandInDevice:
    profile: ZephyrBleProfile
    slot1: bytes | None = None
    #: Something was written to slot 1 since its last erase (an erase of a clean slot fails).
    slot1_dirty: bool = False
    upload: _Upload | None = None
    ticks: int = 0

    async def __call__(self, request: bytes) -> list[bytes]:
        return [r for r in (self.handle(request),) if r is not None]

    def handle(self, packet: bytes) -> bytes | None:
        if len(packet) < 8:
            return None
        op, ver = packet[0] & 0x07, (packet[0] >> 3) & 0x03
        group = int.from_bytes(packet[4:6], "big")
        seq, cmd = packet[6], packet[7]
        rsp_op = 1 if op == 0 else 3
        rsp_ver = ver
        try:
            if ver > 1:
                rsp_ver = 1
                raise _rc(13)
            if op not in (0, 2) or not self.profile.has_command(group, cmd):
                raise _rc(8)
            body = self._dispatch(group, cmd, op, packet[8:])
        except _Rc as exc:
            body = exc.body
        payload = encode_indefinite(body)
        header = bytes(((rsp_ver << 3) | rsp_op, 0)) + len(payload).to_bytes(2, "big") + packet[4:6]
        return header + bytes((seq, cmd)) + payload

    def _decode(self, raw: bytes) -> dict[str, Any]:
        try:
            body = cbor2.loads(raw)
        except Exception:
            raise _rc(3) from None
        if not isinstance(body, dict):
            raise _rc(3)
        return body

    def _dispatch(self, group: int, cmd: int, op: int, raw: bytes) -> dict[str, Any]:
        if (group, cmd) == (0, 0):
            d = self._decode(raw).get("d", "")
            if not isinstance(d, str):
                raise _rc(3)
            return {"r": d}
        if (group, cmd, op) == (0, 6, 0):
            return {"buf_size": self.profile.buf_size, "buf_count": self.profile.buf_count}
        if (group, cmd, op) == (0, 2, 0):
            return {"tasks": {t.name: {"prio": t.prio, "tid": i, "state": t.state}
                              for i, t in enumerate(self.profile.threads)}}
        if (group, cmd, op) == (0, 7, 0):
            out = self.profile.os_info.render(str(self._decode(raw).get("format", "")))
            if out is None:
                raise _err(0, 2)
            return {"output": out}
        if (group, cmd, op) == (2, 1, 0):
            return {"rc": 0, "stat_list": list(self.profile.stat_groups)}
        if (group, cmd, op) == (2, 0, 0):
            name = self._decode(raw).get("name")
            fields = self.profile.stat_groups.get(str(name))
            if fields is None:
                raise _err(2, 3)
            self.ticks += 1
            return {"name": name, "fields": {k: self.ticks for k in fields}}
        if (group, cmd, op) == (9, 0, 2):
            argv = self._decode(raw).get("argv")
            if argv == ["kernel", "version"]:
                return {"o": f"\r\nZephyr version {self.profile.os_info.kernel_version}\r\n", "ret": 0}
            raise _err(9, 3)
        if (group, cmd, op) == (1, 0, 0):
            return {"images": self._images(), "splitStatus": 0}
        if (group, cmd, op) == (1, 5, 2):
            if not self.slot1_dirty:
                raise _err(1, 1)
            self.slot1, self.upload, self.slot1_dirty = None, None, False
            return {}
        if (group, cmd, op) == (1, 1, 2):
            return self._upload(self._decode(raw))
        raise _rc(8)

    def _images(self) -> list[dict[str, Any]]:
        info = parse_image(self.slot1) if self.slot1 is not None else None
        if info is None:
            return []
        return [{"slot": 1, "version": info.version_text, "hash": info.hash, "bootable": info.bootable,
                 "pending": False, "confirmed": False, "active": False, "permanent": False}]

    def _upload(self, body: dict[str, Any]) -> dict[str, Any]:
        off, data = body.get("off"), body.get("data", b"")
        if off == 0:
            length, sha = body.get("len"), body.get("sha")
            if length is None:
                self.upload = None
                raise _err(1, 21)
            if self.upload is not None and self.upload.length == length and self.upload.sha == sha:
                return {"off": len(self.upload.data)}  # resume
            self.upload = _Upload(length, sha)
            self.slot1 = None
        if self.upload is None:
            return {"off": 0}
        if off != len(self.upload.data):
            return {"off": len(self.upload.data)}
        self.upload.data += data
        self.slot1_dirty = True
        if len(self.upload.data) >= self.upload.length:
            self.slot1 = bytes(self.upload.data)
            self.upload = None
            return {"off": len(self.slot1)}
        return {"off": len(self.upload.data)}


def image_sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()
