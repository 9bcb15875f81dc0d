"""Exchange configuration: the asset universe, the account seed and run options."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Literal

from paper_exchange.errors import ConfigError

AccountType = Literal["margin", "cash"]

# Values of alpaca-py's AssetExchange enum; anything else fails to parse client-side.
VALID_EXCHANGES = frozenset({"AMEX", "ARCA", "BATS", "NYSE", "NASDAQ", "NYSEARCA", "OTC"})


@dataclass(frozen=True)
class AssetSpec:
    """One listed symbol and the trading flags Alpaca reports for it."""

    symbol: str
    fractionable: bool = True
    tradable: bool = True
    exchange: str = "ARCA"


def _spec(symbol: str, exchange: str, *, fractionable: bool = True) -> AssetSpec:
    return AssetSpec(symbol=symbol, fractionable=fractionable, tradable=True, exchange=exchange)


DEFAULT_ASSETS: tuple[AssetSpec, ...] = (
    _spec("SPY", "ARCA"),
    _spec("QQQ", "NASDAQ"),
    _spec("TQQQ", "NASDAQ"),
    _spec("SQQQ", "NASDAQ"),
    _spec("TECL", "ARCA"),
    _spec("SOXL", "ARCA"),
    _spec("SOXS", "ARCA", fractionable=False),
    _spec("UVXY", "BATS", fractionable=False),
    _spec("VIXY", "BATS", fractionable=False),
    _spec("BIL", "ARCA"),
    _spec("SHV", "NASDAQ"),
    _spec("TLT", "NASDAQ"),
    _spec("TMF", "ARCA"),
    _spec("GLD", "ARCA"),
    _spec("IEF", "NASDAQ"),
    _spec("XLK", "ARCA"),
    _spec("XLE", "ARCA"),
    _spec("XLF", "ARCA"),
    _spec("AAPL", "NASDAQ"),
    _spec("MSFT", "NASDAQ"),
    _spec("NVDA", "NASDAQ"),
    _spec("AMZN", "NASDAQ"),
    _spec("GOOGL", "NASDAQ"),
    _spec("META", "NASDAQ"),
    _spec("TSLA", "NASDAQ"),
    _spec("BRK.B", "NYSE"),
    _spec("IWM", "ARCA"),
    _spec("VOO", "ARCA"),
    _spec("SPXL", "ARCA"),
    _spec("UPRO", "ARCA"),
    _spec("SPXU", "ARCA"),
    AssetSpec(symbol="DELIST", fractionable=False, tradable=False, exchange="NYSE"),
)


@dataclass(frozen=True)
class AccountSeed:
    """Starting cash and holdings of the single paper account."""

    cash: Decimal = Decimal("100000")
    positions: dict[str, Decimal] = field(default_factory=dict)
    account_type: AccountType = "margin"
    settlement_delay_seconds: float = 5.0


@dataclass(frozen=True)
class ExchangeConfig:
    """Everything that determines one exchange run; equal configs give equal markets."""

    seed: int = 7
    session: date | None = None
    minutes_after_open: int = 60
    history_start: date | None = None
    account: AccountSeed = field(default_factory=AccountSeed)
    fill_delay_seconds: float = 0.2
    partial_fills: int = 1
    bars_dir: Path | None = None
    assets: tuple[AssetSpec, ...] | None = None
    # Extra symbols SYN0001..SYNnnnn (fractionable, generated prices) for large rebalances.
    synthetic_assets: int = 0
    # Alpaca's per-minute request limit (per API: trading, data); None disables it.
    rate_limit_per_minute: int | None = None
    # None: a limit fills only when marketable. A number: a resting limit fills, at its own
    # price, once it is this far into the spread from the near touch (0 = at the near touch,
    # 1 = at the far touch, above 1 = never), so a test can pick the walk step that fills.
    limit_fill_fraction: Decimal | None = None
    # Symbols whose orders are accepted but never fill (a trading halt).
    halted: frozenset[str] = frozenset()
    # Where the account and every order persist between starts (None: in memory only). When
    # the file exists it wins over `account`; the seed opens a new account only.
    state_file: Path | None = None

    def __post_init__(self) -> None:
        if self.partial_fills < 1:
            raise ConfigError("partial_fills must be >= 1")
        if self.fill_delay_seconds < 0:
            raise ConfigError("fill_delay_seconds must be >= 0")
        if self.minutes_after_open < 0:
            raise ConfigError("minutes_after_open must be >= 0")
        if self.account.settlement_delay_seconds < 0:
            raise ConfigError("settlement_delay_seconds must be >= 0")
        if self.account.account_type not in ("margin", "cash"):
            raise ConfigError("account_type must be 'margin' or 'cash'")
        if self.synthetic_assets < 0 or self.synthetic_assets > 9999:
            raise ConfigError("synthetic_assets must be within 0..9999")
        if self.rate_limit_per_minute is not None and self.rate_limit_per_minute < 1:
            raise ConfigError("rate_limit_per_minute must be >= 1")
        if self.limit_fill_fraction is not None and self.limit_fill_fraction < 0:
            raise ConfigError("limit_fill_fraction must be >= 0")
        if self.account.cash < 0:
            raise ConfigError("cash must be >= 0")
        for symbol, qty in self.account.positions.items():
            if qty <= 0:
                raise ConfigError(f"position {symbol} must have a positive quantity")


def parse_decimal(raw: object, what: str) -> Decimal:
    """Parse a JSON or CLI value as a finite Decimal, or raise ConfigError."""
    if isinstance(raw, bool) or not isinstance(raw, str | int | float | Decimal):
        raise ConfigError(f"{what} must be a number, got {raw!r}")
    try:
        value = Decimal(str(raw))
    except InvalidOperation as exc:
        raise ConfigError(f"{what} must be a number, got {raw!r}") from exc
    if not value.is_finite():
        raise ConfigError(f"{what} must be finite, got {raw!r}")
    return value


def parse_account_type(raw: object) -> AccountType:
    """Validate an account type string."""
    if raw == "margin":
        return "margin"
    if raw == "cash":
        return "cash"
    raise ConfigError(f"account_type must be 'margin' or 'cash', got {raw!r}")


def _read_json(path: Path) -> object:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from exc
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path} is not valid JSON: {exc.msg}") from exc


def load_account_file(path: Path) -> AccountSeed:
    """Load an account seed from a JSON file (cash, positions, account_type, settlement)."""
    raw = _read_json(path)
    if not isinstance(raw, dict):
        raise ConfigError(f"{path} must hold a JSON object")
    positions_raw = raw.get("positions", {})
    if not isinstance(positions_raw, dict):
        raise ConfigError("positions must be an object of SYMBOL: quantity")
    positions = {
        str(sym).upper(): parse_decimal(qty, f"position {sym}")
        for sym, qty in positions_raw.items()
    }
    delay = raw.get("settlement_delay_seconds", 5)
    return AccountSeed(
        cash=parse_decimal(raw.get("cash", "100000"), "cash"),
        positions=positions,
        account_type=parse_account_type(raw.get("account_type", "margin")),
        settlement_delay_seconds=float(parse_decimal(delay, "settlement_delay_seconds")),
    )


def load_assets_file(path: Path) -> tuple[AssetSpec, ...]:
    """Load the asset universe from a JSON list of {symbol, fractionable, tradable, exchange}."""
    raw = _read_json(path)
    if not isinstance(raw, list) or not raw:
        raise ConfigError(f"{path} must hold a non-empty JSON list of assets")
    specs: list[AssetSpec] = []
    for item in raw:
        if not isinstance(item, dict) or not isinstance(item.get("symbol"), str):
            raise ConfigError(f"each asset needs a string symbol, got {item!r}")
        exchange = str(item.get("exchange", "ARCA"))
        if exchange not in VALID_EXCHANGES:
            raise ConfigError(f"asset {item['symbol']}: unknown exchange {exchange!r}")
        specs.append(
            AssetSpec(
                symbol=item["symbol"].upper(),
                fractionable=bool(item.get("fractionable", True)),
                tradable=bool(item.get("tradable", True)),
                exchange=exchange,
            )
        )
    return tuple(specs)


def synthetic_specs(count: int) -> tuple[AssetSpec, ...]:
    """Return `count` generated symbols, SYN0001 upwards."""
    return tuple(AssetSpec(symbol=f"SYN{i:04d}") for i in range(1, count + 1))
