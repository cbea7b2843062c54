"""Error responses: v1 `rc` (+ `rsn`) and v2 `err {group, rc}` become typed exceptions."""

from __future__ import annotations

from enum import IntEnum
from typing import Any

import pytest

from smpkit.protocol import (
    Op,
    SMPError,
    SMPGroupError,
    SMPMgmtError,
    SMPResponseError,
    parse_response,
    response_error,
)
from smpkit.protocol.errors import GROUP_ERRORS, GROUP_NAMES, GROUP_SENTENCES, MGMT_SENTENCES, MgmtErr
from smpkit.protocol.groups.fs import FileUpload
from smpkit.protocol.groups.image import ImageUpload, ImageUploadResponse
from smpkit.protocol.groups.os import Echo, EchoResponse
from smpkit.protocol.groups.shell import ShellExec, ShellExecResponse
from smpkit.protocol.groups.user import RawRequest

GROUP_CODES = [(group, code) for group, table in GROUP_ERRORS.items() for code in table if code >= 2]


@pytest.mark.parametrize("code", [c for c in MgmtErr if c != 0], ids=lambda c: c.name)
def test_v1_rc_maps_to_mgmt_error(code: MgmtErr) -> None:
    with pytest.raises(SMPMgmtError) as info:
        parse_response(Echo(d="x"), {"rc": int(code)})
    error = info.value
    assert error.name == f"MGMT.{code.name}"
    assert error.rc == code and error.code is code
    assert error.group is None and error.request_group == 0
    assert str(error).startswith(f"MGMT.{code.name}: ")
    if code in MGMT_SENTENCES:
        assert error.sentence == MGMT_SENTENCES[code]


def test_v1_rsn_is_kept_and_shown() -> None:
    """Verbose builds add `rsn` (observations §2: image 23 in v1 -> rc 1, "magic mismatch")."""
    with pytest.raises(SMPMgmtError) as info:
        parse_response(ImageUpload(off=0, data=b"x"), {"rc": 1, "rsn": "magic mismatch"})
    assert info.value.reason == "magic mismatch"
    assert info.value.name == "MGMT.EUNKNOWN"
    assert "magic mismatch" in info.value.sentence
    assert info.value.request_group == 1


@pytest.mark.parametrize(("rc", "name"), [(256, "MGMT.EPERUSER"), (300, "MGMT.EPERUSER+44"), (99, "MGMT.99")])
def test_unlisted_rc_values_still_have_names(rc: int, name: str) -> None:
    error = response_error({"rc": rc})
    assert isinstance(error, SMPMgmtError)
    assert error.name == name
    assert error.sentence


@pytest.mark.parametrize(
    ("group", "code"), GROUP_CODES, ids=lambda v: GROUP_NAMES[v] if isinstance(v, int) and v in GROUP_NAMES else str(v)
)
def test_v2_group_error_has_group_name_and_own_sentence(group: int, code: IntEnum) -> None:
    with pytest.raises(SMPGroupError) as info:
        parse_response(RawRequest(group, 0, Op.READ), {"err": {"group": group, "rc": int(code)}})
    error = info.value
    assert error.name == f"{GROUP_NAMES[group]}.{code.name}"
    assert error.group == group and error.rc == code and error.code is code
    assert error.sentence == GROUP_SENTENCES[(group, int(code))]
    assert str(error) == f"{error.name}: {error.sentence}"


def test_every_group_code_has_a_distinct_sentence() -> None:
    for group in GROUP_ERRORS:
        sentences = [GROUP_SENTENCES[(g, c)] for g, c in GROUP_CODES if g == group]
        assert len(sentences) == len(set(sentences)), GROUP_NAMES[group]


def test_examples_from_the_issue() -> None:
    error = response_error({"err": {"group": 1, "rc": 9}})
    assert isinstance(error, SMPGroupError) and isinstance(error, SMPResponseError) and isinstance(error, SMPError)
    assert error.name == "IMAGE.NO_FREE_SLOT"
    assert "no free slot" in error.sentence
    assert response_error({"err": {"group": 9, "rc": 2}}).name == "SHELL.COMMAND_TOO_LONG"  # type: ignore[union-attr]
    assert response_error({"err": {"group": 63, "rc": 4}}).name == "ZEPHYR_BASIC.FLASH_ERASE_FAILED"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("body", "name"),
    [
        ({"err": {"group": 1, "rc": 1}}, "IMAGE.UNKNOWN"),
        ({"err": {"group": 1, "rc": 99}}, "IMAGE.99"),
        ({"err": {"group": 100, "rc": 5}}, "GROUP100.5"),
        ({"err": {"group": 4, "rc": 2}}, "LOG.2"),
    ],
)
def test_unknown_group_codes_fall_back_to_numbers(body: dict[str, Any], name: str) -> None:
    error = response_error(body)
    assert isinstance(error, SMPGroupError)
    assert error.name == name and error.sentence


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"rc": 0},
        {"err": {"group": 1, "rc": 0}},
        {"rc": False},
        {"rc": True},
        {"err": {"group": 1, "rc": True}},
        {"err": "nonsense"},
        {"rc": "3"},
    ],
    ids=repr,
)
def test_success_and_non_error_shapes(body: dict[str, Any]) -> None:
    assert response_error(body) is None


def test_err_wins_over_rc_and_keeps_the_body() -> None:
    """fs upload at a wrong offset puts the expected offset next to the error (observations §5)."""
    body = {"err": {"group": 8, "rc": 11}, "len": 40}
    with pytest.raises(SMPGroupError) as info:
        parse_response(FileUpload(off=80, data=b"x", name="/lfs1/f"), body)
    assert info.value.name == "FS.FILE_OFFSET_NOT_VALID"
    assert info.value.body == body
    error = response_error({"err": {"group": 1, "rc": 23}, "rc": 3})
    assert isinstance(error, SMPGroupError) and error.rc == 23


def test_legacy_rc_zero_is_success() -> None:
    assert parse_response(ImageUpload(off=0, data=b"x"), {"rc": 0, "off": 512}) == ImageUploadResponse(off=512)
    assert parse_response(Echo(d="a"), {"r": "a", "rc": 0}) == EchoResponse(r="a")


def test_mcuboot_serial_recovery_reply_with_error_rc() -> None:
    """MCUboot answers every upload chunk with `{"rc": N, "off": uint}` (reference §6.5)."""
    with pytest.raises(SMPMgmtError) as info:
        parse_response(ImageUpload(off=0, data=b"x"), {"rc": 3, "off": 0})
    assert info.value.body == {"rc": 3, "off": 0}


class TestShellLegacyRc:
    """Legacy shell builds put the command's return value in `rc` next to `o` (reference §5.6)."""

    def test_rc_next_to_o_is_the_command_result(self) -> None:
        rsp = parse_response(ShellExec(argv=["bogus"]), {"o": "bogus: command not found\r\n", "rc": -8})
        assert rsp == ShellExecResponse(o="bogus: command not found\r\n", ret=-8)

    def test_rc_without_o_is_an_smp_error(self) -> None:
        with pytest.raises(SMPMgmtError) as info:
            parse_response(ShellExec(argv=[]), {"rc": 3})
        assert info.value.name == "MGMT.EINVAL"

    def test_err_next_to_o_is_still_an_error(self) -> None:
        body = {"o": "", "rc": 0, "err": {"group": 9, "rc": 3}}
        with pytest.raises(SMPGroupError) as info:
            parse_response(ShellExec(argv=[]), body)
        assert info.value.name == "SHELL.EMPTY_COMMAND"
        assert info.value.body == body
