"""Our image generator against imgtool's verifier, and our reader against PyPI smpclient's."""

from __future__ import annotations

from pathlib import Path

import pytest
from smpclient.mcuboot import IMAGE_TLV, ImageInfo

from smpkit.image import ImageVersion, TLVType, parse_image, read_image
from smpkit.image.build import make_image, make_test_body

from .imgtools import imgtool


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"version": (2, 0, 1, 9), "header_size": 32},
        {"security_counter": 5, "dependencies": [(1, "1.0.0")]},
        {"flags": 0x10, "load_addr": 0x1000},
    ],
)
def test_make_image_is_accepted_by_our_reader_and_imgtool(tmp_path: Path, kwargs: dict[str, object]) -> None:
    data = make_image(make_test_body(4321), **kwargs)  # type: ignore[arg-type]
    image = parse_image(data)
    path = tmp_path / "made.bin"
    path.write_bytes(data)
    out = imgtool("verify", path)
    assert "correctly validated" in out
    assert image.hash is not None and image.hash.hex() in out
    version = kwargs.get("version", (1, 2, 3, 0))
    assert image.version == ImageVersion(*version)  # type: ignore[misc]
    assert image.body == make_test_body(4321)


def test_make_image_protected_tlvs_are_read_back() -> None:
    image = parse_image(make_image(b"abc" * 50, security_counter=5, dependencies=[(1, (1, 2, 3, 4))]))
    assert image.security_counter == 5
    assert image.dependencies[0].version == ImageVersion(1, 2, 3, 4)
    assert [t.type for t in image.tlvs] == [TLVType.SHA256]


def test_make_image_rejects_tiny_header() -> None:
    with pytest.raises(ValueError):
        make_image(b"x", header_size=16)


@pytest.mark.parametrize(
    "name", ["unsigned", "build", "ecdsa", "ed25519", "rsa", "padded", "hex", "protected", "multi1"]
)
def test_smpclient_reader_agrees(standard_images: dict[str, Path], name: str) -> None:
    ours = read_image(standard_images[name])
    theirs = ImageInfo.load_file(str(standard_images[name]))
    v = theirs.header.ver
    assert ours.version == ImageVersion(v.major, v.minor, v.revision, v.build_num)
    assert ours.hash == theirs.get_tlv(IMAGE_TLV.SHA256).value
    assert ours.header.img_size == theirs.header.img_size
    assert ours.header.hdr_size == theirs.header.hdr_size
    assert ours.header.protect_tlv_size == theirs.header.protect_tlv_size
    assert ours.tlv_area.size == theirs.tlv_info.tlv_tot
    assert [t.type for t in ours.tlvs] == [int(t.header.type) for t in theirs.tlvs]
    assert [t.value for t in ours.protected_tlvs] == [t.value for t in theirs.protected_tlvs or []]
