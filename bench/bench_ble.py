"""Image upload over the virtual BLE link: smpkit vs the PyPI `smpclient` Bumble transport, same run.

The simulator (buf_size 2475, buf_count 4, like Nordic's DFU configurations) is served as a BLE
peripheral on Bumble's virtual link (ATT MTU 498). A 256 KiB image is uploaded with 1 ms and
15 ms of injected per-packet latency:
  * smpkit: `SMPClient` over `SMPBumbleTransport` in this process (pipelined, buf_size chunks);
  * smpclient 7.3 (PyPI, in .venv-peer with its pinned Bumble) in a subprocess, joining the
    same virtual link through a second virtual controller served as HCI over TCP on 127.0.0.1.
The virtual link has no radio timing, so the figures compare the clients, not BLE itself.

Run: `.venv/bin/python bench/bench_ble.py`. `main()` returns the figures as a dict.
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bumble.link import LocalLink

from smpkit import SMPClient
from smpkit.image import McubootImage, parse_image
from smpkit.image.build import make_image, make_test_body
from smpkit.simulator import Faults, Simulator, SimulatorConfig
from smpkit.simulator.transports.ble import serve_ble
from smpkit.transport.bumble import SMPBumbleTransport, serve_virtual_controller
from smpkit.workflows.upload import upload

ROOT = Path(__file__).resolve().parents[1]
PEER_PYTHON = ROOT / ".venv-peer" / "bin" / "python"
PEER_SCRIPT = ROOT / "tests" / "ble" / "peer_smpclient.py"
NAME = "smpkit-bench"
IMAGE_SIZE = 256 * 1024
LATENCIES_MS = (1.0, 15.0)


def _image() -> McubootImage:
    body = make_test_body(IMAGE_SIZE - 0x200 - 48, seed=11)
    return parse_image(make_image(body, (3, 0, 0, 0)))


def _sim(latency_ms: float) -> Simulator:
    sim = Simulator(SimulatorConfig(buf_size=2475, buf_count=4), faults=Faults(latency_ms=latency_ms))
    sim.keep_records = False
    return sim


async def smpkit_upload(image: McubootImage, latency_ms: float) -> dict[str, Any]:
    async with _sim(latency_ms) as sim:
        link = LocalLink()
        await serve_ble(sim, hci=link, name=NAME)
        transport = SMPBumbleTransport(hci=link)
        async with SMPClient(transport, NAME, timeout=5.0) as client:
            started = time.perf_counter()
            result = await upload(client, image)
            elapsed = time.perf_counter() - started
            on_device = image.hash is not None and sim.device.find_hash(image.hash) is not None
            return {
                "kib_s": image.size / elapsed / 1024,
                "seconds": elapsed,
                "chunks": result.chunks,
                "rewinds": result.rewinds,
                "request_size": client.max_request_size,
                "writes": transport.writes,
                "on_device": on_device,
            }


async def smpclient_upload(image: McubootImage, latency_ms: float) -> dict[str, Any]:
    async with _sim(latency_ms) as sim:
        link = LocalLink()
        await serve_ble(sim, hci=link, name=NAME)
        spec, close = await serve_virtual_controller(link)
        with tempfile.NamedTemporaryFile(suffix=".bin") as file:
            file.write(image.data)
            file.flush()
            try:
                process = await asyncio.create_subprocess_exec(
                    str(PEER_PYTHON), str(PEER_SCRIPT), "upload", spec, NAME, file.name,
                    stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
                )
                out, err = await asyncio.wait_for(process.communicate(), 600)
            finally:
                await close()
        if process.returncode != 0:
            raise RuntimeError(f"smpclient upload failed: {err.decode()[-2000:]}")
        peer = json.loads(out.decode().strip().splitlines()[-1])
        on_device = image.hash is not None and sim.device.find_hash(image.hash) is not None
        return {"kib_s": image.size / peer["seconds"] / 1024, "seconds": peer["seconds"], "on_device": on_device}


async def run() -> dict[str, Any]:
    image = _image()
    figures: dict[str, Any] = {"image_bytes": image.size}
    for latency in LATENCIES_MS:
        ours = await smpkit_upload(image, latency)
        theirs = await smpclient_upload(image, latency) if PEER_PYTHON.exists() else None
        key = f"latency_{latency:g}ms"
        figures[key] = {"smpkit": ours, "smpclient": theirs}
        if theirs:
            figures[key]["ratio"] = ours["kib_s"] / theirs["kib_s"]
    return figures


def report(figures: dict[str, Any]) -> None:
    print(f"BLE upload of {figures['image_bytes'] / 1024:.0f} KiB over Bumble's virtual link (ATT MTU 498)")
    for latency in LATENCIES_MS:
        row = figures[f"latency_{latency:g}ms"]
        ours, theirs = row["smpkit"], row["smpclient"]
        line = f"  {latency:>4g} ms/packet: smpkit {ours['kib_s']:7.1f} KiB/s ({ours['seconds']:.2f} s)"
        if theirs:
            line += f" | smpclient {theirs['kib_s']:7.1f} KiB/s ({theirs['seconds']:.2f} s) | ratio {row['ratio']:.2f}x"
        print(line)


def main() -> dict[str, Any]:
    figures = asyncio.run(run())
    report(figures)
    return figures


if __name__ == "__main__":
    main()
    sys.exit(0)
