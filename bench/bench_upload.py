"""Image upload throughput against the simulator over UDP: smpkit vs the PyPI `smpclient`.

Scenarios (the device: buf_size 2048, buf_count 4; UDP datagrams up to 1500 bytes):
  * 10 ms one-way latency: smpkit's pipelined upload and smpclient's stop-and-wait
    upload of the same image in the same run, in KiB/s, and their ratio (target >= 4x).
  * 1 Mbit/s bandwidth cap (each direction) plus 1 ms latency: smpkit's payload
    throughput as a share of the cap (target >= 90 %).

Run: `.venv/bin/python bench/bench_upload.py` (or `./dev bench upload`).
`main()` returns the figures as a dict.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from smpkit import SMPClient
from smpkit.image import McubootImage, parse_image
from smpkit.image.build import make_image, make_test_body
from smpkit.simulator import Faults, Simulator, SimulatorConfig
from smpkit.workflows.upload import upload

BUF_SIZE, BUF_COUNT = 2048, 4
LATENCY_MS = 10.0
CAP_BYTES_PER_S = 1_000_000 // 8
IMAGE_BODY = 448 * 1024  # the default simulated slot holds 512 KiB


def _image(size: int = IMAGE_BODY) -> McubootImage:
    return parse_image(make_image(make_test_body(size, seed=7), (2, 0, 0, 0)))


def _config() -> SimulatorConfig:
    return SimulatorConfig(buf_size=BUF_SIZE, buf_count=BUF_COUNT)


async def smpkit_upload(image: McubootImage, faults: Faults) -> dict[str, Any]:
    async with Simulator(_config(), faults=faults) as sim:
        sim.keep_records = False
        server = await sim.serve_udp("127.0.0.1", 0)
        async with SMPClient(server.url) as client:
            started = time.perf_counter()
            result = await upload(client, image)
            elapsed = time.perf_counter() - started
            held = sim.device.find_hash(image.hash) if image.hash else None
            return {
                "kib_s": image.size / elapsed / 1024,
                "bytes_per_s": image.size / elapsed,
                "seconds": elapsed,
                "chunks": result.chunks,
                "rewinds": result.rewinds,
                "window": client.window.size,
                "request_size": client.max_request_size,
                "verified": result.verified,
                "on_device": held is not None,
            }


async def smpclient_upload(image: McubootImage, faults: Faults) -> dict[str, Any]:
    from smpclient import SMPClient as PeerClient
    from smpclient.transport.udp import SMPUDPTransport

    class Transport(SMPUDPTransport):
        port = 0

        async def connect(self, address: str, timeout_s: float, port: int = 1337) -> None:
            await super().connect(address, timeout_s, self.port)

    async with Simulator(_config(), faults=faults) as sim:
        sim.keep_records = False
        server = await sim.serve_udp("127.0.0.1", 0)
        transport = Transport()
        transport.port = server.port
        client = PeerClient(transport, "127.0.0.1")
        await client.connect()
        try:
            started = time.perf_counter()
            chunks = 0
            async for _offset in client.upload(image.data):
                chunks += 1
            elapsed = time.perf_counter() - started
        finally:
            await client.disconnect()
        held = sim.device.find_hash(image.hash) if image.hash else None
        return {
            "kib_s": image.size / elapsed / 1024,
            "seconds": elapsed,
            "chunks": chunks,
            "on_device": held is not None,
        }


async def run() -> dict[str, Any]:
    image = _image()
    latency = Faults(latency_ms=LATENCY_MS)
    ours = await smpkit_upload(image, latency)
    theirs = await smpclient_upload(image, latency)
    capped = await smpkit_upload(image, Faults(latency_ms=1.0, bandwidth=CAP_BYTES_PER_S))
    return {
        "image_bytes": image.size,
        "latency_10ms": {
            "smpkit_kib_s": round(ours["kib_s"], 1),
            "smpclient_kib_s": round(theirs["kib_s"], 1),
            "ratio": round(ours["kib_s"] / theirs["kib_s"], 2),
            "smpkit": ours,
            "smpclient": theirs,
        },
        "bandwidth_1mbit": {
            "smpkit_kib_s": round(capped["kib_s"], 1),
            "share_of_cap": round(capped["bytes_per_s"] / CAP_BYTES_PER_S, 3),
            "smpkit": capped,
        },
    }


def main() -> dict[str, Any]:
    figures = asyncio.run(run())
    lat, cap = figures["latency_10ms"], figures["bandwidth_1mbit"]
    print(f"image: {figures['image_bytes']} bytes; device buf {BUF_SIZE} x {BUF_COUNT}; UDP on loopback")
    print(f"10 ms one-way latency: smpkit {lat['smpkit_kib_s']:.1f} KiB/s (window {lat['smpkit']['window']}), ")
    print(
        f"                       smpclient {lat['smpclient_kib_s']:.1f} KiB/s -> ratio {lat['ratio']:.2f}x (target 4x)"
    )
    print(
        f"1 Mbit/s cap: smpkit {cap['smpkit_kib_s']:.1f} KiB/s = {100 * cap['share_of_cap']:.1f} % of the cap "
        "(payload bytes; target 90 %)"
    )
    return figures


if __name__ == "__main__":
    main()
