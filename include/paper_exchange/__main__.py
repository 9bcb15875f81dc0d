"""Command line: ``python -m paper_exchange --port 0`` starts the paper exchange.

Prints exactly one line, ``alchemiser-exchange listening on http://HOST:PORT``, once bound;
logs requests to stderr; exits 0 on SIGTERM or SIGINT and 2 on bad arguments.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from types import FrameType

from paper_exchange.config import (
    AccountSeed,
    ExchangeConfig,
    load_account_file,
    load_assets_file,
    parse_account_type,
    parse_decimal,
)
from paper_exchange.errors import ConfigError
from paper_exchange.faults import FaultSet, parse_faults
from paper_exchange.server import PaperExchange


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m paper_exchange", description=__doc__)
    p.add_argument("--host", default="127.0.0.1", help="loopback address to bind")
    p.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow a non-loopback --host; only inside a private network such as "
        "docker-compose's, since the exchange accepts any credentials",
    )
    p.add_argument("--port", type=int, default=0, help="port (0 picks a free one)")
    p.add_argument("--seed", type=int, default=7, help="price generator seed")
    p.add_argument("--session", type=date.fromisoformat, help="XNYS session to simulate")
    p.add_argument("--minutes-after-open", type=int, default=60)
    p.add_argument("--history-start", type=date.fromisoformat, help="first generated bar date")
    p.add_argument("--account", type=Path, help="account seed JSON file")
    p.add_argument(
        "--state",
        type=Path,
        metavar="FILE",
        help="keep the account and its orders in FILE between starts (created if absent; "
        "when it exists, it wins over --account, --cash and --position)",
    )
    p.add_argument("--cash", help="starting cash (default 100000)")
    p.add_argument("--position", action="append", default=[], metavar="SYM=QTY", help="repeatable")
    p.add_argument("--account-type", choices=["margin", "cash"])
    p.add_argument("--settlement-delay", type=float, help="seconds until sale proceeds settle")
    p.add_argument("--fill-delay", type=float, default=0.2, help="seconds before a fill")
    p.add_argument("--partial-fills", type=int, default=1, help="fill each order in N chunks")
    p.add_argument("--bars-dir", type=Path, help="directory of <SYMBOL>.csv daily bars")
    p.add_argument("--assets", type=Path, help="JSON list of assets")
    p.add_argument(
        "--synthetic-assets", type=int, default=0, metavar="N", help="add SYN0001..SYN<N>"
    )
    p.add_argument("--rate-limit", type=int, metavar="N", help="requests per minute, then 429")
    p.add_argument(
        "--limit-fill-fraction",
        metavar="F",
        help="resting limits fill at their price once F of the spread in from the near touch",
    )
    p.add_argument("--halt", action="append", default=[], metavar="SYM", help="never fills")
    f = p.add_argument_group(
        "faults", "misbehave on purpose; also at runtime: POST /_exchange/faults with the JSON"
    )
    f.add_argument("--faults", metavar="JSON|@FILE", help="a whole fault set as JSON")
    f.add_argument("--fault-seed", type=int, help="seed of the fault RNG")
    f.add_argument("--error-rate", type=float, metavar="F", help="answer F of requests 500/503")
    f.add_argument(
        "--error-status", type=int, action="append", metavar="CODE", help="500/502/503/504"
    )
    f.add_argument("--burst-429", type=int, metavar="N", help="answer the next N requests 429")
    f.add_argument("--delay", type=float, metavar="S", help="hold every request S seconds")
    f.add_argument(
        "--lose-order-responses",
        type=int,
        metavar="N",
        help="accept the next N order submissions but lose their responses",
    )
    f.add_argument("--lost-mode", choices=["504", "drop"], help="HTML 504 or a dropped connection")
    f.add_argument("--stale-quotes", type=float, metavar="S", help="quotes S seconds old")
    f.add_argument("--html-route", action="append", metavar="ROUTE", help="e.g. 'GET /v2/account'")
    return p


def _read_faults_arg(raw: str) -> object:
    text = raw
    if raw.startswith("@"):
        try:
            text = Path(raw[1:]).read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot read {raw[1:]}: {exc.strerror}") from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"--faults is not valid JSON: {exc.msg}") from exc


def build_faults(args: argparse.Namespace) -> FaultSet:  # noqa: C901 - one flat branch per fault flag
    """Merge --faults and the single-fault flags (the flags win) into one FaultSet."""
    raw = _read_faults_arg(args.faults) if args.faults else {}
    if not isinstance(raw, dict):
        raise ConfigError("--faults must be a JSON object")

    def section(name: str) -> dict[str, object]:
        value = raw.setdefault(name, {})
        if not isinstance(value, dict):
            raise ConfigError(f"--faults: {name} must be an object")
        return value

    if args.fault_seed is not None:
        raw["seed"] = args.fault_seed
    if args.error_rate is not None:
        section("errors")["rate"] = args.error_rate
    if args.error_status:
        section("errors")["statuses"] = args.error_status
    if args.burst_429 is not None:
        section("burst_429")["count"] = args.burst_429
    if args.delay is not None:
        section("delay")["seconds"] = args.delay
    if args.lose_order_responses is not None:
        section("lost_responses")["count"] = args.lose_order_responses
    if args.lost_mode is not None:
        section("lost_responses")["mode"] = args.lost_mode
    if args.stale_quotes is not None:
        raw["stale_quotes_seconds"] = args.stale_quotes
    if args.html_route:
        section("html")["routes"] = args.html_route
    return parse_faults(raw)


def _account(args: argparse.Namespace) -> AccountSeed:
    if args.account is not None:
        if args.cash is not None or args.position:
            raise ConfigError("--account cannot be combined with --cash or --position")
        seed = load_account_file(args.account)
    else:
        positions: dict[str, Decimal] = {}
        for item in args.position:
            symbol, sep, qty = item.partition("=")
            if not sep or not symbol:
                raise ConfigError(f"--position must look like SYM=QTY, got {item!r}")
            positions[symbol.strip().upper()] = parse_decimal(qty, f"--position {symbol}")
        cash = parse_decimal(args.cash, "--cash") if args.cash is not None else Decimal(100000)
        seed = AccountSeed(cash=cash, positions=positions)
    if args.account_type is not None:
        seed = replace(seed, account_type=parse_account_type(args.account_type))
    if args.settlement_delay is not None:
        seed = replace(seed, settlement_delay_seconds=args.settlement_delay)
    return seed


def build_config(args: argparse.Namespace) -> ExchangeConfig:
    """Turn parsed arguments into an ExchangeConfig, or raise ConfigError."""
    return ExchangeConfig(
        seed=args.seed,
        session=args.session,
        minutes_after_open=args.minutes_after_open,
        history_start=args.history_start,
        account=_account(args),
        fill_delay_seconds=args.fill_delay,
        partial_fills=args.partial_fills,
        bars_dir=args.bars_dir,
        assets=load_assets_file(args.assets) if args.assets is not None else None,
        synthetic_assets=args.synthetic_assets,
        rate_limit_per_minute=args.rate_limit,
        limit_fill_fraction=(
            parse_decimal(args.limit_fill_fraction, "--limit-fill-fraction")
            if args.limit_fill_fraction is not None
            else None
        ),
        halted=frozenset(s.upper() for s in args.halt),
        state_file=args.state,
    )


def main(argv: list[str] | None = None) -> int:
    """Run the exchange until SIGTERM or SIGINT."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        exchange = PaperExchange(
            build_config(args),
            host=args.host,
            port=args.port,
            log_requests=True,
            allow_remote=args.allow_remote,
            faults=build_faults(args),
        )
    except (ConfigError, ValueError) as exc:
        parser.error(str(exc))  # exits 2
    except OSError as exc:
        parser.error(f"cannot bind {args.host}:{args.port}: {exc.strerror}")
    stopping = threading.Event()

    def _stop(_signum: int, _frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    if args.state is not None:
        origin = "restored from" if exchange.engine.restored else "new; kept in"
        sys.stderr.write(f"account {origin} {args.state}\n")
    url = exchange.start()
    sys.stdout.write(f"alchemiser-exchange listening on {url}\n")
    sys.stdout.flush()
    while not stopping.wait(0.5):
        pass
    exchange.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
