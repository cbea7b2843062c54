"""Raw bytes over a real UDP socket: Zephyr 4.4's header rules and response encoding."""

from __future__ import annotations

import asyncio
import struct

import cbor2

from smpkit.protocol import decode_message, encode_request
from smpkit.protocol.groups.os import Echo, McumgrParams, TaskStat
from smpkit.simulator import Faults, Simulator, SimulatorConfig

from .conftest import UDPPeer


def header(op: int, ver: int, length: int, group: int, seq: int, cmd: int, flags: int = 0, b0_extra: int = 0) -> bytes:
    return struct.pack(">BBHHBB", b0_extra | (ver << 3) | op, flags, length, group, seq, cmd)


async def test_echo_is_answered_with_an_indefinite_map(udp: UDPPeer) -> None:
    rsp = await udp.exchange(encode_request(Echo(d="hello"), 7))
    assert rsp == bytes.fromhex("0b00000a00000700bf61726568656c6c6fff")


async def test_echo_read_op_gets_read_response_and_missing_d_echoes_empty(udp: UDPPeer) -> None:
    body = b"\xa1\x61d\x62hi"
    rsp = await udp.exchange(header(0, 1, len(body), 0, 1, 0) + body)
    assert rsp[0] == 0x09 and decode_message(rsp).body == {"r": "hi"}
    rsp = await udp.exchange(header(2, 1, 1, 0, 2, 0) + b"\xa0")
    assert decode_message(rsp).body == {"r": ""}
    rsp = await udp.exchange(header(2, 1, 3, 0, 3, 0) + b"\xa1\x61d\x05")
    assert rsp[8:] == b"\xbf\x62rc\x03\xff"


async def test_response_ops_and_unknown_ops_get_rc8_with_write_response(udp: UDPPeer) -> None:
    for op in (1, 3, 5):
        rsp = await udp.exchange(header(op, 1, 1, 0, 9, 6) + b"\xa0")
        assert rsp[0] & 7 == 3
        assert decode_message(rsp).body == {"rc": 8}


async def test_newer_versions_get_rc13_as_v2(udp: UDPPeer) -> None:
    for ver in (2, 3):
        rsp = await udp.exchange(header(2, ver, 1, 0, 1, 0) + b"\xa0")
        assert rsp[0] == 0x0B and decode_message(rsp).body == {"rc": 13}


async def test_flags_and_reserved_bits_are_cleared(udp: UDPPeer) -> None:
    body = b"\xa1\x61d\x62hi"
    rsp = await udp.exchange(header(2, 1, len(body), 0, 255, 0, flags=0xFF, b0_extra=0xE0) + body)
    assert rsp[:2] == b"\x0b\x00" and rsp[6] == 255
    assert decode_message(rsp).body == {"r": "hi"}


async def test_length_rules(udp: UDPPeer) -> None:
    body = b"\xa1\x61d\x62hi"
    rsp = await udp.exchange(header(2, 1, 3, 0, 1, 0) + body)  # len too small: whole body read
    assert decode_message(rsp).body == {"r": "hi"}
    rsp = await udp.exchange(header(2, 1, 40, 0, 2, 0) + body)  # len too large
    assert decode_message(rsp).body == {"rc": 9}
    await udp.send(b"\x0a\x00\x00")  # shorter than a header: silence
    assert await udp.recv_all(0.2) == []


async def test_two_messages_in_one_datagram_are_both_answered(udp: UDPPeer) -> None:
    await udp.send(encode_request(Echo(d="one"), 1) + encode_request(Echo(d="two"), 2))
    answers = [decode_message(await udp.recv()) for _ in range(2)]
    assert [a.body["r"] for a in answers] == ["one", "two"]


