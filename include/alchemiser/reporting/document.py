"""A report as a list of blocks, rendered as aligned text or as an HTML fragment.

One builder makes the blocks and both renderings walk them, so the text a terminal shows and
the page a browser shows cannot carry different facts.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape


@dataclass(frozen=True)
class Heading:
    """A title (level 1), a section (2) or a subsection (3)."""

    text: str
    level: int = 2
    tone: str = ""


@dataclass(frozen=True)
class Line:
    """A sentence; `code` lines keep their alignment (traces)."""

    text: str
    tone: str = ""
    code: bool = False


@dataclass(frozen=True)
class Table:
    """Rows of cells; the first column is left-aligned, the rest right-aligned."""

    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Chart:
    """An image beside the page (HTML only: a terminal has nowhere to put it)."""

    src: str
    alt: str


@dataclass(frozen=True)
class Gap:
    """A blank line between sections of the text form."""


Block = Heading | Line | Table | Chart | Gap


def table(headers: list[str], rows: list[list[str]]) -> Table:
    """Return a Table from lists."""
    return Table(tuple(headers), tuple(tuple(r) for r in rows))


def text_table(t: Table) -> list[str]:
    """Return a table as aligned text lines."""
    widths = [max([len(h), *(len(r[i]) for r in t.rows)]) for i, h in enumerate(t.headers)]
    out = [
        "  ".join(h.ljust(w) for h, w in zip(t.headers, widths, strict=True)),
        "  ".join("-" * w for w in widths),
    ]
    if not t.rows:
        return [*out, "(none)"]
    return out + [
        "  ".join(
            c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True))
        )
        for r in t.rows
    ]


def to_text(blocks: list[Block]) -> list[str]:
    """Return the blocks as text lines (charts left out)."""
    lines: list[str] = []
    for block in blocks:
        if isinstance(block, Table):
            lines += text_table(block)
        elif isinstance(block, Heading | Line):
            lines.append(block.text)
        elif isinstance(block, Gap):
            lines.append("")
    return lines


def html_table(t: Table) -> str:
    """Return a table as escaped HTML."""
    head = "".join(f"<th>{escape(h)}</th>" for h in t.headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in t.rows
    )
    empty = f"<tr><td colspan='{len(t.headers)}'>(none)</td></tr>"
    return f"<table><tr>{head}</tr>{body or empty}</table>"


def to_html(blocks: list[Block]) -> str:
    """Return the blocks as an HTML fragment, every text escaped."""
    parts: list[str] = []
    for block in blocks:
        if isinstance(block, Table):
            parts.append(html_table(block))
        elif isinstance(block, Heading):
            tone = f" class='{escape(block.tone)}'" if block.tone else ""
            parts.append(f"<h{block.level}{tone}>{escape(block.text)}</h{block.level}>")
        elif isinstance(block, Line):
            tone = f" class='{escape(block.tone)}'" if block.tone else ""
            text = (
                f"<code>{escape(block.text.strip())}</code>" if block.code else escape(block.text)
            )
            parts.append(f"<p{tone}>{text}</p>")
        elif isinstance(block, Chart):
            parts.append(f"<img alt='{escape(block.alt)}' src='{escape(block.src)}'>")
    return "".join(parts)
