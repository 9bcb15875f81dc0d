"""Market-data queries: multi-symbol daily bars with Alpaca's pagination, latest quotes/trades.

Unknown symbols are omitted from the response (as Alpaca's data API does), never an error;
a symbol without bars in the range has no key, and ``bars`` is always an object.
"""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, date, datetime, time
from typing import Any

from paper_exchange.calendar import NEW_YORK
from paper_exchange.engine import PaperEngine
from paper_exchange.errors import ExchangeRejectionError, unprocessable
from paper_exchange.prices import DailyBar
from paper_exchange.serialize import bar_json, quote_json, trade_json

Query = dict[str, list[str]]
DAILY_TIMEFRAMES = frozenset({"1Day", "1D", "1day"})
DEFAULT_LIMIT = 1000
MAX_LIMIT = 10000


def _bad(message: str) -> ExchangeRejectionError:
    return ExchangeRejectionError(400, 40010001, message)


def first(query: Query, key: str) -> str | None:
    """Return the first value of a query parameter, or None."""
    values = query.get(key)
    return values[0] if values else None


def symbols_param(query: Query) -> list[str]:
    """Return the comma-separated (or repeated) ``symbols`` parameter, upper-cased."""
    symbols = [s.strip().upper() for raw in query.get("symbols", []) for s in raw.split(",")]
    symbols = [s for s in symbols if s]
    if not symbols:
        raise _bad("symbols is required")
    return symbols


def parse_time(raw: str, key: str, *, end_of_day: bool = False) -> datetime:
    """Parse an RFC3339 timestamp or a YYYY-MM-DD date (midnight New York) as UTC."""
    text = raw.strip().replace(" ", "+")  # an unencoded '+' arrives as a space
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            moment = time(23, 59, 59) if end_of_day else time(0)
            return datetime.combine(day, moment, tzinfo=NEW_YORK).astimezone(UTC)
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise _bad(f"invalid {key}: {raw}") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _limit(query: Query) -> int:
    raw = first(query, "limit")
    if raw is None:
        return DEFAULT_LIMIT
    try:
        limit = int(raw)
    except ValueError as exc:
        raise _bad(f"invalid limit: {raw}") from exc
    if not 1 <= limit <= MAX_LIMIT:
        raise _bad(f"invalid limit: must be between 1 and {MAX_LIMIT}")
    return limit


def _encode_token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"bars:{offset}".encode()).decode()


def _decode_token(token: str) -> int:
    try:
        text = base64.urlsafe_b64decode(token.encode()).decode()
        prefix, offset = text.split(":")
        if prefix != "bars" or int(offset) < 0:
            raise ValueError(token)
        return int(offset)
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise _bad("invalid page_token") from exc


def bars_response(engine: PaperEngine, query: Query) -> dict[str, Any]:
    """Answer GET /v2/stocks/bars for daily bars."""
    timeframe = first(query, "timeframe") or ""
    if timeframe not in DAILY_TIMEFRAMES:
        raise unprocessable(
            f"timeframe {timeframe!r} is not supported: the paper exchange serves 1Day bars only"
        )
    symbols = symbols_param(query)
    sim = engine.sim_now()
    start_raw, end_raw = first(query, "start"), first(query, "end")
    session_start = datetime.combine(engine.session.session, time(0), tzinfo=NEW_YORK)
    start = parse_time(start_raw, "start") if start_raw else session_start.astimezone(UTC)
    end = parse_time(end_raw, "end", end_of_day=True) if end_raw else sim
    sort = (first(query, "sort") or "asc").lower()
    if sort not in ("asc", "desc"):
        raise _bad(f"invalid sort: {sort}")
    limit = _limit(query)
    token = first(query, "page_token")
    offset = _decode_token(token) if token else 0
    items: list[tuple[str, DailyBar]] = []
    for symbol in sorted(set(symbols)):
        rows = [b for b in engine.prices.bars(symbol) if start <= b.timestamp <= end]
        if sort == "desc":
            rows.reverse()
        items.extend((symbol, bar) for bar in rows)
    page = items[offset : offset + limit]
    bars: dict[str, list[dict[str, Any]]] = {}
    for symbol, bar in page:
        bars.setdefault(symbol, []).append(bar_json(bar))
    has_more = offset + limit < len(items)
    return {
        "bars": bars,
        "next_page_token": _encode_token(offset + limit) if has_more else None,
        "currency": "USD",
    }


def latest_quotes_response(engine: PaperEngine, query: Query) -> dict[str, Any]:
    """Answer GET /v2/stocks/quotes/latest."""
    symbols = symbols_param(query)
    sim = engine.sim_now()
    quotes = {
        s: quote_json(engine.quote(s, sim), engine.assets[s].exchange)
        for s in symbols
        if s in engine.assets
    }
    return {"quotes": quotes}


def latest_trades_response(engine: PaperEngine, query: Query) -> dict[str, Any]:
    """Answer GET /v2/stocks/trades/latest."""
    symbols = symbols_param(query)
    sim = engine.sim_now()
    trades = {
        s: trade_json(engine.quote(s, sim), engine.assets[s].exchange)
        for s in symbols
        if s in engine.assets
    }
    return {"trades": trades}
