"""Every command, in-process, against the simulator over UDP and a pseudo-terminal: tables, JSON, exit codes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from smpkit.cli.errors import ExitCode
from smpkit.cli.main import app, main

from .conftest import SimThread


class Run:
    def __init__(self, capsys: pytest.CaptureFixture[str], url: str | None) -> None:
        self.capsys = capsys
        self.url = url

    def __call__(self, *args: str, json_: bool = False) -> tuple[int, str, str]:
        argv = (["--conn", self.url] if self.url else []) + (["--json"] if json_ else []) + list(args)
        rc = main(argv)
        out, err = self.capsys.readouterr()
        return rc, out, err

    def json(self, *args: str) -> Any:
        rc, out, err = self(*args, json_=True)
        assert rc == 0, err
        return json.loads(out)


@pytest.fixture
def run(sim: SimThread, capsys: pytest.CaptureFixture[str]) -> Run:
    return Run(capsys, sim.url)


@pytest.fixture
def run_udp(udp_sim: SimThread, capsys: pytest.CaptureFixture[str]) -> Run:
    return Run(capsys, udp_sim.url)


TABLE_CASES = [
    (["echo", "hello", "world"], "hello world"),
    (["os", "info"], "Zephyr"),
    (["os", "params"], "buf_size"),
    (["os", "tasks"], "idle"),
    (["os", "mempools"], "blksiz"),
    (["os", "bootloader"], "MCUboot"),
    (["image", "list"], "active confirmed"),
    (["image", "slots"], "upload_image_id"),
    (["stat", "list"], "smp_svr_stats"),
    (["stat", "show"], "smp_sim_stats"),
    (["stat", "show", "smp_svr_stats"], "ticks"),
    (["settings", "commit"], "done"),
    (["settings", "save"], "done"),
    (["settings", "load"], "done"),
    (["shell", "kernel version"], "Zephyr version"),
    (["enum"], "img mgmt"),
    (["storage-erase", "--yes"], "erased"),
]


@pytest.mark.parametrize(("args", "expected"), TABLE_CASES, ids=[" ".join(c[0]) for c in TABLE_CASES])
def test_tables(run: Run, args: list[str], expected: str) -> None:
    rc, out, err = run(*args)
    assert rc == 0, err
    assert expected in out


def test_json_schemas(run: Run) -> None:
    assert run.json("echo", "hi") == {"r": "hi"}
    assert set(run.json("os", "params")) == {"buf_size", "buf_count"}
    assert run.json("os", "info", "-f", "s") == {"output": "Zephyr"}
    assert "tasks" in run.json("os", "tasks")
    assert "mpools" in run.json("os", "mempools")
    assert run.json("os", "bootloader")["bootloader"] == "MCUboot"
    images = run.json("image", "list")["images"]
    assert len(images) == 1
    assert set(images[0]) == {"image", "slot", "version", "hash", "active", "confirmed", "pending", "permanent",
                              "bootable"}
    assert images[0]["active"] is True and len(images[0]["hash"]) == 64
    int(images[0]["hash"], 16)  # lowercase hex
    assert images[0]["hash"] == images[0]["hash"].lower()
    slots = run.json("image", "slots")["images"]
    assert [s["slot"] for s in slots[0]["slots"]] == [0, 1]
    assert "smp_svr_stats" in run.json("stat", "list")["stat_list"]
    shown = run.json("stat", "show", "smp_svr_stats")
    assert shown["name"] == "smp_svr_stats" and "ticks" in shown["fields"]
    assert [g["name"] for g in run.json("stat", "show")["groups"]] == run.json("stat", "list")["stat_list"]
    groups = run.json("enum")["groups"]
    assert {0, 1} <= {g["group"] for g in groups}
    assert run.json("shell", "kernel", "version")["ret"] == 0


def test_settings_round_trip(run: Run) -> None:
    assert run.json("settings", "set", "app/greeting", "hello") == {"name": "app/greeting", "val": "68656c6c6f"}
    got = run.json("settings", "get", "app/greeting")
    assert got["name"] == "app/greeting" and got["val"] == "68656c6c6f"
    rc, out, _ = run("settings", "get", "app/greeting")
    assert rc == 0 and "hello" in out
    assert run.json("settings", "set", "app/raw", "00ff", "--hex")["val"] == "00ff"
    assert run.json("settings", "delete", "app/greeting") == {"name": "app/greeting"}
    rc, _, err = run("settings", "get", "app/greeting")
    assert rc == ExitCode.DEVICE and "error:" in err


def test_datetime(run: Run) -> None:
    assert run.json("os", "datetime", "set", "2024-05-01T10:00:00") == {"datetime": "2024-05-01T10:00:00"}
    assert run.json("os", "datetime")["datetime"].startswith("2024-05-01T10:00")
    rc, _, err = run("os", "datetime", "set", "yesterday")
    assert rc == ExitCode.USAGE and "YYYY" in err


def test_image_commands(run: Run, image_files: dict[str, Path]) -> None:
    up = run.json("image", "upload", str(image_files["1.1.0"]))
    assert up["size"] == image_files["1.1.0"].stat().st_size and up["version"] == "1.1.0"
    rows = run.json("image", "list")["images"]
    new = next(r for r in rows if r["version"] == "1.1.0")
    assert new["hash"] == up["hash"] and new["slot"] == 1
    tested = run.json("image", "test", new["hash"])["images"]
    assert next(r for r in tested if r["slot"] == 1)["pending"] is True
    rc, out, _ = run("reset")
    assert rc == 0 and "reset" in out
    running = SimWait.active_version(run, "1.1.0")
    assert running["confirmed"] is False
    confirmed = run.json("image", "confirm")["images"]
    assert next(r for r in confirmed if r["active"])["confirmed"] is True
    assert run.json("image", "erase") == {"slot": None}
    assert len(run.json("image", "list")["images"]) == 1


class SimWait:
    @staticmethod
    def active_version(run: Run, version: str) -> dict[str, Any]:
        """The device reboots after `reset`: ask until it answers with the new image (bounded)."""
        last: Any = None
        for _ in range(50):
            rc, out, _ = run("image", "list", json_=True)
            if rc == 0:
                last = json.loads(out)["images"]
                active = [r for r in last if r["active"]]
                if active and active[0]["version"] == version:
                    return active[0]
        raise AssertionError(f"device never ran {version}: {last}")


def test_upgrade_flow(run: Run, image_files: dict[str, Path]) -> None:
    planned = run.json("upgrade", str(image_files["2.0.0"]), "--dry-run")
    assert planned["outcome"] == "planned"
    assert len(run.json("image", "list")["images"]) == 1  # nothing changed
    report = run.json("upgrade", str(image_files["2.0.0"]))
    assert report["outcome"] == "upgraded" and report["confirmed"] is True
    steps = [(s["step"], s["status"]) for s in report["steps"]]
    for step in ("upload", "check-upload", "test", "reset", "reconnect", "check-running", "confirm"):
        assert (step, "done") in steps
    after = {r["version"]: r for r in report["after"]["images"]}
    assert after["2.0.0"]["active"] and after["2.0.0"]["confirmed"]
    rc, _, err = run("upgrade", str(image_files["2.0.0"]))
    assert rc == 0 and "already-running" in err


def test_upgrade_without_confirm_shows_steps(run: Run, image_files: dict[str, Path]) -> None:
    rc, _, err = run("upgrade", str(image_files["1.1.0"]), "--no-confirm")
    assert rc == 0
    assert "check-running" in err and "upgrade: upgraded" in err
    assert "left unconfirmed" in err


def test_fs_commands(run: Run, tmp_path: Path) -> None:
    local = tmp_path / "log.bin"
    local.write_bytes(bytes(range(256)) * 20)
    up = run.json("fs", "upload", str(local), "/lfs1/log.bin")
    assert up["len"] == 5120 and up["name"] == "/lfs1/log.bin"
    assert run.json("fs", "stat", "/lfs1/log.bin") == {"name": "/lfs1/log.bin", "len": 5120}
    sha = run.json("fs", "hash", "/lfs1/log.bin", "--type", "sha256")
    import hashlib

    assert sha["output"] == hashlib.sha256(local.read_bytes()).hexdigest()
    crc = run.json("fs", "hash", "/lfs1/log.bin", "--type", "crc32")
    import zlib

    assert crc["output"] == zlib.crc32(local.read_bytes())
    back = tmp_path / "back.bin"
    assert run.json("fs", "download", "/lfs1/log.bin", str(back))["len"] == 5120
    assert back.read_bytes() == local.read_bytes()
    rc, _, err = run("fs", "download", "/lfs1/log.bin", str(back))
    assert rc == ExitCode.USAGE and "--overwrite" in err
    assert run.json("fs", "close") == {}
    rc, out, _ = run("fs", "stat", "/lfs1/log.bin")
    assert rc == 0 and "5120 bytes" in out


def test_error_classes(run_udp: Run, image_files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    run = run_udp
    # usage
    assert run("image", "test", "zz")[0] == ExitCode.USAGE
    assert main(["--udp", "127.0.0.1", "--serial", "/dev/null", "echo", "x"]) == ExitCode.USAGE
    assert main(["--bogus-option"]) == ExitCode.USAGE
    capsys.readouterr()
    # device-reported error, with the device's reason in one line
    rc, _, err = run("fs", "stat", "/lfs1/missing")
    assert rc == ExitCode.DEVICE
    assert err.count("\n") == 1 and "FS.FILE_NOT_FOUND" in err and "Traceback" not in err
    rc, _, err = run("image", "test", "ab" * 32)
    assert rc == ExitCode.DEVICE and "HASH_NOT_FOUND" in err
    # verification: files that are not valid images, refused before any byte is sent
    for name in ("broken", "text"):
        rc, _, err = run("image", "upload", str(image_files[name]))
        assert rc == ExitCode.VERIFICATION, err
        assert "--force" in err
    assert run("image", "info", str(image_files["broken"]))[0] == ExitCode.VERIFICATION
    assert run("upgrade", str(image_files["text"]))[0] == ExitCode.VERIFICATION
    # connection: nothing listens there
    rc, _, err = Run(capsys, "udp://127.0.0.1:9")("--timeout", "0.2", "--retries", "0", "echo", "hi")
    assert rc == ExitCode.CONNECTION and "error: echo" in err and "Traceback" not in err
    rc, _, err = Run(capsys, None)("--serial", "/dev/smpkit-no-such-port", "echo", "hi")
    assert rc == ExitCode.CONNECTION, err


def test_debug_shows_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["--debug", "--serial", "/dev/smpkit-no-such-port", "echo", "hi"])
    _, err = capsys.readouterr()
    assert rc == ExitCode.CONNECTION and "Traceback" in err


def test_image_info(capsys: pytest.CaptureFixture[str], image_files: dict[str, Path]) -> None:
    assert main(["--json", "image", "info", str(image_files["1.1.0"])]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["version"] == "1.1.0" and len(info["hash"]) == 64
    assert any(t["name"] == "SHA256" for t in info["tlvs"])
    assert main(["image", "info", str(image_files["1.1.0"])]) == 0
    assert "SHA256" in capsys.readouterr().out


def test_typer_cli_runner(udp_sim: SimThread) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["--conn", udp_sim.url, "--json", "os", "params"])
    assert result.exit_code == 0, result.output
    assert set(json.loads(result.stdout)) == {"buf_size", "buf_count"}
    result = runner.invoke(app, ["--conn", udp_sim.url, "image", "list"])
    assert result.exit_code == 0 and "1.0.0" in result.stdout


def test_demo_in_process(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--size", "16", "--latency", "0"]) == 0
    out, err = capsys.readouterr()
    assert "before" in out and "after" in out and "upgraded" in err


def test_scan_serial_only(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--json", "scan", "--no-ble"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert isinstance(data["devices"], list) and data["errors"] == []
    assert all(d["transport"] == "serial" for d in data["devices"])


def test_simulate_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", "--help"]) == 0
    assert "--serial-pty" in capsys.readouterr().out
