"""Where the embedded defaults keep their state on this machine."""

from __future__ import annotations

import os
from pathlib import Path

STATE_DIR_ENV = "ALCHEMISER_STATE_DIR"
EXCHANGE_STATE = "paper-exchange.json"
_CHECKOUT = Path(__file__).resolve().parents[4]  # include/alchemiser/adapters/local/ is 4 deep


def state_dir() -> Path:
    """Return $ALCHEMISER_STATE_DIR, or `.alchemiser-state/` in the checkout.

    Inside: the local store's objects under `<bucket>/` (ledger, runs, reports, bar cache) and
    the sandbox paper exchange's account in `paper-exchange.json`.
    """
    return Path(os.environ.get(STATE_DIR_ENV) or _CHECKOUT / ".alchemiser-state").absolute()
