"""Every request and response model: CBOR round trips and the decoding rules of real devices."""

from __future__ import annotations

from typing import Any

import cbor2
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from smpkit.protocol import (
    Header,
    Op,
    SMPDecodeError,
    Version,
    decode_body,
    decode_message,
    encode_message,
    encode_request,
    parse_response,
    request_class,
)
from smpkit.protocol.groups.enumeration import EnumSingleResponse
from smpkit.protocol.groups.image import ImageStateResponse, ImageUpload
from smpkit.protocol.groups.os import BootloaderInfoResponse, Echo, MemoryPool, MemoryPoolStatsResponse
from smpkit.protocol.groups.shell import ShellExecResponse
from smpkit.protocol.groups.stat import StatShowResponse
from smpkit.protocol.groups.user import RawRequest, RawResponse
from smpkit.protocol.model import Model, Request

from .models import (
    ALL_MODELS,
    CBOR_VALUES,
    REQUESTS,
    TEXT,
    field_types,
    indefinite,
    is_required,
    model_id,
    model_strategy,
    sample_model,
    wire_key,
    wrong_values,
)

FAST = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Each test runs once per model class, so a few dozen examples each keep the whole file quick.


def _roundtrip(model: Model) -> Any:
    return type(model).from_body(decode_body(cbor2.dumps(model.to_body())))


@pytest.mark.parametrize("cls", ALL_MODELS, ids=model_id)
@FAST
@given(data=st.data())
def test_to_body_cbor_from_body_roundtrip(cls: type[Model], data: st.DataObject) -> None:
    model = data.draw(model_strategy(cls))
    assert _roundtrip(model) == model


@pytest.mark.parametrize("cls", ALL_MODELS, ids=model_id)
@FAST
@given(data=st.data())
def test_indefinite_length_maps_decode_the_same(cls: type[Model], data: st.DataObject) -> None:
    model = data.draw(model_strategy(cls))
    raw = indefinite(model.to_body())
    assert raw[:1] == b"\xbf"
    assert type(model).from_body(decode_body(raw)) == model


@pytest.mark.parametrize("cls", ALL_MODELS, ids=model_id)
@FAST
@given(data=st.data())
def test_unknown_keys_are_ignored(cls: type[Model], data: st.DataObject) -> None:
    model = data.draw(model_strategy(cls))
    known = {wire_key(f) for f, _ in field_types(cls)}
    extra = data.draw(st.dictionaries(TEXT.filter(lambda k: k not in known), CBOR_VALUES, min_size=1, max_size=3))
    body = {**extra, **model.to_body()}
    assert cls.from_body(decode_body(cbor2.dumps(body))) == model


@pytest.mark.parametrize("cls", REQUESTS, ids=model_id)
@FAST
@given(data=st.data(), sequence=st.integers(0, 255), version=st.sampled_from(list(Version)))
def test_request_message_roundtrip(cls: type[Request[Any]], data: st.DataObject, sequence: int, version: int) -> None:
    request = data.draw(model_strategy(cls))
    message = decode_message(encode_request(request, sequence, version))
    h = message.header
    assert (h.group, h.command, h.op, h.sequence, h.version, h.flags) == (
        cls.GROUP,
        cls.COMMAND,
        cls.OP,
        sequence,
        version,
        0,
    )
    found = request_class(h.group, h.command, h.op)
    assert found is cls
    assert found.from_body(message.body) == request


@pytest.mark.parametrize("cls", REQUESTS, ids=model_id)
@FAST
@given(data=st.data(), sequence=st.integers(0, 255), legacy_rc=st.booleans())
def test_response_message_roundtrip(
    cls: type[Request[Any]], data: st.DataObject, sequence: int, legacy_rc: bool
) -> None:
    """The response as a server sends it (optionally with Zephyr 3.x's `"rc": 0`) parses back."""
    request = sample_model(cls)
    response = data.draw(model_strategy(cls.RESPONSE))
    body = {**response.to_body(), "rc": 0} if legacy_rc else response.to_body()
    header = Header(cls.OP.response, Version.V2, 0, 0, cls.GROUP, sequence, cls.COMMAND)
    message = decode_message(encode_message(header, body))
    assert message.header == Header(
        cls.OP.response, Version.V2, 0, message.header.length, cls.GROUP, sequence, cls.COMMAND
    )
    assert parse_response(request, message.body) == response


