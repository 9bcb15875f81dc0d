"""Ledger object keys: partitioned by account and trading session, never by run or try."""

from __future__ import annotations

import re
from datetime import date

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
ROOT = "ledger"


def session_prefix(account_id: str, session: date) -> str:
    """Return the prefix of one account's session."""
    return f"{ROOT}/{_UNSAFE.sub('_', account_id)}/{session.isoformat()}"


def entry_key(account_id: str, session: date, client_order_id: str) -> str:
    """Return the key of one intent's entry."""
    return f"{session_prefix(account_id, session)}/orders/{client_order_id}.json"


def phase_key(account_id: str, session: date, run_id: str, task_id: str) -> str:
    """Return the key that records a completed execution phase of a run."""
    return f"{session_prefix(account_id, session)}/phases/{_UNSAFE.sub('_', run_id)}/{task_id}.json"


def lease_key(account_id: str, session: date) -> str:
    """Return the key of the account's trading lease for a session."""
    return f"{session_prefix(account_id, session)}/lease.json"


def rebalanced_key(account_id: str, session: date) -> str:
    """Return the key that says a session has been rebalanced, and by which run."""
    return f"{session_prefix(account_id, session)}/rebalanced.json"
