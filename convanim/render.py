"""The renderer: frames of a ``ConvSpec`` to RGB pixels, with matplotlib's Agg renderer.

One page per animation. The static parts (grids, cells) are drawn once and cached as a
background; each frame restores it and draws only what moves (the kernel window, the links to
the output cell, the current output cell). No pyplot: nothing here touches a display, and
raster output never imports ``matplotlib.figure`` (see ``Page``).

A 1-D spec is drawn as its ``as_2d()`` plane, one row of cells: in the oblique view the output
row floats above the input row as a 2-D output plane does; in the flat view the output row sits
above the input row, centred on it (side by side, a long 1-D input would leave the cells
small), so each output cell is near the inputs it reads.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
import numpy.typing as npt
from matplotlib.artist import Artist
from matplotlib.backends.backend_agg import RendererAgg
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.path import Path
from matplotlib.text import Text
from matplotlib.transforms import Affine2D, Affine2DBase, Bbox, Transform, TransformedBbox

from convanim.drawing import Box, display_box, union_box
from convanim.geometry import Cell, ConvSpec, ConvSpecError, DrawnGrid
from convanim.geometry import Frame as GeometryFrame
from convanim.options import VIEWS, RenderOptions
from convanim.stamps import TextStamps
from convanim.theme import THEMES, Theme, hex_rgb

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from convanim.values import Worked

__all__ = [
    "MAX_FRAME_PIXELS",
    "VIEWS",
    "Animation",
    "Page",
    "PixelFigure",
    "RenderOptions",
    "Sheet",
    "copy_colour",
    "copy_marks",
    "grid_lines",
    "mark_name",
    "mark_names",
    "render_frames",
    "segments_path",
    "tile",
]


# conv_arithmetic draws at TikZ scale 0.5 (one cell is 0.5 cm); its GIFs come out at about
# 29.65 pixels per cell with a 10 pt border. Matching that keeps our sizes next to theirs.
OBLIQUE_CELL_PX = 29.65
OBLIQUE_BORDER = 0.7  # cells
POINTS_PER_CELL = 14.17  # 0.5 cm in points: line widths are given in TikZ points
THICK_PT, THIN_PT = 0.8, 0.4
DASH_PT = 3.0  # TikZ's "dashed": 3 pt on, 3 pt off

# Both planes are slanted as in conv_arithmetic: x' = x - 0.7 y, then y' = y + 0.5 x'.
SLANT = np.array([[1.0, -0.7], [0.5, 0.65]])
OUTPUT_SHIFT_X = -0.35  # TikZ's "xshift=-5pt" at scale 0.5, in cells

FLAT_MAX_WIDTH_PX, FLAT_MAX_HEIGHT_PX = 1000, 700
FLAT_CELL_PX_RANGE = (12.0, 30.0)
FLAT_VALUES_CELL_PX_RANGE = (28.0, 44.0)  # room for numbers
FLAT_GAP = 2.0  # cells between input and output
FLAT_GAP_1D = 1.0  # cells between the input row and the output row above it
FLAT_LABEL_ROOM_1D = 0.8  # more cells between them for the input row's label
# A kernel weight in the oblique view, "×w": this much of a value's size, right after the
# value and a little lower.
OBLIQUE_WEIGHT_SIZE = 0.8
OBLIQUE_WEIGHT_GAP, OBLIQUE_WEIGHT_DROP = 0.01, 0.05  # cells
LINK_FADE = 0.8  # of the text colour in the links' grey
VECTOR_GAP_PX = 8  # between the frames of a vector strip, as in the PNG strip

MAX_FRAME_PIXELS = 16_000_000
PIXEL_DPI = 100.0  # PixelFigure: points and pixels as matplotlib counts them at 100 dpi
Rgb = npt.NDArray[np.uint8]
EDGES = [[0, 1], [1, 2], [2, 3], [3, 0]]  # a cell's four edges as corner pairs


def _rect(x0: float, y0: float, x1: float, y1: float) -> npt.NDArray[np.float64]:
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=float)


def _cells(
    rows: npt.NDArray[np.float64], cols: npt.NDArray[np.float64], total_rows: int
) -> npt.NDArray[np.float64]:
    """Plane (x, y) corners (n, 4, 2) of unit cells at (row, col), rows counted from the top."""
    tops = total_rows - rows
    x = np.stack([cols, cols + 1, cols + 1, cols], axis=1)
    y = np.stack([tops - 1, tops - 1, tops, tops], axis=1)
    return np.stack([x, y], axis=2)


def _polygons(corners: npt.NDArray[np.float64]) -> Path:
    """One compound path of closed quadrilaterals, corners (n, 4, 2)."""
    count = len(corners)
    vertices = np.concatenate([corners, corners[:, :1]], axis=1).reshape(-1, 2)
    codes = np.tile([Path.MOVETO, Path.LINETO, Path.LINETO, Path.LINETO, Path.CLOSEPOLY], count)
    return Path(vertices, codes)


PIXEL_SLACK = 0.25  # see pixel_figure
A = TypeVar("A", bound=Artist)


def pixel_figure(width_px: int, height_px: int, dpi: float = 100.0) -> Figure:
    """A figure that comes out at exactly these pixels, for vector output.

    Matplotlib truncates (some releases round) inches * dpi to whole pixels: 463.99999 would
    lose a pixel. A quarter pixel more gives the same size either way; sheets sit on whole
    pixels from the bottom-left, so the slack falls outside them.
    """
    from matplotlib.figure import Figure

    return Figure(
        figsize=((width_px + PIXEL_SLACK) / dpi, (height_px + PIXEL_SLACK) / dpi), dpi=dpi
    )


class Page:
    """A raster figure without ``matplotlib.figure``: an Agg renderer and the artists on it.

    Importing ``matplotlib.figure`` (Axes, projections, layout engines) takes a quarter of a
    second, once per process: more than most GIFs take to render. Artists draw themselves on
    a renderer and ask their figure only for its ``dpi`` and ``bbox``, which a page has, so
    raster frames skip that import. Pixels are the same as a ``pixel_figure`` on an Agg canvas
    would give (tested); vector output goes through ``savefig`` and keeps a real figure.
    """

    def __init__(self, width_px: int, height_px: int, background: str, dpi: float = 100.0):
        # The sizes an Agg canvas gives a pixel_figure, slack included: some releases place
        # text from the renderer's height (3.7 does), and would round it elsewhere without it.
        width, height = ((size + PIXEL_SLACK) / dpi * dpi for size in (width_px, height_px))
        self.dpi = dpi
        self.dpi_scale_trans = Affine2D().scale(dpi)
        self.bbox = Bbox.from_bounds(0, 0, width, height)
        self.renderer: Any = RendererAgg(width, height, dpi)  # unannotated in matplotlib
        self.background = (*hex_rgb(background), 255)
        self.artists: list[Artist] = []
        self.stamps = TextStamps(self.renderer)  # texts drawn before are replayed

    def get_figure(self, root: bool = False) -> Page:
        """Itself: what an artist asks its figure (``root=True``) for the dpi."""
        return self

    def add_artist(self, artist: A) -> A:
        """Keep ``artist`` to draw with the static parts (unless it is animated)."""
        artist.set_figure(self)  # type: ignore[arg-type]  # a page stands in for the figure
        self.artists.append(artist)
        return artist

    def draw(self) -> None:
        """Fill with the background and draw the artists that are not animated, by zorder."""
        self.rgba()[...] = self.background
        static = [artist for artist in self.artists if not artist.get_animated()]
        for artist in sorted(static, key=lambda artist: artist.get_zorder()):
            self.draw_artist(artist)

    def draw_artist(self, artist: Artist) -> None:
        """Draw one (animated) artist over the pixels as they stand."""
        if isinstance(artist, Text):
            self.stamps.draw(artist)
        else:
            artist.draw(self.renderer)

    def draw_text(self, text: Text) -> Box | None:
        """Draw one text; the pixel box it drew, or None if only its window extent tells."""
        return self.stamps.draw(text)

    def copy(self) -> Any:
        """The pixels as they stand, to ``restore`` later."""
        return self.renderer.copy_from_bbox(self.bbox)

    def restore(self, region: Any) -> None:
        self.renderer.restore_region(region)

    def rgba(self) -> npt.NDArray[np.uint8]:
        """The pixels: (height, width, 4), rows from the top; a view valid until the next draw."""
        return np.asarray(self.renderer.buffer_rgba())


class PixelFigure:
    """A figure drawn in pixels on one ``Page``: data (x, y) from a frame's top-left, y down.

    The shared canvas of the receptive-field and cell figures (a ``convanim.drawing.Drawing``
    each): subclasses call ``_open`` with the frame's size, add their static artists in
    ``_add_static`` and call ``_cache``; each frame then restores the cached background and
    draws what changes.
    """

    size: tuple[int, int]
    options: RenderOptions
    theme: Theme

    @property
    def frame_count(self) -> int:
        raise NotImplementedError

    def _open(self, width: int, height: int) -> None:
        if width * height > MAX_FRAME_PIXELS:
            # Blame the scale only when it was raised; otherwise the figure's content is large.
            param = "scale" if self.options.scale > 1 else "input_size"
            raise ConvSpecError(
                param,
                f"a frame would be {width}x{height} pixels at scale {self.options.scale}, over "
                f"the limit of {MAX_FRAME_PIXELS:,}; use a smaller input or a smaller scale",
            )
        self.size = (width, height)
        self.page = Page(width, height, self.theme.background, PIXEL_DPI)
        self.sheet = self._sheet(self.page, (0, 0))

    def _sheet(self, figure: Figure | Page, origin: tuple[int, int]) -> Sheet:
        """A frame's area of ``figure``, in pixels from its top-left corner."""
        width, height = self.size
        return Sheet(figure, origin, self.size, (0, width, height, 0))

    def _add_static(self, sheet: Sheet) -> None:
        raise NotImplementedError

    def _cache(self) -> None:
        """Draw the static parts once and keep them as the background of every frame."""
        self._add_static(self.sheet)
        self.page.draw()
        self.cached = self.page.copy()
        self.renderer: Any = self.page.renderer
        self.transform = self.sheet.transform.frozen()

    def _check_index(self, index: int) -> None:
        if not 0 <= index < self.frame_count:
            raise IndexError(f"frame {index}; expected 0 to {self.frame_count - 1}")

    def _box(self, x0: float, y0: float, x1: float, y1: float, margin: float = 3) -> Box:
        """The pixel box (top, bottom, left, right) around data x0..x1, y0..y1, widened."""
        width, height = self.size
        return (
            max(math.floor(y0 - margin), 0),
            min(math.ceil(y1 + margin), height),
            max(math.floor(x0 - margin), 0),
            min(math.ceil(x1 + margin), width),
        )

    @property
    def background(self) -> str:
        """The theme's background colour: a strip's gaps."""
        return self.theme.background

    @property
    def default_columns(self) -> int:
        """Every frame in one row."""
        return self.frame_count

    def draw(self, index: int) -> Box:
        raise NotImplementedError

    def rgba(self) -> npt.NDArray[np.uint8]:
        """The canvas as it stands: (height, width, 4), a view valid until the next draw."""
        return self.page.rgba()

    def render(self, index: int) -> Rgb:
        """The RGB pixels (height, width, 3) of one frame, a copy."""
        self.draw(index)
        return np.ascontiguousarray(self.rgba()[:, :, :3])


