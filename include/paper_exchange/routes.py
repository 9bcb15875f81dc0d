"""Route table: maps (method, path) to engine calls and JSON responses."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from paper_exchange.engine import PaperEngine
from paper_exchange.errors import ExchangeRejectionError, bad_request, not_found
from paper_exchange.marketdata import (
    Query,
    bars_response,
    first,
    latest_quotes_response,
    latest_trades_response,
    parse_time,
)
from paper_exchange.orders import Order
from paper_exchange.serialize import (
    account_json,
    asset_json,
    calendar_json,
    clock_json,
    order_json,
    position_json,
)

Body = dict[str, Any] | None
Response = tuple[int, Any]
Handler = Callable[[PaperEngine, re.Match[str], Query, Body], Response]
MAX_ORDERS_LIMIT = 500


@dataclass(frozen=True)
class Route:
    """One endpoint."""

    method: str
    pattern: re.Pattern[str]
    handler: Handler


def _body(body: Body) -> dict[str, Any]:
    if body is None:
        raise bad_request("request body format is invalid")
    return body


def _clock(engine: PaperEngine, _m: re.Match[str], _q: Query, _b: Body) -> Response:
    sim = engine.sim_now()
    s = engine.session
    return 200, clock_json(sim, s.is_open(sim), s.next_open(sim), s.next_close(sim))


def _calendar(engine: PaperEngine, _m: re.Match[str], query: Query, _b: Body) -> Response:
    session = engine.session.session
    try:
        start = date.fromisoformat(first(query, "start") or session.isoformat())
        end = date.fromisoformat(first(query, "end") or (start + timedelta(days=30)).isoformat())
    except ValueError as exc:
        raise bad_request("invalid start or end date") from exc
    cal = engine.session.calendar
    return 200, calendar_json(cal, cal.sessions(start, end))


def _account(engine: PaperEngine, _m: re.Match[str], _q: Query, _b: Body) -> Response:
    return 200, account_json(engine.account())


def _assets(engine: PaperEngine, _m: re.Match[str], _q: Query, _b: Body) -> Response:
    specs = (engine.asset(symbol) for symbol in engine.assets)
    return 200, [asset_json(spec) for spec in specs if spec is not None]


def _asset(engine: PaperEngine, m: re.Match[str], _q: Query, _b: Body) -> Response:
    spec = engine.asset(m["symbol"].upper())
    if spec is None:
        raise not_found(f"asset not found for {m['symbol']}")
    return 200, asset_json(spec)


def _positions(engine: PaperEngine, _m: re.Match[str], _q: Query, _b: Body) -> Response:
    return 200, [position_json(p) for p in engine.positions()]


def _position(engine: PaperEngine, m: re.Match[str], _q: Query, _b: Body) -> Response:
    return 200, position_json(engine.position(m["symbol"]))


def _close_position(engine: PaperEngine, m: re.Match[str], _q: Query, _b: Body) -> Response:
    return 200, order_json(engine.close_position(m["symbol"]))


def _submit(engine: PaperEngine, _m: re.Match[str], _q: Query, body: Body) -> Response:
    return 200, order_json(engine.submit_order(_body(body)))


def _list_orders(engine: PaperEngine, _m: re.Match[str], query: Query, _b: Body) -> Response:
    status = (first(query, "status") or "open").lower()
    if status not in ("open", "closed", "all"):
        raise bad_request(f"invalid status: {status}")
    direction = (first(query, "direction") or "desc").lower()
    if direction not in ("asc", "desc"):
        raise bad_request(f"invalid direction: {direction}")
    try:
        limit = int(first(query, "limit") or 50)
    except ValueError as exc:
        raise bad_request("invalid limit") from exc
    limit = max(1, min(limit, MAX_ORDERS_LIMIT))
    after, until = first(query, "after"), first(query, "until")
    symbols = {s.upper() for raw in query.get("symbols", []) for s in raw.split(",") if s}
    side = first(query, "side")

    def keep(o: Order) -> bool:
        if (status == "open" and not o.is_open) or (status == "closed" and o.is_open):
            return False
        if after and o.submitted_at <= parse_time(after, "after"):
            return False
        if until and o.submitted_at >= parse_time(until, "until"):
            return False
        return (not symbols or o.symbol in symbols) and (not side or o.side == side)

    selected = [o for o in engine.orders() if keep(o)]
    selected.sort(key=lambda o: (o.submitted_at, o.seq), reverse=direction == "desc")
    return 200, [order_json(o) for o in selected[:limit]]


def _get_order(engine: PaperEngine, m: re.Match[str], _q: Query, _b: Body) -> Response:
    return 200, order_json(engine.get_order(m["order_id"]))


def _by_client_id(engine: PaperEngine, _m: re.Match[str], query: Query, _b: Body) -> Response:
    client_order_id = first(query, "client_order_id")
    if not client_order_id:
        raise bad_request("client_order_id is required")
    return 200, order_json(engine.get_order_by_client_id(client_order_id))


def _replace(engine: PaperEngine, m: re.Match[str], _q: Query, body: Body) -> Response:
    return 200, order_json(engine.replace_order(m["order_id"], _body(body)))


def _cancel(engine: PaperEngine, m: re.Match[str], _q: Query, _b: Body) -> Response:
    engine.cancel_order(m["order_id"])
    return 204, None


def _cancel_all(engine: PaperEngine, _m: re.Match[str], _q: Query, _b: Body) -> Response:
    canceled = engine.cancel_all()
    return 207, [{"id": o.id, "status": 200, "body": order_json(o)} for o in canceled]


def _bars(engine: PaperEngine, _m: re.Match[str], query: Query, _b: Body) -> Response:
    return 200, bars_response(engine, query)


def _quotes(engine: PaperEngine, _m: re.Match[str], query: Query, _b: Body) -> Response:
    return 200, latest_quotes_response(engine, query)


def _trades(engine: PaperEngine, _m: re.Match[str], query: Query, _b: Body) -> Response:
    return 200, latest_trades_response(engine, query)


def _oracle_orders(engine: PaperEngine, _m: re.Match[str], _q: Query, _b: Body) -> Response:
    orders = [order_json(o) for o in engine.orders()]
    return 200, {"orders": orders, "count": len(orders), "rejected_count": engine.rejected_count}


def _health(engine: PaperEngine, _m: re.Match[str], _q: Query, _b: Body) -> Response:
    return 200, {"status": "ok", "session": engine.session.session.isoformat()}


def _route(method: str, path: str, handler: Handler) -> Route:
    return Route(method, re.compile(f"^{path}$"), handler)


ROUTES: tuple[Route, ...] = (
    _route("GET", "/v2/clock", _clock),
    _route("GET", "/v2/calendar", _calendar),
    _route("GET", "/v2/account", _account),
    _route("GET", "/v2/assets", _assets),
    _route("GET", "/v2/assets/(?P<symbol>[^/]+)", _asset),
    _route("GET", "/v2/positions", _positions),
    _route("GET", "/v2/positions/(?P<symbol>[^/]+)", _position),
    _route("DELETE", "/v2/positions/(?P<symbol>[^/]+)", _close_position),
    _route("POST", "/v2/orders", _submit),
    _route("GET", "/v2/orders", _list_orders),
    _route("DELETE", "/v2/orders", _cancel_all),
    _route("GET", "/v2/orders:by_client_order_id", _by_client_id),
    _route("GET", "/v2/orders/(?P<order_id>[^/]+)", _get_order),
    _route("PATCH", "/v2/orders/(?P<order_id>[^/]+)", _replace),
    _route("DELETE", "/v2/orders/(?P<order_id>[^/]+)", _cancel),
    _route("GET", "/v2/stocks/bars", _bars),
    _route("GET", "/v2/stocks/quotes/latest", _quotes),
    _route("GET", "/v2/stocks/trades/latest", _trades),
    _route("GET", "/_exchange/orders", _oracle_orders),
    _route("GET", "/_exchange/health", _health),
)


def dispatch(engine: PaperEngine, method: str, path: str, query: Query, body: Body) -> Response:
    """Find the route for a request and run it; unknown routes raise 404."""
    path_known = False
    for route in ROUTES:
        match = route.pattern.match(path)
        if match is None:
            continue
        path_known = True
        if route.method == method:
            return route.handler(engine, match, query, body)
    if path_known:
        raise ExchangeRejectionError(405, 40510000, "method not allowed")
    raise not_found("endpoint not found", code=40410000)
