"""Loss, lateness, duplicates, resets and silence, injected exactly by the fake device."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from smpkit import SMPClient
from smpkit.client.client import DEFAULT_BUF_COUNT, DEFAULT_BUF_SIZE
from smpkit.protocol.errors import SMPMgmtError
from smpkit.protocol.groups.os import Echo
from smpkit.transport.errors import (
    SMPRequestLost,
    SMPTransportDisconnected,
    SMPTransportTimeout,
    SMPUnreadableResponse,
)

from .fakedev import FakePtyDevice, FakeUDPDevice


def echo_of(text: str) -> Any:
    return lambda header, body: (header.group, header.command) == (0, 0) and body.get("d") == text


async def test_many_tasks_share_one_client(udp_device: FakeUDPDevice) -> None:
    async with SMPClient(udp_device.url) as client:  # type: ignore[attr-defined]
        texts = [f"task-{i}" for i in range(300)]  # more than 256: sequence numbers wrap
        results = await asyncio.gather(*(client.os.echo(t) for t in texts))
        assert results == texts
        seqs = [h.sequence for h in udp_device.requests]
        assert max(seqs) == 255 and seqs.count(0) >= 2
        assert client.window.safe == 3 and client.window.size in (3, 4)  # buf_count 4: safe 3, probe 4
        assert client.stats.lost == 0 and client.stats.timeouts == 0


async def test_lost_response_is_retried(udp_device: FakeUDPDevice) -> None:
    udp_device.faults.drop.append(echo_of("lost"))
    async with SMPClient(udp_device.url, timeout=0.3) as client:  # type: ignore[attr-defined]
        assert await client.os.echo("lost") == "lost"
        sent = [h for h in udp_device.requests if h.group == 0 and h.command == 0]
        assert len(sent) == 2 and sent[0].sequence != sent[1].sequence
        assert client.stats.timeouts == 1


async def test_late_response_is_ignored(udp_device: FakeUDPDevice) -> None:
    udp_device.faults.delay.append((echo_of("slow"), 0.5))
    async with SMPClient(udp_device.url, timeout=0.2) as client:  # type: ignore[attr-defined]
        assert await client.os.echo("slow") == "slow"  # answered by the retry
        await asyncio.sleep(0.5)  # the late answer to the first attempt arrives now
        assert await client.os.echo("next") == "next"
        assert client.stats.dropped >= 1


async def test_duplicate_responses_do_not_shift_later_ones(udp_device: FakeUDPDevice) -> None:
    udp_device.faults.once = False
    udp_device.faults.duplicate.append(lambda header, body: True)
    async with SMPClient(udp_device.url) as client:  # type: ignore[attr-defined]
        for i in range(20):
            assert await client.os.echo(f"d{i}") == f"d{i}"
        results = await asyncio.gather(*(client.os.echo(f"c{i}") for i in range(20)))
        assert results == [f"c{i}" for i in range(20)]
        assert client.stats.dropped >= 20


async def test_overtaken_request_is_lost_at_once(udp_device: FakeUDPDevice) -> None:
    """The device answers in order: a later answer proves an earlier request was dropped."""
    udp_device.faults.drop.append(echo_of("dropped"))
    async with SMPClient(udp_device.url, timeout=30.0, window=4) as client:  # type: ignore[attr-defined]
        loop = asyncio.get_running_loop()
        started = loop.time()
        results = await asyncio.gather(client.os.echo("dropped"), client.os.echo("after"))
        assert results == ["dropped", "after"]
        assert client.stats.lost == 1 and client.stats.timeouts == 0
        assert loop.time() - started < 30.0  # (not a timing assertion: the timeout was never reached)


async def test_overtaken_non_retriable_request_raises_lost(udp_device: FakeUDPDevice) -> None:
    udp_device.faults.drop.append(lambda header, body: header.group == 9)
    async with SMPClient(udp_device.url, timeout=30.0, window=4) as client:  # type: ignore[attr-defined]
        shell = asyncio.create_task(client.shell.exec(["reboot"]))
        await asyncio.sleep(0)
        assert await client.os.echo("x") == "x"
        with pytest.raises(SMPRequestLost):
            await shell
        assert udp_device.count(9, 0) == 0  # the handlers never ran it


async def test_non_retriable_request_is_not_resent(udp_device: FakeUDPDevice) -> None:
    udp_device.faults.drop.append(lambda header, body: header.group == 63)
    async with SMPClient(udp_device.url, timeout=0.2) as client:  # type: ignore[attr-defined]
        with pytest.raises(SMPTransportTimeout):
            await client.zephyr.storage_erase()
        assert sum(1 for h in udp_device.requests if h.group == 63) == 1


async def test_enomem_shrinks_the_window_and_retries(udp_device: FakeUDPDevice) -> None:
    original = udp_device.on_message
    answered: list[int] = []

    def enomem_first(data: bytes, reply: Any) -> None:
        from smpkit.protocol.codec import decode_message, encode_message
        from smpkit.protocol.header import Header

        header = decode_message(data).header
        if header.group == 0 and header.command == 0 and not answered:
            answered.append(header.sequence)
            out = Header(3, 1, 0, 0, 0, header.sequence, 0)
            reply(encode_message(out, {"rc": 2}))
            return
        original(data, reply)

    udp_device.on_message = enomem_first  # type: ignore[method-assign]
    async with SMPClient(udp_device.url) as client:  # type: ignore[attr-defined]
        assert client.window.size == 3
        assert await client.os.echo("x") == "x"
        assert client.window.shrinks == 1 and client.window.size < 3  # halved, then one success
        for _ in range(10):
            await client.os.echo("grow")
        assert client.window.size >= 3


async def test_enomem_raises_when_retries_run_out(udp_device: FakeUDPDevice) -> None:
    def always_enomem(data: bytes, reply: Any) -> None:
        from smpkit.protocol.codec import decode_message, encode_message
        from smpkit.protocol.header import Header

        header = decode_message(data).header
        reply(
            encode_message(
                Header(3 if header.op == 2 else 1, 1, 0, 0, header.group, header.sequence, header.command), {"rc": 2}
            )
        )

    udp_device.on_message = always_enomem  # type: ignore[method-assign]
    async with SMPClient(udp_device.url, retries=2) as client:  # type: ignore[attr-defined]
        with pytest.raises(SMPMgmtError) as info:
            await client.os.echo("x")
        assert info.value.rc == 2


@pytest.mark.parametrize("mode", ["rc8", "silent"])
async def test_device_without_params_gets_defaults(udp_device: FakeUDPDevice, mode: str) -> None:
    udp_device.knobs.params = mode
    async with SMPClient(udp_device.url, params_timeout=0.2) as client:  # type: ignore[attr-defined]
        assert not client.params_known
        assert (client.buf_size, client.buf_count) == (DEFAULT_BUF_SIZE, DEFAULT_BUF_COUNT)
        assert client.window.size == 1
        assert client.max_request_size == DEFAULT_BUF_SIZE
        assert await client.os.echo("still works") == "still works"


async def test_silent_device_times_out(udp_device: FakeUDPDevice) -> None:
    udp_device.faults.silent = True
    async with SMPClient(udp_device.url, timeout=0.1, retries=1, params_timeout=0.1) as client:  # type: ignore[attr-defined]
        with pytest.raises(SMPTransportTimeout) as info:
            await client.os.echo("anyone?")
        assert not isinstance(info.value, SMPUnreadableResponse)


async def test_device_reset_and_reconnect_udp(udp_device: FakeUDPDevice) -> None:
    async with SMPClient(udp_device.url, timeout=0.2) as client:  # type: ignore[attr-defined]
        await client.os.reset()
        udp_device.faults.silent = True  # rebooting
        asyncio.get_running_loop().call_later(0.5, setattr, udp_device.faults, "silent", False)
        udp_device.set_buf_count(6)  # the new firmware has more buffers
        await client.reconnect(timeout_s=5.0)
        assert client.buf_count == 6 and client.window.safe == 5 and client.window.maximum == 6
        assert await client.os.echo("back") == "back"


async def test_reconnect_deadline(udp_device: FakeUDPDevice) -> None:
    udp_device.faults.silent = True
    async with SMPClient(udp_device.url, timeout=0.1, params_timeout=0.1) as client:  # type: ignore[attr-defined]
        with pytest.raises(SMPTransportDisconnected):
            await client.reconnect(timeout_s=0.5)


async def test_ipv6_loopback() -> None:
    device = FakeUDPDevice()
    try:
        url = await device.start("::1")
    except OSError:
        pytest.skip("no IPv6 loopback here")
    try:
        assert url.startswith("udp://[::1]:")
        async with SMPClient(url) as client:
            assert await client.os.echo("v6") == "v6"
    finally:
        await device.close()


async def test_request_on_closed_client_raises(udp_device: FakeUDPDevice) -> None:
    client = SMPClient(udp_device.url)  # type: ignore[attr-defined]
    async with client:
        pass
    with pytest.raises(SMPTransportDisconnected):
        await client.request(Echo(d="x"))


async def test_serial_replug_after_reset(pty_device: FakePtyDevice) -> None:
    async with SMPClient(pty_device.url + "?line_delay_ms=0", timeout=0.5) as client:  # type: ignore[attr-defined]
        assert await client.os.echo("before") == "before"
        await client.os.reset()
        pty_device.unplug()  # USB CDC device disappears while the board reboots
        asyncio.get_running_loop().call_later(0.3, pty_device.replug)
        await client.reconnect(timeout_s=5.0)
        assert await client.os.echo("after") == "after"


async def test_serial_request_survives_replug(pty_device: FakePtyDevice) -> None:
    """A retriable request whose link drops reopens the port within its own deadline."""
    async with SMPClient(pty_device.url + "?line_delay_ms=0", timeout=1.0) as client:  # type: ignore[attr-defined]
        pty_device.faults.drop.append(echo_of("during"))
        task = asyncio.create_task(client.os.echo("during"))
        await asyncio.sleep(0.1)
        pty_device.unplug()
        asyncio.get_running_loop().call_later(0.2, pty_device.replug)
        assert await task == "during"


async def test_serial_garbage_is_told_apart_from_silence(pty_device: FakePtyDevice) -> None:
    url = pty_device.url + "?line_delay_ms=0"  # type: ignore[attr-defined]
    async with SMPClient(url, timeout=0.2, retries=0, params_timeout=0.2) as client:
        pty_device.faults.garbage = True
        with pytest.raises(SMPUnreadableResponse):
            await client.os.echo("x")
        pty_device.faults.garbage = False
        pty_device.faults.silent = True
        with pytest.raises(SMPTransportTimeout) as info:
            await client.os.echo("x")
        assert not isinstance(info.value, SMPUnreadableResponse)


async def test_udp_fault_tests_run_on_virtual_time(udp_device: FakeUDPDevice) -> None:
    """(conftest.py) a timeout here is a timer on a virtual clock: exact however loaded the machine is."""
    from vtime import VirtualTimeLoop

    assert isinstance(asyncio.get_running_loop(), VirtualTimeLoop)
    async with SMPClient(udp_device.url, timeout=5.0, retries=2) as client:  # type: ignore[attr-defined]
        await client.os.echo("hello")
        udp_device.faults.silent = True
        before, started = client.stats.timeouts, asyncio.get_running_loop().time()
        with pytest.raises(SMPTransportTimeout):
            await client.os.echo("never")
        assert client.stats.timeouts - before == 3  # the first try and two retries
        assert asyncio.get_running_loop().time() - started == pytest.approx(15.0, abs=0.5)  # 3 x 5 s, virtual
    assert sum(1 for h in udp_device.requests if (h.group, h.command) == (0, 0)) == 4


async def test_an_error_inside_the_fake_device_fails_the_test(udp_device: FakeUDPDevice) -> None:
    """The double's own exceptions are kept and re-raised by the fixture, not lost in a callback."""
    async with SMPClient(udp_device.url, timeout=0.5, retries=0) as client:  # type: ignore[attr-defined]
        udp_device.faults.drop.append(lambda header, body: 1 // 0 == 0)  # the rule itself raises
        with pytest.raises(SMPTransportTimeout):
            await client.os.echo("x")
    with pytest.raises(AssertionError, match="failed 1 time"):
        udp_device.check()
    assert isinstance(udp_device.errors[0], ZeroDivisionError)
    udp_device.errors.clear()
