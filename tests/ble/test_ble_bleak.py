"""The bleak transport at the bleak boundary: BleakScanner and BleakClient replaced by doubles.

No OS Bluetooth stack runs here, so the doubles behave like bleak's classes (same methods,
same callbacks, bleak's own BLEDevice and AdvertisementData) over an in-memory device that
reassembles like Zephyr. The quirks: WinRT reports a 20-byte write size until its GattSession
learns the MTU, BlueZ reports 23 until asked with AcquireWrite.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from ble_support import echo_handler
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData

from smpkit.protocol import decode_message, encode_request
from smpkit.protocol.groups.os import Echo, McumgrParams
from smpkit.simulator.transports.ble import ZephyrReassembly
from smpkit.transport import ble
from smpkit.transport.ble import (
    MAC_ADDRESS_PATTERN,
    SMP_CHARACTERISTIC_UUID,
    SMP_SERVICE_UUID,
    UUID_PATTERN,
    SMPBLETransport,
    SMPBLETransportDeviceNotFound,
    SMPBLETransportException,
    SMPBLETransportNotSMPServer,
)
from smpkit.transport.ble_quirks import backend_kind, usable_write_size
from smpkit.transport.errors import SMPClientException, SMPTransportDisconnected

ADDRESS = "C0:5C:00:00:00:01"
NAME = "zephyr-smp"


def advertisement(name: str | None, uuids: list[str], rssi: int = -60) -> AdvertisementData:
    return AdvertisementData(name, {}, {}, uuids, None, rssi, ())


class FakeCharacteristic:
    def __init__(self, max_write: Callable[[], int]) -> None:
        self.uuid = str(SMP_CHARACTERISTIC_UUID)
        self.properties = ["write-without-response", "notify"]
        self._max_write = max_write

    @property
    def max_write_without_response_size(self) -> int:
        return self._max_write()


class FakeServices:
    def __init__(self, characteristic: FakeCharacteristic | None) -> None:
        self.characteristic = characteristic

    def get_characteristic(self, uuid: str) -> FakeCharacteristic | None:
        return self.characteristic if uuid.lower() == str(SMP_CHARACTERISTIC_UUID).lower() else None


class FakeSession:
    def __init__(self) -> None:
        self.max_pdu_size = 23


class BleakClientWinRT:
    """Named like bleak's WinRT backend: the quirks module recognises backends by class name."""

    def __init__(self) -> None:
        self._session = FakeSession()


class BleakClientBlueZDBus:
    def __init__(self, client: FakeClient) -> None:
        self.client = client
        self.acquired = 0

    async def _acquire_mtu(self) -> None:
        self.acquired += 1
        self.client.bluez_mtu = self.client.peer.att_mtu


class BleakClientCoreBluetooth:
    pass


class FakePeer:
    """The device on the other side: Zephyr-like reassembly, answers cut into MTU - 3 notifications."""

    def __init__(self, att_mtu: int = 247, has_smp: bool = True) -> None:
        self.att_mtu = att_mtu
        self.has_smp = has_smp
        self.reassembly = ZephyrReassembly(2475)
        self.writes: list[bytes] = []
        self.notifications: list[int] = []
        self.answer = True


