"""Tests for ``convanim.geometry``.

The reference implementation below is deliberately independent of ``convanim``: it builds
one-hot inputs and runs the convolution by its definition with plain loops (a correlation of
the padded input with an all-ones dilated kernel for a direct convolution, the scatter
``out[i * stride - padding + j * dilation] += in[i]`` for a transposed one). An input cell is a
source of an output cell exactly when the one-hot input at that cell reaches the output cell.
"""

from __future__ import annotations

import math
import random
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from convanim.geometry import Cell, ConvSpec, ConvSpecError, DrawnGrid

Pair = tuple[int, int]
Pads = tuple[Pair, Pair]
Sources = dict[Pair, frozenset[Pair]]

MODES = ("valid", "same", "full")


# -- the reference ------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """A convolution as ``ConvSpec`` is called, plus the same numbers resolved per axis."""

    kwargs: dict[str, Any]
    input_size: Pair
    kernel: Pair
    stride: Pair
    dilation: Pair
    pads: Pads  # ((top, bottom), (left, right)); for transposed, PyTorch's padding twice
    transposed: bool
    output_padding: Pair
    mode: str | None = None

    def span(self, axis: int) -> int:
        return self.dilation[axis] * (self.kernel[axis] - 1)

    def spec(self) -> ConvSpec:
        return ConvSpec(**self.kwargs)


