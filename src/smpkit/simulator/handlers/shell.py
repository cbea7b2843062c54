"""Shell group (9): run a command of a small built-in shell."""

from __future__ import annotations

from typing import Any

from smpkit.simulator.device import Device
from smpkit.simulator.handlers import WRITE, Call, Command, GroupError, MgmtError, args

GROUP = 9
NAME = "shell mgmt"
COMMAND_TOO_LONG, EMPTY_COMMAND = 2, 3
ENOEXEC = -8


def run_line(device: Device, argv: list[str]) -> tuple[str, int]:
    """(output, return value) of one command line, formatted like Zephyr's dummy shell backend."""
    known = device.profile.shell_commands
    line = " ".join(argv)
    for command in sorted(known, key=len, reverse=True):
        words = command.split()
        if argv[: len(words)] == words:
            return _builtin(device, command, argv[len(words) :])
    return f"\r\n\x1b[1;31m{argv[0]}: command not found\r\n\x1b[m", ENOEXEC if line else 0


def _builtin(device: Device, command: str, rest: list[str]) -> tuple[str, int]:
    if command == "kernel uptime":
        return f"\r\nUptime: {device.uptime_ms} ms\r\n", 0
    if command == "kernel version":
        return f"\r\nZephyr version {device.profile.os_info.kernel_version}\r\n", 0
    if command == "echo":
        return f"\r\n{' '.join(rest)}\r\n", 0
    if command == "help":
        names = "\r\n".join(f"  {c}" for c in sorted(device.profile.shell_commands))
        return f"\r\nAvailable commands:\r\n{names}\r\n", 0
    return "\r\n", 0


def execute(call: Call) -> dict[str, Any]:
    argv = args(call.body, {"argv": "list"}).get("argv")
    if argv is None or not all(isinstance(a, str) for a in argv):
        raise MgmtError(3)
    if not argv:
        raise GroupError(GROUP, EMPTY_COMMAND)
    if len(" ".join(argv)) >= call.device.profile.shell_cmd_buf:
        raise GroupError(GROUP, COMMAND_TOO_LONG)
    output, ret = run_line(call.device, argv)
    return {"o": output, "ret": ret}


COMMANDS = {(0, WRITE): Command(execute)}
