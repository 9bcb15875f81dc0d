"""Assemble the universe and the price book from the config (generator or CSV directory)."""

from __future__ import annotations

from datetime import date, datetime

from paper_exchange.calendar import MarketCalendar
from paper_exchange.config import (
    DEFAULT_ASSETS,
    AssetSpec,
    ExchangeConfig,
    synthetic_specs,
)
from paper_exchange.errors import ConfigError
from paper_exchange.prices import DailyBar, PriceBook, generate_bars, load_csv_bars


def default_history_start(session: date) -> date:
    """Return the default first bar date: three calendar years before the session."""
    try:
        return session.replace(year=session.year - 3)
    except ValueError:  # 29 February
        return session.replace(year=session.year - 3, day=28)


def _configured_assets(config: ExchangeConfig) -> tuple[AssetSpec, ...]:
    listed = config.assets if config.assets is not None else DEFAULT_ASSETS
    return listed + synthetic_specs(config.synthetic_assets)


def build_price_book(
    config: ExchangeConfig, calendar: MarketCalendar, session: date, open_at: datetime
) -> PriceBook:
    """Load CSV bars from ``bars_dir`` or generate them for every configured asset."""
    bars: dict[str, list[DailyBar]] = {}
    if config.bars_dir is not None:
        if not config.bars_dir.is_dir():
            raise ConfigError(f"bars dir {config.bars_dir} is not a directory")
        for path in sorted(config.bars_dir.glob("*.csv")):
            bars[path.stem.upper()] = load_csv_bars(path)
        if not bars:
            raise ConfigError(f"bars dir {config.bars_dir} holds no <SYMBOL>.csv files")
    else:
        start = config.history_start or default_history_start(session)
        sessions = calendar.sessions(start, session)
        for spec in _configured_assets(config):
            bars[spec.symbol] = generate_bars(config.seed, spec.symbol, sessions)
    return PriceBook(config.seed, bars, session, open_at)


def build_universe(config: ExchangeConfig, priced: list[str]) -> dict[str, AssetSpec]:
    """Return the tradable universe: the priced symbols, with flags from the asset list."""
    known = {spec.symbol: spec for spec in _configured_assets(config)}
    return {sym: known.get(sym, AssetSpec(symbol=sym)) for sym in priced}
