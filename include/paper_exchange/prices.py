"""Prices: Alpaca's tick rule, daily bars (seeded generator or CSV) and the intraday quote path."""

from __future__ import annotations

import csv
import hashlib
import math
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path

from paper_exchange.calendar import NEW_YORK
from paper_exchange.errors import ConfigError

PENNY = Decimal("0.01")
SUB_PENNY = Decimal("0.0001")
ONE = Decimal(1)
# Intraday mid moves at most this far from the anchor (a fraction, so 0.2%).
INTRADAY_NOISE = 0.002
HALF_SPREAD_BPS = Decimal("0.0002")


def tick_for(price: Decimal) -> Decimal:
    """Return Alpaca's minimum price increment: $0.01 at or above $1, $0.0001 below."""
    return PENNY if price >= ONE else SUB_PENNY


def round_to_tick(price: Decimal, rounding: str = ROUND_HALF_UP) -> Decimal:
    """Round a price onto the tick grid."""
    return price.quantize(tick_for(price), rounding=rounding)


def is_on_tick(price: Decimal) -> bool:
    """Return whether a price is a whole number of ticks."""
    return price == price.quantize(tick_for(price), rounding=ROUND_FLOOR)


def _rng(*parts: object) -> random.Random:
    # sha256, not hash(): hash() of str is salted per process and would break determinism.
    digest = hashlib.sha256(":".join(str(p) for p in parts).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def _unit(*parts: object) -> float:
    digest = hashlib.sha256(":".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def _price(value: float) -> Decimal:
    return round_to_tick(Decimal(repr(max(value, 0.0001))))


@dataclass(frozen=True)
class DailyBar:
    """One daily OHLCV bar."""

    day: date
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: int
    trade_count: int
    vwap: Decimal

    @property
    def timestamp(self) -> datetime:
        """Bar time as Alpaca reports daily bars: midnight New York, in UTC."""
        return datetime.combine(self.day, time(0), tzinfo=NEW_YORK).astimezone(UTC)


def _make_bar(
    day: date, *, o: Decimal, h: Decimal, low: Decimal, c: Decimal, volume: int
) -> DailyBar:
    vwap = ((h + low + c) / 3).quantize(SUB_PENNY)
    return DailyBar(day, o, h, low, c, volume, max(1, volume // 120), vwap)


def generate_bars(seed: int, symbol: str, sessions: list[date]) -> list[DailyBar]:
    """Generate a deterministic geometric random walk of daily bars for one symbol."""
    rng = _rng(seed, symbol)
    close = rng.uniform(5.0, 600.0)
    vol = rng.uniform(0.01, 0.04)
    base_volume = rng.uniform(2e5, 5e7)
    bars: list[DailyBar] = []
    for day in sessions:
        open_f = close * math.exp(rng.gauss(0.0, vol * 0.3))
        close = open_f * math.exp(rng.gauss(0.0002, vol))
        o, c = _price(open_f), _price(close)
        h = max(o, c, _price(max(open_f, close) * (1 + abs(rng.gauss(0.0, vol / 2)))))
        low = min(o, c, _price(min(open_f, close) * (1 - abs(rng.gauss(0.0, vol / 2)))))
        volume = int(base_volume * rng.uniform(0.5, 1.5))
        bars.append(_make_bar(day, o=o, h=h, low=low, c=c, volume=volume))
    return bars


def _csv_decimal(raw: str, where: str) -> Decimal:
    try:
        value = Decimal(raw.strip())
    except InvalidOperation as exc:
        raise ConfigError(f"{where}: not a number: {raw!r}") from exc
    if not value.is_finite() or value <= 0:
        raise ConfigError(f"{where}: must be a positive number: {raw!r}")
    return value


def load_csv_bars(path: Path) -> list[DailyBar]:
    """Load `date,open,high,low,close,volume` rows, validating OHLC consistency."""
    bars: list[DailyBar] = []
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            expected = ["date", "open", "high", "low", "close", "volume"]
            if [f.strip().lower() for f in reader.fieldnames or []] != expected:
                raise ConfigError(f"{path}: header must be {','.join(expected)}")
            for line, row in enumerate(reader, start=2):
                where = f"{path}:{line}"
                try:
                    day = date.fromisoformat(row["date"].strip())
                    volume = int(Decimal(row["volume"].strip()))
                except (ValueError, InvalidOperation) as exc:
                    raise ConfigError(f"{where}: bad date or volume") from exc
                o, h, low, c = (
                    _csv_decimal(row[k], where) for k in ("open", "high", "low", "close")
                )
                if not (low <= min(o, c) and max(o, c) <= h):
                    raise ConfigError(f"{where}: need low <= open,close <= high")
                bars.append(_make_bar(day, o=o, h=h, low=low, c=c, volume=volume))
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from exc
    bars.sort(key=lambda b: b.day)
    return bars


@dataclass(frozen=True)
class Quote:
    """A top-of-book quote at one simulated minute."""

    bid: Decimal
    ask: Decimal
    bid_size: int
    ask_size: int
    timestamp: datetime

    @property
    def mid(self) -> Decimal:
        """Midpoint of bid and ask."""
        return (self.bid + self.ask) / 2


class PriceBook:
    """Daily history plus the deterministic intraday quote path around each anchor price."""

    def __init__(
        self, seed: int, bars: dict[str, list[DailyBar]], session: date, open_at: datetime
    ) -> None:
        self._seed = seed
        self._bars = {sym: [b for b in rows if b.day <= session] for sym, rows in bars.items()}
        self._open_at = open_at
        self._close_cache: dict[str, tuple[Decimal, Decimal]] = {}
        for sym, rows in self._bars.items():
            if not rows:
                raise ConfigError(f"{sym}: no bars on or before {session.isoformat()}")
            prev = rows[-2].close if len(rows) > 1 else rows[-1].open
            self._close_cache[sym] = (rows[-1].close, prev)

    def symbols(self) -> list[str]:
        """Return the symbols with prices."""
        return sorted(self._bars)

    def bars(self, symbol: str) -> list[DailyBar]:
        """Return a symbol's daily bars, oldest first (empty if unknown)."""
        return self._bars.get(symbol, [])

    def anchor(self, symbol: str) -> Decimal:
        """Return the session's anchor price (its daily close)."""
        return self._close_cache[symbol][0]

    def previous_close(self, symbol: str) -> Decimal:
        """Return the close of the session before the simulated one."""
        return self._close_cache[symbol][1]

    def quote(self, symbol: str, sim: datetime, close_at: datetime) -> Quote:
        """Return the quote in force at a simulated time; it changes once per simulated minute."""
        effective = min(max(sim, self._open_at), close_at - timedelta(seconds=1))
        minute = int((effective - self._open_at).total_seconds() // 60)
        anchor = self.anchor(symbol)
        noise = (_unit(self._seed, symbol, minute, "mid") - 0.5) * 2 * INTRADAY_NOISE
        mid = anchor * (ONE + Decimal(repr(round(noise, 8))))
        tick = tick_for(mid)
        half = max(mid * HALF_SPREAD_BPS, tick / 2)
        bid = (mid - half).quantize(tick, rounding=ROUND_FLOOR)
        ask = (mid + half).quantize(tick, rounding=ROUND_CEILING)
        if ask <= bid:
            ask = bid + tick
        sizes = _rng(self._seed, symbol, minute, "size")
        stamp = self._open_at + timedelta(minutes=minute)
        return Quote(bid, ask, sizes.randint(1, 20) * 100, sizes.randint(1, 20) * 100, stamp)
