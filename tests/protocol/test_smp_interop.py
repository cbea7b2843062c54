"""Interoperability with the PyPI `smp` package, command by command and field by field.

For every command both packages model: smpkit's request and response bytes load with `smp`'s
models and equal the same values built in `smp`; `smp`'s bytes decode with smpkit to the same
smpkit model. Error responses too. Known modelling differences are pinned in their own tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Any

import cbor2
import pytest
import smp.enumeration_management as smp_enum
import smp.error as smp_error
import smp.file_management as smp_fs
import smp.image_management as smp_img
import smp.os_management as smp_os
import smp.settings_management as smp_settings
import smp.shell_management as smp_shell
import smp.statistics_management as smp_stat
import smp.zephyr_management as smp_zephyr
from smp.header import OP, Flag
from smp.header import Header as SmpHeader
from smp.header import Version as SmpVersion
from smp.message import Request as SmpRequest
from smp.message import Response as SmpResponse

from smpkit.protocol import (
    SMPDecodeError,
    SMPGroupError,
    SMPMgmtError,
    Version,
    decode_message,
    encode_message,
    encode_request,
    parse_response,
    request_class,
)
from smpkit.protocol.groups import enumeration as kit_enum
from smpkit.protocol.groups import fs as kit_fs
from smpkit.protocol.groups import image as kit_img
from smpkit.protocol.groups import os as kit_os
from smpkit.protocol.groups import settings as kit_settings
from smpkit.protocol.groups import shell as kit_shell
from smpkit.protocol.groups import stat as kit_stat
from smpkit.protocol.groups import zephyr as kit_zephyr
from smpkit.protocol.header import Header
from smpkit.protocol.model import EmptyResponse, Request, Response

SHA = bytes(range(32))
SEQ = 0x5A


@dataclass(frozen=True)
class Case:
    """One command: the same request and response, once as smpkit models and once as `smp` kwargs."""

    name: str
    kit_request: Request[Any]
    smp_request: type[SmpRequest]
    smp_request_kwargs: dict[str, Any]
    kit_response: Response
    smp_response: type[SmpResponse]
    smp_response_kwargs: dict[str, Any]
    #: `smp`'s ImageStatesWriteResponse inherits the read response's op (1); Zephyr answers a write with 3.
    smp_response_op: int | None = None


TASK: dict[str, Any] = {"prio": -16, "tid": 3, "state": 1, "stksiz": 512, "stkuse": 90}
TASK_FULL: dict[str, Any] = {**TASK, "runtime": 7, "cswcnt": 0, "last_checkin": 0, "next_checkin": 0}
SLOT0: dict[str, Any] = {"slot": 0, "version": "1.2.3", "hash": SHA, "bootable": True, "pending": False}
SLOT0 |= {"confirmed": True, "active": True, "permanent": False}
SLOT1: dict[str, Any] = {**SLOT0, "slot": 1, "version": "1.2.4.7", "confirmed": False, "active": False, "pending": True}

CASES = [
    Case(
        "os.echo",
        kit_os.Echo(d="hello"),
        smp_os.EchoWriteRequest,
        {"d": "hello"},
        kit_os.EchoResponse(r="hello"),
        smp_os.EchoWriteResponse,
        {"r": "hello"},
    ),
    Case(
        "os.taskstat",
        kit_os.TaskStat(),
        smp_os.TaskStatisticsReadRequest,
        {},
        kit_os.TaskStatResponse(tasks={"main": kit_os.TaskInfo(**TASK), "idle": kit_os.TaskInfo(**TASK_FULL)}),
        smp_os.TaskStatisticsReadResponse,
        {"tasks": {"main": smp_os.TaskStatisticsZephyr(**TASK), "idle": smp_os.TaskStatistics(**TASK_FULL)}},
    ),
    Case(
        "os.mpstat",
        kit_os.MemoryPoolStats(),
        smp_os.MemoryPoolStatisticsReadRequest,
        {},
        kit_os.MemoryPoolStatsResponse(mpools={"heap": kit_os.MemoryPool(blksiz=1, nblks=4096, nfree=1024, min=512)}),
        smp_os.MemoryPoolStatisticsReadResponse,
        {"mpools": {"heap": {"blksiz": 1, "nblks": 4096, "nfree": 1024, "min": 512}}},
    ),
    Case(
        "os.datetime_get",
        kit_os.DateTimeGet(),
        smp_os.DateTimeReadRequest,
        {},
        kit_os.DateTimeResponse(datetime="2026-06-03T22:19:37.123"),
        smp_os.DateTimeReadResponse,
        {"datetime": "2026-06-03T22:19:37.123"},
    ),
    Case(
        "os.datetime_set",
        kit_os.DateTimeSet(datetime="2026-06-03T22:19:37"),
        smp_os.DateTimeWriteRequest,
        {"datetime": "2026-06-03T22:19:37"},
        EmptyResponse(),
        smp_os.DateTimeWriteResponse,
        {},
    ),
    Case(
        "os.reset",
        kit_os.Reset(),
        smp_os.ResetWriteRequest,
        {},
        EmptyResponse(),
        smp_os.ResetWriteResponse,
        {},
    ),
    Case(
        "os.reset_boot_mode",
        kit_os.Reset(boot_mode=1),
        smp_os.ResetWriteRequest,
        {"boot_mode": 1},
        EmptyResponse(),
        smp_os.ResetWriteResponse,
        {},
    ),
    Case(
        "os.params",
        kit_os.McumgrParams(),
        smp_os.MCUMgrParametersReadRequest,
        {},
        kit_os.McumgrParamsResponse(buf_size=2475, buf_count=4),
        smp_os.MCUMgrParametersReadResponse,
        {"buf_size": 2475, "buf_count": 4},
    ),
    Case(
        "os.info",
        kit_os.OSInfo(format="a"),
        smp_os.OSApplicationInfoReadRequest,
        {"format": "a"},
        kit_os.OSInfoResponse(output="Zephyr unknown 684c9e8f32e4 4.4.0"),
        smp_os.OSApplicationInfoReadResponse,
        {"output": "Zephyr unknown 684c9e8f32e4 4.4.0"},
    ),
    Case(
        "os.bootloader_info",
        kit_os.BootloaderInfo(),
        smp_os.BootloaderInformationReadRequest,
        {},
        kit_os.BootloaderInfoResponse(bootloader="MCUboot"),
        smp_os.BootloaderInformationReadResponse,
        {"bootloader": "MCUboot"},
    ),
    Case(
        "image.state_read",
        kit_img.ImageStateRead(),
        smp_img.ImageStatesReadRequest,
        {},
        kit_img.ImageStateResponse(
            images=[kit_img.ImageSlotState(**SLOT0), kit_img.ImageSlotState(**SLOT1)], split_status=0
        ),
        smp_img.ImageStatesReadResponse,
        {"images": [smp_img.ImageState(**SLOT0), smp_img.ImageState(**SLOT1)], "splitStatus": 0},
    ),
    Case(
        "image.state_test",
        kit_img.ImageStateWrite(hash=SHA, confirm=False),
        smp_img.ImageStatesWriteRequest,
        {"hash": SHA, "confirm": False},
        kit_img.ImageStateResponse(images=[kit_img.ImageSlotState(**SLOT0), kit_img.ImageSlotState(**SLOT1)]),
        smp_img.ImageStatesWriteResponse,
        {"images": [smp_img.ImageState(**SLOT0), smp_img.ImageState(**SLOT1)]},
        smp_response_op=1,
    ),
    Case(
        "image.state_confirm",
        kit_img.ImageStateWrite(confirm=True),
        smp_img.ImageStatesWriteRequest,
        {"confirm": True},
        kit_img.ImageStateResponse(images=[kit_img.ImageSlotState(**SLOT0)], split_status=0),
        smp_img.ImageStatesWriteResponse,
        {"images": [smp_img.ImageState(**SLOT0)], "splitStatus": 0},
        smp_response_op=1,
    ),
    Case(
        "image.upload_first",
        kit_img.ImageUpload(off=0, data=bytes(range(256)), len=66088, sha=SHA, image=0, upgrade=False),
        smp_img.ImageUploadWriteRequest,
        {"off": 0, "data": bytes(range(256)), "len": 66088, "sha": SHA, "image": 0, "upgrade": False},
        kit_img.ImageUploadResponse(off=256),
        smp_img.ImageUploadWriteResponse,
        {"off": 256},
    ),
    Case(
        "image.upload_next",
        kit_img.ImageUpload(off=65536, data=b"\xff" * 300),
        smp_img.ImageUploadWriteRequest,
        {"off": 65536, "data": b"\xff" * 300},
        kit_img.ImageUploadResponse(off=66088, match=True),
        smp_img.ImageUploadWriteResponse,
        {"off": 66088, "match": True},
    ),
    Case(
        "image.erase",
        kit_img.ImageErase(slot=1),
        smp_img.ImageEraseRequest,
        {"slot": 1},
        EmptyResponse(),
        smp_img.ImageEraseResponse,
        {},
    ),
    Case(
        "stat.show",
        kit_stat.StatShow(name="smp_svr_stats"),
        smp_stat.GroupDataRequest,
        {"name": "smp_svr_stats"},
        kit_stat.StatShowResponse(name="smp_svr_stats", fields={"ticks": 1234, "zero": 0}),
        smp_stat.GroupDataResponse,
        {"name": "smp_svr_stats", "fields": {"ticks": 1234, "zero": 0}},
    ),
    Case(
        "stat.list",
        kit_stat.StatList(),
        smp_stat.ListOfGroupsRequest,
        {},
        kit_stat.StatListResponse(stat_list=["smp_svr_stats", "flash_sim_stats"]),
        smp_stat.ListOfGroupsResponse,
        {"stat_list": ("smp_svr_stats", "flash_sim_stats")},
    ),
    Case(
        "settings.read",
        kit_settings.SettingsRead(name="app/value", max_size=16),
        smp_settings.ReadSettingRequest,
        {"name": "app/value", "max_size": 16},
        kit_settings.SettingsReadResponse(val=b"\x01\x02", max_size=8),
        smp_settings.ReadSettingResponse,
        {"val": b"\x01\x02", "max_size": 8},
    ),
    Case(
        "settings.write",
        kit_settings.SettingsWrite(name="app/value", val=b"\x00\x10"),
        smp_settings.WriteSettingRequest,
        {"name": "app/value", "val": b"\x00\x10"},
        EmptyResponse(),
        smp_settings.WriteSettingResponse,
        {},
    ),
    Case(
        "settings.delete",
        kit_settings.SettingsDelete(name="app/value"),
        smp_settings.DeleteSettingRequest,
        {"name": "app/value"},
        EmptyResponse(),
        smp_settings.DeleteSettingResponse,
        {},
    ),
    Case(
        "settings.commit",
        kit_settings.SettingsCommit(),
        smp_settings.CommitSettingsRequest,
        {},
        EmptyResponse(),
        smp_settings.CommitSettingsResponse,
        {},
    ),
    Case(
        "settings.load",
        kit_settings.SettingsLoad(),
        smp_settings.LoadSettingsRequest,
        {},
        EmptyResponse(),
        smp_settings.LoadSettingsResponse,
        {},
    ),
    Case(
        "settings.save",
        kit_settings.SettingsSave(),
        smp_settings.SaveSettingsRequest,
        {},
        EmptyResponse(),
        smp_settings.SaveSettingsResponse,
        {},
    ),
    Case(
        "fs.download",
        kit_fs.FileDownload(off=0, name="/lfs1/hello.txt"),
        smp_fs.FileDownloadRequest,
        {"off": 0, "name": "/lfs1/hello.txt"},
        kit_fs.FileDownloadResponse(off=0, data=b"hello", len=100),
        smp_fs.FileDownloadResponse,
        {"off": 0, "data": b"hello", "len": 100},
    ),
    Case(
        "fs.upload",
        kit_fs.FileUpload(off=0, data=b"x" * 40, name="/lfs1/f.bin", len=100),
        smp_fs.FileUploadRequest,
        {"off": 0, "data": b"x" * 40, "name": "/lfs1/f.bin", "len": 100},
        kit_fs.FileUploadResponse(off=40),
        smp_fs.FileUploadResponse,
        {"off": 40},
    ),
    Case(
        "fs.status",
        kit_fs.FileStatus(name="/lfs1/f.bin"),
        smp_fs.FileStatusRequest,
        {"name": "/lfs1/f.bin"},
        kit_fs.FileStatusResponse(len=80),
        smp_fs.FileStatusResponse,
        {"len": 80},
    ),
    Case(
        "fs.hash_crc32",
        kit_fs.FileHash(name="/lfs1/f.bin", type="crc32", off=90, len=50),
        smp_fs.FileHashChecksumRequest,
        {"name": "/lfs1/f.bin", "type": "crc32", "off": 90, "len": 50},
        kit_fs.FileHashResponse(type="crc32", output=0xDEADBEEF, len=10, off=90),
        smp_fs.FileHashChecksumResponse,
        {"type": "crc32", "output": 0xDEADBEEF, "len": 10, "off": 90},
    ),
    Case(
        "fs.hash_sha256",
        kit_fs.FileHash(name="/lfs1/f.bin", type="sha256"),
        smp_fs.FileHashChecksumRequest,
        {"name": "/lfs1/f.bin", "type": "sha256"},
        kit_fs.FileHashResponse(type="sha256", output=SHA, len=100),
        smp_fs.FileHashChecksumResponse,
        {"type": "sha256", "output": SHA, "len": 100},
    ),
    Case(
        "fs.hash_types",
        kit_fs.FileHashTypes(),
        smp_fs.SupportedFileHashChecksumTypesRequest,
        {},
        kit_fs.FileHashTypesResponse(
            types={"crc32": kit_fs.HashTypeInfo(format=0, size=4), "sha256": kit_fs.HashTypeInfo(format=1, size=32)}
        ),
        smp_fs.SupportedFileHashChecksumTypesResponse,
        {
            "types": {
                "crc32": smp_fs.HashChecksumType(format=smp_fs.HashChecksumFormat.NUMERICAL, size=4),
                "sha256": smp_fs.HashChecksumType(format=smp_fs.HashChecksumFormat.BYTE_ARRAY, size=32),
            }
        },
    ),
    Case(
        "fs.close",
        kit_fs.FileClose(),
        smp_fs.FileCloseRequest,
        {},
        EmptyResponse(),
        smp_fs.FileCloseResponse,
        {},
    ),
    Case(
        "shell.exec",
        kit_shell.ShellExec(argv=["kernel", "version"]),
        smp_shell.ExecuteRequest,
        {"argv": ["kernel", "version"]},
        kit_shell.ShellExecResponse(o="\r\nZephyr version 4.4.0", ret=-8),
        smp_shell.ExecuteResponse,
        {"o": "\r\nZephyr version 4.4.0", "ret": -8},
    ),
    Case(
        "enum.count",
        kit_enum.EnumCount(),
        smp_enum.GroupCountRequest,
        {},
        kit_enum.EnumCountResponse(count=7),
        smp_enum.GroupCountResponse,
        {"count": 7},
    ),
    Case(
        "enum.list",
        kit_enum.EnumList(),
        smp_enum.ListOfGroupsRequest,
        {},
        kit_enum.EnumListResponse(groups=[10, 8, 0, 3, 9, 2, 63]),
        smp_enum.ListOfGroupsResponse,
        {"groups": (10, 8, 0, 3, 9, 2, 63)},
    ),
    Case(
        "enum.single",
        kit_enum.EnumSingle(index=2),
        smp_enum.GroupIdRequest,
        {"index": 2},
        kit_enum.EnumSingleResponse(group=0),
        smp_enum.GroupIdResponse,
        {"group": 0},
    ),
    Case(
        "enum.single_end",
        kit_enum.EnumSingle(index=6),
        smp_enum.GroupIdRequest,
        {"index": 6},
        kit_enum.EnumSingleResponse(group=63, end=True),
        smp_enum.GroupIdResponse,
        {"group": 63, "end": True},
    ),
    Case(
        "enum.details",
        kit_enum.EnumDetails(groups=[0, 99]),
        smp_enum.GroupDetailsRequest,
        {"groups": (0, 99)},
        kit_enum.EnumDetailsResponse(groups=[kit_enum.GroupDetails(group=0, name="os mgmt", handlers=9)]),
        smp_enum.GroupDetailsResponse,
        {"groups": (smp_enum.GroupDetails(group=0, name="os mgmt", handlers=9),)},
    ),
    Case(
        "zephyr.storage_erase",
        kit_zephyr.StorageErase(),
        smp_zephyr.EraseStorageRequest,
        {},
        EmptyResponse(),
        smp_zephyr.EraseStorageResponse,
        {},
    ),
]

_IGNORED = {"header", "version", "sequence", "smp_data"}


def smp_fields(message: SmpRequest | SmpResponse) -> dict[str, Any]:
    """Every field of an `smp` message except the framing ones, with enums as plain ints."""
    fields: dict[str, Any] = _plain(message.model_dump(exclude=_IGNORED))
    return fields


def _plain(value: Any) -> Any:
    if isinstance(value, IntEnum):
        return int(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def check_header(raw: bytes, op: int, group: int, command: int) -> None:
    header = decode_message(raw).header
    assert (header.op, header.version, header.group, header.command, header.sequence) == (op, 1, group, command, SEQ)


def ids(case: Case) -> str:
    return case.name


@pytest.mark.parametrize("case", CASES, ids=ids)
def test_request_smpkit_to_smp(case: Case) -> None:
    raw = encode_request(case.kit_request, SEQ, Version.V2)
    loaded = case.smp_request.loads(raw)
    assert loaded.header.sequence == SEQ
    assert smp_fields(loaded) == smp_fields(case.smp_request(**case.smp_request_kwargs))


@pytest.mark.parametrize("case", CASES, ids=ids)
def test_request_smp_to_smpkit(case: Case) -> None:
    raw = bytes(case.smp_request(**case.smp_request_kwargs, sequence=SEQ))
    group, command, op = case.kit_request.target()
    check_header(raw, op, group, command)
    body = decode_message(raw).body
    cls = request_class(group, command, op)
    assert cls is type(case.kit_request)
    assert cls.from_body(body) == case.kit_request


@pytest.mark.parametrize("case", CASES, ids=ids)
def test_response_smpkit_to_smp(case: Case) -> None:
    group, command, op = case.kit_request.target()
    header = Header(op.response, Version.V2, 0, 0, group, SEQ, command)
    raw = encode_message(header, case.kit_response.to_body())
    loaded = case.smp_response.loads(raw)
    assert smp_fields(loaded) == smp_fields(case.smp_response(**case.smp_response_kwargs))


@pytest.mark.parametrize("case", CASES, ids=ids)
def test_response_smp_to_smpkit(case: Case) -> None:
    raw = bytes(case.smp_response(**case.smp_response_kwargs, sequence=SEQ))
    group, command, op = case.kit_request.target()
    check_header(raw, case.smp_response_op or op.response, group, command)
    assert parse_response(case.kit_request, decode_message(raw).body) == case.kit_response


ERROR_GROUPS: list[tuple[int, type[smp_error.ErrorV1], type[smp_error.ErrorV2[Any]], str]] = [
    (0, smp_os.OSManagementErrorV1, smp_os.OSManagementErrorV2, "OS.INVALID_FORMAT"),
    (1, smp_img.ImageManagementErrorV1, smp_img.ImageManagementErrorV2, "IMAGE.FLASH_CONFIG_QUERY_FAIL"),
    (2, smp_stat.StatisticsManagementErrorV1, smp_stat.StatisticsManagementErrorV2, "STAT.INVALID_GROUP"),
    (3, smp_settings.SettingsManagementErrorV1, smp_settings.SettingsManagementErrorV2, "SETTINGS.KEY_TOO_LONG"),
    (8, smp_fs.FileSystemManagementErrorV1, smp_fs.FileSystemManagementErrorV2, "FS.FILE_INVALID_NAME"),
    (9, smp_shell.ShellManagementErrorV1, smp_shell.ShellManagementErrorV2, "SHELL.COMMAND_TOO_LONG"),
    (10, smp_enum.EnumManagementErrorV1, smp_enum.EnumManagementErrorV2, "ENUM.TOO_MANY_GROUP_ENTRIES"),
    (63, smp_zephyr.ZephyrManagementErrorV1, smp_zephyr.ZephyrManagementErrorV2, "ZEPHYR_BASIC.FLASH_OPEN_FAILED"),
]


@pytest.mark.parametrize(("group", "v1", "v2", "name"), ERROR_GROUPS, ids=[e[3].split(".")[0] for e in ERROR_GROUPS])
def test_error_responses_both_ways(
    group: int, v1: type[smp_error.ErrorV1], v2: type[smp_error.ErrorV2[Any]], name: str
) -> None:
    request = next(case.kit_request for case in CASES if case.kit_request.target()[0] == group)
    # smp -> smpkit (smp's error models have no op of their own: give them the header a server would)
    err: dict[str, Any] = {"err": {"group": group, "rc": 2}}
    raw = bytes(v2(header=smp_header(group, err), **err))
    with pytest.raises(SMPGroupError) as group_error:
        parse_response(request, decode_message(raw).body)
    assert group_error.value.name == name
    raw = bytes(v1(header=smp_header(group, {"rc": 10, "rsn": "busy"}), rc=smp_error.MGMT_ERR.EBUSY, rsn="busy"))
    with pytest.raises(SMPMgmtError) as mgmt_error:
        parse_response(request, decode_message(raw).body)
    assert (mgmt_error.value.name, mgmt_error.value.reason) == ("MGMT.EBUSY", "busy")
    # smpkit -> smp (a server built on smpkit writes the maps itself)
    header = Header(3, Version.V2, 0, 0, group, SEQ, 0)
    loaded_v2 = v2.loads(encode_message(header, {"err": {"group": group, "rc": 2}}))
    assert (loaded_v2.err.group, int(loaded_v2.err.rc)) == (group, 2)
    loaded_v1 = v1.loads(encode_message(header, {"rc": 10, "rsn": "busy"}))
    assert (loaded_v1.rc, loaded_v1.rsn) == (smp_error.MGMT_ERR.EBUSY, "busy")


def smp_header(group: int, body: dict[str, Any]) -> SmpHeader:
    length = len(cbor2.dumps(body, canonical=True))  # what smp's own encoder will produce
    return SmpHeader(OP.WRITE_RSP, SmpVersion.V2, Flag(0), length, group, SEQ, 0)


class TestKnownDifferences:
    """Where `smp` and smpkit model a command differently; smpkit follows Zephyr's sources and captures."""

    def test_reset_force_is_a_bool_on_the_wire(self) -> None:
        """Zephyr decodes `force` as a bool (reference §5.1); `smp` types it `Literal[0, 1]` and sends an int."""
        raw = encode_request(kit_os.Reset(force=True), SEQ)
        assert decode_message(raw).body == {"force": True}
        assert smp_os.ResetWriteRequest.loads(raw).force == 1  # smp accepts our bool
        smp_raw = bytes(smp_os.ResetWriteRequest(force=1, sequence=SEQ))
        assert decode_message(smp_raw).body == {"force": 1}
        with pytest.raises(SMPDecodeError, match="force"):  # as Zephyr, which drops the whole body
            kit_os.Reset.from_body(decode_message(smp_raw).body)

    def test_bootloader_mode_query_reply(self) -> None:
        """Zephyr answers `query: "mode"` with top-level `{"mode": N}`; `smp` expects it under `response`."""
        body = {"mode": 3, "no-downgrade": True}
        rsp = parse_response(kit_os.BootloaderInfo(query="mode"), body)
        assert rsp == kit_os.BootloaderInfoResponse(mode=3, no_downgrade=True)
        header = Header(1, Version.V2, 0, 0, 0, SEQ, 8)
        with pytest.raises(ValueError):  # pydantic's ValidationError: extra keys forbidden, bootloader required
            smp_os.BootloaderInformationReadResponse.loads(encode_message(header, rsp.to_body()))

    def test_shell_error_2_name(self) -> None:
        """`smp` names shell error 2 INVALID_FORMAT; Zephyr calls it COMMAND_TOO_LONG (reference §3.2)."""
        assert smp_shell.SHELL_MGMT_RET_RC(2).name == "INVALID_FORMAT"
        with pytest.raises(SMPGroupError, match=r"SHELL\.COMMAND_TOO_LONG"):
            parse_response(kit_shell.ShellExec(argv=["x"]), {"err": {"group": 9, "rc": 2}})
