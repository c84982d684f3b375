"""Receptive-field diagrams: the Yu & Koltun strip and the WaveNet dependency tree.

Drawings (``convanim.drawing.Drawing``); ``convanim.animate.save_rf`` writes them to files.

The geometry is ``convanim.receptive``'s, exact to the cell; this module only places and draws
it. Like ``render.Animation``: one figure per diagram, the static parts drawn once and cached
as a background, each frame restored from it with only what changes drawn on top, straight to
the Agg renderer. No pyplot.

- ``FieldStrip``: one frame (panel) per layer. Panel l shows the input grid, the receptive
  field of one unit of layer l's output shaded (holes of a dilated field stay unshaded), the
  taps of layer l as dots, and two captions: "layer 2: k=3, d=2", "receptive field 7×7": the
  drawn unit's own extent, which above a transposed layer differs from unit to unit and is
  then followed by the unit, "receptive field 3×5 (unit 2,3)".
- ``DependencyDiagram`` (1-D): rows of units, the input at the bottom and the last layer's
  output at the top, an edge from each unit to every unit it reads; one frame per output unit,
  with that unit's dependency tree highlighted and every unit it does not depend on pale.

Pixel coordinates are (x, y) from the top-left corner of a frame, y downwards; cells are
(row, col). A 1-D stack is drawn as one row: its cells are (0, unit).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
from matplotlib.collections import LineCollection
from matplotlib.font_manager import FontProperties
from matplotlib.lines import Line2D
from matplotlib.patches import PathPatch, Rectangle
from matplotlib.path import Path as MplPath
from matplotlib.text import Text
from matplotlib.transforms import Affine2D

from convanim import measure
from convanim.drawing import STRIP_GAP_PX, Box, union_box
from convanim.geometry import ConvSpec, ConvSpecError
from convanim.options import RenderOptions
from convanim.receptive import (
    LayerField,
    default_input_size,
    dependency_tree,
    layer_sizes,
    receptive_field,
    receptive_field_stats,
)
from convanim.render import (
    PixelFigure,
    Sheet,
    grid_lines,
    pixel_figure,
    segments_path,
    tile,
)
from convanim.theme import THEMES, hex_rgb

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "MAX_EDGES",
    "MAX_GRID_2D",
    "MAX_LAYERS",
    "MAX_UNITS_1D",
    "DependencyDiagram",
    "FieldStrip",
    "Highlight",
    "Panel",
]

MAX_GRID_2D = 128  # input cells per side of a FieldStrip
MAX_UNITS_1D = 512  # units per level of a 1-D figure
MAX_LAYERS = 32
MAX_EDGES = 100_000  # connections drawn by a DependencyDiagram

DPI = 100.0
FONT_PT = 10.5  # captions and labels, at scale 1
LINE_PER_CELL = 0.05  # grid line width, in cells (at least one pixel)
STRIP_CELL_PX = (14, 20)  # 2-D cells: larger for small grids
STRIP_FIT_PX = 320  # a 2-D grid's side aims at this, within STRIP_CELL_PX
ROW_CELL_PX = (6, 20)  # a 1-D FieldStrip's cells
ROW_FIT_PX = 900
UNIT_PX = (8, 36)  # horizontal spacing of a DependencyDiagram's units
UNIT_FIT_PX = 1100

Pair = tuple[int, int]
Point = tuple[float, float]
Rgb = npt.NDArray[np.uint8]
Stack = tuple[Mapping[str, Any], ...]

_DIGITS_TO_ZERO = str.maketrans("123456789", "000000000")


# -- geometry: what each frame shows -------------------------------------------------------


@dataclass(frozen=True)
class Panel:
    """One frame of a ``FieldStrip``: layer ``layer`` (from 1) and the field of one of its units.

    ``field`` equals ``receptive_field(layers[:layer], input_size, unit)``; ``taps`` are the
    units of the layer's input (level ``layer - 1``) that ``unit`` reads, drawn as dots at
    ``tap_points``: (row, col) on the input grid, fractional where a level's units fall between
    input cells (see ``FieldStrip``). In 1-D, rows are 0.
    """

    layer: int
    unit: Pair
    field: frozenset[Pair]
    taps: frozenset[Pair]
    tap_points: tuple[Point, ...]
    size: Pair  # this unit's extent, LayerField.size_of(unit): (1, n) in 1-D
    caption: tuple[str, str]


@dataclass(frozen=True)
class Highlight:
    """One frame of a ``DependencyDiagram``: output unit ``unit`` and what it depends on.

    Per level from the input (level 0) to the last layer's output: ``levels`` the units the
    output unit depends on (``dependency_tree(...).levels``), ``pale`` the others. Per layer:
    ``edges`` the highlighted connections, (unit at level l, unit at level l - 1 it reads).
    """

    unit: int
    levels: tuple[frozenset[int], ...]
    pale: tuple[frozenset[int], ...]
    edges: tuple[frozenset[Pair], ...]
    caption: str


def _stack(layers: Iterable[Mapping[str, Any]]) -> Stack:
    """The layers as a tuple, so that they can be read more than once."""
    if isinstance(layers, (str, bytes, Mapping)) or not isinstance(layers, Iterable):
        raise ConvSpecError(
            "layers", f"got {layers!r}; expected a sequence of layers (mappings of keywords)"
        )
    stack = tuple(layers)
    if len(stack) > MAX_LAYERS:
        raise ConvSpecError(
            "layers", f"got {len(stack)} layers; a diagram draws at most {MAX_LAYERS}"
        )
    return stack


def _number(value: Any) -> str:
    """A layer number for a caption: 3, or 3×5 where the axes differ."""
    if isinstance(value, (tuple, list)):
        if len(set(value)) == 1:
            return str(value[0])
        return "×".join(str(v) for v in value)
    return str(value)


def _layer_caption(number: int, layer: Mapping[str, Any], kernel: Any, dilation: Any) -> str:
    parts = [f"k={_number(kernel)}"]
    stride = layer.get("stride", 1)
    if _number(stride) != "1":
        parts.append(f"s={_number(stride)}")
    parts.append(f"d={_number(dilation)}")
    if layer.get("transposed") is True:
        parts.append("transposed")
    return f"layer {number}: {', '.join(parts)}"


def _field_caption(size: int | Pair) -> str:
    if isinstance(size, int):
        return f"receptive field {size}"
    return f"receptive field {size[0]}×{size[1]}"


def _size_1d(field: LayerField[int, Fraction, tuple[int, ...]], unit: Pair) -> Pair:
    return 1, field.size_of(unit[1])


class _Geometry:
    """A validated stack at one input size: level sizes, field statistics, unit placement."""

    def __init__(
        self,
        layers: Iterable[Mapping[str, Any]],
        input_size: int | Pair | None,
        dims: int,
        limit: int,
    ) -> None:
        if dims not in (1, 2):
            raise ConvSpecError("dims", f"got {dims!r}; expected 1 or 2")
        self.stack = stack = _stack(layers)
        self.dims = dims
        param = "input_size" if input_size is not None else "layers"
        if input_size is None:
            input_size = (
                default_input_size(stack, dims=1) if dims == 1 else default_input_size(stack)
            )
        # The input alone first: a huge one is refused before any level is computed.
        sizes: list[Pair] = [self._checked_input(input_size)]
        unit = "units" if dims == 1 else "cells per side"
        if max(sizes[0]) > limit:
            raise ConvSpecError(param, self._too_large(param, sizes[0], limit, unit, "input"))
        if dims == 1:
            assert isinstance(input_size, int)
            sizes += [(1, n) for n in layer_sizes(stack, input_size, dims=1)]
            fields_1d = receptive_field_stats(stack, input_size, dims=1)
            self.stats = [
                ((1, s.size), (Fraction(1), s.stride), (0, s.start), s.method) for s in fields_1d
            ]
            self.unit_sizes: list[Callable[[Pair], Pair]] = [
                partial(_size_1d, field) for field in fields_1d
            ]
            self.varies = [s.varies for s in fields_1d]
            self.kernels: list[Pair] = [(1, s.kernel) for s in fields_1d]
            self.dilations: list[Pair] = [(1, s.dilation) for s in fields_1d]
        else:
            sizes += list(layer_sizes(stack, sizes[0]))
            fields = receptive_field_stats(stack, sizes[0])
            self.stats = [(s.size, s.stride, s.start, s.method) for s in fields]
            self.unit_sizes = [s.size_of for s in fields]
            self.varies = [s.varies for s in fields]
            self.kernels = [s.kernel for s in fields]
            self.dilations = [s.dilation for s in fields]
        self.sizes = sizes
        self.input_size: int | Pair = sizes[0][1] if dims == 1 else sizes[0]
        for level, size in enumerate(sizes[1:], 1):
            if max(size) > limit:  # levels are not drawn in 2-D, but are computed
                raise ConvSpecError(param, self._too_large(param, size, limit, unit, level))

    def _checked_input(self, value: int | Pair) -> Pair:
        """The input size as (rows, cols), validated as the core validates it."""
        if self.dims == 1:
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ConvSpecError(
                    "input_size", f"got {value!r}; a 1-D stack takes an integer >= 1"
                )
            return 1, value
        return ConvSpec(value, kernel_size=1, dims=2).input_size

    def _too_large(self, param: str, size: Pair, limit: int, unit: str, level: int | str) -> str:
        where = "the input" if level == "input" else f"the output of layer {level}"
        shown = size[1] if self.dims == 1 else f"{size[0]}x{size[1]}"
        fix = (
            "use a smaller input"
            if param == "input_size"
            else "the default input is just large enough for the last field; use fewer or "
            "less dilated layers, or give a smaller input"
        )
        return f"{where} is {shown}, over the limit of {limit} {unit} for a diagram; {fix}"

    def field(self, depth: int, unit: Pair) -> frozenset[Pair]:
        """The input cells ``unit`` of level ``depth`` depends on."""
        stack = self.stack[:depth]
        if self.dims == 1:
            assert isinstance(self.input_size, int)
            return frozenset(
                (0, u) for u in receptive_field(stack, self.input_size, unit[1], dims=1)
            )
        return receptive_field(stack, self.input_size, unit)

    def reads(self, layer: int, unit: Pair) -> frozenset[Pair]:
        """The units of level ``layer - 1`` that ``unit`` of level ``layer`` reads."""
        one = self.stack[layer - 1 : layer]
        below = self.sizes[layer - 1]
        if self.dims == 1:
            return frozenset((0, u) for u in receptive_field(one, below[1], unit[1], dims=1))
        return receptive_field(one, below, unit)

    def place(self, level: int, axis: int, unit: float) -> float:
        """Where unit ``unit`` of a level sits on the input's axis (0: rows, 1: cols).

        A level as large as the input at an effective stride of 1 overlays it unit for unit
        ('same' and 'causal' padding); otherwise a unit sits at the centre of its field
        (closed-form stacks), or the level is spread evenly over the input (transposed).
        """
        if level == 0:
            return unit
        size, stride, start, method = self.stats[level - 1]
        inputs, units = self.sizes[0][axis], self.sizes[level][axis]
        if method == "closed form":
            if stride[axis] == 1 and units == inputs:
                return unit
            return float(start[axis] + unit * stride[axis] + Fraction(size[axis] - 1, 2))
        return (unit + 0.5) * inputs / units - 0.5


def _centre(size: Pair) -> Pair:
    return (size[0] - 1) // 2, (size[1] - 1) // 2


def _unit(value: Any, size: Pair, dims: int, level: int) -> Pair:
    """A unit of a level's output, validated; negative indices count from the end."""
    ok = (
        isinstance(value, int) and not isinstance(value, bool)
        if dims == 1
        else isinstance(value, (tuple, list))
        and len(value) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    )
    cell = (0, value) if dims == 1 and ok else (value[0], value[1]) if ok else None
    if cell is None or not all(-n <= i < n for i, n in zip(cell, size, strict=True)):
        expected = (
            f"a unit of the {size[1]}-unit output of layer {level}"
            if dims == 1
            else f"a (row, col) of the {size[0]}x{size[1]} output of layer {level}"
        )
        raise ConvSpecError("output_unit", f"got {value!r}; expected {expected}")
    return cell[0] % size[0], cell[1] % size[1]


