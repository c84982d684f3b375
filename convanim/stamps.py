"""Text stamps: a text drawn once through matplotlib, then replayed from the glyph images Agg
blended, moved by whole pixels.

Worked numbers draw the same few strings in the same style again and again, and matplotlib
lays out and rasterises each one every time (about 0.8 ms a label). A stamp is recorded from a
real ``Text.draw``: each ``draw_text_image`` call Agg's renderer makes (a glyph's coverage
image and the whole pixel it lands on). Moving a text by whole pixels moves every glyph by
those pixels and leaves its sub-pixel offsets, and so its coverage images, unchanged; a stamp
is therefore keyed by the text, its style and the sub-pixel part of its position, and replayed
at the whole-pixel part, clipped as the text is now. The pixels are the same as drawing the
text again (tested against matplotlib's own drawing).

A text that is not plain (mathtext, TeX, path effects, a box, wrapping) or a matplotlib whose
renderer draws it some other way is drawn as usual, every time.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from typing import Any

import numpy as np
import numpy.typing as npt
from matplotlib import colors
from matplotlib.text import Text

__all__ = ["MAX_STAMPS", "STORE", "TextStamps", "clear"]

MAX_STAMPS = 4096  # texts kept, the least recently used dropped first

# (image, x, y, angle): one call of Agg's draw_text_image, x and y from the anchor's whole pixel.
Glyph = tuple[npt.NDArray[np.uint8], int, int, float]
Box = tuple[int, int, int, int]  # as convanim.drawing's: (top, bottom, left, right)


class _Recorder:
    """Stands in for Agg's C++ renderer while a text draws: passes every call on, and keeps
    the glyph images; anything else it is asked for makes the recording unusable."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.glyphs: list[tuple[npt.NDArray[np.uint8], float, float, float]] = []
        self.usable = True

    def draw_text_image(self, image: Any, x: float, y: float, angle: float, gc: Any) -> None:
        if isinstance(image, np.ndarray):
            self.glyphs.append((image.copy(), x, y, angle))
        else:  # an older matplotlib hands over the font itself
            self.usable = False
        self.inner.draw_text_image(image, x, y, angle, gc)

    def __getattr__(self, name: str) -> Any:
        self.usable = False
        return getattr(self.inner, name)


