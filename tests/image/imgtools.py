"""Build real MCUboot images with the installed `imgtool` (shared by image and workflow tests)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from smpkit.image.build import make_test_body

IMGTOOL = Path(sys.executable).parent / "imgtool"
SLOT = 0x20000


def imgtool(*args: str | Path) -> str:
    done = subprocess.run([str(IMGTOOL), *map(str, args)], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"imgtool {' '.join(map(str, args))} failed: {done.stdout}{done.stderr}")
    return done.stdout + done.stderr


class Images:
    """Builds named images in one directory; `make()` caches by name."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.app = root / "app.bin"
        self.app.write_bytes(make_test_body(12_345, seed=1))
        self.keys: dict[str, Path] = {}
        self.cache: dict[str, Path] = {}

    def key(self, kind: str) -> Path:
        if kind not in self.keys:
            path = self.root / f"key-{kind}.pem"
            imgtool("keygen", "-k", path, "-t", kind)
            self.keys[kind] = path
        return self.keys[kind]

    def make(self, name: str, *args: str | Path, version: str = "1.2.3", sign: str | None = None) -> Path:
        if name in self.cache:
            return self.cache[name]
        out = self.root / name
        key_args: list[str | Path] = ["-k", self.key(sign)] if sign else []
        command = "sign" if sign else "create"
        imgtool(command, *key_args, "-v", version, "-H", "0x200", "--pad-header", "-S", hex(SLOT), *args, self.app, out)
        self.cache[name] = out
        return out
