"""The convolution as a matrix: the input grid, its unrolled vector x, the matrix, y and the
output grid, side by side (a ``convanim.drawing.Drawing``).

Laid out as a multiplication table: x runs along the top of the matrix, one cell per column,
and y down its right side, one cell per row, so that y's cell i is row i of the matrix times
x. The input grid stands to the left, the output grid to the right. Frame i follows output
cell i: its row of the matrix, the input cells that row reads (in x and in the grid), and the
products, written out below. For a transposed convolution the matrix drawn is Cᵀ, the
transpose of the matrix C of the direct convolution conv_arithmetic pairs it with
(``convanim.matrix.transpose_pair``): row i of Cᵀ is column i of C.

Structural zeros (no kernel tap joins that input to that output) are blank cells; every other
cell shows its weight, as a symbol (w₀₀ … w₂₂, the kernel's own row and column) or, with
values, as a number.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
from matplotlib.collections import LineCollection, PolyCollection

from convanim.cell_render import DPI, CellFigure, Layer, Rect, blend, subscript, text_width
from convanim.geometry import ConvSpec
from convanim.matrix import conv_matrix, tap_inputs, transpose_pair
from convanim.options import RenderOptions
from convanim.render import Sheet
from convanim.values import format_value

__all__ = ["MatrixFigure"]

CELL_PX = 24.0  # a cell's height at scale 1; widths grow to fit the widest text
FONT_PT = 8.0  # the cells' text at scale 1
TITLE_PT = 10.0
THICK_PT, THIN_PT = 1.2, 0.5
MAX_TERMS = 12  # products written out; more are summed in words
NONZERO_ALPHA = 0.14  # of the line colour, over the background: the cells with a weight

Spec = ConvSpec[Any, Any]


def _number(value: float) -> str:
    return format_value(float(value), 4)


class MatrixFigure(CellFigure):
    """Frame i: output cell i (row-major), its row of the matrix, the inputs it reads.

    ``x`` and ``weight`` (both or neither) are the numbers to show; without them, symbols.
    ``shown`` holds the last drawn frame's texts (its caption is ``shown["caption"]``).
    """

    def __init__(
        self,
        spec: Spec,
        options: RenderOptions | None = None,
        x: npt.ArrayLike | None = None,
        weight: npt.ArrayLike | None = None,
    ) -> None:
        super().__init__(options)
        self.spec = spec
        self.plane = spec.as_2d()
        self.values = x is not None
        kernel = np.ones(spec.kernel_size) if weight is None else np.asarray(weight, dtype=float)
        self.matrix = conv_matrix(spec, kernel)
        inputs = tap_inputs(spec)
        taps = inputs.shape[1]
        # Which kernel weight each entry is: tap t's, flipped (reversed) for a transposed spec.
        self.weight_index = np.full(self.matrix.shape, -1, dtype=np.intp)
        for out, row in enumerate(inputs):
            for tap, column in enumerate(row):
                if column >= 0:
                    self.weight_index[out, column] = taps - 1 - tap if spec.transposed else tap
        self.nonzero = self.weight_index >= 0
        self.x = None if x is None else np.asarray(x, dtype=float).reshape(-1)
        self.y = None if self.x is None else self.matrix @ self.x
        self.kernel = kernel
        self.name = "Cᵀ" if spec.transposed else "C"
        self._layout()
        self._cache()

    @property
    def frame_count(self) -> int:
        return int(self.matrix.shape[0])

    @property
    def default_columns(self) -> int:
        """One row of frames per output row (a 1-D output is one row)."""
        return int(self.plane.output_size[1])

    # -- symbols and numbers ------------------------------------------------------------------

    def _index(self, cell: int, grid: tuple[int, int]) -> tuple[int, ...]:
        """A cell's (row, col), or (position,) in 1-D."""
        row, col = divmod(cell, grid[1])
        return (col,) if self.spec.dims == 1 else (row, col)

    def weight_text(self, out: int, column: int) -> str:
        index = int(self.weight_index[out, column])
        if self.values:
            return _number(self.matrix[out, column])
        kernel = self.plane.kernel_size
        return subscript("w", self._index(index, kernel))

    def input_text(self, cell: int) -> str:
        if self.x is not None:
            return _number(self.x[cell])
        return subscript("x", self._index(cell, self.plane.input_size))

    def output_text(self, cell: int) -> str:
        if self.y is not None:
            return _number(self.y[cell])
        return subscript("y", self._index(cell, self.plane.output_size))

    def caption(self, out: int) -> str:
        """The arithmetic of output cell ``out``: y₀₁ = w₀₀x₀₁ + … (= 12 with values)."""
        name = subscript("y", self._index(out, self.plane.output_size))
        columns = [int(c) for c in np.flatnonzero(self.nonzero[out])]
        if len(columns) == 0:
            return f"{name} = 0: no kernel tap reaches an input cell"
        if self.values:
            assert self.x is not None and self.y is not None
            terms = [f"{_number(self.matrix[out, c])}×{_number(self.x[c])}" for c in columns]
            total = f" = {_number(self.y[out])}"
        else:
            terms = [f"{self.weight_text(out, c)}{self.input_text(c)}" for c in columns]
            total = ""
        if len(terms) > MAX_TERMS:
            return f"{name} = the sum of {len(terms)} products{total}"
        return f"{name} = {' + '.join(terms)}{total}"

    def title(self) -> str:
        rows, cols = self.matrix.shape
        if not self.spec.transposed:
            return f"y = C x: C is {rows}×{cols}"
        direct = _pair(self.spec)
        of = (
            f" of the {_size(direct.input_size)} → {_size(direct.output_size)} convolution"
            if direct is not None
            else ""
        )
        return f"y = Cᵀ x, C ({cols}×{rows}) the matrix{of}"

    # -- layout -------------------------------------------------------------------------------

    def _layout(self) -> None:
        scale = self.options.scale
        font = FONT_PT * scale
        out_cells, in_cells = self.matrix.shape
        texts = [self.input_text(c) for c in range(in_cells)]
        texts += [self.output_text(c) for c in range(out_cells)]
        texts += [self.weight_text(o, c) for o, c in zip(*np.nonzero(self.nonzero), strict=True)]
        self.font_pt = font
        ch = round(CELL_PX * scale)
        cw = max(ch, round(text_width(texts, font) + 8 * scale))
        self.cell = (cw, ch)
        gap = round(1.6 * ch)
        margin = round(0.8 * ch)
        line = round(TITLE_PT * scale * DPI / 72 * 1.6)
        in_rows, in_cols = self.plane.input_size
        out_rows, out_cols = self.plane.output_size
        labels = self.options.labels

        title = self.title()
        captions = [self.caption(o) for o in range(out_cells)]
        caption_width = text_width(captions, TITLE_PT * scale)
        title_width = text_width([title], TITLE_PT * scale)
        name_width = text_width([self.name, "x"], TITLE_PT * scale)
        gap = max(gap, round(name_width + 12 * scale))

        # Columns, left to right: input grid, gap, matrix (x on top), gap, y, gap, output grid.
        grid_left = margin
        matrix_left = grid_left + in_cols * cw + gap
        y_left = matrix_left + in_cells * cw + gap
        out_left = y_left + cw + gap
        content_right = out_left + out_cols * cw + margin
        width = max(
            content_right, round(caption_width + 2 * margin), round(title_width + 2 * margin)
        )
        shift = (width - content_right) // 2
        grid_left, matrix_left, y_left, out_left = (
            v + shift for v in (grid_left, matrix_left, y_left, out_left)
        )
        x_top = margin + line + round(0.4 * ch)
        matrix_top = x_top + ch + round(0.25 * ch)
        matrix_bottom = matrix_top + out_cells * ch
        middle = (matrix_top + matrix_bottom) / 2
        label_room = line if labels else 0
        grid_top = max(round(middle - in_rows * ch / 2), x_top)
        out_top = max(round(middle - out_rows * ch / 2), x_top)
        bottom = max(
            matrix_bottom,
            grid_top + in_rows * ch + label_room,
            out_top + out_rows * ch + label_room,
        )
        caption_y = bottom + round(0.6 * ch)
        height = caption_y + line + margin // 2

        self.title_xy = (width / 2, margin)
        self.caption_xy = (width / 2, caption_y)
        self.x_top, self.matrix_top = x_top, matrix_top
        self.lefts = {"grid": grid_left, "matrix": matrix_left, "y": y_left, "out": out_left}
        self.grid_top, self.out_top = grid_top, out_top
        self.line_width = THICK_PT * scale
        self.thin_width = THIN_PT * scale
        self._open(width, height)

    # -- cells --------------------------------------------------------------------------------

    def input_cell(self, cell: int) -> Rect:
        """The input grid's cell (row-major index)."""
        cw, ch = self.cell
        row, col = divmod(cell, self.plane.input_size[1])
        x, y = self.lefts["grid"] + col * cw, self.grid_top + row * ch
        return (x, y, x + cw, y + ch)

    def output_cell(self, cell: int) -> Rect:
        cw, ch = self.cell
        row, col = divmod(cell, self.plane.output_size[1])
        x, y = self.lefts["out"] + col * cw, self.out_top + row * ch
        return (x, y, x + cw, y + ch)

    def x_cell(self, column: int) -> Rect:
        cw, ch = self.cell
        x = self.lefts["matrix"] + column * cw
        return (x, self.x_top, x + cw, self.x_top + ch)

    def y_cell(self, row: int) -> Rect:
        cw, ch = self.cell
        y = self.matrix_top + row * ch
        return (self.lefts["y"], y, self.lefts["y"] + cw, y + ch)

    def matrix_cell(self, row: int, column: int) -> Rect:
        cw, ch = self.cell
        x, y = self.lefts["matrix"] + column * cw, self.matrix_top + row * ch
        return (x, y, x + cw, y + ch)

    def matrix_row(self, row: int) -> Rect:
        cw, _ch = self.cell
        x0, y0, _, y1 = self.matrix_cell(row, 0)
        return (x0, y0, x0 + self.matrix.shape[1] * cw, y1)

    @staticmethod
    def centre(rect: Rect) -> tuple[float, float]:
        x0, y0, x1, y1 = rect
        return (x0 + x1) / 2, (y0 + y1) / 2

    # -- colours ------------------------------------------------------------------------------

    @property
    def weight_fill(self) -> str:
        return blend(self.theme.line, self.theme.background, NONZERO_ALPHA)

    def colours(self) -> list[str]:
        theme = self.theme
        flat = [theme.background, theme.input, theme.output, theme.line, theme.text, theme.pale]
        flat.append(self.weight_fill)
        shaded = [
            blend(theme.shade, under, theme.shade_alpha)
            for under in (theme.input, theme.output, theme.background, self.weight_fill)
        ]
        return flat + shaded

    def inks(self) -> list[str] | None:
        return [self.theme.line, self.theme.text, self.theme.pale]

    # -- static parts -------------------------------------------------------------------------

    def _style(self, **changes: Any) -> dict[str, Any]:
        return self.text_style(**{"fontsize": self.font_pt, "fontweight": "normal", **changes})

    def _cells(self, sheet: Sheet, rects: list[Rect], colour: str) -> None:
        sheet.add(
            PolyCollection(
                [[(x0, y0), (x1, y0), (x1, y1), (x0, y1)] for x0, y0, x1, y1 in rects],
                facecolors=colour,
                edgecolors=self.theme.line,
                linewidths=self.thin_width,
            )
        )

    def _add_static(self, sheet: Sheet) -> None:
        theme = self.theme
        out_cells, in_cells = self.matrix.shape
        inputs = [self.input_cell(c) for c in range(in_cells)]
        outputs = [self.output_cell(c) for c in range(out_cells)]
        self._cells(sheet, inputs, theme.input)
        self._cells(sheet, [self.x_cell(c) for c in range(in_cells)], theme.input)
        self._cells(sheet, outputs, theme.output)
        self._cells(sheet, [self.y_cell(r) for r in range(out_cells)], theme.output)
        # The matrix: a pale grid of blank zeros, the weights' cells filled.
        x0, y0, _, _ = self.matrix_cell(0, 0)
        _, _, x1, y1 = self.matrix_cell(out_cells - 1, in_cells - 1)
        cw, ch = self.cell
        lines = [[(x, y0), (x, y1)] for x in np.arange(in_cells + 1) * cw + x0]
        lines += [[(x0, y), (x1, y)] for y in np.arange(out_cells + 1) * ch + y0]
        sheet.add(LineCollection(lines, colors=theme.pale, linewidths=self.thin_width))
        weights = [self.matrix_cell(r, c) for r, c in zip(*np.nonzero(self.nonzero), strict=True)]
        if weights:
            self._cells(sheet, weights, self.weight_fill)
        border = [
            [(x0, y0), (x1, y0)],
            [(x1, y0), (x1, y1)],
            [(x1, y1), (x0, y1)],
            [(x0, y1), (x0, y0)],
        ]
        sheet.add(LineCollection(border, colors=theme.line, linewidths=self.line_width))

        style = self._style()
        for c, rect in enumerate(inputs):
            sheet.text(*self.centre(rect), self.input_text(c), **style)
            sheet.text(*self.centre(self.x_cell(c)), self.input_text(c), **style)
        for r, rect in enumerate(outputs):
            sheet.text(*self.centre(rect), self.output_text(r), **style)
            sheet.text(*self.centre(self.y_cell(r)), self.output_text(r), **style)
        for r, c in zip(*np.nonzero(self.nonzero), strict=True):
            sheet.text(*self.centre(self.matrix_cell(r, c)), self.weight_text(r, c), **style)

        big = self._style(fontsize=TITLE_PT * self.options.scale)
        sheet.text(*self.title_xy, self.title(), **{**big, "va": "top"})
        gap_x = (
            self.lefts["matrix"]
            - (self.lefts["matrix"] - self.lefts["grid"] - self.plane.input_size[1] * cw) / 2
        )
        sheet.text(gap_x, self.centre(self.x_cell(0))[1], "x", **{**big, "fontstyle": "italic"})
        sheet.text(gap_x, (self.matrix_top + y1) / 2, self.name, **big)
        y_x, _ = self.centre(self.y_cell(0))
        sheet.text(y_x, self.centre(self.x_cell(0))[1], "y", **{**big, "fontstyle": "italic"})
        if self.options.labels:
            in_rows, in_cols = self.plane.input_size
            out_rows, out_cols = self.plane.output_size
            below = {"va": "top"}
            sheet.text(
                self.lefts["grid"] + in_cols * cw / 2,
                self.grid_top + in_rows * ch + 0.3 * ch,
                "input",
                **{**big, **below},
            )
            sheet.text(
                self.lefts["out"] + out_cols * cw / 2,
                self.out_top + out_rows * ch + 0.3 * ch,
                "output",
                **{**big, **below},
            )

    # -- frames -------------------------------------------------------------------------------

    def reads(self, out: int) -> list[int]:
        """The input cells (row-major) output cell ``out`` reads: its row's non-zeros."""
        return [int(c) for c in np.flatnonzero(self.nonzero[out])]

    def layer(self, index: int) -> Layer:
        theme = self.theme
        reads = self.reads(index)
        shaded = [self.matrix_row(index), self.y_cell(index), self.output_cell(index)]
        shaded += [self.x_cell(c) for c in reads] + [self.input_cell(c) for c in reads]
        caption = self.caption(index)
        big = self._style(fontsize=TITLE_PT * self.options.scale, va="top")
        return Layer(
            fills=[(theme.shade, theme.shade_alpha, shaded)],
            outlines=[self.matrix_row(index), self.y_cell(index), self.output_cell(index)],
            texts=[(*self.caption_xy, caption, big)],
        )

    def frame_caption(self, index: int) -> str:
        """What frame ``index`` shows, for the HTML player: "output cell (0, 1), its row of C:
        y₀₁ = w₀₀x₀₁ + …"."""
        cell = self._index(index, self.plane.output_size)
        where = f"output cell {cell[0]}" if len(cell) == 1 else f"output cell {cell}"
        return f"{where}, its row of {self.name}: {self.caption(index)}"

    def draw(self, index: int) -> tuple[int, int, int, int]:
        box = super().draw(index)
        self.shown = {"output": index, "caption": self.caption(index), "reads": self.reads(index)}
        return box


def _pair(spec: Spec) -> Spec | None:
    try:
        return transpose_pair(spec)
    except ValueError:  # pragma: no cover - a transposed spec always has its pair
        return None


def _size(size: tuple[int, ...]) -> str:
    return "×".join(str(v) for v in size)
