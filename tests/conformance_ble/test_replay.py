"""The Zephyr 3.4 BLE corpus, replayed over Bumble's virtual link against `zephyr-3.4-ble`.

On virtual time (`tests/vtime.py`) at the profile's own scale: the CPU the two Bumble hosts
spend is not device time, so the outcome is the same on an idle laptop and a loaded CI box.
"""

from __future__ import annotations

import re
from functools import cache

import vtime
from reference import REPO

from . import harness


@cache
def outcomes() -> tuple[harness.Outcome, ...]:
    return tuple(vtime.run(harness.run_replay()))


def test_replay_matches_the_capture() -> None:
    results = outcomes()
    allow = harness.load_allowlist()
    print(harness.summary(results, allow))
    cases = {o.case for o in results}
    assert set(allow) <= cases, f"allowlist names unknown cases: {set(allow) - cases}"
    assert len(allow) * 10 < len(results), "the allowlist must stay under 10% of the comparable records"
    missed = {o.case: o.detail for o in results if not o.matched and o.case not in allow}
    assert not missed, missed
    comparable = [r for r in harness.load_corpus() if harness.comparable(r)]
    assert len(results) == len(comparable)


def test_allowlisted_records_still_hold_their_invariants() -> None:
    """An allowlisted upload still loses chunks, answers its first window as captured, and ends
    with the right image in slot 1; an allowlist entry that now matches is stale."""
    allow = harness.load_allowlist()
    by_case = {o.case: o for o in outcomes()}
    stale = [case for case in allow if by_case[case].matched]
    assert not stale, f"these records match now: remove them from allowlist.txt: {stale}"
    broken = {case: by_case[case].broken for case in allow if by_case[case].broken}
    assert not broken, broken
    assert all(harness.is_upload_case(case) for case in allow), "only uploads have invariants to check"


def test_write_requests_get_the_captured_att_errors() -> None:
    """`reasm_len_over_buf_write_req` captured 0x13 six times: the simulated peripheral answers the same."""
    records = {r["case"]: r for r in harness.load_corpus()}
    with_errors = [case for case, r in records.items() if r.get("att_errors")]
    assert "reasm_len_over_buf_write_req" in with_errors
    by_case = {o.case: o for o in outcomes()}
    assert all(by_case[case].matched for case in with_errors), [by_case[c].detail for c in with_errors]


def test_att_errors_are_compared() -> None:
    """The comparison itself fails when the errors differ (a peripheral answering nothing cannot pass)."""
    record = {"write_type": "write_request", "att_errors": ["0x13", "0x13"]}
    assert harness.compare_att_errors(record, [0x13, 0x13])[0]
    assert not harness.compare_att_errors(record, [None, None])[0]


def test_docs_state_the_replay_figure() -> None:
    """docs/ble-conformance.md says "matched N of M" with the figures this replay gives."""
    results = outcomes()
    text = (REPO / "docs" / "ble-conformance.md").read_text()
    found = re.findall(r"matched (\d+) of (\d+)", text)
    assert found, "docs/ble-conformance.md has no 'matched N of M' line"
    want = (str(sum(o.matched for o in results)), str(len(results)))
    assert all(pair == want for pair in found), f"docs say {found}, the replay gives {want}"
