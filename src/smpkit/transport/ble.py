"""SMP over Bluetooth LE through bleak (BlueZ, CoreBluetooth, WinRT).

The public names are those of the existing Python client's BLE transport, so moving over is a
change of import. Underneath: notifications are parsed as a stream (several responses may
arrive back to back), requests may be larger than one write when the device reassembles,
writes of two requests never mix, and a disconnect wakes a waiting `receive()` at once.
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any, Final

from bleak import BleakClient, BleakScanner
from bleak.backends.device import BLEDevice
from bleak.exc import BleakError

from smpkit.transport._gatt import SMP_CHARACTERISTIC_UUID, SMP_SERVICE_UUID, GattSMPTransport
from smpkit.transport.ble_quirks import GattSession, usable_write_size
from smpkit.transport.errors import SMPClientException, SMPTransportDisconnected

__all__ = [
    "MAC_ADDRESS_PATTERN",
    "SMP_CHARACTERISTIC_UUID",
    "SMP_SERVICE_UUID",
    "UUID_PATTERN",
    "GattSession",
    "SMPBLEDevice",
    "SMPBLETransport",
    "SMPBLETransportDeviceNotFound",
    "SMPBLETransportException",
    "SMPBLETransportNotSMPServer",
]

logger = logging.getLogger(__name__)

MAC_ADDRESS_PATTERN: Final = re.compile(r"([0-9A-F]{2}[:]){5}[0-9A-F]{2}$", flags=re.IGNORECASE)
UUID_PATTERN: Final = re.compile(
    r"^[a-f0-9]{8}-?[a-f0-9]{4}-?4[a-f0-9]{3}-?[89ab][a-f0-9]{3}-?[a-f0-9]{12}\Z", flags=re.IGNORECASE
)


class SMPBLETransportException(SMPClientException):
    """Base of every BLE transport error."""


class SMPBLETransportDeviceNotFound(SMPBLETransportException):
    """No device matched the address or name in time."""


class SMPBLETransportNotSMPServer(SMPBLETransportException):
    """The device connected but has no SMP characteristic."""


def _is_address(address: str) -> bool:
    return bool(MAC_ADDRESS_PATTERN.match(address) or UUID_PATTERN.match(address))


def _advertises_smp(advertisement: Any) -> bool:
    wanted = str(SMP_SERVICE_UUID).lower()
    return any(str(u).lower() == wanted for u in getattr(advertisement, "service_uuids", ()) or ())


class SMPBLEDevice(BLEDevice):
    """A `BLEDevice` found by `scan()`, with the RSSI and advertisement it was seen with."""

    __slots__ = ("advertisement", "rssi")

    def __init__(self, device: BLEDevice, advertisement: Any) -> None:
        name = device.name or getattr(advertisement, "local_name", None)
        super().__init__(device.address, name, device.details)
        self.rssi: int | None = getattr(advertisement, "rssi", None)
        self.advertisement = advertisement

    def __repr__(self) -> str:
        return f"SMPBLEDevice({self.address}, {self.name}, rssi={self.rssi})"


def _backend_error(exc: BaseException) -> SMPBLETransportException:
    """The OS Bluetooth stack itself failed (no adapter, BlueZ or D-Bus not running, ...)."""
    return SMPBLETransportException(
        f"the system Bluetooth stack is not available ({type(exc).__name__}: {exc}); "
        "check the adapter and its service (BlueZ on Linux), or use a Bumble controller with --hci"
    )


class SMPBLETransport(GattSMPTransport):
    """SMP over a bleak connection.

    `pair=True` asks the OS to pair before connecting (Linux/Windows; macOS pairs on demand).
    `winrt` and `bluez` are passed to `BleakClient` unchanged.
    """

    scheme = "ble"

    def __init__(
        self,
        winrt: dict[str, Any] | None = None,
        *,
        bluez: dict[str, Any] | None = None,
        pair: bool = False,
    ) -> None:
        super().__init__()
        self._winrt = dict(winrt or {})
        self._bluez = dict(bluez or {})
        self._pair = pair
        self._client: Any = None
        self._characteristic: Any = None
        self.device: BLEDevice | None = None

    # ---- finding and connecting -------------------------------------------------------------

    @staticmethod
    async def _find(address: str, timeout_s: float) -> BLEDevice | None:
        if _is_address(address):
            wanted = address.lower()
            return await BleakScanner.find_device_by_filter(
                lambda d, _ad: str(d.address).lower() == wanted, timeout=timeout_s
            )
        # bleak merges the scan response into AdvertisementData, so a name sent only there matches too
        return await BleakScanner.find_device_by_filter(
            lambda d, ad: address in (ad.local_name, d.name), timeout=timeout_s
        )

    async def connect(self, address: str, timeout_s: float) -> None:
        """Find `address` (MAC, macOS UUID or advertised name), connect, subscribe, learn the write size."""
        if self._client is not None:
            await self.disconnect()
        try:
            await asyncio.wait_for(self._connect(address, timeout_s), timeout=timeout_s)
        except asyncio.TimeoutError as exc:
            await self._teardown()
            raise SMPBLETransportDeviceNotFound(f"could not connect to {address!r} within {timeout_s} s") from exc
        except SMPBLETransportException:
            await self._teardown()
            raise
        except (OSError, BleakError) as exc:
            await self._teardown()
            raise _backend_error(exc) from exc
        except BaseException:
            await self._teardown()
            raise

    async def _connect(self, address: str, timeout_s: float) -> None:
        device = await self._find(address, timeout_s)
        if device is None:
            raise SMPBLETransportDeviceNotFound(f"device {address!r} not found")
        self.device = device
        client = BleakClient(
            device,
            disconnected_callback=self._on_disconnected,
            services=[str(SMP_SERVICE_UUID)],
            timeout=timeout_s,
            pair=self._pair,
            winrt=self._winrt,  # type: ignore[arg-type]
            bluez=self._bluez,  # type: ignore[arg-type]
        )
        self._client = client
        await client.connect()
        characteristic = client.services.get_characteristic(str(SMP_CHARACTERISTIC_UUID))
        if characteristic is None:
            raise SMPBLETransportNotSMPServer(f"{address!r} has no SMP characteristic {SMP_CHARACTERISTIC_UUID}")
        self._characteristic = characteristic
        write_size = await usable_write_size(client, characteristic)
        await client.start_notify(characteristic, self._on_bleak_notification)
        self._link_up(write_size)
        logger.info("connected to %s, %d-byte writes", address, write_size)

    async def disconnect(self) -> None:
        self._link_down()
        await self._teardown()

    async def _teardown(self) -> None:
        client, self._client = self._client, None
        self._characteristic = None
        if client is None:
            return
        try:
            await client.disconnect()
        except Exception as exc:  # best effort: the link may already be gone
            logger.debug("bleak disconnect failed: %s", exc)

    async def pair(self) -> None:
        """Pair (bond) with the connected device, where the OS lets bleak do it."""
        if self._client is None:
            raise SMPTransportDisconnected("not connected")
        await self._client.pair()

    # ---- callbacks ----------------------------------------------------------------------------

    def _on_disconnected(self, client: Any) -> None:
        if client is self._client:
            logger.warning("BLE device disconnected")
            self._link_down()

    def _on_bleak_notification(self, _sender: Any, data: bytearray) -> None:
        self._on_notification(data)

    # ---- I/O ----------------------------------------------------------------------------------

    async def _write(self, chunk: bytes) -> None:
        client = self._client
        if client is None:
            raise SMPTransportDisconnected("not connected")
        try:
            # bleak returns once the OS has queued the write; CoreBluetooth waits for
            # canSendWriteWithoutResponse inside, which is the only flow control bleak offers.
            await client.write_gatt_char(self._characteristic, chunk, response=False)
        except Exception as exc:
            if not self.is_connected or not getattr(client, "is_connected", True):
                raise SMPTransportDisconnected(f"write failed, link down: {exc}") from exc
            raise SMPBLETransportException(f"write failed: {exc}") from exc

    @staticmethod
    async def scan(timeout: int = 5) -> list[BLEDevice]:
        """Devices that advertise the SMP service (in the advertisement or the scan response)."""
        try:
            found = await BleakScanner.discover(timeout=timeout, return_adv=True)
        except (OSError, BleakError) as exc:
            raise _backend_error(exc) from exc
        devices: list[BLEDevice] = [
            SMPBLEDevice(device, advertisement)
            for device, advertisement in found.values()
            if _advertises_smp(advertisement)
        ]
        logger.info("found %d SMP devices: %s", len(devices), devices)
        return devices
