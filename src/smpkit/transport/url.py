"""Connection strings: one text names a transport, its address and its options.

    udp://host:port            udp://[::1]:port
    serial:///dev/ttyACM0?baud=115200&raw=1&line_delay_ms=2       serial://COM3
    ble://NAME-or-ADDRESS      bumble://NAME-or-ADDRESS?hci=SPEC

BLE and Bumble transports are imported only when such a string is used.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from smpkit.transport.base import SMPTransport

SCHEMES = ("udp", "serial", "ble", "bumble")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


@dataclass(frozen=True)
class ConnectionString:
    """A parsed connection string: scheme, transport-specific address and options."""

    scheme: str
    address: str
    options: dict[str, str]

    def transport(self) -> SMPTransport:
        """A new, unconnected transport for this string."""
        return _FACTORIES[self.scheme](self.options)


def parse(url: str) -> ConnectionString:
    """Split `url` into scheme, address and options; raise ValueError when it is not one."""
    scheme, sep, _ = url.partition("://")
    scheme = scheme.lower()
    if not sep or scheme not in SCHEMES:
        raise ValueError(f"not a connection string: {url!r} (expected one of {', '.join(s + '://' for s in SCHEMES)})")
    parts = urlsplit(url)
    options = dict(parse_qsl(parts.query, keep_blank_values=True))
    if scheme == "serial":
        address = unquote(parts.netloc + parts.path)
    else:
        # BLE addresses hold colons and names may hold spaces: take the text as written.
        address = unquote(parts.netloc + parts.path.rstrip("/"))
    if not address:
        raise ValueError(f"no address in connection string {url!r}")
    return ConnectionString(scheme, address, options)


def open_url(url: str) -> tuple[SMPTransport, str]:
    """The transport for `url` and the address to pass to its `connect()`."""
    parsed = parse(url)
    return parsed.transport(), parsed.address


def _flag(options: dict[str, str], key: str, default: bool = False) -> bool:
    value = options.pop(key, None)
    if value is None:
        return default
    if value.lower() in _TRUE or value == "":
        return True
    if value.lower() in _FALSE:
        return False
    raise ValueError(f"option {key}={value!r} is not a boolean")


def _number(text: str) -> int | float:
    try:
        return int(text)
    except ValueError:
        return float(text)


def _reject_unknown(scheme: str, options: dict[str, str]) -> None:
    if options:
        raise ValueError(f"unknown {scheme}:// option(s): {', '.join(sorted(options))}")


def _udp(options: dict[str, str]) -> SMPTransport:
    from smpkit.transport.udp import SMPUDPTransport

    options = dict(options)
    mtu = int(options["mtu"]) if "mtu" in options else None
    options.pop("mtu", None)
    _reject_unknown("udp", options)
    return SMPUDPTransport(mtu=mtu)


def _serial(options: dict[str, str]) -> SMPTransport:
    from smpkit.transport.serial import DEFAULT_LINE_DELAY_MS, SMPSerialTransport

    options = dict(options)
    baud = int(options.pop("baud", options.pop("baudrate", "115200")))
    raw = _flag(options, "raw")
    rtscts = _flag(options, "rtscts")
    delay = float(options.pop("line_delay_ms", DEFAULT_LINE_DELAY_MS))
    line_bytes = int(options.pop("line_bytes", "93"))
    _reject_unknown("serial", options)
    return SMPSerialTransport(baud, raw=raw, line_delay_ms=delay, line_bytes=line_bytes, rtscts=rtscts)


def _lazy(module: str, *names: str) -> Callable[[dict[str, str]], SMPTransport]:
    def make(options: dict[str, str]) -> SMPTransport:
        mod = importlib.import_module(module)
        cls = next((getattr(mod, n) for n in names if hasattr(mod, n)), None)
        if cls is None:
            raise ValueError(f"{module} has no transport class ({' or '.join(names)})")
        kwargs: dict[str, Any] = {
            k: _number(v) if v.lstrip("-").replace(".", "", 1).isdigit() else v for k, v in options.items()
        }
        try:
            transport: SMPTransport = cls(**kwargs)
        except TypeError as exc:
            raise ValueError(f"bad options for {module}: {exc}") from exc
        return transport

    return make


_FACTORIES: dict[str, Callable[[dict[str, str]], SMPTransport]] = {
    "udp": _udp,
    "serial": _serial,
    "ble": _lazy("smpkit.transport.ble", "SMPBLETransport"),
    "bumble": _lazy("smpkit.transport.bumble", "SMPBumbleTransport", "BumbleTransport"),
}
