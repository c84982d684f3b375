"""The convolution matrix and the overlap counts (``convanim.matrix``).

Against a brute-force loop written here from PyTorch's definitions, against ``evaluate``, and
against PyTorch's own Jacobian (one one-hot input per column), on hypothesis-drawn specs: 1-D
and 2-D, direct and transposed, output_padding, dilation, non-square and asymmetric padding.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest
from hypothesis import given, reject, settings
from hypothesis import strategies as st

from convanim.geometry import PADDING_MODES, ConvSpec, ConvSpecError
from convanim.matrix import conv_matrix, overlap, tap_inputs, transpose_pair
from convanim.values import evaluate

# -- references -------------------------------------------------------------------------------


def brute_force(spec: ConvSpec[Any, Any], weight: np.ndarray) -> np.ndarray:
    """The matrix from PyTorch's definitions, one (output, tap) or (input, tap) at a time.

    Direct: out[o] = sum over taps t of w[t] * x[o * s - lo + t * d] (a correlation).
    Transposed: out[i * s - p + t * d] += x[i] * w[t] (a scatter).
    """
    sizes_in, sizes_out = tuple(spec.input_size), tuple(spec.output_size)
    kernel = tuple(spec.kernel_size)
    low = [lo for lo, _ in spec.pads]
    matrix = np.zeros((int(np.prod(sizes_out)), int(np.prod(sizes_in))))

    def flat(index: tuple[int, ...], shape: tuple[int, ...]) -> int | None:
        if all(0 <= i < n for i, n in zip(index, shape, strict=True)):
            return int(np.ravel_multi_index(index, shape))
        return None

    for tap in itertools.product(*(range(k) for k in kernel)):
        if not spec.transposed:
            for out in itertools.product(*(range(n) for n in sizes_out)):
                where = tuple(
                    o * s - lo + t * d
                    for o, s, lo, t, d in zip(
                        out, spec.stride, low, tap, spec.dilation, strict=True
                    )
                )
                column = flat(where, sizes_in)
                if column is not None:
                    matrix[flat(out, sizes_out), column] += weight[tap]
        else:
            for inp in itertools.product(*(range(n) for n in sizes_in)):
                where = tuple(
                    i * s - lo + t * d
                    for i, s, lo, t, d in zip(
                        inp, spec.stride, low, tap, spec.dilation, strict=True
                    )
                )
                row = flat(where, sizes_out)
                if row is not None:
                    matrix[row, flat(inp, sizes_in)] += weight[tap]
    return matrix


def torch_jacobian(spec: ConvSpec[Any, Any], weight: np.ndarray) -> np.ndarray:
    """PyTorch's Jacobian of the convolution with respect to its input: one-hot columns."""
    torch = pytest.importorskip("torch")
    functional = torch.nn.functional
    sizes_in = tuple(spec.input_size)
    n = int(np.prod(sizes_in))
    x = torch.eye(n, dtype=torch.float64).reshape(n, 1, *sizes_in)
    w = torch.tensor(weight, dtype=torch.float64).reshape(1, 1, *spec.kernel_size)
    if spec.transposed:
        op = functional.conv_transpose1d if spec.dims == 1 else functional.conv_transpose2d
        y = op(
            x,
            w,
            stride=spec.stride,
            padding=tuple(lo for lo, _ in spec.pads),
            output_padding=spec.output_padding,
            dilation=spec.dilation,
        )
    else:
        sides = [side for pair in reversed(spec.pads) for side in pair]  # last axis first
        op = functional.conv1d if spec.dims == 1 else functional.conv2d
        y = op(functional.pad(x, sides), w, stride=spec.stride, dilation=spec.dilation)
    assert tuple(y.shape[2:]) == tuple(spec.output_size)
    return np.asarray(y.reshape(n, -1).numpy()).T


# -- strategies -------------------------------------------------------------------------------


def sizes(dims: int, low: int, high: int) -> st.SearchStrategy[Any]:
    one = st.integers(low, high)
    return one if dims == 1 else st.one_of(one, st.tuples(one, one))


@st.composite
def specs(draw: st.DrawFn, transposed: bool | None = None) -> ConvSpec[Any, Any]:
    dims = draw(st.sampled_from((1, 2)))
    is_transposed = draw(st.booleans()) if transposed is None else transposed
    axes = range(dims)
    stride = [draw(st.integers(1, 3)) for _ in axes]
    dilation = [draw(st.integers(1, 3)) for _ in axes]
    kwargs: dict[str, Any] = {
        "input_size": draw(sizes(dims, 1, 6)),
        "kernel_size": draw(sizes(dims, 1, 4)),
        "stride": stride[0] if dims == 1 else tuple(stride),
        "dilation": dilation[0] if dims == 1 else tuple(dilation),
        "transposed": is_transposed,
        "dims": dims,
    }
    if is_transposed:
        kwargs["padding"] = draw(sizes(dims, 0, 4))
        extra = [draw(st.integers(0, max(stride[a], dilation[a]) - 1)) for a in axes]
        kwargs["output_padding"] = extra[0] if dims == 1 else tuple(extra)
    else:
        pair = st.tuples(st.integers(0, 3), st.integers(0, 3))
        kwargs["padding"] = draw(
            st.one_of(
                sizes(dims, 0, 3),
                pair if dims == 1 else st.tuples(pair, pair),
                st.sampled_from(PADDING_MODES),
            )
        )
    try:
        return ConvSpec(**kwargs)
    except ConvSpecError:
        reject()


