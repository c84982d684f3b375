"""The ``overlap`` kind's figure: counts in every cell, heat colours, stamps accumulating frame by
frame, every text inside the image, the files it writes and its refusals."""

from __future__ import annotations

import inspect
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from convanim.cell_render import blend
from convanim.cli import main
from convanim.geometry import ConvSpec
from convanim.matrix import conv_matrix, overlap
from convanim.options import RenderOptions
from convanim.overlap_render import OverlapMap
from convanim.theme import THEMES, hex_rgb
from tests.helpers import gif_frames, quantised

SPECS = {
    "checkerboard": ConvSpec(4, 3, stride=2, transposed=True),
    "even": ConvSpec(4, 4, stride=2, padding=1, transposed=True),
    "borders": ConvSpec((5, 4), 3, padding=1),
    "padding only": ConvSpec((2, 3), (1, 2), padding=((2, 1), (0, 1))),  # zeros at the edges
    "1d": ConvSpec(5, 3, stride=2, transposed=True, output_padding=1, dims=1),
    "non-square transposed": ConvSpec((2, 3), (3, 2), stride=(2, 3), transposed=True),
}


@pytest.fixture
def runner() -> CliRunner:
    if "mix_stderr" in inspect.signature(CliRunner.__init__).parameters:  # Click 8.1
        return CliRunner(mix_stderr=False)  # type: ignore[call-arg]
    return CliRunner()


def colour_at(pixels: np.ndarray, rect: tuple[float, float, float, float]) -> tuple[int, ...]:
    """The colour near a cell's top-left corner, clear of its count and its edges."""
    x0, y0, x1, y1 = rect
    x, y = x0 + 0.2 * (x1 - x0), y0 + 0.2 * (y1 - y0)
    return tuple(int(v) for v in pixels[int(y), int(x)][:3])


def near(found: tuple[int, ...], expected: tuple[int, ...]) -> bool:
    return max(abs(a - b) for a, b in zip(found, expected, strict=True)) <= 3


@pytest.mark.parametrize("name", sorted(SPECS))
def test_the_final_map_writes_every_count_in_its_cell_and_colour(name: str) -> None:
    spec = SPECS[name]
    figure = OverlapMap(spec)
    final = figure.frame_count - 1
    assert final == int(np.prod(spec.input_size))
    pixels = figure.render(final)
    counts = overlap(spec).reshape(spec.as_2d().output_size)
    assert figure.shown["counts"] == {
        (r, c): str(int(counts[r, c])) for r, c in np.ndindex(counts.shape)
    }
    height = figure.size[1]
    written = {}
    for text, box in figure.texts():
        x, y = (box.x0 + box.x1) / 2, height - (box.y0 + box.y1) / 2
        written.setdefault(text, []).append((x, y))
    cols = counts.shape[1]
    for (row, col), count in np.ndenumerate(counts):
        x0, y0, x1, y1 = figure.output_cell(row * cols + col)
        inside = [p for p in written.get(str(count), []) if x0 < p[0] < x1 and y0 < p[1] < y1]
        assert len(inside) == 1, (row, col, count)
        assert near(colour_at(pixels, (x0, y0, x1, y1)), hex_rgb(figure.heat(int(count))))
    assert figure.shown["caption"].startswith(f"after all {final} stamps")


@pytest.mark.parametrize(
    ("name", "theme"), [("checkerboard", "solarized"), ("borders", "dark"), ("1d", "solarized")]
)
def test_each_frame_stamps_one_input_cell(name: str, theme: str) -> None:
    spec = SPECS[name]
    figure = OverlapMap(spec, RenderOptions(theme=theme))
    palette = THEMES[theme]
    reached = conv_matrix(spec) != 0
    cols = spec.as_2d().output_size[1]
    for index in range(figure.frame_count - 1):
        pixels = figure.render(index)
        counts = reached[:, : index + 1].sum(axis=1)
        np.testing.assert_array_equal(figure.counts(index).ravel(), counts)
        stamp = set(np.flatnonzero(reached[:, index]))
        for cell, count in enumerate(counts):
            heat = figure.heat(int(count))
            expected = (
                hex_rgb(blend(palette.shade, heat, palette.shade_alpha))
                if cell in stamp
                else hex_rgb(heat)
            )
            found = colour_at(pixels, figure.output_cell(cell))
            assert near(found, expected), (index, divmod(cell, cols), found, expected)
            if count and index < figure.frame_count - 2:
                assert figure.shown["counts"][divmod(cell, cols)] == str(int(count))
        shaded = hex_rgb(blend(palette.shade, palette.input, palette.shade_alpha))
        for cell in range(figure.frame_count - 1):
            found = colour_at(pixels, figure.input_cell(cell))
            assert near(found, shaded if cell == index else hex_rgb(palette.input)), cell


