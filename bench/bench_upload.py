"""Image upload throughput against the simulator over UDP: smpkit vs the PyPI `smpclient`.

Scenarios (UDP on loopback):
  * 10 ms one-way latency, a device with buf_size 2048, buf_count 4 (datagrams up to 1500
    bytes): smpkit's pipelined upload and smpclient's stop-and-wait upload of the same image,
    in KiB/s, and their ratio (target >= 4x). This is where pipelining pays: the link's
    latency is the limit.
  * the captured `zephyr-4.4-udp` profile (native_sim, buf 2048 x 2, busy 10 ms per request,
    a datagram read while busy is lost), no added latency: here the device is the limit, and
    no client can be much faster than one request per busy window. That build has no image
    group, so the row uploads the same 64 KiB as a file (fs group) with both clients.
  * 1 Mbit/s bandwidth cap (each direction) plus 1 ms latency: smpkit's payload
    throughput as a share of the cap (target >= 90 %).
Each scenario runs `RUNS` times (env SMPKIT_BENCH_RUNS, default 5), the two clients
interleaved run by run; the figures are the median and the spread (min-max), with each run's
counters (chunks, rewinds, requests the device saw).

Run: `.venv/bin/python bench/bench_upload.py [--write]` (or `./dev bench upload`); `--write`
stores the figures in `docs/assets/bench-upload.json`, from which `bench/docs_figures.py
--write` renders the tables in the docs (tests/test_docs_figures.py checks they agree).
`main()` returns the figures as a dict.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
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
#: The captured native_sim UDP server, and the image size of the real-server measurements (64 KiB).
PROFILE, PROFILE_IMAGE_BODY = "zephyr-4.4-udp", 64 * 1024
RUNS = int(os.environ.get("SMPKIT_BENCH_RUNS", "5"))
JSON_OUT = Path(__file__).resolve().parents[1] / "docs" / "assets" / "bench-upload.json"


def _image(size: int = IMAGE_BODY) -> McubootImage:
    return parse_image(make_image(make_test_body(size, seed=7), (2, 0, 0, 0)))


def _config(profile: str | None = None) -> SimulatorConfig:
    if profile is not None:
        return SimulatorConfig(profile=profile)
    return SimulatorConfig(buf_size=BUF_SIZE, buf_count=BUF_COUNT)


def _device_requests(sim: Simulator) -> int:
    """Requests that reached the device's SMP layer (a datagram lost while it was busy does not)."""
    return sum(session.received for session in sim.sessions)


async def smpkit_upload(image: McubootImage, faults: Faults, profile: str | None = None) -> dict[str, Any]:
    async with Simulator(_config(profile), faults=faults) as sim:
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
                "device_requests": _device_requests(sim),
            }


async def smpclient_upload(image: McubootImage, faults: Faults, profile: str | None = None) -> dict[str, Any]:
    from smpclient import SMPClient as PeerClient
    from smpclient.transport.udp import SMPUDPTransport

    class Transport(SMPUDPTransport):
        port = 0

        async def connect(self, address: str, timeout_s: float, port: int = 1337) -> None:
            await super().connect(address, timeout_s, self.port)

    async with Simulator(_config(profile), faults=faults) as sim:
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
            "device_requests": _device_requests(sim),
        }


FILE_NAME = "/lfs1/bench.bin"


def _holds(path: str | None, data: bytes) -> bool:
    return path is not None and Path(path).exists() and Path(path).read_bytes() == data


async def _file_upload(side: str, data: bytes, profile: str) -> dict[str, Any]:
    """`data` as a device file with `side`'s client (the captured profile has no image group)."""
    async with Simulator(_config(profile)) as sim:
        sim.keep_records = False
        server = await sim.serve_udp("127.0.0.1", 0)
        started = time.perf_counter()
        if side == "smpkit":
            async with SMPClient(server.url) as client:
                started = time.perf_counter()
                await client.fs.upload(FILE_NAME, data)
        else:
            from smpclient import SMPClient as PeerClient
            from smpclient.transport.udp import SMPUDPTransport

            class Transport(SMPUDPTransport):
                async def connect(self, address: str, timeout_s: float, port: int = 1337) -> None:
                    await super().connect(address, timeout_s, server.port)

            client = PeerClient(Transport(), "127.0.0.1")
            await client.connect()
            try:
                started = time.perf_counter()
                async for _offset in client.upload_file(data, FILE_NAME):
                    pass
            finally:
                await client.disconnect()
        elapsed = time.perf_counter() - started
        held = _holds(sim.device.fs_path(FILE_NAME), data)
        return {"kib_s": len(data) / elapsed / 1024, "seconds": elapsed, "on_device": held,
                "device_requests": _device_requests(sim)}


