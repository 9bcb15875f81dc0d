"""The syntax tree the reader builds, and its canonical printer (read . print is identity)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

from alchemiser.strategy.errors import SourcePos

SeqKind = Literal["list", "vector", "map"]
NOWHERE = SourcePos("<memory>", 0, 0)


@dataclass(frozen=True, slots=True)
class Sym:
    """A symbol or keyword (`weight-equal`, `:window`); it evaluates to its name."""

    name: str
    pos: SourcePos = field(default=NOWHERE, compare=False)


@dataclass(frozen=True, slots=True)
class Str:
    """A string literal."""

    value: str
    pos: SourcePos = field(default=NOWHERE, compare=False)


@dataclass(frozen=True, slots=True)
class Num:
    """An integer or decimal literal, kept exact."""

    value: Decimal
    pos: SourcePos = field(default=NOWHERE, compare=False)


@dataclass(frozen=True, slots=True)
class Seq:
    """`( )`, `[ ]` or `{ }`; lists and vectors mean the same, the kind is kept for printing."""

    kind: SeqKind
    items: tuple[Node, ...]
    pos: SourcePos = field(default=NOWHERE, compare=False)


Node = Sym | Str | Num | Seq

_BRACKETS: dict[SeqKind, tuple[str, str]] = {
    "list": ("(", ")"),
    "vector": ("[", "]"),
    "map": ("{", "}"),
}


def to_source(node: Node) -> str:
    """Print `node` as text the reader turns back into an equal tree."""
    parts: list[str] = []
    stack: list[Node | str] = [node]
    # Iterative so that a tree the reader accepted is always printable, however deep.
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            parts.append(item)
        elif isinstance(item, Sym):
            parts.append(item.name)
        elif isinstance(item, Str):
            parts.append(json.dumps(item.value, ensure_ascii=False))
        elif isinstance(item, Num):
            parts.append(format(item.value, "f"))
        else:
            opening, closing = _BRACKETS[item.kind]
            stack.append(closing)
            for i, child in enumerate(reversed(item.items)):
                stack.append(child)
                if i < len(item.items) - 1:
                    stack.append(" ")
            parts.append(opening)
    return "".join(parts)
