"""Positions reconciled: the account must hold what the plan saw, moved by this run's fills.

Checked before the sells (a manual trade or a corporate action since the plan makes the plan
stale: we refuse to trade it, fail closed with the differences, and a new run re-plans) and
after the buys (whatever the run did must be exactly what the account shows). Pure functions.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal

from alchemiser.domain.errors import AlchemiserError
from alchemiser.domain.market import BrokerPosition
from alchemiser.domain.plan import Side
from alchemiser.ledger.entry import LedgerEntry


class PositionMismatchError(AlchemiserError):
    """The account's positions differ from the plan's snapshot plus this run's fills."""


def expected_positions(
    before: Mapping[str, Decimal], entries: Iterable[LedgerEntry], run_id: str
) -> dict[str, Decimal]:
    """Return `before` moved by the fills of `run_id`'s orders (sells down, buys up)."""
    expected = dict(before)
    for entry in entries:
        if entry.task.run_id != run_id or entry.filled_qty == 0:
            continue
        sign = 1 if entry.intent.side is Side.BUY else -1
        symbol = entry.intent.symbol
        expected[symbol] = expected.get(symbol, Decimal(0)) + sign * entry.filled_qty
    return expected


def position_differences(
    expected: Mapping[str, Decimal],
    actual: Iterable[BrokerPosition],
    tolerance: Decimal,
    symbols: Iterable[str] | None = None,
) -> tuple[str, ...]:
    """Return one line per symbol whose held quantity is off by more than `tolerance` shares.

    `symbols` limits the check (None: every symbol either side knows).
    """
    held = {p.symbol: p.qty for p in actual}
    names = set(symbols) if symbols is not None else set(expected) | set(held)
    lines = []
    for symbol in sorted(names):
        want = expected.get(symbol, Decimal(0))
        have = held.get(symbol, Decimal(0))
        if abs(have - want) > tolerance:
            lines.append(
                f"{symbol}: expected {want.normalize():f}, broker holds {have.normalize():f}"
            )
    return tuple(lines)
