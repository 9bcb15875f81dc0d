"""The engine raises the recursion limit on first use; do it up front so hypothesis sees a
stable limit instead of warning that it changed during a test."""

from __future__ import annotations

import sys

from alchemiser.strategy.symphony import RECURSION_LIMIT

sys.setrecursionlimit(max(sys.getrecursionlimit(), RECURSION_LIMIT))