def kernels(spec: ConvSpec[Any, Any]) -> st.SearchStrategy[np.ndarray]:
    count = int(np.prod(spec.kernel_size))
    return st.lists(st.integers(-5, 5), min_size=count, max_size=count).map(
        lambda values: np.array(values, dtype=float).reshape(spec.kernel_size)
    )


# -- properties ---------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(data=st.data(), spec=specs())
def test_matrix_is_the_brute_force_loop_and_evaluate(
    data: st.DataObject, spec: ConvSpec[Any, Any]
) -> None:
    weight = data.draw(kernels(spec))
    matrix = conv_matrix(spec, weight)
    cells_out, cells_in = int(np.prod(spec.output_size)), int(np.prod(spec.input_size))
    assert matrix.shape == (cells_out, cells_in)
    np.testing.assert_array_equal(matrix, brute_force(spec, weight))
    x = np.arange(cells_in, dtype=float).reshape(spec.input_size) % 7 - 3
    np.testing.assert_array_equal(matrix @ x.ravel(), evaluate(spec, x, weight).ravel())


@settings(max_examples=40, deadline=None)
@given(data=st.data(), spec=specs())
def test_matrix_is_pytorchs_jacobian(data: st.DataObject, spec: ConvSpec[Any, Any]) -> None:
    weight = data.draw(kernels(spec))
    np.testing.assert_array_equal(conv_matrix(spec, weight), torch_jacobian(spec, weight))


@settings(max_examples=50, deadline=None)
@given(spec=specs())
def test_overlap_counts_the_taps_on_input_cells(spec: ConvSpec[Any, Any]) -> None:
    counts = overlap(spec)
    assert counts.shape == tuple(spec.output_size) and counts.dtype == np.int64
    ones = np.ones(spec.input_size)
    np.testing.assert_array_equal(counts, evaluate(spec, ones, np.ones(spec.kernel_size)))
    nonzero = (brute_force(spec, np.ones(spec.kernel_size)) != 0).sum(axis=1)
    np.testing.assert_array_equal(counts.ravel(), nonzero)
    assert [len(frame.sources) for frame in spec.frames()] == list(counts.ravel())


@settings(max_examples=50, deadline=None)
@given(data=st.data(), spec=specs(transposed=True))
def test_transposed_matrix_is_the_transpose_of_its_direct_pair(
    data: st.DataObject, spec: ConvSpec[Any, Any]
) -> None:
    """T's matrix is C^T, C the direct convolution over T's output with T's k, s, p, d."""
    weight = data.draw(kernels(spec))
    direct = transpose_pair(spec)
    assert not direct.transposed and direct.input_size == spec.output_size
    assert (direct.kernel_size, direct.stride, direct.dilation) == (
        spec.kernel_size,
        spec.stride,
        spec.dilation,
    )
    assert direct.pads == spec.pads
    c = conv_matrix(direct, weight)
    if all(a < s for a, s in zip(spec.output_padding, spec.stride, strict=True)):
        assert direct.output_size == spec.input_size
        np.testing.assert_array_equal(conv_matrix(spec, weight), c.T)
    else:  # output_padding >= stride (allowed below the dilation): C has more rows than T inputs
        kept = [
            np.ravel_multi_index(cell, direct.output_size)
            for cell in itertools.product(*(range(n) for n in spec.input_size))
        ]
        np.testing.assert_array_equal(conv_matrix(spec, weight), c[kept].T)


@settings(max_examples=50, deadline=None)
@given(data=st.data(), spec=specs(transposed=False))
def test_direct_matrix_transposed_is_its_transposed_pair(
    data: st.DataObject, spec: ConvSpec[Any, Any]
) -> None:
    weight = data.draw(kernels(spec))
    if any(lo != hi for lo, hi in spec.pads):
        with pytest.raises(ConvSpecError, match="unequal sides") as caught:
            transpose_pair(spec)
        assert caught.value.param == "padding"
        return
    pair = transpose_pair(spec)
    assert pair.transposed and pair.output_size == spec.input_size
    assert all(a < s for a, s in zip(pair.output_padding, pair.stride, strict=True))
    np.testing.assert_array_equal(conv_matrix(pair, weight), conv_matrix(spec, weight).T)
    assert transpose_pair(pair) == ConvSpec(
        spec.input_size if spec.dims == 2 else spec.input_size[0],
        spec.kernel_size if spec.dims == 2 else spec.kernel_size[0],
        spec.stride if spec.dims == 2 else spec.stride[0],
        spec.pads if spec.dims == 2 else spec.pads[0],
        spec.dilation if spec.dims == 2 else spec.dilation[0],
        dims=spec.dims,
    )