def named_pads(mode: str, size: int, kernel: int, stride: int, dilation: int) -> Pair:
    """(before, after) padding of one axis for a named mode, as the issue specifies it."""
    span = dilation * (kernel - 1)
    if mode == "valid":
        return 0, 0
    if mode == "full":
        return span, span
    assert mode == "same"
    if stride == 1:  # PyTorch: total dilation * (kernel - 1), the odd cell after
        total = span
    else:  # TensorFlow: output ceil(size / stride), the odd cell after
        wanted = -(-size // stride)
        total = max((wanted - 1) * stride + span + 1 - size, 0)
    return total // 2, total - total // 2


def one_hots(rows: int, cols: int) -> np.ndarray:
    """A batch of one-hot inputs: ``batch[rows * cols, rows, cols]``, item i hot at divmod(i)."""
    batch = np.zeros((rows * cols, rows, cols), dtype=np.int64)
    for i in range(rows):
        for j in range(cols):
            batch[i * cols + j, i, j] = 1
    return batch


def sources_of(out: np.ndarray, cols: int) -> Sources:
    """Per output cell, the one-hot inputs that reached it. ``out[batch, rows, cols]``."""
    found: Sources = {}
    for r in range(out.shape[1]):
        for c in range(out.shape[2]):
            hit = np.nonzero(out[:, r, c])[0]
            found[(r, c)] = frozenset(divmod(int(index), cols) for index in hit)
    return found


def reference_direct(case: Case) -> tuple[Pair, Sources] | None:
    """Output size and sources of a direct convolution, or None when there is no output."""
    (rows, cols), (kr, kc) = case.input_size, case.kernel
    (sr, sc), (dr, dc) = case.stride, case.dilation
    (top, bottom), (left, right) = case.pads
    batch = one_hots(rows, cols)
    padded = np.zeros((rows * cols, top + rows + bottom, left + cols + right), dtype=np.int64)
    padded[:, top : top + rows, left : left + cols] = batch
    # Count the kernel positions that fit, one at a time.
    out_rows = 0
    while out_rows * sr + (kr - 1) * dr < padded.shape[1]:
        out_rows += 1
    out_cols = 0
    while out_cols * sc + (kc - 1) * dc < padded.shape[2]:
        out_cols += 1
    if out_rows < 1 or out_cols < 1:
        return None
    out = np.zeros((rows * cols, out_rows, out_cols), dtype=np.int64)
    for r in range(out_rows):
        for c in range(out_cols):
            for u in range(kr):
                for v in range(kc):
                    out[:, r, c] += padded[:, r * sr + u * dr, c * sc + v * dc]
    return (out_rows, out_cols), sources_of(out, cols)


def reference_transposed(case: Case) -> tuple[Pair, Sources] | str:
    """Output size and sources of a transposed convolution, or the parameter at fault."""
    (rows, cols), (kr, kc) = case.input_size, case.kernel
    (sr, sc), (dr, dc) = case.stride, case.dilation
    pr, pc = case.pads[0][0], case.pads[1][0]
    opr, opc = case.output_padding
    if opr >= max(sr, dr) or opc >= max(sc, dc):
        return "output_padding"
    out_rows = (rows - 1) * sr - 2 * pr + dr * (kr - 1) + opr + 1
    out_cols = (cols - 1) * sc - 2 * pc + dc * (kc - 1) + opc + 1
    if out_rows < 1 or out_cols < 1:
        return "output_size"
    batch = one_hots(rows, cols)
    out = np.zeros((rows * cols, out_rows, out_cols), dtype=np.int64)
    for a in range(rows):
        for b in range(cols):
            for u in range(kr):
                for v in range(kc):
                    r, c = a * sr - pr + u * dr, b * sc - pc + v * dc
                    if 0 <= r < out_rows and 0 <= c < out_cols:
                        out[:, r, c] += batch[:, a, b]
    return (out_rows, out_cols), sources_of(out, cols)


def check_against_reference(case: Case) -> None:
    expected: tuple[Pair, Sources] | str | None
    if case.transposed:
        expected = reference_transposed(case)
    else:
        expected = reference_direct(case)
        if expected is None:
            expected = "output_size"
    if isinstance(expected, str):
        with pytest.raises(ConvSpecError) as caught:
            case.spec()
        assert caught.value.param == expected, case
        return
    size, sources = expected
    spec = case.spec()
    assert spec.output_size == size, case
    frames = list(spec.frames())
    assert len(frames) == len(sources) == size[0] * size[1], case
    for frame in frames:
        assert frame.sources == sources[frame.output], (case, frame.output)


# -- drawing cases ------------------------------------------------------------------------

Randint = Callable[[int, int], int]


def _pair(randint: Randint, lo: int, hi: int) -> tuple[Any, Pair]:
    """A (rows, cols) pair and how to pass it: an int when square (sometimes), else a tuple."""
    rows = randint(lo, hi)
    cols = rows if randint(0, 1) else randint(lo, hi)
    if rows == cols and randint(0, 1):
        return rows, (rows, cols)
    return (rows, cols), (rows, cols)


def make_direct(randint: Randint, valid: bool = True) -> Case:
    """A direct convolution; when ``valid``, one with an output."""
    kernel_arg, kernel = _pair(randint, 1, 4)
    stride_arg, stride = _pair(randint, 1, 3)
    dilation_arg, dilation = _pair(randint, 1, 3)
    span = [dilation[axis] * (kernel[axis] - 1) for axis in range(2)]
    form = randint(0, 3)
    mode: str | None = None
    if form == 0:
        p = randint(0, 3)
        padding_arg: Any = p
        pads: Pads = ((p, p), (p, p))
    elif form == 1:
        pr, pc = randint(0, 3), randint(0, 3)
        padding_arg = (pr, pc)
        pads = ((pr, pr), (pc, pc))
    elif form == 2:
        pads = ((randint(0, 3), randint(0, 3)), (randint(0, 3), randint(0, 3)))
        padding_arg = pads
    else:
        mode = MODES[randint(0, 2)]
        padding_arg = mode
        pads = ((0, 0), (0, 0))  # resolved below, once the input size is known
    sizes = []
    for axis in range(2):
        if not valid:
            sizes.append(randint(1, 7))
        elif mode is None:
            sizes.append(max(1, span[axis] + 1 - sum(pads[axis])) + randint(0, 3))
        elif mode == "valid":
            sizes.append(span[axis] + 1 + randint(0, 3))
        else:
            sizes.append(randint(1, 7))
    input_size = (sizes[0], sizes[1])
    input_arg: Any = input_size
    if sizes[0] == sizes[1] and randint(0, 1):
        input_arg = sizes[0]
    if mode is not None:
        pads = (
            named_pads(mode, sizes[0], kernel[0], stride[0], dilation[0]),
            named_pads(mode, sizes[1], kernel[1], stride[1], dilation[1]),
        )
    kwargs: dict[str, Any] = {
        "input_size": input_arg,
        "kernel_size": kernel_arg,
        "stride": stride_arg,
        "padding": padding_arg,
        "dilation": dilation_arg,
    }
    return Case(kwargs, input_size, kernel, stride, dilation, pads, False, (0, 0), mode)


def make_transposed(randint: Randint, valid: bool = True) -> Case:
    """A transposed convolution, often with output_padding or a cropped (large) padding."""
    input_arg, input_size = _pair(randint, 1, 4)
    kernel_arg, kernel = _pair(randint, 1, 4)
    stride_arg, stride = _pair(randint, 1, 3)
    dilation_arg, dilation = _pair(randint, 1, 3)
    extra, padding = [], []
    for axis in range(2):
        span = dilation[axis] * (kernel[axis] - 1)
        limit = max(stride[axis], dilation[axis])
        op = randint(0, limit - 1) if valid else randint(0, limit)
        reach = (input_size[axis] - 1) * stride[axis] + span + op
        extra.append(op)
        # Valid: any padding leaving an output, so often more than span (a cropped grid).
        padding.append(randint(0, reach // 2) if valid else randint(0, span + 3))
    padding_arg: Any = tuple(padding)
    if padding[0] == padding[1] and randint(0, 1):
        padding_arg = padding[0]
    kwargs: dict[str, Any] = {
        "input_size": input_arg,
        "kernel_size": kernel_arg,
        "stride": stride_arg,
        "padding": padding_arg,
        "dilation": dilation_arg,
        "transposed": True,
    }
    if extra != [0, 0] or randint(0, 1):
        kwargs["output_padding"] = extra[0] if extra[0] == extra[1] else tuple(extra)
    pads = ((padding[0], padding[0]), (padding[1], padding[1]))
    output_padding = (extra[0], extra[1])
    return Case(kwargs, input_size, kernel, stride, dilation, pads, True, output_padding)


@st.composite
def cases(draw: st.DrawFn, valid: bool = True, transposed: bool | None = None) -> Case:
    def randint(lo: int, hi: int) -> int:
        return draw(st.integers(lo, hi))

    if transposed is None:
        transposed = draw(st.booleans())
    return (make_transposed if transposed else make_direct)(randint, valid)


FAST = settings(max_examples=100, deadline=None)


# -- the reference, on drawn specs ----------------------------------------------------------


@FAST
@given(cases(valid=False, transposed=False))
def test_direct_matches_reference(case: Case) -> None:
    check_against_reference(case)


@FAST
@given(cases(valid=True, transposed=False))
def test_direct_with_output_matches_reference(case: Case) -> None:
    check_against_reference(case)


@FAST
@given(cases(valid=False, transposed=True))
def test_transposed_matches_reference(case: Case) -> None:
    check_against_reference(case)


@FAST
@given(cases(valid=True, transposed=True))
def test_transposed_with_output_matches_reference(case: Case) -> None:
    check_against_reference(case)


# Valid specs worth pinning down, beside the drawn ones.
CHOSEN: list[dict[str, Any]] = [
    # non-square, dilated, strided, asymmetric padding
    {"input_size": (5, 7), "kernel_size": (3, 2), "stride": (2, 3), "dilation": (2, 1)},
    {"input_size": (6, 4), "kernel_size": 3, "padding": ((0, 2), (1, 0)), "stride": 2},
    {"input_size": (3, 5), "kernel_size": (2, 4), "padding": ((3, 0), (0, 3))},
    # padding larger than the kernel: frames that read only padding
    {"input_size": 2, "kernel_size": 2, "padding": 3, "stride": 2},
    # named modes
    {"input_size": (4, 7), "kernel_size": (4, 2), "padding": "same", "dilation": (1, 3)},
    {"input_size": 5, "kernel_size": (2, 4), "padding": "same"},
    {"input_size": (3, 6), "kernel_size": (1, 2), "padding": "same", "dilation": 2},
    {"input_size": (7, 5), "kernel_size": 3, "padding": "same", "stride": (3, 2)},
    {"input_size": (1, 2), "kernel_size": 4, "padding": "same", "stride": 3},
    {"input_size": 3, "kernel_size": (2, 3), "padding": "full", "dilation": 2},
    {"input_size": (5, 6), "kernel_size": (3, 4), "padding": "valid", "stride": (2, 1)},
    # transposed: output_padding via stride and via dilation, cropped grids
    {"input_size": 3, "stride": 2, "padding": 1, "output_padding": 1, "transposed": True},
    {"input_size": (2, 3), "dilation": 3, "output_padding": (2, 1), "transposed": True},
    {"input_size": 5, "kernel_size": 3, "padding": 3, "transposed": True},  # 1x1 output
    {
        "input_size": (3, 2),
        "kernel_size": 2,
        "stride": 3,
        "padding": (3, 2),
        "transposed": True,
    },
    {
        "input_size": (4, 3),
        "kernel_size": (3, 2),
        "stride": (2, 3),
        "padding": (4, 2),
        "dilation": (2, 1),
        "output_padding": (1, 2),
        "transposed": True,
    },
]


@pytest.mark.parametrize("kwargs", CHOSEN)
def test_chosen_specs_match_reference(kwargs: dict[str, Any]) -> None:
    case = case_of(kwargs)
    assert case.spec().frame_count >= 1
    check_against_reference(case)


def case_of(kwargs: dict[str, Any]) -> Case:
    """A ``Case`` for plain keyword arguments (ints, pairs, nested pairs or a mode name)."""

    def pair(value: Any) -> Pair:
        return (value, value) if isinstance(value, int) else (value[0], value[1])

    full: dict[str, Any] = {"kernel_size": 3, "stride": 1, "padding": 0, "dilation": 1}
    full.update(kwargs)
    input_size, kernel = pair(full["input_size"]), pair(full["kernel_size"])
    stride, dilation = pair(full["stride"]), pair(full["dilation"])
    padding = full["padding"]
    mode = padding if isinstance(padding, str) else None
    pads: Pads
    if mode is not None:
        pads = (
            named_pads(mode, input_size[0], kernel[0], stride[0], dilation[0]),
            named_pads(mode, input_size[1], kernel[1], stride[1], dilation[1]),
        )
    elif isinstance(padding, int) or isinstance(padding[0], int):
        rows, cols = pair(padding)
        pads = ((rows, rows), (cols, cols))
    else:
        pads = (pair(padding[0]), pair(padding[1]))
    return Case(
        kwargs=kwargs,
        input_size=input_size,
        kernel=kernel,
        stride=stride,
        dilation=dilation,
        pads=pads,
        transposed=bool(kwargs.get("transposed", False)),
        output_padding=pair(kwargs.get("output_padding", 0)),
        mode=mode,
    )


# -- properties ---------------------------------------------------------------------------


@FAST
@given(cases())
def test_output_size_formula(case: Case) -> None:
    spec = case.spec()
    expected = []
    for axis in range(2):
        n, k = case.input_size[axis], case.kernel[axis]
        s, d = case.stride[axis], case.dilation[axis]
        lo, hi = case.pads[axis]
        if case.transposed:
            expected.append((n - 1) * s - 2 * lo + d * (k - 1) + case.output_padding[axis] + 1)
        else:
            expected.append(math.floor((n + lo + hi - d * (k - 1) - 1) / s) + 1)
    assert spec.output_size == tuple(expected)
    assert spec.frame_count == expected[0] * expected[1]
    assert spec.pads == case.pads
    for axis in range(2):
        assert spec.formula()[axis].endswith(f"= {expected[axis]}")


@FAST
@given(cases())
def test_frames_row_major_and_taps_inside_grid(case: Case) -> None:
    spec = case.spec()
    rows, cols = spec.output_size
    frames = list(spec.frames())
    assert len(frames) == rows * cols == spec.frame_count
    assert [f.index for f in frames] == list(range(rows * cols))
    assert [f.output for f in frames] == [(r, c) for r in range(rows) for c in range(cols)]
    grid = spec.grid()
    assert grid.shape == spec.drawn_size
    (kr, kc), (dr, dc) = case.kernel, case.dilation
    for frame in frames:
        assert frame.grid.shape == grid.shape
        assert len(frame.taps) == kr * kc
        for r, c in frame.taps:
            assert 0 <= r < grid.shape[0]
            assert 0 <= c < grid.shape[1]
        # Kernel row-major, dilation apart; the window is their footprint.
        top, left = frame.taps[0]
        assert frame.taps == tuple(
            (top + u * dr, left + v * dc) for u in range(kr) for v in range(kc)
        )
        assert frame.window == ((top, left), (top + (kr - 1) * dr + 1, left + (kc - 1) * dc + 1))
        # A direct convolution moves by stride; a transposed one by 1 over its drawn grid.
        hop = (1, 1) if case.transposed else case.stride
        assert (top, left) == (frame.output[0] * hop[0], frame.output[1] * hop[1])


@FAST
@given(cases())
def test_sources_are_the_input_cells_under_the_taps(case: Case) -> None:
    spec = case.spec()
    inputs = {(i, j) for i in range(case.input_size[0]) for j in range(case.input_size[1])}
    for frame in spec.frames():
        grid = frame.grid
        under = {grid.input_at(r, c) for r, c in frame.taps}
        under.discard(None)
        assert frame.sources <= inputs
        assert frame.sources == under
        for r, c in frame.taps:
            assert (grid.input_at(r, c) is not None) == (grid.cells[r, c] == Cell.INPUT)


@FAST
@given(cases())
def test_drawn_grid_layout(case: Case) -> None:
    """Where the input, padding and inserted zeros lie on the drawn grid, per the docstring."""
    grid = case.spec().grid()
    assert isinstance(grid, DrawnGrid)
    assert grid.cells.shape == grid.shape
    assert set(np.unique(grid.cells).tolist()) <= {Cell.PADDING, Cell.INPUT, Cell.ZERO}
    firsts, steps, lengths = [], [], []
    for axis in range(2):
        n, s, op = case.input_size[axis], case.stride[axis], case.output_padding[axis]
        lo, hi = case.pads[axis]
        span = case.span(axis)
        if case.transposed:
            first, step = span - lo, s
            length = (n - 1) * s + 1 + (span - lo) + (span - hi) + op
        else:
            first, step, length = lo, 1, lo + n + hi
        firsts.append(first)
        steps.append(step)
        lengths.append(length)
    assert grid.shape == (lengths[0], lengths[1])
    expected_inputs = {}
    for a in range(case.input_size[0]):
        for b in range(case.input_size[1]):
            r, c = firsts[0] + a * steps[0], firsts[1] + b * steps[1]
            if 0 <= r < lengths[0] and 0 <= c < lengths[1]:  # a cropped grid loses some
                expected_inputs[(r, c)] = (a, b)
    found = {}
    for r in range(lengths[0]):
        for c in range(lengths[1]):
            cell = grid.input_at(r, c)
            if cell is not None:
                found[(r, c)] = cell
    assert found == expected_inputs
    assert int(np.sum(grid.cells == Cell.INPUT)) == len(expected_inputs)
    if not case.transposed:
        assert not np.any(grid.cells == Cell.ZERO)
    # Inserted zeros: every non-input cell within the span of the input cells on both axes;
    # everything else that is not an input cell is padding.
    expected = np.full(grid.shape, Cell.PADDING, dtype=np.uint8)
    for r in range(lengths[0]):
        for c in range(lengths[1]):
            if (r, c) in expected_inputs:
                expected[r, c] = Cell.INPUT
            elif all(
                0 <= position - firsts[axis] <= (case.input_size[axis] - 1) * steps[axis]
                for axis, position in enumerate((r, c))
            ):
                expected[r, c] = Cell.ZERO
    np.testing.assert_array_equal(grid.cells, expected)


@FAST
@given(
    st.integers(1, 12),
    st.integers(1, 12),
    st.integers(1, 5),
    st.integers(1, 5),
    st.integers(1, 3),
    st.integers(1, 3),
)
def test_same_padding(n_rows: int, n_cols: int, kr: int, kc: int, dr: int, dc: int) -> None:
    spec = ConvSpec((n_rows, n_cols), (kr, kc), padding="same", dilation=(dr, dc))
    assert spec.output_size == (n_rows, n_cols)
    (top, bottom), (left, right) = spec.pads
    assert (top + bottom, left + right) == (dr * (kr - 1), dc * (kc - 1))
    assert bottom - top in (0, 1) and right - left in (0, 1)  # the odd cell at bottom / right


@FAST
@given(
    st.integers(1, 12),
    st.integers(1, 12),
    st.integers(1, 4),
    st.integers(1, 4),
    st.integers(1, 4),
    st.integers(1, 4),
    st.integers(1, 2),
)
def test_same_padding_strided(
    n_rows: int, n_cols: int, kr: int, kc: int, sr: int, sc: int, d: int
) -> None:
    spec = ConvSpec((n_rows, n_cols), (kr, kc), stride=(sr, sc), padding="same", dilation=d)
    assert spec.output_size == (math.ceil(n_rows / sr), math.ceil(n_cols / sc))
    for (lo, hi), n, k, s in zip(spec.pads, (n_rows, n_cols), (kr, kc), (sr, sc), strict=True):
        assert hi - lo in (0, 1)
        # TensorFlow: just enough padding for ceil(n / s) outputs, none when not needed.
        needed = (math.ceil(n / s) - 1) * s + d * (k - 1) + 1 - n
        assert lo + hi == max(needed, 0)


# -- the conv_arithmetic table ------------------------------------------------------------

# The 15 animations of vdumoulin/conv_arithmetic: input, kernel, stride, padding, dilation,
# transposed, output_padding, output, frames; then, worked out by hand, the drawn grid side and
# its inserted zeros (stride - 1 zeros between input cells, dilation * (kernel - 1) - padding
# cells each side, output_padding more at the bottom / right).
CONV_ARITHMETIC = [
    # name                                    in  k  s  p  d  tr     op out frames drawn zeros
    ("no_padding_no_strides", 4, 3, 1, 0, 1, False, 0, 2, 4, 4, 0),
    ("arbitrary_padding_no_strides", 5, 4, 1, 2, 1, False, 0, 6, 36, 9, 0),
    ("same_padding_no_strides", 5, 3, 1, 1, 1, False, 0, 5, 25, 7, 0),
    ("full_padding_no_strides", 5, 3, 1, 2, 1, False, 0, 7, 49, 9, 0),
    ("no_padding_strides", 5, 3, 2, 0, 1, False, 0, 2, 4, 5, 0),
    ("padding_strides", 5, 3, 2, 1, 1, False, 0, 3, 9, 7, 0),
    ("padding_strides_odd", 6, 3, 2, 1, 1, False, 0, 3, 9, 8, 0),
    ("dilation", 7, 3, 1, 0, 2, False, 0, 3, 9, 7, 0),
    ("no_padding_no_strides_transposed", 2, 3, 1, 0, 1, True, 0, 4, 16, 6, 0),
    ("arbitrary_padding_no_strides_transposed", 6, 4, 1, 2, 1, True, 0, 5, 25, 8, 0),
    ("same_padding_no_strides_transposed", 5, 3, 1, 1, 1, True, 0, 5, 25, 7, 0),
    ("full_padding_no_strides_transposed", 7, 3, 1, 2, 1, True, 0, 5, 25, 7, 0),
    ("no_padding_strides_transposed", 2, 3, 2, 0, 1, True, 0, 5, 25, 7, 5),
    ("padding_strides_transposed", 3, 3, 2, 1, 1, True, 0, 5, 25, 7, 16),
    ("padding_strides_odd_transposed", 3, 3, 2, 1, 1, True, 1, 6, 36, 8, 16),
]


@pytest.mark.parametrize(
    ("n", "k", "s", "p", "d", "transposed", "op", "out", "frames", "drawn", "zeros"),
    [pytest.param(*row[1:], id=row[0]) for row in CONV_ARITHMETIC],
)
def test_conv_arithmetic(
    n: int,
    k: int,
    s: int,
    p: int,
    d: int,
    transposed: bool,
    op: int,
    out: int,
    frames: int,
    drawn: int,
    zeros: int,
) -> None:
    kwargs: dict[str, Any] = {
        "input_size": n,
        "kernel_size": k,
        "stride": s,
        "padding": p,
        "dilation": d,
        "transposed": transposed,
        "output_padding": op,
    }
    spec = ConvSpec(**kwargs)
    assert spec.output_size == (out, out)
    assert spec.frame_count == frames
    all_frames = list(spec.frames())
    assert len(all_frames) == frames
    grid = spec.grid()
    assert grid.shape == spec.drawn_size == (drawn, drawn)
    assert int(np.sum(grid.cells == Cell.INPUT)) == n * n
    assert int(np.sum(grid.cells == Cell.ZERO)) == zeros
    assert int(np.sum(grid.cells == Cell.PADDING)) == drawn * drawn - n * n - zeros
    # Input cell (a, b) is drawn at first + (a, b) * step.
    first, step = (d * (k - 1) - p, s) if transposed else (p, 1)
    for a in range(n):
        for b in range(n):
            assert grid.input_at(first + a * step, first + b * step) == (a, b)
    if transposed:
        # The output_padding cells are the last rows and columns, and are padding.
        assert drawn == first + (n - 1) * s + 1 + first + op
        assert np.all(grid.cells[drawn - op :, :] == Cell.PADDING)
        assert np.all(grid.cells[:, drawn - op :] == Cell.PADDING)
    check_against_reference(case_of(kwargs))


@pytest.mark.parametrize(
    ("name", "mode"),
    [
        ("no_padding_no_strides", "valid"),
        ("same_padding_no_strides", "same"),
        ("full_padding_no_strides", "full"),
        ("no_padding_strides", "valid"),
        ("padding_strides", "same"),  # TensorFlow's 'same': ceil(5 / 2) = 3, padding 1 a side
        ("dilation", "valid"),
    ],
)
def test_conv_arithmetic_named_modes(name: str, mode: str) -> None:
    row = next(r for r in CONV_ARITHMETIC if r[0] == name)
    n, k, s, p, d = row[1:6]
    numeric = ConvSpec(n, k, stride=s, padding=p, dilation=d)
    named = ConvSpec(n, k, stride=s, padding=mode, dilation=d)
    assert named.padding == mode
    assert named.pads == numeric.pads == ((p, p), (p, p))
    assert named.output_size == numeric.output_size == (row[8], row[8])
    assert [f.sources for f in named.frames()] == [f.sources for f in numeric.frames()]


# -- invalid specs ------------------------------------------------------------------------

T = {"transposed": True}

ERRORS = [
    # (kwargs, param, the bad value as the message shows it, a hint of what is valid)
    ({"input_size": 4, "stride": 0}, "stride", "0", ">= 1"),
    ({"input_size": 4, "stride": -2}, "stride", "-2", ">= 1"),
    ({"input_size": 4, "stride": (1, 0)}, "stride", "(1, 0)", ">= 1"),
    ({"input_size": 4, "dilation": 0}, "dilation", "0", ">= 1"),
    ({"input_size": 4, "dilation": (0, 2)}, "dilation", "(0, 2)", ">= 1"),
    ({"input_size": 4, "kernel_size": 0}, "kernel_size", "0", ">= 1"),
    ({"input_size": 4, "kernel_size": (2, -1)}, "kernel_size", "(2, -1)", ">= 1"),
    ({"input_size": 0}, "input_size", "0", ">= 1"),
    ({"input_size": (4, 0)}, "input_size", "(4, 0)", ">= 1"),
    ({"input_size": 4, "stride": 0, **T}, "stride", "0", ">= 1"),
    # negative padding / output_padding
    ({"input_size": 4, "padding": -1}, "padding", "-1", ">= 0"),
    ({"input_size": 4, "padding": (1, -1)}, "padding", "(1, -1)", ">= 0"),
    ({"input_size": 4, "padding": ((0, 1), (-1, 0))}, "padding", "-1", ">= 0"),
    ({"input_size": 4, "padding": -1, **T}, "padding", "-1", ">= 0"),
    ({"input_size": 4, "output_padding": -1, **T}, "output_padding", "-1", ">= 0"),
    ({"input_size": 4, "output_padding": (0, -1), **T}, "output_padding", "(0, -1)", ">= 0"),
    # no output
    ({"input_size": 2, "kernel_size": 3}, "output_size", "would be 0", "at least 1"),
    ({"input_size": (5, 9), "dilation": 3}, "output_size", "-1 on the rows", "at least 1"),
    (
        {"input_size": 3, "kernel_size": 2, "padding": ((0, 0), (0, 0)), "dilation": 4},
        "output_size",
        "would be -1",
        "at least 1",
    ),
    (
        {"input_size": 3, "kernel_size": 3, "padding": 3, **T},
        "output_size",
        "would be -1",
        "at least 1",
    ),
    (
        {"input_size": 1, "kernel_size": 1, "padding": (0, 1), **T},
        "output_size",
        "-1 on the cols",
        "at least 1",
    ),
    # output_padding too large, or on a direct convolution
    ({"input_size": 3, "stride": 2, "output_padding": 2, **T}, "output_padding", "2", "at most 1"),
    ({"input_size": 3, "output_padding": 1, **T}, "output_padding", "1", "at most 0"),
    (
        {"input_size": 3, "dilation": 2, "output_padding": (0, 2), **T},
        "output_padding",
        "2",
        "at most 1",
    ),
    (
        {"input_size": 3, "stride": (2, 1), "output_padding": (0, 1), **T},
        "output_padding",
        "1",
        "at most 0",
    ),
    ({"input_size": 5, "output_padding": 1}, "output_padding", "1", "transposed"),
    # padding modes
    ({"input_size": 5, "padding": "half"}, "padding", "'half'", "valid, same, full"),
    ({"input_size": 5, "padding": "SAME"}, "padding", "'SAME'", "valid, same, full"),
    ({"input_size": 5, "padding": ""}, "padding", "''", "valid, same, full"),
    ({"input_size": 5, "padding": "same", **T}, "padding", "'same'", "integer >= 0"),
    ({"input_size": 5, "padding": "valid", **T}, "padding", "'valid'", "integer >= 0"),
    ({"input_size": 5, "padding": "full", **T}, "padding", "'full'", "integer >= 0"),
    (
        {"input_size": 5, "padding": ((1, -1), (1, 1)), **T},
        "padding",
        "(1, -1)",
        "integer >= 0",
    ),
    # tuples of the wrong length
    ({"input_size": (3, 3, 3), "dims": 2}, "input_size", "(3, 3, 3)", "(rows, cols)"),
    ({"input_size": (3,)}, "input_size", "(3,)", "(rows, cols)"),
    ({"input_size": 5, "kernel_size": ()}, "kernel_size", "()", "(rows, cols)"),
    ({"input_size": 5, "stride": [1, 1, 1]}, "stride", "[1, 1, 1]", "(rows, cols)"),
    ({"input_size": 5, "dilation": (1, 2, 3)}, "dilation", "(1, 2, 3)", "(rows, cols)"),
    ({"input_size": 5, "padding": (1, 2, 3)}, "padding", "(1, 2, 3)", "(rows, cols)"),
    (
        {"input_size": 5, "padding": ((1, 2), (3,))},
        "padding",
        "((1, 2), (3,))",
        "((top, bottom), (left, right))",
    ),
    (
        {"input_size": 5, "padding": ((1, 2, 3), (1, 2))},
        "padding",
        "((1, 2, 3), (1, 2))",
        "((top, bottom), (left, right))",
    ),
    (
        {"input_size": 5, "output_padding": (0, 0, 0), **T},
        "output_padding",
        "(0, 0, 0)",
        "(rows, cols)",
    ),
    # not integers
    ({"input_size": 4.0}, "input_size", "4.0", "integer"),
    ({"input_size": None}, "input_size", "None", "integer"),
    ({"input_size": "4"}, "input_size", "'4'", "integer"),
    ({"input_size": 5, "kernel_size": "3"}, "kernel_size", "'3'", "integer"),
    ({"input_size": 5, "kernel_size": (3, 2.5)}, "kernel_size", "(3, 2.5)", "integer"),
    ({"input_size": 5, "stride": 1.5}, "stride", "1.5", "integer"),
    ({"input_size": 5, "dilation": (1, 2.0)}, "dilation", "(1, 2.0)", "integer"),
    ({"input_size": 5, "padding": 0.5}, "padding", "0.5", "integer"),
    ({"input_size": 5, "padding": (1.0, 1)}, "padding", "(1.0, 1)", "integer"),
    ({"input_size": 5, "padding": ((0, 1), (1, 0.5))}, "padding", "0.5", "integer"),
    ({"input_size": 5, "output_padding": 0.0, **T}, "output_padding", "0.0", "integer"),
    # booleans are not integers here
    ({"input_size": True}, "input_size", "True", "integer"),
    ({"input_size": 5, "kernel_size": True}, "kernel_size", "True", "integer"),
    ({"input_size": 5, "stride": (True, 1)}, "stride", "(True, 1)", "integer"),
    ({"input_size": 5, "dilation": True}, "dilation", "True", "integer"),
    ({"input_size": 5, "padding": False}, "padding", "False", "integer"),
    ({"input_size": 5, "padding": ((0, False), (0, 0))}, "padding", "False", "integer"),
    ({"input_size": 5, "output_padding": False, **T}, "output_padding", "False", "integer"),
    ({"input_size": 5, "transposed": 1}, "transposed", "1", "True or False"),
    ({"input_size": 5, "transposed": "yes"}, "transposed", "'yes'", "True or False"),
]


@pytest.mark.parametrize(
    ("kwargs", "param", "shown", "hint"),
    [pytest.param(*e, id=f"{e[1]}-{i}") for i, e in enumerate(ERRORS)],
)
def test_invalid_spec(kwargs: dict[str, Any], param: str, shown: str, hint: str) -> None:
    with pytest.raises(ConvSpecError) as caught:
        ConvSpec(**kwargs)
    error = caught.value
    assert isinstance(error, ValueError)
    assert error.param == param
    message = str(error)
    assert message.startswith(f"{param}: "), message
    assert shown in message, message
    assert hint in message, message


def test_error_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="stride"):
        ConvSpec(4, stride=0)


PARAMS = (
    "input_size",
    "kernel_size",
    "stride",
    "padding",
    "dilation",
    "transposed",
    "output_padding",
)

_scalars = st.one_of(
    st.integers(-2, 6),
    st.booleans(),
    st.none(),
    st.floats(-2, 6, allow_nan=False),
    st.sampled_from(["valid", "same", "full", "half", "", "3"]),
)
_junk = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=3).map(tuple) | st.lists(inner, max_size=3),
    max_leaves=6,
)


