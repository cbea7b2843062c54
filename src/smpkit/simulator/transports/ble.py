"""The simulator as a Bluetooth LE peripheral: a Bumble GATT server with the SMP service.

It behaves like Zephyr's BT transport with reassembly on (smp_bt.c, observed in
zephyr-ble-observations.md):
- it advertises the SMP service UUID and puts its name in the scan response (like smp_svr);
- it grants an ATT MTU up to `max_mtu` (498) and never starts an exchange itself;
- each response is cut into notifications of exactly MTU - 3 bytes (the last holds the rest),
  and a response always starts in a new notification;
- requests are reassembled from writes: the first write must hold the whole header, a write
  running past the announced end drops the partial request and itself, a request over
  `buf_size` is dropped, and a disconnect discards a partial request;
- requests are answered strictly in order.
Fault knobs: `latency_ms` per request (answers keep their order, so pipelined requests overlap),
`drop_after` (disconnect after N requests), and `reset()` (drop off the air and come back,
possibly under a new random address).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from bumble import hci as bumble_hci
from bumble.att import ATT_Error
from bumble.device import Connection, Device
from bumble.gatt import Characteristic, CharacteristicValue, Service
from bumble.keys import KeyStore
from bumble.pairing import PairingConfig, PairingDelegate

from smpkit.protocol.header import HEADER_SIZE
from smpkit.transport._gatt import ATT_WRITE_OVERHEAD, PREFERRED_ATT_MTU, SMP_CHARACTERISTIC_UUID, SMP_SERVICE_UUID
from smpkit.transport.bumble import HciSpec, open_bumble_device, resolve_keystore

logger = logging.getLogger(__name__)


class _HiddenAttErrors(logging.Filter):
    """Bumble logs a traceback for an ATT error raised on a Write Command; the error is meant to be lost there."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], ATT_Error))


logging.getLogger("bumble.gatt_server").addFilter(_HiddenAttErrors())

#: One request packet in, the response packets out (none: the request is ignored).
Handler = Callable[[bytes], Awaitable[Sequence[bytes]]]

#: What smp_bt answers a write it cannot take (BT_ATT_ERR_VALUE_NOT_ALLOWED; `reasm_*_write_req` captured it).
ATT_VALUE_NOT_ALLOWED = 0x13

DEFAULT_NAME = "smpkit-sim"
DEFAULT_ADDRESS = "C0:5C:00:00:00:01"
ADVERTISING_INTERVAL_MS = 20.0


def random_static_address() -> str:
    """A fresh random static address (two top bits set), as a device may take after a reset."""
    raw = bytearray(os.urandom(6))
    raw[0] |= 0xC0
    return ":".join(f"{b:02X}" for b in raw)


#: Legacy advertising data holds at most 31 bytes.
AD_MAX = 31


def advertising_data(name: str) -> tuple[bytes, bytes]:
    """(advertisement, scan response): flags + SMP service UUID + the name as far as it fits, then
    the complete local name.

    Like smp_svr, the complete name is in the scan response; the advertisement also carries it
    (complete, or shortened to the 8 bytes left) because some controllers never pass a scan
    response on: Bumble's stock virtual controller (`bumble.apps.controllers`) copies the
    advertising data into it, and a scanner behind it would otherwise see no name at all.
    """
    flags = bytes([2, 0x01, 0x06])
    service = bytes([17, 0x07]) + SMP_SERVICE_UUID.bytes[::-1]
    encoded = name.encode()
    room = AD_MAX - len(flags) - len(service) - 2
    if len(encoded) <= room:
        in_adv = bytes([len(encoded) + 1, 0x09]) + encoded
    else:
        short = encoded[:room].decode("utf-8", "ignore").encode()  # never half a UTF-8 character
        in_adv = bytes([len(short) + 1, 0x08]) + short
    return flags + service + in_adv, bytes([len(encoded) + 1, 0x09]) + encoded


