"""The ``matrix`` kind's figure: pixel checks on rendered frames, numbers equal to PyTorch's,
every text inside the image, and its refusals through the command line."""

from __future__ import annotations

import inspect
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from convanim.cli import main
from convanim.geometry import ConvSpec
from convanim.matrix import conv_matrix, transpose_pair
from convanim.matrix_render import MatrixFigure
from convanim.options import RenderOptions
from convanim.theme import THEMES, hex_rgb
from convanim.values import random_values
from tests.helpers import gif_frames, quantised

SPECS = {
    "paper": ConvSpec(4, 3),
    "transposed": ConvSpec(2, 3, transposed=True),
    "strided": ConvSpec((5, 4), (3, 2), stride=2, padding=((1, 0), (0, 1))),
    "transposed op": ConvSpec(2, 3, stride=2, padding=1, output_padding=1, transposed=True),
    "1d": ConvSpec(8, 3, stride=2, padding=1, dims=1),
}
LARGEST = ConvSpec(6, 3, padding="same")  # C is 36x36: the largest drawn


@pytest.fixture
def runner() -> CliRunner:
    if "mix_stderr" in inspect.signature(CliRunner.__init__).parameters:  # Click 8.1
        return CliRunner(mix_stderr=False)  # type: ignore[call-arg]
    return CliRunner()


def colour_at(pixels: np.ndarray, x: float, y: float) -> tuple[int, int, int]:
    r, g, b = pixels[int(y), int(x)][:3]
    return int(r), int(g), int(b)


def probe(rect: tuple[float, float, float, float]) -> tuple[float, float]:
    """A point of a cell clear of its text (centred) and its edges: near its top."""
    x0, y0, x1, y1 = rect
    return (x0 + x1) / 2, y0 + 0.2 * (y1 - y0)


def blend(top: str, under: str, alpha: float) -> tuple[int, int, int]:
    t, u = hex_rgb(top), hex_rgb(under)
    return tuple(round(alpha * a + (1 - alpha) * b) for a, b in zip(t, u, strict=True))  # type: ignore[return-value]


def near(found: tuple[int, int, int], expected: tuple[int, int, int]) -> bool:
    return max(abs(a - b) for a, b in zip(found, expected, strict=True)) <= 3


