"""64 KiB image upload against `--profile zephyr-3.4-ble`: smpkit vs the PyPI `smpclient`, same run.

The simulator serves the captured Zephyr 3.4 BLE build (buf 2475 x 4, ATT MTU 498, its net_buf
and timing model at real speed, scale 1.0) as a Bumble peripheral on a virtual link. A second
virtual controller on that link is served as HCI over TCP on 127.0.0.1, and both clients reach
the device through it, so they pay the same HCI path:
  * smpkit: `SMPClient` over `SMPBumbleTransport(hci="tcp-client:...")` in this process;
  * smpclient 7.3 (PyPI, .venv-peer with its pinned Bumble) in a subprocess (tests/ble/peer_smpclient.py).
Each run starts a fresh device; after each upload the slot's SHA-256 is compared with the file's.
The virtual link has no radio timing: the figures compare the clients against the profile's model.
That model's constants were fitted to the capture, so the ratio reproduces the fitted model and is
not independent evidence of speed (on the real server both clients took about 1.6-1.7 s).

Run: `.venv/bin/python bench/bench_ble_conformance.py [--runs N]`. `main()` returns the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import logging
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bumble.link import LocalLink

from smpkit import SMPClient
from smpkit.image.build import make_image, make_test_body
from smpkit.simulator import Simulator, SimulatorConfig
from smpkit.simulator.transports.ble import SMPBLEPeripheral, serve_ble
from smpkit.transport.bumble import SMPBumbleTransport, serve_virtual_controller
from smpkit.workflows.upload import upload

ROOT = Path(__file__).resolve().parents[1]
PEER_PYTHON = ROOT / ".venv-peer" / "bin" / "python"
PEER_SCRIPT = ROOT / "tests" / "ble" / "peer_smpclient.py"
IMGTOOL = Path(sys.executable).parent / "imgtool"
PROFILE = "zephyr-3.4-ble"
NAME = "smpkit-conf-bench"
IMAGE_BYTES = 64 * 1024
TARGET_RATIO = 1.3


def make_upload_image(directory: Path) -> tuple[bytes, str]:
    """A 64 KiB MCUboot image: imgtool's when it is installed, else smpkit's own builder."""
    body_size = IMAGE_BYTES - 0x200 - 48
    body = make_test_body(body_size, seed=34)
    if IMGTOOL.exists():
        source, out = directory / "app.bin", directory / "app-signed.bin"
        source.write_bytes(body)
        command = [str(IMGTOOL), "create", "-v", "1.2.3", "-H", "0x200", "--pad-header", "-S", hex(0x80000)]
        subprocess.run([*command, str(source), str(out)], check=True, capture_output=True)
        return out.read_bytes(), "imgtool"
    return make_image(body, (1, 2, 3, 0)), "smpkit.image.build"


def slot_matches(sim: Simulator, image: bytes) -> bool:
    data = bytes(sim.device.images[0].secondary.data[: len(image)])
    return hashlib.sha256(data).digest() == hashlib.sha256(image).digest()


async def _device() -> tuple[Simulator, SMPBLEPeripheral, LocalLink]:
    sim = Simulator(SimulatorConfig(profile=PROFILE))
    sim.keep_records = False
    link = LocalLink()  # type: ignore[no-untyped-call]
    peripheral = await serve_ble(sim, hci=link, name=NAME)
    return sim, peripheral, link


async def smpkit_upload(image: bytes, depth: int | None = None) -> dict[str, Any]:
    sim, peripheral, link = await _device()
    async with sim:
        spec, close = await serve_virtual_controller(link)
        try:
            transport = SMPBumbleTransport(hci=spec)
            async with SMPClient(transport, NAME, timeout=5.0) as client:
                started = time.perf_counter()
                result = await upload(client, image, verify=False, depth=depth)
                seconds = time.perf_counter() - started
                figures = {
                    "seconds": seconds,
                    "kib_s": len(image) / seconds / 1024,
                    "chunks": result.chunks,
                    "rewinds": result.rewinds,
                    "request_size": client.max_request_size,
                    "window": client.window.size,
                    "timeouts": client.stats.timeouts,
                    "enomem": peripheral.ble_model.stats.enomem,
                    "rejected_writes": peripheral.ble_model.stats.rejected_writes,
                }
        finally:
            await close()
        figures["no_data_lost"] = slot_matches(sim, image)
        return figures


async def smpclient_upload(image: bytes) -> dict[str, Any]:
    sim, peripheral, link = await _device()
    async with sim:
        spec, close = await serve_virtual_controller(link)
        with tempfile.NamedTemporaryFile(suffix=".bin") as file:
            file.write(image)
            file.flush()
            try:
                process = await asyncio.create_subprocess_exec(
                    str(PEER_PYTHON),
                    str(PEER_SCRIPT),
                    "upload",
                    spec,
                    NAME,
                    file.name,
                    stdout=asyncio.subprocess.PIPE,
                    stderr=asyncio.subprocess.PIPE,
                )
                out, err = await asyncio.wait_for(process.communicate(), 300)
            finally:
                await close()
        if process.returncode != 0:
            raise RuntimeError(f"smpclient upload failed: {err.decode()[-2000:]}")
        peer = json.loads(out.decode().strip().splitlines()[-1])
        return {
            "seconds": peer["seconds"],
            "kib_s": len(image) / peer["seconds"] / 1024,
            "enomem": peripheral.ble_model.stats.enomem,
            "rejected_writes": peripheral.ble_model.stats.rejected_writes,
            "no_data_lost": slot_matches(sim, image),
        }


def _median(runs: list[dict[str, Any]]) -> dict[str, Any]:
    best = dict(runs[0])
    best["seconds"] = statistics.median(r["seconds"] for r in runs)
    best["kib_s"] = statistics.median(r["kib_s"] for r in runs)
    best["no_data_lost"] = all(r["no_data_lost"] for r in runs)
    best["runs"] = [round(r["seconds"], 3) for r in runs]
    return best


async def run(runs: int = 3) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        image, builder = make_upload_image(Path(tmp))
    figures: dict[str, Any] = {"profile": PROFILE, "image_bytes": len(image), "image_builder": builder}
    ours: list[dict[str, Any]] = []
    serial: list[dict[str, Any]] = []
    theirs: list[dict[str, Any]] = []
    for _ in range(runs):  # interleaved, so drift in machine load hits both alike
        ours.append(await smpkit_upload(image))
        # diagnostic: smpkit with one chunk in flight shows what pipelining buys against this model
        serial.append(await smpkit_upload(image, depth=1))
        if PEER_PYTHON.exists():
            theirs.append(await smpclient_upload(image))
    figures["smpkit"] = _median(ours)
    figures["smpkit_depth1"] = _median(serial)
    figures["smpclient"] = _median(theirs) if theirs else None
    if theirs:
        figures["ratio"] = figures["smpkit"]["kib_s"] / figures["smpclient"]["kib_s"]
    return figures


def report(figures: dict[str, Any]) -> None:
    print(
        f"{figures['image_bytes'] / 1024:.1f} KiB image ({figures['image_builder']}) against --profile "
        f"{figures['profile']} over the virtual link, both clients via HCI over TCP (median of runs)"
    )
    for name in ("smpkit", "smpkit_depth1", "smpclient"):
        row = figures[name]
        if row is None:
            print(f"  {name:13s}: not run (.venv-peer missing)")
            continue
        lost = "no data lost" if row["no_data_lost"] else "DATA LOST (slot hash differs)"
        extra = f", {row['chunks']} chunks, {row['rewinds']} rewinds" if "chunks" in row else ""
        print(
            f"  {name:13s}: {row['seconds']:.3f} s, {row['kib_s']:6.1f} KiB/s{extra}, "
            f"rc2 {row['enomem']}, dropped writes {row['rejected_writes']}, {lost}  runs {row['runs']}"
        )
    if "ratio" in figures:
        verdict = "meets" if figures["ratio"] >= TARGET_RATIO else "below"
        print(f"  ratio smpkit/smpclient: {figures['ratio']:.2f}x ({verdict} the {TARGET_RATIO}x target)")
    print(
        "  note: this ratio reproduces the timing model fitted to one capture (docs/ble-conformance.md); it is\n"
        "  not independent evidence of speed. The real Zephyr 3.4 server answered one chunk per 60 ms whatever\n"
        "  the depth: 64 KiB took smpkit 1.64-1.70 s and smpclient 1.62 s (docs/upload-pipeline.md)."
    )


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv if argv is not None else [])
    # Bumble's virtual controller logs every HCI command it lacks (data length, PHY) as a warning
    logging.getLogger("bumble").setLevel(logging.CRITICAL)
    figures = asyncio.run(run(args.runs))
    report(figures)
    return figures


if __name__ == "__main__":
    main(sys.argv[1:])
    sys.exit(0)
