"""Tests for 3-D convolutions and pooling: ``ConvSpec`` with (depth, rows, cols) sizes.

The reference below is independent of ``convanim``: explicit loops over every output cell and
kernel tap, with padding and the transposed scatter ``out[i * stride - padding + k * dilation]
+= x[i] * w[k]`` per axis. PyTorch's ``conv3d`` / ``conv_transpose3d`` / ``max_pool3d`` /
``avg_pool3d`` are checked too where torch is installed.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from convanim.geometry import Cell, ConvSpec, ConvSpecError
from convanim.values import drawn_values, evaluate, load_values, pool_spec_check, tap_values

Triple = tuple[int, int, int]


# -- the reference --------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """A 3-D convolution as ``ConvSpec`` is called, with its numbers per axis."""

    size: Triple
    kernel: Triple
    stride: Triple
    padding: Triple  # both sides alike, as PyTorch pads
    dilation: Triple
    transposed: bool
    output_padding: Triple

    def spec(self) -> ConvSpec[Any, Any]:
        return ConvSpec(
            self.size,
            self.kernel,
            self.stride,
            self.padding,
            self.dilation,
            self.transposed,
            self.output_padding,
        )

    def out(self, axis: int) -> int:
        n, k, s = self.size[axis], self.kernel[axis], self.stride[axis]
        p, d = self.padding[axis], self.dilation[axis]
        if self.transposed:
            return (n - 1) * s - 2 * p + d * (k - 1) + self.output_padding[axis] + 1
        return (n + 2 * p - d * (k - 1) - 1) // s + 1

    def reads(self, axis: int, o: int) -> list[tuple[int, int]]:
        """(input index, kernel index) pairs output ``o`` combines on one axis."""
        n, k, s = self.size[axis], self.kernel[axis], self.stride[axis]
        p, d = self.padding[axis], self.dilation[axis]
        if self.transposed:
            return [(i, j) for i in range(n) for j in range(k) if i * s - p + j * d == o]
        found = [(o * s - p + j * d, j) for j in range(k)]
        return [(i, j) for i, j in found if 0 <= i < n]

    def sources(self) -> list[frozenset[Triple]]:
        outs = [range(self.out(axis)) for axis in range(3)]
        found = []
        for d, r, c in itertools.product(*outs):
            per_axis = [[i for i, _ in self.reads(a, o)] for a, o in enumerate((d, r, c))]
            found.append(frozenset(itertools.product(*per_axis)))
        return found

    def conv(self, x: np.ndarray, w: np.ndarray) -> np.ndarray:
        result = np.zeros([self.out(axis) for axis in range(3)])
        for d, r, c in np.ndindex(*result.shape):
            total = 0.0
            for (i, a), (j, b), (m, e) in itertools.product(
                self.reads(0, d), self.reads(1, r), self.reads(2, c)
            ):
                total += x[i, j, m] * w[a, b, e]
            result[d, r, c] = total
        return result

    def pool(self, x: np.ndarray, op: str) -> np.ndarray:
        result = np.zeros([self.out(axis) for axis in range(3)])
        for d, r, c in np.ndindex(*result.shape):
            values = [
                x[i, j, m]
                for (i, _), (j, _), (m, _) in itertools.product(
                    self.reads(0, d), self.reads(1, r), self.reads(2, c)
                )
            ]
            if op == "max":
                result[d, r, c] = max(values) if values else -math.inf
            else:  # count_include_pad=True: the whole kernel is the divisor
                result[d, r, c] = sum(values) / math.prod(self.kernel)
        return result


def triple(low: int, high: int) -> st.SearchStrategy[Triple]:
    return st.tuples(*(st.integers(low, high) for _ in range(3)))


@st.composite
def cases(draw: st.DrawFn, transposed: bool | None = None) -> Case:
    is_transposed = draw(st.booleans()) if transposed is None else transposed
    stride, dilation = draw(triple(1, 3)), draw(triple(1, 2))
    output_padding = (0, 0, 0)
    if is_transposed:
        output_padding = tuple(  # type: ignore[assignment]
            draw(st.integers(0, max(s, d) - 1)) for s, d in zip(stride, dilation, strict=True)
        )
    case = Case(
        size=draw(triple(1, 5)),
        kernel=draw(triple(1, 3)),
        stride=stride,
        padding=draw(triple(0, 2)),
        dilation=dilation,
        transposed=is_transposed,
        output_padding=output_padding,
    )
    assume(all(case.out(axis) >= 1 for axis in range(3)))
    return case


def small_values(case: Case, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return (
        rng.integers(-3, 4, case.size).astype(float),
        rng.integers(-2, 3, case.kernel).astype(float),
    )


# -- the API ---------------------------------------------------------------------------------


def test_a_3_tuple_size_means_3_d_and_ints_need_dims() -> None:
    spec = ConvSpec(input_size=(4, 5, 5), kernel_size=3, stride=1, padding=1)
    assert spec.dims == 3
    assert spec.kernel_size == (3, 3, 3)
    assert spec.pads == ((1, 1), (1, 1), (1, 1))
    assert spec.output_size == (4, 5, 5)
    assert spec.frame_count == 100
    assert ConvSpec(4, 3, dims=3).input_size == (4, 4, 4)
    assert ConvSpec(4, 3).dims == 2  # an int size without dims keeps meaning 2-D
    assert ConvSpec((4, 5), 3).dims == 2


def test_per_axis_parameters_take_an_int_or_a_triple() -> None:
    spec = ConvSpec((4, 6, 8), (1, 3, 3), (1, 2, 3), (0, 1, 2), (1, 1, 2))
    assert spec.stride == (1, 2, 3)
    assert spec.pads == ((0, 0), (1, 1), (2, 2))
    assert spec.output_size == (4, 3, 3)
    sided = ConvSpec((4, 4, 4), 3, padding=((0, 1), (1, 0), (2, 2)))
    assert sided.padding == ((0, 1), (1, 0), (2, 2))
    assert sided.output_size == (3, 3, 6)
    assert dataclasses.replace(spec) == spec


def test_padding_modes_resolve_per_axis() -> None:
    same = ConvSpec((4, 5, 6), (2, 3, 4), padding="same")
    assert same.output_size == (4, 5, 6)
    assert same.pads == ((0, 1), (1, 1), (1, 2))  # the odd extra unit after, PyTorch's rule
    assert ConvSpec((4, 5, 6), 3, padding="valid").output_size == (2, 3, 4)
    assert ConvSpec((4, 5, 6), 3, padding="full").output_size == (6, 7, 8)


def test_frames_are_depth_major_with_triples() -> None:
    spec = ConvSpec((3, 3, 4), (2, 2, 3))
    frames = list(spec.frames())
    assert [f.output for f in frames[:3]] == [(0, 0, 0), (0, 0, 1), (0, 1, 0)]
    assert frames[4].output == (1, 0, 0) and frames[4].index == 4
    first = frames[0]
    assert first.taps[:4] == ((0, 0, 0), (0, 0, 1), (0, 0, 2), (0, 1, 0))
    assert len(first.taps) == 12
    assert first.window == ((0, 0, 0), (2, 2, 3))
    assert first.sources == frozenset(itertools.product(range(2), range(2), range(3)))
    assert first.grid.shape == (3, 4)  # one slice's layout


def test_parts_are_the_plane_and_the_depth_axis() -> None:
    spec = ConvSpec((5, 4, 6), (3, 2, 2), (2, 1, 2), (1, 0, 1), transposed=True,
                    output_padding=(1, 0, 1))  # fmt: skip
    plane, depth = spec.plane(), spec.depth()
    assert plane == ConvSpec((4, 6), 2, (1, 2), (0, 1), transposed=True, output_padding=(0, 1))
    assert depth == ConvSpec(5, 3, 2, 1, transposed=True, output_padding=1, dims=1)
    assert spec.output_size == (depth.output_size[0], *plane.output_size)
    assert spec.drawn_size == (depth.drawn_size[0], *plane.drawn_size)
    assert spec.formula() == (*depth.formula(), *plane.formula())
    with pytest.raises(ConvSpecError, match=r"^dims: a 3-D spec has no 2-D form"):
        spec.as_2d()
    with pytest.raises(ConvSpecError, match=r"^dims: got 2; only a 3-D spec"):
        plane.depth()


def test_the_drawn_volume_of_a_transposed_spec() -> None:
    spec = ConvSpec(2, 3, stride=2, transposed=True, output_padding=1, dims=3)
    volume = spec.volume()
    # 2 padding slices, input 0, a zero slice, input 1, 2 padding slices, 1 extra
    assert volume.input_depths.tolist() == [-1, -1, 0, -1, 1, -1, -1, -1]
    assert volume.depth_kinds.tolist() == [0, 0, 1, 2, 1, 0, 0, 0]
    cells = volume.cells
    assert cells.shape == spec.drawn_size == (8, 8, 8)
    assert (cells[0] == Cell.PADDING).all()
    assert cells[2, 2, 2] == Cell.INPUT and cells[2, 2, 3] == Cell.ZERO
    assert cells[3, 2, 2] == Cell.ZERO and cells[3, 0, 0] == Cell.PADDING
    assert volume.input_at(4, 4, 2) == (1, 1, 0)
    assert volume.input_at(3, 2, 2) is None


@settings(max_examples=60, deadline=None)
@given(cases())
def test_sizes_and_sources_equal_a_brute_force_loop(case: Case) -> None:
    spec = case.spec()
    assert spec.output_size == tuple(case.out(axis) for axis in range(3))
    frames = list(spec.frames())
    assert len(frames) == spec.frame_count == math.prod(spec.output_size)
    assert [f.sources for f in frames] == case.sources()
    volume = spec.volume()
    for frame in frames[:: max(1, len(frames) // 5)]:
        inputs = {volume.input_at(*tap) for tap in frame.taps} - {None}
        assert inputs == frame.sources


def _fits(case: Case) -> bool:
    """Whether avg_pool3d takes the case: it alone refuses an input (padding not counted)
    smaller than the kernel on an axis (see test_avg_pool3d_refuses_an_input_under_the_kernel)."""
    return all(s >= k for s, k in zip(case.size, case.kernel, strict=True))


@settings(max_examples=40, deadline=None)
@given(cases(), st.integers(0, 2**16))
def test_values_equal_a_brute_force_loop(case: Case, seed: int) -> None:
    spec = case.spec()
    x, w = small_values(case, seed)
    np.testing.assert_array_equal(evaluate(spec, x, w), case.conv(x, w))
    if not case.transposed and all(
        p <= k // 2 for p, k in zip(case.padding, case.kernel, strict=True)
    ):
        np.testing.assert_array_equal(evaluate(spec, x, op="max"), case.pool(x, "max"))
        if case.dilation == (1, 1, 1) and _fits(case):
            np.testing.assert_allclose(evaluate(spec, x, op="avg"), case.pool(x, "avg"))
    frame = list(spec.frames())[-1]
    under = tap_values(spec, drawn_values(spec, x), frame)
    assert under.shape == case.kernel


@settings(max_examples=60, deadline=None)
@given(cases(), st.integers(0, 2**16))
def test_values_equal_pytorch(case: Case, seed: int) -> None:
    torch = pytest.importorskip("torch")
    functional = torch.nn.functional
    spec = case.spec()
    x, w = small_values(case, seed)
    xt, wt = torch.tensor(x)[None, None], torch.tensor(w)[None, None]
    common = {"stride": case.stride, "padding": case.padding, "dilation": case.dilation}
    if case.transposed:
        ref = functional.conv_transpose3d(xt, wt, output_padding=case.output_padding, **common)
    else:
        ref = functional.conv3d(xt, wt, **common)
    np.testing.assert_allclose(evaluate(spec, x, w), ref[0, 0].numpy())
    # PyTorch's 3-D pools refuse an input smaller than the kernel, padding or not.
    fits = all(n >= k for n, k in zip(case.size, case.kernel, strict=True))
    if (
        fits
        and not case.transposed
        and all(p <= k // 2 for p, k in zip(case.padding, case.kernel, strict=True))
    ):
        ref = functional.max_pool3d(xt, case.kernel, **common)
        np.testing.assert_array_equal(evaluate(spec, x, op="max"), ref[0, 0].numpy())
        if case.dilation == (1, 1, 1) and _fits(case):
            ref = functional.avg_pool3d(xt, case.kernel, case.stride, case.padding)
            np.testing.assert_allclose(evaluate(spec, x, op="avg"), ref[0, 0].numpy())


@settings(max_examples=40, deadline=None)
@given(cases(), st.integers(0, 2**16))
def test_sources_equal_what_pytorch_reaches(case: Case, seed: int) -> None:
    """A one-hot input reaches exactly the output cells whose sources hold it."""
    torch = pytest.importorskip("torch")
    functional = torch.nn.functional
    spec = case.spec()
    frames = list(spec.frames())
    cell = tuple(int(n) for n in np.random.default_rng(seed).integers(0, case.size))
    x = torch.zeros((1, 1, *case.size), dtype=torch.float64)
    x[(0, 0, *cell)] = 1.0
    w = torch.ones((1, 1, *case.kernel), dtype=torch.float64)
    common = {"stride": case.stride, "padding": case.padding, "dilation": case.dilation}
    if case.transposed:
        out = functional.conv_transpose3d(x, w, output_padding=case.output_padding, **common)
    else:
        out = functional.conv3d(x, w, **common)
    reached = {tuple(int(i) for i in idx) for idx in np.argwhere(out[0, 0].numpy() > 0)}
    assert reached == {f.output for f in frames if cell in f.sources}


@settings(max_examples=60, deadline=None)
@given(
    triple(1, 5), triple(1, 3), triple(1, 3), triple(0, 3), triple(1, 2), st.booleans(),
    triple(0, 2),
)  # fmt: skip
def test_refused_exactly_where_pytorch_refuses(
    size: Triple,
    kernel: Triple,
    stride: Triple,
    padding: Triple,
    dilation: Triple,
    transposed: bool,
    output_padding: Triple,
) -> None:
    torch = pytest.importorskip("torch")
    if not transposed:
        output_padding = (0, 0, 0)
    common = {"stride": stride, "padding": padding, "dilation": dilation}
    x = torch.zeros((1, 1, *size))
    w = torch.zeros((1, 1, *kernel))
    try:
        if transposed:
            torch.nn.functional.conv_transpose3d(x, w, output_padding=output_padding, **common)
        else:
            torch.nn.functional.conv3d(x, w, **common)
        refused = None
    except RuntimeError as error:
        refused = str(error)
    try:
        ConvSpec(size, kernel, stride, padding, dilation, transposed, output_padding)
        ours = None
    except ConvSpecError as error:
        ours = error
        assert "\n" not in str(error)
        assert error.param in ("output_size", "output_padding")
    assert (ours is None) == (refused is None), (ours, refused)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"input_size": (4, 5, 5), "kernel_size": (3, 3)}, "kernel_size: got 2 values (3, 3); "
         "a 3-D convolution takes three: expected an integer >= 1 or a (depth, rows, cols) "
         "triple of them"),
        ({"input_size": (4, 5, 5), "stride": (1, 0, 1)}, "stride: got (1, 0, 1); expected an "
         "integer >= 1 or a (depth, rows, cols) triple of them"),
        ({"input_size": (2, 5, 5)}, "output_size: would be 0 on the depth axis (kernel "
         "footprint 3 on a padded input of 2); expected at least 1: use a smaller kernel or "
         "dilation, or more padding"),
        ({"input_size": (4, 5, 5), "stride": 2, "transposed": True,
          "output_padding": (2, 0, 0)}, "output_padding: got (2, 0, 0); it must be smaller "
         "than stride or dilation (at most 1 on the depth axis)"),
        ({"input_size": (4, 5, 5), "output_padding": (1, 0, 0)}, "output_padding: got "
         "(1, 0, 0); it applies only to transposed convolutions, expected 0"),
        ({"input_size": (4, 5, 5), "padding": "same", "transposed": True}, "padding: got "
         "'same'; a transposed convolution takes an integer >= 0 or a (depth, rows, cols) "
         "triple (PyTorch's ConvTranspose3d has no named padding modes)"),
        ({"input_size": (4, 5, 5), "padding": (1, 2)}, "padding: got (1, 2); expected an "
         "integer >= 0, a (depth, rows, cols) triple, ((front, back), (top, bottom), "
         "(left, right)) or valid/same/full"),
        ({"input_size": (4, 5, 5), "padding": "half"}, "padding: got 'half'; expected one of "
         "valid, same, full, an integer >= 0, a (depth, rows, cols) triple or ((front, back), "
         "(top, bottom), (left, right))"),
        ({"input_size": 4, "kernel_size": (1, 2, 3), "dims": 2}, "kernel_size: got 3 values "
         "(1, 2, 3); expected an integer >= 1 or a (rows, cols) pair of them"),
    ],
)  # fmt: skip
def test_invalid_3_d_specs_name_the_option(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ConvSpecError) as caught:
        ConvSpec(**kwargs)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("kwargs", "op", "message"),
    [
        ({"padding": (2, 1, 1)}, "max", "padding: got ((2, 2), (1, 1), (1, 1)); max pooling "
         "pads at most half the kernel on each side, like PyTorch: kernel_size 3 on the depth "
         "axis allows at most 1, got 2 before and 2 after"),
        ({"dilation": (2, 1, 1)}, "avg", "dilation: got (2, 1, 1); average pooling has no "
         "dilation (PyTorch's avg_pool3d takes none), expected 1"),
        ({"transposed": True}, "max", "transposed: got True; max pooling has no transposed "
         "form, expected False"),
    ],
)  # fmt: skip
def test_pooling_is_refused_where_pytorch_refuses(
    kwargs: dict[str, Any], op: str, message: str
) -> None:
    spec = ConvSpec((5, 5, 5), 3, **kwargs)
    with pytest.raises(ConvSpecError) as caught:
        pool_spec_check(spec, op)
    assert str(caught.value) == message


def test_values_files_hold_3_d_values(tmp_path: Any) -> None:
    x = np.arange(2 * 3 * 4, dtype=float).reshape(2, 3, 4)
    np.save(tmp_path / "x.npy", x[None, None])  # a PyTorch input, (1, 1, D, H, W)
    np.testing.assert_array_equal(load_values(tmp_path / "x.npy", (2, 3, 4), "x"), x)
    np.save(tmp_path / "one.npy", x[:1])
    assert load_values(tmp_path / "one.npy", (1, 3, 4), "x").shape == (1, 3, 4)
    text = "\n\n".join("\n".join(",".join(str(v) for v in row) for row in s) for s in x)
    (tmp_path / "x.csv").write_text(text)
    np.testing.assert_array_equal(load_values(tmp_path / "x.csv", (2, 3, 4), "x"), x)
    with pytest.raises(
        ConvSpecError, match=r"holds values of shape \(6, 4\); expected \(3, 3, 4\)"
    ):
        load_values(tmp_path / "x.csv", (3, 3, 4), "x")
