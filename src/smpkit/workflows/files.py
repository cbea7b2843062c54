"""File transfers over the fs group: pipelined download and upload, resume, checks, safe local writes.

Zephyr's fs handlers (smp-protocol §5.5): a download request names its offset and the
device answers with the data there, so chunks can be fetched concurrently. An upload
must arrive in order; a chunk at the wrong offset gets `FS.FILE_OFFSET_NOT_VALID`
(rc 11) with the offset the device expects in `len`, which is where we continue.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import zlib
from collections.abc import Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from smpkit.protocol.errors import FSErr, MgmtErr, SMPGroupError, SMPMgmtError, SMPResponseError
from smpkit.protocol.groups.fs import GROUP as FS_GROUP
from smpkit.protocol.groups.fs import (
    FileClose,
    FileDownload,
    FileDownloadResponse,
    FileHash,
    FileStatus,
    FileUpload,
)
from smpkit.protocol.sizing import file_chunk_size
from smpkit.transport.errors import SMPTransportDisconnected
from smpkit.workflows.pipeline import MAX_STALLS, Chunk, Step, send_pipelined, window_depth
from smpkit.workflows.progress import (
    Meter,
    Operation,
    ProgressCallback,
    TransferError,
    TransferInterrupted,
    VerificationFailed,
)

if TYPE_CHECKING:
    from smpkit.client import SMPClient

PART_SUFFIX = ".smpkit-part"


class FileTransferError(TransferError):
    """A file transfer failed."""


class LocalFileExists(FileTransferError, FileExistsError):
    """The destination exists; pass `overwrite=True` to replace it."""


class FileTransferInterrupted(FileTransferError, TransferInterrupted):
    """The link dropped; run the transfer again with `resume=True` to continue at `offset`."""


class FileVerificationFailed(FileTransferError, VerificationFailed):
    """The device's hash or checksum of the file differs from the local one."""


@dataclass(frozen=True, slots=True)
class FileTransferResult:
    name: str
    total: int
    resumed_from: int
    bytes_sent: int
    elapsed: float
    #: "sha256", "crc32" or "none" (the device supports neither).
    verified: str
    local_path: str | None = None

    @property
    def rate(self) -> float:
        return (self.total - self.resumed_from) / self.elapsed if self.elapsed > 0 else 0.0


def _unsupported(exc: SMPResponseError) -> bool:
    """The device lacks the hash command (rc 8) or that hash type (fs rc 13)."""
    if isinstance(exc, SMPMgmtError):
        return exc.rc == MgmtErr.ENOTSUP
    return isinstance(exc, SMPGroupError) and exc.group == FS_GROUP and exc.rc == FSErr.CHECKSUM_HASH_NOT_FOUND


async def device_digest(client: SMPClient, name: str, kind: str, length: int | None = None) -> bytes | int | None:
    """The device's `kind` ("sha256"/"crc32") of the first `length` bytes of `name`, None if unsupported."""
    try:
        rsp = await client.request(FileHash(name=name, type=kind, len=length))
    except SMPResponseError as exc:
        if _unsupported(exc):
            return None
        raise
    return rsp.output


def _local_digest(kind: str, data: bytes) -> bytes | int:
    return hashlib.sha256(data).digest() if kind == "sha256" else zlib.crc32(data)


async def verify_remote(client: SMPClient, name: str, data: bytes) -> str:
    """Compare the device's hash of `name` with `data`: sha256 first, then crc32; "none" if neither exists."""
    if not data:
        return "none"  # Zephyr answers FS.FILE_EMPTY for an empty file
    for kind in ("sha256", "crc32"):
        remote = await device_digest(client, name, kind)
        if remote is None:
            continue
        if remote != _local_digest(kind, data):
            raise FileVerificationFailed(f"{name}: the device's {kind} differs from the local data")
        return kind
    return "none"


async def _prefix_matches(client: SMPClient, name: str, prefix: bytes) -> bool:
    """Whether the device's first `len(prefix)` bytes of `name` are `prefix` (False when it cannot tell)."""
    if not prefix:
        return True
    for kind in ("sha256", "crc32"):
        try:
            remote = await device_digest(client, name, kind, len(prefix))
        except SMPResponseError:
            return False
        if remote is not None:
            return remote == _local_digest(kind, prefix)
    return False


# ---- download --------------------------------------------------------------------------------


