"""Settings group (3): an in-memory settings store; `save` keeps it across reboots."""

from __future__ import annotations

from typing import Any

from smpkit.simulator.device import Device
from smpkit.simulator.handlers import READ, WRITE, Call, Command, GroupError, MgmtError, args

GROUP = 3
NAME = "settings mgmt"
KEY_TOO_LONG, KEY_NOT_FOUND, ROOT_KEY_NOT_FOUND, SAVE_NOT_SUPPORTED = 2, 3, 5, 8


def _name(call: Call) -> str:
    name: str = args(call.body, {"name": "tstr"}).get("name", "")
    if not name:
        raise MgmtError(3)
    if len(name) >= call.device.profile.settings_name_len:
        raise GroupError(GROUP, KEY_TOO_LONG)
    return name


def _check_root(device: Device, name: str) -> None:
    roots = device.profile.settings_handlers
    if roots is not None and name.split("/", 1)[0] not in roots:
        raise GroupError(GROUP, ROOT_KEY_NOT_FOUND)


def read(call: Call) -> dict[str, Any]:
    name = _name(call)
    requested = args(call.body, {"max_size": "uint"}).get("max_size")
    device = call.device
    _check_root(device, name)
    if name not in device.settings:
        raise GroupError(GROUP, KEY_NOT_FOUND)
    limit = device.profile.settings_value_len
    max_size = limit if requested is None else min(requested, limit)
    body: dict[str, Any] = {"val": device.settings[name][:max_size]}
    if requested is not None and requested > limit:
        body["max_size"] = limit
    return body


def write(call: Call) -> dict[str, Any]:
    name = _name(call)
    device = call.device
    _check_root(device, name)
    value = args(call.body, {"val": "bstr"}).get("val")
    if value is None:
        raise MgmtError(3)
    if len(value) > device.profile.settings_value_len:
        raise MgmtError(3)
    device.settings[name] = value
    return {}


def delete(call: Call) -> dict[str, Any]:
    name = _name(call)
    device = call.device
    if device.profile.settings_handlers is not None and name.split("/", 1)[0] not in device.profile.settings_handlers:
        raise GroupError(GROUP, KEY_NOT_FOUND)
    if name not in device.settings:
        raise GroupError(GROUP, KEY_NOT_FOUND)
    del device.settings[name]
    device.settings_saved.pop(name, None)
    device.changed("settings")
    return {}


def commit(call: Call) -> dict[str, Any]:
    return {}


def load(call: Call) -> dict[str, Any]:
    call.device.settings.update(call.device.settings_saved)
    return {}


def save(call: Call) -> dict[str, Any]:
    device = call.device
    if device.profile.settings_handlers is not None:
        raise GroupError(GROUP, SAVE_NOT_SUPPORTED)
    device.settings_saved = dict(device.settings)
    device.changed("settings")
    return {}


COMMANDS = {
    (0, READ): Command(read),
    (0, WRITE): Command(write),
    (1, WRITE): Command(delete),
    (2, WRITE): Command(commit, takes_args=False),
    (3, READ): Command(load, takes_args=False),
    (3, WRITE): Command(save, takes_args=False),
}
