"""Exit codes of the `smpkit` command and the one-line messages for each failure.

Nothing here imports the client: exceptions are classified by their class
hierarchy (module and name), so that `smpkit --help` stays fast.
"""

from __future__ import annotations

import asyncio
import errno
from dataclasses import dataclass
from enum import IntEnum


class ExitCode(IntEnum):
    """Documented exit codes (docs/cli.md)."""

    OK = 0
    #: Something smpkit did not expect: a bug or an environment problem (run with --debug).
    ERROR = 1
    #: Bad command line, options or configuration (click's own code for usage errors).
    USAGE = 2
    #: The device could not be reached, the link dropped or a request timed out.
    CONNECTION = 3
    #: The device answered with an error code (SMP `rc` or a group error).
    DEVICE = 4
    #: A check failed: the image file is not a valid MCUboot image, or the device's
    #: hash/state after a transfer is not the expected one.
    VERIFICATION = 5
    #: Interrupted with Ctrl-C.
    INTERRUPTED = 130


class CliError(Exception):
    """A failure the CLI reports in one line with an exit code and a hint."""

    def __init__(self, message: str, code: ExitCode = ExitCode.ERROR, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.hint = hint


class UsageError(CliError):
    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message, ExitCode.USAGE, hint)


class VerificationError(CliError):
    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message, ExitCode.VERIFICATION, hint)


@dataclass(frozen=True)
class Failure:
    message: str
    code: ExitCode
    hint: str | None = None

    def line(self) -> str:
        return f"error: {self.message}" + (f" ({self.hint})" if self.hint else "")


def _mro_names(exc: BaseException) -> set[str]:
    return {cls.__name__ for cls in type(exc).__mro__}


_VERIFY_WORDS = ("VerificationFailed", "HashMismatch", "ImageError", "NotAnImage")


def classify(exc: BaseException, what: str, conn: str | None) -> Failure:
    """Turn any exception raised while running `what` into a one-line failure."""
    names = _mro_names(exc)
    text = str(exc) or type(exc).__name__
    where = f" to {conn}" if conn else ""
    if isinstance(exc, CliError):
        return Failure(exc.message, exc.code, exc.hint)
    if "TransferInterrupted" in names:
        return Failure(f"{what}: {text}", ExitCode.CONNECTION, "run the same command again to resume")
    cause = exc.__cause__
    if "UpgradeError" in names and str(getattr(getattr(exc, "step", None), "value", "")).startswith("check"):
        return Failure(f"{what}: {text}", ExitCode.VERIFICATION, "run `smpkit image list` to see the slots")
    if "TransferError" in names and "VerificationFailed" not in names and cause is not None:
        return classify(cause, what, conn)
    if "SMPResponseError" in names:
        hint = _device_hint(exc)
        return Failure(f"{what}: the device refused: {text}", ExitCode.DEVICE, hint)
    if names & set(_VERIFY_WORDS) or any(n.endswith("VerificationError") for n in names):
        return Failure(f"{what}: {text}", ExitCode.VERIFICATION, None)
    if any(n.endswith("DeviceNotFound") for n in names):
        return Failure(f"{what}: device not found{where}: {text}", ExitCode.CONNECTION,
                       "run `smpkit scan` to list devices")
    if "SMPTransportTimeout" in names or isinstance(exc, (TimeoutError, asyncio.TimeoutError)):
        return Failure(f"{what}: no answer from the device{where} in time", ExitCode.CONNECTION,
                       "check the connection, or raise --timeout")
    if "SMPTransportException" in names or "SMPClientException" in names or "SMPProtocolError" in names:
        return Failure(f"{what}: {text}", ExitCode.CONNECTION, "check the connection; `smpkit scan` lists devices")
    if isinstance(exc, FileNotFoundError) and exc.filename and str(exc.filename).startswith("/dev/"):
        return Failure(f"{what}: no such port {exc.filename}", ExitCode.CONNECTION, "run `smpkit scan` to list ports")
    if isinstance(exc, ConnectionError) or (isinstance(exc, OSError) and exc.errno in _NET_ERRNOS):
        return Failure(f"{what}: cannot reach the device{where}: {text}", ExitCode.CONNECTION,
                       "run `smpkit scan` to list devices")
    if isinstance(exc, (FileNotFoundError, IsADirectoryError, PermissionError, FileExistsError)):
        return Failure(f"{what}: {text}", ExitCode.USAGE, None)
    return Failure(f"{what}: {type(exc).__name__}: {text}", ExitCode.ERROR, "run again with --debug for details")


_NET_ERRNOS = {
    errno.ECONNREFUSED, errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EADDRNOTAVAIL,
    errno.ENODEV, errno.ENXIO, errno.EBUSY, errno.EIO, errno.EACCES,
}


def _device_hint(exc: BaseException) -> str | None:
    name = str(getattr(exc, "name", ""))
    if name == "IMAGE.NO_FREE_SLOT":
        return "that slot is running or marked for the next boot; `smpkit image list` shows which"
    if name == "IMAGE.IMAGE_ALREADY_PENDING":
        return "another image is already marked for test: reset the device, or erase slot 1 first"
    if name == "IMAGE.CURRENT_VERSION_IS_NEWER":
        return "the device runs a newer version; drop --upgrade-only to allow it"
    if name.endswith("ENOTSUP"):
        return "this firmware does not enable that command"
    return None
