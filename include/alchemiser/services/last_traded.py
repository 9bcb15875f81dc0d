"""What each account was last traded towards: written by a run's report, read by the signal gate.

Kept under the account's ledger prefix (`domain/keys.py`). State written before the key moved
there (one global `state/last_traded_targets.json`) is still read while the account has none
of its own; only the account's key is ever written.
"""

from __future__ import annotations

from alchemiser.domain.allocation import TargetAllocation
from alchemiser.domain.errors import ArtifactNotFoundError
from alchemiser.domain.keys import LEGACY_LAST_TARGETS_KEY, last_targets_key
from alchemiser.ports import ObjectStore


def last_traded(store: ObjectStore, account_id: str) -> TargetAllocation | None:
    """Return the targets the account was last traded towards, or None before its first trade."""
    for key in (last_targets_key(account_id), LEGACY_LAST_TARGETS_KEY):
        try:
            return TargetAllocation.model_validate_json(store.get(key))
        except ArtifactNotFoundError:
            continue
    return None


def keep_last_traded(store: ObjectStore, account_id: str, targets: TargetAllocation) -> None:
    """Record `targets` as what the account was last traded towards (overwrite)."""
    store.put(last_targets_key(account_id), targets.model_dump_json(indent=2).encode())
