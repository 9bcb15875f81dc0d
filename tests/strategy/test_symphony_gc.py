"""Parsing pauses the cyclic garbage collector and leaves it as it found it."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from alchemiser.strategy.errors import SymphonySyntaxError
from alchemiser.strategy.symphony import parse_symphony

TEXT = '(defsymphony "s" {} (weight-equal [(asset "SPY") (asset "TLT")]))'


@pytest.fixture
def collector_enabled() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()


@pytest.mark.usefixtures("collector_enabled")
def test_the_collector_is_enabled_again_after_a_parse_and_after_a_syntax_error() -> None:
    assert parse_symphony(TEXT).symbols == {"SPY", "TLT"}
    assert gc.isenabled()
    with pytest.raises(SymphonySyntaxError):
        parse_symphony('(defsymphony "s" {} (weight-equal [')
    assert gc.isenabled()


@pytest.mark.usefixtures("collector_enabled")
def test_a_collector_turned_off_by_the_caller_stays_off() -> None:
    gc.disable()
    parse_symphony(TEXT)
    assert not gc.isenabled()
