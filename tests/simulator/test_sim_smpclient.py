"""An independent client (PyPI smpclient) against the simulator, over UDP and a real pty."""

from __future__ import annotations

import asyncio
import hashlib
import zlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
from smpclient import SMPClient
from smpclient.generics import error, success
from smpclient.requests.enumeration_management import CountSupportedGroups, GroupDetails, GroupId, ListSupportedGroups
from smpclient.requests.file_management import FileHashChecksum, FileStatus, SupportedFileHashChecksumTypes
from smpclient.requests.image_management import ImageErase, ImageStatesRead, ImageStatesWrite
from smpclient.requests.os_management import EchoWrite, MCUMgrParametersRead, OSApplicationInfoRead, ResetWrite
from smpclient.requests.settings_management import ReadSetting, SaveSettings, WriteSetting
from smpclient.requests.shell_management import Execute
from smpclient.requests.statistics_management import GroupData, ListOfGroups
from smpclient.requests.zephyr_management import EraseStorage
from smpclient.transport.serial import SMPSerialTransport
from smpclient.transport.udp import SMPUDPTransport

from smpkit.simulator import Simulator

from .conftest import make_image


class _UDP(SMPUDPTransport):
    """smpclient's UDP transport always connects to port 1337 unless told otherwise."""

    def __init__(self, port: int) -> None:
        super().__init__()
        self._port = port

    async def connect(self, address: str, timeout_s: float, port: int = 1337) -> None:
        await super().connect(address, timeout_s, port=self._port)


@pytest.fixture
async def client(sim: Simulator) -> AsyncIterator[SMPClient]:
    server = await sim.serve_udp("127.0.0.1", 0)
    async with SMPClient(_UDP(server.port), "127.0.0.1", timeout_s=3.0) as smp:  # type: ignore[attr-defined]
        yield smp


async def ok(client: SMPClient, request: Any) -> Any:
    response = await client.request(request)
    assert success(response), response
    return response


async def test_echo_params_info(client: SMPClient) -> None:
    assert (await ok(client, EchoWrite(d="hello"))).r == "hello"
    params = await ok(client, MCUMgrParametersRead())
    assert (params.buf_size, params.buf_count) == (2048, 4)
    assert (await ok(client, OSApplicationInfoRead(format="sv"))).output == "Zephyr 4.4.0"


async def _upload(client: SMPClient, image: bytes) -> list[int]:
    return [off async for off in client.upload(image)]


async def test_image_upload_test_reset_confirm(sim: Simulator, client: SMPClient, tmp_path: Any) -> None:
    image = make_image(tmp_path, "1.2.3")
    offsets = await _upload(client, image)
    assert offsets[-1] == len(image)
    assert bytes(sim.device.images[0].secondary.data) == image

    state = await ok(client, ImageStatesRead())
    new = state.images[1]
    tlv_hash = sim.device.images[0].secondary.hash
    assert (new.slot, new.version, new.hash, new.pending, new.confirmed) == (1, "1.2.3", tlv_hash, False, False)
    assert hashlib.sha256(image[: 0x200 + 20000]).digest() == tlv_hash  # imgtool's SHA-256 TLV

    state = await ok(client, ImageStatesWrite(hash=tlv_hash, confirm=False))
    assert state.images[1].pending is True and state.images[1].permanent is False
    rsp = await client.request(ImageErase(slot=1))
    assert error(rsp) and rsp.err.rc == 9  # NO_FREE_SLOT while slot 1 is pending

    await ok(client, ResetWrite())
    await asyncio.sleep(0.05)
    await sim.wait_online()
    state = await ok(client, ImageStatesRead())
    running, old = state.images
    assert (running.version, running.active, running.confirmed) == ("1.2.3", True, False)
    assert (old.version, old.confirmed) == ("1.0.0", True)

    state = await ok(client, ImageStatesWrite(confirm=True))
    assert state.images[0].confirmed is True and state.images[1].confirmed is False
    await ok(client, ImageErase(slot=1))
    assert len((await ok(client, ImageStatesRead())).images) == 1


async def test_reset_without_confirm_reverts(sim: Simulator, client: SMPClient, tmp_path: Any) -> None:
    image = make_image(tmp_path, "2.0.0")
    await _upload(client, image)
    digest = sim.device.images[0].secondary.hash
    await ok(client, ImageStatesWrite(hash=digest, confirm=False))
    for expected in ("2.0.0", "1.0.0"):
        await ok(client, ResetWrite())
        await asyncio.sleep(0.05)
        await sim.wait_online()
        assert (await ok(client, ImageStatesRead())).images[0].version == expected


