"""WebP: a lossless full-colour animation that loops forever; the stamp is an XMP chunk.

The file is assembled here, chunk by chunk (RIFF: VP8X, ANIM, one ANMF per frame, XMP);
Pillow's WebP encoder (libwebp) compresses each frame's changed rectangle as a lossless
VP8L bitstream. Pillow's own animation writer is not used: libwebp's animation encoder merges
a frame identical to the one before into it, and holds every frame until the end. Here every
frame is present, and memory holds one frame and the compressed ones.

The first frame is opaque and replaces the canvas; each later one is its rectangle with the
pixels that did not change transparent (runs that compress to almost nothing), alpha-blended
over the frame before; nothing is disposed. A decoder shows exactly the drawing's RGB pixels:
an opaque pixel replaces the one under it, a transparent one leaves it. No timestamps: the
same drawing gives the same bytes. numpy and Pillow are imported when a WebP is written.
"""

from __future__ import annotations

import io
import os
import struct
from collections.abc import Sequence
from typing import TYPE_CHECKING, BinaryIO

from convanim.formats import STAMP_KEY, find_stamp
from convanim.formats._patches import patches

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from convanim.drawing import Drawing
    from convanim.formats import Writer

__all__ = ["WRITER", "WebpWriter", "xmp_packet"]

# VP8X flags (WebP container specification): an animation, XMP metadata, transparent pixels.
ANIMATION, XMP, ALPHA = 0x02, 0x04, 0x10
# An ANMF frame's flags: its pixels replace those under it, or are laid over them (alpha
# blending: an opaque pixel replaces the one under it, a transparent one leaves it).
NO_BLEND, BLEND = 0x02, 0x00
# libwebp's lossless effort: quality 50, method 2 came within 1.5% of the smallest files of
# the settings tried (up to 100, 6), in half the time of 80, 4 and a tenth of 100, 6 or less.
QUALITY, METHOD = 50, 2
MAX_DURATION_MS = (1 << 24) - 1  # an ANMF frame's duration is 24 bits


class WebpWriter:
    """Writes every frame asked for as a frame of a lossless animation that loops forever."""

    suffix = ".webp"
    mime_type = "image/webp"
    animates = True
    vector = False
    what = "animation, lossless full colour"

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
        import numpy as np

        from convanim.theme import hex_rgb

        duration = min(max(frame_ms, 0), MAX_DURATION_MS)
        frames = []
        flags = ANIMATION | (XMP if stamp is not None else 0)
        for patch in patches(drawing, indices, align=2):
            height, width = patch.pixels.shape[:2]
            header = _u24(patch.left // 2, patch.top // 2, width - 1, height - 1, duration)
            if patch.changed.all():
                frame = bytes([NO_BLEND]) + _vp8l(patch.pixels)
            else:  # unchanged pixels transparent: the frame before shows through, exactly
                alpha = np.where(patch.changed, 255, 0).astype(np.uint8)[:, :, None]
                frame = bytes([BLEND]) + _vp8l(np.concatenate([patch.pixels, alpha], axis=2))
                flags |= ALPHA
            frames.append(_chunk(b"ANMF", header + frame))
        width, height = drawing.size
        red, green, blue = hex_rgb(drawing.background)
        chunks = [
            _chunk(b"VP8X", bytes([flags, 0, 0, 0]) + _u24(width - 1, height - 1)),
            # The background a player may show around the canvas (BGRA), and loop forever (0).
            _chunk(b"ANIM", bytes([blue, green, red, 255]) + struct.pack("<H", 0)),
            *frames,
        ]
        if stamp is not None:
            chunks.append(_chunk(b"XMP ", xmp_packet(f"{STAMP_KEY}:{stamp}")))
        body = b"WEBP" + b"".join(chunks)
        stream.write(b"RIFF" + struct.pack("<I", len(body)) + body)

    def read_stamp(self, path: str | os.PathLike[str]) -> str | None:
        """The stamp in the file's XMP chunk; the frames are skipped over, not read."""
        try:
            with open(path, "rb") as stream:
                head = stream.read(12)
                if len(head) < 12 or head[:4] != b"RIFF" or head[8:] != b"WEBP":
                    return None
                end = 8 + struct.unpack("<I", head[4:8])[0]
                position = 12
                while position + 8 <= end:
                    header = stream.read(8)
                    if len(header) < 8:
                        return None
                    size = struct.unpack("<I", header[4:])[0]
                    if header[:4] == b"XMP ":
                        return find_stamp(stream.read(size))
                    position += 8 + size + (size & 1)
                    stream.seek(position)
        except OSError:
            return None
        return None


WRITER: Writer = WebpWriter()


def xmp_packet(description: str) -> bytes:
    """An XMP packet whose Dublin Core description is ``description`` (as SVG files carry it)."""
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/">'
        '<dc:description><rdf:Alt><rdf:li xml:lang="x-default">'
        f"{description}"
        "</rdf:li></rdf:Alt></dc:description>"
        "</rdf:Description></rdf:RDF></x:xmpmeta>"
        '<?xpacket end="r"?>'
    ).encode()


def _u24(*values: int) -> bytes:
    """Little-endian 24-bit unsigned integers, as the WebP container stores sizes and offsets."""
    return b"".join(struct.pack("<I", value)[:3] for value in values)


def _chunk(fourcc: bytes, data: bytes) -> bytes:
    """A RIFF chunk: its name, its size, its data and a pad byte to an even size."""
    return fourcc + struct.pack("<I", len(data)) + data + b"\x00" * (len(data) & 1)


def _vp8l(pixels: npt.NDArray[np.uint8]) -> bytes:
    """The VP8L chunk (lossless bitstream) of RGB or RGBA ``pixels``, from Pillow's WebP
    encoder; the colour of a transparent pixel is the encoder's to choose (it shows nothing)."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(pixels).save(
        buffer, format="WEBP", lossless=True, quality=QUALITY, method=METHOD, exact=False
    )
    data = buffer.getvalue()
    # A still lossless WebP in the simple format: RIFF, size, WEBP, then its VP8L chunk.
    if data[12:16] != b"VP8L":  # pragma: no cover - a libwebp that writes another layout
        raise OSError(f"Pillow's WebP encoder wrote {data[12:16]!r}, not a VP8L chunk")
    size = struct.unpack("<I", data[16:20])[0]
    return data[12 : 20 + size + (size & 1)]
