"""Per-group facades: `client.os.echo("hi")`, `client.image.state()`, ...

Each method builds the request model, sends it through `SMPClient.request()` (so it
shares the window, the retries and the deadline) and returns the typed response, or
one plain value where the response has a single obvious field.
"""

from __future__ import annotations

import builtins
import datetime as _dt
import os
from typing import TYPE_CHECKING, Any

from smpkit.protocol.groups import enumeration as enum_
from smpkit.protocol.groups import fs as fs_
from smpkit.protocol.groups import image as image_
from smpkit.protocol.groups import os as os_
from smpkit.protocol.groups import settings as settings_
from smpkit.protocol.groups import shell as shell_
from smpkit.protocol.groups import stat as stat_
from smpkit.protocol.groups import zephyr as zephyr_
from smpkit.protocol.model import Request, ResponseT

if TYPE_CHECKING:
    # The workflows build on the client's public API; the facades reach them through
    # lazy imports so that `import smpkit.client` stays light and acyclic at load time.
    from smpkit.client.client import SMPClient
    from smpkit.workflows.progress import Operation


class _Facade:
    __slots__ = ("_client",)

    def __init__(self, client: SMPClient) -> None:
        self._client = client

    async def _call(self, request: Request[ResponseT], timeout: float | None = None) -> ResponseT:
        return await self._client.request(request, timeout=timeout)


def format_datetime(value: _dt.datetime | str) -> str:
    """`YYYY-MM-DDTHH:MM:SS[.mmm]`, the form Zephyr parses (a time zone is converted to UTC and dropped)."""
    if isinstance(value, str):
        return value
    if value.tzinfo is not None:
        value = value.astimezone(_dt.timezone.utc).replace(tzinfo=None)
    text = value.strftime("%Y-%m-%dT%H:%M:%S")
    return f"{text}.{value.microsecond // 1000:03d}" if value.microsecond else text


class OSGroup(_Facade):
    """OS management (group 0)."""

    async def echo(self, text: str) -> str:
        return (await self._call(os_.Echo(d=text))).r

    async def taskstat(self) -> os_.TaskStatResponse:
        return await self._call(os_.TaskStat())

    async def mpstat(self) -> os_.MemoryPoolStatsResponse:
        return await self._call(os_.MemoryPoolStats())

    async def datetime(self) -> str:
        return (await self._call(os_.DateTimeGet())).datetime

    async def set_datetime(self, value: _dt.datetime | str) -> None:
        await self._call(os_.DateTimeSet(datetime=format_datetime(value)))

    async def reset(self, force: bool | None = None, boot_mode: int | None = None) -> None:
        """Ask the device to reboot; follow with `client.reconnect()` to wait for it."""
        await self._call(os_.Reset(force=force, boot_mode=boot_mode))

    async def params(self) -> os_.McumgrParamsResponse:
        return await self._call(os_.McumgrParams())

    async def info(self, fmt: str | None = None) -> str:
        return (await self._call(os_.OSInfo(format=fmt))).output

    async def bootloader_info(self, query: str | None = None) -> os_.BootloaderInfoResponse:
        return await self._call(os_.BootloaderInfo(query=query))


class ImageGroup(_Facade):
    """Image management (group 1). Whole-image uploads live in `smpkit.workflows`."""

    async def state(self) -> image_.ImageStateResponse:
        return await self._call(image_.ImageStateRead())

    async def test(self, hash: bytes) -> image_.ImageStateResponse:
        """Boot the image with `hash` once at the next reset (it reverts unless confirmed)."""
        return await self._call(image_.ImageStateWrite(hash=hash, confirm=False))

    async def confirm(self, hash: bytes | None = None) -> image_.ImageStateResponse:
        """Make the image with `hash` (default: the running one) permanent."""
        return await self._call(image_.ImageStateWrite(hash=hash, confirm=True))

    async def erase(self, slot: int | None = None) -> None:
        await self._call(image_.ImageErase(slot=slot))

    async def slot_info(self) -> image_.SlotInfoResponse:
        return await self._call(image_.SlotInfo())

    async def upload_chunk(
        self,
        off: int,
        data: bytes,
        *,
        len: int | None = None,
        sha: bytes | None = None,
        image: int | None = None,
        upgrade: bool | None = None,
        timeout: float | None = None,
    ) -> image_.ImageUploadResponse:
        """One chunk; the first (off 0) may erase the slot, so give it a longer `timeout`."""
        request = image_.ImageUpload(off=off, data=data, len=len, sha=sha, image=image, upgrade=upgrade)
        return await self._call(request, timeout)

    def upload(self, source: str | os.PathLike[str] | bytes, **options: Any) -> Operation[Any, Any]:
        """`smpkit.workflows.upload`: the pipelined, resumable, verified image upload.

        `await client.image.upload("app.signed.bin")`, or `async for progress in ...`.
        """
        from smpkit.workflows.upload import upload

        return upload(self._client, source, **options)


