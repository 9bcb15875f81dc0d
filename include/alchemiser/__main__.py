"""`python -m alchemiser`: the command-line tools (see `python -m alchemiser --help`)."""

from __future__ import annotations

import sys

from alchemiser.cli.main import main

if __name__ == "__main__":
    sys.exit(main())
