"""Text stamps: a text laid out once, then drawn from the glyph images Agg blends, moved by
whole pixels.

Worked numbers draw the same few strings in the same style again and again, and matplotlib
lays out and rasterises each one every time (about 0.8 ms a label). Moving a text by whole
pixels moves every glyph by those pixels and leaves its sub-pixel offsets, and so its coverage
images, unchanged; a stamp (the glyph images and the whole pixels they land on) is therefore
keyed by the text, its style and the sub-pixel part of its position, and replayed at the
whole-pixel part, clipped as the text is now. The pixels are the same as drawing the text again
(tested against matplotlib's own drawing).

Where matplotlib's Agg renderer draws text as the release this was written against does (3.11:
glyph by glyph, each rendered by FreeType at its place on a 1/64-pixel grid), a stamp is made
without drawing through matplotlib: the text's layout (where ``Text.draw`` puts each line, and
the glyphs Agg's ``draw_text`` lays along it) is kept by text and style (``LAYOUTS``), the text
at a new position is placed from it by the same arithmetic, and each glyph image comes from
FreeType once for each sub-pixel place (``GLYPHS``): a glyph moved by whole pixels renders as
the same image, moved. A new text (the sum under a worked-numbers frame is a new string every
frame) is shaped once, its lines measured from their glyphs for matplotlib's layout (see
``_measured``); a known one at a new sub-pixel offset (an oblique weight after each value)
costs neither. Elsewhere a stamp is recorded from a real
``Text.draw``: each ``draw_text_image`` call Agg's renderer makes.

A stamp replays its glyphs in layers: each layer one image of glyphs whose images do not
overlap, so that a line of text is blended in two or three calls rather than one a glyph, and
every pixel still takes its glyphs' coverage in the order matplotlib blended them.

A text that is not plain (mathtext, TeX, path effects, a box, wrapping) or a matplotlib whose
renderer draws it some other way is drawn as usual, every time.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from typing import Any

import matplotlib
import numpy as np
import numpy.typing as npt
from matplotlib import colors
from matplotlib.backends import backend_agg
from matplotlib.text import Text

from convanim.measure import font_key

__all__ = ["GLYPHS", "MAX_GLYPHS", "MAX_STAMPS", "STORE", "TextStamps", "clear"]

MAX_STAMPS = 4096  # texts kept, the least recently used dropped first
MAX_GLYPHS = 65536  # glyph images kept; past it, all are forgotten

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
        self.flips = renderer.flipy()  # Text.draw turns y downwards for Agg (see _place)

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
        style = (string, *_style(text), self.renderer.dpi)
        key = (*style, self.canvas[1], posx - whole_x, posy - whole_y)
        dx, dy = whole_x, self.height - whole_y
        stamp = STORE.get(key)
        if stamp is None:
            layout = LAYOUTS.get(style)
            if layout is None and CACHED_GLYPHS and text.get_rotation() == 0 and self.flips:
                layout = LAYOUTS[style] = self._lay_out(text)
                if len(LAYOUTS) > MAX_STAMPS:
                    LAYOUTS.pop(next(iter(LAYOUTS)))
            if layout is None:  # matplotlib draws it
                stamp = self._record(text, dx, dy)
                if stamp is None:
                    return None
                self._keep(key, stamp)
                return self._ink(stamp, dx, dy)
            stamp = self._place(layout, text, posx, posy, dx, dy)
            self._keep(key, stamp)
        else:
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

    @staticmethod
    def _keep(key: tuple[Any, ...], stamp: list[Glyph]) -> None:
        STORE[key] = stamp
        if len(STORE) > MAX_STAMPS:
            STORE.popitem(last=False)

    def _record(self, text: Text, dx: int, dy: int) -> list[Glyph] | None:
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
        for image, x, y, angle in recorder.glyphs:
            if x != int(x) or y != int(y):  # Agg places a glyph on a whole pixel
                return None
            glyphs.append((image, int(x) - dx, int(y) - dy, angle))
        return _layers(glyphs)

    def _lay_out(self, text: Text) -> Layout:
        """How ``Text.draw`` lays an unturned plain text out on Agg: each line's position
        from the text's anchor, and the glyphs Agg's ``draw_text`` places along it.

        Each line is shaped once: matplotlib's layout measures a line with FreeType's
        ``set_text``, which shapes and loads its glyphs again; a line's size is instead worked
        out from its glyphs (``_measured``) and handed to that layout."""
        renderer = self.renderer
        artist: Any = text  # the private parts Text.draw uses
        artist._renderer = renderer  # as Text.draw keeps it, for a later window extent
        prop = text.get_fontproperties()
        size = prop.get_size_in_points()
        features, language = text.get_fontfeatures(), text.get_language()
        lines = text.get_text().split("\n")
        single = len(lines) == 1
        shaped: dict[str, list[Any]] = {}
        sizes: dict[str, tuple[float, float, float]] = {}
        for line in lines:
            if line in shaped:
                continue
            font = renderer._prepare_font(prop)
            shaped[line] = font._layout(
                line,
                flags=_load_flags(),
                features=features if single else None,
                language=language if single else None,
            )
            if features is None and language is None:  # as set_text shapes it
                measured = _measured(font, shaped[line], size, renderer.dpi)
                if measured is not None:
                    sizes[line] = measured
        info = _layout_info(artist, renderer, sizes)
        layout: Layout = []
        for line, _, (x, y) in info:
            glyphs = [
                (item.ft_object, size, item.glyph_index, 0, 1, item.x, item.y)
                for item in shaped[line]
            ]
            layout.append((x, y, glyphs))
        return layout

    def _place(
        self, layout: Layout, text: Text, posx: float, posy: float, dx: int, dy: int
    ) -> list[Glyph]:
        """The stamp of a laid out text at a position: its glyphs placed as ``Text.draw`` and
        Agg's ``draw_text`` would place them, rendered or from ``GLYPHS``."""
        renderer = self.renderer
        canvas_height = renderer.get_canvas_width_height()[1]
        antialiased = int(bool(text.get_antialiased()))  # as a gc keeps it
        load_flags = _load_flags()
        glyphs: list[Glyph] = []
        for line_x, line_y, items in layout:
            x = line_x + posx  # Text.draw's arithmetic, to the bit (Agg's y is downwards)
            y = canvas_height - (line_y + posy)
            for at_x, at_y, buffer, left, top in _placed(
                renderer, x, y, items, antialiased, load_flags
            ):
                # draw_text_image's y is downwards, and the image's bottom side.
                row = int(renderer.height) - (top + (at_y >> 6)) + buffer.shape[0]
                glyphs.append((buffer, left + (at_x >> 6) - dx, row - dy, 0.0))
        return _layers(glyphs)


