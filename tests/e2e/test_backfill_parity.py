"""A backfill through Airflow agrees with `python -m alchemiser backtest` over the same range."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from alchemiser.calendars.trading import calendar
from alchemiser.strategy.portfolio_config import DEFAULT_PORTFOLIO
from sandbox.processes import Server
from tests.backtest.conftest import sample_bars, write_csvs
from tests.e2e.conftest import Deployment, StartExchange

pytestmark = pytest.mark.e2e
# Across a month start, so the monthly symphony trades, holds, trades and holds again.
FIRST, LAST = date(2024, 5, 30), date(2024, 6, 4)
EXCHANGE_SESSION = "2024-06-28"  # the exchange's today: every backfilled session is past
PORTFOLIO = DEFAULT_PORTFOLIO.with_name("portfolio-monthly.yaml")


def _get(deployment: Deployment, key: str) -> Any:
    body = deployment.s3.get_object(Bucket=deployment.bucket, Key=key)["Body"].read()
    return json.loads(body)


def _keys(deployment: Deployment, prefix: str) -> list[str]:
    listing = deployment.s3.list_objects_v2(Bucket=deployment.bucket, Prefix=prefix)
    return [o["Key"] for o in listing.get("Contents", [])]


def _dag_targets(deployment: Deployment, session: str) -> dict[str, Any]:
    """Return the target allocation the DAG's run for `session` stored."""
    runs = _keys(deployment, f"runs/{session}/")
    (key,) = [k for k in runs if k.endswith("/target_allocation.json")]
    return dict(_get(deployment, key))


def _held_qty(trades: list[dict[str, str]]) -> dict[str, Decimal]:
    """Return each symbol's quantity after the backtest's fills (they start from cash)."""
    qty: dict[str, Decimal] = {}
    for t in trades:
        sign = 1 if t["side"] == "buy" else -1
        qty[t["symbol"]] = qty.get(t["symbol"], Decimal(0)) + sign * Decimal(t["qty"])
    return {s: q for s, q in qty.items() if q}


def test_a_backfill_through_airflow_agrees_with_the_backtest_cli(
    airflow_home: Path, s3: Server, exchange_factory: StartExchange, tmp_path: Path
) -> None:
    prices = write_csvs(tmp_path / "prices", sample_bars())
    exchange = exchange_factory("--bars-dir", str(prices), "--session", EXCHANGE_SESSION)
    deployment = Deployment(airflow_home, exchange, s3)
    sessions = [s.day.isoformat() for s in calendar().sessions_between(FIRST, LAST)]
    assert 3 <= len(sessions) <= 5
    # One run per session, in order, as a backfill runs them (in one process: Airflow starts once).
    result = deployment.dags_test_each(
        [{"session": session, "portfolio": PORTFOLIO.name} for session in sessions]
    )
    assert result.returncode == 0, f"{result.stdout[-4000:]}{result.stderr[-3000:]}"
    assert result.stdout.count("ended success") == len(sessions), result.stdout[-4000:]
    assert deployment.exchange_orders() == []  # a backfill never reaches an order endpoint

    out = tmp_path / "backtest"
    argv = ["--portfolio", str(PORTFOLIO), "--prices", str(prices), "--out", str(out)]
    argv += ["--from", sessions[0], "--to", sessions[-1], "--benchmark", "none"]
    costs = ["--cost-bps", "0", "--commission", "0"]  # the replay's cost model (CostModel())
    cli = subprocess.run(
        [sys.executable, "-m", "alchemiser", "backtest", *argv, *costs],
        env=deployment.env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert cli.returncode == 0, cli.stderr
    sheet = json.loads((out / "tearsheet.json").read_text())

    # The same targets, session by session; the monthly symphony held between month starts,
    # from the replay's own state (the live state untouched).
    assert list(sheet["targets"]) == sessions
    monthly = []
    for session in sessions:
        dag = _dag_targets(deployment, session)
        cli_targets = {s: Decimal(str(w)) for s, w in sheet["targets"][session].items()}
        assert cli_targets == {w["symbol"]: Decimal(w["weight"]) for w in dag["weights"]}, session
        (part,) = [c for c in dag["contributions"] if c["strategy"] == "monthly-momentum"]
        monthly.append(part["rebalanced"])
    assert monthly == [True, False, True, False]
    assert _keys(deployment, "replay/held/") == [f"replay/held/{s}.json" for s in sessions]
    assert _keys(deployment, "strategies/held/") == []
    # The same book: value every session, and the holdings and cash at the end.
    for session, value in sheet["equity"]:
        book = _get(deployment, f"replay/books/{session}.json")
        dag_value = Decimal(book["cash"]) + sum(
            Decimal(h["qty"]) * Decimal(h["price"]) for h in book["holdings"]
        )
        assert abs(Decimal(str(value)) - dag_value) < Decimal("0.01"), (
            session
        )  # the tearsheet rounds to cents
    last = _get(deployment, f"replay/books/{sessions[-1]}.json")
    assert {h["symbol"]: Decimal(h["qty"]) for h in last["holdings"]} == _held_qty(sheet["trades"])
    assert sheet["trades"]
