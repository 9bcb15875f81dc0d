"""`python -m alchemiser.sandbox run` (see alchemiser.sandbox.run) or `... airflow` (see
alchemiser.sandbox.deployment)."""

from __future__ import annotations

import sys

from alchemiser.sandbox.deployment import serve
from alchemiser.sandbox.run import main

USAGE = "usage: python -m alchemiser.sandbox run|airflow"

if __name__ == "__main__":
    if sys.argv[1:] == ["run"]:
        sys.exit(main())
    if sys.argv[1:] == ["airflow"]:
        sys.exit(serve())
    print(USAGE, file=sys.stderr)  # noqa: T201
    sys.exit(2)
