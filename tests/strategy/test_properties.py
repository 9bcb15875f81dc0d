"""Properties over random valid symphonies: weights are non-negative and sum to exactly 1."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alchemiser.strategy.errors import SymphonyError
from alchemiser.strategy.history import PriceHistory
from alchemiser.strategy.reader import read_one
from alchemiser.strategy.symphony import Engine, parse_symphony
from alchemiser.strategy.syntax import to_source
from tests.strategy.symphony_gen import UNIVERSE, SymphonyGenerator, synthetic_closes

HISTORY = PriceHistory.from_closes(synthetic_closes(UNIVERSE, date(2022, 1, 3), date(2024, 6, 28)))
ENGINE = Engine(HISTORY)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10_000), size=st.integers(5, 400), day=st.integers(0, 180))
def test_random_symphonies_give_non_negative_weights_summing_to_one(
    seed: int, size: int, day: int
) -> None:
    text = SymphonyGenerator(seed).symphony(size)
    symphony = parse_symphony(text, "random.clj")
    as_of = date.fromordinal(date(2024, 6, 28).toordinal() - day)
    weights = ENGINE.evaluate(symphony, as_of).weights
    assert weights
    assert all(w > 0 for w in weights.values())
    assert sum(weights.values()) == Decimal(1)
    assert all(w.as_tuple().exponent >= -9 for w in weights.values())  # type: ignore[operator]


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_random_symphonies_round_trip_through_the_printer(seed: int) -> None:
    tree = read_one(SymphonyGenerator(seed).symphony(200))
    assert read_one(to_source(tree)) == tree


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_mangled_symphonies_raise_only_symphony_errors(data: st.DataObject) -> None:
    text = SymphonyGenerator(data.draw(st.integers(0, 1000))).symphony(60)
    cut = data.draw(st.integers(0, len(text)))
    junk = data.draw(st.text(alphabet='()[]{}" :-1.5abcif>', max_size=8))
    mangled = text[:cut] + junk + text[cut + len(junk) :]
    error: SymphonyError | None = None
    try:
        ENGINE.evaluate(parse_symphony(mangled, "m.clj"), date(2024, 6, 28))
    except SymphonyError as exc:
        error = exc
    assert error is None or str(error).startswith("m.clj:")


def test_evaluation_is_deterministic_and_order_independent() -> None:
    text = SymphonyGenerator(42).symphony(2000)
    symphony = parse_symphony(text)
    days = [date(2024, 6, 28), date(2024, 3, 1), date(2024, 6, 28)]
    fresh = [Engine(HISTORY).evaluate(symphony, d).weights for d in days]
    shared_engine = Engine(HISTORY)
    shared = [shared_engine.evaluate(symphony, d).weights for d in days]
    assert fresh == shared
    assert fresh[0] == fresh[2]


@pytest.mark.parametrize("seed", range(5))
def test_large_symphonies_with_group_filters_evaluate(seed: int) -> None:
    generator = SymphonyGenerator(seed)
    symphony = parse_symphony(generator.symphony(3000))
    assert sum(ENGINE.evaluate(symphony, date(2024, 6, 28)).weights.values()) == 1
