"""HTML: one self-contained page that plays the frames, with controls; the stamp is a meta tag.

The page needs no network and loads nothing: the frames are ``data:`` URIs of PNGs and the
player's script and style (``player.js``, ``player.css`` beside this module) are inline. It
plays, pauses, steps, scrubs and changes speed (0.25× to 4×), with keys (space, ←, →, Home,
End), and says which frame it shows and, where the drawing can say it, what the frame shows.

The frames are small the way the GIF's are: every frame is quantised against the GIF's
palette (``gif.palette_for``: the same picture the GIF shows), one full frame of the static
parts (the *base*) is stored once, and each frame is a patch laid over it: the rectangle that
differs from the base, unchanged pixels transparent. Any frame is the base and its own patch,
so the scrubber can jump anywhere without replaying.

Text reaches the writer on the drawing (see ``convanim.drawing``): an optional ``alt`` (the
figure's description: the player's ``aria-label`` and visible caption) and an optional
``frame_caption(index)`` ("output cell (1, 2)"). A drawing without them still plays.

``player_fragment`` gives the player alone, without the page around it, for embedding (the
Sphinx directive's ``:format: html``).
"""

from __future__ import annotations

import base64
import html
import io
import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING, BinaryIO

from convanim.drawing import Box, union_box
from convanim.errors import ConvSpecError
from convanim.formats import STAMP_KEY, find_stamp

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from convanim.drawing import Drawing
    from convanim.formats import Writer

__all__ = ["WRITER", "HtmlWriter", "Patch", "Player", "player_fragment"]

HEAD_BYTES = 1 << 13  # the stamp is a meta tag in the page's head, within this much
FRAGMENT_START = "<!-- convanim player -->"
FRAGMENT_END = "<!-- /convanim player -->"
SPEEDS = (0.25, 0.5, 1.0, 2.0, 4.0)
LUMA = (0.2126, 0.7152, 0.0722)  # relative luminance of linear-ish RGB, near enough here


@dataclass(frozen=True)
class Patch:
    """A frame as laid over the base: a PNG of ``width`` x ``height`` pixels at (left, top)."""

    left: int
    top: int
    width: int
    height: int
    png: bytes


@dataclass(frozen=True)
class Player:
    """What the page holds: the base PNG, a patch per frame (None: the frame is the base)."""

    size: tuple[int, int]  # (width, height) in pixels
    base: bytes
    patches: tuple[Patch | None, ...]
    captions: tuple[str, ...] | None
    alt: str | None
    frame_ms: int
    colours: dict[str, str]  # the page's: background, ink, accent


class HtmlWriter:
    """Writes every frame asked for into a page that plays them, ``frame_ms`` each."""

    suffix = ".html"
    mime_type = "text/html"
    animates = True
    vector = False
    what = "interactive player, one self-contained page"

    def write(
        self,
        stream: BinaryIO,
        drawing: Drawing,
        indices: Sequence[int],
        columns: int,
        frame_ms: int,
        stamp: str | None,
    ) -> None:
        """Each index a frame of ``frame_ms`` ms at 1×; ``columns`` does not apply."""
        stream.write(page(encode(drawing, indices, frame_ms), stamp).encode("utf-8"))

    def read_stamp(self, path: str | os.PathLike[str]) -> str | None:
        """The stamp in the page's ``<meta name="convanim">``, in its head."""
        try:
            with open(path, "rb") as stream:
                head = stream.read(HEAD_BYTES)
        except OSError:
            return None
        end = head.find(b"</head>")
        match = re.search(rb'<meta name="convanim" content="([^"]*)">', head[: max(end, 0)])
        return None if match is None else find_stamp(match.group(1))


WRITER: Writer = HtmlWriter()


# -- frames ------------------------------------------------------------------------------------


