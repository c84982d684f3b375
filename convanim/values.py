"""Worked numbers: the values in the cells, and the output they produce.

Pure: numpy and the standard library only. Every result equals PyTorch's for the same
parameters: ``F.conv2d`` / ``F.conv_transpose2d`` (``op="conv"``), ``F.max_pool2d``
(``op="max"``) and ``F.avg_pool2d`` with its defaults (``op="avg"``: ``count_include_pad=True``,
``ceil_mode=False``), or their 1-D forms (``conv1d``, ``conv_transpose1d``, ``max_pool1d``,
``avg_pool1d``) for a ``dims=1`` spec. Arrays are one channel, (rows, cols), origin top-left;
(width,) in 1-D, where every number is computed on the spec's one-row ``as_2d()`` plane;
(depth, rows, cols) in 3-D (``conv3d``, ``conv_transpose3d``, ``max_pool3d``, ``avg_pool3d``),
on the drawn volume (``ConvSpec.volume()``).

Channels: ``evaluate`` also takes PyTorch's channelled layout (``x`` of shape
``(in_channels, *input_size)``, ``weight`` ``(out_channels, in_channels/groups, *kernel)``,
or ``(in_channels, out_channels/groups, *kernel)`` transposed, ``bias`` ``(out_channels,)``)
and then returns ``(out_channels, *output_size)``; ``worked_channels`` gives a frame's
per-channel products and sums, as the CS231n convolution demo prints them.

The numbers are computed on the drawn grid that ``ConvSpec.grid()`` describes, exactly as the
animation shows them: every drawn cell holds a value (``drawn_values``), every kernel tap a
weight (``tap_weights``), and an output cell combines the values under its frame's taps
(``tap_values``) with those weights. For a transposed convolution the weight drawn at a tap is
the *flipped* kernel's: PyTorch's ``conv_transpose2d`` equals a stride-1 correlation of the
zero-inserted, padded grid with the kernel reversed along both axes.
"""

from __future__ import annotations

import math
import numbers
import os
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final, Literal

import numpy as np
import numpy.typing as npt

from convanim.geometry import ConvSpec, ConvSpecError, Frame

__all__ = [
    "NUMERICAL_FIGURES",
    "NUMERICAL_FIGURE_INPUT",
    "NUMERICAL_FIGURE_KERNEL",
    "OPS",
    "POOL_OPS",
    "VALUE_FILE_TYPES",
    "ChannelStep",
    "ChannelWorked",
    "Op",
    "ValuesFileError",
    "Worked",
    "channel_shapes",
    "drawn_values",
    "evaluate",
    "format_value",
    "load_values",
    "numerical_figure",
    "pool_spec_check",
    "random_channel_values",
    "random_values",
    "tap_values",
    "tap_weights",
    "worked",
    "worked_channels",
]

Op = Literal["conv", "max", "avg"]
Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]

OPS: Final[tuple[Op, ...]] = ("conv", "max", "avg")
POOL_OPS: Final[tuple[Op, ...]] = ("max", "avg")
VALUE_FILE_TYPES: Final[tuple[str, ...]] = (".npy", ".csv", ".txt")

_OP_NAMES: Final[Mapping[str, str]] = {
    "conv": "a convolution",
    "max": "max pooling",
    "avg": "average pooling",
}
_AXES = ("rows", "cols")
_AXES_3D = ("depth", "rows", "cols")

Spec = ConvSpec[Any, Any]  # 2-D or 1-D

# Random values span the ranges of conv_arithmetic's numerical figures.
_INPUT_RANGE: Final = (0, 3)
_KERNEL_RANGE: Final = (0, 2)

NUMERICAL_FIGURE_INPUT: Final[tuple[tuple[int, ...], ...]] = (
    (3, 3, 2, 1, 0),
    (0, 0, 1, 3, 1),
    (3, 1, 2, 2, 3),
    (2, 0, 0, 2, 2),
    (2, 0, 0, 0, 1),
)
"""The input of conv_arithmetic's four numerical figures (all four share it)."""

NUMERICAL_FIGURE_KERNEL: Final[tuple[tuple[int, ...], ...]] = (
    (0, 1, 2),
    (2, 2, 0),
    (0, 1, 2),
)
"""The kernel of conv_arithmetic's two numerical convolution figures."""