@FAST
@given(st.dictionaries(st.sampled_from(PARAMS[1:]), _junk, max_size=4), _junk)
def test_any_arguments_give_a_spec_or_a_conv_spec_error(
    kwargs: dict[str, Any], input_size: Any
) -> None:
    """Whatever is passed, the outcome is a spec or a ConvSpecError naming a parameter."""
    try:
        spec = ConvSpec(input_size, **kwargs)
    except ConvSpecError as error:
        assert error.param in (*PARAMS, "output_size")
        assert str(error).startswith(f"{error.param}: ")
        return
    assert spec.frame_count >= 1


def test_arguments_are_normalised() -> None:
    as_list: Any = [2, 1]  # lists work as pairs, though not typed as such
    spec = ConvSpec(4, 3, stride=as_list, padding=1, dilation=(1, 2))
    assert spec.input_size == (4, 4)
    assert spec.kernel_size == (3, 3)
    assert spec.stride == (2, 1)
    assert spec.dilation == (1, 2)
    assert spec.padding == ((1, 1), (1, 1))
    assert spec.output_padding == (0, 0)
    assert spec.transposed is False
    assert ConvSpec(4, padding=(1, 2)).padding == ((1, 1), (2, 2))
    nested: Any = [[0, 1], [2, 3]]
    assert ConvSpec(4, padding=nested).padding == ((0, 1), (2, 3))
    assert ConvSpec(4, padding="same").padding == "same"
    assert ConvSpec(4, 3) == ConvSpec((4, 4), (3, 3), padding=(0, 0))
    assert ConvSpec(3, transposed=True, stride=2, output_padding=1).output_padding == (1, 1)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"input_size": [4, 5], "kernel_size": [2, 3], "padding": [[1, 0], [0, 2]]},
        {"input_size": np.int64(4), "kernel_size": (np.int32(2), 3)},
        {"input_size": 1, "kernel_size": 1},
        {"input_size": 3, "kernel_size": 3, "padding": 2, "transposed": True},  # 1x1, cropped
        {"input_size": 3, "stride": 1, "dilation": 2, "output_padding": 1, "transposed": True},
    ],
)
def test_valid_edge_specs(kwargs: dict[str, Any]) -> None:
    spec = ConvSpec(**kwargs)
    assert all(isinstance(v, int) and not isinstance(v, bool) for v in spec.input_size)
    assert spec.frame_count >= 1
    check_against_reference(case_of({k: _plain(v) for k, v in kwargs.items()}))


