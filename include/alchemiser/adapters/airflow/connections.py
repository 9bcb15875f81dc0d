"""Read Alpaca and S3 settings from Airflow connections and variables."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from pydantic import ValidationError

from alchemiser.adapters.alpaca.settings import AlpacaSettings
from alchemiser.domain.errors import ConfigError

ALPACA_CONN_ID = "alpaca_default"
AWS_CONN_ID = "aws_default"
BUCKET_VARIABLE = "alchemiser_bucket"
DEFAULT_BUCKET = "alchemiser"
STATE_DIR_VARIABLE = "alchemiser_state_dir"
"""A folder here makes the tasks keep their state in it (the local store) instead of S3."""
_LOOPBACK = ("127.0.0.1", "localhost", "[::1]")


class ConnectionLike(Protocol):
    """The fields of an Airflow Connection this module reads."""

    conn_id: str
    host: str | None
    port: int | None
    login: str | None
    password: str | None

    @property
    def extra_dejson(self) -> dict[str, Any]:
        """Return the parsed extra field."""
        ...


def base_url(conn: ConnectionLike) -> str | None:
    """Return the override URL from host (and port), or None for Alpaca's own endpoints."""
    host = (conn.host or "").strip()
    if not host:
        return None
    if "://" not in host:
        scheme = "http" if host.startswith(_LOOPBACK) else "https"
        host = f"{scheme}://{host}"
    if conn.port and host.count(":") < 2:
        host = f"{host}:{conn.port}"
    return host


def alpaca_settings(conn: ConnectionLike) -> AlpacaSettings:
    """Return Alpaca settings; a missing key or secret is refused before any call."""
    extra = conn.extra_dejson
    paper = extra.get("paper", True)
    if not isinstance(paper, bool):
        raise ConfigError(f"connection {conn.conn_id}: extra 'paper' must be true or false")
    try:
        return AlpacaSettings(
            key_id=conn.login or "",
            secret_key=conn.password or "",
            base_url=base_url(conn),
            paper=paper,
            timeout_seconds=extra.get("timeout_seconds", 10.0),
        )
    except ValidationError as exc:
        fields = ", ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"connection {conn.conn_id}: {fields}") from exc


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