NUMERICAL_FIGURES: Final[Mapping[str, tuple[Mapping[str, Any], Op]]] = MappingProxyType(
    {
        "numerical_no_padding_no_strides": (
            MappingProxyType({"input_size": 5, "kernel_size": 3, "padding": 0, "stride": 1}),
            "conv",
        ),
        "numerical_padding_strides": (
            MappingProxyType({"input_size": 5, "kernel_size": 3, "padding": 1, "stride": 2}),
            "conv",
        ),
        "numerical_average_pooling": (
            MappingProxyType({"input_size": 5, "kernel_size": 3, "padding": 0, "stride": 1}),
            "avg",
        ),
        "numerical_max_pooling": (
            MappingProxyType({"input_size": 5, "kernel_size": 3, "padding": 0, "stride": 1}),
            "max",
        ),
    }
)
"""conv_arithmetic's numerical figures: name -> (``ConvSpec`` keyword arguments, op)."""


class ValuesFileError(ConvSpecError):
    """A values file that cannot be used; ``param`` names the option, ``path`` the file."""

    def __init__(self, param: str, path: str, message: str) -> None:
        super().__init__(param, f"{path}: {message}")
        self.path = path


# -- validation ---------------------------------------------------------------------------


def _is_int(value: object) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def _check_op(op: object, allowed: tuple[Op, ...] = OPS) -> Op:
    if not isinstance(op, str) or op not in allowed:
        raise ConvSpecError("op", f"got {op!r}; expected one of {', '.join(allowed)}")
    return op


def _array(param: str, value: object, shape: tuple[int, ...], what: str) -> Floats:
    """``value`` as a float64 array of ``shape``, or a ConvSpecError naming ``param``."""
    try:
        array = np.asarray(value)
    except (TypeError, ValueError) as error:
        raise ConvSpecError(
            param, f"got {type(value).__name__}; expected {what}: {error}"
        ) from None
    if array.dtype.kind not in "iuf":
        raise ConvSpecError(
            param, f"got an array of {array.dtype} values; expected {what} of real numbers"
        )
    if array.shape != shape:
        raise ConvSpecError(param, f"got shape {array.shape}; expected {what} of shape {shape}")
    return array.astype(np.float64)


def pool_spec_check(spec: Spec, op: str) -> None:
    """Raise ConvSpecError unless PyTorch's ``max_pool2d`` / ``avg_pool2d`` (``max_pool1d`` /
    ``avg_pool1d`` in 1-D) accepts ``spec``.

    PyTorch's rules: no transposed form, no dilation for average pooling, and padding at most
    half the kernel (``padding <= kernel_size // 2`` per axis; the kernel itself, not its dilated
    footprint). Padding PyTorch cannot express (asymmetric, or ``same`` when it resolves to
    unequal sides) is held to the same bound on each side.
    """
    checked = _check_op(op, POOL_OPS)
    name = _OP_NAMES[checked]
    if spec.transposed:
        raise ConvSpecError(
            "transposed", f"got True; {name} has no transposed form, expected False"
        )
    one_d = spec.dims == 1
    if checked == "avg" and any(d != 1 for d in spec.dilation):
        raise ConvSpecError(
            "dilation",
            f"got {spec.dilation[0] if one_d else spec.dilation}; {name} has no dilation "
            f"(PyTorch's avg_pool{spec.dims}d takes none), expected 1",
        )
    for axis in range(spec.dims):
        limit = spec.kernel_size[axis] // 2
        lo, hi = spec.pads[axis]
        if max(lo, hi) > limit:
            shown = repr(spec.padding)
            if one_d and not isinstance(spec.padding, str):  # as given: p, or (before, after)
                shown = str(lo) if lo == hi else str((lo, hi))
            if isinstance(spec.padding, str):
                shown += f" (resolved to {spec.pads[0] if one_d else spec.pads})"
            names = _AXES_3D if spec.dims == 3 else _AXES
            where = "" if one_d else f" on the {names[axis]} axis"
            raise ConvSpecError(
                "padding",
                f"got {shown}; {name} pads at most half the kernel on each side, like "
                f"PyTorch: kernel_size {spec.kernel_size[axis]}{where} "
                f"allows at most {limit}, got {lo} before and {hi} after",
            )


# -- the numbers on the drawn grid ----------------------------------------------------------