class _Download:
    def __init__(self, client: SMPClient, name: str, depth: int | None, report: ProgressCallback | None) -> None:
        self.client = client
        self.name = name
        self.depth = depth
        self.report = report

    async def fetch(self, have: bytes, sink: Any) -> tuple[int, int, Meter]:
        """Download from `len(have)` on, writing in order to `sink`; return (total, resumed_from, meter)."""
        start = len(have)
        if start:
            total = (await self.client.request(FileStatus(name=self.name))).len
            if total < start or not await _prefix_matches(self.client, self.name, have):
                start, have = 0, b""
                sink.seek(0)
                sink.truncate()
        first = await self.client.request(FileDownload(off=start, name=self.name))
        if start == 0:
            if first.len is None:
                raise FileTransferError(f"the device did not report the size of {self.name!r}")
            total = first.len
        meter = Meter(total, start, self.report)
        pieces: dict[int, bytes] = {}
        written = start
        chunk = max(1, len(first.data))

        def accept(off: int, data: bytes) -> None:
            nonlocal written
            pieces[off] = data
            while written in pieces:
                piece = pieces.pop(written)
                if not piece:
                    break
                sink.write(piece)
                written += len(piece)
            meter.update(written)

        accept(start, first.data)
        wanted = [off for off in range(start + len(first.data), total, chunk)]
        await self._fetch_all(wanted, accept, lambda: written, total)
        if written != total:
            raise FileTransferError(f"download of {self.name!r} stopped at {written} of {total} bytes")
        return total, start, meter

    async def _fetch_all(self, wanted: list[int], accept: Any, written: Any, total: int) -> None:
        queue = list(reversed(wanted))
        pending: dict[asyncio.Task[FileDownloadResponse], int] = {}
        stalls = 0
        try:
            while queue or pending:
                while queue and len(pending) < window_depth(self.client, self.depth):
                    off = queue.pop()
                    pending[asyncio.ensure_future(self.client.request(FileDownload(off=off, name=self.name)))] = off
                done, _ = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    off = pending.pop(task)
                    rsp = task.result()
                    if rsp.off != off:
                        raise FileTransferError(f"asked for offset {off} of {self.name!r}, got {rsp.off}")
                    if not rsp.data and off < total:
                        stalls += 1
                        if stalls > MAX_STALLS:
                            raise FileTransferError(f"{self.name!r} ends at {off}, before its size {total}")
                        queue.append(off)  # the file may be growing or the read was short
                        continue
                    end = off + len(rsp.data)
                    nxt = min((o for o in [*queue, *pending.values()] if o > off), default=total)
                    if end < nxt:  # a short read left a gap before the next planned chunk
                        queue.append(end)
                    accept(off, rsp.data)
        finally:
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.gather(*pending, return_exceptions=True)


def _check_destination(dest: Path, overwrite: bool) -> None:
    if dest.exists() and not overwrite:
        raise LocalFileExists(f"{dest} exists; pass overwrite=True to replace it")
    if dest.is_dir():
        raise LocalFileExists(f"{dest} is a directory")


def download_file(
    client: SMPClient,
    name: str,
    dest: str | os.PathLike[str],
    *,
    overwrite: bool = False,
    resume: bool = True,
    verify: bool = True,
    depth: int | None = None,
    on_progress: ProgressCallback | None = None,
) -> Operation[FileTransferResult, Any]:
    """Download device file `name` to `dest`; `await` it or `async for` its progress.

    Data goes to `dest + ".smpkit-part"`, checked against the device's sha256/crc32
    when it has one, then renamed over `dest` in one step. An existing `dest` is
    refused unless `overwrite`; a leftover part file is resumed when `resume`.
    """
    target = Path(dest)
    _check_destination(target, overwrite)
    part = target.with_name(target.name + PART_SUFFIX)

    async def run(report: ProgressCallback) -> FileTransferResult:
        have = part.read_bytes() if resume and part.exists() else b""
        worker = _Download(client, name, depth, report)
        with open(part, "r+b" if have else "wb") as sink:  # noqa: ASYNC230 (local writes are short)
            sink.seek(len(have))
            try:
                total, start, meter = await worker.fetch(have, sink)
            except SMPTransportDisconnected as exc:
                sink.flush()
                raise FileTransferInterrupted(
                    f"the link dropped while downloading {name!r}; run again to resume", sink.tell()
                ) from exc
            sink.flush()
            os.fsync(sink.fileno())
        data = part.read_bytes()
        verified = await verify_remote(client, name, data) if verify else "none"
        _check_destination(target, overwrite)
        os.replace(part, target)
        return FileTransferResult(name, total, start, total - start, meter.elapsed(), verified, str(target))

    return Operation(run, on_progress)


