"""One spelling of a ticker inside the system, and its translations at the edges.

Inside, a share class is written with a dot, `BRK.B`, as Alpaca (our only broker) spells it, so
the broker adapter needs no translation. Symphonies write `BRK/B` (Composer) or `BRK.B`: the
compiler translates with `canonical`. A `/` cannot be in a file name, so a prices folder and the
Parquet cache store `BRK.B` as `BRK_B` (`file_stem` and `from_file_stem`); `_` is never part of
a ticker, so the translation is reversible.
"""

from __future__ import annotations

_CLASS_SEPARATORS = ("/", "-", " ")
"""Spellings of the share-class separator seen in symphony files (`BRK/B`, `BRK-B`, `BRK B`)."""


def canonical(raw: str) -> str:
    """Return the internal spelling of a ticker: upper case, share class after a dot."""
    symbol = raw.strip().upper()
    for separator in _CLASS_SEPARATORS:
        symbol = symbol.replace(separator, ".")
    return symbol


def file_stem(symbol: str) -> str:
    """Return the file-name form of a canonical ticker (`BRK.B` -> `BRK_B`)."""
    return symbol.replace(".", "_")


def from_file_stem(stem: str) -> str:
    """Return the canonical ticker a file name stands for (`BRK_B` -> `BRK.B`)."""
    return canonical(stem.replace("_", "."))
