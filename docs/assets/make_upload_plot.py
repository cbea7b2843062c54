"""Measure image upload throughput against the simulator and draw docs/assets/upload-throughput.svg.

Run: .venv/bin/python docs/assets/make_upload_plot.py
For each one-way latency, the same image is uploaded with 1 request in flight
(stop-and-wait, as the PyPI smpclient does) and with smpkit's adaptive window, on a
simulated device with buf_size 2048 and buf_count 4. The SVG is written by hand (no
plotting library needed).
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from smpkit import SMPClient
from smpkit.image.build import make_image, make_test_body
from smpkit.simulator import Faults, Simulator, SimulatorConfig
from smpkit.workflows.upload import upload

HERE = Path(__file__).parent
LATENCIES_MS = (1, 2, 5, 10, 20)
IMAGE = make_image(make_test_body(128 * 1024, seed=11), "1.1.0")


async def measure(latency_ms: float, depth: int | None) -> float:
    """KiB/s of one upload."""
    config = SimulatorConfig(buf_size=2048, buf_count=4)
    async with Simulator(config, faults=Faults(latency_ms=latency_ms)) as sim:
        server = await sim.serve_udp("127.0.0.1", 0)
        async with SMPClient(server.url) as client:
            result = await upload(client, IMAGE, depth=depth)
    return result.rate / 1024


async def collect() -> dict[str, list[float]]:
    series: dict[str, list[float]] = {"stop-and-wait (1 in flight)": [], "smpkit (pipelined)": []}
    for latency in LATENCIES_MS:
        series["stop-and-wait (1 in flight)"].append(await measure(latency, 1))
        series["smpkit (pipelined)"].append(await measure(latency, None))
        print(f"{latency:>3} ms: " + ", ".join(f"{k}: {v[-1]:.0f} KiB/s" for k, v in series.items()))
    return series


def svg(series: dict[str, list[float]]) -> str:
    width, height, left, bottom, top, right = 640, 360, 70, 50, 30, 20
    plot_w, plot_h = width - left - right, height - top - bottom
    ymax = max(max(v) for v in series.values())
    ymax = max(ymax * 1.1, 1.0)
    groups = len(LATENCIES_MS)
    bar_w = plot_w / groups / (len(series) + 1)
    colours = ("#9e9e9e", "#3f51b5")
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
           f'<rect width="{width}" height="{height}" fill="white"/>',
           f'<text x="{width / 2}" y="18" text-anchor="middle" font-size="14">'
           'Image upload to the simulator (buf_size 2048, buf_count 4), KiB/s</text>']
    for i in range(6):
        value = ymax * i / 5
        y = top + plot_h - plot_h * i / 5
        out.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="#e0e0e0"/>')
        out.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{value:.0f}</text>')
    for g, latency in enumerate(LATENCIES_MS):
        x0 = left + g * plot_w / groups + bar_w / 2
        for s, (_name, values) in enumerate(series.items()):
            h = plot_h * values[g] / ymax
            x = x0 + s * bar_w
            out.append(f'<rect x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{bar_w * 0.9:.1f}" height="{h:.1f}" '
                       f'fill="{colours[s]}"><title>{values[g]:.0f} KiB/s</title></rect>')
            out.append(f'<text x="{x + bar_w * 0.45:.1f}" y="{top + plot_h - h - 4:.1f}" text-anchor="middle" '
                       f'font-size="10">{values[g]:.0f}</text>')
        out.append(f'<text x="{x0 + bar_w * len(series) / 2:.1f}" y="{top + plot_h + 18}" '
                   f'text-anchor="middle">{latency} ms</text>')
    out.append(f'<text x="{left + plot_w / 2}" y="{height - 8}" text-anchor="middle">one-way latency</text>')
    for s, name in enumerate(series):
        y = top + 10 + s * 18
        out.append(f'<rect x="{width - right - 200}" y="{y - 10}" width="12" height="12" fill="{colours[s]}"/>')
        out.append(f'<text x="{width - right - 182}" y="{y}">{name}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main() -> None:
    series = asyncio.run(collect())
    (HERE / "upload-throughput.svg").write_text(svg(series))
    (HERE / "upload-throughput.json").write_text(json.dumps({"latency_ms": LATENCIES_MS, **series}, indent=2) + "\n")


if __name__ == "__main__":
    main()