async def download_bytes(client: SMPClient, name: str, *, depth: int | None = None) -> bytes:
    """The whole file `name` in memory (pipelined, no local file)."""
    import io

    sink = io.BytesIO()
    await _Download(client, name, depth, None).fetch(b"", sink)
    return sink.getvalue()


# ---- upload ----------------------------------------------------------------------------------


class _Upload:
    """The fs upload's policy for the offset pipeline."""

    def __init__(self, client: SMPClient, name: str, data: bytes, depth: int | None, meter: Meter) -> None:
        self.client = client
        self.name = name
        self.data = data
        self.total = len(data)
        self.depth = depth
        self.meter = meter
        self.bytes_sent = 0

    def request(self, off: int) -> FileUpload:
        first = off == 0
        budget = self.client.max_request_size
        size = file_chunk_size(budget, off, self.name, self.total if first else None)
        if size <= 0 and self.total:
            raise FileTransferError(f"a {budget}-byte request cannot carry data for {self.name!r}")
        piece = self.data[off : off + size]
        return FileUpload(off=off, data=piece, name=self.name, len=self.total if first else None)

    async def run(self, start: int) -> None:
        if self.total == 0:  # one request creates (or truncates) an empty file
            await self.client.request(self.request(0))
            return
        await send_pipelined(self, start)

    def window(self) -> int:
        return window_depth(self.client, self.depth)

    def send(self, off: int) -> tuple[Coroutine[Any, Any, Any], int]:
        request = self.request(off)
        self.bytes_sent += len(request.data)
        return self.client.request(request, retries=0), off + len(request.data)

    def judge(self, task: asyncio.Task[Any], chunk: Chunk, device_off: int) -> Step:
        exc = task.exception()
        if exc is None:
            off = int(task.result().off)
            if off > self.total:
                raise FileTransferError(f"the device reports offset {off} beyond the file length {self.total}")
            return Step(off, chunk.current and off < chunk.end and off >= device_off)
        if isinstance(exc, SMPGroupError) and exc.group == FS_GROUP and exc.rc == FSErr.FILE_OFFSET_NOT_VALID:
            expected = exc.body.get("len")
            if not isinstance(expected, int):
                raise exc
            # The device closed the file; it continues at its size, which `len` reports.
            return Step(expected, chunk.current)
        if isinstance(exc, (TimeoutError, asyncio.TimeoutError)):
            return Step(device_off, chunk.current and device_off < chunk.end)
        raise exc

    def advanced(self, device_off: int) -> None:
        self.meter.update(device_off)

    def rewound(self, step: Step, device_off: int) -> None:
        pass

    def stalled(self, device_off: int) -> Exception:
        return FileTransferError(f"no progress uploading {self.name!r} at offset {device_off}")


def upload_file(
    client: SMPClient,
    source: str | os.PathLike[str] | bytes,
    name: str,
    *,
    resume: bool = False,
    verify: bool = True,
    depth: int | None = None,
    on_progress: ProgressCallback | None = None,
) -> Operation[FileTransferResult, Any]:
    """Upload a local file (or bytes) to device path `name`; `await` it or `async for` its progress.

    With `resume`, a shorter file already on the device whose content is a prefix of
    ours (checked by hash when the device can) is continued instead of rewritten.
    """
    data = bytes(source) if isinstance(source, (bytes, bytearray)) else Path(source).read_bytes()

    async def run(report: ProgressCallback) -> FileTransferResult:
        start = await _resume_point(client, name, data) if resume else 0
        meter = Meter(len(data), start, report)
        worker = _Upload(client, name, data, depth, meter)
        try:
            await worker.run(start)
        except SMPTransportDisconnected as exc:
            raise FileTransferInterrupted(
                f"the link dropped while uploading {name!r}; run again with resume=True", meter.done
            ) from exc
        # A resumed upload has no `len` on the device's side, so it cannot close the file by itself;
        # until it does, a hash may not see the last chunks (Zephyr keeps the file open).
        with contextlib.suppress(SMPResponseError):
            await client.request(FileClose())
        verified = await verify_remote(client, name, data) if verify else "none"
        return FileTransferResult(name, len(data), start, worker.bytes_sent, meter.elapsed(), verified)

    return Operation(run, on_progress)


async def _resume_point(client: SMPClient, name: str, data: bytes) -> int:
    try:
        size = (await client.request(FileStatus(name=name))).len
    except SMPResponseError:
        return 0
    if 0 < size < len(data) and await _prefix_matches(client, name, data[:size]):
        return size
    return 0
