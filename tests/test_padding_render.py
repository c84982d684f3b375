"""Pixel tests of a padding mode's drawing: every padding cell shows where its value comes from.

With values, a padding cell holds the number it copies, in the copies' look (the faded,
slanted text of ``render.copy_colour``); without, it holds the letter of the input cell it
copies, which that input cell holds too (``render.copy_marks``). Checked on real frames: the
text drawn at each cell's centre, and the ink there in an animation's frame, a GIF frame, a PNG
strip and a single PNG frame; in 1-D, 2-D and 3-D (whose slices of padding say which input
slice they copy).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from convanim.animate import Output, save
from convanim.geometry import Cell, ConvSpec
from convanim.options import RenderOptions
from convanim.render import Animation, copy_colour, copy_marks, mark_name
from convanim.theme import THEMES, hex_rgb
from convanim.values import format_value, worked
from convanim.volume_render import VolumeAnimation
from tests.helpers import gif_frames

THEME = THEMES["solarized"]
COPY = np.array(hex_rgb(copy_colour(THEME)))
TEXT = np.array(hex_rgb(THEME.text))
Pixel = tuple[int, int]


def centre_pixel(drawing: Any, corners: np.ndarray) -> Pixel:
    """(pixel row, pixel col) of the centre of a cell's figure corners."""
    x, y = drawing.transform.transform(corners).mean(axis=0)
    return int(drawing.size[1] - y), int(x)


def ink(rgb: np.ndarray, at: Pixel, radius: int = 4) -> str:
    """What is written around ``at``: "copy" (the copies' grey), "text", or "none" (the cell's
    fill only). The pixel farthest from the fill decides: an antialiased letter's pixels lie
    between the fill and its colour, so the ink is the colour whose blend with the fill comes
    closest to it."""
    y, x = at
    patch = rgb[y - radius : y + radius + 1, x - radius : x + radius + 1].reshape(-1, 3)
    patch = patch.astype(float)
    colours, counts = np.unique(patch, axis=0, return_counts=True)
    fill = colours[counts.argmax()]
    far = np.abs(patch - fill).max(axis=1)
    if far.max() <= 8:
        return "none"
    pixel = patch[far.argmax()]

    def misfit(colour: np.ndarray) -> float:
        towards = colour - fill
        t = float(np.clip((pixel - fill) @ towards / max(towards @ towards, 1e-9), 0, 1))
        return float(np.abs(fill + t * towards - pixel).max())

    return "copy" if misfit(COPY) < misfit(TEXT) else "text"


def text_at(drawing: Any, at: Pixel) -> str | None:
    """The static text whose box holds pixel ``at``."""
    height = drawing.size[1]
    for text, box in drawing.texts():
        if text and box.x0 <= at[1] <= box.x1 and box.y0 <= height - at[0] <= box.y1:
            return str(text)
    return None


def unshaded(spec: ConvSpec[Any, Any], frame: Any) -> set[tuple[int, int]]:
    """The drawn cells outside ``frame``'s window (the window's shade changes their ink)."""
    (top, left), (bottom, right) = frame.as_2d().window
    rows, cols = spec.as_2d().drawn_size
    return {
        (r, c)
        for r in range(rows)
        for c in range(cols)
        if not (top <= r < bottom and left <= c < right)
    }


SPECS = {
    "reflect": ConvSpec(4, 3, padding=1, padding_mode="reflect"),
    "replicate": ConvSpec((4, 5), 3, padding=(2, 1), padding_mode="replicate"),
    "circular": ConvSpec(4, (2, 3), padding="same", padding_mode="circular"),
    "1-D reflect": ConvSpec(5, 3, padding=2, dims=1, padding_mode="reflect"),
}


def test_marks_are_letters() -> None:
    assert [mark_name(i) for i in (0, 1, 25, 26, 27, 51, 52)] == [
        "a",
        "b",
        "z",
        "aa",
        "ab",
        "az",
        "ba",
    ]


@pytest.mark.parametrize("view", ["oblique", "flat"])
@pytest.mark.parametrize("name", list(SPECS))
def test_with_values_a_padding_cell_holds_its_copy(name: str, view: str) -> None:
    spec = SPECS[name]
    x = np.arange(int(np.prod(spec.input_size))).reshape(spec.input_size) % 9 + 1
    weight = np.ones(spec.kernel_size)
    animation = Animation(spec, RenderOptions(view=view), worked(spec, x, weight))
    frame = next(spec.frames())
    rgb = animation.render(frame)
    grid = animation.grid
    copies = grid.padding_sources()
    assert copies, "the mode copies something"
    plane_x = x.reshape(spec.as_2d().input_size)
    free = unshaded(spec, frame)
    for (row, col), source in copies.items():
        at = centre_pixel(animation, animation.input_plane.cell(row, col))
        assert text_at(animation, at) == format_value(float(plane_x[source]), 5), (row, col)
        if (row, col) in free:
            assert ink(rgb, at) == "copy", (row, col)
    for row, col in zip(*np.nonzero(grid.cells == Cell.INPUT), strict=True):
        if (row, col) in free:
            at = centre_pixel(animation, animation.input_plane.cell(row, col))
            assert ink(rgb, at) == "text"
    # The sum of the first output reads the copies.
    assert animation.values is not None
    taps = [plane_x[grid.source_at(r, c)] for r, c in frame.as_2d().taps]  # type: ignore[index]
    caption = animation.values.sum(frame.as_2d())
    assert caption.startswith("×".join([format_value(float(taps[0]), 6), "1"]))
    assert caption.endswith(f"= {format_value(float(sum(taps)), 6)}")


