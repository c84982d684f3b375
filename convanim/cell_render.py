"""Flat figures of cells laid out in pixels: the base of the matrix and overlap drawings.

A ``CellFigure`` is a ``convanim.drawing.Drawing``. Its static parts are artists drawn once
into a cached background; a frame is a ``Layer`` (shaded cells, outlined cells, texts) drawn
over it straight to the Agg renderer for raster output, or added as artists to a sheet of a
real figure for SVG and PDF: one description of a frame, two ways of drawing it. No pyplot.

Pixel coordinates are (x, y) from the top-left corner of a frame, y downwards. A rectangle is
(x0, y0, x1, y1).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
from matplotlib.collections import LineCollection
from matplotlib.font_manager import FontProperties
from matplotlib.patches import PathPatch
from matplotlib.path import Path as MplPath
from matplotlib.text import Text
from matplotlib.transforms import Bbox

from convanim import measure
from convanim.drawing import STRIP_GAP_PX, Box, union_box
from convanim.options import RenderOptions
from convanim.render import PixelFigure, Sheet, pixel_figure, segments_path, tile
from convanim.theme import THEMES, Theme, hex_rgb

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["DPI", "CellFigure", "Layer", "Rect", "blend", "rect_path", "subscript", "text_width"]

DPI = 100.0
Rect = tuple[float, float, float, float]
Rgb = npt.NDArray[np.uint8]
_SUBSCRIPTS = str.maketrans("0123456789,-", "₀₁₂₃₄₅₆₇₈₉,₋")


def subscript(name: str, index: Sequence[int]) -> str:
    """``name`` with ``index`` as subscripts: w₀₁, x₃; a comma where a number has two digits."""
    parts = [str(i) for i in index]
    joined = ",".join(parts) if any(len(p) > 1 for p in parts) else "".join(parts)
    return name + joined.translate(_SUBSCRIPTS)


def text_width(texts: Iterable[str], font_pt: float) -> float:
    """The widest of ``texts`` in pixels at ``font_pt`` points, as the figure will draw them."""
    return measure.text_width(texts, FontProperties(size=font_pt), DPI)


def blend(top: str, under: str, alpha: float) -> str:
    """``top`` laid over ``under`` at ``alpha`` opacity, as '#rrggbb'."""
    mixed = [
        round(alpha * t + (1 - alpha) * u)
        for t, u in zip(hex_rgb(top), hex_rgb(under), strict=True)
    ]
    return "#{:02x}{:02x}{:02x}".format(*mixed)


def rect_path(rects: Sequence[Rect]) -> MplPath:
    """One compound path of rectangles."""
    boxes = np.asarray(rects, dtype=float).reshape(-1, 4)
    x0, y0, x1, y1 = boxes.T
    corners = np.stack(
        [np.stack(pair, axis=1) for pair in ((x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0))],
        axis=1,
    )
    codes = np.tile(
        [MplPath.MOVETO, MplPath.LINETO, MplPath.LINETO, MplPath.LINETO, MplPath.CLOSEPOLY],
        len(boxes),
    )
    return MplPath(corners.reshape(-1, 2), codes)


def outline_segments(rects: Sequence[Rect]) -> npt.NDArray[np.float64]:
    """The four edges of each rectangle as line segments (n, 2, 2)."""
    segments = []
    for x0, y0, x1, y1 in rects:
        segments += [
            [(x0, y0), (x1, y0)],
            [(x1, y0), (x1, y1)],
            [(x1, y1), (x0, y1)],
            [(x0, y1), (x0, y0)],
        ]
    return np.asarray(segments, dtype=float).reshape(-1, 2, 2)


@dataclass
class Layer:
    """What a frame draws over the static parts.

    ``fills``: (colour, opacity, rectangles), in order; ``outlines``: rectangles edged with
    the thick line; ``texts``: (x, y, text, style as ``matplotlib.text.Text`` takes it).
    """

    fills: list[tuple[str, float, list[Rect]]] = field(default_factory=list)
    outlines: list[Rect] = field(default_factory=list)
    texts: list[tuple[float, float, str, dict[str, Any]]] = field(default_factory=list)


class CellFigure(PixelFigure):
    """A flat figure in pixels: subclasses lay out, add static artists and describe frames.

    Subclasses call ``_open`` with the frame's size, add the static parts in ``_add_static``,
    describe frame i in ``layer(i)`` and call ``_cache`` last.
    """

    size: tuple[int, int]
    options: RenderOptions
    theme: Theme
    line_width: float  # points, the thick line of outlines

    def __init__(self, options: RenderOptions | None) -> None:
        self.options = options or RenderOptions()
        self.theme = THEMES[self.options.theme]
        self._texts: list[Text] = []
        self.shown: dict[str, Any] = {}

    def text_style(self, **changes: Any) -> dict[str, Any]:
        """matplotlib's text keywords: the theme's text colour, centred, ``changes`` applied."""
        style: dict[str, Any] = {"color": self.theme.text, "ha": "center", "va": "center"}
        style.update(changes)
        return style

    @property
    def frame_count(self) -> int:
        raise NotImplementedError

    def layer(self, index: int) -> Layer:
        raise NotImplementedError

    def _add_static(self, sheet: Sheet) -> None:
        raise NotImplementedError

    def colours(self) -> list[str]:
        raise NotImplementedError

    def inks(self) -> list[str] | None:
        """The colours drawn antialiased over the others: lines and text."""
        return [self.theme.line, self.theme.text]

    def _restore(self, index: int) -> Box | None:
        """Put the background of frame ``index`` on the canvas; returns a box it changed."""
        self.page.restore(self.cached)
        return None

    # -- raster frames ------------------------------------------------------------------------

    def draw(self, index: int) -> Box:
        """Draw frame ``index``; returns the pixel box that differs from the last background."""
        self._check_index(index)
        layer = self.layer(index)
        box = self._restore(index)
        renderer, transform = self.renderer, self.transform
        gc = renderer.new_gc()
        gc.set_snap(False)
        gc.set_linewidth(0)
        gc.set_antialiased(False)
        rects: list[Rect] = []
        for colour, alpha, cells in layer.fills:
            if cells:
                gc.set_alpha(alpha)
                rgb = tuple(c / 255 for c in hex_rgb(colour))
                renderer.draw_path(gc, rect_path(cells), transform, rgb)
                rects += cells
        gc.set_alpha(1.0)
        if layer.outlines:
            gc.set_antialiased(True)
            gc.set_foreground(tuple(c / 255 for c in hex_rgb(self.theme.line)))
            gc.set_linewidth(self.line_width)
            renderer.draw_path(gc, segments_path(outline_segments(layer.outlines)), transform)
            rects += layer.outlines
        gc.restore()
        while len(self._texts) < len(layer.texts):
            self._texts.append(self.sheet.text(0, 0, "", animated=True))
        for artist, (x, y, text, style) in zip(self._texts, layer.texts, strict=False):
            artist.update({"position": (x, y), "text": text, **style})
            inked = self.page.draw_text(artist)
            if inked is None:  # drawn by matplotlib: its layout box bounds it
                extent = artist.get_window_extent(renderer)
                height = self.size[1]
                rects.append((extent.x0, height - extent.y1, extent.x1, height - extent.y0))
            else:  # the pixels its glyphs covered (top, bottom, left, right)
                top, bottom, left, right = inked
                if bottom > top:
                    rects.append((left, top, right, bottom))
        self._used = len(layer.texts)
        self.shown = {"texts": [text for _, _, text, _ in layer.texts]}
        if rects:
            boxes = np.asarray(rects, dtype=float)
            margin = self.line_width * DPI / 72 + 3
            found = self._box(
                boxes[:, 0].min(), boxes[:, 1].min(), boxes[:, 2].max(), boxes[:, 3].max(), margin
            )
            box = found if box is None else union_box(box, found)
        return box if box is not None else (0, 1, 0, 1)

    def _drawn_texts(self) -> list[Text]:
        """The animated texts the last frame drew (besides the frame's layer)."""
        return []

    def texts(self) -> list[tuple[str, Bbox]]:
        """Every text on the canvas after the last ``draw``, with its box in pixels (y up)."""
        static = [a for a in self.page.artists if isinstance(a, Text) and not a.get_animated()]
        drawn = self._texts[: getattr(self, "_used", 0)] + self._drawn_texts()
        return [(t.get_text(), t.get_window_extent(self.renderer)) for t in static + drawn]

    # -- vector figures -----------------------------------------------------------------------

    def _add_layer(self, sheet: Sheet, index: int) -> None:
        layer = self.layer(index)
        for colour, alpha, cells in layer.fills:
            if cells:
                sheet.add(
                    PathPatch(
                        rect_path(cells), facecolor=colour, alpha=alpha, linewidth=0, snap=False
                    )
                )
        if layer.outlines:
            sheet.add(
                LineCollection(
                    list(outline_segments(layer.outlines)),
                    colors=self.theme.line,
                    linewidths=self.line_width,
                )
            )
        for x, y, text, style in layer.texts:
            sheet.text(x, y, text, **style)

    def _add_frame_static(self, sheet: Sheet, index: int) -> None:
        """The static parts of frame ``index`` in a vector figure (some frames add more)."""
        self._add_static(sheet)

    def vector(self, indices: Sequence[int], columns: int) -> Figure:
        """A figure of these frames tiled ``columns`` to a row, ``STRIP_GAP_PX`` apart."""
        for index in indices:
            self._check_index(index)
        width, height = self.size
        rows = -(-len(indices) // columns)
        gap = STRIP_GAP_PX
        figure = pixel_figure(
            columns * width + (columns - 1) * gap, rows * height + (rows - 1) * gap
        )
        figure.patch.set_facecolor(self.theme.background)
        for position, index in enumerate(indices):
            sheet = self._sheet(figure, tile(position, columns, self.size, gap, rows))
            self._add_frame_static(sheet, index)
            self._add_layer(sheet, index)
        return figure