# -- drawing, shared ------------------------------------------------------------------------


def _font_px(options: RenderOptions) -> float:
    return FONT_PT * options.scale * DPI / 72


def _text_width(texts: Iterable[str], font_pt: float) -> float:
    """The widest of ``texts`` in pixels, as the figure will draw them."""
    return measure.text_width(texts, FontProperties(size=font_pt), DPI)


def _rects(boxes: npt.NDArray[np.float64]) -> MplPath:
    """One compound path of rectangles, rows (x0, y0, x1, y1) in pixels."""
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


def _rgb(colour: str) -> tuple[float, float, float]:
    red, green, blue = hex_rgb(colour)
    return red / 255, green / 255, blue / 255


class _Figure(PixelFigure):
    """A diagram drawn in pixels: data (x, y) from the top-left of a frame, y downwards.

    A ``convanim.drawing.Drawing``: frame i is panel i (``FieldStrip``) or output unit i's
    tree (``DependencyDiagram``).

    Raster frames: the static parts are artists drawn once into a cached background; each
    frame restores it and draws what changes straight to the Agg renderer. Vector figures
    (SVG, PDF) are built from artists only: ``_add_static`` and ``_add_frame`` per panel.
    """

    _frame_count: int

    @property
    def frame_count(self) -> int:
        """Panels (FieldStrip) or output units (DependencyDiagram)."""
        return self._frame_count

    def _add_frame(self, sheet: Sheet, index: int) -> None:
        raise NotImplementedError

    def _text(self, sheet: Sheet, x: float, y: float, text: str = "", **style: Any) -> Text:
        style = {"fontsize": FONT_PT * self.options.scale, "color": self.theme.text, **style}
        return sheet.text(x, y, text, **style)

    def _text_box(self, texts: Sequence[Text]) -> Box:
        boxes = [text.get_window_extent(self.renderer) for text in texts]
        height = self.size[1]
        return self._box(
            min(b.x0 for b in boxes),
            height - max(b.y1 for b in boxes),
            max(b.x1 for b in boxes),
            height - min(b.y0 for b in boxes),
        )

    def colours(self) -> list[str]:
        raise NotImplementedError

    def inks(self) -> list[str] | None:
        raise NotImplementedError

    def vector(self, indices: Sequence[int], columns: int) -> Figure:
        """A figure of these frames tiled ``columns`` to a row, drawn with artists (SVG, PDF).

        Laid out as the PNG strip is: the same frame size, the same gap.
        """
        for index in indices:
            self._check_index(index)
        width, height = self.size
        rows = -(-len(indices) // columns)
        gap = STRIP_GAP_PX
        total_w = columns * width + (columns - 1) * gap
        total_h = rows * height + (rows - 1) * gap
        figure = pixel_figure(total_w, total_h, DPI)
        figure.patch.set_facecolor(self.theme.background)
        for position, index in enumerate(indices):
            sheet = self._sheet(figure, tile(position, columns, self.size, gap, rows))
            self._add_static(sheet)
            self._add_frame(sheet, index)
        return figure


# -- the Yu & Koltun strip ------------------------------------------------------------------


class FieldStrip(_Figure):
    """One panel per layer: the input grid, layer l's taps and the field after l layers.

    ``input_size`` defaults to ``default_input_size`` (with 'same' padding: the last field,
    centred). ``output_unit`` is the (row, col) of the unit whose field panel l shows, at
    every level (a 'same'-padded stack's levels overlay the input); by default each level's
    centre unit, ``((rows - 1) // 2, (cols - 1) // 2)``. 1-D: ints, drawn as a 1 x n strip.
    Layer l's taps are units of level l - 1: each is drawn on the input cell of the same index
    when that level overlays the input ('same' or 'causal' padding at stride 1), otherwise at
    the centre of its own field (between cells for an even field), or, below a transposed
    layer, spread evenly over the input. ``options.view`` and ``options.labels`` do not apply:
    the strip is flat and always captioned.
    """

    def __init__(
        self,
        layers: Iterable[Mapping[str, Any]],
        input_size: int | Pair | None = None,
        options: RenderOptions | None = None,
        *,
        dims: int = 2,
        output_unit: int | Pair | None = None,
    ) -> None:
        self.options = options or RenderOptions()
        self.theme = THEMES[self.options.theme]
        geometry = _Geometry(layers, input_size, dims, MAX_GRID_2D if dims == 2 else MAX_UNITS_1D)
        self.geometry, self.dims = geometry, dims
        self.input_size = geometry.input_size
        self.panels = self._panels(geometry, output_unit)
        self._frame_count = len(self.panels)
        self._layout()
        self.captions = [
            self._text(self.sheet, x, y, animated=True, ha="center", va="top")
            for x, y in self.caption_xy
        ]
        self._cache()
        self.shown: tuple[str, ...] = ()

    @staticmethod
    def _panels(geometry: _Geometry, output_unit: int | Pair | None) -> tuple[Panel, ...]:
        panels = []
        one_d = geometry.dims == 1
        for layer, (size, kernel, dilation) in enumerate(
            zip(
                geometry.sizes[1:],
                geometry.kernels,
                geometry.dilations,
                strict=True,
            ),
            1,
        ):
            raw = geometry.stack[layer - 1]
            if output_unit is None:
                unit = _centre(size)
            else:
                unit = _unit(output_unit, size, geometry.dims, layer)
            taps = geometry.reads(layer, unit)
            points = tuple(
                (geometry.place(layer - 1, 0, row), geometry.place(layer - 1, 1, col))
                for row, col in sorted(taps)
            )
            # This unit's extent: above a transposed layer, units' fields differ.
            field_size = geometry.unit_sizes[layer - 1](unit)
            field_caption = _field_caption(field_size[1] if one_d else field_size)
            if geometry.varies[layer - 1]:
                field_caption += f" (unit {unit[1] if one_d else f'{unit[0]},{unit[1]}'})"
            panels.append(
                Panel(
                    layer=layer,
                    unit=unit,
                    field=geometry.field(layer, unit),
                    taps=taps,
                    tap_points=points,
                    size=field_size,
                    caption=(
                        _layer_caption(
                            layer,
                            raw,
                            kernel[1] if one_d else kernel,
                            dilation[1] if one_d else dilation,
                        ),
                        field_caption,
                    ),
                )
            )
        return tuple(panels)

    def _layout(self) -> None:
        rows, cols = self.geometry.sizes[0]
        scale = self.options.scale
        if self.dims == 2:
            (low, high), fit = STRIP_CELL_PX, STRIP_FIT_PX / max(rows, cols)
        else:
            (low, high), fit = ROW_CELL_PX, ROW_FIT_PX / cols
        self.cell_px = cell = max(1, round(min(max(fit, low), high) * scale))
        font_px = _font_px(self.options)
        captions = [line for panel in self.panels for line in panel.caption]
        text_width = _text_width(captions, FONT_PT * scale)
        margin = max(cell, round(font_px))
        grid_width, grid_height = cols * cell, rows * cell
        width = max(grid_width + 2 * margin, math.ceil(text_width + 2 * font_px))
        line_height = round(font_px * 1.45)
        caption_top = margin + grid_height + round(font_px * 0.8)
        height = caption_top + 2 * line_height + margin // 2
        self.left = (width - grid_width) // 2
        self.top = margin
        self.xs = self.left + np.arange(cols + 1) * cell
        self.ys = self.top + np.arange(rows + 1) * cell
        # Whole pixels, just inside each cell's top and left edges: crisp lines in one colour
        # (no snapping, which Agg would skip for long paths anyway).
        line_px = max(1, round(cell * LINE_PER_CELL))
        self.line_width, self.line_offset = line_px * 72 / DPI, line_px / 2
        self.dot_radius_px = max(cell * 0.2, 1.5)
        self.caption_xy = [(width / 2, caption_top + i * line_height) for i in range(2)]
        self.caption_box = (caption_top - 2, height, 0, width)
        self._open(width, height)

    def cell_centre(self, row: float, col: float) -> Point:
        """The pixel (x, y) of a cell's centre in a frame; fractional cells are allowed."""
        return self.left + (col + 0.5) * self.cell_px, self.top + (row + 0.5) * self.cell_px

    def colours(self) -> list[str]:
        """Every flat colour the figure uses, as '#rrggbb'."""
        theme = self.theme
        return [theme.background, theme.input, theme.line, theme.highlight, theme.text]

    def inks(self) -> list[str] | None:
        """The colours drawn antialiased, over any of ``colours()``: grid lines, dots, text."""
        return [self.theme.line, self.theme.text]

    # -- artists: the raster background, and vector figures --------------------------------

    def _add_static(self, sheet: Sheet) -> None:
        xs, ys = self.xs, self.ys
        sheet.add(
            Rectangle(
                (xs[0], ys[0]),
                xs[-1] - xs[0],
                ys[-1] - ys[0],
                facecolor=self.theme.input,
                linewidth=0,
                antialiased=False,
            )
        )
        sheet.add(self._grid(xs, ys))

    def _grid_lines(self, xs: npt.ArrayLike, ys: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """The grid lines along these cell boundaries, in pixels."""
        offset = self.line_offset
        return grid_lines(np.asarray(ys) + offset, np.asarray(xs) + offset)

    def _grid(self, xs: npt.ArrayLike, ys: npt.ArrayLike) -> LineCollection:
        return LineCollection(
            list(self._grid_lines(xs, ys)),
            colors=self.theme.line,
            linewidths=self.line_width,
            snap=False,
        )

    def frame_caption(self, index: int) -> str:
        """What frame ``index`` shows, for the HTML player: "layer 2: k=3, d=2; receptive
        field 7×7, of unit (3, 3)"."""
        panel = self.panels[index]
        where = f"unit {panel.unit[1]}" if self.dims == 1 else f"unit {tuple(panel.unit)}"
        return f"{panel.caption[0]}; {panel.caption[1]}, of {where}"

    def _add_frame(self, sheet: Sheet, index: int) -> None:
        panel = self.panels[index]
        field = self._field(panel)
        if field is not None:
            boxes, xs, ys = field
            sheet.add(
                PathPatch(
                    _rects(boxes), facecolor=self.theme.highlight, linewidth=0, antialiased=False
                )
            )
            sheet.add(self._grid(xs, ys))
        if panel.tap_points:
            dots = self._dots(panel)
            sheet.add(
                Line2D(
                    dots[:, 0],
                    dots[:, 1],
                    linestyle="none",
                    marker="o",
                    markersize=2 * self.dot_radius_px * 72 / DPI,
                    markerfacecolor=self.theme.line,
                    markeredgewidth=0,
                )
            )
        for (x, y), line in zip(self.caption_xy, panel.caption, strict=True):
            self._text(sheet, x, y, line, ha="center", va="top")

    def _field(
        self, panel: Panel
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64], npt.NDArray[np.int64]] | None:
        """The field's cells as pixel boxes (x0, y0, x1, y1), and the grid lines over them."""
        if not panel.field:
            return None
        cells = np.array(sorted(panel.field), dtype=int)
        cell = self.cell_px
        x0, y0 = self.left + cells[:, 1] * cell, self.top + cells[:, 0] * cell
        boxes = np.stack([x0, y0, x0 + cell, y0 + cell], axis=1).astype(float)
        (r0, c0), (r1, c1) = cells.min(axis=0), cells.max(axis=0)
        return boxes, self.xs[c0 : c1 + 2], self.ys[r0 : r1 + 2]

    def _dots(self, panel: Panel) -> npt.NDArray[np.float64]:
        return np.array([self.cell_centre(*point) for point in panel.tap_points], dtype=float)

    # -- raster frames ----------------------------------------------------------------------

    def draw(self, index: int) -> Box:
        """Draw panel ``index`` (layer ``index + 1``); returns the pixel box that changed."""
        self._check_index(index)
        panel = self.panels[index]
        renderer, transform, theme = self.renderer, self.transform, self.theme
        self.page.restore(self.cached)
        gc = renderer.new_gc()
        gc.set_snap(False)
        box = self.caption_box
        field = self._field(panel)
        if field is not None:
            boxes, xs, ys = field
            # Whole cells, no antialiasing: their edges lie under the grid lines drawn next.
            gc.set_antialiased(False)
            gc.set_linewidth(0)
            renderer.draw_path(gc, _rects(boxes), transform, _rgb(theme.highlight))
            gc.set_antialiased(True)
            gc.set_foreground(_rgb(theme.line))
            gc.set_linewidth(self.line_width)
            renderer.draw_path(gc, segments_path(self._grid_lines(xs, ys)), transform)
            end = self.line_offset * 2
            box = union_box(box, self._box(xs[0], ys[0], xs[-1] + end, ys[-1] + end))
        if panel.tap_points:
            dots, radius = self._dots(panel), self.dot_radius_px
            gc.set_linewidth(0)
            renderer.draw_markers(
                gc,
                MplPath.unit_circle(),
                Affine2D().scale(radius),
                MplPath(dots),
                transform,
                _rgb(theme.line),
            )
            (x0, y0), (x1, y1) = dots.min(axis=0), dots.max(axis=0)
            box = union_box(box, self._box(x0 - radius, y0 - radius, x1 + radius, y1 + radius))
        gc.restore()
        for text, line in zip(self.captions, panel.caption, strict=True):
            text.set_text(line)
            self.sheet.draw_artist(text)
        self.shown = tuple(text.get_text() for text in self.captions)
        return box


# -- the WaveNet picture ----------------------------------------------------------------------


class DependencyDiagram(_Figure):
    """A 1-D stack as rows of units with every connection; frame i highlights output unit i.

    Level 0 (the input) is the bottom row, level L (the last layer's output) the top one. A
    unit in the highlighted tree is drawn in its level's colour (input and hidden levels: the
    input colour; the output level: the output colour) and its connections in the highlight
    colour; every other unit and connection is pale. A level as long as the input sits unit
    over unit ('causal' or 'same' padding); a shorter one is placed as ``FieldStrip`` places
    taps. ``options.view`` and ``options.labels`` do not apply: levels are always labelled.
    """

    def __init__(
        self,
        layers: Iterable[Mapping[str, Any]],
        input_size: int | None = None,
        options: RenderOptions | None = None,
    ) -> None:
        self.options = options or RenderOptions()
        self.theme = THEMES[self.options.theme]
        geometry = _Geometry(layers, input_size, 1, MAX_UNITS_1D)
        self.geometry = geometry
        assert isinstance(geometry.input_size, int)
        self.input_size: int = geometry.input_size
        self.level_sizes = tuple(size[1] for size in geometry.sizes)
        edges = sum(
            size[1] * kernel[1]
            for size, kernel in zip(geometry.sizes[1:], geometry.kernels, strict=True)
        )
        if edges > MAX_EDGES:
            raise ConvSpecError(
                "kernel_size",
                f"the diagram would draw about {edges:,} connections, over the limit of "
                f"{MAX_EDGES:,}; use a smaller input or kernel",
            )
        tree = dependency_tree(geometry.stack, self.input_size, 0, dims=1)
        self.edges = tree.edges
        self.field_size = geometry.stats[-1][0][1]  # the largest; unit_size(unit): each one's
        self._frame_count = self.level_sizes[-1]
        self._frames: dict[int, Highlight] = {}
        reads: list[dict[int, list[int]]] = []
        for layer_edges in tree.edges:
            table: dict[int, list[int]] = {}
            for unit, source in sorted(layer_edges):
                table.setdefault(unit, []).append(source)
            reads.append(table)
        self._reads = reads
        self._layout()
        self.caption = self._text(self.sheet, *self.caption_xy, animated=True, ha="center")
        self.caption.set_verticalalignment("center")
        self._cache()
        self.shown: tuple[str, ...] = ()

    def unit_index(self, value: Any) -> int:
        """An output unit, validated (``output_unit``); negative indices count from the end."""
        return _unit(value, (1, self.frame_count), 1, len(self.level_sizes) - 1)[1]

    def highlight(self, unit: int) -> Highlight:
        """What frame ``unit`` shows: the tree of output unit ``unit``."""
        self._check_index(unit)
        if unit not in self._frames:
            levels = [{unit}]
            for table in reversed(self._reads):
                levels.append({source for read in levels[-1] for source in table.get(read, ())})
            levels.reverse()
            self._frames[unit] = Highlight(
                unit=unit,
                levels=tuple(frozenset(level) for level in levels),
                pale=tuple(
                    frozenset(range(size)) - level
                    for size, level in zip(self.level_sizes, levels, strict=True)
                ),
                edges=tuple(
                    frozenset((u, s) for u in above for s in table.get(u, ()))
                    for table, above in zip(self._reads, levels[1:], strict=True)
                ),
                caption=self._caption(unit, len(levels[0])),
            )
        return self._frames[unit]

    def frame_caption(self, index: int) -> str:
        """What frame ``index`` shows, for the HTML player: "output unit 15: receptive field
        16"."""
        return self.highlight(index).caption

    def unit_size(self, unit: int) -> int:
        """The extent of output unit ``unit``'s field (above a transposed layer, by unit)."""
        return self.geometry.unit_sizes[-1]((0, unit))[1]

    def _caption(self, unit: int, reads: int) -> str:
        size = self.unit_size(unit)
        caption = f"output unit {unit}: {_field_caption(size)}"
        if reads != size:  # clipped by the input's ends, or holes
            caption += f" (reads {reads} input unit{'s' if reads != 1 else ''})"
        return caption

    @property
    def frames(self) -> tuple[Highlight, ...]:
        """Every frame's ``Highlight``, in order."""
        return tuple(self.highlight(unit) for unit in range(self.frame_count))

    def _layout(self) -> None:
        geometry, scale = self.geometry, self.options.scale
        xs = [
            np.array([geometry.place(level, 1, unit) for unit in range(size)], dtype=float)
            for level, size in enumerate(self.level_sizes)
        ]
        low = min(float(x.min()) for x in xs if x.size)
        high = max(float(x.max()) for x in xs if x.size)
        # Neighbours on the most crowded level (a transposed layer's output is denser than
        # the input) are ``spacing`` pixels apart; ``step`` is the pixels per input unit.
        gaps = [float(np.diff(np.sort(x)).min()) for x in xs if x.size > 1]
        densest = min([gap for gap in gaps if gap > 0], default=1.0)
        count = (high - low) / densest + 1
        spacing = round(min(max(UNIT_FIT_PX / count, UNIT_PX[0]), UNIT_PX[1]) * scale)
        self.spacing = spacing = max(spacing, 2)
        step = spacing / densest
        self.radius = max(spacing * 0.3, 2.0)
        font_px = _font_px(self.options)
        self.labels = ["input"] + [
            _layer_caption(layer, raw, kernel[1], dilation[1])
            for layer, (raw, kernel, dilation) in enumerate(
                zip(geometry.stack, geometry.kernels, geometry.dilations, strict=True), 1
            )
        ]
        label_width = _text_width(self.labels, FONT_PT * scale)
        # Digits share one width (tabular figures): one caption of each shape is enough.
        captions = {
            caption.translate(_DIGITS_TO_ZERO): caption
            for caption in (self.highlight(unit).caption for unit in range(self.frame_count))
        }
        caption_width = _text_width(captions.values(), FONT_PT * scale)
        margin = max(round(font_px), round(spacing / 2))
        gap = round(font_px)
        row_gap = max(round(spacing * 2.2), round(3.2 * font_px))
        units_left = margin + math.ceil(label_width) + gap
        units_width = (high - low) * step + spacing
        width = max(
            units_left + math.ceil(units_width) + margin, math.ceil(caption_width) + 2 * margin
        )
        levels = len(self.level_sizes)
        # Unit centres on pixel centres: vertical connections of odd widths come out crisp.
        top = round(margin + self.radius) + 0.5
        self.row_y = [top + (levels - 1 - level) * row_gap for level in range(levels)]
        caption_y = self.row_y[0] + self.radius + round(font_px * 1.2)
        height = math.ceil(caption_y + font_px * 1.3 + margin * 0.6)
        origin = math.floor(units_left + spacing / 2 - low * step) + 0.5
        self.label_x = units_left - gap
        self.centres = [
            np.stack([origin + x * step, np.full_like(x, y)], axis=1)
            for x, y in zip(xs, self.row_y, strict=True)
        ]
        # The caption under the units, as far as the figure's edges allow.
        everything = np.concatenate(self.centres)[:, 0]
        half = caption_width / 2 + spacing / 2
        middle = min(max((everything.min() + everything.max()) / 2, half), width - half)
        self.caption_xy = (middle, caption_y)
        # Whole pixels, odd where possible, so that vertical connections stay one colour.
        self.thin = max(1, round(scale)) * 72 / DPI
        self.thick = (2 * math.floor(spacing / 20) + 1) * 72 / DPI
        self.outline = max(0.5, self.radius / 10) * 72 / DPI
        self._open(width, height)

    def unit_centre(self, level: int, unit: int) -> Point:
        """The pixel (x, y) of a unit's centre in a frame."""
        x, y = self.centres[level][unit]
        return float(x), float(y)

    def colours(self) -> list[str]:
        """Every flat colour the figure uses, as '#rrggbb'."""
        theme = self.theme
        return [
            theme.background,
            theme.input,
            theme.output,
            theme.line,
            theme.text,
            theme.highlight,
            theme.pale,
        ]

    def inks(self) -> list[str] | None:
        """None: units and edges of every colour are antialiased, over each other."""
        return None

    def _edge_segments(self, edges: Sequence[Iterable[Pair]]) -> npt.NDArray[np.float64]:
        """Segments (n, 2, 2) between unit centres: layer l's edges join levels l and l - 1."""
        segments = [np.empty((0, 2, 2))]
        for layer, layer_edges in enumerate(edges, 1):
            pairs = np.array(sorted(layer_edges), dtype=int).reshape(-1, 2)
            if len(pairs):
                above = self.centres[layer][pairs[:, 0]]
                below = self.centres[layer - 1][pairs[:, 1]]
                segments.append(np.stack([above, below], axis=1))
        return np.concatenate(segments)

    def _tree_units(self, frame: Highlight) -> Iterator[tuple[npt.NDArray[np.float64], str]]:
        """Per level with units in the tree: their centres, and the level's colour."""
        top = len(self.level_sizes) - 1
        for level, units in enumerate(frame.levels):
            if units:
                colour = self.theme.output if level == top else self.theme.input
                yield self.centres[level][sorted(units)], colour

    # -- artists: the raster background, and vector figures --------------------------------

    def _units(
        self, sheet: Sheet, centres: npt.NDArray[np.float64], colour: str, edge: float
    ) -> None:
        # Line2D markers go through the renderer's draw_markers, as each raster frame's do.
        sheet.add(
            Line2D(
                centres[:, 0],
                centres[:, 1],
                linestyle="none",
                marker="o",
                markersize=2 * self.radius * 72 / DPI,
                markerfacecolor=colour,
                markeredgecolor=self.theme.line,
                markeredgewidth=edge,
            )
        )

    def _add_static(self, sheet: Sheet) -> None:
        theme = self.theme
        sheet.add(
            LineCollection(
                list(self._edge_segments(self.edges)),
                colors=theme.pale,
                linewidths=self.thin,
                snap=False,  # centred on the units, which sit on pixel centres
            )
        )
        self._units(sheet, np.concatenate(self.centres), theme.pale, 0)
        for label, y in zip(self.labels, self.row_y, strict=True):
            self._text(sheet, self.label_x, y, label, ha="right", va="center")

    def _add_frame(self, sheet: Sheet, index: int) -> None:
        frame = self.highlight(index)
        sheet.add(
            LineCollection(
                list(self._edge_segments(frame.edges)),
                colors=self.theme.highlight,
                linewidths=self.thick,
                capstyle="round",
                snap=False,
            )
        )
        for centres, colour in self._tree_units(frame):
            self._units(sheet, centres, colour, self.outline)
        self._text(sheet, *self.caption_xy, frame.caption, ha="center", va="center")

    # -- raster frames ----------------------------------------------------------------------

    def draw(self, index: int) -> Box:
        """Draw the tree of output unit ``index``; returns the pixel box that changed."""
        frame = self.highlight(index)
        renderer, transform, theme = self.renderer, self.transform, self.theme
        self.page.restore(self.cached)
        gc = renderer.new_gc()
        gc.set_snap(False)
        segments = self._edge_segments(frame.edges)
        if len(segments):
            gc.set_foreground(_rgb(theme.highlight))
            gc.set_linewidth(self.thick)
            gc.set_capstyle("round")
            renderer.draw_path(gc, segments_path(segments), transform)
        gc.set_foreground(_rgb(theme.line))
        gc.set_linewidth(self.outline)
        marker = Affine2D().scale(self.radius)
        drawn: list[npt.NDArray[np.float64]] = [np.empty((0, 2))]
        for centres, colour in self._tree_units(frame):
            renderer.draw_markers(
                gc, MplPath.unit_circle(), marker, MplPath(centres), transform, _rgb(colour)
            )
            drawn.append(centres)
        gc.restore()
        self.caption.set_text(frame.caption)
        inked = self.page.draw_text(self.caption)
        self.shown = (self.caption.get_text(),)
        points = np.concatenate(drawn)
        if inked is None:  # drawn by matplotlib: its layout box bounds it
            box = self._text_box([self.caption])
        else:  # the pixels its glyphs covered
            top, bottom, left, right = inked
            box = self._box(left, top, right, bottom)
        if len(points):
            (x0, y0), (x1, y1) = points.min(axis=0), points.max(axis=0)
            r = self.radius + self.thick * DPI / 72
            box = union_box(box, self._box(x0 - r, y0 - r, x1 + r, y1 + r))
        return box
