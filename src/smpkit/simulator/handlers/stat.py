"""Statistics group (2): group data and the list of groups."""

from __future__ import annotations

from typing import Any

from smpkit.simulator.handlers import READ, Call, Command, GroupError, MgmtError, args

GROUP = 2
NAME = "stat mgmt"
INVALID_STAT_NAME = 3


def show(call: Call) -> dict[str, Any]:
    name = args(call.body, {"name": "tstr"}).get("name", "")
    if not name:
        raise MgmtError(3)
    try:
        fields = call.device.stat_values(name)
    except KeyError:
        # Zephyr 4.4 reports group 2 here (older builds said 63).
        raise GroupError(GROUP, INVALID_STAT_NAME) from None
    if fields is None:
        raise MgmtError(7)
    return {"name": name, "fields": fields}


def stat_list(call: Call) -> dict[str, Any]:
    names = list(call.device.profile.stat_groups)
    return {"rc": 0, "stat_list": names} if call.device.profile.stat_list_rc0 else {"stat_list": names}


COMMANDS = {
    (0, READ): Command(show),
    (1, READ): Command(stat_list, takes_args=False),
}
