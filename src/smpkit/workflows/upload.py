"""Pipelined, resumable MCUboot image upload.

The device is the only source of truth about how much it holds: every response
carries `off`, the next offset it expects (Zephyr `img_mgmt_upload`, see
docs/images.md). Chunks are sent back to back up to the client's window; a
response whose `off` falls short of its chunk's end means the device discarded it
(a lost or reordered chunk before it), and the upload rewinds to that `off`.
Each rewind starts a new epoch so the answers to chunks already in flight from
before it cannot cause a second rewind.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from smpkit.image import McubootImage, UploadSource, load_upload
from smpkit.protocol.groups.image import ImageStateRead, ImageUpload, ImageUploadResponse
from smpkit.protocol.sizing import image_chunk_size
from smpkit.transport.errors import SMPRequestLost, SMPTransportDisconnected
from smpkit.workflows.pipeline import MAX_STALLS, Chunk, Step, send_pipelined, window_depth
from smpkit.workflows.progress import (
    Meter,
    Operation,
    ProgressCallback,
    Transfer,
    TransferError,
    TransferInterrupted,
    VerificationFailed,
)

if TYPE_CHECKING:
    from smpkit.client import SMPClient

#: Zephyr needs the MCUboot header (32 bytes) in the first chunk; keep a little more for
#: builds that also check the vector table just after the header.
MIN_FIRST_CHUNK = 32


class UploadError(TransferError):
    """The image upload failed."""


class UploadInterrupted(UploadError, TransferInterrupted):
    """The link dropped; upload the same file again (same `sha`) and the device resumes at `offset`.

    `sent_to` is the end of the furthest chunk sent: at most one window beyond what the device holds.
    """

    def __init__(self, message: str, offset: int, sent_to: int = 0) -> None:
        super().__init__(message, offset)
        self.sent_to = sent_to


class UploadVerificationFailed(UploadError, VerificationFailed):
    """The device reported `match: false`, or does not list the image's hash after the upload."""


@dataclass(frozen=True, slots=True)
class UploadResult:
    total: int
    #: Offset the device held when this run started (non-zero after a resume).
    resumed_from: int
    #: Data bytes put in requests, re-sends and the resume probe included.
    bytes_sent: int
    chunks: int
    rewinds: int
    restarts: int
    elapsed: float
    #: `match` from the last response (None when the device does not send it).
    match: bool | None
    #: How the result was checked: "match", "state" (hash listed in image state) or "none".
    verified: str

    @property
    def rate(self) -> float:
        """Bytes per second of this run (bytes the device confirmed during it)."""
        return (self.total - self.resumed_from) / self.elapsed if self.elapsed > 0 else 0.0


@lru_cache(maxsize=64)
def _chunk_size(budget: int, off_class: int) -> int:
    # Later chunks only differ in how many bytes `off` takes in CBOR; one size per class.
    return image_chunk_size(budget, off_class)


def _off_class(off: int) -> int:
    """A representative offset with the same CBOR width as `off`."""
    for bound in (23, 0xFF, 0xFFFF, 0xFFFFFFFF):
        if off <= bound:
            return bound
    return off


def _is_timeout(exc: BaseException) -> bool:
    return isinstance(exc, (TimeoutError, asyncio.TimeoutError))


def _budget(client: Any) -> int:
    return int(client.max_request_size)


