"""Golden tests: small symphonies of our own with hand-checked weights, and the error rules."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from alchemiser.strategy.errors import (
    SymphonyDataError,
    SymphonyEvaluationError,
    SymphonySyntaxError,
)
from alchemiser.strategy.history import PriceHistory
from alchemiser.strategy.symphony import Engine, parse_symphony

DAY0 = date(2024, 1, 1)  # a Monday
N = 60
AS_OF = DAY0 + timedelta(days=N - 1)


def _line(start: float, step: float) -> list[tuple[date, float]]:
    return [(DAY0 + timedelta(days=i), start + step * i) for i in range(N)]


# Calendar days, no gaps: simple and the engine does not care about weekends.
UP = _line(100.0, 1.0)  # rises every day: RSI 100
DOWN = _line(200.0, -1.0)  # falls every day: RSI 0
FLAT = [(d, 50.0) for d, _ in UP]
# Rose strongly until 5 days ago, then fell: a 5-day window sees a fall, a 50-day one a rise.
TURN = [
    (d, 100.0 + 2 * i if i < N - 5 else 100.0 + 2 * (N - 5) - 3 * (i - N + 5))
    for i, (d, _) in enumerate(UP)
]
HISTORY = PriceHistory.from_closes(
    {"UP": UP, "DOWN": DOWN, "FLAT": FLAT, "FLAT2": FLAT, "TURN": TURN}
)


def weights(body: str, as_of: date = AS_OF) -> dict[str, Decimal]:
    symphony = parse_symphony(f'(defsymphony "t" {{}} {body})', "t.clj")
    return Engine(HISTORY).evaluate(symphony, as_of).weights


def D(text: str | int) -> Decimal:
    return Decimal(text)


def test_weight_equal_keeps_nested_weights_and_scales_them() -> None:
    got = weights('(weight-equal [(asset "UP") (weight-equal [(asset "DOWN") (asset "FLAT")])])')
    assert got == {"UP": D("0.5"), "DOWN": D("0.25"), "FLAT": D("0.25")}


def test_weight_equal_splits_a_list_argument_into_children() -> None:
    got = weights('(weight-equal [(asset "UP") (asset "DOWN")] (asset "FLAT"))')
    assert set(got.values()) == {D("0.333333333"), D("0.333333334")}
    assert sum(got.values()) == 1


def test_weight_specified_scales_each_part_and_the_root_normalises() -> None:
    got = weights(
        '(weight-specified 0.6 (asset "UP") 0.2 (weight-equal [(asset "DOWN") (asset "FLAT")]))'
    )
    # 0.6 / 0.1 / 0.1, then normalised by 0.8.
    assert got == {"UP": D("0.75"), "DOWN": D("0.125"), "FLAT": D("0.125")}


def test_window_is_honoured() -> None:
    body = '(if (> (cumulative-return "TURN" {:window %d}) 0) [(asset "UP")] [(asset "DOWN")])'
    assert weights(body % 50) == {"UP": 1}
    assert weights(body % 5) == {"DOWN": 1}


def test_if_takes_only_the_chosen_branch_and_fails_without_else() -> None:
    assert weights('(if (> (rsi "UP" {:window 10}) 70) (asset "UP") (asset "ZZZ"))') == {"UP": 1}
    with pytest.raises(SymphonyEvaluationError, match=r"t\.clj:1:21: .*no else"):
        weights('(if (< (rsi "UP" {:window 10}) 70) (asset "UP"))')


def test_comparisons_convert_operands_like_the_reference() -> None:
    assert weights('(if (= "a" "a") (asset "UP") (asset "DOWN"))') == {"UP": 1}
    assert weights('(if (= "a" 1) (asset "UP") (asset "DOWN"))') == {"DOWN": 1}
    assert weights('(if (>= (current-price "FLAT") 50) (asset "UP") (asset "DOWN"))') == {"UP": 1}
    assert weights('(if (> "abc" -1) (asset "UP") (asset "DOWN"))') == {"UP": 1}  # "abc" is 0


def test_filter_asset_mode_ranks_and_breaks_ties_alphabetically() -> None:
    top = '(filter (rsi {:window 10}) (select-top 2) [(asset "DOWN") (asset "UP") (asset "FLAT")])'
    assert weights(top) == {"UP": D("0.5"), "FLAT": D("0.5")}  # RSI 100, 50 (flat), 0
    tie = '(filter (current-price) (select-%s 1) [(asset "FLAT2") (asset "FLAT")])'
    assert weights(tie % "top") == {"FLAT": 1}
    assert weights(tie % "bottom") == {"FLAT": 1}
    calm = '(filter (stdev-price {:window 5}) (select-bottom 1) [(asset "DOWN") (asset "FLAT")])'
    assert weights(calm) == {"FLAT": 1}
    all_kept = '(filter (rsi {:window 10}) [(asset "DOWN") (asset "UP")])'
    assert weights(all_kept) == {"DOWN": D("0.5"), "UP": D("0.5")}


def test_filter_portfolio_mode_scores_a_group_by_its_own_return_stream() -> None:
    # The group holds UP (rising) on every past day, so its 10-day return beats FLAT's 0.
    body = (
        "(filter (cumulative-return {:window 10}) (select-top 1) "
        '[(asset "FLAT") (group "riser" [(weight-equal [(asset "UP")])])])'
    )
    assert weights(body) == {"UP": 1}
    bottom = body.replace("select-top", "select-bottom")
    assert weights(bottom) == {"FLAT": 1}


def test_filter_portfolio_mode_takes_smallest_drawdown_with_select_top() -> None:
    body = (
        "(filter (max-drawdown {:window 10}) (select-top 1) "
        '[(group "falls" [(asset "DOWN")]) (group "rises" [(asset "UP")])])'
    )
    assert weights(body) == {"UP": 1}


def test_inverse_volatility_weights_by_one_over_stdev_return() -> None:
    got = weights('(weight-inverse-volatility 10 [(asset "UP") (asset "DOWN")])')
    engine = Engine(HISTORY)
    vol_up = engine.space.book.read("stdev-return", "UP", (("window", 10),), AS_OF.toordinal())
    vol_dn = engine.space.book.read("stdev-return", "DOWN", (("window", 10),), AS_OF.toordinal())
    expected_up = (1 / vol_up.value) / (1 / vol_up.value + 1 / vol_dn.value)
    assert abs(float(got["UP"]) - expected_up) < 1e-9
    # A zero-volatility asset is dropped.
    assert weights('(weight-inverse-volatility 10 [(asset "UP") (asset "FLAT")])') == {"UP": 1}


def test_inverse_volatility_grouped_mode_keeps_group_weights() -> None:
    got = weights(
        '(weight-inverse-volatility 10 [(group "a" [(weight-equal [(asset "UP") (asset "FLAT")])])'
        ' (group "b" [(asset "UP")])])'
    )
    # Group a's vol is half of b's (FLAT has 0), so a gets 2/3: UP 1/3+1/3, FLAT 1/3.
    assert abs(got["FLAT"] - D(1) / 3) < D("1e-8")
    assert abs(got["UP"] - D(2) / 3) < D("1e-8")


def test_point_in_time_uses_only_bars_up_to_the_as_of_date() -> None:
    body = '(if (> (cumulative-return "TURN" {:window 3}) 0) [(asset "UP")] [(asset "DOWN")])'
    assert weights(body, AS_OF - timedelta(days=6)) == {"UP": 1}
    assert weights(body, AS_OF) == {"DOWN": 1}


def test_the_trace_says_why_and_warns_about_substituted_values() -> None:
    symphony = parse_symphony(
        '(defsymphony "t" {} (if (> (rsi "UP" {:window 100}) 70) (asset "UP") (asset "DOWN")))',
        "t.clj",
    )
    result = Engine(HISTORY).evaluate(symphony, AS_OF)
    assert result.weights == {"DOWN": 1}
    (step,) = result.trace.steps
    assert str(step.where) == "t.clj:1:21"
    assert step.text == "rsi(UP, 100)=50 > 70 is false: else"
    assert result.trace.warnings == ["t.clj:1:28: rsi(UP, 100): 60 bars < 100, RSI taken as 50"]


def test_missing_symbols_and_short_moving_averages_fail_with_location() -> None:
    with pytest.raises(SymphonyDataError, match=r"t\.clj:1:\d+: no bars for ZZZ"):
        weights('(if (> (rsi "ZZZ" {:window 10}) 50) (asset "UP") (asset "DOWN"))')
    with pytest.raises(SymphonyDataError, match="needs 200 bars"):
        weights('(if (> (moving-average-price "UP" {:window 200}) 1) (asset "UP") (asset "UP"))')


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('(frobnicate "UP")', "unknown operator 'frobnicate'"),
        ('(ma "UP")', "not supported"),
        ("(weight-specified 1)", "pairs"),
        ('(> (rsi "UP") 1 2)', "exactly 2"),
        ('(moving-average-price "UP")', "window"),
        ('(rsi "UP" {:window 0})', "at least 1"),
        ('(filter (asset "UP") [(asset "UP")])', "indicator call"),
        ('(filter (rsi {:window 2}) (select-top 0) [(asset "UP")])', "count must be at least 1"),
    ],
)
def test_malformed_operators_are_rejected_when_loaded(body: str, message: str) -> None:
    with pytest.raises(SymphonySyntaxError, match=message):
        parse_symphony(f'(defsymphony "t" {{}} {body})', "t.clj")


def test_the_deepest_file_the_reader_accepts_also_evaluates() -> None:
    body = '(asset "UP")'
    for _ in range(198):  # 2 levels each: 396 of the reader's 400
        body = f"(weight-equal [{body}])"
    assert weights(body) == {"UP": 1}


def test_a_filter_candidate_without_data_is_dropped_with_a_warning() -> None:
    symphony = parse_symphony(
        '(defsymphony "t" {} (filter (rsi {:window 10}) (select-top 1)'
        ' [(asset "ZZZ") (asset "DOWN")]))',
        "t.clj",
    )
    result = Engine(HISTORY).evaluate(symphony, AS_OF)
    assert result.weights == {"DOWN": 1}  # ZZZ is dropped, as the reference does...
    assert result.trace.warnings == ["t.clj:1:29: filter dropped ZZZ: no bars for ZZZ"]  # ...said


def test_inverse_volatility_warns_about_what_it_drops() -> None:
    symphony = parse_symphony(
        '(defsymphony "t" {} (weight-inverse-volatility 5 [(asset "FLAT") (asset "UP")]))', "t.clj"
    )
    result = Engine(HISTORY).evaluate(symphony, AS_OF)
    assert result.weights == {"UP": 1}
    assert result.trace.warnings == [
        "t.clj:1:21: weight-inverse-volatility dropped FLAT: volatility 0.0"
    ]
