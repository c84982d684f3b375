"""PNG: one frame, or every frame asked for tiled as a strip; the stamp is a text chunk.

No timestamps: the same pixels give the same bytes. numpy and Pillow are imported when a PNG
is written, not with this module (see ``convanim.formats``).
"""

from __future__ import annotations

import os
import struct
import zlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, BinaryIO

from convanim.drawing import STRIP_GAP_PX, strip_size, union_box
from convanim.formats import STAMP_KEY

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from convanim.drawing import Box, Drawing
    from convanim.formats import Writer

__all__ = [
    "WRITER",
    "PngWriter",
    "chunk",
    "encode",
    "exact_palette",
    "read_text_chunk",
    "strip",
]

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_TEXT_CHUNK = 1 << 16  # a stamp's chunk is tiny; a larger text chunk is not ours
COMPRESS_LEVEL = 6  # zlib's default: level 9 takes twice as long for a tenth fewer bytes
BAND_PIXELS = 1 << 20  # pixels whose colours are looked up at once
FILTER_UP = 2  # PNG's row filter: each byte less the byte above it


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
    whole: Box = (0, height, 0, width)
    shown: npt.NDArray[np.uint8] | None = None  # the frame drawn last, as the GIF keeps it
    previous: Box = whole
    for position, index in enumerate(indices):
        row, col = divmod(position, columns)
        top, left = row * (height + STRIP_GAP_PX), col * (width + STRIP_GAP_PX)
        box = drawing.draw(index) or whole
        if shown is None:
            shown = np.ascontiguousarray(drawing.rgba()[:, :, :3])
        else:  # outside what this frame and the one before drew, they are the same
            y0, y1, x0, x1 = union_box(previous, box)
            shown[y0:y1, x0:x1] = drawing.rgba()[y0:y1, x0:x1, :3]
        previous = box
        pixels[top : top + height, left : left + width] = shown
    return pixels


def encode(stream: BinaryIO, pixels: npt.NDArray[np.uint8], stamp: str | None = None) -> None:
    """Write one RGB image (height, width, 3) as a PNG to ``stream``, the same pixels exactly.

    An image of at most 256 colours (a flat figure: its theme's colours, no antialiased
    slopes) is stored as a palette image, one byte a pixel; any other as RGB. Every row is
    filtered Up (the difference from the row above): convanim's drawings are runs of flat
    colour, whose rows mostly repeat, and one fixed filter costs one subtraction where
    libpng's adaptive choice tries five filters on every row, for about the same bytes.
    """
    import numpy as np

    height, width = pixels.shape[:2]
    palette, indices = exact_palette(pixels)
    colour_type, samples = (2, pixels.reshape(height, -1)) if indices is None else (3, indices)
    rows = np.empty((height, 1 + samples.shape[1]), dtype=np.uint8)
    rows[:, 0] = FILTER_UP
    rows[:1, 1:] = samples[:1]  # above the first row is taken as zeros
    np.subtract(samples[1:], samples[:-1], out=rows[1:, 1:])  # modulo 256
    stream.write(PNG_SIGNATURE)
    stream.write(chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0)))
    if stamp is not None:
        stream.write(chunk(b"tEXt", f"{STAMP_KEY}\x00{stamp}".encode("latin-1")))
    if indices is not None:
        stream.write(chunk(b"PLTE", palette.tobytes()))
    stream.write(chunk(b"IDAT", zlib.compress(rows.data, COMPRESS_LEVEL)))
    stream.write(chunk(b"IEND", b""))


def exact_palette(
    pixels: npt.NDArray[np.uint8],
) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.uint8] | None]:
    """(palette (n, 3), each pixel's index in it) when the image has at most 256 colours,
    otherwise (an empty palette, None). Colours are found through a table of all 2**24, a
    band of rows at a time, so memory stays bounded however large a strip is."""
    import numpy as np

    height = pixels.shape[0]
    band = max(1, BAND_PIXELS // max(pixels.shape[1], 1))
    seen = np.zeros(1 << 24, dtype=bool)
    for top in range(0, height, band):
        seen[_keys(pixels[top : top + band])] = True
        if np.count_nonzero(seen) > 256:
            return np.zeros((0, 3), dtype=np.uint8), None
    keys = np.flatnonzero(seen)
    lookup = np.zeros(1 << 24, dtype=np.uint8)
    lookup[keys] = np.arange(len(keys), dtype=np.uint8)
    indices = np.empty(pixels.shape[:2], dtype=np.uint8)
    for top in range(0, height, band):
        indices[top : top + band] = lookup[_keys(pixels[top : top + band])]
    palette = np.stack([keys >> 16, (keys >> 8) & 255, keys & 255], axis=1).astype(np.uint8)
    return palette, indices


def _keys(pixels: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint32]:
    """Each pixel's colour as one number, 0xRRGGBB."""
    import numpy as np

    keys = pixels[..., 0].astype(np.uint32)
    keys <<= 8
    keys |= pixels[..., 1]
    keys <<= 8
    keys |= pixels[..., 2]
    return keys


def chunk(kind: bytes, data: bytes) -> bytes:
    """A PNG chunk: length, type, data, CRC of type and data."""
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
