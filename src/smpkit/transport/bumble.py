"""SMP over Bluetooth LE through Bumble's host stack, talking HCI to a controller directly.

`hci` is a Bumble transport spec (`usb:0`, `serial:/dev/ttyUSB0,1000000`, `tcp-client:HOST:PORT`, ...),
an already opened Bumble transport (anything with `.source` and `.sink`), a Bumble `Controller`, or a
`LocalLink` (a virtual controller is created on it: two Bumble stacks, no radio). The request
splitting and notification reassembly are shared with the bleak transport (`_gatt.py`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import re
import socket
import uuid as uuid_module
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Final

from bumble import hci as bumble_hci
from bumble.controller import Controller
from bumble.core import UUID as BumbleUUID
from bumble.device import Advertisement, Connection, Device, Peer
from bumble.host import Host
from bumble.keys import JsonKeyStore, KeyStore, MemoryKeyStore
from bumble.link import LocalLink
from bumble.pairing import PairingConfig, PairingDelegate
from bumble.transport import open_transport
from bumble.transport.common import AsyncPipeSink
from bumble.transport.tcp_server import open_tcp_server_transport_with_socket

from smpkit.transport._gatt import (
    ATT_WRITE_OVERHEAD,
    PREFERRED_ATT_MTU,
    SMP_CHARACTERISTIC_UUID,
    SMP_SERVICE_UUID,
    GattSMPTransport,
)
from smpkit.transport.errors import SMPClientException, SMPTransportDisconnected

__all__ = [
    "BumbleScanResult",
    "SMPBumbleTransport",
    "SMPBumbleTransportDeviceNotFound",
    "SMPBumbleTransportException",
    "SMPBumbleTransportNotSMPServer",
    "VirtualController",
    "open_bumble_device",
    "serve_virtual_controller",
]

logger = logging.getLogger(__name__)

#: A BD_ADDR, optionally with Bumble's `/P` suffix for a public address.
BD_ADDR_PATTERN: Final = re.compile(r"^([0-9A-F]{2}:){5}[0-9A-F]{2}(/P)?$", flags=re.IGNORECASE)
DEFAULT_HOST_ADDRESS: Final = "F0:5C:81:00:00:02"
_OPTIONAL_STEP_TIMEOUT_S = 1.0

HciSpec = str | LocalLink | Controller | Any


class SMPBumbleTransportException(SMPClientException):
    """Base of the Bumble transport's errors."""


class SMPBumbleTransportDeviceNotFound(SMPBumbleTransportException):
    """No advertising device matched the address or name in time."""


class SMPBumbleTransportNotSMPServer(SMPBumbleTransportException):
    """The peer has no SMP service/characteristic."""


@dataclass(frozen=True)
class BumbleScanResult:
    """One advertiser seen by `SMPBumbleTransport.scan()`."""

    address: str
    name: str | None
    rssi: int | None
    has_smp_service: bool
    #: False: `name` is a shortened local name (AD type 0x08), the start of the device's name.
    name_complete: bool = True


# ---- advertising data (parsed by hand: the AD format is stable, Bumble's helpers are not) ------


def _ad_structures(data: bytes) -> list[tuple[int, bytes]]:
    out: list[tuple[int, bytes]] = []
    i = 0
    while i < len(data) and data[i]:
        length = data[i]
        out.append((data[i + 1], bytes(data[i + 2 : i + 1 + length])))
        i += 1 + length
    return out


def ad_name(data: bytes) -> str | None:
    """The complete (0x09) or shortened (0x08) local name in raw advertising data."""
    return ad_local_name(data)[0]


def ad_local_name(data: bytes) -> tuple[str | None, bool]:
    """(name, complete): the complete local name (0x09) if present, else the shortened one (0x08)."""
    for kind in (0x09, 0x08):
        for ad_type, value in _ad_structures(data):
            if ad_type == kind:
                return value.decode("utf-8", "replace"), kind == 0x09
    return None, True