# Every stamp of the process, least recently used first.
STORE: OrderedDict[tuple[Any, ...], list[Glyph]] = OrderedDict()
# How each text drawn was laid out: its lines' positions from its anchor (before the canvas
# flips y) and their glyphs, by (string, style, dpi).
Layout = list[tuple[float, float, list[Any]]]
LAYOUTS: dict[tuple[Any, ...], Layout] = {}
# Glyph images FreeType rendered: (image, left, top) from the whole pixel of the glyph's origin,
# by (font, size, dpi, glyph, slant, extend, sub-pixel x and y, antialiased, load flags).
GLYPHS: dict[tuple[Any, ...], tuple[npt.NDArray[np.uint8], int, int]] = {}
# Each glyph's box (x0, y0, x1, y1) and advance, in 26.6 pixels, as FreeType loads it for
# Agg's measuring: by (font, size, dpi, glyph, load flags).
BOXES: dict[tuple[Any, ...], tuple[int, int, int, int, int]] = {}


def clear() -> None:
    """Forget every stamp and glyph image (the next texts are drawn by matplotlib again)."""
    STORE.clear()
    LAYOUTS.clear()
    GLYPHS.clear()
    BOXES.clear()


def _layers(glyphs: list[Glyph]) -> list[Glyph]:
    """The glyphs as few images as blend the same pixels: each glyph goes in the first layer
    after every layer holding an earlier glyph whose image overlaps its own.

    Within a layer no two images overlap, so one image of them all blends each pixel as its
    own glyph would (a zero coverage leaves a pixel as it is); across layers, a pixel under
    several glyphs takes them in the order they were drawn. Turned glyph images are kept.
    """
    if any(angle for *_, angle in glyphs):
        return glyphs
    glyphs = [glyph for glyph in glyphs if glyph[0].size]  # an empty image blends nothing
    if len(glyphs) < 2:
        return glyphs
    # (top, bottom, left, right) of each image: rows y - h .. y - 1, columns x .. x + w - 1.
    boxes = [(y - image.shape[0], y, x, x + image.shape[1]) for image, x, y, _ in glyphs]
    # The earlier glyphs each one overlaps: a sweep from the left, keeping the images that
    # reach past the current one's left edge.
    earlier: list[list[int]] = [[] for _ in glyphs]
    reaching: list[int] = []
    for i in sorted(range(len(boxes)), key=lambda i: boxes[i][2]):
        top, bottom, left, _ = boxes[i]  # an earlier left edge is left of this right one
        reaching = [j for j in reaching if boxes[j][3] > left]
        for j in reaching:
            if boxes[j][0] < bottom and top < boxes[j][1]:
                earlier[max(i, j)].append(min(i, j))
        reaching.append(i)
    levels: list[int] = []
    for before in earlier:
        levels.append(max((levels[j] + 1 for j in before), default=0))
    layers: list[Glyph] = []
    for level in range(max(levels) + 1):
        members = [boxes[i] for i, other in enumerate(levels) if other == level]
        images = [glyphs[i][0] for i, other in enumerate(levels) if other == level]
        t0, b0 = min(box[0] for box in members), max(box[1] for box in members)
        l0, r0 = min(box[2] for box in members), max(box[3] for box in members)
        image = np.zeros((b0 - t0, r0 - l0), dtype=np.uint8)
        for (t, b, lt, rt), glyph in zip(members, images, strict=True):
            image[t - t0 : b - t0, lt - l0 : rt - l0] = glyph
        layers.append((image, l0, b0, 0.0))
    return layers


