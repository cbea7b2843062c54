"""`smpkit image ...` and `smpkit upgrade`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from smpkit.cli.context import State, state_of, with_client
from smpkit.cli.errors import UsageError

image_app = typer.Typer(help="Image group: slots, upload, test, confirm, erase; read image files.",
                        no_args_is_help=True)

IMAGE_FIELDS = ("image", "slot", "version", "hash", "active", "confirmed", "pending", "permanent", "bootable")
FLAG_FIELDS = ("active", "confirmed", "pending", "permanent", "bootable")

ExistingFile = Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True, metavar="FILE",
                                              help="MCUboot image: .bin, .signed or .hex.")]


def register(app: typer.Typer) -> None:
    app.add_typer(image_app, name="image")
    app.command("upgrade")(upgrade)


def slot_rows(state_rsp: Any) -> list[dict[str, Any]]:
    """The `image list` schema: one map per slot, every key present."""
    rows = []
    for s in state_rsp.images:
        rows.append({
            "image": s.image if s.image is not None else 0,
            "slot": s.slot,
            "version": s.version,
            "hash": s.hash.hex() if s.hash is not None else None,
            **{flag: bool(getattr(s, flag)) for flag in FLAG_FIELDS},
        })
    return rows


def slots_table(state: State, rows: list[dict[str, Any]], title: str | None = None) -> Any:
    table = state.out.table("image", "slot", "version", "hash", "flags", title=title)
    table.columns[3].overflow = "fold"
    for row in rows:
        flags = " ".join(f for f in FLAG_FIELDS if row[f])
        table.add_row(str(row["image"]), str(row["slot"]), row["version"], row["hash"] or "", flags)
    if not rows:
        table.add_row("-", "-", "(no images)", "", "")
    return table


async def read_state(client: Any) -> Any:
    from smpkit.protocol.groups.image import ImageStateRead

    return await client.request(ImageStateRead())


@image_app.command("list")
def image_list(ctx: typer.Context) -> None:
    """The images in the device's slots and their flags."""

    async def body(client: Any, state: State) -> None:
        rows = slot_rows(await read_state(client))
        state.out.emit({"images": rows}, lambda: slots_table(state, rows))

    with_client(ctx, "image list", body)


def image_json(image: Any) -> dict[str, Any]:
    h = image.header
    return {
        "file": image.source,
        "size": image.size,
        "version": str(h.version),
        "hash": image.hash,
        "file_sha256": image.file_sha256,
        "bootable": image.bootable,
        "signed": list(image.signatures),
        "header": {
            "magic": h.magic, "load_addr": h.load_addr, "hdr_size": h.hdr_size,
            "protect_tlv_size": h.protect_tlv_size, "img_size": h.img_size,
            "flags": list(h.flag_names), "version": str(h.version),
        },
        "tlvs": [
            {"type": t.type, "name": t.name, "protected": t.protected, "len": len(t.value), "value": t.value}
            for t in image.all_tlvs
        ],
        "warnings": list(image.warnings),
    }


@image_app.command("info")
def image_info(ctx: typer.Context, file: ExistingFile) -> None:
    """Check an image file and show its header, TLVs and the hash the device will report (no device needed)."""
    from smpkit.cli.errors import VerificationError
    from smpkit.image import ImageError, read_image

    state = state_of(ctx)
    try:
        image = read_image(file)
    except ImageError as exc:
        raise VerificationError(f"image info: {file} is not a valid MCUboot image: {exc}",
                                "pass a signed MCUboot image (imgtool sign / west build output)") from None

    def human() -> Any:
        table = state.out.table("field", "value", title=str(file))
        for label, value in image.summary():
            table.add_row(label, value)
        return table

    state.out.emit(image_json(image), human)


@image_app.command("upload")
def image_upload(
    ctx: typer.Context,
    file: ExistingFile,
    image: Annotated[int, typer.Option("--image", "-n", help="Image number on multi-image devices.")] = 0,
    upgrade_only: Annotated[bool, typer.Option("--upgrade-only",
                                               help="Let the device refuse an image not newer than "
                                                    "the running one.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Upload the file even if it is not a valid MCUboot "
                                                        "image.")] = False,
) -> None:
    """Upload an image to the free slot (pipelined, resumes an interrupted upload)."""
    from smpkit.cli.transfer import upload_image

    with_client(ctx, "image upload", lambda client, state: upload_image(
        client, state, file, image=image, upgrade_only=upgrade_only, force=force))


