"""The fast paths draw what a fresh, full drawing draws: pixel for pixel.

Each frame drawn by one long-lived animation (which restores only the box the last frame
drew, keeps the outputs filled so far in its background, and stamps texts it has drawn
before) must equal the same frame drawn by a new animation, whose canvas starts from the
freshly drawn static figure. Frames are visited in order, backwards and in a shuffled order,
so that the restored boxes, the refilled outputs and the stamps are all exercised.
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import pytest

from convanim.geometry import ConvSpec
from convanim.render import Animation, RenderOptions
from convanim.values import random_values, worked


def _worked(spec: ConvSpec[Any, Any], op: str = "conv") -> Any:
    x, weight = random_values(spec, 3)
    return worked(spec, x, weight if op == "conv" else None, op)


SPECS = {
    "3x3 kernel, padding 1": ConvSpec(5, 3, padding=1),
    "stride 2, dilation 2": ConvSpec(7, 3, stride=2, dilation=2, padding=1),
    "transposed": ConvSpec(3, 3, stride=2, padding=1, transposed=True, output_padding=1),
    "1-D": ConvSpec(6, 3, padding=1, dims=1),
    "reflect": ConvSpec(4, 3, padding=1, padding_mode="reflect"),
}


def _orders(count: int) -> list[list[int]]:
    shuffled = list(range(count)) * 2
    random.Random(count).shuffle(shuffled)
    return [list(range(count)), list(range(count - 1, -1, -1)), shuffled]


@pytest.mark.parametrize("view", ["oblique", "flat"])
@pytest.mark.parametrize("values", [False, True], ids=["plain", "values"])
@pytest.mark.parametrize("name", list(SPECS))
def test_frames_drawn_in_any_order_equal_fresh_drawings(name: str, values: bool, view: str) -> None:
    spec = SPECS[name]
    options = RenderOptions(view=view)
    numbers = _worked(spec) if values else None
    frames = list(spec.frames())
    fresh = [Animation(spec, options, numbers).render(frame) for frame in frames]
    animation = Animation(spec, options, numbers)
    for order in _orders(len(frames)):
        for index in order:
            box = animation.draw(frames[index])
            pixels = animation.rgba()[:, :, :3]
            assert np.array_equal(pixels, fresh[index]), (name, index)
            # Outside the box it returns, a frame is the background of an unstarted frame 0.
            top, bottom, left, right = box
            outside = np.ones(pixels.shape[:2], dtype=bool)
            outside[top:bottom, left:right] = False
            assert np.array_equal(pixels[outside], animation.background[:, :, :3][outside])
