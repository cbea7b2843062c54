"""The `Simulator`: one device, any number of transport servers, faults, reboots, state on disk."""

from __future__ import annotations

import asyncio
import random
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from smpkit.simulator.config import DeviceProfile, SimulatorConfig
from smpkit.simulator.device import Device
from smpkit.simulator.faults import NO_FAULTS, Faults
from smpkit.simulator.server import RequestProcessor, RequestRecord
from smpkit.simulator.session import Send, Session
from smpkit.simulator.state import StateStore
from smpkit.simulator.transports import Server
from smpkit.simulator.transports.serial_pty import SerialPTYServer
from smpkit.simulator.transports.udp import UDPServer


class Simulator:
    """A simulated Zephyr SMP server. Use as an async context manager, or call `close()`."""

    def __init__(self, config: SimulatorConfig | None = None, faults: Faults | None = None) -> None:
        self.config = config or SimulatorConfig()
        self.faults = faults or NO_FAULTS
        self.profile: DeviceProfile = self.config.device_profile()
        self.rng = random.Random(self.faults.seed)
        self._tempdir: str | None = None
        self.store: StateStore | None = None
        if self.config.state_dir is not None:
            self.store = StateStore(Path(self.config.state_dir))
        boot_image = Path(self.config.image).read_bytes() if self.config.image else None
        self.device = Device(self.profile, self._fs_root(), boot_image)
        if self.store is not None and not self.store.load(self.device):
            self.store.save(self.device)
        self.device.on_reset = self._reset_requested
        self.device.on_change = self._changed
        self.device.reset_during_upload = self.faults.reset_during_upload
        self.processor = RequestProcessor(self.device)
        self.processor.on_request = self._record
        self.servers: list[Server] = []
        self.sessions: list[Session] = []
        self.records: list[RequestRecord] = []
        #: Keep every handled request in `records` (tests); off for long runs.
        self.keep_records = True
        #: Called for every handled request (the CLI prints one line each).
        self.on_request: Callable[[RequestRecord], None] | None = None
        self._timers: list[asyncio.TimerHandle] = []

    def _fs_root(self) -> Path:
        if self.config.fs_root is not None:
            root = Path(self.config.fs_root)
        elif self.store is not None:
            root = self.store.fs_root
        else:
            self._tempdir = tempfile.mkdtemp(prefix="smpkit-sim-fs-")
            root = Path(self._tempdir)
        root.mkdir(parents=True, exist_ok=True)
        return root

    # -- servers ------------------------------------------------------------------------
    async def serve_udp(self, host: str = "127.0.0.1", port: int = 0) -> UDPServer:
        server = await UDPServer(self, host, port).start()
        self.servers.append(server)
        return server

    async def serve_serial_pty(self, baud: int | None = None, raw: bool = False) -> SerialPTYServer:
        server = await SerialPTYServer(self, baud=baud, raw=raw).start()
        self.servers.append(server)
        return server

    async def serve_ble(self, hci: object, name: str = "smpkit-sim", **options: object) -> Server:
        """Serve as a BLE peripheral (Bumble). `hci` is a Bumble transport spec or a virtual link.

        Bumble is imported only here, so UDP and serial users never load it.
        """
        from smpkit.simulator.transports.ble import serve_ble

        return await serve_ble(self, hci, name, **options)  # type: ignore[arg-type]

    def add_server(self, server: Server) -> None:
        """Register a server built elsewhere (e.g. a BLE GATT server) so reboots and close reach it."""
        self.servers.append(server)

    def new_session(self, name: str, send: Send, on_link_drop: Callable[[], None] | None = None) -> Session:
        """A transport's session: feed it packets with `receive()`, answers come through `send`."""
        session = Session(name, self.device, self.processor, send, self.faults, self.rng, on_link_drop)
        self.sessions.append(session)
        return session

    async def handle_packet(self, packet: bytes, transport: str = "direct") -> list[bytes]:
        """Process one packet now, bypassing queues and faults (for in-process callers)."""
        if not self.device.online:
            return []
        return self.processor.handle_packet(packet, transport)

    # -- reboot -------------------------------------------------------------------------
    def _reset_requested(self) -> None:
        loop = asyncio.get_running_loop()
        self._timers.append(loop.call_later(self.profile.reset_ms / 1000, self._reboot))

    def _reboot(self) -> None:
        self.device.reboot()
        for server in self.servers:
            server.on_reboot()
        if self.device.online:
            self.device.online = False
            loop = asyncio.get_running_loop()
            self._timers.append(loop.call_later(self.profile.boot_ms / 1000, self._booted))

    def _booted(self) -> None:
        self.device.online = True

    async def wait_online(self, timeout: float = 5.0) -> None:
        """Wait until the device answers again after a reset."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not self.device.online:
            if loop.time() > deadline:
                raise TimeoutError("the simulated device did not come back")
            await asyncio.sleep(0.01)

    # -- bookkeeping --------------------------------------------------------------------
    def _record(self, record: RequestRecord) -> None:
        if self.keep_records:
            self.records.append(record)
        if self.on_request is not None:
            self.on_request(record)

    def _changed(self, what: str) -> None:
        if self.store is not None:
            self.store.save(self.device, slots=what in ("image", "boot"))

    async def close(self) -> None:
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()
        servers, self.servers = self.servers, []
        for server in servers:
            await server.close()
        self.device.close_file_upload()
        if self.store is not None:
            self.store.save(self.device)
        if self._tempdir is not None:
            shutil.rmtree(self._tempdir, ignore_errors=True)
            self._tempdir = None

    async def __aenter__(self) -> Simulator:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    def __repr__(self) -> str:
        urls = ", ".join(s.url for s in self.servers)
        return f"<Simulator profile={self.profile.name} servers=[{urls}]>"
