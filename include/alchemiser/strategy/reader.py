"""Read symphony text into a syntax tree: lists, vectors, maps, strings, numbers, symbols.

Whitespace, commas and `;` comments separate tokens. The parser is iterative, so depth is
bounded by `ReadLimits`, not by Python's recursion limit.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass
from decimal import Decimal

from alchemiser.strategy.errors import SourcePos, SymphonyLimitError, SymphonySyntaxError
from alchemiser.strategy.syntax import Node, Num, Seq, SeqKind, Str, Sym


@dataclass(frozen=True)
class ReadLimits:
    """Bounds that keep a hostile or broken file from exhausting memory or the stack."""

    max_chars: int = 50_000_000
    max_depth: int = 400
    max_nodes: int = 5_000_000


DEFAULT_LIMITS = ReadLimits()

_OPEN: dict[str, SeqKind] = {"(": "list", "[": "vector", "{": "map"}
_CLOSE: dict[str, SeqKind] = {")": "list", "]": "vector", "}": "map"}
_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}
_NUMBER = re.compile(r"-?\d+(\.\d+)?")
_NEXT = re.compile(r'(?:[\s,]+|;[^\n]*)*(?:([^\s,;()\[\]{}"]+)|(.))?', re.DOTALL)
_HEX4 = re.compile(r"[0-9a-fA-F]{4}")
_NEWLINE = re.compile("\n")


class _Reader:
    def __init__(self, text: str, file: str, limits: ReadLimits) -> None:
        self.text = text
        self.file = file
        self.limits = limits
        self.i = 0
        self.nodes = 0
        # Line numbers are looked up when a position is made, not counted while reading.
        self.newlines = [m.start() for m in _NEWLINE.finditer(text)]

    def pos(self, at: int | None = None) -> SourcePos:
        at = self.i if at is None else at
        line = bisect_left(self.newlines, at)
        line_start = self.newlines[line - 1] + 1 if line else 0
        return SourcePos(self.file, line + 1, at - line_start + 1)

    def advance_to(self, end: int) -> None:
        self.i = end

    def count(self, token: str) -> None:
        self.nodes += 1
        if self.nodes > self.limits.max_nodes:
            raise SymphonyLimitError(
                f"more than {self.limits.max_nodes} forms in one file", self.pos(), token
            )

    def string(self) -> Str:
        start = self.pos()
        chars: list[str] = []
        j = self.i + 1
        text = self.text
        while True:
            k = text.find('"', j)
            b = text.find("\\", j)
            if k < 0:
                raise SymphonySyntaxError("unterminated string", start, text[self.i : self.i + 20])
            if 0 <= b < k:
                chars.append(text[j:b])
                esc = text[b + 1 : b + 2]
                if esc == "u" and _HEX4.fullmatch(text, b + 2, b + 6):
                    chars.append(chr(int(text[b + 2 : b + 6], 16)))
                    j = b + 6
                elif esc in _ESCAPES:
                    chars.append(_ESCAPES[esc])
                    j = b + 2
                else:
                    raise SymphonySyntaxError("unknown escape in string", start, text[b : b + 6])
                continue
            chars.append(text[j:k])
            self.advance_to(k + 1)
            return Str("".join(chars), start)

    def atom(self, token: str, start: SourcePos) -> Node:
        first = token[0]
        # A number, or a malformed one, starts with a digit or a sign or a point; most tokens
        # are operator names and keywords, which need no pattern match.
        if first.isdigit() or first in "+-.":
            if _NUMBER.fullmatch(token):
                return Num(Decimal(token), start)
            if first.isdigit() or token[1:2].isdigit():
                raise SymphonySyntaxError("malformed number", start, token)
        return Sym(token, start)

    def opening(self, ch: str, at: int, depth: int) -> SourcePos:
        """Return where a bracket at `at` opens, within the depth and node limits."""
        where = self.pos(at)
        if depth >= self.limits.max_depth:
            raise SymphonyLimitError(
                f"nested deeper than {self.limits.max_depth} levels", where, ch
            )
        self.i = at
        self.count(ch)
        return where

    def read_all(self) -> list[Node]:
        # Each frame: (kind, opening position, items so far). The loop keeps the offset, the
        # count and the current items in locals (a token costs a few microseconds, and a large
        # file has tens of thousands); `self.i` is set where an error or `string` reads it.
        stack: list[tuple[SeqKind, SourcePos, list[Node]]] = []
        top: list[Node] = []
        items = top
        text = self.text
        following = _NEXT.match
        pos, atom = self.pos, self.atom
        max_nodes = self.limits.max_nodes
        i = 0
        while True:
            # One match skips separators and takes the next token: an atom or one character.
            found = following(text, i)
            if found is None:  # every part of the pattern is optional: it always matches
                raise SymphonySyntaxError("unreadable text", pos(i), text[i : i + 20])
            token, ch = found.group(1, 2)
            if token is not None:
                self.nodes += 1
                if self.nodes > max_nodes:
                    self.i = found.start(1)
                    self.count(token)  # raises, naming the token's position
                items.append(atom(token, pos(found.start(1))))
                i = found.end()
            elif ch is None:
                if stack:
                    kind, where, _ = stack[-1]
                    opener = next(o for o, k in _OPEN.items() if k == kind)
                    raise SymphonySyntaxError("unclosed bracket at end of file", where, opener)
                self.i = found.end()
                return top
            elif ch in _OPEN:
                i = found.start(2)
                items = []
                stack.append((_OPEN[ch], self.opening(ch, i, len(stack)), items))
                i += 1
            elif ch in _CLOSE:
                i = found.start(2)
                if not stack or stack[-1][0] != _CLOSE[ch]:
                    message = "unexpected closing bracket" if not stack else "mismatched bracket"
                    raise SymphonySyntaxError(message, pos(i), ch)
                kind, opened, children = stack.pop()
                if kind == "map" and len(children) % 2:
                    raise SymphonySyntaxError("a map needs key value pairs", opened, "{")
                i += 1
                items = stack[-1][2] if stack else top
                items.append(Seq(kind, tuple(children), opened))
            else:  # a string: the only other character a token can start with
                self.i = found.start(2)
                self.count(ch)
                items.append(self.string())
                i = self.i


def read_forms(
    text: str, file: str = "<string>", limits: ReadLimits = DEFAULT_LIMITS
) -> list[Node]:
    """Return every top-level form in `text`."""
    if len(text) > limits.max_chars:
        raise SymphonyLimitError(
            f"file is {len(text)} characters, more than {limits.max_chars}",
            SourcePos(file, 1, 1),
            text[:20],
        )
    return _Reader(text, file, limits).read_all()


def read_one(text: str, file: str = "<string>", limits: ReadLimits = DEFAULT_LIMITS) -> Node:
    """Return the single form a symphony file holds; anything else is a syntax error."""
    forms = read_forms(text, file, limits)
    if len(forms) != 1:
        where = forms[1].pos if len(forms) > 1 else SourcePos(file, 1, 1)
        raise SymphonySyntaxError(
            f"a symphony file holds exactly one form, found {len(forms)}", where, text[:20]
        )
    return forms[0]
