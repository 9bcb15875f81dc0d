"""Fault injection: the exchange misbehaving on purpose, switchable at start and at runtime.

A `FaultSet` is plain data parsed from JSON (the ``--faults`` flag, ``POST /_exchange/faults``);
`Faults` holds the current set, decides per request with a seeded RNG and counts what it did.
Faults touch only the ``/v2`` API, never the ``/_exchange`` admin routes, so the order log
oracle always tells the truth:

- ``errors``: a fraction of requests answered 500 (JSON) or 502/503 (an HTML proxy page)
  before they reach the engine, so nothing is applied;
- ``burst_429``: the next N requests answered 429 with ``Retry-After``;
- ``delay``: requests held for some seconds before they are served;
- ``lost_responses``: the request is applied (an order accepted, a replace done) but its
  response is replaced by an HTML 504 or the connection is dropped without one;
- ``stale_quotes``: latest quotes and trades stamped this many seconds in the past;
- ``html``: a route answers an HTML page instead of JSON;
- ``missing_fields``: a route's JSON loses the named keys;
- ``halted``: symbols whose orders are accepted but never fill (applied by the engine);
- ``untradable``: symbols the venue suspended: their asset reports ``tradable: false`` and
  their orders (new or replacing) are refused with 403 ``asset X is not tradable`` (engine);
- ``crossed_quotes``: these symbols' latest quotes come back crossed (bid above ask) or zero
  for `seconds` of exchange time from when the fault is set (none: they stay that way).
"""

from __future__ import annotations

import json
import random
import threading
from collections import Counter
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from paper_exchange.errors import ConfigError

LostMode = Literal["504", "drop"]
ERROR_STATUSES = frozenset({500, 502, 503, 504})
DEFAULT_LOST_ROUTES = ("POST /v2/orders",)
MAX_DELAY_SECONDS = 120.0
HTML_GATEWAY_TIMEOUT = (
    "<html><head><title>504 Gateway Time-out</title></head><body><center>"
    "<h1>504 Gateway Time-out</h1></center><hr><center>nginx</center></body></html>"
)


def html_page(status: int, title: str) -> str:
    """Return the kind of error page a proxy or load balancer sends."""
    return (
        f"<html><head><title>{status} {title}</title></head><body><center><h1>{status} {title}"
        "</h1></center><hr><center>nginx</center></body></html>"
    )


@dataclass(frozen=True)
class ErrorFault:
    """Answer a fraction of requests with a server error, before the engine sees them."""

    rate: float = 0.0
    statuses: tuple[int, ...] = (500, 503)
    routes: tuple[str, ...] = ()


@dataclass(frozen=True)
class BurstFault:
    """Answer the next `count` requests with 429."""

    count: int = 0
    retry_after: float = 1.0
    routes: tuple[str, ...] = ()


@dataclass(frozen=True)
class DelayFault:
    """Hold requests `seconds` before serving them."""

    seconds: float = 0.0
    routes: tuple[str, ...] = ()


@dataclass(frozen=True)
class LostFault:
    """Apply a request, then lose its response: the next `count`, and a `rate` of the rest."""

    mode: LostMode = "504"
    count: int = 0
    rate: float = 0.0
    routes: tuple[str, ...] = DEFAULT_LOST_ROUTES


@dataclass(frozen=True)
class HtmlFault:
    """Answer these routes with an HTML page (status `status`) instead of JSON."""

    routes: tuple[str, ...] = ()
    status: int = 200


@dataclass(frozen=True)
class CrossedFault:
    """Serve these symbols' latest quotes crossed (or zero) for `seconds`; None: for good."""

    symbols: tuple[str, ...] = ()
    seconds: float | None = None
    zero: bool = False


