"""PyTorch's ``padding_mode`` (zeros, reflect, replicate, circular) in 1-D, 2-D and 3-D.

Two references, independent of ``convanim``: ``np.pad`` (``reflect``, ``edge``, ``wrap``,
``constant``) followed by a correlation written as a loop, and PyTorch's ``nn.Conv1d/2d/3d``
with that ``padding_mode`` and the weights set. ``ConvSpec`` refuses exactly what PyTorch
refuses: reflect padding not smaller than the input, circular padding larger than it, any mode
but zeros for a transposed convolution.
"""

from __future__ import annotations

import itertools
import warnings
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from convanim.cli import main
from convanim.geometry import PAD_MODES, Cell, ConvSpec, ConvSpecError, pad_source
from convanim.values import drawn_values, evaluate, worked

NP_MODES = {"zeros": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}
TORCH_CONV = {1: "Conv1d", 2: "Conv2d", 3: "Conv3d"}


def index_pad(size: int, pads: tuple[int, int], mode: str) -> list[int]:
    """The input index np.pad copies into each padded position; -1 for zeros."""
    if mode == "zeros":
        return np.pad(np.arange(size), pads, constant_values=-1).tolist()
    return np.pad(np.arange(size), pads, mode=NP_MODES[mode]).tolist()  # type: ignore[call-overload]


def ref_conv(
    x: np.ndarray,
    w: np.ndarray,
    stride: tuple[int, ...],
    pads: tuple[tuple[int, int], ...],
    dilation: tuple[int, ...],
    mode: str,
) -> np.ndarray:
    """np.pad in the mode, then a strided, dilated correlation as a loop."""
    padded = np.pad(x, pads, mode=NP_MODES[mode])  # type: ignore[call-overload]
    dims = x.ndim
    footprint = [dilation[a] * (w.shape[a] - 1) + 1 for a in range(dims)]
    shape = [(padded.shape[a] - footprint[a]) // stride[a] + 1 for a in range(dims)]
    out = np.zeros(shape)
    for cell in itertools.product(*(range(n) for n in shape)):
        total = 0.0
        for tap in itertools.product(*(range(k) for k in w.shape)):
            at = tuple(cell[a] * stride[a] + tap[a] * dilation[a] for a in range(dims))
            total += padded[at] * w[tap]
        out[cell] = total
    return out


@st.composite
def cases(draw: st.DrawFn, torch_padding: bool = False) -> dict[str, Any]:
    """A random direct convolution with a padding mode, within the mode's limits.

    ``torch_padding``: one padding number per axis (PyTorch's Conv*d take no uneven sides
    but through 'same').
    """
    dims = draw(st.sampled_from([1, 2, 3]))
    most = {1: 8, 2: 6, 3: 4}[dims]
    mode = draw(st.sampled_from(PAD_MODES))
    size = tuple(draw(st.integers(1, most)) for _ in range(dims))
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(dims))
    stride = tuple(draw(st.integers(1, 3)) for _ in range(dims))
    dilation = tuple(draw(st.integers(1, 2)) for _ in range(dims))

    def limit(n: int) -> int:
        return {"reflect": n - 1, "circular": n}.get(mode, 4)

    if torch_padding:
        sides = [draw(st.integers(0, min(limit(n), 4))) for n in size]
        pads = tuple((p, p) for p in sides)
    else:
        pads = tuple(
            (draw(st.integers(0, min(limit(n), 4))), draw(st.integers(0, min(limit(n), 4))))
            for n in size
        )
    for a in range(dims):
        assume(size[a] + sum(pads[a]) >= dilation[a] * (kernel[a] - 1) + 1)
    return {
        "dims": dims,
        "mode": mode,
        "size": size,
        "kernel": kernel,
        "stride": stride,
        "dilation": dilation,
        "pads": pads,
    }


def spec_of(case: dict[str, Any]) -> ConvSpec[Any, Any]:
    dims = case["dims"]
    padding: Any = case["pads"] if dims > 1 else case["pads"][0]
    return ConvSpec(
        case["size"] if dims > 1 else case["size"][0],
        case["kernel"] if dims > 1 else case["kernel"][0],
        case["stride"] if dims > 1 else case["stride"][0],
        padding,
        case["dilation"] if dims > 1 else case["dilation"][0],
        dims=dims,
        padding_mode=case["mode"],
    )


