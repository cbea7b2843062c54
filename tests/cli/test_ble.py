"""The CLI over Bluetooth LE: `smpkit simulate --ble` (a Bumble peripheral on a virtual link) reached
through Bumble over TCP HCI (`--ble NAME --hci tcp-client:...`), in-process and as a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from smpkit.cli.main import main

SMPKIT = [sys.executable, "-m", "smpkit.cli.main"]
NAME = "smpkit-cli-ble"


@pytest.fixture(scope="module")
def ble_hci() -> Iterator[str]:
    proc = subprocess.Popen([*SMPKIT, "simulate", "--ble", "--name", NAME, "-q"], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == f"listening on ble://{NAME}"
        second = proc.stdout.readline().strip()
        assert second.startswith(f"listening on bumble://{NAME}?hci=")
        yield second.split("?hci=", 1)[1]
    finally:
        proc.terminate()
        proc.wait(10)


def test_ble_in_process(ble_hci: str, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    base = ["--ble", NAME, "--hci", ble_hci]
    assert main([*base, "echo", "over", "ble"]) == 0
    assert capsys.readouterr().out == "over ble\n"
    assert main([*base, "--json", "image", "list"]) == 0
    assert json.loads(capsys.readouterr().out)["images"][0]["active"] is True
    local = tmp_path / "data.bin"
    local.write_bytes(os.urandom(3000))  # several ATT MTUs
    assert main([*base, "--json", "fs", "upload", str(local), "/lfs1/data.bin"]) == 0
    assert json.loads(capsys.readouterr().out)["len"] == 3000
    assert main([*base, "fs", "stat", "/lfs1/missing"]) == 4


def test_ble_upgrade_as_subprocess(ble_hci: str, image_files: dict[str, Path]) -> None:
    done = subprocess.run([*SMPKIT, "--ble", NAME, "--hci", ble_hci, "--json", "upgrade", str(image_files["2.0.0"])],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["outcome"] in ("upgraded", "already-running") and report["confirmed"] is True


def test_ble_scan_through_bumble(ble_hci: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--hci", ble_hci, "--json", "scan", "--no-serial", "--duration", "2"]) == 0
    devices = json.loads(capsys.readouterr().out)["devices"]
    assert any(d["name"] == NAME and d["conn"].startswith(f"bumble://{NAME}?hci=") for d in devices)
