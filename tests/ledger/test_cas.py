"""Compare-and-swap: a writer that loses the race re-applies its change to the winner's write."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from alchemiser.domain.errors import ArtifactNotFoundError
from alchemiser.domain.types import Frozen
from alchemiser.ledger.cas import compare_and_swap
from tests.fakes import FakeStore

KEY = "things/list.json"


class Things(Frozen):
    items: tuple[str, ...] = ()


def _add(item: str) -> Callable[[Things], Things]:
    return lambda things: Things(items=(*things.items, item))


@dataclass
class RacingStore(FakeStore):
    """Another writer gets in between each read and write, `races` times."""

    races: int = 0

    def read(self, key: str) -> tuple[bytes, str]:
        body, etag = super().read(key)
        if self.races > 0:
            self.races -= 1
            self.put(
                key,
                Things(items=(*Things.model_validate_json(body).items, "other"))
                .model_dump_json()
                .encode(),
            )
        return body, etag


def test_a_lost_race_is_retried_on_top_of_the_winner_s_write() -> None:
    store = RacingStore(races=2)
    store.put(KEY, Things().model_dump_json().encode())
    after = compare_and_swap(store, KEY, Things.model_validate_json, _add("mine"), attempts=3)
    assert after == Things(items=("other", "other", "mine"))
    assert Things.model_validate_json(store.get(KEY)) == after


def test_every_attempt_lost_returns_none_and_the_winners_write_stays() -> None:
    store = RacingStore(races=5)
    store.put(KEY, Things().model_dump_json().encode())
    assert (
        compare_and_swap(store, KEY, Things.model_validate_json, _add("mine"), attempts=3) is None
    )
    assert "mine" not in Things.model_validate_json(store.get(KEY)).items


def test_an_absent_object_is_created_from_empty_or_is_not_found() -> None:
    store = FakeStore()
    with pytest.raises(ArtifactNotFoundError):
        compare_and_swap(store, KEY, Things.model_validate_json, _add("a"), attempts=3)
    assert KEY not in store.objects
    after = compare_and_swap(
        store, KEY, Things.model_validate_json, _add("a"), attempts=3, empty=Things()
    )
    assert after == Things(items=("a",)) == Things.model_validate_json(store.get(KEY))


def test_a_change_that_changes_nothing_writes_nothing() -> None:
    store = RacingStore(races=1)
    store.put(KEY, b'{"items": ["a"]}')
    same = compare_and_swap(store, KEY, Things.model_validate_json, lambda t: t, attempts=1)
    assert same == Things(items=("a",))
    # only the racing writer wrote; our no-op did not overwrite it with the stale body
    assert Things.model_validate_json(store.get(KEY)).items == ("a", "other")
