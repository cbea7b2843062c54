"""The pieces without a link: cutting requests into writes, and Zephyr's reassembly rules."""

from __future__ import annotations

import pytest

from smpkit.protocol import encode_request
from smpkit.protocol.groups.os import Echo
from smpkit.simulator.transports.ble import ZephyrReassembly, advertising_data
from smpkit.transport._gatt import iter_writes, split_messages
from smpkit.transport.ble import SMP_SERVICE_UUID
from smpkit.transport.bumble import BumbleScanResult, ad_has_service, ad_local_name, ad_name, pick_by_name


def test_split_messages_cuts_at_header_lengths() -> None:
    a, b = encode_request(Echo(d="a" * 30), 1), encode_request(Echo(d="b"), 2)
    assert split_messages(a + b) == [a, b]
    assert split_messages(a) == [a]
    assert split_messages(a + b"\x01\x02") == [a + b"\x01\x02"]  # a stray tail stays with its message
    assert split_messages(b"\x01\x02") == [b"\x01\x02"]


def test_writes_hold_the_whole_header_and_respect_the_size() -> None:
    message = encode_request(Echo(d="z" * 100), 1)
    writes = list(iter_writes(message, 20))
    assert b"".join(writes) == message
    assert all(len(w) <= 20 for w in writes) and len(writes[0]) >= 8
    with pytest.raises(ValueError):
        list(iter_writes(message, 5))


def test_zephyr_reassembly_rules() -> None:
    request = encode_request(Echo(d="r" * 60), 1)
    r = ZephyrReassembly(buf_size=2475)
    assert r.feed(request) == request  # one write
    assert r.feed(request[:8]) is None and r.feed(request[8:]) == request  # header, then body
    assert r.feed(request[:5]) is None and r.dropped == 1  # split header: lost
    assert r.feed(request[5:]) is None  # the rest is no request either (it waits for bytes that never come)
    r = ZephyrReassembly(buf_size=2475)
    # a write holding the end of one request and the start of the next loses both
    other = encode_request(Echo(d="o"), 2)
    assert r.feed(request[:40]) is None
    assert r.feed(request[40:] + other[:8]) is None
    assert r.feed(other[8:]) is None
    # a write longer than its header announces is dropped; the next request is fine
    assert r.feed(request + b"\x00") is None
    assert r.feed(other) == other
    # over buf_size: dropped
    small = ZephyrReassembly(buf_size=len(request) - 1)
    assert small.feed(request[:20]) is None and small.feed(request[20:]) is None
    # a reset (disconnect) discards a partial request
    r.feed(request[:30])
    r.reset()
    assert r.feed(request[30:]) is None


def test_advertising_layout_like_smp_svr() -> None:
    """Service UUID in the advertisement, complete name in the scan response (as smp_svr); the
    advertisement also carries the name as far as it fits, for controllers that drop scan responses."""
    adv, scan_response = advertising_data("dev-1")
    assert ad_has_service(adv, SMP_SERVICE_UUID) and ad_local_name(adv) == ("dev-1", True)
    assert ad_name(scan_response) == "dev-1" and not ad_has_service(scan_response, SMP_SERVICE_UUID)
    assert len(adv) <= 31 and len(scan_response) <= 31
    adv, scan_response = advertising_data("smpkit-bar")
    assert ad_local_name(adv) == ("smpkit-b", False) and len(adv) == 31
    assert ad_local_name(scan_response) == ("smpkit-bar", True)
    adv, _ = advertising_data("ééééé")  # 10 bytes of UTF-8: cut between characters, not inside one
    assert ad_local_name(adv) == ("éééé", False)


def _seen(address: str, name: str | None, complete: bool, smp: bool = True) -> BumbleScanResult:
    return BumbleScanResult(address=address, name=name, rssi=-50, has_smp_service=smp, name_complete=complete)


def test_a_name_picks_its_device() -> None:
    full = _seen("C0:00:00:00:00:01", "smpkit-bar", True)
    short = _seen("C0:00:00:00:00:02", "smpkit-b", False)
    other = _seen("C0:00:00:00:00:03", "smpkit-b", False)
    assert pick_by_name([short, full], "smpkit-bar") is full  # a complete name wins
    assert pick_by_name([short], "smpkit-bar") is short  # the only device whose shortened name fits
    assert pick_by_name([short, other], "smpkit-bar") is None  # two fit: ambiguous
    assert pick_by_name([short], "smpkit-baz-2") is short and pick_by_name([short], "smpkit") is None
    assert pick_by_name([_seen("C0:00:00:00:00:04", "smpkit-b", False, smp=False)], "smpkit-bar") is None
    sightings = {short.address: 2}
    assert pick_by_name([short], "smpkit-bar", sightings) is None  # not seen often enough yet
    sightings[short.address] = 3
    assert pick_by_name([short], "smpkit-bar", sightings) is short
