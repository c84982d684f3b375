"""What SVG and PDF share: saving a drawing's matplotlib figure the same way on every run."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, BinaryIO

from convanim.formats import STAMP_KEY, find_stamp

if TYPE_CHECKING:
    from convanim.drawing import Drawing

__all__ = ["VectorWriter", "note", "read_stamp", "save_figure"]


def note(stamp: str | None) -> str | None:
    """The metadata text that carries a stamp."""
    return None if stamp is None else f"{STAMP_KEY}:{stamp}"


def save_figure(
    stream: BinaryIO,
    drawing: Drawing,
    indices: Sequence[int],
    columns: int,
    file_format: str,
    metadata: dict[str, Any],
) -> None:
    """Save the frames' figure (``Drawing.vector``) as ``file_format``: fixed ids, text as paths.

    ``metadata`` is the backend's (matplotlib's ``savefig`` keys for that format); without dates
    in it, the same figure gives the same bytes.
    """
    import matplotlib

    figure = drawing.vector(indices, columns)
    with matplotlib.rc_context({"svg.hashsalt": "convanim", "svg.fonttype": "path"}):
        figure.savefig(stream, format=file_format, metadata=metadata, dpi=figure.dpi)


def read_stamp(path: str | os.PathLike[str]) -> str | None:
    """The stamp in a vector file's metadata text, or None."""
    try:
        with open(path, "rb") as stream:
            data = stream.read()
    except OSError:
        return None
    return find_stamp(data)


class VectorWriter:
    """Writes a figure of frames ``columns`` to a row (``Drawing.vector``) with matplotlib's
    SVG or PDF backend; ``metadata`` holds no dates, and the stamp goes under ``stamp_field``,
    so the same figure gives the same bytes."""

    animates = False
    vector = True
    what = "vector strip, or one frame"

    def __init__(
        self, suffix: str, mime_type: str, metadata: dict[str, Any], stamp_field: str
    ) -> None:
        self.suffix, self.mime_type = suffix, mime_type
        self._metadata, self._stamp_field = metadata, stamp_field

    def write(
        self,
        stream: BinaryIO,
        drawing: Drawing,
        indices: Sequence[int],
        columns: int,
        frame_ms: int,
        stamp: str | None,
    ) -> None:
        """The frames as one document; ``frame_ms`` does not apply."""
        metadata = dict(self._metadata)
        text = note(stamp)
        if text:
            metadata[self._stamp_field] = text
        save_figure(stream, drawing, indices, columns, self.suffix[1:], metadata)

    def read_stamp(self, path: str | os.PathLike[str]) -> str | None:
        """The stamp in the document's metadata."""
        return read_stamp(path)
