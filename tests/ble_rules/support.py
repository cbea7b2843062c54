"""A `zephyr-3.4-ble` device on Bumble's virtual link, and a log of the ATT writes it receives.

The log sits between the peripheral's GATT server and the profile's buffer model, so it sees
every write exactly as Zephyr's `smp_bt_chr_write` would, and can hold some back to stand in
for a packet the radio lost.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bumble.link import LocalLink

from smpkit import SMPClient
from smpkit.client.window import Ticket
from smpkit.protocol import decode_message
from smpkit.protocol.header import HEADER_SIZE
from smpkit.simulator import Simulator, SimulatorConfig
from smpkit.simulator.profiles_ble import ZEPHYR_34_BLE, BleConnection, BleSmpServer, BleStats
from smpkit.simulator.transports.ble import SMPBLEPeripheral, serve_ble
from smpkit.transport.bumble import SMPBumbleTransport

NAME = "smpkit-rules"
IMGTOOL = Path(sys.executable).parent / "imgtool"

#: Decides, for each whole request the central writes, whether the link loses it.
LoseRule = Callable[[bytes], bool]


@dataclass
class WriteLog:
    """Every ATT write the device received, cut back into the SMP messages it carried."""

    writes: list[bytes] = field(default_factory=list)
    #: Per write: the index of the message it belongs to (-1: it fits no message).
    owner: list[int] = field(default_factory=list)
    messages: list[bytes] = field(default_factory=list)
    #: Whole messages held back by `lose` (never reached the device).
    lost: list[bytes] = field(default_factory=list)
    lose: LoseRule | None = None
    _partial: bytearray = field(default_factory=bytearray)
    _expected: int = 0
    _held: list[bytes] = field(default_factory=list)

    def feed(self, write: bytes) -> tuple[bool, list[bytes]]:
        """Record `write`; returns (fits the packet rules, the writes to pass on to the device now)."""
        self.writes.append(write)
        if not self._partial:
            if len(write) < HEADER_SIZE:
                self.owner.append(-1)
                return False, [write]
            self._expected = HEADER_SIZE + ((write[2] << 8) | write[3])
        if len(write) > self._expected - len(self._partial):
            self.owner.append(-1)
            self._partial.clear()
            return False, [*self._release(), write]
        self.owner.append(len(self.messages))
        self._partial += write
        self._held.append(write)
        if len(self._partial) < self._expected:
            # hold the pieces until the message is whole, so a lost one is lost entirely
            return True, [] if self.lose is not None else self._release()
        message = bytes(self._partial)
        self._partial.clear()
        self.messages.append(message)
        if self.lose is not None and self.lose(message):
            self.lost.append(message)
            self._held.clear()
            return True, []
        return True, self._release()

    def _release(self) -> list[bytes]:
        out, self._held = self._held, []
        return out

    def violations(self) -> list[str]:
        """Writes that break Zephyr's rules: a first write without the whole header, or one crossing a boundary."""
        bad = [f"write {i} ({w[:8].hex()}...) fits no message" for i, w in enumerate(self.writes) if self.owner[i] < 0]
        firsts: dict[int, bytes] = {}
        for write, owner in zip(self.writes, self.owner, strict=True):
            firsts.setdefault(owner, write)
        bad += [f"message {m} starts with a {len(w)}-byte write" for m, w in firsts.items() if m >= 0 and len(w) < 8]
        return bad


def record_writes(peripheral: SMPBLEPeripheral, log: WriteLog) -> None:
    """Put `log` in front of the profile model for every connection made from now on."""
    model: BleSmpServer = peripheral.ble_model
    original = model.connection

    def connection(notify: Any, att_mtu: Callable[[], int]) -> BleConnection:
        conn = original(notify, att_mtu)
        write = conn.write

        def logged(value: bytes) -> int | None:
            _fits, passed = log.feed(bytes(value))
            error = None
            for piece in passed:
                error = write(piece) or error
            return error

        setattr(conn, "write", logged)  # noqa: B010 - replace the bound method on this one instance
        return conn

    setattr(model, "connection", connection)  # noqa: B010


@dataclass
class Rig:
    sim: Simulator
    peripheral: SMPBLEPeripheral
    client: SMPClient
    transport: SMPBumbleTransport
    log: WriteLog

    @property
    def model_stats(self) -> BleStats:
        stats: BleStats = self.peripheral.ble_model.stats
        return stats

    def tickets(self) -> list[tuple[int, Ticket]]:
        """From now on, (request size, window ticket) of every request sent; `ticket.depth` is its peak depth."""
        seen: list[tuple[int, Ticket]] = []
        acquire = self.client.window.acquire

        async def recorded(request_size: int = 0, retriable: bool = True) -> Ticket:
            ticket = await acquire(request_size, retriable)
            seen.append((request_size, ticket))
            return ticket

        setattr(self.client.window, "acquire", recorded)  # noqa: B010
        return seen

    def slot_sha256(self, length: int, image: int = 0) -> bytes:
        return hashlib.sha256(bytes(self.sim.device.images[image].secondary.data[:length])).digest()


@asynccontextmanager
async def ble_rig(
    *,
    scale: float = 0.25,
    window: int | None = None,
    timeout: float = 2.5,
    lose: LoseRule | None = None,
    mtu: int = 498,
) -> AsyncIterator[Rig]:
    """The profile (its clock `scale`d) served on a `LocalLink`, and a connected `SMPClient` over Bumble."""
    profile = ZEPHYR_34_BLE.with_timing(scale=scale)
    async with Simulator(SimulatorConfig(profile=profile)) as sim:
        sim.keep_records = False
        link = LocalLink()  # type: ignore[no-untyped-call]
        peripheral = await serve_ble(sim, hci=link, name=NAME)
        log = WriteLog(lose=lose)
        record_writes(peripheral, log)
        transport = SMPBumbleTransport(hci=link, preferred_mtu=mtu)
        async with SMPClient(transport, NAME, timeout=timeout, window=window) as client:
            yield Rig(sim, peripheral, client, transport, log)


def is_upload_at(message: bytes, offsets: set[int]) -> bool:
    """An image upload request for one of `offsets` (each is taken out once it matched)."""
    header = message[:8]
    if header[4:6] != b"\x00\x01" or header[7] != 1:
        return False
    off = decode_message(message).body.get("off")
    if off in offsets:
        offsets.discard(off)
        return True
    return False


def build_image(directory: Path, body_size: int, version: str = "1.2.3") -> bytes:
    """A valid, unsigned MCUboot image built by imgtool: `body_size` bytes plus header and TLVs."""
    body = directory / "app.bin"
    body.write_bytes(bytes((i * 31 + (i >> 9)) & 0xFF for i in range(body_size)))
    out = directory / "app-signed.bin"
    command = [str(IMGTOOL), "create", "-v", version, "-H", "0x200", "--pad-header", "-S", hex(0x80000)]
    subprocess.run([*command, str(body), str(out)], check=True, capture_output=True)
    return out.read_bytes()
