"""`smpkit fleet upgrade` over 50 simulated devices with 5 % loss: report, resume, waves and abort rule."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

from .conftest import FAST, FAST_UPGRADE, SimFleet, dead_udp_url, fleet_file, image, smpkit


def test_fifty_devices_upgraded_then_resumed_from_the_state(fleet50: SimFleet, tmp_path: Path) -> None:
    devices = fleet_file(tmp_path / "fleet.toml", [
        {"name": f"dev-{i:02d}", "conn": url, "host": f"gw{i % 2 + 1}", "tags": ["rack"]}
        for i, url in enumerate(fleet50.urls)
    ])
    app = image(tmp_path, "2.0.0", seed=2)
    state, junit = tmp_path / "campaign.sqlite", tmp_path / "junit.xml"
    done = smpkit(*FAST, "--json", "fleet", "upgrade", str(app), "--devices", str(devices), "--state", str(state),
                  "--junit", str(junit), *FAST_UPGRADE, "--tag", "rack")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["summary"] == {"upgraded": 50, "already": 0, "failed": 0, "skipped": 0}
    first = report["devices"][0]
    assert set(first) == {"name", "host", "outcome", "version", "hash", "seconds", "error"}
    assert {d["version"] for d in report["devices"]} == {"2.0.0"}
    assert [d["host"] for d in report["devices"][:2]] == ["gw1", "gw2"]
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite is not None and (suite.get("tests"), suite.get("failures")) == ("50", "0")

    again = smpkit(*FAST, "--json", "fleet", "upgrade", str(app), "--devices", str(devices), "--state", str(state),
                   *FAST_UPGRADE)
    assert again.returncode == 0, again.stderr
    second = json.loads(again.stdout)
    assert second["summary"] == {"upgraded": 0, "already": 50, "failed": 0, "skipped": 0}
    assert all(d["seconds"] == 0 for d in second["devices"])  # not even connected


def test_half_unreachable_stops_after_the_first_wave(fleet50: SimFleet, tmp_path: Path) -> None:
    entries = []
    for i, url in enumerate(fleet50.urls):
        entries.append({"name": f"dev-{i:02d}", "conn": url if i % 2 == 0 else dead_udp_url()})
    devices = fleet_file(tmp_path / "fleet.toml", entries)
    app = image(tmp_path, "3.0.0", seed=3)
    done = smpkit("--timeout", "0.2", "--retries", "1", "--json", "fleet", "upgrade", str(app), "--devices",
                  str(devices), "--waves", "4,50%,100%", "--max-failures", "20%", *FAST_UPGRADE)
    assert done.returncode != 0
    report = json.loads(done.stdout)
    assert report["waves"] == [4, 21, 25]
    assert report["aborted"] is True
    assert report["summary"] == {"upgraded": 2, "already": 0, "failed": 2, "skipped": 46}
    skipped = [d for d in report["devices"] if d["outcome"] == "skipped"]
    assert all("campaign stopped" in d["error"] for d in skipped)
    failed = [d for d in report["devices"] if d["outcome"] == "failed"]
    assert [d["name"] for d in failed] == ["dev-01", "dev-03"]


def test_a_pinned_board_is_checked_and_fleet_run_gathers_answers(fleet50: SimFleet, tmp_path: Path) -> None:
    devices = fleet_file(tmp_path / "fleet.toml", [
        {"name": "right", "conn": fleet50.urls[0], "board": "smpkit_sim/native"},
        {"name": "wrong", "conn": fleet50.urls[1], "board": "nrf52840dk/nrf52840"},
    ])
    app = image(tmp_path, "2.0.0", seed=2)
    done = smpkit(*FAST, "--json", "fleet", "upgrade", str(app), "--devices", str(devices), "--dry-run")
    report = json.loads(done.stdout)
    assert done.returncode == 1
    outcomes = {d["name"]: (d["outcome"], d["error"]) for d in report["devices"]}
    assert outcomes["wrong"][0] == "failed" and "nrf52840dk/nrf52840" in outcomes["wrong"][1]
    assert outcomes["right"][0] != "failed"

    ran = smpkit(*FAST, "--json", "fleet", "run", "--devices", str(devices), "os", "info", "-f", "i")
    assert ran.returncode == 0, ran.stderr
    answers = {d["name"]: d["answer"] for d in json.loads(ran.stdout)["devices"]}
    assert answers == {"right": {"output": "smpkit_sim/native"}, "wrong": {"output": "smpkit_sim/native"}}
    refused = smpkit("fleet", "run", "--devices", str(devices), "reset")
    assert refused.returncode == 2 and "not a read-only command" in refused.stderr


def test_simulate_count_gives_each_device_its_own_port_and_state(tmp_path: Path) -> None:
    sims = SimFleet(3, "--state", str(tmp_path / "state"))
    try:
        assert len(set(sims.urls)) == 3
    finally:
        sims.stop()
    assert sorted(p.name for p in (tmp_path / "state").iterdir()) == ["dev-0", "dev-1", "dev-2"]