def encode(drawing: Drawing, indices: Sequence[int], frame_ms: int) -> Player:
    """The frames ``indices`` as a base and patches (see the module's docstring).

    The base is the static part of the picture: the first frame, with the box it drew
    (``Drawing.draw``'s) taken from later frames that left those pixels alone. Each frame
    is then drawn again and compared with the base inside its own box and whatever of the
    base no frame left alone: outside both, a frame is the base.
    """
    import numpy as np

    from convanim.formats.gif import _words, palette_for, quantiser

    if not indices:
        raise ConvSpecError("frames", "no frames to write; expected at least one")
    palette = palette_for(drawing.colours(), drawing.inks())
    quantise = quantiser(palette)
    transparent = len(palette)  # the first free index: "as the base"
    base, unknown = _base(drawing, indices)
    base_indices = quantise(base)
    patches: list[Patch | None] = []
    for index in indices:
        box = drawing.draw(index)
        if unknown is not None:
            box = union_box(box, unknown)
        top, bottom, left, right = box
        region = quantise(_words(drawing.rgba()[top:bottom, left:right]))
        changed = region != base_indices[top:bottom, left:right]
        rows, cols = np.flatnonzero(changed.any(axis=1)), np.flatnonzero(changed.any(axis=0))
        if not rows.size:
            patches.append(None)
            continue
        r0, r1, c0, c1 = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
        pixels = np.where(changed[r0:r1, c0:c1], region[r0:r1, c0:c1], transparent)
        png = _png(pixels.astype(np.uint8), palette, transparent)
        patches.append(Patch(int(left + c0), int(top + r0), int(c1 - c0), int(r1 - r0), png))
    captions = _captions(drawing, indices)
    alt = getattr(drawing, "alt", None)
    return Player(
        size=drawing.size,
        base=_png(base_indices, palette),
        patches=tuple(patches),
        captions=captions,
        alt=alt if isinstance(alt, str) and alt else None,
        frame_ms=frame_ms,
        colours=_page_colours(drawing),
    )


def _base(drawing: Drawing, indices: Sequence[int]) -> tuple[npt.NDArray[np.uint32], Box | None]:
    """The static picture as colour words, and the box of what of it is still unknown (None:
    nothing; there the base holds the first frame's pixels, which patches then correct)."""
    import numpy as np

    from convanim.formats.gif import _words

    box = drawing.draw(indices[0])
    base = _words(drawing.rgba()).copy()
    top, bottom, left, right = box
    unknown = np.ones((bottom - top, right - left), dtype=bool)  # inside the first box
    for index in indices[1:]:
        if not unknown.any():
            break
        t, b, lf, r = drawing.draw(index)
        # The first box's pixels outside this frame's box are static here.
        static = np.ones_like(unknown)
        static[max(t - top, 0) : max(b - top, 0), max(lf - left, 0) : max(r - left, 0)] = False
        take = unknown & static
        if take.any():
            canvas = _words(drawing.rgba()[top:bottom, left:right])
            base[top:bottom, left:right][take] = canvas[take]
            unknown &= ~take
    if not unknown.any():
        return base, None
    rows, cols = np.flatnonzero(unknown.any(axis=1)), np.flatnonzero(unknown.any(axis=0))
    return base, (
        int(top + rows[0]),
        int(top + rows[-1] + 1),
        int(left + cols[0]),
        int(left + cols[-1] + 1),
    )


def _png(
    indices: npt.NDArray[np.uint8], palette: npt.NDArray[np.uint8], transparent: int | None = None
) -> bytes:
    """A palette PNG of these indices; ``transparent`` is an index past the palette's end."""
    import numpy as np
    from PIL import Image

    image = Image.fromarray(np.ascontiguousarray(indices), mode="P")
    entries = palette if transparent is None else np.vstack([palette, [[0, 0, 0]]])
    image.putpalette(entries.astype(np.uint8).ravel().tolist())
    buffer = io.BytesIO()
    if transparent is None:
        image.save(buffer, format="PNG", compress_level=9)
    else:
        image.save(buffer, format="PNG", compress_level=9, transparency=transparent)
    return buffer.getvalue()


def _captions(drawing: Drawing, indices: Sequence[int]) -> tuple[str, ...] | None:
    """Each frame in words, from the drawing's optional ``frame_caption``; None without it."""
    caption = getattr(drawing, "frame_caption", None)
    if not callable(caption):
        return None
    return tuple(str(caption(index)) for index in indices)


def _page_colours(drawing: Drawing) -> dict[str, str]:
    """The player's colours from the drawing's: its background, the colour that stands out
    most from it (text, lines), and the most vivid (the accent)."""
    import colorsys

    from convanim.theme import hex_rgb

    background = drawing.background
    others = [c for c in dict.fromkeys(drawing.colours()) if c.lower() != background.lower()]
    if not others:
        others = ["#000000"]

    def luminance(colour: str) -> float:
        return sum(w * v / 255 for w, v in zip(LUMA, hex_rgb(colour), strict=True))

    def vividness(colour: str) -> float:
        _, saturation, value = colorsys.rgb_to_hsv(*(v / 255 for v in hex_rgb(colour)))
        return float(saturation * value)

    ink = max(others, key=lambda c: abs(luminance(c) - luminance(background)))
    return {"background": background, "ink": ink, "accent": max(others, key=vividness)}


# -- the page ----------------------------------------------------------------------------------


def _asset(name: str) -> str:
    return resources.files("convanim.formats").joinpath(name).read_text(encoding="utf-8")


