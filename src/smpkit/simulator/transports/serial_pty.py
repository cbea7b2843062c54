"""SMP over a serial line on a real pseudo-terminal (`/dev/pts/N`).

Console framing (Zephyr's UART transport) by default: a frame is taken only when its
marker starts the line, lines over the receive buffer are dropped, and answers are cut
into lines of 124 then 120 base64 characters as Zephyr cuts them. `raw=True` is the
raw UART transport: bare SMP messages, boundaries from the header. An optional baud
rate paces both directions at 10 bits per byte.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import tty
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from smpkit.protocol.errors import SMPProtocolError
from smpkit.protocol.packetizer import Packetizer
from smpkit.protocol.serial_framing import Frame, FrameDecoder, FrameError, encode_frame
from smpkit.simulator.session import Session

if TYPE_CHECKING:
    from smpkit.simulator.simulator import Simulator


class SerialPTYServer:
    def __init__(self, sim: Simulator, baud: int | None = None, raw: bool = False) -> None:
        self.sim = sim
        self.baud = baud
        self.raw = raw
        self._master = -1
        self._slave = -1
        self.path = ""
        self._out = bytearray()
        self._writing = False
        self._rx_busy_until = 0.0
        self._tx_busy_until = 0.0
        profile = sim.device.profile
        self._decoder = FrameDecoder(max_line=profile.serial_rx_line, strict=True)
        self._packetizer = Packetizer(max_message_size=profile.raw_limit if profile.raw_resync else None)
        self._frames: deque[bytes] = deque()
        self._frame_scheduled = False
        self.dropped_frames = 0
        self.session: Session = sim.new_session("serial-raw" if raw else "serial", self._send, self._hang_up)

    async def start(self) -> SerialPTYServer:
        self._master, self._slave = os.openpty()
        # No echo, no CR/LF translation: the line discipline must pass bytes unchanged.
        tty.setraw(self._slave)
        os.set_blocking(self._master, False)
        self.path = os.ttyname(self._slave)
        asyncio.get_running_loop().add_reader(self._master, self._readable)
        return self

    @property
    def url(self) -> str:
        query = [f"baud={self.baud}"] if self.baud else []
        if self.raw:
            query.append("raw=1")
        return f"serial://{self.path}" + ("?" + "&".join(query) if query else "")

    # -- receive ------------------------------------------------------------------------
    def _readable(self) -> None:
        try:
            data = os.read(self._master, 65536)
        except BlockingIOError:
            return
        except OSError as exc:  # EIO while no client holds the slave side
            if exc.errno != errno.EIO:
                raise
            return
        if not data:
            return
        self._rx_busy_until = self._after_wire(self._rx_busy_until, data, self._feed)

    def _after_wire(self, busy_until: float, data: bytes, then: Callable[[bytes], None]) -> float:
        """Call `then(data)` once `data` has crossed the wire behind what is already on it (at once
        without a baud rate); returns when the wire is free again."""
        if not self.baud:
            then(data)
            return busy_until
        loop = asyncio.get_running_loop()
        done = max(loop.time(), busy_until) + len(data) * 10 / self.baud  # 10 bits a byte (8N1)
        loop.call_at(done, then, data)
        return done

    def _feed(self, data: bytes) -> None:
        if not self.sim.device.online:
            self._decoder.reset()
            self._packetizer.reset()
            return
        if self.raw:
            try:
                messages = self._packetizer.feed(data)
            except SMPProtocolError:
                self.dropped_frames += 1
                return
            for message in messages:
                if len(message) > self.sim.device.profile.raw_limit:
                    self.dropped_frames += 1  # announced more than a buffer holds: never answered
                    continue
                self.session.receive(message)
            return
        limit = self.sim.device.profile.serial_limit
        one_at_a_time = self.sim.device.profile.serial_frame_at_a_time
        for event in self._decoder.feed(data):
            if isinstance(event, Frame):
                if len(event.message) > limit:
                    self.dropped_frames += 1  # Zephyr has no buffer for it: no answer at all
                    continue
                if one_at_a_time:
                    self._frames.append(event.message)
                else:
                    self.session.receive(event.message)
            elif isinstance(event, FrameError):
                self.dropped_frames += 1
        if one_at_a_time and self._frames and not self._frame_scheduled:
            self._next_frame()

    def _next_frame(self) -> None:
        """Hand over one frame; the session processes it (call_soon) before the next is taken."""
        self._frame_scheduled = False
        if not self._frames:
            return
        self.session.receive(self._frames.popleft())
        if self._frames:
            self._frame_scheduled = True
            asyncio.get_running_loop().call_soon(self._next_frame)

    # -- transmit -----------------------------------------------------------------------
    def _send(self, message: bytes, _peer: Any) -> None:
        if self._master < 0:
            return
        if self.raw:
            wire = message
        else:
            profile = self.sim.device.profile
            wire = encode_frame(message, profile.serial_tx_first_raw, profile.serial_tx_next_raw)
        self._tx_busy_until = self._after_wire(self._tx_busy_until, wire, self._write)

    def _write(self, wire: bytes) -> None:
        if self._master < 0:
            return
        self._out += wire
        self._flush()

    def _flush(self) -> None:
        while self._out and self._master >= 0:
            try:
                sent = os.write(self._master, self._out)
            except BlockingIOError:
                break
            except OSError:
                self._out.clear()
                break
            del self._out[:sent]
        loop = asyncio.get_running_loop()
        if self._out and not self._writing and self._master >= 0:
            self._writing = True
            loop.add_writer(self._master, self._writable)
        elif not self._out and self._writing:
            self._writing = False
            loop.remove_writer(self._master)

    def _writable(self) -> None:
        self._flush()

    # -- lifecycle ----------------------------------------------------------------------
    def on_reboot(self) -> None:
        self.session.reset()
        self._frames.clear()
        self._decoder.reset()
        self._packetizer.reset()

    def _hang_up(self) -> None:
        """Fault `drop_after`: the device side goes away; the client reads EOF/EIO."""
        self._close_fds()

    def _close_fds(self) -> None:
        loop = asyncio.get_running_loop()
        if self._master >= 0:
            loop.remove_reader(self._master)
            if self._writing:
                loop.remove_writer(self._master)
                self._writing = False
            with contextlib.suppress(OSError):
                os.close(self._master)
            self._master = -1
        if self._slave >= 0:
            with contextlib.suppress(OSError):
                os.close(self._slave)
            self._slave = -1

    async def close(self) -> None:
        self.session.close()
        self._close_fds()
