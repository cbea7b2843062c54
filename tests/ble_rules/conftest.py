"""Every test here runs on virtual time (`tests/vtime.py`): the device model's few-ms windows
(wake-up, notification pacing) are then exact, however loaded the machine is."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
from vtime import VirtualTimeLoop


def pytest_asyncio_loop_factories(config: pytest.Config, item: pytest.Item) -> Mapping[str, Any]:
    return {"virtual_time": VirtualTimeLoop}