def tile(index: int, columns: int, size: tuple[int, int], gap: int, rows: int) -> tuple[int, int]:
    """The bottom-left pixel of tile ``index`` of a row-major grid of tiles of ``size`` (width,
    height) pixels with ``gap`` pixels between them."""
    width, height = size
    row, col = divmod(index, columns)
    return col * (width + gap), (rows - 1 - row) * (height + gap)


class Sheet:
    """A rectangle of whole pixels on a figure, in its own data coordinates.

    Artists added to it are mapped onto the rectangle and clipped to it: the few things an
    Axes does that convanim needs, without an Axes, whose ticks, spines and limits cost more
    to set up than an animation costs to draw.
    """

    def __init__(
        self,
        figure: Figure | Page,
        origin: tuple[int, int],
        size: tuple[int, int],
        limits: tuple[float, float, float, float],
    ) -> None:
        """``origin``: the bottom-left pixel; ``limits``: (x0, x1, y0, y1) seen from left to
        right and bottom to top (y0 > y1 turns y downwards)."""
        (left, bottom), (width, height) = origin, size
        x0, x1, y0, y1 = limits
        # Through inches, so that a figure saved at another dpi (vector output) scales with it.
        inches = (
            Affine2D()
            .translate(-x0, -y0)
            .scale(width / (x1 - x0), height / (y1 - y0))
            .translate(left, bottom)
            .scale(1 / figure.dpi)
        )
        self.figure = figure
        self.transform: Transform = inches + figure.dpi_scale_trans
        dpi = figure.dpi
        box = Bbox.from_bounds(left / dpi, bottom / dpi, width / dpi, height / dpi)
        self.clip = TransformedBbox(box, figure.dpi_scale_trans)

    def add(self, artist: A) -> A:
        """Draw ``artist`` (given in data coordinates) in this sheet."""
        artist.set_transform(self.transform)
        artist.set_clip_box(self.clip)
        self.figure.add_artist(artist)
        return artist

    def text(self, x: float, y: float, text: str, **style: Any) -> Text:
        """A text artist at (x, y); ``style`` as ``matplotlib.text.Text`` takes it."""
        return self.add(Text(x, y, text, **style))

    def draw_artist(self, artist: Artist) -> None:
        """Draw one (animated) artist on the canvas as it stands."""
        self.figure.draw_artist(artist)


def segments_path(segments: npt.NDArray[np.float64]) -> Path:
    """One compound path of separate line segments, (n, 2, 2)."""
    codes = np.tile([Path.MOVETO, Path.LINETO], len(segments))
    return Path(segments.reshape(-1, 2), codes)


