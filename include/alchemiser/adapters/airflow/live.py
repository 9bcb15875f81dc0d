"""The live opt-in: which venue a run may trade, checked before any order.

A paper connection trades paper. Real money needs two opt-ins made outside the DAG file: a
connection with extra paper=false, and for a manual run param mode=live, for a scheduled run
Variable `alchemiser_live_account` naming the connection's account number.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from airflow.sdk import Variable

from alchemiser.adapters.airflow.connections import ALPACA_CONN_ID
from alchemiser.adapters.alpaca.settings import AlpacaSettings
from alchemiser.domain.errors import ConfigError
from alchemiser.ports import Broker


def run_type(context: Mapping[str, Any]) -> str:
    """Return "scheduled", "manual", "backfill" or "asset_triggered" for the task's run."""
    value = context["dag_run"].run_type
    return str(getattr(value, "value", value))


def check_venue(context: Mapping[str, Any], settings: AlpacaSettings, broker: Broker) -> None:
    """Refuse a run that would trade a venue it did not opt into (see the module docstring)."""
    if run_type(context) == "scheduled":
        check_scheduled_venue(
            settings,
            Variable.get(LIVE_ACCOUNT_VARIABLE, default=None),
            lambda: broker.get_account().account_number,
        )
    else:
        check_mode(str((context.get("params") or {}).get("mode", "paper")), settings)


MODES = ("paper-exchange", "paper", "live")
LIVE_ACCOUNT_VARIABLE = "alchemiser_live_account"


def check_scheduled_venue(
    settings: AlpacaSettings, live_opt_in: str | None, account_number: Callable[[], str | None]
) -> None:
    """Let a scheduled run trade live only when an operator opted in outside the DAG file.

    A paper connection trades paper. A live one (extra paper=false) trades only when Variable
    `alchemiser_live_account` names the connection's account number; `account_number` is
    asked for only then.
    """
    if settings.paper:
        return
    wanted = (live_opt_in or "").strip()
    if not wanted:
        raise ConfigError(
            f"connection {ALPACA_CONN_ID} is LIVE (extra paper=false) and this is a scheduled "
            f"run: set Variable {LIVE_ACCOUNT_VARIABLE} to the live account's number to let "
            "the schedule trade real money (or point the connection at a paper account); "
            "nothing was placed"
        )
    actual = account_number() or ""
    if wanted != actual:
        raise ConfigError(
            f"Variable {LIVE_ACCOUNT_VARIABLE}={mask(wanted)} does not name the live account "
            f"of connection {ALPACA_CONN_ID} ({mask(actual)}): nothing was placed"
        )


def mask(account_number: str) -> str:
    """Return an account number with all but its last four characters hidden."""
    tail = account_number[-4:]
    return f"...{tail}" if len(account_number) > len(tail) else tail or "(none)"


def check_mode(mode: str, settings: AlpacaSettings) -> None:
    """Refuse a run whose `mode` param does not match where the connection sends orders.

    Live trading needs both opt-ins: a connection with extra paper=false and mode=live.
    """
    if mode not in MODES:
        raise ConfigError(f"param mode={mode!r}: must be one of {', '.join(MODES)}")
    if not settings.paper and mode != "live":
        raise ConfigError(
            f"connection {ALPACA_CONN_ID} is LIVE (extra paper=false) but param mode={mode!r}: "
            "live trading needs mode=live too; nothing was placed"
        )
    if mode == "live" and settings.paper:
        raise ConfigError(
            f"param mode='live' but connection {ALPACA_CONN_ID} is a paper account "
            "(extra paper=true): refusing to pretend"
        )
    if mode == "paper-exchange" and settings.base_url is None:
        raise ConfigError(
            f"param mode='paper-exchange' but connection {ALPACA_CONN_ID} has no host: it "
            "points at Alpaca itself, not at a local paper exchange"
        )
