"""Rule: the client's ATT writes never cross an SMP packet boundary (zephyr-ble-observations §2).

Zephyr 3.4 drops both requests when one write carries the end of one and the start of the
next, and drops a request whose first write does not hold the whole 8-byte header.
"""

from __future__ import annotations

import asyncio

import pytest

from smpkit.protocol import decode_message, encode_request
from smpkit.protocol.groups.os import Echo

from .support import WriteLog, ble_rig


def _text(task: int, n: int, longest: int) -> str:
    """Echo texts of very different sizes, so long and short requests interleave."""
    size = (task * 389 + n * 173) % longest
    return f"{task}.{n}:" + "abcdefghij"[task % 10] * size


@pytest.mark.parametrize(("mtu", "longest"), [(498, 2100), (23, 300)])
async def test_concurrent_requests_never_share_a_write(mtu: int, longest: int) -> None:
    async with ble_rig(mtu=mtu) as rig:
        assert rig.transport.mtu == mtu - 3

        async def worker(task: int) -> list[bool]:
            results = []
            for n in range(5):
                text = _text(task, n, longest)
                results.append(await rig.client.os.echo(text) == text)
            return results

        results = await asyncio.gather(*(worker(task) for task in range(6)))

    assert all(all(r) for r in results)
    log = rig.log
    assert log.violations() == []
    assert any(len(m) > mtu - 3 for m in log.messages), "some requests must need several writes"
    assert len(log.writes) > len(log.messages)
    # every request the client sent reached the device whole, as its own run of writes
    assert len(log.messages) == rig.client.stats.sent
    for message in log.messages:
        decode_message(message)
    firsts = [w for i, w in enumerate(log.writes) if i == 0 or log.owner[i] != log.owner[i - 1]]
    assert len(firsts) == len(log.messages) and all(len(w) >= 8 for w in firsts)


async def test_two_messages_in_one_send_go_out_as_separate_writes() -> None:
    a = encode_request(Echo(d="first"), sequence=200)
    b = encode_request(Echo(d="second " * 90), sequence=201)
    async with ble_rig() as rig:
        before, dropped = len(rig.log.writes), rig.client.stats.dropped
        await rig.transport.send(a + b)
        # nobody awaits these sequence numbers: the dispatcher drops both answers once they arrive
        for _ in range(200):
            if rig.client.stats.dropped == dropped + 2:
                break
            await asyncio.sleep(0.01)
    assert rig.client.stats.dropped == dropped + 2
    assert rig.model_stats.rejected_writes == 0
    assert rig.log.messages[-2:] == [a, b]
    assert rig.log.writes[before] == a  # a short message is one write of its own
    assert rig.log.violations() == []


def test_the_log_catches_a_write_crossing_a_boundary() -> None:
    a = encode_request(Echo(d="a" * 30), sequence=1)
    b = encode_request(Echo(d="b" * 30), sequence=2)
    log = WriteLog()
    stream = a + b
    for piece in (stream[:20], stream[20:60], stream[60:]):
        log.feed(piece)
    assert log.violations()
    headless = WriteLog()
    headless.feed(a[:5])
    assert headless.violations()
