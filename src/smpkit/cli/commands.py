"""Commands that are one or a few requests: echo, reset, os, stat, settings, shell, enum, storage-erase.

They use the client's generic `request()` with the protocol core's models, so the
JSON output is the protocol's own map (bytes as hex).
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from smpkit.cli.context import State, state_of, with_client
from smpkit.cli.errors import CliError, ExitCode, UsageError

os_app = typer.Typer(help="OS group: device information, tasks, memory, clock, bootloader.", no_args_is_help=True)
stat_app = typer.Typer(help="Statistics group: counters the firmware keeps.", no_args_is_help=True)
settings_app = typer.Typer(help="Settings group: read and write the device's settings tree.", no_args_is_help=True)
datetime_app = typer.Typer(help="Show the device's clock, or set it with `set`.", invoke_without_command=True)


async def _request(client: Any, request: Any) -> Any:
    return await client.request(request)


def register(app: typer.Typer) -> None:
    app.command("echo")(echo)
    app.command("reset")(reset)
    app.add_typer(os_app, name="os")
    os_app.add_typer(datetime_app, name="datetime")
    app.add_typer(stat_app, name="stat")
    app.add_typer(settings_app, name="settings")
    app.command("shell", context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})(shell)
    app.command("enum")(enum)
    app.command("storage-erase")(storage_erase)


def echo(ctx: typer.Context, text: Annotated[list[str], typer.Argument(help="Text the device sends back.")]) -> None:
    """Send text; the device echoes it (a quick link check)."""
    from smpkit.protocol.groups.os import Echo

    async def body(client: Any, state: State) -> None:
        rsp = await _request(client, Echo(d=" ".join(text)))
        state.out.emit(rsp, rsp.r)

    with_client(ctx, "echo", body)


def reset(
    ctx: typer.Context,
    bootloader: Annotated[bool, typer.Option("--bootloader", help="Stay in the bootloader (serial recovery).")] = False,
    force: Annotated[bool, typer.Option("--force", help="Reset even if the application vetoes it.")] = False,
) -> None:
    """Reboot the device (applies a pending image test)."""
    from smpkit.protocol.groups.os import Reset

    async def body(client: Any, state: State) -> None:
        rsp = await _request(client, Reset(force=True if force else None, boot_mode=1 if bootloader else None))
        state.out.emit(rsp, "reset requested" + (" (bootloader)" if bootloader else ""))

    with_client(ctx, "reset", body)


@os_app.command("info")
def os_info(
    ctx: typer.Context,
    format_: Annotated[str, typer.Option("--format", "-f", help="Letters s n r v b m p i o, or a for all.")] = "a",
) -> None:
    """The device's uname-like information string."""
    from smpkit.protocol.groups.os import OSInfo

    async def body(client: Any, state: State) -> None:
        rsp = await _request(client, OSInfo(format=format_))
        state.out.emit(rsp, rsp.output)

    with_client(ctx, "os info", body)


@os_app.command("params")
def os_params(ctx: typer.Context) -> None:
    """The device's SMP buffer size and count."""
    from smpkit.protocol.groups.os import McumgrParams

    async def body(client: Any, state: State) -> None:
        rsp = await _request(client, McumgrParams())

        def human() -> Any:
            table = state.out.table("buf_size", "buf_count")
            table.add_row(str(rsp.buf_size), str(rsp.buf_count))
            return table

        state.out.emit(rsp, human)

    with_client(ctx, "os params", body)


_TASK_COLUMNS = ("prio", "tid", "state", "stksiz", "stkuse", "runtime", "cswcnt", "last_checkin", "next_checkin")


@os_app.command("tasks")
def os_tasks(ctx: typer.Context) -> None:
    """Threads with priority, state and stack use."""
    from smpkit.protocol.groups.os import TaskStat

    async def body(client: Any, state: State) -> None:
        rsp = await _request(client, TaskStat())

        def human() -> Any:
            infos = list(rsp.tasks.values())
            columns = [c for c in _TASK_COLUMNS if any(getattr(i, c) is not None for i in infos)]
            table = state.out.table("task", *columns)
            for name, info in rsp.tasks.items():
                table.add_row(name, *(_cell(getattr(info, c)) for c in columns))
            return table

        state.out.emit(rsp, human)

    with_client(ctx, "os tasks", body)


@os_app.command("mempools")
def os_mempools(ctx: typer.Context) -> None:
    """Memory pools: block size, blocks, free blocks."""
    from smpkit.protocol.groups.os import MemoryPoolStats

    async def body(client: Any, state: State) -> None:
        rsp = await _request(client, MemoryPoolStats())

        def human() -> Any:
            table = state.out.table("pool", "blksiz", "nblks", "nfree", "min")
            for name, pool in rsp.mpools.items():
                table.add_row(name, str(pool.blksiz), str(pool.nblks), str(pool.nfree), _cell(pool.min))
            return table

        state.out.emit(rsp, human)

    with_client(ctx, "os mempools", body)


