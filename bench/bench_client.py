"""Pipelining: 200 echo requests issued concurrently vs one after another.

The device is the smpkit simulator over UDP on loopback with 10 ms of injected latency
each way (buf_size 2048, buf_count 4 unless SMPKIT_BENCH_BUF_COUNT says otherwise).
Sequential requests pay the 20 ms round trip each; concurrent ones share it across
the client's window. Target: concurrent at least 3x faster.
"""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any

from smpkit import SMPClient

COUNT = 200
LATENCY_MS = 10
TARGET_RATIO = 3.0
BUF_COUNT = int(os.environ.get("SMPKIT_BENCH_BUF_COUNT", "4"))


async def _sequential(client: SMPClient) -> float:
    started = time.perf_counter()
    for i in range(COUNT):
        assert await client.os.echo(f"seq-{i}") == f"seq-{i}"
    return time.perf_counter() - started


async def _concurrent(client: SMPClient) -> float:
    started = time.perf_counter()
    texts = [f"con-{i}" for i in range(COUNT)]
    assert await asyncio.gather(*(client.os.echo(t) for t in texts)) == texts
    return time.perf_counter() - started


async def _run(url: str) -> dict[str, Any]:
    async with SMPClient(url, timeout=2.0) as client:
        await client.os.echo("warm-up")
        sequential = await _sequential(client)
        concurrent = await _concurrent(client)
        return {
            "window": client.window.size,
            "buf": f"{client.buf_size}x{client.buf_count}",
            "sequential_s": round(sequential, 3),
            "concurrent_s": round(concurrent, 3),
            "lost": client.stats.lost,
            "timeouts": client.stats.timeouts,
        }


async def _bench() -> dict[str, Any]:
    from smpkit.simulator import Faults, Simulator, SimulatorConfig

    config = SimulatorConfig(buf_size=2048, buf_count=BUF_COUNT)
    async with Simulator(config, faults=Faults(latency_ms=LATENCY_MS)) as sim:
        server = await sim.serve_udp("127.0.0.1", 0)
        return await _run(server.url)


def main() -> dict[str, Any]:
    result = asyncio.run(_bench())
    ratio = result["sequential_s"] / result["concurrent_s"]
    result.update(
        {"count": COUNT, "latency_ms_each_way": LATENCY_MS, "ratio": round(ratio, 2), "ok": ratio >= TARGET_RATIO}
    )
    print(f"simulator over UDP, {LATENCY_MS} ms each way, buf {result['buf']}, window {result['window']}")
    print(f"{COUNT} echoes one after another: {result['sequential_s'] * 1000:.0f} ms")
    print(f"{COUNT} echoes concurrently:      {result['concurrent_s'] * 1000:.0f} ms")
    print(f"ratio: {ratio:.2f}x (target >= {TARGET_RATIO:.0f}x); lost {result['lost']}, timeouts {result['timeouts']}")
    return result


if __name__ == "__main__":
    main()
