"""The effective receptive field: exact path counts against a brute-force count and autograd,
the support against the theoretical field, and a module's own weights by hand."""

from __future__ import annotations

import sys
from collections import Counter
from itertools import product
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import assume, given, settings
from PIL import Image

from convanim.cli import main
from convanim.erf import effective_receptive_field, erf_layers, erf_summary, path_counts
from convanim.errors import ParameterError
from convanim.receptive import receptive_field, receptive_field_stats
from tests.test_receptive import Stack, any_stack

# -- an independent reference: paths counted forward, cell by cell --------------------------


def brute_counts(stack: Stack) -> tuple[dict[tuple[int, int], Counter[tuple[int, int]]], Any]:
    """Per output cell of the last layer, how many paths reach it from each input cell.

    Forward: a direct layer's output (r, c) adds the counts of input (r * s - pad + t * d) for
    every kernel tap t per axis; a transposed layer adds input (i, j)'s counts into output
    (i * s - pad + t * d) per tap: PyTorch's definitions with all-ones kernels.
    """
    rows, cols = stack.size
    deps: dict[tuple[int, int], Counter[tuple[int, int]]] = {
        (i, j): Counter({(i, j): 1}) for i in range(rows) for j in range(cols)
    }
    for ra, ca in stack.axes:
        (rlo, _), (clo, _) = ra.pads(rows), ca.pads(cols)
        rows, cols = ra.out(rows), ca.out(cols)
        new = {(r, c): Counter[tuple[int, int]]() for r in range(rows) for c in range(cols)}
        for tr, tc in product(range(ra.k), range(ca.k)):
            if not ra.transposed:
                for r, c in new:
                    source = (r * ra.s - rlo + tr * ra.d, c * ca.s - clo + tc * ca.d)
                    if source in deps:
                        new[r, c].update(deps[source])
            else:
                for i, j in deps:
                    target = (i * ra.s - rlo + tr * ra.d, j * ca.s - clo + tc * ca.d)
                    if target in new:
                        new[target].update(deps[i, j])
        deps = new
    return deps, (rows, cols)


def as_array(stack: Stack, counts: Counter[tuple[int, int]]) -> np.ndarray:
    heatmap = np.zeros(stack.size)
    for (i, j), n in counts.items():
        heatmap[i, j] = n
    return heatmap[0] if stack.dims == 1 else heatmap


