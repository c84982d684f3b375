"""Tests for 1-D convolutions: ``ConvSpec(..., dims=1)``, its values and its drawings.

The reference below is independent of ``convanim``: explicit padding and direct loops for a
direct convolution and for pooling, the scatter ``out[i * stride - padding + k * dilation] +=
x[i] * w[k]`` for a transposed one. PyTorch's ``conv1d`` / ``conv_transpose1d`` /
``max_pool1d`` / ``avg_pool1d`` are checked too where torch is installed.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from convanim.geometry import Cell, ConvSpec, ConvSpecError
from convanim.render import Animation, RenderOptions
from convanim.theme import THEMES, hex_rgb
from convanim.values import (
    drawn_values,
    evaluate,
    load_values,
    pool_spec_check,
    random_values,
    tap_values,
    tap_weights,
    worked,
)

MODES = ("valid", "same", "full")
Rgb = tuple[int, int, int]


# -- the reference --------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """A 1-D convolution as ``ConvSpec`` is called, and its numbers resolved."""

    kwargs: dict[str, Any]
    size: int
    kernel: int
    stride: int
    dilation: int
    lo: int  # padding before; for transposed, PyTorch's padding
    hi: int
    transposed: bool
    output_padding: int

    @property
    def span(self) -> int:
        return self.dilation * (self.kernel - 1)

    @property
    def output_size(self) -> int:
        if self.transposed:
            return (self.size - 1) * self.stride - 2 * self.lo + self.span + self.output_padding + 1
        return (self.size + self.lo + self.hi - self.span - 1) // self.stride + 1

    def spec(self) -> ConvSpec[Any, Any]:
        return ConvSpec(dims=1, **self.kwargs)


def named(mode: str, size: int, kernel: int, stride: int, dilation: int) -> tuple[int, int]:
    """(before, after) of a named padding mode, as the README defines them."""
    span = dilation * (kernel - 1)
    if mode == "valid":
        return 0, 0
    if mode == "full":
        return span, span
    total = max((math.ceil(size / stride) - 1) * stride + span + 1 - size, 0)
    return total // 2, total - total // 2


@st.composite
def cases(draw: st.DrawFn, valid: bool = True) -> Case:
    size = draw(st.integers(1, 12))
    kernel = draw(st.integers(1, 5))
    stride = draw(st.integers(1, 4))
    dilation = draw(st.integers(1, 3))
    transposed = draw(st.booleans())
    kwargs: dict[str, Any] = {
        "input_size": draw(st.sampled_from([size, (size,)])),
        "kernel_size": kernel,
        "stride": stride,
        "dilation": dilation,
        "transposed": transposed,
    }
    output_padding = 0
    if transposed:
        lo = hi = draw(st.integers(0, 4))
        kwargs["padding"] = draw(st.sampled_from([lo, (lo,)]))
        output_padding = draw(st.integers(0, max(stride, dilation) - 1))
        kwargs["output_padding"] = output_padding
    else:
        form = draw(st.sampled_from(["int", "tuple", "pair", "mode"]))
        if form == "mode":
            mode = draw(st.sampled_from(MODES))
            kwargs["padding"] = mode
            lo, hi = named(mode, size, kernel, stride, dilation)
        elif form == "pair":
            lo, hi = draw(st.integers(0, 4)), draw(st.integers(0, 4))
            kwargs["padding"] = (lo, hi)
        else:
            lo = hi = draw(st.integers(0, 4))
            kwargs["padding"] = lo if form == "int" else (lo,)
    case = Case(kwargs, size, kernel, stride, dilation, lo, hi, transposed, output_padding)
    if valid:
        assume(case.output_size >= 1)
    return case


def reference_sources(case: Case) -> list[set[int]]:
    """Per output unit, the input units a one-hot input reaches it from (all-ones kernel)."""
    out: list[set[int]] = [set() for _ in range(case.output_size)]
    for i in range(case.size):
        for k in range(case.kernel):
            if case.transposed:
                o = i * case.stride - case.lo + k * case.dilation
                if 0 <= o < case.output_size:
                    out[o].add(i)
            else:
                for o in range(case.output_size):
                    if o * case.stride + k * case.dilation - case.lo == i:
                        out[o].add(i)
    return out


def reference_conv(case: Case, x: list[float], w: list[float]) -> list[float]:
    if case.transposed:
        out = [0.0] * case.output_size
        for i in range(case.size):
            for k in range(case.kernel):
                o = i * case.stride - case.lo + k * case.dilation
                if 0 <= o < case.output_size:
                    out[o] += x[i] * w[k]
        return out
    padded = [0.0] * case.lo + x + [0.0] * case.hi
    return [
        sum(padded[o * case.stride + k * case.dilation] * w[k] for k in range(case.kernel))
        for o in range(case.output_size)
    ]


def reference_pool(case: Case, x: list[float], op: str) -> list[float]:
    fill = -math.inf if op == "max" else 0.0
    padded = [fill] * case.lo + x + [fill] * case.hi
    out = []
    for o in range(case.output_size):
        window = [padded[o * case.stride + k * case.dilation] for k in range(case.kernel)]
        out.append(max(window) if op == "max" else sum(window) / case.kernel)
    return out


def integers(rng: np.random.Generator, n: int) -> list[float]:
    return [float(v) for v in rng.integers(-3, 4, size=n)]


# -- the spec: its public 1-D view ------------------------------------------------------------


def test_public_attributes_are_pytorchs_1d_view() -> None:
    spec = ConvSpec(input_size=7, kernel_size=3, stride=2, padding=(1, 2), dilation=1, dims=1)
    assert spec.dims == 1
    assert spec.input_size == (7,)
    assert spec.kernel_size == (3,)
    assert spec.stride == (2,)
    assert spec.dilation == (1,)
    assert spec.output_padding == (0,)
    assert spec.padding == ((1, 2),)
    assert spec.pads == ((1, 2),)
    assert spec.footprint == (3,)
    assert spec.output_size == (4,)  # floor((7 + 3 - 3) / 2) + 1
    assert spec.drawn_size == (10,)
    assert spec.frame_count == 4
    assert spec.formula() == ("floor((7 + 1 + 2 - 1 * (3 - 1) - 1) / 2) + 1 = 4",)
    frames = list(spec.frames())
    assert [f.output for f in frames] == [(0,), (1,), (2,), (3,)]
    assert frames[0].taps == ((0,), (1,), (2,))
    assert frames[0].sources == frozenset({(0,), (1,)})  # drawn 0 is padding
    assert frames[0].window == ((0,), (3,))
    assert frames[3].taps == ((6,), (7,), (8,))
    assert frames[3].sources == frozenset({(5,), (6,)})
    assert spec.grid().cells.tolist() == [[0, 1, 1, 1, 1, 1, 1, 1, 0, 0]]


def test_1d_spec_is_the_one_row_2d_plane() -> None:
    spec = ConvSpec(4, 3, stride=2, padding=1, transposed=True, output_padding=1, dims=1)
    plane = spec.as_2d()
    assert plane == ConvSpec((1, 4), (1, 3), (1, 2), (0, 1), 1, True, (0, 1))
    assert plane.dims == 2 and plane.as_2d() is plane
    assert spec.output_size == plane.output_size[1:] == (8,)
    for frame, flat in zip(spec.frames(), plane.frames(), strict=True):
        assert frame.as_2d() == flat
    assert spec.pads == ((1, 1),)
    assert spec.formula() == ("(4 - 1) * 2 - 2 * 1 + 1 * (3 - 1) + 1 + 1 = 8",)


def test_2d_specs_are_unchanged() -> None:
    spec = ConvSpec(5, 3, stride=2, padding=1)
    assert spec.dims == 2
    assert spec == ConvSpec(5, 3, stride=2, padding=1, dims=2)
    assert spec != ConvSpec(5, 3, stride=2, padding=1, dims=1)
    assert spec.input_size == (5, 5) and spec.pads == ((1, 1), (1, 1))
    assert repr(spec) == (
        "ConvSpec(input_size=(5, 5), kernel_size=(3, 3), stride=(2, 2), "
        "padding=((1, 1), (1, 1)), dilation=(1, 1), transposed=False, output_padding=(0, 0))"
    )
    assert spec.as_2d() is spec
    frame = next(spec.frames())
    assert frame.as_2d() is frame


@pytest.mark.parametrize(
    "kwargs",
    [
        {"input_size": 7, "kernel_size": 3},
        {"input_size": 5, "kernel_size": 2, "stride": 3, "padding": "same"},
        {"input_size": 3, "kernel_size": 3, "padding": 1, "transposed": True, "stride": 2},
        {"input_size": (6,), "kernel_size": (2,), "padding": ((0, 3),)},
    ],
)
def test_replace_round_trips(kwargs: dict[str, Any]) -> None:
    spec = ConvSpec(dims=1, **kwargs)
    assert dataclasses.replace(spec) == spec
    assert dataclasses.replace(spec, stride=1).stride == (1,)


@pytest.mark.parametrize("dims", [0, 4, True, 1.0, "1"])
def test_dims_must_be_1_2_or_3(dims: object) -> None:
    with pytest.raises(ConvSpecError) as error:
        ConvSpec(7, 3, dims=dims)  # type: ignore[call-overload]
    assert error.value.param == "dims"
    assert str(error.value) == f"dims: got {dims!r}; expected 1, 2 or 3"


BAD_1D = [
    ({"input_size": (7, 7)}, "input_size"),
    ({"kernel_size": (3, 3)}, "kernel_size"),
    ({"kernel_size": 0}, "kernel_size"),
    ({"stride": 0}, "stride"),
    ({"dilation": (2, 2)}, "dilation"),
    ({"padding": -1}, "padding"),
    ({"padding": (1, 2, 3)}, "padding"),
    ({"padding": ((1, 1), (1, 1))}, "padding"),
    ({"padding": "causal"}, "padding"),
    ({"padding": "same", "transposed": True}, "padding"),
    ({"padding": (1, -2), "transposed": True}, "padding"),
    ({"output_padding": 1}, "output_padding"),
    ({"output_padding": 2, "stride": 2, "transposed": True}, "output_padding"),
    ({"kernel_size": 9}, "output_size"),
    ({"input_size": 1, "kernel_size": 1, "padding": 1, "transposed": True}, "output_size"),
]


@pytest.mark.parametrize(("kwargs", "param"), BAD_1D)
def test_1d_errors_name_no_axis(kwargs: dict[str, Any], param: str) -> None:
    with pytest.raises(ConvSpecError) as error:
        ConvSpec(**{"input_size": 7, "kernel_size": 3, **kwargs, "dims": 1})
    assert error.value.param == param
    message = str(error.value).lower()
    for word in ("rows", "cols", "axis", "(rows", "top", "left"):
        assert word not in message, message
    assert message.startswith(f"{param}: ")


def test_1d_error_messages() -> None:
    def message(**kwargs: Any) -> str:
        with pytest.raises(ConvSpecError) as error:
            ConvSpec(**{"input_size": 7, "kernel_size": 3, **kwargs, "dims": 1})
        return str(error.value)

    assert message(kernel_size=9) == (
        "output_size: would be -1 (kernel footprint 9 on a padded input of 7); expected at "
        "least 1: use a smaller kernel or dilation, or more padding"
    )
    assert message(transposed=True, stride=2, output_padding=2) == (
        "output_padding: got 2; it must be smaller than stride or dilation (at most 1)"
    )
    assert message(kernel_size=(3, 3)) == (
        "kernel_size: got 2 values (3, 3); a 1-D convolution takes one: expected an integer >= 1"
    )


def test_pool_errors_name_no_axis() -> None:
    x = np.arange(7.0)
    for kwargs, op in [
        ({"padding": 2}, "max"),
        ({"padding": "full"}, "avg"),
        ({"padding": (0, 2)}, "max"),
        ({"dilation": 2}, "avg"),
        ({"transposed": True}, "max"),
    ]:
        spec = ConvSpec(7, 3, dims=1, **kwargs)
        with pytest.raises(ConvSpecError) as error:
            evaluate(spec, x, op=op)
        message = str(error.value)
        assert "axis" not in message and "rows" not in message and "cols" not in message
    with pytest.raises(
        ConvSpecError, match=r"^padding: got 2; max pooling .* kernel_size 3 allows"
    ):
        pool_spec_check(ConvSpec(7, 3, padding=2, dims=1), "max")
    with pytest.raises(ConvSpecError, match=r"^dilation: got 2; .*avg_pool1d"):
        pool_spec_check(ConvSpec(7, 3, dilation=2, dims=1), "avg")


# -- the spec against the reference ---------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(cases())
def test_output_size_sources_and_taps_match_the_reference(case: Case) -> None:
    spec = case.spec()
    assert spec.output_size == (case.output_size,)
    assert spec.pads == ((case.lo, case.hi),)
    frames = list(spec.frames())
    assert [f.output for f in frames] == [(j,) for j in range(case.output_size)]
    hop = 1 if case.transposed else case.stride
    first = case.span - case.lo if case.transposed else case.lo  # drawn position of input 0
    step = case.stride if case.transposed else 1
    cells = spec.grid().cells[0]
    for frame, sources in zip(frames, reference_sources(case), strict=True):
        j = frame.output[0]
        taps = [j * hop + k * case.dilation for k in range(case.kernel)]
        assert frame.taps == tuple((t,) for t in taps)
        assert frame.window == ((taps[0],), (taps[-1] + 1,))
        assert frame.sources == frozenset((i,) for i in sources)
        for t in taps:  # a tap reads input i exactly where the drawn grid holds input i
            offset = t - first
            on_input = offset >= 0 and offset % step == 0 and offset // step < case.size
            assert (cells[t] == Cell.INPUT) == on_input


@settings(max_examples=300, deadline=None)
@given(cases(valid=False))
def test_refuses_exactly_the_impossible_outputs(case: Case) -> None:
    if case.output_size >= 1:
        assert case.spec().output_size == (case.output_size,)
    else:
        with pytest.raises(ConvSpecError) as error:
            case.spec()
        assert error.value.param == "output_size"


@settings(max_examples=200, deadline=None)
@given(cases(), st.integers(0, 2**32 - 1))
def test_evaluate_matches_the_reference(case: Case, seed: int) -> None:
    spec = case.spec()
    rng = np.random.default_rng(seed)
    x, w = integers(rng, case.size), integers(rng, case.kernel)
    got = evaluate(spec, x, w)
    assert got.shape == (case.output_size,)
    assert got.tolist() == reference_conv(case, x, w)
    # The frames' taps and the drawn values give the same numbers, one output at a time.
    drawn, weights = drawn_values(spec, x), tap_weights(spec, w)
    assert drawn.shape == spec.drawn_size and weights.shape == (case.kernel,)
    for frame in spec.frames():
        assert float(tap_values(spec, drawn, frame) @ weights) == got[frame.output[0]]
    if case.transposed:
        return
    for op in ("max", "avg"):
        if max(case.lo, case.hi) > case.kernel // 2 or (op == "avg" and case.dilation > 1):
            with pytest.raises(ConvSpecError):
                evaluate(spec, x, op=op)
            continue
        pooled = evaluate(spec, x, op=op)
        np.testing.assert_allclose(pooled, reference_pool(case, x, op), rtol=1e-12)


# -- values ---------------------------------------------------------------------------------


def test_random_values_are_1d_and_2d_ones_unchanged() -> None:
    x, w = random_values(ConvSpec(7, 3, dims=1), 3)
    assert x.shape == (7,) and w.shape == (3,)
    assert x.dtype == w.dtype == np.int64
    assert x.min() >= 0 and x.max() <= 3 and w.min() >= 0 and w.max() <= 2
    # A 1-D spec gets the numbers of its one-row plane.
    row_x, row_w = random_values(ConvSpec(7, 3, dims=1).as_2d(), 3)
    assert row_x.tolist() == [x.tolist()] and row_w.tolist() == [w.tolist()]
    # The same seed gives a 2-D spec the values it had before 1-D specs existed.
    x2, w2 = random_values(ConvSpec((3, 7), 3), 3)
    assert x2.tolist() == [[2, 2, 0, 1, 1, 3, 0], [2, 2, 0, 1, 1, 1, 1], [3, 2, 1, 2, 2, 3, 2]]
    assert w2.tolist() == [[2, 0, 0], [1, 1, 1], [1, 2, 0]]


def test_worked_is_1d() -> None:
    spec = ConvSpec(5, 3, padding=1, dims=1)
    result = worked(spec, [1, 2, 3, 4, 5], [1, 0, -1])
    assert result.drawn.tolist() == [0, 1, 2, 3, 4, 5, 0]
    assert result.weights is not None and result.weights.tolist() == [1, 0, -1]
    assert result.output.tolist() == [-2, -2, -2, -2, 4]
    transposed = worked(ConvSpec(2, 3, transposed=True, dims=1), [1, 10], [1, 2, 3])
    assert transposed.weights is not None and transposed.weights.tolist() == [3, 2, 1]
    assert transposed.output.tolist() == [1, 12, 23, 30]


def test_shape_errors() -> None:
    spec = ConvSpec(5, 3, dims=1)
    with pytest.raises(ConvSpecError, match=r"^x: got shape \(1, 5\); expected .* \(5,\)"):
        evaluate(spec, [[1, 2, 3, 4, 5]], [1, 1, 1])
    with pytest.raises(ConvSpecError, match=r"^weight: got None; .* of shape \(3,\)"):
        evaluate(spec, [1, 2, 3, 4, 5])
    with pytest.raises(ConvSpecError, match=r"^weight: got shape \(2,\)"):
        evaluate(spec, [1, 2, 3, 4, 5], [1, 2])


@pytest.mark.parametrize(
    ("name", "text"),
    [("row.csv", "1, 2, 3\n"), ("column.txt", "# a column\n1\n2\n3\n"), ("row.txt", "1 2 3")],
)
def test_load_values_takes_a_row_or_a_column(tmp_path: Any, name: str, text: str) -> None:
    path = tmp_path / name
    path.write_text(text)
    assert load_values(path, (3,), "kernel-values").tolist() == [1, 2, 3]


def test_load_values_1d_npy_and_refusals(tmp_path: Any) -> None:
    weight = tmp_path / "w.npy"
    np.save(weight, np.arange(3.0).reshape(1, 1, 3))  # a Conv1d weight
    assert load_values(weight, (3,), "kernel-values").tolist() == [0, 1, 2]
    square = tmp_path / "square.txt"
    square.write_text("1 2\n3 4\n")
    with pytest.raises(ConvSpecError, match=r"holds values of shape \(2, 2\); expected \(4,\)"):
        load_values(square, (4,), "input-values")
    with pytest.raises(ConvSpecError, match=r"holds values of shape \(3,\); expected \(4,\)"):
        load_values(weight, (4,), "kernel-values")
    row = tmp_path / "row.txt"
    row.write_text("1 2 3\n")
    assert load_values(row, (1, 3), "x").shape == (1, 3)  # 2-D shapes stay as they were


# -- against PyTorch ------------------------------------------------------------------------


def torch_padded(torch: Any, x: Any, case: Case, value: float = 0.0) -> Any:
    return torch.nn.functional.pad(x, (case.lo, case.hi), value=value)


@settings(max_examples=200, deadline=None)
@given(cases(), st.integers(0, 2**32 - 1))
def test_evaluate_and_sources_match_torch(case: Case, seed: int) -> None:
    torch = pytest.importorskip("torch")
    functional = torch.nn.functional
    spec = case.spec()
    rng = np.random.default_rng(seed)
    x = torch.tensor(integers(rng, case.size), dtype=torch.float64).reshape(1, 1, -1)
    w = torch.tensor(integers(rng, case.kernel), dtype=torch.float64).reshape(1, 1, -1)
    if case.transposed:
        expected = functional.conv_transpose1d(
            x,
            w,
            stride=case.stride,
            padding=case.lo,
            output_padding=case.output_padding,
            dilation=case.dilation,
        )
    elif case.kwargs["padding"] == "valid" or (
        case.kwargs["padding"] == "same" and case.stride == 1
    ):
        with warnings.catch_warnings():  # 'same' with an even footprint: torch pads a copy
            warnings.simplefilter("ignore", UserWarning)
            expected = functional.conv1d(
                x, w, stride=case.stride, padding=case.kwargs["padding"], dilation=case.dilation
            )
    else:
        expected = functional.conv1d(
            torch_padded(torch, x, case), w, stride=case.stride, dilation=case.dilation
        )
    got = evaluate(spec, x.reshape(-1).numpy(), w.reshape(-1).numpy())
    assert got.tolist() == expected.reshape(-1).tolist()
    # Sources: a one-hot input at i reaches exactly the outputs whose frames read i.
    eye = torch.eye(case.size, dtype=torch.float64).reshape(case.size, 1, case.size)
    ones = torch.ones((1, 1, case.kernel), dtype=torch.float64)
    if case.transposed:
        reached = functional.conv_transpose1d(
            eye,
            ones,
            stride=case.stride,
            padding=case.lo,
            output_padding=case.output_padding,
            dilation=case.dilation,
        )
    else:
        reached = functional.conv1d(
            torch_padded(torch, eye, case), ones, stride=case.stride, dilation=case.dilation
        )
    for frame in spec.frames():
        (j,) = frame.output
        from_torch = {i for i in range(case.size) if reached[i, 0, j] != 0}
        assert frame.sources == frozenset((i,) for i in from_torch)
    if case.transposed or case.lo != case.hi or case.lo > case.kernel // 2:
        return
    pooled = functional.max_pool1d(
        x, case.kernel, stride=case.stride, padding=case.lo, dilation=case.dilation
    )
    assert evaluate(spec, x.reshape(-1).numpy(), op="max").tolist() == pooled.reshape(-1).tolist()
    if case.dilation == 1:
        averaged = functional.avg_pool1d(
            x, case.kernel, stride=case.stride, padding=case.lo, count_include_pad=True
        )
        np.testing.assert_allclose(
            evaluate(spec, x.reshape(-1).numpy(), op="avg"), averaged.reshape(-1), rtol=1e-12
        )


@settings(max_examples=300, deadline=None)
@given(
    size=st.integers(1, 8),
    kernel=st.integers(1, 5),
    stride=st.integers(1, 4),
    padding=st.integers(0, 4),
    dilation=st.integers(1, 3),
    transposed=st.booleans(),
    output_padding=st.integers(0, 4),
)
def test_refuses_what_torch_refuses(
    size: int,
    kernel: int,
    stride: int,
    padding: int,
    dilation: int,
    transposed: bool,
    output_padding: int,
) -> None:
    torch = pytest.importorskip("torch")
    functional = torch.nn.functional
    x = torch.ones((1, 1, size), dtype=torch.float64)
    w = torch.ones((1, 1, kernel), dtype=torch.float64)
    if not transposed:
        output_padding = 0  # a direct convolution has none (Conv1d takes no such argument)
    try:
        if transposed:
            functional.conv_transpose1d(
                x,
                w,
                stride=stride,
                padding=padding,
                output_padding=output_padding,
                dilation=dilation,
            )
        else:
            functional.conv1d(x, w, stride=stride, padding=padding, dilation=dilation)
        torch_accepts = True
    except (RuntimeError, ValueError):
        torch_accepts = False
    kwargs = {
        "input_size": size,
        "kernel_size": kernel,
        "stride": stride,
        "padding": padding,
        "dilation": dilation,
        "transposed": transposed,
        "output_padding": output_padding,
    }
    try:
        ConvSpec(dims=1, **kwargs)
        accepts = True
    except ConvSpecError as error:
        assert error.param in ("output_padding", "output_size")
        accepts = False
    assert accepts == torch_accepts, kwargs


def test_torch_module_attributes_match() -> None:
    torch = pytest.importorskip("torch")
    module = torch.nn.Conv1d(1, 1, 3, stride=2, padding=1, dilation=2)
    spec = ConvSpec(8, 3, stride=2, padding=1, dilation=2, dims=1)
    assert spec.kernel_size == module.kernel_size
    assert spec.stride == module.stride
    assert spec.dilation == module.dilation
    assert spec.pads == (module.padding * 2,)
    out = module(torch.zeros(1, 1, 8))
    assert spec.output_size == tuple(out.shape[2:])


# -- drawing ------------------------------------------------------------------------------------


SHADE_TOLERANCE = 3


def shaded(theme: str, under: str) -> Rgb:
    colours = THEMES[theme]
    a = colours.shade_alpha
    r, g, b = (
        round(a * s + (1 - a) * u)
        for s, u in zip(hex_rgb(colours.shade), hex_rgb(under), strict=True)
    )
    return r, g, b


def colour_at(image: np.ndarray, animation: Animation, plane: Any, col: int) -> Rgb:
    """The most common colour in a 7x7 patch at the centre of cell ``col`` of a one-row plane."""
    x, y = animation.transform.transform(plane.cell(0, col)).mean(axis=0)
    row, column = int(animation.size[1] - y), int(x)
    patch = image[row - 3 : row + 4, column - 3 : column + 4].reshape(-1, 3)
    colours, counts = np.unique(patch, axis=0, return_counts=True)
    r, g, b = (int(v) for v in colours[counts.argmax()])
    return r, g, b


def close(found: Rgb, expected: Rgb) -> bool:
    return max(abs(f - e) for f, e in zip(found, expected, strict=True)) <= SHADE_TOLERANCE


DRAWN = {
    "plain": ConvSpec(7, 3, dims=1),
    "padding_strides": ConvSpec(7, 3, stride=2, padding=1, dims=1),
    "asymmetric": ConvSpec(6, 3, padding=(2, 0), dims=1),
    "dilation": ConvSpec(9, 3, dilation=2, dims=1),
    "transposed": ConvSpec(3, 3, stride=2, padding=1, transposed=True, output_padding=1, dims=1),
}


@pytest.mark.parametrize("theme", ["solarized", "dark"])
@pytest.mark.parametrize("view", ["oblique", "flat"])
@pytest.mark.parametrize("position", ["first", "middle", "last"])
@pytest.mark.parametrize("name", list(DRAWN))
def test_every_cell_has_its_colour(name: str, position: str, view: str, theme: str) -> None:
    spec = DRAWN[name]
    last = spec.frame_count - 1
    index = {"first": 0, "middle": last // 2, "last": last}[position]
    frame = list(spec.frames())[index]
    animation = Animation(spec, RenderOptions(view=view, theme=theme))
    image = animation.render(frame)
    colours = THEMES[theme]
    cells = spec.grid().cells[0]
    taps = {c for (c,) in frame.taps}
    wrong = []
    for col, kind in enumerate(cells):
        base = colours.input if kind == Cell.INPUT else colours.padding
        want = shaded(theme, base) if col in taps else hex_rgb(base)
        got = colour_at(image, animation, animation.input_plane, col)
        if not close(got, want):
            wrong.append(f"input {col}: {got}, expected {want}")
    for col in range(spec.output_size[0]):
        current = (col,) == frame.output
        want = shaded(theme, colours.output) if current else hex_rgb(colours.output)
        got = colour_at(image, animation, animation.output_plane, col)
        if not close(got, want):
            wrong.append(f"output {col}: {got}, expected {want}")
    assert wrong == []


@pytest.mark.parametrize("view", ["oblique", "flat"])
def test_window_slides_along_the_row(view: str) -> None:
    spec = DRAWN["padding_strides"]  # drawn 9 cells, taps 0-2, 2-4, 4-6, 6-8
    animation = Animation(spec, RenderOptions(view=view))
    frames = list(spec.frames())
    images = [animation.render(frame) for frame in frames]
    assert len({image.tobytes() for image in images}) == len(frames)
    blue = hex_rgb(THEMES["solarized"].input)
    dark_blue = shaded("solarized", THEMES["solarized"].input)
    for index, image in enumerate(images):
        for col in range(1, 8):
            found = colour_at(image, animation, animation.input_plane, col)
            inside = 2 * index <= col <= 2 * index + 2
            assert close(found, dark_blue if inside else blue), (index, col, found)
    # Drawing a frame after others gives the same pixels as drawing it first.
    fresh = Animation(spec, RenderOptions(view=view)).render(frames[1])
    assert np.array_equal(fresh, images[1])


@pytest.mark.parametrize("name", ["plain", "transposed", "padding_strides"])
@pytest.mark.parametrize("view", ["oblique", "flat"])
def test_output_row_is_centred_above_the_input_row(view: str, name: str) -> None:
    spec = DRAWN[name]
    animation = Animation(spec, RenderOptions(view=view))
    inp = animation.input_plane.cell(0, 0, 1, spec.drawn_size[0])
    out = animation.output_plane.cell(0, 0, 1, spec.output_size[0])
    shift = out.mean(axis=0) - inp.mean(axis=0)
    if view == "oblique":  # one cell above in the planes' own (x, y), TikZ's xshift left
        assert shift == pytest.approx((-0.35, 2.0))
    else:  # straight above, a cell apart
        assert shift == pytest.approx((0.0, 2.0))
        assert out[:, 1].min() == pytest.approx(inp[:, 1].max() + 1.0)
    width, height = animation.size
    assert animation.render(next(spec.frames())).shape == (height, width, 3)


@pytest.mark.parametrize("view", ["oblique", "flat"])
def test_worked_numbers_are_drawn(view: str) -> None:
    spec = ConvSpec(7, 3, stride=2, padding=1, dims=1)
    x, w = [2, 2, 0, 1, 1, 3, 0], [2, 0, 0]
    numbers = worked(spec, x, w)
    animation = Animation(spec, RenderOptions(view=view), numbers)
    plain = Animation(spec, RenderOptions(view=view)).render(list(spec.frames())[1])
    image = animation.render(list(spec.frames())[1])
    assert animation.values is not None
    assert animation.values.shown == {
        "output": (0, 1),
        "value": "4",
        "weights": ["2", "0", "0"],
        "caption": "2×2 + 0×0 + 1×0 = 4",
    }
    assert image.shape[0] > plain.shape[0]  # room for the caption
    # The numbers are ink on the cells: the input cell holding 2 has pixels of the text colour.
    text = np.array(hex_rgb(THEMES["solarized"].text))
    x0, y0 = animation.transform.transform(animation.input_plane.cell(0, 1)).min(axis=0)
    x1, y1 = animation.transform.transform(animation.input_plane.cell(0, 1)).max(axis=0)
    height = animation.size[1]
    patch = image[int(height - y1) : int(height - y0), int(x0) : int(x1)]
    assert (np.abs(patch.astype(int) - text).max(axis=2) < 40).sum() > 10


def test_vector_strip_and_palette() -> None:
    spec = DRAWN["transposed"]
    animation = Animation(spec, RenderOptions(labels=True))
    figure = animation.vector(list(spec.frames())[:3], columns=3)
    width, height = animation.size
    assert figure.get_size_inches() * figure.dpi == pytest.approx(
        (3 * width + 2 * 8 + 0.25, height + 0.25)
    )
    assert animation.colours()[0] == THEMES["solarized"].background
    assert animation.inks() == [THEMES["solarized"].line, THEMES["solarized"].text]
