"""The paper account's cash, unsettled proceeds and positions."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from paper_exchange.config import AccountSeed, AccountType

CENT = Decimal("0.01")


@dataclass
class Holding:
    """A long position: quantity and average entry price."""

    qty: Decimal
    avg_entry_price: Decimal


@dataclass
class Portfolio:
    """Cash and holdings; sale proceeds on a cash account settle after a real-time delay.

    The settlement delay stands in for T+1: a cash account cannot reuse sale proceeds until
    they settle, a margin account can use them as soon as the sale fills.
    """

    account_type: AccountType
    settlement_delay: timedelta
    cash: Decimal
    holdings: dict[str, Holding] = field(default_factory=dict)
    unsettled: list[tuple[Decimal, datetime]] = field(default_factory=list)

    @classmethod
    def from_seed(cls, seed: AccountSeed, entry_prices: dict[str, Decimal]) -> Portfolio:
        """Open the account with the seed's cash and positions at the given entry prices."""
        holdings = {
            sym: Holding(qty=qty, avg_entry_price=entry_prices[sym])
            for sym, qty in seed.positions.items()
        }
        return cls(
            account_type=seed.account_type,
            settlement_delay=timedelta(seconds=seed.settlement_delay_seconds),
            cash=seed.cash,
            holdings=holdings,
        )

    def settle(self, now: datetime) -> None:
        """Drop proceeds whose settlement time has passed (they stay in cash)."""
        self.unsettled = [(amount, at) for amount, at in self.unsettled if at > now]

    @property
    def unsettled_cash(self) -> Decimal:
        """Return sale proceeds not yet settled (always zero on a margin account)."""
        return sum((amount for amount, _ in self.unsettled), Decimal(0))

    @property
    def usable_cash(self) -> Decimal:
        """Return cash that may fund new buys before open-order reservations."""
        return self.cash - self.unsettled_cash

    def qty(self, symbol: str) -> Decimal:
        """Return the held quantity of a symbol (zero if none)."""
        holding = self.holdings.get(symbol)
        return holding.qty if holding else Decimal(0)

    def buy(self, symbol: str, qty: Decimal, price: Decimal) -> None:
        """Book a buy fill."""
        cost = (qty * price).quantize(CENT, rounding=ROUND_HALF_UP)
        self.cash -= cost
        holding = self.holdings.get(symbol)
        if holding is None:
            self.holdings[symbol] = Holding(qty=qty, avg_entry_price=price)
            return
        total = holding.qty + qty
        holding.avg_entry_price = (holding.qty * holding.avg_entry_price + qty * price) / total
        holding.qty = total

    def sell(self, symbol: str, qty: Decimal, price: Decimal, now: datetime) -> None:
        """Book a sell fill; on a cash account the proceeds settle later."""
        proceeds = (qty * price).quantize(CENT, rounding=ROUND_HALF_UP)
        self.cash += proceeds
        if self.account_type == "cash" and self.settlement_delay > timedelta(0):
            self.unsettled.append((proceeds, now + self.settlement_delay))
        holding = self.holdings[symbol]
        holding.qty -= qty
        if holding.qty <= 0:
            del self.holdings[symbol]


@dataclass(frozen=True)
class PositionView:
    """A position with its mark, for serialization."""

    symbol: str
    exchange: str
    qty: Decimal
    qty_available: Decimal
    avg_entry_price: Decimal
    current_price: Decimal
    lastday_price: Decimal


@dataclass(frozen=True)
class AccountView:
    """Account balances at one moment, for serialization."""

    account_type: str
    cash: Decimal
    unsettled_cash: Decimal
    buying_power: Decimal
    long_market_value: Decimal
    last_equity: Decimal
