"""Tests for ``convanim.render``: pixels of real rendered frames.

Colours are read at the centre of a cell: the cell's four corners go through the animation's
``transform`` to display pixels (origin bottom-left), and the most common colour of a small
patch around their centre is the cell's colour (so a thin link line crossing the centre does
not count). Expected colours are conv_arithmetic's, written out here; a shaded cell is the
shade laid at its opacity over the cell's own colour, within a few units per channel.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from matplotlib.text import Text

from convanim.geometry import Cell, ConvSpec, ConvSpecError
from convanim.render import Animation, RenderOptions, render_frames
from convanim.theme import THEMES, hex_rgb

Rgb = tuple[int, int, int]
Pair = tuple[int, int]

SHADE_TOLERANCE = 3  # per channel: the renderer's alpha blending rounds its own way
VIEWS = ("oblique", "flat")


@dataclass(frozen=True)
class Look:
    """The colours a rendered frame should show."""

    input: Rgb
    output: Rgb
    padding: Rgb
    shade: Rgb
    shade_alpha: float

    def shaded(self, under: Rgb) -> Rgb:
        a = self.shade_alpha
        r, g, b = (round(a * s + (1 - a) * u) for s, u in zip(self.shade, under, strict=True))
        return r, g, b


# conv_arithmetic's look, from its TikZ sources: not read back from convanim.theme.
SOLARIZED = Look(
    input=hex_rgb("#268BD2"),
    output=hex_rgb("#2AA198"),
    padding=hex_rgb("#FFFFFF"),
    shade=hex_rgb("#073642"),
    shade_alpha=0.4,
)


def look(theme: str) -> Look:
    if theme == "solarized":
        return SOLARIZED
    colours = THEMES[theme]
    return Look(
        input=hex_rgb(colours.input),
        output=hex_rgb(colours.output),
        padding=hex_rgb(colours.padding),
        shade=hex_rgb(colours.shade),
        shade_alpha=colours.shade_alpha,
    )


def test_solarized_theme_is_conv_arithmetics_look() -> None:
    theme = THEMES["solarized"]
    assert hex_rgb(theme.input) == SOLARIZED.input
    assert hex_rgb(theme.output) == SOLARIZED.output
    assert hex_rgb(theme.padding) == SOLARIZED.padding == hex_rgb(theme.background)
    assert hex_rgb(theme.shade) == SOLARIZED.shade
    assert theme.shade_alpha == pytest.approx(SOLARIZED.shade_alpha)
    assert hex_rgb(theme.line) == hex_rgb("#002B36")


# -- reading pixels -----------------------------------------------------------------------


def cell_pixel(animation: Animation, plane: Any, row: int, col: int) -> Pair:
    """(pixel row, pixel col) of the centre of cell (row, col) of a plane; origin top-left."""
    x, y = animation.transform.transform(plane.cell(row, col)).mean(axis=0)
    height = animation.size[1]
    return int(height - y), int(x)


def cell_extent(animation: Animation, plane: Any, row: int, col: int) -> tuple[float, float]:
    """(width, height) in pixels of the box around cell (row, col)."""
    corners = animation.transform.transform(plane.cell(row, col))
    width, height = corners.max(axis=0) - corners.min(axis=0)
    return float(width), float(height)


def colour_at(image: np.ndarray, centre: Pair, radius: int = 3) -> Rgb:
    """The most common colour in a (2 * radius + 1)^2 patch around ``centre``."""
    y, x = centre
    assert radius <= y < image.shape[0] - radius and radius <= x < image.shape[1] - radius
    patch = image[y - radius : y + radius + 1, x - radius : x + radius + 1].reshape(-1, 3)
    colours, counts = np.unique(patch, axis=0, return_counts=True)
    r, g, b = (int(v) for v in colours[counts.argmax()])
    return r, g, b


def input_colour(animation: Animation, image: np.ndarray, row: int, col: int) -> Rgb:
    return colour_at(image, cell_pixel(animation, animation.input_plane, row, col))


def output_colour(animation: Animation, image: np.ndarray, row: int, col: int) -> Rgb:
    return colour_at(image, cell_pixel(animation, animation.output_plane, row, col))


def close(found: Rgb, expected: Rgb, tolerance: int = SHADE_TOLERANCE) -> bool:
    return max(abs(f - e) for f, e in zip(found, expected, strict=True)) <= tolerance


def frame_at(spec: ConvSpec, index: int) -> Any:
    return next(f for f in spec.frames() if f.index == index)


def positions(spec: ConvSpec) -> dict[str, int]:
    last = spec.frame_count - 1
    return {"first": 0, "middle": last // 2, "last": last}


# -- the colour of every cell ---------------------------------------------------------------

PADDING_STRIDES = ConvSpec(5, 3, stride=2, padding=1)  # drawn 7x7, output 3x3
DILATION = ConvSpec(7, 3, dilation=2)  # drawn 7x7, output 3x3
TRANSPOSED = ConvSpec(3, 3, stride=2, padding=1, transposed=True, output_padding=1)  # 8x8 -> 6x6
SPECS = {"padding_strides": PADDING_STRIDES, "dilation": DILATION, "transposed": TRANSPOSED}


def wrong_cells(spec: ConvSpec, options: RenderOptions, index: int) -> list[str]:
    """Every cell of one rendered frame whose colour is not what it should be."""
    animation = Animation(spec, options)
    frame = frame_at(spec, index)
    image = animation.render(frame)
    expected_look = look(options.theme)
    taps = set(frame.taps)
    cells = spec.grid().cells
    wrong = []
    for row in range(cells.shape[0]):
        for col in range(cells.shape[1]):
            base = expected_look.input if cells[row, col] == Cell.INPUT else expected_look.padding
            want = expected_look.shaded(base) if (row, col) in taps else base
            got = input_colour(animation, image, row, col)
            if not close(got, want):
                wrong.append(f"input ({row}, {col}): {got}, expected {want}")
    out_rows, out_cols = spec.output_size
    for row in range(out_rows):
        for col in range(out_cols):
            base = expected_look.output
            want = expected_look.shaded(base) if (row, col) == frame.output else base
            got = output_colour(animation, image, row, col)
            if not close(got, want):
                wrong.append(f"output ({row}, {col}): {got}, expected {want}")
    return wrong


@pytest.mark.parametrize("theme", ["solarized", "dark"])
@pytest.mark.parametrize("view", VIEWS)
@pytest.mark.parametrize("position", ["first", "middle", "last"])
@pytest.mark.parametrize("name", list(SPECS))
def test_every_cell_has_its_colour(name: str, position: str, view: str, theme: str) -> None:
    spec = SPECS[name]
    index = positions(spec)[position]
    assert wrong_cells(spec, RenderOptions(view=view, theme=theme), index) == []


@pytest.mark.parametrize("view", VIEWS)
def test_padding_strides_cells(view: str) -> None:
    """5x5 input, padding 1, stride 2: the kernel of the middle frame sits on input (2..4)."""
    spec = PADDING_STRIDES
    animation = Animation(spec, RenderOptions(view=view))
    image = animation.render(frame_at(spec, 4))  # output (1, 1): taps rows 2-4, cols 2-4
    shaded_input = SOLARIZED.shaded(SOLARIZED.input)
    assert close(shaded_input, (26, 105, 152), 1)  # 0.4 * #073642 + 0.6 * #268BD2
    assert input_colour(animation, image, 1, 1) == SOLARIZED.input  # outside the window
    assert input_colour(animation, image, 5, 3) == SOLARIZED.input
    assert input_colour(animation, image, 0, 3) == SOLARIZED.padding  # padding: white
    assert input_colour(animation, image, 6, 6) == SOLARIZED.padding
    for tap in [(2, 2), (3, 3), (4, 4), (2, 4)]:
        assert close(input_colour(animation, image, *tap), shaded_input), tap
    assert close(output_colour(animation, image, 1, 1), SOLARIZED.shaded(SOLARIZED.output))
    for cell in [(0, 0), (1, 2), (2, 1)]:
        assert output_colour(animation, image, *cell) == SOLARIZED.output, cell

    first = animation.render(frame_at(spec, 0))  # taps on padding are shaded white
    assert close(input_colour(animation, first, 0, 0), SOLARIZED.shaded(SOLARIZED.padding))
    assert input_colour(animation, first, 0, 3) == SOLARIZED.padding


# Dilation 2 on a 7x7 input: taps every second cell of a 5x5 footprint.
DILATION_CASES = {
    0: ([(0, 0), (0, 2), (2, 4), (4, 4)], [(0, 1), (1, 0), (1, 1), (1, 3), (3, 4)]),
    4: ([(1, 1), (3, 3), (5, 5), (1, 5)], [(2, 2), (2, 3), (3, 2), (4, 4), (1, 2)]),
    8: ([(2, 2), (4, 6), (6, 6), (6, 4)], [(3, 3), (5, 5), (3, 4), (5, 6), (6, 5)]),
}


@pytest.mark.parametrize("view", VIEWS)
@pytest.mark.parametrize("index", list(DILATION_CASES))
def test_dilated_kernel_shades_taps_not_holes(index: int, view: str) -> None:
    animation = Animation(DILATION, RenderOptions(view=view))
    image = animation.render(frame_at(DILATION, index))
    taps, holes = DILATION_CASES[index]
    for tap in taps:
        got = input_colour(animation, image, *tap)
        assert close(got, SOLARIZED.shaded(SOLARIZED.input)), f"tap {tap}: {got}"
    for hole in holes:
        assert input_colour(animation, image, *hole) == SOLARIZED.input, f"hole {hole}"


@pytest.mark.parametrize("view", VIEWS)
def test_transposed_inserted_zeros_are_white(view: str) -> None:
    """Input 3, stride 2, padding 1, output_padding 1: input at drawn 1, 3, 5; zeros at 2, 4."""
    spec = TRANSPOSED
    animation = Animation(spec, RenderOptions(view=view))
    last = spec.frame_count - 1
    image = animation.render(frame_at(spec, last))  # taps rows 5-7, cols 5-7
    for zero in [(1, 2), (2, 1), (2, 2), (3, 4), (4, 3), (4, 4)]:
        assert input_colour(animation, image, *zero) == SOLARIZED.padding, zero
    for cell in [(1, 1), (1, 3), (3, 3), (5, 1), (3, 5)]:
        assert input_colour(animation, image, *cell) == SOLARIZED.input, cell
    for padding in [(0, 0), (7, 0), (0, 7), (6, 2)]:
        assert input_colour(animation, image, *padding) == SOLARIZED.padding, padding
    assert close(input_colour(animation, image, 5, 5), SOLARIZED.shaded(SOLARIZED.input))
    for tap in [(5, 6), (6, 6), (7, 7)]:  # output padding and padding under the kernel
        assert close(input_colour(animation, image, *tap), SOLARIZED.shaded(SOLARIZED.padding))

    first = animation.render(frame_at(spec, 0))  # taps rows 0-2, cols 0-2
    assert close(input_colour(animation, first, 1, 1), SOLARIZED.shaded(SOLARIZED.input))
    for zero in [(1, 2), (2, 1), (2, 2)]:
        assert close(input_colour(animation, first, *zero), SOLARIZED.shaded(SOLARIZED.padding))
    assert input_colour(animation, first, 2, 4) == SOLARIZED.padding


def interior_colours(
    animation: Animation, image: np.ndarray, plane: Any, row: int, col: int
) -> set[Rgb]:
    """The colours at a 7x7 lattice of points inside a cell, away from its edges."""
    corners = animation.transform.transform(plane.cell(row, col))
    height = animation.size[1]
    found = set()
    for u in np.linspace(0.2, 0.8, 7):
        for v in np.linspace(0.2, 0.8, 7):
            weights = [(1 - u) * (1 - v), u * (1 - v), u * v, (1 - u) * v]
            x, y = np.dot(weights, corners)
            r, g, b = (int(c) for c in image[int(height - y), int(x)])
            found.add((r, g, b))
    return found


@pytest.mark.parametrize("name", list(SPECS))
def test_links_hidden_behind_the_output_plane(name: str) -> None:
    """Oblique view: the lines to the output cell never show on the output plane."""
    spec = SPECS[name]
    animation = Animation(spec)
    plain, shaded = SOLARIZED.output, SOLARIZED.shaded(SOLARIZED.output)
    out_rows, out_cols = spec.output_size
    for frame in spec.frames():
        image = animation.render(frame)
        for row in range(out_rows):
            for col in range(out_cols):
                want = shaded if (row, col) == frame.output else plain
                for got in interior_colours(animation, image, animation.output_plane, row, col):
                    assert close(got, want), (frame.index, (row, col), got)


def test_rendered_image_is_the_animation_size() -> None:
    for view in VIEWS:
        animation = Animation(PADDING_STRIDES, RenderOptions(view=view))
        image = animation.render(frame_at(PADDING_STRIDES, 0))
        width, height = animation.size
        assert image.shape == (height, width, 3)
        assert image.dtype == np.uint8


# -- blitting ---------------------------------------------------------------------------------


@pytest.mark.parametrize("view", VIEWS)
def test_frame_after_other_frames_equals_fresh_render(view: str) -> None:
    spec = PADDING_STRIDES
    options = RenderOptions(view=view)
    frames = list(spec.frames())
    animation = Animation(spec, options)
    # Forwards, then backwards: each frame drawn over whatever the previous one left.
    order = [f.index for f in frames] + [f.index for f in reversed(frames)]
    kept = [(index, animation.render(frames[index])) for index in order]
    fresh = {f.index: Animation(spec, options).render(f) for f in frames}
    for index, pixels in kept:
        assert np.array_equal(pixels, fresh[index]), f"frame {index} differs from a fresh render"


def test_every_frame_is_distinct() -> None:
    spec = PADDING_STRIDES
    images = list(render_frames(spec))
    assert len(images) == spec.frame_count
    assert len({image.tobytes() for image in images}) == spec.frame_count


def test_render_frames_selects_frames() -> None:
    spec = PADDING_STRIDES
    chosen = list(render_frames(spec, frames=[2, 7]))
    animation = Animation(spec)
    assert len(chosen) == 2
    assert np.array_equal(chosen[0], animation.render(frame_at(spec, 2)))
    assert np.array_equal(chosen[1], animation.render(frame_at(spec, 7)))


# -- sizes ------------------------------------------------------------------------------------

# conv_arithmetic's 15 GIFs, in PyTorch's terms, and their pixel sizes as published.
CONV_ARITHMETIC = {
    # name: (input, kernel, stride, padding, dilation, transposed, output_padding, width, height)
    "no_padding_no_strides": (4, 3, 1, 0, 1, False, 0, 244, 259),
    "arbitrary_padding_no_strides": (5, 4, 1, 2, 1, False, 0, 495, 542),
    "same_padding_no_strides": (5, 3, 1, 1, 1, False, 0, 395, 449),
    "full_padding_no_strides": (5, 3, 1, 2, 1, False, 0, 495, 576),
    "no_padding_strides": (5, 3, 2, 0, 1, False, 0, 294, 288),
    "padding_strides": (5, 3, 2, 1, 1, False, 0, 395, 381),
    "padding_strides_odd": (6, 3, 2, 1, 1, False, 0, 445, 411),
    "dilation": (7, 3, 1, 0, 2, False, 0, 395, 381),
    "no_padding_no_strides_transposed": (2, 3, 1, 0, 1, True, 0, 344, 386),
    "arbitrary_padding_no_strides_transposed": (6, 4, 1, 2, 1, True, 0, 445, 479),
    "same_padding_no_strides_transposed": (5, 3, 1, 1, 1, True, 0, 395, 449),
    "full_padding_no_strides_transposed": (7, 3, 1, 2, 1, True, 0, 395, 449),
    "no_padding_strides_transposed": (2, 3, 2, 0, 1, True, 0, 395, 449),
    "padding_strides_transposed": (3, 3, 2, 1, 1, True, 0, 395, 449),
    "padding_strides_odd_transposed": (3, 3, 2, 1, 1, True, 1, 445, 513),
}


@pytest.mark.parametrize("name", list(CONV_ARITHMETIC))
def test_size_close_to_conv_arithmetic(name: str) -> None:
    size, kernel, stride, padding, dilation, transposed, output_padding, *reference = (
        CONV_ARITHMETIC[name]
    )
    spec = ConvSpec(size, kernel, stride, padding, dilation, transposed, output_padding)
    width, height = Animation(spec).size
    ref_width, ref_height = reference
    assert 0.8 * ref_width <= width <= 1.2 * ref_width, (width, ref_width)
    assert 0.8 * ref_height <= height <= 1.2 * ref_height, (height, ref_height)


@pytest.mark.parametrize("view", VIEWS)
def test_scale_two_doubles_the_size(view: str) -> None:
    spec = ConvSpec(5, 3, stride=2, padding=1)
    width, height = Animation(spec, RenderOptions(view=view)).size
    width2, height2 = Animation(spec, RenderOptions(view=view, scale=2)).size
    assert abs(width2 - 2 * width) <= 2
    assert abs(height2 - 2 * height) <= 2


def test_flat_view_of_a_large_input_stays_readable() -> None:
    spec = ConvSpec(32, 3)  # output 30x30: 62 columns of cells side by side
    animation = Animation(spec, RenderOptions(view="flat"))
    width, height = animation.size
    assert width <= 1200 and height <= 800, animation.size
    for plane, (row, col) in [(animation.input_plane, (31, 31)), (animation.output_plane, (0, 0))]:
        cell_width, cell_height = cell_extent(animation, plane, row, col)
        assert cell_width >= 10 and cell_height >= 10, (cell_width, cell_height)
    frame = frame_at(spec, 31)  # output (1, 1): taps rows 1-3, cols 1-3
    image = animation.render(frame)
    assert image.shape == (height, width, 3)
    assert input_colour(animation, image, 20, 20) == SOLARIZED.input
    assert close(input_colour(animation, image, 2, 2), SOLARIZED.shaded(SOLARIZED.input))
    assert close(output_colour(animation, image, 1, 1), SOLARIZED.shaded(SOLARIZED.output))
    assert output_colour(animation, image, 29, 29) == SOLARIZED.output


def test_flat_view_of_a_non_square_input() -> None:
    spec = ConvSpec((5, 9), 3)  # output 3x7
    animation = Animation(spec, RenderOptions(view="flat"))
    cell_width, cell_height = cell_extent(animation, animation.input_plane, 0, 0)
    assert cell_width >= 10
    assert cell_width == pytest.approx(cell_height, abs=0.5)  # square cells
    transform = animation.transform.transform
    inp = transform(animation.input_plane.cell(0, 0, 5, 9))
    out = transform(animation.output_plane.cell(0, 0, 3, 7))
    inp_width, inp_height = inp.max(axis=0) - inp.min(axis=0)
    assert inp_width / inp_height == pytest.approx(9 / 5, rel=0.02)
    assert out.min(axis=0)[0] > inp.max(axis=0)[0]  # output right of the input, no overlap
    width, height = animation.size
    assert inp.min() >= 0 and out.min() >= 0
    assert max(inp.max(axis=0)[0], out.max(axis=0)[0]) <= width
    assert max(inp.max(axis=0)[1], out.max(axis=0)[1]) <= height
    image = animation.render(frame_at(spec, spec.frame_count - 1))
    assert output_colour(animation, image, 0, 0) == SOLARIZED.output
    assert input_colour(animation, image, 0, 0) == SOLARIZED.input
    assert close(input_colour(animation, image, 4, 8), SOLARIZED.shaded(SOLARIZED.input))


# -- labels -----------------------------------------------------------------------------------


@pytest.mark.parametrize("view", VIEWS)
def test_labels(view: str) -> None:
    spec = ConvSpec(3, 3, stride=2, padding=1, transposed=True, output_padding=1)
    labelled = Animation(spec, RenderOptions(view=view, labels=True))
    plain = Animation(spec, RenderOptions(view=view, labels=False))
    texts = {t.get_text(): t for t in labelled.page.artists if isinstance(t, Text)}
    assert {"input", "output"} <= set(texts)
    assert not [t for t in plain.page.artists if isinstance(t, Text)]

    frame = frame_at(spec, 0)
    with_labels, without = labelled.render(frame), plain.render(frame)
    assert with_labels.shape != without.shape or not np.array_equal(with_labels, without)

    renderer = labelled.renderer
    width, height = labelled.size
    for name in ("input", "output"):
        box = texts[name].get_window_extent(renderer)
        assert box.x0 >= 0 and box.y0 >= 0, (name, box)  # inside the frame, not clipped
        assert box.x1 <= width and box.y1 <= height, (name, box)


# -- options ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "param"),
    [
        ({"view": "side"}, "view"),
        ({"theme": "neon"}, "theme"),
        ({"scale": 0}, "scale"),
        ({"scale": 100}, "scale"),
    ],
)
def test_bad_render_options(kwargs: dict[str, Any], param: str) -> None:
    with pytest.raises(ConvSpecError) as error:
        RenderOptions(**kwargs)
    assert error.value.param == param
