"""Enumeration group (10): which groups the device serves, in registration order."""

from __future__ import annotations

from typing import Any

from smpkit.simulator.handlers import READ, Call, Command, GroupError, args

GROUP = 10
NAME = "enum mgmt"
INDEX_TOO_LARGE = 4


def count(call: Call) -> dict[str, Any]:
    return {"count": len(call.device.profile.groups)}


def group_list(call: Call) -> dict[str, Any]:
    return {"groups": list(call.device.profile.groups)}


def single(call: Call) -> dict[str, Any]:
    index = args(call.body, {"index": "uint"}).get("index", 0)
    groups = call.device.profile.groups
    if index >= len(groups):
        raise GroupError(GROUP, INDEX_TOO_LARGE)
    body: dict[str, Any] = {"group": groups[index]}
    if index == len(groups) - 1:
        body["end"] = True
    return body


def details(call: Call) -> dict[str, Any]:
    wanted = args(call.body, {"groups": "list"}).get("groups")
    entries = [
        {"group": group, "name": name, "handlers": handlers}
        for group, name, handlers in call.device.group_details
        if wanted is None or group in wanted
    ]
    return {"groups": entries}


COMMANDS = {
    (0, READ): Command(count, takes_args=False),
    (1, READ): Command(group_list, takes_args=False),
    (2, READ): Command(single),
    (3, READ): Command(details),
}
