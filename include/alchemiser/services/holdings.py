"""Where each strategy's last rebalance is kept between runs, live and replayed apart.

Live runs keep `strategies/held/<name>.json`, written when the strategy rebalances. A replay (a
past session: a backfill, a catch-up) keeps its own, one document per replayed session under
`replay/held/<session>.json` next to the replay books, and reads the latest one before its
session. So a backfill never touches a live strategy's state, replaying sessions in order
carries the held weights the way the backtest does, and replaying one session again reads the
same state as the first time.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from alchemiser.domain.errors import ArtifactInvalidError, ArtifactNotFoundError
from alchemiser.domain.keys import REPLAY_HELD_PREFIX, held_key, replay_held_key
from alchemiser.ports import ObjectStore
from alchemiser.strategy.rebalance import Held


def read_held(store: ObjectStore, strategies: Mapping[str, object], as_of: date) -> dict[str, Held]:
    """Return the kept rebalance of each strategy, ignoring any dated after `as_of`."""
    out: dict[str, Held] = {}
    for name in strategies:
        key = held_key(name)
        try:
            held = _held(json.loads(store.get(key)), key)
        except ArtifactNotFoundError:
            continue
        except ValueError as exc:
            raise ArtifactInvalidError(f"{key} is not a kept rebalance: {exc}") from exc
        if held.session <= as_of:
            out[name] = held
    return out


def write_held(store: ObjectStore, before: Mapping[str, Held], after: Mapping[str, Held]) -> None:
    """Keep each strategy's rebalance that is new (not the one already kept)."""
    for name, held in after.items():
        if before.get(name) == held:
            continue
        store.put(held_key(name), json.dumps(_doc(held), sort_keys=True).encode())


def read_replay_held(
    store: ObjectStore, strategies: Mapping[str, object], session: date
) -> dict[str, Held]:
    """Return what each strategy held after the latest replayed session before `session`."""
    earlier = [k for k in store.list_keys(REPLAY_HELD_PREFIX) if k < replay_held_key(session)]
    if not earlier:
        return {}
    try:
        doc = json.loads(store.get(earlier[-1]))
        return {n: _held(doc[n], earlier[-1]) for n in strategies if n in doc}
    except (ValueError, TypeError) as exc:
        raise ArtifactInvalidError(f"{earlier[-1]} is not a replay's holdings: {exc}") from exc


def write_replay_held(store: ObjectStore, session: date, held: Mapping[str, Held]) -> None:
    """Keep what each ruled strategy holds after the replayed `session`."""
    body = {name: _doc(h) for name, h in sorted(held.items())}
    store.put(replay_held_key(session), json.dumps(body, sort_keys=True).encode())


def _doc(held: Held) -> dict[str, Any]:
    return {
        "session": held.session.isoformat(),
        "weights": {s: str(w) for s, w in held.weights.items()},
    }


def _held(raw: Any, key: str) -> Held:
    try:
        return Held(
            date.fromisoformat(raw["session"]),
            {s: Decimal(w) for s, w in raw["weights"].items()},
        )
    except (ArithmeticError, KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"{key}: {exc!r}") from exc