@dataclass(frozen=True)
class FaultSet:
    """Every fault, off by default; routes are keys like ``POST /v2/orders`` (empty = all)."""

    seed: int = 0
    errors: ErrorFault = field(default_factory=ErrorFault)
    burst_429: BurstFault = field(default_factory=BurstFault)
    delay: DelayFault = field(default_factory=DelayFault)
    lost_responses: LostFault = field(default_factory=LostFault)
    stale_quotes_seconds: float = 0.0
    html: HtmlFault = field(default_factory=HtmlFault)
    missing_fields: dict[str, tuple[str, ...]] = field(default_factory=dict)
    halted: tuple[str, ...] = ()
    untradable: tuple[str, ...] = ()
    crossed_quotes: CrossedFault = field(default_factory=CrossedFault)

    def to_json(self) -> dict[str, Any]:
        """Return the set as the JSON the admin endpoint accepts (lists, not tuples)."""
        result: dict[str, Any] = json.loads(json.dumps(asdict(self)))
        return result


@dataclass(frozen=True)
class Decision:
    """What to do with one request before the engine sees it."""

    delay_seconds: float = 0.0
    status: int | None = None
    """A status to answer instead of serving (error or 429); None: serve it."""
    retry_after: float | None = None


@dataclass(frozen=True)
class Outcome:
    """What to do with a served request's response."""

    lost: LostMode | None = None
    html_status: int | None = None
    strip: tuple[str, ...] = ()
    stale_seconds: float = 0.0
    crossed: tuple[str, ...] = ()
    zero: bool = False


def _number(raw: object, what: str, low: float, high: float) -> float:
    # The server parses JSON floats as Decimal; the CLI and Python callers pass floats.
    if isinstance(raw, bool) or not isinstance(raw, int | float | Decimal):
        raise ConfigError(f"faults: {what} must be a number, got {raw}")
    value = float(raw)
    if not low <= value <= high:
        raise ConfigError(f"faults: {what} must be within {low}..{high}, got {raw}")
    return value


def _count(raw: object, what: str) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int) or raw < 0:
        raise ConfigError(f"faults: {what} must be a whole number >= 0, got {raw!r}")
    return raw


def _strings(raw: object, what: str) -> tuple[str, ...]:
    if not isinstance(raw, list) or not all(isinstance(s, str) and s for s in raw):
        raise ConfigError(f"faults: {what} must be a list of strings, got {raw!r}")
    return tuple(raw)


def _section(raw: dict[str, Any], key: str, allowed: set[str]) -> dict[str, Any]:
    section = raw.get(key, {})
    if not isinstance(section, dict):
        raise ConfigError(f"faults: {key} must be an object, got {section!r}")
    unknown = set(section) - allowed
    if unknown:
        raise ConfigError(f"faults: unknown {key} field(s): {', '.join(sorted(unknown))}")
    return section