def drawn_values(spec: Spec, x: npt.ArrayLike, op: str = "conv") -> Floats:
    """The value in every cell of ``spec.grid()``, float64, shaped like ``spec.drawn_size``.

    Input cells hold ``x``; padding and inserted zeros hold 0, except that max pooling pads
    with ``-inf`` (as PyTorch does, so padding never wins a maximum).
    """
    checked = _check_op(op)
    if checked in POOL_OPS:
        pool_spec_check(spec, checked)
    values = _array("x", x, spec.input_size, "an input array")
    if spec.dims == 1:
        row: Floats = drawn_values(spec.as_2d(), values[None, :], checked)[0]
        return row
    fill = -np.inf if checked == "max" else 0.0
    if spec.dims == 3:
        volume = spec.volume()
        drawn = np.full(volume.shape, fill, dtype=np.float64)
        depths, rows, cols = volume.input_depths, volume.plane.input_rows, volume.plane.input_cols
        at = [np.nonzero(axis >= 0)[0] for axis in (depths, rows, cols)]
        drawn[np.ix_(*at)] = values[np.ix_(depths[at[0]], rows[at[1]], cols[at[2]])]
        return drawn
    grid = spec.grid()
    drawn = np.full(grid.shape, fill, dtype=np.float64)
    rows, cols = grid.input_rows, grid.input_cols
    row_at, col_at = np.nonzero(rows >= 0)[0], np.nonzero(cols >= 0)[0]
    drawn[np.ix_(row_at, col_at)] = values[np.ix_(rows[row_at], cols[col_at])]
    # A transposed grid's inserted zeros are zeros whatever the op (only conv reaches here).
    return drawn


def tap_weights(spec: Spec, weight: npt.ArrayLike) -> Floats:
    """The weight applied at each kernel tap, float64, shaped like the kernel, in tap order.

    ``frame.taps[t]`` multiplies ``tap_weights(spec, weight).ravel()[t]`` (taps are kernel
    row-major). Direct convolution: ``weight`` itself (PyTorch's conv2d is a correlation).
    Transposed: ``weight`` flipped along both axes, which is what the drawn grid's stride-1
    correlation needs to reproduce ``conv_transpose2d``'s scatter
    ``out[i * stride - padding + j * dilation] += x[i] * weight[j]``. In 1-D: (kernel,), reversed.
    """
    kernel = _array("weight", weight, spec.kernel_size, "a kernel")
    flipped = kernel[(slice(None, None, -1),) * kernel.ndim] if spec.transposed else kernel
    return np.ascontiguousarray(flipped)


def tap_values(spec: Spec, drawn: Floats, frame: Frame[Any]) -> Floats:
    """The drawn values under ``frame``'s kernel taps, shaped like the kernel, in tap order."""
    if spec.dims == 1:
        cols = np.fromiter((c for (c,) in frame.taps), dtype=np.intp, count=len(frame.taps))
        return drawn[cols]
    if spec.dims == 3:
        taps = np.array(frame.taps, dtype=np.intp).reshape(-1, 3)
        under: Floats = drawn[taps[:, 0], taps[:, 1], taps[:, 2]].reshape(spec.kernel_size)
        return under
    rows = np.fromiter((r for r, _ in frame.taps), dtype=np.intp, count=len(frame.taps))
    cols = np.fromiter((c for _, c in frame.taps), dtype=np.intp, count=len(frame.taps))
    return drawn[rows, cols].reshape(spec.kernel_size)


