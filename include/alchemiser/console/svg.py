"""Small inline SVG charts (no plotting stack, no script): a series over time, paired bars."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

_W, _H, _PAD = 760, 190, 44


def series_chart(
    points: Sequence[tuple[str, float]], title: str, unit: str, *, fill: bool = False
) -> str:
    """Return an SVG line (or area, `fill`) chart of labelled values, oldest first."""
    if not points:
        return f"<p class='empty'>{escape(title)}: no data yet</p>"
    values = [v for _, v in points]
    low, high = min([*values, 0.0]), max([*values, 0.0])
    span = (high - low) or 1.0
    step = (_W - 2 * _PAD) / max(1, len(points) - 1)

    def xy(i: int, v: float) -> tuple[float, float]:
        return _PAD + i * step, _H - 24 - (v - low) / span * (_H - 48)

    coords = [xy(i, v) for i, v in enumerate(values)]
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
    zero = xy(0, 0.0)[1]
    shape = (
        f"<polygon points='{coords[0][0]:.1f},{zero:.1f} {path} {coords[-1][0]:.1f},{zero:.1f}' "
        "fill='#e8a0a0' stroke='#c33'/>"
        if fill
        else f"<polyline points='{path}' fill='none' stroke='#2a6fb0' stroke-width='2'/>"
        + "".join(f"<circle cx='{x:.1f}' cy='{y:.1f}' r='2.5' fill='#2a6fb0'/>" for x, y in coords)
    )
    first, last = escape(points[0][0]), escape(points[-1][0])
    return (
        f"<svg class='chart' role='img' aria-label='{escape(title)}' width='{_W}' height='{_H}' "
        f"viewBox='0 0 {_W} {_H}' xmlns='http://www.w3.org/2000/svg'>"
        f"<text x='{_PAD}' y='14' font-size='12'>{escape(title)}</text>"
        f"<line x1='{_PAD}' y1='{zero:.1f}' x2='{_W - _PAD}' y2='{zero:.1f}' stroke='#999'/>"
        f"{shape}"
        f"<text x='4' y='{xy(0, high)[1] + 4:.1f}' font-size='10'>{high:,.1f}{unit}</text>"
        f"<text x='4' y='{xy(0, low)[1] + 4:.1f}' font-size='10'>{low:,.1f}{unit}</text>"
        f"<text x='{_PAD}' y='{_H - 6}' font-size='10'>{first}</text>"
        f"<text x='{_W - _PAD}' y='{_H - 6}' font-size='10' text-anchor='end'>{last}</text>"
        "</svg>"
    )


def paired_bars(rows: Sequence[tuple[str, float, float]], title: str) -> str:
    """Return an SVG of target (grey) versus actual (green) weight bars per symbol."""
    if not rows:
        return f"<p class='empty'>{escape(title)}: no positions</p>"
    top = max(max(t, a) for _, t, a in rows) or 1.0
    height = 28 + 24 * len(rows)
    bars = []
    for i, (symbol, target, actual) in enumerate(rows):
        y = 26 + i * 24
        bars.append(
            f"<text x='4' y='{y + 11}' font-size='11'>{escape(symbol)}</text>"
            f"<rect x='70' y='{y}' width='{420 * target / top:.1f}' height='8' fill='#5a6e8c'/>"
            f"<rect x='70' y='{y + 9}' width='{420 * actual / top:.1f}' height='8' "
            "fill='#3ca05a'/>"
            f"<text x='500' y='{y + 12}' font-size='11'>{target:.1%} / {actual:.1%}</text>"
        )
    return (
        f"<svg class='chart' role='img' aria-label='{escape(title)}' width='640' "
        f"height='{height}' xmlns='http://www.w3.org/2000/svg'>"
        f"<text x='4' y='14' font-size='12'>{escape(title)}: "
        "<tspan fill='#5a6e8c'>target</tspan> / <tspan fill='#3ca05a'>actual</tspan></text>"
        f"{''.join(bars)}</svg>"
    )
