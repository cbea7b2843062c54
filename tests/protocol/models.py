"""Discovery of every protocol model and value generators driven by the dataclass field types."""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Iterator
from typing import Any, Union

import cbor2
from hypothesis import strategies as st

from smpkit.protocol import all_groups
from smpkit.protocol.groups.user import RawRequest, RawResponse
from smpkit.protocol.model import EmptyResponse, Model, Request, Response

GROUP_MODULES = [getattr(all_groups, name) for name in all_groups.__all__]


def _discover() -> list[type[Model]]:
    found: list[type[Model]] = [EmptyResponse]
    for module in GROUP_MODULES:
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, Model)
                and dataclasses.is_dataclass(value)
                and value.__module__ == module.__name__
            ):
                found.append(value)
    return found


#: Every model class of every group (raw user-group models excluded: their fields are not wire keys).
ALL_MODELS: list[type[Model]] = [m for m in _discover() if m not in (RawRequest, RawResponse)]
REQUESTS: list[type[Request[Any]]] = [m for m in ALL_MODELS if issubclass(m, Request)]
RESPONSES: list[type[Response]] = [m for m in ALL_MODELS if issubclass(m, Response)]


def field_types(cls: type[Model]) -> Iterator[tuple[dataclasses.Field[Any], Any]]:
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        yield f, hints[f.name]


def wire_key(f: dataclasses.Field[Any]) -> str:
    key: str = f.metadata.get("key", f.name)
    return key


def is_required(f: dataclasses.Field[Any]) -> bool:
    return f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING


def _is_union(tp: Any) -> bool:
    return typing.get_origin(tp) in (Union, types.UnionType)


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, Model)


# --- hypothesis strategies -------------------------------------------------------------------

CBOR_INTS = st.integers(min_value=-(2**63), max_value=2**64 - 1)
TEXT = st.text(max_size=12)
CBOR_SCALARS = st.one_of(st.none(), st.booleans(), CBOR_INTS, TEXT, st.binary(max_size=16))
CBOR_VALUES = st.recursive(
    CBOR_SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=8,
)


def strategy_for(tp: Any) -> st.SearchStrategy[Any]:
    """Values of a model field type, as the model itself would hold them."""
    simple: dict[Any, st.SearchStrategy[Any]] = {
        int: CBOR_INTS,
        bool: st.booleans(),
        str: TEXT,
        bytes: st.binary(max_size=40),
        Any: CBOR_VALUES,
    }
    if tp in simple:
        return simple[tp]
    args = typing.get_args(tp)
    if _is_union(tp):
        return st.one_of(*[st.none() if a is type(None) else strategy_for(a) for a in args])
    if typing.get_origin(tp) is list:
        return st.lists(strategy_for(args[0]), max_size=3)
    if typing.get_origin(tp) is dict:
        return st.dictionaries(TEXT, strategy_for(args[1]), max_size=3)
    if _is_model(tp):
        return model_strategy(tp)
    raise TypeError(f"no strategy for {tp!r}")


def model_strategy(cls: type[Model]) -> st.SearchStrategy[Any]:
    return st.builds(cls, **{f.name: strategy_for(tp) for f, tp in field_types(cls)})


# --- deterministic samples and wrong values --------------------------------------------------


def sample_value(tp: Any) -> Any:
    """One valid value of a field type (the first option of a union)."""
    simple: dict[Any, Any] = {int: 1, bool: True, str: "s", bytes: b"b", Any: {"k": [1, "x"]}}
    if tp in simple:
        return simple[tp]
    args = typing.get_args(tp)
    if _is_union(tp):
        return sample_value(next(a for a in args if a is not type(None)))
    if typing.get_origin(tp) is list:
        return [sample_value(args[0])]
    if typing.get_origin(tp) is dict:
        return {"k": sample_value(args[1])}
    if _is_model(tp):
        return sample_model(tp)
    raise TypeError(f"no sample for {tp!r}")


def sample_model(cls: type[Model]) -> Any:
    return cls(**{f.name: sample_value(tp) for f, tp in field_types(cls)})


def accepts(tp: Any, value: Any) -> bool:
    """Shallow check: does a field of type `tp` take `value` as it is on the wire?"""
    if tp is Any:
        return True
    if tp is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if tp in (bool, str, bytes):
        return isinstance(value, tp)
    if _is_union(tp):
        return any(value is None if a is type(None) else accepts(a, value) for a in typing.get_args(tp))
    if typing.get_origin(tp) is list:
        return isinstance(value, list)
    if typing.get_origin(tp) is dict or _is_model(tp):
        return isinstance(value, dict)
    raise TypeError(f"unknown type {tp!r}")


_PLAUSIBLE_WRONG: list[Any] = [1.5, "7", b"7", 7, True, [7], {"k": 7}]


def wrong_values(tp: Any) -> list[Any]:
    """Wire values of the wrong type for a field (a float is wrong for every model field)."""
    return [v for v in _PLAUSIBLE_WRONG if not accepts(tp, v)]


def indefinite(value: Any) -> bytes:
    """CBOR with every map and array indefinite-length, as Zephyr's zcbor encoder sends them."""
    if isinstance(value, dict):
        return b"\xbf" + b"".join(indefinite(k) + indefinite(v) for k, v in value.items()) + b"\xff"
    if isinstance(value, list):
        return b"\x9f" + b"".join(indefinite(v) for v in value) + b"\xff"
    encoded: bytes = cbor2.dumps(value)
    return encoded


def model_id(cls: type[Any]) -> str:
    return f"{cls.__module__.rsplit('.', 1)[-1]}.{cls.__name__}"