class ZephyrReassembly:
    """Zephyr's request reassembly for one connection (smp_bt.c + smp_reassembly.c)."""

    def __init__(self, buf_size: int) -> None:
        self.buf_size = buf_size
        self._partial = bytearray()
        self._expected = 0
        self.dropped = 0

    def reset(self) -> None:
        self._partial.clear()
        self._expected = 0

    def feed(self, write: bytes) -> bytes | None:
        """The whole request once `write` completes it, else None (also when it was dropped)."""
        if self._partial:
            missing = self._expected - len(self._partial)
            if len(write) > missing:  # overflow: the partial request and this write are lost
                self.reset()
                self.dropped += 1
                return None
            self._partial += write
            if len(self._partial) < self._expected:
                return None
            request = bytes(self._partial)
            self.reset()
            return request
        if len(write) < HEADER_SIZE:
            self.dropped += 1
            return None
        expected = HEADER_SIZE + ((write[2] << 8) | write[3])
        if expected > self.buf_size or len(write) > expected:
            self.dropped += 1
            return None
        if len(write) == expected:
            return bytes(write)
        self._partial += write
        self._expected = expected
        return None


@dataclass
class BLEStats:
    """What the peripheral saw, for tests."""

    connections: int = 0
    mtus: list[int] = field(default_factory=list)
    writes: int = 0
    requests: int = 0
    responses: int = 0
    notifications: list[int] = field(default_factory=list)  # sizes
    dropped_writes: int = 0


async def _no_handler(_request: bytes) -> Sequence[bytes]:
    return []


