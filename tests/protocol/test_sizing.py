"""Exact chunk sizes: an upload request fills its size budget without exceeding it."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from reference import REFERENCE_DIR

from smpkit.protocol import SMPHeaderError, encode_request
from smpkit.protocol.groups.fs import FileUpload
from smpkit.protocol.groups.image import ImageUpload
from smpkit.protocol.sizing import MAX_MESSAGE, bstr_header_size, file_chunk_size, fit_data, image_chunk_size

FAST = settings(max_examples=300, deadline=None)
BLE_CORPUS = REFERENCE_DIR / "zephyr-ble-transcripts.json"

budgets = st.integers(20, 3000) | st.sampled_from([33, 34, 35, 265, 266, 267, 268, 65541, 65542, 65543, MAX_MESSAGE])
offsets = st.integers(0, 2**32 - 1) | st.sampled_from([0, 23, 24, 255, 256, 65535, 65536])
first_chunk = st.fixed_dictionaries(
    {},
    optional={
        "total": st.integers(0, 2**32 - 1),
        "sha": st.binary(max_size=32),
        "image": st.integers(0, 300),
        "upgrade": st.booleans(),
    },
)


def _check_fill(budget: int, n: int, size_of: Any) -> None:
    """n bytes fit exactly (or leave the one byte a growing bstr header makes unusable); n + 1 do not."""
    empty = size_of(0)
    if empty > budget:
        assert n == 0
        return
    size = size_of(n)
    assert size <= budget
    try:
        assert size_of(n + 1) > budget
    except SMPHeaderError:  # over the 16-bit body length: cannot be encoded at all
        assert budget == MAX_MESSAGE
    assert size in (budget, budget - 1)
    if size == budget - 1:  # exact is impossible: n + 1 bytes need one more header byte
        assert bstr_header_size(n + 1) == bstr_header_size(n) + (1 if n + 1 in (24, 256) else 2)


@FAST
@given(budget=budgets, off=offsets, extra=first_chunk)
@example(budget=33, off=0, extra={})
@example(budget=267, off=0, extra={})
def test_image_chunk_fills_budget(budget: int, off: int, extra: dict[str, Any]) -> None:
    n = image_chunk_size(budget, off, **extra)
    total, sha, image, upgrade = extra.get("total"), extra.get("sha"), extra.get("image"), extra.get("upgrade")

    def size_of(k: int) -> int:
        request = ImageUpload(off=off, data=bytes(k), len=total, sha=sha, image=image, upgrade=upgrade)
        return len(encode_request(request, 0))

    _check_fill(min(budget, MAX_MESSAGE), n, size_of)


@FAST
@given(budget=budgets, off=offsets, name=st.text(min_size=1, max_size=60), total=st.none() | st.integers(0, 2**32))
def test_file_chunk_fills_budget(budget: int, off: int, name: str, total: int | None) -> None:
    n = file_chunk_size(budget, off, name, total)

    def size_of(k: int) -> int:
        return len(encode_request(FileUpload(off=off, data=bytes(k), name=name, len=total), 0))

    _check_fill(min(budget, MAX_MESSAGE), n, size_of)


@pytest.mark.parametrize(
    ("budget", "first", "later"), [(244, 176, 219), (380, 311, 354), (495, 426, 469), (2475, 2406, 2449)]
)
def test_reference_examples(budget: int, first: int, later: int) -> None:
    """smp-protocol.md §8: first chunk with len >= 65536 and a 32-byte sha; later chunks at off >= 65536."""
    sha = hashlib.sha256(b"image").digest()
    assert image_chunk_size(budget, 0, total=70000, sha=sha) == first
    assert image_chunk_size(budget, 70000) == later


def test_fit_data_edges() -> None:
    assert fit_data(100, 101) == 0  # even empty data does not fit
    assert fit_data(10, 10) == 0
    assert fit_data(34, 10) == 23  # 24 bytes would need a 2-byte bstr header: one byte stays unused
    assert fit_data(35, 10) == 24


def _ble_upload_records() -> list[dict[str, Any]]:
    records = json.loads(BLE_CORPUS.read_text())
    return [r for r in records if r["case"].startswith("img_upload_window") and r["chunk_data_bytes"] == 2451]


def test_observed_ble_upload_chunks() -> None:
    """zephyr-ble-observations §4: a 66088-byte image at buf 2475 goes as 2406 then 2451-byte chunks."""
    records = _ble_upload_records()
    assert records
    for record in records:
        total = int(record["image_file_len"])
        sha = bytes.fromhex(record["image_file_sha256"])
        assert total == 66088
        for chunk in record["chunks_sent"]:
            off = chunk["off"]
            fields: dict[str, Any] = {"total": total, "sha": sha} if off == 0 else {}
            n = min(image_chunk_size(2475, off, **fields), total - off)
            assert n == chunk["size"], chunk
            request = ImageUpload(off=off, data=bytes(n), len=fields.get("total"), sha=fields.get("sha"))
            assert len(encode_request(request, chunk["seq"])) == chunk["packet_len"]
    assert image_chunk_size(2475, 0, total=66088, sha=sha) == 2406
    assert image_chunk_size(2475, 2406) == 2451
