"""APNG: a lossless full-colour animation that loops forever; the stamp is a text chunk.

The file is written here, chunk by chunk (IHDR, tEXt, acTL, then fcTL and IDAT or fdAT per
frame); Pillow's PNG encoder filters and compresses each frame's changed rectangle. Pillow's
own APNG writer is not used: it merges a frame identical to the one before into it, and holds
every frame until the end. Here every frame is present, and frames stream through: memory
holds one frame.

Pixels are RGBA, every one opaque or fully transparent. A frame's rectangle either replaces
what is under it (APNG_BLEND_OP_SOURCE) or, its unchanged pixels transparent, is laid over it
(APNG_BLEND_OP_OVER), whichever compresses smaller (see ``_smaller``); nothing is disposed. Either
way a decoder shows exactly the drawing's RGB pixels, and a reader without APNG shows the first
frame. The stamp is stored as a PNG's is, and read back the same way. No timestamps: the same
pixels give the same bytes. numpy and Pillow are imported when an APNG is written.
"""

from __future__ import annotations

import io
import os
import struct
from collections.abc import Sequence
from fractions import Fraction
from typing import TYPE_CHECKING, BinaryIO

from convanim.formats import STAMP_KEY
from convanim.formats._patches import Patch, patches
from convanim.formats.png import chunk

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from convanim.drawing import Drawing
    from convanim.formats import Writer

__all__ = ["WRITER", "ApngWriter", "delay"]

SIGNATURE = b"\x89PNG\r\n\x1a\n"
COMPRESS_LEVEL = 6  # as the PNG writer's


class ApngWriter:
    """Writes every frame asked for as a frame of a lossless animation that loops forever."""

    suffix = ".apng"
    mime_type = "image/apng"
    animates = True
    vector = False
    what = "animation, lossless full colour (animated PNG)"

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
        numerator, denominator = delay(frame_ms)
        sequence = 0  # fcTL and fdAT chunks share one sequence of numbers
        for number, patch in enumerate(patches(drawing, indices)):
            if number == 0:
                width, height = drawing.size
                # 8 bits a sample, colour type 6 (RGBA), deflate, adaptive filters, no interlace.
                header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
                stream.write(SIGNATURE + chunk(b"IHDR", header))
                if stamp is not None:
                    stream.write(chunk(b"tEXt", f"{STAMP_KEY}\x00{stamp}".encode("latin-1")))
                # Every frame, played forever (0).
                stream.write(chunk(b"acTL", struct.pack(">II", len(indices), 0)))
            height, width = patch.pixels.shape[:2]
            blend, data = _smaller(patch)
            control = struct.pack(
                ">IIIIIHHBB",
                sequence,
                width,
                height,
                patch.left,
                patch.top,
                numerator,
                denominator,
                0,  # APNG_DISPOSE_OP_NONE: the frame stays as the next one's base
                blend,
            )
            stream.write(chunk(b"fcTL", control))
            sequence += 1
            if number == 0:  # the first frame is the PNG's own image
                stream.write(chunk(b"IDAT", data))
            else:
                stream.write(chunk(b"fdAT", struct.pack(">I", sequence) + data))
                sequence += 1
        stream.write(chunk(b"IEND", b""))

    def read_stamp(self, path: str | os.PathLike[str]) -> str | None:
        """The stamp in the file's ``convanim`` text chunk, read as a PNG's."""
        from convanim.formats.png import WRITER as PNG

        return PNG.read_stamp(path)


WRITER: Writer = ApngWriter()


def delay(frame_ms: int) -> tuple[int, int]:
    """A frame's delay as APNG stores it: (numerator, denominator) seconds, 16 bits each."""
    seconds = Fraction(max(frame_ms, 0), 1000)
    if seconds.numerator > 0xFFFF:  # longer than 65.535 s and not a whole tenth: nearest tenth
        seconds = Fraction(min(round(seconds * 10), 0xFFFF), 10)
    return seconds.numerator, seconds.denominator


def _smaller(patch: Patch) -> tuple[int, bytes]:
    """(blend op, image data) of a frame: its rectangle opaque (APNG_BLEND_OP_SOURCE, 0), or
    its unchanged pixels transparent (APNG_BLEND_OP_OVER, 1), whichever compresses smaller.

    Transparent runs compress best where a frame changes a scatter of pixels over the frame
    before; an opaque rectangle where it changes most of them (the alpha then costs bytes).
    """
    import numpy as np

    opaque = np.concatenate([patch.pixels, np.full_like(patch.pixels[:, :, :1], 255)], axis=2)
    choices = [(0, _image_data(opaque))]
    if not patch.changed.all():
        clear = opaque.copy()
        clear[~patch.changed] = 0  # a transparent pixel shows the one under it: any colour
        choices.append((1, _image_data(clear)))
    return min(choices, key=lambda choice: len(choice[1]))


def _image_data(pixels: npt.NDArray[np.uint8]) -> bytes:
    """The zlib stream of RGB ``pixels`` as a PNG holds it (its IDAT chunks' data, joined)."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG", compress_level=COMPRESS_LEVEL)
    data = buffer.getvalue()
    parts, position = [], len(SIGNATURE)
    while position + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[position : position + 8])
        if kind == b"IDAT":
            parts.append(data[position + 8 : position + 8 + size])
        position += 12 + size
    return b"".join(parts)