# -- known facts ----------------------------------------------------------------------------


def test_the_papers_example_by_hand() -> None:
    """conv_arithmetic's 4x4 input, 3x3 kernel: C is 4x16, rows as the paper writes them."""
    weight = np.array([[1, 2, 3], [4, 5, 6], [7, 8, 9]], dtype=float)  # w00 .. w22
    w = {f"w{i}{j}": weight[i, j] for i in range(3) for j in range(3)}
    rows = [
        "w00 w01 w02 0 w10 w11 w12 0 w20 w21 w22 0 0 0 0 0",
        "0 w00 w01 w02 0 w10 w11 w12 0 w20 w21 w22 0 0 0 0",
        "0 0 0 0 w00 w01 w02 0 w10 w11 w12 0 w20 w21 w22 0",
        "0 0 0 0 0 w00 w01 w02 0 w10 w11 w12 0 w20 w21 w22",
    ]
    expected = np.array([[w.get(word, 0.0) for word in row.split()] for row in rows])
    c = conv_matrix(ConvSpec(4, 3), weight)
    np.testing.assert_array_equal(c, expected)
    transposed = ConvSpec(
        2, 3, transposed=True
    )  # conv_arithmetic's no_padding_no_strides_transposed
    assert transpose_pair(transposed) == ConvSpec(4, 3)
    np.testing.assert_array_equal(conv_matrix(transposed, weight), expected.T)


def test_default_weight_is_all_ones_and_1d_shapes() -> None:
    spec = ConvSpec(5, 3, stride=2, padding=1, dims=1)
    np.testing.assert_array_equal(
        conv_matrix(spec), [[1, 1, 0, 0, 0], [0, 1, 1, 1, 0], [0, 0, 0, 1, 1]]
    )
    np.testing.assert_array_equal(overlap(spec), [2, 3, 2])
    assert conv_matrix(spec, [1, 2, 3]).tolist() == [
        [2, 3, 0, 0, 0],
        [0, 1, 2, 3, 0],
        [0, 0, 0, 1, 2],
    ]


def test_checkerboard_of_kernel_3_stride_2_transposed() -> None:
    """Odena et al.: kernel 3, stride 2 overlaps unevenly, 1, 2 and 4 taps in a checkerboard."""
    counts = overlap(ConvSpec(4, 3, stride=2, transposed=True))
    interior = counts[1:-1, 1:-1]
    assert set(np.unique(counts)) == {1, 2, 4}
    for (row, col), count in np.ndenumerate(counts):
        assert count == (2 if row % 2 == 0 and 0 < row < 8 else 1) * (
            2 if col % 2 == 0 and 0 < col < 8 else 1
        )
    assert interior.min() == 1 and interior.max() == 4


def test_kernel_4_stride_2_transposed_is_even_inside() -> None:
    counts = overlap(ConvSpec(4, 4, stride=2, padding=1, transposed=True))
    assert counts.shape == (8, 8)
    assert (counts[1:-1, 1:-1] == 4).all()
    assert counts[0, 0] == 1 and counts[0, 3] == 2
    assert set(np.unique(overlap(ConvSpec(4, 4, stride=2, transposed=True))[2:-2, 2:-2])) == {4}


def test_direct_overlap_falls_at_the_borders_and_padding_only_windows_are_zero() -> None:
    np.testing.assert_array_equal(
        overlap(ConvSpec(5, 3, padding=1)),
        [[4, 6, 6, 6, 4], [6, 9, 9, 9, 6], [6, 9, 9, 9, 6], [6, 9, 9, 9, 6], [4, 6, 6, 6, 4]],
    )
    counts = overlap(ConvSpec((2, 3), 1, padding=1))  # a 1x1 kernel on padding reads nothing
    assert counts.shape == (4, 5) and counts.sum() == 6 and counts[0].sum() == 0


def test_tap_inputs_are_the_frames_sources() -> None:
    spec = ConvSpec((3, 4), (2, 3), stride=(1, 2), padding=((1, 0), (0, 2)), dilation=(2, 1))
    inputs = tap_inputs(spec)
    for frame, row in zip(spec.frames(), inputs, strict=True):
        cells = {divmod(int(i), 4) for i in row if i >= 0}
        assert cells == set(frame.sources)


def test_a_kernel_of_the_wrong_shape_names_weight() -> None:
    with pytest.raises(ConvSpecError, match=r"expected a kernel of shape \(3, 3\)") as caught:
        conv_matrix(ConvSpec(4, 3), np.ones((2, 2)))
    assert caught.value.param == "weight"
    with pytest.raises(ConvSpecError, match="real numbers"):
        conv_matrix(ConvSpec(4, 3), np.array([["a"] * 3] * 3))
