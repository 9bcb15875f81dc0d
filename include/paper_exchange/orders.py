"""Order records and the stateless validation of order and replace requests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_DOWN, Decimal, InvalidOperation
from typing import Literal

from paper_exchange.config import AssetSpec
from paper_exchange.errors import ExchangeRejectionError, forbidden, unprocessable
from paper_exchange.prices import Quote, is_on_tick

Side = Literal["buy", "sell"]
OrderKind = Literal["market", "limit"]

QTY_QUANTUM = Decimal("0.000000001")  # Alpaca accepts up to 9 decimal places
MAX_CLIENT_ORDER_ID = 128
MIN_NOTIONAL = Decimal(1)
OPEN_STATUSES = frozenset({"new", "accepted", "partially_filled"})
SUPPORTED_TIF = frozenset({"day", "gtc"})
INVALID_PARAM = 40010001


@dataclass
class Order:
    """One order as the exchange keeps it; timestamps are simulated UTC times."""

    seq: int
    id: str
    client_order_id: str
    symbol: str
    asset_id: str
    side: Side
    kind: OrderKind
    time_in_force: str
    qty: Decimal | None
    notional: Decimal | None
    limit_price: Decimal | None
    extended_hours: bool
    status: str
    created_at: datetime
    updated_at: datetime
    submitted_at: datetime
    filled_at: datetime | None = None
    canceled_at: datetime | None = None
    replaced_at: datetime | None = None
    replaced_by: str | None = None
    replaces: str | None = None
    filled_qty: Decimal = Decimal(0)
    filled_cost: Decimal = Decimal(0)
    # Quantity to fill in total; for notional orders it is fixed at the first fill.
    target_qty: Decimal | None = None
    # Per-share amount reserved from buying power by a market buy (ask plus buffer).
    reserve_price: Decimal | None = None
    # Shares a notional sell holds back from the position until it fills.
    held_qty: Decimal | None = None
    chunks_done: int = 0
    # Real time of the next fill attempt; None while waiting for a market open.
    next_eval_at: datetime | None = None

    @property
    def is_open(self) -> bool:
        """Return whether the order can still fill, be canceled or replaced."""
        return self.status in OPEN_STATUSES

    @property
    def remaining_qty(self) -> Decimal | None:
        """Return the unfilled quantity, or None for a notional order not yet sized."""
        if self.target_qty is None:
            return None
        return self.target_qty - self.filled_qty

    @property
    def filled_avg_price(self) -> Decimal | None:
        """Return the volume-weighted average fill price."""
        if self.filled_qty == 0:
            return None
        return (self.filled_cost / self.filled_qty).quantize(QTY_QUANTUM)


@dataclass(frozen=True)
class OrderRequest:
    """A syntactically valid new-order request (state-dependent rules not yet applied)."""

    symbol: str
    side: Side
    kind: OrderKind
    time_in_force: str
    qty: Decimal | None
    notional: Decimal | None
    limit_price: Decimal | None
    extended_hours: bool
    client_order_id: str | None


def _decimal(payload: dict[str, object], key: str) -> Decimal | None:
    raw = payload.get(key)
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, str | int | float | Decimal):
        raise unprocessable(f"invalid {key}", INVALID_PARAM)
    try:
        value = Decimal(str(raw))
    except InvalidOperation as exc:
        raise unprocessable(f"invalid {key}", INVALID_PARAM) from exc
    if not value.is_finite():
        raise unprocessable(f"invalid {key}", INVALID_PARAM)
    return value


def _choice(payload: dict[str, object], key: str, default: object = None) -> str:
    raw = payload.get(key, default)
    if not isinstance(raw, str) or not raw:
        raise unprocessable(f"{key} is required", INVALID_PARAM)
    return raw.lower()


def check_limit_price(limit_price: Decimal | None, kind: str) -> None:
    """Apply the limit price rules: required for limits, positive, on Alpaca's tick."""
    if kind == "limit" and limit_price is None:
        raise unprocessable("limit_price is required for limit orders", INVALID_PARAM)
    if kind == "market" and limit_price is not None:
        raise unprocessable("limit_price must not be given for market orders", INVALID_PARAM)
    if limit_price is None:
        return
    if limit_price <= 0:
        raise unprocessable("limit_price must be > 0", INVALID_PARAM)
    if not is_on_tick(limit_price):
        raise unprocessable(
            f"invalid limit_price {limit_price}. sub-penny increment does not fulfill minimum "
            "pricing criteria"
        )


def check_client_order_id(client_order_id: object) -> str | None:
    """Validate an optional client order id."""
    if client_order_id is None or client_order_id == "":
        return None
    if not isinstance(client_order_id, str):
        raise unprocessable("client_order_id must be a string", INVALID_PARAM)
    if len(client_order_id) > MAX_CLIENT_ORDER_ID:
        raise unprocessable(
            f"client_order_id must be no more than {MAX_CLIENT_ORDER_ID} characters", INVALID_PARAM
        )
    return client_order_id


def check_qty(qty: Decimal, asset: AssetSpec, time_in_force: str) -> None:
    """Apply quantity rules: positive, at most 9 decimals, fractional only where allowed."""
    if qty <= 0:
        raise unprocessable("qty must be > 0", INVALID_PARAM)
    if qty != qty.quantize(QTY_QUANTUM, rounding=ROUND_DOWN):
        raise unprocessable("qty must have at most 9 decimal places", INVALID_PARAM)
    if qty != qty.to_integral_value():
        if not asset.fractionable:
            raise unprocessable(f"fractional orders are not supported for asset {asset.symbol}")
        if time_in_force != "day":
            raise unprocessable("fractional orders must be DAY orders")