async def test_body_decoding_rules(udp: UDPPeer) -> None:
    rsp = await udp.exchange(header(2, 1, 1, 0, 1, 0) + b"\xff")  # bad CBOR for a command with args
    assert decode_message(rsp).body == {"rc": 3}
    rsp = await udp.exchange(header(0, 1, 1, 0, 2, 6) + b"\xff")  # params ignores its body
    assert decode_message(rsp).body == {"buf_size": 2048, "buf_count": 4}
    rsp = await udp.exchange(header(2, 1, 3, 0, 3, 0) + b"\x82\x01\x02")  # array body
    assert decode_message(rsp).body == {"rc": 3}
    indef = b"\xbf\x61d\x62hi\xff"
    rsp = await udp.exchange(header(2, 1, len(indef), 0, 4, 0) + indef)
    assert decode_message(rsp).body == {"r": "hi"}


async def test_unknown_group_and_command(udp: UDPPeer) -> None:
    for group, cmd in ((4, 0), (100, 0), (0, 99)):
        rsp = await udp.exchange(header(0, 1, 1, group, 1, cmd) + b"\xa0")
        assert decode_message(rsp).body == {"rc": 8}


async def test_v1_translates_group_errors(udp: UDPPeer) -> None:
    body = cbor2.dumps({"format": "q"})
    rsp = await udp.exchange(header(0, 1, len(body), 0, 1, 7) + body)
    assert decode_message(rsp).body == {"err": {"group": 0, "rc": 2}}
    assert rsp[8:] == bytes.fromhex("bf63657272bf6567726f7570006272630 2ffff".replace(" ", ""))
    rsp = await udp.exchange(header(0, 0, len(body), 0, 2, 7) + body)
    assert rsp[0] == 0x01 and decode_message(rsp).body == {"rc": 3}
    body = cbor2.dumps({"index": 50})
    rsp = await udp.exchange(header(0, 0, len(body), 10, 3, 2) + body)
    assert decode_message(rsp).body == {"rc": 1}


async def test_udp_datagrams_over_1500_bytes_are_truncated_to_rc9(udp: UDPPeer) -> None:
    rsp = await udp.exchange(encode_request(Echo(d="A" * 1486), 1))  # 1500 bytes in all
    assert decode_message(rsp).body == {"r": "A" * 1486}
    rsp = await udp.exchange(encode_request(Echo(d="A" * 1487), 2))
    assert decode_message(rsp).body == {"rc": 9}


async def test_responses_over_buf_size_become_rc7() -> None:
    async with Simulator(SimulatorConfig(buf_size=256)) as sim:
        server = await sim.serve_udp("127.0.0.1", 0)
        peer = UDPPeer("127.0.0.1", server.port)
        rsp = await peer.exchange(encode_request(Echo(d="x" * 300), 1))
        assert decode_message(rsp).body == {"rc": 7}
        peer.close()


async def test_ipv6_loopback() -> None:
    async with Simulator() as sim:
        server = await sim.serve_udp("::1", 0)
        assert server.url.startswith("udp://[::1]:")
        peer = UDPPeer("::1", server.port)
        assert decode_message(await peer.exchange(encode_request(McumgrParams(), 1))).body["buf_count"] == 4
        peer.close()


async def test_at_most_buf_count_requests_are_held_and_answers_keep_order() -> None:
    # A slow link keeps long answers in the device's buffers, so back-to-back requests find none free.
    faults = Faults(bandwidth=2000)
    async with Simulator(SimulatorConfig(buf_count=2), faults=faults) as sim:
        server = await sim.serve_udp("127.0.0.1", 0)
        peer = UDPPeer("127.0.0.1", server.port)
        for seq in range(8):
            await peer.send(encode_request(TaskStat(), seq))
        answers = [decode_message(r).header.sequence for r in await peer.recv_all(0.5)]
        assert answers[:2] == [0, 1]
        assert 2 <= len(answers) < 8
        assert answers == sorted(answers)
        assert sim.sessions[0].dropped_full == 8 - len(answers)
        peer.close()


async def test_records_log_every_request(sim: Simulator, udp: UDPPeer) -> None:
    await udp.exchange(encode_request(Echo(d="x"), 42))
    await asyncio.sleep(0)
    record = sim.records[-1]
    assert (record.group, record.command, record.sequence, record.result) == (0, 0, 42, "ok")
    assert "Echo" in record.describe() and "seq=42" in record.describe()
