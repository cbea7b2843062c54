"""Image upload over the virtual BLE link: smpkit vs the PyPI `smpclient` Bumble transport, same path.

The simulator (buf_size 2475, buf_count 4, like Nordic's DFU configurations) is served as a BLE
peripheral on Bumble's virtual link (ATT MTU 498). A 256 KiB image is uploaded with 1 ms and
15 ms of injected per-packet latency. Both clients take the same path: each runs in its own
process (smpkit: `bench/peer_smpkit.py`; smpclient 7.3 from PyPI in .venv-peer with its pinned
Bumble: `tests/ble/peer_smpclient.py`) and joins the link through a second virtual controller
served as HCI over TCP on 127.0.0.1. The two sides alternate run by run (which goes first
alternates too), `RUNS` runs each; the report gives the median, the spread (min-max) and each
run's counters: the client's own (chunks, rewinds, ATT writes) and the simulator's (writes,
requests and responses it saw), so that a fast run that sent less is visible.

The virtual link has no radio timing, so the figures compare the clients, not BLE itself.
Run: `.venv/bin/python bench/bench_ble.py`. `main()` returns the figures as a dict.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

from bumble.link import LocalLink

from smpkit.image import McubootImage, parse_image
from smpkit.image.build import make_image, make_test_body
from smpkit.simulator import Faults, Simulator, SimulatorConfig
from smpkit.simulator.transports.ble import serve_ble
from smpkit.transport.bumble import serve_virtual_controller

ROOT = Path(__file__).resolve().parents[1]
PEER_PYTHON = Path(os.environ.get("SMPKIT_PEER_PYTHON") or ROOT / ".venv-peer" / "bin" / "python")
PEERS = {
    "smpkit": (Path(sys.executable), ROOT / "bench" / "peer_smpkit.py"),
    "smpclient": (PEER_PYTHON, ROOT / "tests" / "ble" / "peer_smpclient.py"),
}
NAME = "smpkit-bench"
IMAGE_SIZE = 256 * 1024
LATENCIES_MS = (1.0, 15.0)
RUNS = int(os.environ.get("SMPKIT_BENCH_RUNS", "5"))


def _image() -> McubootImage:
    body = make_test_body(IMAGE_SIZE - 0x200 - 48, seed=11)
    return parse_image(make_image(body, (3, 0, 0, 0)))


async def one_upload(side: str, image: McubootImage, latency_ms: float) -> dict[str, Any]:
    """A fresh simulator and link; `side`'s client uploads `image` from its own process over TCP HCI."""
    python, script = PEERS[side]
    sim = Simulator(SimulatorConfig(buf_size=2475, buf_count=4), faults=Faults(latency_ms=latency_ms))
    sim.keep_records = False
    async with sim:
        link = LocalLink()
        peripheral = await serve_ble(sim, hci=link, name=NAME)
        spec, close = await serve_virtual_controller(link)
        env = {**os.environ, "PYTHONPATH": str(ROOT / "src")} if side == "smpkit" else None
        with tempfile.NamedTemporaryFile(suffix=".bin") as file:
            file.write(image.data)
            file.flush()
            try:
                process = await asyncio.create_subprocess_exec(
                    str(python), str(script), "upload", spec, NAME, file.name,
                    stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env,
                )
                out, err = await asyncio.wait_for(process.communicate(), 600)
            finally:
                await close()
        if process.returncode != 0:
            raise RuntimeError(f"{side} upload failed: {err.decode()[-2000:]}")
        run: dict[str, Any] = json.loads(out.decode().strip().splitlines()[-1])
        run["kib_s"] = image.size / run["seconds"] / 1024
        run["on_device"] = image.hash is not None and sim.device.find_hash(image.hash) is not None
        stats = peripheral.stats
        run["device"] = {"writes": stats.writes, "requests": stats.requests, "responses": stats.responses}
        return run


def summarize(runs: list[dict[str, Any]]) -> dict[str, Any]:
    rates = [r["kib_s"] for r in runs]
    seconds = [r["seconds"] for r in runs]
    return {
        "kib_s": statistics.median(rates),
        "kib_s_min": min(rates),
        "kib_s_max": max(rates),
        "seconds": statistics.median(seconds),
        "all_on_device": all(r["on_device"] for r in runs),
        "runs": runs,
    }


async def run(runs: int = RUNS) -> dict[str, Any]:
    image = _image()
    sides = [s for s in PEERS if PEERS[s][0].exists()]
    figures: dict[str, Any] = {"image_bytes": image.size, "runs": runs, "path": "separate process, TCP HCI"}
    for latency in LATENCIES_MS:
        per_side: dict[str, list[dict[str, Any]]] = {side: [] for side in sides}
        for n in range(runs):
            order = sides if n % 2 == 0 else sides[::-1]  # interleaved, and who goes first alternates
            for side in order:
                per_side[side].append(await one_upload(side, image, latency))
        row: dict[str, Any] = {side: summarize(per_side[side]) for side in sides}
        if "smpclient" in row:
            row["ratio"] = row["smpkit"]["kib_s"] / row["smpclient"]["kib_s"]
        figures[f"latency_{latency:g}ms"] = row
    return figures


def report(figures: dict[str, Any]) -> None:
    print(
        f"BLE upload of {figures['image_bytes'] / 1024:.0f} KiB over Bumble's virtual link (ATT MTU 498), "
        f"both clients in their own process over TCP HCI, interleaved, median of {figures['runs']} runs (min-max)"
    )
    for latency in LATENCIES_MS:
        row = figures[f"latency_{latency:g}ms"]
        parts = []
        for side in ("smpkit", "smpclient"):
            if side in row:
                s = row[side]
                parts.append(f"{side} {s['kib_s']:6.1f} KiB/s ({s['kib_s_min']:.1f}-{s['kib_s_max']:.1f})")
        line = f"  {latency:>4g} ms/packet: " + " | ".join(parts)
        if "ratio" in row:
            line += f" | ratio {row['ratio']:.2f}x"
        print(line)
        for side in ("smpkit", "smpclient"):
            for i, r in enumerate(row.get(side, {}).get("runs", []), 1):
                counters = {k: r[k] for k in ("chunks", "rewinds", "writes") if k in r}
                print(f"      {side} run {i}: {r['seconds']:.2f} s, device saw {r['device']}, client {counters}")


def main() -> dict[str, Any]:
    figures = asyncio.run(run())
    report(figures)
    return figures


if __name__ == "__main__":
    main()
    sys.exit(0)