def parse_order_request(  # noqa: C901 - one flat check per field of Alpaca's order body
    payload: dict[str, object], assets: dict[str, AssetSpec]
) -> tuple[OrderRequest, AssetSpec]:
    """Validate a POST /v2/orders body against rules that need no account state."""
    raw_symbol = payload.get("symbol")
    if not isinstance(raw_symbol, str) or not raw_symbol:
        raise unprocessable("symbol is required", INVALID_PARAM)
    symbol = raw_symbol.upper()
    asset = assets.get(symbol)
    if asset is None:
        raise unprocessable(f'asset "{symbol}" not found', INVALID_PARAM)
    side = _choice(payload, "side")
    if side not in ("buy", "sell"):
        raise unprocessable(f"invalid side {side!r}", INVALID_PARAM)
    kind = _choice(payload, "type", payload.get("order_type"))
    if kind not in ("market", "limit"):
        raise unprocessable(f"order type {kind!r} is not supported by the paper exchange")
    order_class = payload.get("order_class") or "simple"
    if order_class != "simple":
        raise unprocessable(f"order_class {order_class!r} is not supported by the paper exchange")
    tif = _choice(payload, "time_in_force")
    if tif not in SUPPORTED_TIF:
        raise unprocessable(f"time_in_force {tif!r} is not supported by the paper exchange")
    extended_hours = payload.get("extended_hours") is True
    if extended_hours and (kind != "limit" or tif != "day"):
        raise unprocessable("extended hours orders must be DAY limit orders")
    if not asset.tradable:
        raise unprocessable(f"asset {symbol} is not tradable")
    qty, notional = _decimal(payload, "qty"), _decimal(payload, "notional")
    limit_price = _decimal(payload, "limit_price")
    if qty is not None and notional is not None:
        raise unprocessable("only one of qty or notional may be specified", INVALID_PARAM)
    if qty is None and notional is None:
        raise unprocessable("qty or notional is required", INVALID_PARAM)
    if qty is not None:
        check_qty(qty, asset, tif)
    if notional is not None:
        check_notional(notional, asset, kind, tif)
    check_limit_price(limit_price, kind)
    request = OrderRequest(
        symbol=symbol,
        side="buy" if side == "buy" else "sell",
        kind="market" if kind == "market" else "limit",
        time_in_force=tif,
        qty=qty,
        notional=notional,
        limit_price=limit_price,
        extended_hours=extended_hours,
        client_order_id=check_client_order_id(payload.get("client_order_id")),
    )
    return request, asset


def check_notional(notional: Decimal, asset: AssetSpec, kind: str, tif: str) -> None:
    """Apply notional rules: market DAY orders on fractionable assets, at least $1."""
    if notional <= 0:
        raise unprocessable("notional must be > 0", INVALID_PARAM)
    if kind != "market":
        raise unprocessable("notional orders are only supported for market orders")
    if not asset.fractionable:
        raise unprocessable(f"fractional orders are not supported for asset {asset.symbol}")
    if tif != "day":
        raise unprocessable("fractional orders must be DAY orders")
    if notional < MIN_NOTIONAL:
        raise forbidden("cost basis must be >= 1")


def terminal_state(order: Order) -> ExchangeRejectionError:
    """Build the rejection for acting on an order that can no longer change."""
    return unprocessable(f'order is already in "{order.status}" state')


def parse_replace_request(payload: dict[str, object], old: Order, asset: AssetSpec) -> OrderRequest:
    """Build the replacement request for PATCH /v2/orders/{id} from the old order."""
    tif = str(payload.get("time_in_force") or old.time_in_force).lower()
    if tif not in SUPPORTED_TIF:
        raise unprocessable(f"time_in_force {tif!r} is not supported by the paper exchange")
    qty = _decimal(payload, "qty")
    limit_price = _decimal(payload, "limit_price")
    if old.notional is not None and qty is not None:
        raise unprocessable("qty cannot be replaced on a notional order", INVALID_PARAM)
    if qty is None and old.qty is not None:
        qty = old.qty - old.filled_qty
    if qty is not None:
        check_qty(qty, asset, tif)
    limit_price = limit_price if limit_price is not None else old.limit_price
    check_limit_price(limit_price, old.kind)
    return OrderRequest(
        symbol=old.symbol,
        side=old.side,
        kind=old.kind,
        time_in_force=tif,
        qty=qty,
        notional=old.notional,
        limit_price=limit_price,
        extended_hours=old.extended_hours,
        client_order_id=check_client_order_id(payload.get("client_order_id")),
    )


def limit_fill(
    order: Order, quote: Quote, touch: Decimal, threshold: Decimal | None
) -> tuple[bool, Decimal]:
    """Return whether a limit order fills against `quote` now, and at what price.

    Without a threshold a limit fills at the touch once marketable. With one, it fills at its
    own price once it is `threshold` of the spread in from the near touch (above 1: never).
    """
    limit = order.limit_price
    assert limit is not None
    crosses = touch <= limit if order.side == "buy" else touch >= limit
    if threshold is None or crosses:
        return crosses and (threshold is None or threshold <= 1), touch
    spread = quote.ask - quote.bid
    depth = (limit - quote.bid if order.side == "buy" else quote.ask - limit) / spread
    return depth >= threshold, limit