class _Uploader:
    def __init__(
        self,
        client: SMPClient,
        source: UploadSource,
        *,
        image: int,
        upgrade: bool,
        resume: bool,
        verify: bool,
        timeout: float | None,
        first_timeout: float,
        depth: int | None,
        report: ProgressCallback | None,
        max_silent_rounds: int = 2,
    ) -> None:
        self.client = client
        self.source = source
        self.data = source.data
        self.total = len(source.data)
        self.image = image
        self.upgrade = upgrade
        self.resume = resume
        self.verify = verify
        self.timeout = timeout
        self.first_timeout = first_timeout
        self.depth = depth
        self.meter = Meter(self.total, 0, report)
        self.bytes_sent = 0
        self.chunks = 0
        self.rewinds = 0
        self.restarts = 0
        self.match: bool | None = None
        self.final_sent = False
        self.first_len = 0
        self.silent = 0
        self.sent_to = 0
        self.max_silent_rounds = max_silent_rounds

    # -- first chunk ------------------------------------------------------------------------

    def _first_request(self, probe: bool) -> ImageUpload:
        budget = _budget(self.client)
        image, upgrade = self.image or None, True if self.upgrade else None
        size = image_chunk_size(budget, 0, self.total, self.source.file_sha256, image, upgrade)
        if probe and isinstance(self.source, McubootImage):
            # A resume probe's data is not written when the device holds the session: keep it small
            # but include the header and the vector table some builds inspect.
            size = min(size, self.source.header.hdr_size + 8)
        size = min(max(size, MIN_FIRST_CHUNK), self.total)
        if size < MIN_FIRST_CHUNK and self.total >= MIN_FIRST_CHUNK:
            raise UploadError(f"a {budget}-byte request cannot carry the first chunk (needs {MIN_FIRST_CHUNK} bytes)")
        return ImageUpload(
            off=0,
            data=self.data[:size],
            len=self.total,
            sha=self.source.file_sha256,
            image=image,
            upgrade=upgrade,
        )

    async def _start(self, probe: bool) -> int:
        request = self._first_request(probe)
        self.bytes_sent += len(request.data)
        self.chunks += 1
        self.final_sent = len(request.data) == self.total
        self.first_len = len(request.data)
        self.sent_to = max(self.sent_to, len(request.data))
        rsp: ImageUploadResponse = await self.client.request(request, timeout=self.first_timeout)
        self._note_match(rsp)
        if rsp.off > self.total:
            raise UploadError(f"the device reports offset {rsp.off} beyond the image length {self.total}")
        return rsp.off

    def _note_match(self, rsp: ImageUploadResponse) -> None:
        if rsp.match is not None and rsp.off == self.total:
            self.match = rsp.match

    # -- the pipeline policy (pipeline.py) --------------------------------------------------

    def window(self) -> int:
        # After a silent timeout, probe with one chunk until the device answers again.
        return 1 if self.silent else window_depth(self.client, self.depth)

    def send(self, off: int) -> tuple[Coroutine[Any, Any, ImageUploadResponse], int]:
        size = _chunk_size(_budget(self.client), _off_class(off))
        request = ImageUpload(off=off, data=self.data[off : off + size])
        end = off + len(request.data)
        self.bytes_sent += len(request.data)
        self.chunks += 1
        self.final_sent = self.final_sent or end == self.total
        self.sent_to = max(self.sent_to, end)
        # No client retries: a lost chunk is resent from the offset the device reports.
        return self.client.request(request, timeout=self.timeout, retries=0), end

    def judge(self, task: asyncio.Task[ImageUploadResponse], chunk: Chunk, device_off: int) -> Step | None:
        step = self._judge(task, chunk, device_off)
        if step is not None and not step.silent:
            self.silent = 0
        return step

    def _judge(self, task: asyncio.Task[ImageUploadResponse], chunk: Chunk, device_off: int) -> Step | None:
        exc = task.exception()
        if exc is not None:
            if _is_timeout(exc):
                # Lost request or lost answer. Later answers tell which; rewind only if nothing
                # newer covers this chunk and it belongs to the current epoch.
                lost = chunk.current and device_off < chunk.end
                return Step(device_off, rewind=lost, silent=not isinstance(exc, SMPRequestLost))
            raise exc
        rsp = task.result()
        if rsp.off > self.total:
            raise UploadError(f"the device reports offset {rsp.off} beyond the image length {self.total}")
        self._note_match(rsp)
        if rsp.off == 0 and chunk.off > 0:
            if not chunk.current:
                return Step(device_off, rewind=False)
            return None  # the device has no session any more (reset, erase, another client)
        if rsp.off >= chunk.end or rsp.off < device_off:
            return Step(max(rsp.off, device_off), rewind=False)
        # The device skipped this chunk: it still waits for `rsp.off`.
        return Step(rsp.off, rewind=chunk.current)

    def advanced(self, device_off: int) -> None:
        self.meter.update(device_off)

    def rewound(self, step: Step, device_off: int) -> None:
        self.rewinds += 1
        if not step.silent:
            return
        self.silent += 1
        if self.silent > self.max_silent_rounds:
            raise UploadInterrupted(
                f"the device stopped answering at offset {device_off} of {self.total}: upload again to resume",
                device_off,
                self.sent_to,
            )

    def stalled(self, device_off: int) -> Exception:
        return UploadError(f"no progress after {MAX_STALLS} attempts at offset {device_off}")

    # -- whole run --------------------------------------------------------------------------

    async def run(self) -> UploadResult:
        try:
            return await self._run()
        except SMPTransportDisconnected as exc:
            raise UploadInterrupted(
                f"the link dropped at offset {self.meter.done} of {self.total}: upload again to resume",
                self.meter.done,
                self.sent_to,
            ) from exc

    async def _run(self) -> UploadResult:
        off = await self._start(probe=self.resume)
        # A fresh session answers with the first chunk's length; anything else is what the device held.
        resumed_from = off if off != self.first_len else 0
        self.meter.restart(resumed_from)
        self.meter.update(off)
        while off < self.total:
            result = await send_pipelined(self, off)
            if result is not None:
                off = result
                break
            if self.final_sent and await self._device_lists_image():
                off = self.total
                break
            self.restarts += 1
            if self.restarts > 3:
                raise UploadError("the device keeps losing the upload session")
            off = await self._start(probe=False)
            self.meter.update(off)
        verified = await self._verify()
        return UploadResult(
            total=self.total,
            resumed_from=resumed_from,
            bytes_sent=self.bytes_sent,
            chunks=self.chunks,
            rewinds=self.rewinds,
            restarts=self.restarts,
            elapsed=self.meter.elapsed(),
            match=self.match,
            verified=verified,
        )

    async def _device_lists_image(self) -> bool:
        if self.source.hash is None:
            return False
        state = await self.client.request(ImageStateRead())
        return any(s.hash == self.source.hash and (s.image or 0) == self.image for s in state.images)

    async def _verify(self) -> str:
        if self.match is False:
            raise UploadVerificationFailed("the device reports that the uploaded data does not match its SHA-256")
        if self.match:
            return "match"
        if not self.verify or self.source.hash is None:
            return "none"
        if not await self._device_lists_image():
            raise UploadVerificationFailed(
                f"after the upload the device does not list an image with hash {self.source.hash.hex()}"
            )
        return "state"


