"""How fast `smpkit --help` answers, against `smpmgr --help` (the PyPI CLI) in the same run.

smpmgr is not one of our dependencies: it is installed into a throwaway venv under
/tmp the first time (set SMPKIT_SMPMGR to use an existing `smpmgr` executable).
Each command runs a few times; the median wall time is reported.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PEER_VENV = Path("/tmp/smpkit-bench-smpmgr")
RUNS = 7
TARGET_S = 0.3


def smpkit_cmd() -> list[str]:
    exe = Path(sys.executable).parent / "smpkit"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "smpkit.cli.main"]


def smpmgr_cmd() -> list[str] | None:
    if os.environ.get("SMPKIT_SMPMGR"):
        return [os.environ["SMPKIT_SMPMGR"]]
    exe = PEER_VENV / "bin" / "smpmgr"
    if not exe.exists():
        print(f"installing smpmgr from PyPI into {PEER_VENV} (first run only)...", flush=True)
        try:
            subprocess.run([sys.executable, "-m", "venv", str(PEER_VENV)], check=True)
            subprocess.run([str(PEER_VENV / "bin" / "pip"), "install", "-q", "smpmgr"], check=True,
                           stdout=subprocess.DEVNULL)
        except (subprocess.CalledProcessError, OSError) as exc:
            print(f"could not install smpmgr: {exc}")
            shutil.rmtree(PEER_VENV, ignore_errors=True)
            return None
    return [str(exe)]


def median_wall(cmd: list[str]) -> float:
    subprocess.run([*cmd, "--help"], capture_output=True, check=True)  # warm the file cache
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        subprocess.run([*cmd, "--help"], capture_output=True, check=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> dict[str, object]:
    ours = median_wall(smpkit_cmd())
    print(f"smpkit --help: {ours * 1000:.0f} ms (median of {RUNS}; target < {TARGET_S * 1000:.0f} ms)")
    result: dict[str, object] = {"smpkit_help_s": round(ours, 4), "target_s": TARGET_S, "ok": ours < TARGET_S}
    peer = smpmgr_cmd()
    if peer is None:
        print("smpmgr --help: not measured (smpmgr unavailable)")
        return result
    theirs = median_wall(peer)
    print(f"smpmgr --help: {theirs * 1000:.0f} ms (median of {RUNS})")
    print(f"ratio: smpkit answers {theirs / ours:.1f}x faster")
    result.update({"smpmgr_help_s": round(theirs, 4), "ratio": round(theirs / ours, 2)})
    return result


if __name__ == "__main__":
    main()
