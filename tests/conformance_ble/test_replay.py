"""The Zephyr 3.4 BLE corpus, replayed over Bumble's virtual link against `zephyr-3.4-ble`."""

from __future__ import annotations

from . import harness

#: The profile's clock and the records' write spacing both run at half speed-time (same ratios).
SCALE = 0.5


async def test_replay_matches_the_capture() -> None:
    outcomes = await harness.run_replay(scale=SCALE)
    allow = harness.load_allowlist()
    print(harness.summary(outcomes, allow))
    cases = {o.case for o in outcomes}
    assert set(allow) <= cases, f"allowlist names unknown cases: {set(allow) - cases}"
    assert len(allow) * 10 < len(outcomes), "the allowlist must stay under 10% of the comparable records"
    missed = {o.case: o.detail for o in outcomes if not o.matched and o.case not in allow}
    assert not missed, missed
    comparable = [r for r in harness.load_corpus() if harness.comparable(r)]
    assert len(outcomes) == len(comparable)
