"""Every typed method of every group, over UDP and over a pty, against the fake device."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

import pytest

from smpkit import SMPClient
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
        assert (await client.os.taskstat()).tasks["main"].stksiz == 1024
        assert (await client.os.mpstat()).mpools["heap"].nfree == 20
        assert await client.os.datetime() == "2024-01-01T00:00:00"
        await client.os.set_datetime(dt.datetime(2025, 5, 6, 7, 8, 9, 120000))
        assert device.state.datetime == "2025-05-06T07:08:09.120"
        assert await client.os.datetime() == "2025-05-06T07:08:09.120"
        params = await client.os.params()
        assert (params.buf_size, params.buf_count) == (2048, 4)
        assert await client.os.info() == "Zephyr"
        assert await client.os.info("sv") == "Zephyr 4.4.0"
        with pytest.raises(SMPGroupError) as info:
            await client.os.info("q")
        assert info.value.name == "OS.INVALID_FORMAT"
        assert (await client.os.bootloader_info()).bootloader == "MCUboot"
        assert (await client.os.bootloader_info("mode")).mode == 1
        await client.os.reset(force=True)
        assert device.state.resets == 1


async def test_image_group(device: FakeDevice) -> None:
    digest = hashlib.sha256(b"new").digest()
    async with SMPClient(_url(device)) as client:
        state = await client.image.state()
        assert state.images[0].active and state.images[0].confirmed
        state = await client.image.test(digest)
        assert state.images[1].hash == digest and state.images[1].pending
        await client.image.confirm()
        assert device.state.confirmed
        await client.image.erase()
        await client.image.erase(slot=1)
        info = await client.image.slot_info()
        assert info.images[0].slots[1].upload_image_id == 0
        first = await client.image.upload_chunk(0, b"\x3d\xb8\xf3\x96" + bytes(60), len=128, sha=digest)
        assert first.off == 64
        assert (await client.image.upload_chunk(64, bytes(64))).off == 128
        assert (await client.image.upload_chunk(0 + 5, bytes(8))).off == 128  # wrong offset: device says where


async def test_stat_settings_groups(device: FakeDevice) -> None:
    async with SMPClient(_url(device)) as client:
        assert await client.stat.list() == ["smp_svr_stats"]
        assert (await client.stat.show("smp_svr_stats")).fields == {"ticks": 42}
        with pytest.raises(SMPGroupError):
            await client.stat.show("nope")
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


async def test_fs_group(device: FakeDevice) -> None:
    async with SMPClient(_url(device)) as client:
        original = device.state.files["/lfs/hello.txt"]
        assert await client.fs.status("/lfs/hello.txt") == len(original)
        assert (await client.fs.hash("/lfs/hello.txt")).output == hashlib.sha256(original).digest()
        assert set(await client.fs.hash_types()) == {"sha256", "crc32"}
        chunk = await client.fs.download_chunk("/lfs/hello.txt", 0)
        assert chunk.len == len(original) and chunk.data == original[:100]
        assert await client.fs.download("/lfs/hello.txt") == original
        payload = bytes(range(256)) * 20  # several chunks at buf_size 2048
        await client.fs.upload("/lfs/new.bin", payload)
        assert device.state.files["/lfs/new.bin"] == payload
        assert (await client.fs.upload_chunk("/lfs/new.bin", 0, b"ab", len=2)).off == 2
        await client.fs.close()
        with pytest.raises(SMPGroupError):
            await client.fs.status("/lfs/missing")


async def test_shell_enum_zephyr_and_raw(device: FakeDevice) -> None:
    async with SMPClient(_url(device)) as client:
        result = await client.shell.exec(["kernel", "version"])
        assert (result.o, result.ret) == ("kernel version", 0)
        assert (await client.shell.exec("a b")).o == "a b"
        assert await client.enum.count() == 4
        assert await client.enum.list() == [0, 1, 8, 10]
        assert (await client.enum.single(3)).end
        assert (await client.enum.single()).group == 0
        assert (await client.enum.details())[0].name == "os"
        await client.zephyr.storage_erase()
        assert device.state.storage_erased == 1
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