def test_frames_drawn_in_any_order_are_the_same() -> None:
    """The map is painted into the background as frames go on; jumps repaint it."""
    figure = OverlapMap(SPECS["checkerboard"])
    fresh = {i: OverlapMap(SPECS["checkerboard"]).render(i) for i in (0, 5, 15, 16)}
    for index in (5, 16, 0, 15, 5, 5, 0):
        np.testing.assert_array_equal(figure.render(index), fresh[index])
    forwards, backwards = OverlapMap(SPECS["borders"]), OverlapMap(SPECS["borders"])
    count = forwards.frame_count
    ahead = [forwards.render(i) for i in range(count)]
    for index in reversed(range(count)):  # every draw a jump
        np.testing.assert_array_equal(backwards.render(index), ahead[index])


@pytest.mark.parametrize(
    ("name", "labels", "scale"),
    [(name, True, 0.5 if i % 2 else 2.0) for i, name in enumerate(SPECS)] + [("1d", False, 1.0)],
)
def test_every_text_is_inside_the_image(name: str, labels: bool, scale: float) -> None:
    figure = OverlapMap(SPECS[name], RenderOptions(labels=labels, scale=scale))
    width, height = figure.size
    for index in (0, figure.frame_count - 2, figure.frame_count - 1):
        figure.draw(index)
        for text, box in figure.texts():
            assert box.x0 >= -0.5 and box.x1 <= width + 0.5, (text, box.bounds, figure.size)
            assert box.y0 >= -0.5 and box.y1 <= height + 0.5, (text, box.bounds, figure.size)


def test_a_gif_stamps_every_input_cell_then_holds_the_map(
    tmp_path: Path, runner: CliRunner
) -> None:
    path = tmp_path / "o.gif"
    words = ["overlap", "-i", "4", "-k", "3", "-s", "2", "--transposed", "-o", str(path)]
    result = runner.invoke(main, words)
    assert result.exit_code == 0, result.output
    frames = gif_frames(path)
    assert len(frames) == 17  # 16 stamps and the final map
    assert len({frame.tobytes() for frame in frames}) == 17
    figure = OverlapMap(SPECS["checkerboard"])
    for index in (0, 7, 16):
        expected = quantised(figure.render(index), figure.colours(), figure.inks())
        np.testing.assert_array_equal(frames[index], expected)


def test_a_png_is_the_final_map_and_frame_picks_a_stamp(tmp_path: Path, runner: CliRunner) -> None:
    figure = OverlapMap(SPECS["even"])
    base = ["overlap", "-i", "4", "-k", "4", "-s", "2", "-p", "1", "--transposed"]
    for extra, index in (([], 16), (["--frame", "3"], 3)):
        path = tmp_path / f"o{index}.png"
        result = runner.invoke(main, [*base, *extra, "-o", str(path)])
        assert result.exit_code == 0, result.output
        with Image.open(path) as image:
            np.testing.assert_array_equal(np.asarray(image.convert("RGB")), figure.render(index))
    svg = tmp_path / "o.svg"
    assert runner.invoke(main, [*base, "-o", str(svg)]).exit_code == 0
    assert svg.read_text().count("<svg") == 1


BAD = [
    (["-i", "100"], "--input: the input is 100x100, over the limit of 64 cells per side"),
    (
        ["-i", "33", "-s", "2", "--transposed"],
        "--input: the output would be 67x67, over the limit of 64",
    ),
    (["-i", "4", "--frame", "16"], "--frame: got 16; expected 0 to 15"),
    (["-i", "40", "-k", "1"], "--max-frames: the animation would have 1,600 frames"),
    (["-i", "4", "--columns", "2"], "--columns: no such option"),
    (["-i", "4", "--values"], "--values: no such option"),
]


@pytest.mark.parametrize(("words", "message"), BAD)
def test_refusals_are_one_line_exit_2_and_no_file(
    tmp_path: Path, runner: CliRunner, words: list[str], message: str
) -> None:
    path = tmp_path / ("x.png" if "--frame" in words else "x.gif")
    result = runner.invoke(main, ["overlap", *words, "-o", str(path)])
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(f"Error: {message}"), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not path.exists()