async def test_confirm_by_hash_makes_it_permanent(sim: Simulator, client: SMPClient, tmp_path: Any) -> None:
    await _upload(client, make_image(tmp_path, "1.5.0"))
    digest = sim.device.images[0].secondary.hash
    state = await ok(client, ImageStatesWrite(hash=digest, confirm=True))
    assert state.images[1].pending and state.images[1].permanent
    await ok(client, ResetWrite())
    await asyncio.sleep(0.05)
    await sim.wait_online()
    state = await ok(client, ImageStatesRead())
    assert (state.images[0].version, state.images[0].confirmed) == ("1.5.0", True)


async def test_stat(client: SMPClient) -> None:
    groups = list((await ok(client, ListOfGroups())).stat_list)
    assert groups == ["smp_svr_stats", "smp_sim_stats"]
    first = (await ok(client, GroupData(name="smp_sim_stats"))).fields["rx"]
    second = (await ok(client, GroupData(name="smp_sim_stats"))).fields["rx"]
    assert second > first
    rsp = await client.request(GroupData(name="nope"))
    assert error(rsp) and (rsp.err.group, rsp.err.rc) == (2, 3)


async def test_settings_and_storage_erase(sim: Simulator, client: SMPClient) -> None:
    await ok(client, WriteSetting(name="app/name", val=b"\x01\x02\x03"))
    assert (await ok(client, ReadSetting(name="app/name"))).val == b"\x01\x02\x03"
    assert (await ok(client, ReadSetting(name="app/name", max_size=2))).val == b"\x01\x02"
    await ok(client, SaveSettings())
    assert sim.device.settings_saved == {"app/name": b"\x01\x02\x03"}
    await ok(client, EraseStorage())
    assert sim.device.settings_saved == {}
    await ok(client, ResetWrite())
    await asyncio.sleep(0.05)
    await sim.wait_online()
    rsp = await client.request(ReadSetting(name="app/name"))
    assert error(rsp) and rsp.err.rc == 3


async def test_fs_upload_download_hash(sim: Simulator, client: SMPClient) -> None:
    data = bytes(range(256)) * 20
    offsets = [off async for off in client.upload_file(data, "/lfs1/data.bin")]
    assert offsets[-1] == len(data)
    assert (sim.device.fs_root / "data.bin").read_bytes() == data
    assert await client.download_file("/lfs1/data.bin") == data
    assert (await ok(client, FileStatus(name="/lfs1/data.bin"))).len == len(data)
    crc = await ok(client, FileHashChecksum(name="/lfs1/data.bin"))
    assert (crc.type, crc.output, crc.len) == ("crc32", zlib.crc32(data), len(data))
    sha = await ok(client, FileHashChecksum(name="/lfs1/data.bin", type="sha256", off=10, len=100))
    assert sha.output == hashlib.sha256(data[10:110]).digest() and sha.off == 10
    types = await ok(client, SupportedFileHashChecksumTypes())
    assert set(types.types) == {"crc32", "sha256"}


async def test_shell(client: SMPClient) -> None:
    rsp = await ok(client, Execute(argv=["kernel", "uptime"]))
    assert rsp.o.startswith("\r\nUptime: ") and rsp.ret == 0
    assert (await ok(client, Execute(argv=["echo", "hi", "there"]))).o == "\r\nhi there\r\n"
    assert (await ok(client, Execute(argv=["nosuchcmd"]))).ret == -8


async def test_enumeration(client: SMPClient) -> None:
    assert (await ok(client, CountSupportedGroups())).count == 8
    groups = [int(g) for g in (await ok(client, ListSupportedGroups())).groups]
    assert groups == [10, 8, 1, 0, 3, 9, 2, 63]
    last = await ok(client, GroupId(index=7))
    assert int(last.group) == 63 and last.end is True
    details = await ok(client, GroupDetails(groups=(0, 1)))
    assert [(int(d.group), d.name) for d in details.groups] == [(1, "img mgmt"), (0, "os mgmt")]


async def test_smpclient_over_the_serial_pty(sim: Simulator, tmp_path: Any) -> None:
    server = await sim.serve_serial_pty()
    image = make_image(tmp_path, "1.2.3", size=6000)
    async with SMPClient(SMPSerialTransport(), server.path, timeout_s=3.0) as smp:
        assert (await ok(smp, EchoWrite(d="over serial"))).r == "over serial"
        assert [off async for off in smp.upload(image)][-1] == len(image)
        data = bytes(range(200)) * 5
        assert [off async for off in smp.upload_file(data, "/lfs1/s.bin")][-1] == len(data)
        assert await smp.download_file("/lfs1/s.bin") == data
    assert bytes(sim.device.images[0].secondary.data) == image
