"""Worked numbers: evaluate against brute-force references and PyTorch, values files, format."""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, reject, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from convanim.geometry import PADDING_MODES, ConvSpec, ConvSpecError
from convanim.values import (
    NUMERICAL_FIGURE_INPUT,
    NUMERICAL_FIGURE_KERNEL,
    NUMERICAL_FIGURES,
    ValuesFileError,
    drawn_values,
    evaluate,
    format_value,
    load_values,
    numerical_figure,
    pool_spec_check,
    random_values,
    tap_values,
    tap_weights,
)

# -- brute-force references, written from the definitions and not from the drawn grid ------


def reference(spec: ConvSpec, x: np.ndarray, weight: np.ndarray | None, op: str) -> np.ndarray:
    """Direct loops: padded input for conv/pooling, the scatter definition for transposed."""
    (top, bottom), (left, right) = spec.pads
    (kh, kw), (sh, sw), (dh, dw) = spec.kernel_size, spec.stride, spec.dilation
    rows, cols = x.shape
    if spec.transposed:
        assert weight is not None
        oph, opw = spec.output_padding
        out_rows = (rows - 1) * sh - top - bottom + dh * (kh - 1) + oph + 1
        out_cols = (cols - 1) * sw - left - right + dw * (kw - 1) + opw + 1
        out = np.zeros((out_rows, out_cols))
        for i in range(rows):
            for j in range(cols):
                for a in range(kh):
                    for b in range(kw):
                        r, c = i * sh - top + a * dh, j * sw - left + b * dw
                        if 0 <= r < out_rows and 0 <= c < out_cols:
                            out[r, c] += x[i, j] * weight[a, b]
        return out
    fill = -np.inf if op == "max" else 0.0
    padded = np.pad(x.astype(float), ((top, bottom), (left, right)), constant_values=fill)
    out_rows = (padded.shape[0] - dh * (kh - 1) - 1) // sh + 1
    out_cols = (padded.shape[1] - dw * (kw - 1) - 1) // sw + 1
    out = np.zeros((out_rows, out_cols))
    for i in range(out_rows):
        for j in range(out_cols):
            window = np.array(
                [[padded[i * sh + a * dh, j * sw + b * dw] for b in range(kw)] for a in range(kh)]
            )
            if op == "conv":
                assert weight is not None
                out[i, j] = sum(window[a, b] * weight[a, b] for a in range(kh) for b in range(kw))
            elif op == "max":
                out[i, j] = window.max()
            else:
                out[i, j] = window.sum() / (kh * kw)
    return out


def zero_inserted(spec: ConvSpec, x: np.ndarray) -> np.ndarray:
    """A transposed convolution's grid: stride - 1 zeros between cells, then span - padding."""
    (sh, sw), (fh, fw) = spec.stride, spec.footprint
    grid = np.zeros(((x.shape[0] - 1) * sh + 1, (x.shape[1] - 1) * sw + 1))
    grid[::sh, ::sw] = x
    for axis, span in enumerate((fh - 1, fw - 1)):
        lo, hi = spec.pads[axis]
        before, after = span - lo, span - hi + spec.output_padding[axis]
        widths = [(0, 0), (0, 0)]
        widths[axis] = (max(before, 0), max(after, 0))
        grid = np.pad(grid, widths)
        stop = grid.shape[axis] - max(-after, 0)
        grid = grid[max(-before, 0) : stop] if axis == 0 else grid[:, max(-before, 0) : stop]
    return grid


# -- strategies -------------------------------------------------------------------------------


def pairs(low: int, high: int) -> st.SearchStrategy[tuple[int, int]]:
    return st.tuples(st.integers(low, high), st.integers(low, high))


