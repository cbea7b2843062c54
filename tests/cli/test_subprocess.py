"""The installed `smpkit` command as a subprocess: output, exit codes, the simulator command, lazy imports."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from smpkit.cli.errors import ExitCode

from .conftest import SimThread

SMPKIT = [sys.executable, "-m", "smpkit.cli.main"]
ENV = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200"}


def smpkit(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*SMPKIT, *args], capture_output=True, text=True, timeout=timeout, env=ENV)


def test_help_lists_every_command() -> None:
    done = smpkit("--help")
    assert done.returncode == 0
    for command in ("scan", "echo", "reset", "os", "image", "upgrade", "stat", "settings", "fs", "shell", "enum",
                    "storage-erase", "simulate", "demo"):
        assert f"  {command} " in done.stdout
    assert "Exit codes" in done.stdout
    image = smpkit("image", "--help")
    for command in ("list", "info", "upload", "test", "confirm", "erase", "slots"):
        assert f"  {command} " in image.stdout


def test_help_imports_nothing_heavy() -> None:
    code = ("import sys, smpkit.cli.main as m; "
            "print(' '.join(sorted(k for k in sys.modules if k.split('.')[0] in "
            "('bumble', 'bleak', 'serial', 'cbor2', 'intelhex') or k.startswith(('smpkit.client', "
            "'smpkit.simulator', 'smpkit.transport', 'smpkit.workflows', 'rich.console', 'rich.progress')))))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == ""


@pytest.mark.parametrize("kind", ["udp", "serial"])
def test_commands_as_subprocess(kind: str, tmp_path: Path) -> None:
    sim = SimThread(kind).start()
    try:
        done = smpkit("--conn", sim.url, "--json", "image", "list")
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["images"][0]["version"] == "1.0.0"
        done = smpkit("--conn", sim.url, "echo", "over", kind)
        assert (done.returncode, done.stdout) == (0, f"over {kind}\n")
        done = smpkit("--conn", sim.url, "os", "params")
        assert done.returncode == 0 and "buf_count" in done.stdout and "\x1b[" not in done.stdout  # no colours
        rc = smpkit("--conn", sim.url, "fs", "stat", "/lfs1/nothing").returncode
        assert rc == ExitCode.DEVICE
    finally:
        sim.stop()


def test_exit_codes_as_subprocess(udp_sim: SimThread, tmp_path: Path) -> None:
    text = tmp_path / "x.bin"
    text.write_bytes(b"hello")
    assert smpkit("echo", "hi").returncode == ExitCode.USAGE  # no device given
    assert smpkit("--no-such-flag").returncode == ExitCode.USAGE
    done = smpkit("--udp", "127.0.0.1:9", "--timeout", "0.2", "--retries", "0", "echo", "hi")
    assert done.returncode == ExitCode.CONNECTION and done.stderr.startswith("error: ")
    assert "Traceback" not in done.stderr and len(done.stderr.splitlines()) == 1
    assert smpkit("--conn", udp_sim.url, "settings", "get", "no/such").returncode == ExitCode.DEVICE
    assert smpkit("--conn", udp_sim.url, "image", "upload", str(text)).returncode == ExitCode.VERIFICATION


def test_environment_and_devices_file(udp_sim: SimThread, tmp_path: Path) -> None:
    env = {**ENV, "SMPKIT_CONN": udp_sim.url}
    done = subprocess.run([*SMPKIT, "echo", "env"], capture_output=True, text=True, env=env, timeout=60)
    assert done.stdout == "env\n"
    (tmp_path / "smpkit.toml").write_text(f'[devices.sim]\nconn = "{udp_sim.url}"\n')
    done = subprocess.run([*SMPKIT, "--device", "sim", "echo", "file"], capture_output=True, text=True,
                          env=ENV, cwd=tmp_path, timeout=60)
    assert done.stdout == "file\n", done.stderr


def test_simulate_command_serves_until_interrupted() -> None:
    proc = subprocess.Popen([*SMPKIT, "simulate", "--udp", "127.0.0.1:0", "-q"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=ENV)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("listening on udp://127.0.0.1:")
        url = line.split()[-1]
        assert smpkit("--conn", url, "echo", "sim").stdout == "sim\n"
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(10)
    assert proc.returncode == 0


def test_demo_as_subprocess() -> None:
    done = smpkit("demo", "--size", "32")
    assert done.returncode == 0, done.stderr
    assert "upgrade: upgraded and confirmed" in done.stderr
    assert "1.1.0" in done.stdout
