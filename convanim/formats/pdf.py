"""PDF: one frame, or every frame asked for tiled as a strip, as one vector page.

The stamp is the document's subject; no creation or modification date, so that the same
figure gives the same bytes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from convanim.formats._vector import VectorWriter

if TYPE_CHECKING:
    from convanim.formats import Writer

__all__ = ["WRITER"]

WRITER: Writer = VectorWriter(
    ".pdf",
    "application/pdf",
    {"CreationDate": None, "ModDate": None, "Creator": "convanim"},
    stamp_field="Subject",
)