class _Session:
    """One central's connection: reassembly, requests answered in order, responses notified in order."""

    def __init__(self, peripheral: SMPBLEPeripheral, connection: Connection) -> None:
        self.peripheral = peripheral
        self.connection = connection
        self.reassembly = ZephyrReassembly(peripheral.buf_size)
        self.requests: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()
        self.responses: asyncio.Queue[bytes] = asyncio.Queue()
        loop = asyncio.get_running_loop()
        self.tasks = [loop.create_task(self._notify_responses())]
        self.sim_session: Any = None
        self.model: Any = None
        sim = peripheral.simulator
        if peripheral.ble_model is not None:
            # zephyr-3.4-ble & co: the profile's net_buf pool, rc 2 and timing answer instead
            self.model = peripheral.ble_model.connection(
                lambda piece: peripheral.notify_piece(connection, piece), lambda: connection.att_mtu
            )
        elif sim is not None:
            # the simulator's session applies its faults (latency, drop_after) and buffer limits
            self.sim_session = sim.new_session("ble", self._on_sim_response, self._on_sim_link_drop)
        else:
            self.tasks.append(loop.create_task(self._answer_requests()))

    def submit(self, request: bytes) -> None:
        if self.sim_session is not None:
            self.sim_session.receive(request, self.connection)
            return
        due = asyncio.get_running_loop().time() + self.peripheral.latency_ms / 1000.0
        self.requests.put_nowait((due, request))

    def close(self) -> None:
        self.reassembly.reset()
        if self.model is not None:
            self.model.close()
        for task in self.tasks:
            task.cancel()
        if self.sim_session is not None:
            self.sim_session.close()
            sessions = self.peripheral.simulator.sessions
            if self.sim_session in sessions:
                sessions.remove(self.sim_session)

    def _on_sim_response(self, response: bytes, _peer: Any) -> None:
        self.responses.put_nowait(response)

    def _on_sim_link_drop(self) -> None:
        asyncio.get_running_loop().create_task(self.peripheral._drop(self.connection))

    async def _answer_requests(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            due, request = await self.requests.get()
            if (delay := due - loop.time()) > 0:
                await asyncio.sleep(delay)
            try:
                responses = await self.peripheral.handler(request)
            except Exception:
                logger.exception("handler failed")
                continue
            for response in responses:
                self.responses.put_nowait(response)

    async def _notify_responses(self) -> None:
        while True:
            response = await self.responses.get()
            await self.peripheral.notify(self.connection, response)


class SMPBLEPeripheral:
    """A Bumble peripheral that serves SMP with `handler`.

    `hci` is a Bumble HCI spec, transport, controller or `LocalLink` (see `smpkit.transport.bumble`).
    """

    def __init__(
        self,
        handler: Handler | None = None,
        *,
        hci: HciSpec,
        simulator: Any = None,
        name: str = DEFAULT_NAME,
        address: str = DEFAULT_ADDRESS,
        buf_size: int = 2475,
        max_mtu: int = PREFERRED_ATT_MTU,
        latency_ms: float = 0.0,
        drop_after: int | None = None,
        require_encryption: bool = False,
        keystore: KeyStore | str | None = None,
    ) -> None:
        if handler is None and simulator is None:
            raise ValueError("give a handler or a simulator")
        self.simulator = simulator
        self.handler: Handler = handler if handler is not None else _no_handler
        #: A captured BLE build's buffer and timing model (ble_buffers.BleSmpServer); None: plain reassembly.
        self.ble_model: Any = None
        self.hci = hci
        self.name = name
        self.address = address
        self.buf_size = buf_size
        self.max_mtu = max_mtu
        self.latency_ms = latency_ms
        self.drop_after = drop_after
        self.require_encryption = require_encryption
        self._keystore = keystore
        self.stats = BLEStats()
        self.device: Device | None = None
        self._close_device: Callable[[], Any] | None = None
        self._characteristic: Characteristic[bytes] | None = None
        self._sessions: dict[int, _Session] = {}
        self._advertising = False
        self._reboot_task: asyncio.Task[None] | None = None
        #: Take a new random static address at every reboot (as devices with privacy do).
        self.new_address_on_reboot = False
        #: Called after `reset()` took the device off the air (the simulator resets its state there).
        self.on_reset: Callable[[], Any] | None = None

    @property
    def url(self) -> str:
        return f"ble://{self.name}"

    @property
    def connections(self) -> list[Connection]:
        return [s.connection for s in self._sessions.values()]

    # ---- life cycle ---------------------------------------------------------------------------

    async def start(self) -> SMPBLEPeripheral:
        device, close = await open_bumble_device(self.hci, self.name, self.address)
        self.device, self._close_device = device, close
        device.keystore = resolve_keystore(self._keystore, namespace=self.address)
        device.pairing_config_factory = lambda _c: PairingConfig(sc=True, mitm=False, bonding=True,
                                                                 delegate=PairingDelegate())
        device.gatt_server.max_mtu = self.max_mtu
        self._characteristic = Characteristic(
            str(SMP_CHARACTERISTIC_UUID),
            # Zephyr's smp_bt takes Write Requests too (and answers them with an ATT error when it refuses)
            Characteristic.Properties.WRITE_WITHOUT_RESPONSE
            | Characteristic.Properties.WRITE
            | Characteristic.Properties.NOTIFY,
            Characteristic.WRITEABLE,
            CharacteristicValue(write=self._on_write),
        )
        device.add_service(Service(str(SMP_SERVICE_UUID), [self._characteristic]))
        device.on(device.EVENT_CONNECTION, self._on_connection)
        await device.power_on()
        await self._advertise()
        return self

    async def _advertise(self) -> None:
        assert self.device is not None
        adv, scan_rsp = advertising_data(self.name)
        address = bumble_hci.Address(self.address)
        if self.device.random_address != address:
            # the virtual link routes ACL data by the controller's own random address, as a radio would
            self.device.random_address = address
            await self.device.send_sync_command(bumble_hci.HCI_LE_Set_Random_Address_Command(random_address=address))
        await self.device.start_advertising(
            auto_restart=True,
            advertising_data=adv,
            scan_response_data=scan_rsp,
            advertising_interval_min=ADVERTISING_INTERVAL_MS,
            advertising_interval_max=ADVERTISING_INTERVAL_MS,
        )
        self._advertising = True

    async def close(self) -> None:
        if self._reboot_task is not None:
            self._reboot_task.cancel()
        for session in list(self._sessions.values()):
            session.close()
        self._sessions.clear()
        close, self._close_device, self.device = self._close_device, None, None
        if close is not None:
            await close()

    async def __aenter__(self) -> SMPBLEPeripheral:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def disconnect_all(self) -> None:
        for connection in self.connections:
            with contextlib.suppress(Exception):
                await connection.disconnect()

    async def reset(self, downtime_s: float = 0.2, new_address: bool = False) -> None:
        """Drop every connection, stay silent for `downtime_s`, then advertise again (maybe as someone new)."""
        await self._go_off_air()
        if self.on_reset is not None:
            result = self.on_reset()
            if asyncio.iscoroutine(result):
                await result
        await asyncio.sleep(downtime_s)
        if new_address:
            self.address = random_static_address()
        await self._advertise()

    def on_reboot(self) -> None:
        """The simulated device rebooted: go off the air until it is back online, then advertise again."""
        self._reboot_task = asyncio.get_running_loop().create_task(self._reboot_cycle())

    async def _go_off_air(self) -> None:
        """Stop advertising and drop every connection."""
        assert self.device is not None
        self._advertising = False
        with contextlib.suppress(Exception):
            await self.device.stop_advertising()
        await self.disconnect_all()

    async def _reboot_cycle(self) -> None:
        await self._go_off_air()
        if self.simulator is not None:
            await self.simulator.wait_online(timeout=60.0)
        if self.new_address_on_reboot:
            self.address = random_static_address()
        if self.device is not None:
            await self._advertise()

    # ---- GATT -----------------------------------------------------------------------------------

    def _on_connection(self, connection: Connection) -> None:
        self.stats.connections += 1
        session = _Session(self, connection)
        self._sessions[connection.handle] = session

        def on_disconnection(_reason: int) -> None:
            self._sessions.pop(connection.handle, None)
            session.close()

        def on_mtu() -> None:
            self.stats.mtus.append(connection.att_mtu)

        connection.on(connection.EVENT_DISCONNECTION, on_disconnection)
        connection.on(connection.EVENT_CONNECTION_ATT_MTU_UPDATE, on_mtu)

    def _on_write(self, connection: Connection, value: bytes) -> None:
        session = self._sessions.get(connection.handle)
        if session is None:
            return
        self.stats.writes += 1
        if self.require_encryption and not connection.is_encrypted:
            # like a Zephyr characteristic with BT_GATT_PERM_WRITE_ENCRYPT: a write command is just lost
            self.stats.dropped_writes += 1
            return
        if session.model is not None:
            error = session.model.write(bytes(value))
            if error is not None:
                self.stats.dropped_writes += 1
                # a Write Request gets this ATT error back; Bumble discards it for a Write Command, as Zephyr does
                raise ATT_Error(error)
            return
        dropped = session.reassembly.dropped
        request = session.reassembly.feed(bytes(value))
        self.stats.dropped_writes = sum(s.reassembly.dropped for s in self._sessions.values())
        if session.reassembly.dropped != dropped:
            raise ATT_Error(ATT_VALUE_NOT_ALLOWED)
        if request is None:
            return
        self.stats.requests += 1
        session.submit(request)
        if self.drop_after is not None and self.stats.requests >= self.drop_after:
            self.drop_after = None
            asyncio.get_running_loop().create_task(self._drop(connection))

    async def _drop(self, connection: Connection) -> None:
        with contextlib.suppress(Exception):
            await connection.disconnect()

    async def notify_piece(self, connection: Connection, piece: bytes) -> None:
        """One notification the caller already cut (the BLE profile model cuts and paces them)."""
        assert self.device is not None and self._characteristic is not None
        await self.device.notify_subscriber(connection, self._characteristic, piece)
        self.stats.notifications.append(len(piece))

    async def notify(self, connection: Connection, response: bytes) -> None:
        """Send one response as notifications of exactly MTU - 3 bytes (the last one shorter)."""
        assert self.device is not None and self._characteristic is not None
        size = connection.att_mtu - ATT_WRITE_OVERHEAD
        self.stats.responses += 1
        for offset in range(0, len(response), size):
            piece = response[offset : offset + size]
            await self.device.notify_subscriber(connection, self._characteristic, piece)
            self.stats.notifications.append(len(piece))


async def serve_ble(
    simulator: Any,
    hci: HciSpec,
    name: str = DEFAULT_NAME,
    address: str = DEFAULT_ADDRESS,
    *,
    max_mtu: int = PREFERRED_ATT_MTU,
    new_address_on_reboot: bool = False,
    require_encryption: bool = False,
) -> SMPBLEPeripheral:
    """Serve `simulator` (a `smpkit.simulator.Simulator`) as a BLE peripheral; it is closed with the simulator.

    Faults (latency, jitter, drop_after, ...) and the buffer limit come from the simulator's session.
    """
    peripheral = SMPBLEPeripheral(
        simulator=simulator,
        hci=hci,
        name=name,
        address=address,
        buf_size=simulator.profile.buf_size,
        max_mtu=max_mtu,
        require_encryption=require_encryption,
    )
    peripheral.new_address_on_reboot = new_address_on_reboot
    from smpkit.simulator.ble_buffers import ble_model_for

    peripheral.ble_model = ble_model_for(simulator)
    if peripheral.ble_model is not None and simulator.profile.att_mtu_max is not None:
        peripheral.max_mtu = min(max_mtu, simulator.profile.att_mtu_max)
    await peripheral.start()
    simulator.add_server(peripheral)
    return peripheral
