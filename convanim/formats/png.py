"""PNG: one frame, or every frame asked for tiled as a strip; the stamp is a text chunk.

No timestamps: the same pixels give the same bytes. numpy and Pillow are imported when a PNG
is written, not with this module (see ``convanim.formats``).
"""

from __future__ import annotations

import os
import struct
from collections.abc import Sequence
from typing import TYPE_CHECKING, BinaryIO

from convanim.drawing import STRIP_GAP_PX, strip_size
from convanim.formats import STAMP_KEY

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from convanim.drawing import Drawing
    from convanim.formats import Writer

__all__ = ["WRITER", "PngWriter", "encode", "read_text_chunk", "strip"]

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_TEXT_CHUNK = 1 << 16  # a stamp's chunk is tiny; a larger text chunk is not ours


class PngWriter:
    """Writes one frame, or a strip of frames ``columns`` to a row."""

    suffix = ".png"
    mime_type = "image/png"
    animates = False
    vector = False
    what = "strip of all frames, or one frame with --frame"

    def write(
        self,
        stream: BinaryIO,
        drawing: Drawing,
        indices: Sequence[int],
        columns: int,
        frame_ms: int,
        stamp: str | None,
    ) -> None:
        """One index in one column: that frame; otherwise a strip. ``frame_ms`` does not apply."""
        if len(indices) == 1 and columns == 1:
            pixels = drawing.render(indices[0])
        else:
            pixels = strip(drawing, indices, columns)
        encode(stream, pixels, stamp)

    def read_stamp(self, path: str | os.PathLike[str]) -> str | None:
        """The stamp in the file's ``convanim`` text chunk; image data is skipped, not decoded."""
        return read_text_chunk(path, STAMP_KEY)


def read_text_chunk(path: str | os.PathLike[str], key: str) -> str | None:
    """The text of a PNG's (or APNG's) ``tEXt`` chunk named ``key``, walking the chunks and
    seeking past the rest; None if there is none or the file is not a readable PNG."""
    wanted = key.encode("latin-1") + b"\x00"
    try:
        with open(path, "rb") as stream:
            if stream.read(8) != PNG_SIGNATURE:
                return None
            while True:
                header = stream.read(8)
                if len(header) < 8:
                    return None
                size, kind = struct.unpack(">I4s", header)
                if kind == b"IEND":
                    return None
                if kind == b"tEXt" and size <= MAX_TEXT_CHUNK:
                    data = stream.read(size)
                    if data.startswith(wanted):
                        return data[len(wanted) :].decode("latin-1") or None
                    stream.seek(4, os.SEEK_CUR)  # the CRC
                else:
                    stream.seek(size + 4, os.SEEK_CUR)
    except OSError:
        return None


WRITER: Writer = PngWriter()


def strip(drawing: Drawing, indices: Sequence[int], columns: int) -> npt.NDArray[np.uint8]:
    """The frames tiled ``columns`` to a row, row-major, ``STRIP_GAP_PX`` apart: RGB pixels.

    Gaps and the empty slots of a last row short of frames are the background.
    """
    import numpy as np

    from convanim.theme import hex_rgb

    width, height = drawing.size
    strip_width, strip_height = strip_size(len(indices), drawing.size, columns)
    pixels = np.empty((strip_height, strip_width, 3), dtype=np.uint8)
    pixels[:] = hex_rgb(drawing.background)
    for position, index in enumerate(indices):
        row, col = divmod(position, columns)
        top, left = row * (height + STRIP_GAP_PX), col * (width + STRIP_GAP_PX)
        pixels[top : top + height, left : left + width] = drawing.render(index)
    return pixels


def encode(stream: BinaryIO, pixels: npt.NDArray[np.uint8], stamp: str | None = None) -> None:
    """Write one RGB image (height, width, 3) as a PNG to ``stream``."""
    import numpy as np
    from PIL import Image
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    if stamp is not None:
        info.add_text(STAMP_KEY, stamp)
    Image.fromarray(np.ascontiguousarray(pixels)).save(
        stream, format="PNG", compress_level=6, pnginfo=info
    )
