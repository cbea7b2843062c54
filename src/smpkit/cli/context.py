"""The state every command shares, and running a command's coroutine against a client."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
from collections.abc import Awaitable, Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import typer

from smpkit.cli.connection import ConnectionFlags, Resolved, resolve
from smpkit.cli.errors import CliError
from smpkit.cli.output import Output

T = TypeVar("T")



@dataclass
class State:
    flags: ConnectionFlags = field(default_factory=ConnectionFlags)
    out: Output = field(default_factory=Output)
    timeout: float | None = None
    retries: int | None = None
    debug: bool = False
    log_file: Path | None = None
    _resolved: Resolved | None = None

    def resolved(self) -> Resolved:
        if self._resolved is None:
            self._resolved = resolve(self.flags)
        return self._resolved

    @property
    def effective_timeout(self) -> float | None:
        """--timeout, else the device entry's, else None (the client's default)."""
        if self.timeout is not None:
            return self.timeout
        return self._resolved.timeout if self._resolved is not None else None

    @property
    def effective_retries(self) -> int | None:
        if self.retries is not None:
            return self.retries
        return self._resolved.retries if self._resolved is not None else None


def state_of(ctx: typer.Context) -> State:
    obj = ctx.find_root().obj
    if not isinstance(obj, State):  # a command invoked without the root callback (tests)
        obj = State()
        ctx.find_root().obj = obj
    return obj


def make_client(url: str, timeout: float | None = None, retries: int | None = None) -> Any:
    """An `SMPClient` for `url`, passing only the knobs its constructor accepts."""
    from smpkit.client import SMPClient

    try:
        params = inspect.signature(SMPClient).parameters
    except (TypeError, ValueError):
        params = {}  # type: ignore[assignment]
    kwargs: dict[str, Any] = {}
    if timeout is not None:
        for name in ("timeout", "timeout_s", "default_timeout", "request_timeout"):
            if name in params:
                kwargs[name] = timeout
                break
        for name in ("connect_timeout", "connect_timeout_s"):
            if name in params:
                kwargs[name] = max(timeout, 5.0)
                break
    if retries is not None:
        for name in ("retries", "max_retries"):
            if name in params:
                kwargs[name] = retries
                break
    return SMPClient(url, **kwargs)


def run_async(coro_fn: Callable[[], Awaitable[T]]) -> T:
    async def wrapper() -> T:
        return await coro_fn()

    return asyncio.run(wrapper())


def with_client(ctx: typer.Context, what: str, body: Callable[[Any, State], Awaitable[T]]) -> T:
    """Connect to the device the global options name, run `body(client, state)`, disconnect.

    Failures propagate: `main()` turns them into one line and an exit code.
    Inside `capture_bodies()` the body is recorded, not run (`smpkit fleet run` runs it per device).
    """
    captured = _CAPTURE.get()
    if captured is not None:
        captured.append(Captured(what, body))
        return None  # type: ignore[return-value]
    state = state_of(ctx)
    resolved = state.resolved()
    state.out.debug(f"connecting to {resolved.url} (from {resolved.source})")

    async def go() -> T:
        client = make_client(resolved.url, state.effective_timeout, state.effective_retries)
        async with client:
            return await body(client, state)

    try:
        return run_async(go)
    except CliError:
        raise
    except BaseException as exc:
        if isinstance(exc, (KeyboardInterrupt, SystemExit, typer.Exit)):
            raise
        raise CommandFailed(what, resolved.url, exc) from exc


@dataclass(frozen=True)
class Captured:
    """A command's work, parsed from its command line, to run against any client."""

    what: str
    body: Callable[[Any, State], Awaitable[Any]]


_CAPTURE: ContextVar[list[Captured] | None] = ContextVar("smpkit_capture", default=None)


@contextlib.contextmanager
def capture_bodies() -> Iterator[list[Captured]]:
    """Commands run inside record their device work instead of connecting."""
    found: list[Captured] = []
    token = _CAPTURE.set(found)
    try:
        yield found
    finally:
        _CAPTURE.reset(token)


class CommandFailed(Exception):
    """Wraps the exception of a command with what was being done and where."""

    def __init__(self, what: str, url: str | None, exc: BaseException) -> None:
        super().__init__(f"{what}: {exc}")
        self.what = what
        self.url = url
        self.exc = exc


_INSTALLED: list[logging.Handler] = []


class _Levels(logging.Filter):
    """smpkit's own records from `smpkit_level`, other libraries' (Bumble, bleak) from `other_level`."""

    def __init__(self, smpkit_level: int, other_level: int) -> None:
        super().__init__()
        self.smpkit_level = smpkit_level
        self.other_level = other_level

    def filter(self, record: logging.LogRecord) -> bool:
        ours = record.name == "smpkit" or record.name.startswith("smpkit.")
        return record.levelno >= (self.smpkit_level if ours else self.other_level)


def setup_logging(verbose: int, quiet: bool, log_file: Path | None) -> None:
    """Log to stderr: smpkit's warnings by default, -v info, -vv debug (also other libraries');
    -q errors only. `--log-file` gets everything at debug level."""
    if quiet:
        ours, others = logging.ERROR, logging.ERROR
    elif verbose >= 2:
        ours, others = logging.DEBUG, logging.DEBUG
    elif verbose == 1:
        ours, others = logging.INFO, logging.WARNING
    else:
        ours, others = logging.WARNING, logging.ERROR
    root = logging.getLogger()
    for old in _INSTALLED:  # a second run in the same process (tests) replaces the first one's handlers
        root.removeHandler(old)
        old.close()
    _INSTALLED.clear()
    root.setLevel(logging.DEBUG if log_file else min(ours, others))
    handler = logging.StreamHandler()
    handler.addFilter(_Levels(ours, others))
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    _INSTALLED.append(handler)
    if log_file is not None:
        fh = logging.FileHandler(log_file)
        fh.setLevel(logging.DEBUG)
        fh.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(fh)
        _INSTALLED.append(fh)
