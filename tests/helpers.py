"""Helpers shared by test modules."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image


def gif_frames(path: Path) -> list[np.ndarray]:
    """Every frame as a viewer shows it: RGB, composited over the frames before it."""
    frames = []
    with Image.open(path) as image:
        for index in range(image.n_frames):
            image.seek(index)
            frames.append(np.asarray(image.convert("RGB")))
    return frames
