"""SVG: one frame, or every frame asked for tiled as a strip, as vector art.

The stamp is the document's description (``dc:description``); no date, so that the same
figure gives the same bytes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from convanim.formats._vector import VectorWriter

if TYPE_CHECKING:
    from convanim.formats import Writer

__all__ = ["WRITER"]

WRITER: Writer = VectorWriter(
    ".svg", "image/svg+xml", {"Date": None, "Creator": "convanim"}, stamp_field="Description"
)
