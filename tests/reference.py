"""Where the captured Zephyr exchanges live: `tests/data/zephyr/` in the checkout.

`SMPKIT_REFERENCE=DIR` overrides it (for example to try a newer capture run). A missing
corpus is an error, not a skip: the conformance tests are core tests.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATA_DIR = Path(__file__).resolve().parent / "data" / "zephyr"
REFERENCE_DIR = Path(os.environ.get("SMPKIT_REFERENCE", DATA_DIR))


def corpus(name: str) -> Path:
    path = REFERENCE_DIR / name
    if not path.exists():
        raise FileNotFoundError(f"reference corpus {path} is missing (tests/data/zephyr/, or SMPKIT_REFERENCE=DIR)")
    return path