def values_for(case: dict[str, Any], seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return (
        rng.integers(-4, 5, case["size"]).astype(float),
        rng.integers(-2, 3, case["kernel"]).astype(float),
    )


# -- against np.pad -----------------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(cases(), st.integers(0, 2**16))
def test_evaluate_is_np_pad_then_the_loop(case: dict[str, Any], seed: int) -> None:
    spec = spec_of(case)
    x, w = values_for(case, seed)
    expected = ref_conv(x, w, case["stride"], case["pads"], case["dilation"], case["mode"])
    np.testing.assert_array_equal(evaluate(spec, x, w), expected)


@settings(max_examples=150, deadline=None)
@given(cases(), st.integers(0, 2**16))
def test_the_drawn_grid_holds_np_pad(case: dict[str, Any], seed: int) -> None:
    """Every drawn cell holds what np.pad puts there; a padding cell's source is the input
    cell whose index np.pad copies (pad_source per axis, DrawnGrid.source_at, the volume's
    source slices)."""
    spec = spec_of(case)
    x, _ = values_for(case, seed)
    mode = case["mode"]
    padded = np.pad(x, case["pads"], mode=NP_MODES[mode])  # type: ignore[call-overload]
    np.testing.assert_array_equal(drawn_values(spec, x), padded)
    for a, (n, (lo, hi)) in enumerate(zip(case["size"], case["pads"], strict=True)):
        got = [pad_source(i, n, mode) for i in range(-lo, n + hi)]
        assert [-1 if g is None else g for g in got] == index_pad(n, (lo, hi), mode), a
    if case["dims"] == 3:
        volume = spec.volume()
        if mode != "zeros":
            assert volume.source_depths is not None
            depths = index_pad(case["size"][0], case["pads"][0], mode)
            assert volume.source_depths.tolist() == depths
        grid = volume.plane
    else:
        grid = spec.grid()
    plane = [(0, 0)] * (2 - case["dims"]) + list(case["pads"][-2:])  # 1-D: one row
    plane_sizes = [1] * (2 - case["dims"]) + list(case["size"][-2:])
    rows = index_pad(plane_sizes[0], plane[0], mode)
    cols = index_pad(plane_sizes[1], plane[1], mode)
    copies = grid.padding_sources()
    for (r, c), code in np.ndenumerate(grid.cells):
        source = grid.source_at(r, c)
        expected = (int(rows[r]), int(cols[c])) if rows[r] >= 0 and cols[c] >= 0 else None
        assert source == expected
        if code == Cell.PADDING:
            assert copies.get((r, c)) == expected
    if mode == "zeros":
        assert copies == {}


@settings(max_examples=100, deadline=None)
@given(cases(), st.integers(0, 2**16))
def test_sources_include_the_copied_cells(case: dict[str, Any], seed: int) -> None:
    """A frame's sources are the input cells np.pad's copies under its taps come from: an
    input of one-hot reaches the output cells whose frames list that cell."""
    spec = spec_of(case)
    rng = np.random.default_rng(seed)
    cell = tuple(int(rng.integers(0, n)) for n in case["size"])
    x = np.zeros(case["size"])
    x[cell] = 1.0
    w = np.ones(case["kernel"])
    out = ref_conv(x, w, case["stride"], case["pads"], case["dilation"], case["mode"])
    reached = {tuple(int(i) for i in at) for at in np.argwhere(out > 0)}
    assert reached == {f.output for f in spec.frames() if cell in f.sources}


# -- against PyTorch ----------------------------------------------------------------------------


def torch_conv(
    case: dict[str, Any],
    x: np.ndarray,
    w: np.ndarray,
    channels: tuple[int, int, int] = (1, 1, 1),
    padding: Any = None,
) -> Any:
    """PyTorch's Conv1d/2d/3d with the case's padding_mode and the weights ``w``; ``channels``
    is (in_channels, out_channels, groups); the output without its batch axis."""
    torch = pytest.importorskip("torch")
    ins, outs, groups = channels
    layer = getattr(torch.nn, TORCH_CONV[case["dims"]])(
        ins,
        outs,
        case["kernel"],
        stride=case["stride"],
        padding=tuple(lo for lo, _ in case["pads"]) if padding is None else padding,
        dilation=case["dilation"],
        groups=groups,
        bias=False,
        padding_mode=case["mode"],
    ).double()
    with torch.no_grad(), warnings.catch_warnings():
        # PyTorch's note that an even 'same' kernel needs a padded copy (its cost, not ours).
        warnings.filterwarnings("ignore", message="Using padding='same'", category=UserWarning)
        layer.weight.copy_(torch.tensor(w).reshape(layer.weight.shape))
        return layer(torch.tensor(x).reshape(1, ins, *case["size"]))[0].numpy()


@settings(max_examples=120, deadline=None)
@given(cases(torch_padding=True), st.integers(0, 2**16))
def test_evaluate_is_pytorch(case: dict[str, Any], seed: int) -> None:
    spec = spec_of(case)
    x, w = values_for(case, seed)
    np.testing.assert_allclose(evaluate(spec, x, w), torch_conv(case, x, w)[0], atol=1e-9)


@settings(max_examples=60, deadline=None)
@given(
    cases(torch_padding=True),
    st.integers(0, 2**16),
    st.integers(1, 2),
    st.integers(1, 2),
    st.integers(1, 2),
)
def test_channels_and_groups_are_pytorch(
    case: dict[str, Any], seed: int, groups: int, per_in: int, per_out: int
) -> None:
    """Channels and groups with a padding mode, in 1-D, 2-D and 3-D (Conv3d's too): PyTorch's."""
    ins, outs = groups * per_in, groups * per_out
    spec = ConvSpec(
        case["size"],
        case["kernel"],
        case["stride"],
        tuple(lo for lo, _ in case["pads"]),
        case["dilation"],
        dims=case["dims"],
        padding_mode=case["mode"],
        in_channels=ins,
        out_channels=outs,
        groups=groups,
    )
    rng = np.random.default_rng(seed)
    x = rng.integers(-4, 5, (ins, *case["size"])).astype(float)
    w = rng.integers(-2, 3, (outs, per_in, *case["kernel"])).astype(float)
    expected = torch_conv(case, x, w, (ins, outs, groups))
    np.testing.assert_allclose(evaluate(spec, x, w), expected, atol=1e-9)


@settings(max_examples=60, deadline=None)
@given(cases(), st.integers(0, 2**16))
def test_same_padding_with_a_mode_is_pytorch_at_random(case: dict[str, Any], seed: int) -> None:
    """padding='same' (stride 1, where PyTorch takes it) with any mode and dilation."""
    dims = case["dims"]
    size, kernel, dilation = case["size"], case["kernel"], case["dilation"]
    try:
        spec = ConvSpec(size, kernel, 1, "same", dilation, dims=dims, padding_mode=case["mode"])
    except ConvSpecError as error:  # reflect/circular wider than the input: PyTorch refuses too
        with pytest.raises(RuntimeError):
            torch_conv({**case, "stride": (1,) * dims}, *values_for(case, seed), padding="same")
        assert error.param == "padding"
        return
    x, w = values_for(case, seed)
    expected = torch_conv({**case, "stride": (1,) * dims}, x, w, padding="same")[0]
    np.testing.assert_allclose(evaluate(spec, x, w), expected, atol=1e-9)


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
@pytest.mark.parametrize("dims", [1, 2, 3])
def test_same_padding_with_a_mode_is_pytorch(mode: str, dims: int) -> None:
    """'same' with an even kernel pads unevenly (the extra cell after); PyTorch copies the
    same cells."""
    torch = pytest.importorskip("torch")
    size = (4, 5, 3)[:dims] if dims > 1 else (5,)
    kernel = (2, 4, 3)[:dims] if dims > 1 else (4,)
    spec = ConvSpec(size, kernel, padding="same", dims=dims, padding_mode=mode)
    rng = np.random.default_rng(dims)
    x = rng.integers(-4, 5, size).astype(float)
    w = rng.integers(-2, 3, kernel).astype(float)
    layer = getattr(torch.nn, TORCH_CONV[dims])(
        1, 1, kernel, padding="same", bias=False, padding_mode=mode
    ).double()
    with torch.no_grad():
        layer.weight.copy_(torch.tensor(w)[None, None])
        expected = layer(torch.tensor(x)[None, None])[0, 0].numpy()
    np.testing.assert_allclose(evaluate(spec, x, w), expected)


def _torch_refuses(torch: Any, dims: int, size: tuple[int, ...], pad: int, mode: str) -> bool:
    layer = getattr(torch.nn, TORCH_CONV[dims])(1, 1, 1, padding=pad, padding_mode=mode)
    try:
        layer(torch.zeros((1, 1, *size)))
    except RuntimeError:
        return True
    return False


@settings(max_examples=80, deadline=None)
@given(
    st.sampled_from([1, 2, 3]),
    st.lists(st.integers(1, 5), min_size=3, max_size=3),
    st.integers(0, 6),
    st.sampled_from(PAD_MODES),
)
def test_refused_exactly_where_pytorch_refuses(
    dims: int, sizes: list[int], pad: int, mode: str
) -> None:
    torch = pytest.importorskip("torch")
    size = tuple(sizes[:dims])
    refused = _torch_refuses(torch, dims, size, pad, mode)
    try:
        ConvSpec(size if dims > 1 else size[0], 1, padding=pad, dims=dims, padding_mode=mode)
    except ConvSpecError as error:
        assert refused, error
        assert error.param == "padding"
        assert mode in str(error) and "\n" not in str(error)
    else:
        assert not refused


@pytest.mark.parametrize("dims", [1, 2, 3])
@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_transposed_refuses_every_mode_but_zeros(dims: int, mode: str) -> None:
    torch = pytest.importorskip("torch")
    name = f"ConvTranspose{dims}d"
    with pytest.raises(ValueError, match="zeros"):
        getattr(torch.nn, name)(1, 1, 3, padding_mode=mode)
    with pytest.raises(ConvSpecError) as caught:
        ConvSpec(4, 3, transposed=True, dims=dims, padding_mode=mode)
    assert caught.value.param == "padding_mode"
    assert name in str(caught.value) and "zeros" in str(caught.value)
    ConvSpec(4, 3, transposed=True, dims=dims, padding_mode="zeros")


def test_an_unknown_mode_is_refused() -> None:
    with pytest.raises(ConvSpecError) as caught:
        ConvSpec(4, 3, padding=1, padding_mode="mirror")
    assert caught.value.param == "padding_mode"
    assert "zeros, reflect, replicate, circular" in str(caught.value)


def test_the_worked_numbers_hold_the_copies() -> None:
    """The numbers a figure shows (every drawn cell and the first output's sum) are the
    copies: a reflect-padded 4x4, whose padding cell (-1, -1) holds input cell (1, 1)."""
    spec = ConvSpec(4, 3, padding=1, padding_mode="reflect")
    x = np.arange(16.0).reshape(4, 4)
    w = np.ones((3, 3))
    numbers = worked(spec, x, w)
    assert numbers.drawn[0, 0] == x[1, 1] and numbers.drawn[0, 5] == x[1, 2]
    assert numbers.output[0, 0] == np.pad(x, 1, mode="reflect")[:3, :3].sum()


# -- the command line -----------------------------------------------------------------------------


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.mark.parametrize("dims", ["1", "2", "3"])
def test_transposed_with_a_mode_is_one_line_exit_2_no_file(
    runner: CliRunner, tmp_path: Any, dims: str
) -> None:
    out = tmp_path / "x.gif"
    words = ["conv", "--dims", dims, "-i", "3", "-k", "3", "--transposed"]
    result = runner.invoke(main, [*words, "--padding-mode", "circular", "-o", str(out)])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert lines[-1].startswith("Error: --padding-mode: got 'circular'")
    assert f"ConvTranspose{dims}d" in lines[-1]
    assert "Traceback" not in result.output and not out.exists()


def test_reflect_too_wide_is_one_line_exit_2(runner: CliRunner, tmp_path: Any) -> None:
    out = tmp_path / "x.png"
    result = runner.invoke(
        main, ["conv", "-i", "3", "-p", "3", "--padding-mode", "reflect", "-o", str(out)]
    )
    assert result.exit_code == 2
    assert result.output.strip().splitlines()[-1] == (
        "Error: --padding: got 3 on the rows axis; reflect padding must be smaller than the "
        "input size (3), as in PyTorch: at most 2, or another padding mode"
    )
    assert not out.exists()


def test_an_unknown_mode_on_the_command_line(runner: CliRunner) -> None:
    result = runner.invoke(main, ["info", "conv", "-i", "4", "--padding-mode", "mirror"])
    assert result.exit_code == 2
    assert "--padding-mode" in result.output and "reflect" in result.output


def test_pooling_has_no_padding_mode(runner: CliRunner) -> None:
    """PyTorch's pools take no padding_mode: the pool kind has no such option."""
    from convanim import kinds

    assert "padding-mode" not in kinds.get("pool").option_keys()
    result = runner.invoke(main, ["info", "pool", "-i", "4", "-p", "1", "--padding-mode", "zeros"])
    assert result.exit_code == 2 and "no such option" in result.output


def test_a_manifest_names_the_key_of_a_bad_mode() -> None:
    from convanim.figures import FigureError, parse_figure

    with pytest.raises(FigureError, match="padding-mode: got 'wrap'; expected one of zeros, "):
        parse_figure("f", {"kind": "conv", "input": 4, "padding": 1, "padding_mode": "wrap"})


@pytest.mark.parametrize("key", ["padding_mode", "padding-mode"])
def test_the_manifest_takes_both_spellings(key: str) -> None:
    from convanim.figures import parse_figure

    figure = parse_figure("f", {"kind": "conv", "input": 4, "padding": 1, key: "circular"})
    facts = figure.facts()
    assert facts["padding_mode"] == "circular"
    assert "circular padding" in facts["alt_text"]
    assert "--padding-mode circular" in figure.command()


# -- the matrix ------------------------------------------------------------------------------


@settings(max_examples=100, deadline=None)
@given(cases(), st.integers(0, 2**16))
def test_the_matrix_adds_the_weights_of_taps_reading_one_cell(
    case: dict[str, Any], seed: int
) -> None:
    """C @ x equals evaluate with a padding mode (1-D and 2-D: the matrix has no 3-D form);
    a reflect/replicate/circular entry may sum several weights."""
    from convanim.matrix import conv_matrix

    assume(case["dims"] < 3)
    spec = spec_of(case)
    x, w = values_for(case, seed)
    matrix = conv_matrix(spec, w)
    np.testing.assert_allclose(matrix @ x.ravel(), evaluate(spec, x, w).ravel(), atol=1e-9)


def test_the_matrix_of_replicate_sums_the_edge_taps() -> None:
    """1-D replicate, kernel 3 of ones, padding 2 on a length-3 input: output 0 reads
    [x0, x0, x0], so its row is (3, 0, 0); the Jacobian of PyTorch's layer."""
    from convanim.matrix import conv_matrix

    spec = ConvSpec(3, 3, padding=2, dims=1, padding_mode="replicate")
    matrix = conv_matrix(spec)
    assert matrix[0].tolist() == [3.0, 0.0, 0.0]
    assert matrix[2].tolist() == [1.0, 1.0, 1.0]
    torch = pytest.importorskip("torch")
    layer = torch.nn.Conv1d(1, 1, 3, padding=2, padding_mode="replicate", bias=False).double()
    with torch.no_grad():
        layer.weight.fill_(1.0)
    jacobian = torch.autograd.functional.jacobian(
        lambda t: layer(t[None, None])[0, 0], torch.zeros(3, dtype=torch.float64)
    )
    np.testing.assert_array_equal(matrix, jacobian.numpy())


def test_tap_inputs_and_overlap_refuse_a_padding_mode() -> None:
    """They follow each tap to the one cell it lands on (what the matrix figure draws); a
    padding mode's taps read copies, which only conv_matrix adds up."""
    from convanim.matrix import overlap, tap_inputs

    spec = ConvSpec(4, 3, padding=1, padding_mode="reflect")
    for function in (tap_inputs, overlap):
        with pytest.raises(ConvSpecError) as caught:
            function(spec)
        assert caught.value.param == "padding_mode" and "conv_matrix" in str(caught.value)
    assert overlap(ConvSpec(4, 3, padding=1)).max() == 9


def test_the_matrix_kind_has_no_padding_mode() -> None:
    from convanim import kinds

    assert "padding-mode" not in kinds.get("matrix").option_keys()
    result = CliRunner().invoke(main, ["info", "matrix", "-i", "4", "--padding-mode", "reflect"])
    assert result.exit_code == 2 and "no such option" in result.output


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_separable_pads_its_depthwise_layer_as_pytorch(mode: str) -> None:
    """separable --padding-mode: nn.Conv2d(c, c*m, k, groups=c, padding_mode=mode), then the
    pointwise 1x1 layer; the figure's numbers are PyTorch's."""
    torch = pytest.importorskip("torch")
    from convanim.figures import parse_figure

    figure = parse_figure(
        "f",
        {
            "kind": "separable",
            "input": [4, 5],
            "padding": [2, 1],
            "padding-mode": mode,
            "channels": 2,
            "multiplier": 2,
            "out-channels": 3,
            "values": True,
            "seed": 4,
        },
    )
    declaration = figure.declaration
    pair = declaration.model(figure)
    assert pair.depthwise.padding_mode == mode and pair.pointwise.padding_mode == "zeros"
    first, second = declaration.worked(figure)
    depthwise = torch.nn.Conv2d(2, 4, 3, padding=(2, 1), groups=2, bias=False, padding_mode=mode)
    pointwise = torch.nn.Conv2d(4, 3, 1, bias=False)
    from convanim.values import random_channel_values

    x, weight, _ = random_channel_values(pair.depthwise, 4)
    _, pointwise_weight, _ = random_channel_values(pair.pointwise, 4)
    with torch.no_grad():
        depthwise.double().weight.copy_(torch.tensor(weight))
        pointwise.double().weight.copy_(torch.tensor(pointwise_weight))
        middle = depthwise(torch.tensor(x, dtype=torch.float64)[None])
        out = pointwise(middle)[0].numpy()
    np.testing.assert_allclose(first.output, middle[0].numpy())
    np.testing.assert_allclose(second.output, out)
