"""Where the captured Zephyr exchanges live: `../shared/reference` beside the checkout.

`SMPKIT_REFERENCE` overrides it. A missing corpus is an error, not a skip: the
conformance tests are core tests.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
REFERENCE_DIR = Path(os.environ.get("SMPKIT_REFERENCE", REPO.parent / "shared" / "reference"))


def corpus(name: str) -> Path:
    path = REFERENCE_DIR / name
    if not path.exists():
        raise FileNotFoundError(
            f"reference corpus {path} is missing: smpkit's tests expect ../shared/reference beside the "
            "checkout (or SMPKIT_REFERENCE=DIR)"
        )
    return path
