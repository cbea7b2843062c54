"""smpkit: manage Zephyr/MCUboot devices over SMP (MCUmgr).

`from smpkit import SMPClient` loads the client lazily so that importing the
protocol core alone stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from smpkit.client import SMPClient

__all__ = ["SMPClient", "__version__"]


def __getattr__(name: str) -> Any:
    if name == "SMPClient":
        from smpkit.client import SMPClient

        return SMPClient
    raise AttributeError(f"module 'smpkit' has no attribute {name!r}")
