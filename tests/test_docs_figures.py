"""The benchmark figures in the docs are the benchmarks' own output (bench/docs_figures.py)."""

from __future__ import annotations

import importlib.util
import json
import statistics
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _load(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module
    spec.loader.exec_module(module)
    return module


figures = _load(ROOT / "bench" / "docs_figures.py")


@pytest.mark.parametrize("name", sorted(figures.BLOCKS))
def test_docs_block_is_rendered_from_the_benchmark_json(name: str) -> None:
    assert figures.current(name) is not None, f"{figures.BLOCKS[name][0]} lost its figures:{name} block"
    assert figures.current(name) == figures.rendered(name), "run bench/docs_figures.py --write"


def test_upload_json_holds_medians_of_several_interleaved_runs() -> None:
    data = json.loads(figures.UPLOAD_JSON.read_text())
    assert data["runs"] >= 5
    for row in ("latency_10ms", "profile_zephyr_4_4_udp"):
        for side in ("smpkit", "smpclient"):
            runs = data[row][side]["runs"]
            assert len(runs) == data["runs"] and all(r["on_device"] for r in runs)
            assert data[row][side]["kib_s"] == round(statistics.median(r["kib_s"] for r in runs), 1)


def test_the_upload_plot_is_drawn_from_its_json() -> None:
    plot = _load(ROOT / "docs" / "assets" / "make_upload_plot.py")
    data = json.loads((ROOT / "docs" / "assets" / "upload-throughput.json").read_text())
    assert tuple(data.pop("latency_ms")) == plot.LATENCIES_MS
    assert (ROOT / "docs" / "assets" / "upload-throughput.svg").read_text() == plot.svg(data)


def test_a_changed_figure_is_caught() -> None:
    data = json.loads(figures.UPLOAD_JSON.read_text())
    data["latency_10ms"]["ratio"] += 1
    assert figures.upload_table(data) != figures.current("bench-upload")