@settings(max_examples=60, deadline=None)
@given(stack=any_stack)
def test_uniform_erf_is_the_brute_force_path_count(stack: Stack) -> None:
    assume(stack.first_invalid() is None)
    deps, (rows, cols) = brute_counts(stack)
    expected = as_array(stack, deps[(rows - 1) // 2, (cols - 1) // 2])
    got = effective_receptive_field(list(stack.kwargs), stack.input_size, dims=stack.dims)
    assert got.shape == expected.shape
    assert np.array_equal(got, expected)


@settings(max_examples=40, deadline=None)
@given(stack=any_stack)
def test_every_layers_heatmap_is_its_own_path_count(stack: Stack) -> None:
    """erf_layers makes the stack's tables once and counts each layer's paths through the
    first of them: each heatmap equals that layer's counted alone, and the last one the
    brute-force count."""
    assume(stack.first_invalid() is None)
    kwargs = list(stack.kwargs)
    entries = erf_layers(kwargs, stack.input_size, dims=stack.dims)
    assert len(entries) == len(kwargs)
    for index, entry in enumerate(entries):
        alone = effective_receptive_field(kwargs, stack.input_size, index, dims=stack.dims)
        assert np.array_equal(entry.heatmap, alone), index
    deps, (rows, cols) = brute_counts(stack)
    expected = as_array(stack, deps[(rows - 1) // 2, (cols - 1) // 2])
    assert np.array_equal(entries[-1].heatmap, expected)


@settings(max_examples=40, deadline=None)
@given(stack=any_stack)
def test_support_is_the_theoretical_field_exactly(stack: Stack) -> None:
    """Every layer: the non-zero cells are receptive_field's cells, inside the stats' extent."""
    assume(stack.first_invalid() is None)
    for index, entry in enumerate(
        erf_layers(list(stack.kwargs), stack.input_size, dims=stack.dims)
    ):
        sub = list(stack.kwargs[: index + 1])
        unit = entry.unit[0] if stack.dims == 1 else entry.unit
        cells = receptive_field(sub, stack.input_size, unit, dims=stack.dims)  # type: ignore[call-overload]
        support = {c[0] for c in entry.support} if stack.dims == 1 else entry.support
        assert support == set(cells)
        # The outline is receptive_field_stats' extent of this unit (Distill's, which counts
        # every level's padding as cells), and the support lies inside it.
        stats = receptive_field_stats(sub, stack.input_size, dims=stack.dims)[-1]
        field = stats.size_of(unit)
        assert entry.field == (field if stack.dims == 2 else (field,))
        for position, (first, size) in enumerate(zip(entry.first, entry.field, strict=True)):
            axis = {c[position] for c in entry.support}
            if axis:
                assert first <= min(axis) and max(axis) < first + size
        if stats.method == "closed form":
            start, stride = stats.start, stats.stride
            if stack.dims == 1:
                assert entry.first == (start + unit * stride,)
            else:
                assert entry.first == tuple(
                    a + u * j for a, u, j in zip(start, unit, stride, strict=True)
                )


@pytest.fixture(scope="module")
def torch() -> Any:
    return pytest.importorskip("torch")


def autograd_ones(torch: Any, stack: Stack) -> np.ndarray:
    """The gradient of the last layer's centre unit for an all-ones linear stack in PyTorch."""
    functional = torch.nn.functional
    x = torch.zeros((1, 1, *stack.size), dtype=torch.float64, requires_grad=True)
    y, (rows, cols) = (x[:, :, 0] if stack.dims == 1 else x), stack.size
    for ra, ca in stack.axes:
        (rlo, rhi), (clo, chi) = ra.pads(rows), ca.pads(cols)
        if stack.dims == 1:
            ones = torch.ones((1, 1, ca.k), dtype=torch.float64)
            if ca.transposed:
                y = functional.conv_transpose1d(
                    y, ones, stride=ca.s, padding=clo, output_padding=ca.op, dilation=ca.d
                )
            else:
                y = functional.conv1d(
                    functional.pad(y, (clo, chi)), ones, stride=ca.s, dilation=ca.d
                )
        else:
            ones = torch.ones((1, 1, ra.k, ca.k), dtype=torch.float64)
            if ra.transposed:
                y = functional.conv_transpose2d(
                    y, ones, stride=(ra.s, ca.s), padding=(rlo, clo),
                    output_padding=(ra.op, ca.op), dilation=(ra.d, ca.d),
                )  # fmt: skip
            else:
                padded = functional.pad(y, (clo, chi, rlo, rhi))
                y = functional.conv2d(padded, ones, stride=(ra.s, ca.s), dilation=(ra.d, ca.d))
        rows, cols = ra.out(rows), ca.out(cols)
    y = y[:, :, None] if stack.dims == 1 else y
    (grad,) = torch.autograd.grad(y[0, 0, (rows - 1) // 2, (cols - 1) // 2], x)
    found: np.ndarray = grad[0, 0].numpy()
    return found[0] if stack.dims == 1 else found


@settings(max_examples=40, deadline=None)
@given(stack=any_stack)
def test_uniform_erf_is_the_autograd_gradient_of_an_all_ones_stack(
    torch: Any, stack: Stack
) -> None:
    assume(stack.first_invalid() is None)
    got = effective_receptive_field(list(stack.kwargs), stack.input_size, dims=stack.dims)
    assert np.array_equal(got, autograd_ones(torch, stack))


# -- cases by hand --------------------------------------------------------------------------

DILATED = [dict(kernel_size=3, dilation=d, padding="same") for d in (1, 2, 4)]
THREE = [dict(kernel_size=3, padding="same")] * 3


def test_three_3x3_layers_are_the_trinomial_per_axis() -> None:
    """1, 3, 6, 7, 6, 3, 1 paths per axis: the coefficients of (1 + x + x²)³."""
    rows, cols = path_counts(THREE, 9)
    assert rows == cols == (0, 1, 3, 6, 7, 6, 3, 1, 0)
    heatmap = effective_receptive_field(THREE, 9)
    assert heatmap[4, 4] == 49 and heatmap.sum() == 27**2


def test_dilated_stack_reaches_every_cell_of_15_once_or_more() -> None:
    """Offsets a + 2b + 4c for a, b, c in -1..1: 27 paths over 15 cells, the centre once
    (a + 2b takes -3..3 as 1, 1, 2, 1, 2, 1, 1 ways; 4c shifts it by -4, 0, 4)."""
    (counts,) = path_counts(DILATED, 15, dims=1)
    assert counts == (1, 1, 2, 1, 3, 2, 3, 1, 3, 2, 3, 1, 2, 1, 1)
    assert sum(counts) == 27


def test_path_counts_are_exact_beyond_float_precision() -> None:
    (counts,) = path_counts([dict(kernel_size=3, padding="same")] * 40, 81, dims=1)
    assert sum(counts) == 3**40 and counts[40] > 2**53


def test_layer_picks_a_prefix_and_counts_from_the_end() -> None:
    first = effective_receptive_field(DILATED, 15, layer=0)
    assert np.array_equal(first, effective_receptive_field(DILATED[:1], 15))
    assert np.array_equal(effective_receptive_field(DILATED, 15, layer=-2),
                          effective_receptive_field(DILATED[:2], 15))  # fmt: skip


def test_summary_of_three_3x3_layers() -> None:
    last = erf_layers(THREE, 9)[-1]
    assert (last.layer, last.unit, last.field, last.first, last.clipped) == (
        3, (4, 4), (7, 7), (1, 1), False
    )  # fmt: skip
    # Per axis 1, 3, 6, 7, 6, 3, 1 of 27: the central 3 hold 19/27, so 3x3 holds (19/27)²,
    # 0.495, just under half; the central 5x5 holds (25/27)².
    assert last.central == (5, 5)
    assert last.share == pytest.approx((25 / 27) ** 2)
    var = sum(n * (i - 3) ** 2 for i, n in enumerate((1, 3, 6, 7, 6, 3, 1))) / 27
    assert last.std == pytest.approx((var**0.5, var**0.5))
    assert last.mean == (4.0, 4.0) and last.total == 27**2 and last.peak == 49


def test_summary_of_a_field_past_the_input() -> None:
    """Kernel 3 stride 2 padding 1, three times, on 16: unit 0 of the last layer reads padding."""
    stack = [dict(kernel_size=3, stride=2, padding=1)] * 3
    stats = receptive_field_stats(stack, 16)
    last = erf_layers(stack, 16)[-1]
    assert last.unit == (0, 0) and last.field == stats[-1].size == (15, 15)
    assert last.first == stats[-1].start == (-7, -7) and last.clipped


def test_a_unit_that_reads_only_padding_has_no_mass() -> None:
    summary = erf_summary(np.zeros((3, 3)), (3, 3), (0, 0))
    assert summary.total == 0 and summary.share == 0 and np.isnan(summary.std[0])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(layer=3), "layer: got 3; expected an index of the 3 layers: 0 to 2, or -3 to -1"),
        (dict(layer="x"), "layer: got 'x'; expected an index of the 3 layers"),
        (dict(weights="ones"), "weights: got 'ones'; expected one of uniform, model"),
    ],
)
def test_bad_arguments_name_them(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ParameterError) as caught:
        effective_receptive_field(DILATED, 15, **kwargs)
    assert str(caught.value).startswith(message)


def test_the_core_does_not_import_torch() -> None:
    import subprocess

    code = (
        "import sys; from convanim.erf import effective_receptive_field as e;"
        "e([dict(kernel_size=3)], 5); print('torch' in sys.modules, 'matplotlib' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.split() == ["False", "False"], result.stderr


# -- a module's own weights -----------------------------------------------------------------


def test_model_erf_of_a_tiny_module_by_hand(torch: Any) -> None:
    """Conv1d kernel (1, 2, 3), then a ReLU-free Conv1d kernel (1, -1): the centre unit of the
    last layer is w2 · (w1 * x) at two positions, so its gradient is the full convolution
    of the kernels, (1, 1, 1, -3) shifted to where the unit reads."""
    nn = torch.nn
    model = nn.Sequential(nn.Conv1d(1, 1, 3, bias=False), nn.Conv1d(1, 1, 2, bias=False))
    with torch.no_grad():
        model[0].weight.copy_(torch.tensor([[[1.0, 2.0, 3.0]]]))
        model[1].weight.copy_(torch.tensor([[[1.0, -1.0]]]))
    # input 7 -> 5 -> 4 units; centre unit 1 reads level-1 units 1, 2, which read inputs 1..4
    # y = (x1 + 2 x2 + 3 x3) - (x2 + 2 x3 + 3 x4) = x1 + x2 + x3 - 3 x4
    got = effective_receptive_field(model, (1, 7), weights="model")
    assert np.allclose(got, [0, 1, 1, 1, 3, 0, 0])
    first = effective_receptive_field(model, (1, 7), layer=0, weights="model")
    assert np.allclose(first, [0, 0, 1, 2, 3, 0, 0])  # unit 2 of 5 reads inputs 2..4
    by_name = effective_receptive_field(model, (1, 7), layer="0", weights="model")
    assert np.array_equal(first, by_name)


def test_model_erf_sums_channels_and_stops_at_the_layer(torch: Any) -> None:
    """Two input channels, two output channels: the unit is the sum of the output channels at
    the centre; the heatmap sums |gradient| over the input channels. Layers after the chosen
    one are not run (here one that would fail on this input)."""
    nn = torch.nn
    conv = nn.Conv2d(2, 2, 3, padding=1, bias=False)
    with torch.no_grad():
        conv.weight.copy_(torch.arange(36, dtype=torch.float32).reshape(2, 2, 3, 3) - 17)
    model = nn.Sequential(conv, nn.Flatten(), nn.Linear(999, 1))
    got = effective_receptive_field(model, (2, 5, 5), weights="model")
    weight = conv.weight.detach().numpy()
    summed = weight.sum(axis=0)  # per input channel: the sum over the output channels
    expected = np.zeros((5, 5))
    expected[1:4, 1:4] = np.abs(summed).sum(axis=0)
    assert np.allclose(got, expected)


def test_model_erf_of_an_all_ones_module_is_the_path_count(torch: Any) -> None:
    nn = torch.nn
    layers = [nn.Conv2d(1, 1, 3, padding="same", dilation=d, bias=False) for d in (1, 2, 4)]
    for layer in layers:
        nn.init.ones_(layer.weight)
    model = nn.Sequential(*layers, nn.ReLU())
    got = effective_receptive_field(model, (1, 15, 15), weights="model")
    assert np.allclose(got, effective_receptive_field(DILATED, 15))


def test_model_erf_mistakes_are_one_line(torch: Any) -> None:
    nn = torch.nn
    model = nn.Sequential(nn.Conv2d(1, 1, 3), nn.ReLU())
    cases = [
        (dict(layer=5), "layer: got 5; expected an index of the model's 1 convolution"),
        (dict(layer="body.9"), "layer: got 'body.9'; no module of that name; the model's"),
        (dict(input_size=(3, 9, 9)), "input_shape: the model raised RuntimeError on an input"),
        (dict(input_size=(9,)), "input_shape: got (9,); expected (channels, rows, cols)"),
        (dict(input_size=(1, 9)), "input_shape: got (1, 9); layer '0' is 2-D (Conv2d): expec"),
    ]
    for kwargs, message in cases:
        arguments = {"input_size": (1, 9, 9), "weights": "model", **kwargs}
        with pytest.raises(ParameterError) as caught:
            effective_receptive_field(model, **arguments)
        assert str(caught.value).startswith(message), str(caught.value)
        assert "\n" not in str(caught.value)
    assert model.training  # the mode is restored


# -- the figure -----------------------------------------------------------------------------

STACKS = {
    "three": (THREE, 9, 2),
    "dilated": (DILATED, 15, 2),
    "strided": ([dict(kernel_size=3, stride=2, padding=1)] * 3, 17, 2),
    "wavenet": ([dict(kernel_size=2, dilation=d, padding="causal") for d in (1, 2, 4)], 15, 1),
}


def erf_map(name: str, theme: str = "solarized", scale: float = 1.0) -> Any:
    from convanim.erf_render import ErfMap
    from convanim.options import RenderOptions

    layers, size, dims = STACKS[name]
    entries = erf_layers(layers, size, dims=dims)
    titles = [f"layer {entry.layer}" for entry in entries]
    return ErfMap(entries, titles, RenderOptions(theme=theme, scale=scale))


def rgb(colour: str) -> tuple[int, int, int]:
    from convanim.theme import hex_rgb

    return hex_rgb(colour)


def pixel(pixels: np.ndarray, x: float, y: float) -> tuple[int, ...]:
    return tuple(int(v) for v in pixels[int(y), int(x)][:3])


@pytest.mark.parametrize("name", sorted(STACKS))
def test_the_grid_is_made_once_and_drawn_in_every_frame(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The grid's lines are laid out with the figure, not again for each frame, and every
    frame, raster or vector, draws those lines."""
    from matplotlib.collections import LineCollection
    from matplotlib.colors import to_rgba

    figure = erf_map(name)
    before = figure.render(0)

    def again() -> Any:
        raise AssertionError("the grid is made once, when the figure is laid out")

    monkeypatch.setattr(figure, "_grid_segments", again)
    for index in range(figure.frame_count):
        figure.render(index)
        vector = figure.vector([index], 1).artists
        grey = to_rgba(figure.grid_colour)
        (grid,) = [
            a for a in vector if isinstance(a, LineCollection) and tuple(a.get_colors()[0]) == grey
        ]
        assert np.allclose(np.asarray(grid.get_segments()), figure.grid_lines)
    assert np.array_equal(figure.render(0), before)


THEMED = [
    ("three", "solarized"),
    ("dilated", "dark"),
    ("strided", "okabe-ito"),
    ("wavenet", "solarized"),
]


@pytest.mark.parametrize(("name", "theme"), THEMED)
def test_every_cell_has_its_heat_and_the_support_is_the_field(name: str, theme: str) -> None:
    """Cell centres (off the dashed box) carry the colour of their level; the coloured cells
    are exactly the theoretical field's cells, every frame."""
    figure = erf_map(name, theme)
    for index, entry in enumerate(figure.entries):
        pixels = figure.render(index)
        levels = figure.shown["levels"]
        rows, cols = levels.shape
        coloured = set()
        for row, col in np.ndindex(rows, cols):
            x0, y0, x1, y1 = figure.cell_rect(row, col)
            found = pixel(pixels, x0 + 0.3 * (x1 - x0), y0 + 0.3 * (y1 - y0))
            assert found == rgb(figure.heat(int(levels[row, col]))), (index, row, col)
            if found != rgb(figure.theme.background):
                coloured.add((row, col))
        support = {(0, *c) if len(c) == 1 else c for c in entry.support}
        assert coloured == support
        assert levels.max() == 16  # the largest is the full highlight


def test_the_outline_is_the_theoretical_field() -> None:
    """The thick line runs along the field's border, and not along the input's other lines."""
    figure = erf_map("three")
    pixels = figure.render(2)  # layer 3: the 7×7 field from cell 1, 1 of the 9×9 input
    line = rgb(figure.theme.line)
    x0, y0, _, _ = figure.cell_rect(1, 1)
    _, _, x1, y1 = figure.cell_rect(7, 7)
    assert figure.field_rect(2) == (x0, y0, x1, y1)
    for row in range(1, 8):
        _, top, _, bottom = figure.cell_rect(row, 1)
        middle = (top + bottom) / 2
        for x in (x0, x1):
            assert pixel(pixels, x, middle) == line, (row, x)
    # The grid line between columns 0 and 1 is in the field; between 8 and the border too, but
    # the line at column 1's left edge one row above the field is a thin grid line.
    gx0, gy0, _, gy1 = figure.cell_rect(0, 1)
    assert pixel(pixels, gx0, (gy0 + gy1) / 2) == rgb(figure.grid_colour)
    # Layer 1: a 3×3 field from cell 3, 3.
    figure.render(0)
    assert figure.field_rect(0) == (*figure.cell_rect(3, 3)[:2], *figure.cell_rect(5, 5)[2:])


def test_the_colour_scale_is_drawn_and_labelled() -> None:
    figure = erf_map("dilated")
    pixels = figure.render(2)
    for level in range(17):
        x0, y0, x1, y1 = figure.swatch_rect(level)
        assert pixel(pixels, (x0 + x1) / 2, (y0 + y1) / 2) == rgb(figure.heat(level)), level
    texts = [text for text, _ in figure.texts()]
    for label in ("0", "0.5", "1", "|∂ unit / ∂ input|, as a share of the layer's largest"):
        assert label in texts
    assert "field 15×15 · half in the central 11×11 · std 3.7 cells" in texts
    width, height = figure.size
    for _, box in figure.texts():  # every text inside the image
        assert box.x0 >= 0 and box.x1 <= width and box.y0 >= 0 and box.y1 <= height


def test_a_gif_has_one_distinct_frame_per_layer(tmp_path: Path, runner: Any) -> None:
    from tests.helpers import gif_frames

    path = tmp_path / "erf.gif"
    result = runner.invoke(main, ["erf", "-k", "3", "-d", "1,2,4", "-o", str(path)])
    assert result.exit_code == 0, result.output
    frames = gif_frames(path)
    assert len(frames) == 3
    assert len({frame.tobytes() for frame in frames}) == 3
    # Each frame's coloured cells are its layer's field: 3×3, 7×7 and 15×15 cells.
    figure = erf_map("dilated")
    background = rgb(figure.theme.background)
    for frame, cells in zip(frames, (9, 49, 225), strict=True):
        coloured = 0
        for row, col in np.ndindex(15, 15):
            x0, y0, x1, y1 = figure.cell_rect(row, col)
            found = pixel(frame, x0 + 0.3 * (x1 - x0), y0 + 0.3 * (y1 - y0))
            coloured += max(abs(a - b) for a, b in zip(found, background, strict=True)) > 6
        assert coloured == cells


def test_a_png_shows_one_layer_and_an_svg_draws_it_too(tmp_path: Path, runner: Any) -> None:
    png, svg = tmp_path / "erf.png", tmp_path / "erf.svg"
    for path in (png, svg):
        words = ["erf", "-k", "3,3,3", "-i", "9", "--layer", "1", "-o", str(path)]
        result = runner.invoke(main, words)
        assert result.exit_code == 0, result.output
    figure = erf_map("three")
    with Image.open(png) as image:
        assert image.size == figure.size
        shown = np.asarray(image.convert("RGB"))
    drawn = figure.render(1)  # layer 2 of 3: index 1; the titles differ, the heatmaps not
    _, _, x1, y1 = figure.cell_rect(8, 8)
    assert np.array_equal(shown[: int(y1) + 4, : int(x1) + 4], drawn[: int(y1) + 4, : int(x1) + 4])
    assert svg.read_text(encoding="utf-8").count("<path") > 25


@pytest.fixture
def runner() -> Any:
    import inspect

    from click.testing import CliRunner

    if "mix_stderr" in inspect.signature(CliRunner.__init__).parameters:  # Click 8.1
        return CliRunner(mix_stderr=False)  # type: ignore[call-arg]
    return CliRunner()


@pytest.mark.parametrize(
    ("words", "message"),
    [
        (
            ["-k", "3", "-i", "300"],
            "Error: --input: the input is 300x300, over the limit of 256 "
            "cells per side for a heatmap; use a smaller input",
        ),
        (
            ["-k", "3,3", "--layer", "2"],
            "Error: --layer: got 2; expected an index of the 2 "
            "layers: 0 to 1, or -2 to -1 from the end",
        ),
        (
            ["-k", "3,3", "--layer", "x"],
            "Error: --layer: got 'x'; expected a layer's index: 0, 1, ..., or -1 the last "
            "(names are for --torch and --onnx models' layers)",
        ),
        (
            ["-k", "3,3", "-s", "1,2,3"],
            "Error: --kernel/--stride/--dilation/--padding: kernel has 2, "
            "stride has 3 values; give one value (used for every layer) or one per layer",
        ),
        (
            ["--dims", "1", "-k", "3", "-i", "4,4"],
            "Error: --input: got [4, 4]; a 1-D stack takes an integer >= 1",
        ),
    ],
)
def test_mistakes_are_one_line_exit_2_and_no_file(
    tmp_path: Path, runner: Any, words: list[str], message: str
) -> None:
    path = tmp_path / "erf.png"
    result = runner.invoke(main, ["erf", *words, "-o", str(path)])
    assert result.exit_code == 2, result.output
    assert result.stderr.strip() == message
    assert not path.exists()


def test_a_gif_refuses_a_layer(tmp_path: Path, runner: Any) -> None:
    path = tmp_path / "erf.gif"
    result = runner.invoke(main, ["erf", "-k", "3,3", "--layer", "0", "-o", str(path)])
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "Error: --layer: got 0; a .gif shows every layer in turn: --layer picks one for a "
        ".png, .svg or .pdf"
    )
    assert not path.exists()


def test_a_stacks_fields_are_worked_out_once_and_shared_read_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A render and its alt text (and the next figure of the same stack) share the fields."""
    from convanim import erf as erf_module
    from convanim.figures import parse_figure
    from convanim.kinds import erf as erf_kind

    monkeypatch.setattr(erf_kind, "_STACK_ENTRIES", {})
    calls = []
    real = erf_module.erf_layers

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(erf_module, "erf_layers", counted)
    figure = parse_figure("e", {"kind": "erf", "kernel": [3, 3], "dilation": [1, 2]})
    first = figure.declaration.entries(figure)
    figure.alt_text()
    again = parse_figure("e", {"kind": "erf", "kernel": [3, 3], "dilation": [1, 2]})
    assert [e.heatmap.tolist() for e in again.declaration.entries(again)] == [
        e.heatmap.tolist() for e in first
    ]
    assert len(calls) == 1
    with pytest.raises(ValueError, match="read-only"):
        first[0].heatmap[0, 0] = 1.0
    other = parse_figure("e", {"kind": "erf", "kernel": [3, 3], "dilation": [1, 3]})
    other.declaration.entries(other)
    assert len(calls) == 2
