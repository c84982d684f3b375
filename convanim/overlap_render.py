"""The overlap map: how many kernel taps reach each output cell (a ``convanim.drawing.Drawing``).

The input grid on the left; on the right the output as a heatmap, its count written in every
cell, on a scale from the background to the output colour (the legend names the counts).
Frame i stamps input cell i (row-major) onto the output: the output cells it reaches are
shaded and their counts go up by one. After the last input cell comes one more frame, the
final map with nothing highlighted, which a still image shows by default.

Counts are ``convanim.matrix.overlap``'s: (input cell, kernel tap) pairs per output cell, so
after the last stamp each output cell holds the number of non-zeros in its row of C.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.text import Text

from convanim.cell_render import DPI, CellFigure, Layer, Rect, blend, rect_path, text_width
from convanim.drawing import Box
from convanim.geometry import ConvSpec
from convanim.matrix import conv_matrix
from convanim.options import RenderOptions
from convanim.render import Sheet, segments_path

__all__ = ["MAX_SIDE", "OverlapMap"]

MAX_SIDE = 64  # cells per side of the input and of the output
FIT_PX = 760  # both grids side by side aim at this width
CELL_PX_RANGE = (16.0, 34.0)
FONT_PT = 10.0
THICK_PT, THIN_PT = 1.2, 0.5
LEVELS = 16  # distinct heat colours at most: a GIF palette holds them and their blends
LOWEST = 0.18  # the heat of one tap, as the output colour's opacity over the background
LEGEND_MAX = 10  # swatches at most

Spec = ConvSpec[Any, Any]


class OverlapMap(CellFigure):
    """Frames 0 .. n-1 stamp input cells 0 .. n-1; frame n is the final map.

    ``counts(i)`` is the map after frame i; ``shown`` holds the last drawn frame's counts as
    written in the cells (``shown["counts"]``: {(row, col): text}) and its caption.
    """

    def __init__(self, spec: Spec, options: RenderOptions | None = None) -> None:
        super().__init__(options)
        self.spec = spec
        self.plane = spec.as_2d()
        reached = conv_matrix(spec) != 0  # (output cells, input cells)
        self.stamps = [np.flatnonzero(reached[:, j]) for j in range(reached.shape[1])]
        self.partial = np.cumsum(reached, axis=1).T  # row i: counts after stamping cells 0..i
        self.final = self.partial[-1]
        self.maximum = int(self.final.max())
        self._state_at: int | None = None
        self.state: Any = None  # the canvas after the stamps up to _state_at
        self._count_texts: list[Text] = []
        self.shown_counts: dict[tuple[int, int], str] = {}
        self._layout()
        self._cache()

    @property
    def input_cells(self) -> int:
        return len(self.stamps)

    @property
    def frame_count(self) -> int:
        return self.input_cells + 1

    def counts(self, index: int) -> npt.NDArray[np.int64]:
        """The map after frame ``index``, shaped like the output."""
        row = self.partial[min(index, self.input_cells - 1)]
        return np.asarray(row, dtype=np.int64).reshape(self.plane.output_size)

    # -- colours ------------------------------------------------------------------------------

    def level(self, count: int) -> int:
        """The heat level of a count: 0 for none, 1 .. LEVELS."""
        if count <= 0 or self.maximum == 0:
            return 0
        levels = min(self.maximum, LEVELS)
        return max(1, math.ceil(count / self.maximum * levels))

    def heat(self, count: int) -> str:
        level = self.level(count)
        if level == 0:
            return self.theme.background
        levels = min(self.maximum, LEVELS)
        alpha = LOWEST + (1 - LOWEST) * level / levels
        return blend(self.theme.output, self.theme.background, alpha)

    def colours(self) -> list[str]:
        theme = self.theme
        heats = sorted({self.heat(c) for c in range(self.maximum + 1)})
        flat = [theme.background, theme.input, theme.line, theme.text, *heats]
        shaded = [blend(theme.shade, under, theme.shade_alpha) for under in [theme.input, *heats]]
        return flat + shaded

    # -- layout -------------------------------------------------------------------------------

    def _layout(self) -> None:
        scale = self.options.scale
        in_rows, in_cols = self.plane.input_size
        out_rows, out_cols = self.plane.output_size
        low, high = CELL_PX_RANGE
        fit = FIT_PX / (in_cols + out_cols + 2)
        digits = len(str(self.maximum))
        font_needed = text_width(["0" * digits], FONT_PT * scale * 0.8) + 6 * scale
        self.cell_px = cell = round(max(min(max(fit, low), high) * scale, font_needed))
        self.font_pt = min(FONT_PT * scale, cell * 0.42 * 72 / DPI)
        font_px = FONT_PT * scale * DPI / 72
        line = round(font_px * 1.6)
        margin = round(max(0.8 * cell, font_px))
        gap = round(1.5 * cell)
        label_room = line if self.options.labels else 0
        grid_height = max(in_rows, out_rows) * cell
        self.in_left = margin
        self.out_left = margin + in_cols * cell + gap
        top = margin
        self.in_top = top + (grid_height - in_rows * cell) // 2
        self.out_top = top + (grid_height - out_rows * cell) // 2
        legend_top = top + grid_height + label_room + round(0.5 * cell)
        self.legend = self._legend_values()
        legend_text = "taps per output cell"
        swatch = cell
        legend_width = text_width([legend_text], FONT_PT * scale) + 0.5 * cell
        legend_width += len(self.legend) * (swatch + 0.25 * cell)
        captions = [self.caption(i) for i in range(self.frame_count)]
        caption_width = text_width(captions, FONT_PT * scale)
        caption_y = legend_top + swatch + round(0.5 * cell)
        content = self.out_left + out_cols * cell + margin
        width = math.ceil(max(content, legend_width + 2 * margin, caption_width + 2 * margin))
        shift = (width - content) // 2
        self.in_left += shift
        self.out_left += shift
        self.legend_xy = ((width - legend_width) / 2, legend_top)
        self.legend_text = legend_text
        self.swatch = swatch
        self.caption_xy = (width / 2, caption_y)
        height = caption_y + line + margin // 2
        self.line_width = THICK_PT * scale
        self.thin_width = THIN_PT * scale
        self._open(width, height)

    def _legend_values(self) -> list[int]:
        values = sorted({int(v) for v in self.final})
        if len(values) <= LEGEND_MAX:
            return values
        picks = np.linspace(0, len(values) - 1, LEGEND_MAX).round().astype(int)
        return [values[i] for i in sorted(set(picks))]

    def input_cell(self, cell: int) -> Rect:
        row, col = divmod(cell, self.plane.input_size[1])
        x, y = self.in_left + col * self.cell_px, self.in_top + row * self.cell_px
        return (x, y, x + self.cell_px, y + self.cell_px)

    def output_cell(self, cell: int) -> Rect:
        row, col = divmod(cell, self.plane.output_size[1])
        x, y = self.out_left + col * self.cell_px, self.out_top + row * self.cell_px
        return (x, y, x + self.cell_px, y + self.cell_px)

    def output_centre(self, row: int, col: int) -> tuple[float, float]:
        x0, y0, x1, y1 = self.output_cell(row * self.plane.output_size[1] + col)
        return (x0 + x1) / 2, (y0 + y1) / 2

    def caption(self, index: int) -> str:
        if index >= self.input_cells:
            low, high = int(self.final.min()), self.maximum
            counted = f"every output cell {high} taps" if low == high else f"{low} to {high} taps"
            return f"after all {self.input_cells} stamps: {counted}"
        stamp = len(self.stamps[index])
        if self.spec.dims == 1:
            where = f"input cell {index}"
        else:
            row, col = divmod(index, self.plane.input_size[1])
            where = f"input cell ({row}, {col})"
        cells = "cell" if stamp == 1 else "cells"
        return f"{where} reaches {stamp} output {cells}"

    # -- static parts -------------------------------------------------------------------------

    def _style(self, **changes: Any) -> dict[str, Any]:
        return self.text_style(**{"fontsize": self.font_pt, **changes})

    def _grid(self, sheet: Sheet, left: float, top: float, rows: int, cols: int) -> None:
        cell = self.cell_px
        xs = left + np.arange(cols + 1) * cell
        ys = top + np.arange(rows + 1) * cell
        lines = [[(x, ys[0]), (x, ys[-1])] for x in xs] + [[(xs[0], y), (xs[-1], y)] for y in ys]
        sheet.add(LineCollection(lines, colors=self.theme.line, linewidths=self.thin_width))

    def _add_static(self, sheet: Sheet) -> None:
        theme = self.theme
        in_rows, in_cols = self.plane.input_size
        out_rows, out_cols = self.plane.output_size
        cell = self.cell_px
        x0, y0, _, _ = self.input_cell(0)
        sheet.add(
            PolyCollection(
                [
                    [
                        (x0, y0),
                        (x0 + in_cols * cell, y0),
                        (x0 + in_cols * cell, y0 + in_rows * cell),
                        (x0, y0 + in_rows * cell),
                    ]
                ],
                facecolors=theme.input,
                linewidths=0,
            )
        )
        self._grid(sheet, x0, y0, in_rows, in_cols)
        self._grid(sheet, self.out_left, self.out_top, out_rows, out_cols)
        big = self._style(fontsize=FONT_PT * self.options.scale)
        x, y = self.legend_xy
        sheet.text(x, y + self.swatch / 2, self.legend_text, **{**big, "ha": "left"})
        x += text_width([self.legend_text], FONT_PT * self.options.scale) + 0.5 * cell
        for value in self.legend:
            rect = (x, y, x + self.swatch, y + self.swatch)
            sheet.add(
                PolyCollection(
                    [
                        [
                            (rect[0], rect[1]),
                            (rect[2], rect[1]),
                            (rect[2], rect[3]),
                            (rect[0], rect[3]),
                        ]
                    ],
                    facecolors=self.heat(value),
                    edgecolors=theme.line,
                    linewidths=self.thin_width,
                )
            )
            sheet.text(x + self.swatch / 2, y + self.swatch / 2, str(value), **self._style())
            x += self.swatch + 0.25 * cell
        if self.options.labels:
            below = {**big, "va": "top"}
            sheet.text(x0 + in_cols * cell / 2, y0 + in_rows * cell + 0.3 * cell, "input", **below)
            sheet.text(
                self.out_left + out_cols * cell / 2,
                self.out_top + out_rows * cell + 0.3 * cell,
                "output",
                **below,
            )

    def _add_frame_static(self, sheet: Sheet, index: int) -> None:
        """The static parts and the map after frame ``index``, as artists (vector output)."""
        self._add_static(sheet)
        for colour, rects, texts in self._cells(index, None):
            if rects:
                sheet.add(
                    PolyCollection(
                        [[(a, b), (c, b), (c, d), (a, d)] for a, b, c, d in rects],
                        facecolors=colour,
                        edgecolors=self.theme.line,
                        linewidths=self.thin_width,
                    )
                )
            for x, y, text in texts:
                sheet.text(x, y, text, **self._style())

    # -- the map, painted into the background -------------------------------------------------

    def _cells(
        self, index: int, only: npt.NDArray[np.intp] | None
    ) -> list[tuple[str, list[Rect], list[tuple[float, float, str]]]]:
        """The map's cells after frame ``index`` by colour: (colour, cells, their counts).

        ``only``: these output cells (flat indices); otherwise every cell holding a count.
        After the last stamp every cell is written, a zero included.
        """
        counts = self.counts(index).ravel()
        done = index >= self.input_cells - 1
        cells = np.arange(counts.size) if only is None else only
        groups: dict[str, tuple[list[Rect], list[tuple[float, float, str]]]] = {}
        for cell in cells:
            count = int(counts[cell])
            if count == 0 and not done:
                continue
            rects, texts = groups.setdefault(self.heat(count), ([], []))
            rect = self.output_cell(int(cell))
            rects.append(rect)
            texts.append(((rect[0] + rect[2]) / 2, (rect[1] + rect[3]) / 2, str(count)))
        return [(colour, rects, texts) for colour, (rects, texts) in groups.items()]

    def _paint(self, index: int, only: npt.NDArray[np.intp] | None) -> None:
        renderer, transform = self.renderer, self.transform
        gc = renderer.new_gc()
        gc.set_snap(False)
        texts: list[tuple[float, float, str]] = []
        for colour, rects, written in self._cells(index, only):
            if not rects:
                continue
            gc.set_antialiased(False)
            gc.set_linewidth(0)
            rgb = tuple(c / 255 for c in _rgb(colour))
            renderer.draw_path(gc, rect_path(rects), transform, rgb)
            # Edges without antialiasing: a cell painted again (its neighbour's stamp) gives the
            # same pixels, where antialiased edges would darken with every coat.
            gc.set_foreground(tuple(c / 255 for c in _rgb(self.theme.line)))
            gc.set_linewidth(self.thin_width)
            edges = []
            for x0, y0, x1, y1 in rects:
                edges += [[(x0, y0), (x1, y0)], [(x1, y0), (x1, y1)], [(x1, y1), (x0, y1)],
                          [(x0, y1), (x0, y0)]]  # fmt: skip
            renderer.draw_path(gc, segments_path(np.asarray(edges, dtype=float)), transform)
            texts += written
        gc.restore()
        while len(self._count_texts) < len(texts):
            self._count_texts.append(self.sheet.text(0, 0, "", animated=True, **self._style()))
        self._counts_used = len(texts)
        for artist, (x, y, text) in zip(self._count_texts, texts, strict=False):
            artist.set_position((x, y))
            artist.set_text(text)
            self.sheet.draw_artist(artist)

    def _restore(self, index: int) -> Box | None:
        target = min(index, self.input_cells - 1)
        box: Box | None = None
        if self._state_at == target:
            self.page.restore(self.state)
        elif self._state_at is not None and target == self._state_at + 1:
            self.page.restore(self.state)
            stamp = self.stamps[target]
            # The last stamp also writes the zeros that nothing reached.
            only = None if target == self.input_cells - 1 else stamp
            self._paint(target, only)
            box = self._map_box() if only is None else self._cells_box(stamp)
        else:
            self.page.restore(self.cached)
            self._paint(target, None)
            box = self._map_box()
        if self._state_at != target:
            self.state = self.page.copy()
            self._state_at = target
        counts = self.counts(index)
        done = target == self.input_cells - 1
        self.shown_counts = {
            (int(r), int(c)): str(int(counts[r, c]))
            for r, c in np.ndindex(counts.shape)
            if counts[r, c] > 0 or done
        }
        return box

    def _drawn_texts(self) -> list[Text]:
        return self._count_texts[: getattr(self, "_counts_used", 0)]

    def _cells_box(self, cells: npt.NDArray[np.intp]) -> Box | None:
        if len(cells) == 0:
            return None
        rects = np.asarray([self.output_cell(int(c)) for c in cells])
        return self._box(rects[:, 0].min(), rects[:, 1].min(), rects[:, 2].max(), rects[:, 3].max())

    def _map_box(self) -> Box:
        out_rows, out_cols = self.plane.output_size
        cell = self.cell_px
        return self._box(
            self.out_left,
            self.out_top,
            self.out_left + out_cols * cell,
            self.out_top + out_rows * cell,
        )

    # -- frames -------------------------------------------------------------------------------

    def layer(self, index: int) -> Layer:
        theme = self.theme
        style = self._style(fontsize=FONT_PT * self.options.scale, va="top")
        caption = (*self.caption_xy, self.caption(index), style)
        if index >= self.input_cells:
            return Layer(texts=[caption])
        stamp = [self.output_cell(int(c)) for c in self.stamps[index]]
        current = self.input_cell(index)
        return Layer(
            fills=[(theme.shade, theme.shade_alpha, [current, *stamp])],
            outlines=[current, *stamp],
            texts=[caption],
        )

    def frame_caption(self, index: int) -> str:
        """What frame ``index`` shows, for the HTML player: "input cell (0, 1) reaches 4 output
        cells", or the final map's counts."""
        return self.caption(index)

    def draw(self, index: int) -> Box:
        box = super().draw(index)
        self.shown = {"counts": dict(self.shown_counts), "caption": self.caption(index)}
        return box


def _rgb(colour: str) -> tuple[int, int, int]:
    from convanim.theme import hex_rgb

    return hex_rgb(colour)
