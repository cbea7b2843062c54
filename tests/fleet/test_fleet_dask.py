"""The same 50 devices through a local Dask scheduler and two `smpkit fleet worker` gateways."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import ENV, FAST, FAST_UPGRADE, SMPKIT, SimFleet, fleet_file, image, smpkit


class Cluster:
    """`smpkit fleet scheduler` and one `smpkit fleet worker` per gateway, as subprocesses."""

    def __init__(self, gateways: list[str]) -> None:
        self.procs: list[subprocess.Popen[str]] = []
        scheduler = self.start("fleet", "scheduler", "--listen", "127.0.0.1:0")
        assert scheduler.stdout is not None
        line = scheduler.stdout.readline()
        assert line.startswith("scheduler at tcp://"), line
        self.address = line.split()[-1]
        self.workers = {name: self.start("fleet", "worker", self.address, "--gateway", name, "--jobs", "25")
                        for name in gateways}
        for worker in self.workers.values():
            assert worker.stdout is not None
            assert worker.stdout.readline().startswith("gateway ")

    def start(self, *args: str) -> subprocess.Popen[str]:
        proc = subprocess.Popen([*SMPKIT, *args], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                                env=ENV)
        self.procs.append(proc)
        return proc

    def stop(self) -> None:
        for proc in reversed(self.procs):
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    running = Cluster(["gw1", "gw2"])
    yield running
    running.stop()


def test_fifty_devices_through_two_gateways(fleet50: SimFleet, cluster: Cluster, tmp_path: Path) -> None:
    entries: list[dict[str, object]] = [
        {"name": f"dev-{i:02d}", "conn": url, "host": f"gw{i % 2 + 1}"} for i, url in enumerate(fleet50.urls)
    ]
    entries.append({"name": "orphan", "conn": fleet50.urls[0], "host": "gw3"})  # no worker serves gw3
    devices = fleet_file(tmp_path / "fleet.toml", entries)
    app = image(tmp_path, "4.0.0", seed=4)
    done = smpkit(*FAST, "--json", "fleet", "upgrade", str(app), "--devices", str(devices), "--cluster",
                  cluster.address, "--gateway-timeout", "2", *FAST_UPGRADE, "--state", str(tmp_path / "c.sqlite"))
    report = json.loads(done.stdout)
    assert done.returncode == 1, done.stderr  # the orphan
    assert report["summary"] == {"upgraded": 50, "already": 0, "failed": 1, "skipped": 0}
    by_name = {d["name"]: d for d in report["devices"]}
    for i in range(50):
        device = by_name[f"dev-{i:02d}"]
        assert (device["outcome"], device["host"], device["version"]) == ("upgraded", f"gw{i % 2 + 1}", "4.0.0")
    assert by_name["orphan"]["error"] == "gateway gw3 not connected"


def _steps(state: Path) -> dict[str, str]:
    import sqlite3

    if not state.exists():
        return {}
    with sqlite3.connect(state) as db:
        try:
            return {name: step for name, step in db.execute("SELECT host || '/' || name, step FROM device")}
        except sqlite3.OperationalError:  # the table is not there yet
            return {}


def _finished(state: Path, host: str) -> list[str]:
    import sqlite3

    with sqlite3.connect(state) as db:
        return [name for (name,) in db.execute("SELECT name FROM device WHERE host = ? AND outcome IS NOT NULL",
                                               (host,))]


def test_a_worker_dying_mid_campaign_loses_no_device(tmp_path: Path) -> None:
    import time

    sims = SimFleet(6, "--latency", "20", "--bandwidth", "15000")  # 4 s per upload: time to kill workers
    running = Cluster(["gw1", "gw2"])
    try:
        devices = fleet_file(tmp_path / "fleet.toml", [
            {"name": f"dev-{i}", "conn": url, "host": "gw1" if i < 4 else "gw2"} for i, url in enumerate(sims.urls)
        ])
        state = tmp_path / "c.sqlite"
        campaign = subprocess.Popen(
            [*SMPKIT, "--json", "fleet", "upgrade", str(image(tmp_path, "5.0.0", seed=5)), "--devices", str(devices),
             "--cluster", running.address, "--gateway-timeout", "3", "--state", str(state)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)
        deadline = time.monotonic() + 30
        while not {"gw1", "gw2"} <= {k.split("/")[0] for k, step in _steps(state).items() if step == "upload"}:
            assert time.monotonic() < deadline, _steps(state)
            time.sleep(0.05)
        running.workers["gw2"].kill()  # mid-upload, and gw2 never comes back
        spare = running.start("fleet", "worker", running.address, "--gateway", "gw1")
        assert spare.stdout is not None and spare.stdout.readline().startswith("gateway gw1: worker")
        assert not _finished(state, "gw1")
        running.workers["gw1"].kill()  # mid-upload: the spare gw1 worker takes its jobs over
        out, err = campaign.communicate(timeout=90)
    finally:
        running.stop()
        sims.stop()
    report = json.loads(out)
    outcomes = {d["name"]: (d["outcome"], d["host"], d["error"]) for d in report["devices"]}
    assert {outcomes[f"dev-{i}"][:2] for i in range(4)} == {("upgraded", "gw1")}, (outcomes, err[-2000:])
    for name in ("dev-4", "dev-5"):
        assert outcomes[name] == ("failed", "gw2", "gateway gw2 not connected (its worker left)")