@st.composite
def conv_specs(draw: st.DrawFn) -> ConvSpec:
    transposed = draw(st.booleans())
    stride, dilation = draw(pairs(1, 3)), draw(pairs(1, 3))
    kwargs: dict[str, Any] = {
        "input_size": draw(pairs(1, 6)),
        "kernel_size": draw(pairs(1, 4)),
        "stride": stride,
        "dilation": dilation,
        "transposed": transposed,
    }
    if transposed:
        kwargs["padding"] = draw(st.one_of(st.integers(0, 4), pairs(0, 4)))
        kwargs["output_padding"] = tuple(
            draw(st.integers(0, max(stride[a], dilation[a]) - 1)) for a in range(2)
        )
    else:
        kwargs["padding"] = draw(
            st.one_of(
                st.integers(0, 3),
                pairs(0, 3),
                st.tuples(pairs(0, 3), pairs(0, 3)),
                st.sampled_from(PADDING_MODES),
            )
        )
    try:
        return ConvSpec(**kwargs)
    except ConvSpecError:
        reject()


@st.composite
def pool_specs(draw: st.DrawFn, op: str) -> ConvSpec:
    kernel = draw(pairs(1, 4))
    dilation = draw(pairs(1, 3)) if op == "max" else (1, 1)
    sides = [draw(pairs(0, k // 2)) for k in kernel]
    padding: Any = draw(
        st.sampled_from(
            [
                ((sides[0][0], sides[0][1]), (sides[1][0], sides[1][1])),
                (sides[0][0], sides[1][0]),
                "valid",
                "same",
            ]
        )
    )
    try:
        spec = ConvSpec(
            draw(pairs(1, 6)),
            kernel_size=kernel,
            stride=draw(pairs(1, 3)),
            padding=padding,
            dilation=dilation,
        )
        pool_spec_check(spec, op)
    except ConvSpecError:
        reject()
    return spec


def values(shape: tuple[int, int]) -> st.SearchStrategy[np.ndarray]:
    return hnp.arrays(np.int64, shape, elements=st.integers(-4, 4))


# -- the published figures --------------------------------------------------------------------

PUBLISHED_OUTPUTS = {
    "numerical_no_padding_no_strides": [[12, 12, 17], [10, 17, 19], [9, 6, 14]],
    "numerical_padding_strides": [[6, 17, 3], [8, 17, 13], [6, 4, 4]],
    "numerical_max_pooling": [[3, 3, 3], [3, 3, 3], [3, 2, 3]],
    # Window sums over 9, by hand: (15 15 15 / 9 11 16 / 10 7 12) / 9.
    "numerical_average_pooling": (np.array([[15, 15, 15], [9, 11, 16], [10, 7, 12]]) / 9).tolist(),
}


@pytest.mark.parametrize("name", sorted(NUMERICAL_FIGURES))
def test_numerical_figures_match_published_outputs(name: str) -> None:
    spec, op, x, weight = numerical_figure(name)
    assert (spec, op) == (ConvSpec(**NUMERICAL_FIGURES[name][0]), NUMERICAL_FIGURES[name][1])
    assert spec.input_size == (5, 5) and spec.kernel_size == (3, 3)
    assert (weight is None) == (op != "conv")
    out = evaluate(spec, x, weight, op)
    np.testing.assert_allclose(out, PUBLISHED_OUTPUTS[name], rtol=0, atol=1e-12)
    np.testing.assert_allclose(out, reference(spec, x, weight, op), rtol=0, atol=1e-12)


def test_average_pooling_figure_rounds_as_published() -> None:
    spec, op, x, _ = numerical_figure("numerical_average_pooling")
    shown = [[f"{v:.1f}" for v in row] for row in evaluate(spec, x, op=op)]
    assert shown == [["1.7", "1.7", "1.7"], ["1.0", "1.2", "1.8"], ["1.1", "0.8", "1.3"]]
    assert [format_value(v, 4) for v in evaluate(spec, x, op=op)[0]] == ["1.67"] * 3


def test_no_padding_no_strides_by_hand() -> None:
    x, w = np.array(NUMERICAL_FIGURE_INPUT), np.array(NUMERICAL_FIGURE_KERNEL)
    by_hand = [
        [sum(x[i + a][j + b] * w[a][b] for a in range(3) for b in range(3)) for j in range(3)]
        for i in range(3)
    ]
    assert by_hand == [[12, 12, 17], [10, 17, 19], [9, 6, 14]]
    assert evaluate(ConvSpec(5, 3), x, w).tolist() == by_hand


def test_published_values_are_conv_arithmetic_seed_1234() -> None:
    # conv_arithmetic's bin/produce_figure: numpy.random.seed(1234), then randint(0, 4, (5, 5))
    # for the input and randint(0, 3, (3, 3)) for the kernel, in a fresh process per frame.
    legacy = np.random.RandomState(1234)
    assert legacy.randint(0, 4, (5, 5)).tolist() == [list(r) for r in NUMERICAL_FIGURE_INPUT]
    assert legacy.randint(0, 3, (3, 3)).tolist() == [list(r) for r in NUMERICAL_FIGURE_KERNEL]


def test_numerical_figure_rejects_unknown_name() -> None:
    with pytest.raises(ConvSpecError, match="numerical_max_pooling") as caught:
        numerical_figure("numerical_min_pooling")
    assert caught.value.param == "figure"


# -- evaluate against the references ----------------------------------------------------------


@settings(max_examples=100, deadline=None)
@given(data=st.data(), spec=conv_specs())
def test_conv_matches_reference(data: st.DataObject, spec: ConvSpec) -> None:
    x = data.draw(values(spec.input_size))
    weight = data.draw(values(spec.kernel_size))
    out = evaluate(spec, x, weight)
    assert out.dtype == np.float64 and out.shape == spec.output_size
    np.testing.assert_array_equal(out, reference(spec, x, weight, "conv"))


@settings(max_examples=60, deadline=None)
@given(data=st.data(), spec=conv_specs())
def test_conv_matches_reference_on_floats(data: st.DataObject, spec: ConvSpec) -> None:
    floats = st.floats(-10, 10, allow_nan=False)
    x = data.draw(hnp.arrays(np.float64, spec.input_size, elements=floats))
    weight = data.draw(hnp.arrays(np.float64, spec.kernel_size, elements=floats))
    np.testing.assert_allclose(
        evaluate(spec, x, weight), reference(spec, x, weight, "conv"), rtol=1e-9, atol=1e-9
    )


@pytest.mark.parametrize("op", ["max", "avg"])
@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_pooling_matches_reference(op: str, data: st.DataObject) -> None:
    spec = data.draw(pool_specs(op))
    x = data.draw(values(spec.input_size))
    out = evaluate(spec, x, op=op)
    assert out.dtype == np.float64 and out.shape == spec.output_size
    np.testing.assert_allclose(out, reference(spec, x, None, op), rtol=1e-12, atol=1e-12)


@settings(max_examples=80, deadline=None)
@given(data=st.data(), spec=conv_specs())
def test_frames_show_what_evaluate_computes(data: st.DataObject, spec: ConvSpec) -> None:
    """Per frame, values under the taps times the weights drawn at the taps give the output."""
    x = data.draw(values(spec.input_size))
    weight = data.draw(values(spec.kernel_size))
    out, drawn, shown = evaluate(spec, x, weight), drawn_values(spec, x), tap_weights(spec, weight)
    assert drawn.shape == spec.drawn_size
    np.testing.assert_array_equal(shown, weight[::-1, ::-1] if spec.transposed else weight)
    for frame in spec.frames():
        under = tap_values(spec, drawn, frame)
        assert under.shape == spec.kernel_size
        for (r, c), value in zip(frame.taps, under.ravel(), strict=True):
            source = frame.grid.input_at(r, c)
            assert value == (0 if source is None else x[source])
        assert (under * shown).sum() == out[frame.output]


@settings(max_examples=80, deadline=None)
@given(data=st.data(), spec=conv_specs())
def test_drawn_values_are_the_padded_or_zero_inserted_input(
    data: st.DataObject, spec: ConvSpec
) -> None:
    x = data.draw(values(spec.input_size))
    expected = zero_inserted(spec, x) if spec.transposed else np.pad(x, spec.pads)
    np.testing.assert_array_equal(drawn_values(spec, x), expected)


@pytest.mark.parametrize("op", ["max", "avg"])
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_pooling_frames_show_what_evaluate_computes(op: str, data: st.DataObject) -> None:
    spec = data.draw(pool_specs(op))
    x = data.draw(values(spec.input_size))
    out, drawn = evaluate(spec, x, op=op), drawn_values(spec, x, op)
    padding = spec.grid().cells == 0
    assert (drawn[padding] == (-np.inf if op == "max" else 0)).all()
    for frame in spec.frames():
        under = tap_values(spec, drawn, frame)
        expected = under.max() if op == "max" else under.sum() / under.size
        assert expected == pytest.approx(out[frame.output])


def test_transposed_weight_at_tap_is_flipped_by_hand() -> None:
    # One input cell scatters the kernel: out[j] = x * w[j]. The drawn grid is
    # [pad pad x pad pad]; frame 0's taps are drawn columns 0, 1, 2, so x sits under tap 2,
    # which must carry w[0].
    spec = ConvSpec((1, 1), kernel_size=(1, 3), transposed=True)
    weight = np.array([[1, 2, 3]])
    assert tap_weights(spec, weight).tolist() == [[3.0, 2.0, 1.0]]
    assert evaluate(spec, [[1]], weight).tolist() == [[1.0, 2.0, 3.0]]
    frame = next(spec.frames())
    assert frame.taps == ((0, 0), (0, 1), (0, 2)) and frame.grid.input_at(0, 2) == (0, 0)


def test_max_pooling_window_over_padding_only_is_minus_infinity() -> None:
    # kernel 2, dilation 2, padding 1 on one cell: taps at -1 and +1, both padding (PyTorch
    # gives -inf too).
    spec = ConvSpec(1, kernel_size=2, dilation=2, padding=1)
    assert evaluate(spec, [[5]], op="max").tolist() == [[-np.inf]]


# -- errors -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "op", "param", "words"),
    [
        ({"input_size": 4, "transposed": True}, "max", "transposed", "expected False"),
        ({"input_size": 6, "dilation": 2}, "avg", "dilation", "expected 1"),
        ({"input_size": 4, "padding": 2}, "max", "padding", "at most 1"),
        ({"input_size": 4, "padding": "full"}, "avg", "padding", "resolved to ((2, 2), (2, 2))"),
        ({"input_size": 4, "padding": ((0, 0), (0, 2))}, "max", "padding", "cols axis"),
        (
            {"input_size": 4, "kernel_size": (3, 1), "padding": (0, 1)},
            "max",
            "padding",
            "at most 0",
        ),
        ({"input_size": 4}, "conv", "op", "expected one of max, avg"),
        ({"input_size": 4}, "min", "op", "'min'"),
    ],
)
def test_pool_spec_check_names_the_parameter(
    kwargs: dict[str, Any], op: str, param: str, words: str
) -> None:
    with pytest.raises(ConvSpecError) as caught:
        pool_spec_check(ConvSpec(**kwargs), op)
    assert caught.value.param == param
    assert words in str(caught.value)


def test_pool_spec_check_accepts_what_pytorch_accepts() -> None:
    pool_spec_check(ConvSpec(5, kernel_size=3, padding=1, dilation=3), "max")
    pool_spec_check(ConvSpec(5, kernel_size=4, padding="same"), "avg")  # pads (1, 2)
    pool_spec_check(ConvSpec(5, kernel_size=2, padding="full"), "max")  # pads (1, 1)


@pytest.mark.parametrize(
    ("call", "param", "words"),
    [
        (lambda s: evaluate(s, np.zeros((4, 4))), "weight", "(3, 3)"),
        (lambda s: evaluate(s, np.zeros((4, 4)), np.ones((3, 3)), "max"), "weight", "takes none"),
        (lambda s: evaluate(s, np.zeros((4, 4)), np.ones((3, 3)), "sum"), "op", "conv, max, avg"),
        (lambda s: evaluate(s, np.zeros((4, 3)), np.ones((3, 3))), "x", "(4, 4)"),
        (lambda s: evaluate(s, np.zeros((4, 4)), np.ones((2, 3))), "weight", "(3, 3)"),
        (lambda s: evaluate(s, [["a"] * 4] * 4, np.ones((3, 3))), "x", "real numbers"),
        (lambda s: evaluate(s, [[1, 2], [3]], np.ones((3, 3))), "x", "input array"),
        (lambda s: evaluate(s, np.zeros((4, 4), complex), np.ones((3, 3))), "x", "complex"),
        (lambda s: drawn_values(s, np.zeros((4, 4)), "avg!"), "op", "'avg!'"),
        (lambda s: tap_weights(s, np.ones((3, 3, 1))), "weight", "(3, 3, 1)"),
    ],
)
def test_evaluate_errors_name_the_parameter(call: Any, param: str, words: str) -> None:
    with pytest.raises(ConvSpecError) as caught:
        call(ConvSpec(4, 3))
    assert caught.value.param == param
    assert words in str(caught.value)


# -- PyTorch, the definition we promise -------------------------------------------------------


@pytest.fixture
def torch() -> Iterator[Any]:
    """PyTorch, when installed (CI has none); one thread, as tiny tensors only pay its start-up."""
    module = pytest.importorskip("torch")
    threads = module.get_num_threads()
    module.set_num_threads(1)
    yield module
    module.set_num_threads(threads)


def _random_spec(rng: np.random.Generator, op: str) -> ConvSpec | None:
    def pair(low: int, high: int) -> tuple[int, int]:
        return int(rng.integers(low, high + 1)), int(rng.integers(low, high + 1))

    kernel, stride, dilation = pair(1, 4), pair(1, 3), pair(1, 3)
    transposed = op == "conv" and bool(rng.integers(2))
    kwargs: dict[str, Any] = {"input_size": pair(1, 7), "kernel_size": kernel, "stride": stride}
    if op == "avg":
        dilation = (1, 1)
    kwargs["dilation"] = dilation
    if transposed:
        kwargs["transposed"] = True
        kwargs["padding"] = pair(0, 4)
        kwargs["output_padding"] = tuple(
            int(rng.integers(max(stride[a], dilation[a]))) for a in range(2)
        )
    elif op == "conv":
        choice = int(rng.integers(3))
        if choice == 0:
            kwargs["padding"] = pair(0, 3)
        elif choice == 1:
            kwargs["padding"] = (pair(0, 3), pair(0, 3))
        else:
            kwargs["padding"] = PADDING_MODES[int(rng.integers(len(PADDING_MODES)))]
    else:
        sides = [pair(0, k // 2) for k in kernel]
        kwargs["padding"] = (sides[0], sides[1]) if rng.integers(2) else "same"
    try:
        spec = ConvSpec(**kwargs)
        if op != "conv":
            pool_spec_check(spec, op)
    except ConvSpecError:
        return None
    return spec


def _torch_result(torch: Any, spec: ConvSpec, x: np.ndarray, w: np.ndarray, op: str) -> Any:
    functional = torch.nn.functional
    tx = torch.from_numpy(x)[None, None]
    tw = torch.from_numpy(w)[None, None]
    (top, bottom), (left, right) = spec.pads
    symmetric = top == bottom and left == right
    if spec.transposed:
        return functional.conv_transpose2d(
            tx,
            tw,
            stride=spec.stride,
            padding=(top, left),
            output_padding=spec.output_padding,
            dilation=spec.dilation,
        )
    if op == "conv":
        padded = functional.pad(tx, (left, right, top, bottom))
        return functional.conv2d(padded, tw, stride=spec.stride, dilation=spec.dilation)
    if symmetric:  # PyTorch's own padding, which is what its rules are about
        if op == "max":
            return functional.max_pool2d(
                tx, spec.kernel_size, spec.stride, (top, left), spec.dilation
            )
        return functional.avg_pool2d(tx, spec.kernel_size, spec.stride, (top, left))
    fill = -math.inf if op == "max" else 0.0
    padded = functional.pad(tx, (left, right, top, bottom), value=fill)
    if op == "max":
        return functional.max_pool2d(padded, spec.kernel_size, spec.stride, 0, spec.dilation)
    return functional.avg_pool2d(padded, spec.kernel_size, spec.stride, 0)


@pytest.mark.parametrize(
    ("op", "transposed"), [("conv", False), ("conv", True), ("max", False), ("avg", False)]
)
def test_matches_pytorch(torch: Any, op: str, transposed: bool) -> None:
    rng = np.random.default_rng(20240611 + len(op) + transposed)
    checked = 0
    while checked < 300:
        spec = _random_spec(rng, op)
        if spec is None or spec.transposed != transposed:
            continue
        x = rng.normal(size=spec.input_size)
        w = rng.normal(size=spec.kernel_size)
        expected = _torch_result(torch, spec, x, w, op)[0, 0].numpy()
        got = evaluate(spec, x, w if op == "conv" else None, op)
        assert got.shape == expected.shape, spec
        np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-10, err_msg=repr(spec))
        checked += 1


def test_same_padding_matches_pytorch_same_at_stride_1(torch: Any) -> None:
    rng = np.random.default_rng(7)
    for kernel in [(1, 1), (2, 3), (4, 4), (3, 2)]:
        for dilation in [(1, 1), (2, 1), (2, 3)]:
            spec = ConvSpec((6, 5), kernel_size=kernel, padding="same", dilation=dilation)
            x, w = rng.normal(size=spec.input_size), rng.normal(size=kernel)
            with warnings.catch_warnings():  # even kernels: "may require a zero-padded copy"
                warnings.simplefilter("ignore", UserWarning)
                expected = torch.nn.functional.conv2d(
                    torch.from_numpy(x)[None, None],
                    torch.from_numpy(w)[None, None],
                    padding="same",
                    dilation=dilation,
                )[0, 0].numpy()
            np.testing.assert_allclose(evaluate(spec, x, w), expected, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("op", ["max", "avg"])
def test_pool_spec_check_agrees_with_pytorch(torch: Any, op: str) -> None:
    """For padding PyTorch can express, we reject exactly what it rejects."""
    functional = torch.nn.functional
    x = torch.zeros(1, 1, 9, 9)
    for kernel in range(1, 5):
        for pad in range(4):
            for dilation in [1, 2, 3] if op == "max" else [1]:
                try:
                    spec = ConvSpec(9, kernel_size=kernel, padding=pad, dilation=dilation)
                except ConvSpecError:
                    continue
                try:
                    if op == "max":
                        functional.max_pool2d(x, kernel, 1, pad, dilation)
                    else:
                        functional.avg_pool2d(x, kernel, 1, pad)
                    torch_accepts = True
                except RuntimeError:
                    torch_accepts = False
                try:
                    pool_spec_check(spec, op)
                    we_accept = True
                except ConvSpecError:
                    we_accept = False
                assert we_accept == torch_accepts, (kernel, pad, dilation)


# -- random values ----------------------------------------------------------------------------


def test_random_values_golden_seed_0() -> None:
    # Pinned: a change here means numpy's PCG64 / SeedSequence stream changed.
    x, w = random_values(ConvSpec(4, 3), 0)
    assert x.dtype == np.int64 and w.dtype == np.int64
    assert x.tolist() == [[3, 3, 0, 1], [3, 2, 0, 0], [3, 1, 2, 2], [3, 0, 1, 3]]
    assert w.tolist() == [[1, 2, 1], [0, 0, 1], [0, 1, 1]]


@given(seed=st.integers(0, 2**64), spec=conv_specs())
@settings(max_examples=50, deadline=None)
def test_random_values_are_deterministic_and_small(seed: int, spec: ConvSpec) -> None:
    x, w = random_values(spec, seed)
    again_x, again_w = random_values(spec, seed)
    np.testing.assert_array_equal(x, again_x)
    np.testing.assert_array_equal(w, again_w)
    assert x.shape == spec.input_size and w.shape == spec.kernel_size
    assert x.min() >= 0 and x.max() <= 3 and w.min() >= 0 and w.max() <= 2


def test_random_input_does_not_depend_on_kernel_size() -> None:
    x3, _ = random_values(ConvSpec(6, 3), 5)
    x1, _ = random_values(ConvSpec(6, 1), 5)
    np.testing.assert_array_equal(x3, x1)
    assert not np.array_equal(random_values(ConvSpec(6, 3), 6)[0], x3)


@pytest.mark.parametrize("seed", [-1, 1.5, "0", True, None])
def test_random_values_reject_bad_seed(seed: Any) -> None:
    with pytest.raises(ConvSpecError) as caught:
        random_values(ConvSpec(4), seed)
    assert caught.value.param == "seed"


# -- values files -----------------------------------------------------------------------------

EXPECTED = [[1.0, -2.0, 3.5], [4.0, 5.0, 6.0]]


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("values.csv", "1,-2,3.5\n4,5,6\n"),
        ("values.CSV", "1, -2, 3.5\r\n4 ,5, 6"),
        ("values.txt", "1 -2 3.5\n4\t5   6\n"),
        ("values.txt", "# kernel\n\n1,-2,3.5\n\n4,5,6\n\n"),
        ("values.csv", "\ufeff1,-2,3.5\n4,5,6e0\n"),
    ],
)
def test_load_text(tmp_path: Path, name: str, content: str) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8", newline="")
    loaded = load_values(path, (2, 3), "kernel_values")
    assert loaded.dtype == np.float64
    assert loaded.tolist() == EXPECTED


@pytest.mark.parametrize(
    "array",
    [
        np.array(EXPECTED),
        np.array(EXPECTED, dtype=np.float32),
        np.array(EXPECTED)[None, None],  # a one-channel PyTorch weight
    ],
)
def test_load_npy(tmp_path: Path, array: np.ndarray) -> None:
    path = tmp_path / "values.npy"
    np.save(path, array)
    assert load_values(str(path), (2, 3), "input_values").tolist() == EXPECTED


def test_load_npy_integers(tmp_path: Path) -> None:
    path = tmp_path / "values.npy"
    np.save(path, np.arange(6, dtype=np.int16).reshape(2, 3))
    loaded = load_values(path, (2, 3), "input_values")
    assert loaded.dtype == np.float64 and loaded.tolist() == [[0, 1, 2], [3, 4, 5]]


def _npy_bytes(array: np.ndarray) -> bytes:
    import io

    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        ("v.csv", "1,2,3\n4,5,6\n7,8,9\n", "shape (3, 3); expected (2, 3)"),
        ("v.txt", "1 2\n3 4\n", "shape (2, 2); expected (2, 3)"),
        ("v.csv", "1,2,3\n4,five,6\n", "line 2, value 2: 'five' is not a number"),
        ("v.csv", "1,2,3\n4,,6\n", "line 2, value 2: an empty value is not a number"),
        ("v.csv", "1,2,3,\n4,5,6,\n", "value 4: an empty value"),
        ("v.txt", "1 2 3\n4 5\n", "line 2 holds 2 values but line 1 holds 3"),
        ("v.txt", "", "holds no values"),
        ("v.txt", "# only a comment\n", "holds no values"),
        ("v.csv", "1,2,nan\n4,5,6\n", "finite"),
        ("v.csv", "1,2,inf\n4,5,6\n", "finite"),
        ("v.txt", b"\xff\xfe\x00\x01garbage", "cannot be read as text"),
        ("v.npy", b"hello, not numpy", "not an .npy file"),
        ("v.npy", b"", "not an .npy file"),
        ("v.npy", _npy_bytes(np.zeros((2, 3)))[:-7], "cannot be read as .npy"),
        ("v.npy", _npy_bytes(np.array([["a", "b", "c"]] * 2)), "expected integers or floats"),
        ("v.npy", _npy_bytes(np.array([[True] * 3] * 2)), "expected integers or floats"),
        ("v.npy", _npy_bytes(np.zeros((2, 3), complex)), "expected integers or floats"),
        ("v.npy", _npy_bytes(np.zeros((2, 2, 3))), "shape (2, 2, 3)"),
        ("v.npy", _npy_bytes(np.zeros(6)), "shape (6,)"),
        ("v.npy", _npy_bytes(np.array([[1.0, np.nan, 0]] * 2)), "finite"),
        ("v.json", "[[1, 2, 3], [4, 5, 6]]", "'.json'; expected one of .npy, .csv, .txt"),
        ("values", "1 2 3\n4 5 6\n", "'(none)'"),
    ],
)
def test_load_rejects_bad_files(
    tmp_path: Path, name: str, content: str | bytes, words: str
) -> None:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    with pytest.raises(ValuesFileError) as caught:
        load_values(path, (2, 3), "kernel_values")
    assert caught.value.param == "kernel_values"
    assert caught.value.path == str(path)
    assert str(caught.value).startswith(f"kernel_values: {path}: ")
    assert words in str(caught.value)
    assert isinstance(caught.value, ConvSpecError)