class StatGroup(_Facade):
    """Statistics (group 2)."""

    async def list(self) -> builtins.list[str]:
        return (await self._call(stat_.StatList())).stat_list

    async def show(self, name: str) -> stat_.StatShowResponse:
        return await self._call(stat_.StatShow(name=name))


class SettingsGroup(_Facade):
    """Settings (group 3): values are raw bytes."""

    async def read(self, name: str, max_size: int | None = None) -> bytes:
        return (await self._call(settings_.SettingsRead(name=name, max_size=max_size))).val

    async def write(self, name: str, value: bytes) -> None:
        await self._call(settings_.SettingsWrite(name=name, val=value))

    async def delete(self, name: str) -> None:
        await self._call(settings_.SettingsDelete(name=name))

    async def commit(self) -> None:
        await self._call(settings_.SettingsCommit())

    async def load(self) -> None:
        await self._call(settings_.SettingsLoad())

    async def save(self) -> None:
        await self._call(settings_.SettingsSave())


class FSGroup(_Facade):
    """File system (group 8). `download`/`upload` are simple, sequential whole-file helpers."""

    async def status(self, name: str) -> int:
        return (await self._call(fs_.FileStatus(name=name))).len

    async def hash(
        self, name: str, type: str | None = None, off: int | None = None, len: int | None = None
    ) -> fs_.FileHashResponse:
        return await self._call(fs_.FileHash(name=name, type=type, off=off, len=len))

    async def hash_types(self) -> dict[str, fs_.HashTypeInfo]:
        return (await self._call(fs_.FileHashTypes())).types

    async def close(self) -> None:
        await self._call(fs_.FileClose())

    async def download_chunk(self, name: str, off: int) -> fs_.FileDownloadResponse:
        return await self._call(fs_.FileDownload(off=off, name=name))

    async def upload_chunk(
        self, name: str, off: int, data: bytes, len: int | None = None, timeout: float | None = None
    ) -> fs_.FileUploadResponse:
        return await self._call(fs_.FileUpload(off=off, data=data, name=name, len=len), timeout)

    async def download(self, name: str) -> bytes:
        """The whole device file `name` in memory (pipelined by offset)."""
        from smpkit.workflows.files import download_bytes

        return await download_bytes(self._client, name)

    async def upload(self, name: str, data: bytes) -> None:
        """Write `data` to device path `name` and check the device's hash of it."""
        from smpkit.workflows.files import upload_file

        await upload_file(self._client, data, name)

    def download_file(self, name: str, dest: str | os.PathLike[str], **options: Any) -> Operation[Any, Any]:
        """`smpkit.workflows.download_file`: resumable, verified, atomic local write; await it or iterate it."""
        from smpkit.workflows.files import download_file

        return download_file(self._client, name, dest, **options)

    def upload_file(self, source: str | os.PathLike[str] | bytes, name: str, **options: Any) -> Operation[Any, Any]:
        """`smpkit.workflows.upload_file`: pipelined, resumable, verified; await it or iterate it."""
        from smpkit.workflows.files import upload_file

        return upload_file(self._client, source, name, **options)


class ShellGroup(_Facade):
    """Shell (group 9)."""

    async def exec(self, argv: builtins.list[str] | str, timeout: float | None = None) -> shell_.ShellExecResponse:
        args = argv.split() if isinstance(argv, str) else builtins.list(argv)
        return await self._call(shell_.ShellExec(argv=args), timeout)


class EnumGroup(_Facade):
    """Enumeration (group 10)."""

    async def count(self) -> int:
        return (await self._call(enum_.EnumCount())).count

    async def list(self) -> builtins.list[int]:
        return (await self._call(enum_.EnumList())).groups

    async def single(self, index: int | None = None) -> enum_.EnumSingleResponse:
        return await self._call(enum_.EnumSingle(index=index))

    async def details(self, groups: builtins.list[int] | None = None) -> builtins.list[enum_.GroupDetails]:
        return (await self._call(enum_.EnumDetails(groups=groups))).groups


class ZephyrGroup(_Facade):
    """Zephyr basic (group 63)."""

    async def storage_erase(self, timeout: float | None = None) -> None:
        await self._call(zephyr_.StorageErase(), timeout)


__all__ = [
    "EnumGroup",
    "FSGroup",
    "ImageGroup",
    "OSGroup",
    "SettingsGroup",
    "ShellGroup",
    "StatGroup",
    "ZephyrGroup",
    "format_datetime",
]
