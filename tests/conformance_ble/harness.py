"""Replay the Zephyr 3.4 BLE corpus over Bumble's virtual link and compare notifications.

Two Bumble hosts on one in-process `LocalLink`: a raw GATT central (no SMP library, like
the capture's) and a peripheral serving the `zephyr-3.4-ble` profile. For every record the
central uses the record's ATT MTU (a new connection when it changes), sends exactly the
record's writes (same cuts, Write Command or Write Request as recorded, same spacing with
pauses over `MAX_GAP_S` shortened: Zephyr's reassembly has no timeout) and collects the
notifications. They must equal the record's byte for byte; records with `dynamic_fields`
compare the decoded responses with those fields masked, plus the notification cuts.

Write Requests must get the record's ATT errors (`att_errors`) back, write for write.

Image upload records (`writes_hex` omitted) are replayed closed-loop from `chunks_sent`
with the rebuilt image (`image_recipe`, checked against `image_file_sha256`). For the
allowlisted ones (which chunks a real server loses with 3-4 in flight hinges on timing the
model does not reproduce chunk for chunk) what must still hold is checked
(`upload_invariants`), and the upload is then finished at one chunk in flight and the slot's
hash checked, so that the records after it find the device in the state the capture left.

Run it on virtual time (`tests/vtime.py`): the model's clock then does not depend on how
much CPU the two Bumble hosts take.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import os
import subprocess
import sys
import tempfile
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cbor2
import vtime
from bumble.att import ATT_Error
from bumble.controller import Controller
from bumble.device import Connection, Device, Peer
from bumble.gatt import Characteristic, CharacteristicValue, Service
from bumble.hci import Address
from bumble.host import Host
from bumble.link import LocalLink
from bumble.transport.common import AsyncPipeSink
from reference import REFERENCE_DIR

from smpkit.image import parse_image
from smpkit.simulator.ble_buffers import BleConnection, BleSmpServer, cut_notifications
from smpkit.simulator.config import DeviceProfile
from smpkit.simulator.profiles_ble import ZEPHYR_34_BLE

CORPUS = REFERENCE_DIR / "zephyr-ble-transcripts.json"
ALLOWLIST = Path(__file__).with_name("allowlist.txt")
SERVICE_UUID = "8D53DC1D-1DB7-4CD3-868B-8A527460AA84"
CHAR_UUID = "DA2E7828-FBCE-4E01-AE9E-261174997C48"
#: Pauses between writes longer than this are shortened (the capture's 0.5 s / 2 s pauses).
MAX_GAP_S = 0.15
#: Quiet time after the last expected notification (catches extras; lets the server go idle).
SETTLE_S = 0.07
#: Quiet time for records that expect no notification at all.
SILENCE_S = 0.1

Handler = Callable[[bytes], Awaitable[Sequence[bytes]]]

# Bumble logs every ATT error a Write Command hides; Zephyr hides them too.
logging.getLogger("bumble.gatt_server").setLevel(logging.CRITICAL)


def load_corpus(path: Path = CORPUS) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = json.loads(path.read_text())
    return records


def load_allowlist(path: Path = ALLOWLIST) -> dict[str, str]:
    """`case  reason` per line; `#` starts a comment."""
    entries: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            case, _, reason = line.partition(" ")
            entries[case] = reason.strip()
    return entries


def is_upload_case(case: str) -> bool:
    return case.startswith("img_upload_")


def is_upload(record: dict[str, Any]) -> bool:
    return "chunks_sent" in record


def comparable(record: dict[str, Any]) -> bool:
    """Every record with its writes, and upload records whose image can be rebuilt."""
    return record.get("writes_hex") is not None or (is_upload(record) and "image_recipe" in record)


# ---- the peripheral ------------------------------------------------------------------------------


class MiniPeripheral:
    """A bare Bumble GATT server wired to the profile's BLE model (stands in until the simulator's lands)."""

    def __init__(self, device: Device, server: BleSmpServer) -> None:
        self.device = device
        self.server = server
        self.connections: dict[int, BleConnection] = {}
        self.characteristic: Characteristic[bytes] = Characteristic(
            CHAR_UUID,
            Characteristic.Properties.WRITE_WITHOUT_RESPONSE
            | Characteristic.Properties.WRITE
            | Characteristic.Properties.NOTIFY,
            Characteristic.WRITEABLE,
            CharacteristicValue(write=self._on_write),
        )
        device.add_service(Service(SERVICE_UUID, [self.characteristic]))
        device.gatt_server.max_mtu = server.profile.att_mtu_max
        device.on(device.EVENT_CONNECTION, self._on_connection)

    def _on_connection(self, connection: Connection) -> None:
        async def notify(piece: bytes) -> None:
            await self.device.notify_subscriber(connection, self.characteristic, piece)

        link = self.server.connection(notify, lambda: connection.att_mtu)
        self.connections[connection.handle] = link

        def gone(_reason: int) -> None:
            self.connections.pop(connection.handle, None)
            link.close()

        connection.on(connection.EVENT_DISCONNECTION, gone)

    def _on_write(self, connection: Connection, value: bytes) -> None:
        link = self.connections.get(connection.handle)
        if link is None:
            return
        error = link.write(bytes(value))
        if error is not None:
            raise ATT_Error(error)


@dataclass
class Link:
    """Two Bumble hosts on one LocalLink; the central side of the current connection."""

    central: Device
    peripheral: Device
    mini: MiniPeripheral | None
    connection: Connection | None = None
    peer: Peer | None = None
    characteristic: Any = None
    mtu_request: int | None = -1
    address: str | None = None
    received: list[tuple[float, bytes]] = field(default_factory=list)

    async def connect(self, mtu_request: int | None) -> None:
        await self.disconnect()
        target = self.peripheral.random_address
        if self.address:
            target = Address(self.address, Address.RANDOM_DEVICE_ADDRESS)
        self.connection = await self.central.connect(target)
        self.peer = Peer(self.connection)
        if mtu_request is not None:
            await self.peer.request_mtu(mtu_request)
        await self.peer.discover_services()
        service = self.peer.get_services_by_uuid(SERVICE_UUID)[0]  # type: ignore[arg-type]
        await service.discover_characteristics()
        self.characteristic = service.get_characteristics_by_uuid(CHAR_UUID)[0]  # type: ignore[arg-type]
        await self.peer.subscribe(self.characteristic, self._on_notification)
        self.mtu_request = mtu_request

    def _on_notification(self, value: bytes) -> None:
        self.received.append((asyncio.get_running_loop().time(), bytes(value)))

    @property
    def mtu(self) -> int:
        assert self.connection is not None
        return int(self.connection.att_mtu)

    async def write(self, value: bytes, with_response: bool) -> int | None:
        assert self.peer is not None
        try:
            await self.peer.write_value(self.characteristic, value, with_response=with_response)
        except ATT_Error as exc:
            return int(exc.error_code)
        return None

    async def disconnect(self) -> None:
        if self.connection is not None:
            with contextlib.suppress(Exception):
                await self.connection.disconnect()
            self.connection = None
            self.peer = None
            await asyncio.sleep(0.02)
        self.mtu_request = -1


async def open_link(
    handler: Handler | None, profile: DeviceProfile = ZEPHYR_34_BLE
) -> tuple[Link, Any]:
    """A central and a peripheral serving `profile` on one LocalLink.

    With no `handler`: the real thing, a `Simulator` with that profile served by its BLE
    peripheral (`serve_ble`). With a handler: the bare `MiniPeripheral` around it.
    """
    link = LocalLink()
    controller = Controller("C0", link=link, public_address="F0:F0:F0:F0:F0:F0")
    central = Device(address=Address("F0:F0:F0:F0:F0:F0"), host=Host(controller, AsyncPipeSink(controller)))
    await central.power_on()
    if handler is None:
        from smpkit.simulator import Simulator, SimulatorConfig
        from smpkit.simulator.transports.ble import serve_ble

        sim = Simulator(SimulatorConfig(profile=profile))
        peripheral = await serve_ble(sim, hci=link)
        assert peripheral.device is not None
        return Link(central, peripheral.device, None, address=peripheral.address), sim
    controller2 = Controller("C1", link=link, public_address="F1:F1:F1:F1:F1:F1")
    device = Device(address=Address("F1:F1:F1:F1:F1:F1"), host=Host(controller2, AsyncPipeSink(controller2)))
    server = BleSmpServer(profile, handler)
    mini = MiniPeripheral(device, server)
    await device.power_on()
    await device.start_advertising(auto_restart=True, advertising_interval_min=1.0)
    return Link(central, device, mini), server


# ---- replay ----------------------------------------------------------------------------------------


@dataclass
class Outcome:
    case: str
    matched: bool
    detail: str = ""
    got: list[str] = field(default_factory=list)
    #: allowlisted uploads: what must hold although the answers differ (empty: all of it holds)
    broken: list[str] = field(default_factory=list)


def wanted_mtu(record: dict[str, Any]) -> int | None:
    if "requested_mtu" in record:
        value = record["requested_mtu"]
        return int(value) if value is not None else None
    return None if record["mtu"] == 23 else int(record["mtu"])


async def _collect(link: Link, start: int, expected: int, deadline_s: float, scale: float = 1.0) -> list[bytes]:
    loop = asyncio.get_running_loop()
    end = loop.time() + deadline_s
    last = len(link.received)
    settle = SETTLE_S * scale
    quiet_until = loop.time() + (settle if expected else SILENCE_S * scale)
    while loop.time() < end:
        count = len(link.received) - start
        if len(link.received) != last:
            last = len(link.received)
            quiet_until = loop.time() + settle
        if count >= expected and loop.time() >= quiet_until:
            break
        await asyncio.sleep(0.005)
    return [value for _, value in link.received[start:]]


async def replay_writes(link: Link, record: dict[str, Any], scale: float = 1.0) -> tuple[list[bytes], list[int | None]]:
    with_response = record.get("write_type") == "write_request"
    times = [t * scale / 1000.0 for t in record["writes_t_ms"]]
    start = len(link.received)
    errors: list[int | None] = []
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    shift = 0.0
    for i, hex_value in enumerate(record["writes_hex"]):
        if i:
            gap = times[i] - times[i - 1]
            if gap > MAX_GAP_S * scale:
                shift += gap - MAX_GAP_S * scale
        due = t0 + times[i] - shift
        if (delay := due - loop.time()) > 0:
            await asyncio.sleep(delay)
        errors.append(await link.write(bytes.fromhex(hex_value), with_response))
    expected = len(record["notifications_hex"])
    got = await _collect(link, start, expected, 4.0 + 0.05 * expected, scale)
    return got, errors


def _split(notifications: Sequence[bytes]) -> list[tuple[bytes, list[int]]]:
    """Responses cut out of a notification stream by the header `len`, with their notification sizes."""
    stream = b"".join(notifications)
    sizes = [len(n) for n in notifications]
    out: list[tuple[bytes, list[int]]] = []
    pos = 0
    idx = 0
    while pos + 8 <= len(stream):
        size = 8 + int.from_bytes(stream[pos + 2 : pos + 4], "big")
        message = stream[pos : pos + size]
        cuts: list[int] = []
        taken = 0
        while taken < len(message) and idx < len(sizes):
            cuts.append(sizes[idx])
            taken += sizes[idx]
            idx += 1
        out.append((message, cuts))
        pos += size
    return out


def _mask(value: Any, path: list[str]) -> Any:
    if not path:
        return "<dynamic>"
    if not isinstance(value, dict):
        return value
    key, rest = path[0], path[1:]
    copy = dict(value)
    for k in list(copy):
        if key in ("*", k):
            copy[k] = _mask(copy[k], rest)
    return copy


def _masked(message: bytes, dynamic: Sequence[str]) -> Any:
    body: Any = cbor2.loads(message[8:])
    view: Any = {"body": body}
    for path in dynamic:
        view = _mask(view, path.split("."))
    return (message[0:2], message[4:8], view)


def compare_att_errors(record: dict[str, Any], errors: Sequence[int | None]) -> tuple[bool, str]:
    """A Write Request's ATT error, write for write (Write Commands hide them: nothing to compare)."""
    if record.get("write_type") != "write_request":
        return True, ""
    want = [None if e is None else int(e, 16) for e in record.get("att_errors") or [None] * len(errors)]
    if list(errors) == want:
        return True, ""
    return False, f"ATT errors {[None if e is None else hex(e) for e in errors]}, want {record.get('att_errors')}"


