"""Every typed method of every group, over UDP and over a pty, against the fake device.

The fake answers with the simulator's handlers (default profile): the expected values are
read from the simulator's state, not restated here.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import zlib
from pathlib import Path
from typing import Any

import pytest

from smpkit import SMPClient
from smpkit.image import parse_image
from smpkit.image.build import make_image, make_test_body
from smpkit.protocol.errors import SMPGroupError, SMPMgmtError
from smpkit.protocol.groups.os import EchoResponse
from smpkit.protocol.groups.user import RawRequest, RawResponse
from smpkit.protocol.header import Op

from .fakedev import FakeDevice


@pytest.fixture(params=["udp", "pty"])
def device(request: pytest.FixtureRequest) -> Any:
    return request.getfixturevalue(f"{request.param}_device")


def _url(device: Any) -> str:
    url: str = device.url
    return url + "?line_delay_ms=0" if url.startswith("serial") else url


async def test_os_group(device: FakeDevice) -> None:
    async with SMPClient(_url(device)) as client:
        assert client.params_known and (client.buf_size, client.buf_count) == (2048, 4)
        assert await client.os.echo("hi") == "hi"
        tasks = (await client.os.taskstat()).tasks
        assert tasks and all(t.stksiz >= t.stkuse for t in tasks.values())
        assert {name: t.prio for name, t in tasks.items()} == {t.name: t.prio for t in device.sim.profile.threads}
        pools = (await client.os.mpstat()).mpools
        assert pools and all(0 <= p.nfree <= p.nblks for p in pools.values())
        with pytest.raises(SMPGroupError) as info:
            await client.os.datetime()  # a fresh device's RTC is not set
        assert info.value.name == "OS.RTC_NOT_SET"
        await client.os.set_datetime(dt.datetime(2025, 5, 6, 7, 8, 9, 120000))
        assert (await client.os.datetime()).startswith("2025-05-06T07:08:09")
        params = await client.os.params()
        assert (params.buf_size, params.buf_count) == (2048, 4)
        assert await client.os.info() == "Zephyr"
        assert await client.os.info("sv") == "Zephyr 4.4.0"
        with pytest.raises(SMPGroupError) as info:
            await client.os.info("q")
        assert info.value.name == "OS.INVALID_FORMAT"
        assert (await client.os.bootloader_info()).bootloader == "MCUboot"
        assert isinstance((await client.os.bootloader_info("mode")).mode, int)
        await client.os.reset(force=True)
        assert device.count(0, 5) == 1


async def test_image_group(device: FakeDevice) -> None:
    image = make_image(make_test_body(3000, seed=3), (1, 1, 0, 0))
    digest = parse_image(image).hash
    assert digest is not None
    async with SMPClient(_url(device)) as client:
        state = await client.image.state()
        assert state.images[0].active and state.images[0].confirmed
        await client.image.erase()
        await client.image.erase(slot=1)
        info = await client.image.slot_info()
        assert info.images[0].slots[1].upload_image_id == 0
        first = await client.image.upload_chunk(0, image[:1024], len=len(image), sha=hashlib.sha256(image).digest())
        assert first.off == 1024
        assert (await client.image.upload_chunk(5, image[5:13])).off == 1024  # wrong offset: device says where
        for off in range(1024, len(image), 1024):
            assert (await client.image.upload_chunk(off, image[off : off + 1024])).off == min(off + 1024, len(image))
        state = await client.image.test(digest)
        assert state.images[1].hash == digest and state.images[1].pending
        with pytest.raises(SMPGroupError) as refused:
            await client.image.confirm()  # confirming the running image while a test is pending
        assert refused.value.name == "IMAGE.IMAGE_ALREADY_PENDING"
        state = await client.image.confirm(digest)
        assert state.images[1].hash == digest and state.images[1].permanent


async def test_stat_settings_groups(device: FakeDevice) -> None:
    async with SMPClient(_url(device)) as client:
        groups = await client.stat.list()
        assert "smp_svr_stats" in groups
        fields = (await client.stat.show("smp_svr_stats")).fields
        assert fields and all(isinstance(v, int) for v in fields.values())
        with pytest.raises(SMPGroupError):
            await client.stat.show("nope")
        device.sim.device.settings["app/name"] = b"fake"
        assert await client.settings.read("app/name") == b"fake"
        await client.settings.write("app/x", b"\x01\x02")
        assert await client.settings.read("app/x") == b"\x01\x02"
        await client.settings.delete("app/x")
        with pytest.raises(SMPGroupError) as info:
            await client.settings.read("app/x")
        assert info.value.name == "SETTINGS.KEY_NOT_FOUND" or info.value.rc == 3
        await client.settings.commit()
        await client.settings.load()
        await client.settings.save()


def _device_file(device: FakeDevice, name: str) -> Path:
    path = device.sim.device.fs_path(name)
    assert path is not None
    return Path(path)


async def test_fs_group(device: FakeDevice) -> None:
    original = b"hello world\n" * 400
    _device_file(device, "/lfs1/hello.txt").write_bytes(original)
    async with SMPClient(_url(device)) as client:
        assert await client.fs.status("/lfs1/hello.txt") == len(original)
        assert (await client.fs.hash("/lfs1/hello.txt", "sha256")).output == hashlib.sha256(original).digest()
        assert (await client.fs.hash("/lfs1/hello.txt")).output == zlib.crc32(original)  # Zephyr's default
        assert set(await client.fs.hash_types()) == {"sha256", "crc32"}
        chunk = await client.fs.download_chunk("/lfs1/hello.txt", 0)
        assert chunk.len == len(original) and original.startswith(chunk.data) and chunk.data
        assert await client.fs.download("/lfs1/hello.txt") == original
        payload = bytes(range(256)) * 20  # several chunks at buf_size 2048
        await client.fs.upload("/lfs1/new.bin", payload)
        assert _device_file(device, "/lfs1/new.bin").read_bytes() == payload
        assert (await client.fs.upload_chunk("/lfs1/new.bin", 0, b"ab", len=2)).off == 2
        await client.fs.close()
        with pytest.raises(SMPGroupError):
            await client.fs.status("/lfs1/missing")


async def test_shell_enum_zephyr_and_raw(device: FakeDevice) -> None:
    async with SMPClient(_url(device)) as client:
        result = await client.shell.exec(["kernel", "version"])
        assert "Zephyr version 4.4.0" in result.o and result.ret == 0
        groups = list(device.sim.profile.groups)
        assert await client.enum.count() == len(groups)
        assert await client.enum.list() == groups
        assert (await client.enum.single(len(groups) - 1)).end
        assert (await client.enum.single()).group == groups[0]
        assert [d.group for d in await client.enum.details()] == groups
        await client.zephyr.storage_erase()
        assert device.count(63, 0) == 1
        raw = await client.request(RawRequest(group=0, command=0, op=Op.WRITE, body={"d": "raw"}))
        assert raw == RawResponse({"r": "raw"})
        with pytest.raises(SMPMgmtError) as info:
            await client.request(RawRequest(group=77, command=1, op=Op.READ))
        assert info.value.rc == 8


async def test_explicit_transport_and_repr(udp_device: FakeDevice) -> None:
    from smpkit.transport.udp import SMPUDPTransport

    address = udp_device.url.removeprefix("udp://")  # type: ignore[attr-defined]
    async with SMPClient(SMPUDPTransport(), address, timeout=1.0) as client:
        assert await client.request(__import__("smpkit.protocol.groups.os", fromlist=["Echo"]).Echo(d="x")) == (
            EchoResponse("x")
        )
        assert "udp://" in repr(client)
        assert client.max_request_size == 1500  # the UDP datagram limit wins over buf_size 2048
