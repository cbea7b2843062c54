"""Exceptions of the protocol core and the error codes of every SMP group.

Names and numbers follow Zephyr's `mgmt/mcumgr` headers (see docs/design.md);
the sentences are ours.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any


class SMPError(Exception):
    """Base class of every exception smpkit raises."""


class SMPProtocolError(SMPError):
    """Bytes that do not form a valid SMP message or frame."""


class SMPHeaderError(SMPProtocolError):
    """An SMP header that is short or out of range."""


class SMPDecodeError(SMPProtocolError):
    """A body that is not valid CBOR, not a map, or lacks a field the model needs."""


class SMPFramingError(SMPProtocolError):
    """A serial console frame that cannot be decoded."""


class SMPBadCRC(SMPFramingError):
    """A serial frame whose CRC-16 does not match its contents."""


class MgmtErr(IntEnum):
    """Generic result codes (`rc`), used by SMP v1 and by SMP-level failures in v2."""

    EOK = 0
    EUNKNOWN = 1
    ENOMEM = 2
    EINVAL = 3
    ETIMEOUT = 4
    ENOENT = 5
    EBADSTATE = 6
    EMSGSIZE = 7
    ENOTSUP = 8
    ECORRUPT = 9
    EBUSY = 10
    EACCESSDENIED = 11
    UNSUPPORTED_TOO_OLD = 12
    UNSUPPORTED_TOO_NEW = 13
    EPERUSER = 256


MGMT_SENTENCES: dict[int, str] = {
    0: "success",
    1: "the device reported an unknown error",
    2: "the device ran out of memory or buffers",
    3: "the device rejected a request value (or could not decode the request)",
    4: "the operation timed out on the device",
    5: "no such entry on the device",
    6: "the device's current state forbids this operation",
    7: "the response would not fit in the device's buffer",
    8: "the device does not support this command",
    9: "the device received a corrupt or truncated message",
    10: "the device is busy with another operation",
    11: "the device denied access",
    12: "the device does not support this SMP version (too old)",
    13: "the device does not support this SMP version (too new)",
}


class OSErr(IntEnum):
    OK = 0
    UNKNOWN = 1
    INVALID_FORMAT = 2
    QUERY_YIELDS_NO_ANSWER = 3
    RTC_NOT_SET = 4
    RTC_COMMAND_FAILED = 5
    QUERY_RESPONSE_VALUE_NOT_VALID = 6


class ImageErr(IntEnum):
    OK = 0
    UNKNOWN = 1
    FLASH_CONFIG_QUERY_FAIL = 2
    NO_IMAGE = 3
    NO_TLVS = 4
    INVALID_TLV = 5
    TLV_MULTIPLE_HASHES_FOUND = 6
    TLV_INVALID_SIZE = 7
    HASH_NOT_FOUND = 8
    NO_FREE_SLOT = 9
    FLASH_OPEN_FAILED = 10
    FLASH_READ_FAILED = 11
    FLASH_WRITE_FAILED = 12
    FLASH_ERASE_FAILED = 13
    INVALID_SLOT = 14
    NO_FREE_MEMORY = 15
    FLASH_CONTEXT_ALREADY_SET = 16
    FLASH_CONTEXT_NOT_SET = 17
    FLASH_AREA_DEVICE_NULL = 18
    INVALID_PAGE_OFFSET = 19
    INVALID_OFFSET = 20
    INVALID_LENGTH = 21
    INVALID_IMAGE_HEADER = 22
    INVALID_IMAGE_HEADER_MAGIC = 23
    INVALID_HASH = 24
    INVALID_FLASH_ADDRESS = 25
    VERSION_GET_FAILED = 26
    CURRENT_VERSION_IS_NEWER = 27
    IMAGE_ALREADY_PENDING = 28
    INVALID_IMAGE_VECTOR_TABLE = 29
    INVALID_IMAGE_TOO_LARGE = 30
    INVALID_IMAGE_DATA_OVERRUN = 31
    IMAGE_CONFIRMATION_DENIED = 32
    IMAGE_SETTING_TEST_TO_ACTIVE_DENIED = 33
    ACTIVE_SLOT_NOT_KNOWN = 34


class StatErr(IntEnum):
    OK = 0
    UNKNOWN = 1
    INVALID_GROUP = 2
    INVALID_STAT_NAME = 3
    INVALID_STAT_SIZE = 4
    WALK_ABORTED = 5


class SettingsErr(IntEnum):
    OK = 0
    UNKNOWN = 1
    KEY_TOO_LONG = 2
    KEY_NOT_FOUND = 3
    READ_NOT_SUPPORTED = 4
    ROOT_KEY_NOT_FOUND = 5
    WRITE_NOT_SUPPORTED = 6
    DELETE_NOT_SUPPORTED = 7
    SAVE_NOT_SUPPORTED = 8


class FSErr(IntEnum):
    OK = 0
    UNKNOWN = 1
    FILE_INVALID_NAME = 2
    FILE_NOT_FOUND = 3
    FILE_IS_DIRECTORY = 4
    FILE_OPEN_FAILED = 5
    FILE_SEEK_FAILED = 6
    FILE_READ_FAILED = 7
    FILE_TRUNCATE_FAILED = 8
    FILE_DELETE_FAILED = 9
    FILE_WRITE_FAILED = 10
    FILE_OFFSET_NOT_VALID = 11
    FILE_OFFSET_LARGER_THAN_FILE = 12
    CHECKSUM_HASH_NOT_FOUND = 13
    MOUNT_POINT_NOT_FOUND = 14
    READ_ONLY_FILESYSTEM = 15
    FILE_EMPTY = 16


class ShellErr(IntEnum):
    OK = 0
    UNKNOWN = 1
    COMMAND_TOO_LONG = 2
    EMPTY_COMMAND = 3


class EnumErr(IntEnum):
    OK = 0
    UNKNOWN = 1
    TOO_MANY_GROUP_ENTRIES = 2
    INSUFFICIENT_HEAP_FOR_ENTRIES = 3
    INDEX_TOO_LARGE = 4


class ZephyrBasicErr(IntEnum):
    OK = 0
    UNKNOWN = 1
    FLASH_OPEN_FAILED = 2
    FLASH_CONFIG_QUERY_FAIL = 3
    FLASH_ERASE_FAILED = 4


GROUP_NAMES: dict[int, str] = {
    0: "OS",
    1: "IMAGE",
    2: "STAT",
    3: "SETTINGS",
    4: "LOG",
    5: "CRASH",
    6: "SPLIT",
    7: "RUN",
    8: "FS",
    9: "SHELL",
    10: "ENUM",
    11: "TRANSPORT",
    63: "ZEPHYR_BASIC",
}

GROUP_ERRORS: dict[int, type[IntEnum]] = {
    0: OSErr,
    1: ImageErr,
    2: StatErr,
    3: SettingsErr,
    8: FSErr,
    9: ShellErr,
    10: EnumErr,
    63: ZephyrBasicErr,
}

GROUP_SENTENCES: dict[tuple[int, int], str] = {
    (0, 2): "the request's format string has an unknown character",
    (0, 3): "the query has no answer on this device",
    (0, 4): "the device's real-time clock has not been set",
    (0, 5): "the device's real-time clock failed",
    (0, 6): "the query's value is not valid",
    (1, 2): "the device could not query its flash configuration",
    (1, 3): "there is no image in that slot",
    (1, 4): "the image has no TLV area",
    (1, 5): "the image has an invalid TLV",
    (1, 6): "the image has more than one hash TLV",
    (1, 7): "the image has a TLV of invalid size",
    (1, 8): "no image with that hash is on the device",
    (1, 9): "no free slot: the target slot is active, pending or confirmed",
    (1, 10): "the device could not open its flash",
    (1, 11): "the device could not read its flash",
    (1, 12): "the device could not write its flash",
    (1, 13): "the device could not erase its flash",
    (1, 14): "invalid slot",
    (1, 15): "the device ran out of memory",
    (1, 16): "a flash context is already set",
    (1, 17): "no flash context is set",
    (1, 18): "the flash area has no device",
    (1, 19): "invalid page offset",
    (1, 20): "the upload request has no offset",
    (1, 21): "the first upload chunk has no total length",
    (1, 22): "the first upload chunk is too short to hold an image header",
    (1, 23): "the data is not an MCUboot image (header magic mismatch)",
    (1, 24): "the hash is missing or has the wrong length",
    (1, 25): "invalid flash address",
    (1, 26): "the device could not read the image version",
    (1, 27): "the running image is as new or newer than this one",
    (1, 28): "another image is already pending",
    (1, 29): "the image's vector table is invalid",
    (1, 30): "the image is too large for the slot",
    (1, 31): "the upload would write past the announced length",
    (1, 32): "the device denied confirming this image",
    (1, 33): "the device denied testing the active image",
    (1, 34): "the device does not know which slot is active",
    (2, 2): "no such statistics group",
    (2, 3): "no such statistic",
    (2, 4): "invalid statistic size",
    (2, 5): "the statistics walk was aborted",
    (3, 2): "the setting name is too long",
    (3, 3): "no such setting",
    (3, 4): "the setting cannot be read",
    (3, 5): "no settings handler for that name's root",
    (3, 6): "the setting cannot be written",
    (3, 7): "the setting cannot be deleted",
    (3, 8): "settings cannot be saved on this device",
    (8, 2): "invalid file name",
    (8, 3): "no such file",
    (8, 4): "the path is a directory",
    (8, 5): "the device could not open the file",
    (8, 6): "the device could not seek in the file",
    (8, 7): "the device could not read the file",
    (8, 8): "the device could not truncate the file",
    (8, 9): "the device could not delete the file",
    (8, 10): "the device could not write the file",
    (8, 11): "the offset is not where the device expects the next chunk",
    (8, 12): "the offset is past the end of the file",
    (8, 13): "the device does not support that hash or checksum type",
    (8, 14): "no file system is mounted at that path",
    (8, 15): "the file system is read-only",
    (8, 16): "the file is empty",
    (9, 2): "the shell command is too long",
    (9, 3): "the shell command is empty",
    (10, 2): "too many groups for the response",
    (10, 3): "the device has too little heap to list the groups",
    (10, 4): "the index is past the last group",
    (63, 2): "the device could not open its storage partition",
    (63, 3): "the device could not query its storage partition",
    (63, 4): "the device could not erase its storage partition",
}


def group_name(group: int) -> str:
    return GROUP_NAMES.get(group, f"GROUP{group}")


def group_error_name(group: int, rc: int) -> str:
    """`IMAGE.NO_FREE_SLOT` for (1, 9); unknown codes fall back to numbers."""
    table = GROUP_ERRORS.get(group)
    try:
        code_name = table(rc).name if table is not None else str(rc)
    except ValueError:
        code_name = str(rc)
    return f"{group_name(group)}.{code_name}"


def mgmt_error_name(rc: int) -> str:
    try:
        return f"MGMT.{MgmtErr(rc).name}"
    except ValueError:
        return f"MGMT.{'EPERUSER+' + str(rc - 256) if rc >= 256 else rc}"


class SMPResponseError(SMPError):
    """The device answered with an error. `name` is like `IMAGE.NO_FREE_SLOT`."""

    def __init__(self, name: str, sentence: str, rc: int, group: int | None) -> None:
        self.name = name
        self.sentence = sentence
        self.rc = rc
        self.group = group
        #: The whole response body, for keys beyond the error (fs upload puts the expected offset in "len").
        self.body: dict[str, Any] = {}
        super().__init__(f"{name}: {sentence}")


class SMPMgmtError(SMPResponseError):
    """A generic `rc` error (SMP v1, or an SMP-level failure in v2), with the optional `rsn`."""

    def __init__(self, rc: int, reason: str | None = None, request_group: int | None = None) -> None:
        sentence = MGMT_SENTENCES.get(rc, "the device reported an application-defined error")
        if reason:
            sentence = f"{sentence} ({reason})"
        self.reason = reason
        self.request_group = request_group
        super().__init__(mgmt_error_name(rc), sentence, rc, None)

    @property
    def code(self) -> MgmtErr | int:
        try:
            return MgmtErr(self.rc)
        except ValueError:
            return self.rc


class SMPGroupError(SMPResponseError):
    """An SMP v2 group error: `{"err": {"group": G, "rc": R}}`."""

    def __init__(self, group: int, rc: int) -> None:
        if rc == 1:
            sentence = "the device reported an unknown error"
        else:
            sentence = GROUP_SENTENCES.get((group, rc), "the device reported an error")
        super().__init__(group_error_name(group, rc), sentence, rc, group)

    @property
    def code(self) -> IntEnum | int:
        table = GROUP_ERRORS.get(self.group or 0)
        if table is None:
            return self.rc
        try:
            return table(self.rc)
        except ValueError:
            return self.rc

