"""Text measured once a process: the width, height and descent Agg lays a plain string out at.

Figures size their cells, captions and margins by their texts' widths, and a build draws
figure after figure with the same numbers and labels. Agg measures a string by laying out its
glyphs (about 0.3 ms); the answer depends only on the string, the font, the dots per inch and
matplotlib's hinting settings, which are the key here, so a string is laid out once.
"""

from __future__ import annotations

from typing import Any

import matplotlib as mpl
from matplotlib.backends.backend_agg import RendererAgg
from matplotlib.font_manager import FontProperties, findfont

__all__ = ["MAX_MEASURED", "font_key", "text_metrics", "text_width"]

MAX_MEASURED = 8192  # strings kept, the least recently used dropped first
_RENDERER_AGG: Any = RendererAgg  # matplotlib leaves it unannotated


def text_metrics(text: str, font: FontProperties, dpi: float) -> tuple[float, float, float]:
    """(width, height, descent) in pixels of plain ``text`` (no mathtext) in ``font`` at
    ``dpi``, as ``RendererAgg.get_text_width_height_descent`` gives them."""
    key = (
        *font_key(font),
        findfont(font),  # what the family names resolve to now
        mpl.rcParams["text.hinting"],
        mpl.rcParams.get("text.hinting_factor"),  # deprecated in matplotlib 3.11
        mpl.rcParams.get("text.kerning_factor"),
    )
    return _measured(text, key, font.copy(), float(dpi))


def font_key(font: FontProperties) -> tuple[Any, ...]:
    """A font's own fields, not the (mutable) ``FontProperties`` object: a cache key."""
    return (
        tuple(font.get_family()),
        font.get_style(),
        font.get_variant(),
        font.get_weight(),
        font.get_stretch(),
        font.get_size_in_points(),
        font.get_file(),
    )


def text_width(texts: Any, font: FontProperties, dpi: float) -> float:
    """The widest of ``texts`` in pixels (0 for none)."""
    return max((text_metrics(text, font, dpi)[0] for text in texts), default=0.0)


_CACHE: dict[tuple[Any, ...], tuple[float, float, float]] = {}


def _measured(
    text: str, key: tuple[Any, ...], font: FontProperties, dpi: float
) -> tuple[float, float, float]:
    full = (text, key, dpi)
    found = _CACHE.pop(full, None)
    if found is None:
        renderer = _RENDERER_AGG(1, 1, dpi)
        width, height, descent = renderer.get_text_width_height_descent(text, font, ismath=False)
        found = (float(width), float(height), float(descent))
    _CACHE[full] = found  # the most recently used last
    while len(_CACHE) > MAX_MEASURED:
        del _CACHE[next(iter(_CACHE))]
    return found
