"""smpkit's side of bench_ble.py, run the way the smpclient peer runs: its own process, joining the
simulator's virtual link through a second virtual controller over TCP HCI.

    peer_smpkit.py upload HCI NAME IMAGE   -> {"seconds", "bytes", "chunks", "rewinds", "writes", "request_size"}
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path

from smpkit import SMPClient
from smpkit.image import parse_image
from smpkit.transport.bumble import SMPBumbleTransport
from smpkit.workflows.upload import upload


async def run(hci: str, name: str, data: bytes) -> dict[str, object]:
    image = parse_image(data)
    transport = SMPBumbleTransport(hci=hci)
    async with SMPClient(transport, name, timeout=5.0) as client:
        started = time.perf_counter()
        result = await upload(client, image)
        seconds = time.perf_counter() - started
        return {
            "seconds": seconds,
            "bytes": image.size,
            "chunks": result.chunks,
            "rewinds": result.rewinds,
            "writes": transport.writes,
            "request_size": client.max_request_size,
        }


def main() -> None:
    mode, hci, name, path = sys.argv[1:]
    assert mode == "upload", mode
    print(json.dumps(asyncio.run(run(hci, name, Path(path).read_bytes()))), flush=True)


if __name__ == "__main__":
    main()
