"""The signal gate: a near-total switch of the book versus the last traded session needs force."""

from __future__ import annotations

import pytest

from alchemiser.domain.errors import AlchemiserError
from alchemiser.risk.gate import SignalGate, SignalGateError, check_targets, weight_change
from tests.builders import D, targets

LAST = targets({"SPY": "0.6", "TLT": "0.4"})


def test_weight_change_is_the_share_of_the_book_that_moves() -> None:
    assert weight_change(LAST, LAST) == 0
    assert weight_change(targets({"SPY": "0.6", "BIL": "0.4"}), LAST) == D("0.4")
    assert weight_change(targets({"UVXY": "1"}), LAST) == 1


def test_a_total_switch_is_refused_with_the_numbers_and_the_way_out() -> None:
    expected = r"move 100\.0% of the book .*\(gate 90%\).*force=true"
    with pytest.raises(SignalGateError, match=expected):
        check_targets(targets({"UVXY": "1"}), LAST, SignalGate(), force=False)


def test_force_the_first_session_or_a_small_change_pass() -> None:
    check_targets(targets({"UVXY": "1"}), LAST, SignalGate(), force=True)
    check_targets(targets({"UVXY": "1"}), None, SignalGate(), force=False)
    check_targets(targets({"SPY": "0.2", "TLT": "0.8"}), LAST, SignalGate(), force=False)


def test_a_tighter_gate_is_a_setting() -> None:
    with pytest.raises(AlchemiserError, match="gate 30%"):
        check_targets(
            targets({"SPY": "0.2", "TLT": "0.8"}), LAST, SignalGate(max_change=D("0.3")), False
        )