def compare(record: dict[str, Any], got: Sequence[bytes], mtu: int) -> tuple[bool, str]:
    want = [bytes.fromhex(h) for h in record["notifications_hex"]]
    dynamic = record.get("dynamic_fields") or []
    if not dynamic:
        if list(got) == want:
            return True, ""
        head = [w.hex()[:40] for w in want[:4]], [g.hex()[:40] for g in got[:4]]
        return False, f"want {head[0]} ({len(want)}), got {head[1]} ({len(got)})"
    ours, theirs = _split(got), _split(want)
    if len(ours) != len(theirs):
        return False, f"want {len(theirs)} responses, got {len(ours)}"
    for (mine, cuts), (ref, _) in zip(ours, theirs, strict=True):
        if _masked(mine, dynamic) != _masked(ref, dynamic):
            return False, f"response differs outside {dynamic}: {mine.hex()[:80]} vs {ref.hex()[:80]}"
        if cuts != [len(c) for c in cut_notifications(mine, mtu)]:
            return False, f"notification cuts {cuts} are not MTU-3 cuts"
    return True, ""


# ---- image uploads --------------------------------------------------------------------------------


def build_image(record: dict[str, Any], workdir: Path) -> bytes:
    """Rebuild the captured image from its recipe and check it against the recorded SHA-256."""
    raw = workdir / "raw.bin"
    raw.write_bytes(bytes(((i * 31 + 51) ^ (i >> 8)) & 0xFF for i in range(65536)))
    out = workdir / "image.bin"
    imgtool = Path(sys.executable).with_name("imgtool")
    subprocess.run(
        [str(imgtool), "create", "--align", "4", "--version", record["image_version"], "--header-size", "0x200",
         "--slot-size", "0x200000", "--pad-header", str(raw), str(out)],
        check=True, capture_output=True,
    )
    data = out.read_bytes()
    if hashlib.sha256(data).hexdigest() != record["image_file_sha256"]:
        raise RuntimeError("rebuilt image does not match image_file_sha256")
    return data


