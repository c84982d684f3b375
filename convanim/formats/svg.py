"""SVG: one frame, or every frame asked for tiled as a strip, as vector art.

The stamp is the document's description (``dc:description``); no date, so that the same
figure gives the same bytes.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, BinaryIO

from convanim.formats import _vector

if TYPE_CHECKING:
    from convanim.drawing import Drawing
    from convanim.formats import Writer

__all__ = ["WRITER", "SvgWriter"]


class SvgWriter:
    """Writes a figure of frames ``columns`` to a row (``Drawing.vector``)."""

    suffix = ".svg"
    mime_type = "image/svg+xml"
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
        """The frames as one SVG; ``frame_ms`` does not apply."""
        metadata: dict[str, Any] = {"Date": None, "Creator": "convanim"}
        note = _vector.note(stamp)
        if note:
            metadata["Description"] = note
        _vector.save_figure(stream, drawing, indices, columns, "svg", metadata)

    def read_stamp(self, path: str | os.PathLike[str]) -> str | None:
        """The stamp in the document's description."""
        return _vector.read_stamp(path)


WRITER: Writer = SvgWriter()
