"""The client against smpkit's simulator, over UDP and over a real pty: every typed method, faults, reset."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
from collections.abc import AsyncIterator

import pytest

from smpkit import SMPClient
from smpkit.protocol.errors import SMPGroupError
from smpkit.simulator import Faults, Simulator, SimulatorConfig
from smpkit.simulator.config import DeviceProfile


async def _serve(sim: Simulator, kind: str) -> str:
    if kind == "udp":
        return (await sim.serve_udp("127.0.0.1", 0)).url
    url = (await sim.serve_serial_pty()).url
    return url + ("&" if "?" in url else "?") + "line_delay_ms=0"


@pytest.fixture(params=["udp", "pty"])
async def sim_url(request: pytest.FixtureRequest) -> AsyncIterator[tuple[Simulator, str]]:
    async with Simulator(SimulatorConfig(reset_delay_s=0.05)) as sim:
        yield sim, await _serve(sim, request.param)


async def test_every_typed_method(sim_url: tuple[Simulator, str]) -> None:
    _, url = sim_url
    async with SMPClient(url) as client:
        assert client.params_known and (client.buf_size, client.buf_count) == (2048, 4)
        assert await client.os.echo("hello") == "hello"
        assert "sysworkq" in (await client.os.taskstat()).tasks
        assert (await client.os.mpstat()).mpools
        with pytest.raises(SMPGroupError) as info:
            await client.os.datetime()
        assert info.value.name == "OS.RTC_NOT_SET"
        await client.os.set_datetime(dt.datetime(2025, 1, 2, 3, 4, 5))
        assert (await client.os.datetime()).startswith("2025-01-02T03:04:05")
        assert (await client.os.params()).buf_count == 4
        assert await client.os.info("sv") == "Zephyr 4.4.0"
        assert (await client.os.bootloader_info()).bootloader == "MCUboot"
        assert (await client.os.bootloader_info("mode")).mode is not None

        state = await client.image.state()
        running = state.images[0]
        assert running.active and running.hash is not None
        await client.image.confirm()
        with pytest.raises(SMPGroupError):
            await client.image.test(hashlib.sha256(b"no such image").digest())
        await client.image.erase()
        assert (await client.image.slot_info()).images[0].slots[1].size
        with pytest.raises(SMPGroupError):  # not an MCUboot image: bad magic
            await client.image.upload_chunk(0, bytes(64), len=64)

        names = await client.stat.list()
        assert (await client.stat.show(names[0])).name == names[0]

        await client.settings.write("app/color", b"blue")
        assert await client.settings.read("app/color") == b"blue"
        await client.settings.delete("app/color")
        with pytest.raises(SMPGroupError):
            await client.settings.read("app/color")
        await client.settings.commit()
        await client.settings.load()
        await client.settings.save()

        payload = bytes(range(256)) * 30
        await client.fs.upload("/lfs1/data.bin", payload)
        assert await client.fs.status("/lfs1/data.bin") == len(payload)
        assert await client.fs.download("/lfs1/data.bin") == payload
        digest = await client.fs.hash("/lfs1/data.bin", "sha256")
        assert digest.output == hashlib.sha256(payload).digest()
        assert "crc32" in await client.fs.hash_types()
        assert (await client.fs.download_chunk("/lfs1/data.bin", 0)).len == len(payload)
        assert (await client.fs.upload_chunk("/lfs1/small", 0, b"xy", len=2)).off == 2
        await client.fs.close()

        assert "Zephyr version" in (await client.shell.exec(["kernel", "version"])).o
        groups = await client.enum.list()
        assert await client.enum.count() == len(groups)
        assert (await client.enum.single(0)).group == groups[0]
        assert {d.group for d in await client.enum.details()} == set(groups)
        await client.zephyr.storage_erase()


async def test_concurrency_from_many_tasks(sim_url: tuple[Simulator, str]) -> None:
    _, url = sim_url
    async with SMPClient(url) as client:
        texts = [f"t{i}-" + "x" * (i % 50) for i in range(120)]
        assert await asyncio.gather(*(client.os.echo(t) for t in texts)) == texts
        assert client.stats.timeouts == 0


async def test_reset_and_reconnect(sim_url: tuple[Simulator, str]) -> None:
    sim, url = sim_url
    async with SMPClient(url, timeout=0.3) as client:
        await client.os.reset()
        await asyncio.sleep(0.06)  # reset_delay_s: the device is rebooting now
        await client.reconnect(timeout_s=10.0)
        assert sim.device.online
        assert await client.os.echo("back") == "back"


async def test_loss_and_duplicates_over_udp() -> None:
    faults = Faults(loss=0.2, duplicate=0.3, seed=7)
    async with Simulator(SimulatorConfig(), faults=faults) as sim:
        url = await _serve(sim, "udp")
        async with SMPClient(url, timeout=0.2, retries=8) as client:
            texts = [f"m{i}" for i in range(60)]
            assert await asyncio.gather(*(client.os.echo(t) for t in texts)) == texts
            for t in texts[:20]:
                assert await client.os.echo(t) == t
            assert client.stats.dropped > 0  # duplicates were seen and ignored
            assert client.stats.lost + client.stats.timeouts > 0  # losses were seen and retried


async def test_device_without_params_command() -> None:
    profile = DeviceProfile(absent_commands=frozenset({(0, 1), (0, 6)}))
    async with Simulator(SimulatorConfig(profile=profile)) as sim:
        url = await _serve(sim, "udp")
        async with SMPClient(url) as client:
            assert not client.params_known and client.window.size == 1
            assert await client.os.echo("ok") == "ok"
