"""The effective receptive field (Luo et al., NeurIPS 2016): how much each input cell matters.

For the centre unit of a layer, ``|∂ unit / ∂ input|`` over the input. With uniform weights
(every kernel all ones, no bias, no nonlinearity) that gradient is the number of paths from
an input cell to the unit through the stack, computed here exactly. Numpy and the standard
library only; a stack is ``convanim.receptive``'s (layers of ``ConvSpec`` keywords, 1-D or 2-D,
transposed layers included). ``weights="model"`` is autograd on a ``torch.nn.Module``'s own
weights, in ``convanim.erf_model`` (which imports torch): looked up by name only when asked
for, as the kinds' registry finds its modules, so that this module never imports it.

The centre unit of a level of ``n`` units (per axis) is unit ``(n - 1) // 2``. Cells are
(row, col) from the top-left in 2-D and plain ints in 1-D, as in ``convanim.receptive``.
"""

from __future__ import annotations

import importlib
import math
import numbers
import operator
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from convanim.errors import ConvSpecError
from convanim.receptive import (
    _axes,
    _befores,
    _chain,
    _input_size,
    _stack,
    _tables,
)

__all__ = [
    "MAX_SIDE",
    "WEIGHTS",
    "ErfLayer",
    "default_erf_input",
    "effective_receptive_field",
    "erf_layers",
    "erf_summary",
    "graph_erf",
    "path_counts",
]

WEIGHTS = ("uniform", "model")
MAX_SIDE = 256  # input cells per side that the heatmap figure draws (1-D: cells)
HALF = 0.5  # the share of the mass the central box must hold

Heatmap = npt.NDArray[np.float64]


def _is_int(value: object) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def layer_index(layer: object, count: int) -> int:
    """``layer`` (an index into ``count`` layers, negative from the end) as 0 .. count - 1."""
    if not _is_int(layer) or not -count <= operator.index(layer) < count:  # type: ignore[arg-type]
        shown = f"'{layer}'" if isinstance(layer, str) else repr(layer)
        raise ConvSpecError(
            "layer",
            f"got {shown}; expected an index of the {count} layers: 0 to {count - 1}, "
            f"or -{count} to -1 from the end",
        )
    return operator.index(layer) % count  # type: ignore[arg-type]


# -- exact path counts ----------------------------------------------------------------------


def _axis_counts(tables: Sequence[Sequence[Sequence[int]]], size: int, unit: int) -> list[int]:
    """Per input unit on one axis, the paths to ``unit`` of the last table's output: exact.

    ``tables[i]`` lists, per output unit of layer i + 1, the input units it reads (each once:
    a tap reaches one input unit, and no two taps the same one).
    """
    widths = [size] + [len(table) for table in tables[:-1]]  # each layer's input width
    counts = [0] * len(tables[-1])
    counts[unit] = 1
    for table, width in zip(reversed(tables), reversed(widths), strict=True):
        below = [0] * width
        for out, reads in enumerate(table):
            if counts[out]:
                for source in reads:
                    below[source] += counts[out]
        counts = below
    return counts


def path_counts(
    layers: Iterable[Mapping[str, Any]], input_size: int | tuple[int, int], layer: int = -1, *,
    dims: int = 2,
) -> tuple[tuple[int, ...], ...]:  # fmt: skip
    """Per axis (rows, cols; 1-D: one), the exact path counts from each input unit to the
    centre unit of ``layer``: the 2-D count of cell (r, c) is ``rows[r] * cols[c]``.

    Python ints: exact at any depth (a 2-D all-ones kernel is the product of two 1-D ones).
    """
    stack = _stack(layers, dims)
    index = layer_index(layer, len(stack))
    stack = stack[: index + 1]
    size = _input_size(input_size, dims)
    specs = _chain(stack, size)
    tables = {axis: _tables(stack, specs, axis) for axis in _axes(dims)}
    return _counts(specs, tables, size, dims, index)


