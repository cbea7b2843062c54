"""The live view of a fleet campaign: one line per active device and the totals.

On a terminal a rich `Live` redraws at most 4 times a second from a few dicts the
events update (so 200 devices cost nothing between redraws); elsewhere one line per
finished device. `--json` and `-q` show nothing until the report.
"""

from __future__ import annotations

import sys
from typing import Any

from smpkit.cli.output import Output, _isatty

MAX_LINES = 20


class FleetView:
    def __init__(self, out: Output, total: int, label: str = "upgrade") -> None:
        self.out = out
        self.total = total
        self.label = label
        self.active: dict[str, str] = {}
        self.counts: dict[str, int] = {}
        self.wave = (0, 0)
        self.live: Any = None
        self.silent = out.json_mode or out.quiet
        self.tty = not self.silent and _isatty(sys.stderr)

    def __enter__(self) -> FleetView:
        if self.tty:
            from rich.live import Live

            self.live = Live(self, console=self.out.err, refresh_per_second=4, transient=True)
            self.live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.live is not None:
            self.live.__exit__(None, None, None)
            self.live = None

    def __call__(self, event: Any) -> None:
        kind = event.kind
        if kind == "wave":
            self.wave = (event.wave, event.total)
            self._line(f"wave {event.wave}: {event.total} device(s)")
        elif kind == "start":
            self.active[event.name] = "connecting"
        elif kind == "step":
            self.active[event.name] = f"{event.step} {event.detail}".strip()
        elif kind == "progress" and event.name in self.active:
            self.active[event.name] = f"{event.step} {100 * event.done // max(1, event.total)}%"
        elif kind == "done" and event.result is not None:
            self.active.pop(event.name, None)
            result = event.result
            self.counts[result.outcome] = self.counts.get(result.outcome, 0) + 1
            self._line(_result_line(result))
        elif kind == "abort":
            self._line(f"stopping: {event.detail}")

    def _line(self, text: str) -> None:
        if self.silent:
            return
        self.out.err.print(text, markup=False, highlight=False, soft_wrap=True)

    def totals(self) -> str:
        done = sum(self.counts.values())
        parts = [f"{k} {v}" for k, v in sorted(self.counts.items())]
        wave = f"wave {self.wave[0]} · " if self.wave[0] else ""
        return f"{wave}{done}/{self.total} done · active {len(self.active)}" + (" · " + ", ".join(parts) if parts
                                                                               else "")

    def __rich__(self) -> Any:
        from rich.text import Text

        lines = [f"  {name:<20} {what}" for name, what in list(self.active.items())[:MAX_LINES]]
        if len(self.active) > MAX_LINES:
            lines.append(f"  ... {len(self.active) - MAX_LINES} more")
        lines.append(self.totals())
        return Text("\n".join(lines))


def _result_line(result: Any) -> str:
    mark = {"failed": "FAIL", "skipped": "skip"}.get(result.outcome, " ok ")
    where = f" @{result.host}" if result.host else ""
    if result.outcome in ("failed", "skipped"):
        return f"{mark} {result.name}{where}: {result.error or result.outcome}"
    version = f" {result.version}" if result.version else ""
    return f"{mark} {result.name}{where}: {result.outcome}{version} ({result.seconds:.1f} s)"
