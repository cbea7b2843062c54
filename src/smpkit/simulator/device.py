"""The simulated device's state (sans I/O): image slots, settings, file system, stats, clock.

Handlers read and change this state; servers and the simulator drive reboots. Tests
use `Simulator.device` to look at it.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from smpkit.simulator.config import DeviceProfile, ImageSlotProfile
from smpkit.simulator.mcuboot import ImageInfo, build_image, parse_image

Pending = Literal["test", "perm"] | None


@dataclass(slots=True)
class Slot:
    """One flash slot: the bytes written since the last erase (the rest reads as erased)."""

    size: int
    data: bytearray = field(default_factory=bytearray)
    #: A reported hash that replaces the TLV's (profiles of captured devices).
    hash_override: bytes | None = None
    _info: ImageInfo | None = None
    _info_valid: bool = False

    def erase(self) -> None:
        self.data = bytearray()
        self.hash_override = None
        self._info_valid = False

    def write(self, off: int, chunk: bytes) -> None:
        if off > len(self.data):
            self.data.extend(b"\xff" * (off - len(self.data)))
        self.data[off : off + len(chunk)] = chunk
        self._info_valid = False

    def load(self, data: bytes, hash_override: bytes | None = None) -> None:
        self.data = bytearray(data)
        self.hash_override = hash_override
        self._info_valid = False

    @property
    def info(self) -> ImageInfo | None:
        if not self._info_valid:
            self._info = parse_image(self.data)
            self._info_valid = True
        return self._info

    @property
    def hash(self) -> bytes | None:
        info = self.info
        if info is None:
            return None
        return self.hash_override or info.hash

    @property
    def is_empty(self) -> bool:
        return not self.data


@dataclass(slots=True)
class ImagePair:
    """Primary (running) and secondary slot of one image, with MCUboot's swap state.

    `pending` is what the secondary's trailer asks MCUboot to do at the next boot;
    `primary_confirmed` False means we run a tested image that reverts unless confirmed.
    """

    primary: Slot
    secondary: Slot
    pending: Pending = None
    primary_confirmed: bool = True

    @property
    def reverting(self) -> bool:
        return not self.primary_confirmed

    def slot(self, index: int) -> Slot:
        return self.primary if index == 0 else self.secondary

    def secondary_in_use(self) -> bool:
        """The secondary slot holds an image MCUboot will boot (pending) or fall back to (revert)."""
        return self.pending is not None or self.reverting

    def boot(self) -> None:
        """What MCUboot's swap does at boot."""
        if self.pending is not None and self.secondary.info is not None:
            self.primary, self.secondary = self.secondary, self.primary
            self.primary_confirmed = self.pending == "perm"
        elif self.reverting and self.secondary.info is not None:
            self.primary, self.secondary = self.secondary, self.primary
            self.primary_confirmed = True
        self.pending = None


@dataclass(slots=True)
class UploadSession:
    image: int
    size: int
    off: int
    sha: bytes


@dataclass(slots=True)
class FileUpload:
    """An open fs upload: writes are held back until the file is closed (littlefs syncs on close)."""

    name: str
    path: Path
    off: int
    size: int
    pending: bytearray = field(default_factory=bytearray)
    last_used: float = field(default_factory=time.monotonic)