def chunk_packet(image: bytes, seq: int, off: int, size: int) -> bytes:
    body: dict[str, Any] = {"off": off}
    if off == 0:
        body["len"] = len(image)
        body["sha"] = hashlib.sha256(image).digest()
    body["data"] = image[off : off + size]
    payload = cbor2.dumps(body)
    return bytes((0x0A, 0)) + len(payload).to_bytes(2, "big") + bytes((0, 1, seq & 0xFF, 1)) + payload


async def replay_upload(
    link: Link, record: dict[str, Any], image: bytes, scale: float = 1.0, give_up_s: float = 60.0
) -> list[bytes]:
    """The capture's client: `window` chunks in flight; an answer whose `off` is not the end of
    its chunk rewinds there (a new epoch; older answers are ignored); 0.5 s of silence rewinds
    to the last answered `off`."""
    window = int(record["window"])
    first = record["chunks_sent"][0]
    seq = int(first["seq"])
    data_size = int(record["chunk_data_bytes"])
    first_size = int(first["size"])
    start = seen = len(link.received)
    write_size = link.mtu - 3
    loop = asyncio.get_running_loop()
    sent: dict[int, tuple[int, int]] = {}  # seq -> (epoch, end offset)
    in_flight: list[int] = []
    epoch = answered = next_off = 0
    last_event = loop.time()
    pending = b""
    give_up = loop.time() + give_up_s * max(scale, 0.5)
    while answered < len(image) and loop.time() < give_up:
        while len(in_flight) < window and next_off < len(image):
            n = min(first_size if next_off == 0 else data_size, len(image) - next_off)
            packet = chunk_packet(image, seq, next_off, n)
            for i in range(0, len(packet), write_size):
                await link.write(packet[i : i + write_size], False)
            sent[seq & 0xFF] = (epoch, next_off + n)
            in_flight.append(seq & 0xFF)
            seq += 1
            next_off += n
        await asyncio.sleep(0.002)
        while seen < len(link.received):
            pending += link.received[seen][1]
            seen += 1
            last_event = loop.time()
            while len(pending) >= 8 and len(pending) >= 8 + int.from_bytes(pending[2:4], "big"):
                size = 8 + int.from_bytes(pending[2:4], "big")
                message, pending = pending[:size], pending[size:]
                s = message[6]
                if s in in_flight:
                    in_flight = in_flight[in_flight.index(s) + 1 :]
                body = cbor2.loads(message[8:])
                off = body.get("off") if isinstance(body, dict) else None
                if s not in sent or sent[s][0] != epoch or not isinstance(off, int):
                    continue
                answered = max(answered, off)
                if off != sent[s][1]:
                    epoch += 1
                    next_off, in_flight = off, []
        if loop.time() - last_event > 0.3 * scale:
            epoch += 1
            next_off, in_flight = answered, []
            last_event = loop.time()
    await asyncio.sleep(SETTLE_S * scale)
    return [value for _, value in link.received[start:]]


