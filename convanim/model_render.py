"""A model's receptive fields drawn on its real input (a ``convanim.drawing.Drawing``).

Frame i is one layer of the model's graph (``convanim.graph_fields.ModelField``): the input
at its real size, scaled to fit, and the field of the layer's centre unit shaded and outlined
on it, with the layer's name and numbers in the captions. The drawn area is the input and,
around it, as much of the padding as the drawn fields reach into: an outline is always the
whole field, so a field larger than the input is seen to be.

A small input is drawn cell by cell with its grid lines, as the stack strips draw it; from
``GRID_MIN_PX`` down (a 224×224 input is about 1.5 pixels a cell) the input is a plane with a
coarse grid every 2**k cells (k as small as keeps the lines ``COARSE_MIN_PX`` apart), which
the last caption names: "input 224×224 · grid lines every 16 cells".

Pixel coordinates are (x, y) from the top-left corner of a frame, y downwards; cells are
(row, col), a 1-D input one row of cells.
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
from convanim.options import RenderOptions
from convanim.render import Sheet, segments_path
from convanim.theme import hex_rgb

__all__ = ["ModelFieldMap", "field_caption", "grid_step", "model_title"]

FIT_PX = 360  # the drawn area's longer side (2-D); a 1-D input's row: 760
FIT_1D_PX = 760
ROW_1D_PX = 24  # the height of a 1-D input's row
CELL_PX_MAX = 24.0
GRID_MIN_PX = 6.0  # cells at least this wide get their own grid lines
COARSE_MIN_PX = 10.0  # coarse grid lines at least this far apart
FONT_PT = 10.0
THICK_PT, THIN_PT = 2.4, 0.5
PLANE_ALPHA = 0.3  # the input: its colour this opaque over the background
FIELD_ALPHA = 0.55  # the field: the highlight this opaque over the input or the padding
GRID_ALPHA = 0.45
TIMES = "\u00d7"


def grid_step(cell_px: float) -> int:
    """Cells between grid lines: 1 for cells at least ``GRID_MIN_PX`` wide, else the smallest
    power of two whose lines are ``COARSE_MIN_PX`` apart."""
    if cell_px >= GRID_MIN_PX:
        return 1
    step = 2
    while step * cell_px < COARSE_MIN_PX:
        step *= 2
    return step


def _shape(size: Sequence[int]) -> str:
    return TIMES.join(str(v) for v in size)


def model_title(row: Any) -> str:
    """A model's frame's first caption: "layer 7: layer1.0.conv1 (Conv2d)"."""
    return f"layer {row.layer}: {row.name} ({row.op})"


def field_caption(row: Any) -> str:
    """The second caption: "centre unit's field 27×27 from -13,-13 · jump 4"."""
    spans = [span for span in row.centre_field if span is not None]
    if len(spans) < len(row.centre_field):
        return "the centre unit reads only padding"
    size = [last - first + 1 for first, last in spans]
    first = ",".join(str(a) for a, _ in spans)
    stride = row.field.stride if isinstance(row.field.stride, tuple) else (row.field.stride,)
    jumps = {str(s) for s in stride}
    jump = "x".join(str(s) for s in stride) if len(jumps) > 1 else jumps.pop()
    clipped = " (clipped)" if row.clipped else ""
    return f"centre unit's field {_shape(size)}{clipped} from {first} · jump {jump}"


class ModelFieldMap(CellFigure):
    """One frame per row of ``rows``: the centre unit's field over the input.

    ``input_size`` is the model's spatial input, (rows, cols) or (length,); ``titles`` the
    first captions, one per row. ``origin`` is the drawn area's first cell (row, col), in
    input coordinates (negative: padding), ``cells`` its size in cells, ``cell_px`` the size
    of a cell in pixels (fractional when the input is scaled down).
    """

    def __init__(
        self,
        rows: Sequence[Any],
        input_size: Sequence[int],
        titles: Sequence[str],
        options: RenderOptions | None = None,
    ) -> None:
        super().__init__(options)
        if not rows or len(titles) != len(rows):
            raise ValueError("one title per row, and at least one row")
        self.rows = list(rows)
        self.titles = list(titles)
        self.one_d = len(input_size) == 1
        self.input_size = (1, int(input_size[0])) if self.one_d else tuple(input_size)
        self._extent()
        self._layout()
        self.grid = self._grid_segments()  # the same lines in every frame: made once
        self.grid_path = segments_path(self.grid)
        self._cache()

    @property
    def frame_count(self) -> int:
        return len(self.rows)

    # -- geometry -----------------------------------------------------------------------------

    def spans(self, index: int) -> list[tuple[int, int]] | None:
        """Frame ``index``'s field, first and last cell per axis (rows, cols), unclipped."""
        found = self.rows[index].centre_field
        if any(span is None for span in found):
            return None
        spans = [(int(a), int(b)) for a, b in found]
        return [(0, 0), *spans] if self.one_d else spans

    def _extent(self) -> None:
        lows, highs = [0, 0], [n - 1 for n in self.input_size]
        for index in range(len(self.rows)):
            for axis, span in enumerate(self.spans(index) or []):
                lows[axis] = min(lows[axis], span[0])
                highs[axis] = max(highs[axis], span[1])
        self.origin = (lows[0], lows[1])
        self.cells = (highs[0] - lows[0] + 1, highs[1] - lows[1] + 1)

    def _layout(self) -> None:
        scale = self.options.scale
        rows, cols = self.cells
        if self.one_d:
            self.cell_px = min(FIT_1D_PX / cols, CELL_PX_MAX) * scale
            self.row_px = max(self.cell_px, ROW_1D_PX * scale)
        else:
            self.cell_px = min(FIT_PX / max(rows, cols), CELL_PX_MAX) * scale
            self.row_px = self.cell_px
        self.step = grid_step(self.cell_px)
        font_px = FONT_PT * scale * DPI / 72
        line = round(font_px * 1.6)
        margin = round(max(20 * scale, font_px))
        area_w, area_h = cols * self.cell_px, rows * self.row_px
        every = "one square per cell" if self.step == 1 else f"grid lines every {self.step} cells"
        size = self.input_size[1:] if self.one_d else self.input_size
        self.footer = f"input {_shape(size)} · {every}"
        captions = [*self.titles, *(field_caption(row) for row in self.rows), self.footer]
        content = max(area_w, text_width(captions, FONT_PT * scale))
        width = math.ceil(content + 2 * margin)
        self.left = (width - area_w) / 2
        self.top = float(margin)
        y = margin + area_h + round(0.8 * line)
        self.title_xy = (width / 2, y)
        self.caption_xy = (width / 2, y + line)
        self.footer_xy = (width / 2, y + 2 * line)
        height = math.ceil(y + 3 * line + margin / 2)
        self.line_width = THICK_PT * scale
        self.thin_width = THIN_PT * scale
        theme = self.theme
        self.plane = blend(theme.input, theme.background, PLANE_ALPHA)
        self.grid_colour = blend(theme.line, self.plane, GRID_ALPHA)
        self.field_in = blend(theme.highlight, self.plane, FIELD_ALPHA)
        self.field_out = blend(theme.highlight, theme.background, FIELD_ALPHA * 0.6)
        self._open(width, height)

    def rect(self, first: tuple[int, int], last: tuple[int, int]) -> Rect:
        """The pixel rectangle of the cells from ``first`` to ``last`` (row, col), inclusive,
        in input coordinates."""
        (r0, c0), (r1, c1) = first, last
        x0 = self.left + (c0 - self.origin[1]) * self.cell_px
        y0 = self.top + (r0 - self.origin[0]) * self.row_px
        return (x0, y0, x0 + (c1 - c0 + 1) * self.cell_px, y0 + (r1 - r0 + 1) * self.row_px)

    def input_rect(self) -> Rect:
        rows, cols = self.input_size
        return self.rect((0, 0), (rows - 1, cols - 1))

    def field_rect(self, index: int) -> Rect | None:
        """Frame ``index``'s whole field in pixels (None where the unit reads only padding)."""
        spans = self.spans(index)
        if spans is None:
            return None
        (r0, r1), (c0, c1) = spans
        return self.rect((r0, c0), (r1, c1))

    def colours(self) -> list[str]:
        theme = self.theme
        return [theme.background, theme.line, theme.text, self.plane, self.grid_colour,
                self.field_in, self.field_out]  # fmt: skip

    # -- static parts -------------------------------------------------------------------------

    def _style(self, **changes: Any) -> dict[str, Any]:
        return self.text_style(**{"fontsize": FONT_PT * self.options.scale, "va": "top", **changes})

    def _grid_segments(self) -> npt.NDArray[np.float64]:
        """The input's border and its grid lines, every ``step`` cells."""
        x0, y0, x1, y1 = self.input_rect()
        rows, cols = self.input_size
        xs = [x0 + c * self.cell_px for c in range(0, cols + 1, self.step)] + [x1]
        ys = [y0 + r * self.row_px for r in range(0, rows + 1, self.step)] + [y1]
        lines = [[(x, y0), (x, y1)] for x in sorted(set(xs))]
        lines += [[(x0, y), (x1, y)] for y in sorted(set(ys))]
        return np.asarray(lines, dtype=float)

    def _add_static(self, sheet: Sheet) -> None:
        self._add_input(sheet, [])

    def _add_input(self, sheet: Sheet, fills: list[tuple[str, list[Rect]]]) -> None:
        """The input plane, ``fills`` over it (a frame's field), its grid lines over both,
        and the footer, as artists."""
        x0, y0, x1, y1 = self.input_rect()
        sheet.add(
            PolyCollection(
                [[(x0, y0), (x1, y0), (x1, y1), (x0, y1)]], facecolors=self.plane, linewidths=0
            )
        )
        for colour, rects in fills:
            if rects:
                sheet.add(
                    PolyCollection(
                        [[(a, b), (c, b), (c, d), (a, d)] for a, b, c, d in rects],
                        facecolors=colour,
                        linewidths=0,
                    )
                )
        sheet.add(
            LineCollection(list(self.grid), colors=self.grid_colour, linewidths=self.thin_width)
        )
        sheet.text(*self.footer_xy, self.footer, **self._style())

    def _fills(self, index: int) -> list[tuple[str, list[Rect]]]:
        """Frame ``index``'s field as opaque rectangles: over the input, and over padding."""
        field = self.field_rect(index)
        if field is None:
            return []
        fx0, fy0, fx1, fy1 = field
        ix0, iy0, ix1, iy1 = self.input_rect()
        inside = (max(fx0, ix0), max(fy0, iy0), min(fx1, ix1), min(fy1, iy1))
        if inside[0] >= inside[2] or inside[1] >= inside[3]:
            return [(self.field_out, [field])]
        outside = [
            (fx0, fy0, fx1, inside[1]),  # above the input
            (fx0, inside[3], fx1, fy1),  # below
            (fx0, inside[1], inside[0], inside[3]),  # left
            (inside[2], inside[1], fx1, inside[3]),  # right
        ]
        outside = [r for r in outside if r[2] > r[0] and r[3] > r[1]]
        return [(self.field_in, [inside]), (self.field_out, outside)]

    def _add_frame_static(self, sheet: Sheet, index: int) -> None:
        """The static parts and frame ``index``'s field fill, as artists (vector output)."""
        self._add_input(sheet, self._fills(index))

    # -- frames -------------------------------------------------------------------------------

    def _restore(self, index: int) -> Box | None:
        """The background, the field's fill painted into it, the grid lines over the fill."""
        self.page.restore(self.cached)
        renderer, transform = self.renderer, self.transform
        gc = renderer.new_gc()
        gc.set_snap(False)
        gc.set_antialiased(False)
        gc.set_linewidth(0)
        for colour, rects in self._fills(index):
            if rects:
                rgb = tuple(c / 255 for c in hex_rgb(colour))
                renderer.draw_path(gc, rect_path(rects), transform, rgb)
        gc.set_foreground(tuple(c / 255 for c in hex_rgb(self.grid_colour)))
        gc.set_linewidth(self.thin_width)
        renderer.draw_path(gc, self.grid_path, transform)
        gc.restore()
        rows, cols = self.cells
        return self._box(
            self.left, self.top, self.left + cols * self.cell_px, self.top + rows * self.row_px
        )

    def layer(self, index: int) -> Layer:
        field = self.field_rect(index)
        return Layer(
            outlines=[field] if field is not None else [],
            texts=[
                (*self.title_xy, self.titles[index], self._style()),
                (*self.caption_xy, field_caption(self.rows[index]), self._style()),
            ],
        )

    def frame_caption(self, index: int) -> str:
        """What frame ``index`` shows, for the HTML player."""
        return f"{self.titles[index]}; {field_caption(self.rows[index])}"
