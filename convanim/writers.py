"""The names other modules imported from here before ``convanim.formats`` held the writers.

Kept so that ``from convanim.writers import ...`` goes on working; new code imports from
``convanim.formats`` (writers, stamps, atomic files), ``convanim.formats.gif`` (the palette)
and ``convanim.drawing`` (pixel boxes). Light: no numpy, Pillow or matplotlib on import.
"""

from __future__ import annotations

from convanim.drawing import Box, union_box
from convanim.formats import WRITERS, atomic_output, read_stamp
from convanim.formats.gif import palette_for

__all__ = ["WRITERS", "Box", "atomic_output", "palette_for", "read_stamp", "union_box"]
