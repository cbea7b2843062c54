"""A test-local SMP device with precise fault knobs (UDP and a real pty).

The answers come from the simulator's own request handlers (`Simulator.processor`, the same
code the conformance tests check against the Zephyr captures), so response shapes have one
source. What the double adds are exact, per-request faults a client test needs: drop, delay
or duplicate chosen requests, go silent, answer garbage, or answer the MCUmgr parameters
command with rc 8 / not at all (`Knobs.params`), and change `buf_count` as a new firmware would.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
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
from smpkit.simulator import Simulator, SimulatorConfig

Body = dict[str, Any]
Rule = Callable[[Header, Body], bool]


@dataclass
class Knobs:
    """What a test turns on the device itself (faults on the link are in `Faults`)."""

    #: "answer", "rc8" (the command is compiled out) or "silent" for the MCUmgr parameters command.
    params: str = "answer"


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
    """Handles messages with the simulator's handlers; subclasses move them over UDP or a pty."""

    def __init__(self, buf_size: int = 2048, buf_count: int = 4) -> None:
        self.sim = Simulator(SimulatorConfig(buf_size=buf_size, buf_count=buf_count))
        self.knobs = Knobs()
        self.faults = Faults()
        #: Every request header that arrived; `handled`: those that reached the handlers.
        self.requests: list[Header] = []
        self.handled: list[Header] = []
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

    def set_buf_count(self, count: int) -> None:
        """As a new firmware with more (or fewer) net_bufs would answer from now on."""
        device = self.sim.device
        device.profile = dataclasses.replace(device.profile, buf_count=count)

    def count(self, group: int, command: int) -> int:
        """Requests of (group, command) the handlers got (dropped ones not counted)."""
        return sum(1 for h in self.handled if (h.group, h.command) == (group, command))

    def _answer(self, header: Header, data: bytes) -> bytes | None:
        if (header.group, header.command) == (0, 6) and self.knobs.params == "rc8":
            return encode_message(
                Header(Op(header.op).response, header.version, 0, 0, header.group, header.sequence, header.command),
                {"rc": 8},
            )
        self.handled.append(header)
        answers = self.sim.processor.handle_packet(data, "fake")
        return answers[0] if answers else None

    def _on_message(self, data: bytes, reply: Callable[[bytes], None]) -> None:
        message = decode_message(data)
        header, body = message.header, message.body
        self.requests.append(header)
        if self.faults.silent or ((header.group, header.command) == (0, 6) and self.knobs.params == "silent"):
            return
        if self.faults.garbage:
            reply(b"\xff\xfe\x00\x13garbage")
            return
        if self._match(self.faults.drop, header, body):
            return
        out = self._answer(header, data)
        if out is None:
            return
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
        await self.sim.close()


class FakePtyDevice(FakeDevice):
    """The device end of a real pty; `link` is a stable symlink to the tty, re-pointed on `replug()`."""

    def __init__(self, *, link: Path, raw: bool = False) -> None:
        super().__init__()
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
        await self.sim.close()
