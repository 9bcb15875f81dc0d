"""The MarketData port on alpaca-py's StockHistoricalDataClient."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta

import structlog
from alpaca.data.enums import Adjustment
from alpaca.data.historical.stock import StockHistoricalDataClient
from alpaca.data.models import BarSet
from alpaca.data.requests import StockBarsRequest, StockLatestQuoteRequest
from alpaca.data.timeframe import TimeFrame

from alchemiser.adapters.alpaca.errors import broker_call
from alchemiser.adapters.alpaca.http import install_timeout
from alchemiser.adapters.alpaca.ratelimit import RateLimiter
from alchemiser.adapters.alpaca.settings import AlpacaSettings
from alchemiser.adapters.alpaca.translate import to_bar, to_quote
from alchemiser.domain.errors import BrokerError, MarketDataError
from alchemiser.domain.market import Bar, Quote
from alchemiser.domain.sessions import NEW_YORK

log = structlog.get_logger(__name__)


class AlpacaMarketData:
    """Daily bars and latest quotes through alpaca-py."""

    def __init__(self, settings: AlpacaSettings) -> None:
        self._client = StockHistoricalDataClient(
            api_key=settings.key_id.get_secret_value(),
            secret_key=settings.secret_key.get_secret_value(),
            url_override=settings.base_url,
        )
        limiter = RateLimiter(
            per_minute=settings.requests_per_minute, max_429_retries=settings.max_429_retries
        )
        self.transport = install_timeout(
            self._client, settings.timeout_seconds, limiter, settings.retry_policy
        )

    def get_daily_bars(
        self, symbols: Sequence[str], start: date, end: date
    ) -> dict[str, tuple[Bar, ...]]:
        """Return split-adjusted daily bars dated within [start, end], oldest first."""
        request = StockBarsRequest(
            symbol_or_symbols=sorted(set(symbols)),
            timeframe=TimeFrame.Day,
            start=datetime.combine(start, time(0), NEW_YORK),
            end=datetime.combine(end + timedelta(days=1), time(0), NEW_YORK),
            adjustment=Adjustment.ALL,
        )
        try:
            with broker_call("get daily bars"):
                barset = self._client.get_stock_bars(request)
        except BrokerError as exc:
            raise MarketDataError(str(exc)) from exc
        assert isinstance(barset, BarSet)
        result: dict[str, tuple[Bar, ...]] = {}
        for symbol in sorted(set(symbols)):
            bars = tuple(to_bar(symbol, b) for b in barset.data.get(symbol, []))
            result[symbol] = tuple(b for b in bars if start <= b.session <= end)
        return result

    def get_latest_quotes(self, symbols: Sequence[str]) -> dict[str, Quote]:
        """Return the latest usable quote per symbol; a missing, zero or crossed one is left out."""
        wanted = sorted(set(symbols))
        if not wanted:
            return {}
        try:
            with broker_call("get latest quotes"):
                quotes = self._client.get_stock_latest_quote(
                    StockLatestQuoteRequest(symbol_or_symbols=wanted)
                )
        except BrokerError as exc:
            raise MarketDataError(str(exc)) from exc
        assert isinstance(quotes, dict)
        usable: dict[str, Quote] = {}
        for symbol in wanted:
            if symbol not in quotes:
                log.warning("no quote returned", symbol=symbol)
                continue
            try:
                usable[symbol] = to_quote(symbol, quotes[symbol])
            except MarketDataError as exc:
                log.warning("quote unusable", symbol=symbol, reason=str(exc))
        return usable