class FakeClient:
    """Behaves like bleak.BleakClient for what the transport uses."""

    backend = "other"
    peer = FakePeer()
    instances: list[FakeClient] = []

    def __init__(self, device: BLEDevice, disconnected_callback: Callable[[Any], None] | None = None,
                 services: list[str] | None = None, *, timeout: float = 30, pair: bool = False,
                 winrt: dict[str, Any] | None = None, bluez: dict[str, Any] | None = None) -> None:
        self.device = device
        self.disconnected_callback = disconnected_callback
        self.pair_before_connect = pair
        self.paired = False
        self.is_connected = False
        self.notify: Callable[[Any, bytearray], None] | None = None
        self.bluez_mtu: int | None = None
        self.answering = asyncio.Lock()
        self.reported = 20 if self.backend in ("winrt", "bluez") else self.peer.att_mtu - 3
        self._backend: Any = {
            "winrt": BleakClientWinRT,
            "bluez": lambda: BleakClientBlueZDBus(self),
            "corebluetooth": BleakClientCoreBluetooth,
        }.get(self.backend, object)()
        self.services = FakeServices(FakeCharacteristic(lambda: self.reported) if self.peer.has_smp else None)
        type(self).instances.append(self)

    @property
    def address(self) -> str:
        return self.device.address

    @property
    def mtu_size(self) -> int:
        return self.bluez_mtu or 23

    async def connect(self) -> None:
        self.paired = self.pair_before_connect
        self.is_connected = True
        if self.backend == "winrt":  # the session learns the MTU a little later
            asyncio.get_running_loop().call_later(0.05, setattr, self._backend._session, "max_pdu_size",
                                                  self.peer.att_mtu)

    async def disconnect(self) -> None:
        if self.is_connected:
            self.drop()

    def drop(self) -> None:
        self.is_connected = False
        if self.disconnected_callback is not None:
            asyncio.get_running_loop().call_soon(self.disconnected_callback, self)

    async def pair(self) -> None:
        self.paired = True

    async def start_notify(self, characteristic: Any, callback: Callable[[Any, bytearray], None]) -> None:
        self.notify = callback

    async def write_gatt_char(self, characteristic: Any, data: bytes, response: bool | None = None) -> None:
        assert response is False
        if not self.is_connected:
            raise OSError("Not connected")
        assert len(data) <= self.peer.att_mtu - 3, "write longer than the ATT MTU allows"
        self.peer.writes.append(bytes(data))
        request = self.peer.reassembly.feed(bytes(data))
        if request is not None and self.peer.answer:
            asyncio.get_running_loop().create_task(self._answer(request))

    async def _answer(self, request: bytes) -> None:
        async with self.answering:  # like Zephyr: one response after the other, never interleaved
            await self._notify_all(request)

    async def _notify_all(self, request: bytes) -> None:
        size = self.peer.att_mtu - 3
        for response in await echo_handler(request):
            for offset in range(0, len(response), size):
                await asyncio.sleep(0)
                assert self.notify is not None
                self.peer.notifications.append(len(response[offset : offset + size]))
                self.notify(characteristic_stub, bytearray(response[offset : offset + size]))


characteristic_stub = object()


class FakeScanner:
    """bleak.BleakScanner's class-level API over a fixed list of advertisers."""

    seen: list[tuple[BLEDevice, AdvertisementData]] = []

    @classmethod
    async def find_device_by_filter(cls, filterfunc: Callable[[BLEDevice, AdvertisementData], bool],
                                    timeout: float = 10.0, **kwargs: Any) -> BLEDevice | None:
        for device, adv in cls.seen:
            if filterfunc(device, adv):
                return device
        await asyncio.sleep(timeout)
        return None

    @classmethod
    async def discover(cls, timeout: float = 5.0, *, return_adv: bool = False,
                       **kwargs: Any) -> dict[str, tuple[BLEDevice, AdvertisementData]]:
        assert return_adv
        return {device.address: (device, adv) for device, adv in cls.seen}


@pytest.fixture
def bleak_doubles(monkeypatch: pytest.MonkeyPatch) -> type[FakeClient]:
    class Client(FakeClient):
        peer = FakePeer()
        instances: list[FakeClient] = []

    class Scanner(FakeScanner):
        seen = [
            # the name only in the scan response: bleak merges it into AdvertisementData.local_name,
            # the service UUID only in the advertisement (as Zephyr's smp_svr does)
            (BLEDevice(ADDRESS, None, None), advertisement(NAME, [str(SMP_SERVICE_UUID)])),
            (BLEDevice("C0:5C:00:00:00:02", "heart-rate", None), advertisement("heart-rate", ["180d"], -80)),
        ]

    monkeypatch.setattr(ble, "BleakClient", Client)
    monkeypatch.setattr(ble, "BleakScanner", Scanner)
    return Client


async def echo(transport: SMPBLETransport, text: str, seq: int = 1) -> str:
    reply = await asyncio.wait_for(transport.send_and_receive(encode_request(Echo(d=text), seq)), 5.0)
    result: str = decode_message(reply).body["r"]
    return result