def _plain(value: Any) -> Any:
    """Lists and numpy integers as the tuples and ints ``case_of`` reads."""
    if isinstance(value, (list, tuple)):
        return tuple(_plain(v) for v in value)
    if isinstance(value, np.integer):
        return int(value)
    return value


# -- PyTorch ------------------------------------------------------------------------------


def torch_sources(case: Case) -> tuple[Pair, Sources]:
    """Sources by running every one-hot input through PyTorch at once, as a batch."""
    torch = pytest.importorskip("torch")
    functional = torch.nn.functional
    rows, cols = case.input_size
    batch = torch.eye(rows * cols, dtype=torch.float64).reshape(rows * cols, 1, rows, cols)
    weight = torch.ones((1, 1, *case.kernel), dtype=torch.float64)
    with warnings.catch_warnings():
        # padding='same' with an even kernel warns that it copies the input.
        warnings.filterwarnings("ignore", message=".*padding='same'.*", category=UserWarning)
        if case.transposed:
            out = functional.conv_transpose2d(
                batch,
                weight,
                stride=case.stride,
                padding=(case.pads[0][0], case.pads[1][0]),
                output_padding=case.output_padding,
                dilation=case.dilation,
            )
        elif case.mode == "valid" or (case.mode == "same" and case.stride == (1, 1)):
            out = functional.conv2d(
                batch, weight, stride=case.stride, padding=case.mode, dilation=case.dilation
            )
        else:
            (top, bottom), (left, right) = case.pads
            padded = functional.pad(batch, (left, right, top, bottom))
            out = functional.conv2d(padded, weight, stride=case.stride, dilation=case.dilation)
    values = out[:, 0].numpy()
    return (int(values.shape[1]), int(values.shape[2])), sources_of(values, cols)