def grid_lines(ys: npt.ArrayLike, xs: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Segments (n, 2, 2) of the grid with these row (y) and column (x) boundaries."""
    y, x = np.asarray(ys, dtype=float), np.asarray(xs, dtype=float)
    across = np.stack(
        [np.stack([np.full_like(y, x[0]), y], 1), np.stack([np.full_like(y, x[-1]), y], 1)], 1
    )
    down = np.stack(
        [np.stack([x, np.full_like(x, y[0])], 1), np.stack([x, np.full_like(x, y[-1])], 1)], 1
    )
    return np.concatenate([across, down])


def _blend(top: tuple[int, int, int], under: tuple[int, int, int], alpha: float) -> str:
    mixed = [round(alpha * t + (1 - alpha) * u) for t, u in zip(top, under, strict=True)]
    return "#{:02x}{:02x}{:02x}".format(*mixed)


def mark_name(index: int) -> str:
    """The ``index``-th mark (0-based): a, b, ..., z, aa, ab, ... (letters, no digits, so that
    a mark never reads as a value)."""
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(ord("a") + rest) + name
    return name


def mark_names(grid: DrawnGrid) -> dict[tuple[int, int], str]:
    """The mark of every input cell some padding cell of ``grid`` copies, by input (row, col),
    lettered row-major."""
    copied = sorted(set(grid.padding_sources().values()))
    return {source: mark_name(k) for k, source in enumerate(copied)}


def copy_marks(grid: DrawnGrid) -> tuple[dict[tuple[int, int], str], dict[tuple[int, int], str]]:
    """How a padding mode's copies are marked without values: each input cell that some padding
    cell copies gets a letter, and every padding cell copying it the same letter.

    Returns (the input cells' marks, the padding cells' marks), both by drawn (row, col); input
    cells are lettered row-major. Zero padding copies nothing: ({}, {}).
    """
    copies = grid.padding_sources()
    names = mark_names(grid)
    inputs: dict[tuple[int, int], str] = {}
    for row, col in zip(*np.nonzero(grid.cells == Cell.INPUT), strict=True):
        cell = grid.input_at(int(row), int(col))
        if cell in names:
            inputs[int(row), int(col)] = names[cell]
    return inputs, {cell: names[source] for cell, source in copies.items()}


def copy_colour(theme: Theme) -> str:
    """The colour of what padding copies (its values, its marks): the input's colour halfway to
    the text's, so that a copy reads as the input's, beside the input's own numbers, and stays
    as legible as text on the padding."""
    return _blend(hex_rgb(theme.input), hex_rgb(theme.text), COPY_MIX)


COPY_MIX = 0.5  # of the input colour in a copy's
COPY_STYLE = "italic"  # and slanted


@dataclass(frozen=True)
class _Moving:
    """One frame's moving parts in figure coordinates: shaded cells' corners (n, 4, 2), and
    thick and thin line segments (n, 2, 2)."""

    shaded: npt.NDArray[np.float64]
    thick: npt.NDArray[np.float64]
    thin: npt.NDArray[np.float64]


class _Plane:
    """Maps (row, col) cell corners of one grid to figure coordinates.

    Rows grow downwards; the plane's own (x, y) has y upwards, as TikZ's does.
    """

    def __init__(
        self, rows: int, transform: npt.NDArray[np.float64], origin: tuple[float, float]
    ) -> None:
        self.rows = rows
        self.transform = transform
        self.origin = np.asarray(origin, dtype=float)

    def xy(self, points: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """Plane (x, y) points to figure coordinates."""
        mapped: npt.NDArray[np.float64] = (
            np.asarray(points, dtype=float) @ self.transform.T + self.origin
        )
        return mapped

    def cell(
        self, row: float, col: float, height: float = 1, width: float = 1
    ) -> npt.NDArray[np.float64]:
        """The corners of a block of cells, top-left at (row, col), in figure coordinates."""
        top = self.rows - row
        return self.xy(_rect(col, top - height, col + width, top))

    def corner(self, row: float, col: float) -> npt.NDArray[np.float64]:
        corner: npt.NDArray[np.float64] = self.xy([[col, self.rows - row]])[0]
        return corner


class Animation:
    """One figure for one spec: ``render(frame)`` gives that frame's RGB pixels."""

    def __init__(
        self,
        spec: ConvSpec[Any, Any],
        options: RenderOptions | None = None,
        worked: Worked | None = None,
        poster: bool = False,
    ) -> None:
        self.spec = spec
        # A poster's frame shows every output's value, not only those computed before it.
        self.poster = poster
        # Everything is drawn on the 2-D plane: the spec itself, or a 1-D spec's one row.
        self.plane: ConvSpec = spec.as_2d()
        self.worked = worked if worked is None or spec.dims == 2 else _worked_2d(worked)
        self.options = options or RenderOptions()
        self.theme: Theme = THEMES[self.options.theme]
        drawn_rows, drawn_cols = self.plane.drawn_size
        out_rows, out_cols = self.plane.output_size
        worked = self.worked
        if self.options.view == "flat" and spec.dims == 1:
            low, high = FLAT_VALUES_CELL_PX_RANGE if worked is not None else FLAT_CELL_PX_RANGE
            fit = FLAT_MAX_WIDTH_PX / max(drawn_cols, out_cols)
            cell_px = min(max(fit, low), high) * self.options.scale
            identity = np.eye(2)
            width = max(drawn_cols, out_cols)
            self.input_plane = _Plane(1, identity, ((width - drawn_cols) / 2, 0.0))
            self.output_plane = _Plane(
                1,
                identity,
                (
                    (width - out_cols) / 2,
                    1.0 + FLAT_GAP_1D + (FLAT_LABEL_ROOM_1D if self.options.labels else 0.0),
                ),
            )
            border = 0.5
        elif self.options.view == "oblique":
            cell_px = OBLIQUE_CELL_PX * self.options.scale
            self.input_plane = _Plane(drawn_rows, SLANT, (0.0, 0.0))
            # The output plane floats one cell above the input plane, as in conv_arithmetic;
            # being above the whole input plane in the planes' own (x, y) it never overlaps it.
            origin = np.array([OUTPUT_SHIFT_X, drawn_rows + 1.0])
            if spec.dims == 1:  # the output row centred over the input row, along its slant
                origin += SLANT @ np.array([(drawn_cols - out_cols) / 2, 0.0])
            self.output_plane = _Plane(out_rows, SLANT, (float(origin[0]), float(origin[1])))
            border = OBLIQUE_BORDER
        else:
            total_cols = drawn_cols + FLAT_GAP + out_cols
            total_rows = max(drawn_rows, out_rows)
            low, high = FLAT_VALUES_CELL_PX_RANGE if worked is not None else FLAT_CELL_PX_RANGE
            fit = min(FLAT_MAX_WIDTH_PX / total_cols, FLAT_MAX_HEIGHT_PX / total_rows)
            cell_px = min(max(fit, low), high) * self.options.scale
            identity = np.eye(2)
            self.input_plane = _Plane(drawn_rows, identity, (0.0, (total_rows - drawn_rows) / 2))
            self.output_plane = _Plane(
                out_rows, identity, (drawn_cols + FLAT_GAP, (total_rows - out_rows) / 2)
            )
            border = 0.5
        self.cell_px = cell_px
        # TikZ points at conv_arithmetic's scale, as matplotlib points at ours (72 per inch).
        self.line_scale = cell_px / POINTS_PER_CELL * 0.72
        self._layout(border)
        self.grid: DrawnGrid = self.plane.grid()
        self._build()

    # -- static parts, drawn once ---------------------------------------------------------

    def _lw(self, points: float) -> float:
        """A TikZ line width in points, as matplotlib points at this figure's scale."""
        return points * self.line_scale

    def _layout(self, border: float) -> None:
        """Size the figure to the planes; refuse frames too large to render."""
        drawn_rows, drawn_cols = self.plane.drawn_size
        out_rows, out_cols = self.plane.output_size
        inp, out = self.input_plane, self.output_plane
        corners = np.vstack(
            [
                inp.cell(0, 0, drawn_rows, drawn_cols),
                out.cell(0, 0, out_rows, out_cols),
            ]
        )
        label_room = 1.2 if self.options.labels else 0.0
        x0, y0 = corners.min(axis=0) - border
        x1, y1 = corners.max(axis=0) + border
        y0 -= label_room if self.options.view == "oblique" else 0.0
        y1 += label_room
        if self.worked is not None:
            # The sum under everything, wrapped to the figure's width (see _plan_sum).
            self.sum_lines = _plan_sum(self.worked, self.plane, self.cell_px, x1 - x0)
            y0 -= self.sum_lines.room
            x0 -= self.sum_lines.widen / 2
            x1 += self.sum_lines.widen / 2
        width_px = round((x1 - x0) * self.cell_px)
        height_px = round((y1 - y0) * self.cell_px)
        if width_px * height_px > MAX_FRAME_PIXELS:
            raise ConvSpecError(
                "scale",
                f"got {self.options.scale}: a frame would be {width_px}x{height_px} pixels, over "
                f"the limit of {MAX_FRAME_PIXELS:,}; use a smaller scale or a smaller input",
            )
        # Limits matched to the pixel size keep one cell exactly cell_px pixels wide.
        self.limits = (x0, x0 + width_px / self.cell_px, y0, y0 + height_px / self.cell_px)
        self.size = (width_px, height_px)

    def _build(self) -> None:
        theme = self.theme
        width_px, height_px = self.size
        dpi = 100.0
        self.page = page = Page(width_px, height_px, theme.background, dpi)
        self.sheet = sheet = Sheet(page, (0, 0), self.size, self.limits)

        self._add_static(sheet)
        thick, thin = self._lw(THICK_PT), self._lw(THIN_PT)

        # Moving parts, drawn per frame over the cached background: one collection of
        # shaded cells (the kernel taps, the current output cell), one of lines (the grid over
        # the kernel's footprint, the current cell's outline, the links between them).
        # Shaded cells' edges always lie under a line of the window's grid or the current
        # cell's outline, so their fill needs no antialiasing: fewer colours, smaller GIFs.
        self.shade_rgb = tuple(c / 255 for c in hex_rgb(theme.shade))
        self.line_rgb = tuple(c / 255 for c in hex_rgb(theme.line))
        self.link_rgb = tuple(c / 255 for c in hex_rgb(self._link_colour()))
        self.widths = (thick, thin)
        self.values = _Values(self, self.worked) if self.worked is not None else None
        page.draw()
        # The background each frame is drawn over (with values, the outputs filled so far) and
        # the box of the canvas that may differ from it: a frame restores only that box.
        self.static_background = page.rgba().copy()
        self.background = self.static_background.copy()
        self.dirty: Box | None = None
        self.renderer = page.renderer
        self.transform: Affine2DBase = sheet.transform.frozen()  # type: ignore[assignment]
        self.margin_px = int(np.ceil(thick * dpi / 72)) + 2  # line width and antialiasing

    def _add_static(self, sheet: Sheet) -> None:
        """The parts of the figure that no frame changes: grids, cells, labels, cell values."""
        theme, grid = self.theme, self.grid
        drawn_rows = grid.shape[0]
        out_rows, out_cols = self.plane.output_size
        inp, out = self.input_plane, self.output_plane
        thick = self._lw(THICK_PT)
        dashes = (0.0, (DASH_PT / THICK_PT, DASH_PT / THICK_PT))
        # Padding and inserted zeros: no fill, a dashed grid under everything. Cells past the
        # padding (a ceil-mode window's) are not drawn: the window hangs over the edge.
        outside = grid.cells == Cell.OUTSIDE
        blank = (grid.cells != Cell.INPUT) & ~outside
        if blank.any():
            sheet.add(
                PolyCollection(
                    [inp.cell(r, c) for r, c in zip(*np.nonzero(blank), strict=True)],
                    facecolors=theme.padding,
                    edgecolors="none",
                )
            )
            padded_rows = int((~outside).any(axis=1).sum())
            padded_cols = int((~outside).any(axis=0).sum())
            ys = range(drawn_rows - padded_rows, drawn_rows + 1)  # the plane's y is upwards
            segments = list(inp.xy(grid_lines(ys, range(padded_cols + 1))))
            sheet.add(
                LineCollection(segments, colors=theme.line, linewidths=thick, linestyles=[dashes])
            )
        sheet.add(
            PolyCollection(
                [
                    inp.cell(r, c)
                    for r, c in zip(*np.nonzero(grid.cells == Cell.INPUT), strict=True)
                ],
                facecolors=theme.input,
                edgecolors=theme.line,
                linewidths=thick,
            )
        )
        sheet.add(
            PolyCollection(
                [out.cell(r, c) for r in range(out_rows) for c in range(out_cols)],
                facecolors=theme.output,
                edgecolors=theme.line,
                linewidths=thick,
            )
        )
        if self.options.labels:
            self._add_labels(sheet)

        if self.worked is not None:
            _Values.add_static(self, self.worked, sheet)
        elif self.spec.padding_mode != "zeros":
            self._add_marks(sheet)

    def _add_marks(self, sheet: Sheet) -> None:
        """Without values, a padding mode's copies as letters: an input cell that padding
        copies and every padding cell copying it share one (see ``copy_marks``)."""
        inputs, copies = copy_marks(self.grid)
        points = self.cell_px * 0.34 * 0.72
        base: dict[str, Any] = {"ha": "center", "va": "center", "fontsize": points}
        for marks, style in (
            (inputs, {"color": self.theme.text}),
            (copies, {"color": copy_colour(self.theme), "fontstyle": COPY_STYLE}),
        ):
            for (row, col), name in marks.items():
                x, y = self.input_plane.cell(row, col).mean(axis=0)
                sheet.text(x, y, name, **base, **style)

    def _add_labels(self, sheet: Sheet) -> None:
        drawn_rows, drawn_cols = self.grid.shape
        out_cols = self.plane.output_size[1]
        size = 11 * self.cell_px / OBLIQUE_CELL_PX
        style: dict[str, Any] = {"color": self.theme.text, "fontsize": size, "ha": "center"}
        if self.options.view == "oblique":
            bottom = self.input_plane.corner(drawn_rows, 0)
            sheet.text(bottom[0], bottom[1] - 0.5, "input", va="top", **style)
            top = self.output_plane.corner(0, out_cols)
            sheet.text(top[0], top[1] + 0.5, "output", va="bottom", **style)
        else:
            for plane, cols, text in (
                (self.input_plane, drawn_cols, "input"),
                (self.output_plane, out_cols, "output"),
            ):
                mid = (plane.corner(0, 0) + plane.corner(0, cols)) / 2
                sheet.text(mid[0], mid[1] + 0.3, text, va="bottom", **style)

    def _link_colour(self) -> str:
        """The hairlines to the output cell: the text colour, half faded into the background.

        conv_arithmetic draws them 0.4 pt wide, antialiased, and they read as grey; a one-pixel
        line of that grey looks the same without the antialiasing that would double the bytes
        of every GIF frame.
        """
        return _blend(hex_rgb(self.theme.text), hex_rgb(self.theme.background), LINK_FADE)

    def colours(self) -> list[str]:
        """Every flat colour the figure uses, shaded ones included, as '#rrggbb'."""
        theme = self.theme
        shade = hex_rgb(theme.shade)
        flat = [theme.background, theme.input, theme.output, theme.line, theme.padding, theme.text]
        flat.append(self._link_colour())
        if self.spec.padding_mode != "zeros":
            flat.append(copy_colour(theme))
        shaded = [
            _blend(shade, hex_rgb(under), theme.shade_alpha)
            for under in (theme.input, theme.output, theme.padding, theme.line)
        ]
        return flat + shaded

    def inks(self) -> list[str]:
        """The colours drawn antialiased, over any of ``colours()``: lines and text."""
        copies = [copy_colour(self.theme)] if self.spec.padding_mode != "zeros" else []
        return [self.theme.line, self.theme.text, *copies]

    # -- moving parts, per frame ----------------------------------------------------------

    def _links(self, frame: GeometryFrame[Any]) -> npt.NDArray[np.float64]:
        """Lines from the window's corners to the output cell's, hidden behind the output plane.

        Only the oblique view has them. Both planes share one slant, so clipping happens in the
        planes' own (x, y): the output plane is there an axis-aligned rectangle.
        """
        (top, left), (bottom, right) = frame.window
        out_row, out_col = frame.output
        inverse = np.linalg.inv(SLANT)
        out_rows, out_cols = self.plane.output_size
        shift = inverse @ self.output_plane.origin
        low = shift
        high = shift + np.array([out_cols, out_rows], dtype=float)
        segments = []
        drawn_rows = self.grid.shape[0]
        pairs = (
            ((top, left), (out_row, out_col)),
            ((top, right), (out_row, out_col + 1)),
            ((bottom, left), (out_row + 1, out_col)),
            ((bottom, right), (out_row + 1, out_col + 1)),
        )
        for (row, col), (o_row, o_col) in pairs:
            start = np.array([col, drawn_rows - row], dtype=float)
            end = shift + np.array([o_col, out_rows - o_row], dtype=float)
            # The first point along the line inside the output rectangle (Liang-Barsky).
            direction = end - start
            enter = 0.0
            for axis in range(2):
                if direction[axis] > 0:
                    enter = max(enter, (low[axis] - start[axis]) / direction[axis])
                elif direction[axis] < 0:
                    enter = max(enter, (high[axis] - start[axis]) / direction[axis])
            enter = min(max(enter, 0.0), 1.0)
            stop = start + direction * enter
            segments.append(self.input_plane.xy(np.array([start, stop])))
        return np.array(segments)

    def _moving(self, frame: GeometryFrame[Any]) -> _Moving:
        """What one frame adds to the static figure, in figure coordinates."""
        inp, out = self.input_plane, self.output_plane
        taps = np.array(frame.taps, dtype=float)
        tap_corners = inp.xy(_cells(taps[:, 0], taps[:, 1], inp.rows))
        current = out.cell(*frame.output)
        (top, left), (bottom, right) = frame.window
        # A solid grid over the whole footprint, holes of a dilated kernel included, as
        # conv_arithmetic draws it: padding under the window turns solid.
        window = grid_lines(inp.rows - np.arange(top, bottom + 1), np.arange(left, right + 1))
        return _Moving(
            shaded=np.concatenate([tap_corners, current[None]]),
            thick=np.concatenate([inp.xy(window), current[EDGES]]),
            thin=self._links(frame) if self.options.view == "oblique" else np.empty((0, 2, 2)),
        )

    def draw(self, frame: GeometryFrame[Any]) -> Box:
        """Draw one frame on the canvas; returns the pixel box that differs from the background.

        The box is (top, bottom, left, right), rows from the top, exclusive ends.
        """
        frame = frame.as_2d()
        moving = self._moving(frame)
        dirty: list[npt.NDArray[np.float64]] = [
            moving.shaded.reshape(-1, 2),
            moving.thick.reshape(-1, 2),
        ]
        dirty.append(moving.thin.reshape(-1, 2))
        self.restore()
        if self.values is not None:
            dirty.append(self.values.fill_to(frame.index))
        # Straight to the Agg renderer: the moving parts are three paths, and artists would
        # cost more in bookkeeping than in drawing.
        renderer, transform = self.renderer, self.transform
        gc = renderer.new_gc()
        gc.set_alpha(self.theme.shade_alpha)
        gc.set_antialiased(False)
        gc.set_linewidth(0)
        renderer.draw_path(gc, _polygons(moving.shaded), transform, self.shade_rgb)
        gc.set_alpha(1.0)
        gc.set_antialiased(True)
        for segments, colour, width, smooth in (
            (moving.thick, self.line_rgb, self.widths[0], True),
            # Hairlines need no antialiasing (see _link_colour), and GIFs are a fifth smaller.
            (moving.thin, self.link_rgb, self.widths[1], False),
        ):
            if len(segments):
                gc.set_antialiased(smooth)
                gc.set_foreground(colour)
                gc.set_linewidth(width)
                renderer.draw_path(gc, segments_path(segments), transform)
        gc.restore()
        box = self._box(np.concatenate(dirty))
        if self.values is not None:
            box = union_box(box, self.values.draw(frame))
        self.dirty = box
        return box

    def restore(self) -> None:
        """Make the canvas the background again, copying back only what the last frame drew."""
        height, width = self.background.shape[:2]
        top, bottom, left, right = self.dirty or (0, height, 0, width)
        self.rgba()[top:bottom, left:right] = self.background[top:bottom, left:right]
        self.dirty = (0, 0, 0, 0)

    def vector(self, frames: Sequence[GeometryFrame[Any]], columns: int) -> Figure:
        """A figure of the frames tiled as a strip, drawn with artists, for SVG and PDF."""
        from matplotlib.patches import PathPatch

        width, height = self.size
        rows = -(-len(frames) // columns)
        gap = VECTOR_GAP_PX
        total_w, total_h = columns * width + (columns - 1) * gap, rows * height + (rows - 1) * gap
        dpi = 100.0
        figure = pixel_figure(total_w, total_h, dpi)
        figure.patch.set_facecolor(self.theme.background)
        for index, frame in enumerate(frame.as_2d() for frame in frames):
            sheet = Sheet(
                figure, tile(index, columns, self.size, gap, rows), self.size, self.limits
            )
            self._add_static(sheet)
            moving = self._moving(frame)
            sheet.add(
                PathPatch(
                    _polygons(moving.shaded),
                    facecolor=self.theme.shade,
                    edgecolor="none",
                    alpha=self.theme.shade_alpha,
                )
            )
            thick, thin = self.widths
            sheet.add(LineCollection(list(moving.thick), colors=self.theme.line, linewidths=thick))
            if len(moving.thin):
                sheet.add(
                    LineCollection(list(moving.thin), colors=self.theme.text, linewidths=thin)
                )
            if self.values is not None:
                self.values.add_frame(sheet, frame)
        return figure

    def _box(self, points: npt.NDArray[np.float64]) -> Box:
        """The pixel box around figure points, widened by line width and antialiasing."""
        pixels = self.transform.transform(points)
        (x0, y0), (x1, y1) = pixels.min(axis=0), pixels.max(axis=0)
        return display_box(x0, y0, x1, y1, self.size, self.margin_px)

    def rgba(self) -> npt.NDArray[np.uint8]:
        """The canvas as it stands: (height, width, 4), a view valid until the next draw."""
        return self.page.rgba()

    def texts(self, static: bool = True) -> Iterator[tuple[str, Bbox]]:
        """Every text on the canvas as the last ``draw`` left it, with its pixel box.

        Boxes are display pixels, origin bottom-left, as ``get_window_extent`` gives them;
        for tests that every text fits inside the image. The static texts (labels, cell
        values; left out with ``static=False``), then the moving ones (weights, outputs
        filled so far, the current output, the sum).
        """
        for artist in self.page.artists if static else ():
            if isinstance(artist, Text) and not artist.get_animated():
                yield artist.get_text(), artist.get_window_extent(self.renderer)
        if self.values is not None:
            yield from self.values.texts()

    def render(self, frame: GeometryFrame[Any]) -> Rgb:
        """The RGB pixels (height, width, 3) of one frame, a copy."""
        self.draw(frame)
        return np.ascontiguousarray(self.rgba()[:, :, :3])


def _worked_2d(worked: Worked) -> Worked:
    """A 1-D spec's numbers on its one-row plane: each array with a rows axis of one."""
    from convanim.values import Worked

    weights = None if worked.weights is None else worked.weights[None, :]
    return Worked(
        op=worked.op,
        drawn=worked.drawn[None, :],
        weights=weights,
        output=worked.output[None, :],
        divisors=None if worked.divisors is None else worked.divisors[None, :],
        counted=None if worked.counted is None else worked.counted[None, :],
    )


class _Values:
    """Worked numbers over an animation: every cell's value, the kernel's weights at its taps,
    the output filling in frame by frame, and the sum being formed for the current cell.

    ``shown`` records the text of the last drawn frame, for tests and alt text.
    """

    def __init__(self, animation: Animation, worked: Worked) -> None:
        self.animation, self.worked = animation, worked
        self.style = _ValueStyle.of(animation)
        sheet, style = animation.sheet, self.style
        self.weights = []
        if worked.weights is not None:
            for weight in worked.weights.ravel():
                self.weights.append(
                    sheet.text(0, 0, style.weight_text(weight), animated=True, **style.weight)
                )
        if animation.options.view == "oblique":
            self.after_value = self._after_values()
        # What every frame looks up, worked out once: the numbers as the sum writes them, and
        # where each output cell, and each input cell's weight, is drawn.
        from convanim.values import format_value

        self.sum_texts = {
            name: np.array(
                [format_value(float(v), 6) for v in numbers.ravel()], dtype=object
            ).reshape(numbers.shape)
            for name, numbers in (
                ("drawn", worked.drawn),
                ("output", worked.output),
                ("divisors", worked.divisors),
                ("weights", worked.weights),
            )
            if numbers is not None
        }
        out_cols = animation.plane.output_size[1]
        self.outputs = [
            (cell, (float(x), float(y)), style.text(value))
            for index, value in enumerate(worked.output.ravel())
            for cell in [animation.output_plane.cell(*divmod(index, out_cols))]
            for x, y in [cell.mean(axis=0)]
        ]
        self.weight_at = {
            (row, col): self._weight_at(row, col) for row, col in np.ndindex(worked.drawn.shape)
        }
        self.current = sheet.text(0, 0, "", animated=True, fontweight="bold", **style.cell)
        self.filler = sheet.text(0, 0, "", animated=True, **style.cell)
        x, y = style.caption_at
        self.caption = sheet.text(x, y, "", animated=True, **style.caption)
        self.filled = 0
        self.shown: dict[str, Any] = {}
        self.last: GeometryFrame[Any] | None = None

    @staticmethod
    def add_static(animation: Animation, worked: Worked, sheet: Sheet) -> None:
        """Every drawn cell's value."""
        style = _ValueStyle.of(animation)
        inp = animation.input_plane
        rows, cols = worked.drawn.shape
        outside = animation.grid.cells == Cell.OUTSIDE
        copied = animation.grid.padding_sources()  # a padding mode's: drawn as copies
        copy = {"color": copy_colour(animation.theme), "fontstyle": COPY_STYLE}
        for row in range(rows):
            for col in range(cols):
                if outside[row, col]:  # past the padding: it holds nothing
                    continue
                x, y = inp.cell(row, col).mean(axis=0)
                look = {**style.cell, **copy} if (row, col) in copied else style.cell
                sheet.text(x, y, style.text(worked.drawn[row, col]), **look)

    def done(self, index: int) -> range | list[int]:
        """The outputs frame ``index`` shows as computed: those before it; a poster's, all the
        others."""
        if not self.animation.poster:
            return range(index)
        count = self.worked.output.size
        return [i for i in range(count) if i != index]

    def fill_to(self, index: int) -> npt.NDArray[np.float64]:
        """Put outputs 0 .. index-1 into the background (the canvas is the background when
        called, and is after); returns the corners of cells it changed.

        A poster's frame has every other output in its background (see ``done``)."""
        animation = self.animation
        start = self.filled
        if animation.poster or start > index:  # from the static background
            animation.background = animation.static_background.copy()
            animation.dirty = None
            animation.restore()
        if animation.poster:
            filled: list[npt.NDArray[np.float64]] = [np.empty((0, 2))]
            for done in self.done(index):
                cell, text = self._output(done)
                self.filler.set_position(tuple(cell.mean(axis=0)))
                self.filler.set_text(text)
                animation.sheet.draw_artist(self.filler)
                filled.append(cell)
            animation.background = animation.rgba().copy()
            return np.concatenate(filled)
        if start > index:
            start = 0
        corners: list[npt.NDArray[np.float64]] = [np.empty((0, 2))]
        for done in range(start, index):
            cell, centre, text = self.outputs[done]
            self.filler.set_position(centre)
            self.filler.set_text(text)
            animation.sheet.draw_artist(self.filler)
            corners.append(cell)
        self.filled = index
        changed = np.concatenate(corners)
        if len(changed):
            top, bottom, left, right = animation._box(changed)
            animation.background[top:bottom, left:right] = animation.rgba()[top:bottom, left:right]
        return changed

    def _output(self, index: int) -> tuple[npt.NDArray[np.float64], str]:
        """An output cell's corners and its value as shown."""
        cell, _, text = self.outputs[index]
        return cell, text

    def _weight_at(self, row: int, col: int) -> tuple[float, float]:
        """Where a tap's weight is written.

        Flat: the bottom-right corner of its cell. Oblique: a slanted cell's corners are too
        narrow for text, and the links start there; "×w" follows the cell's value, a little
        lower, so that the tap reads as its term of the sum ("2×0").
        """
        inp = self.animation.input_plane
        if self.animation.options.view != "oblique":
            x, y = inp.xy([[col + 0.94, inp.rows - row - 0.94]])[0]
            return float(x), float(y)
        x, y = inp.cell(row, col).mean(axis=0)
        return float(x + self.after_value[row, col]), float(y - OBLIQUE_WEIGHT_DROP)

    def _after_values(self) -> npt.NDArray[np.float64]:
        """Per drawn cell, the cells from its centre to just after its value (oblique view)."""
        from matplotlib.font_manager import FontProperties

        animation = self.animation
        font = FontProperties(size=self.style.cell["fontsize"])
        renderer = animation.page.renderer
        widths: dict[str, float] = {}
        drawn = self.worked.drawn
        after = np.zeros(drawn.shape)
        for (row, col), value in np.ndenumerate(drawn):
            text = self.style.text(value)
            if text not in widths:
                widths[text] = renderer.get_text_width_height_descent(text, font, ismath=False)[0]
            after[row, col] = widths[text] / 2 / animation.cell_px + OBLIQUE_WEIGHT_GAP
        return after

    def draw(self, frame: GeometryFrame[Any]) -> Box:
        """The current frame's weights, output value and sum; returns the pixel box of the
        texts that can lie outside the frame's cells: the sum, oblique weights."""
        animation = self.animation
        page = animation.page
        # Oblique weights may reach past their cells, which are all the frame's box holds.
        spill = animation.options.view == "oblique"
        inks: list[tuple[Text, Box | None]] = []
        weight_at = self.weight_at
        for text, tap in zip(self.weights, frame.taps, strict=False):  # none: pooling
            text.set_position(weight_at[tap])
            ink = page.draw_text(text)
            if spill:
                inks.append((text, ink))
        _, centre, value = self.outputs[frame.index]
        self.current.set_position(centre)
        self.current.set_text(value)
        page.draw_text(self.current)
        pieces = self._pieces(frame)
        self.caption.set_text(animation.sum_lines.text(pieces))
        inks.append((self.caption, page.draw_text(self.caption)))
        self.shown = {
            "output": frame.output,
            "value": value,
            "weights": [t.get_text().removeprefix(self.style.weight_prefix) for t in self.weights],
            "caption": "".join(pieces),  # on one line, as alt text and tests read it
        }
        self.last = frame
        box: Box | None = None
        for text, ink in inks:
            # What a stamp drew is known to the pixel; else the text's extent bounds it.
            if ink is None:
                ink = self._pixel_box(text.get_window_extent(animation.renderer))
            elif ink[0] >= ink[1] or ink[2] >= ink[3]:
                continue  # nothing drawn
            box = ink if box is None else union_box(box, ink)
        return box or (0, 0, 0, 0)

    def _pixel_box(self, extent: Bbox) -> Box:
        """A text's window extent as a pixel box (top, bottom, left, right), with a margin."""
        width, height = self.animation.size
        return (
            max(int(height - extent.y1) - 2, 0),
            min(int(np.ceil(height - extent.y0)) + 2, height),
            max(int(extent.x0) - 2, 0),
            min(int(np.ceil(extent.x1)) + 2, width),
        )

    def texts(self) -> Iterator[tuple[str, Bbox]]:
        """The moving texts of the last drawn frame and their pixel boxes (see Animation)."""
        frame, renderer = self.last, self.animation.renderer
        if frame is None:
            return
        for text, _ in zip(self.weights, frame.taps, strict=False):
            yield text.get_text(), text.get_window_extent(renderer)
        for done in self.done(frame.index):
            cell, value = self._output(done)
            self.filler.set_position(tuple(cell.mean(axis=0)))
            self.filler.set_text(value)
            yield value, self.filler.get_window_extent(renderer)
        for text in (self.current, self.caption):
            yield text.get_text(), text.get_window_extent(renderer)

    def add_frame(self, sheet: Sheet, frame: GeometryFrame[Any]) -> None:
        """One frame's numbers as artists on ``sheet`` (vector output)."""
        style = self.style
        for done in self.done(frame.index):
            cell, text = self._output(done)
            x, y = cell.mean(axis=0)
            sheet.text(x, y, text, **style.cell)
        if self.worked.weights is not None:
            for weight, (row, col) in zip(self.worked.weights.ravel(), frame.taps, strict=True):
                x, y = self._weight_at(row, col)
                sheet.text(x, y, style.weight_text(weight), **style.weight)
        cell, value = self._output(frame.index)
        x, y = cell.mean(axis=0)
        sheet.text(x, y, value, fontweight="bold", **style.cell)
        x, y = style.caption_at
        sheet.text(x, y, self.caption_text(frame), **style.caption)

    def sum(self, frame: GeometryFrame[Any]) -> str:
        """The arithmetic of one output cell, as one line of text."""
        return "".join(self._pieces(frame))

    def caption_text(self, frame: GeometryFrame[Any]) -> str:
        """The sum as drawn: its lines, broken where ``Animation.sum_lines`` says."""
        return self.animation.sum_lines.text(self._pieces(frame))

    def _pieces(self, frame: GeometryFrame[Any]) -> list[str]:
        worked, texts = self.worked, self.sum_texts
        drawn = texts["drawn"]
        if worked.counted is None:
            values = [drawn[tap] for tap in frame.taps]
        else:  # a pooling sum of some taps only (see Worked)
            values = [drawn[tap] for tap in frame.taps if worked.counted[tap]]
        divisor = texts["divisors"][frame.output] if worked.divisors is not None else None
        weights = list(texts["weights"].ravel()) if worked.weights is not None else None
        return _sum_pieces(worked, values, texts["output"][frame.output], divisor, weights)

    @property
    def max_chars(self) -> int:
        return self.style.max_chars


@dataclass(frozen=True)
class _ValueStyle:
    """Fonts and sizes of the numbers, scaled with the cells."""

    max_chars: int
    cell: dict[str, Any]
    weight: dict[str, Any]
    weight_prefix: str  # "×" where the weight follows the value: "2×0" reads as the product
    caption: dict[str, Any]
    caption_at: tuple[float, float]

    @classmethod
    def of(cls, animation: Animation) -> _ValueStyle:
        font_px = animation.cell_px * 0.32
        points = font_px * 0.72  # pixels to points at 100 dpi
        base: dict[str, Any] = {"color": animation.theme.text, "ha": "center", "va": "center"}
        x0, x1, y0, _ = animation.limits
        return cls(
            # A digit is about 0.6 em wide; leave a fifth of the cell as margin.
            max_chars=max(1, int(animation.cell_px * 0.8 / (font_px * 0.6))),
            cell={**base, "fontsize": points},
            weight=(
                {**base, "fontsize": points * OBLIQUE_WEIGHT_SIZE, "ha": "left"}
                if animation.options.view == "oblique"
                else {**base, "fontsize": points * 0.7, "ha": "right", "va": "bottom"}
            ),
            weight_prefix="×" if animation.options.view == "oblique" else "",
            caption={**base, "fontsize": _caption_points(animation.cell_px)},
            caption_at=((x0 + x1) / 2, y0 + animation.sum_lines.centre),
        )

    def text(self, value: float) -> str:
        from convanim.values import format_value

        return format_value(float(value), self.max_chars)

    def weight_text(self, weight: float) -> str:
        return self.weight_prefix + self.text(weight)


def _caption_points(cell_px: float) -> float:
    """The sum's font size in points: the cells' numbers' size, and never below 8 points."""
    return max(cell_px * 0.32 * 0.72, 8.0)


def _sum_pieces(
    worked: Worked,
    values: Sequence[str],
    result: str,
    divisor: str | None = None,
    weights: Sequence[str] | None = None,
) -> list[str]:
    """The sum of one output cell in pieces, one per tap and one for "= result"; average
    pooling divides by ``divisor`` (default: the number of values). ``weights``: the kernel's
    weights as written (default: formatted here).

    Joined, the pieces are the sum on one line; a line may break after any piece (each
    but the last ends with a space, which a line's end drops).
    """
    from convanim.values import format_value

    count = len(values)
    last = count - 1
    if worked.op == "max":
        taps = [f"{v}, " if i < last else f"{v}) " for i, v in enumerate(values)]
        taps[0] = "max(" + taps[0]
    elif worked.op == "avg":
        shown = str(count) if divisor is None else divisor
        taps = [f"{v} + " if i < last else f"{v}) / {shown} " for i, v in enumerate(values)]
        taps[0] = "(" + taps[0]
    elif count > 12:
        taps = [f"sum of {count} products "]
    else:
        assert worked.weights is not None
        if weights is None:
            weights = [format_value(float(w), 6) for w in worked.weights.ravel()]
        taps = [
            f"{v}×{w} + " if i < last else f"{v}×{w} "
            for i, (v, w) in enumerate(zip(values, weights, strict=True))
        ]
    return [*taps, f"= {result}"]


@dataclass(frozen=True)
class _SumLines:
    """How the sum caption is laid out: the pieces that start a new line, and the room.

    ``room``: cells under the planes for it; ``centre``: cells from the figure's bottom edge
    to the middle of its lines; ``widen``: cells the figure grows by for its widest piece.
    The same breaks serve every frame, so the sum does not jump about between frames.
    """

    breaks: tuple[int, ...]
    room: float
    centre: float
    widen: float

    def text(self, pieces: Sequence[str]) -> str:
        """The pieces as lines."""
        # A frame may sum fewer taps than planned for (a pooling window partly past the edge).
        starts = [0, *(b for b in self.breaks if b < len(pieces)), len(pieces)]
        return "\n".join("".join(pieces[a:b]).rstrip() for a, b in itertools.pairwise(starts))


SUM_ROOM, SUM_CENTRE = 1.4, 0.7  # cells: one line of sum, where it fits there
SUM_ROW_WIDEN_MAX = 4  # taps: a narrower figure widens to a kernel row of the sum a line


def _plan_sum(worked: Worked, plane: ConvSpec[Any, Any], cell_px: float, width: float) -> _SumLines:
    """Break the sum into lines that fit ``width`` cells: whole kernel rows to a line where
    they fit, else taps. Planned for the widest number in every place, so every frame fits.
    The figure widens (``widen``) only where it is narrower than a short kernel row of the
    sum, or than one piece of it (the smallest scales)."""
    from matplotlib.font_manager import FontProperties

    from convanim.values import format_value

    renderer: Any = RendererAgg(1, 1, 100.0)
    font = FontProperties(size=_caption_points(cell_px))
    pad = max(2.0, 0.3 * font.get_size_in_points() / 0.72)
    room_px = fit_px = width * cell_px - 2 * pad
    measured: dict[str, float] = {}

    def px(text: str) -> float:
        if text not in measured:
            width_px, _, _ = renderer.get_text_width_height_descent(text, font, ismath=False)
            measured[text] = float(width_px)
        return measured[text]

    def widest(numbers: npt.NDArray[np.float64]) -> str:
        # Digits share one width (tabular figures): one number of each shape is enough.
        shapes: dict[str, str] = {}
        for v in np.unique(numbers):
            text = format_value(float(v), 6)
            shapes.setdefault(text.translate(_DIGITS_TO_ZERO), text)
        return max(sorted(shapes.values()), key=px)

    kernel_rows, kernel_cols = plane.kernel_size
    count = kernel_rows * kernel_cols
    pieces = _sum_pieces(worked, [widest(worked.drawn)] * count, widest(worked.output))

    def line_px(units: Sequence[Sequence[str]]) -> float:
        line = [piece for unit in units for piece in unit]
        return sum(px(piece) for piece in line[:-1]) + px(line[-1].rstrip())

    singles = [[piece] for piece in pieces]
    rows = [pieces[i : i + kernel_cols] for i in range(0, count, kernel_cols)]
    per_tap = len(pieces) == count + 1 and kernel_rows > 1
    if per_tap and kernel_cols <= SUM_ROW_WIDEN_MAX:
        # Rather than a column of single taps, widen the figure to a kernel row a line.
        room_px = max(room_px, max(line_px([row]) for row in rows))
    lines: list[list[list[str]]] = []
    if line_px(singles) <= room_px:
        lines = [singles]
    elif per_tap:
        # The same number of whole kernel rows on every line, "= result" after the last.
        for per_line in range(kernel_rows - 1, 0, -1):
            lines = [rows[i : i + per_line] for i in range(0, kernel_rows, per_line)]
            if line_px([*lines[-1], pieces[-1:]]) <= room_px:
                lines[-1].append(pieces[-1:])
            else:
                lines.append([pieces[-1:]])
            if all(line_px(line) <= room_px for line in lines):
                break
            lines = []
    if not lines:  # tap by tap
        for unit in singles:
            if lines and line_px([*lines[-1], unit]) <= room_px:
                lines[-1].append(unit)
            else:
                lines.append([unit])
    breaks = tuple(itertools.accumulate(sum(len(unit) for unit in line) for line in lines[:-1]))
    text = _SumLines(breaks, 0, 0, 0).text(pieces)
    probe = Text(0, 0, text, fontproperties=font, ha="center", va="center")
    probe.set_figure(_Ruler())  # type: ignore[arg-type]  # it stands in for a figure
    box = probe.get_window_extent(renderer)
    widen = max(box.width - fit_px, 0.0) / cell_px
    if len(lines) == 1 and widen == 0 and box.height / 2 + pad <= SUM_CENTRE * cell_px:
        return _SumLines(breaks, SUM_ROOM, SUM_CENTRE, 0.0)  # where one line always went
    room = float(box.height + 2 * pad) / cell_px
    return _SumLines(breaks, room, room / 2, widen)


_DIGITS_TO_ZERO = str.maketrans("123456789", "000000000")


class _Ruler:
    """What a text artist asks its figure for when it measures itself: the dpi."""

    dpi = 100.0

    def get_figure(self, root: bool = False) -> _Ruler:
        return self


def render_frames(
    spec: ConvSpec[Any, Any],
    options: RenderOptions | None = None,
    frames: Iterable[int] | None = None,
) -> Iterator[Rgb]:
    """RGB pixels of the spec's frames (all, or the given frame indices), in order."""
    animation = Animation(spec, options)
    wanted = None if frames is None else set(frames)
    for frame in spec.frames():
        if wanted is None or frame.index in wanted:
            yield animation.render(frame)
