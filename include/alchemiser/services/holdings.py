"""Where a strategy's last rebalance is kept between runs: `strategies/held/<name>.json`.

Written when the strategy rebalances, never by a run for an earlier session than the one kept,
so a backfill cannot roll a live strategy's state back.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date
from decimal import Decimal

from alchemiser.domain.errors import ArtifactInvalidError, ArtifactNotFoundError
from alchemiser.ports import ObjectStore
from alchemiser.strategy.rebalance import Held

PREFIX = "strategies/held"


def held_key(strategy: str) -> str:
    """Return the object key of a strategy's last rebalance."""
    return f"{PREFIX}/{strategy}.json"


def read_held(store: ObjectStore, strategies: Mapping[str, object], as_of: date) -> dict[str, Held]:
    """Return the kept rebalance of each strategy, ignoring any dated after `as_of`."""
    out: dict[str, Held] = {}
    for name in strategies:
        try:
            raw = json.loads(store.get(held_key(name)))
            held = Held(
                date.fromisoformat(raw["session"]),
                {s: Decimal(w) for s, w in raw["weights"].items()},
            )
        except ArtifactNotFoundError:
            continue
        except (ValueError, KeyError, TypeError) as exc:
            raise ArtifactInvalidError(f"{held_key(name)} is not a kept rebalance: {exc}") from exc
        if held.session <= as_of:
            out[name] = held
    return out


def write_held(store: ObjectStore, before: Mapping[str, Held], after: Mapping[str, Held]) -> None:
    """Keep each strategy's rebalance that is new (not the one already kept)."""
    for name, held in after.items():
        if before.get(name) == held:
            continue
        body = {
            "session": held.session.isoformat(),
            "weights": {s: str(w) for s, w in held.weights.items()},
        }
        store.put(held_key(name), json.dumps(body, sort_keys=True).encode())
