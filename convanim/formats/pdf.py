"""PDF: one frame, or every frame asked for tiled as a strip, as vector art.

The stamp is the document's subject (its Info dictionary); no creation or modification date,
so that the same figure gives the same bytes.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, BinaryIO

from convanim.formats import _vector

if TYPE_CHECKING:
    from convanim.drawing import Drawing
    from convanim.formats import Writer

__all__ = ["WRITER", "PdfWriter"]


class PdfWriter:
    """Writes a figure of frames ``columns`` to a row (``Drawing.vector``)."""

    suffix = ".pdf"
    mime_type = "application/pdf"
    animates = False
    vector = True
    what = "vector strip, or one frame"

    def write(
        self,
        stream: BinaryIO,
        drawing: Drawing,
        indices: Sequence[int],
        columns: int,
        frame_ms: int,
        stamp: str | None,
    ) -> None:
        """The frames as one page; ``frame_ms`` does not apply."""
        metadata: dict[str, Any] = {"CreationDate": None, "ModDate": None, "Creator": "convanim"}
        note = _vector.note(stamp)
        if note:
            metadata["Subject"] = note
        _vector.save_figure(stream, drawing, indices, columns, "pdf", metadata)

    def read_stamp(self, path: str | os.PathLike[str]) -> str | None:
        """The stamp in the document's subject."""
        return _vector.read_stamp(path)


WRITER: Writer = PdfWriter()
