"""What the simulated device is (`DeviceProfile`) and how the simulator runs (`SimulatorConfig`).

`DeviceProfile` describes a build: the groups and commands compiled in, the strings it
reports, its buffer limits and a few quirks of its transports. The default profile is a
full-featured device. `profiles.py` (Zephyr 4.4) and `profiles_ble.py` (Zephyr 3.4 over
BLE) hold `DeviceProfile` values of captured builds; `resolve_profile()` finds any of them
by name in `profile_registry()`.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

from smpkit.simulator.ble_buffers import BleTiming

Transport = Literal["udp", "serial", "serial-raw", "shell", "ble"]

OS, IMAGE, STAT, SETTINGS, FS, SHELL, ENUM, ZEPHYR_BASIC = 0, 1, 2, 3, 8, 9, 10, 63


@dataclass(frozen=True, slots=True)
class OsInfo:
    """The text `os info` prints for each format letter."""

    kernel_name: str = "Zephyr"  # s
    node_name: str = "smpkit-sim"  # n
    kernel_release: str = "smpkit-sim"  # r
    kernel_version: str = "4.4.0"  # v
    build_time: str | None = "Mon Jan  1 00:00:00 2024"  # b (None: `b` is not compiled in)
    machine: str = "posix"  # m
    processor: str = "x86"  # p
    platform: str = "smpkit_sim/native"  # i
    operating_system: str = "Zephyr"  # o

    def letters(self) -> tuple[tuple[str, str | None], ...]:
        """(letter, text) in the fixed order Zephyr prints them."""
        return (
            ("s", self.kernel_name),
            ("n", self.node_name),
            ("r", self.kernel_release),
            ("v", self.kernel_version),
            ("b", self.build_time),
            ("m", self.machine),
            ("p", self.processor),
            ("i", self.platform),
            ("o", self.operating_system),
        )

    def render(self, fmt: str) -> str | None:
        """The `output` for format `fmt`, or None when a letter is unknown (OS rc 2).

        Items come out in the fixed order whatever the order of the letters, a repeated
        letter prints once, and an empty format prints the kernel name.
        """
        known = {letter for letter, text in self.letters() if text is not None}
        wanted = set(fmt)
        if wanted - known - {"a"}:
            return None
        if not wanted:
            wanted = {"s"}
        if "a" in wanted:
            wanted = known
        return " ".join(text for letter, text in self.letters() if letter in wanted and text is not None)


@dataclass(frozen=True, slots=True)
class Thread:
    """One `taskstat` entry; `tid` is its position, `stkuse` and `state` move at run time."""

    name: str
    prio: int
    state: int
    stksiz: int
    stkuse: int = 6


@dataclass(frozen=True, slots=True)
class ImageSlotProfile:
    """Slot sizes and the image MCUboot reports in slot 0 before anything is uploaded."""

    slot_size: int = 0x80000
    #: None: slot 0 holds no image (native_posix without MCUboot, zephyr-3.4-ble).
    running_version: str | None = "1.0.0"
    #: Reported hash of the boot image; None = the SHA-256 TLV of the image the simulator builds.
    running_hash: bytes | None = None
    num_images: int = 1


_DEFAULT_STATS: Mapping[str, Mapping[str, int] | None] = MappingProxyType(
    {
        "smp_svr_stats": MappingProxyType({"ticks": 0}),
        "smp_sim_stats": MappingProxyType({"rx": 0, "tx": 0, "errors": 0, "rx_bytes": 0, "tx_bytes": 0}),
    }
)

_DEFAULT_THREADS = (
    Thread("mcumgr smp", 3, 128, 512),
    Thread("sysworkq", -1, 2, 576),
    Thread("shell_dummy", 14, 2, 512),
    Thread("idle", 15, 0, 64),
    Thread("main", 0, 4, 544),
)


@dataclass(frozen=True, slots=True)
class DeviceProfile:
    """A device build: what is compiled in, the strings it reports, its limits and quirks."""

    name: str = "default"
    description: str = "full-featured simulated Zephyr device"
    #: The captured servers of the conformance corpus this profile reproduces.
    corpus_servers: tuple[str, ...] = ()
    transport: Transport | None = None
    buf_size: int = 2048
    buf_count: int = 4
    #: Groups in registration order (that is the `enum list` order).
    groups: tuple[int, ...] = (ENUM, FS, IMAGE, OS, SETTINGS, SHELL, STAT, ZEPHYR_BASIC)
    #: (group, command) pairs compiled out even though their group is present: rc 8.
    absent_commands: frozenset[tuple[int, int]] = frozenset({(OS, 1)})
    os_info: OsInfo = OsInfo()
    threads: tuple[Thread, ...] = _DEFAULT_THREADS
    #: Stat groups in list order; None = the group exists but `show` fails with rc 7 (EMSGSIZE).
    stat_groups: Mapping[str, Mapping[str, int] | None] = field(default_factory=lambda: _DEFAULT_STATS)
    #: Roots of the registered settings handlers; None = an in-memory store taking any name.
    settings_handlers: tuple[str, ...] | None = None
    settings_name_len: int = 256
    settings_value_len: int = 256
    fs_mount: str | None = "/lfs1"
    fs_size: int = 16384
    fs_path_len: int = 64
    shell_commands: tuple[str, ...] = ("kernel uptime", "kernel version", "echo", "help")
    shell_cmd_buf: int = 256
    image: ImageSlotProfile | None = ImageSlotProfile()
    #: False: image state writes (test/confirm) are compiled out, every write answers rc 8.
    image_state_write: bool = True
    #: The final upload response carries `match` (image check enabled).
    image_upload_match: bool = True
    #: zephyr-3.4-ble (profiles_ble.py): taskstat without stksiz/stkuse, `"rc":0` in stat list,
    #: and the (group, rc) an erase of a never-written slot answers (None: `{}`).
    taskstat_stack_info: bool = True
    stat_list_rc0: bool = False
    image_erase_empty_error: tuple[int, int] | None = None
    #: CONFIG_MCUMGR_SMP_VERBOSE_ERR_RESPONSE: v1 error bodies carry `rsn` texts.
    verbose_errors: bool = False
    v1_supported: bool = True
    #: Largest UDP datagram read; longer ones are truncated (then `len` no longer fits: rc 9).
    udp_max_datagram: int | None = 1500
    #: Largest SMP message over console framing; None = buf_size - 4. Longer: no answer.
    serial_max_message: int | None = None
    #: Largest SMP message over a raw UART; None = buf_size.
    raw_max_message: int | None = None
    #: UART receive line buffer (CONFIG_UART_MCUMGR_RX_BUF_SIZE), newline included.
    serial_rx_line: int = 128
    #: Zephyr's transmit line cuts: raw bytes on the first line and on continuation
    #: lines (124 and 120 base64 characters).
    serial_tx_first_raw: int = 93
    serial_tx_next_raw: int = 90
    #: native_sim's UDP receive path: an accepted request keeps the server busy this many ms
    #: (its answer leaves at the end), and one datagram read while busy is dropped silently.
    #: So back-to-back (and 5 ms apart) requests are answered every other one, 20 ms gaps
    #: lose nothing, and a client waiting for each answer never meets it. None = no such drop.
    udp_busy_ms: float | None = None
    #: False: a raw UART that reads a header announcing more than raw_limit stays lost,
    #: waiting for the announced bytes (Zephyr never resynchronises, see the raw records).
    raw_resync: bool = True
    #: The UART hands frames to SMP one at a time (each is processed before the next one's
    #: bytes are taken), so a burst of frames is not limited by buf_count (QEMU's UART).
    serial_frame_at_a_time: bool = False
    #: The process exits on reset (native_sim): nothing is answered afterwards.
    reset_exits: bool = False
    reset_ms: int = 250
    boot_ms: int = 50
    #: Text the shell transport prints after a plain command line.
    shell_prompt: str = "\x1b[1;32muart:~$ \x1b[m"
    bootloader_name: str = "MCUboot"
    bootloader_mode: int = 3
    bootloader_no_downgrade: bool = False
    datetime_ms: bool = True
    os_info_max_response: int = 256
    #: Group names and handler counts for `enum details` (default: from the handler tables).
    group_details: Mapping[int, tuple[str, int]] | None = None
    #: The largest ATT MTU a BLE server grants (None: whatever `serve_ble` is given).
    att_mtu_max: int | None = None
    #: The clock of Zephyr's BT transport model (`ble_buffers.py`): net_buf pool, rc 2, pacing.
    #: None: BLE requests go straight to the device with plain reassembly.
    ble_timing: BleTiming | None = None

    def has_command(self, group: int, command: int) -> bool:
        return group in self.groups and (group, command) not in self.absent_commands

    @property
    def serial_limit(self) -> int:
        return self.serial_max_message if self.serial_max_message is not None else self.buf_size - 4

    @property
    def raw_limit(self) -> int:
        return self.raw_max_message if self.raw_max_message is not None else self.buf_size

    @property
    def fs_chunk(self) -> int:
        """Zephyr's download chunk: NETBUF_SIZE minus the worst-case header and CBOR (fs_mgmt_config.h)."""
        return self.buf_size - 47

    def replace(self, **changes: Any) -> DeviceProfile:
        return dataclasses.replace(self, **changes)

    def with_timing(self, **changes: float) -> DeviceProfile:
        """This profile with its BLE clock changed, e.g. `scale=0.5` runs it twice as fast."""
        return self.replace(ble_timing=dataclasses.replace(self.ble_timing or BleTiming(), **changes))


