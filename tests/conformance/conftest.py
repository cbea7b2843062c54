"""Show the conformance figure in the pytest summary (it is printed by the test as well)."""

from __future__ import annotations

from typing import Any

SUMMARY: list[str] = []


def pytest_terminal_summary(terminalreporter: Any) -> None:
    for line in SUMMARY:
        terminalreporter.write_line(f"conformance: {line}")
