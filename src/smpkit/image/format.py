"""MCUboot image format constants: header magic, flags, TLV types (MCUboot `image.h`)."""

from __future__ import annotations

import struct
from enum import IntEnum, IntFlag

IMAGE_MAGIC = 0x96F3B83D
IMAGE_MAGIC_V1 = 0x96F3B83C
HEADER_SIZE = 32
HEADER_STRUCT = struct.Struct("<IIHHII BBHI 4x".replace(" ", ""))
TLV_INFO_MAGIC = 0x6907
TLV_PROT_INFO_MAGIC = 0x6908
TLV_INFO_STRUCT = struct.Struct("<HH")
TLV_ENTRY_STRUCT = struct.Struct("<HH")

#: The 16 bytes at the end of a padded slot image (`imgtool --pad`).
BOOT_MAGIC = bytes.fromhex("77c295f360d2ef7f3552500f2cb67980")
#: The tail (after a u16 alignment) of the boot magic used when the write alignment exceeds 16 bytes.
BOOT_MAGIC_ALT_TAIL = bytes.fromhex("2de15d29410b8d77679c110f1f8a")


class ImageFlag(IntFlag):
    PIC = 0x01
    ENCRYPTED_AES128 = 0x04
    ENCRYPTED_AES256 = 0x08
    NON_BOOTABLE = 0x10
    RAM_LOAD = 0x20
    ROM_FIXED = 0x100
    COMPRESSED_LZMA1 = 0x200
    COMPRESSED_LZMA2 = 0x400
    COMPRESSED_ARM_THUMB_FLT = 0x800


class TLVType(IntEnum):
    KEYHASH = 0x01
    PUBKEY = 0x02
    SHA256 = 0x10
    SHA384 = 0x11
    SHA512 = 0x12
    RSA2048_PSS = 0x20
    ECDSA224 = 0x21
    ECDSA_SIG = 0x22
    RSA3072_PSS = 0x23
    ED25519 = 0x24
    SIG_PURE = 0x25
    ENC_RSA2048 = 0x30
    ENC_KW = 0x31
    ENC_EC256 = 0x32
    ENC_X25519 = 0x33
    ENC_X25519_SHA512 = 0x34
    DEPENDENCY = 0x40
    SEC_CNT = 0x50
    BOOT_RECORD = 0x60
    DECOMP_SIZE = 0x70
    DECOMP_SHA = 0x71
    DECOMP_SIGNATURE = 0x72
    COMP_DEC_SIZE = 0x73
    UUID_VID = 0x74
    UUID_CID = 0x75


HASH_TLVS: dict[int, str] = {TLVType.SHA256: "sha256", TLVType.SHA384: "sha384", TLVType.SHA512: "sha512"}


def is_vendor_tlv(kind: int) -> bool:
    """Vendor-reserved types have a low byte 0xA0-0xFF (0xFFFF is the iterator wildcard)."""
    return kind != 0xFFFF and (kind & 0xFF) >= 0xA0


def tlv_name(kind: int) -> str:
    try:
        return TLVType(kind).name
    except ValueError:
        return f"VENDOR_0x{kind:04x}" if is_vendor_tlv(kind) else f"UNKNOWN_0x{kind:04x}"


def flag_names(flags: int) -> list[str]:
    names = [f.name or "" for f in ImageFlag if flags & f.value]
    known = 0
    for f in ImageFlag:
        known |= f.value
    if flags & ~known:
        names.append(f"0x{flags & ~known:x}")
    return names
