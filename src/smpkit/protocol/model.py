"""Declarative request/response models and their CBOR map conversion.

A model is a frozen dataclass. Its fields map to CBOR map keys of the same name
unless `wire("other-key")` says otherwise. Field types drive validation of what a
device (or client) sent: a wrong type raises `SMPDecodeError`, unknown keys are
ignored, and fields with defaults are optional.
"""

from __future__ import annotations

import dataclasses
import sys
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, TypeVar, Union

from smpkit.protocol.errors import SMPDecodeError
from smpkit.protocol.header import Op

if sys.version_info >= (3, 11):
    from typing import Self
else:  # pragma: no cover
    from typing_extensions import Self

Converter = Callable[[Any, str], Any]


def wire(key: str | None = None, default: Any = dataclasses.MISSING, *, omit_default: bool = False) -> Any:
    """A dataclass field whose CBOR key differs from its Python name (`key=None`: the same name).

    `omit_default=True` leaves the field out of `to_body()` while it equals its default,
    for flags a device only sends when set (`"end": true`, `"no-downgrade": true`).
    """
    metadata: dict[str, Any] = {"omit_default": omit_default}
    if key is not None:
        metadata["key"] = key
    if default is dataclasses.MISSING:
        return field(metadata=metadata)
    return field(default=default, metadata=metadata)


@dataclass(frozen=True, slots=True)
class _FieldSpec:
    name: str
    key: str
    required: bool
    convert: Converter
    #: `to_body()` leaves the field out when it equals this (always None; the default with omit_default).
    omit: Any = None


def _fail(where: str, expected: str, value: Any) -> SMPDecodeError:
    return SMPDecodeError(f"{where}: expected {expected}, got {type(value).__name__} {value!r:.60}")


def _check_int(value: Any, where: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise _fail(where, "an integer", value)


def _check_str(value: Any, where: str) -> str:
    if isinstance(value, str):
        return value
    raise _fail(where, "a text string", value)


def _check_bytes(value: Any, where: str) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, (bytearray, memoryview)):
        return bytes(value)
    raise _fail(where, "a byte string", value)


def _check_bool(value: Any, where: str) -> bool:
    if isinstance(value, bool):
        return value
    raise _fail(where, "a boolean", value)


def _check_any(value: Any, where: str) -> Any:
    return value


_SIMPLE: dict[Any, Converter] = {
    int: _check_int,
    str: _check_str,
    bytes: _check_bytes,
    bool: _check_bool,
    Any: _check_any,
    object: _check_any,
}


def _converter_for(tp: Any) -> Converter:
    if tp in _SIMPLE:
        return _SIMPLE[tp]
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (Union, types.UnionType):
        options = [a for a in args if a is not type(None)]
        allow_none = len(options) != len(args)
        inner = [_converter_for(a) for a in options]
        return _union_converter(inner, allow_none, " or ".join(getattr(a, "__name__", str(a)) for a in options))
    if origin is list:
        item = _converter_for(args[0])
        return _list_converter(item)
    if origin is dict:
        value = _converter_for(args[1])
        return _dict_converter(value)
    if isinstance(tp, type) and issubclass(tp, Model):
        return _model_converter(tp)
    raise TypeError(f"unsupported model field type {tp!r}")


def _union_converter(inner: list[Converter], allow_none: bool, label: str) -> Converter:
    def convert(value: Any, where: str) -> Any:
        if value is None and allow_none:
            return None
        for option in inner:
            try:
                return option(value, where)
            except SMPDecodeError:
                continue
        raise _fail(where, label, value)

    return convert


def _list_converter(item: Converter) -> Converter:
    def convert(value: Any, where: str) -> list[Any]:
        if not isinstance(value, list):
            raise _fail(where, "an array", value)
        return [item(v, f"{where}[{i}]") for i, v in enumerate(value)]

    return convert


