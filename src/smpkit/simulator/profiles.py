"""Profiles of real Zephyr 4.4.0 `smp_server` builds, taken from the conformance corpus.

Every value here was read off `tests/data/zephyr/zephyr-4.4-transcripts.json` (see
`zephyr-4.4-observations.md`); `tests/conformance/` replays that corpus against a
simulator running each profile and checks the answers byte for byte. Where the corpus
is silent the value is marked "not captured" and follows Zephyr's source.

A profile describes a build, not a transport implementation: what is compiled in, the
strings it reports, its buffer limits and the quirks of its receive path. The simulator
reads it; nothing here does I/O.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from smpkit.simulator.config import (
    ENUM,
    FS,
    IMAGE,
    OS,
    SETTINGS,
    SHELL,
    STAT,
    ZEPHYR_BASIC,
    DeviceProfile,
    ImageSlotProfile,
    OsInfo,
    Thread,
)

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

#: The strings `os info` prints on native_sim (`a` = all).
_OS_INFO = OsInfo(
    node_name="unknown",
    kernel_release="684c9e8f32e4",
    build_time="Wed Jun  3 22:19:37 2026",
    platform="native_sim/native",
)

#: What every 4.4 `smp_server` build shares unless its profile says otherwise: no image group,
#: console echo/mempool/datetime/bootloader info compiled out (rc 8), no settings handlers
#: registered by the sample, no file system, no `match` in upload answers, no UDP datagram cap.
_ZEPHYR_44 = DeviceProfile(
    absent_commands=frozenset({(OS, 1), (OS, 3), (OS, 4), (OS, 8)}),
    os_info=_OS_INFO,
    settings_handlers=(),
    fs_mount=None,
    shell_commands=("kernel uptime", "kernel version"),
    image=None,
    image_upload_match=False,
    udp_max_datagram=None,
)


def _zephyr_44(**fields: Any) -> DeviceProfile:
    """A 4.4 build: `_ZEPHYR_44` with `fields`, its `enum details` taken from its groups."""
    profile = _ZEPHYR_44.replace(**fields)
    return profile.replace(group_details=MappingProxyType({g: GROUP_DETAILS[g] for g in profile.groups}))


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

ZEPHYR_44_UDP = _zephyr_44(
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

ZEPHYR_44_SERIAL = _zephyr_44(
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

ZEPHYR_44_SERIAL_RAW = _zephyr_44(
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

ZEPHYR_44_SHELL = _zephyr_44(
    name="zephyr-4.4-shell",
    description="native_sim smp_server over the shell UART (SMP frames mixed with shell text), buf 384 x 4",
    corpus_servers=("native_sim shell buf384x4",),
    transport="shell",
    buf_size=384,
    buf_count=4,
    groups=(ENUM, OS, STAT),
    os_info=dataclasses.replace(_OS_INFO, build_time="Wed Jun  3 22:18:39 2026"),
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

ZEPHYR_44_MCUBOOT = _zephyr_44(
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
    os_info=dataclasses.replace(
        _OS_INFO,
        build_time="Wed Jun  3 22:18:59 2026",
        machine="arm",
        processor="cortex-m3",
        platform="mps2/an385",
    ),
    threads=_UART_THREADS[1:],  # not captured: the native_sim UART list without its nameless thread
    stat_groups=_SVR_STATS_ONLY,  # not captured
    fs_mount="/lfs1",
    image=ImageSlotProfile(
        running_version="0.0.0",
        running_hash=bytes.fromhex("a0306f5e8459d508f8b184565285d8e3455fb67fcf7c8482bf4b627f77ceb98f"),
    ),
    image_state_write=False,
    verbose_errors=True,
    serial_max_message=2044,
    serial_frame_at_a_time=True,
)

#: The captured 4.4 builds, in corpus order.
ZEPHYR_44: tuple[DeviceProfile, ...] = (
    ZEPHYR_44_UDP,
    ZEPHYR_44_SERIAL,
    ZEPHYR_44_SERIAL_RAW,
    ZEPHYR_44_SHELL,
    ZEPHYR_44_MCUBOOT,
)
