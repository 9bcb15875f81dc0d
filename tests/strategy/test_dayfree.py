"""A group that reads no data is evaluated once for all days of a back-fill; others per day."""

from __future__ import annotations

from datetime import timedelta

import pytest

from alchemiser.strategy.dayfree import day_free
from alchemiser.strategy.nodes import Group
from alchemiser.strategy.symphony import Engine, parse_symphony
from tests.strategy.test_evaluator import AS_OF, HISTORY

FIXED = '(group "fixed" [(weight-specified 0.6 (asset "UP") 0.4 (if (= "a" "a") (asset "FLAT")))])'
READS = '(group "reads" [(if (> (current-price "TURN") 205) (asset "UP") (asset "DOWN"))])'
NESTED = f'(group "outer" [(weight-equal [{FIXED} {READS}])])'
FILTERS = '(group "filters" [(filter (rsi {:window 5}) (select-top 1) [(asset "UP")])])'


def _group(text: str) -> Group:
    body = parse_symphony(f'(defsymphony "t" {{}} {text})', "t.clj").body
    assert isinstance(body, Group)
    return body


@pytest.mark.parametrize(
    ("text", "expected"), [(FIXED, True), (READS, False), (NESTED, False), (FILTERS, False)]
)
def test_only_a_group_without_indicator_filter_or_volatility_is_day_free(
    text: str, expected: bool
) -> None:
    assert day_free(_group(text), {}) is expected


def test_scoring_groups_on_several_days_with_one_engine_matches_fresh_engines() -> None:
    # TURN is above 205 only 3 to 6 days before AS_OF: the "reads" group changes holdings in the
    # look-back, the fixed one never does; a shared engine must not carry a value across days.
    body = (
        f"(filter (cumulative-return {{:window 3}}) (select-bottom 1) [{FIXED} {READS} {NESTED}])"
    )
    symphony = parse_symphony(f'(defsymphony "t" {{}} {body})', "t.clj")
    shared = Engine(HISTORY)
    picks = []
    for day in [AS_OF - timedelta(days=d) for d in (12, 6, 3, 0)]:
        fresh = Engine(HISTORY).evaluate(symphony, day).weights
        assert shared.evaluate(symphony, day).weights == fresh
        picks.append(sorted(fresh))
    assert picks == [["DOWN"], ["UP"], ["UP"], ["DOWN"]]
