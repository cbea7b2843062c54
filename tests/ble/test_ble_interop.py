"""An independent client agrees: the PyPI smpclient's own Bumble transport against our BLE simulator.

The peer runs in its own process and venv (.venv-peer: smpclient 7.3 with Bumble 0.0.228) and joins
the virtual link through a second virtual controller served as HCI over TCP on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

from bumble.link import LocalLink

from smpkit.protocol import encode_request
from smpkit.protocol.groups.image import ImageStateRead
from smpkit.protocol.groups.os import Echo, McumgrParams
from smpkit.simulator import Simulator, SimulatorConfig
from smpkit.simulator.transports.ble import serve_ble
from smpkit.transport.bumble import SMPBumbleTransport, serve_virtual_controller

ROOT = Path(__file__).resolve().parents[2]
#: The peer's interpreter: SMPKIT_PEER_PYTHON (./dev sets it), else the checkout's .venv-peer.
PEER_PYTHON = Path(os.environ.get("SMPKIT_PEER_PYTHON") or ROOT / ".venv-peer" / "bin" / "python")
PEER_SCRIPT = Path(__file__).with_name("peer_smpclient.py")
NAME = "smpkit-interop"


def test_the_peer_is_there() -> None:
    """A core interoperability check: a missing peer is a failure, not a skip."""
    assert PEER_PYTHON.exists(), f"no peer Python at {PEER_PYTHON}: set SMPKIT_PEER_PYTHON or run ./dev test"


async def run_peer(*args: str, timeout: float = 60.0) -> dict[str, object]:
    process = await asyncio.create_subprocess_exec(
        str(PEER_PYTHON), str(PEER_SCRIPT), *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout)
    if process.returncode != 0:
        raise AssertionError(f"peer failed ({process.returncode}): {err.decode()[-3000:]}")
    result: dict[str, object] = json.loads(out.decode().strip().splitlines()[-1])
    return result


async def test_pypi_smpclient_gets_the_same_answers(tmp_path: Path) -> None:
    link = LocalLink()
    requests = [
        encode_request(Echo(d="hello"), 10),
        encode_request(Echo(d="x" * 1500), 11),  # several writes and several notifications
        encode_request(McumgrParams(), 12),
        encode_request(ImageStateRead(), 13),
        bytes.fromhex("0800000100643e00") + b"\xa0",  # unknown group 100
    ]
    async with Simulator(SimulatorConfig(buf_size=2475, buf_count=4)) as sim:
        await serve_ble(sim, hci=link, name=NAME)
        spec, close = await serve_virtual_controller(link)
        try:
            peer = await run_peer("raw", spec, NAME, *(r.hex() for r in requests))
        finally:
            await close()
        ours = SMPBumbleTransport(hci=link)
        try:
            await ours.connect(NAME, timeout_s=5.0)
            answers = []
            for r in requests:
                answers.append((await asyncio.wait_for(ours.send_and_receive(r), 5.0)).hex())
        finally:
            await ours.disconnect()
    assert peer["echo"] == "interop"
    assert peer["mtu"] == 495 == ours.mtu
    assert peer["responses"] == answers
    assert len(answers) == len(requests) and all(answers)