def ad_has_service(data: bytes, service: uuid_module.UUID) -> bool:
    """Whether the 128-bit service lists (0x06/0x07, little endian) of raw advertising data hold `service`."""
    wanted = service.bytes[::-1]
    return any(
        ad_type in (0x06, 0x07) and wanted in (value[i : i + 16] for i in range(0, len(value), 16))
        for ad_type, value in _ad_structures(data)
    )


# ---- the virtual link --------------------------------------------------------------------------


class VirtualController(Controller):
    """Bumble's virtual controller, delivering the advertiser's real scan response.

    The stock controller answers an active scan with a copy of the advertising data; real
    devices (Zephyr's smp_svr) put the service UUID in the advertisement and the name in the
    scan response, and a client must find them either way.
    """

    _scan_response: bytes | None = None

    def _scan_response_of(self, address: Any) -> bytes | None:
        link = self.link
        for controller in getattr(link, "controllers", ()):
            legacy = controller.le_legacy_advertiser
            if legacy.enabled and legacy.address == address:
                return bytes(legacy.scan_response_data)
            for adv_set in controller.advertising_sets.values():
                if adv_set.enabled and adv_set.address == address:
                    return bytes(adv_set.scan_response_data)
        return None

    def on_advertising_pdu(self, pdu: Any) -> None:
        self._scan_response = self._scan_response_of(pdu.advertiser_address) if self.le_scan_enable else None
        try:
            super().on_advertising_pdu(pdu)
        finally:
            self._scan_response = None

    def send_hci_packet(self, packet: Any) -> None:
        response = self._scan_response
        if response is not None:
            packet = _with_scan_response(packet, response)
        super().send_hci_packet(packet)


def _with_scan_response(packet: Any, response: bytes) -> Any:
    legacy = bumble_hci.HCI_LE_Advertising_Report_Event
    extended = bumble_hci.HCI_LE_Extended_Advertising_Report_Event
    kind: int
    if isinstance(packet, legacy):
        kind = legacy.EventType.SCAN_RSP
    elif isinstance(packet, extended):
        kind = extended.EventType.SCAN_RESPONSE
    else:
        return packet
    reports = [
        dataclasses.replace(report, data=response) if report.event_type == kind else report
        for report in packet.reports
    ]
    return type(packet)(reports=reports)




async def open_bumble_device(
    hci: HciSpec, name: str = "smpkit", address: str = DEFAULT_HOST_ADDRESS
) -> tuple[Device, Callable[[], Any]]:
    """A Bumble `Device` on `hci` (not yet powered on) and a coroutine function that closes what was opened."""
    transport: Any = None
    if isinstance(hci, str):
        transport = await open_transport(hci)
        device = Device.with_hci(name, bumble_hci.Address(address), transport.source, transport.sink)
    elif isinstance(hci, LocalLink | Controller):
        controller = hci if isinstance(hci, Controller) else VirtualController(f"{name}-controller", link=hci)
        host = Host(controller, AsyncPipeSink(controller))
        device = Device(name=name, address=bumble_hci.Address(address), host=host)
    elif hasattr(hci, "source") and hasattr(hci, "sink"):
        device = Device.with_hci(name, bumble_hci.Address(address), hci.source, hci.sink)
    else:
        raise TypeError(f"unsupported hci {hci!r}")

    async def close() -> None:
        try:
            await asyncio.wait_for(device.power_off(), timeout=2.0)
        except Exception as exc:
            logger.debug("power_off failed: %s", exc)
        if isinstance(hci, LocalLink) and device.host.controller in hci.controllers:
            hci.remove_controller(device.host.controller)
        if transport is not None:
            await transport.close()

    return device, close


async def serve_virtual_controller(
    link: LocalLink, host: str = "127.0.0.1", port: int = 0
) -> tuple[str, Callable[[], Awaitable[None]]]:
    """Put one more virtual controller on `link`, reachable as HCI over TCP (loopback by default).

    Returns the spec another process passes to Bumble (`tcp-client:127.0.0.1:PORT`) and a closer.
    That is how a second process (another Bumble version, another client) joins the virtual link.
    """
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # HCI packets are small and chatty: Nagle + delayed ACKs would add ~40 ms stalls (Linux
    # hands TCP_NODELAY down to accepted sockets)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    transport = await open_tcp_server_transport_with_socket(sock)
    controller = VirtualController("tcp-hci", host_source=transport.source, host_sink=transport.sink, link=link)
    bound = sock.getsockname()[1]

    async def close() -> None:
        if controller in link.controllers:
            link.remove_controller(controller)
        await transport.close()

    return f"tcp-client:{host}:{bound}", close


