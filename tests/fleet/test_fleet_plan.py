"""The campaign's pure parts: the fleet file, waves, the abort rule, link limits, the state file."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from smpkit.cli.connection import device_url
from smpkit.workflows.fleet import (
    AbortRule,
    Amount,
    Campaign,
    CampaignOptions,
    CampaignStore,
    FleetDevice,
    FleetFileError,
    JobOutcome,
    load_fleet,
    parse_waves,
    select,
    split_waves,
)
from smpkit.workflows.fleet.limits import link_of


def test_waves_are_cumulative_and_cover_what_they_name() -> None:
    items = list(range(50))
    waves, rest = split_waves(items, parse_waves("4,50%,100%"))
    assert [len(w) for w in waves] == [4, 21, 25] and rest == []
    waves, rest = split_waves(items, parse_waves("1,10%"))
    assert [len(w) for w in waves] == [1, 4] and len(rest) == 45
    assert [len(w) for w in split_waves(list(range(3)), parse_waves("1,10%,100%"))[0]] == [1, 2]
    for bad in ("x", "120%", "-1", "1.5"):
        with pytest.raises(ValueError):
            parse_waves(bad)


def test_the_abort_rule_waits_for_the_first_wave_or_min_executed() -> None:
    rule = AbortRule(Amount.parse("20%"))
    assert rule.verdict(executed=3, failed=3, first_wave=4) is None
    assert rule.verdict(executed=4, failed=1, first_wave=4) is not None  # 25 % > 20 %
    assert rule.verdict(executed=5, failed=1, first_wave=4) is None  # 20 % is not more than 20 %
    assert AbortRule(Amount.parse("20%"), min_executed=10).verdict(4, 4, 4) is None
    assert AbortRule(Amount.parse("2")).verdict(10, 3, 1) is not None
    assert AbortRule().verdict(10, 10, 1) is None


def test_both_file_forms_are_read(tmp_path: Path) -> None:
    path = tmp_path / "fleet.toml"
    path.write_text('[[device]]\nname = "a"\nconn = "udp://127.0.0.1:1"\nhost = "gw1"\ntags = ["x", "y"]\n'
                    'board = "nrf52840dk/nrf52840"\n\n'
                    '[devices.b]\nserial = "/dev/ttyACM0"\nbaud = 1000000\nhost = "gw2"\ntags = ["x"]\n')
    a, b = load_fleet(path, resolve=device_url)
    assert (a.name, a.host, a.tags, a.board) == ("a", "gw1", ("x", "y"), "nrf52840dk/nrf52840")
    assert (b.name, b.conn, b.host) == ("b", "serial:///dev/ttyACM0?baud=1000000", "gw2")
    assert [d.name for d in select([a, b], ["y"])] == ["a"]
    path.write_text('[[device]]\nname = "a"\nconn = "udp://x:1"\n[[device]]\nname = "a"\nconn = "udp://y:1"\n')
    with pytest.raises(FleetFileError, match="two devices named"):
        load_fleet(path)
    path.write_text('[[device]]\nname = "a"\n')
    with pytest.raises(FleetFileError, match="no connection"):
        load_fleet(path)


def test_links_are_per_port_and_per_gateway() -> None:
    assert link_of(FleetDevice("a", "udp://10.0.0.1:1337")) is None
    one = link_of(FleetDevice("a", "serial:///dev/ttyACM0", host="gw1"))
    assert one == link_of(FleetDevice("b", "serial:///dev/ttyACM0?baud=115200", host="gw1"))
    assert one != link_of(FleetDevice("c", "serial:///dev/ttyACM0", host="gw2"))


class Recorder:
    """An executor that holds each job for a moment and records which links overlapped."""

    def __init__(self, fail: set[str] = frozenset()) -> None:  # type: ignore[assignment]
        self.fail = fail
        self.active: set[str] = set()
        self.overlaps: list[set[str]] = []
        self.ran: list[str] = []

    async def run(self, device: FleetDevice, on_step: object) -> JobOutcome:
        self.ran.append(device.name)
        self.active.add(device.name)
        self.overlaps.append(set(self.active))
        await asyncio.sleep(0.01)
        self.active.discard(device.name)
        if device.name in self.fail:
            return JobOutcome("failed", error="scripted")
        return JobOutcome("upgraded", "2.0.0", "ab")


async def test_one_job_per_serial_port_and_resume_from_the_state(tmp_path: Path) -> None:
    devices = [FleetDevice(f"s{i}", "serial:///dev/ttyUSB0", host="gw1") for i in range(3)]
    devices += [FleetDevice(f"u{i}", f"udp://127.0.0.1:{1000 + i}") for i in range(3)]
    store = CampaignStore(tmp_path / "c.sqlite")
    recorder = Recorder(fail={"u1"})
    report = await Campaign(devices, recorder, CampaignOptions(concurrency=8), target="ab", store=store).run()
    assert all(len({n for n in seen if n.startswith("s")}) <= 1 for seen in recorder.overlaps)
    assert max(len(seen) for seen in recorder.overlaps) >= 3  # the UDP devices ran beside the serial ones
    assert report.summary() == {"upgraded": 5, "already": 0, "failed": 1, "skipped": 0}
    again = Recorder()
    report = await Campaign(devices, again, CampaignOptions(), target="ab", store=store).run()
    assert again.ran == ["u1"]  # only the failed one runs again
    assert report.summary() == {"upgraded": 1, "already": 5, "failed": 0, "skipped": 0}
    rows = {row["name"]: row for row in store.rows()}
    assert rows["u1"]["attempts"] == 2 and rows["s0"]["attempts"] == 1
    store.close()
