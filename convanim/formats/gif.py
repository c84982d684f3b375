"""GIF: an animation that loops forever, every frame quantised against one palette.

Each frame after the first is stored as the rectangle that changed, unchanged pixels mostly
transparent (see ``_patch``). Frames stream through: memory holds one frame, not the
animation. The stamp is a comment extension before the first frame.

numpy and Pillow are imported when a GIF is written, not with this module (see
``convanim.formats``).
"""

from __future__ import annotations

import itertools
import os
import struct
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, BinaryIO, NamedTuple

from convanim.drawing import Box, union_box
from convanim.errors import ConvSpecError
from convanim.formats import STAMP_KEY, find_stamp

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    from PIL import Image

    from convanim.drawing import Drawing
    from convanim.formats import Writer

__all__ = ["WRITER", "Drawn", "GifWriter", "encode", "palette_for", "quantiser"]

BLEND_LEVELS = 2  # antialiased edges: blends between an ink and a colour (see palette_for)
MAX_COLOURS = 255  # one index stays free for "unchanged since the last frame"
HEAD_BYTES = 1 << 16  # a stamp sits before the first frame: within this much of the start


class Drawn(NamedTuple):
    """A frame for the encoder: its pixels and where they may differ from the background.

    ``pixels`` is (height, width, 3) RGB or (height, width, 4) RGBA; ``box`` is (top, bottom,
    left, right) in pixels, exclusive ends, or None for the whole frame.
    """

    pixels: npt.NDArray[np.uint8]
    box: Box | None = None


class GifWriter:
    """Writes every frame asked for as a frame of an animation that loops forever."""

    suffix = ".gif"
    mime_type = "image/gif"
    animates = True
    vector = False
    what = "animation"

    def write(
        self,
        stream: BinaryIO,
        drawing: Drawing,
        indices: Sequence[int],
        columns: int,
        frame_ms: int,
        stamp: str | None,
    ) -> None:
        """Each index a frame of ``frame_ms`` ms; ``columns`` does not apply."""
        encode(stream, _drawn(drawing, indices), drawing.colours(), frame_ms, stamp, drawing.inks())

    def read_stamp(self, path: str | os.PathLike[str]) -> str | None:
        """The stamp in the file's comment, if one precedes the first frame."""
        try:
            with open(path, "rb") as stream:
                head = stream.read(HEAD_BYTES)
        except OSError:
            return None
        comment = _first_comment(head)
        return None if comment is None else find_stamp(comment)


WRITER: Writer = GifWriter()


def _drawn(drawing: Drawing, indices: Sequence[int]) -> Iterator[Drawn]:
    """Each frame drawn on the drawing's canvas, as the encoder reads it."""
    for index in indices:
        box = drawing.draw(index)
        yield Drawn(drawing.rgba(), box)


def _first_comment(data: bytes) -> bytes | None:
    """The text of the first comment extension before the first image, or None."""
    if data[:6] not in (b"GIF87a", b"GIF89a") or len(data) < 13:
        return None
    packed = data[10]
    position = 13 + (3 << ((packed & 7) + 1) if packed & 0x80 else 0)
    while position + 1 < len(data) and data[position] == 0x21:  # an extension
        label = data[position + 1]
        position += 2
        blocks = []
        while position < len(data) and data[position]:
            size = data[position]
            blocks.append(data[position + 1 : position + 1 + size])
            position += size + 1
        position += 1
        if label == 0xFE:
            return b"".join(blocks)
    return None


def palette_for(colours: Sequence[str], inks: Sequence[str] | None = None) -> npt.NDArray[np.uint8]:
    """A GIF palette (n, 3) for a figure drawn in these colours, with its antialiased blends.

    ``inks`` are the colours drawn antialiased (lines, text): their edges blend only into
    the colours under them, so the palette blends each ink with each colour. Without
    ``inks``, every pair of colours blends. A smaller palette makes smaller GIFs: shorter
    codes, and fewer edge colours for the LZW dictionary to learn.
    """
    import numpy as np

    from convanim.theme import hex_rgb

    base = np.array(sorted({hex_rgb(c) for c in colours}), dtype=float)
    if inks is None:
        pairs = list(itertools.combinations(base, 2))
    else:
        strokes = np.array(sorted({hex_rgb(c) for c in inks}), dtype=float)
        pairs = [(ink, paper) for ink in strokes for paper in base if (ink != paper).any()]
    entries = [base]
    weights = np.arange(1, BLEND_LEVELS + 1) / (BLEND_LEVELS + 1)
    for ink, paper in pairs:
        entries.append(paper + np.outer(weights, ink - paper))
    palette: npt.NDArray[np.uint8] = np.unique(np.rint(np.vstack(entries)).astype(np.uint8), axis=0)
    if len(palette) > MAX_COLOURS:
        # Too many colours for blends of every pair: keep the colours and as many blends as fit.
        palette = np.unique(
            np.vstack([base.astype(np.uint8), palette[: MAX_COLOURS - len(base)]]), axis=0
        )
    return palette


