"""BLE through a real HCI path: two of Bumble's stock virtual controllers in another process
(`python -m bumble.apps.controllers tcp-server:... tcp-server:...`), the simulator as host of
one and the client as host of the other, each over TCP HCI, as a user with two dongles or an
emulator runs them. Across processes: real time, with margins far above a loaded machine's stalls.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from smpkit import SMPClient
from smpkit.image.build import make_image, make_test_body
from smpkit.simulator import Simulator, SimulatorConfig
from smpkit.simulator.transports.ble import serve_ble
from smpkit.workflows.upload import upload

REPO = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_listening(port: int, process: subprocess.Popen[bytes], timeout_s: float = 30.0) -> None:
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if process.poll() is not None:
            raise RuntimeError(f"bumble.apps.controllers exited: {process.stderr.read() if process.stderr else ''!r}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            return
        time.sleep(0.1)
    raise TimeoutError(f"no controller listening on {port}")


@pytest.fixture
def controllers() -> Iterator[tuple[str, str]]:
    """Two stock Bumble controllers on one virtual link in their own process: (hci for A, hci for B).

    A controller's TCP server takes one host connection for its lifetime, so every test gets a fresh pair.
    """
    ports = [_free_port(), _free_port()]
    process = subprocess.Popen(
        [sys.executable, "-m", "bumble.apps.controllers", *(f"tcp-server:127.0.0.1:{p}" for p in ports)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    try:
        for port in ports:
            _wait_listening(port, process)
        yield f"tcp-client:127.0.0.1:{ports[0]}", f"tcp-client:127.0.0.1:{ports[1]}"
    finally:
        process.terminate()
        process.wait(10)


def _smpkit(*args: str, timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    return subprocess.run([sys.executable, "-m", "smpkit.cli.main", *args], capture_output=True, text=True,
                          timeout=timeout, env=env)


@pytest.fixture
def simulate_on(controllers: tuple[str, str]) -> Iterator[str]:
    """`smpkit simulate --ble --hci A --name smpkit-bar` running; yields the client's HCI (B)."""
    sim_hci, client_hci = controllers
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    process = subprocess.Popen(
        [sys.executable, "-m", "smpkit.cli.main", "simulate", "--ble", "--hci", sim_hci, "--name", "smpkit-bar"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "listening on ble://smpkit-bar"
        yield client_hci
    finally:
        process.terminate()
        process.wait(10)


def test_cli_finds_the_simulator_by_name_over_tcp_hci(simulate_on: str) -> None:
    """The reported bug: stock controllers never pass the scan response (the name) on; by name it now works."""
    done = _smpkit("--ble", "smpkit-bar", "--hci", simulate_on, "--timeout", "20", "echo", "hi")
    assert (done.returncode, done.stdout.strip()) == (0, "hi"), done.stderr


def test_scan_over_tcp_hci_shows_the_shortened_name_and_the_address_to_use(simulate_on: str) -> None:
    done = _smpkit("--hci", simulate_on, "--json", "scan", "--no-serial", "-s", "3")
    assert done.returncode == 0, done.stderr
    devices = json.loads(done.stdout)["devices"]
    assert [(d["name"], d["address"], d["conn"]) for d in devices] == [
        ("smpkit-b…", "C0:5C:00:00:00:01", f"bumble://C0:5C:00:00:00:01?hci={simulate_on}")
    ]


async def test_library_upload_between_two_controllers(controllers: tuple[str, str]) -> None:
    """Simulator and client in this process, but each the host of its own controller over TCP HCI."""
    sim_hci, client_hci = controllers
    image = make_image(make_test_body(20 * 1024, seed=13), (1, 2, 3, 0))
    async with Simulator(SimulatorConfig()) as sim:
        await serve_ble(sim, hci=sim_hci, name="smpkit-tcp")
        async with SMPClient(f"bumble://smpkit-tcp?hci={client_hci}", timeout=10.0) as client:
            assert await client.os.echo("over tcp hci") == "over tcp hci"
            result = await asyncio.wait_for(upload(client, image), 120)
    assert result.verified == "match"
