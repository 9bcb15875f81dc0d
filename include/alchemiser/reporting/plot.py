"""Small PNG charts drawn with Pillow: time-series lines (linear or log) and stacked areas."""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from PIL import Image, ImageDraw, ImageFont

WIDTH, HEIGHT = 900, 340
_LEFT, _RIGHT, _TOP, _BOTTOM = 78, 20, 40, 34
_GRID = (225, 225, 225)
_AXIS = (120, 120, 120)
_TEXT = (30, 30, 30)
PALETTE = (
    (31, 119, 180),
    (255, 127, 14),
    (44, 160, 44),
    (214, 39, 40),
    (148, 103, 189),
    (140, 86, 75),
    (227, 119, 194),
    (127, 127, 127),
    (188, 189, 34),
    (23, 190, 207),
)


@dataclass(frozen=True)
class Line:
    """One named series: a value per date."""

    label: str
    values: Sequence[float]
    colour: tuple[int, int, int]


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


@dataclass(frozen=True)
class _Frame:
    lo: float
    hi: float
    log: bool
    n: int

    def x(self, i: int) -> float:
        return _LEFT + (WIDTH - _LEFT - _RIGHT) * (i / max(1, self.n - 1))

    def y(self, value: float) -> float:
        lo, hi, v = self.lo, self.hi, value
        if self.log:
            lo, hi, v = math.log(lo), math.log(hi), math.log(max(value, self.lo))
        span = (hi - lo) or 1.0
        return HEIGHT - _BOTTOM - (HEIGHT - _TOP - _BOTTOM) * (v - lo) / span


def _ticks(lo: float, hi: float, log: bool) -> list[float]:
    if log and lo > 0:
        ratio = hi / lo
        steps = [1, 2, 5]
        out: list[float] = []
        exp = math.floor(math.log10(lo))
        while not out or out[-1] < hi:
            for s in steps:
                out.append(s * 10.0**exp)
            exp += 1
        inside = [t for t in out if lo <= t <= hi]
        if len(inside) >= 2 or ratio > 10:
            return inside
    raw = (hi - lo) / 5 or 1.0
    step = 10 ** math.floor(math.log10(raw))
    step *= next(m for m in (1, 2, 2.5, 5, 10) if raw <= step * m)
    first = math.ceil(lo / step) * step
    return [first + k * step for k in range(int((hi - first) / step) + 1)]


def _label(value: float, percent: bool) -> str:
    if percent:
        return f"{value * 100:.0f}%"
    if abs(value) >= 1e6:
        return f"{value / 1e6:.1f}M"
    if abs(value) >= 1e3:
        return f"{value / 1e3:.0f}k"
    return f"{value:g}"


def _axes(
    draw: ImageDraw.ImageDraw, frame: _Frame, dates: Sequence[date], title: str, percent: bool
) -> None:
    font = _font(12)
    draw.text((_LEFT, 10), title, fill=_TEXT, font=_font(15))
    for tick in _ticks(frame.lo, frame.hi, frame.log):
        y = frame.y(tick)
        draw.line((_LEFT, y, WIDTH - _RIGHT, y), fill=_GRID)
        draw.text((_LEFT - 6, y), _label(tick, percent), fill=_TEXT, font=font, anchor="rm")
    years = [i for i in range(1, len(dates)) if dates[i].year != dates[i - 1].year]
    marks = years if 2 <= len(years) <= 12 else list(range(0, len(dates), max(1, len(dates) // 6)))
    for i in marks:
        x = frame.x(i)
        draw.line((x, _TOP, x, HEIGHT - _BOTTOM), fill=_GRID)
        text = str(dates[i].year) if marks is years else dates[i].isoformat()
        draw.text((x, HEIGHT - _BOTTOM + 6), text, fill=_TEXT, font=font, anchor="mt")
    draw.rectangle((_LEFT, _TOP, WIDTH - _RIGHT, HEIGHT - _BOTTOM), outline=_AXIS)


def _legend(draw: ImageDraw.ImageDraw, items: Sequence[tuple[str, tuple[int, int, int]]]) -> None:
    font = _font(12)
    x = float(WIDTH - _RIGHT)
    for label, colour in reversed(items):
        width = draw.textlength(label, font=font)
        x -= width + 26
        draw.rectangle((x, 16, x + 14, 26), fill=colour)
        draw.text((x + 18, 21), label, fill=_TEXT, font=font, anchor="lm")


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def line_chart(
    title: str,
    dates: Sequence[date],
    lines: Sequence[Line],
    *,
    log: bool = False,
    percent: bool = False,
    fill: bool = False,
) -> bytes:
    """Return a PNG of `lines` over `dates`; `fill` shades between the first line and zero."""
    values = [v for line in lines for v in line.values]
    lo, hi = min(values, default=0.0), max(values, default=1.0)
    if log:
        lo, hi = lo * 0.97, hi * 1.03
    elif fill:
        lo, hi = min(lo, 0.0) * 1.05 or -0.01, max(hi, 0.0)
    else:
        pad = (hi - lo) * 0.05 or 1.0
        lo, hi = lo - pad, hi + pad
    frame = _Frame(lo, hi, log and lo > 0, len(dates))
    image = Image.new("RGB", (WIDTH, HEIGHT), "white")
    draw = ImageDraw.Draw(image)
    _axes(draw, frame, dates, title, percent)
    for line in lines:
        points = [(frame.x(i), frame.y(v)) for i, v in enumerate(line.values)]
        if fill:
            base = frame.y(0.0)
            draw.polygon(
                [(points[0][0], base), *points, (points[-1][0], base)], fill=(250, 200, 200)
            )
        if len(points) > 1:
            draw.line(points, fill=line.colour, width=2)
    if len(lines) > 1:
        _legend(draw, [(line.label, line.colour) for line in lines])
    return _png(image)


def stacked_chart(title: str, dates: Sequence[date], layers: Sequence[Line]) -> bytes:
    """Return a PNG of shares (0..1) stacked bottom-up, one band per layer."""
    frame = _Frame(0.0, 1.0, False, len(dates))
    image = Image.new("RGB", (WIDTH, HEIGHT), "white")
    draw = ImageDraw.Draw(image)
    base = [0.0] * len(dates)
    for layer in layers:
        top = [b + v for b, v in zip(base, layer.values, strict=True)]
        upper = [(frame.x(i), frame.y(min(t, 1.0))) for i, t in enumerate(top)]
        lower = [(frame.x(i), frame.y(min(b, 1.0))) for i, b in enumerate(base)]
        if len(upper) > 1:
            draw.polygon(upper + lower[::-1], fill=layer.colour)
        base = top
    _axes(draw, frame, dates, title, percent=True)
    _legend(draw, [(layer.label, layer.colour) for layer in layers])
    return _png(image)
