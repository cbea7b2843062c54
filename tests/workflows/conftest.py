"""A simulator served over real UDP (and a real pty), clients connected to it, and images."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
from image.imgtools import Images
from vtime import VirtualTimeLoop

from smpkit import SMPClient
from smpkit.image import McubootImage, parse_image, read_image
from smpkit.image.build import make_image, make_test_body
from smpkit.simulator import Faults, Simulator, SimulatorConfig

#: Short per-attempt timeouts keep loss recovery quick on loopback.
TIMEOUT = 0.4


@pytest.fixture(scope="session")
def wf_images(tmp_path_factory: pytest.TempPathFactory) -> Images:
    return Images(tmp_path_factory.mktemp("wf-images"))


@pytest.fixture(scope="session")
def signed_image(wf_images: Images) -> McubootImage:
    """A signed imgtool image, version 2.0.0, about 12 KiB."""
    return read_image(wf_images.make("signed-2.0.0.bin", sign="ecdsa-p256", version="2.0.0"))


def big_image(size: int = 100_000, version: tuple[int, int, int, int] = (3, 0, 0, 0), seed: int = 2) -> McubootImage:
    return parse_image(make_image(make_test_body(size, seed=seed), version))


SimFactory = Callable[..., Awaitable[tuple[Simulator, str]]]


@pytest.fixture
async def udp_sim() -> AsyncIterator[SimFactory]:
    """`sim, url = await udp_sim(faults=..., buf_size=..., profile=...)`; everything closes after the test."""
    sims: list[Simulator] = []

    async def make(faults: Faults | None = None, **config: Any) -> tuple[Simulator, str]:
        config.setdefault("buf_size", 2048)
        config.setdefault("buf_count", 4)
        sim = Simulator(SimulatorConfig(**config), faults=faults)
        sims.append(sim)
        server = await sim.serve_udp("127.0.0.1", 0)
        return sim, server.url

    yield make
    for sim in sims:
        await sim.close()


def client_for(url: str, **options: Any) -> SMPClient:
    options.setdefault("timeout", TIMEOUT)
    return SMPClient(url, **options)


def uploads(sim: Simulator) -> list[Any]:
    return [r for r in sim.records if (r.group, r.command, r.op) == (1, 1, 2)]


def slot_bytes(sim: Simulator, image: int = 0, slot: int = 1) -> bytes:
    return bytes(sim.device.images[image].slot(slot).data)


def image_path(images: Images, name: str) -> Path:
    return images.cache[name]


#: Modules whose tests run the simulator in this process over UDP (the pty test stays on real time): on virtual time
#: (`tests/vtime.py`), so their loss/timeout/resend counts under 0.3-0.4 s timeouts are exact.
VIRTUAL_TIME_MODULES = frozenset({"test_upload.py"})


def pytest_asyncio_loop_factories(config: pytest.Config, item: pytest.Item) -> Mapping[str, Any]:
    if item.path.name in VIRTUAL_TIME_MODULES and "pty" not in item.name:  # a pty hands bytes over later
        return {"virtual_time": VirtualTimeLoop}
    return {"real_time": asyncio.new_event_loop}
