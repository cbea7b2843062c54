"""Replay the Zephyr 4.4.0 capture corpus against the simulator and compare the answers.

Each captured server becomes one fresh simulator running the matching profile, fed the
recorded request bytes in script order (seq numbers and device state follow that order)
over the same kind of transport: UDP datagrams, or the exact wire bytes written to a real
pseudo-terminal (console framing, raw UART, or the shell UART). Answers are compared byte
for byte; only a record's `dynamic_fields` are masked, and then the decoded bodies are
compared in key order with those paths blanked.

Used by `test_conformance.py` and `report.py`.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import json
import os
import re
import socket
import tty
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cbor2
from reference import REFERENCE_DIR

from smpkit.protocol.packetizer import Packetizer
from smpkit.protocol.serial_framing import CONTINUE, START, Frame, FrameDecoder

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
CORPUS = REFERENCE_DIR / "zephyr-4.4-transcripts.json"
ALLOWLIST = HERE / "allowlist.json"

#: Captured server -> simulator profile. Each server string is one run of one process.
SERVER_PROFILES: dict[str, str] = {
    "native_sim udp buf2048x2": "zephyr-4.4-udp",
    "native_sim udp buf2048x2 (throwaway run)": "zephyr-4.4-udp",
    "native_sim serial buf384x4 line128": "zephyr-4.4-serial",
    "native_sim serial_raw buf384x4": "zephyr-4.4-serial-raw",
    "native_sim serial_raw buf384x4 (second run)": "zephyr-4.4-serial-raw",
    "native_sim shell buf384x4": "zephyr-4.4-shell",
    "qemu mps2_an385 mcuboot serial_recovery_buf2048 buf2048x4": "zephyr-4.4-mcuboot",
    "qemu mps2_an385 mcuboot serial_recovery_buf2048 buf2048x4 (pipelining run, PTY)": "zephyr-4.4-mcuboot",
    "qemu mps2_an385 mcuboot serial_recovery_buf2048 buf2048x4 (pipelining run, TCP)": "zephyr-4.4-mcuboot",
}

#: How long to wait for an answer that the capture says comes, and for silence.
ANSWER_TIMEOUT_S = 3.0
QUIET_S = 0.3
#: Pause between lines of a frame the capture sent paced, and after `preceding_*` bytes.
PACED_LINE_GAP_S = 0.002
PRECEDING_GAP_S = 0.05


@dataclass(slots=True)
class Outcome:
    index: int
    server: str
    profile: str
    case: str
    matched: bool = False
    detail: str = ""
    allow_reason: str | None = None


@dataclass(slots=True)
class Result:
    outcomes: list[Outcome] = field(default_factory=list)
    not_comparable: list[tuple[int, str, str]] = field(default_factory=list)

    @property
    def comparable(self) -> int:
        return len(self.outcomes)

    @property
    def matched(self) -> int:
        return sum(o.matched for o in self.outcomes)

    def summary(self) -> str:
        return f"matched {self.matched} of {self.comparable} comparable records"


def load_corpus(path: Path = CORPUS) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = json.loads(path.read_text())
    return records


def load_allowlist(path: Path = ALLOWLIST) -> dict[int, tuple[str, str]]:
    """Record index -> (case, reason)."""
    data = json.loads(path.read_text())
    return {int(e["index"]): (str(e["case"]), str(e["reason"])) for e in data["records"]}


# -- comparison ---------------------------------------------------------------------------


def _hexbytes(value: str | list[str]) -> list[bytes]:
    return [bytes.fromhex(v) for v in value] if isinstance(value, list) else [bytes.fromhex(value)]


def _mask(value: Any, parts: list[str]) -> Any:
    if not parts:
        return "<dynamic>"
    head, rest = parts[0], parts[1:]
    if isinstance(value, dict):
        if head == "*":
            return {k: _mask(v, rest) for k, v in value.items()}
        if head in value:
            return {k: (_mask(v, rest) if k == head else v) for k, v in value.items()}
        return value
    if isinstance(value, list) and head == "*":
        return [_mask(v, rest) for v in value]
    return value


def _ordered(value: Any) -> Any:
    """Dicts as key-ordered pair lists, so that key order is compared too."""
    if isinstance(value, dict):
        return [[k, _ordered(v)] for k, v in value.items()]
    if isinstance(value, list):
        return [_ordered(v) for v in value]
    return value


def _body_view(message: bytes, dynamic: list[str]) -> Any:
    body = cbor2.loads(message[8:]) if len(message) > 8 else None
    view: Any = {"body": body}
    for path in dynamic:
        view = _mask(view, path.split("."))
    return [message[:2].hex(), message[4:8].hex(), _ordered(view)]


def compare_one(expected_wire: bytes, expected_msg: bytes, got_wire: bytes, got_msg: bytes, dynamic: list[str]) -> str:
    """'' when the answer matches, else what differs."""
    if not dynamic:
        if got_wire == expected_wire:
            return ""
        return f"bytes differ: expected {expected_wire.hex()} got {got_wire.hex()}"
    try:
        want, have = _body_view(expected_msg, dynamic), _body_view(got_msg, dynamic)
    except Exception as exc:
        return f"undecodable answer {got_msg.hex()}: {exc}"
    if want == have:
        return ""
    return f"decoded answer differs (dynamic fields masked): expected {want} got {have}"


# -- links ----------------------------------------------------------------------------------


class Link:
    """One client connection to the simulator; collects answers as (wire, message) pairs."""

    def __init__(self) -> None:
        self.answers: asyncio.Queue[tuple[bytes, bytes]] = asyncio.Queue()

    async def send(self, chunks: list[bytes], gap_s: float) -> None:
        for i, chunk in enumerate(chunks):
            if i and gap_s:
                await asyncio.sleep(gap_s)
            await self.write(chunk)

    async def write(self, data: bytes) -> None:
        raise NotImplementedError

    def drain(self) -> list[tuple[bytes, bytes]]:
        items = []
        while not self.answers.empty():
            items.append(self.answers.get_nowait())
        return items

    async def collect(self, count: int) -> list[tuple[bytes, bytes]]:
        got: list[tuple[bytes, bytes]] = []
        if count == 0:
            await asyncio.sleep(QUIET_S)
            return self.drain()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + ANSWER_TIMEOUT_S
        while len(got) < count:
            left = deadline - loop.time()
            if left <= 0:
                break
            try:
                got.append(await asyncio.wait_for(self.answers.get(), left))
            except asyncio.TimeoutError:
                break
        return got

    async def close(self) -> None:
        return None


class UdpLink(Link):
    def __init__(self, host: str, port: int) -> None:
        super().__init__()
        self._addr = (host, port)
        self._transport: asyncio.DatagramTransport | None = None

    async def open(self) -> None:
        link = self

        class _Proto(asyncio.DatagramProtocol):
            def datagram_received(self, data: bytes, addr: Any) -> None:
                link.answers.put_nowait((data, data))

        loop = asyncio.get_running_loop()
        self._transport, _ = await loop.create_datagram_endpoint(
            _Proto, remote_addr=self._addr, family=socket.AF_INET
        )

    async def write(self, data: bytes) -> None:
        assert self._transport is not None
        self._transport.sendto(data)

    async def close(self) -> None:
        if self._transport is not None:
            self._transport.close()


class PtyLink(Link):
    """The device side of the simulator's pseudo-terminal, in raw mode."""

    def __init__(self, path: str, mode: str) -> None:
        super().__init__()
        self.mode = mode  # "serial", "serial-raw" or "shell"
        self._path = path
        self._fd = -1
        self._packetizer = Packetizer()
        self._decoder = FrameDecoder()
        self._line = bytearray()
        self._frame_wire = bytearray()
        self.console = bytearray()

    async def open(self) -> None:
        self._fd = os.open(self._path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
        tty.setraw(self._fd)
        asyncio.get_running_loop().add_reader(self._fd, self._readable)

    def _readable(self) -> None:
        try:
            data = os.read(self._fd, 65536)
        except BlockingIOError:
            return
        except OSError:
            asyncio.get_running_loop().remove_reader(self._fd)
            return
        if self.mode == "serial-raw":
            for message in self._packetizer.feed(data):
                self.answers.put_nowait((message, message))
            return
        self._feed_lines(data)

    def _feed_lines(self, data: bytes) -> None:
        self._line += data
        while (nl := self._line.find(b"\n")) >= 0:
            line = bytes(self._line[: nl + 1])
            del self._line[: nl + 1]
            if line.startswith(START):
                self._frame_wire = bytearray()
            if line.startswith((START, CONTINUE)):
                self._frame_wire += line
                for event in self._decoder.feed(line):
                    if isinstance(event, Frame):
                        self.answers.put_nowait((bytes(self._frame_wire), event.message))
                        self._frame_wire = bytearray()
            else:
                self.console += line

    async def write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            try:
                n = os.write(self._fd, view)
            except BlockingIOError:
                await asyncio.sleep(0.001)
                continue
            except OSError as exc:
                if exc.errno == errno.EIO:
                    return
                raise
            view = view[n:]

    async def close(self) -> None:
        if self._fd >= 0:
            with contextlib.suppress(Exception):
                asyncio.get_running_loop().remove_reader(self._fd)
            os.close(self._fd)
            self._fd = -1


# -- replay ---------------------------------------------------------------------------------


def _gap_s(case: str) -> float:
    match = re.search(r"gap(\d+)ms", case)
    return int(match.group(1)) / 1000 if match else 0.0


def _request_chunks(record: dict[str, Any]) -> list[bytes]:
    """The exact bytes to write, one chunk per recorded packet (or per paced line)."""
    wire = record.get("request_wire_hex")
    chunks = _hexbytes(wire) if wire is not None else _hexbytes(record["request_hex"])
    if record["transport"] != "serial_raw" and len(chunks) == 1 and re.search(r"paced|small_chunks", record["case"]):
        return [line + b"\n" for line in chunks[0].split(b"\n")[:-1]]
    return chunks


def _expected(record: dict[str, Any]) -> list[tuple[bytes, bytes]]:
    out = []
    for rsp in record["responses"]:
        msg = bytes.fromhex(rsp["hex"])
        wire = bytes.fromhex(rsp["wire_hex"]) if "wire_hex" in rsp else msg
        out.append((wire, msg))
    return out


def _has_request(record: dict[str, Any]) -> bool:
    return bool(record.get("request_wire_hex") or record.get("request_hex"))


def _is_reset(record: dict[str, Any]) -> bool:
    req = record["request_decoded"]
    return isinstance(req, dict) and (req.get("op"), req.get("group"), req.get("id")) == (2, 0, 5)


def runs(records: list[dict[str, Any]]) -> Iterator[tuple[str, str, list[int]]]:
    """(server, profile, record indexes) per captured server, in corpus order."""
    order: dict[str, list[int]] = {}
    for i, r in enumerate(records):
        order.setdefault(r["server"], []).append(i)
    for server, indexes in order.items():
        if server in SERVER_PROFILES:
            yield server, SERVER_PROFILES[server], indexes


def _check(outcome: Outcome, record: dict[str, Any], got: list[tuple[bytes, bytes]]) -> None:
    expected = _expected(record)
    dynamic = list(record.get("dynamic_fields") or [])
    if len(got) != len(expected):
        outcome.matched = False
        shown = [g[1].hex() for g in got]
        outcome.detail = f"expected {len(expected)} answer(s), got {len(got)}: {shown}"
        return
    for (ew, em), (gw, gm) in zip(expected, got, strict=True):
        detail = compare_one(ew, em, gw, gm, dynamic)
        if detail:
            outcome.matched, outcome.detail = False, detail
            return
    outcome.matched, outcome.detail = True, ""


async def _open_link(sim: Any, profile: str, transport: str) -> tuple[Any, Link]:
    if transport == "udp":
        server = await sim.serve_udp("127.0.0.1", 0)
        host, port = server.url.removeprefix("udp://").rsplit(":", 1)
        udp = UdpLink(host, int(port))
        await udp.open()
        return server, udp
    mode = {"serial": "serial", "serial_raw": "serial-raw", "shell": "shell"}[transport]
    server = await sim.serve_serial_pty(raw=mode == "serial-raw")
    pty = PtyLink(server.url.removeprefix("serial://").split("?")[0], mode)
    await pty.open()
    return server, pty


async def replay_run(
    server_name: str, profile: str, records: list[dict[str, Any]], indexes: list[int]
) -> list[Outcome]:
    from smpkit.simulator import Faults, Simulator, SimulatorConfig

    outcomes: list[Outcome] = []
    transport = records[indexes[0]]["transport"]
    async with Simulator(SimulatorConfig(profile=profile), faults=Faults()) as sim:
        _server, link = await _open_link(sim, profile, transport)
        try:
            previous: Outcome | None = None
            previous_record: dict[str, Any] | None = None
            for i in indexes:
                record = records[i]
                if not _has_request(record):
                    continue
                stray = link.drain()
                if stray and previous is not None and previous_record is not None:
                    previous.matched = False
                    previous.detail = f"extra answer(s) after the expected ones: {[s[1].hex() for s in stray]}"
                outcome = Outcome(i, server_name, profile, record["case"])
                for key in ("preceding_wire_hex", "preceding_bytes_hex"):
                    if key in record:
                        await link.write(bytes.fromhex(record[key]))
                        await asyncio.sleep(PRECEDING_GAP_S)
                await link.send(_request_chunks(record), _gap_s(record["case"]))
                got = await link.collect(len(record["responses"]))
                if isinstance(record["request_hex"], list) and len(record["request_hex"]) > len(got):
                    # Pipelined requests the capture saw dropped: give late answers time to show.
                    await asyncio.sleep(QUIET_S)
                    got += link.drain()
                _check(outcome, record, got)
                if _is_reset(record) and record["responses"] and not sim.profile.reset_exits:
                    await sim.wait_online()  # the capture waited for the reboot too
                outcomes.append(outcome)
                previous, previous_record = outcome, record
            if previous_record is not None and previous_record["responses"]:
                await asyncio.sleep(QUIET_S)  # time for a late extra answer to the last record
            stray = link.drain()
            if stray and previous is not None:
                previous.matched = False
                previous.detail = f"extra answer(s) after the expected ones: {[s[1].hex() for s in stray]}"
        finally:
            await link.close()
    return outcomes


async def replay_all(
    records: list[dict[str, Any]] | None = None, only: set[str] | None = None, transports: set[str] | None = None
) -> Result:
    records = records if records is not None else load_corpus()
    allow = load_allowlist()
    result = Result()
    run_list = [
        r for r in runs(records)
        if (only is None or r[1] in only) and (transports is None or records[r[2][0]]["transport"] in transports)
    ]
    for i, r in enumerate(records):
        if r["server"] not in SERVER_PROFILES:
            result.not_comparable.append((i, r["case"], "no profile reproduces this server"))
        elif not _has_request(r):
            result.not_comparable.append((i, r["case"], "no request bytes (a note about the server)"))
    per_run = await asyncio.gather(*(replay_run(s, p, records, idx) for s, p, idx in run_list))
    for outcomes in per_run:
        result.outcomes.extend(outcomes)
    result.outcomes.sort(key=lambda o: o.index)
    for outcome in result.outcomes:
        if outcome.index in allow:
            outcome.allow_reason = allow[outcome.index][1]
    return result


def replay_everything() -> Result:
    """UDP runs on virtual time (a datagram on loopback is in the socket buffer once `sendto`
    returns, so the loop sees it before its clock moves, and the profile's 10 ms busy window is
    exact); pty runs on real time (the kernel hands pty bytes over later, from a work queue)."""
    import vtime

    udp = vtime.run(replay_all(transports={"udp"}))
    rest = asyncio.run(replay_all(transports={"serial", "serial_raw", "shell"}))
    merged = Result()
    merged.outcomes = sorted(udp.outcomes + rest.outcomes, key=lambda o: o.index)
    merged.not_comparable = udp.not_comparable
    return merged
