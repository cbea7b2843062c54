"""Run by the PyPI smpclient's venv (.venv-peer): its own Bumble transport against our BLE simulator.

    peer_smpclient.py raw HCI NAME REQUEST_HEX...   -> {"mtu", "echo", "responses": [hex...]}
    peer_smpclient.py upload HCI NAME IMAGE          -> {"seconds", "bytes"}
Prints one JSON line. Written for smpclient 7.3 (SMPClient, SMPBumbleTransport, EchoWrite).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path

from smpclient import SMPClient
from smpclient.requests.os_management import EchoWrite
from smpclient.transport.bumble import SMPBumbleTransport


async def raw(hci: str, name: str, requests: list[bytes]) -> dict[str, object]:
    transport = SMPBumbleTransport(hci=hci, preferred_mtu=498)
    async with SMPClient(transport, name, timeout_s=10.0) as client:
        echo = await client.request(EchoWrite(d="interop"))
        responses = [(await transport.send_and_receive(r)).hex() for r in requests]
        return {"mtu": transport.mtu, "echo": getattr(echo, "r", repr(echo)), "responses": responses}


async def upload(hci: str, name: str, image: bytes) -> dict[str, object]:
    transport = SMPBumbleTransport(hci=hci, preferred_mtu=498)
    async with SMPClient(transport, name, timeout_s=10.0) as client:
        start = time.perf_counter()
        async for _off in client.upload(image):
            pass
        return {"seconds": time.perf_counter() - start, "bytes": len(image), "mtu": transport.mtu}


def main() -> None:
    mode, hci, name, *rest = sys.argv[1:]
    if mode == "raw":
        result = asyncio.run(raw(hci, name, [bytes.fromhex(h) for h in rest]))
    else:
        result = asyncio.run(upload(hci, name, Path(rest[0]).read_bytes()))
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