def evaluate(
    spec: Spec,
    x: npt.ArrayLike,
    weight: npt.ArrayLike | None = None,
    op: str = "conv",
    *,
    bias: npt.ArrayLike | None = None,
) -> Floats:
    """The output array, float64, shaped ``spec.output_size``; equal to PyTorch's.

    ``op="conv"`` needs ``weight`` (shaped ``spec.kernel_size``; there is no default kernel);
    pooling takes none. ``x`` is shaped ``spec.input_size``. Integer inputs give exact
    integer-valued floats. Max pooling yields ``-inf`` where a window covers padding only
    (PyTorch does the same). Padding PyTorch's pooling cannot express (asymmetric sides) is
    padding all the same: ``-inf`` for max, zeros counted in the kernel-area divisor for avg.

    Channelled (a spec with channels or groups, a ``bias``, or a weight with PyTorch's two
    leading channel axes): shapes as ``channel_shapes(spec)`` says, the result
    ``(out_channels, *output_size)``, equal to ``F.conv2d`` / ``F.conv_transpose2d`` (``conv1d``
    / ``conv_transpose1d`` in 1-D) with ``groups``.
    """
    if _channelled(spec, weight, bias):
        return _evaluate_channels(spec, x, weight, op, bias).output
    checked = _check_op(op)
    if checked == "conv":
        if weight is None:
            raise ConvSpecError(
                "weight", f"got None; a convolution needs a kernel of shape {spec.kernel_size}"
            )
        weights = tap_weights(spec, weight)
    elif weight is not None:
        raise ConvSpecError("weight", f"got a kernel; {_OP_NAMES[checked]} takes none (None)")
    drawn = drawn_values(spec, x, checked)
    if spec.dims == 3:
        return _evaluate_3d(spec, drawn, weights if checked == "conv" else None, checked)
    plane = spec.as_2d()  # the spec itself in 2-D; in 1-D its one-row plane
    if spec.dims == 1:
        drawn = drawn[None, :]
        if checked == "conv":
            weights = weights[None, :]
    # Every output cell's taps, as one strided view: the frame at (i, j) reads
    # drawn[i * hop + a * dilation, j * hop + b * dilation] for kernel tap (a, b).
    hop = (1, 1) if plane.transposed else plane.stride
    rows, cols = plane.output_size
    windows = np.lib.stride_tricks.sliding_window_view(drawn, plane.footprint)
    windows = windows[:: hop[0], :: hop[1], :: plane.dilation[0], :: plane.dilation[1]]
    windows = windows[:rows, :cols]
    if checked == "conv":
        result = np.einsum("ijkl,kl->ij", windows, weights)
    elif checked == "max":
        result = windows.max(axis=(2, 3))
    else:
        result = windows.sum(axis=(2, 3)) / (plane.kernel_size[0] * plane.kernel_size[1])
    return np.asarray(result, dtype=np.float64).reshape(spec.output_size)


def _evaluate_3d(spec: Spec, drawn: Floats, weights: Floats | None, op: Op) -> Floats:
    """``evaluate`` on a drawn volume: output (d, r, c) reads
    drawn[d * hop + a * dilation, r * hop + b * dilation, c * hop + e * dilation]."""
    hop = (1, 1, 1) if spec.transposed else spec.stride
    depth, rows, cols = spec.output_size
    windows = np.lib.stride_tricks.sliding_window_view(drawn, spec.footprint)
    steps = (*hop, *spec.dilation)
    windows = windows[tuple(slice(None, None, step) for step in steps)][:depth, :rows, :cols]
    if op == "conv":
        assert weights is not None
        result = np.tensordot(windows, weights, axes=3)
    elif op == "max":
        result = windows.max(axis=(3, 4, 5))
    else:
        result = windows.sum(axis=(3, 4, 5)) / math.prod(spec.kernel_size)
    return np.asarray(result, dtype=np.float64)


def _channelled(spec: Spec, weight: object, bias: object) -> bool:
    """Whether arrays come in PyTorch's channelled layout."""
    if (spec.in_channels, spec.out_channels, spec.groups) != (1, 1, 1) or bias is not None:
        return True
    return weight is not None and np.ndim(weight) == spec.dims + 2  # type: ignore[arg-type]


