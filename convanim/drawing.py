"""The drawing interface: what every figure kind's picture gives the writers.

A ``Drawing`` has ``frame_count`` frames, numbered from 0, all ``size`` (width, height) pixels.
The raster writers draw a frame on its canvas (``draw``) and read the canvas (``rgba``); the
vector writers ask for a figure of frames tiled as a strip (``vector``). Nothing here imports
numpy or matplotlib: the command line reads this module before it draws anything.

Pixel boxes are (top, bottom, left, right): rows from the top, exclusive ends.

Two things a drawing may also have, for formats that hold text (the HTML player), which read
them with ``getattr`` and do without: ``alt``, what the whole figure shows in one sentence (the
save sets it from the figure's alt text), and ``frame_caption(index)``, what frame ``index``
shows ("output cell (1, 2)").
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    from matplotlib.figure import Figure

    from convanim.geometry import Frame
    from convanim.render import Animation

__all__ = [
    "STRIP_GAP_PX",
    "AnimationDrawing",
    "Box",
    "Drawing",
    "display_box",
    "fill",
    "strip_size",
    "union_box",
]

STRIP_GAP_PX = 8  # between the frames of a strip, raster or vector

Box = tuple[int, int, int, int]


class Drawing(Protocol):
    """A figure's frames, drawn on one canvas."""

    @property
    def frame_count(self) -> int:
        """How many frames there are (at least one)."""
        ...

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) of a frame, in pixels."""
        ...

    @property
    def background(self) -> str:
        """The theme's background colour, '#rrggbb': a strip's gaps and empty slots."""
        ...

    @property
    def default_columns(self) -> int:
        """Frames per strip row when none is asked for."""
        ...

    def colours(self) -> list[str]:
        """Every flat colour the frames use, '#rrggbb' (a GIF palette is made from them)."""
        ...

    def inks(self) -> list[str] | None:
        """The colours drawn antialiased over the others; None: every colour over every one."""
        ...

    def draw(self, index: int) -> Box:
        """Draw frame ``index`` on the canvas; returns the box that differs from the background."""
        ...

    def rgba(self) -> npt.NDArray[np.uint8]:
        """The canvas as it stands: (height, width, 4), valid until the next ``draw``."""
        ...

    def render(self, index: int) -> npt.NDArray[np.uint8]:
        """The RGB pixels (height, width, 3) of frame ``index``, a copy."""
        ...

    def vector(self, indices: Sequence[int], columns: int) -> Figure:
        """A matplotlib figure of these frames, ``columns`` to a row, ``STRIP_GAP_PX`` apart."""
        ...


class AnimationDrawing:
    """A ``render.Animation`` as a ``Drawing``: frame i is the spec's frame i (row-major)."""

    def __init__(self, animation: Animation) -> None:
        self.animation = animation
        self.frames: list[Frame] = list(animation.spec.frames())

    @property
    def frame_count(self) -> int:
        return len(self.frames)

    @property
    def size(self) -> tuple[int, int]:
        return self.animation.size

    @property
    def background(self) -> str:
        return self.animation.theme.background

    @property
    def default_columns(self) -> int:
        """One row of frames per output row (a 1-D output is one row)."""
        columns: int = self.animation.spec.as_2d().output_size[1]
        return columns

    def colours(self) -> list[str]:
        return self.animation.colours()

    def inks(self) -> list[str] | None:
        return self.animation.inks()

    def draw(self, index: int) -> Box:
        return self.animation.draw(self.frames[index])

    def rgba(self) -> npt.NDArray[np.uint8]:
        return self.animation.rgba()

    def render(self, index: int) -> npt.NDArray[np.uint8]:
        return self.animation.render(self.frames[index])

    def vector(self, indices: Sequence[int], columns: int) -> Figure:
        return self.animation.vector([self.frames[i] for i in indices], columns)

    def frame_caption(self, index: int) -> str:
        """The output cell of frame ``index``: "output cell (row, col)"; 1-D "output cell j"."""
        cell = self.frames[index].output
        return f"output cell {cell[0]}" if len(cell) == 1 else f"output cell {tuple(cell)}"


def union_box(first: Box, second: Box) -> Box:
    """The smallest pixel box holding both, (top, bottom, left, right)."""
    return (
        min(first[0], second[0]),
        max(first[1], second[1]),
        min(first[2], second[2]),
        max(first[3], second[3]),
    )


def display_box(
    x0: float, y0: float, x1: float, y1: float, size: tuple[int, int], margin: int
) -> Box:
    """The pixel box (top, bottom, left, right) around display coordinates x0..x1, y0..y1
    (matplotlib's: origin bottom-left), widened by ``margin`` pixels and clipped to ``size``."""
    width, height = size
    return (
        max(int(height - y1) - margin, 0),
        min(math.ceil(height - y0) + margin, height),
        max(int(x0) - margin, 0),
        min(math.ceil(x1) + margin, width),
    )


def fill(pixels: npt.NDArray[np.uint8], colour: Sequence[int]) -> None:
    """Fill pixels (height, width, channels) with one colour, channel values 0-255.

    Given a row of the colour, numpy copies rows; given the colour itself, it broadcasts a
    few bytes over every pixel, some fifty times slower (8 ms for a strip's row of frames).
    """
    import numpy as np

    pixels[...] = np.tile(np.asarray(colour, dtype=np.uint8), (pixels.shape[1], 1))


def strip_size(count: int, size: tuple[int, int], columns: int) -> tuple[int, int]:
    """(width, height) in pixels of a strip of ``count`` frames of ``size``, ``columns`` a row."""
    width, height = size
    rows = -(-count // columns)
    return (
        columns * width + (columns - 1) * STRIP_GAP_PX,
        rows * height + (rows - 1) * STRIP_GAP_PX,
    )