@pytest.mark.parametrize(
    ("name", "theme"),
    [(name, "solarized") for name in sorted(SPECS)] + [("paper", "dark"), ("largest", "dark")],
)
def test_the_highlighted_row_and_cells_are_the_frames_output_cell(name: str, theme: str) -> None:
    spec = SPECS.get(name, LARGEST)
    figure = MatrixFigure(spec, RenderOptions(theme=theme))
    palette = THEMES[theme]
    rows, cols = figure.matrix.shape
    assert (rows, cols) == conv_matrix(spec).shape
    for index in sorted({0, rows // 2, rows - 1}):
        pixels = figure.render(index)
        reads = set(figure.reads(index))
        assert reads == {int(c) for c in np.flatnonzero(conv_matrix(spec)[index])}
        for row in range(rows):
            for col in range(cols):
                under = figure.weight_fill if figure.nonzero[row, col] else palette.background
                expected = (
                    blend(palette.shade, under, palette.shade_alpha)
                    if row == index
                    else hex_rgb(under)
                )
                found = colour_at(pixels, *probe(figure.matrix_cell(row, col)))
                assert near(found, expected), (index, row, col, found, expected)
        for col in range(cols):
            expected = (
                blend(palette.shade, palette.input, palette.shade_alpha)
                if col in reads
                else hex_rgb(palette.input)
            )
            assert near(colour_at(pixels, *probe(figure.x_cell(col))), expected), col
            assert near(colour_at(pixels, *probe(figure.input_cell(col))), expected), col
        for row in range(rows):
            expected = (
                blend(palette.shade, palette.output, palette.shade_alpha)
                if row == index
                else hex_rgb(palette.output)
            )
            assert near(colour_at(pixels, *probe(figure.y_cell(row))), expected), row
            assert near(colour_at(pixels, *probe(figure.output_cell(row))), expected), row
        assert figure.shown["output"] == index


@pytest.mark.parametrize(
    ("name", "values", "labels", "scale"),
    [(name, values, True, scale) for name in SPECS for values, scale in ((False, 0.5), (True, 2.0))]
    + [("paper", True, False, 1.0), ("largest", True, True, 2.0)],
)
def test_every_text_is_inside_the_image(
    name: str, values: bool, scale: float, labels: bool
) -> None:
    spec = SPECS.get(name, LARGEST)
    x, weight = random_values(spec, 3) if values else (None, None)
    figure = MatrixFigure(spec, RenderOptions(labels=labels, scale=scale), x, weight)
    width, height = figure.size
    for index in sorted({0, figure.frame_count - 1}):
        figure.draw(index)
        for text, box in figure.texts():
            assert box.x0 >= -0.5 and box.x1 <= width + 0.5, (text, box.bounds, figure.size)
            assert box.y0 >= -0.5 and box.y1 <= height + 0.5, (text, box.bounds, figure.size)


def test_symbols_are_the_papers_and_the_caption_writes_the_products() -> None:
    figure = MatrixFigure(SPECS["paper"])
    assert figure.weight_text(0, 0) == "w₀₀" and figure.weight_text(0, 10) == "w₂₂"
    assert figure.input_text(5) == "x₁₁" and figure.output_text(3) == "y₁₁"
    figure.draw(1)
    assert figure.shown["caption"] == (
        "y₀₁ = w₀₀x₀₁ + w₀₁x₀₂ + w₀₂x₀₃ + w₁₀x₁₁ + w₁₁x₁₂ + w₁₂x₁₃ + w₂₀x₂₁ + w₂₁x₂₂ + w₂₂x₂₃"
    )
    # Cᵀ's row 0 is C's column 0: only y₀₀ reads x₀₀, through w₀₀.
    transposed = MatrixFigure(SPECS["transposed"])
    transposed.draw(0)
    assert transposed.shown["caption"] == "y₀₀ = w₀₀x₀₀"
    transposed.draw(5)  # the 4x4 output's (1, 1) reads every input cell
    assert transposed.shown["caption"] == "y₁₁ = w₁₁x₀₀ + w₁₀x₀₁ + w₀₁x₁₀ + w₀₀x₁₁"
    assert transposed.title() == "y = Cᵀ x, C (4×16) the matrix of the 4×4 → 2×2 convolution"


@pytest.mark.parametrize("name", sorted(SPECS))
def test_values_are_pytorchs(name: str) -> None:
    torch = pytest.importorskip("torch")
    functional = torch.nn.functional
    spec = SPECS[name]
    x, weight = random_values(spec, 5)
    figure = MatrixFigure(spec, None, x, weight)
    tx = torch.tensor(x, dtype=torch.float64).reshape(1, 1, *spec.input_size)
    tw = torch.tensor(weight, dtype=torch.float64).reshape(1, 1, *spec.kernel_size)
    if spec.transposed:
        op = functional.conv_transpose1d if spec.dims == 1 else functional.conv_transpose2d
        y = op(tx, tw, stride=spec.stride, padding=tuple(lo for lo, _ in spec.pads),
               output_padding=spec.output_padding, dilation=spec.dilation)  # fmt: skip
    else:
        sides = [side for pair in reversed(spec.pads) for side in pair]
        op = functional.conv1d if spec.dims == 1 else functional.conv2d
        y = op(functional.pad(tx, sides), tw, stride=spec.stride, dilation=spec.dilation)
    expected = y.reshape(-1).numpy()
    assert figure.y is not None
    np.testing.assert_array_equal(figure.y, expected)
    for index in range(figure.frame_count):
        figure.draw(index)
        assert figure.shown["caption"].endswith(f"= {figure.output_text(index)}")
        assert figure.output_text(index) == str(int(expected[index]))


def test_the_transposed_figure_is_the_direct_figures_matrix_transposed() -> None:
    direct, transposed = MatrixFigure(SPECS["paper"]), MatrixFigure(SPECS["transposed"])
    assert transpose_pair(SPECS["transposed"]) == SPECS["paper"]
    np.testing.assert_array_equal(transposed.matrix, direct.matrix.T)
    for out in range(16):  # frame i of Cᵀ reads the inputs of C's column i
        assert transposed.reads(out) == [int(r) for r in np.flatnonzero(direct.matrix[:, out])]


def test_gif_frames_are_distinct_and_one_per_output_cell(tmp_path: Path, runner: CliRunner) -> None:
    path = tmp_path / "m.gif"
    result = runner.invoke(main, ["matrix", "-i", "4", "-k", "3", "-o", str(path)])
    assert result.exit_code == 0, result.output
    frames = gif_frames(path)
    assert len(frames) == 4
    assert len({frame.tobytes() for frame in frames}) == 4
    figure = MatrixFigure(SPECS["paper"])
    for index, frame in enumerate(frames):
        expected = quantised(figure.render(index), figure.colours(), figure.inks())
        np.testing.assert_array_equal(frame, expected)


@pytest.mark.parametrize("suffix", [".png", ".svg", ".pdf"])
def test_stills_and_vector_strips(tmp_path: Path, runner: CliRunner, suffix: str) -> None:
    path = tmp_path / f"m{suffix}"
    words = ["matrix", "-i", "3", "-k", "2", "--values", "-o", str(path)]
    result = runner.invoke(main, words)
    assert result.exit_code == 0, result.output
    assert path.stat().st_size > 0
    if suffix == ".png":
        with Image.open(path) as image:
            figure = MatrixFigure(ConvSpec(3, 2), None, *random_values(ConvSpec(3, 2), 0))
            width, height = figure.size
            assert image.size == (2 * width + 8, 2 * height + 8)  # one row per output row


BAD = [
    (["-i", "7", "-k", "3"], "--input: the input is 7x7, 49 cells, over the limit of 36"),
    (
        ["-i", "4", "-k", "3", "-s", "2", "--transposed"],
        "--input: the output would be 9x9, 81 cells, over the limit of 36",
    ),
    (["--dims", "1", "-i", "40"], "--input: the input is length 40, 40 cells"),
    (["-i", "4", "--frame", "4"], "--frame: got 4; expected 0 to 3"),
    (["-i", "4", "--view", "flat"], "--view: no such option"),
    (["-i", "4", "--max-frames", "9"], "--max-frames: no such option"),
    (
        ["-i", "3", "-k", "3", "-s", "2", "--transposed", "-p", "0,1,0,1"],
        "--padding: got ((0, 1), (0, 1)) (unequal sides); a convolution's transposed pair (and "
        "back) is made only for the same padding on both sides of each axis: give an integer "
        "or a (rows, cols) pair",
    ),
    (
        ["--dims", "1", "-i", "3", "-k", "3", "-s", "2", "--transposed", "-p", "0,1"],
        "--padding: got ((0, 1),) (unequal sides); a convolution's transposed pair (and back) "
        "is made only for the same padding on both sides of each axis: give an integer",
    ),
]


@pytest.mark.parametrize(("words", "message"), BAD)
def test_refusals_are_one_line_exit_2_and_no_file(
    tmp_path: Path, runner: CliRunner, words: list[str], message: str
) -> None:
    path = tmp_path / ("x.png" if "--frame" in words else "x.gif")
    result = runner.invoke(main, ["matrix", *words, "-o", str(path)])
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(f"Error: {message}"), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not path.exists()


def test_unequal_transposed_crops_are_the_matrix_kinds_refusal_alone(runner: CliRunner) -> None:
    """The matrix kind refuses a transposed convolution's unequal crops because it pairs it
    with a direct one only for equal sides; the transposed convolution itself exists (the conv
    kind draws it), so the message says what the pairing needs, not that none exists."""
    words = ["-i", "3", "-k", "3", "-s", "2", "--transposed", "-p", "0,1,0,1", "--info"]
    assert runner.invoke(main, ["conv", *words]).exit_code == 0
    refused = runner.invoke(main, ["matrix", *words])
    assert refused.exit_code == 2 and "--padding: got ((0, 1), (0, 1)) (unequal sides)" in (
        refused.stderr
    )
    assert "a transposed convolution pads" not in refused.stderr
    for padding in ("1", "0,1"):  # what the message names as valid is taken
        taken = runner.invoke(main, ["matrix", *words[:-2], padding, "--info"])
        assert taken.exit_code == 0, taken.output


def test_info_describes_a_matrix_too_large_to_draw(runner: CliRunner) -> None:
    """info needs no drawing: a 7x7 input's C (25x49) is described, not refused."""
    result = runner.invoke(main, ["info", "matrix", "-i", "7", "-k", "3", "--json"])
    assert result.exit_code == 0, result.output
    assert '"matrix_shape": [\n    25,\n    49\n  ]' in result.stdout
