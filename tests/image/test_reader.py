"""The MCUboot image reader against images made by imgtool, and against broken ones."""

from __future__ import annotations

import hashlib
import struct
from pathlib import Path

import pytest

from smpkit.image import (
    HashMismatch,
    ImageError,
    ImageFlag,
    ImageVersion,
    InvalidHeader,
    InvalidTLVArea,
    NotAnImage,
    RawPayload,
    TLVType,
    TruncatedImage,
    load_upload,
    parse_image,
    read_bytes,
    read_image,
    tlv_name,
)
from smpkit.protocol.errors import SMPError

from .imgtools import Images, imgtool


def digest_from_imgtool(path: Path) -> str:
    out = imgtool("verify", path)
    return next(line.split(":")[1].strip() for line in out.splitlines() if line.startswith("Image digest"))


@pytest.mark.parametrize("name", ["unsigned", "build", "ecdsa", "ed25519", "rsa", "padded", "hex", "protected"])
def test_hash_is_what_imgtool_computes(standard_images: dict[str, Path], name: str) -> None:
    image = read_image(standard_images[name])
    assert image.hash is not None
    assert image.hash.hex() == digest_from_imgtool(standard_images[name])
    assert image.verified_with == "sha256"
    assert image.hash == hashlib.sha256(image.data[: image.hashed_size]).digest()
    assert image.file_sha256 == hashlib.sha256(image.data).digest()


def test_header_fields(standard_images: dict[str, Path]) -> None:
    image = read_image(standard_images["unsigned"])
    h = image.header
    assert h.magic == 0x96F3B83D
    assert (h.hdr_size, h.img_size, h.protect_tlv_size, h.load_addr) == (0x200, 12_345, 0, 0)
    assert h.flags == ImageFlag(0) and image.bootable
    assert image.version == ImageVersion(1, 2, 3, 0)
    assert str(image.version) == "1.2.3"
    assert image.body == standard_images["unsigned"].read_bytes()[0x200 : 0x200 + 12_345]
    assert [t.name for t in image.tlvs] == ["SHA256"]
    assert image.trailer is None and image.warnings == ()
    assert image.size == image.image_end == standard_images["unsigned"].stat().st_size


def test_version_with_build_number_prints_like_the_device(standard_images: dict[str, Path]) -> None:
    image = read_image(standard_images["build"])
    assert image.version == ImageVersion(1, 2, 3, 77)
    assert str(image.version) == "1.2.3.77"
    assert ImageVersion.parse("1.2.3.77") == ImageVersion.parse("1.2.3+77") == image.version
    assert ImageVersion.parse("1.2") == ImageVersion(1, 2, 0, 0)
    assert ImageVersion(1, 2, 3, 77) > ImageVersion(1, 2, 3) > ImageVersion(1, 1, 9, 9)


@pytest.mark.parametrize(
    ("name", "signature", "key_tlv"),
    [("ecdsa", "ECDSA_SIG", "KEYHASH"), ("ed25519", "ED25519", "KEYHASH"), ("rsa", "RSA2048_PSS", "KEYHASH")],
)
def test_signed_images(standard_images: dict[str, Path], name: str, signature: str, key_tlv: str) -> None:
    image = read_image(standard_images[name])
    assert image.is_signed and image.signatures == [signature]
    assert [t.name for t in image.tlvs] == ["SHA256", key_tlv, signature]


def test_padded_confirmed_image_has_trailer(standard_images: dict[str, Path]) -> None:
    image = read_image(standard_images["padded"])
    assert image.size == 0x20000
    assert image.trailer is not None and image.trailer.image_ok
    assert image.image_end < image.trailer.magic_offset
    unconfirmed = read_image(standard_images["padded_test"])
    assert unconfirmed.trailer is not None and not unconfirmed.trailer.image_ok
    assert unconfirmed.hash == image.hash


def test_hex_image_equals_bin_image(images: Images, standard_images: dict[str, Path]) -> None:
    from_hex = read_image(standard_images["hex"])
    same_bin = read_image(images.make("same_as_hex.bin"))
    assert from_hex.data == same_bin.data
    assert from_hex.hash == same_bin.hash
    assert read_bytes(standard_images["hex"]) == same_bin.data


