"""One device's job: the narrow seam between a campaign and the single-device upgrade.

`upgrade_device(conn, spec)` connects, checks the board when pinned, runs the library's
upgrade flow (`client.upgrade`) with `spec.options` passed through untouched (so new
upgrade options need no change here) and returns outcome, version and hash. It never
raises for a device's failure: the failure is the outcome. The flow is idempotent (it
reads the slots before uploading and resumes a partial upload), so running a job again
after a crash or a lost worker resumes the device's upgrade instead of restarting it.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from smpkit.workflows.fleet.model import ALREADY, FAILED, PLANNED, UPGRADED, JobOutcome

if TYPE_CHECKING:
    from smpkit.client import SMPClient

T = TypeVar("T")
#: (step, detail, done, total): a step's start or end (done = total = 0) or upload progress.
StepCallback = Callable[[str, str, int, int], None]
#: Runs of the flow when a reset got lost (see `_reset_was_lost`).
RESET_ATTEMPTS = 3
_OUTCOMES = {"upgraded": UPGRADED, "tested": UPGRADED, "already-running": ALREADY, "planned": PLANNED}


@dataclass(frozen=True, slots=True)
class UpgradeSpec:
    """What to do to every device: the image's bytes and the upgrade options (picklable)."""

    image: bytes
    #: Keyword arguments of `smpkit.workflows.upgrade()` (confirm, dry_run, image, reconnect_timeout, ...).
    options: dict[str, Any] = field(default_factory=dict)
    timeout: float | None = None
    retries: int | None = None

    @property
    def target(self) -> str:
        """The hash the device reports once it runs the image (the SHA-256 TLV)."""
        from smpkit.image import McubootImage, load_upload

        loaded = load_upload(self.image)
        if isinstance(loaded, McubootImage) and loaded.hash is not None:
            return loaded.hash.hex()
        return hashlib.sha256(self.image).hexdigest()


def open_client(conn: str, timeout: float | None, retries: int | None) -> SMPClient:
    from smpkit.client import SMPClient

    knobs: dict[str, Any] = {}
    if timeout is not None:
        knobs["timeout"] = timeout
        knobs["connect_timeout"] = max(timeout, 1.0)
    if retries is not None:
        knobs["retries"] = retries
    return SMPClient(conn, **knobs)


async def with_device(conn: str, action: Callable[[SMPClient], Awaitable[T]], *, timeout: float | None = None,
                      retries: int | None = None) -> T:
    """Connect to `conn`, run `action(client)`, disconnect."""
    async with open_client(conn, timeout, retries) as client:
        return await action(client)


async def check_board(client: SMPClient, board: str) -> None:
    from smpkit.protocol.groups.os import OSInfo

    reported = (await client.request(OSInfo(format="i"))).output.strip()
    if reported != board:
        raise BoardMismatch(f"the device reports board {reported!r}, the fleet file pins {board!r}")


class BoardMismatch(Exception):
    """The device is not the board the fleet file names (nothing was changed)."""


async def upgrade_device(conn: str, spec: UpgradeSpec, *, board: str | None = None,
                         on_step: StepCallback | None = None) -> JobOutcome:
    """Upgrade the device at `conn`; a failure comes back as the outcome, never as an exception."""
    report = on_step or (lambda step, detail, done, total: None)

    def forward(event: Any) -> None:
        progress = event.progress
        if progress is not None:
            report(str(event.step.value), "", int(progress.done), int(progress.total))
        else:
            report(str(event.step.value), f"{event.status} {event.detail}".strip(), 0, 0)

    async def run(client: SMPClient) -> JobOutcome:
        if board is not None:
            report("board", "start", 0, 0)
            await check_board(client, board)
        for attempt in range(RESET_ATTEMPTS):
            try:
                result = await client.upgrade(spec.image, on_step=forward, **spec.options)
                break
            except Exception as exc:
                if attempt + 1 == RESET_ATTEMPTS or not await _reset_was_lost(client, exc, spec):
                    raise
                report("reset", "lost: the device still lists the image as pending; again", 0, 0)
        outcome = _OUTCOMES.get(result.outcome, UPGRADED)
        return JobOutcome(outcome, result.version, result.hash.hex())

    try:
        return await with_device(conn, run, timeout=spec.timeout, retries=spec.retries)
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        return JobOutcome(FAILED, error=describe(exc))


async def _reset_was_lost(client: SMPClient, exc: Exception, spec: UpgradeSpec) -> bool:
    """True when the device never rebooted: the new image is still pending, not running.

    MCUboot clears "pending" at the boot that tries the image (and again on a revert), so a
    pending, inactive image after the reset means the reset request (or its effect) was
    lost; the flow is idempotent, so running it again only sends the reset again.
    """
    from smpkit.protocol.groups.image import ImageStateRead

    if str(getattr(getattr(exc, "step", None), "value", "")) != "check-running":
        return False
    target = bytes.fromhex(spec.target)
    state = await client.request(ImageStateRead())
    return any(s.hash == target and s.pending and not s.active for s in state.images)


def describe(exc: BaseException) -> str:
    """One line for the report: where the flow stopped and why."""
    while type(exc).__name__ in ("ExceptionGroup", "BaseExceptionGroup") and getattr(exc, "exceptions", None):
        exc = exc.exceptions[0]  # type: ignore[attr-defined]
    text = str(exc) or type(exc).__name__
    step = getattr(getattr(exc, "step", None), "value", None)
    if isinstance(exc, (TimeoutError, asyncio.TimeoutError)) or type(exc).__name__ == "SMPTransportTimeout":
        text = f"no answer in time ({text})" if str(exc) else "no answer in time"
    return f"{step}: {text}" if step else text
