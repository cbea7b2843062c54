"""Where the device is: global flags, environment variables and the devices file -> one URL.

Precedence, first match wins:

1. `--conn URL`, `--udp`, `--serial`, `--ble` on the command line (only one of them);
2. `--device NAME` (or `SMPKIT_DEVICE`), looked up in the devices files;
3. `SMPKIT_CONN` (a connection string);
4. `default = "NAME"` in a devices file.

Devices files (TOML), later ones override earlier ones by device name:
`$XDG_CONFIG_HOME/smpkit/devices.toml` (default `~/.config/smpkit/devices.toml`),
`./smpkit.toml`, and the file named by `--config` / `SMPKIT_CONFIG`.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from smpkit.cli.errors import UsageError

DEFAULT_UDP_PORT = 1337
DEVICE_KEYS = {"conn", "udp", "serial", "baud", "raw", "ble", "hci", "timeout", "retries", "description"}
#: Keys a devices file may carry for `smpkit fleet` (one file format for named devices).
FLEET_KEYS = {"host", "tags", "board"}


@dataclass
class ConnectionFlags:
    """What the user typed (or the environment set) about the link."""

    conn: str | None = None
    udp: str | None = None
    serial: str | None = None
    baud: int | None = None
    raw: bool = False
    ble: str | None = None
    hci: str | None = None
    device: str | None = None
    config: Path | None = None
    env: dict[str, str] = field(default_factory=lambda: dict(os.environ))


@dataclass(frozen=True)
class Resolved:
    url: str
    #: Where the URL came from, for messages ("--udp", "device lab-board", ...).
    source: str
    timeout: float | None = None
    retries: int | None = None


def udp_url(spec: str) -> str:
    """`HOST[:PORT]`, `[V6]:PORT`, or a bare IPv6 address -> `udp://...`."""
    spec = spec.strip()
    if spec.startswith("udp://"):
        return spec
    if spec.startswith("["):
        host, _, rest = spec[1:].partition("]")
        port = rest.removeprefix(":") or str(DEFAULT_UDP_PORT)
        return f"udp://[{host}]:{_port(port, spec)}"
    if spec.count(":") > 1:  # bare IPv6
        return f"udp://[{spec}]:{DEFAULT_UDP_PORT}"
    host, _, port = spec.partition(":")
    if not host:
        raise UsageError(f"--udp {spec!r}: give a host, e.g. 127.0.0.1:1337")
    return f"udp://{host}:{_port(port or str(DEFAULT_UDP_PORT), spec)}"


def _port(text: str, spec: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise UsageError(f"bad UDP port in {spec!r}", "give HOST:PORT with PORT in 1..65535")
    return int(text)


def serial_url(port: str, baud: int | None = None, raw: bool = False) -> str:
    if port.startswith("serial://"):
        return port
    query = []
    if baud is not None:
        query.append(f"baud={baud}")
    if raw:
        query.append("raw=1")
    return f"serial://{port}" + ("?" + "&".join(query) if query else "")


def ble_url(name_or_address: str, hci: str | None = None) -> str:
    target = quote(name_or_address, safe=":-_.")
    if hci:
        return f"bumble://{target}?hci={quote(hci, safe=':/-_.@')}"
    return f"ble://{target}"


def _from_flags(f: ConnectionFlags) -> tuple[str, str] | None:
    given = [(name, v) for name, v in (("--conn", f.conn), ("--udp", f.udp), ("--serial", f.serial),
                                        ("--ble", f.ble)) if v]
    if len(given) > 1:
        raise UsageError(f"{given[0][0]} and {given[1][0]} both given", "choose one way to reach the device")
    if not given:
        if f.baud is not None or f.raw:
            raise UsageError("--baud/--raw need --serial PORT")
        if f.hci:
            raise UsageError("--hci needs --ble NAME|ADDRESS")
        return None
    flag, value = given[0]
    if flag == "--conn":
        return value, flag
    if flag == "--udp":
        return udp_url(value), flag
    if flag == "--serial":
        return serial_url(value, f.baud, f.raw), flag
    return ble_url(value, f.hci), flag


def config_paths(flags: ConnectionFlags) -> list[Path]:
    env = flags.env
    base = Path(env["XDG_CONFIG_HOME"]) if env.get("XDG_CONFIG_HOME") else Path(env.get("HOME", "~")) / ".config"
    paths = [base / "smpkit" / "devices.toml", Path("smpkit.toml")]
    explicit = flags.config or (Path(env["SMPKIT_CONFIG"]) if env.get("SMPKIT_CONFIG") else None)
    if explicit is not None:
        if not explicit.is_file():
            raise UsageError(f"config file {explicit} not found")
        paths.append(explicit)
    return paths


def load_devices(paths: list[Path]) -> tuple[dict[str, dict[str, Any]], str | None]:
    """Every `[devices.NAME]` table of the files that exist, and the last `default`."""
    devices: dict[str, dict[str, Any]] = {}
    default: str | None = None
    for path in paths:
        if not path.is_file():
            continue
        data = parse_toml(path)
        if isinstance(data.get("default"), str):
            default = data["default"]
        table = data.get("devices", {})
        if not isinstance(table, dict):
            raise UsageError(f"{path}: `devices` must be a table of [devices.NAME] entries")
        for name, entry in table.items():
            if not isinstance(entry, dict):
                raise UsageError(f"{path}: [devices.{name}] must be a table")
            unknown = set(entry) - DEVICE_KEYS - FLEET_KEYS
            if unknown:
                raise UsageError(f"{path}: [devices.{name}] has unknown keys {sorted(unknown)}",
                                 f"known keys: {', '.join(sorted(DEVICE_KEYS))}")
            devices[str(name)] = dict(entry)
    return devices, default


def parse_toml(path: Path) -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        try:
            import tomli as tomllib  # type: ignore[import-not-found,no-redef,unused-ignore]
        except ImportError as exc:
            raise UsageError(f"{path}: reading TOML on Python 3.10 needs `pip install tomli`") from exc
    try:
        with path.open("rb") as fh:
            data: dict[str, Any] = tomllib.load(fh)
            return data
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise UsageError(f"{path}: {exc}") from exc


def device_url(name: str, entry: dict[str, Any]) -> str:
    """The connection string of a devices-file entry (`conn`, `udp`, `serial`, `ble` keys)."""
    unknown = set(entry) - DEVICE_KEYS - FLEET_KEYS
    if unknown:
        raise UsageError(f"device {name!r} has unknown keys {sorted(unknown)}",
                         f"known keys: {', '.join(sorted(DEVICE_KEYS | FLEET_KEYS))}")
    return _device_entry(name, entry).url


def _device_entry(name: str, entry: dict[str, Any]) -> Resolved:
    sub = ConnectionFlags(
        conn=entry.get("conn"), udp=entry.get("udp"), serial=entry.get("serial"), baud=entry.get("baud"),
        raw=bool(entry.get("raw", False)), ble=entry.get("ble"), hci=entry.get("hci"),
    )
    found = _from_flags(sub)
    if found is None:
        raise UsageError(f"device {name!r} has no connection", "give it conn, udp, serial or ble")
    timeout, retries = entry.get("timeout"), entry.get("retries")
    return Resolved(found[0], f"device {name}", float(timeout) if timeout is not None else None,
                    int(retries) if retries is not None else None)


def resolve(flags: ConnectionFlags) -> Resolved:
    """The connection to use, or a `UsageError` telling how to give one."""
    found = _from_flags(flags)
    if found is not None:
        if flags.device:
            raise UsageError(f"{found[1]} and --device both given", "choose one way to reach the device")
        return Resolved(found[0], found[1])
    name = flags.device or flags.env.get("SMPKIT_DEVICE")
    if name or not flags.env.get("SMPKIT_CONN"):
        devices, default = load_devices(config_paths(flags))
        name = name or default
        if name:
            if name not in devices:
                known = ", ".join(sorted(devices)) or "none"
                raise UsageError(f"no device named {name!r} (known: {known})",
                                 "add it to ~/.config/smpkit/devices.toml or ./smpkit.toml")
            return _device_entry(name, devices[name])
    if flags.env.get("SMPKIT_CONN"):
        return Resolved(flags.env["SMPKIT_CONN"], "SMPKIT_CONN")
    raise UsageError("no device given",
                     "pass --udp HOST[:PORT], --serial PORT, --ble NAME or --device NAME (see `smpkit scan`)")
