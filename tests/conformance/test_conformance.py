"""The simulator answers the captured Zephyr 4.4.0 exchanges byte for byte.

Replays every corpus record whose server a profile reproduces (see `replay.py`), prints
`matched N of M comparable records`, and checks that exactly the allowlisted records
differ and that `docs/simulator-vs-zephyr.md` states this result.
"""

from __future__ import annotations

import pytest

from conformance import conftest, report
from conformance.replay import Result, load_allowlist, load_corpus, replay_everything


@pytest.fixture(scope="module")
def result() -> Result:

    result = replay_everything()
    conftest.SUMMARY.append(result.summary())
    return result


def test_allowlist_is_short_and_explained(result: Result) -> None:
    allow = load_allowlist()
    records = load_corpus()
    assert len(allow) < 0.05 * result.comparable
    for index, (case, reason) in allow.items():
        corpus_case = records[index]["case"]
        assert corpus_case == case, f"allowlist entry {index} names {case}, the corpus has {corpus_case}"
        assert len(reason) > 20, f"allowlist entry {index} ({case}) needs a real reason"


def test_replay_matches_except_allowlist(result: Result) -> None:
    print(result.summary())
    allow = load_allowlist()
    unexpected = [o for o in result.outcomes if not o.matched and o.index not in allow]
    stale = [o for o in result.outcomes if o.matched and o.index in allow]
    lines = [f"#{o.index} {o.profile} {o.case}: {o.detail}" for o in unexpected]
    lines += [f"#{o.index} {o.profile} {o.case}: matches now, remove it from the allowlist" for o in stale]
    assert not lines, "\n".join(lines)
    assert all(index in {o.index for o in result.outcomes} for index in allow)
    assert result.matched == result.comparable - len(allow)


def test_docs_page_states_this_result(result: Result) -> None:
    expected = report.render(result)
    actual = report.PAGE.read_text() if report.PAGE.exists() else ""
    assert actual == expected, f"{report.PAGE} is stale: run `.venv/bin/python tests/conformance/report.py --write`"