def _answers(notifications: Sequence[bytes]) -> list[tuple[int, dict[str, Any]]]:
    out: list[tuple[int, dict[str, Any]]] = []
    for message, _ in _split(notifications):
        body = cbor2.loads(message[8:])
        out.append((message[6], body if isinstance(body, dict) else {}))
    return out


def upload_invariants(record: dict[str, Any], got: Sequence[bytes]) -> list[str]:
    """What an allowlisted upload must still show: the answers to the first `window` chunks (sent
    back to back before any answer) are the captured ones, and chunks were lost after that
    (an rc 2 or a chunk never answered), as in the capture."""
    want = [bytes.fromhex(h) for h in record["notifications_hex"]]
    window = int(record["window"])
    ours, theirs = _answers(got), _answers(want)
    broken: list[str] = []
    if ours[:window] != theirs[:window]:
        broken.append(f"first {window} answers {ours[:window]}, captured {theirs[:window]}")
    if not any(body.get("rc") for _, body in ours) and len(ours) >= len(record["chunks_sent"]):
        broken.append("no chunk was lost, the capture lost some")
    return broken


async def finish_upload(link: Link, image: bytes, seq: int) -> str:
    """One chunk in flight from wherever the device is; '' once the device holds `image`, else why not."""
    loop = asyncio.get_running_loop()
    off, size = 0, 2048
    seen = len(link.received)
    give_up = loop.time() + 30.0
    while loop.time() < give_up:
        n = min(size, len(image) - off)
        packet = chunk_packet(image, seq, off, n)
        for i in range(0, len(packet), link.mtu - 3):
            await link.write(packet[i : i + link.mtu - 3], False)
        deadline = loop.time() + 1.0
        answer: dict[str, Any] | None = None
        while answer is None and loop.time() < deadline:
            await asyncio.sleep(0.005)
            for s, body in _answers([v for _, v in link.received[seen:]]):
                if s == seq & 0xFF:
                    answer = body
        seen = len(link.received)
        seq += 1
        if answer is None or not isinstance(answer.get("off"), int):
            await asyncio.sleep(0.5)
            continue
        off = answer["off"]
        if off >= len(image):
            return await _slot1_hash_matches(link, image, seq)
    return "the upload did not finish"


