"""A convolution as a matrix, and how unevenly its kernel taps overlap.

Pure: numpy and the standard library only. Both are read off the geometry's frames (the kernel
taps of each output cell on the drawn grid), not from ``convanim.values.evaluate``, so the
tests can hold one against the other.

- ``conv_matrix(spec, weight)``: the matrix C with ``C @ x.ravel() == evaluate(spec, x,
  weight).ravel()`` for every input ``x`` (row-major unrolling: input cell (r, c) is column
  ``r * cols + c``, output cell (i, j) is row ``i * out_cols + j``). Shape (output cells, input
  cells); in 1-D (output length, input length). With a ``padding_mode`` other than zeros a
  padding tap reads the input cell it copies, and the weights of taps reading one cell add up.
  It is the Jacobian of PyTorch's ``conv2d`` /
  ``conv_transpose2d`` (``conv1d`` / ``conv_transpose1d``) with respect to the input.
- ``transpose_pair(spec)``: the convolution conv_arithmetic pairs ``spec`` with (Dumoulin &
  Visin, section 4): a transposed convolution of input i, kernel k, stride s, padding p,
  dilation d and output_padding a is paired with the *direct* convolution of kernel k, stride
  s, padding p and dilation d over an input of the transposed one's output size; and back.
  Then ``conv_matrix(T, w) == conv_matrix(D, w).T``, the same weights, not flipped, whenever
  a < s on every axis (D's output is then T's input size). PyTorch also accepts s <= a < d;
  D then has more output cells than T has input cells, and T's matrix is the transpose of D's
  rows for the output cells (r, c) with r < T's input rows and c < its input cols.
- ``overlap(spec)``: for each output cell, how many (input cell, kernel tap) pairs reach it:
  the taps of its frame that land on input cells rather than padding or inserted zeros. That is
  also the number of non-zeros in its row of C, and the output of an all-ones input through an
  all-ones kernel.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from convanim.geometry import Cell, ConvSpec, ConvSpecError

__all__ = ["conv_matrix", "overlap", "tap_inputs", "transpose_pair"]

Spec = ConvSpec[Any, Any]  # 2-D or 1-D
Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]


def _kernel(spec: Spec, weight: npt.ArrayLike | None) -> Floats:
    """The kernel as float64 of ``spec.kernel_size``: all ones when ``weight`` is None."""
    shape = tuple(spec.kernel_size)
    if weight is None:
        return np.ones(shape, dtype=np.float64)
    try:
        array = np.asarray(weight)
    except (TypeError, ValueError) as error:
        raise ConvSpecError(
            "weight", f"got {type(weight).__name__}; expected a kernel: {error}"
        ) from None
    if array.dtype.kind not in "iuf" or array.dtype == np.bool_:
        raise ConvSpecError(
            "weight", f"got an array of {array.dtype} values; expected a kernel of real numbers"
        )
    if array.shape != shape:
        raise ConvSpecError(
            "weight", f"got shape {array.shape}; expected a kernel of shape {shape}"
        )
    return array.astype(np.float64)


def tap_inputs(spec: Spec) -> npt.NDArray[np.intp]:
    """For every output cell and kernel tap, the input cell the tap lands on, or -1.

    Shape (output cells, kernel taps); cells are row-major indices (1-D: positions). Taps are
    in frame order: kernel row-major for a direct convolution, the kernel flipped on both axes
    for a transposed one (see ``convanim.values.tap_weights``). -1: padding or an inserted zero.
    Zero padding only: a padding mode's taps on padding read copies (refused; ``conv_matrix``
    takes them).
    """
    if spec.padding_mode != "zeros":
        raise ConvSpecError(
            "padding_mode",
            f"got '{spec.padding_mode}'; a tap on {spec.padding_mode} padding reads a copy of an "
            "input cell, not the cell it lands on: use conv_matrix (which adds the weights of "
            "the taps reading one cell), or padding_mode 'zeros'",
        )
    plane = spec.as_2d()
    grid = plane.grid()
    cols = plane.input_size[1]
    taps = plane.kernel_size[0] * plane.kernel_size[1]
    at = np.zeros((plane.frame_count, taps, 2), dtype=np.intp)  # each tap's (row, col)
    for frame in plane.frames():
        at[frame.index] = frame.taps
    rows, columns = at[..., 0], at[..., 1]
    cells = grid.input_rows[rows] * cols + grid.input_cols[columns]
    found: npt.NDArray[np.intp] = np.where(grid.cells[rows, columns] == Cell.INPUT, cells, -1)
    return found


def conv_matrix(spec: Spec, weight: npt.ArrayLike | None = None) -> Floats:
    """The matrix of the convolution ``spec`` with kernel ``weight`` (default: all ones).

    Shape (output cells, input cells), row-major unrolling; (output length, input length) in
    1-D. ``conv_matrix(spec, w) @ x.ravel() == evaluate(spec, x, w).ravel()``.
    """
    kernel = _kernel(spec, weight)
    if spec.padding_mode != "zeros":
        return _copying_matrix(spec, kernel)
    # A transposed spec's frames slide the flipped kernel over the zero-inserted grid.
    at_taps = (
        (kernel[::-1, ::-1] if kernel.ndim == 2 else kernel[::-1]) if spec.transposed else kernel
    )
    weights = at_taps.ravel()
    inputs = tap_inputs(spec)
    plane = spec.as_2d()
    rows, cols = plane.input_size
    matrix = np.zeros((plane.frame_count, rows * cols), dtype=np.float64)
    outputs, taps = np.nonzero(inputs >= 0)
    # Distinct taps of one frame land on distinct input cells: no entry is written twice.
    matrix[outputs, inputs[outputs, taps]] = weights[taps]
    return matrix


def _copying_matrix(spec: Spec, kernel: Floats) -> Floats:
    """``conv_matrix`` with a padding mode: a tap on a padding cell reads the input cell the
    padding copies (``DrawnGrid.source_at``), so several taps of one output cell may read the
    same input cell, and their weights add up in its entry. Direct only (PyTorch has no
    transposed convolution with a padding mode)."""
    plane = spec.as_2d()
    grid = plane.grid()
    cols = plane.input_size[1]
    weights = kernel.ravel()
    matrix = np.zeros((plane.frame_count, plane.input_size[0] * cols), dtype=np.float64)
    for frame in plane.frames():
        for tap, (row, col) in enumerate(frame.taps):
            source = grid.source_at(row, col)
            if source is not None:
                matrix[frame.index, source[0] * cols + source[1]] += weights[tap]
    return matrix


def overlap(spec: Spec) -> Ints:
    """How many (input cell, kernel tap) pairs reach each output cell: int64, ``output_size``.
    Zero padding only, as ``tap_inputs``."""
    counts: Ints = (tap_inputs(spec) >= 0).sum(axis=1).astype(np.int64)
    return counts.reshape(tuple(spec.output_size))


def _symmetric(spec: Spec) -> tuple[int, ...]:
    """The padding per axis, when both sides of every axis agree: the pairs are made for
    PyTorch's padding (a transposed spec's unequal crops, or a direct spec's unequal padding,
    are refused, though ConvSpec takes them)."""
    pads = spec.pads
    if any(lo != hi for lo, hi in pads):
        shown = spec.padding if isinstance(spec.padding, str) else pads
        valid = "an integer" if spec.dims == 1 else "an integer or a (rows, cols) pair"
        raise ConvSpecError(
            "padding",
            f"got {shown!r} (unequal sides); a convolution's transposed pair (and back) is "
            f"made only for the same padding on both sides of each axis: give {valid}",
        )
    return tuple(int(lo) for lo, _ in pads)


def transpose_pair(spec: Spec) -> Spec:
    """The convolution conv_arithmetic pairs ``spec`` with: transposed for direct, and back.

    Either needs the same padding on both sides of each axis (else a ``ConvSpecError`` naming
    ``padding``). Transposed T -> the direct convolution over T's output size with T's kernel,
    stride, padding and dilation. Direct D -> the transposed convolution over D's output size
    with D's kernel, stride, padding and dilation, and the output_padding that makes its
    output D's input size (always smaller than the stride).
    See the module's docstring for when ``conv_matrix`` of one is the other's transpose.
    """
    padding = _symmetric(spec)
    one_d = spec.dims == 1
    common: dict[str, Any] = {
        "kernel_size": spec.kernel_size[0] if one_d else spec.kernel_size,
        "stride": spec.stride[0] if one_d else spec.stride,
        "padding": padding[0] if one_d else padding,
        "dilation": spec.dilation[0] if one_d else spec.dilation,
        "dims": spec.dims,
    }
    out = spec.output_size[0] if one_d else spec.output_size
    if spec.transposed:
        return ConvSpec(out, **common)
    plane = spec.as_2d()
    extra = []
    for axis in range(2):
        rows = plane.input_size[axis] + 2 * plane.pads[axis][0]
        extra.append((rows - plane.footprint[axis]) % plane.stride[axis])
    output_padding: Any = extra[1] if one_d else tuple(extra)
    return ConvSpec(out, **common, transposed=True, output_padding=output_padding)
