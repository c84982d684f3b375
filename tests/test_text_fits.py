"""Every text convanim draws lies inside the image: any view, dims, values, labels, scale, theme.

Each case renders its first, middle and last frame and checks every text's pixel box (as
matplotlib's Agg renderer measures it) against the canvas.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from matplotlib.text import Text
from matplotlib.transforms import Bbox

from convanim.geometry import ConvSpec
from convanim.render import VIEWS, Animation, RenderOptions
from convanim.rf_render import DependencyDiagram, FieldStrip
from convanim.values import random_values, worked

SLACK_PX = 0.5  # antialiasing may colour the half pixel a box's edge reaches into


def outside(box: Bbox, size: tuple[int, int]) -> bool:
    width, height = size
    return bool(
        box.x0 < -SLACK_PX
        or box.y0 < -SLACK_PX
        or box.x1 > width + SLACK_PX
        or box.y1 > height + SLACK_PX
    )


def some_frames(count: int) -> list[int]:
    return sorted({0, count // 2, count - 1})


def misfits(animation: Animation) -> Iterator[str]:
    frames = list(animation.spec.frames())
    for index in some_frames(len(frames)):
        animation.draw(frames[index])
        # The static texts are the same in every frame: checked with the first.
        for text, box in animation.texts(static=index == 0):
            if text.strip() and outside(box, animation.size):
                yield f"frame {index}: {text!r} at {box.bounds} in {animation.size}"


# Numbers of up to four characters, some negative and fractional: wider than the seeds' digits.
WIDE = np.array([-1.5, 1234, 0.25, -7, 99, 3.5, -12, 8])


def wide_values(spec: ConvSpec[Any, Any]) -> tuple[np.ndarray, np.ndarray]:
    x, weight = random_values(spec, 0)
    return (
        np.resize(WIDE, np.shape(x)).astype(float),
        np.resize(WIDE[::-1], np.shape(weight)).astype(float),
    )


SPECS: dict[str, ConvSpec[Any, Any]] = {
    "5 k3": ConvSpec(5, 3),
    "5 k3 s2 p1": ConvSpec(5, 3, stride=2, padding=1),
    "1 k1": ConvSpec(1, 1),
    "2x7 k2x5": ConvSpec((2, 7), (2, 5)),  # ten terms
    "6 k3x4": ConvSpec(6, (3, 4)),  # twelve terms: the longest sum written out
    "7 k5": ConvSpec(7, 5),  # the sum of 25 products
    "t 3 k3 s2 p1 op1": ConvSpec(3, 3, stride=2, padding=1, transposed=True, output_padding=1),
    "1d 7 k3": ConvSpec(7, 3, dims=1),
    "1d 9 k12 p6": ConvSpec(9, 12, padding=6, dims=1),
    "1d t 4 k3 s2": ConvSpec(4, 3, stride=2, transposed=True, dims=1),
}

# (values, labels, scale, theme) for every spec and view: labels alone, seeded digits with
# labels as the issue saw them, the widest numbers at half size (where the sum's 8-point floor
# makes it widest); at twice the size, for a few specs (above about 1.1, text scales with it).
COMBINATIONS = [
    ("none", True, 1.0, "solarized"),
    ("seed", True, 1.0, "dark"),
    ("wide", False, 0.5, "solarized"),
]
CASES = [
    pytest.param(name, view, *combination, id=f"{name}-{view}-{'-'.join(map(str, combination))}")
    for name, view, combination in itertools.product(SPECS, VIEWS, COMBINATIONS)
] + [
    pytest.param(name, view, "wide", False, 2.0, "dark", id=f"{name}-{view}-wide-False-2.0-dark")
    for name, view in itertools.product(("5 k3", "t 3 k3 s2 p1 op1", "1d 7 k3"), VIEWS)
]


@pytest.mark.parametrize(("name", "view", "values", "labels", "scale", "theme"), CASES)
def test_every_text_fits(
    name: str, view: str, values: str, labels: bool, scale: float, theme: str
) -> None:
    spec = SPECS[name]
    numbers = None
    if values != "none":
        x, weight = random_values(spec, 3) if values == "seed" else wide_values(spec)
        numbers = worked(spec, x, weight)
    options = RenderOptions(view=view, labels=labels, scale=scale, theme=theme)
    assert list(misfits(Animation(spec, options, numbers))) == []


@pytest.mark.parametrize("op", ["max", "avg"])
@pytest.mark.parametrize("view", ["oblique", "flat"])
@pytest.mark.parametrize("scale", [0.5, 1.0])
def test_pooling_sums_fit(op: str, view: str, scale: float) -> None:
    spec = ConvSpec(5, 3, stride=2, padding=1)
    x = np.resize(WIDE, (5, 5)).astype(float)
    animation = Animation(spec, RenderOptions(view=view, scale=scale), worked(spec, x, None, op))
    assert list(misfits(animation)) == []


@pytest.mark.parametrize("scale", [0.1, 10.0])
@pytest.mark.parametrize("view", ["oblique", "flat"])
def test_texts_fit_at_the_ends_of_the_scale(view: str, scale: float) -> None:
    spec = ConvSpec(3, 2)
    x, weight = wide_values(spec)
    animation = Animation(
        spec, RenderOptions(view=view, scale=scale, labels=True), worked(spec, x, weight)
    )
    assert list(misfits(animation)) == []


def test_the_issue_case_shows_the_whole_sum() -> None:
    """``conv -i 5 -k 3 --values --seed 3``: the oblique sum was cut off on both sides."""
    spec = ConvSpec(5, 3)
    x, weight = random_values(spec, 3)
    animation = Animation(spec, RenderOptions(), worked(spec, x, weight))
    frame = list(spec.frames())[4]
    animation.draw(frame)
    assert animation.values is not None
    caption = str(animation.values.shown["caption"])
    assert caption.endswith("= 8")
    assert list(misfits(animation)) == []


def rf_misfits(figure: Any) -> Iterator[str]:
    for index in some_frames(figure.frame_count):
        figure.draw(index)
        for artist in figure.page.artists:
            if isinstance(artist, Text) and artist.get_text().strip():
                box = artist.get_window_extent(figure.renderer)
                if outside(box, figure.size):
                    yield f"frame {index}: {artist.get_text()!r} at {box.bounds} in {figure.size}"


@pytest.mark.parametrize("scale", [0.5, 1.0, 2.0])
def test_receptive_field_texts_fit(scale: float) -> None:
    options = RenderOptions(scale=scale)
    same = [{"kernel_size": 3, "dilation": d, "padding": "same"} for d in (1, 2, 4)]
    causal = [{"kernel_size": 2, "dilation": d, "padding": "causal"} for d in (1, 2, 4)]
    for figure in (
        FieldStrip(same, None, options),
        FieldStrip(same[:1], 3, options, dims=1),
        DependencyDiagram(causal, 8, options),
        DependencyDiagram(causal[:1], 2, options),
    ):
        assert list(rf_misfits(figure)) == []
