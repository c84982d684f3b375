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
from typing import Any

import numpy as np
import numpy.typing as npt
from matplotlib import colors
from matplotlib.text import Text

__all__ = ["MAX_STAMPS", "TextStamps"]

MAX_STAMPS = 4096  # texts kept; past that (a new sum every frame), texts are drawn as usual

# (image, x, y, angle): one call of Agg's draw_text_image, x and y from the anchor's whole pixel.
Glyph = tuple[npt.NDArray[np.uint8], int, int, float]


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
    """Draws text artists on one Agg renderer, replaying a stamp where it has one."""

    def __init__(self, renderer: Any) -> None:
        self.renderer = renderer
        self.stamps: dict[tuple[Any, ...], list[Glyph] | None] = {}

    def draw(self, text: Text) -> None:
        """Draw ``text`` as ``text.draw(renderer)`` would."""
        string = text.get_text()
        if not text.get_visible() or string == "":
            return
        if not _plain(text, string):
            text.draw(self.renderer)
            return
        posx, posy = text.get_transform().transform(text.get_unitless_position())
        if not (math.isfinite(posx) and math.isfinite(posy)):
            text.draw(self.renderer)
            return
        whole_x, whole_y = math.floor(posx), math.floor(posy)
        key = (string, *_style(text), posx - whole_x, posy - whole_y)
        stamp = self.stamps.get(key)
        if stamp is None:
            stamp = self._record(text, whole_x, whole_y)
            if key not in self.stamps and len(self.stamps) < MAX_STAMPS:
                self.stamps[key] = stamp
            return
        gc = self.renderer.new_gc()
        gc.set_foreground(colors.to_rgba(text.get_color()), isRGBA=True)
        gc.set_alpha(text.get_alpha())
        gc.set_antialiased(text.get_antialiased())
        gc.set_snap(text.get_snap())
        artist: Any = text  # Artist._set_gc_clip: the clip Text.draw gives its gc
        artist._set_gc_clip(gc)
        agg = self.renderer._renderer
        # Display y is upwards; Agg's glyph positions count rows from the top.
        for image, x, y, angle in stamp:
            agg.draw_text_image(image, x + whole_x, y - whole_y, angle, gc)
        gc.restore()
        text.stale = False

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
        glyphs = []
        for image, x, y, angle in recorder.glyphs:
            if x != int(x) or y != int(y):  # Agg places a glyph on a whole pixel
                return None
            glyphs.append((image, int(x) - whole_x, int(y) + whole_y, angle))
        return glyphs


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
