"""The benchmark figures in the docs, rendered from the benchmarks' JSON (never typed by hand).

    python bench/docs_figures.py           check: exit 1 if a docs block differs from its JSON
    python bench/docs_figures.py --write   rewrite the blocks (after `bench_upload.py --write`)

A block sits between `<!-- figures:NAME -->` and `<!-- /figures:NAME -->` in a docs page;
`tests/test_docs_figures.py` checks every block and the upload plot against the committed JSON.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
UPLOAD_JSON = DOCS / "assets" / "bench-upload.json"


def _cell(side: dict[str, Any]) -> str:
    return f"{side['kib_s']:.1f} KiB/s ({side['kib_s_min']:.1f}-{side['kib_s_max']:.1f})"


def upload_table(f: dict[str, Any]) -> str:
    lat, prof, cap = f["latency_10ms"], f["profile_zephyr_4_4_udp"], f["bandwidth_1mbit"]
    return "\n".join([
        f"Simulator over UDP on loopback, median of {f['runs']} runs (min-max), the two clients interleaved",
        f"run by run; {f['image_bytes']} bytes ({f['profile_image_bytes']} for the captured profile):",
        "",
        "| Scenario | smpkit | PyPI smpclient 7.3 | |",
        "|---|---|---|---|",
        f"| 10 ms one-way latency, buf 2048 x 4 (latency-bound) | {_cell(lat['smpkit'])} | {_cell(lat['smpclient'])} "
        f"| **{lat['ratio']:.2f}x** (target 4x) |",
        f"| captured `zephyr-4.4-udp` profile, no added latency, as a file (device-bound) | {_cell(prof['smpkit'])} "
        f"| {_cell(prof['smpclient'])} | {prof['ratio']:.2f}x |",
        f"| 1 Mbit/s cap each way, 1 ms latency | {_cell(cap['smpkit'])} payload | - "
        f"| **{100 * cap['share_of_cap']:.1f} %** of the cap (target 90 %) |",
    ])


def pipeline_summary(f: dict[str, Any]) -> str:
    lat, prof = f["latency_10ms"], f["profile_zephyr_4_4_udp"]
    return "\n".join([
        f"At 10 ms each way with 4 buffers smpkit uploads at {lat['smpkit']['kib_s']:.0f} KiB/s, the stop-and-wait",
        f"PyPI smpclient at {lat['smpclient']['kib_s']:.0f} KiB/s ({lat['ratio']:.1f}x; median of {f['runs']} runs,",
        "`bench/bench_upload.py`). Against the captured `zephyr-4.4-udp` profile, where the device",
        f"itself is the limit (10 ms per request; a file upload, that build has no image group), the two are"
        f" {prof['smpkit']['kib_s']:.0f} and",
        f"{prof['smpclient']['kib_s']:.0f} KiB/s ({prof['ratio']:.2f}x): pipelining cannot beat the device.",
    ])


BLOCKS: dict[str, tuple[Path, Path, Callable[[dict[str, Any]], str]]] = {
    "bench-upload": (DOCS / "images.md", UPLOAD_JSON, upload_table),
    "pipeline-summary": (DOCS / "upload-pipeline.md", UPLOAD_JSON, pipeline_summary),
}


def _pattern(name: str) -> re.Pattern[str]:
    return re.compile(rf"(<!-- figures:{re.escape(name)} -->\n)(.*?)(\n<!-- /figures:{re.escape(name)} -->)", re.S)


def rendered(name: str) -> str:
    _page, source, render = BLOCKS[name]
    return render(json.loads(source.read_text()))


def current(name: str) -> str | None:
    page = BLOCKS[name][0]
    match = _pattern(name).search(page.read_text())
    return match.group(2) if match else None


def write(name: str) -> None:
    page = BLOCKS[name][0]
    text, count = _pattern(name).subn(lambda m: m.group(1) + rendered(name) + m.group(3), page.read_text())
    if count != 1:
        raise SystemExit(f"{page}: no <!-- figures:{name} --> block")
    page.write_text(text)


def main(argv: list[str]) -> int:
    stale = []
    for name in BLOCKS:
        if "--write" in argv:
            write(name)
        elif current(name) != rendered(name):
            stale.append(name)
    for name in stale:
        print(f"{BLOCKS[name][0]}: block {name} differs from {BLOCKS[name][1].name}: run bench/docs_figures.py --write")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
