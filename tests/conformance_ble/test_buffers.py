"""The buffer model of `zephyr-3.4-ble` (net_buf pool, reassembly, rc 2, silent drops), unit by unit."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from smpkit.simulator.ble_buffers import (
    ATT_VALUE_NOT_ALLOWED,
    BleReassembly,
    BleSmpServer,
    NetBufPool,
    cut_notifications,
    error_response,
)
from smpkit.simulator.profiles_ble import ZEPHYR_34_BLE


def echo(seq: int, text: str) -> bytes:
    raw = text.encode()
    size = bytes((0x78, len(raw))) if len(raw) < 256 else bytes((0x79,)) + len(raw).to_bytes(2, "big")
    body = bytes((0xA1, 0x61, 0x64)) + size + raw
    return bytes((0x0A, 0)) + len(body).to_bytes(2, "big") + bytes((0, 0, seq, 0)) + body


async def answer(request: bytes) -> Sequence[bytes]:
    return [bytes((0x0B,)) + request[1:8] + b"ok"]


def test_first_write_must_hold_the_header() -> None:
    pool = NetBufPool(4)
    r = BleReassembly(pool, 2475)
    request = echo(1, "x" * 300)
    assert r.feed(request[:5]) == (None, ATT_VALUE_NOT_ALLOWED)
    assert r.feed(request[5:]) == (None, ATT_VALUE_NOT_ALLOWED)  # its "header" is CBOR text
    assert pool.used == 0
    assert r.feed(request[:8]) == (None, None)
    assert r.feed(request[8:]) == (request, None)


def test_a_write_crossing_a_packet_boundary_loses_both() -> None:
    pool = NetBufPool(4)
    r = BleReassembly(pool, 2475)
    a, b = echo(1, "a" * 700), echo(2, "b" * 700)
    stream = a + b
    cuts = [stream[i : i + 495] for i in range(0, len(stream), 495)]
    results = [r.feed(c) for c in cuts]
    assert all(req is None for req, _ in results)
    assert results[1][1] == ATT_VALUE_NOT_ALLOWED
    assert pool.used == 0
    assert r.feed(echo(3, "hi")) == (echo(3, "hi"), None)


def test_two_requests_in_one_write_are_both_dropped() -> None:
    r = BleReassembly(NetBufPool(4), 2475)
    assert r.feed(echo(1, "a") + echo(2, "b")) == (None, ATT_VALUE_NOT_ALLOWED)


def test_requests_over_buf_size_take_no_buffer() -> None:
    pool = NetBufPool(4)
    r = BleReassembly(pool, 2475)
    big = echo(1, "m" * 2462)
    assert len(big) == 2476
    assert r.feed(big[:495]) == (None, ATT_VALUE_NOT_ALLOWED)
    assert pool.used == 0
    exact = echo(2, "m" * 2461)
    results = [r.feed(exact[i : i + 495]) for i in range(0, len(exact), 495)]
    assert results[-1] == (exact, None)


def test_a_partial_request_holds_a_buffer_until_disconnect() -> None:
    pool = NetBufPool(4)
    r = BleReassembly(pool, 2475)
    request = echo(1, "z" * 1500)
    r.feed(request[:495])
    assert pool.used == 1 and r.holding
    r.reset()
    assert pool.used == 0 and not r.holding


def test_error_response_keeps_the_request_header() -> None:
    request = bytes.fromhex("080000010000f802a0")  # taskstat read, seq 248
    assert error_response(request, 2) == bytes.fromhex("090000060000f802bf62726302ff")
    assert error_response(echo(90, "p"), 2)[:8] == bytes.fromhex("0b0000060000" "5a00")


def test_notification_cuts_are_mtu_minus_3() -> None:
    response = bytes(1008)
    assert [len(n) for n in cut_notifications(response, 247)] == [244, 244, 244, 244, 32]


async def _burst(n: int) -> tuple[list[bytes], BleSmpServer]:
    server = BleSmpServer(ZEPHYR_34_BLE.with_timing(scale=0.2), answer)
    sent: list[bytes] = []

    async def notify(piece: bytes) -> None:
        sent.append(piece)

    conn = server.connection(notify, lambda: 498)
    for seq in range(n):
        conn.write(echo(seq, "p"))
    await asyncio.sleep(0.2)
    return sent, server


async def test_depth_3_is_answered() -> None:
    sent, server = await _burst(3)
    assert [p[6] for p in sent] == [0, 1, 2] and all(p.endswith(b"ok") for p in sent)
    assert server.pool.used == 0


async def test_depth_4_answers_the_first_with_rc_2() -> None:
    sent, _ = await _burst(4)
    assert sent[0] == error_response(echo(0, "p"), 2)
    assert [p[6] for p in sent[1:]] == [1, 2, 3] and all(p.endswith(b"ok") for p in sent[1:])


async def test_beyond_4_requests_are_dropped_silently() -> None:
    sent, server = await _burst(8)
    assert [p[6] for p in sent] == [0, 1, 2, 3]
    assert server.stats.rejected_writes == 4 and server.pool.used == 0


async def test_response_over_buf_size_is_rc_7() -> None:
    async def huge(request: bytes) -> Sequence[bytes]:
        return [bytes((0x0B,)) + request[1:8] + bytes(2468)]

    server = BleSmpServer(ZEPHYR_34_BLE.with_timing(scale=0.1), huge)
    sent: list[bytes] = []

    async def notify(piece: bytes) -> None:
        sent.append(piece)

    server.connection(notify, lambda: 498).write(echo(28, "m"))
    await asyncio.sleep(0.1)
    assert sent == [error_response(echo(28, "m"), 7)]
