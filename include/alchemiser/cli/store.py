"""Where a command finds the object store, chosen as `make run` chooses (no SDK imported here).

Also where the embedded defaults keep their state on this machine (`state_dir`), which the
sandbox's `make run` and `make airflow` share with the commands.

The local state folder (`--state-dir`, default $ALCHEMISER_STATE_DIR or `.alchemiser-state/` in
the checkout) unless AIRFLOW_CONN_AWS_DEFAULT is set or `--s3`/`--endpoint-url` is given; then
S3 with boto3's usual configuration (credentials from the environment, `--endpoint-url` or
AWS_ENDPOINT_URL for a local S3 server). The store itself is opened by `cli.sources`.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

DEFAULT_BUCKET = "alchemiser"
STATE_DIR_ENV = "ALCHEMISER_STATE_DIR"
EXCHANGE_STATE = "paper-exchange.json"
_CHECKOUT = Path(__file__).resolve().parents[3]  # include/alchemiser/cli/ is 3 deep


def state_dir() -> Path:
    """Return $ALCHEMISER_STATE_DIR, or `.alchemiser-state/` in the checkout.

    Inside: the local store's objects under `<bucket>/` (ledger, runs, reports, bar cache) and
    the sandbox paper exchange's account in `paper-exchange.json`.
    """
    return Path(os.environ.get(STATE_DIR_ENV) or _CHECKOUT / ".alchemiser-state").absolute()


def add_store_args(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    """Add `--bucket`, `--state-dir`, `--s3` and `--endpoint-url`."""
    parser.add_argument(
        "--bucket",
        default=os.environ.get("AIRFLOW_VAR_ALCHEMISER_BUCKET", DEFAULT_BUCKET),
        help="bucket, or the local store's folder below --state-dir "
        "(default: $AIRFLOW_VAR_ALCHEMISER_BUCKET or alchemiser)",
    )
    parser.add_argument(
        "--state-dir",
        type=Path,
        help=f"the local state folder (default: ${STATE_DIR_ENV} or .alchemiser-state/)",
    )
    parser.add_argument("--s3", action="store_true", help="use S3, not the local state folder")
    parser.add_argument("--endpoint-url", help="S3 endpoint, e.g. a local server (implies --s3)")


def store_folder(args: argparse.Namespace) -> str:
    """Return the local state folder the arguments choose, or "" for S3."""
    s3 = args.s3 or args.endpoint_url or "AIRFLOW_CONN_AWS_DEFAULT" in os.environ
    return "" if s3 and args.state_dir is None else str(args.state_dir or state_dir())