def _load_flags() -> Any:
    """The FreeType load flags Agg renders text with (rcParams["text.hinting"])."""
    return backend_agg.get_hinting_flag()  # type: ignore[no-untyped-call]


def _agg_glyphs_known() -> bool:
    """Whether matplotlib's Agg renderer lays out and draws text as ``TextStamps._lay_out``
    and ``_placed`` do: matplotlib 3.11's ``draw_text`` and ``_draw_text_glyphs_and_boxes``."""
    version = tuple(int(part) for part in matplotlib.__version__.split(".")[:2] if part.isdigit())
    return version == (3, 11) and hasattr(backend_agg.RendererAgg, "_draw_text_glyphs_and_boxes")


CACHED_GLYPHS = _agg_glyphs_known()


def _placed(
    renderer: Any, x: float, y: float, items: list[Any], antialiased: int, load_flags: Any
) -> Any:
    """Each glyph of ``items`` (as Agg's ``draw_text`` gives them) of a line Agg draws at
    (x, y), y downwards, unturned, as matplotlib 3.11's ``_draw_text_glyphs_and_boxes`` places
    and renders it: its place on FreeType's 1/64-pixel grid, and its image with the image's
    left and top from the whole pixel of that place.

    A glyph's image depends on its place only through the sub-pixel part; the whole part
    moves it. Images rendered before come from ``GLYPHS``.
    """
    cos = math.cos(math.radians(0.0))
    sin = math.sin(math.radians(0.0))
    dpi, height = renderer.dpi, renderer.height
    for font, size, glyph_index, slant, extend, dx, dy in items:  # dy is upwards.
        # FreeType's y is upwards; as matplotlib places it, in 1/64 pixels.
        at_x = round(0x40 * (x + dx * cos - dy * sin))
        at_y = round(0x40 * (height - y + dx * sin + dy * cos))
        place = (at_x & 63, at_y & 63)
        key = (font, size, dpi, glyph_index, slant, extend, *place, antialiased, load_flags)
        cached = GLYPHS.get(key)
        if cached is None:
            font.set_size(size, dpi)
            turn = np.array([[cos, -sin], [sin, cos]])
            matrix = 0x10000 * turn @ [[extend, extend * slant], [0, 1]]
            font._set_transform(matrix.round().astype(int), [at_x, at_y])
            from matplotlib.ft2font import RenderMode  # 3.10 on (CACHED_GLYPHS: 3.11)

            mode = RenderMode.NORMAL if antialiased else RenderMode.MONO
            bitmap = font._render_glyph(glyph_index, load_flags, mode)
            buffer = np.array(bitmap.buffer, dtype=np.uint8)
            if not antialiased:
                buffer *= 0xFF
            if len(GLYPHS) >= MAX_GLYPHS:
                GLYPHS.clear()
            cached = GLYPHS[key] = (buffer, bitmap.left - (at_x >> 6), bitmap.top - (at_y >> 6))
        buffer, left, top = cached
        yield at_x, at_y, buffer, left, top


def _layout_info(
    artist: Any, renderer: Any, sizes: dict[str, tuple[float, float, float]]
) -> list[Any]:
    """``Text._get_layout``'s lines, the lines in ``sizes`` measured as given there."""
    measure = renderer.get_text_width_height_descent

    def known(string: str, prop: Any, ismath: Any) -> tuple[float, float, float]:
        found = None if ismath else sizes.get(string)
        return measure(string, prop, ismath) if found is None else found

    renderer.get_text_width_height_descent = known  # what matplotlib's layout asks
    try:
        return list(artist._get_layout(renderer)[1])
    finally:
        del renderer.get_text_width_height_descent


def _measured(
    font: Any, items: list[Any], size: float, dpi: float
) -> tuple[float, float, float] | None:
    """A line's (width, height, descent) in pixels as Agg measures it (FreeType's
    ``set_text``, ``get_width_height``, ``get_descent``), from its shaped glyphs: the width is
    where the pen ends, the height and descent those of the glyphs' boxes at their places.
    None where a glyph is missing or from a fallback font (``set_text`` warns of those)."""
    if not items:
        return None
    flags = _load_flags()
    bottom = 1 << 40
    top = -bottom
    end = 0
    for item in items:
        if item.ft_object is not font or item.glyph_index == 0:
            return None
        key = (font, size, dpi, item.glyph_index, flags)
        box = BOXES.get(key)
        if box is None:
            glyph = font.load_glyph(item.glyph_index, flags)
            if len(BOXES) >= MAX_GLYPHS:
                BOXES.clear()
            box = BOXES[key] = (*glyph.bbox, glyph.horiAdvance)
        _, y0, _, y1, advance = box
        x, y = round(item.x * 64), round(item.y * 64)  # 26.6 pixels, as FreeType's pen
        bottom, top = min(bottom, y0 + y), max(top, y1 + y)
        end = x + advance
    return end / 64, (top - bottom) / 64, -bottom / 64


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
        *font_key(font),
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