class Device:
    """All state of one simulated device."""

    def __init__(self, profile: DeviceProfile, fs_root: Path, boot_image: bytes | None = None) -> None:
        self.profile = profile
        self.fs_root = fs_root
        self.booted_at = time.monotonic()
        self.boot_count = 1
        self.online = True
        self.images: list[ImagePair] = []
        self.upload: UploadSession | None = None
        self.file_upload: FileUpload | None = None
        self.settings: dict[str, bytes] = {}
        self.settings_saved: dict[str, bytes] = {}
        self.storage_erases = 0
        self.rtc_offset: float | None = None
        self.stats: dict[str, dict[str, int]] = {}
        #: (group, name, handler count) in registration order, for `enum details` (set by the server).
        self.group_details: list[tuple[int, str, int]] = []
        #: Called by `request_reset()`; the simulator reboots the device a little later.
        self.on_reset: Callable[[], None] | None = None
        #: Called after each state change worth keeping on disk (see state.py).
        self.on_change: Callable[[str], None] | None = None
        #: Fault: reset once when an image upload passes half its length.
        self.reset_during_upload = False
        self._setup_images(profile.image, boot_image)
        self._reset_stats()

    # -- boot -------------------------------------------------------------------------
    def _setup_images(self, spec: ImageSlotProfile | None, boot_image: bytes | None) -> None:
        if spec is None:
            return
        for index in range(spec.num_images):
            pair = ImagePair(Slot(spec.slot_size), Slot(spec.slot_size))
            if index == 0 and boot_image is not None:
                pair.primary.load(boot_image)
            elif spec.running_version is None:
                pass  # an empty slot 0 (zephyr-3.4-ble)
            else:
                body = hashlib.sha256(f"smpkit-sim image {index}".encode()).digest() * 32
                pair.primary.load(build_image(spec.running_version, body), spec.running_hash if index == 0 else None)
            self.images.append(pair)

    def _reset_stats(self) -> None:
        self.stats = {name: dict(fields) for name, fields in self.profile.stat_groups.items() if fields is not None}

    def request_reset(self) -> None:
        self.online = False
        if self.on_reset is not None:
            self.on_reset()

    def reboot(self) -> None:
        """What a reset does: MCUboot swaps or reverts, RAM state is lost, saved settings come back."""
        for pair in self.images:
            pair.boot()
        self.upload = None
        self.close_file_upload()
        self.settings = dict(self.settings_saved)
        self.booted_at = time.monotonic()
        self.boot_count += 1
        self._reset_stats()
        self.online = not self.profile.reset_exits
        self.changed("boot")

    def changed(self, what: str) -> None:
        if self.on_change is not None:
            self.on_change(what)

    # -- clock and counters -------------------------------------------------------------
    @property
    def uptime_ms(self) -> int:
        return int((time.monotonic() - self.booted_at) * 1000)

    def count(self, field_name: str, amount: int = 1) -> None:
        group = self.stats.get("smp_sim_stats")
        if group is not None and field_name in group:
            group[field_name] += amount

    def stat_values(self, name: str) -> dict[str, int] | None:
        """Current fields of stat group `name` (KeyError if unknown; None if too big to send)."""
        if name not in self.profile.stat_groups:
            raise KeyError(name)
        values = self.stats.get(name)
        if values is None:
            return None
        if "ticks" in values:
            values["ticks"] = self.uptime_ms // 1000
        return dict(values)

    # -- images -------------------------------------------------------------------------
    def slot_by_abs(self, abs_slot: int) -> tuple[ImagePair, int] | None:
        image, slot = divmod(abs_slot, 2)
        if not 0 <= image < len(self.images):
            return None
        return self.images[image], slot

    def find_hash(self, digest: bytes) -> tuple[int, int] | None:
        for index, pair in enumerate(self.images):
            for slot in (0, 1):
                if pair.slot(slot).hash == digest:
                    return index, slot
        return None

    # -- file system --------------------------------------------------------------------
    def fs_path(self, name: str) -> Path | None:
        """The host path for device path `name`, or None when it is not under the mount point."""
        mount = self.profile.fs_mount
        if mount is None:
            return None
        if name != mount and not name.startswith(mount + "/"):
            return None
        parts = [p for p in name[len(mount) :].split("/") if p]
        if any(p in (".", "..") for p in parts):
            return None
        return self.fs_root.joinpath(*parts)

    def close_file_upload(self) -> None:
        upload = self.file_upload
        self.file_upload = None
        if upload is None:
            return
        try:
            with open(upload.path, "ab") as fh:
                fh.write(upload.pending)
        except OSError:
            return
        self.changed("fs")

    def expire_file_upload(self, idle_s: float = 4.0) -> None:
        """Zephyr closes an upload left idle (CONFIG_MCUMGR_GRP_FS_FILE_AUTOMATIC_IDLE_CLOSE_TIME)."""
        if self.file_upload is not None and time.monotonic() - self.file_upload.last_used > idle_s:
            self.close_file_upload()

    def fs_used(self) -> int:
        total = 0
        for dirpath, _dirs, files in os.walk(self.fs_root):
            for name in files:
                with contextlib.suppress(OSError):
                    total += os.path.getsize(os.path.join(dirpath, name))
        return total
