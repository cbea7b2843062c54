"""Profiles of real Zephyr 4.4.0 `smp_server` builds, taken from the conformance corpus.

Every value here was read off `../shared/reference/zephyr-4.4-transcripts.json` (see
`zephyr-4.4-observations.md`); `tests/conformance/` replays that corpus against a
simulator running each profile and checks the answers byte for byte. Where the corpus
is silent the value is marked "not captured" and follows Zephyr's source.

A profile describes a build, not a transport implementation: what is compiled in, the
strings it reports, its buffer limits and the quirks of its receive path. The simulator
reads it; nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

Transport = Literal["udp", "serial", "serial-raw", "shell"]

#: Group ids (SMP numbering).
OS, IMAGE, STAT, SETTINGS, FS, SHELL, ENUM, ZEPHYR_BASIC = 0, 1, 2, 3, 8, 9, 10, 63

#: `enum details` names and handler counts (size of each group's handler array).
GROUP_DETAILS: Mapping[int, tuple[str, int]] = MappingProxyType(
    {
        ENUM: ("enum mgmt", 4),
        FS: ("fs mgmt", 5),
        IMAGE: ("img mgmt", 7),  # not captured; img_mgmt_handlers[] ends at SLOT_INFO (id 6)
        OS: ("os mgmt", 8),
        SETTINGS: ("settings mgmt", 4),
        SHELL: ("shell mgmt", 1),
        STAT: ("stat mgmt", 2),
        ZEPHYR_BASIC: ("zephyr basic mgmt", 1),
    }
)


@dataclass(frozen=True, slots=True)
class OsInfo:
    """The strings `os info` prints for each format letter (`a` = all, in this order)."""

    kernel_name: str = "Zephyr"  # s
    node_name: str = "unknown"  # n
    kernel_release: str = "684c9e8f32e4"  # r
    kernel_version: str = "4.4.0"  # v
    build_time: str = "Wed Jun  3 22:19:37 2026"  # b
    machine: str = "posix"  # m
    processor: str = "x86"  # p
    platform: str = "native_sim/native"  # i
    operating_system: str = "Zephyr"  # o

    def letters(self) -> tuple[tuple[str, str], ...]:
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
        known = {letter for letter, _ in self.letters()}
        wanted = set(fmt)
        if wanted - known - {"a"}:
            return None
        if not wanted:
            wanted = {"s"}
        if "a" in wanted:
            wanted = known
        return " ".join(text for letter, text in self.letters() if letter in wanted)


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
    """The running image MCUboot reports in slot 0, and the slot sizes."""

    slot_size: int = 524288
    running_version: str = "0.0.0"
    running_hash: bytes = bytes.fromhex("a0306f5e8459d508f8b184565285d8e3455fb67fcf7c8482bf4b627f77ceb98f")


@dataclass(frozen=True, slots=True)
class ZephyrProfile:
    """One captured Zephyr build. See the module docstring."""

    name: str
    description: str
    corpus_servers: tuple[str, ...]
    transport: Transport
    buf_size: int
    buf_count: int
    #: Groups in registration order (that is the `enum list` order).
    groups: tuple[int, ...]
    #: Commands that are compiled out even though their group is present: (group, id) -> rc 8.
    absent_commands: frozenset[tuple[int, int]] = frozenset({(OS, 1), (OS, 3), (OS, 4), (OS, 8)})
    os_info: OsInfo = OsInfo()
    threads: tuple[Thread, ...] = ()
    #: Stat groups in list order; None = the group exists but `show` fails with rc 7 (EMSGSIZE).
    stat_groups: Mapping[str, Mapping[str, int] | None] = field(default_factory=dict)
    #: Settings handlers registered by the app (the sample registers none).
    settings_handlers: tuple[str, ...] = ()
    fs_mount: str | None = None
    fs_size: int = 16384
    shell_commands: tuple[str, ...] = ("kernel uptime", "kernel version")
    image: ImageSlotProfile | None = None
    #: Image state writes (test/confirm) compiled out: every write answers rc 8.
    image_state_write: bool = True
    #: The final upload response carries `match` (image check enabled).
    image_upload_match: bool = False
    #: CONFIG_MCUMGR_SMP_VERBOSE_ERR_RESPONSE: v1 error bodies carry `rsn` texts.
    verbose_errors: bool = False
    #: Largest UDP datagram the build reads; longer ones are truncated to this size
    #: (so the header `len` no longer fits and the answer is rc 9).
    udp_max_datagram: int | None = None
    #: Largest SMP message taken over console framing (buf_size - 4); longer: no answer.
    serial_max_message: int | None = None
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
    #: Largest SMP message over a raw UART (None = buf_size; 381 and 382 bytes were answered).
    raw_max_message: int | None = None
    #: False: a raw UART that reads a header announcing more than it can hold stays lost,
    #: waiting for the announced bytes (Zephyr never resynchronises, see the raw records).
    raw_resync: bool = True
    #: The UART hands each frame to SMP before taking the next (QEMU's UART answered 12
    #: back-to-back frames), so bursts are not cut at buf_count.
    serial_frame_at_a_time: bool = False
    #: native_sim exits on reboot: after a reset answer nothing more is answered.
    reset_exits: bool = False
    #: Text the shell transport prints after a plain command line (shell profile only).
    shell_prompt: str = "\x1b[1;32muart:~$ \x1b[m"

    @property
    def group_details(self) -> tuple[tuple[int, str, int], ...]:
        return tuple((g, *GROUP_DETAILS[g]) for g in self.groups)

    def has_command(self, group: int, command: int) -> bool:
        return group in self.groups and (group, command) not in self.absent_commands


_NATIVE_SIM_GROUPS = (ENUM, FS, OS, SETTINGS, SHELL, STAT, ZEPHYR_BASIC)
_FLASH_SIM_STATS: Mapping[str, Mapping[str, int] | None] = MappingProxyType(
    {
        "flash_sim_stats": None,
        "flash_sim_thresholds": MappingProxyType({"max_write_calls": 0, "max_erase_calls": 0, "max_len": 0}),
        "smp_svr_stats": MappingProxyType({"ticks": 0}),
    }
)
_SVR_STATS_ONLY: Mapping[str, Mapping[str, int] | None] = MappingProxyType(
    {"smp_svr_stats": MappingProxyType({"ticks": 0})}
)

#: Threads of the native_sim UART builds (serial and raw).
_UART_THREADS = (
    Thread("", -16, 4, 6),
    Thread("mcumgr smp", 3, 128, 512),
    Thread("sysworkq", -1, 2, 576),
    Thread("shell_dummy", 14, 2, 512),
    Thread("idle", 15, 0, 64),
    Thread("main", 0, 4, 544),
)

ZEPHYR_44_UDP = ZephyrProfile(
    name="zephyr-4.4-udp",
    description="native_sim smp_server over UDP/IPv4, buf 2048 x 2",
    corpus_servers=("native_sim udp buf2048x2", "native_sim udp buf2048x2 (throwaway run)"),
    transport="udp",
    buf_size=2048,
    buf_count=2,
    groups=_NATIVE_SIM_GROUPS,
    threads=(
        Thread("mcumgr smp", 3, 128, 512),
        Thread("smp_udp4", 0, 2, 256),
        Thread("conn_mgr_monitor", -1, 2, 128),
        Thread("rx_q[0]", -1, 2, 375),
        Thread("net_mgmt", -1, 2, 192),
        Thread("sysworkq", -1, 2, 576),
        Thread("shell_dummy", 14, 2, 512),
        Thread("idle", 15, 0, 64),
        Thread("main", 0, 4, 544),
    ),
    stat_groups=_FLASH_SIM_STATS,
    fs_mount="/lfs1",
    udp_max_datagram=1500,
    udp_busy_ms=10.0,
    reset_exits=True,
)

ZEPHYR_44_SERIAL = ZephyrProfile(
    name="zephyr-4.4-serial",
    description="native_sim smp_server over a UART with console framing, buf 384 x 4, 128-byte lines",
    corpus_servers=("native_sim serial buf384x4 line128",),
    transport="serial",
    buf_size=384,
    buf_count=4,
    groups=_NATIVE_SIM_GROUPS,
    threads=_UART_THREADS,
    stat_groups=_FLASH_SIM_STATS,
    fs_mount="/lfs1",
    serial_max_message=380,
    serial_frame_at_a_time=True,
    reset_exits=True,
)

ZEPHYR_44_SERIAL_RAW = ZephyrProfile(
    name="zephyr-4.4-serial-raw",
    description="native_sim smp_server over a raw UART (no framing), buf 384 x 4",
    corpus_servers=("native_sim serial_raw buf384x4", "native_sim serial_raw buf384x4 (second run)"),
    transport="serial-raw",
    buf_size=384,
    buf_count=4,
    groups=(ENUM, OS, SETTINGS, SHELL, STAT),
    threads=_UART_THREADS,
    stat_groups=_SVR_STATS_ONLY,
    raw_resync=False,
    reset_exits=True,
)

ZEPHYR_44_SHELL = ZephyrProfile(
    name="zephyr-4.4-shell",
    description="native_sim smp_server over the shell UART (SMP frames mixed with shell text), buf 384 x 4",
    corpus_servers=("native_sim shell buf384x4",),
    transport="shell",
    buf_size=384,
    buf_count=4,
    groups=(ENUM, OS, STAT),
    os_info=OsInfo(build_time="Wed Jun  3 22:18:39 2026"),
    threads=(
        Thread("mcumgr smp", 3, 128, 512),
        Thread("shell_uart", 14, 128, 512),
        Thread("", -16, 4, 6),
        Thread("sysworkq", -1, 2, 576),
        Thread("idle", 15, 0, 64),
        Thread("main", 0, 4, 544),
    ),
    stat_groups=_SVR_STATS_ONLY,
    serial_max_message=380,
    serial_frame_at_a_time=True,
    reset_exits=True,
)

ZEPHYR_44_MCUBOOT = ZephyrProfile(
    name="zephyr-4.4-mcuboot",
    description="qemu mps2/an385 smp_server under MCUboot over a UART with console framing, buf 2048 x 4",
    corpus_servers=(
        "qemu mps2_an385 mcuboot serial_recovery_buf2048 buf2048x4",
        "qemu mps2_an385 mcuboot serial_recovery_buf2048 buf2048x4 (pipelining run, PTY)",
        "qemu mps2_an385 mcuboot serial_recovery_buf2048 buf2048x4 (pipelining run, TCP)",
    ),
    transport="serial",
    buf_size=2048,
    buf_count=4,
    groups=(ENUM, FS, IMAGE, OS, SETTINGS, SHELL, STAT, ZEPHYR_BASIC),
    # Image id 2 (file) is reserved and unimplemented; state writes are compiled out.
    absent_commands=frozenset({(OS, 1), (OS, 3), (OS, 4), (OS, 8), (IMAGE, 2)}),
    os_info=OsInfo(
        build_time="Wed Jun  3 22:18:59 2026",
        machine="arm",
        processor="cortex-m3",
        platform="mps2/an385",
    ),
    threads=_UART_THREADS[1:],  # not captured: the native_sim UART list without its nameless thread
    stat_groups=_SVR_STATS_ONLY,  # not captured
    fs_mount="/lfs1",
    image=ImageSlotProfile(),
    image_state_write=False,
    verbose_errors=True,
    serial_max_message=2044,
    serial_frame_at_a_time=True,
)

PROFILES: Mapping[str, ZephyrProfile] = MappingProxyType(
    {
        p.name: p
        for p in (ZEPHYR_44_UDP, ZEPHYR_44_SERIAL, ZEPHYR_44_SERIAL_RAW, ZEPHYR_44_SHELL, ZEPHYR_44_MCUBOOT)
    }
)

def profile_names() -> tuple[str, ...]:
    """Every captured profile name (the default profile belongs to the simulator)."""
    return tuple(PROFILES)


def get_profile(name: str) -> ZephyrProfile:
    try:
        return PROFILES[name]
    except KeyError:
        known = ", ".join(PROFILES)
        raise ValueError(f"unknown profile {name!r}; known: default, {known}") from None