def test_public_names_and_patterns() -> None:
    assert str(SMP_SERVICE_UUID).upper() == "8D53DC1D-1DB7-4CD3-868B-8A527460AA84"
    assert str(SMP_CHARACTERISTIC_UUID).upper() == "DA2E7828-FBCE-4E01-AE9E-261174997C48"
    assert MAC_ADDRESS_PATTERN.match("aa:BB:cc:DD:ee:FF")
    assert not MAC_ADDRESS_PATTERN.match("AA:BB:CC:DD:EE")
    assert UUID_PATTERN.match("3FA85F64-5717-4562-B3FC-2C963F66AFA6")
    assert UUID_PATTERN.match("3fa85f6457174562b3fc2c963f66afa6")
    assert not UUID_PATTERN.match("zephyr-smp")
    assert issubclass(SMPBLETransportException, SMPClientException)
    assert issubclass(SMPBLETransportDeviceNotFound, SMPBLETransportException)
    assert issubclass(SMPBLETransportNotSMPServer, SMPBLETransportException)
    transport = SMPBLETransport()
    assert transport.mtu == 20 and not transport.is_connected


@pytest.mark.parametrize("backend", ["other", "corebluetooth", "winrt", "bluez"])
async def test_connect_by_name_learns_the_real_write_size(bleak_doubles: type[FakeClient], backend: str) -> None:
    bleak_doubles.backend = backend
    transport = SMPBLETransport()
    await transport.connect(NAME, timeout_s=2.0)
    assert transport.mtu == 244  # not the 20 bytes WinRT/BlueZ report at first
    assert await echo(transport, "hi") == "hi"
    if backend == "bluez":
        assert bleak_doubles.instances[-1]._backend.acquired >= 1
    await transport.disconnect()
    assert not transport.is_connected