def parse_faults(raw: object) -> FaultSet:
    """Validate a fault set from JSON; anything unknown or out of range is a ConfigError."""
    if not isinstance(raw, dict):
        raise ConfigError(f"faults must be a JSON object, got {raw!r}")
    known = set(FaultSet.__dataclass_fields__)
    unknown = set(raw) - known
    if unknown:
        raise ConfigError(f"faults: unknown field(s): {', '.join(sorted(unknown))}")
    err = _section(raw, "errors", {"rate", "statuses", "routes"})
    statuses = tuple(int(_count(s, "errors.statuses")) for s in err.get("statuses", [500, 503]))
    if not statuses or not set(statuses) <= ERROR_STATUSES:
        raise ConfigError(f"faults: errors.statuses must be some of {sorted(ERROR_STATUSES)}")
    burst = _section(raw, "burst_429", {"count", "retry_after", "routes"})
    delay = _section(raw, "delay", {"seconds", "routes"})
    lost = _section(raw, "lost_responses", {"mode", "count", "rate", "routes"})
    mode = lost.get("mode", "504")
    if mode not in ("504", "drop"):
        raise ConfigError(f"faults: lost_responses.mode must be '504' or 'drop', got {mode!r}")
    html = _section(raw, "html", {"routes", "status"})
    crossed = _section(raw, "crossed_quotes", {"symbols", "seconds", "zero"})
    crossed_seconds = crossed.get("seconds")
    zero = crossed.get("zero", False)
    if not isinstance(zero, bool):
        raise ConfigError(f"faults: crossed_quotes.zero must be true or false, got {zero!r}")
    missing = raw.get("missing_fields", {})
    if not isinstance(missing, dict):
        raise ConfigError("faults: missing_fields must map a route to a list of keys")
    return FaultSet(
        seed=_count(raw.get("seed", 0), "seed"),
        errors=ErrorFault(
            rate=_number(err.get("rate", 0.0), "errors.rate", 0, 1),
            statuses=statuses,
            routes=_strings(err.get("routes", []), "errors.routes"),
        ),
        burst_429=BurstFault(
            count=_count(burst.get("count", 0), "burst_429.count"),
            retry_after=_number(burst.get("retry_after", 1.0), "burst_429.retry_after", 0, 60),
            routes=_strings(burst.get("routes", []), "burst_429.routes"),
        ),
        delay=DelayFault(
            seconds=_number(delay.get("seconds", 0.0), "delay.seconds", 0, MAX_DELAY_SECONDS),
            routes=_strings(delay.get("routes", []), "delay.routes"),
        ),
        lost_responses=LostFault(
            mode="drop" if mode == "drop" else "504",
            count=_count(lost.get("count", 0), "lost_responses.count"),
            rate=_number(lost.get("rate", 0.0), "lost_responses.rate", 0, 1),
            routes=_strings(lost.get("routes", list(DEFAULT_LOST_ROUTES)), "lost_responses.routes"),
        ),
        stale_quotes_seconds=_number(
            raw.get("stale_quotes_seconds", 0.0), "stale_quotes_seconds", 0, 10 * 365 * 86400
        ),
        html=HtmlFault(
            routes=_strings(html.get("routes", []), "html.routes"),
            status=int(_number(html.get("status", 200), "html.status", 200, 599)),
        ),
        missing_fields={
            str(route): _strings(keys, f"missing_fields[{route}]")
            for route, keys in missing.items()
        },
        halted=tuple(s.upper() for s in _strings(raw.get("halted", []), "halted")),
        untradable=tuple(s.upper() for s in _strings(raw.get("untradable", []), "untradable")),
        crossed_quotes=CrossedFault(
            symbols=tuple(
                s.upper() for s in _strings(crossed.get("symbols", []), "crossed_quotes.symbols")
            ),
            seconds=None
            if crossed_seconds is None
            else _number(crossed_seconds, "crossed_quotes.seconds", 0, 86_400),
            zero=zero,
        ),
    )


def _matches(routes: tuple[str, ...], route: str) -> bool:
    return not routes or route in routes