def channel_shapes(spec: Spec) -> dict[str, tuple[int, ...]]:
    """PyTorch's shapes of a channelled convolution's arrays: ``x``, ``weight``, ``bias`` and
    ``output`` (``(out_channels, *output_size)``)."""
    weight_channels = (
        (spec.in_channels, spec.out_channels // spec.groups)
        if spec.transposed
        else (spec.out_channels, spec.in_channels // spec.groups)
    )
    return {
        "x": (spec.in_channels, *spec.input_size),
        "weight": (*weight_channels, *spec.kernel_size),
        "bias": (spec.out_channels,),
        "output": (spec.out_channels, *spec.output_size),
    }


def _what(spec: Spec, name: str) -> str:
    """A channelled array's shape in PyTorch's words, for a message."""
    axes = {
        "x": "(in_channels, *input_size)",
        "weight": (
            "(in_channels, out_channels/groups, *kernel_size)"
            if spec.transposed
            else "(out_channels, in_channels/groups, *kernel_size)"
        ),
        "bias": "(out_channels,)",
    }[name]
    return f"an array {axes}"


@dataclass(frozen=True, eq=False)
class ChannelStep:
    """The numbers of one output cell of one output channel, as the CS231n demo writes them:
    per input channel read, the products under the kernel and their sum; then the total.

    ``products[c]`` is in tap order (kernel-shaped, flipped weights when transposed) for input
    channel ``in_channels[c]``; ``total == sums.sum() + bias``, the output cell's value.
    """

    out_channel: int
    output: tuple[int, ...]  # the output cell, (row, col) or (j,)
    in_channels: tuple[int, ...]
    values: Floats  # (len(in_channels), *kernel_size): the drawn values under the taps
    weights: Floats  # (len(in_channels), *kernel_size): the taps' weights
    products: Floats  # values * weights
    sums: Floats  # (len(in_channels),)
    bias: float  # 0.0 without a bias
    total: float


@dataclass(frozen=True, eq=False)
class ChannelWorked:
    """What a channelled worked-numbers figure shows, computed once.

    ``drawn[c]`` holds input channel c's drawn grid values; ``weights[oc, k]`` the tap weights
    (flipped when transposed) output channel oc applies to the k-th channel it reads
    (``spec.channels_read(oc)[k]``); ``bias`` is None without one; ``output`` is
    ``(out_channels, *output_size)``.
    """

    spec: Spec
    drawn: Floats
    weights: Floats
    bias: Floats | None
    output: Floats

    def steps(self, frame: Frame[Any]) -> tuple[ChannelStep, ...]:
        """A frame's numbers: one step for its output channel, or one per output channel for a
        spatial frame (``out_channel`` None)."""
        spec = self.spec
        channels = range(spec.out_channels) if frame.out_channel is None else [frame.out_channel]
        return tuple(self.step(frame, out_channel) for out_channel in channels)

    def step(self, frame: Frame[Any], out_channel: int) -> ChannelStep:
        """Output channel ``out_channel``'s numbers at ``frame``'s output cell."""
        spec = self.spec
        read = tuple(spec.channels_read(out_channel))
        values = np.stack([tap_values(spec, self.drawn[c], frame) for c in read])
        weights = self.weights[out_channel]
        products = values * weights
        sums = products.reshape(len(read), -1).sum(axis=1)
        bias = 0.0 if self.bias is None else float(self.bias[out_channel])
        return ChannelStep(
            out_channel=out_channel,
            output=tuple(frame.output),
            in_channels=read,
            values=values,
            weights=weights,
            products=products,
            sums=sums,
            bias=bias,
            total=float(self.output[(out_channel, *frame.output)]),
        )


def worked_channels(
    spec: Spec, x: npt.ArrayLike, weight: npt.ArrayLike, bias: npt.ArrayLike | None = None
) -> ChannelWorked:
    """Everything a channelled worked-numbers figure of ``spec`` shows; shapes as
    ``channel_shapes(spec)`` (a convolution only: pooling has no channels here)."""
    return _evaluate_channels(spec, x, weight, "conv", bias)


def _evaluate_channels(
    spec: Spec, x: object, weight: object, op: str, bias: object
) -> ChannelWorked:
    if _check_op(op) != "conv":
        raise ConvSpecError("op", f"got {op!r}; channels and groups are for op conv only")
    shapes = channel_shapes(spec)
    if weight is None:
        raise ConvSpecError(
            "weight",
            f"got None; a convolution needs {_what(spec, 'weight')} of shape {shapes['weight']}",
        )
    values = _array("x", x, shapes["x"], _what(spec, "x"))
    kernels = _array("weight", weight, shapes["weight"], _what(spec, "weight"))
    biases = None if bias is None else _array("bias", bias, shapes["bias"], _what(spec, "bias"))
    groups, outs, ins = spec.groups, spec.out_channels, spec.in_channels
    out_per_group, in_per_group = outs // groups, ins // groups
    # taps[oc, k]: the weights output channel oc applies to the k-th input channel it reads.
    if spec.transposed:
        taps = np.empty((outs, in_per_group, *spec.kernel_size))
        for oc in range(outs):
            g = oc // out_per_group
            taps[oc] = kernels[g * in_per_group : (g + 1) * in_per_group, oc - g * out_per_group]
        taps = np.flip(taps, axis=tuple(range(2, 2 + spec.dims)))  # see tap_weights
    else:
        taps = kernels
    drawn = np.stack([drawn_values(spec, plane) for plane in values])
    # Every output cell's taps, as one strided view per input channel (see evaluate).
    dims = spec.dims
    spatial = tuple(range(1, dims + 1))
    hop = (1,) * dims if spec.transposed else spec.stride
    windows = np.lib.stride_tricks.sliding_window_view(drawn, spec.footprint, axis=spatial)
    steps = (slice(None), *(slice(None, None, n) for n in (*hop, *spec.dilation)))
    windows = windows[steps][(slice(None), *(slice(0, n) for n in spec.output_size))]
    cells, kernel = "ijk"[:dims], "lmn"[:dims]
    product = f"c{cells}{kernel},oc{kernel}->o{cells}"
    output = np.empty(shapes["output"])
    for g in range(groups):
        reads = windows[g * in_per_group : (g + 1) * in_per_group]
        filters = taps[g * out_per_group : (g + 1) * out_per_group]
        output[g * out_per_group : (g + 1) * out_per_group] = np.einsum(product, reads, filters)
    if biases is not None:
        output += biases.reshape((outs,) + (1,) * dims)
    return ChannelWorked(
        spec=spec,
        drawn=drawn,
        weights=np.ascontiguousarray(taps),
        bias=biases,
        output=output,
    )


@dataclass(frozen=True, eq=False)
class Worked:
    """What a worked-numbers figure shows: the drawn cells' values, the taps' weights (conv
    only, in tap order: flipped for a transposed convolution) and the output."""

    op: Op
    drawn: Floats
    weights: Floats | None
    output: Floats


def worked(
    spec: Spec, x: npt.ArrayLike, weight: npt.ArrayLike | None = None, op: str = "conv"
) -> Worked:
    """Everything a worked-numbers figure of ``spec`` shows, computed once."""
    output = evaluate(spec, x, weight, op)
    checked = _check_op(op)
    weights = tap_weights(spec, weight) if weight is not None else None
    return Worked(op=checked, drawn=drawn_values(spec, x, checked), weights=weights, output=output)


# -- where values come from -----------------------------------------------------------------


def random_values(spec: Spec, seed: int) -> tuple[Ints, Ints]:
    """Small random integers (input 0..3, kernel 0..2, int64), the same on every machine.

    The ranges are those of conv_arithmetic's numerical figures. The input and the kernel
    come from independent streams of ``seed``, so changing the kernel size keeps the input.
    """
    if not _is_int(seed) or seed < 0:
        raise ConvSpecError("seed", f"got {seed!r}; expected an integer >= 0")
    input_stream, kernel_stream = np.random.SeedSequence(int(seed)).spawn(2)
    input_size: tuple[int, ...] = spec.input_size  # (rows, cols), or (width,) in 1-D
    kernel_size: tuple[int, ...] = spec.kernel_size
    x = np.random.default_rng(input_stream).integers(
        _INPUT_RANGE[0], _INPUT_RANGE[1], size=input_size, dtype=np.int64, endpoint=True
    )
    weight = np.random.default_rng(kernel_stream).integers(
        _KERNEL_RANGE[0], _KERNEL_RANGE[1], size=kernel_size, dtype=np.int64, endpoint=True
    )
    return x, weight


def random_channel_values(spec: Spec, seed: int) -> tuple[Ints, Ints, Ints]:
    """(x, weight, bias) of small random integers, in ``channel_shapes(spec)``; the ranges and
    streams of ``random_values`` (bias 0..2 from a third stream), so that one channel gives
    its numbers."""
    if not _is_int(seed) or seed < 0:
        raise ConvSpecError("seed", f"got {seed!r}; expected an integer >= 0")
    shapes = channel_shapes(spec)
    streams = np.random.SeedSequence(int(seed)).spawn(3)
    x, weight, bias = (
        np.random.default_rng(stream).integers(
            low, high, size=shapes[name], dtype=np.int64, endpoint=True
        )
        for stream, name, (low, high) in zip(
            streams,
            ("x", "weight", "bias"),
            (_INPUT_RANGE, _KERNEL_RANGE, _KERNEL_RANGE),
            strict=True,
        )
    )
    return x, weight, bias


def numerical_figure(name: str) -> tuple[ConvSpec, Op, Ints, Ints | None]:
    """One of ``NUMERICAL_FIGURES`` with its published values: (spec, op, x, weight or None)."""
    if name not in NUMERICAL_FIGURES:
        raise ConvSpecError(
            "figure", f"got {name!r}; expected one of {', '.join(NUMERICAL_FIGURES)}"
        )
    kwargs, op = NUMERICAL_FIGURES[name]
    x = np.array(NUMERICAL_FIGURE_INPUT, dtype=np.int64)
    weight = np.array(NUMERICAL_FIGURE_KERNEL, dtype=np.int64) if op == "conv" else None
    return ConvSpec(**kwargs), op, x, weight


def load_values(
    path: str | os.PathLike[str], expected_shape: tuple[int, ...], param: str
) -> Floats:
    """Values from a ``.npy``, ``.csv`` or ``.txt`` file, float64, shaped ``expected_shape``.

    Text files hold one row per line, values separated by commas or by whitespace; blank lines
    and lines starting with ``#`` are skipped. An ``.npy`` array may carry leading axes of
    length 1 (a single-channel PyTorch weight, (1, 1, rows, cols)). For a 1-D shape (width,)
    the values are one row or one column of numbers (an ``.npy`` of any shape with at most one
    axis longer than 1, such as a Conv1d weight (1, 1, kernel)). For a 3-D shape (depth, rows,
    cols) a text file holds the depth slices one after another, depth * rows lines of cols values
    (blank lines between slices are welcome); so are the planes of a channelled shape, channel
    after channel (and each channel's slices in 3-D). Values must be finite.
    Every problem raises ``ValuesFileError`` naming ``param`` and the path.
    """
    name = os.fspath(path)
    suffix = Path(name).suffix.lower()
    if suffix not in VALUE_FILE_TYPES:
        raise ValuesFileError(
            param,
            name,
            f"unsupported file type '{suffix or '(none)'}'; expected one of "
            f"{', '.join(VALUE_FILE_TYPES)}",
        )
    count = math.prod(expected_shape)
    if suffix == ".npy":
        array = _read_npy(param, name, count, tuple(expected_shape))
    else:
        array = _read_text(param, name)
    while array.ndim > max(2, len(expected_shape)) and array.shape[0] == 1:
        array = array[0]
    if len(expected_shape) > 2 and array.shape == _stacked(expected_shape):
        array = array.reshape(expected_shape)  # planes (slices, channels) one after another
    if len(expected_shape) == 1 and sum(length != 1 for length in array.shape) <= 1:
        array = array.reshape(-1)  # a row or a column
    if array.shape != tuple(expected_shape):
        raise ValuesFileError(
            param, name, f"holds values of shape {array.shape}; expected {tuple(expected_shape)}"
        )
    if not np.isfinite(array).all():
        raise ValuesFileError(param, name, "holds nan or inf; expected finite numbers")
    return array


def _stacked(shape: tuple[int, ...]) -> tuple[int, int]:
    """How a text file holds an array of more than two axes: its planes one under another."""
    return math.prod(shape[:-1]), shape[-1]


def _read_npy(param: str, name: str, count: int, expected: tuple[int, ...]) -> Floats:
    """An .npy array of ``count`` values; the header is checked before any data is read, so
    that a header claiming a huge shape costs nothing."""
    try:
        with open(name, "rb") as file:
            magic = file.read(6)
            if magic != b"\x93NUMPY":
                raise ValuesFileError(param, name, "is not an .npy file (no .npy header)")
            file.seek(0)
            major, _ = np.lib.format.read_magic(file)
            read_header = (
                np.lib.format.read_array_header_1_0
                if major == 1
                else np.lib.format.read_array_header_2_0
            )
            shape, _, dtype = read_header(file)
        if math.prod(shape) != count:
            shown = tuple(shape)
            while len(shown) > max(len(expected), 1) and shown[0] == 1:
                shown = shown[1:]  # a PyTorch weight's leading axes of 1, as loading drops them
            if len(expected) == 1 and sum(n != 1 for n in shown) <= 1:
                shown = (math.prod(shown),)  # a row or a column
            raise ValuesFileError(
                param, name, f"holds values of shape {shown}; expected {expected}"
            )
        if dtype.kind not in "iuf":
            raise ValuesFileError(param, name, f"holds {dtype} values; expected integers or floats")
        loaded = np.load(name, allow_pickle=False)
    except (OSError, ValueError, EOFError) as error:
        if isinstance(error, ValuesFileError):
            raise
        raise ValuesFileError(param, name, f"cannot be read as .npy: {error}") from None
    if not isinstance(loaded, np.ndarray):  # pragma: no cover - np.load gives arrays for .npy
        raise ValuesFileError(param, name, "does not hold one array")
    if loaded.dtype.kind not in "iuf":
        raise ValuesFileError(
            param, name, f"holds {loaded.dtype} values; expected integers or floats"
        )
    return loaded.astype(np.float64)


def _read_text(param: str, name: str) -> Floats:
    try:
        with open(name, encoding="utf-8-sig") as file:
            lines = file.read().splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise ValuesFileError(param, name, f"cannot be read as text: {error}") from None
    rows: list[list[float]] = []
    first_line = 0
    for number, line in enumerate(lines, start=1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        tokens = [t.strip() for t in text.split(",")] if "," in text else text.split()
        row = []
        for column, token in enumerate(tokens, start=1):
            try:
                row.append(float(token))
            except ValueError:
                shown = repr(token) if token else "an empty value"
                raise ValuesFileError(
                    param, name, f"line {number}, value {column}: {shown} is not a number"
                ) from None
        if rows and len(row) != len(rows[0]):
            raise ValuesFileError(
                param,
                name,
                f"line {number} holds {len(row)} values but line {first_line} holds "
                f"{len(rows[0])}; expected the same number on every line",
            )
        if not rows:
            first_line = number
        rows.append(row)
    if not rows:
        raise ValuesFileError(param, name, "holds no values")
    return np.array(rows, dtype=np.float64)


# -- showing a number in a cell ---------------------------------------------------------------


def format_value(
    value: float | int | np.integer[Any] | np.floating[Any], max_chars: int = 5
) -> str:
    """``value`` as text of at most ``max_chars`` characters, for a cell.

    Integers (and integer-valued floats) print exactly when they fit ("12", "-3"); other
    values are rounded to fit, in fixed point ("1.33", "-0.25") or scientific notation
    ("1.2e3", "5e-4"), whichever is closer to ``value``. Infinities print as "∞" / "-∞",
    nan as "nan". A value that fits in no form prints as ``max_chars`` "#" characters.
    """
    if not _is_int(max_chars) or max_chars < 1:
        raise ConvSpecError("max_chars", f"got {max_chars!r}; expected an integer >= 1")
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise ConvSpecError("value", f"got {value!r}; expected a real number")
    overflow = "#" * max_chars
    if isinstance(value, numbers.Integral):
        text = str(int(value))
        if len(text) <= max_chars:
            return text
        return _scientific(Decimal(int(value)), max_chars) or overflow
    number = float(value)
    if math.isnan(number):
        return "nan" if max_chars >= 3 else overflow
    if math.isinf(number):
        if number > 0:
            return "∞"
        return "-∞" if max_chars >= 2 else overflow
    if number.is_integer():
        text = str(int(number))
        if len(text) <= max_chars:
            return text
    candidates = [
        text
        for text in (_fixed(number, max_chars), _scientific(number, max_chars))
        if text is not None
    ]
    if not candidates:
        return overflow
    # min() keeps the first of equals: fixed point wins a tie.
    # Decimal: a rounded "1.8e308" is past the largest double, and float() would make it inf.
    return min(candidates, key=lambda text: abs(Decimal(text) - Decimal(number)))


def _fixed(number: float, max_chars: int) -> str | None:
    """The most decimals of ``number`` that fit, trailing zeros dropped; None if none fit."""
    if len(_unsigned_zero(f"{number:.0f}")) > max_chars:
        return None
    for decimals in range(max(max_chars - 2, 0), -1, -1):
        text = f"{number:.{decimals}f}"
        if "." in text:
            text = text.rstrip("0").rstrip(".")
        text = _unsigned_zero(text)
        if len(text) <= max_chars:
            return text
    return None  # pragma: no cover - zero decimals fit, checked above


def _unsigned_zero(text: str) -> str:
    """A small negative rounded to zero shows as "0", not "-0"."""
    return "0" if text == "-0" else text


def _scientific(number: float | Decimal, max_chars: int) -> str | None:
    """The most mantissa digits of ``number`` that fit, as "1.2e3"; None if none fit."""
    for digits in range(max_chars, -1, -1):
        mantissa, exponent = format(number, f".{digits}e").split("e")
        if "." in mantissa:
            mantissa = mantissa.rstrip("0").rstrip(".")
        text = f"{mantissa}e{int(exponent)}"
        if len(text) <= max_chars:
            return text
    return None