@pytest.mark.parametrize("suffix", [".npy", ".csv", ".txt"])
def test_load_rejects_missing_file_and_directory(tmp_path: Path, suffix: str) -> None:
    for path in (tmp_path / f"missing{suffix}", tmp_path / f"folder{suffix}"):
        if "folder" in path.name:
            path.mkdir()
        with pytest.raises(ValuesFileError, match="cannot be read") as caught:
            load_values(path, (2, 3), "input_values")
        assert caught.value.param == "input_values" and str(path) in str(caught.value)


# -- format_value -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "max_chars", "text"),
    [
        (12, 5, "12"),
        (-3, 5, "-3"),
        (12.0, 5, "12"),
        (-0.0, 5, "0"),
        (np.int64(-123), 4, "-123"),
        (np.float32(0.5), 5, "0.5"),
        (4 / 3, 4, "1.33"),
        (4 / 3, 5, "1.333"),
        (0.5, 5, "0.5"),
        (-0.25, 5, "-0.25"),
        (-0.25, 4, "-0.2"),  # round half to even
        (1234.5, 4, "1234"),
        (1234.5, 3, "1e3"),
        (1234.5, 6, "1234.5"),
        (123456, 5, "1.2e5"),
        (123456.0, 5, "1.2e5"),
        (2**80, 7, "1.21e24"),
        (0.000123, 5, "1e-4"),
        (0.000123, 6, "1.2e-4"),
        (-0.0001, 5, "-1e-4"),
        (-0.0001, 4, "0"),
        (0.1 + 0.2, 5, "0.3"),
        (9.99, 2, "10"),
        (math.inf, 1, "∞"),
        (-math.inf, 5, "-∞"),
        (math.nan, 5, "nan"),
        (-1e300, 5, "#####"),
        (-12, 1, "#"),
    ],
)
def test_format_value_examples(value: Any, max_chars: int, text: str) -> None:
    assert format_value(value, max_chars) == text


