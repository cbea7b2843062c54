"""The campaign state file (SQLite): each device's step and outcome, written as it happens.

A second run with the same file resumes: devices recorded as running the campaign's
image are reported `already` without a connection; failed, skipped and unfinished ones
run again. One row per device; `attempts` counts the runs that reached it.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from smpkit.workflows.fleet.model import ALREADY, UPGRADED

_SCHEMA = """
CREATE TABLE IF NOT EXISTS device (
    name TEXT PRIMARY KEY,
    host TEXT,
    conn TEXT,
    target TEXT,          -- the campaign image's hash (hex)
    step TEXT,            -- the last step reported
    outcome TEXT,         -- NULL while running
    version TEXT,
    hash TEXT,
    error TEXT,
    seconds REAL,
    attempts INTEGER NOT NULL DEFAULT 0,
    updated REAL
)
"""


class CampaignStore:
    """Open with a path (`:memory:` for none kept). Not shared between threads."""

    def __init__(self, path: Path | str) -> None:
        self.path = str(path)
        self._db = sqlite3.connect(self.path, isolation_level=None)
        # WAL and NORMAL sync: a crash loses at most the last step, and 200 devices stay cheap.
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    def done(self, name: str, target: str) -> tuple[str | None, str | None] | None:
        """(version, hash) when the device is recorded on `target`; else None."""
        row = self._db.execute(
            "SELECT version, hash FROM device WHERE name = ? AND target = ? AND hash = ? AND outcome IN (?, ?)",
            (name, target, target, UPGRADED, ALREADY),
        ).fetchone()
        return (row[0], row[1]) if row is not None else None

    def started(self, name: str, host: str | None, conn: str, target: str) -> None:
        self._db.execute(
            "INSERT INTO device (name, host, conn, target, step, attempts, updated) VALUES (?, ?, ?, ?, 'start', 1, ?)"
            " ON CONFLICT(name) DO UPDATE SET host = excluded.host, conn = excluded.conn, target = excluded.target,"
            " step = 'start', outcome = NULL, error = NULL, attempts = attempts + 1, updated = excluded.updated",
            (name, host, conn, target, time.time()),
        )

    def step(self, name: str, step: str) -> None:
        self._db.execute("UPDATE device SET step = ?, updated = ? WHERE name = ?", (step, time.time(), name))

    def finished(self, name: str, outcome: str, version: str | None, digest: str | None, error: str | None,
                 seconds: float) -> None:
        self._db.execute(
            "UPDATE device SET outcome = ?, version = ?, hash = ?, error = ?, seconds = ?, updated = ? WHERE name = ?",
            (outcome, version, digest, error, seconds, time.time(), name),
        )

    def rows(self) -> list[dict[str, object]]:
        cursor = self._db.execute("SELECT * FROM device ORDER BY name")
        names = [c[0] for c in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
