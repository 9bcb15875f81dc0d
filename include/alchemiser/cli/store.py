"""Where a command finds the object store, chosen as `make run` chooses (no SDK imported here).

The local state folder (`--state-dir`, default $ALCHEMISER_STATE_DIR or `.alchemiser-state/` in
the checkout) unless AIRFLOW_CONN_AWS_DEFAULT is set or `--s3`/`--endpoint-url` is given; then
S3 with boto3's usual configuration (credentials from the environment, `--endpoint-url` or
AWS_ENDPOINT_URL for a local S3 server). The store itself is opened by `cli.sources`.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from alchemiser.defaults import DEFAULT_BUCKET, STATE_DIR_ENV, state_dir


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