@pytest.mark.parametrize(
    ("value", "max_chars", "param"),
    [(1, 0, "max_chars"), (1, 2.5, "max_chars"), (True, 5, "value"), ("1", 5, "value")],
)
def test_format_value_rejects(value: Any, max_chars: Any, param: str) -> None:
    with pytest.raises(ConvSpecError) as caught:
        format_value(value, max_chars)
    assert caught.value.param == param


@given(value=st.floats() | st.integers(-(10**30), 10**30), max_chars=st.integers(1, 12))
def test_format_value_fits(value: float, max_chars: int) -> None:
    assert 1 <= len(format_value(value, max_chars)) <= max_chars


@given(value=st.integers(-(10**15), 10**15), max_chars=st.integers(1, 12))
def test_format_value_integers_exact_when_they_fit(value: int, max_chars: int) -> None:
    text = format_value(value, max_chars)
    if len(str(value)) <= max_chars:
        assert text == str(value)
        assert format_value(float(value), max_chars) == str(value)
        assert format_value(np.int64(value), max_chars) == str(value)
    else:
        assert text == "#" * max_chars or float(text) == pytest.approx(value, rel=0.5)


@given(value=st.floats(allow_nan=False, allow_infinity=False), max_chars=st.integers(1, 12))
def test_format_value_is_close_and_keeps_the_sign(value: float, max_chars: int) -> None:
    text = format_value(value, max_chars)
    if set(text) == {"#"}:
        return
    shown = Decimal(text)  # not float(): "1.8e308" may round past the largest double
    assert shown == 0 or shown.is_signed() == (math.copysign(1, value) < 0)
    if max_chars >= 9:  # room for two significant digits of any double
        assert abs(shown - Decimal(value)) <= Decimal("0.05") * abs(Decimal(value))
