"""PNG: one frame, or every frame asked for tiled as a strip; the stamp is a text chunk.

No timestamps: the same pixels give the same bytes. numpy and Pillow are imported when a PNG
is written, not with this module (see ``convanim.formats``).
"""

from __future__ import annotations

import os
import struct
import zlib
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, BinaryIO

from convanim.drawing import STRIP_GAP_PX, strip_size, union_box
from convanim.formats import STAMP_KEY

if TYPE_CHECKING:
    from concurrent.futures import Future

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
    "write_strip",
]

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_TEXT_CHUNK = 1 << 16  # a stamp's chunk is tiny; a larger text chunk is not ours
COMPRESS_LEVEL = 6  # zlib's default: level 9 takes twice as long for a tenth fewer bytes
BAND_PIXELS = 1 << 20  # pixels whose colours are looked up at once
FILTER_UP = 2  # PNG's row filter: each byte less the byte above it
DEFLATE_WINDOW = 1 << 15  # how far back deflate looks: what primes the next part
MAX_DEFLATE_THREADS = 4


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
            encode(stream, drawing.render(indices[0]), stamp)
        else:
            write_strip(stream, drawing, indices, columns, stamp)

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

    return np.concatenate(list(_bands(drawing, indices, columns, None)))


def write_strip(
    stream: BinaryIO,
    drawing: Drawing,
    indices: Sequence[int],
    columns: int,
    stamp: str | None = None,
) -> None:
    """Write the strip of these frames (see ``strip``) as a PNG, a row of frames at a time.

    Each row of frames is filtered and handed to a compressing thread while the next is drawn
    (see ``_Deflate``); memory holds a few rows of frames, not the strip. A strip of at most
    256 colours is a palette image: its frames are looked up in their colours where they
    changed, one byte a pixel. One of more colours is found out at its first frame that has
    them, and the strip starts again as RGB.
    """
    width, height = strip_size(len(indices), drawing.size, columns)
    colours: _ExactColours | None = _ExactColours()
    while True:
        deflate = _Deflate(COMPRESS_LEVEL)
        try:
            above = None
            for band in _bands(drawing, indices, columns, colours):
                samples = band.reshape(band.shape[0], -1)
                deflate.add(_filtered(samples, above))
                above = samples[-1]
            data = deflate.finish()
        except _TooManyColours:
            colours = None  # an RGB image, from its first frame
            continue
        finally:
            deflate.close()
        break
    palette = None if colours is None else colours.palette()
    _write(stream, width, height, palette, data, stamp)


class _TooManyColours(Exception):
    """More than a palette holds."""


