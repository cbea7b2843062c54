"""Where the device is: flags, environment, devices files."""

from __future__ import annotations

from pathlib import Path

import pytest

from smpkit.cli.connection import ConnectionFlags, ble_url, resolve, serial_url, udp_url
from smpkit.cli.errors import ExitCode, UsageError


@pytest.mark.parametrize(
    ("spec", "url"),
    [
        ("127.0.0.1", "udp://127.0.0.1:1337"),
        ("127.0.0.1:7000", "udp://127.0.0.1:7000"),
        ("[::1]:7000", "udp://[::1]:7000"),
        ("[::1]", "udp://[::1]:1337"),
        ("::1", "udp://[::1]:1337"),
        ("udp://host:1", "udp://host:1"),
    ],
)
def test_udp_specs(spec: str, url: str) -> None:
    assert udp_url(spec) == url


@pytest.mark.parametrize("spec", ["127.0.0.1:0", "127.0.0.1:abc", ":1337", "127.0.0.1:70000"])
def test_bad_udp_specs(spec: str) -> None:
    with pytest.raises(UsageError):
        udp_url(spec)


def test_serial_and_ble_urls() -> None:
    assert serial_url("/dev/ttyACM0") == "serial:///dev/ttyACM0"
    assert serial_url("/dev/ttyUSB0", 1000000, raw=True) == "serial:///dev/ttyUSB0?baud=1000000&raw=1"
    assert ble_url("AA:BB:CC:DD:EE:FF") == "ble://AA:BB:CC:DD:EE:FF"
    assert ble_url("My Board") == "ble://My%20Board"
    assert ble_url("Zephyr", hci="tcp-client:127.0.0.1:9000") == "bumble://Zephyr?hci=tcp-client:127.0.0.1:9000"


def flags(tmp_path: Path, env: dict[str, str] | None = None, **kw: object) -> ConnectionFlags:
    base = {"HOME": str(tmp_path / "home")}
    return ConnectionFlags(env={**base, **(env or {})}, **kw)  # type: ignore[arg-type]


def test_one_way_only(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as err:
        resolve(flags(tmp_path, udp="127.0.0.1", serial="/dev/x"))
    assert err.value.code == ExitCode.USAGE
    with pytest.raises(UsageError):
        resolve(flags(tmp_path, udp="127.0.0.1", device="lab"))
    with pytest.raises(UsageError, match="--baud"):
        resolve(flags(tmp_path, baud=9600))


def test_nothing_given_says_what_to_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UsageError) as err:
        resolve(flags(tmp_path))
    assert "smpkit scan" in (err.value.hint or "")


def test_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    home_cfg = tmp_path / "home" / ".config" / "smpkit"
    home_cfg.mkdir(parents=True)
    (home_cfg / "devices.toml").write_text(
        'default = "lab"\n[devices.lab]\nserial = "/dev/ttyACM0"\nbaud = 115200\ntimeout = 3\n'
        '[devices.sim]\nudp = "127.0.0.1:4000"\n'
    )
    # ./smpkit.toml overrides the user's file by name
    (tmp_path / "smpkit.toml").write_text('[devices.sim]\nconn = "udp://127.0.0.1:5000"\nretries = 1\n')
    assert resolve(flags(tmp_path, udp="127.0.0.1:9")).url == "udp://127.0.0.1:9"
    sim = resolve(flags(tmp_path, device="sim"))
    assert (sim.url, sim.retries, sim.source) == ("udp://127.0.0.1:5000", 1, "device sim")
    assert resolve(flags(tmp_path, env={"SMPKIT_DEVICE": "sim"})).url == "udp://127.0.0.1:5000"
    assert resolve(flags(tmp_path, env={"SMPKIT_CONN": "udp://127.0.0.1:6000"})).url == "udp://127.0.0.1:6000"
    lab = resolve(flags(tmp_path))  # the default device
    assert (lab.url, lab.timeout) == ("serial:///dev/ttyACM0?baud=115200", 3.0)
    with pytest.raises(UsageError, match="no device named 'nope'"):
        resolve(flags(tmp_path, device="nope"))


def test_bad_devices_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    cfg = tmp_path / "extra.toml"
    cfg.write_text("[devices.x]\nport = 3\n")
    with pytest.raises(UsageError, match="unknown keys"):
        resolve(flags(tmp_path, device="x", config=cfg))
    cfg.write_text("[devices.x\n")
    with pytest.raises(UsageError):
        resolve(flags(tmp_path, device="x", config=cfg))
    with pytest.raises(UsageError, match="not found"):
        resolve(flags(tmp_path, device="x", config=tmp_path / "missing.toml"))