class TextStamps:
    """Draws text artists on one Agg renderer, replaying a stamp where there is one.

    Stamps are kept for the whole process (the last ``MAX_STAMPS`` used): figures drawn one
    after another, as a build draws them, share their numbers' glyphs.
    """

    def __init__(self, renderer: Any) -> None:
        self.renderer = renderer
        # Agg counts glyph rows from the top of the canvas: a stamp's rows are kept from the
        # canvas's whole-pixel height, and the height's fraction is part of the key.
        self.height = math.floor(renderer.height)
        self.canvas = (renderer.dpi, renderer.height - self.height)

    def draw(self, text: Text) -> Box | None:
        """Draw ``text`` as ``text.draw(renderer)`` would; returns the pixel box (top, bottom,
        left, right; rows from the top) of the pixels it drew, or None where matplotlib drew
        it without a stamp (then only the text's window extent bounds them)."""
        string = text.get_text()
        if not text.get_visible() or string == "":
            return (0, 0, 0, 0)
        if not _plain(text, string):
            text.draw(self.renderer)
            return None
        posx, posy = text.get_transform().transform(text.get_unitless_position())
        if not (math.isfinite(posx) and math.isfinite(posy)):
            text.draw(self.renderer)
            return None
        whole_x, whole_y = math.floor(posx), math.floor(posy)
        key = (string, *_style(text), *self.canvas, posx - whole_x, posy - whole_y)
        dx, dy = whole_x, self.height - whole_y
        stamp = STORE.get(key)
        if stamp is None:
            stamp = self._record(text, whole_x, whole_y)
            if stamp is None:
                return None
            STORE[key] = stamp
            if len(STORE) > MAX_STAMPS:
                STORE.popitem(last=False)
            return self._ink(stamp, dx, dy)
        STORE.move_to_end(key)
        gc = self.renderer.new_gc()
        gc.set_foreground(colors.to_rgba(text.get_color()), isRGBA=True)
        gc.set_alpha(text.get_alpha())
        gc.set_antialiased(text.get_antialiased())
        gc.set_snap(text.get_snap())
        artist: Any = text  # Artist._set_gc_clip: the clip Text.draw gives its gc
        artist._set_gc_clip(gc)
        agg = self.renderer._renderer
        # Display y is upwards; Agg's glyph rows count from the top.
        for image, x, y, angle in stamp:
            agg.draw_text_image(image, x + dx, y + dy, angle, gc)
        gc.restore()
        text.stale = False
        return self._ink(stamp, dx, dy)

    def _ink(self, stamp: list[Glyph], dx: int, dy: int) -> Box:
        """The pixel box of a stamp's glyphs placed at (dx, dy), on the canvas."""
        if not stamp:
            return (0, 0, 0, 0)
        if any(angle for *_, angle in stamp):  # turned glyph images: bounded by matplotlib
            return (0, math.ceil(self.renderer.height), 0, math.ceil(self.renderer.width))
        # A glyph image of h rows and w columns at (x, y) covers rows y - h .. y - 1 and
        # columns x .. x + w - 1.
        top = min(y + dy - image.shape[0] for image, _, y, _ in stamp)
        bottom = max(y + dy for _, _, y, _ in stamp)
        left = min(x + dx for _, x, _, _ in stamp)
        right = max(x + dx + image.shape[1] for image, x, _, _ in stamp)
        height, width = math.ceil(self.renderer.height), math.ceil(self.renderer.width)
        return (
            min(max(top, 0), height),
            min(max(bottom, 0), height),
            min(max(left, 0), width),
            min(max(right, 0), width),
        )

    def _record(self, text: Text, whole_x: int, whole_y: int) -> list[Glyph] | None:
        """Draw ``text`` through matplotlib, keeping what it drew; None if it cannot replay."""
        renderer = self.renderer
        recorder = _Recorder(renderer._renderer)
        renderer._renderer = recorder
        try:
            text.draw(renderer)
        finally:
            renderer._renderer = recorder.inner
        if not recorder.usable:
            return None
        glyphs: list[Glyph] = []
        dx, dy = whole_x, self.height - whole_y
        for image, x, y, angle in recorder.glyphs:
            if x != int(x) or y != int(y):  # Agg places a glyph on a whole pixel
                return None
            glyphs.append((image, int(x) - dx, int(y) - dy, angle))
        return glyphs


# Every stamp of the process, least recently used first.
STORE: OrderedDict[tuple[Any, ...], list[Glyph]] = OrderedDict()


def clear() -> None:
    """Forget every stamp (the next texts are drawn by matplotlib again)."""
    STORE.clear()


def _plain(text: Text, string: str) -> bool:
    """Whether ``text`` draws as glyphs only: no mathtext, TeX, path effects, box or wrapping."""
    return not (
        "$" in string
        or text.get_usetex()
        or text.get_path_effects()
        or text.get_bbox_patch() is not None
        or text.get_wrap()
    )


def _style(text: Text) -> tuple[Any, ...]:
    """Everything besides the string and the position that changes how a text is drawn."""
    font = text.get_fontproperties()
    return (
        # A font's own fields, not the (mutable) FontProperties object.
        tuple(font.get_family()),
        font.get_style(),
        font.get_variant(),
        font.get_weight(),
        font.get_stretch(),
        font.get_size_in_points(),
        font.get_file(),
        colors.to_rgba(text.get_color()),
        text.get_alpha(),
        text.get_antialiased(),
        text.get_horizontalalignment(),
        text.get_verticalalignment(),
        getattr(text, "_multialignment", None),  # no getter; None: as the alignment
        text.get_rotation(),
        text.get_rotation_mode(),
        text.get_linespacing(),
        text.get_fontfeatures() if hasattr(text, "get_fontfeatures") else None,
        text.get_language() if hasattr(text, "get_language") else None,
    )