DEFAULT_PROFILE = DeviceProfile()



@functools.cache
def profile_registry() -> Mapping[str, DeviceProfile]:
    """Every named profile: the default one and the captured builds."""
    # Imported here: the profile modules build their values from this module's classes.
    from smpkit.simulator import profiles, profiles_ble

    builds = (DEFAULT_PROFILE, *profiles.ZEPHYR_44, profiles_ble.ZEPHYR_34_BLE)
    return MappingProxyType({p.name: p for p in builds})


def resolve_profile(name_or_profile: str | DeviceProfile) -> DeviceProfile:
    """A profile by name (`""` is the default one), or the given profile itself."""
    if isinstance(name_or_profile, DeviceProfile):
        return name_or_profile
    registry = profile_registry()
    try:
        return registry[name_or_profile or DEFAULT_PROFILE.name]
    except KeyError:
        raise ValueError(f"unknown profile {name_or_profile!r}; known: {', '.join(registry)}") from None


@dataclass(slots=True)
class SimulatorConfig:
    """How to run the simulator. `buf_size`/`buf_count` of None keep the profile's values."""

    buf_size: int | None = None
    buf_count: int | None = None
    profile: str | DeviceProfile = "default"
    state_dir: Path | str | None = None
    #: Directory served at the fs mount point (default: `state_dir/fs` or a temporary one).
    fs_root: Path | str | None = None
    #: An MCUboot image file that the device runs at first boot (slot 0 of image 0).
    image: Path | str | None = None
    #: Seconds from the reset answer to the reboot (None: the profile's reset_ms).
    reset_delay_s: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def device_profile(self) -> DeviceProfile:
        profile = resolve_profile(self.profile)
        changes: dict[str, Any] = {}
        if self.buf_size is not None:
            changes["buf_size"] = self.buf_size
        if self.buf_count is not None:
            changes["buf_count"] = self.buf_count
        if self.reset_delay_s is not None:
            changes["reset_ms"] = int(self.reset_delay_s * 1000)
        return profile.replace(**changes) if changes else profile