def _parse_hash(text: str) -> bytes:
    try:
        value = bytes.fromhex(text)
    except ValueError:
        raise UsageError(f"{text!r} is not a hex hash", "copy it from `smpkit image list`") from None
    if len(value) not in (32, 48, 64):
        raise UsageError(f"hash {text!r} has {len(value)} bytes", "give the full SHA-256 from `smpkit image list`")
    return value


async def _write_state(client: Any, state: State, digest: bytes | None, confirm: bool) -> None:
    from smpkit.protocol.groups.image import ImageStateWrite

    rsp = await client.request(ImageStateWrite(hash=digest, confirm=confirm))
    rows = slot_rows(rsp)
    state.out.emit({"images": rows}, lambda: slots_table(state, rows))


@image_app.command("test")
def image_test(ctx: typer.Context, hash_: Annotated[str, typer.Argument(metavar="HASH",
                                                                        help="Image hash (hex).")]) -> None:
    """Mark an image to be tried once at the next reset."""
    digest = _parse_hash(hash_)
    with_client(ctx, "image test", lambda client, state: _write_state(client, state, digest, False))


@image_app.command("confirm")
def image_confirm(
    ctx: typer.Context,
    hash_: Annotated[str | None, typer.Argument(metavar="[HASH]", help="Image hash (default: the running "
                                                                       "image).")] = None,
) -> None:
    """Make an image permanent (default: the one running now)."""
    digest = _parse_hash(hash_) if hash_ else None
    with_client(ctx, "image confirm", lambda client, state: _write_state(client, state, digest, True))


@image_app.command("erase")
def image_erase(
    ctx: typer.Context,
    slot: Annotated[int | None, typer.Option("--slot", help="Slot number (default: the inactive one).")] = None,
) -> None:
    """Erase a slot."""
    from smpkit.protocol.groups.image import ImageErase

    async def body(client: Any, state: State) -> None:
        await client.request(ImageErase(slot=slot))
        state.out.emit({"slot": slot}, f"slot {slot if slot is not None else '(inactive)'} erased")

    with_client(ctx, "image erase", body)


@image_app.command("slots")
def image_slots(ctx: typer.Context) -> None:
    """Slot sizes and the largest image each image number takes."""
    from smpkit.protocol.groups.image import SlotInfo

    async def body(client: Any, state: State) -> None:
        rsp = await client.request(SlotInfo())

        def human() -> Any:
            table = state.out.table("image", "slot", "size", "upload_image_id", "max_image_size")
            for img in rsp.images:
                for s in img.slots:
                    table.add_row(str(img.image), str(s.slot), _cell(s.size), _cell(s.upload_image_id),
                                  _cell(img.max_image_size))
            return table

        state.out.emit(rsp, human)

    with_client(ctx, "image slots", body)


def upgrade(
    ctx: typer.Context,
    file: ExistingFile,
    no_confirm: Annotated[bool, typer.Option("--no-confirm", help="Leave the new image unconfirmed (MCUboot "
                                                                  "reverts at the next reset).")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Check the file and the device; change "
                                                            "nothing.")] = False,
    image: Annotated[int, typer.Option("--image", "-n", help="Image number on multi-image devices.")] = 0,
    reconnect_timeout: Annotated[float, typer.Option("--reconnect-timeout", help="Seconds to wait for the "
                                                                                 "device after reset.")] = 30.0,
) -> None:
    """Upload, test, reset, verify and confirm a new firmware image, step by step."""
    from smpkit.cli.transfer import run_upgrade

    with_client(ctx, "upgrade", lambda client, state: run_upgrade(
        client, state, file, image=image, confirm=not no_confirm, dry_run=dry_run,
        reconnect_timeout=reconnect_timeout))


def _cell(value: Any) -> str:
    return "" if value is None else str(value)
