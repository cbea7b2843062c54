"""Real MCUboot images made once per session by the installed `imgtool`."""

from __future__ import annotations

from pathlib import Path

import pytest

from .imgtools import Images


@pytest.fixture(scope="session")
def images(tmp_path_factory: pytest.TempPathFactory) -> Images:
    return Images(tmp_path_factory.mktemp("images"))


@pytest.fixture(scope="session")
def standard_images(images: Images) -> dict[str, Path]:
    """Every kind of valid image the tests check, by a short name."""
    return {
        "unsigned": images.make("unsigned.bin"),
        "build": images.make("build.bin", version="1.2.3+77"),
        "ecdsa": images.make("ecdsa.signed", sign="ecdsa-p256"),
        "ed25519": images.make("ed25519.bin", sign="ed25519"),
        "rsa": images.make("rsa.bin", sign="rsa-2048"),
        "padded": images.make("padded.bin", "--pad", "--confirm"),
        "padded_test": images.make("padded_test.bin", "--pad"),
        "hex": images.make("image.hex", "-x", "0x10000"),
        "protected": images.make(
            "protected.bin", "-s", "9", "-d", "(1,2.0.0+0)", "--boot-record", "BL2", "--custom-tlv", "0xa0", "0x1234"
        ),
        "multi0": images.make("multi0.bin", "-d", "(1,1.0.0)", version="1.1.0"),
        "multi1": images.make("multi1.bin", "-d", "(0,1.1.0)", version="1.0.0"),
        "nonbootable": images.make("nonbootable.bin", "--non-bootable"),
    }