def upload(
    client: SMPClient,
    source: str | os.PathLike[str] | bytes | UploadSource,
    *,
    image: int = 0,
    upgrade: bool = False,
    allow_raw: bool = False,
    resume: bool = False,
    verify: bool = True,
    timeout: float | None = None,
    first_timeout: float = 30.0,
    depth: int | None = None,
    on_progress: ProgressCallback | None = None,
) -> Transfer[UploadResult]:
    """Upload an image to slot `image`; `await` the result, or `async for` its progress.

    The file is checked before any byte is sent (`allow_raw` sends data that is not a
    valid MCUboot image). An interrupted upload raises `UploadInterrupted`; calling
    `upload()` again with the same file resumes at the offset the device holds
    (`resume=True` makes that first probe small). `depth` overrides the client's
    window; `first_timeout` covers the slot erase the first chunk triggers.
    """
    loaded = load_upload(source, allow_raw=allow_raw)

    async def run(report: ProgressCallback) -> UploadResult:
        uploader = _Uploader(
            client,
            loaded,
            image=image,
            upgrade=upgrade,
            resume=resume,
            verify=verify,
            timeout=timeout,
            first_timeout=first_timeout,
            depth=depth,
            report=report,
        )
        return await uploader.run()

    return Operation(run, on_progress)


async def upload_image(
    client: SMPClient,
    source: str | os.PathLike[str] | bytes | UploadSource,
    *,
    on_progress: Callable[..., Any] | None = None,
    **options: Any,
) -> UploadResult:
    """`await upload(...)` in one call."""
    return await upload(client, source, on_progress=on_progress, **options)
