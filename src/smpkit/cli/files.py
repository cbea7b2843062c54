"""`smpkit fs ...`: files on the device's file system."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from smpkit.cli.context import State, with_client

fs_app = typer.Typer(help="File-system group: upload, download, size, hash.", no_args_is_help=True)

DevicePath = Annotated[str, typer.Argument(metavar="DEVICE_PATH", help="Path on the device, e.g. /lfs1/log.txt.")]


def register(app: typer.Typer) -> None:
    app.add_typer(fs_app, name="fs")


@fs_app.command("upload")
def fs_upload(
    ctx: typer.Context,
    local: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="Local file.")],
    device_path: DevicePath,
) -> None:
    """Copy a local file to the device (then checks its hash when the device can compute one)."""
    from smpkit.cli.transfer import upload_file

    data = local.read_bytes()
    with_client(ctx, "fs upload", lambda client, state: upload_file(client, state, local, data, device_path))


@fs_app.command("download")
def fs_download(
    ctx: typer.Context,
    device_path: DevicePath,
    local: Annotated[Path, typer.Argument(help="Local file to write (or a directory).")],
    overwrite: Annotated[bool, typer.Option("--overwrite", "-f", help="Replace LOCAL if it exists.")] = False,
) -> None:
    """Copy a file from the device (written to a temporary name, then renamed)."""
    from smpkit.cli.errors import CliError, ExitCode
    from smpkit.cli.transfer import download_file

    if local.is_dir():
        local = local / Path(device_path).name
    if local.exists() and not overwrite:
        raise CliError(f"fs download: {local} exists", ExitCode.USAGE, "pass --overwrite to replace it")
    with_client(ctx, "fs download", lambda client, state: download_file(
        client, state, device_path, local, overwrite=overwrite))


@fs_app.command("stat")
def fs_stat(ctx: typer.Context, device_path: DevicePath) -> None:
    """The size of a file on the device."""
    from smpkit.protocol.groups.fs import FileStatus

    async def body(client: Any, state: State) -> None:
        rsp = await client.request(FileStatus(name=device_path))
        state.out.emit({"name": device_path, "len": rsp.len}, f"{device_path}: {rsp.len} bytes")

    with_client(ctx, "fs stat", body)


@fs_app.command("hash")
def fs_hash(
    ctx: typer.Context,
    device_path: DevicePath,
    type_: Annotated[str | None, typer.Option("--type", help="sha256 or crc32 (default: the device's "
                                                             "default).")] = None,
) -> None:
    """A checksum or hash of a file, computed by the device."""
    from smpkit.protocol.groups.fs import FileHash

    async def body(client: Any, state: State) -> None:
        rsp = await client.request(FileHash(name=device_path, type=type_))
        data = {"name": device_path, **rsp.to_body()}
        output = rsp.output.hex() if isinstance(rsp.output, bytes) else f"{rsp.output:08x}"
        state.out.emit(data, f"{rsp.type} {output}  {device_path}")

    with_client(ctx, "fs hash", body)


@fs_app.command("close")
def fs_close(ctx: typer.Context) -> None:
    """Close the file the device keeps open after an upload or download."""
    from smpkit.protocol.groups.fs import FileClose

    async def body(client: Any, state: State) -> None:
        await client.request(FileClose())
        state.out.emit({}, "closed")

    with_client(ctx, "fs close", body)
