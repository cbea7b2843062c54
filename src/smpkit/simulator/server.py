"""Request processing as Zephyr 4.4's `smp.c` does it (sans I/O): packet in, responses out.

`RequestProcessor.handle_packet()` takes one transport packet (a UDP datagram, a
decoded serial frame, a BLE write) and returns the response messages in order. It
applies the header rules of zephyr-4.4-observations.md §1 and the v1 error
translation of §2, and encodes every response map indefinite-length as zcbor does.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import cbor2

from smpkit.simulator.cbor import encode_indefinite
from smpkit.simulator.device import Device
from smpkit.simulator.handlers import (
    Call,
    Command,
    GroupError,
    GroupSpec,
    MgmtError,
    NoResponse,
    enumeration,
    fs,
    image,
    os,
    settings,
    shell,
    stat,
    zephyr,
)

_HEADER = struct.Struct(">BBHHBB")
HANDLER_MODULES: tuple[ModuleType, ...] = (os, image, stat, settings, fs, shell, enumeration, zephyr)

# SMP v2 group error -> v1 rc (smp-protocol.md §3.3, checked against observations §2); others -> 1.
_V1: dict[int, dict[int, int]] = {
    0: {2: 3, 3: 5, 4: 5},
    1: {14: 3, 19: 3, 20: 3, 21: 3, 22: 3, 24: 3, 25: 3, 3: 5, 4: 5, 9: 6, 27: 6, 28: 6, 15: 2},
    2: {4: 3, 2: 5, 3: 5},
    3: {2: 3, 3: 5, 4: 5},
    8: {2: 3, 13: 3, 3: 5, 14: 5},
    9: {2: 3, 3: 3},
    10: {2: 3},
    63: {2: 5, 3: 0, 4: 0},
}


def v1_rc(group: int, rc: int) -> int:
    return _V1.get(group, {}).get(rc, 1)


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """One handled request, for the request log."""

    transport: str
    group: int
    command: int
    op: int
    sequence: int
    version: int
    result: str

    def describe(self) -> str:
        """One log line: transport, group, command, sequence and result."""
        import smpkit.protocol.all_groups  # noqa: F401  (registers every command's model)
        from smpkit.protocol.errors import group_name
        from smpkit.protocol.model import request_class

        model = request_class(self.group, self.command, self.op)
        command = model.__name__ if model is not None else f"id {self.command} op {self.op}"
        ver = "" if self.version == 1 else f" v{self.version + 1}"
        where = f"{self.transport:<10} {group_name(self.group):<12} {command:<18}"
        return f"{where} seq={self.sequence:<3} {self.result}{ver}"


def build_groups(device: Device) -> dict[int, GroupSpec]:
    """The groups this device's profile enables, with their compiled-in commands."""
    profile = device.profile
    specs: dict[int, GroupSpec] = {}
    for module in HANDLER_MODULES:
        if module.GROUP not in profile.groups:
            continue
        commands = {key: cmd for key, cmd in module.COMMANDS.items() if profile.has_command(module.GROUP, key[0])}
        specs[module.GROUP] = GroupSpec(module.GROUP, module.NAME, commands)
    details = profile.group_details or {}
    device.group_details = [
        (g, *details[g]) if g in details else (g, specs[g].name, specs[g].handler_count)
        for g in profile.groups
        if g in specs or g in details
    ]
    return specs


class RequestProcessor:
    """Turns request packets into response messages for one device."""

    def __init__(self, device: Device) -> None:
        self.device = device
        self.groups = build_groups(device)
        self.on_request: Callable[[RequestRecord], None] | None = None

    def handle_packet(self, packet: bytes, transport: str = "") -> list[bytes]:
        """Every SMP message in `packet`, answered in order; a trailing piece under 8 bytes is ignored."""
        device = self.device
        device.count("rx")
        device.count("rx_bytes", len(packet))
        responses: list[bytes] = []
        pos = 0
        while len(packet) - pos >= 8:
            b0, _flags, length, group, seq, command = _HEADER.unpack_from(packet, pos)
            op, version = b0 & 0x07, (b0 >> 3) & 0x03
            body_start = pos + 8
            failed = False
            try:
                if length > len(packet) - body_start:
                    raise MgmtError(9)
                body = self._dispatch(packet, body_start, op, version, group, command, seq)
                result = "ok"
            except MgmtError as exc:
                body, result, failed = {"rc": exc.rc}, f"rc {exc.rc}", True
            except NoResponse:
                self._log(transport, group, command, op, seq, version, "no answer (reset)")
                break
            if "err" in body:
                result = f"err {body['err']['group']}/{body['err']['rc']}"
            elif "rc" in body and not failed:
                result = f"rc {body['rc']}"
            responses.append(self._encode(op, version, group, seq, command, body))
            self._log(transport, group, command, op, seq, version, result)
            if result != "ok":
                device.count("errors")
            if failed:
                break  # smp.c stops at the first SMP-level error
            pos = body_start + length
        for response in responses:
            device.count("tx")
            device.count("tx_bytes", len(response))
        return responses

    def _dispatch(
        self, packet: bytes, body_start: int, op: int, version: int, group: int, command: int, seq: int
    ) -> dict[str, Any]:
        if version > 1:
            raise MgmtError(13)
        if version == 0 and not self.device.profile.v1_supported:
            raise MgmtError(12)
        if op not in (0, 2):
            raise MgmtError(8)
        spec = self.groups.get(group)
        entry: Command | None = spec.commands.get((command, op)) if spec is not None else None
        if entry is None:
            raise MgmtError(8)
        body = _decode_body(packet, body_start) if entry.takes_args else {}
        try:
            return entry.handler(Call(self.device, body, op, version, seq))
        except GroupError as exc:
            if version == 0:
                out: dict[str, Any] = {"rc": v1_rc(exc.group, exc.rc)}
                if self.device.profile.verbose_errors and exc.reason:
                    out["rsn"] = exc.reason
                return out
            return {"err": {"group": exc.group, "rc": exc.rc}, **exc.extra}

    def _encode(self, op: int, version: int, group: int, seq: int, command: int, body: dict[str, Any]) -> bytes:
        payload = encode_indefinite(body)
        if 8 + len(payload) > self.device.profile.buf_size:
            payload = encode_indefinite({"rc": 7})
        rsp_op = 1 if op == 0 else 3
        return _HEADER.pack((min(version, 1) << 3) | rsp_op, 0, len(payload), group, seq, command) + payload

    def _log(self, transport: str, group: int, command: int, op: int, seq: int, version: int, result: str) -> None:
        if self.on_request is not None:
            self.on_request(RequestRecord(transport, group, command, op, seq, version, result))


def _decode_body(packet: bytes, start: int) -> dict[str, Any]:
    """The first CBOR item after the header; Zephyr decodes past a too-small `len` (observations §1.6)."""
    if start >= len(packet):
        raise MgmtError(3)
    try:
        value = cbor2.CBORDecoder(io.BytesIO(packet[start:])).decode()
    except Exception:
        raise MgmtError(3) from None
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        raise MgmtError(3)
    return value