@datetime_app.callback()
def os_datetime(ctx: typer.Context) -> None:
    """Show the device's clock (`os datetime set [VALUE]` sets it)."""
    if ctx.invoked_subcommand is not None:
        return
    from smpkit.protocol.groups.os import DateTimeGet

    async def body(client: Any, state: State) -> None:
        rsp = await _request(client, DateTimeGet())
        state.out.emit(rsp, rsp.datetime)

    with_client(ctx, "os datetime", body)


@datetime_app.command("set")
def os_datetime_set(
    ctx: typer.Context,
    value: Annotated[str | None, typer.Argument(help="YYYY-MM-DDTHH:MM:SS[.mmm] (default: this computer's "
                                                     "local time).")] = None,
) -> None:
    """Set the device's clock."""
    import datetime as dt

    from smpkit.protocol.groups.os import DateTimeSet

    if value is None:
        value = dt.datetime.now().replace(microsecond=0).isoformat()
    else:
        try:
            dt.datetime.fromisoformat(value)
        except ValueError:
            raise UsageError(f"bad date-time {value!r}", "use YYYY-MM-DDTHH:MM:SS") from None

    async def body(client: Any, state: State) -> None:
        await _request(client, DateTimeSet(datetime=value))
        state.out.emit({"datetime": value}, f"device clock set to {value}")

    with_client(ctx, "os datetime set", body)


@os_app.command("bootloader")
def os_bootloader(ctx: typer.Context) -> None:
    """The bootloader's name and, for MCUboot, its mode."""
    from smpkit.protocol.errors import SMPResponseError
    from smpkit.protocol.groups.os import BootloaderInfo, MCUbootMode

    async def body(client: Any, state: State) -> None:
        rsp = await _request(client, BootloaderInfo())
        data: dict[str, Any] = {"bootloader": rsp.bootloader}
        if rsp.bootloader == "MCUboot":
            try:
                mode = await _request(client, BootloaderInfo(query="mode"))
                data.update(mode.to_body())
            except SMPResponseError:
                pass

        def human() -> Any:
            table = state.out.table("field", "value")
            table.add_row("bootloader", str(data.get("bootloader")))
            if "mode" in data:
                table.add_row("mode", f"{data['mode']} ({MCUbootMode.NAMES.get(data['mode'], 'unknown')})")
                table.add_row("no-downgrade", "yes" if data.get("no-downgrade") else "no")
            if data.get("active") is not None:
                table.add_row("active", str(data["active"]))
            return table

        state.out.emit(data, human)

    with_client(ctx, "os bootloader", body)


@stat_app.command("list")
def stat_list(ctx: typer.Context) -> None:
    """Names of the statistics groups."""
    from smpkit.protocol.groups.stat import StatList

    async def body(client: Any, state: State) -> None:
        rsp = await _request(client, StatList())
        state.out.emit(rsp, "\n".join(rsp.stat_list) or "(no statistics groups)")

    with_client(ctx, "stat list", body)


@stat_app.command("show")
def stat_show(
    ctx: typer.Context,
    name: Annotated[str | None, typer.Argument(help="A group from `stat list` (default: all).")] = None,
) -> None:
    """Counters of one statistics group, or of all."""
    from smpkit.protocol.groups.stat import StatList, StatShow

    async def body(client: Any, state: State) -> None:
        names = [name] if name else (await _request(client, StatList())).stat_list
        groups = [await _request(client, StatShow(name=n)) for n in names]
        data: Any = groups[0] if name else {"groups": groups}

        def human() -> Any:
            table = state.out.table("group", "counter", "value")
            for group in groups:
                for counter, value in group.fields.items():
                    table.add_row(group.name, counter, str(value))
            return table

        state.out.emit(data, human)

    with_client(ctx, "stat show", body)


def _value_text(val: bytes) -> str:
    try:
        text = val.decode()
    except UnicodeDecodeError:
        return ""
    return text if text.isprintable() else ""


@settings_app.command("get")
def settings_get(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Setting name, e.g. app/greeting.")],
    max_size: Annotated[int | None, typer.Option("--max-size", help="Largest value to accept.")] = None,
) -> None:
    """Read a setting (shown as hex and, when printable, as text)."""
    from smpkit.protocol.groups.settings import SettingsRead

    async def body(client: Any, state: State) -> None:
        rsp = await _request(client, SettingsRead(name=name, max_size=max_size))
        data = {"name": name, **rsp.to_body()}
        text = _value_text(rsp.val)

        def human() -> Any:
            table = state.out.table("name", "hex", "text")
            table.add_row(name, rsp.val.hex(), text)
            return table

        state.out.emit(data, human)

    with_client(ctx, "settings get", body)