class _ExactColours:
    """The colours of a palette image as they are found, each pixel's index in them."""

    def __init__(self) -> None:
        import numpy as np

        self.lookup = np.zeros(1 << 24, dtype=np.uint16)  # index + 1; 0: not seen yet
        self.keys: list[int] = []

    def indices(self, pixels: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
        """Each RGB pixel's index; raises _TooManyColours past 256 colours."""
        import numpy as np

        keys = _keys(pixels)
        found = self.lookup.take(keys)
        if not found.all():
            new = np.unique(keys[found == 0])
            count = len(self.keys)
            if count + len(new) > 256:
                raise _TooManyColours
            self.lookup[new] = np.arange(count + 1, count + 1 + len(new))
            self.keys.extend(int(key) for key in new)
            found = self.lookup.take(keys)
        found -= 1
        return found.astype(np.uint8)

    def palette(self) -> npt.NDArray[np.uint8]:
        import numpy as np

        keys = np.array(self.keys, dtype=np.uint32)
        return np.stack([keys >> 16, (keys >> 8) & 255, keys & 255], axis=1).astype(np.uint8)


def _bands(
    drawing: Drawing, indices: Sequence[int], columns: int, colours: _ExactColours | None
) -> Iterator[npt.NDArray[np.uint8]]:
    """The strip a row of frames at a time, each with the gap under it but the last's: RGB
    (rows, width, 3), or with ``colours`` each pixel's index in them (rows, width)."""
    import numpy as np

    from convanim.theme import hex_rgb

    width, height = drawing.size
    strip_width, _ = strip_size(len(indices), drawing.size, columns)
    background = np.array([[hex_rgb(drawing.background)]], dtype=np.uint8)

    def samples(pixels: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
        return pixels.copy() if colours is None else colours.indices(pixels)

    fill = samples(background)[0, 0]
    whole: Box = (0, height, 0, width)
    shown: npt.NDArray[np.uint8] | None = None  # the frame drawn last, as the GIF keeps it
    previous: Box = whole
    for first in range(0, len(indices), columns):
        gap = STRIP_GAP_PX if first + columns < len(indices) else 0
        band = np.empty((height + gap, strip_width, *fill.shape), dtype=np.uint8)
        band[:] = fill
        for col, index in enumerate(indices[first : first + columns]):
            box = drawing.draw(index) or whole
            if shown is None:
                shown = samples(drawing.rgba()[:, :, :3])
            else:  # outside what this frame and the one before drew, they are the same
                y0, y1, x0, x1 = union_box(previous, box)
                shown[y0:y1, x0:x1] = samples(drawing.rgba()[y0:y1, x0:x1, :3])
            previous = box
            left = col * (width + STRIP_GAP_PX)
            band[:height, left : left + width] = shown
        yield band


def _filtered(
    samples: npt.NDArray[np.uint8], above: npt.NDArray[np.uint8] | None
) -> npt.NDArray[np.uint8]:
    """Rows of samples (rows, bytes) filtered Up, each row its filter byte then its bytes less
    those of the row above (``above`` for the first; zeros above an image's first row)."""
    import numpy as np

    rows = np.empty((samples.shape[0], 1 + samples.shape[1]), dtype=np.uint8)
    rows[:, 0] = FILTER_UP
    if above is None:
        rows[0, 1:] = samples[0]
    else:
        np.subtract(samples[0], above, out=rows[0, 1:])  # modulo 256
    np.subtract(samples[1:], samples[:-1], out=rows[1:, 1:])
    return rows


class _Deflate:
    """One zlib stream compressed in parts on threads, as pigz does.

    Each part is raw deflate blocks ended by a sync flush, primed with the 32 KiB before it,
    so little is lost at a seam; zlib lets other threads run while it compresses. The parts
    are what was added (a row of frames each), not one per thread: the same pixels give the
    same bytes on any machine.
    """

    def __init__(self, level: int) -> None:
        from concurrent.futures import ThreadPoolExecutor

        self.level = level
        workers = _workers()
        self.pool = ThreadPoolExecutor(workers) if workers > 1 else None
        self.parts: list[Future[bytes]] = []
        self.tail = b""
        self.adler = zlib.adler32(b"")

    def add(self, data: npt.NDArray[np.uint8]) -> None:
        """Compress ``data`` (C-contiguous) after what was added before."""
        from concurrent.futures import Future

        self.adler = zlib.adler32(data.data, self.adler)
        tail, self.tail = self.tail, data.reshape(-1)[-DEFLATE_WINDOW:].tobytes()
        if self.pool is None:
            done: Future[bytes] = Future()
            done.set_result(_deflate_part(data, tail, self.level))
            self.parts.append(done)
        else:
            self.parts.append(self.pool.submit(_deflate_part, data, tail, self.level))

    def finish(self) -> bytes:
        """The zlib stream of everything added: header, parts, a last empty block, checksum."""
        header = zlib.compress(b"", self.level)[:2]
        body = b"".join(part.result() for part in self.parts)
        last = zlib.compressobj(self.level, zlib.DEFLATED, -zlib.MAX_WBITS).flush()
        return header + body + last + struct.pack(">I", self.adler)

    def close(self) -> None:
        """Stop the threads: what has not started is dropped, what has is waited for."""
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)


def _deflate_part(data: npt.NDArray[np.uint8], before: bytes, level: int) -> bytes:
    """Raw deflate blocks of ``data``, ended by a sync flush, back-references into ``before``."""
    compressor = (
        zlib.compressobj(level, zlib.DEFLATED, -zlib.MAX_WBITS, zdict=before)
        if before
        else zlib.compressobj(level, zlib.DEFLATED, -zlib.MAX_WBITS)
    )
    return compressor.compress(data.data) + compressor.flush(zlib.Z_SYNC_FLUSH)


def _workers() -> int:
    """Threads that compress: the cores this process may run on, at most MAX_DEFLATE_THREADS."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, MAX_DEFLATE_THREADS))


def _write(
    stream: BinaryIO,
    width: int,
    height: int,
    palette: npt.NDArray[np.uint8] | None,
    data: bytes,
    stamp: str | None,
) -> None:
    """The PNG's chunks: RGB without ``palette``, palette indices with one; ``data`` is the
    compressed, filtered rows."""
    colour_type = 2 if palette is None else 3
    stream.write(PNG_SIGNATURE)
    stream.write(chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0)))
    if stamp is not None:
        stream.write(chunk(b"tEXt", f"{STAMP_KEY}\x00{stamp}".encode("latin-1")))
    if palette is not None:
        stream.write(chunk(b"PLTE", palette.tobytes()))
    stream.write(chunk(b"IDAT", data))
    stream.write(chunk(b"IEND", b""))


def encode(stream: BinaryIO, pixels: npt.NDArray[np.uint8], stamp: str | None = None) -> None:
    """Write one RGB image (height, width, 3) as a PNG to ``stream``, the same pixels exactly.

    An image of at most 256 colours (a flat figure: its theme's colours, no antialiased
    slopes) is stored as a palette image, one byte a pixel; any other as RGB. Every row is
    filtered Up (the difference from the row above): convanim's drawings are runs of flat
    colour, whose rows mostly repeat, and one fixed filter costs one subtraction where
    libpng's adaptive choice tries five filters on every row, for about the same bytes.
    """

    height, width = pixels.shape[:2]
    palette, indices = exact_palette(pixels)
    samples = pixels.reshape(height, -1) if indices is None else indices
    data = zlib.compress(_filtered(samples, None).data, COMPRESS_LEVEL)
    _write(stream, width, height, None if indices is None else palette, data, stamp)


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