@pytest.mark.parametrize("view", ["oblique", "flat"])
@pytest.mark.parametrize("name", list(SPECS))
def test_without_values_each_padding_cell_has_its_sources_letter(name: str, view: str) -> None:
    spec = SPECS[name]
    animation = Animation(spec, RenderOptions(view=view))
    frame = next(spec.frames())
    rgb = animation.render(frame)
    inputs, marks = copy_marks(animation.grid)
    copies = animation.grid.padding_sources()
    assert set(marks) == set(copies)
    drawn_of = {
        animation.grid.input_at(r, c): (r, c)
        for r, c in zip(*np.nonzero(animation.grid.cells == Cell.INPUT), strict=True)
    }
    free = unshaded(spec, frame)
    for cell, source in copies.items():
        at = centre_pixel(animation, animation.input_plane.cell(*cell))
        letter = text_at(animation, at)
        assert letter == marks[cell]
        source_at = centre_pixel(animation, animation.input_plane.cell(*drawn_of[source]))
        assert text_at(animation, source_at) == letter  # the same letter on its source
        if cell in free:
            assert ink(rgb, at) == "copy"
        if drawn_of[source] in free:
            assert ink(rgb, source_at) == "text"
    assert len(set(inputs.values())) == len(inputs)  # one letter per copied input cell


def test_zero_padding_has_no_marks() -> None:
    spec = ConvSpec(4, 3, padding=1)
    animation = Animation(spec, RenderOptions())
    rgb = animation.render(next(spec.frames()))
    assert [text for text, _ in animation.texts()] == []
    at = centre_pixel(animation, animation.input_plane.cell(5, 5))
    assert ink(rgb, at) == "none"


def padding_pixels(spec: ConvSpec[Any, Any], view: str) -> tuple[Any, list[Pixel]]:
    """The animation and the centres of the padding cells frame 0 does not shade."""
    animation = Animation(spec, RenderOptions(view=view))
    free = unshaded(spec, next(spec.frames()))
    cells = [cell for cell in animation.grid.padding_sources() if cell in free]
    return animation, [centre_pixel(animation, animation.input_plane.cell(*c)) for c in cells]


@pytest.mark.parametrize("view", ["oblique", "flat"])
def test_marks_in_a_gif_a_strip_and_a_frame(tmp_path: Path, view: str) -> None:
    spec = ConvSpec(4, 3, padding=1, padding_mode="circular")
    options = RenderOptions(view=view)
    animation, pixels = padding_pixels(spec, view)
    assert len(pixels) >= 10
    save(spec, Output(tmp_path / "a.gif"), options)
    first = gif_frames(tmp_path / "a.gif")[0]
    save(spec, Output(tmp_path / "one.png", frame=0), options)
    with Image.open(tmp_path / "one.png") as image:
        single = np.asarray(image.convert("RGB"))
    save(spec, Output(tmp_path / "strip.png", columns=4), options)
    with Image.open(tmp_path / "strip.png") as image:
        strip = np.asarray(image.convert("RGB"))
    width, height = animation.size
    tile = strip[:height, :width]  # frame 0, top-left
    for rgb in (first, single, tile):
        assert rgb.shape[:2] == (height, width)
        for at in pixels:
            assert ink(rgb, at) == "copy", at
    plain = Animation(ConvSpec(4, 3, padding=1), options).render(next(spec.frames()))
    assert all(ink(plain, at) == "none" for at in pixels)


# -- 3-D: slices that copy slices ------------------------------------------------------------


