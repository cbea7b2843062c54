"""The firmware upgrade flow, one reported step at a time.

read state -> (skip the upload when the image is already in a slot) -> upload ->
check the device lists the hash -> test -> reset -> reconnect -> check the new image
runs -> confirm (or leave it to revert at the next reset). The order follows the DFU
sequence of docs/images.md (smp-protocol §9).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any

from smpkit.image import ImageError, McubootImage, load_upload
from smpkit.protocol.errors import SMPError
from smpkit.protocol.groups.image import ImageSlotState, ImageStateRead, ImageStateResponse, ImageStateWrite
from smpkit.protocol.groups.os import Reset
from smpkit.transport.errors import SMPTransportDisconnected, SMPTransportTimeout
from smpkit.workflows.progress import Operation, Progress, TransferError
from smpkit.workflows.upload import UploadResult, upload

if TYPE_CHECKING:
    from smpkit.client import SMPClient


class Step(str, Enum):
    READ_STATE = "read-state"
    UPLOAD = "upload"
    CHECK_UPLOAD = "check-upload"
    TEST = "test"
    RESET = "reset"
    RECONNECT = "reconnect"
    CHECK_RUNNING = "check-running"
    CONFIRM = "confirm"
    DONE = "done"


@dataclass(frozen=True, slots=True)
class StepEvent:
    """`status` is "start", "done", "skipped" or "progress" (upload only, with `progress`)."""

    step: Step
    status: str
    detail: str = ""
    progress: Progress | None = None

    def __str__(self) -> str:
        return f"{self.step.value}: {self.status}" + (f" ({self.detail})" if self.detail else "")


class UpgradeError(TransferError):
    """The upgrade could not complete; `step` says where it stopped."""

    def __init__(self, message: str, step: Step) -> None:
        super().__init__(message)
        self.step = step


@dataclass(frozen=True, slots=True)
class UpgradeResult:
    hash: bytes
    version: str
    image: int
    #: "upgraded", "tested" (reset=False: runs at the next reset), "already-running", "planned" (dry run).
    outcome: str
    confirmed: bool
    upload: UploadResult | None
    state: ImageStateResponse | None
    steps: list[StepEvent] = field(default_factory=list)


def _slots(state: ImageStateResponse, image: int) -> list[ImageSlotState]:
    return [s for s in state.images if (s.image or 0) == image]


def _with_hash(state: ImageStateResponse, image: int, digest: bytes) -> ImageSlotState | None:
    return next((s for s in _slots(state, image) if s.hash == digest), None)


class _Upgrade:
    def __init__(self, client: SMPClient, image: McubootImage, number: int, report: Callable[[StepEvent], None]):
        self.client = client
        self.img = image
        self.number = number
        self._report = report
        self.events: list[StepEvent] = []
        assert image.hash is not None
        self.hash: bytes = image.hash

    def emit(self, step: Step, status: str, detail: str = "", progress: Progress | None = None) -> None:
        event = StepEvent(step, status, detail, progress)
        if status != "progress":
            self.events.append(event)
        self._report(event)

    async def state(self) -> ImageStateResponse:
        return await self.client.request(ImageStateRead())

    def result(
        self, outcome: str, confirmed: bool, uploaded: UploadResult | None, state: ImageStateResponse | None
    ) -> UpgradeResult:
        self.emit(Step.DONE, "done", outcome)
        return UpgradeResult(
            self.hash, str(self.img.version), self.number, outcome, confirmed, uploaded, state, list(self.events)
        )

    async def run(
        self, *, confirm: bool, dry_run: bool, reset: bool, reconnect_timeout: float, upload_options: dict[str, Any]
    ) -> UpgradeResult:
        self.emit(Step.READ_STATE, "start")
        state = await self.state()
        present = _with_hash(state, self.number, self.hash)
        self.emit(Step.READ_STATE, "done", _describe(present))
        if present is not None and present.active:
            if present.confirmed or not confirm:
                return self.result("already-running", present.confirmed, None, state)
            if dry_run:
                self.emit(Step.CONFIRM, "skipped", "dry run: would confirm the running image")
                return self.result("planned", False, None, state)
            state = await self.confirm()
            return self.result("already-running", True, None, state)
        if dry_run:
            self.plan(present is not None, confirm=confirm, reset=reset)
            return self.result("planned", False, None, state)
        uploaded = None
        if present is not None:
            self.emit(Step.UPLOAD, "skipped", f"already in slot {present.slot}")
        else:
            uploaded = await self.upload(upload_options)
            self.emit(Step.CHECK_UPLOAD, "start")
            state = await self.state()
            present = _with_hash(state, self.number, self.hash)
            if present is None:
                raise UpgradeError("the device does not list the uploaded image", Step.CHECK_UPLOAD)
            self.emit(Step.CHECK_UPLOAD, "done", _describe(present))
        if not present.pending:
            self.emit(Step.TEST, "start")
            state = await self.client.request(ImageStateWrite(hash=self.hash, confirm=False))
            self.emit(Step.TEST, "done")
        else:
            self.emit(Step.TEST, "skipped", "already pending")
        if not reset:
            self.emit(Step.RESET, "skipped", "the image runs at the next reset")
            return self.result("tested", False, uploaded, state)
        await self.reset_and_reconnect(reconnect_timeout)
        self.emit(Step.CHECK_RUNNING, "start")
        state = await self.state()
        running = _with_hash(state, self.number, self.hash)
        if running is None or not running.active:
            raise UpgradeError(
                f"after the reset the device does not run the new image ({_running_text(state, self.number)})",
                Step.CHECK_RUNNING,
            )
        self.emit(Step.CHECK_RUNNING, "done", _describe(running))
        if not confirm:
            self.emit(Step.CONFIRM, "skipped", "left unconfirmed: the device reverts at the next reset")
            return self.result("upgraded", running.confirmed, uploaded, state)
        state = await self.confirm()
        return self.result("upgraded", True, uploaded, state)

    def plan(self, present: bool, *, confirm: bool, reset: bool) -> None:
        detail = "dry run"
        self.emit(Step.UPLOAD, "skipped", f"{detail}: already on the device" if present else f"{detail}: would upload")
        for step in (Step.CHECK_UPLOAD, Step.TEST):
            self.emit(step, "skipped", detail)
        if reset:
            for step in (Step.RESET, Step.RECONNECT, Step.CHECK_RUNNING):
                self.emit(step, "skipped", detail)
        self.emit(Step.CONFIRM, "skipped", f"{detail}: would {'confirm' if confirm and reset else 'not confirm'}")

    async def upload(self, options: dict[str, Any]) -> UploadResult:
        self.emit(Step.UPLOAD, "start", f"{self.img.size} bytes")

        def progress(p: Progress) -> None:
            self.emit(Step.UPLOAD, "progress", progress=p)

        result = await upload(self.client, self.img, image=self.number, on_progress=progress, **options)
        self.emit(Step.UPLOAD, "done", f"{result.total} bytes in {result.elapsed:.2f} s")
        return result

    async def reset_and_reconnect(self, timeout: float) -> None:
        self.emit(Step.RESET, "start")
        # The device may go down before its answer gets out.
        with contextlib.suppress(SMPTransportTimeout, SMPTransportDisconnected):
            await self.client.request(Reset(), retries=0)
        self.emit(Step.RESET, "done")
        self.emit(Step.RECONNECT, "start")
        await asyncio.sleep(0.05)  # let the old link go before probing (Zephyr resets ~250 ms after answering)
        try:
            await self.client.reconnect(timeout)
        except SMPError as exc:
            raise UpgradeError(f"the device did not come back after the reset: {exc}", Step.RECONNECT) from exc
        self.emit(Step.RECONNECT, "done")

    async def confirm(self) -> ImageStateResponse:
        self.emit(Step.CONFIRM, "start")
        # With a hash so that multi-image builds confirm this image pair, not image 0.
        state = await self.client.request(ImageStateWrite(hash=self.hash, confirm=True))
        self.emit(Step.CONFIRM, "done")
        return state


def _describe(slot: ImageSlotState | None) -> str:
    if slot is None:
        return "not on the device"
    flags = [name for name in ("active", "confirmed", "pending", "permanent") if getattr(slot, name)]
    return f"slot {slot.slot}, {slot.version}" + (f", {' '.join(flags)}" if flags else "")


def _running_text(state: ImageStateResponse, image: int) -> str:
    active = [s for s in _slots(state, image) if s.active]
    return "it runs " + ", ".join(s.version for s in active) if active else "no active image listed"


def upgrade(
    client: SMPClient,
    file: str | os.PathLike[str] | bytes | McubootImage,
    *,
    image: int = 0,
    confirm: bool = True,
    dry_run: bool = False,
    reset: bool = True,
    reconnect_timeout: float = 30.0,
    on_step: Callable[[StepEvent], Any] | None = None,
    **upload_options: Any,
) -> Operation[UpgradeResult, StepEvent]:
    """Upgrade image pair `image` to `file`; `await` it, or `async for event in ...` to follow the steps.

    `confirm=False` leaves the new image unconfirmed (the device reverts at its next
    reset); `reset=False` stops after marking it for test; `dry_run` only reads state
    and reports the steps it would take. `upload_options` go to `upload()`.
    """
    loaded = load_upload(file)
    if not isinstance(loaded, McubootImage) or loaded.hash is None:
        raise ImageError("an upgrade needs an MCUboot image with a SHA-256 TLV (the device identifies images by it)")

    async def run(report: Callable[[StepEvent], None]) -> UpgradeResult:
        flow = _Upgrade(client, loaded, image, report)
        return await flow.run(
            confirm=confirm,
            dry_run=dry_run,
            reset=reset,
            reconnect_timeout=reconnect_timeout,
            upload_options=upload_options,
        )

    return Operation(run, on_step)
