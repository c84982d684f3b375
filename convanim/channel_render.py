"""Convolutions with channels and groups: stacked planes (oblique) or rows of grids (flat).

A ``ChannelFigure`` is a ``convanim.drawing.Drawing`` of one convolution, or of a chain of
them (the depthwise-separable pair: depthwise, then pointwise), in the conv_arithmetic look.

Oblique: every channel is a slanted plane, as conv_arithmetic draws its one channel; the
channels of a volume float one above another, channel 0 on top, the input volume at the
bottom and each output volume above the volume it is computed from. A frame shades the
kernel's window on every input plane its filter reads, joins those windows into the filter's
stack with thin edges, and links the top one to the output cell.

Flat (the CS231n demo's layout): a column per volume, one row per channel, and between them
the filters, one column per output channel with its kernel in the row of every input channel
it reads. Groups are colour bands: beside the input channels of a group, the output channels
it feeds, and (flat) the filters that read it.

Numbers (a ``convanim.values.ChannelWorked`` per stage) put a value in every cell and a
weight in every kernel cell; the output fills in frame by frame; the sum under the figure
gives each input channel's products and sum, then their total plus the bias.

Coordinates are cells, (x, y) with y upwards, as in ``convanim.render``; a plane's rows grow
downwards from its top edge.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.patches import PathPatch
from matplotlib.text import Text
from matplotlib.transforms import Bbox

from convanim.cell_render import blend, text_width
from convanim.drawing import STRIP_GAP_PX, Box
from convanim.geometry import Cell, ConvSpec, ConvSpecError, Frame
from convanim.options import MAX_DRAWN_CHANNELS, RenderOptions, check_drawn_channels
from convanim.render import (
    COPY_STYLE,
    DASH_PT,
    FLAT_CELL_PX_RANGE,
    FLAT_MAX_HEIGHT_PX,
    FLAT_MAX_WIDTH_PX,
    FLAT_VALUES_CELL_PX_RANGE,
    LINK_FADE,
    MAX_FRAME_PIXELS,
    OBLIQUE_CELL_PX,
    OUTPUT_SHIFT_X,
    POINTS_PER_CELL,
    SLANT,
    THICK_PT,
    THIN_PT,
    Page,
    Sheet,
    copy_colour,
    copy_marks,
    grid_lines,
    pixel_figure,
    segments_path,
    tile,
)
from convanim.theme import THEMES, Theme, hex_rgb

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from convanim.values import ChannelStep, ChannelWorked

__all__ = [
    "GROUP_COLOURS",
    "MAX_DRAWN_CHANNELS",
    "ChannelFigure",
    "Stage",
    "draw_channels",
]

DPI = 100.0
Points = npt.NDArray[np.float64]
Rgb = npt.NDArray[np.uint8]

# Group bands, per theme: hues apart from the theme's input and output colours.
GROUP_COLOURS: dict[str, tuple[str, ...]] = {
    # Solarized's accents: yellow, magenta, green, violet, orange, red, and two greys.
    "solarized": (
        "#b58900",
        "#d33682",
        "#859900",
        "#6c71c4",
        "#cb4b16",
        "#dc322f",
        "#586e75",
        "#93a1a1",
    ),
    "dark": (
        "#b58900",
        "#d33682",
        "#859900",
        "#6c71c4",
        "#cb4b16",
        "#dc322f",
        "#93a1a1",
        "#eee8d5",
    ),
    # Okabe & Ito's remaining colours (bluish green, reddish purple, blue, vermillion, yellow),
    # then Tol's wine and teal and a grey: past five groups no palette stays colour-blind safe.
    "okabe-ito": (
        "#009e73",
        "#cc79a7",
        "#0072b2",
        "#d55e00",
        "#f0e442",
        "#882255",
        "#44aa99",
        "#999999",
    ),
}

PLANE_GAP = 0.5  # cells between the planes of a volume (oblique): R + gap apart, see _oblique
VOLUME_GAP = 1.0  # cells between volumes, as conv_arithmetic floats its output plane
ROW_GAP = 1.0  # flat: cells between the rows of grids
COLUMN_GAP = 1.6  # flat: cells between a volume and the filters
FILTER_GAP = 0.6  # flat: cells between filter columns
BAND_WIDTH, BAND_GAP = 0.28, 0.14  # cells
LABEL_PT = 9.0  # channel labels at conv_arithmetic's cell size; they scale with the cells
ROOM = 0.6  # cells of border around everything
MAX_PRODUCTS = 12  # a channel's products written out; more: "sum of n products"


@dataclass(frozen=True)
class Stage:
    """One convolution of a figure: its spec, its numbers (or None) and its words.

    ``name`` is what its filters are called ("w"); ``title`` what the figure says it is while
    its frames play (a separable pair's "depthwise"), "" for nothing; ``output_name`` what
    its output channels are called in labels and sums ("out").
    """

    spec: ConvSpec[Any, Any]
    worked: ChannelWorked | None = None
    name: str = "w"
    title: str = ""
    output_name: str = "out"


def draw_channels(
    spec: ConvSpec[Any, Any],
    options: RenderOptions | None = None,
    worked: ChannelWorked | None = None,
    order: str = "channel",
    poster: bool = False,
) -> ChannelFigure:
    """The figure of one convolution with channels and groups (``spec.frames(order)``);
    ``poster``: every frame shows every output's value (see ``ChannelFigure._done``)."""
    return ChannelFigure([Stage(spec, worked)], options, order, poster=poster)


# -- one frame's moving parts, as data -----------------------------------------------------


@dataclass
class _Layer:
    """What a frame draws over the static parts, in cells.

    ``fills``: (colour, alpha, polygons (n, 4, 2)); ``lines``: (colour, width in points,
    antialiased, segments (n, 2, 2)); ``texts``: (x, y, text, style); ``cells``: the corners
    of the cell a text is written in, by its index in ``texts`` (for tests that it fits).
    """

    fills: list[tuple[str, float, Points]] = field(default_factory=list)
    lines: list[tuple[str, float, bool, Points]] = field(default_factory=list)
    texts: list[tuple[float, float, str, dict[str, Any]]] = field(default_factory=list)
    cells: dict[int, Points] = field(default_factory=dict)  # text index -> its cell's corners


class _Plane:
    """One channel's grid: (row, col) corners to figure cells. Rows grow downwards."""

    def __init__(self, rows: int, cols: int, transform: Points, origin: tuple[float, float]):
        self.rows, self.cols = rows, cols
        self.transform = transform
        self.origin = np.asarray(origin, dtype=float)

    def xy(self, points: npt.ArrayLike) -> Points:
        """Plane (x, y) points (y up from the bottom edge) to figure cells."""
        mapped: Points = np.asarray(points, dtype=float) @ self.transform.T + self.origin
        return mapped

    def block(self, row: float, col: float, height: float = 1, width: float = 1) -> Points:
        """The corners (4, 2) of a block of cells, top-left at (row, col)."""
        top = self.rows - row
        x0, x1, y0, y1 = col, col + width, top - height, top
        return self.xy([[x0, y0], [x1, y0], [x1, y1], [x0, y1]])

    def cells(self, cells: Sequence[tuple[int, int]]) -> Points:
        """The corners (n, 4, 2) of these cells."""
        if not cells:
            return np.empty((0, 4, 2))
        return np.stack([self.block(r, c) for r, c in cells])

    def centre(self, row: float, col: float) -> tuple[float, float]:
        x, y = self.block(row, col).mean(axis=0)
        return float(x), float(y)

    def window(self, top: int, left: int, bottom: int, right: int) -> Points:
        """Grid segments over rows top..bottom, cols left..right (exclusive ends)."""
        segments = grid_lines(self.rows - np.arange(top, bottom + 1), np.arange(left, right + 1))
        return self.xy(segments)

    def outline(self, row: int, col: int, height: int = 1, width: int = 1) -> Points:
        corners = self.block(row, col, height, width)
        return np.stack([corners[[0, 1]], corners[[1, 2]], corners[[2, 3]], corners[[3, 0]]])


@dataclass
class _Volume:
    """The planes of one tensor: the first stage's input, or a stage's output."""

    name: str  # "in", "out": the channel labels' words
    title: str  # "input", "output": what --labels writes
    planes: list[_Plane]
    cells: npt.NDArray[np.uint8] | None  # the drawn grid's Cell codes (an input), else None
    bands: list[int] | None  # each channel's group, None: no bands
    fill: str  # the theme's colour of its cells


class ChannelFigure:
    """A ``Drawing`` of convolutions with channels: ``stages`` in order, the frames of each
    after the frames of the one before (each in ``order``: "channel" or "spatial")."""

    def __init__(
        self,
        stages: Sequence[Stage],
        options: RenderOptions | None = None,
        order: str = "channel",
        note: str = "",
        poster: bool = False,
    ) -> None:
        self.stages = list(stages)
        self.poster = poster  # a poster's frame shows every output's value
        self.options = options or RenderOptions()
        self.theme: Theme = THEMES[self.options.theme]
        self.note = note
        self.order = order
        self.oblique = self.options.view == "oblique"
        for stage in self.stages:
            check_drawn_channels(
                {"in_channels": stage.spec.in_channels, "out_channels": stage.spec.out_channels}
            )
        self.planes_2d = [stage.spec.as_2d() for stage in self.stages]
        for before, after in zip(self.planes_2d, self.planes_2d[1:], strict=False):
            if after.input_size != before.output_size or after.drawn_size != after.input_size:
                raise ValueError("a chained stage reads the one before's output, unpadded")
            if after.in_channels != before.out_channels:
                raise ValueError("a chained stage reads the one before's channels")
        # (stage, frame as 2-D) in the order they play.
        self.frames: list[tuple[int, Frame[Any]]] = [
            (s, frame.as_2d())
            for s, stage in enumerate(self.stages)
            for frame in stage.spec.frames(order)
        ]
        self._numbers = [_numbers_2d(stage) for stage in self.stages]
        self.group_colours = GROUP_COLOURS.get(self.theme.name, GROUP_COLOURS["solarized"])
        self.cell_px = self._cell_px()
        self.line_scale = self.cell_px / POINTS_PER_CELL * 0.72
        self.thick, self.thin = THICK_PT * self.line_scale, THIN_PT * self.line_scale
        self.value_pt = self.cell_px * 0.32 * 0.72
        self.label_pt = max(LABEL_PT * self.cell_px / OBLIQUE_CELL_PX, 8.0)
        self.caption_pt = max(self.value_pt, 8.0)
        self.max_chars = max(1, int(self.cell_px * 0.8 / (self.cell_px * 0.32 * 0.6)))
        self.volumes = self._volumes()
        self._layout()
        self._build()

    # -- layout ---------------------------------------------------------------------------

    def _cell_px(self) -> float:
        if self.oblique:
            return OBLIQUE_CELL_PX * self.options.scale
        width, height = self._flat_extent()
        low, high = (
            FLAT_VALUES_CELL_PX_RANGE if self._numbers[0] is not None else FLAT_CELL_PX_RANGE
        )
        fit = min(FLAT_MAX_WIDTH_PX / width, FLAT_MAX_HEIGHT_PX / height)
        return min(max(fit, low), high) * self.options.scale

    def _flat_extent(self) -> tuple[float, float]:
        """Cells the flat view's grids span, (width, height), labels left out."""
        first = self.planes_2d[0]
        width = float(first.drawn_size[1])
        channels = [first.in_channels]
        pitch = self._pitch()
        for plane in self.planes_2d:
            width += COLUMN_GAP * 2 + self._filters_width(plane) + plane.output_size[1]
            channels.append(plane.out_channels)
        return width + 4.0, max(channels) * pitch + 2.0

    def _pitch(self) -> float:
        """Flat: cells from one row of grids to the next."""
        rows = [self.planes_2d[0].drawn_size[0]] + [p.output_size[0] for p in self.planes_2d]
        return max(rows) + ROW_GAP

    @staticmethod
    def _filters_width(plane: ConvSpec[Any, Any]) -> float:
        return float(plane.out_channels * (plane.kernel_size[1] + FILTER_GAP) - FILTER_GAP)

    def _volumes(self) -> list[_Volume]:
        """Every volume's planes, placed: in cells, before the figure's limits are known."""
        first = self.planes_2d[0]
        shapes = [(first.in_channels, *first.drawn_size)]
        shapes += [(p.out_channels, *p.output_size) for p in self.planes_2d]
        names = self._volume_names()
        titles = ["input"] + [
            "output" if s == len(self.stages) - 1 else f"{stage.title} output".strip()
            for s, stage in enumerate(self.stages)
        ]
        planes: list[list[_Plane]] = (
            self._oblique_planes(shapes) if self.oblique else self._flat_planes(shapes)
        )
        volumes = []
        for v, ((_count, _, _), placed) in enumerate(zip(shapes, planes, strict=True)):
            volumes.append(
                _Volume(
                    name=names[v],
                    title=titles[v],
                    planes=placed,
                    cells=first.grid().cells if v == 0 else None,
                    bands=self._bands(v),
                    fill=self.theme.input if v == 0 else self.theme.output,
                )
            )
        return volumes

    def _volume_names(self) -> list[str]:
        return ["in", *(stage.output_name for stage in self.stages)]

    def _bands(self, volume: int) -> list[int] | None:
        """Each channel's group: the writing stage's groups if it has some, else the reader's."""
        writer = self.planes_2d[volume - 1] if volume > 0 else None
        reader = self.planes_2d[volume] if volume < len(self.planes_2d) else None
        if writer is not None and writer.groups > 1:
            return [writer.group_of(oc) for oc in range(writer.out_channels)]
        if reader is not None and reader.groups > 1:
            per_group = reader.in_channels // reader.groups
            return [c // per_group for c in range(reader.in_channels)]
        return None

    def _oblique_planes(self, shapes: list[tuple[int, int, int]]) -> list[list[_Plane]]:
        """Volumes one above another; a volume's channel 0 on top.

        Two slanted planes R rows tall do not overlap when the upper one floats more than R
        cells above the lower one (its front edge clears the lower one's back edge), less half
        its shift to the left: conv_arithmetic's output plane floats R + 1 cells up, 0.35 left.
        """
        placed: list[list[_Plane]] = []
        y, x = 0.0, 0.0
        below_rows = 0
        for v, (count, rows, cols) in enumerate(shapes):
            if v:
                y += below_rows + VOLUME_GAP
                x += OUTPUT_SHIFT_X
            planes: list[_Plane] = []
            for c in range(count):
                if c:
                    y += rows + PLANE_GAP
                planes.append(_Plane(rows, cols, SLANT, (x, y)))
            placed.append(planes[::-1])  # channel 0 is the top plane, placed last
            below_rows = rows
        return placed

    def _flat_planes(self, shapes: list[tuple[int, int, int]]) -> list[list[_Plane]]:
        """A column of grids per volume, channel c in row c from the top; filters between."""
        pitch = self._pitch()
        count = max(shape[0] for shape in shapes)
        identity = np.eye(2)
        placed: list[list[_Plane]] = []
        self.filter_x: list[float] = []
        x = 0.0
        for v, (channels, rows, cols) in enumerate(shapes):
            if 0 < v < len(shapes) - 1:  # room for the labels left of a middle volume
                labels = [f"{self._volume_names()[v]} {c}" for c in range(channels)]
                x += text_width(labels, self.label_pt) / self.cell_px + BAND_WIDTH + 2 * BAND_GAP
            planes = []
            for c in range(channels):
                top = (count - c) * pitch - ROW_GAP / 2 - (pitch - ROW_GAP - rows) / 2
                planes.append(_Plane(rows, cols, identity, (x, top - rows)))
            placed.append(planes)
            x += cols + COLUMN_GAP
            if v < len(self.planes_2d):
                self.filter_x.append(x)
                x += self._filters_width(self.planes_2d[v]) + COLUMN_GAP
        self.rows_top = count * pitch
        return placed

    def kernel_plane(self, stage: int, out_channel: int, in_channel: int) -> _Plane:
        """Flat: where filter ``out_channel`` of ``stage`` draws its kernel for ``in_channel``."""
        plane = self.planes_2d[stage]
        rows, cols = plane.kernel_size
        x = self.filter_x[stage] + out_channel * (cols + FILTER_GAP)
        row = self.volumes[stage].planes[in_channel]
        y = float(row.origin[1]) + (row.rows - rows) / 2
        return _Plane(rows, cols, np.eye(2), (x, y))

    def bias_plane(self, stage: int, out_channel: int) -> _Plane:
        """Flat: the bias cell of filter ``out_channel``, under the rows of grids."""
        kernel = self.kernel_plane(stage, out_channel, 0)
        cols = self.planes_2d[stage].kernel_size[1]
        return _Plane(1, 1, np.eye(2), (float(kernel.origin[0]) + (cols - 1) / 2, -1.4))

    def _has_bias(self, stage: int) -> bool:
        numbers = self._numbers[stage]
        return numbers is not None and numbers.bias is not None

    def _label_texts(self) -> list[tuple[float, float, str, dict[str, Any]]]:
        """Channel labels, volume titles, filter names: static texts, in cells."""
        texts: list[tuple[float, float, str, dict[str, Any]]] = []
        style: dict[str, Any] = {
            "color": self.theme.text,
            "fontsize": self.label_pt,
            "va": "center",
        }
        band_room = BAND_WIDTH + 2 * BAND_GAP
        last = len(self.volumes) - 1
        for v, volume in enumerate(self.volumes):
            for c, plane in enumerate(volume.planes):
                label = f"{volume.name} {c}"
                if self.oblique or v < last or v == 0:
                    # Left of the plane, past its band: the middle of its left edge.
                    x, y = plane.xy([[-band_room - 0.15, plane.rows / 2]])[0]
                    texts.append((float(x), float(y), label, {**style, "ha": "right"}))
                else:
                    x, y = plane.xy([[plane.cols + band_room + 0.15, plane.rows / 2]])[0]
                    texts.append((float(x), float(y), label, {**style, "ha": "left"}))
        if not self.oblique:
            for s, conv in enumerate(self.planes_2d):
                name = self.stages[s].name
                for oc in range(conv.out_channels):
                    kernel = self.kernel_plane(s, oc, 0)
                    x = float(kernel.origin[0]) + conv.kernel_size[1] / 2
                    texts.append(
                        (
                            x,
                            self.rows_top + 0.3,
                            f"{name}{oc}",
                            {**style, "ha": "center", "va": "bottom"},
                        )
                    )
                if self._has_bias(s):
                    bias = self.bias_plane(s, 0)
                    x0 = float(self.kernel_plane(s, 0, 0).origin[0])
                    texts.append(
                        (x0 - 0.2, float(bias.origin[1]) + 0.5, "bias", {**style, "ha": "right"})
                    )
        if self.options.labels:
            titled = {**style, "fontsize": self.label_pt * 11 / LABEL_PT, "ha": "center"}
            for volume in self.volumes:
                if self.oblique:
                    top = volume.planes[0]
                    x, y = top.xy([[top.cols / 2, top.rows]])[0]
                    texts.append(
                        (
                            float(x),
                            float(y) + 0.5 + 0.5 * top.cols / 2 * 0,
                            volume.title,
                            {**titled, "va": "bottom"},
                        )
                    )
                else:
                    top = volume.planes[0]
                    x, y = top.xy([[top.cols / 2, top.rows]])[0]
                    texts.append(
                        (float(x), self.rows_top + 0.3, volume.title, {**titled, "va": "bottom"})
                    )
        return texts

    def _layout(self) -> None:
        """The figure's limits: every plane, label, band and the sum under them."""
        corners = [
            plane.block(0, 0, plane.rows, plane.cols) for v in self.volumes for plane in v.planes
        ]
        if not self.oblique:
            for s, plane in enumerate(self.planes_2d):
                for oc in range(plane.out_channels):
                    kernel = self.kernel_plane(s, oc, 0)
                    corners.append(kernel.block(0, 0, kernel.rows, kernel.cols))
                    if self._has_bias(s):
                        corners.append(self.bias_plane(s, oc).block(0, 0))
        points = np.concatenate(corners)
        x0, y0 = points.min(axis=0)
        x1, y1 = points.max(axis=0)
        self.static_texts = self._label_texts()
        for x, y, text, style in self.static_texts:
            width = text_width([text], style["fontsize"]) / self.cell_px
            height = style["fontsize"] / 72 * DPI * 1.3 / self.cell_px
            ha, va = style.get("ha", "center"), style.get("va", "center")
            left = x - (width if ha == "right" else width / 2 if ha == "center" else 0)
            bottom = y - (height / 2 if va == "center" else height if va == "top" else 0)
            x0, x1 = min(x0, left), max(x1, left + width)
            y0, y1 = min(y0, bottom), max(y1, bottom + height)
        x0, y0, x1, y1 = x0 - ROOM, y0 - ROOM, x1 + ROOM, y1 + ROOM
        line_cells = self.caption_pt / 72 * DPI * 1.25 / self.cell_px
        captions = [self._caption(i) for i in range(len(self.frames))]
        self.caption_lines = max((len(c.split("\n")) for c in captions), default=0)
        if self.caption_lines:
            widest = (
                max(text_width(c.split("\n"), self.caption_pt) for c in captions) / self.cell_px
            )
            room = self.caption_lines * line_cells + 0.4
            self.caption_at = y0 - room / 2
            y0 -= room
            grow = max(widest + 2 * ROOM - (x1 - x0), 0.0)
            x0, x1 = x0 - grow / 2, x1 + grow / 2
        titles = [stage.title for stage in self.stages if stage.title]
        head_lines = (1 if titles else 0) + (len(self.note.split("\n")) if self.note else 0)
        if head_lines:
            head = [*(self.note.split("\n") if self.note else []), *titles]
            widest = text_width(head, self.caption_pt) / self.cell_px
            room = head_lines * line_cells + 0.3
            self.head_at = y1 + room / 2
            y1 += room
            grow = max(widest + 2 * ROOM - (x1 - x0), 0.0)
            x0, x1 = x0 - grow / 2, x1 + grow / 2
        width_px, height_px = round((x1 - x0) * self.cell_px), round((y1 - y0) * self.cell_px)
        if width_px * height_px > MAX_FRAME_PIXELS:
            param = "scale" if self.options.scale > 1 else "input_size"
            raise ConvSpecError(
                param,
                f"a frame would be {width_px}x{height_px} pixels at scale {self.options.scale}, "
                f"over the limit of {MAX_FRAME_PIXELS:,}; use a smaller input, fewer channels or "
                "a smaller scale",
            )
        self.limits = (x0, x0 + width_px / self.cell_px, y0, y0 + height_px / self.cell_px)
        self.size = (width_px, height_px)

    # -- static parts -----------------------------------------------------------------------

    def _add_static(self, sheet: Sheet) -> None:
        theme = self.theme
        dashes = (0.0, (DASH_PT / THICK_PT, DASH_PT / THICK_PT))
        for volume in self.volumes:
            for plane in volume.planes:
                every = [(r, c) for r in range(plane.rows) for c in range(plane.cols)]
                if volume.cells is not None and (volume.cells != Cell.INPUT).any():
                    blank = [(r, c) for r, c in every if volume.cells[r, c] != Cell.INPUT]
                    filled = [(r, c) for r, c in every if volume.cells[r, c] == Cell.INPUT]
                    sheet.add(
                        PolyCollection(
                            list(plane.cells(blank)), facecolors=theme.padding, edgecolors="none"
                        )
                    )
                    segments = plane.window(0, 0, plane.rows, plane.cols)
                    sheet.add(
                        LineCollection(
                            list(segments),
                            colors=theme.line,
                            linewidths=self.thick,
                            linestyles=[dashes],
                        )
                    )
                else:
                    filled = every
                sheet.add(
                    PolyCollection(
                        list(plane.cells(filled)),
                        facecolors=volume.fill,
                        edgecolors=theme.line,
                        linewidths=self.thick,
                    )
                )
            if volume.bands is not None:
                band = [
                    self._band(plane, v_right=not self.oblique and volume is self.volumes[-1])
                    for plane in volume.planes
                ]
                colours = [self.group_colours[g % len(self.group_colours)] for g in volume.bands]
                sheet.add(PolyCollection(band, facecolors=colours, edgecolors="none"))
        if not self.oblique:
            self._add_filters(sheet)
        for x, y, text, style in self.static_texts:
            sheet.text(x, y, text, **style)
        if self.note:
            x0, x1, _, y1 = self.limits
            head = self.note.split("\n")
            style = {"color": theme.text, "fontsize": self.caption_pt, "ha": "center", "va": "top"}
            sheet.text((x0 + x1) / 2, y1 - 0.3, "\n".join(head), **style)
        self._add_static_values(sheet)

    def _band(self, plane: _Plane, v_right: bool) -> Points:
        """A group band along a plane's left edge (right edge for the flat view's outputs)."""
        if v_right:
            return plane.block(0, plane.cols + BAND_GAP, plane.rows, BAND_WIDTH)
        return plane.block(0, -BAND_GAP - BAND_WIDTH, plane.rows, BAND_WIDTH)

    def _kernel_fill(self) -> str:
        """The kernel's cells (flat): the shade over the background, as on padding."""
        theme = self.theme
        return blend(theme.shade, theme.background, theme.shade_alpha)

    def _add_filters(self, sheet: Sheet) -> None:
        """Flat: every filter's kernels in the rows of the channels it reads, and its bias."""
        theme = self.theme
        for s, plane in enumerate(self.planes_2d):
            polygons, colours = [], []
            for oc in range(plane.out_channels):
                for c in plane.channels_read(oc):
                    kernel = self.kernel_plane(s, oc, c)
                    polygons += list(
                        kernel.cells(
                            [(r, q) for r in range(kernel.rows) for q in range(kernel.cols)]
                        )
                    )
                if self._has_bias(s):
                    polygons += list(self.bias_plane(s, oc).cells([(0, 0)]))
            sheet.add(
                PolyCollection(
                    polygons,
                    facecolors=self._kernel_fill(),
                    edgecolors=theme.line,
                    linewidths=self.thick,
                )
            )
            if plane.groups > 1:
                for oc in range(plane.out_channels):
                    kernel = self.kernel_plane(s, oc, 0)
                    x = float(kernel.origin[0])
                    y = self.rows_top + 0.05
                    colour = self.group_colours[plane.group_of(oc) % len(self.group_colours)]
                    bar = np.array(
                        [
                            [x, y],
                            [x + kernel.cols, y],
                            [x + kernel.cols, y + BAND_WIDTH],
                            [x, y + BAND_WIDTH],
                        ]
                    )
                    colours.append(colour)
                    sheet.add(PolyCollection([bar], facecolors=[colour], edgecolors="none"))

    def _add_static_values(self, sheet: Sheet) -> None:
        """Every input cell's value; (flat) every kernel weight and bias."""
        style = self._value_style()
        numbers = self._numbers[0]
        record = sheet is self.sheet
        self._static_cells: list[tuple[Text, Points]] = []

        def write(
            plane: _Plane, r: int, q: int, value: float, look: dict[str, Any] = style
        ) -> None:
            x, y = plane.centre(r, q)
            artist = sheet.text(x, y, self._text(value), **look)
            if record:
                self._static_cells.append((artist, plane.block(r, q)))

        grid = self.planes_2d[0].grid()
        copied = grid.padding_sources()  # a padding mode's copies, in the copies' look
        copy = self._value_style(color=copy_colour(self.theme), fontstyle=COPY_STYLE)
        if numbers is not None:
            for c, plane in enumerate(self.volumes[0].planes):
                for (r, q), value in np.ndenumerate(numbers.drawn[c]):
                    write(plane, r, q, value, copy if (r, q) in copied else style)
        elif copied:  # without values, the letters of render.copy_marks on every channel
            inputs, marks = copy_marks(grid)
            for plane in self.volumes[0].planes:
                for cells, look in ((inputs, style), (marks, copy)):
                    for (r, q), name in cells.items():
                        x, y = plane.centre(r, q)
                        sheet.text(x, y, name, **look)
        if self.oblique:
            return
        for s, conv in enumerate(self.planes_2d):
            numbers = self._numbers[s]
            if numbers is None:
                continue
            for oc in range(conv.out_channels):
                for k, c in enumerate(conv.channels_read(oc)):
                    kernel = self.kernel_plane(s, oc, c)
                    for (r, q), weight in np.ndenumerate(numbers.weights[oc, k]):
                        write(kernel, r, q, weight)
                if numbers.bias is not None:
                    write(self.bias_plane(s, oc), 0, 0, numbers.bias[oc])

    def _value_style(self, **more: Any) -> dict[str, Any]:
        return {
            "color": self.theme.text,
            "fontsize": self.value_pt,
            "ha": "center",
            "va": "center",
            **more,
        }

    def _text(self, value: float) -> str:
        from convanim.values import format_value

        return format_value(float(value), self.max_chars)

    # -- the frames -------------------------------------------------------------------------

    @property
    def frame_count(self) -> int:
        return len(self.frames)

    @property
    def background(self) -> str:
        return self.theme.background

    @property
    def default_columns(self) -> int:
        """One row of frames per output row."""
        cols: int = self.planes_2d[-1].output_size[1]
        return cols

    def frame_caption(self, index: int) -> str:
        """ "output channel 1, cell (0, 2)"; a spatial frame: "every output channel, cell ..."."""
        stage, frame = self.frames[index]
        spec = self.stages[stage].spec
        cell = frame.output[1] if spec.dims == 1 else tuple(frame.output)
        which = (
            "every output channel"
            if frame.out_channel is None
            else f"output channel {frame.out_channel}"
        )
        title = self.stages[stage].title
        return (f"{title}: " if title else "") + f"{which}, cell {cell}"

    def read_channels(self, index: int) -> tuple[int, tuple[int, ...]]:
        """(input volume, its channels) that frame ``index`` shades."""
        stage, frame = self.frames[index]
        return stage, tuple(frame.in_channels)

    def out_channels(self, index: int) -> tuple[int, ...]:
        """The output channels frame ``index`` computes."""
        stage, frame = self.frames[index]
        every = range(self.planes_2d[stage].out_channels)
        return tuple(every) if frame.out_channel is None else (frame.out_channel,)

    def _done(self, index: int) -> list[tuple[int, int, int, int]]:
        """(volume, channel, row, col) of every output cell computed before frame ``index``;
        a poster's: of every frame but ``index`` (it shows the whole animation at once)."""
        done = []
        for i in range(len(self.frames)) if self.poster else range(index):
            if i == index:
                continue
            s, frame = self.frames[i]
            for oc in self.out_channels(i):
                done.append((s + 1, oc, *frame.output))
        return done

    def layer(self, index: int) -> _Layer:
        """What frame ``index`` draws over the static parts."""
        stage, frame = self.frames[index]
        theme = self.theme
        layer = _Layer()
        inputs, outputs = self.volumes[stage], self.volumes[stage + 1]
        shade: list[Points] = []
        thick: list[Points] = []
        (top, left), (bottom, right) = frame.window
        taps = [tuple(t) for t in frame.taps]
        read = list(frame.in_channels)
        for c in read:
            plane = inputs.planes[c]
            shade.append(plane.cells(taps))
            thick.append(plane.window(top, left, bottom, right))
        computed = self.out_channels(index)
        row, col = frame.output
        for oc in computed:
            plane = outputs.planes[oc]
            shade.append(plane.cells([(row, col)]))
            thick.append(plane.outline(row, col))
        if not self.oblique:  # the filters at work, shaded as their taps are
            spec = self.planes_2d[stage]
            for oc in computed:
                for c in spec.channels_read(oc):
                    kernel = self.kernel_plane(stage, oc, c)
                    every = [(r, q) for r in range(kernel.rows) for q in range(kernel.cols)]
                    shade.append(kernel.cells(every))
                    thick.append(kernel.window(0, 0, kernel.rows, kernel.cols))
                if self._has_bias(stage):
                    shade.append(self.bias_plane(stage, oc).cells([(0, 0)]))
                    thick.append(self.bias_plane(stage, oc).outline(0, 0))
        layer.fills.append((theme.shade, theme.shade_alpha, np.concatenate(shade)))
        layer.lines.append((theme.line, self.thick, True, np.concatenate(thick)))
        if self.oblique:
            thin = self._stack_edges(inputs, read, frame) + self._links(
                inputs, outputs, frame, computed
            )
            if thin:
                layer.lines.append((self._link_colour(), self.thin, False, np.concatenate(thin)))
        self._add_values(layer, index)
        if any(s.title for s in self.stages):
            title = self.stages[stage].title
            x0, x1, _, _ = self.limits
            style = {
                "color": theme.text,
                "fontsize": self.caption_pt,
                "ha": "center",
                "va": "center",
            }
            layer.texts.append(((x0 + x1) / 2, self._title_y(), title, style))
        return layer

    def _title_y(self) -> float:
        """Where a stage's title goes: the last line of the head."""
        line_cells = self.caption_pt / 72 * DPI * 1.25 / self.cell_px
        return float(
            self.limits[3]
            - 0.15
            - (len(self.note.split("\n")) if self.note else 0) * line_cells
            - line_cells / 2
        )

    def _stack_edges(self, inputs: _Volume, read: list[int], frame: Frame[Any]) -> list[Points]:
        """Oblique: the filter as a stack: edges from each read plane's window up to the next
        one's corners."""
        (top, left), (bottom, right) = frame.window
        corners = [(top, left), (top, right), (bottom, left), (bottom, right)]
        edges: list[Points] = []
        for lower, upper in zip(read[1:], read[:-1], strict=True):  # channel 0 is on top
            low, high = inputs.planes[lower], inputs.planes[upper]
            for r, c in corners:
                edges += self._visible(low, (r, c), high, (r, c))
        return edges

    def _links(
        self, inputs: _Volume, outputs: _Volume, frame: Frame[Any], computed: Sequence[int]
    ) -> list[Points]:
        """Oblique: lines from the top read window's corners to each output cell's corners,
        hidden where they pass under a plane, as conv_arithmetic hides them under its output
        plane."""
        (top, left), (bottom, right) = frame.window
        row, col = frame.output
        pairs = (
            ((top, left), (row, col)),
            ((top, right), (row, col + 1)),
            ((bottom, left), (row + 1, col)),
            ((bottom, right), (row + 1, col + 1)),
        )
        spec = self.planes_2d[self.volumes.index(inputs)]
        links: list[Points] = []
        for oc in computed:
            base = inputs.planes[min(spec.channels_read(oc))]  # the top plane oc reads
            for start, end in pairs:
                links += self._visible(base, start, outputs.planes[oc], end)
        return links

    def _visible(
        self, low: _Plane, start: tuple[int, int], high: _Plane, end: tuple[int, int]
    ) -> list[Points]:
        """The parts of the line from corner ``start`` of plane ``low`` up to corner ``end`` of
        plane ``high`` that lie over no other plane, as (1, 2, 2) segments.

        conv_arithmetic hides its links under the output plane; here they pass behind every
        plane but the one they start from, so that no line is drawn across a plane it does
        not read or write, and the stacks stay legible.
        """
        a = low.xy([[start[1], low.rows - start[0]]])[0]
        b = high.xy([[end[1], high.rows - end[0]]])[0]
        hidden = [
            inside
            for volume in self.volumes
            for plane in volume.planes
            if plane is not low and (inside := _inside(a, b, plane)) is not None
        ]
        shown, at = [], 0.0
        for enter, leave in sorted(hidden):
            if enter > at:
                shown.append((at, enter))
            at = max(at, leave)
        if at < 1.0:
            shown.append((at, 1.0))
        return [
            np.array([[a + (b - a) * t0, a + (b - a) * t1]]) for t0, t1 in shown if t1 - t0 > 1e-6
        ]

    def _link_colour(self) -> str:
        return blend(self.theme.text, self.theme.background, LINK_FADE)

    # -- numbers ------------------------------------------------------------------------------

    def _steps(self, index: int) -> tuple[ChannelStep, ...]:
        stage, _frame = self.frames[index]
        worked = self.stages[stage].worked
        if worked is None:
            return ()
        return worked.steps(self._frame_nd(index))

    def _frame_nd(self, index: int) -> Frame[Any]:
        """Frame ``index`` as its stage's spec yields it (1-D frames for a 1-D spec)."""
        stage, frame = self.frames[index]
        if self.stages[stage].spec.dims == 2:
            return frame
        if not hasattr(self, "_nd"):
            self._nd = [f for st in self.stages for f in st.spec.frames(self.order)]
        nd: Frame[Any] = self._nd[index]
        return nd

    def _caption(self, index: int) -> str:
        """The sum of frame ``index``: a line per input channel read, then the total."""
        from convanim.values import format_value

        steps = self._steps(index)
        if not steps:
            return ""
        stage, _ = self.frames[index]
        name = self.volumes[stage].name

        def number(value: float) -> str:
            text = format_value(float(value), 6)
            return f"({text})" if text.startswith("-") else text

        def bias(step: ChannelStep) -> str:
            return f" + {number(step.bias)} (bias)" if self._has_bias(stage) else ""

        lines = []
        if len(steps) == 1:
            (step,) = steps
            for k, c in enumerate(step.in_channels):
                values, weights = step.values[k].ravel(), step.weights[k].ravel()
                if len(values) > MAX_PRODUCTS:
                    terms = f"sum of {len(values)} products"
                else:
                    terms = " + ".join(
                        f"{number(v)}×{number(w)}" for v, w in zip(values, weights, strict=True)
                    )
                lines.append(f"{name} {c}: {terms} = {format_value(float(step.sums[k]), 6)}")
            sums = " + ".join(number(s) for s in step.sums)
            lines.append(f"{sums}{bias(step)} = {format_value(step.total, 6)}")
        else:
            out = self.volumes[stage + 1].name
            for step in steps:
                sums = " + ".join(number(s) for s in step.sums)
                lines.append(
                    f"{out} {step.out_channel}: {sums}{bias(step)} = {format_value(step.total, 6)}"
                )
        return "\n".join(lines)

    def _add_values(self, layer: _Layer, index: int) -> None:
        """The numbers a frame adds: outputs so far, the current ones, weights at the taps, the
        sum."""
        stage, frame = self.frames[index]
        numbers = self._numbers[stage]
        if numbers is None:
            return
        style = self._value_style()
        for v, c, r, q in self._done(index):
            plane = self.volumes[v].planes[c]
            x, y = plane.centre(r, q)
            done = self._numbers[v - 1]
            assert done is not None
            layer.cells[len(layer.texts)] = plane.block(r, q)
            layer.texts.append((x, y, self._text(done.output[c, r, q]), style))
        row, col = frame.output
        for oc in self.out_channels(index):
            plane = self.volumes[stage + 1].planes[oc]
            x, y = plane.centre(row, col)
            layer.cells[len(layer.texts)] = plane.block(row, col)
            value = self._text(numbers.output[oc, row, col])
            layer.texts.append((x, y, value, {**style, "fontweight": "bold"}))
        # The weights at the taps of the one filter being applied (a spatial frame has many).
        if frame.out_channel is not None:
            inputs = self.volumes[stage]
            weight_style = self._weight_style()
            for k, c in enumerate(frame.in_channels):
                plane = inputs.planes[c]
                for weight, (r, q) in zip(
                    numbers.weights[frame.out_channel, k].ravel(), frame.taps, strict=True
                ):
                    if self.oblique:
                        x, y = plane.centre(r, q)
                        x += self._after(stage, c, r, q)
                        layer.texts.append((x, y - 0.05, "×" + self._text(weight), weight_style))
                    else:
                        x, y = plane.xy([[q + 0.94, plane.rows - r - 0.94]])[0]
                        layer.cells[len(layer.texts)] = plane.block(r, q)
                        layer.texts.append((float(x), float(y), self._text(weight), weight_style))
        caption = self._caption(index)
        x0, x1, _, _ = self.limits
        layer.texts.append(
            (
                (x0 + x1) / 2,
                self.caption_at,
                caption,
                {
                    "color": self.theme.text,
                    "fontsize": self.caption_pt,
                    "ha": "center",
                    "va": "center",
                },
            )
        )

    def _weight_style(self) -> dict[str, Any]:
        if self.oblique:
            return self._value_style(fontsize=self.value_pt * 0.8, ha="left")
        return self._value_style(fontsize=self.value_pt * 0.7, ha="right", va="bottom")

    def _output_of(self, stage: int) -> npt.NDArray[np.float64]:
        numbers = self._numbers[stage]
        assert numbers is not None
        return numbers.output

    def _after(self, stage: int, channel: int, row: int, col: int) -> float:
        """Oblique: cells from a cell's centre to just after its value."""
        numbers = self._numbers[stage]
        assert numbers is not None
        value = (
            numbers.drawn[channel, row, col]
            if stage == 0
            else self._output_of(stage - 1)[channel, row, col]
        )
        return text_width([self._text(value)], self.value_pt) / 2 / self.cell_px + 0.01

    # -- drawing ------------------------------------------------------------------------------

    def _build(self) -> None:
        width, height = self.size
        self.page = Page(width, height, self.theme.background, DPI)
        self.sheet = Sheet(self.page, (0, 0), self.size, self.limits)
        self._add_static(self.sheet)
        self.page.draw()
        self.cached = self.page.copy()
        self.renderer: Any = self.page.renderer
        self.transform: Any = self.sheet.transform.frozen()
        self._texts: list[Text] = []
        self._used = 0

    def colours(self) -> list[str]:
        theme = self.theme
        flat = [theme.background, theme.input, theme.output, theme.line, theme.padding, theme.text]
        flat += [self._link_colour(), self._kernel_fill(), *self.group_colours]
        flat += self._copy_inks()
        shaded = [
            blend(theme.shade, under, theme.shade_alpha)
            for under in (theme.input, theme.output, theme.padding, theme.line, self._kernel_fill())
        ]
        return list(dict.fromkeys(flat + shaded))

    def inks(self) -> list[str] | None:
        return [self.theme.line, self.theme.text, *self.group_colours, *self._copy_inks()]

    def _copy_inks(self) -> list[str]:
        """The copies' colour, where a padding mode copies input cells into the padding."""
        copies = self.stages[0].spec.padding_mode != "zeros"
        return [copy_colour(self.theme)] if copies else []

    def draw(self, index: int) -> Box:
        """Draw frame ``index``; returns the whole canvas as the box that changed."""
        if not 0 <= index < self.frame_count:
            raise IndexError(f"frame {index}; expected 0 to {self.frame_count - 1}")
        layer = self.layer(index)
        self.page.restore(self.cached)
        renderer, transform = self.renderer, self.transform
        gc = renderer.new_gc()
        gc.set_linewidth(0)
        gc.set_antialiased(False)
        for colour, alpha, polygons in layer.fills:
            gc.set_alpha(alpha)
            renderer.draw_path(gc, _polygons(polygons), transform, _rgb(colour))
        gc.set_alpha(1.0)
        for colour, width, smooth, segments in layer.lines:
            gc.set_antialiased(smooth)
            gc.set_foreground(_rgb(colour))
            gc.set_linewidth(width)
            renderer.draw_path(gc, segments_path(segments), transform)
        gc.restore()
        while len(self._texts) < len(layer.texts):
            self._texts.append(self.sheet.text(0, 0, "", animated=True))
        for artist, (x, y, text, style) in zip(self._texts, layer.texts, strict=False):
            artist.update({"position": (x, y), "text": text, "fontweight": "normal", **style})
            self.sheet.draw_artist(artist)
        self._used = len(layer.texts)
        self._moving_cells = layer.cells
        self.shown = {"texts": [t for _, _, t, _ in layer.texts], "caption": self._caption(index)}
        width, height = self.size
        return (0, height, 0, width)

    def rgba(self) -> npt.NDArray[np.uint8]:
        return self.page.rgba()

    def render(self, index: int) -> Rgb:
        self.draw(index)
        return np.ascontiguousarray(self.rgba()[:, :, :3])

    def vector(self, indices: Sequence[int], columns: int) -> Figure:
        """A figure of these frames tiled ``columns`` to a row, ``STRIP_GAP_PX`` apart."""
        width, height = self.size
        rows = -(-len(indices) // columns)
        gap = STRIP_GAP_PX
        figure = pixel_figure(
            columns * width + (columns - 1) * gap, rows * height + (rows - 1) * gap
        )
        figure.patch.set_facecolor(self.theme.background)
        for position, index in enumerate(indices):
            sheet = Sheet(
                figure, tile(position, columns, self.size, gap, rows), self.size, self.limits
            )
            self._add_static(sheet)
            layer = self.layer(index)
            for colour, alpha, polygons in layer.fills:
                sheet.add(
                    PathPatch(_polygons(polygons), facecolor=colour, edgecolor="none", alpha=alpha)
                )
            for colour, width_pt, _, segments in layer.lines:
                sheet.add(LineCollection(list(segments), colors=colour, linewidths=width_pt))
            for x, y, text, style in layer.texts:
                sheet.text(x, y, text, **style)
        return figure

    # -- for tests ----------------------------------------------------------------------------

    def pixel(self, volume: int, channel: int, row: int, col: int) -> tuple[int, int]:
        """(x, y) pixel, y from the top, of the centre of a cell of a volume's channel."""
        x, y = self.volumes[volume].planes[channel].centre(row, col)
        px, py = self.transform.transform((x, y))
        return int(px), int(self.size[1] - py)

    def kernel_pixel(
        self, stage: int, out_channel: int, in_channel: int, row: int, col: int
    ) -> tuple[int, int]:
        """Flat: the pixel at the centre of a kernel cell."""
        x, y = self.kernel_plane(stage, out_channel, in_channel).centre(row, col)
        px, py = self.transform.transform((x, y))
        return int(px), int(self.size[1] - py)

    def band_pixel(self, volume: int, channel: int) -> tuple[int, int]:
        """The pixel at the middle of a channel's group band."""
        plane = self.volumes[volume].planes[channel]
        right = not self.oblique and volume == len(self.volumes) - 1
        x, y = self._band(plane, right).mean(axis=0)
        px, py = self.transform.transform((x, y))
        return int(px), int(self.size[1] - py)

    def cell_texts(self) -> Iterator[tuple[str, Bbox, tuple[float, float, float, float]]]:
        """Each number in a cell after the last ``draw``: its text, its pixel box and the cell's
        (x0, y0, x1, y1), display pixels with y up as ``get_window_extent`` gives them."""
        moving = [(self._texts[i], corners) for i, corners in self._moving_cells.items()]
        for artist, corners in [*self._static_cells, *moving]:
            pixels = self.transform.transform(corners)
            (x0, y0), (x1, y1) = pixels.min(axis=0), pixels.max(axis=0)
            box = artist.get_window_extent(self.renderer)
            yield artist.get_text(), box, (float(x0), float(y0), float(x1), float(y1))

    def texts(self) -> list[tuple[str, Bbox]]:
        """Every text after the last ``draw``, with its pixel box (y up)."""
        static = [a for a in self.page.artists if isinstance(a, Text) and not a.get_animated()]
        drawn = static + self._texts[: self._used]
        return [(t.get_text(), t.get_window_extent(self.renderer)) for t in drawn]


def _inside(start: Points, end: Points, plane: _Plane) -> tuple[float, float] | None:
    """The interval of t in [0, 1] where start + t (end - start) lies in ``plane``'s
    parallelogram (an axis-aligned rectangle in its own coordinates: Liang-Barsky), or None."""
    inverse = np.linalg.inv(plane.transform)
    a = inverse @ (start - plane.origin)
    b = inverse @ (end - plane.origin)
    low, high = np.zeros(2), np.array([plane.cols, plane.rows], dtype=float)
    direction = b - a
    enter, leave = 0.0, 1.0
    for axis in range(2):
        if abs(direction[axis]) < 1e-12:
            if not low[axis] <= a[axis] <= high[axis]:
                return None
            continue
        t0 = (low[axis] - a[axis]) / direction[axis]
        t1 = (high[axis] - a[axis]) / direction[axis]
        enter, leave = max(enter, min(t0, t1)), min(leave, max(t0, t1))
    return (enter, leave) if leave > enter else None


def _polygons(corners: Points) -> Any:
    from matplotlib.path import Path

    count = len(corners)
    vertices = np.concatenate([corners, corners[:, :1]], axis=1).reshape(-1, 2)
    codes = np.tile([Path.MOVETO, Path.LINETO, Path.LINETO, Path.LINETO, Path.CLOSEPOLY], count)
    return Path(vertices, codes)


def _rgb(colour: str) -> tuple[float, float, float]:
    r, g, b = hex_rgb(colour)
    return r / 255, g / 255, b / 255


@dataclass(frozen=True)
class _Numbers2d:
    """A stage's numbers on 2-D planes: drawn (C, Hd, Wd), weights (OC, Cg, kH, kW), bias,
    output (OC, Ho, Wo)."""

    drawn: npt.NDArray[np.float64]
    weights: npt.NDArray[np.float64]
    bias: npt.NDArray[np.float64] | None
    output: npt.NDArray[np.float64]


def _numbers_2d(stage: Stage) -> _Numbers2d | None:
    worked = stage.worked
    if worked is None:
        return None
    if stage.spec.dims == 2:
        return _Numbers2d(worked.drawn, worked.weights, worked.bias, worked.output)
    return _Numbers2d(
        worked.drawn[:, None, :],
        worked.weights[:, :, None, :],
        worked.bias,
        worked.output[:, None, :],
    )
