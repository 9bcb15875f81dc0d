"""`ledger show`: what was intended, sent and filled for one trading session.

Reads the trade ledger where the runs wrote it, chosen as `make run` chooses (see cli.store):
the local state folder unless S3 is configured or asked for.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from decimal import Decimal

from alchemiser.bootstrap import build_clock
from alchemiser.cli.sources import open_store
from alchemiser.cli.store import add_store_args
from alchemiser.domain.errors import ConfigError
from alchemiser.domain.keys import LEDGER_ROOT
from alchemiser.domain.report import object_uri
from alchemiser.ledger.ledger import TradeLedger
from alchemiser.ports import ObjectStore


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `ledger` subcommand (with `show`)."""
    parser = sub.add_parser("ledger", help="inspect the trade ledger", description=__doc__)
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    show = actions.add_parser("show", help="print one session's intents, orders and fills")
    show.add_argument("--session", required=True, type=date.fromisoformat, metavar="YYYY-MM-DD")
    show.add_argument("--account", help="account id (default: the only one in the ledger)")
    add_store_args(show)
    show.add_argument("--format", choices=("table", "json"), default="table")
    show.set_defaults(handler=_show)


def _show(args: argparse.Namespace) -> int:
    store = open_store(args)
    account = args.account or _only_account(store)
    ledger = TradeLedger(store, account, build_clock())
    session: date = args.session
    entries = ledger.entries(session)
    if args.format == "json":
        payload = [json.loads(e.model_dump_json()) for e in entries]
        sys.stdout.write(json.dumps(payload, indent=2) + "\n")
        return 0
    done = ledger.rebalanced_by(session)
    lines = [
        f"ledger of account {account}, session {session}: {len(entries)} intents"
        + (f", rebalanced by {done.run_id}" if done else ""),
        "",
        f"{'client order id':<34} {'side':<4} {'symbol':<6} {'state':<9} {'status':<16} "
        f"{'intended':>14} {'filled':>14} {'avg price':>10}  run / task",
    ]
    for e in entries:
        intended = e.intent.qty if e.intent.qty is not None else e.intent.notional
        lines.append(
            f"{e.client_order_id:<34} {e.intent.side.value:<4} {e.intent.symbol:<6} "
            f"{e.state.value:<9} {e.status.value if e.status else '-':<16} "
            f"{_qty(intended):>14} {_qty(e.filled_qty):>14} "
            f"{e.filled_avg_price if e.filled_avg_price is not None else '-':>10}  "
            f"{e.task.run_id} / {e.task.task_id}"
        )
    sys.stdout.write("\n".join(lines) + "\n")
    return 0


def _qty(value: Decimal | None) -> str:
    # Fixed-point: a bare normalize() prints a whole 10 shares as 1E+1.
    return "-" if value is None else format(value.normalize(), "f")


def _only_account(store: ObjectStore) -> str:
    accounts = sorted(
        {k.split("/")[1] for k in store.list_keys(f"{LEDGER_ROOT}/") if k.count("/") > 1}
    )
    if len(accounts) != 1:
        raise ConfigError(
            f"give --account: the ledger in {object_uri(store.bucket, LEDGER_ROOT)}/ holds "
            f"{', '.join(accounts) or 'no account'}"
        )
    return accounts[0]
