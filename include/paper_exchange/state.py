"""The paper account on disk: cash, positions and every order, so a restarted exchange goes on.

Written after every request that changed something (before the response leaves), to a temp
file that is fsynced and renamed over the old one, so a killed exchange loses nothing it
answered and a reader never sees half a file. Every order is kept: Alpaca refuses a client
order id that was ever used, and a trade ledger kept beside it expects to find its orders.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from paper_exchange.config import parse_account_type
from paper_exchange.errors import ConfigError
from paper_exchange.orders import Order
from paper_exchange.portfolio import Holding, Portfolio

STATE_VERSION = 1
_DECIMALS = frozenset(f.name for f in fields(Order) if "Decimal" in str(f.type))
_TIMES = frozenset(f.name for f in fields(Order) if "datetime" in str(f.type))


@dataclass(frozen=True)
class SavedState:
    """What a restarted exchange needs: the session it simulated, how far, the account, orders."""

    session: date
    simulated_at: datetime
    portfolio: Portfolio
    orders: tuple[Order, ...]


def save_state(path: Path, state: SavedState) -> None:
    """Write the state atomically and durably (temp file, fsync, rename)."""
    document = {
        "version": STATE_VERSION,
        "session": state.session.isoformat(),
        "simulated_at": state.simulated_at.isoformat(),
        "portfolio": _portfolio_json(state.portfolio),
        "orders": [_order_json(o) for o in state.orders],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(document, out, indent=1)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, path)
    finally:
        if os.path.exists(temp):
            os.unlink(temp)


def load_state(path: Path) -> SavedState | None:
    """Return the saved state, None if there is none yet; raise ConfigError if unreadable."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(f"cannot read the exchange state {path}: {exc}") from exc
    try:
        if raw["version"] != STATE_VERSION:
            raise ConfigError(f"{path}: state version {raw['version']}, expected {STATE_VERSION}")
        return SavedState(
            session=date.fromisoformat(raw["session"]),
            simulated_at=datetime.fromisoformat(raw["simulated_at"]),
            portfolio=_portfolio(raw["portfolio"]),
            orders=tuple(_order(o) for o in raw["orders"]),
        )
    except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
        raise ConfigError(f"the exchange state {path} is not valid: {exc!r}") from exc


def _portfolio_json(portfolio: Portfolio) -> dict[str, Any]:
    return {
        "account_type": portfolio.account_type,
        "settlement_delay_seconds": portfolio.settlement_delay.total_seconds(),
        "cash": str(portfolio.cash),
        "holdings": {
            sym: {"qty": str(h.qty), "avg_entry_price": str(h.avg_entry_price)}
            for sym, h in portfolio.holdings.items()
        },
        "unsettled": [[str(amount), at.isoformat()] for amount, at in portfolio.unsettled],
    }


def _portfolio(raw: dict[str, Any]) -> Portfolio:
    return Portfolio(
        account_type=parse_account_type(raw["account_type"]),
        settlement_delay=timedelta(seconds=float(raw["settlement_delay_seconds"])),
        cash=Decimal(raw["cash"]),
        holdings={
            sym: Holding(qty=Decimal(h["qty"]), avg_entry_price=Decimal(h["avg_entry_price"]))
            for sym, h in raw["holdings"].items()
        },
        unsettled=[(Decimal(a), datetime.fromisoformat(at)) for a, at in raw["unsettled"]],
    )


def _order_json(order: Order) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in fields(Order):
        value = getattr(order, f.name)
        if isinstance(value, Decimal):
            value = str(value)
        elif isinstance(value, datetime):
            value = value.isoformat()
        out[f.name] = value
    return out


def _order(raw: dict[str, Any]) -> Order:
    values: dict[str, Any] = {
        name: (
            Decimal(v)
            if name in _DECIMALS and v is not None
            else datetime.fromisoformat(v)
            if name in _TIMES and v is not None
            else v
        )
        for name, v in raw.items()
    }
    return Order(**values)