def _field_cases() -> list[tuple[type[Model], str, Any]]:
    cases = []
    for cls in ALL_MODELS:
        for f, tp in field_types(cls):
            cases += [(cls, f.name, wrong) for wrong in wrong_values(tp)]
    return cases


@pytest.mark.parametrize(
    ("cls", "name", "wrong"), _field_cases(), ids=lambda v: model_id(v) if isinstance(v, type) else repr(v)
)
def test_wrong_value_type_is_a_decode_error(cls: type[Model], name: str, wrong: Any) -> None:
    f = next(f for f, _ in field_types(cls) if f.name == name)
    body = sample_model(cls).to_body()
    body[wire_key(f)] = wrong
    with pytest.raises(SMPDecodeError):
        cls.from_body(decode_body(cbor2.dumps(body)))


def _required_cases() -> list[tuple[type[Model], str]]:
    # Memory pools without "mpools" are read as the top-level shape (see the test below).
    return [
        (cls, wire_key(f))
        for cls in ALL_MODELS
        for f, _ in field_types(cls)
        if is_required(f) and cls is not MemoryPoolStatsResponse
    ]


@pytest.mark.parametrize(("cls", "key"), _required_cases(), ids=lambda v: model_id(v) if isinstance(v, type) else v)
def test_missing_required_key_is_a_decode_error(cls: type[Model], key: str) -> None:
    body = sample_model(cls).to_body()
    del body[key]
    with pytest.raises(SMPDecodeError, match=key):
        cls.from_body(body)


def test_nested_wrong_types_name_the_path() -> None:
    with pytest.raises(SMPDecodeError, match=r"images\[0\]\.slot"):
        ImageStateResponse.from_body({"images": [{"slot": "0", "version": "1"}]})


def test_map_keys_must_be_text() -> None:
    with pytest.raises(SMPDecodeError, match="key"):
        StatShowResponse.from_body({"name": "g", "fields": {1: 2}})


def test_echo_without_d_is_the_empty_string() -> None:
    """Zephyr 4.4 answers an echo without `d` with `""` (zephyr-4.4-observations §3)."""
    assert Echo.from_body({}) == Echo(d="")


def test_flags_a_device_only_sends_when_set_are_left_out() -> None:
    assert EnumSingleResponse(group=3).to_body() == {"group": 3}
    assert EnumSingleResponse(group=3, end=True).to_body() == {"group": 3, "end": True}
    assert BootloaderInfoResponse(bootloader="MCUboot").to_body() == {"bootloader": "MCUboot"}
    assert BootloaderInfoResponse(mode=1, no_downgrade=True).to_body() == {"mode": 1, "no-downgrade": True}


def test_memory_pools_accept_both_shapes() -> None:
    pool = MemoryPool(blksiz=1, nblks=100, nfree=40, min=10)
    wire = {"blksiz": 1, "nblks": 100, "nfree": 40, "min": 10}
    expected = MemoryPoolStatsResponse(mpools={"heap": pool})
    assert MemoryPoolStatsResponse.from_body({"mpools": {"heap": wire}}) == expected
    assert MemoryPoolStatsResponse.from_body({"heap": wire, "rc": 0}) == expected
    with pytest.raises(SMPDecodeError):
        MemoryPoolStatsResponse.from_body({"mpools": [wire]})


def test_shell_legacy_rc_is_the_command_result() -> None:
    assert ShellExecResponse.from_body({"o": "x", "rc": -8}) == ShellExecResponse(o="x", ret=-8)
    assert ShellExecResponse.from_body({"o": "x", "ret": 2, "rc": 0}) == ShellExecResponse(o="x", ret=2)


@FAST
@given(body=st.dictionaries(TEXT, CBOR_VALUES, max_size=4))
def test_raw_models_pass_maps_through(body: dict[str, Any]) -> None:
    assert RawResponse.from_body(decode_body(cbor2.dumps(body))) == RawResponse(body)
    assert RawResponse(body).to_body() == body


@FAST
@given(
    group=st.integers(64, 0xFFFF),
    command=st.integers(0, 255),
    op=st.sampled_from([Op.READ, Op.WRITE]),
    body=st.dictionaries(TEXT, CBOR_VALUES, max_size=4),
)
def test_raw_request_message_roundtrip(group: int, command: int, op: Op, body: dict[str, Any]) -> None:
    request = RawRequest(group, command, op, body)
    message = decode_message(encode_request(request, 9))
    assert (message.header.group, message.header.command, message.header.op) == (group, command, op)
    assert message.body == body
    assert request_class(group, command, op) is None
    assert parse_response(request, message.body) == RawResponse(body)


