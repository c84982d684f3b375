"""The fast paths draw what a fresh, full drawing draws: pixel for pixel.

Each frame drawn by one long-lived animation (which restores only the box the last frame
drew, keeps the outputs filled so far in its background, and stamps texts it has drawn
before) must equal the same frame drawn by a new animation, whose canvas starts from the
freshly drawn static figure. Frames are visited in order, backwards and in a shuffled order,
so that the restored boxes, the refilled outputs and the stamps are all exercised.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import tomllib
from matplotlib.text import Text
from PIL import Image

from convanim import stamps
from convanim.figures import parse_figure
from convanim.geometry import ConvSpec
from convanim.render import Animation, RenderOptions
from convanim.stamps import TextStamps
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


def _plain_text(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every text drawn by matplotlib, every time: no stamps."""
    monkeypatch.setattr(TextStamps, "draw", lambda self, text: text.draw(self.renderer))


@pytest.mark.parametrize("view", ["oblique", "flat"])
@pytest.mark.parametrize("name", ["3x3 kernel, padding 1", "stride 2, dilation 2", "1-D"])
def test_stamped_worked_numbers_equal_matplotlib_text(
    name: str, view: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Texts replayed from stamps are the pixels matplotlib draws for them: every frame of a
    worked-numbers animation, against fresh animations that draw every text through it."""
    spec, options = SPECS[name], RenderOptions(view=view)
    numbers = _worked(spec)
    frames = list(spec.frames())
    animation = Animation(spec, options, numbers)
    stamped = [animation.render(frame) for frame in frames]
    assert stamps.STORE  # stamps were made, and (below) used
    with monkeypatch.context() as patch:
        _plain_text(patch)
        for frame, pixels in zip(frames, stamped, strict=True):
            assert np.array_equal(Animation(spec, options, numbers).render(frame), pixels)


GALLERY = Path(__file__).resolve().parents[1] / "examples" / "figures.toml"
# Every kind that draws text on a Page, with its numbers where it has them.
STAMPED_FIGURES = [
    "worked_padding_strides",
    "max_pool_ceil_mode",
    "receptive_field_dilated",
    "wavenet",
    "matrix",
    "overlap_even",
    "erf",
    "channels_cs231n",
    "separable",
    "padding_reflect",
    "padding_reflect_marks",
    "conv3d",
]


@pytest.mark.parametrize("name", STAMPED_FIGURES)
def test_every_kind_draws_the_same_pixels_with_stamps(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A PNG strip of every frame of gallery figures, with stamps and with matplotlib drawing
    every text: the same pixels."""
    table = tomllib.loads(GALLERY.read_text())[name]
    figure = parse_figure(name, table, GALLERY.parent)
    stamped, plain = tmp_path / "stamped.png", tmp_path / "plain.png"
    figure.render(stamped)
    with monkeypatch.context() as patch:
        _plain_text(patch)
        figure.render(plain)
    with Image.open(stamped) as a, Image.open(plain) as b:
        assert np.array_equal(np.asarray(a.convert("RGB")), np.asarray(b.convert("RGB")))


def test_a_text_not_plain_is_drawn_by_matplotlib() -> None:
    """Mathtext is never stamped: it is drawn each time, and nothing is kept."""
    animation = Animation(ConvSpec(3, 2))
    text = animation.sheet.text(10, 10, "$x^2$", animated=True)
    animation.page.draw_artist(text)
    animation.page.draw_artist(text)
    assert all(key[0] != "$x^2$" for key in stamps.STORE)


def test_stamps_made_on_one_canvas_replay_on_another(monkeypatch: pytest.MonkeyPatch) -> None:
    """Stamps outlive their figure: a second figure of another size, drawn with the first
    one's stamps, is the pixels matplotlib draws for it."""
    stamps.clear()
    first = ConvSpec(5, 3, padding=1)
    Animation(first, RenderOptions(view="flat"), _worked(first)).render(next(first.frames()))
    recorded: list[str] = []
    record = TextStamps._record

    def counting(self: TextStamps, text: Any, *args: Any) -> Any:
        recorded.append(text.get_text())
        return record(self, text, *args)

    monkeypatch.setattr(TextStamps, "_record", counting)
    second = ConvSpec(6, 3, padding=1, stride=2)
    numbers, options = _worked(second), RenderOptions(view="flat")
    animation = Animation(second, options, numbers)
    static = [artist for artist in animation.page.artists if isinstance(artist, Text)]
    assert len(recorded) < len(static) / 4  # most of its numbers were replayed
    stamped = [animation.render(frame) for frame in second.frames()]
    with monkeypatch.context() as patch:
        _plain_text(patch)
        for frame, pixels in zip(second.frames(), stamped, strict=True):
            assert np.array_equal(Animation(second, options, numbers).render(frame), pixels)
