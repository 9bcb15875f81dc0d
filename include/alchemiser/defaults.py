"""The embedded defaults: the bucket's name and where the state is kept on this machine.

One place for the facts the Airflow adapter, the CLI and the sandbox share: the default bucket,
and the local state folder (`$ALCHEMISER_STATE_DIR`, else `.alchemiser-state/` in the checkout)
with the local store's objects under `<bucket>/` and the sandbox exchange's account beside them.
"""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_BUCKET = "alchemiser"
STATE_DIR_ENV = "ALCHEMISER_STATE_DIR"
EXCHANGE_STATE = "paper-exchange.json"
_CHECKOUT = Path(__file__).resolve().parents[2]  # include/alchemiser/ is 2 deep


def state_dir() -> Path:
    """Return $ALCHEMISER_STATE_DIR, or `.alchemiser-state/` in the checkout.

    Inside: the local store's objects under `<bucket>/` (ledger, runs, reports, bar cache) and
    the sandbox paper exchange's account in `paper-exchange.json`.
    """
    return Path(os.environ.get(STATE_DIR_ENV) or _CHECKOUT / ".alchemiser-state").absolute()
