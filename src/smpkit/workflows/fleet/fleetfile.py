"""The fleet file: the devices file with `host`, `tags` and `board` added.

Both forms are read, in file order:

```toml
[[device]]                  # the fleet form: one table per device
name = "rack1-01"
conn = "udp://10.0.0.11:1337"
host = "gw1"
tags = ["rack1", "canary"]

[devices.bench-board]       # the devices-file form (`smpkit --device NAME`)
serial = "/dev/ttyACM0"
host = "gw2"
```
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from smpkit.protocol.errors import SMPError
from smpkit.workflows.fleet.model import FleetDevice

#: Turns a devices-file entry without `conn` (udp/serial/ble keys) into a connection string.
ConnResolver = Callable[[str, dict[str, Any]], str]
FLEET_KEYS = {"name", "conn", "host", "tags", "board", "timeout", "retries", "description"}
_FLEET_ONLY = {"name", "host", "tags", "board"}


class FleetFileError(SMPError, ValueError):
    """The fleet file cannot be read or says something impossible."""


def load_fleet(path: Path, resolve: ConnResolver | None = None) -> list[FleetDevice]:
    data = _parse(path)
    devices: list[FleetDevice] = []
    listed = data.get("device", [])
    if not isinstance(listed, list) or not all(isinstance(e, dict) for e in listed):
        raise FleetFileError(f"{path}: `device` must be [[device]] tables")
    for index, entry in enumerate(listed):
        name = entry.get("name")
        if not isinstance(name, str) or not name:
            raise FleetFileError(f"{path}: [[device]] number {index + 1} has no name")
        devices.append(_device(path, name, entry, resolve))
    table = data.get("devices", {})
    if not isinstance(table, dict):
        raise FleetFileError(f"{path}: `devices` must be [devices.NAME] tables")
    for name, entry in table.items():
        if not isinstance(entry, dict):
            raise FleetFileError(f"{path}: [devices.{name}] must be a table")
        devices.append(_device(path, str(name), entry, resolve))
    seen: set[str] = set()
    for device in devices:
        if device.name in seen:
            raise FleetFileError(f"{path}: two devices named {device.name!r}")
        seen.add(device.name)
    if not devices:
        raise FleetFileError(f"{path}: no devices (add [[device]] tables with name and conn)")
    return devices


def _device(path: Path, name: str, entry: dict[str, Any], resolve: ConnResolver | None) -> FleetDevice:
    conn = entry.get("conn")
    if conn is None and resolve is not None:
        conn = resolve(name, {k: v for k, v in entry.items() if k not in _FLEET_ONLY})
    elif resolve is None and (unknown := set(entry) - FLEET_KEYS):
        raise FleetFileError(f"{path}: device {name!r} has unknown keys {sorted(unknown)}")
    if not isinstance(conn, str) or not conn:
        raise FleetFileError(f"{path}: device {name!r} has no connection (give conn = \"udp://...\")")
    tags = entry.get("tags", [])
    if isinstance(tags, str):
        tags = [tags]
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise FleetFileError(f"{path}: device {name!r}: tags must be a list of strings")
    host, board = entry.get("host"), entry.get("board")
    for key, value in (("host", host), ("board", board)):
        if value is not None and not isinstance(value, str):
            raise FleetFileError(f"{path}: device {name!r}: {key} must be a string")
    timeout, retries = entry.get("timeout"), entry.get("retries")
    return FleetDevice(name, conn, host or None, tuple(tags), board or None,
                       float(timeout) if timeout is not None else None, int(retries) if retries is not None else None)


def _parse(path: Path) -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        try:
            import tomli as tomllib  # type: ignore[import-not-found,no-redef,unused-ignore]
        except ImportError as exc:
            raise FleetFileError(f"{path}: reading TOML on Python 3.10 needs `pip install tomli`") from exc
    try:
        with Path(path).open("rb") as fh:
            data: dict[str, Any] = tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise FleetFileError(f"{path}: {exc}") from exc
    return data


def select(devices: list[FleetDevice], tags: list[str]) -> list[FleetDevice]:
    """Devices carrying every tag in `tags` (all devices when empty), in file order."""
    wanted = set(tags)
    return [d for d in devices if wanted <= set(d.tags)]