def resolve_keystore(keystore: KeyStore | str | None, namespace: str) -> KeyStore:
    """None: bonds in memory only; a path: a JSON file; a KeyStore: used as is."""
    if keystore is None:
        return MemoryKeyStore()
    if isinstance(keystore, str):
        return JsonKeyStore(namespace, keystore)
    return keystore


async def scan_advertisers(
    device: Device,
    timeout_s: float,
    name: str | None = None,
    address: str | None = None,
) -> list[BumbleScanResult]:
    """Scan for `timeout_s`, or until `name`/`address` is seen. Advertisement and scan response are merged.

    A controller that does not pass scan responses on (Bumble's stock virtual controller copies
    the advertising data into them) leaves only what the advertisement holds: a device found
    only by a shortened name that `name` starts with counts once it was seen `SHORT_NAME_SIGHTINGS`
    times without a complete name and no other advertiser's shortened name fits (`pick_by_name`).
    """
    seen: dict[str, BumbleScanResult] = {}
    sightings: dict[str, int] = {}
    found = asyncio.Event()

    def on_advertisement(advertisement: Advertisement) -> None:
        data = bytes(advertisement.data)
        key = str(advertisement.address)
        old = seen.get(key)
        got_name, complete = ad_local_name(data)
        if old is not None and old.name is not None and (got_name is None or (old.name_complete and not complete)):
            got_name, complete = old.name, old.name_complete  # a complete name is not replaced by a shortened one
        result = BumbleScanResult(
            address=key,
            name=got_name,
            rssi=advertisement.rssi,
            has_smp_service=ad_has_service(data, SMP_SERVICE_UUID) or bool(old and old.has_smp_service),
            name_complete=complete,
        )
        seen[key] = result
        sightings[key] = sightings.get(key, 0) + 1
        if name is not None and pick_by_name(list(seen.values()), name, sightings) is not None:
            found.set()
        if address is not None and _same_address(key, address):
            found.set()

    device.on(device.EVENT_ADVERTISEMENT, on_advertisement)
    try:
        await device.start_scanning(filter_duplicates=False)
        try:
            if name is None and address is None:
                await asyncio.sleep(timeout_s)
            else:
                await asyncio.wait_for(found.wait(), timeout_s)
        except asyncio.TimeoutError:
            pass
        finally:
            await device.stop_scanning()
    finally:
        device.remove_listener(device.EVENT_ADVERTISEMENT, on_advertisement)
    return list(seen.values())


#: How often a device must be seen with only a shortened name before that name may identify it.
SHORT_NAME_SIGHTINGS = 3


def pick_by_name(
    results: list[BumbleScanResult], name: str, sightings: dict[str, int] | None = None
) -> BumbleScanResult | None:
    """The advertiser whose complete name is `name`; else the only SMP advertiser whose shortened
    name `name` starts with (seen `SHORT_NAME_SIGHTINGS` times when `sightings` is given)."""
    for result in results:
        if result.name_complete and result.name == name:
            return result
    prefixed = [
        r for r in results
        if not r.name_complete and r.name and r.has_smp_service and name.startswith(r.name)
    ]
    if len(prefixed) != 1:
        return None
    if sightings is not None and sightings.get(prefixed[0].address, 0) < SHORT_NAME_SIGHTINGS:
        return None
    return prefixed[0]


def _same_address(a: str, b: str) -> bool:
    return a.split("/")[0].upper() == b.split("/")[0].upper()


