"""Simulator start-up time and echo throughput on UDP loopback.

Targets (issue 4): start-up under 0.5 s (construct `Simulator` and bind a UDP server),
1,000 or more echo requests per second on UDP loopback with no faults. Measured with a
bare UDP socket, stop-and-wait (one request in flight) and pipelined (4 in flight, the
default buf_count), plus `python -m smpkit.simulator` until its ready line (process start-up).

Run: `.venv/bin/python bench/bench_simulator.py`. `main()` returns the figures as a dict.
"""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import time
from typing import Any

from smpkit.protocol import encode_request
from smpkit.protocol.groups.os import Echo
from smpkit.simulator import Simulator, SimulatorConfig

REQUESTS = 3000


async def _startup() -> float:
    start = time.perf_counter()
    sim = Simulator(SimulatorConfig())
    await sim.serve_udp("127.0.0.1", 0)
    elapsed = time.perf_counter() - start
    await sim.close()
    return elapsed


def _process_startup() -> float:
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "smpkit.simulator", "--udp", "127.0.0.1:0", "-q"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    proc.stdout.readline()
    elapsed = time.perf_counter() - start
    proc.terminate()
    proc.wait(timeout=10)
    return elapsed


async def _echo_rate(window: int) -> float:
    async with Simulator(SimulatorConfig()) as sim:
        sim.keep_records = False
        server = await sim.serve_udp("127.0.0.1", 0)
        loop = asyncio.get_running_loop()
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.setblocking(False)
        sock.connect(("127.0.0.1", server.port))
        packets = [encode_request(Echo(d="benchmark"), seq & 0xFF) for seq in range(REQUESTS)]
        start = time.perf_counter()
        sent = received = 0
        while received < REQUESTS:
            while sent < REQUESTS and sent - received < window:
                await loop.sock_sendall(sock, packets[sent])
                sent += 1
            await asyncio.wait_for(loop.sock_recv(sock, 2048), 2.0)
            received += 1
        elapsed = time.perf_counter() - start
        sock.close()
        return REQUESTS / elapsed


async def _run() -> dict[str, Any]:
    startups = [await _startup() for _ in range(5)]
    return {
        "startup_s": min(startups),
        "startup_max_s": max(startups),
        "echo_per_s": await _echo_rate(1),
        "echo_pipelined4_per_s": await _echo_rate(4),
    }


def main() -> dict[str, Any]:
    figures = asyncio.run(_run())
    figures["process_startup_s"] = _process_startup()
    print(f"simulator start-up (in process): {figures['startup_s'] * 1000:.1f} ms (target < 500 ms)")
    print(f"simulator start-up (python -m smpkit.simulator): {figures['process_startup_s'] * 1000:.0f} ms")
    print(f"UDP echo, 1 in flight: {figures['echo_per_s']:.0f} requests/s (target >= 1000/s)")
    print(f"UDP echo, 4 in flight: {figures['echo_pipelined4_per_s']:.0f} requests/s")
    print(json.dumps({k: round(v, 4) for k, v in figures.items()}))
    return figures


if __name__ == "__main__":
    main()