class Faults:
    """The current fault set, the RNG its fractions draw from, and counts of what fired."""

    def __init__(self, initial: FaultSet | None = None, now: datetime | None = None) -> None:
        self._lock = threading.Lock()
        self._set = FaultSet()
        self._rng = random.Random(0)
        self._since: datetime | None = None
        self.injected: Counter[str] = Counter()
        self.configure(initial or FaultSet(), now)

    @property
    def current(self) -> FaultSet:
        """Return the set in force (counts show what is left of bursts and lost responses)."""
        with self._lock:
            return self._set

    def configure(self, faults: FaultSet, now: datetime | None = None) -> None:
        """Replace the whole set and reseed the RNG; counters keep counting.

        `now` (exchange time) starts timed faults; without it they start at their first use.
        """
        with self._lock:
            self._set = faults
            self._rng = random.Random(faults.seed)
            self._since = now

    def status(self) -> dict[str, Any]:
        """Return the current set and the counters, for ``GET /_exchange/faults``."""
        with self._lock:
            return {"faults": self._set.to_json(), "injected": dict(sorted(self.injected.items()))}

    def before(self, route: str) -> Decision:
        """Decide, before serving, whether to delay the request or answer it with an error."""
        with self._lock:
            f = self._set
            delay = f.delay.seconds if _matches(f.delay.routes, route) else 0.0
            if delay:
                self.injected["delay"] += 1
            if f.burst_429.count and _matches(f.burst_429.routes, route):
                self._set = replace(f, burst_429=replace(f.burst_429, count=f.burst_429.count - 1))
                self.injected["429"] += 1
                return Decision(delay, 429, f.burst_429.retry_after)
            errs = f.errors
            if errs.rate and _matches(errs.routes, route) and self._rng.random() < errs.rate:
                status = self._rng.choice(errs.statuses)
                self.injected[f"error_{status}"] += 1
                return Decision(delay, status)
            return Decision(delay)

    def after(self, route: str, status: int, now: datetime | None = None) -> Outcome:
        """Decide what happens to a served request's response (`now`: exchange time)."""
        with self._lock:
            f = self._set
            lost: LostMode | None = None
            rule = f.lost_responses
            if 200 <= status < 300 and _matches(rule.routes, route):
                if rule.count:
                    self._set = f = replace(f, lost_responses=replace(rule, count=rule.count - 1))
                    lost = rule.mode
                elif rule.rate and self._rng.random() < rule.rate:
                    lost = rule.mode
            if lost is not None:
                self.injected[f"lost_{lost}"] += 1
                return Outcome(lost=lost)
            html = f.html.status if route in f.html.routes else None
            strip = f.missing_fields.get(route, ())
            stale = f.stale_quotes_seconds if route in QUOTE_ROUTES else 0.0
            crossed = self._crossed(route, now)
            for fired, name in (
                (html, "html"),
                (strip, "missing_fields"),
                (stale, "stale"),
                (crossed, "crossed"),
            ):
                if fired:
                    self.injected[name] += 1
            return Outcome(
                html_status=html,
                strip=strip,
                stale_seconds=stale,
                crossed=crossed,
                zero=f.crossed_quotes.zero,
            )

    def _crossed(self, route: str, now: datetime | None) -> tuple[str, ...]:
        rule = self._set.crossed_quotes
        if route != LATEST_QUOTES or not rule.symbols:
            return ()
        if rule.seconds is None:
            return rule.symbols
        if now is None:
            return ()
        if self._since is None:
            self._since = now
        return rule.symbols if (now - self._since).total_seconds() < rule.seconds else ()


LATEST_QUOTES = "GET /v2/stocks/quotes/latest"
QUOTE_ROUTES = frozenset({LATEST_QUOTES, "GET /v2/stocks/trades/latest"})
CROSSED_BY = 1.02
"""A crossed quote's bid sits this far above its ask (real ones seen were about 2% over)."""


def cross_quotes(payload: Any, symbols: tuple[str, ...], zero: bool) -> None:
    """Make these symbols' latest quotes crossed (bid over ask), or zero on both sides."""
    quotes = payload.get("quotes") if isinstance(payload, dict) else None
    for symbol in symbols:
        item = (quotes or {}).get(symbol)
        if item is None:
            continue
        if zero:
            item["bp"], item["ap"] = 0.0, 0.0
        else:
            item["bp"] = round(float(item["ap"]) * CROSSED_BY, 2)


def strip_fields(payload: Any, keys: tuple[str, ...], depth: int = 3) -> Any:
    """Return `payload` without `keys` in any object up to `depth` levels down."""
    if depth < 0:
        return payload
    if isinstance(payload, list):
        return [strip_fields(item, keys, depth - 1) for item in payload]
    if isinstance(payload, dict):
        return {k: strip_fields(v, keys, depth - 1) for k, v in payload.items() if k not in keys}
    return payload
