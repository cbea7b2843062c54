"""Image upload, upgrade and file transfers for the CLI: progress bars, step lines, JSON results.

The work itself is `smpkit.workflows`; this module only presents it.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

from smpkit.cli.context import State
from smpkit.cli.errors import VerificationError


def load_image(file: Path, force: bool = False) -> Any:
    from smpkit.image import ImageError, load_upload

    try:
        return load_upload(file, allow_raw=force)
    except ImageError as exc:
        raise VerificationError(f"{file}: not a valid MCUboot image: {exc}",
                                "check the file, or pass --force to upload it anyway") from None


def _image_facts(loaded: Any) -> dict[str, Any]:
    return {
        "size": len(loaded.data),
        "version": str(loaded.version) if getattr(loaded, "version", None) is not None else None,
        "hash": loaded.hash.hex() if getattr(loaded, "hash", None) else None,
    }


async def _upload(client: Any, state: State, loaded: Any, label: str, **options: Any) -> Any:
    from smpkit.workflows.upload import upload

    total = len(loaded.data)
    with state.out.progress(label, total) as bar:
        return await upload(client, loaded, on_progress=lambda p: bar.update(p.done, p.total), **options)


def _result_json(result: Any) -> dict[str, Any]:
    return {
        "resumed_from": result.resumed_from, "bytes_sent": result.bytes_sent, "chunks": result.chunks,
        "elapsed": round(result.elapsed, 3), "rate": round(result.rate, 1), "match": result.match,
        "verified": result.verified,
    }


async def upload_image(client: Any, state: State, file: Path, *, image: int, upgrade_only: bool,
                       force: bool) -> None:
    loaded = load_image(file, force)
    result = await _upload(client, state, loaded, f"upload {file.name}", image=image, upgrade=upgrade_only,
                           allow_raw=force)
    data = {"file": str(file), "image": image, **_image_facts(loaded), **_result_json(result)}
    resumed = f", resumed at {result.resumed_from}" if result.resumed_from else ""
    state.out.emit(data, f"uploaded {data['size']} bytes in {result.elapsed:.2f} s "
                         f"({result.rate / 1024:.1f} KiB/s{resumed}); verified by {result.verified}")


# ---- upgrade ---------------------------------------------------------------------------------


class StepPrinter:
    """Turns the upgrade workflow's step events into lines, a progress bar during the upload, and JSON."""

    def __init__(self, state: State, label: str) -> None:
        self.state = state
        self.label = label
        self.items: list[dict[str, Any]] = []
        self._stack = contextlib.ExitStack()
        self._bar: Any = None

    def __call__(self, event: Any) -> None:
        step, status = str(event.step.value), str(event.status)
        if status == "progress":
            if self._bar is not None and event.progress is not None:
                self._bar.update(event.progress.done, event.progress.total)
            return
        if step == "upload" and status == "start":
            self.line(step, status, event.detail)
            self._bar = self._stack.enter_context(self.state.out.progress(self.label, None))
            return
        if step == "upload" and self._bar is not None:
            self.close()
        self.items.append({"step": step, "status": status, "detail": event.detail})
        if status != "start" or step in ("reset", "reconnect"):
            self.line(step, status, event.detail)

    def line(self, step: str, status: str, detail: str) -> None:
        mark = {"done": "ok", "skipped": "--", "start": ".."}.get(status, status)
        self.state.out.info(f"{mark:>3} {step:<14} {detail}".rstrip())

    def close(self) -> None:
        self._bar = None
        self._stack.close()


async def run_upgrade(client: Any, state: State, file: Path, *, image: int, confirm: bool, dry_run: bool,
                      reconnect_timeout: float, show_tables: bool = False) -> dict[str, Any]:
    """The upgrade workflow with step lines, a progress bar, and the slots before and after."""
    from smpkit.cli.images import read_state, slot_rows, slots_table
    from smpkit.workflows.upgrade import upgrade

    loaded = load_image(file)
    facts = _image_facts(loaded)
    if loaded.hash is None:
        raise VerificationError(f"{file}: the image has no SHA-256 TLV", "sign it with imgtool (it adds the hash)")
    state.out.info(f"upgrade to {file.name}: version {facts['version']}, {facts['size']} bytes, hash {facts['hash']}")
    before = slot_rows(await read_state(client))
    if show_tables:
        state.out.show(lambda: slots_table(state, before, "before"))
    printer = StepPrinter(state, f"upload {file.name}")
    try:
        result = await upgrade(client, loaded, image=image, confirm=confirm, dry_run=dry_run,
                               reconnect_timeout=reconnect_timeout, on_step=printer)
    finally:
        printer.close()
    after = slot_rows(await read_state(client)) if not dry_run else before
    if show_tables:
        state.out.show(lambda: slots_table(state, after, "after"))
    report: dict[str, Any] = {
        "file": str(file), **facts, "image": image, "outcome": result.outcome, "confirmed": result.confirmed,
        "upload": _result_json(result.upload) if result.upload is not None else None,
        "steps": printer.items, "before": {"images": before}, "after": {"images": after},
    }
    if state.out.json_mode:
        state.out.json(report)
    else:
        state.out.info(f"upgrade: {result.outcome}" + (" and confirmed" if result.confirmed else ""))
    return report


# ---- files ---------------------------------------------------------------------------------


async def upload_file(client: Any, state: State, local: Path, data: bytes, device_path: str) -> None:
    from smpkit.workflows.files import upload_file as upload

    with state.out.progress(f"upload {local.name}", len(data)) as bar:
        result = await upload(client, data, device_path, on_progress=lambda p: bar.update(p.done, p.total))
    out = {"local": str(local), "name": device_path, "len": result.total, "elapsed": round(result.elapsed, 3),
           "verified": result.verified}
    state.out.emit(out, f"{local} -> {device_path}: {result.total} bytes in {result.elapsed:.2f} s "
                        f"(verified by {result.verified})")


async def download_file(client: Any, state: State, device_path: str, local: Path, *, overwrite: bool) -> None:
    from smpkit.workflows.files import download_file as download

    with state.out.progress(f"download {Path(device_path).name}", None) as bar:
        result = await download(client, device_path, local, overwrite=overwrite,
                                on_progress=lambda p: bar.update(p.done, p.total))
    out = {"name": device_path, "local": str(local), "len": result.total, "elapsed": round(result.elapsed, 3),
           "verified": result.verified}
    state.out.emit(out, f"{device_path} -> {local}: {result.total} bytes in {result.elapsed:.2f} s "
                        f"(verified by {result.verified})")