def test_protected_tlvs(standard_images: dict[str, Path]) -> None:
    image = read_image(standard_images["protected"])
    assert image.header.protect_tlv_size > 0
    assert image.protected_area is not None and image.protected_area.size == image.header.protect_tlv_size
    names = {t.name for t in image.protected_tlvs}
    assert names == {"SEC_CNT", "DEPENDENCY", "BOOT_RECORD", "VENDOR_0x00a0"}
    assert all(t.protected for t in image.protected_tlvs)
    assert image.security_counter == 9
    [dep] = image.dependencies
    assert (dep.image, dep.version) == (1, ImageVersion(2, 0, 0))
    vendor = image.find(0xA0)
    assert vendor is not None and vendor.value == bytes.fromhex("1234")
    # The hash covers the protected area: it must differ from an image without it.
    assert image.hash != read_image(standard_images["unsigned"]).hash


def test_multi_image_dependencies(standard_images: dict[str, Path]) -> None:
    first, second = read_image(standard_images["multi0"]), read_image(standard_images["multi1"])
    assert first.dependencies[0].image == 1 and second.dependencies[0].image == 0
    assert first.version == ImageVersion(1, 1, 0) and second.version == ImageVersion(1, 0, 0)


def test_non_bootable_flag(standard_images: dict[str, Path]) -> None:
    image = read_image(standard_images["nonbootable"])
    assert not image.bootable and image.header.flag_names == ["NON_BOOTABLE"]


def test_ram_load_flag_and_address(images: Images) -> None:
    image = read_image(images.make("ramload.bin", "--load-addr", "0x20000000"))
    assert image.header.flags & ImageFlag.RAM_LOAD and image.header.load_addr == 0x20000000


def test_every_tlv_type_is_named() -> None:
    table = {
        0x01: "KEYHASH", 0x02: "PUBKEY", 0x10: "SHA256", 0x11: "SHA384", 0x12: "SHA512",
        0x20: "RSA2048_PSS", 0x21: "ECDSA224", 0x22: "ECDSA_SIG", 0x23: "RSA3072_PSS", 0x24: "ED25519",
        0x25: "SIG_PURE", 0x30: "ENC_RSA2048", 0x31: "ENC_KW", 0x32: "ENC_EC256", 0x33: "ENC_X25519",
        0x34: "ENC_X25519_SHA512", 0x40: "DEPENDENCY", 0x50: "SEC_CNT", 0x60: "BOOT_RECORD",
        0x70: "DECOMP_SIZE", 0x71: "DECOMP_SHA", 0x72: "DECOMP_SIGNATURE", 0x73: "COMP_DEC_SIZE",
        0x74: "UUID_VID", 0x75: "UUID_CID",
    }  # fmt: skip
    assert {kind: tlv_name(kind) for kind in table} == table
    assert tlv_name(0x01A5) == "VENDOR_0x01a5"
    assert tlv_name(0x0013) == "UNKNOWN_0x0013"


def test_sha384_only_image_is_checked_but_has_no_device_hash(images: Images) -> None:
    image = read_image(images.make("sha384.bin", "--sha", "384"))
    assert image.verified_with == "sha384" and image.hash is None
    assert any("SHA-256" in w for w in image.warnings)


# ---- broken files -------------------------------------------------------------------------------


def mutate(path: Path, at: int, value: int) -> bytes:
    data = bytearray(path.read_bytes())
    data[at] ^= value
    return bytes(data)


def test_not_an_image() -> None:
    with pytest.raises(NotAnImage):
        parse_image(b"\x7fELF" + bytes(100))
    with pytest.raises(NotAnImage):
        parse_image(b"")


def test_errors_are_smp_errors() -> None:
    assert issubclass(NotAnImage, ImageError) and issubclass(ImageError, SMPError)
    assert issubclass(HashMismatch, ImageError) and issubclass(TruncatedImage, ImageError)


def test_big_endian_and_v1_magic_are_refused(images: Images) -> None:
    with pytest.raises(NotAnImage, match="big-endian"):
        read_image(images.make("big.bin", "-e", "big"))
    with pytest.raises(NotAnImage, match="v1"):
        parse_image(struct.pack("<I", 0x96F3B83C) + bytes(64))


