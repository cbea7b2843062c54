"""A tiny test-local SMP device with precise fault knobs (UDP and a real pty).

It answers with bodies shaped like Zephyr's, built with the protocol core, and lets a
test drop, delay or duplicate chosen requests: things a general simulator injects at
random, the client tests need exactly.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import tty
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from smpkit.protocol.codec import decode_message, encode_message
from smpkit.protocol.header import Header, Op
from smpkit.protocol.packetizer import Packetizer
from smpkit.protocol.serial_framing import Frame, FrameDecoder, encode_frame

Body = dict[str, Any]
Rule = Callable[[Header, Body], bool]


@dataclass
class FakeState:
    buf_size: int = 2048
    buf_count: int = 4
    #: "answer", "rc8" or "silent" for the MCUmgr parameters command.
    params: str = "answer"
    settings: dict[str, bytes] = field(default_factory=lambda: {"app/name": b"fake"})
    files: dict[str, bytes] = field(default_factory=lambda: {"/lfs/hello.txt": b"hello world\n" * 40})
    upload_off: int = 0
    image_upload: bytearray = field(default_factory=bytearray)
    datetime: str = "2024-01-01T00:00:00"
    resets: int = 0
    confirmed: bool = False
    tested: bytes | None = None
    storage_erased: int = 0
    shell_runs: int = 0


def _err(group: int, rc: int) -> Body:
    return {"err": {"group": group, "rc": rc}}


def handle(state: FakeState, header: Header, body: Body) -> Body:
    g, c, write = header.group, header.command, header.op == Op.WRITE
    key = (g, c, write)
    if key in ((0, 0, True), (0, 0, False)):
        return {"r": body.get("d", "")}
    if key == (0, 2, False):
        return {"tasks": {"main": {"prio": 0, "tid": 1, "state": 1, "stksiz": 1024, "stkuse": 200}}}
    if key == (0, 3, False):
        return {"heap": {"blksiz": 16, "nblks": 64, "nfree": 20, "min": 3}}
    if key == (0, 4, False):
        return {"datetime": state.datetime}
    if key == (0, 4, True):
        state.datetime = str(body["datetime"])
        return {}
    if key == (0, 5, True):
        state.resets += 1
        return {}
    if key == (0, 6, False):
        if state.params == "rc8":
            return {"rc": 8}
        return {"buf_size": state.buf_size, "buf_count": state.buf_count}
    if key == (0, 7, False):
        fmt = body.get("format", "")
        return {"output": "Zephyr 4.4.0" if fmt == "sv" else "Zephyr"} if fmt != "q" else _err(0, 2)
    if key == (0, 8, False):
        return {"mode": 1} if body.get("query") == "mode" else {"bootloader": "MCUboot"}
    if g == 1:
        return _image(state, c, write, body)
    if key == (2, 1, False):
        return {"stat_list": ["smp_svr_stats"]}
    if key == (2, 0, False):
        if body.get("name") != "smp_svr_stats":
            return _err(2, 2)
        return {"name": "smp_svr_stats", "fields": {"ticks": 42}}
    if g == 3:
        return _settings(state, c, write, body)
    if g == 8:
        return _fs(state, c, write, body)
    if key == (9, 0, True):
        state.shell_runs += 1
        return {"o": " ".join(body.get("argv", [])), "ret": 0}
    if key == (10, 0, False):
        return {"count": 4}
    if key == (10, 1, False):
        return {"groups": [0, 1, 8, 10]}
    if key == (10, 2, False):
        index = body.get("index", 0)
        return {"group": [0, 1, 8, 10][index], **({"end": True} if index == 3 else {})} if index < 4 else _err(10, 4)
    if key == (10, 3, False):
        return {"groups": [{"group": 0, "name": "os", "handlers": 9}]}
    if key == (63, 0, True):
        state.storage_erased += 1
        return {}
    return {"rc": 8}


_HASH = hashlib.sha256(b"running").digest()


def _image(state: FakeState, c: int, write: bool, body: Body) -> Body:
    if c == 0:
        if write:
            if body.get("confirm"):
                state.confirmed = True
            else:
                state.tested = body.get("hash")
        images: list[Body] = [
            {"slot": 0, "version": "1.0.0", "hash": _HASH, "active": True, "confirmed": True, "bootable": True}
        ]
        if state.tested is not None:
            images.append({"slot": 1, "version": "1.1.0", "hash": state.tested, "pending": True})
        return {"images": images, "splitStatus": 0}
    if c == 1 and write:
        off, data = body["off"], body["data"]
        if off == 0:
            state.image_upload = bytearray()
            state.upload_off = 0
        if off != state.upload_off:
            return {"off": state.upload_off}
        state.image_upload += data
        state.upload_off += len(data)
        return {"off": state.upload_off}
    if c == 5 and write:
        return {}
    if c == 6 and not write:
        return {
            "images": [
                {
                    "image": 0,
                    "slots": [{"slot": 0, "size": 0x80000}, {"slot": 1, "size": 0x80000, "upload_image_id": 0}],
                    "max_image_size": 0x7F000,
                }
            ]
        }
    return {"rc": 8}


def _settings(state: FakeState, c: int, write: bool, body: Body) -> Body:
    name = body.get("name", "")
    if c == 0 and not write:
        return {"val": state.settings[name]} if name in state.settings else _err(3, 3)
    if c == 0 and write:
        state.settings[name] = body["val"]
        return {}
    if c == 1 and write:
        return {} if state.settings.pop(name, None) is not None else _err(3, 3)
    if c in (2, 3):
        return {}
    return {"rc": 8}


def _fs(state: FakeState, c: int, write: bool, body: Body) -> Body:
    name = body.get("name", "")
    if c == 0 and not write:
        if name not in state.files:
            return _err(8, 3)
        data, off = state.files[name], body["off"]
        piece = data[off : off + 100]
        return {"off": off, "data": piece, **({"len": len(data)} if off == 0 else {})}
    if c == 0 and write:
        off, data = body["off"], body["data"]
        if off == 0:
            state.files[name] = b""
        current = state.files.get(name, b"")
        if off != len(current):
            return {**_err(8, 11), "len": len(current)}
        state.files[name] = current + data
        return {"off": off + len(data)}
    if c == 1:
        return {"len": len(state.files[name])} if name in state.files else _err(8, 3)
    if c == 2:
        if name not in state.files:
            return _err(8, 3)
        return {
            "type": "sha256",
            "output": hashlib.sha256(state.files[name]).digest(),
            "off": 0,
            "len": len(state.files[name]),
        }
    if c == 3:
        return {"types": {"sha256": {"format": 1, "size": 32}, "crc32": {"format": 0, "size": 4}}}
    if c == 4:
        return {}
    return {"rc": 8}


@dataclass
class Faults:
    """Rules on the request header+body. `drop`: no answer; `delay`: answer after a pause; `duplicate`: twice."""

    drop: list[Rule] = field(default_factory=list)
    delay: list[tuple[Rule, float]] = field(default_factory=list)
    duplicate: list[Rule] = field(default_factory=list)
    once: bool = True  # each rule fires once, then is removed
    silent: bool = False
    garbage: bool = False


class FakeDevice:
    """Handles messages; subclasses move them over UDP or a pty."""

    def __init__(self, state: FakeState | None = None) -> None:
        self.state = state or FakeState()
        self.faults = Faults()
        self.requests: list[Header] = []
        #: Exceptions raised while handling a message (in a transport callback or a delayed task):
        #: the fixtures re-raise them at teardown, so a broken double fails its test instead of
        #: surfacing as a client timeout.
        self.errors: list[BaseException] = []
        self._tasks: set[asyncio.Task[None]] = set()

    def _match(self, rules: list[Any], header: Header, body: Body) -> Any:
        for rule in rules:
            fn = rule[0] if isinstance(rule, tuple) else rule
            if fn(header, body):
                if self.faults.once:
                    rules.remove(rule)
                return rule
        return None

    def on_message(self, data: bytes, reply: Callable[[bytes], None]) -> None:
        try:
            self._on_message(data, reply)
        except Exception as exc:
            self.errors.append(exc)

    def check(self) -> None:
        """Raise the first exception the device hit (called by the fixtures after each test)."""
        if self.errors:
            raise AssertionError(f"the fake device failed {len(self.errors)} time(s)") from self.errors[0]

    def _on_message(self, data: bytes, reply: Callable[[bytes], None]) -> None:
        message = decode_message(data)
        header, body = message.header, message.body
        self.requests.append(header)
        if self.faults.silent or ((header.group, header.command) == (0, 6) and self.state.params == "silent"):
            return
        if self.faults.garbage:
            reply(b"\xff\xfe\x00\x13garbage")
            return
        if self._match(self.faults.drop, header, body):
            return
        out_body = handle(self.state, header, body)
        out = encode_message(
            Header(Op(header.op).response, header.version, 0, 0, header.group, header.sequence, header.command),
            out_body,
        )
        copies = 2 if self._match(self.faults.duplicate, header, body) else 1
        delayed = self._match(self.faults.delay, header, body)
        if delayed:
            self._later(delayed[1], lambda: [reply(out) for _ in range(copies)])
            return
        for _ in range(copies):
            reply(out)

    def _later(self, seconds: float, fn: Callable[[], Any]) -> None:
        async def run() -> None:
            await asyncio.sleep(seconds)
            try:
                fn()
            except Exception as exc:
                self.errors.append(exc)

        task = asyncio.get_running_loop().create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


class FakeUDPDevice(FakeDevice, asyncio.DatagramProtocol):
    transport: asyncio.DatagramTransport

    async def start(self, host: str = "127.0.0.1") -> str:
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(lambda: self, local_addr=(host, 0))
        self.transport = transport
        port = self.transport.get_extra_info("sockname")[1]
        return f"udp://[{host}]:{port}" if ":" in host else f"udp://{host}:{port}"

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.on_message(data, lambda out: self.transport.sendto(out, addr))

    async def close(self) -> None:
        self.transport.close()


class FakePtyDevice(FakeDevice):
    """The device end of a real pty; `link` is a stable symlink to the tty, re-pointed on `replug()`."""

    def __init__(self, state: FakeState | None = None, *, link: Path, raw: bool = False) -> None:
        super().__init__(state)
        self.link = link
        self.raw = raw
        self.master = -1
        self.received = bytearray()
        self._decoder = FrameDecoder()
        self._packetizer = Packetizer()

    def start(self) -> str:
        self._open()
        return f"serial://{self.link}"

    def _open(self) -> None:
        master, slave = os.openpty()
        tty.setraw(slave)
        tty.setraw(master)
        name = os.ttyname(slave)
        os.close(slave)
        os.set_blocking(master, False)
        self.master = master
        with contextlib.suppress(FileNotFoundError):
            self.link.unlink()
        self.link.symlink_to(name)
        self._decoder.reset()
        self._packetizer.reset()
        asyncio.get_running_loop().add_reader(master, self._readable)

    def _readable(self) -> None:
        try:
            data = os.read(self.master, 65536)
        except OSError:
            return
        self.received += data
        if self.raw:
            for message in self._packetizer.feed(data):
                self.on_message(message, self.write_message)
            return
        for event in self._decoder.feed(data):
            if isinstance(event, Frame):
                self.on_message(event.message, self.write_message)

    def write_message(self, message: bytes) -> None:
        if self.master < 0:
            return
        if self.faults.garbage:
            self.write_raw(b"\x13\xff\xfe garbage \x01\x02\n")
            return
        self.write_raw(message if self.raw else encode_frame(message))

    def write_raw(self, data: bytes) -> None:
        os.write(self.master, data)

    def unplug(self) -> None:
        if self.master >= 0:
            asyncio.get_running_loop().remove_reader(self.master)
            os.close(self.master)
            self.master = -1
        with contextlib.suppress(FileNotFoundError):
            self.link.unlink()

    def replug(self) -> None:
        self.unplug()
        self._open()

    async def close(self) -> None:
        self.unplug()
