"""The 3-D renderer: a 3-D spec's frames as the depth slices of its input and output volumes.

Every drawn slice of the input volume (input slices, slices of padding, the zero slices a
transposed convolution inserts) and every output slice is a grid in the 2-D figures' look:
input cells blue, padding and inserted zeros dashed, output cells green. A frame shades the
kernel's taps on exactly the drawn slices its depth taps cover, with the 2-D window grid over
its footprint on each, and the output cell it computes. Each slice is captioned with its depth.

``oblique``: each volume is a stack of slanted slices (depth 0 on top), conv_arithmetic's
plane, the output stack beside the input stack. ``flat``: a row of flat slices per volume, the
input above the output. With values, every cell shows its number, the output fills in frame by
frame, and the sum for the current cell is written under the slices (the flat view also writes
each tap's weight in its cell's corner).

A ``VolumeAnimation`` is a ``convanim.drawing.Drawing``: frame i is the spec's frame i. How
many slices, and how large, a figure may have is ``convanim.animate.check_limits``'s to say.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.text import Text
from matplotlib.transforms import Bbox

from convanim import measure
from convanim.drawing import Box, display_box, union_box
from convanim.geometry import Cell, ConvSpec, ConvSpecError
from convanim.geometry import Frame as GeometryFrame
from convanim.options import RenderOptions
from convanim.render import (
    COPY_STYLE,
    DASH_PT,
    EDGES,
    MAX_FRAME_PIXELS,
    OBLIQUE_CELL_PX,
    POINTS_PER_CELL,
    SLANT,
    THICK_PT,
    Page,
    Sheet,
    _blend,
    _cells,
    _Plane,
    _polygons,
    _sum_pieces,
    copy_colour,
    grid_lines,
    mark_names,
    pixel_figure,
    segments_path,
    tile,
)
from convanim.theme import THEMES, Theme, hex_rgb

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from convanim.values import Worked

__all__ = ["VolumeAnimation"]

SLICE_GAP = 0.6  # cells between the slices of a stack (oblique) or a row (flat)
VOLUME_GAP = 2.0  # cells between the input volume and the output volume
OBLIQUE_MAX_HEIGHT_PX, OBLIQUE_MAX_WIDTH_PX = 900.0, 1400.0
OBLIQUE_MIN_CELL_PX = 12.0
FLAT_MAX_WIDTH_PX, FLAT_MAX_HEIGHT_PX = 1200.0, 800.0
FLAT_CELL_PX_RANGE = (12.0, 30.0)
FLAT_VALUES_CELL_PX_RANGE = (24.0, 40.0)  # room for numbers
CAPTION_ROOM = 0.9  # cells above a flat slice for its caption
LABEL_ROOM = 1.2  # cells for "input" / "output"
SUM_ROOM = 1.4  # cells under the slices for the sum
SUM_TAPS_MAX = 12  # more taps than this: the sum is said in words ("sum of 27 products")
BORDER = 0.6  # cells
PIXEL_DPI = 100.0


@dataclass(frozen=True)
class _Slice:
    """One drawn slice: its plane in figure coordinates, its cells and its caption."""

    plane: _Plane
    cells: npt.NDArray[np.uint8]  # Cell codes; an output slice is all INPUT-like cells
    caption: str
    output: bool


class VolumeAnimation:
    """The frames of one 3-D spec, drawn on one canvas (a ``convanim.drawing.Drawing``)."""

    def __init__(
        self,
        spec: ConvSpec[Any, Any],
        options: RenderOptions | None = None,
        worked: Worked | None = None,
        poster: bool = False,
    ) -> None:
        if spec.dims != 3:
            raise ConvSpecError("dims", f"got {spec.dims}; a volume figure draws a 3-D spec")
        self.spec, self.worked = spec, worked
        self.poster = poster  # a poster's frame shows every output's value
        self.options = options or RenderOptions()
        self.theme: Theme = THEMES[self.options.theme]
        self.frames: list[GeometryFrame[Any]] = list(spec.frames())
        self.volume = spec.volume()
        self._layout()
        self._build()

    # -- layout ---------------------------------------------------------------------------

    def _layout(self) -> None:
        spec, options = self.spec, self.options
        depth, rows, cols = spec.drawn_size
        out_depth, out_rows, out_cols = spec.output_size
        cells, kinds, inputs = self.volume.cells, self.volume.depth_kinds, self.volume.input_depths
        sources = self.volume.source_depths
        words = {0: "padding", 2: "zeros"}

        def caption(d: int) -> str:
            if kinds[d] == 0 and sources is not None and sources[d] >= 0:
                return f"copy of depth {sources[d]}"  # a padding mode's slice
            return f"depth {inputs[d]}" if kinds[d] == 1 else words[int(kinds[d])]

        oblique = options.view == "oblique"
        transform = SLANT if oblique else np.eye(2)
        self.slices: list[_Slice] = []
        self.outputs: list[_Slice] = []
        if oblique:
            # Stacked: a slanted slice is at most min(rows, cols / 0.7) cells thick at any x, so
            # slices this far apart never overlap; depth 0 on top, as a stack is read.
            step_in = min(rows, cols / 0.7) + SLICE_GAP
            step_out = min(out_rows, out_cols / 0.7) + SLICE_GAP
            height_in, height_out = depth * step_in, out_depth * step_out
            width_in = cols + 0.7 * rows
            x_out = width_in + VOLUME_GAP + 0.7 * out_rows
            y_out = (height_in - height_out) / 2
            for d in range(depth):
                origin = (0.7 * rows, (depth - 1 - d) * step_in)
                plane = _Plane(rows, transform, origin)
                self.slices.append(_Slice(plane, cells[d], caption(d), False))
            for d in range(out_depth):
                origin = (x_out, y_out + (out_depth - 1 - d) * step_out)
                plane = _Plane(out_rows, transform, origin)
                self.outputs.append(
                    _Slice(plane, np.ones((out_rows, out_cols), np.uint8), f"depth {d}", True)
                )
        else:
            # Rows of slices, captions above each; the output row under the input row, centred.
            width_in = depth * (cols + SLICE_GAP) - SLICE_GAP
            width_out = out_depth * (out_cols + SLICE_GAP) - SLICE_GAP
            width = max(width_in, width_out)
            y_in = out_rows + CAPTION_ROOM + VOLUME_GAP
            x_in, x_out = (width - width_in) / 2, (width - width_out) / 2
            for d in range(depth):
                plane = _Plane(rows, transform, (x_in + d * (cols + SLICE_GAP), y_in))
                self.slices.append(_Slice(plane, cells[d], caption(d), False))
            for d in range(out_depth):
                plane = _Plane(out_rows, transform, (x_out + d * (out_cols + SLICE_GAP), 0.0))
                self.outputs.append(
                    _Slice(plane, np.ones((out_rows, out_cols), np.uint8), f"depth {d}", True)
                )
        corners = np.vstack(
            [s.plane.cell(0, 0, *s.cells.shape) for s in (*self.slices, *self.outputs)]
        )
        x0, y0 = corners.min(axis=0) - BORDER
        x1, y1 = corners.max(axis=0) + BORDER
        if oblique:
            # The captions left of each input slice ("copy of depth 1" is longer), right of
            # each output slice.
            x0 -= 2.4
            x1 += 2.4
        else:
            y1 += CAPTION_ROOM
        if options.labels:
            y1 += LABEL_ROOM
        if self.worked is not None:
            y0 -= SUM_ROOM
        width, height = x1 - x0, y1 - y0
        if oblique:
            fit = min(OBLIQUE_MAX_WIDTH_PX / width, OBLIQUE_MAX_HEIGHT_PX / height)
            cell_px = min(OBLIQUE_CELL_PX, max(fit, OBLIQUE_MIN_CELL_PX))
        else:
            low, high = FLAT_VALUES_CELL_PX_RANGE if self.worked is not None else FLAT_CELL_PX_RANGE
            fit = min(FLAT_MAX_WIDTH_PX / width, FLAT_MAX_HEIGHT_PX / height)
            cell_px = min(max(fit, low), high)
        cell_px *= options.scale
        if oblique:  # a longer caption than "depth 10" ("copy of depth 1") widens the left
            points = max(8.0, min(11.0, cell_px * 0.36))
            widest = max((piece.caption for piece in self.slices), key=len)
            room = self._text_px(widest, points, bold=True) / cell_px + 0.25 + BORDER
            if room > 2.4 + BORDER:
                x0 -= room - (2.4 + BORDER)
                width = x1 - x0
        if self.worked is not None:  # the sum must fit across the figure
            needed = self._sum_width_px(cell_px) / cell_px + 2 * BORDER
            if needed > width:
                x0 -= (needed - width) / 2
                x1 += (needed - width) / 2
        width_px, height_px = round((x1 - x0) * cell_px), round((y1 - y0) * cell_px)
        if width_px * height_px > MAX_FRAME_PIXELS:
            raise ConvSpecError(
                "scale",
                f"got {options.scale}: a frame would be {width_px}x{height_px} pixels, over the "
                f"limit of {MAX_FRAME_PIXELS:,}; use a smaller scale or a smaller input",
            )
        self.cell_px = cell_px
        self.line_scale: float = cell_px / POINTS_PER_CELL * 0.72
        self.limits = (x0, x0 + width_px / cell_px, y0, y0 + height_px / cell_px)
        self.size = (width_px, height_px)
        self.font_points = max(cell_px * 0.32 * 0.72, 6.0)
        self.caption_points = max(8.0, min(11.0, cell_px * 0.36)) * (1.0 if oblique else 0.95)

    @staticmethod
    def _text_px(text: str, points: float, bold: bool = False) -> float:
        """The width of ``text`` in pixels at ``points``."""
        from matplotlib.font_manager import FontProperties

        font = FontProperties(size=points, weight="bold" if bold else "normal")
        return measure.text_metrics(text, font, PIXEL_DPI)[0]

    def _sum_width_px(self, cell_px: float) -> float:
        from matplotlib.font_manager import FontProperties

        font = FontProperties(size=max(cell_px * 0.32 * 0.72, 8.0))
        widest = max(
            (self._sum(frame) for frame in self.frames[:: max(1, len(self.frames) // 16)]),
            key=len,
        )
        return measure.text_metrics(widest, font, PIXEL_DPI)[0]

    # -- static parts ---------------------------------------------------------------------

    def _lw(self, points: float) -> float:
        width: float = points * self.line_scale
        return width

    def _build(self) -> None:
        width, height = self.size
        self.page = Page(width, height, self.theme.background, PIXEL_DPI)
        self.sheet = Sheet(self.page, (0, 0), self.size, self.limits)
        self._add_static(self.sheet)
        self.page.draw()
        self.cached = self.page.copy()
        self.renderer: Any = self.page.renderer
        self.transform: Any = self.sheet.transform.frozen()
        self.shade_rgb = tuple(c / 255 for c in hex_rgb(self.theme.shade))
        self.line_rgb = tuple(c / 255 for c in hex_rgb(self.theme.line))
        self.margin_px = math.ceil(self._lw(THICK_PT) * PIXEL_DPI / 72) + 2
        self.texts_drawn: list[Text] = []  # the last frame's texts

    def _add_static(self, sheet: Sheet) -> None:
        theme, thick = self.theme, self._lw(THICK_PT)
        dashes = (0.0, (DASH_PT / THICK_PT, DASH_PT / THICK_PT))
        blank_cells: list[npt.NDArray[np.float64]] = []
        input_cells: list[npt.NDArray[np.float64]] = []
        output_cells: list[npt.NDArray[np.float64]] = []
        dashed: list[npt.NDArray[np.float64]] = []
        for piece in (*self.slices, *self.outputs):
            rows, cols = piece.cells.shape
            blank = piece.cells != Cell.INPUT
            corners = [piece.plane.cell(r, c) for r, c in zip(*np.nonzero(~blank), strict=True)]
            (output_cells if piece.output else input_cells).extend(corners)
            if blank.any():
                blank_cells += [
                    piece.plane.cell(r, c) for r, c in zip(*np.nonzero(blank), strict=True)
                ]
                dashed += list(piece.plane.xy(grid_lines(range(rows + 1), range(cols + 1))))
        if blank_cells:
            sheet.add(PolyCollection(blank_cells, facecolors=theme.padding, edgecolors="none"))
            sheet.add(
                LineCollection(dashed, colors=theme.line, linewidths=thick, linestyles=[dashes])
            )
        for corners, fill in ((input_cells, theme.input), (output_cells, theme.output)):
            if corners:
                sheet.add(
                    PolyCollection(
                        corners, facecolors=fill, edgecolors=theme.line, linewidths=thick
                    )
                )
        if self.options.labels:
            self._add_labels(sheet)
        if self.worked is not None:
            self._add_values(sheet)
        elif self.spec.padding_mode != "zeros":
            self._add_marks(sheet)

    def _copied(self, depth: int, row: int, col: int) -> bool:
        """Whether drawn cell (depth, row, col) holds a padding mode's copy of an input cell."""
        volume = self.volume
        if volume.source_depths is None or volume.source_depths[depth] < 0:
            return False
        on_input = volume.depth_kinds[depth] == 1 and volume.plane.cells[row, col] == Cell.INPUT
        return not on_input and volume.plane.source_at(row, col) is not None

    def _add_marks(self, sheet: Sheet) -> None:
        """Without values, a padding mode's copies as letters, as in 2-D: a letter names an
        input cell's (row, col) and marks every cell holding a copy of it on every slice that
        holds that position's values; a slice of padding says in its caption which input slice
        it copies (``copy of depth 1``)."""
        plane = self.volume.plane
        names = mark_names(plane)
        base = {**self._cell_style(), "fontsize": self.cell_px * 0.34 * 0.72}
        copy = {**base, "color": copy_colour(self.theme), "fontstyle": COPY_STYLE}
        sources = self.volume.source_depths
        assert sources is not None
        for d, piece in enumerate(self.slices):
            if sources[d] < 0:
                continue
            for (row, col), code in np.ndenumerate(plane.cells):
                if code == Cell.OUTSIDE:
                    continue
                name = names.get(plane.source_at(row, col) or (-1, -1))
                if name is None:
                    continue
                x, y = piece.plane.cell(row, col).mean(axis=0)
                sheet.text(x, y, name, **(copy if self._copied(d, row, col) else base))

    def _captions(
        self, frame: GeometryFrame[Any]
    ) -> list[tuple[float, float, str, dict[str, Any]]]:
        """Every slice's caption, in bold on the slices this frame covers and computes.

        Oblique: left of an input slice's leftmost corner, right of an output slice's
        rightmost; flat: above the slice's middle.
        """
        covered = set(self.covered(frame))
        style: dict[str, Any] = {"color": self.theme.text, "fontsize": self.caption_points}
        texts = []
        for index, piece in enumerate((*self.slices, *self.outputs)):
            rows, cols = piece.cells.shape
            bold = (
                (index - len(self.slices) == frame.output[0])
                if piece.output
                else (index in covered)
            )
            weight = {"fontweight": "bold"} if bold else {}
            if self.options.view == "flat":
                x, y = (piece.plane.corner(0, 0) + piece.plane.corner(0, cols)) / 2
                place = {"ha": "center", "va": "bottom"}
                y += 0.15
            elif piece.output:
                x, y = piece.plane.corner(rows, cols)
                place = {"ha": "left", "va": "center"}
                x += 0.25
            else:
                x, y = piece.plane.corner(0, 0)
                place = {"ha": "right", "va": "center"}
                x -= 0.25
            texts.append((float(x), float(y), piece.caption, {**style, **place, **weight}))
        return texts

    def _add_labels(self, sheet: Sheet) -> None:
        style: dict[str, Any] = {
            "color": self.theme.text,
            "fontsize": 11 * self.cell_px / OBLIQUE_CELL_PX,
            "ha": "center",
            "va": "bottom",
        }
        for pieces, text in ((self.slices, "input"), (self.outputs, "output")):
            corners = np.vstack([p.plane.cell(0, 0, *p.cells.shape) for p in pieces])
            top = corners[:, 1].max() + (0.3 if self.options.view == "oblique" else CAPTION_ROOM)
            sheet.text(float(corners[:, 0].mean()), float(top), text, **style)

    def _add_values(self, sheet: Sheet) -> None:
        assert self.worked is not None
        style = self._cell_style()
        copy = {**style, "color": copy_colour(self.theme), "fontstyle": COPY_STYLE}
        for d, piece in enumerate(self.slices):
            for (row, col), value in np.ndenumerate(self.worked.drawn[d]):
                x, y = piece.plane.cell(row, col).mean(axis=0)
                look = copy if self._copied(d, row, col) else style
                sheet.text(x, y, self._text(value), **look)

    def _cell_style(self) -> dict[str, Any]:
        return {
            "color": self.theme.text,
            "fontsize": self.font_points,
            "ha": "center",
            "va": "center",
        }

    def _text(self, value: float) -> str:
        from convanim.values import format_value

        max_chars = max(1, int(self.cell_px * 0.8 / (self.cell_px * 0.32 * 0.6)))
        return format_value(float(value), max_chars)

    # -- what a frame shows ---------------------------------------------------------------

    def _moving(self, frame: GeometryFrame[Any]) -> tuple[npt.NDArray[np.float64], ...]:
        """(shaded cells' corners (n, 4, 2), thick segments (n, 2, 2)) in figure coordinates."""
        taps = np.array(frame.taps, dtype=float)
        (_, top, left), (_, bottom, right) = frame.window
        shaded, thick = [], []
        for depth in sorted({int(d) for d in taps[:, 0]}):
            plane = self.slices[depth].plane
            on = taps[taps[:, 0] == depth]
            shaded.append(plane.xy(_cells(on[:, 1], on[:, 2], plane.rows)))
            window = grid_lines(plane.rows - np.arange(top, bottom + 1), np.arange(left, right + 1))
            thick.append(plane.xy(window))
        out_depth, out_row, out_col = frame.output
        current = self.outputs[out_depth].plane.cell(out_row, out_col)
        shaded.append(current[None])
        thick.append(current[EDGES])
        return np.concatenate(shaded), np.concatenate(thick)

    def covered(self, frame: GeometryFrame[Any]) -> list[int]:
        """The drawn input slices frame ``frame`` shades: those its depth taps fall on."""
        return sorted({int(tap[0]) for tap in frame.taps})

    def _sum(self, frame: GeometryFrame[Any]) -> str:
        from convanim.values import format_value, tap_values

        worked = self.worked
        assert worked is not None
        under = tap_values(self.spec, worked.drawn, frame).ravel()
        result = format_value(float(worked.output[frame.output]), 6)
        if len(under) > SUM_TAPS_MAX:
            what = {"conv": "sum of {} products", "max": "max of {} values"}.get(
                worked.op, "mean of {} values"
            )
            return f"{what.format(len(under))} = {result}"
        values = [format_value(float(v), 6) for v in under]
        return "".join(_sum_pieces(worked, values, result))

    def _texts(self, frame: GeometryFrame[Any]) -> list[tuple[float, float, str, dict[str, Any]]]:
        """Every moving text of a frame: (x, y, text, style)."""
        texts = self._captions(frame)
        worked = self.worked
        if worked is None:
            return texts
        style = self._cell_style()
        out_rows, out_cols = self.spec.output_size[1:]
        count = worked.output.size if self.poster else frame.index + 1
        for done in range(count):
            d, rest = divmod(done, out_rows * out_cols)
            row, col = divmod(rest, out_cols)
            x, y = self.outputs[d].plane.cell(row, col).mean(axis=0)
            bold = {"fontweight": "bold"} if done == frame.index else {}
            texts.append((x, y, self._text(worked.output[d, row, col]), {**style, **bold}))
        if worked.weights is not None and self.options.view == "flat":
            weight_style = {
                **style,
                "fontsize": self.font_points * 0.7,
                "ha": "right",
                "va": "bottom",
            }
            for weight, (d, row, col) in zip(worked.weights.ravel(), frame.taps, strict=True):
                plane = self.slices[d].plane
                x, y = plane.xy([[col + 0.94, plane.rows - row - 0.94]])[0]
                texts.append((x, y, self._text(weight), weight_style))
        x0, x1, y0, _ = self.limits
        caption_style = {**style, "fontsize": max(self.cell_px * 0.32 * 0.72, 8.0)}
        texts.append(((x0 + x1) / 2, y0 + SUM_ROOM / 2, self._sum(frame), caption_style))
        return texts

    # -- the Drawing interface ------------------------------------------------------------

    @property
    def frame_count(self) -> int:
        return len(self.frames)

    @property
    def background(self) -> str:
        return self.theme.background

    @property
    def default_columns(self) -> int:
        """One row of frames per output row, as in 2-D."""
        columns: int = self.spec.output_size[2]
        return columns

    def colours(self) -> list[str]:
        theme = self.theme
        shade = hex_rgb(theme.shade)
        flat = [theme.background, theme.input, theme.output, theme.line, theme.padding, theme.text]
        if self.spec.padding_mode != "zeros":
            flat.append(copy_colour(theme))
        return flat + [
            _blend(shade, hex_rgb(under), theme.shade_alpha)
            for under in (theme.input, theme.output, theme.padding, theme.line)
        ]

    def inks(self) -> list[str]:
        copies = [copy_colour(self.theme)] if self.spec.padding_mode != "zeros" else []
        return [self.theme.line, self.theme.text, *copies]

    def draw(self, index: int) -> Box:
        frame = self.frames[index]
        shaded, thick = self._moving(frame)
        self.page.restore(self.cached)
        renderer, transform = self.renderer, self.transform
        gc = renderer.new_gc()
        gc.set_alpha(self.theme.shade_alpha)
        gc.set_antialiased(False)
        gc.set_linewidth(0)
        renderer.draw_path(gc, _polygons(shaded), transform, self.shade_rgb)
        gc.set_alpha(1.0)
        gc.set_antialiased(True)
        gc.set_foreground(self.line_rgb)
        gc.set_linewidth(self._lw(THICK_PT))
        renderer.draw_path(gc, segments_path(thick), transform)
        gc.restore()
        box = self._box(np.concatenate([shaded.reshape(-1, 2), thick.reshape(-1, 2)]))
        self.texts_drawn = []
        for x, y, text, style in self._texts(frame):
            artist = self.sheet.text(x, y, text, animated=True, **style)
            inked = self.page.draw_text(artist)
            if inked is None:  # drawn by matplotlib: its layout box bounds it
                extent = artist.get_window_extent(renderer)
                box = union_box(box, self._extent_box(extent))
            else:  # the pixels its glyphs covered, a margin around them
                top, bottom, left, right = inked
                height = self.size[1]
                box = union_box(
                    box, display_box(left, height - bottom, right, height - top, self.size, 2)
                )
            self.texts_drawn.append(artist)
            self.page.artists.remove(artist)
        return box

    def _box(self, points: npt.NDArray[np.float64]) -> Box:
        pixels = self.transform.transform(points)
        (x0, y0), (x1, y1) = pixels.min(axis=0), pixels.max(axis=0)
        return display_box(x0, y0, x1, y1, self.size, self.margin_px)

    def _extent_box(self, extent: Bbox) -> Box:
        return display_box(extent.x0, extent.y0, extent.x1, extent.y1, self.size, 2)

    def rgba(self) -> npt.NDArray[np.uint8]:
        return self.page.rgba()

    def render(self, index: int) -> npt.NDArray[np.uint8]:
        self.draw(index)
        return np.ascontiguousarray(self.rgba()[:, :, :3])

    def texts(self, static: bool = True) -> Iterator[tuple[str, Bbox]]:
        """Every text on the canvas as the last ``draw`` left it, with its pixel box."""
        for artist in self.page.artists if static else ():
            if isinstance(artist, Text):
                yield artist.get_text(), artist.get_window_extent(self.renderer)
        for artist in self.texts_drawn:
            yield artist.get_text(), artist.get_window_extent(self.renderer)

    def vector(self, indices: Sequence[int], columns: int) -> Figure:
        from matplotlib.patches import PathPatch

        width, height = self.size
        rows = -(-len(indices) // columns)
        gap = 8
        figure = pixel_figure(
            columns * width + (columns - 1) * gap, rows * height + (rows - 1) * gap, PIXEL_DPI
        )
        figure.patch.set_facecolor(self.theme.background)
        for slot, index in enumerate(indices):
            frame = self.frames[index]
            sheet = Sheet(figure, tile(slot, columns, self.size, gap, rows), self.size, self.limits)
            self._add_static(sheet)
            shaded, thick = self._moving(frame)
            sheet.add(
                PathPatch(
                    _polygons(shaded),
                    facecolor=self.theme.shade,
                    edgecolor="none",
                    alpha=self.theme.shade_alpha,
                )
            )
            sheet.add(
                LineCollection(list(thick), colors=self.theme.line, linewidths=self._lw(THICK_PT))
            )
            for x, y, text, style in self._texts(frame):
                sheet.text(x, y, text, **style)
        return figure

    def frame_caption(self, index: int) -> str:
        """The output cell of frame ``index``: "output cell (depth, row, col)"."""
        return f"output cell {tuple(self.frames[index].output)}"
