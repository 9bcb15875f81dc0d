"""`python -m sandbox run [--force]` (see sandbox.run; --force is the
DAG's `force` param) or `... airflow` (see sandbox.serve)."""

from __future__ import annotations

import sys

from sandbox.run import main
from sandbox.serve import serve

USAGE = "usage: python -m sandbox run [--force] | airflow"

if __name__ == "__main__":
    if sys.argv[1:] in (["run"], ["run", "--force"]):
        sys.exit(main(force=sys.argv[2:] == ["--force"]))
    if sys.argv[1:] == ["airflow"]:
        sys.exit(serve())
    print(USAGE, file=sys.stderr)  # noqa: T201
    sys.exit(2)
