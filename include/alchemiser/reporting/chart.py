"""Target versus actual weights as a PNG bar chart (Pillow; no plotting stack needed)."""

from __future__ import annotations

import io
from decimal import Decimal

from PIL import Image, ImageDraw, ImageFont

from alchemiser.domain.report import WeightComparison

_ROW = 26
_LABEL = 70
_BAR_WIDTH = 420
_TARGET = (90, 110, 140)
_ACTUAL = (60, 160, 90)
_TEXT = (30, 30, 30)


def weights_chart(weights: tuple[WeightComparison, ...]) -> bytes:
    """Return a PNG with one pair of bars (target, actual) per symbol, scaled to the largest."""
    height = _ROW * max(1, len(weights)) + 40
    image = Image.new("RGB", (_LABEL + _BAR_WIDTH + 90, height), "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default()
    top = max((max(w.target, w.actual) for w in weights), default=Decimal(1)) or Decimal(1)
    draw.text((8, 6), "target", fill=_TARGET, font=font)
    draw.text((60, 6), "actual", fill=_ACTUAL, font=font)
    for row, w in enumerate(weights):
        y = 26 + row * _ROW
        draw.text((8, y + 4), w.symbol, fill=_TEXT, font=font)
        for offset, value, colour in ((0, w.target, _TARGET), (10, w.actual, _ACTUAL)):
            length = int(_BAR_WIDTH * value / top)
            draw.rectangle((_LABEL, y + offset, _LABEL + length, y + offset + 8), fill=colour)
        label = f"{w.target * 100:.1f}% / {w.actual * 100:.1f}%"
        draw.text((_LABEL + _BAR_WIDTH + 6, y + 4), label, fill=_TEXT, font=font)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()
