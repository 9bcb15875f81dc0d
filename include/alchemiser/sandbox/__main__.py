"""`python -m alchemiser.sandbox run`: see alchemiser.sandbox.run."""

from __future__ import annotations

import sys

from alchemiser.sandbox.run import main

USAGE = "usage: python -m alchemiser.sandbox run"

if __name__ == "__main__":
    if sys.argv[1:] != ["run"]:
        print(USAGE, file=sys.stderr)  # noqa: T201
        sys.exit(2)
    sys.exit(main())
