"""Every object key the system reads or writes: the bucket's whole layout, in one module.

    runs/<session>/<run>/<artifact>.json       a run's artifacts; its report also as
    runs/<session>/<run>/report.{txt,html}     text and page, with weights.png
    runs/<session>/<run>/failures/<task>.json  why a task of the run failed
    runs/history.json                          one line per run report (the console reads it)
    ledger/<account>/<session>/...             the trade ledger: orders, phases, lease, marker
    ledger/<account>/last_traded_targets.json  what the account was last traded towards
    strategies/held/<strategy>.json            a strategy's last live rebalance
    replay/held/<session>.json                 every strategy's rebalance after a replayed session
    replay/books/<session>.json                the simulated book after a replayed session
    replay/equity_curve.json                   the replayed book's value, session by session
    marketdata/bars/1Day/<SYMBOL>.parquet      the bar cache
    backtests/<name>/summary.json              a published backtest: its line in the console,
    backtests/<name>/tearsheet.{json,html}     written last; its tearsheet and PNG charts

Keys derive from the account, the session and the run, never from a try, so a retried task
writes the same keys. Run and account ids are made safe for a key segment here.
"""

from __future__ import annotations

import re
from datetime import date

from alchemiser.domain.backtests import SUMMARY_FILE, backtest_file, backtest_name
from alchemiser.domain.symbols import file_stem

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def _segment(part: str) -> str:
    return _UNSAFE.sub("_", part)


def session_runs_prefix(session: date) -> str:
    """Return the key prefix under which every run of one session keeps its artifacts."""
    return f"runs/{session.isoformat()}/"


def run_prefix(session: date, run_id: str) -> str:
    """Return the key prefix of one run: partitioned by session, then run."""
    return f"{session_runs_prefix(session)}{_segment(run_id)}"


def artifact_key(prefix: str, name: str) -> str:
    """Return the key of the JSON artifact `name` of the run at `prefix`."""
    return f"{prefix}/{name}.json"


REPORT_TEXT, REPORT_PAGE, REPORT_CHART = "report.txt", "report.html", "weights.png"
"""The run report's renderings beside its JSON (the page links the chart by this name)."""


def run_file_key(prefix: str, file_name: str) -> str:
    """Return the key of a non-JSON file of the run at `prefix` (REPORT_TEXT, ...)."""
    return f"{prefix}/{file_name}"


def failures_prefix(prefix: str) -> str:
    """Return the prefix under which the run at `prefix` records its tasks' failures."""
    return f"{prefix}/failures/"


def failure_key(prefix: str, task_id: str) -> str:
    """Return the key of one task's recorded failure."""
    return f"{failures_prefix(prefix)}{task_id}.json"


HISTORY_KEY = "runs/history.json"
"""The run history index: written by every run's report task, shared by all runs."""

LEDGER_ROOT = "ledger"


def account_prefix(account_id: str) -> str:
    """Return the prefix of everything kept for one account."""
    return f"{LEDGER_ROOT}/{_segment(account_id)}"


def session_prefix(account_id: str, session: date) -> str:
    """Return the prefix of one account's session in the ledger."""
    return f"{account_prefix(account_id)}/{session.isoformat()}"


def orders_prefix(account_id: str, session: date) -> str:
    """Return the prefix of a session's ledger entries (one per client order id)."""
    return f"{session_prefix(account_id, session)}/orders/"


def entry_key(account_id: str, session: date, client_order_id: str) -> str:
    """Return the key of one intent's ledger entry."""
    return f"{orders_prefix(account_id, session)}{client_order_id}.json"


def phase_key(account_id: str, session: date, run_id: str, task_id: str) -> str:
    """Return the key that records a completed execution phase of a run."""
    return f"{session_prefix(account_id, session)}/phases/{_segment(run_id)}/{task_id}.json"


def lease_key(account_id: str, session: date) -> str:
    """Return the key of the account's trading lease for a session."""
    return f"{session_prefix(account_id, session)}/lease.json"


def rebalanced_key(account_id: str, session: date) -> str:
    """Return the key that says a session has been rebalanced, and by which run."""
    return f"{session_prefix(account_id, session)}/rebalanced.json"


def last_targets_key(account_id: str) -> str:
    """Return the key of the targets the account was last traded towards (the signal gate's)."""
    return f"{account_prefix(account_id)}/last_traded_targets.json"


LEGACY_LAST_TARGETS_KEY = "state/last_traded_targets.json"
"""Where the last traded targets were kept before they moved under the account: read when the
account has none yet, never written."""

HELD_PREFIX = "strategies/held"
REPLAY_HELD_PREFIX = "replay/held/"


def held_key(strategy: str) -> str:
    """Return the key of a strategy's last live rebalance."""
    return f"{HELD_PREFIX}/{strategy}.json"


def replay_held_key(session: date) -> str:
    """Return the key of every ruled strategy's holdings after a replayed session."""
    return f"{REPLAY_HELD_PREFIX}{session.isoformat()}.json"


BOOKS_PREFIX = "replay/books/"
EQUITY_CURVE = "replay/equity_curve.json"


def book_key(session: date) -> str:
    """Return the key of the replayed book at the close of `session`."""
    return f"{BOOKS_PREFIX}{session.isoformat()}.json"


BARS_PREFIX = "marketdata/bars/1Day"


def bars_key(symbol: str) -> str:
    """Return the key of a symbol's cached bars (`BRK.B` is stored as `BRK_B`)."""
    return f"{BARS_PREFIX}/{file_stem(symbol)}.parquet"


BACKTESTS_PREFIX = "backtests/"
"""Where published backtests live, one folder per name."""


def backtest_key(name: str, file: str) -> str:
    """Return the key of one file of the backtest published as `name` (both names checked)."""
    return f"{BACKTESTS_PREFIX}{backtest_name(name)}/{backtest_file(file)}"


def summary_key(name: str) -> str:
    """Return the key of a published backtest's summary, the line the console lists."""
    return backtest_key(name, SUMMARY_FILE)
