"""The effective receptive field as a heatmap over the input (a ``convanim.drawing.Drawing``).

Frame i is layer i's centre unit: every input cell coloured by ``|∂ unit / ∂ input|`` on a
scale from the background (exactly zero) to the highlight colour (the layer's largest), the
theoretical field outlined on top (clipped to the input), the colour scale below with its
labels, and two captions: the layer, and its field with where the mass is. The heatmap is
painted into each frame's background, as the overlap map's counts are; the outline and the
captions are the frame's layer.

Values are put in ``LEVELS`` steps of the frame's largest, rounding up, so that every cell
the unit depends on, however little, is at least the first step: the support stays visible.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from matplotlib.collections import LineCollection, PolyCollection

from convanim.cell_render import DPI, CellFigure, Layer, Rect, blend, rect_path, text_width
from convanim.drawing import Box
from convanim.erf import MAX_SIDE, ErfLayer
from convanim.errors import ParameterError
from convanim.options import RenderOptions
from convanim.render import Sheet, segments_path
from convanim.theme import hex_rgb

__all__ = ["LEVELS", "MAX_SIDE", "ErfMap", "erf_caption"]

FIT_PX = 480  # the heatmap aims at this width (2-D) or this width for a 1-D row of cells: 760
FIT_1D_PX = 760
CELL_PX_RANGE = (2.0, 30.0)
GRID_MIN_PX = 8.0  # thinner cells get no grid lines: the lines would hide the colours
FONT_PT = 10.0
THICK_PT, THIN_PT, DASHED_PT = 2.4, 0.5, 1.4
GRID_ALPHA = 0.35  # grid lines: the line colour this opaque over the background
DASH_PT = 3.0
LEVELS = 16  # heat steps; a GIF palette holds them and the blends of lines and text over them
LOWEST = 0.15  # the first step, as the highlight's opacity over the background
SCALE_TICKS = (0.0, 0.5, 1.0)  # labelled points of the colour scale, of the largest value
TIMES = "\u00d7"


def _shape(size: Sequence[int]) -> str:
    return TIMES.join(str(v) for v in size)


def erf_caption(entry: ErfLayer) -> str:
    """The second caption: "field 7×7 · half in the central 3×3 · std 1.2"."""
    field = _shape(entry.field)
    clipped = " (clipped)" if entry.clipped else ""
    if entry.total <= 0:
        return f"field {field}{clipped} · reads only padding"
    std = "×".join(f"{s:.1f}" for s in (entry.std if len(set(entry.std)) > 1 else entry.std[:1]))
    return f"field {field}{clipped} · half in the central {_shape(entry.central)} · std {std} cells"


class ErfMap(CellFigure):
    """One frame per entry of ``layers``: its heatmap, its field outlined, its captions.

    ``titles`` are the first captions ("layer 2: k=3, d=2"), one per entry; ``quantity``
    names what the colours measure, for the scale's label. ``shown`` holds the last drawn
    frame's heat level per cell (``shown["levels"]``, the input's shape) and its captions.
    """

    def __init__(
        self,
        layers: Sequence[ErfLayer],
        titles: Sequence[str],
        options: RenderOptions | None = None,
        *,
        quantity: str = "|∂ unit / ∂ input|",
    ) -> None:
        super().__init__(options)
        if not layers or len(titles) != len(layers):
            raise ValueError("one title per layer, and at least one layer")
        self.entries = list(layers)
        self.titles = list(titles)
        self.quantity = quantity
        shape = self.entries[0].heatmap.shape
        self.one_d = len(shape) == 1
        self.rows, self.cols = (1, shape[0]) if self.one_d else shape
        if max(self.rows, self.cols) > MAX_SIDE:
            what = f"length {self.cols}" if self.one_d else f"{self.rows}x{self.cols}"
            raise ParameterError(
                "input_size",
                f"the input is {what}, over the limit of {MAX_SIDE} cells per side for a "
                "heatmap; use a smaller input",
            )
        self.levels = [self._levels(entry) for entry in self.entries]
        self._state_at: int | None = None
        self._layout()
        self.grid_lines = self._grid_segments()  # the same lines in every frame: made once
        self.grid_path = segments_path(self.grid_lines)
        self._cache()

    @property
    def frame_count(self) -> int:
        return len(self.entries)

    # -- colours ------------------------------------------------------------------------------

    @staticmethod
    def _levels(entry: ErfLayer) -> npt.NDArray[np.int64]:
        """Heat levels (rows, cols): 0 for exactly zero, else 1 .. LEVELS of the largest."""
        values = np.abs(entry.heatmap).reshape(-1, entry.heatmap.shape[-1])
        peak = float(values.max()) if values.size else 0.0
        if peak <= 0:
            return np.zeros(values.shape, dtype=np.int64)
        levels = np.ceil(values / peak * LEVELS - 1e-9).astype(np.int64)
        return np.where(values > 0, np.clip(levels, 1, LEVELS), 0)

    def heat(self, level: int) -> str:
        """The colour of a heat level: the background at 0, the highlight at LEVELS."""
        theme = self.theme
        if level <= 0:
            return theme.background
        alpha = LOWEST + (1 - LOWEST) * (level - 1) / (LEVELS - 1)
        return blend(theme.highlight, theme.background, alpha)

    def colours(self) -> list[str]:
        theme = self.theme
        return [theme.background, theme.line, theme.text, self.grid_colour] + [
            self.heat(level) for level in range(1, LEVELS + 1)
        ]

    # -- layout -------------------------------------------------------------------------------

    def _layout(self) -> None:
        scale = self.options.scale
        low, high = CELL_PX_RANGE
        fit = (FIT_1D_PX if self.one_d else FIT_PX) / max(self.rows, self.cols)
        self.cell_px = cell = max(round(min(max(fit, low), high) * scale), 1)
        self.grid = cell >= GRID_MIN_PX * min(scale, 1.0)
        font_px = FONT_PT * scale * DPI / 72
        line = round(font_px * 1.6)
        margin = round(max(20 * scale, font_px))
        grid_w, grid_h = self.cols * cell, self.rows * cell
        # The scale: its label, then LEVELS + 1 swatches (zero and the steps), ticks below.
        self.swatch = round(max(14 * scale, font_px))
        self.scale_label = f"{self.quantity}, as a share of the layer's largest"
        label_w = text_width([self.scale_label], FONT_PT * scale)
        bar_w = (LEVELS + 1) * self.swatch
        captions = [*self.titles, *(erf_caption(e) for e in self.entries)]
        caption_w = text_width(captions, FONT_PT * scale)
        content = max(grid_w, bar_w, label_w, caption_w)
        width = math.ceil(content + 2 * margin)
        self.grid_left = (width - grid_w) // 2
        self.grid_top = margin
        y = margin + grid_h + round(0.8 * line)
        self.title_xy = (width / 2, y)
        self.caption2_xy = (width / 2, y + line)
        y += 2 * line + round(0.6 * line)
        self.label_xy = (width / 2, y)
        y += line
        self.bar_left = (width - bar_w) / 2
        self.bar_top = y
        y += self.swatch + round(0.2 * line)
        self.ticks_y = y
        height = math.ceil(y + line + margin / 2)
        self.line_width = THICK_PT * scale
        self.thin_width = THIN_PT * scale
        self.dashed_width = DASHED_PT * scale
        self.grid_colour = blend(self.theme.line, self.theme.background, GRID_ALPHA)
        self._open(width, height)

    def cell_rect(self, row: int, col: int) -> Rect:
        """The pixel rectangle of input cell (row, col) (1-D: row 0)."""
        x = self.grid_left + col * self.cell_px
        y = self.grid_top + row * self.cell_px
        return (x, y, x + self.cell_px, y + self.cell_px)

    def cell_centre(self, row: int, col: int) -> tuple[float, float]:
        x0, y0, x1, y1 = self.cell_rect(row, col)
        return (x0 + x1) / 2, (y0 + y1) / 2

    def field_rect(self, index: int) -> Rect | None:
        """The theoretical field of frame ``index`` clipped to the input, in pixels; None if
        it lies wholly outside."""
        entry = self.entries[index]
        first = entry.first if not self.one_d else (0, entry.first[0])
        field = entry.field if not self.one_d else (1, entry.field[0])
        spans = []
        for f, n, limit in zip(first, field, (self.rows, self.cols), strict=True):
            lo, hi = max(f, 0), min(f + n, limit)
            if hi <= lo:
                return None
            spans.append((lo, hi))
        (r0, r1), (c0, c1) = spans
        x0, y0, _, _ = self.cell_rect(r0, c0)
        return (x0, y0, x0 + (c1 - c0) * self.cell_px, y0 + (r1 - r0) * self.cell_px)

    def central_rect(self, index: int) -> Rect | None:
        """The central box holding half the mass (``ErfLayer.central``), clipped, in pixels."""
        entry = self.entries[index]
        if entry.total <= 0:
            return None
        first = [
            f + (n - c) // 2
            for f, n, c in zip(entry.first, entry.field, entry.central, strict=True)
        ]
        size = list(entry.central)
        if self.one_d:
            first, size = [0, *first], [1, *size]
        spans = []
        for f, n, limit in zip(first, size, (self.rows, self.cols), strict=True):
            lo, hi = max(f, 0), min(f + n, limit)
            if hi <= lo:
                return None
            spans.append((lo, hi))
        (r0, r1), (c0, c1) = spans
        x0, y0, _, _ = self.cell_rect(r0, c0)
        return (x0, y0, x0 + (c1 - c0) * self.cell_px, y0 + (r1 - r0) * self.cell_px)

    def swatch_rect(self, level: int) -> Rect:
        x = self.bar_left + level * self.swatch
        return (x, self.bar_top, x + self.swatch, self.bar_top + self.swatch)

    # -- static parts -------------------------------------------------------------------------

    def _style(self, **changes: Any) -> dict[str, Any]:
        return self.text_style(**{"fontsize": FONT_PT * self.options.scale, "va": "top", **changes})

    def _grid_segments(self) -> npt.NDArray[np.float64]:
        cell = self.cell_px
        left, top = self.grid_left, self.grid_top
        right, bottom = left + self.cols * cell, top + self.rows * cell
        if self.grid:
            xs = left + np.arange(self.cols + 1) * cell
            ys = top + np.arange(self.rows + 1) * cell
        else:  # the border only
            xs, ys = np.array([left, right]), np.array([top, bottom])
        lines = [[(x, top), (x, bottom)] for x in xs] + [[(left, y), (right, y)] for y in ys]
        return np.asarray(lines, dtype=float)

    def _add_static(self, sheet: Sheet) -> None:
        theme = self.theme
        rects = [self.swatch_rect(level) for level in range(LEVELS + 1)]
        sheet.add(
            PolyCollection(
                [[(a, b), (c, b), (c, d), (a, d)] for a, b, c, d in rects],
                facecolors=[self.heat(level) for level in range(LEVELS + 1)],
                linewidths=0,
            )
        )
        x0, y0 = rects[0][0], rects[0][1]
        x1, y1 = rects[-1][2], rects[-1][3]
        sheet.add(
            LineCollection(
                [[(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)]],
                colors=theme.line,
                linewidths=self.thin_width,
            )
        )
        sheet.text(*self.label_xy, self.scale_label, **self._style())
        # "0" under the zero swatch; step k covers ((k - 1) / LEVELS, k / LEVELS] of the
        # largest, so value v sits at v of the way along the steps.
        steps_left = rects[1][0]
        for tick in SCALE_TICKS:
            x = (
                (rects[0][0] + rects[0][2]) / 2
                if tick == 0
                else steps_left + (x1 - steps_left) * tick
            )
            sheet.text(x, self.ticks_y, f"{tick:g}", **self._style())

    def _add_frame_static(self, sheet: Sheet, index: int) -> None:
        """The static parts and frame ``index``'s heatmap, as artists (vector output)."""
        self._add_static(sheet)
        for colour, rects in self._cells(index):
            sheet.add(
                PolyCollection(
                    [[(a, b), (c, b), (c, d), (a, d)] for a, b, c, d in rects],
                    facecolors=colour,
                    linewidths=0,
                )
            )
        sheet.add(
            LineCollection(
                list(self.grid_lines), colors=self.grid_colour, linewidths=self.thin_width
            )
        )
        central = self.central_rect(index)
        if central is not None:
            a, b, c, d = central
            sheet.add(
                LineCollection(
                    [[(a, b), (c, b), (c, d), (a, d), (a, b)]],
                    colors=self.theme.line,
                    linewidths=self.dashed_width,
                    linestyles=[(0, (DASH_PT, DASH_PT))],
                )
            )

    # -- the heatmap, painted into the background ---------------------------------------------

    def _cells(self, index: int) -> list[tuple[str, list[Rect]]]:
        """Frame ``index``'s cells by colour (the background's left out: it is there)."""
        levels = self.levels[index]
        found = []
        for level in range(1, LEVELS + 1):
            rows, cols = np.nonzero(levels == level)
            if len(rows):
                rects = [self.cell_rect(int(r), int(c)) for r, c in zip(rows, cols, strict=True)]
                found.append((self.heat(level), rects))
        return found

    def _paint(self, index: int) -> None:
        renderer, transform = self.renderer, self.transform
        gc = renderer.new_gc()
        gc.set_snap(False)
        gc.set_antialiased(False)
        gc.set_linewidth(0)
        for colour, rects in self._cells(index):
            rgb = tuple(c / 255 for c in hex_rgb(colour))
            renderer.draw_path(gc, rect_path(rects), transform, rgb)
        # Lines without antialiasing over the cells: the same pixels in every frame.
        gc.set_foreground(tuple(c / 255 for c in hex_rgb(self.grid_colour)))
        gc.set_linewidth(self.thin_width)
        renderer.draw_path(gc, self.grid_path, transform)
        central = self.central_rect(index)
        if central is not None:
            a, b, c, d = central
            gc.set_foreground(tuple(c / 255 for c in hex_rgb(self.theme.line)))
            gc.set_linewidth(self.dashed_width)
            gc.set_dashes(0, [DASH_PT * self.options.scale] * 2)
            box = np.asarray(
                [[(a, b), (c, b)], [(c, b), (c, d)], [(c, d), (a, d)], [(a, d), (a, b)]],
                dtype=float,
            )
            renderer.draw_path(gc, segments_path(box), transform)
        gc.restore()

    def _restore(self, index: int) -> Box | None:
        self.page.restore(self.cached)
        self._paint(index)
        cell = self.cell_px
        return self._box(
            self.grid_left,
            self.grid_top,
            self.grid_left + self.cols * cell,
            self.grid_top + self.rows * cell,
        )

    # -- frames -------------------------------------------------------------------------------

    def layer(self, index: int) -> Layer:
        field = self.field_rect(index)
        return Layer(
            outlines=[field] if field is not None else [],
            texts=[
                (*self.title_xy, self.titles[index], self._style()),
                (*self.caption2_xy, erf_caption(self.entries[index]), self._style()),
            ],
        )

    def draw(self, index: int) -> Box:
        box = super().draw(index)
        self.shown = {
            "levels": self.levels[index].copy(),
            "texts": [self.titles[index], erf_caption(self.entries[index])],
        }
        return box

    def frame_caption(self, index: int) -> str:
        """What frame ``index`` shows, for the HTML player."""
        return f"{self.titles[index]}; {erf_caption(self.entries[index])}"