@pytest.mark.parametrize("cut", [20, 0x200 + 100, -40, -1])
def test_truncated(standard_images: dict[str, Path], cut: int) -> None:
    data = standard_images["ecdsa"].read_bytes()
    with pytest.raises(TruncatedImage):
        parse_image(data[:cut])


def test_truncated_protected_area(standard_images: dict[str, Path]) -> None:
    image = read_image(standard_images["protected"])
    with pytest.raises(TruncatedImage):
        parse_image(image.data[: image.header.hdr_size + image.header.img_size + 10])


def test_flipped_body_byte_is_a_hash_mismatch(standard_images: dict[str, Path]) -> None:
    with pytest.raises(HashMismatch) as caught:
        parse_image(mutate(standard_images["ecdsa"], 0x200 + 5000, 0x01))
    assert caught.value.expected == read_image(standard_images["ecdsa"]).hash
    assert caught.value.actual != caught.value.expected


def test_flipped_protected_byte_is_a_hash_mismatch(standard_images: dict[str, Path]) -> None:
    image = read_image(standard_images["protected"])
    sec_cnt = image.find(TLVType.SEC_CNT)
    assert sec_cnt is not None
    with pytest.raises(HashMismatch):
        parse_image(mutate(standard_images["protected"], sec_cnt.offset + 4, 0x01))


def test_wrong_tlv_magic(standard_images: dict[str, Path]) -> None:
    image = read_image(standard_images["unsigned"])
    with pytest.raises(InvalidTLVArea, match="magic"):
        parse_image(mutate(standard_images["unsigned"], image.tlv_area.offset, 0x01))


def test_wrong_protected_size(standard_images: dict[str, Path]) -> None:
    with pytest.raises(InvalidTLVArea):
        parse_image(mutate(standard_images["protected"], 0x0A, 0x04))  # ih_protect_tlv_size


def test_protected_area_present_but_header_says_none(standard_images: dict[str, Path]) -> None:
    data = bytearray(standard_images["protected"].read_bytes())
    data[0x0A:0x0C] = b"\x00\x00"
    with pytest.raises(InvalidTLVArea):
        parse_image(bytes(data))


def test_tlv_entry_running_past_its_area(standard_images: dict[str, Path]) -> None:
    image = read_image(standard_images["unsigned"])
    data = bytearray(image.data)
    struct.pack_into("<H", data, image.tlv_area.offset + 4 + 2, 200)  # SHA256 entry length
    with pytest.raises(InvalidTLVArea, match="past"):
        parse_image(bytes(data))


def test_header_size_too_small(standard_images: dict[str, Path]) -> None:
    data = bytearray(standard_images["unsigned"].read_bytes())
    struct.pack_into("<H", data, 8, 16)
    with pytest.raises(InvalidHeader):
        parse_image(bytes(data))


def test_two_sha256_tlvs_are_refused() -> None:
    from smpkit.image.build import make_image

    good = make_image(b"x" * 100)
    digest = parse_image(good).hash
    assert digest is not None
    with pytest.raises(InvalidTLVArea, match="more than one"):
        parse_image(make_image(b"x" * 100, extra_tlvs=[(TLVType.SHA256, digest)]))


def test_bad_hex_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.hex"
    bad.write_text(":10000000ZZ\n")
    with pytest.raises(NotAnImage, match="Intel HEX"):
        read_image(bad)


def test_allow_raw(tmp_path: Path) -> None:
    raw = tmp_path / "blob.bin"
    raw.write_bytes(b"arbitrary data" * 10)
    with pytest.raises(NotAnImage):
        load_upload(raw)
    payload = load_upload(raw, allow_raw=True)
    assert isinstance(payload, RawPayload)
    assert payload.data == raw.read_bytes() and payload.hash is None
    assert payload.file_sha256 == hashlib.sha256(payload.data).digest()
    assert "magic" in payload.reason


def test_allow_raw_still_parses_a_good_image(standard_images: dict[str, Path]) -> None:
    source = load_upload(standard_images["ecdsa"], allow_raw=True)
    assert not source.raw and source.hash == read_image(standard_images["ecdsa"]).hash
