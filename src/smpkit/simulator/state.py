"""Optional state on disk (`--state DIR`): slots, saved settings and the fs survive restarts.

Layout: `DIR/state.json` (swap flags, saved settings), `DIR/image<I>-slot<S>.bin` (the
bytes written to each slot) and `DIR/fs/` (the file system). As on a device, RAM state
(an upload in progress, unsaved settings) does not survive.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from smpkit.simulator.device import Device

STATE_FILE = "state.json"


class StateStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        (root / "fs").mkdir(exist_ok=True)

    @property
    def fs_root(self) -> Path:
        return self.root / "fs"

    def _slot_file(self, image: int, slot: int) -> Path:
        return self.root / f"image{image}-slot{slot}.bin"

    def load(self, device: Device) -> bool:
        """Restore what a previous run saved; False when there is nothing yet."""
        try:
            meta: dict[str, Any] = json.loads((self.root / STATE_FILE).read_text())
        except (OSError, ValueError):
            return False
        for index, (pair, saved) in enumerate(zip(device.images, meta.get("images", []), strict=False)):
            pair.pending = saved.get("pending")
            pair.primary_confirmed = bool(saved.get("primary_confirmed", True))
            for slot_no, slot_meta in enumerate(saved.get("slots", [])[:2]):
                path = self._slot_file(index, slot_no)
                data = path.read_bytes() if path.exists() else b""
                override = slot_meta.get("hash_override")
                pair.slot(slot_no).load(data, bytes.fromhex(override) if override else None)
        device.settings_saved = {k: bytes.fromhex(v) for k, v in meta.get("settings", {}).items()}
        device.settings = dict(device.settings_saved)
        device.boot_count = int(meta.get("boot_count", 0)) + 1
        return True

    def save(self, device: Device, slots: bool = True) -> None:
        images: list[dict[str, Any]] = []
        for index, pair in enumerate(device.images):
            slot_meta = []
            for slot_no in (0, 1):
                slot = pair.slot(slot_no)
                if slots:
                    self._write_atomic(self._slot_file(index, slot_no), bytes(slot.data))
                slot_meta.append({"hash_override": slot.hash_override.hex() if slot.hash_override else None})
            images.append({"pending": pair.pending, "primary_confirmed": pair.primary_confirmed, "slots": slot_meta})
        meta = {
            "format": 1,
            "boot_count": device.boot_count,
            "images": images,
            "settings": {k: v.hex() for k, v in device.settings_saved.items()},
        }
        self._write_atomic(self.root / STATE_FILE, json.dumps(meta, indent=1).encode())

    @staticmethod
    def _write_atomic(path: Path, data: bytes) -> None:
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_bytes(data)
        os.replace(tmp, path)