@settings_app.command("set")
def settings_set(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Setting name.")],
    value: Annotated[str, typer.Argument(help="The value: UTF-8 text, or hex with --hex.")],
    hex_: Annotated[bool, typer.Option("--hex", help="VALUE is hex bytes, e.g. 01ff.")] = False,
) -> None:
    """Write a setting."""
    from smpkit.protocol.groups.settings import SettingsWrite

    if hex_:
        try:
            val = bytes.fromhex(value)
        except ValueError:
            raise UsageError(f"--hex value {value!r} is not hex", "give pairs of hex digits, e.g. 01ff") from None
    else:
        val = value.encode()

    async def body(client: Any, state: State) -> None:
        await _request(client, SettingsWrite(name=name, val=val))
        state.out.emit({"name": name, "val": val}, f"{name} = {val.hex()}")

    with_client(ctx, "settings set", body)


@settings_app.command("delete")
def settings_delete(ctx: typer.Context, name: Annotated[str, typer.Argument(help="Setting name.")]) -> None:
    """Delete a setting."""
    from smpkit.protocol.groups.settings import SettingsDelete

    async def body(client: Any, state: State) -> None:
        await _request(client, SettingsDelete(name=name))
        state.out.emit({"name": name}, f"{name} deleted")

    with_client(ctx, "settings delete", body)


def _simple_settings(command: str, what: str) -> None:
    def run(ctx: typer.Context) -> None:
        from smpkit.protocol.groups import settings as s

        model = {"commit": s.SettingsCommit, "load": s.SettingsLoad, "save": s.SettingsSave}[command]

        async def body(client: Any, state: State) -> None:
            await _request(client, model())
            state.out.emit({}, f"settings {command}: done")

        with_client(ctx, f"settings {command}", body)

    run.__doc__ = what
    run.__name__ = f"settings_{command}"
    settings_app.command(command)(run)


_simple_settings("commit", "Apply the settings written so far (call the handlers' commit).")
_simple_settings("load", "Load settings from persistent storage.")
_simple_settings("save", "Save settings to persistent storage.")


def shell(
    ctx: typer.Context,
    command: Annotated[list[str], typer.Argument(help='The command, e.g. "kernel version" (quoted or as words).')],
) -> None:
    """Run a shell command on the device and print its output.

    Exits with code 4 when the command's own return value is not 0.
    """
    import shlex

    from smpkit.protocol.groups.shell import ShellExec

    argv = shlex.split(command[0]) if len(command) == 1 else list(command)
    if not argv:
        raise UsageError("empty shell command")

    async def body(client: Any, state: State) -> int:
        rsp = await _request(client, ShellExec(argv=argv))
        if state.out.json_mode:
            state.out.json(rsp)
        else:
            out = rsp.o if rsp.o.endswith("\n") or not rsp.o else rsp.o + "\n"
            import sys

            sys.stdout.write(out)
            sys.stdout.flush()
        return int(rsp.ret)

    ret = with_client(ctx, "shell", body)
    if ret != 0:
        state_of(ctx).out.error(f"error: shell command returned {ret}")
        raise typer.Exit(int(ExitCode.DEVICE))


def enum(ctx: typer.Context) -> None:
    """The SMP groups the device serves."""
    from smpkit.protocol.errors import SMPResponseError, group_name
    from smpkit.protocol.groups.enumeration import EnumDetails, EnumList

    async def body(client: Any, state: State) -> None:
        try:
            details = await _request(client, EnumDetails())
            groups = [g.to_body() for g in details.groups]
        except SMPResponseError:
            listed = await _request(client, EnumList())
            groups = [{"group": g} for g in listed.groups]
        for g in groups:
            g.setdefault("name", group_name(g["group"]).lower())
        groups.sort(key=lambda g: int(g["group"]))

        def human() -> Any:
            table = state.out.table("group", "name", "handlers")
            for g in groups:
                table.add_row(str(g["group"]), str(g.get("name", "")), _cell(g.get("handlers")))
            return table

        state.out.emit({"groups": groups}, human)

    with_client(ctx, "enum", body)


def storage_erase(
    ctx: typer.Context,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Erase the device's whole storage partition (settings, NVS, ...)."""
    from smpkit.protocol.groups.zephyr import StorageErase

    if not yes:
        import sys

        if not sys.stdin.isatty():
            raise UsageError("storage-erase erases the storage partition", "pass --yes to confirm")
        if not typer.confirm("Erase the device's storage partition?"):
            raise CliError("storage-erase: cancelled", ExitCode.ERROR)

    async def body(client: Any, st: State) -> None:
        await _request(client, StorageErase())
        st.out.emit({}, "storage partition erased")

    with_client(ctx, "storage-erase", body)


def _cell(value: Any) -> str:
    return "" if value is None else str(value)
