"""The run history index: every report adds its run's summary, compare-and-swap, run id keyed.

The console reads one object instead of every report (a page stays fast with years of runs).
An entry is replaced when the same run writes its report again (a retried teardown).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import structlog

from alchemiser.domain.errors import ArtifactNotFoundError
from alchemiser.domain.history import RunHistory, RunSummary
from alchemiser.domain.keys import HISTORY_KEY
from alchemiser.domain.report import RunReport
from alchemiser.execution.walk import SLIPPAGE_QUANTUM
from alchemiser.ledger.cas import compare_and_swap
from alchemiser.ports import ObjectStore

log = structlog.get_logger(__name__)

_ATTEMPTS = 8


def summarize(report: RunReport, report_key: str, written_at: datetime) -> RunSummary:
    """Return the history line of a report."""
    walks = [w for p in (report.sells, report.buys) if p is not None for w in p.walks]
    weighed = [(w.slippage_bps, w.filled_value) for w in walks if w.slippage_bps is not None]
    value = sum((v for _, v in weighed), Decimal(0))
    slippage = sum((s * v for s, v in weighed), Decimal(0)) / value if value else None
    if report.orders is not None:
        traded = report.orders.traded_value
    elif report.replay is not None:
        traded = sum((f.value for f in report.replay.fills), Decimal(0))
    else:
        traded = sum((p.filled_value for p in (report.sells, report.buys) if p), Decimal(0))
    account = report.after or report.before
    return RunSummary(
        run_id=report.run_id,
        session=report.session,
        outcome=report.outcome,
        written_at=written_at,
        report_key=report_key,
        account_id=account.account_id if account else "",
        live=report.live,
        traded_value=traded,
        slippage_bps=slippage.quantize(SLIPPAGE_QUANTUM) if slippage is not None else None,
        orders_placed=report.orders.placed if report.orders else 0,
        portfolio_value=report.after.portfolio_value if report.after else None,
        note=report.note,
    )


def record_run(store: ObjectStore, summary: RunSummary) -> None:
    """Add (or replace) a run's line in the history; concurrent writers retry, none is lost."""

    def add(history: RunHistory) -> RunHistory:
        runs = (*(r for r in history.runs if r.run_id != summary.run_id), summary)
        return history.model_copy(update={"runs": runs})

    updated = compare_and_swap(
        store,
        HISTORY_KEY,
        RunHistory.model_validate_json,
        add,
        attempts=_ATTEMPTS,
        empty=RunHistory(),
    )
    if updated is None:
        log.warning("run history not updated: too many concurrent writers", run_id=summary.run_id)


def load_history(store: ObjectStore) -> RunHistory:
    """Return the run history, empty when no run has written a report yet."""
    try:
        return RunHistory.model_validate_json(store.get(HISTORY_KEY))
    except ArtifactNotFoundError:
        return RunHistory()
