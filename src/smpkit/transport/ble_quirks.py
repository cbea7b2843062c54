"""Operating-system quirks of bleak's backends, in one place (the only code that reads private attributes).

- WinRT reports `max_write_without_response_size == 20` until the MTU exchange has finished;
  the `GattSession` behind the client knows the real PDU size a moment later.
- BlueZ negotiates the MTU after the connection is up, and bleak's `mtu_size` stays 23
  until `_acquire_mtu()` asks BlueZ for it (AcquireWrite); BlueZ < 5.62 always reports 20
  on the characteristic.
- CoreBluetooth reports the right size at once (and paces writes without response itself).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from smpkit.transport._gatt import ATT_WRITE_OVERHEAD, BLE_MIN_WRITE, MAX_ATTRIBUTE_VALUE

logger = logging.getLogger(__name__)

#: How long to keep re-reading a size stuck at the 20-byte default.
LATE_MTU_WAIT_S = 2.0
LATE_MTU_POLL_S = 0.1

Sleep = Callable[[float], Awaitable[None]]


class GattSession(Protocol):
    """The WinRT session object bleak keeps in `BleakClientWinRT._session`."""

    max_pdu_size: int


def backend_kind(client: Any) -> str:
    """`bluez`, `winrt`, `corebluetooth` or `other`, from the class name of the client's backend."""
    name = type(getattr(client, "_backend", client)).__name__
    if name == "BleakClientBlueZDBus":
        return "bluez"
    if name == "BleakClientWinRT":
        return "winrt"
    if name == "BleakClientCoreBluetooth":
        return "corebluetooth"
    return "other"


def _clamp(size: int) -> int:
    return max(BLE_MIN_WRITE, min(size, MAX_ATTRIBUTE_VALUE))


async def _winrt_size(client: Any, reported: int, sleep: Sleep) -> int:
    session: GattSession | None = getattr(client._backend, "_session", None)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + LATE_MTU_WAIT_S
    while session is not None:
        pdu = int(session.max_pdu_size)
        if pdu - ATT_WRITE_OVERHEAD > BLE_MIN_WRITE:
            return pdu - ATT_WRITE_OVERHEAD
        if loop.time() >= deadline:
            break
        await sleep(LATE_MTU_POLL_S)
    return reported


async def _bluez_size(client: Any, characteristic: Any, sleep: Sleep) -> int:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + LATE_MTU_WAIT_S
    while True:
        reported = int(characteristic.max_write_without_response_size)
        if reported > BLE_MIN_WRITE:
            return reported
        try:  # old BlueZ: ask for the MTU through AcquireWrite
            await client._backend._acquire_mtu()
            acquired = int(client.mtu_size) - ATT_WRITE_OVERHEAD
        except Exception as exc:  # D-Bus errors differ between BlueZ versions
            logger.debug("BlueZ AcquireWrite failed: %s", exc)
            acquired = BLE_MIN_WRITE
        if acquired > BLE_MIN_WRITE:
            return acquired
        if loop.time() >= deadline:
            return reported
        await sleep(LATE_MTU_POLL_S)


async def usable_write_size(client: Any, characteristic: Any, sleep: Sleep = asyncio.sleep) -> int:
    """The largest write without response the link takes (ATT MTU - 3), working around each OS."""
    reported = int(characteristic.max_write_without_response_size)
    if reported > BLE_MIN_WRITE:
        return _clamp(reported)
    kind = backend_kind(client)
    if kind == "winrt":
        return _clamp(await _winrt_size(client, reported, sleep))
    if kind == "bluez":
        return _clamp(await _bluez_size(client, characteristic, sleep))
    return _clamp(reported)