class SMPBumbleTransport(GattSMPTransport):
    """SMP over Bumble: connect by address or advertised name, MTU 498 asked, pairing with a keystore."""

    scheme = "bumble"
    #: The local host stays up across a reset, so a new attempt is cheap: retry quickly.
    reconnect_pause_s = 0.05

    def __init__(
        self,
        hci: HciSpec = "usb:0",
        keystore: KeyStore | str | None = None,
        *,
        host_name: str = "smpkit",
        host_address: str = DEFAULT_HOST_ADDRESS,
        preferred_mtu: int = PREFERRED_ATT_MTU,
        pair: bool = False,
        pairing_delegate: PairingDelegate | None = None,
    ) -> None:
        super().__init__()
        self._hci = hci
        self._keystore = keystore
        self._host_name = host_name
        self._host_address = host_address
        self._preferred_mtu = preferred_mtu
        self._pair = pair
        self._delegate = pairing_delegate
        self._device: Device | None = None
        self._close_device: Callable[[], Any] | None = None
        self._connection: Connection | None = None
        self._characteristic: Any = None
        self._speed_up_task: asyncio.Task[None] | None = None
        #: The ATT MTU granted by the peer on the current connection.
        self.att_mtu = 23
        #: The peer's address on the current (or last) connection.
        self.peer_address: str | None = None

    # ---- the local host ---------------------------------------------------------------------

    @property
    def device(self) -> Device | None:
        return self._device

    @property
    def connection(self) -> Connection | None:
        return self._connection

    async def _host(self) -> Device:
        if self._device is not None:
            return self._device
        device, close = await open_bumble_device(self._hci, self._host_name, self._host_address)
        device.keystore = resolve_keystore(self._keystore, namespace=self._host_address)
        delegate = self._delegate or PairingDelegate()
        device.pairing_config_factory = lambda _c: PairingConfig(sc=True, mitm=False, bonding=True, delegate=delegate)
        await device.power_on()
        self._device, self._close_device = device, close
        return device

    async def scan(self, timeout_s: float = 5.0, smp_only: bool = True) -> list[BumbleScanResult]:
        """Advertisers seen within `timeout_s` (by default only those advertising the SMP service)."""
        results = await scan_advertisers(await self._host(), timeout_s)
        return [r for r in results if r.has_smp_service or not smp_only]

    # ---- connecting ---------------------------------------------------------------------------

    async def connect(self, address: str, timeout_s: float) -> None:
        """Connect to a BD_ADDR (`AA:BB:CC:DD:EE:FF`, `/P` for public) or the device advertising that name."""
        if self._connection is not None:
            await self._drop_connection()
        try:
            await asyncio.wait_for(self._connect(address, timeout_s), timeout_s)
        except asyncio.TimeoutError as exc:
            await self._drop_connection()
            raise SMPBumbleTransportDeviceNotFound(f"could not connect to {address!r} within {timeout_s} s") from exc
        except BaseException:
            await self._drop_connection()
            raise

    async def _resolve(self, device: Device, address: str, timeout_s: float) -> str:
        if BD_ADDR_PATTERN.match(address):
            return address
        results = await scan_advertisers(device, timeout_s, name=address)
        if (result := pick_by_name(results, address)) is not None:
            return result.address
        raise SMPBumbleTransportDeviceNotFound(f"no device advertising the name {address!r}")

    async def _connect(self, address: str, timeout_s: float) -> None:
        device = await self._host()
        target = await self._resolve(device, address, timeout_s)
        public = target.upper().endswith("/P")
        peer_address = bumble_hci.Address(
            target.split("/")[0],
            bumble_hci.Address.PUBLIC_DEVICE_ADDRESS if public else bumble_hci.Address.RANDOM_DEVICE_ADDRESS,
        )
        connection = await device.connect(peer_address, timeout=timeout_s)
        self._connection = connection
        self.peer_address = target
        connection.on(connection.EVENT_DISCONNECTION, self._on_disconnection)
        await self._secure(device, connection)
        peer = Peer(connection)
        self.att_mtu = await self._exchange_mtu(peer, connection)
        if not isinstance(self._hci, LocalLink | Controller):
            # in the background: a controller may take its time or never answer (Bumble's virtual one has neither)
            self._speed_up_task = asyncio.get_running_loop().create_task(self._speed_up(device, connection))
        self._characteristic = await self._find_characteristic(peer)
        await self._characteristic.subscribe(self._on_notification)
        self._link_up(self.att_mtu - ATT_WRITE_OVERHEAD)
        logger.info("connected to %s (ATT MTU %d)", target, self.att_mtu)

    async def _secure(self, device: Device, connection: Connection) -> None:
        bonded = device.keystore is not None and await device.keystore.get(str(connection.peer_address)) is not None
        if bonded:
            await connection.encrypt()
        elif self._pair:
            await connection.pair()

    async def _exchange_mtu(self, peer: Peer, connection: Connection) -> int:
        try:
            return int(await peer.request_mtu(self._preferred_mtu))
        except Exception as exc:  # a peer may refuse the exchange: keep the default
            logger.warning("MTU exchange failed: %s", exc)
            return int(connection.att_mtu)

    async def _speed_up(self, device: Device, connection: Connection) -> None:
        """Longer link-layer packets and the 2M PHY where the controllers support them (best effort)."""
        two_m = [bumble_hci.Phy.LE_2M]
        steps: list[tuple[int, Callable[[], Awaitable[Any]]]] = [
            (bumble_hci.HCI_LE_SET_DATA_LENGTH_COMMAND, lambda: connection.set_data_length(251, 2120)),
            (bumble_hci.HCI_LE_SET_PHY_COMMAND, lambda: device.set_connection_phy(connection, two_m, two_m)),
        ]
        for command, step in steps:
            if not device.host.supports_command(command):
                continue
            try:
                await asyncio.wait_for(step(), _OPTIONAL_STEP_TIMEOUT_S)
            except Exception as exc:  # a controller may lack either
                logger.debug("optional link setup step failed: %s", exc)

    @staticmethod
    async def _find_characteristic(peer: Peer) -> Any:
        services = await peer.discover_service(BumbleUUID(str(SMP_SERVICE_UUID)))
        if not services:
            raise SMPBumbleTransportNotSMPServer(f"no SMP service {SMP_SERVICE_UUID}")
        characteristics = await services[0].discover_characteristics([BumbleUUID(str(SMP_CHARACTERISTIC_UUID))])
        if not characteristics:
            raise SMPBumbleTransportNotSMPServer(f"no SMP characteristic {SMP_CHARACTERISTIC_UUID}")
        return characteristics[0]

    async def pair(self) -> None:
        """Pair (and bond, keys go to the keystore) on the current connection."""
        if self._connection is None:
            raise SMPTransportDisconnected("not connected")
        await self._connection.pair()

    # ---- disconnecting ------------------------------------------------------------------------

    def _on_disconnection(self, reason: int) -> None:
        logger.info("disconnected (reason 0x%02X)", reason)
        self._connection = None
        self._link_down()

    async def _drop_connection(self) -> None:
        self._link_down()
        connection, self._connection = self._connection, None
        self._characteristic = None
        if self._speed_up_task is not None:
            self._speed_up_task.cancel()
            self._speed_up_task = None
        if connection is None:
            return
        try:
            await asyncio.wait_for(connection.disconnect(), 2.0)
        except Exception as exc:
            logger.debug("disconnect failed: %s", exc)

    async def disconnect(self) -> None:
        """Drop the connection and release the controller."""
        await self._drop_connection()
        close, self._close_device, self._device = self._close_device, None, None
        if close is not None:
            await close()

    async def reconnect(self, address: str, timeout_s: float) -> None:
        """Come back after a reset, keeping the local host up (by name the device may have a new address)."""
        await self._drop_connection()
        await self._connect_until(address, timeout_s)

    # ---- I/O ----------------------------------------------------------------------------------

    async def _write(self, chunk: bytes) -> None:
        characteristic = self._characteristic
        if characteristic is None:
            raise SMPTransportDisconnected("not connected")
        # Bumble queues ACL packets against the controller's buffer credits (HCI flow control).
        await characteristic.write_value(chunk, with_response=False)