def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _json(value: object) -> str:
    """JSON that an HTML ``<script>`` element holds as it is."""
    text = json.dumps(value, ensure_ascii=True, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def player_html(player: Player, standalone: bool = False) -> str:
    """The player as one ``<figure>``: its style, frames and script inline."""
    width, height = player.size
    count = len(player.patches)
    alt = player.alt or f"An animation of {count} frames"
    data = {
        "width": width,
        "height": height,
        "frameMs": player.frame_ms,
        "frames": [
            None if p is None else [p.left, p.top, p.width, p.height, _data_uri(p.png)]
            for p in player.patches
        ],
        "captions": None if player.captions is None else list(player.captions),
    }
    c = player.colours
    style = (
        f"--convanim-bg:{c['background']};--convanim-ink:{c['ink']};"
        f"--convanim-accent:{c['accent']};max-width:{width + 26}px"  # padding and border
    )
    speeds = "".join(
        f'<option value="{s:g}"{" selected" if s == 1 else ""}>{s:g}×</option>' for s in SPEEDS
    )
    e = html.escape
    parts = [
        FRAGMENT_START,
        f'<figure class="convanim-player" tabindex="0" style="{style}"'
        f"{' data-page' if standalone else ''}>",
        f"<style>{_asset('player.css')}</style>",
        f'<div class="convanim-stage" role="img" aria-label="{e(alt)}">',
        f'<img class="convanim-base" src="{_data_uri(player.base)}" width="{width}" '
        f'height="{height}" alt="">',
        '<img class="convanim-patch" alt="" hidden>',
        "</div>",
        '<div class="convanim-controls">',
        '<button type="button" data-action="back" aria-label="Previous frame" '
        'title="Previous frame (←)">'
        '<svg viewBox="0 0 16 16" aria-hidden="true"><path d="M3 2h2v12H3zM14 2v12L6 8z"/>'
        "</svg></button>",
        '<button type="button" data-action="play" aria-label="Play" title="Play (space)">'
        '<svg class="convanim-icon-play" viewBox="0 0 16 16" aria-hidden="true">'
        '<path d="M4 2v12l10-6z"/></svg>'
        '<svg class="convanim-icon-pause" viewBox="0 0 16 16" aria-hidden="true">'
        '<path d="M3 2h4v12H3zM9 2h4v12H9z"/></svg></button>',
        '<button type="button" data-action="forward" aria-label="Next frame" '
        'title="Next frame (→)">'
        '<svg viewBox="0 0 16 16" aria-hidden="true"><path d="M11 2h2v12h-2zM2 2v12l8-6z"/>'
        "</svg></button>",
        f'<input class="convanim-scrubber" type="range" min="0" max="{count - 1}" step="1" '
        f'value="0" aria-label="Frame"{" disabled" if count == 1 else ""}>',
        f'<select class="convanim-speed" aria-label="Speed" title="Speed">{speeds}</select>',
        "</div>",
        f'<p class="convanim-status" aria-live="polite">Frame 1 of {count}</p>',
        f"<figcaption>{e(alt)}</figcaption>" if player.alt else "",
        f'<script type="application/json" class="convanim-data">{_json(data)}</script>',
        f"<script>{_asset('player.js')}</script>",
        "</figure>",
        FRAGMENT_END,
    ]
    return "\n".join(part for part in parts if part)


def page(player: Player, stamp: str | None = None) -> str:
    """The whole page: the player, standalone, and the stamp in a meta tag of its head."""
    title = html.escape(player.alt or "convanim")
    meta = f'<meta name="convanim" content="{STAMP_KEY}:{stamp}">\n' if stamp else ""
    background = player.colours["background"]
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"{meta}"
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{title}</title>\n"
        f"<style>html{{background:{background}}}body{{margin:0;padding:24px 12px}}</style>\n"
        "</head>\n<body>\n"
        f"{player_html(player, standalone=True)}\n"
        "</body>\n</html>\n"
    )


def player_fragment(document: str, alt: str | None = None) -> str:
    """The player of a page this module wrote, to embed in another page.

    The keys act while the player has the focus (on its own page, anywhere). ``alt``, if
    given, replaces the description, and the visible caption is left out: the embedding
    page captions its figures itself.
    """
    start, end = document.find(FRAGMENT_START), document.find(FRAGMENT_END)
    if start < 0 or end < start:
        raise ConvSpecError("output", "not a page convanim's HTML writer wrote")
    fragment = document[start : end + len(FRAGMENT_END)]
    fragment = fragment.replace(" data-page>", ">", 1)
    fragment = re.sub(r"\n<figcaption>.*?</figcaption>", "", fragment, count=1, flags=re.S)
    if alt is not None:
        fragment = re.sub(
            r'(<div class="convanim-stage" role="img" aria-label=")[^"]*"',
            lambda m: f'{m.group(1)}{html.escape(alt)}"',
            fragment,
            count=1,
        )
    return fragment