@FAST
@given(
    off=st.integers(0, 2**64 - 1),
    data=st.binary(max_size=300),
    length=st.none() | st.integers(0, 2**64 - 1),
    sha=st.none() | st.binary(max_size=40),
    image=st.none() | st.integers(0, 2**64 - 1),
    upgrade=st.none() | st.booleans(),
)
def test_image_upload_fast_encoder_matches_cbor2(
    off: int, data: bytes, length: int | None, sha: bytes | None, image: int | None, upgrade: bool | None
) -> None:
    request = ImageUpload(off=off, data=data, len=length, sha=sha, image=image, upgrade=upgrade)
    raw = encode_request(request, 1)
    assert raw[8:] == cbor2.dumps(request.to_body())


def test_image_upload_odd_values_fall_back_to_cbor2() -> None:
    for request in (ImageUpload(off=-1, data=b"x"), ImageUpload(off=1, data=bytearray(b"x"))):  # type: ignore[arg-type]
        assert encode_request(request, 1)[8:] == cbor2.dumps(request.to_body())


#: Where CBOR's integer and byte-string heads change width (1, 2, 3, 5 and 9 bytes).
_CBOR_EDGES = (0, 23, 24, 255, 256, 65535, 65536, 2**32 - 1, 2**32, 2**64 - 1)
_edge_uints = st.sampled_from(_CBOR_EDGES) | st.integers(0, 2**64 - 1)
_edge_sizes = st.sampled_from((0, 23, 24, 255, 256, 2475)) | st.integers(0, 600)


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    off=_edge_uints,
    data=_edge_sizes.flatmap(lambda n: st.binary(min_size=n, max_size=n)),
    length=st.none() | _edge_uints,
    sha=st.none() | st.sampled_from((b"", bytes(32), bytes(range(48)))) | st.binary(max_size=70),
    image=st.none() | _edge_uints,
    upgrade=st.none() | st.booleans(),
)
@example(off=0, data=b"", length=None, sha=None, image=None, upgrade=None)
@example(off=23, data=bytes(23), length=24, sha=bytes(32), image=0, upgrade=False)
@example(off=24, data=bytes(24), length=255, sha=bytes(24), image=23, upgrade=True)
@example(off=255, data=bytes(255), length=256, sha=None, image=24, upgrade=None)
@example(off=256, data=bytes(256), length=65535, sha=bytes(23), image=None, upgrade=True)
@example(off=65535, data=bytes(65000), length=65536, sha=bytes(256), image=255, upgrade=False)  # ~ the largest body
@example(off=65536, data=bytes(4096), length=2**32 - 1, sha=None, image=256, upgrade=None)
@example(off=2**32 - 1, data=b"\xff", length=2**32, sha=bytes(32), image=2**32, upgrade=True)
@example(off=2**32, data=bytes(2475), length=2**64 - 1, sha=None, image=2**64 - 1, upgrade=None)
@example(off=2**64 - 1, data=b"x", length=0, sha=b"", image=None, upgrade=False)
def test_image_upload_hand_written_encoder_at_the_cbor_edges(
    off: int, data: bytes, length: int | None, sha: bytes | None, image: int | None, upgrade: bool | None
) -> None:
    """The hand-written `ImageUpload` encoder (the one the codec benchmark measures) against cbor2,
    1000 examples plus every width change of CBOR's heads; and the bytes decode back to the fields."""
    request = ImageUpload(off=off, data=data, len=length, sha=sha, image=image, upgrade=upgrade)
    raw = encode_request(request, 1)
    assert raw[8:] == cbor2.dumps(request.to_body())
    assert int.from_bytes(raw[2:4], "big") == len(raw) - 8
    decoded = cbor2.loads(raw[8:])
    assert (decoded["off"], decoded["data"]) == (off, data)
    assert (decoded.get("len"), decoded.get("sha"), decoded.get("image"), decoded.get("upgrade")) == (
        length, sha, image, upgrade
    )


def test_image_upload_over_the_smp_length_field_is_refused() -> None:
    from smpkit.protocol.errors import SMPHeaderError

    with pytest.raises(SMPHeaderError):
        encode_request(ImageUpload(off=0, data=bytes(65536)), 1)
