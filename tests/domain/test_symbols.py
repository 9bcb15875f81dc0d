"""One ticker spelling inside: symphony, file and cache spellings translate to it and back."""

from __future__ import annotations

import pytest

from alchemiser.domain.symbols import canonical, file_stem, from_file_stem
from alchemiser.strategy.symphony import parse_symphony


@pytest.mark.parametrize("raw", ["BRK/B", "brk.b", "BRK-B", " BRK/B "])
def test_every_share_class_spelling_means_the_dotted_ticker(raw: str) -> None:
    assert canonical(raw) == "BRK.B"


def test_file_names_round_trip_to_the_ticker() -> None:
    assert file_stem("BRK.B") == "BRK_B"
    assert from_file_stem("BRK_B") == "BRK.B"
    assert file_stem("SPY") == "SPY"


def test_a_symphony_naming_brk_slash_b_asks_for_brk_dot_b() -> None:
    symphony = parse_symphony(
        '(defsymphony "s" {} (if (> (rsi "BRK/B" {:window 5}) 50) (asset "BRK/B") (asset "BIL")))'
    )
    assert symphony.symbols == frozenset({"BRK.B", "BIL"})
