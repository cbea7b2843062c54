"""Run every benchmark under bench/ and print their figures.

Each `bench_*.py` module exposes `main() -> dict` and prints its own figures.
Usage: ./dev bench [NAME ...]   (NAME = protocol, simulator, client, upload, ble, cli)
"""

from __future__ import annotations

import importlib.util
import json
import sys
import time
from pathlib import Path

HERE = Path(__file__).parent


def load(path: Path) -> object:
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module
    spec.loader.exec_module(module)
    return module


def main(names: list[str]) -> int:
    results: dict[str, object] = {}
    for path in sorted(HERE.glob("bench_*.py")):
        name = path.stem.removeprefix("bench_")
        if names and name not in names:
            continue
        print(f"\n=== {name} ===", flush=True)
        started = time.perf_counter()
        try:
            results[name] = load(path).main()  # type: ignore[attr-defined]
        except Exception as exc:  # a broken benchmark must not hide the others
            results[name] = {"error": repr(exc)}
            print(f"{name}: failed: {exc!r}")
        print(f"({name} took {time.perf_counter() - started:.1f} s)")
    print("\n=== summary (JSON) ===")
    print(json.dumps(results, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