def _counts(
    specs: Sequence[Any],
    tables: Mapping[int, Sequence[Sequence[Sequence[int]]]],
    size: tuple[int, int],
    dims: int,
    index: int,
) -> tuple[tuple[int, ...], ...]:
    """``path_counts`` of layer ``index`` from a stack's chain of specs and its tables (per
    axis, every layer's): a layer's are the first ``index + 1`` of any deeper stack's."""
    out = specs[index].output_size
    return tuple(
        tuple(_axis_counts(tables[axis][: index + 1], size[axis], (out[axis] - 1) // 2))
        for axis in _axes(dims)
    )


def _uniform(
    layers: Iterable[Mapping[str, Any]], input_size: int | tuple[int, int], layer: int, dims: int
) -> Heatmap:
    return _heatmap(path_counts(layers, input_size, layer, dims=dims), dims)


def _heatmap(axes: Sequence[Sequence[int]], dims: int) -> Heatmap:
    """The 2-D counts (the outer product of the axes'), or the 1-D ones, as floats."""
    if dims == 1:
        return np.asarray([float(c) for c in axes[0]])
    rows = np.asarray([float(c) for c in axes[0]])
    cols = np.asarray([float(c) for c in axes[1]])
    return np.outer(rows, cols)


def effective_receptive_field(
    layers_or_model: Any,
    input_size: Any,
    layer: Any = -1,
    weights: str = "uniform",
    *,
    dims: int = 2,
) -> Heatmap:
    """``|∂ unit / ∂ input|`` over the input, for the centre unit of ``layer``'s output.

    ``weights="uniform"``: ``layers_or_model`` is a stack of layers (``convanim.receptive``'s),
    ``input_size`` an int (1-D, with ``dims=1``) or (rows, cols), ``layer`` an index into the
    stack (negative from the end); the result, of shape ``input_size``, holds the exact path
    counts as floats (exact integers below 2**53, rounded to 53 bits above).

    ``weights="model"``: ``layers_or_model`` is a ``torch.nn.Module`` (torch needed),
    ``input_size`` its input's shape without the batch, (channels, rows, cols) or (channels,
    length); ``layer`` an index among its convolution and pooling modules, in
    ``named_modules()`` order, or a qualified name from it. Autograd on the module's own
    weights, summed over channels: see ``convanim.erf_model.model_erf``. ``dims`` is then
    the input shape's.
    """
    if weights == "uniform":
        return _uniform(layers_or_model, input_size, layer, dims)
    if weights == "model":
        model_erf = importlib.import_module("convanim.erf_model").model_erf
        heatmap: Heatmap = model_erf(layers_or_model, input_size, layer)
        return heatmap
    raise ConvSpecError("weights", f"got {weights!r}; expected one of {', '.join(WEIGHTS)}")


# -- where the mass is ----------------------------------------------------------------------


@dataclass(frozen=True)
class ErfLayer:
    """One layer's effective field and how it compares with the theoretical one.

    Per-axis numbers are tuples (rows, cols; 1-D: one). ``field`` is the theoretical extent
    of the unit's field, first to last cell, holes included, and ``first`` its first cell, in
    input coordinates (unclipped: negative or past the input where it reaches padding;
    ``clipped`` says so). ``mean`` and ``std`` are the heatmap's, as a distribution over the
    cells, per axis, in cells. ``central`` is the smallest box centred in the field (the field
    shrunk by the same number of cells on every side, odd fields to 1, even ones to 2) that
    holds at least half of the heatmap's total, and ``share`` what it holds. ``total`` is the
    heatmap's sum; 0 when the unit reads only padding, and then mean and std are NaN.
    """

    layer: int  # its number, from 1
    unit: tuple[int, ...]
    output_size: tuple[int, ...]
    field: tuple[int, ...]
    first: tuple[int, ...]
    clipped: bool
    total: float
    peak: float
    mean: tuple[float, ...]
    std: tuple[float, ...]
    central: tuple[int, ...]
    share: float
    heatmap: Heatmap

    @property
    def support(self) -> frozenset[tuple[int, ...]]:
        """The cells with a non-zero value (1-D: 1-tuples)."""
        return frozenset(tuple(int(i) for i in cell) for cell in np.argwhere(self.heatmap != 0))


def _unit_fields(
    layers: Sequence[Any], input_size: tuple[int, int], dims: int
) -> list[tuple[tuple[int, ...], tuple[int, ...], tuple[tuple[int, int], ...]]]:
    """Per layer: its output size, its centre unit, and that unit's cells (unbounded), per axis."""
    stack = _stack(layers, dims)
    specs = _chain(stack, input_size)
    befores = {axis: _befores(stack, axis, input_size) for axis in _axes(dims)}
    rows: list[tuple[tuple[int, ...], tuple[int, ...], tuple[tuple[int, int], ...]]] = []
    for depth, spec in enumerate(specs, 1):
        out = tuple(spec.output_size[axis] for axis in _axes(dims))
        unit = tuple((n - 1) // 2 for n in out)
        spans: list[set[int]] = []
        for position, axis in enumerate(_axes(dims)):
            cells = {unit[position]}
            pairs = zip(reversed(stack[:depth]), reversed(befores[axis][:depth]), strict=True)
            for layer, before in pairs:
                cells = {c for read in cells for c in layer.axes[axis].reads(read, before)}
            spans.append(cells)
        rows.append((out, unit, tuple((min(c), max(c)) if c else (0, -1) for c in spans)))
    return rows


def erf_summary(
    heatmap: npt.ArrayLike,
    field: Sequence[int],
    first: Sequence[int],
    *,
    layer: int = 1,
    unit: Sequence[int] = (),
    output_size: Sequence[int] = (),
) -> ErfLayer:
    """Where a heatmap's mass is, against a theoretical field of ``field`` cells from ``first``
    (per axis, input coordinates, unclipped): see ``ErfLayer``."""
    values = np.abs(np.asarray(heatmap, dtype=float))
    shape = values.shape
    total = float(values.sum())
    means, stds = [], []
    for axis in range(values.ndim):
        marginal = values.sum(axis=tuple(a for a in range(values.ndim) if a != axis))
        if total > 0:
            positions = np.arange(shape[axis], dtype=float)
            mean = float((marginal * positions).sum() / total)
            std = math.sqrt(max(float((marginal * (positions - mean) ** 2).sum() / total), 0.0))
        else:
            mean = std = math.nan
        means.append(mean)
        stds.append(std)
    clipped = any(f < 0 or f + n > size for f, n, size in zip(first, field, shape, strict=True))
    central, share = _central(values, tuple(field), tuple(first), total)
    return ErfLayer(
        layer=layer,
        unit=tuple(unit),
        output_size=tuple(output_size),
        field=tuple(int(n) for n in field),
        first=tuple(int(f) for f in first),
        clipped=clipped,
        total=total,
        peak=float(values.max()) if values.size else 0.0,
        mean=tuple(means),
        std=tuple(stds),
        central=central,
        share=share,
        heatmap=np.asarray(heatmap, dtype=float),
    )


def _central(
    values: Heatmap, field: tuple[int, ...], first: tuple[int, ...], total: float
) -> tuple[tuple[int, ...], float]:
    """The smallest centred box of the field holding at least ``HALF`` of ``total``."""

    def share(t: int) -> tuple[tuple[int, ...], float]:
        sizes = tuple(max(n - 2 * t, 2 - n % 2) if n > 0 else 0 for n in field)
        slices = []
        for n, f, size, limit in zip(field, first, sizes, values.shape, strict=True):
            start = f + (n - size) // 2
            slices.append(slice(max(start, 0), max(min(start + size, limit), 0)))
        held = float(values[tuple(slices)].sum())
        return sizes, (held / total if total > 0 else 0.0)

    best = share(0)
    steps = max((n - 1) // 2 for n in field) if field else 0
    for t in range(1, steps + 1):
        found = share(t)
        if found[0] == best[0]:
            break
        if found[1] < HALF - 1e-12:
            break
        best = found
    return best


def erf_layers(
    layers: Iterable[Mapping[str, Any]], input_size: int | tuple[int, int], *, dims: int = 2
) -> list[ErfLayer]:
    """Every layer's uniform-weight effective field for its centre unit, with its summary."""
    stack = list(layers)
    size = _input_size(input_size, dims)
    # Each layer's tables are those of the layers under it: made once for the whole stack.
    normalised = _stack(stack, dims)
    specs = _chain(normalised, size)
    tables = {axis: _tables(normalised, specs, axis) for axis in _axes(dims)}
    found = []
    for index, (out, unit, spans) in enumerate(_unit_fields(stack, size, dims)):
        heatmap = _heatmap(_counts(specs, tables, size, dims, index), dims)
        field = tuple(last - first + 1 for first, last in spans)
        found.append(
            erf_summary(
                heatmap,
                field,
                tuple(first for first, _ in spans),
                layer=index + 1,
                unit=unit,
                output_size=out,
            )
        )
    return found


def default_erf_input(
    layers: Iterable[Mapping[str, Any]], *, dims: int = 2, limit: int = MAX_SIDE
) -> int | tuple[int, int]:
    """The smallest input, per axis, at least ``default_input_size``, on which the last
    layer's centre unit has its whole theoretical field inside the input (so a heatmap shows
    all of it); that size itself where none up to ``limit`` cells does (a causal field ends
    at its unit, so a centre unit needs an input twice its field)."""
    from convanim.receptive import default_input_size

    stack = list(layers)
    base: int | tuple[int, int] = default_input_size(stack, dims=dims)  # type: ignore[call-overload]
    sizes = [base] if isinstance(base, int) else list(base)
    found = list(sizes)
    for position, _axis in enumerate(_axes(dims)):
        for n in range(int(sizes[position]), max(limit, int(sizes[position])) + 1):
            trial = list(found)
            trial[position] = n
            size = _input_size(trial[0] if dims == 1 else tuple(trial), dims)
            try:
                _, _, spans = _unit_fields(stack, size, dims)[-1]
            except ConvSpecError:
                continue
            first, last = spans[position]
            if first >= 0 and last < n:
                found[position] = n
                break
    if dims == 1:
        return int(found[0])
    return int(found[0]), int(found[1])


# -- a model's graph with uniform weights ---------------------------------------------------


def _read_matrix(row: Any, axis: int, size: int) -> Heatmap:
    """A window row's connections on one axis: entry (o, i) is 1 where output unit o reads
    input unit i (a tap inside the input), else 0."""
    out = row.output_size[axis]
    kernel, stride, dilation = row.kernel_size[axis], row.stride[axis], row.dilation[axis]
    before = row.padding[axis][0]
    matrix = np.zeros((out, size))
    taps = np.arange(kernel) * dilation
    if row.transposed:  # input unit i's tap t writes output unit i * stride - before + t * d
        for i in range(size):
            units = i * stride - before + taps
            matrix[units[(units >= 0) & (units < out)], i] = 1.0
    else:  # output unit o's tap t reads input unit o * stride - before + t * d
        for o in range(out):
            units = o * stride - before + taps
            matrix[o, units[(units >= 0) & (units < size)]] = 1.0
    return matrix


def graph_erf(fields: Any, names: Sequence[str]) -> list[Heatmap]:
    """Per name in ``names``, the uniform-weight effective field of the centre unit of that
    layer's output, over the model's input: ``fields`` is a model's analysis
    (``convanim.graph_fields.ModelFields``), a name one of its rows'.

    Every window is an all-ones kernel of one channel without bias, every other layer passes
    its input on, and a merge of branches (a sum; a concatenation, read by the next all-ones
    kernel) adds their counts: the gradient of that all-ones linear model, i.e. the number of
    paths from each input cell to the unit. Exact below 2**53.
    """
    from convanim.graph_fields import INPUT

    size = tuple(fields.input_size)
    dims = len(size)
    rows = list(fields.rows)
    inputs = {node.name: node.inputs for node in fields.nodes}
    sizes: dict[str, tuple[int, ...]] = {INPUT: size}
    matrices: dict[str, list[Heatmap]] = {}
    for row in rows:
        sources = inputs[row.name]
        if row.kernel_size is not None:
            below = sizes[sources[0]]
            matrices[row.name] = [_read_matrix(row, axis, below[axis]) for axis in range(dims)]
        sizes[row.name] = tuple(row.output_size)
    found = []
    for name in names:
        if name not in sizes or name == INPUT:
            raise ConvSpecError("layer", f"got '{name}'; no analysed layer has that name")
        one = np.zeros(sizes[name])
        one[tuple((n - 1) // 2 for n in sizes[name])] = 1.0
        grads: dict[str, Heatmap] = {name: one}
        for row in reversed(rows):
            grad = grads.pop(row.name, None)
            if grad is None:
                continue
            if row.name in matrices:
                axes = matrices[row.name]
                grad = axes[0].T @ grad if dims == 1 else axes[0].T @ grad @ axes[1]
            for source in inputs[row.name]:
                grads[source] = grads[source] + grad if source in grads else grad
        found.append(grads.get(INPUT, np.zeros(size)))
    return found