def _words(pixels: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint32]:
    """RGB or RGBA pixels as one word each, R | G << 8 | B << 16."""
    import numpy as np

    if pixels.shape[-1] == 4:  # RGBA bytes read as one little-endian word, alpha dropped
        words: npt.NDArray[np.uint32] = pixels.view("<u4")[..., 0] & np.uint32(0xFFFFFF)
        return words
    red, green, blue = (pixels[..., i].astype(np.uint32) for i in range(3))
    packed: npt.NDArray[np.uint32] = red | (green << np.uint32(8)) | (blue << np.uint32(16))
    return packed


class _Quantiser:
    """Maps colour words to palette indices, remembering every colour it has seen."""

    def __init__(self, palette: npt.NDArray[np.uint8]) -> None:
        import numpy as np

        self.palette = palette.astype(np.int32)
        # Index + 1 (at most MAX_COLOURS, a byte); 0: not seen yet. Untouched pages of the
        # 16 MB table are never written: only the colours a figure uses cost memory.
        self.table = np.zeros(1 << 24, dtype=np.uint8)
        # A palette colour is its own nearest (the palette has no duplicates): most of a
        # first frame is found without measuring a distance.
        self.table[_words(palette)] = np.arange(1, len(palette) + 1)

    def __call__(self, words: npt.NDArray[np.uint32]) -> npt.NDArray[np.uint8]:
        """Palette indices of ``words``, in their shape."""
        import numpy as np

        found = self.table.take(words)
        if not found.all():
            new = np.unique(words[found == 0]).astype(np.int32)
            colours = np.stack([new & 255, (new >> 8) & 255, (new >> 16) & 255], axis=1)
            distance = ((colours[:, None, :] - self.palette[None, :, :]) ** 2).sum(axis=2)
            self.table[new] = distance.argmin(axis=1) + 1
            found = self.table.take(words)
        found -= 1
        return found


# A documentation build draws figure after figure in one theme: one palette, whose colours
# are found once. Each table holds only the pages of the colours its figures used.
_QUANTISERS: dict[bytes, _Quantiser] = {}
KEPT_QUANTISERS = 4


def quantiser(palette: npt.NDArray[np.uint8]) -> _Quantiser:
    """The quantiser of ``palette``, shared by every animation drawn in it."""
    key = palette.tobytes()
    found = _QUANTISERS.pop(key, None) or _Quantiser(palette)
    _QUANTISERS[key] = found  # the most recently used last
    while len(_QUANTISERS) > KEPT_QUANTISERS:
        del _QUANTISERS[next(iter(_QUANTISERS))]
    return found


def _lzw(image: Image.Image, bits: int) -> tuple[int, bytes]:
    """GIF image data: (minimum code size, LZW codes in sub-blocks) from Pillow's encoder.

    Codes start at ``bits + 1`` bits wide: a small palette makes smaller files. Pillow's public
    GIF writer always starts at 8 bits; where its encoder cannot be called with fewer, so do we.
    """
    from PIL import GifImagePlugin, Image

    try:
        encoder = Image._getencoder("P", "gif", ("P", bits, 0))
    except (AttributeError, TypeError, ValueError, OSError):  # pragma: no cover - old Pillow
        data = b"".join(GifImagePlugin.getdata(image)[1:])
        return data[0], data[1:-1]
    encoder.setimage(image.im, (0, 0, *image.size))
    chunks = []
    while True:
        _, status, chunk = encoder.encode(1 << 16)
        chunks.append(chunk)
        if status:
            break
    if status < 0:  # pragma: no cover - an encoder failure
        raise OSError(f"GIF encoder error {status}")
    return bits, b"".join(chunks)