def test_3d_slices_of_padding_say_which_slice_they_copy() -> None:
    spec = ConvSpec((3, 4, 4), 3, padding=1, padding_mode="reflect")
    for view in ("oblique", "flat"):
        animation = VolumeAnimation(spec, RenderOptions(view=view))
        captions = [piece.caption for piece in animation.slices]
        assert captions == ["copy of depth 1", "depth 0", "depth 1", "depth 2", "copy of depth 1"]
        animation.render(0)
        drawn = [text for text, _ in animation.texts()]
        assert "copy of depth 1" in drawn
        width = animation.size[0]
        for text, box in animation.texts():  # every caption inside the figure
            assert box.x0 >= 0 and box.x1 <= width, text
    replicate = ConvSpec((2, 3, 3), (3, 1, 1), padding=(2, 0, 0), padding_mode="replicate")
    animation = VolumeAnimation(replicate, RenderOptions())
    assert [piece.caption for piece in animation.slices] == [
        "copy of depth 0",
        "copy of depth 0",
        "depth 0",
        "depth 1",
        "copy of depth 1",
        "copy of depth 1",
    ]
    zeros = VolumeAnimation(ConvSpec((2, 3, 3), 3, padding=1), RenderOptions())
    assert [piece.caption for piece in zeros.slices] == ["padding", "depth 0", "depth 1", "padding"]


@pytest.mark.parametrize("view", ["oblique", "flat"])
def test_3d_values_are_the_copies(view: str) -> None:
    spec = ConvSpec((3, 4, 4), 3, padding=1, padding_mode="circular")
    x = np.arange(48).reshape(3, 4, 4) % 7 + 1
    numbers = worked(spec, x, np.ones((3, 3, 3)))
    animation = VolumeAnimation(spec, RenderOptions(view=view), numbers)
    rgb = animation.render(animation.frame_count - 1)  # the window at the back, bottom-right
    volume = spec.volume()
    depths = volume.source_depths
    assert depths is not None
    frame = animation.frames[-1]
    shaded = {tuple(tap) for tap in frame.taps}
    for d, piece in enumerate(animation.slices):
        for (row, col), code in np.ndenumerate(volume.cells[d]):
            source = volume.plane.source_at(row, col)
            assert source is not None
            at = centre_pixel(animation, piece.plane.cell(row, col))
            value = x[depths[d], source[0], source[1]]
            assert text_at(animation, at) == animation._text(value), (d, row, col)
            if (d, row, col) not in shaded:
                expected = "text" if code == Cell.INPUT else "copy"
                assert ink(rgb, at) == expected, (view, d, row, col)


def test_3d_marks_on_slices_and_their_copies() -> None:
    spec = ConvSpec((3, 4, 4), 3, padding=1, padding_mode="replicate")
    animation = VolumeAnimation(spec, RenderOptions(view="flat"))
    rgb = animation.render(0)
    volume = spec.volume()
    inputs, marks = copy_marks(volume.plane)
    names = {volume.plane.input_at(*cell): name for cell, name in inputs.items()}
    shaded = {tuple(tap) for tap in animation.frames[0].taps}
    for d, piece in enumerate(animation.slices):
        for (row, col), code in np.ndenumerate(volume.cells[d]):
            at = centre_pixel(animation, piece.plane.cell(row, col))
            expected = names.get(volume.plane.source_at(row, col))
            assert text_at(animation, at) == expected, (d, row, col)
            if expected is not None and (d, row, col) not in shaded:
                assert ink(rgb, at) == ("text" if code == Cell.INPUT else "copy")
    assert set(marks) == set(volume.plane.padding_sources())


# -- channels ------------------------------------------------------------------------------------


@pytest.mark.parametrize("with_values", [True, False])
@pytest.mark.parametrize("view", ["oblique", "flat"])
def test_channels_show_the_copies_on_every_input_channel(view: str, with_values: bool) -> None:
    from convanim.channel_render import draw_channels
    from convanim.values import worked_channels

    spec = ConvSpec(4, 3, padding=1, padding_mode="circular", in_channels=2, out_channels=2)
    x = np.arange(32).reshape(2, 4, 4) % 9 + 1
    numbers = worked_channels(spec, x, np.ones((2, 2, 3, 3))) if with_values else None
    figure = draw_channels(spec, RenderOptions(view=view), numbers)
    rgb = figure.render(0)
    grid = spec.grid()
    inputs, marks = copy_marks(grid)
    free = unshaded(spec, next(spec.frames()))
    height = figure.size[1]

    def written(at: Pixel) -> str | None:
        for text, box in figure.texts():
            if text and box.x0 <= at[1] <= box.x1 and box.y0 <= height - at[0] <= box.y1:
                return str(text)
        return None

    for channel in range(2):
        for cell, source in grid.padding_sources().items():
            px, py = figure.pixel(0, channel, *cell)
            expected = figure._text(x[channel][source]) if with_values else marks[cell]
            assert written((py, px)) == expected, (channel, cell)
            if cell in free:
                assert ink(rgb, (py, px)) == "copy", (channel, cell)
        for cell, name in inputs.items():
            px, py = figure.pixel(0, channel, *cell)
            if not with_values:
                assert written((py, px)) == name
            if cell in free:
                assert ink(rgb, (py, px)) == "text"