def _dict_converter(item: Converter) -> Converter:
    def convert(value: Any, where: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise _fail(where, "a map", value)
        out: dict[str, Any] = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise _fail(f"{where} key", "a text string", k)
            out[k] = item(v, f"{where}.{k}")
        return out

    return convert


def _model_converter(cls: type[Model]) -> Converter:
    def convert(value: Any, where: str) -> Any:
        if not isinstance(value, dict):
            raise _fail(where, "a map", value)
        return cls.from_body(value, where)

    return convert


class Model:
    """Base of every request and response model (subclasses are dataclasses)."""

    __slots__ = ()
    _specs: ClassVar[tuple[_FieldSpec, ...] | None] = None

    @classmethod
    def _field_specs(cls) -> tuple[_FieldSpec, ...]:
        specs = cls.__dict__.get("_specs")
        if specs is None:
            hints = typing.get_type_hints(cls)
            specs = tuple(
                _FieldSpec(
                    f.name,
                    f.metadata.get("key", f.name),
                    f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING,
                    _converter_for(hints[f.name]),
                    f.default if f.metadata.get("omit_default") else None,
                )
                for f in dataclasses.fields(cls)  # type: ignore[arg-type]
            )
            cls._specs = specs
        return specs

    @classmethod
    def from_body(cls, body: Mapping[str, Any], where: str | None = None) -> Self:
        """Build the model from a decoded CBOR map; raise `SMPDecodeError` if it does not fit."""
        where = where or cls.__name__
        kwargs: dict[str, Any] = {}
        for spec in cls._field_specs():
            if spec.key in body:
                value = body[spec.key]
                kwargs[spec.name] = spec.convert(value, f"{where}.{spec.key}")
            elif spec.required:
                raise SMPDecodeError(f"{where}: missing required key {spec.key!r}")
        return cls(**kwargs)

    def to_body(self) -> dict[str, Any]:
        """The CBOR map of this model; fields that are None are left out."""
        body: dict[str, Any] = {}
        for spec in self._field_specs():
            value = getattr(self, spec.name)
            if value is None or (spec.omit is not None and value == spec.omit):
                continue
            if isinstance(value, Model):
                value = value.to_body()
            elif isinstance(value, list):
                value = [v.to_body() if isinstance(v, Model) else v for v in value]
            elif isinstance(value, dict):
                value = {k: v.to_body() if isinstance(v, Model) else v for k, v in value.items()}
            body[spec.key] = value
        return body


class Response(Model):
    """A successful response body."""

    __slots__ = ()
    #: True when a legacy `"rc"` next to the payload is the command's own result, not an SMP error.
    RC_IS_RESULT: ClassVar[bool] = False


ResponseT = TypeVar("ResponseT", bound=Response)

#: Every request class by (group, command, op): used by servers and decoders.
REQUESTS: dict[tuple[int, int, int], type[Request[Any]]] = {}


class Request(Model, Generic[ResponseT]):
    """A request model. Subclasses set GROUP, COMMAND, OP and RESPONSE."""

    __slots__ = ()
    GROUP: ClassVar[int]
    COMMAND: ClassVar[int]
    OP: ClassVar[Op]
    RESPONSE: ClassVar[type[Response]]
    #: True when resending the request cannot change the device's state twice.
    IDEMPOTENT: ClassVar[bool] = True

    def __init_subclass__(
        cls,
        *,
        group: int | None = None,
        command: int | None = None,
        op: Op | None = None,
        idempotent: bool | None = None,
        **kwargs: Any,
    ) -> None:
        """`class Echo(Request[EchoResponse], group=0, command=0, op=Op.WRITE)` declares a command.

        RESPONSE is taken from the generic argument. (dataclass(slots=True) re-creates the
        class without these keywords; the attributes set the first time carry over.)
        """
        super().__init_subclass__(**kwargs)
        if group is not None and command is not None and op is not None:
            cls.GROUP, cls.COMMAND, cls.OP = group, command, op
            cls.RESPONSE = _response_of(cls)
        if idempotent is not None:
            cls.IDEMPOTENT = idempotent
        if "GROUP" in cls.__dict__:
            REQUESTS[(cls.GROUP, cls.COMMAND, int(cls.OP))] = cls

    def target(self) -> tuple[int, int, Op]:
        """(group, command, op) of this request."""
        return self.GROUP, self.COMMAND, self.OP

    def _fast_cbor(self) -> bytes | None:
        """A hand-rolled CBOR body for hot requests; None lets the codec encode `to_body()`."""
        return None


def _response_of(cls: type) -> type[Response]:
    for base in getattr(cls, "__orig_bases__", ()):
        args = typing.get_args(base)
        if typing.get_origin(base) is Request and args and isinstance(args[0], type):
            return args[0]
    raise TypeError(f"{cls.__name__} must subclass Request[SomeResponse]")


def request_class(group: int, command: int, op: int) -> type[Request[Any]] | None:
    """The request model for a (group, command, op), or None if smpkit has none."""
    return REQUESTS.get((group, command, op))


@dataclass(frozen=True, slots=True)
class EmptyResponse(Response):
    """A response with no fields (`{}`)."""
