"""Zephyr basic group (63): erase the storage partition (where settings are saved)."""

from __future__ import annotations

from typing import Any

from smpkit.simulator.handlers import WRITE, Call, Command

GROUP = 63
NAME = "zephyr basic mgmt"


def storage_erase(call: Call) -> dict[str, Any]:
    device = call.device
    device.settings_saved = {}
    device.storage_erases += 1
    device.changed("settings")
    return {}


COMMANDS = {(0, WRITE): Command(storage_erase, takes_args=False)}