async def test_connect_by_mac_and_by_macos_uuid(
    bleak_doubles: type[FakeClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    transport = SMPBLETransport()
    await transport.connect(ADDRESS.lower(), timeout_s=1.0)
    assert await echo(transport, "mac") == "mac"
    await transport.disconnect()
    macos = "3FA85F64-5717-4562-B3FC-2C963F66AFA6"
    monkeypatch.setattr(ble.BleakScanner, "seen", [(BLEDevice(macos, None, None), advertisement(None, []))])
    await transport.connect(macos, timeout_s=1.0)
    assert await echo(transport, "uuid") == "uuid"
    await transport.disconnect()


async def test_not_found_and_not_smp(bleak_doubles: type[FakeClient]) -> None:
    transport = SMPBLETransport()
    with pytest.raises(SMPBLETransportDeviceNotFound):
        await transport.connect("nobody", timeout_s=0.05)
    bleak_doubles.peer.has_smp = False
    with pytest.raises(SMPBLETransportNotSMPServer):
        await transport.connect(NAME, timeout_s=1.0)
    assert not transport.is_connected
    assert not bleak_doubles.instances[-1].is_connected  # the failed connection was closed


async def test_scan_lists_smp_devices_with_name_address_and_rssi(bleak_doubles: type[FakeClient]) -> None:
    devices = await SMPBLETransport.scan(timeout=1)
    assert [(d.name, d.address, getattr(d, "rssi", None)) for d in devices] == [(NAME, ADDRESS, -60)]
    assert isinstance(devices[0], BLEDevice)


async def test_large_requests_split_at_the_mtu_and_pipelined_answers(bleak_doubles: type[FakeClient]) -> None:
    transport = SMPBLETransport()
    await transport.connect(NAME, timeout_s=1.0)
    assert transport.max_packet_size == 244
    transport.set_device_buffer(2475)
    assert transport.max_packet_size == 2475
    peer = bleak_doubles.peer
    first = encode_request(Echo(d="a" * 1000), 1)
    second = encode_request(Echo(d="b" * 10), 2)
    third = encode_request(McumgrParams(), 3)
    await asyncio.gather(transport.send(first), transport.send(second), transport.send(third))
    replies = [decode_message(await asyncio.wait_for(transport.receive(), 2.0)) for _ in range(3)]
    assert [r.header.sequence for r in replies] == [1, 2, 3]
    assert replies[0].body == {"r": "a" * 1000}
    # every write holds bytes of one request only, and each request starts with a whole header
    assert peer.reassembly.dropped == 0
    assert b"".join(peer.writes) == first + second + third
    assert all(len(w) <= 244 for w in peer.writes)
    await transport.disconnect()


async def test_two_responses_in_one_notification(bleak_doubles: type[FakeClient]) -> None:
    transport = SMPBLETransport()
    await transport.connect(NAME, timeout_s=1.0)
    a = (await echo_handler(encode_request(Echo(d="one"), 1)))[0]
    b = (await echo_handler(encode_request(Echo(d="two"), 2)))[0]
    notify = bleak_doubles.instances[-1].notify
    assert notify is not None
    notify(characteristic_stub, bytearray(a + b[:5]))
    notify(characteristic_stub, bytearray(b[5:]))
    got = [decode_message(await transport.receive()).body["r"] for _ in range(2)]
    assert got == ["one", "two"]
    await transport.disconnect()


async def test_a_disconnect_wakes_a_waiting_receive(bleak_doubles: type[FakeClient]) -> None:
    transport = SMPBLETransport()
    await transport.connect(NAME, timeout_s=1.0)
    bleak_doubles.peer.answer = False
    await transport.send(encode_request(Echo(d="lost"), 1))
    waiting = asyncio.ensure_future(transport.receive())
    await asyncio.sleep(0.01)
    bleak_doubles.instances[-1].drop()
    with pytest.raises(SMPTransportDisconnected):
        await asyncio.wait_for(waiting, 1.0)
    with pytest.raises(SMPTransportDisconnected):
        await transport.send(encode_request(Echo(d="x"), 2))


async def test_pairing_is_passed_to_bleak(bleak_doubles: type[FakeClient]) -> None:
    transport = SMPBLETransport(pair=True)
    await transport.connect(NAME, timeout_s=1.0)
    assert bleak_doubles.instances[-1].paired
    await transport.disconnect()
    later = SMPBLETransport()
    await later.connect(NAME, timeout_s=1.0)
    assert not bleak_doubles.instances[-1].paired
    await later.pair()
    assert bleak_doubles.instances[-1].paired
    await later.disconnect()


async def test_quirks_in_isolation() -> None:
    class Client:
        def __init__(self, backend: Any, mtu: int = 23) -> None:
            self._backend = backend
            self.mtu_size = mtu

    class Char:
        def __init__(self, size: int) -> None:
            self.max_write_without_response_size = size

    assert backend_kind(Client(BleakClientWinRT())) == "winrt"
    assert backend_kind(Client(object())) == "other"
    sleeps: list[float] = []

    async def no_sleep(seconds: float) -> None:
        sleeps.append(seconds)

    # a size above 20 is believed everywhere
    assert await usable_write_size(Client(BleakClientWinRT()), Char(244), no_sleep) == 244
    # WinRT stuck at 20 while its session knows better
    winrt = BleakClientWinRT()
    winrt._session.max_pdu_size = 498
    assert await usable_write_size(Client(winrt), Char(20), no_sleep) == 495
    # a link that really has the minimum MTU stays at 20
    assert await usable_write_size(Client(object()), Char(20), no_sleep) == 20
    # values above the largest attribute are clamped
    assert await usable_write_size(Client(object()), Char(1000), no_sleep) == 512


async def test_a_missing_os_bluetooth_stack_is_a_typed_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without BlueZ/D-Bus bleak fails with a bare OSError; users get a BLE transport error that says so."""

    class NoStackScanner:
        @staticmethod
        async def find_device_by_filter(*_args: Any, **_kwargs: Any) -> None:
            raise FileNotFoundError(2, "No such file or directory")

        @staticmethod
        async def discover(*_args: Any, **_kwargs: Any) -> None:
            raise FileNotFoundError(2, "No such file or directory")

    monkeypatch.setattr(ble, "BleakScanner", NoStackScanner)
    with pytest.raises(SMPBLETransportException, match="system Bluetooth stack is not available"):
        await SMPBLETransport().connect(ADDRESS, 1.0)
    with pytest.raises(SMPBLETransportException, match="system Bluetooth stack is not available"):
        await SMPBLETransport.scan(1)