def _frame_bytes(
    indices: npt.NDArray[np.uint8],
    left: int,
    top: int,
    bits: int,
    frame_ms: int,
    transparent: int | None = None,
) -> bytes:
    """One GIF frame: graphic control extension, image descriptor, LZW data."""
    import numpy as np
    from PIL import Image

    height, width = indices.shape
    image = Image.frombytes("P", (width, height), np.ascontiguousarray(indices).tobytes())
    # Disposal 1 (leave the frame in place); bit 0: a transparent index is given.
    flags = (1 << 2) | (transparent is not None)
    control = b"!\xf9\x04" + struct.pack("<BHBB", flags, frame_ms // 10, transparent or 0, 0)
    descriptor = b"," + struct.pack("<HHHHB", left, top, width, height, 0)
    code_size, data = _lzw(image, bits)
    return control + descriptor + bytes([code_size]) + data + b"\x00"


def _patch(
    indices: npt.NDArray[np.uint8], changed: npt.NDArray[np.bool_], transparent: int
) -> npt.NDArray[np.uint8]:
    """A frame's rectangle as written: its changed pixels, and unchanged ones transparent or,
    where that makes fewer changes of colour along the rows, their own colour.

    Both decode to the same picture. A run of unchanged pixels of one colour (row after row,
    as LZW reads them) between two changed pixels keeps its colour when one of them has it:
    an erased link line and the background around it become one run. Every other unchanged
    pixel is transparent: long transparent runs are what the LZW dictionary learns best.
    """
    import numpy as np

    flat = indices.ravel()
    # One key per pixel, equal along a run: its index, plus 256 where it changed.
    key = flat + (changed.ravel().view(np.uint8).astype(np.uint16) << 8)
    starts = np.flatnonzero(key[1:] != key[:-1]) + 1
    run = key[np.concatenate(([0], starts))]
    lengths = np.diff(np.concatenate(([0], starts, [flat.size])))
    # Each run's neighbours; the rectangle's ends (512) bound a run but match no colour.
    before = np.concatenate(([512], run[:-1]))
    after = np.concatenate((run[1:], [512]))
    unchanged = run < 256
    joins = (before == run + 256) | (after == run + 256)  # a changed pixel of its colour
    keep = unchanged & (before >= 256) & (after >= 256) & joins
    written = np.where(unchanged & ~keep, transparent, run & 255).astype(np.uint8)
    return np.repeat(written, lengths).reshape(indices.shape)


def _comment(text: bytes) -> bytes:
    """A GIF comment extension holding ``text``."""
    blocks = [text[i : i + 255] for i in range(0, len(text), 255)]
    return b"!\xfe" + b"".join(bytes([len(b)]) + b for b in blocks) + b"\x00"


def encode(
    stream: BinaryIO,
    frames: Iterable[Drawn],
    colours: Sequence[str],
    frame_ms: int = 1000,
    stamp: str | None = None,
    inks: Sequence[str] | None = None,
) -> int:
    """Write an animated GIF that loops forever to ``stream``; returns the frames written.

    ``colours`` and ``inks`` make the palette (see ``palette_for``).

    Only the part of each frame inside its box (and the box before it) is read: the encoder
    keeps the frame shown so far as palette indices and stores each new frame as the rectangle
    that changed, unchanged pixels in it mostly transparent (see ``_patch``).
    """
    import numpy as np

    palette = palette_for(colours, inks)
    quantise = quantiser(palette)
    transparent = len(palette)  # the first free index: "unchanged since the last frame"
    bits = max(2, int(transparent).bit_length())
    table = np.zeros((1 << bits, 3), dtype=np.uint8)
    table[: len(palette)] = palette
    shown: npt.NDArray[np.uint8] | None = None  # the palette indices on screen so far
    previous_box: Box | None = None
    count = 0
    for pixels, box in frames:
        if shown is None:
            shown = quantise(_words(pixels))
            height, width = shown.shape
            # Logical screen: a global colour table of 2 ** bits entries.
            flags = 0x80 | ((bits - 1) << 4) | (bits - 1)
            stream.write(b"GIF89a" + struct.pack("<HHBBB", width, height, flags, 0, 0))
            stream.write(table.tobytes())
            if stamp is not None:
                stream.write(_comment(f"{STAMP_KEY}:{stamp}".encode()))
            # NETSCAPE2.0 application extension: loop forever.
            stream.write(b"!\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00")
            stream.write(_frame_bytes(shown, 0, 0, bits, frame_ms))
        else:
            height, width = shown.shape
            whole = (0, height, 0, width)
            top, bottom, left, right = union_box(previous_box or whole, box or whole)
            # A colour maps to one index for the whole animation: comparing indices finds
            # every pixel whose palette colour changed, and no other.
            fresh = quantise(_words(pixels[top:bottom, left:right]))
            indices = shown[top:bottom, left:right]
            changed = fresh != indices
            indices[...] = fresh
            rows = np.flatnonzero(changed.any(axis=1))
            cols = np.flatnonzero(changed.any(axis=0))
            if rows.size:
                r0, r1, c0, c1 = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
            else:  # nothing moved: one transparent pixel keeps the frame and its time
                r0, r1, c0, c1 = 0, 1, 0, 1
            patch = _patch(indices[r0:r1, c0:c1], changed[r0:r1, c0:c1], transparent)
            origin = int(left + c0), int(top + r0)
            stream.write(_frame_bytes(patch, *origin, bits, frame_ms, transparent))
        previous_box = box
        count += 1
    if shown is None:
        raise ConvSpecError("frames", "no frames to write; expected at least one")
    stream.write(b";")
    return count
