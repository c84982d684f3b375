"""Worked numbers on rendered frames, and the pool / --values command line."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from convanim.cli import main
from convanim.geometry import ConvSpec
from convanim.render import Animation, RenderOptions
from convanim.values import (
    NUMERICAL_FIGURES,
    evaluate,
    format_value,
    numerical_figure,
    tap_values,
    worked,
)

# conv_arithmetic's four numerical figures, computed by hand from their published input
# [[3,3,2,1,0],[0,0,1,3,1],[3,1,2,2,3],[2,0,0,2,2],[2,0,0,0,1]] and kernel
# [[0,1,2],[2,2,0],[0,1,2]].
EXPECTED = {
    "numerical_no_padding_no_strides": [[12, 12, 17], [10, 17, 19], [9, 6, 14]],
    "numerical_padding_strides": [[6, 17, 3], [8, 17, 13], [6, 4, 4]],
    "numerical_average_pooling": [
        [15 / 9, 15 / 9, 15 / 9],
        [1, 11 / 9, 16 / 9],
        [10 / 9, 7 / 9, 12 / 9],
    ],
    "numerical_max_pooling": [[3, 3, 3], [3, 3, 3], [3, 2, 3]],
}


def shown_per_frame(animation: Animation, spec: ConvSpec) -> list[dict[str, object]]:
    shown = []
    for frame in spec.frames():
        animation.draw(frame)
        assert animation.values is not None
        shown.append(dict(animation.values.shown))
    return shown


@pytest.mark.parametrize("name", sorted(NUMERICAL_FIGURES))
def test_numerical_figures_show_the_right_numbers(name: str) -> None:
    spec, op, x, weight = numerical_figure(name)
    numbers = worked(spec, x, weight, op)
    np.testing.assert_allclose(numbers.output, EXPECTED[name])
    animation = Animation(spec, RenderOptions(view="flat"), numbers)
    for frame, shown in zip(spec.frames(), shown_per_frame(animation, spec), strict=True):
        row, col = frame.output
        assert shown["output"] == frame.output
        assert shown["value"] == format_value(EXPECTED[name][row][col], animation.values.max_chars)
        assert str(shown["caption"]).endswith("= " + format_value(EXPECTED[name][row][col], 6))


def test_caption_is_the_sum_of_products_under_the_taps() -> None:
    spec, op, x, weight = numerical_figure("numerical_no_padding_no_strides")
    animation = Animation(spec, RenderOptions(view="flat"), worked(spec, x, weight, op))
    frame = list(spec.frames())[5]
    animation.draw(frame)
    assert animation.values is not None
    under = tap_values(spec, worked(spec, x, weight, op).drawn, frame).ravel()
    terms = str(animation.values.shown["caption"]).split(" = ")[0].split(" + ")
    products = [float(a) * float(b) for a, b in (term.split("\u00d7") for term in terms)]
    assert [float(t.split("\u00d7")[0]) for t in terms] == list(under)
    assert sum(products) == evaluate(spec, x, weight)[1, 2] == 19


def test_transposed_values_show_flipped_weights_and_pytorch_outputs() -> None:
    spec = ConvSpec(3, 3, stride=2, padding=1, transposed=True, output_padding=1)
    x = np.arange(9).reshape(3, 3)
    weight = np.arange(1, 10).reshape(3, 3)
    numbers = worked(spec, x, weight)
    animation = Animation(spec, RenderOptions(view="flat"), numbers)
    shown = shown_per_frame(animation, spec)
    # The drawn taps carry the kernel reversed on both axes, as conv_transpose2d needs.
    assert shown[0]["weights"] == [str(w) for w in range(9, 0, -1)]
    # Independent scatter definition: out[i*s - p + j] += x[i] * w[j].
    expected = np.zeros((6, 6))
    for i in range(3):
        for j in range(3):
            for a in range(3):
                for b in range(3):
                    r, c = 2 * i - 1 + a, 2 * j - 1 + b
                    if 0 <= r < 6 and 0 <= c < 6:
                        expected[r, c] += x[i, j] * weight[a, b]
    for frame, seen in zip(spec.frames(), shown, strict=True):
        assert seen["value"] == format_value(expected[frame.output], animation.values.max_chars)


def test_outputs_fill_in_frame_by_frame_on_the_pixels() -> None:
    """Output cells after the current one stay plain cyan; earlier ones carry text pixels."""
    spec, op, x, weight = numerical_figure("numerical_no_padding_no_strides")
    animation = Animation(spec, RenderOptions(view="flat"), worked(spec, x, weight, op))
    frames = list(spec.frames())
    pixels = [animation.render(frame) for frame in frames]
    height = animation.size[1]

    def cell_patch(index: int, cell: tuple[int, int]) -> np.ndarray:
        corners = animation.transform.transform(animation.output_plane.cell(*cell))
        (x0, y0), (x1, y1) = corners.min(axis=0), corners.max(axis=0)
        inset = (x1 - x0) * 0.2
        return pixels[index][
            int(height - y1 + inset) : int(height - y0 - inset), int(x0 + inset) : int(x1 - inset)
        ]

    cyan = np.array([0x2A, 0xA1, 0x98])
    last = (2, 2)
    # In frame 0 the last output cell is still empty: plain cyan everywhere inside it.
    assert (np.abs(cell_patch(0, last).astype(int) - cyan) <= 2).all()
    # In the last frame it holds its number: dark text pixels appear.
    assert (np.abs(cell_patch(8, last).astype(int) - cyan).sum(axis=2) > 60).any()
    # The first output cell keeps its number once filled.
    assert (np.abs(cell_patch(4, (0, 0)).astype(int) - cyan).sum(axis=2) > 60).any()


def test_any_frame_order_gives_the_same_pixels() -> None:
    spec, op, x, weight = numerical_figure("numerical_padding_strides")
    numbers = worked(spec, x, weight, op)
    frames = list(spec.frames())
    forward = Animation(spec, RenderOptions(view="flat"), numbers)
    in_order = [forward.render(frame) for frame in frames]
    backward = Animation(spec, RenderOptions(view="flat"), numbers)
    for frame in reversed(frames):
        assert np.array_equal(backward.render(frame), in_order[frame.index])


# -- the command line ------------------------------------------------------------------------


def invoke(*args: str) -> object:
    return CliRunner().invoke(main, list(args))


def test_pool_and_values_commands_write_files(tmp_path: Path) -> None:
    out = tmp_path / "avg.gif"
    result = invoke("pool", "--mode", "avg", "-i", "5", "-k", "3", "--values", "-o", str(out))
    assert result.exit_code == 0, result.output
    with Image.open(out) as gif:
        assert gif.n_frames == 9
    strip = tmp_path / "conv.png"
    result = invoke("conv", "-i", "5", "-k", "3", "--values", "--view", "flat", "-o", str(strip))
    assert result.exit_code == 0, result.output
    with Image.open(strip) as png:
        assert png.size[0] > 3 * 300


def test_value_files_are_read(tmp_path: Path) -> None:
    x = tmp_path / "x.csv"
    x.write_text(
        "\n".join(",".join(str(v) for v in row) for row in EXPECTED["numerical_max_pooling"])
    )
    w = tmp_path / "w.npy"
    np.save(w, np.ones((2, 2)))
    out = tmp_path / "frame.png"
    result = invoke(
        "conv",
        "-i",
        "3",
        "-k",
        "2",
        "--input-values",
        str(x),
        "--kernel-values",
        str(w),
        "-o",
        str(out),
        "--frame",
        "3",
        "--view",
        "flat",
    )
    assert result.exit_code == 0, result.output
    assert out.exists()


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["pool", "--mode", "max", "-i", "5", "-k", "3", "-p", "2"], "--padding"),
        (["pool", "--mode", "avg", "-i", "5", "-k", "3", "-d", "2"], "--dilation"),
        (["pool", "--mode", "median", "-i", "5"], "--mode"),
        (["conv", "-i", "5", "--values", "--seed", "-1"], "--seed"),
        (["conv", "-i", "5", "--input-values", "missing.csv"], "--input-values"),
        (["conv", "-i", "5", "--kernel-values", "BAD_SHAPE"], "--kernel-values"),
        (["conv", "-i", "5", "--input-values", "NOT_NUMBERS"], "--input-values"),
        (["conv", "-i", "5", "--input-values", "x.json"], "--input-values"),
    ],
)
def test_bad_values_input_is_one_line_exit_2_and_no_file(
    tmp_path: Path, args: list[str], option: str
) -> None:
    bad_shape = tmp_path / "bad_shape.csv"
    bad_shape.write_text("1,2\n3,4\n")
    not_numbers = tmp_path / "words.txt"
    not_numbers.write_text("a b c\n")
    json_file = tmp_path / "x.json"
    json_file.write_text("[]")
    replacements = {
        "BAD_SHAPE": str(bad_shape),
        "NOT_NUMBERS": str(not_numbers),
        "x.json": str(json_file),
        "missing.csv": str(tmp_path / "missing.csv"),
    }
    out = tmp_path / "out.gif"
    out.write_bytes(b"keep me")
    args = [replacements.get(a, a) for a in args]
    result = CliRunner().invoke(main, [*args, "-o", str(out)])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error:"), result.output
    assert option in lines[0]
    assert "Traceback" not in result.output
    assert out.read_bytes() == b"keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["bad_shape.csv", "words.txt", "x.json", "out.gif"]
    )
