"""A simulator running in a thread of its own, so that the CLI (which runs its own event loop,
in-process or as a subprocess) can talk to it over real loopback UDP or a real pseudo-terminal."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from smpkit.image.build import make_image, make_test_body


class SimThread:
    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.sim: Any = None
        self.url = ""

    def start(self) -> SimThread:
        self.thread.start()
        self.url = asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(10)
        return self

    async def _start(self) -> str:
        from smpkit.simulator import Simulator, SimulatorConfig

        self.sim = Simulator(SimulatorConfig())
        await self.sim.__aenter__()
        server = await (self.sim.serve_udp("127.0.0.1", 0) if self.kind == "udp" else self.sim.serve_serial_pty())
        return str(server.url)

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.sim.close(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@pytest.fixture(params=["udp", "serial"])
def sim(request: pytest.FixtureRequest) -> Iterator[SimThread]:
    """A fresh simulated device, over UDP and over a pseudo-terminal."""
    running = SimThread(request.param).start()
    yield running
    running.stop()


@pytest.fixture
def udp_sim() -> Iterator[SimThread]:
    running = SimThread("udp").start()
    yield running
    running.stop()


@pytest.fixture(scope="session")
def image_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("cli-images")
    files = {}
    for version, size, seed in (("1.1.0", 40_000, 1), ("2.0.0", 24_000, 2)):
        path = folder / f"app-{version}.bin"
        path.write_bytes(make_image(make_test_body(size, seed=seed), version))
        files[version] = path
    broken = folder / "broken.bin"
    data = bytearray(files["1.1.0"].read_bytes())
    data[600] ^= 0xFF  # body byte flipped: the SHA-256 TLV no longer matches
    broken.write_bytes(bytes(data))
    files["broken"] = broken
    text = folder / "notes.txt"
    text.write_text("not an image\n")
    files["text"] = text
    return files
