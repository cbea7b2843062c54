"""OS group (0): echo, taskstat, mpstat, datetime, reset, params, info, bootloader info."""

from __future__ import annotations

import re
import time
from datetime import datetime, timezone
from typing import Any

from smpkit.simulator.handlers import READ, WRITE, Call, Command, GroupError, MgmtError, args

GROUP = 0
NAME = "os mgmt"
INVALID_FORMAT, QUERY_YIELDS_NO_ANSWER, RTC_NOT_SET = 2, 3, 4


def echo(call: Call) -> dict[str, Any]:
    # Zephyr 4.4 answers a missing "d" with "" (observations §3).
    found = args(call.body, {"d": "tstr"})
    return {"r": found.get("d", "")}


def taskstat(call: Call) -> dict[str, Any]:
    tasks: dict[str, Any] = {}
    for tid, thread in enumerate(call.device.profile.threads):
        if thread.name in tasks:
            continue
        tasks[thread.name] = {
            "prio": thread.prio,
            "tid": tid,
            "state": thread.state,
        }
        if call.device.profile.taskstat_stack_info:
            tasks[thread.name].update(stksiz=thread.stksiz, stkuse=thread.stkuse)
    return {"tasks": tasks}


def mpstat(call: Call) -> dict[str, Any]:
    used = 1024 + (call.device.uptime_ms // 1000) % 512
    return {"mpools": {"heap0": {"blksiz": 1, "nblks": 16384, "nfree": 16384 - used, "min": 16384 - 2048}}}


# Six decimal fields, each followed by one delimiter; optional .ms; the rest ignored (os_mgmt.c).
_DATETIME = re.compile(r"^(\d{4}).(\d{1,2}).(\d{1,2}).(\d{1,2}).(\d{1,2}).(\d{1,2})(?:\.(\d{1,3}))?")


def datetime_get(call: Call) -> dict[str, Any]:
    offset = call.device.rtc_offset
    if offset is None:
        raise GroupError(GROUP, RTC_NOT_SET)
    now = datetime.fromtimestamp(time.monotonic() + offset, tz=timezone.utc)
    text = now.strftime("%Y-%m-%dT%H:%M:%S")
    if call.device.profile.datetime_ms:
        text += f".{now.microsecond // 1000:03d}"
    return {"datetime": text}


def datetime_set(call: Call) -> dict[str, Any]:
    text = args(call.body, {"datetime": "tstr"}).get("datetime")
    if text is None or not 19 <= len(text) < 32:
        raise MgmtError(3)
    match = _DATETIME.match(text)
    if match is None:
        raise MgmtError(3)
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    millis = int(match.group(7) or 0)
    try:
        moment = datetime(year, month, day, hour, minute, second, millis * 1000, tzinfo=timezone.utc)
    except ValueError:
        raise MgmtError(3) from None
    call.device.rtc_offset = moment.timestamp() - time.monotonic()
    return {}


def reset(call: Call) -> dict[str, Any]:
    # force / boot_mode decode failures are ignored by Zephyr; nothing here refuses a reset.
    call.device.request_reset()
    return {}


def params(call: Call) -> dict[str, Any]:
    profile = call.device.profile
    return {"buf_size": profile.buf_size, "buf_count": profile.buf_count}


def info(call: Call) -> dict[str, Any]:
    fmt = args(call.body, {"format": "tstr"}).get("format", "")
    output = call.device.profile.os_info.render(fmt)
    if output is None:
        raise GroupError(GROUP, INVALID_FORMAT)
    if len(output) > call.device.profile.os_info_max_response:
        raise MgmtError(7)
    return {"output": output}


def bootloader_info(call: Call) -> dict[str, Any]:
    profile = call.device.profile
    query = args(call.body, {"query": "tstr"}).get("query")
    if query is None:
        return {"bootloader": profile.bootloader_name}
    if query == "mode":
        body: dict[str, Any] = {"mode": profile.bootloader_mode}
        if profile.bootloader_no_downgrade:
            body["no-downgrade"] = True
        return body
    if query == "active":
        return {"active": 0}
    raise GroupError(GROUP, QUERY_YIELDS_NO_ANSWER)


COMMANDS = {
    (0, READ): Command(echo),
    (0, WRITE): Command(echo),
    (2, READ): Command(taskstat, takes_args=False),
    (3, READ): Command(mpstat, takes_args=False),
    (4, READ): Command(datetime_get, takes_args=False),
    (4, WRITE): Command(datetime_set),
    (5, WRITE): Command(reset, takes_args=False),
    (6, READ): Command(params, takes_args=False),
    (7, READ): Command(info),
    (8, READ): Command(bootloader_info),
}
