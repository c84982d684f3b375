"""Helpers shared by test modules."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from convanim.writers import palette_for


def gif_frames(path: Path) -> list[np.ndarray]:
    """Every frame as a viewer shows it: RGB, composited over the frames before it."""
    frames = []
    with Image.open(path) as image:
        for index in range(image.n_frames):
            image.seek(index)
            frames.append(np.asarray(image.convert("RGB")))
    return frames


def words(rgb: np.ndarray) -> np.ndarray:
    """Each pixel as one integer, for fast counting."""
    rgb = rgb.astype(np.int64)
    packed: np.ndarray = (rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2]
    return packed


def quantised(rgb: np.ndarray, colours: list[str], inks: list[str] | None = None) -> np.ndarray:
    """Pixels mapped to the nearest entry of the GIF writer's palette for ``colours``."""
    palette = palette_for(colours, inks).astype(np.int64)
    unique, inverse = np.unique(words(rgb).reshape(-1), return_inverse=True)
    split = np.stack([unique >> 16, (unique >> 8) & 255, unique & 255], axis=1)
    distance = ((split[:, None, :] - palette[None, :, :]) ** 2).sum(axis=2)
    mapped: np.ndarray = palette[distance.argmin(axis=1)][inverse.reshape(-1)]
    return mapped.reshape(rgb.shape).astype(np.uint8)