async def _slot1_hash_matches(link: Link, image: bytes, seq: int) -> str:
    start = len(link.received)
    await link.write(bytes((0x08, 0, 0, 1, 0, 1, seq & 0xFF, 0)) + b"\xa0", False)  # image state read (v1)
    got = await _collect(link, start, 1, 2.0)
    answers = _answers(got)
    images = answers[0][1].get("images", []) if answers else []
    hashes = [i.get("hash") for i in images if i.get("slot") == 1]
    want = parse_image(image).hash
    return "" if hashes == [want] else f"slot 1 holds {hashes}, want {want!r}"


# ---- the run ---------------------------------------------------------------------------------------


async def run_replay(handler: Handler | None = None, profile: DeviceProfile = ZEPHYR_34_BLE,
                     cases: set[str] | None = None, scale: float = 1.0,
                     checked: frozenset[str] | None = None) -> list[Outcome]:
    """Replay every comparable record in corpus order against one device; `scale` < 1 runs the
    profile's clock and the record's write spacing faster by the same factor. Uploads named in
    `checked` (default: the allowlisted ones) get `upload_invariants` and are then finished."""
    records = load_corpus()
    if checked is None:
        checked = frozenset(case for case in load_allowlist() if is_upload_case(case))
    assert profile.ble_timing is not None
    profile = profile.with_timing(scale=profile.ble_timing.scale * scale)
    link, owner = await open_link(handler, profile)
    outcomes: list[Outcome] = []
    image: bytes | None = None
    loop = asyncio.get_running_loop()
    with tempfile.TemporaryDirectory() as tmp:
        for record in records:
            if not comparable(record) or (cases is not None and record["case"] not in cases):
                continue
            began = loop.time()
            mtu_request = wanted_mtu(record)
            if link.connection is None or link.mtu_request != mtu_request:
                await link.connect(mtu_request)
            if link.mtu != record["mtu"]:
                outcomes.append(Outcome(record["case"], False, f"MTU {link.mtu}, want {record['mtu']}"))
                continue
            broken: list[str] = []
            if is_upload(record):
                if image is None:
                    image = build_image(record, Path(tmp))
                if record["case"] in checked:
                    # bounded: on a deterministic clock the client can rewind into the same loss forever
                    got = await replay_upload(link, record, image, scale, give_up_s=2 * float(record["seconds"]))
                    broken = upload_invariants(record, got)
                    if why := await finish_upload(link, image, 0x80):
                        broken.append(why)
                else:
                    got = await replay_upload(link, record, image, scale)
                matched, detail = compare(record, got, link.mtu)
            else:
                got, errors = await replay_writes(link, record, scale)
                matched, detail = compare(record, got, link.mtu)
                if matched:
                    matched, detail = compare_att_errors(record, errors)
            if os.environ.get("SMPKIT_REPLAY_TIMES"):
                print(f"{record['case']}: {loop.time() - began:.2f}s")
            if record["case"].startswith("disc_partial"):
                await link.disconnect()
            outcomes.append(Outcome(record["case"], matched, detail, [g.hex() for g in got], broken))
    await link.disconnect()
    if hasattr(owner, "close"):
        await owner.close()
    return outcomes


def summary(outcomes: Sequence[Outcome], allow: dict[str, str]) -> str:
    matched = sum(o.matched for o in outcomes)
    return f"matched {matched} of {len(outcomes)} comparable BLE records"


def main() -> None:
    scale = float(os.environ.get("SMPKIT_REPLAY_SCALE", "1"))
    outcomes = vtime.run(run_replay(scale=scale))
    allow = load_allowlist()
    for o in outcomes:
        if not o.matched:
            print(f"{'ALLOWED ' if o.case in allow else 'MISMATCH'} {o.case}: {o.detail}")
        if o.broken:
            print(f"BROKEN   {o.case}: {o.broken}")
    print(summary(outcomes, allow))


if __name__ == "__main__":
    main()
