"""Pixels of the edge cases' frames: ceil_mode's last window hanging past the padding, and the
padding modes' copied numbers and source marks.

Colours are read at cell centres as in ``tests/test_render.py``: the most common colour of a
small patch, so that a thin line or a digit's stroke crossing the centre does not count.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from convanim.geometry import Cell, ConvSpec
from convanim.render import Animation, RenderOptions
from convanim.theme import THEMES, hex_rgb
from convanim.values import worked

Rgb = tuple[int, int, int]
THEME = THEMES["solarized"]
BACKGROUND = hex_rgb(THEME.background)
INPUT = hex_rgb(THEME.input)


def shaded(under: Rgb) -> Rgb:
    a, shade = THEME.shade_alpha, hex_rgb(THEME.shade)
    r, g, b = (round(a * s + (1 - a) * u) for s, u in zip(shade, under, strict=True))
    return r, g, b


def centre(animation: Animation, row: int, col: int) -> tuple[int, int]:
    x, y = animation.transform.transform(animation.input_plane.cell(row, col)).mean(axis=0)
    return int(animation.size[1] - y), int(x)


def colour(image: np.ndarray, at: tuple[int, int], radius: int = 3) -> Rgb:
    y, x = at
    patch = image[y - radius : y + radius + 1, x - radius : x + radius + 1].reshape(-1, 3)
    colours, counts = np.unique(patch, axis=0, return_counts=True)
    r, g, b = (int(v) for v in colours[counts.argmax()])
    return r, g, b


def close(found: Rgb, expected: Rgb, tolerance: int = 3) -> bool:
    return max(abs(f - e) for f, e in zip(found, expected, strict=True)) <= tolerance


def inked(image: np.ndarray, at: tuple[int, int], radius: int) -> int:
    """Pixels of a (2 * radius + 1)^2 patch that are not the background."""
    y, x = at
    patch = image[y - radius : y + radius + 1, x - radius : x + radius + 1].reshape(-1, 3)
    return int((np.abs(patch.astype(int) - BACKGROUND).max(axis=1) > 40).sum())


# -- ceil_mode -------------------------------------------------------------------------------


def frames_of(spec: ConvSpec[Any, Any]) -> list[Any]:
    return list(spec.frames())


def test_the_ceil_mode_window_hangs_over_the_edge() -> None:
    """Outside cells are background, with no grid, until the last window covers them."""
    spec = ConvSpec(6, 3, stride=2, padding=1, ceil_mode=True)
    grid = spec.grid()
    frames = frames_of(spec)
    for view in ("oblique", "flat"):
        animation = Animation(spec, RenderOptions(view=view))
        first = animation.render(frames[0])
        last = animation.render(frames[-1])
        assert grid.cells[8, 8] == Cell.OUTSIDE and grid.cells[7, 7] == Cell.PADDING
        for row, col in [(8, 8), (8, 6), (6, 8)]:
            assert colour(first, centre(animation, row, col)) == BACKGROUND, (view, row, col)
            assert close(colour(last, centre(animation, row, col)), shaded(BACKGROUND)), view
        # No dashed grid past the padding: between two outside cells' centres, only background.
        (y0, x0), (y1, x1) = centre(animation, 8, 7), centre(animation, 8, 8)
        between = first[min(y0, y1) : max(y0, y1) + 1, min(x0, x1) : max(x0, x1) + 1]
        assert (between == BACKGROUND).all(), view
        assert close(colour(last, centre(animation, 6, 6)), shaded(INPUT))


def test_outside_cells_show_no_number_and_the_sum_skips_them() -> None:
    spec = ConvSpec(5, 2, stride=2, ceil_mode=True)
    x = np.arange(25.0).reshape(5, 5)
    numbers = worked(spec, x, op="max")
    animation = Animation(spec, RenderOptions(view="flat"), numbers)
    frames = frames_of(spec)
    image = animation.render(frames[-1])
    assert animation.values is not None
    assert animation.values.shown["caption"] == "max(24) = 24"
    first = animation.render(frames[0])
    radius = int(animation.cell_px * 0.3)
    assert inked(first, centre(animation, 5, 5), radius) == 0  # outside: no "-∞"
    assert inked(first, centre(animation, 4, 4), radius) > 0  # an input cell's number
    assert inked(image, centre(animation, 5, 5), radius) > 0  # the window's shade
    average = worked(spec, x, op="avg", divisor_override=3)
    animation = Animation(spec, RenderOptions(view="flat"), average)
    animation.render(frames[-1])
    assert animation.values is not None
    assert animation.values.shown["caption"] == "(24) / 3 = 8"
    animation.render(frames[0])
    assert animation.values.shown["caption"] == "(0 + 1 + 5 + 6) / 3 = 4"