Upload = Callable[[], Awaitable[dict[str, Any]]]


def _summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    rates = [r["kib_s"] for r in runs]
    return {
        "kib_s": round(statistics.median(rates), 1),
        "kib_s_min": round(min(rates), 1),
        "kib_s_max": round(max(rates), 1),
        "all_on_device": all(r["on_device"] for r in runs),
        "runs": runs,
    }


async def _interleaved(sides: dict[str, Upload], runs: int) -> dict[str, Any]:
    """`runs` uploads per side, alternating sides (and which goes first) run by run."""
    names = list(sides)
    done: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
    for n in range(runs):
        for name in names if n % 2 == 0 else names[::-1]:
            done[name].append(await sides[name]())
    row: dict[str, Any] = {name: _summary(done[name]) for name in names}
    if len(names) == 2:
        row["ratio"] = round(row[names[0]]["kib_s"] / row[names[1]]["kib_s"], 2)
    return row


async def run(runs: int = RUNS) -> dict[str, Any]:
    image = _image()
    small = _image(PROFILE_IMAGE_BODY)
    latency = Faults(latency_ms=LATENCY_MS)
    lat = await _interleaved(
        {"smpkit": lambda: smpkit_upload(image, latency), "smpclient": lambda: smpclient_upload(image, latency)}, runs
    )
    prof = await _interleaved(
        {
            "smpkit": lambda: _file_upload("smpkit", small.data, PROFILE),
            "smpclient": lambda: _file_upload("smpclient", small.data, PROFILE),
        },
        runs,
    )
    cap = Faults(latency_ms=1.0, bandwidth=CAP_BYTES_PER_S)
    capped = await _interleaved({"smpkit": lambda: smpkit_upload(image, cap)}, runs)
    shares = [r["bytes_per_s"] / CAP_BYTES_PER_S for r in capped["smpkit"]["runs"]]
    capped["share_of_cap"] = round(statistics.median(shares), 3)
    capped["share_min"], capped["share_max"] = round(min(shares), 3), round(max(shares), 3)
    return {
        "image_bytes": image.size,
        "profile_image_bytes": small.size,
        "runs": runs,
        "latency_10ms": lat,
        "profile_zephyr_4_4_udp": prof,
        "bandwidth_1mbit": capped,
    }


def report(figures: dict[str, Any]) -> None:
    lat, prof, cap = figures["latency_10ms"], figures["profile_zephyr_4_4_udp"], figures["bandwidth_1mbit"]

    def cell(side: dict[str, Any]) -> str:
        return f"{side['kib_s']:.1f} KiB/s ({side['kib_s_min']:.1f}-{side['kib_s_max']:.1f})"

    print(f"image: {figures['image_bytes']} bytes; UDP on loopback; median of {figures['runs']} runs (min-max)")
    print(f"10 ms one-way latency, buf {BUF_SIZE} x {BUF_COUNT}: smpkit {cell(lat['smpkit'])}, "
          f"smpclient {cell(lat['smpclient'])} -> ratio {lat['ratio']:.2f}x (target 4x)")
    print(f"{PROFILE} profile, file upload ({figures['profile_image_bytes']} bytes, device-bound): "
          f"smpkit {cell(prof['smpkit'])}, "
          f"smpclient {cell(prof['smpclient'])} -> ratio {prof['ratio']:.2f}x")
    print(f"1 Mbit/s cap: smpkit {cell(cap['smpkit'])} = {100 * cap['share_of_cap']:.1f} % of the cap "
          f"({100 * cap['share_min']:.1f}-{100 * cap['share_max']:.1f} %; payload bytes; target 90 %)")
    for name, row in (("10 ms", lat), (PROFILE, prof), ("1 Mbit/s", cap)):
        for side in ("smpkit", "smpclient"):
            for i, r in enumerate(row.get(side, {}).get("runs", []), 1):
                counters = {k: r[k] for k in ("chunks", "rewinds", "device_requests") if k in r}
                print(f"    {name} {side} run {i}: {r['kib_s']:.1f} KiB/s, {counters}")


def main() -> dict[str, Any]:
    figures = asyncio.run(run())
    report(figures)
    if "--write" in sys.argv[1:]:
        JSON_OUT.write_text(json.dumps(figures, indent=1, sort_keys=True) + "\n")
        print(f"wrote {JSON_OUT}")
    return figures


if __name__ == "__main__":
    main()
