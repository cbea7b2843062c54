"""The `zephyr-3.4-ble` profile: NCS Zephyr 3.4.99 `smp_svr` over Bluetooth LE with reassembly.

Every value was read off `tests/data/zephyr/zephyr-ble-transcripts.json` (148 records,
`zephyr-ble-observations.md`); `tests/conformance_ble/` replays that corpus over Bumble's
virtual link against this profile. Where the corpus is silent the value follows the
Zephyr source and says so. Its `ble_timing` switches on the buffer and timing model of
Zephyr's BT transport (`ble_buffers.py`).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

# BleConnection, BleSmpServer, BleStats: re-exported for tests/ble_rules, which imports them from here.
from smpkit.simulator.ble_buffers import BleConnection, BleSmpServer, BleStats, BleTiming
from smpkit.simulator.config import IMAGE, OS, SHELL, STAT, DeviceProfile, ImageSlotProfile, OsInfo, Thread

__all__ = ["ZEPHYR_34_BLE", "BleConnection", "BleSmpServer", "BleStats"]

#: `os info`: `b` is compiled out (CONFIG_MCUMGR_GRP_OS_INFO_BUILD_DATE_TIME=n), so it is rc 2.
#: Captured: `a` = "Zephyr Zephyr nrf_connect-a86fb816 3.4.99 posix unknown native_posix Zephyr".
#: With CONFIG_BT and no hostname the node name is bt_get_name() (os_mgmt.c), here "Zephyr".
_OS_INFO = OsInfo(
    node_name="Zephyr",
    kernel_release="nrf_connect-a86fb816",
    kernel_version="3.4.99",
    build_time=None,
    processor="unknown",
    platform="native_posix",
)

#: This build reports no stack figures (taskstat_stack_info=False): stksiz/stkuse stay 0.
_THREADS = tuple(
    Thread(name, prio, state, stksiz=0, stkuse=0)
    for name, prio, state in (
        ("", -10, 16),
        ("BT RX", -8, 2),
        ("BT TX", -9, 2),
        ("mcumgr smp", 3, 128),
        ("BT_LW_WQ", 10, 2),
        ("sysworkq", -1, 2),
        ("shell_dummy", 14, 2),
        ("idle", 15, 0),
        ("main", 0, 16),
    )
)

_STATS: Mapping[str, Mapping[str, int] | None] = MappingProxyType(
    {
        # not captured: flash_sim_stats is too big for a response on 4.4 (rc 7); assumed alike here
        "flash_sim_stats": None,
        # not captured: the field names follow the 4.4 capture of the same flash simulator
        "flash_sim_thresholds": MappingProxyType({"max_write_calls": 0, "max_erase_calls": 0, "max_len": 0}),
        "smp_svr_stats": MappingProxyType({"ticks": 0}),
    }
)

ZEPHYR_34_BLE = DeviceProfile(
    name="zephyr-3.4-ble",
    description="NCS Zephyr 3.4.99 native_posix smp_svr over BLE (reassembly on), buf 2475 x 4, MTU <= 498",
    corpus_servers=("ncs zephyr 3.4.99 native_posix smp_svr bt buf2475x4 (bumble virtual controller)",),
    transport="ble",
    buf_size=2475,
    buf_count=4,
    # No enumeration group (10) in 3.4: the order is SMP numbering, as `err_unknown_group_4` shows 4 absent.
    groups=(OS, IMAGE, STAT, SHELL),
    # Compiled out (rc 8): console echo, mempool, datetime, bootloader info, image slot info
    # (added after 3.4), image file/corelist/coreload.
    absent_commands=frozenset({(OS, 1), (OS, 3), (OS, 4), (OS, 8), (IMAGE, 2), (IMAGE, 3), (IMAGE, 4), (IMAGE, 6)}),
    os_info=_OS_INFO,
    threads=_THREADS,
    taskstat_stack_info=False,
    stat_groups=_STATS,
    # `stat list` answers `{"rc":0,"stat_list":[...]}` in this tree (`stat_list`).
    stat_list_rc0=True,
    shell_commands=("kernel version",),
    # native_posix flash: slot0/slot1 partitions of 0x69000 bytes (boards/posix/native_posix/native_posix.dts).
    # No MCUboot and nothing in slot 0: `image state` starts as `{"images":[],"splitStatus":0}`.
    image=ImageSlotProfile(slot_size=0x69000, running_version=None),
    # No `match` and no `"rc":0` in upload answers (`img_upload_*`).
    image_upload_match=False,
    # Erase of an empty slot 1 -> `{"err":{"group":1,"rc":1}}` (`img_erase_0`); after an upload `{}`.
    image_erase_empty_error=(IMAGE, 1),
    reset_exits=True,  # not captured; native_posix exits on reboot like native_sim
    # The server grants an ATT MTU up to this (L2CAP MTU 498): 517 asked -> 498.
    att_mtu_max=498,
    ble_timing=BleTiming(),
)
