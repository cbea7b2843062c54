"""Fault injection, state on disk, profiles and the `simulate` command."""

from __future__ import annotations

import asyncio
import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

from smpkit.protocol import decode_message, encode_request
from smpkit.protocol.groups.image import ImageStateRead, ImageUpload
from smpkit.protocol.groups.os import Echo, McumgrParams, Reset
from smpkit.protocol.groups.settings import SettingsSave, SettingsWrite
from smpkit.simulator import Faults, Simulator, SimulatorConfig
from smpkit.simulator.cbor import encode_indefinite

from .conftest import UDPPeer, make_image


async def _echo_burst(faults: Faults, count: int = 40) -> list[int]:
    async with Simulator(faults=faults) as sim:
        server = await sim.serve_udp("127.0.0.1", 0)
        peer = UDPPeer("127.0.0.1", server.port)
        for seq in range(count):
            await peer.send(encode_request(Echo(d=str(seq)), seq))
            await asyncio.sleep(0.002)
        got = [decode_message(r).header.sequence for r in await peer.recv_all(0.4)]
        peer.close()
        return got


async def test_loss_is_seeded_and_reproducible() -> None:
    first = await _echo_burst(Faults(loss=0.3, seed=4))
    second = await _echo_burst(Faults(loss=0.3, seed=4))
    assert first == second and 10 < len(first) < 40


async def test_duplicates_and_reorder() -> None:
    dup = await _echo_burst(Faults(duplicate=0.5, seed=1))
    assert len(dup) > 40 and sorted(set(dup)) == list(range(40))
    reordered = await _echo_burst(Faults(reorder=0.3, seed=2))
    assert sorted(reordered) == list(range(40)) and reordered != list(range(40))


async def test_latency_keeps_order_and_drop_after_silences_udp() -> None:
    got = await _echo_burst(Faults(latency_ms=20, jitter_ms=10, seed=3), count=10)
    assert got == list(range(10))
    assert await _echo_burst(Faults(drop_after=5), count=10) == [0, 1, 2, 3, 4]


async def test_reset_during_upload(tmp_path: Path) -> None:
    image = make_image(tmp_path, "1.2.3", size=8000)
    async with Simulator(SimulatorConfig(reset_delay_s=0.02), faults=Faults(reset_during_upload=True)) as sim:
        server = await sim.serve_udp("127.0.0.1", 0)
        peer = UDPPeer("127.0.0.1", server.port)
        sha = hashlib.sha256(image).digest()
        off, answered = 0, []
        while off < len(image):
            first = {"len": len(image), "sha": sha} if off == 0 else {}
            await peer.send(encode_request(ImageUpload(off=off, data=image[off : off + 1000], **first), 1))
            try:
                off = decode_message(await peer.recv(0.3)).body["off"]
            except asyncio.TimeoutError:
                break
            answered.append(off)
        assert (0 < off < len(image) and sim.device.upload is None) or not sim.device.online
        await sim.wait_online()
        assert sim.device.boot_count == 2 and sim.device.upload is None
        chunk = encode_request(ImageUpload(off=off, data=image[off : off + 100]), 2)
        rsp = decode_message(await peer.exchange(chunk)).body
        assert rsp == {"off": 0}  # the session did not survive the reset
        peer.close()


async def test_state_dir_survives_a_restart(tmp_path: Path) -> None:
    image = make_image(tmp_path, "3.0.0", size=4000)
    config = SimulatorConfig(state_dir=tmp_path / "state")
    async with Simulator(config) as sim:
        server = await sim.serve_udp("127.0.0.1", 0)
        peer = UDPPeer("127.0.0.1", server.port)
        off = 0
        while off < len(image):
            first = {"len": len(image)} if off == 0 else {}
            chunk = encode_request(ImageUpload(off=off, data=image[off : off + 1000], **first), 1)
            off = decode_message(await peer.exchange(chunk)).body["off"]
        await peer.exchange(encode_request(SettingsWrite(name="a/b", val=b"kept"), 2))
        await peer.exchange(encode_request(SettingsSave(), 3))
        await peer.exchange(encode_request(SettingsWrite(name="a/c", val=b"lost"), 4))
        (sim.device.fs_root / "log.txt").write_text("hello")
        peer.close()
    async with Simulator(config) as sim:
        assert sim.device.settings == {"a/b": b"kept"}
        assert (sim.device.fs_root / "log.txt").read_text() == "hello"
        server = await sim.serve_udp("127.0.0.1", 0)
        peer = UDPPeer("127.0.0.1", server.port)
        state = decode_message(await peer.exchange(encode_request(ImageStateRead(), 5))).body
        assert [e["version"] for e in state["images"]] == ["1.0.0", "3.0.0"]
        peer.close()


async def test_boot_image_and_reset_exits_profile(tmp_path: Path) -> None:
    image = make_image(tmp_path, "4.5.6", size=1000)
    (tmp_path / "boot.bin").write_bytes(image)
    async with Simulator(SimulatorConfig(image=tmp_path / "boot.bin", profile="zephyr-4.4-udp")) as sim:
        assert sim.device.images == []  # that build has no image group
    async with Simulator(SimulatorConfig(image=tmp_path / "boot.bin")) as sim:
        assert sim.device.images[0].primary.info.version_text == "4.5.6"  # type: ignore[union-attr]
    async with Simulator(SimulatorConfig(profile="zephyr-4.4-udp", reset_delay_s=0.01)) as sim:
        server = await sim.serve_udp("127.0.0.1", 0)
        peer = UDPPeer("127.0.0.1", server.port)
        assert decode_message(await peer.exchange(encode_request(McumgrParams(), 1))).body["buf_count"] == 2
        assert decode_message(await peer.exchange(encode_request(Reset(), 2))).body == {}
        await asyncio.sleep(0.1)
        await peer.send(encode_request(Echo(d="gone"), 3))
        assert await peer.recv_all(0.2) == []  # native_sim exits on reset
        peer.close()


def test_cbor_encoder_is_indefinite_and_shortest() -> None:
    assert encode_indefinite({}) == b"\xbf\xff"
    assert encode_indefinite({"rc": 8}) == bytes.fromhex("bf62726308ff")
    assert encode_indefinite({"a": [1, -1, b"x", True]}) == bytes.fromhex("bf61619f012041 78f5ff ff".replace(" ", ""))
    assert encode_indefinite({"n": 4096}) == bytes.fromhex("bf616e191000ff")


def test_simulate_command_prints_one_ready_line_and_serves(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "smpkit.simulator", "--udp", "127.0.0.1:0", "--seed", "3"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None and proc.stderr is not None
        line = proc.stdout.readline()
        assert line.startswith("listening on udp://127.0.0.1:")
        port = int(line.rsplit(":", 1)[1])

        async def echo() -> bytes:
            peer = UDPPeer("127.0.0.1", port)
            rsp = await peer.exchange(encode_request(Echo(d="cli"), 9))
            peer.close()
            return rsp

        assert decode_message(asyncio.run(echo())).body == {"r": "cli"}
        log = proc.stderr.readline()
        assert "Echo" in log and "seq=9" in log and "ok" in log
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert proc.returncode == 0


@pytest.mark.parametrize(
    ("text", "expected"), [("127.0.0.1:0", ("127.0.0.1", 0)), ("[::1]:5", ("::1", 5)), (":7", ("127.0.0.1", 7))]
)
def test_host_port_parsing(text: str, expected: tuple[str, int]) -> None:
    from smpkit.cli.simulate import _split_host_port

    assert _split_host_port(text) == expected