TORCH_SPECS = 200
TORCH_CHUNK = 25


@pytest.mark.parametrize("chunk", range(TORCH_SPECS // TORCH_CHUNK))
def test_sources_match_torch(chunk: int) -> None:
    pytest.importorskip("torch")
    rng = random.Random(20240 + chunk)
    for i in range(TORCH_CHUNK):
        transposed = i % 2 == 1
        case = (make_transposed if transposed else make_direct)(rng.randint)
        size, sources = torch_sources(case)
        spec = case.spec()
        assert spec.output_size == size, case
        for frame in spec.frames():
            assert frame.sources == sources[frame.output], (case, frame.output)


@pytest.mark.parametrize("kwargs", CHOSEN)
def test_chosen_specs_match_torch(kwargs: dict[str, Any]) -> None:
    pytest.importorskip("torch")
    case = case_of(kwargs)
    size, sources = torch_sources(case)
    spec = case.spec()
    assert spec.output_size == size
    for frame in spec.frames():
        assert frame.sources == sources[frame.output], frame.output


# Each: keyword arguments; they are passed to ConvSpec and (as numbers) to PyTorch.
TORCH_EDGES = [
    {"input_size": 3, "stride": 2, "output_padding": 1, "transposed": True},
    {"input_size": 3, "stride": 2, "output_padding": 2, "transposed": True},
    {"input_size": 3, "stride": 1, "dilation": 2, "output_padding": 1, "transposed": True},
    {"input_size": 3, "stride": 1, "dilation": 2, "output_padding": 2, "transposed": True},
    {"input_size": 3, "stride": 1, "output_padding": 1, "transposed": True},
    {"input_size": 3, "stride": (2, 1), "output_padding": (1, 0), "transposed": True},
    {"input_size": 3, "stride": (2, 1), "output_padding": (0, 1), "transposed": True},
    {"input_size": 3, "stride": 3, "dilation": 2, "output_padding": 2, "transposed": True},
    {"input_size": 3, "padding": 2, "transposed": True},  # output 1
    {"input_size": 3, "padding": 3, "transposed": True},  # output -1
    {
        "input_size": 1,
        "kernel_size": 1,
        "padding": 1,
        "output_padding": 1,
        "stride": 2,
        "transposed": True,
    },  # output 0
    {
        "input_size": 2,
        "kernel_size": 2,
        "padding": 1,
        "output_padding": 1,
        "stride": 2,
        "transposed": True,
    },  # output 2, cropped
    {"input_size": 3, "kernel_size": 3},  # output 1
    {"input_size": 2, "kernel_size": 3},  # output 0
    {"input_size": (2, 3), "kernel_size": 3, "padding": (1, 0)},
    {"input_size": (3, 2), "kernel_size": 3, "padding": (1, 0)},
    {"input_size": 5, "kernel_size": 3, "dilation": 3},
    {"input_size": 7, "kernel_size": 3, "dilation": 3},
    {"input_size": 4, "padding": -1},
    {"input_size": 4, "padding": -1, "transposed": True},
    {"input_size": 4, "output_padding": -1, "stride": 2, "transposed": True},
    {"input_size": 4, "stride": 0},
    {"input_size": 4, "dilation": 0},
    {"input_size": 4, "stride": 0, "transposed": True},
]


@pytest.mark.parametrize("kwargs", TORCH_EDGES)
def test_rejects_what_torch_rejects(kwargs: dict[str, Any]) -> None:
    torch = pytest.importorskip("torch")
    functional = torch.nn.functional
    full = {"kernel_size": 3, "stride": 1, "padding": 0, "dilation": 1, "output_padding": 0}
    full.update(kwargs)

    def pair(value: int | tuple[int, int]) -> tuple[int, int]:
        return (value, value) if isinstance(value, int) else value

    batch = torch.zeros((1, 1, *pair(full["input_size"])), dtype=torch.float64)
    weight = torch.ones((1, 1, *pair(full["kernel_size"])), dtype=torch.float64)
    numbers = {k: pair(full[k]) for k in ("stride", "padding", "dilation")}
    try:
        if full.get("transposed"):
            out = functional.conv_transpose2d(
                batch, weight, output_padding=pair(full["output_padding"]), **numbers
            )
        else:
            out = functional.conv2d(batch, weight, **numbers)
        torch_size: tuple[int, int] | None = (int(out.shape[2]), int(out.shape[3]))
    except RuntimeError:
        torch_size = None
    try:
        ours: tuple[int, int] | None = ConvSpec(**kwargs).output_size
    except ConvSpecError:
        ours = None
    assert ours == torch_size


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 5),
    st.integers(1, 4),
    st.integers(1, 3),
    st.integers(1, 2),
    st.tuples(st.integers(0, 3), st.integers(0, 3)),
    st.integers(0, 2),
)
def test_unequal_transposed_crops_crop_pytorchs_full_output(
    size: int, kernel: int, stride: int, dilation: int, crops: tuple[int, int], extra: int
) -> None:
    """A transposed spec's ((before, after), ...) padding (Keras's and JAX's transposed 'same'):
    PyTorch's full output (padding 0), output_padding cells added after, then ``before`` cells
    cropped before and ``after`` after, on each axis; the same frames' sources as that."""
    import torch
    import torch.nn.functional as F

    from convanim.values import evaluate

    extra = min(extra, max(stride, dilation) - 1)
    before, after = crops
    try:
        spec = ConvSpec(
            (size, size + 1),
            kernel,
            stride,
            ((before, after), (after, before)),
            dilation,
            transposed=True,
            output_padding=extra,
        )
    except ConvSpecError:
        full = (size - 1) * stride + dilation * (kernel - 1) + 1 + extra
        assert full - before - after < 1 or full + 1 - before - after < 1
        return
    x = np.random.default_rng(size).integers(0, 4, (size, size + 1)).astype(float)
    w = np.random.default_rng(kernel).integers(0, 3, (kernel, kernel)).astype(float)
    full = F.conv_transpose2d(
        torch.from_numpy(x)[None, None],
        torch.from_numpy(w)[None, None],
        stride=stride,
        dilation=dilation,
    )[0, 0].numpy()
    full = np.pad(full, ((0, extra), (0, extra)))
    expected = full[before : full.shape[0] - after, after : full.shape[1] - before]
    assert spec.output_size == expected.shape
    np.testing.assert_allclose(evaluate(spec, x, w), expected)
    if spec.frame_count <= 64:
        for frame in spec.frames():
            reached = {
                (i, j)
                for i in range(size)
                for j in range(size + 1)
                if _transposed_reaches(spec, (i, j), frame.output, before, after, extra)
            }
            assert frame.sources == reached


def _transposed_reaches(
    spec: ConvSpec,
    cell: tuple[int, int],
    output: tuple[int, int],
    before: int,
    after: int,
    extra: int,
) -> bool:
    """Whether input ``cell`` reaches ``output`` of the full transposed output cropped
    (before, after) on rows and (after, before) on cols: out[i*s + t*d] += in[i]."""
    (s, _), (d, _), (k, _) = spec.stride, spec.dilation, spec.kernel_size
    row = output[0] + before
    col = output[1] + after
    return any(cell[0] * s + t * d == row for t in range(k)) and any(
        cell[1] * s + t * d == col for t in range(k)
    )
