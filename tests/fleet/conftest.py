"""Fleets of simulated devices: one `smpkit simulate --count N` process per module, over loopback UDP."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from smpkit.image.build import make_image, make_test_body

SMPKIT = [sys.executable, "-m", "smpkit.cli.main"]
ENV = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200"}
#: 60 KB images, as in the issue's check.
IMAGE_SIZE = 60_000


class SimFleet:
    def __init__(self, count: int, *options: str) -> None:
        self.proc = subprocess.Popen([*SMPKIT, "simulate", "--udp", "127.0.0.1:0", "--count", str(count), "-q",
                                      *options], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)
        assert self.proc.stdout is not None
        self.urls = []
        for _ in range(count):
            line = self.proc.stdout.readline()
            assert line.startswith("listening on udp://"), line + (self.proc.stderr.read() if self.proc.stderr else "")
            self.urls.append(line.split()[-1])

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


@pytest.fixture(scope="module")
def fleet50() -> Iterator[SimFleet]:
    sims = SimFleet(50, "--loss", "0.05")
    yield sims
    sims.stop()


def image(tmp: Path, version: str, seed: int) -> Path:
    path = tmp / f"app-{version}.bin"
    path.write_bytes(make_image(make_test_body(IMAGE_SIZE, seed=seed), version))
    return path


def dead_udp_url() -> str:
    """A loopback UDP port nobody listens on (bound, read, closed)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return f"udp://127.0.0.1:{sock.getsockname()[1]}"


def fleet_file(path: Path, entries: list[dict[str, object]]) -> Path:
    lines = []
    for entry in entries:
        lines.append("[[device]]")
        for key, value in entry.items():
            lines.append(f"{key} = {value!r}".replace("'", '"'))
        lines.append("")
    path.write_text("\n".join(lines))
    return path


def smpkit(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*SMPKIT, *args], capture_output=True, text=True, timeout=timeout, env=ENV)


#: Fast recovery on loopback: a lost request costs 0.3 s, a lost first chunk 1 s (the simulator erases at once).
FAST = ("--timeout", "0.3", "--retries", "5")
FAST_UPGRADE = ("--erase-timeout", "1", "--concurrency", "50")
