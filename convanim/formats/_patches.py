"""What the full-colour animated formats (WebP, APNG) share: each frame as the part that changed.

A frame is written as the rectangle of pixels that differ from the frame before, the first
frame whole. Only the part inside the drawing's boxes (this frame's and the one before it) is
read, as the GIF writer reads it. Memory holds one frame, not the animation.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, NamedTuple

from convanim.drawing import union_box
from convanim.errors import ConvSpecError

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from convanim.drawing import Box, Drawing

__all__ = ["Patch", "patches"]


class Patch(NamedTuple):
    """A frame's rectangle: RGB ``pixels`` (height, width, 3) at (``left``, ``top``) pixels
    from the frame's top-left corner, to be laid over the frame before; ``changed`` (height,
    width) is True where a pixel differs from the frame before (the first frame: everywhere).
    """

    pixels: npt.NDArray[np.uint8]
    changed: npt.NDArray[np.bool_]
    left: int
    top: int


def patches(drawing: Drawing, indices: Sequence[int], align: int = 1) -> Iterator[Patch]:
    """Frames ``indices`` of ``drawing``, each as the rectangle that changed since the one before.

    The first patch is the whole first frame. A frame identical to the one before is its
    top-left pixel, so that every frame is present (a player shows each for its time, and a
    decoder counts them). ``left`` and ``top`` are multiples of ``align`` (WebP stores
    offsets in pairs of pixels): the rectangle grows up and left to the next multiple.
    """
    import numpy as np

    if not indices:
        raise ConvSpecError("frames", "no frames to write; expected at least one")
    shown: npt.NDArray[np.uint8] | None = None  # the frame as a player shows it so far
    previous_box: Box | None = None
    for index in indices:
        box = drawing.draw(index)
        pixels = drawing.rgba()
        if shown is None:
            shown = np.ascontiguousarray(pixels[:, :, :3])
            previous_box = box
            yield Patch(shown.copy(), np.ones(shown.shape[:2], dtype=bool), 0, 0)
            continue
        height, width = shown.shape[:2]
        whole = (0, height, 0, width)
        top, bottom, left, right = union_box(previous_box or whole, box or whole)
        region = pixels[top:bottom, left:right, :3]
        changed = (region != shown[top:bottom, left:right]).any(axis=2)
        shown[top:bottom, left:right] = region
        previous_box = box
        rows = np.flatnonzero(changed.any(axis=1))
        if not rows.size:
            yield Patch(shown[:1, :1].copy(), np.ones((1, 1), dtype=bool), 0, 0)
            continue
        cols = np.flatnonzero(changed.any(axis=0))
        r0, r1 = top + int(rows[0]), top + int(rows[-1]) + 1
        c0, c1 = left + int(cols[0]), left + int(cols[-1]) + 1
        r0, c0 = r0 - r0 % align, c0 - c0 % align
        # What changed lies inside the region; alignment may add rows and columns above it.
        mask = np.zeros((r1 - r0, c1 - c0), dtype=bool)
        y0, x0 = max(r0, top), max(c0, left)
        mask[y0 - r0 :, x0 - c0 :] = changed[y0 - top : r1 - top, x0 - left : c1 - left]
        yield Patch(shown[r0:r1, c0:c1].copy(), mask, c0, r0)
