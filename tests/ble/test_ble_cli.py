"""`smpkit simulate --ble`: the ready lines, and a client joining its virtual link over TCP HCI."""

from __future__ import annotations

import asyncio
import contextlib
import sys
from pathlib import Path

from smpkit.protocol import decode_message, encode_request
from smpkit.protocol.groups.os import Echo
from smpkit.transport.bumble import SMPBumbleTransport

SMPKIT = Path(sys.executable).parent / "smpkit"


async def test_simulate_ble_prints_its_name_and_answers() -> None:
    process = await asyncio.create_subprocess_exec(
        str(SMPKIT), "simulate", "--ble", "--name", "cli-ble-sim", "-q",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        first = (await asyncio.wait_for(process.stdout.readline(), 30)).decode().strip()
        second = (await asyncio.wait_for(process.stdout.readline(), 10)).decode().strip()
        assert first == "listening on ble://cli-ble-sim"
        assert second.startswith("listening on bumble://cli-ble-sim?hci=tcp-client:127.0.0.1:")
        hci = second.split("?hci=", 1)[1]
        transport = SMPBumbleTransport(hci=hci)
        try:
            await transport.connect("cli-ble-sim", timeout_s=10.0)
            reply = await asyncio.wait_for(transport.send_and_receive(encode_request(Echo(d="cli"), 3)), 5.0)
            assert decode_message(reply).body == {"r": "cli"}
        finally:
            await transport.disconnect()
    finally:
        with contextlib.suppress(ProcessLookupError):
            process.terminate()
        await asyncio.wait_for(process.wait(), 10)
