"""Receptive fields of a stack of convolutions: which input cells an output cell depends on.

Pure: the standard library only. A stack is a sequence of layers, each a mapping of
``ConvSpec`` keywords (``kernel_size``, ``stride``, ``padding``, ``dilation``, ``transposed``,
``output_padding``; the defaults are ``ConvSpec``'s, so padding defaults to 0). Each layer's
input is the previous layer's output. Layers are numbered from 1, in errors and in results.

``dims`` chooses the dimensionality. In 2-D (the default) cells are (row, col) with the origin
at the top-left and every size or per-axis number is a (rows, cols) pair, as in ``ConvSpec``.
In 1-D every cell (unit), size and per-axis number is a plain int; a 1-D layer takes integers,
and its padding may also be a (before, after) pair.

``padding="causal"`` pads ``dilation * (kernel_size - 1)`` cells before the input and none
after, so that output unit i reads only inputs <= i (WaveNet). In 2-D it pads the top and the
left. Transposed layers reject it.
"""

from __future__ import annotations

import difflib
import inspect
import math
import numbers
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from itertools import product
from typing import Any, Generic, Literal, TypeVar, overload

from convanim.geometry import PADDING_MODES, ConvSpec, ConvSpecError

__all__ = [
    "LAYER_KEYS",
    "DependencyTree",
    "LayerField",
    "LayerSpecError",
    "default_input_size",
    "dependency_tree",
    "layer_sizes",
    "receptive_field",
    "receptive_field_stats",
]

Pair = tuple[int, int]
Layers = Iterable[Mapping[str, Any]]
Method = Literal["closed form", "derived from cells"]
Table = tuple[tuple[int, ...], ...]  # per output unit on one axis, the input units it reads

#: A cell, a size or a per-axis number: an int in 1-D, a (rows, cols) pair in 2-D.
T = TypeVar("T", int, Pair)
#: A per-axis stride, likewise.
S = TypeVar("S", Fraction, tuple[Fraction, Fraction])
#: Per-position sizes over one period: a tuple in 1-D, one tuple per axis in 2-D.
Z = TypeVar("Z", tuple[int, ...], tuple[tuple[int, ...], tuple[int, ...]])

LAYER_KEYS = ("kernel_size", "stride", "padding", "dilation", "transposed", "output_padding")


class LayerSpecError(ConvSpecError):
    """An invalid layer of a stack: ``layer`` is its number (from 1), ``param`` the key at fault."""

    def __init__(self, layer: int, param: str, message: str) -> None:
        super().__init__(param, message)
        self.layer = layer
        self.args = (f"layer {layer}: {param}: {message}",)


@dataclass(frozen=True)
class LayerField(Generic[T, S, Z]):
    """The receptive field of the output units of a layer, measured on the stack's input.

    ``size`` is the extent of a unit's field, first to last cell, holes included: the largest
    among the units where they differ (see ``sizes``). ``stride`` is the distance between the
    fields of neighbouring units (a fraction below a transposed layer). ``start`` is the input
    coordinate of the first cell of output unit 0's field: negative means it lies in padding
    (every layer's padding counts, as in Distill's ``u0 = -sum_l p_l * prod_{i<l} s_i``).
    Coordinates are unbounded: no input-size clipping.

    ``sizes`` and ``period`` give every unit's extent, per axis: unit ``u`` (an index of the
    layer's output, from 0) has a field of ``sizes[u % period]`` cells (2-D: per axis,
    ``sizes[axis][u[axis] % period[axis]]``; ``size_of`` looks it up). ``period`` is the
    smallest period of that sequence: 1 where every unit's field has the same extent, so
    ``sizes == (size,)``; above a transposed layer it divides the product of the transposed
    strides (kernel 3, stride 2, padding 1 twice, the second transposed: sizes (3, 5), period
    2: even units 3 cells, odd units 5). ``size == max(sizes)``, per axis.

    ``method`` says how they were found. ``"closed form"``: the formulas of Araujo, Norris and
    Sim, "Computing Receptive Fields of Convolutional Neural Networks" (Distill, 2019), with a
    dilated kernel counted as ``dilation * (kernel - 1) + 1`` cells; every unit's field then
    spans exactly ``[start + unit * stride, start + unit * stride + size)``. ``"derived from
    cells"`` (the layer or one below it is transposed): the fields differ from unit to unit
    but repeat, shifted by ``P * stride``, every ``P`` units (``P``, the product of the
    transposed strides, is a multiple of ``period``). A unit's extent is 0 if it reads nothing
    (a transposed stride can leave a unit only inserted zeros); ``start`` is the first cell of
    the field of the first unit that reads anything (unit 0 unless it reads nothing) and 0 if
    none does; ``stride`` is the product of the direct strides over the product of the
    transposed ones, the shift of the fields per unit.
    """

    layer: int
    size: T
    stride: S
    start: T
    kernel: T  # the layer's kernel_size
    dilation: T
    params: int  # weights of a single-channel kernel: kernel rows * cols
    method: Method
    sizes: Z  # per position over one period; per axis in 2-D
    period: T

    @property
    def varies(self) -> bool:
        """Whether units of this layer have fields of different extents (on some axis)."""
        return self.period != 1 and self.period != (1, 1)

    def size_of(self, unit: T) -> T:
        """The extent of output unit ``unit``'s field (non-negative indices), as ``size``."""
        sizes: Any = self.sizes  # T, Z and the period vary together: 1-D ints, 2-D pairs
        period: Any = self.period
        if isinstance(unit, tuple):
            return (sizes[0][unit[0] % period[0]], sizes[1][unit[1] % period[1]])
        return sizes[unit % period]  # type: ignore[no-any-return]


@dataclass(frozen=True)
class DependencyTree(Generic[T]):
    """The units one output depends on, level by level, and the connections between levels.

    Level 0 is the input, level l the output of layer l. ``edges[l - 1]`` holds every
    connection of layer l as (unit at level l, unit at level l - 1 that it reads);
    ``highlighted[l - 1]`` is the subset the chosen output depends through.
    """

    sizes: tuple[T, ...]  # per level, from the input
    levels: tuple[frozenset[T], ...]  # per level, the units the output depends on
    edges: tuple[frozenset[tuple[T, T]], ...]
    highlighted: tuple[frozenset[tuple[T, T]], ...]


Field1d = LayerField[int, Fraction, tuple[int, ...]]
Field2d = LayerField[Pair, tuple[Fraction, Fraction], tuple[tuple[int, ...], tuple[int, ...]]]


# -- one layer along one axis --------------------------------------------------------------


@dataclass(frozen=True)
class _Axis:
    """One layer along one axis: what the field arithmetic needs."""

    kernel: int
    stride: int
    dilation: int
    padding: str | Pair  # a mode name, or (before, after) in cells
    transposed: bool
    output_padding: int

    @classmethod
    def of(cls, spec: ConvSpec, axis: int) -> _Axis:
        padding = spec.padding if isinstance(spec.padding, str) else spec.padding[axis]
        return cls(
            kernel=spec.kernel_size[axis],
            stride=spec.stride[axis],
            dilation=spec.dilation[axis],
            padding=padding,
            transposed=spec.transposed,
            output_padding=spec.output_padding[axis],
        )

    @property
    def footprint(self) -> int:
        return self.dilation * (self.kernel - 1) + 1

    @property
    def sized_padding(self) -> bool:
        """Whether the padding depends on the input size: 'same' at stride > 1 (TF's rule)."""
        return self.padding == "same" and self.stride > 1

    def spec(self, size: int) -> ConvSpec:
        """This axis alone, as a convolution of a 1 x size input."""
        padding: str | Pair | tuple[Pair, Pair]
        if isinstance(self.padding, str):
            padding = self.padding
        elif self.transposed:  # ConvTranspose2d padding is symmetric: (rows, cols)
            padding = (0, self.padding[0])
        else:
            padding = ((0, 0), self.padding)
        return ConvSpec(
            input_size=(1, size),
            kernel_size=(1, self.kernel),
            stride=(1, self.stride),
            padding=padding,
            dilation=(1, self.dilation),
            transposed=self.transposed,
            output_padding=(0, self.output_padding),
        )

    def before(self, size: int | None) -> int:
        """Cells of padding before the input; ``size`` is needed only if ``sized_padding``."""
        if isinstance(self.padding, tuple):
            return self.padding[0]
        return self.spec(self.footprint if size is None else size).pads[1][0]

    def sources(self, size: int) -> Table:
        """Per output unit, the input units it reads: the frames of this axis alone."""
        frames = self.spec(size).frames()
        return tuple(tuple(sorted(col for _, col in frame.sources)) for frame in frames)

    def reads(self, unit: int, before: int) -> list[int]:
        """The input positions a unit reads on an unbounded input (negative: padding)."""
        taps = range(0, self.footprint, self.dilation)
        if self.transposed:  # PyTorch scatters input i to i * stride - before + tap
            shifted = [unit + before - tap for tap in taps]
            return [p // self.stride for p in shifted if p % self.stride == 0]
        return [unit * self.stride - before + tap for tap in taps]


# -- validation ----------------------------------------------------------------------------


def _is_int(value: object) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


_DEFAULTS = {
    name: parameter.default
    for name, parameter in inspect.signature(ConvSpec).parameters.items()
    if name in LAYER_KEYS
}


@dataclass(frozen=True, eq=False)
class _Layer:
    """One validated layer: ``ConvSpec`` keywords (1-D: of a 1 x N problem) and its axes."""

    number: int
    kwargs: dict[str, Any]
    axes: tuple[_Axis, _Axis]  # (rows, cols); a 1-D layer's rows axis is the identity
    dims: int

    def spec(self, input_size: Pair) -> ConvSpec:
        try:
            return ConvSpec(input_size, **self.kwargs)
        except ConvSpecError as error:
            raise _in_layer(self.number, self.kwargs, self.dims, error) from None


def _in_layer(
    number: int, kwargs: Mapping[str, Any], dims: int, error: ConvSpecError
) -> LayerSpecError:
    """``error`` as a layer's error, naming 'causal'; in 1-D, without the 1 x N problem's pairs."""
    detail = error.detail
    if error.param == "padding" and isinstance(kwargs.get("padding"), str):
        modes = ", ".join(PADDING_MODES)
        detail = detail.replace(f"{modes},", f"{modes}, causal,")
    if dims == 1:
        detail = detail.replace(" on the cols axis", "")
        if error.param == "output_padding":
            pair = kwargs["output_padding"]
            detail = detail.replace(f"got {pair}", f"got {pair[1]}")
    return LayerSpecError(number, error.param, detail)


def _probe(number: int, kwargs: Mapping[str, Any], dims: int) -> ConvSpec:
    """The layer at the smallest power-of-two input it accepts: its parameters, validated."""
    size = 1
    while True:  # every layer accepts a large enough input
        try:
            return ConvSpec((1, size) if dims == 1 else (size, size), **kwargs)
        except ConvSpecError as error:
            if error.param != "output_size":
                raise _in_layer(number, kwargs, dims, error) from None
        size *= 2


def _one_d(number: int, raw: Mapping[str, Any]) -> dict[str, Any]:
    """A 1-D layer's keywords as those of a convolution of a 1 x N input."""
    kwargs = dict(raw)
    for key, minimum in (("kernel_size", 1), ("stride", 1), ("dilation", 1), ("output_padding", 0)):
        value = kwargs.get(key, _DEFAULTS[key])
        if not _is_int(value) or value < minimum:
            raise LayerSpecError(
                number, key, f"got {value!r}; a 1-D layer takes an integer >= {minimum}"
            )
        kwargs[key] = (0 if key == "output_padding" else 1, int(value))
    padding = kwargs.get("padding", _DEFAULTS["padding"])
    transposed = kwargs.get("transposed") is True
    valid = "an integer >= 0" + (
        "" if transposed else f", a (before, after) pair, {', '.join(PADDING_MODES)} or causal"
    )
    if _is_int(padding) and padding >= 0:
        kwargs["padding"] = (0, int(padding)) if transposed else ((0, 0), (padding, padding))
    elif not transposed and padding in (*PADDING_MODES, "causal"):
        pass
    elif (
        not transposed
        and isinstance(padding, (tuple, list))
        and len(padding) == 2
        and all(_is_int(p) and p >= 0 for p in padding)
    ):
        kwargs["padding"] = ((0, 0), (int(padding[0]), int(padding[1])))
    else:
        kind = "transposed " if transposed else ""
        raise LayerSpecError(number, "padding", f"got {padding!r}; a 1-D {kind}layer takes {valid}")
    return kwargs


def _layer(number: int, raw: object, dims: int) -> _Layer:
    if not isinstance(raw, Mapping):
        raise LayerSpecError(
            number, "layers", f"got {raw!r}; expected a mapping of {', '.join(LAYER_KEYS)}"
        )
    for key in raw:
        if key not in LAYER_KEYS:
            close = difflib.get_close_matches(str(key), LAYER_KEYS, n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            raise LayerSpecError(
                number, str(key), f"unknown key{hint}; valid keys are {', '.join(LAYER_KEYS)}"
            )
    kwargs = _one_d(number, raw) if dims == 1 else dict(raw)
    if isinstance(kwargs.get("padding"), str) and kwargs["padding"] == "causal":
        shape = _probe(number, {**kwargs, "padding": 0}, dims)
        if shape.transposed:
            raise LayerSpecError(
                number, "padding", "got 'causal'; it applies to direct convolutions only"
            )
        rows, cols = shape.footprint
        kwargs["padding"] = ((rows - 1, 0), (cols - 1, 0))
    probe = _probe(number, kwargs, dims)
    return _Layer(number, kwargs, (_Axis.of(probe, 0), _Axis.of(probe, 1)), dims)


def _stack(layers: object, dims: object) -> tuple[_Layer, ...]:
    if dims not in (1, 2):
        raise ConvSpecError("dims", f"got {dims!r}; expected 1 or 2")
    if isinstance(layers, (str, bytes, Mapping)) or not isinstance(layers, Iterable):
        raise ConvSpecError(
            "layers", f"got {layers!r}; expected a sequence of layers (mappings of keywords)"
        )
    stack = tuple(_layer(number, raw, int(dims)) for number, raw in enumerate(layers, 1))
    if not stack:
        raise ConvSpecError("layers", "got no layers; expected at least one")
    return stack


MAX_INPUT = 10_000  # cells per side: exact fields cost time in proportion to the input


def _input_size(value: Any, dims: int) -> Pair:
    if dims == 1:
        if not _is_int(value) or value < 1:
            raise ConvSpecError("input_size", f"got {value!r}; a 1-D stack takes an integer >= 1")
        size: Pair = (1, int(value))
    else:
        size = ConvSpec(value, kernel_size=1, dims=2).input_size
    if max(size) > MAX_INPUT:
        raise ConvSpecError(
            "input_size",
            f"got {max(size):,} cells per side, over the limit of {MAX_INPUT:,} for exact fields; "
            "use a smaller input (receptive_field_stats without an input size gives the closed "
            "forms)",
        )
    return size


def _chain(stack: Sequence[_Layer], input_size: Pair) -> list[ConvSpec]:
    """Each layer as a ``ConvSpec`` on the previous one's output."""
    specs: list[ConvSpec] = []
    for layer in stack:
        specs.append(layer.spec(input_size if not specs else specs[-1].output_size))
    return specs


def _output(value: Any, size: Pair, dims: int, layer: int) -> Pair:
    """The output cell as non-negative (row, col); negative indices count from the end."""
    if dims == 1:
        cell = (0, value) if _is_int(value) else None
        expected = f"a unit of the {size[1]}-unit output of layer {layer}"
    else:
        ok = isinstance(value, (tuple, list)) and len(value) == 2 and all(map(_is_int, value))
        cell = (value[0], value[1]) if ok else None
        expected = f"a (row, col) of the {size[0]}x{size[1]} output of layer {layer}"
    if cell is None or not all(-n <= i < n for i, n in zip(cell, size, strict=True)):
        raise ConvSpecError("output", f"got {value!r}; expected {expected}")
    return cell[0] % size[0], cell[1] % size[1]


def _axes(dims: int) -> tuple[int, ...]:
    return (1,) if dims == 1 else (0, 1)


# -- the exact field -----------------------------------------------------------------------


def _tables(stack: Sequence[_Layer], specs: Sequence[ConvSpec], axis: int) -> list[Table]:
    """Per layer, per output unit on one axis, the input units it reads."""
    return [
        layer.axes[axis].sources(spec.input_size[axis])
        for layer, spec in zip(stack, specs, strict=True)
    ]


def _levels(tables: Sequence[Table], unit: int) -> list[set[int]]:
    """Per level from the input, the units on one axis that ``unit`` of the last depends on."""
    levels = [{unit}]
    for table in reversed(tables):
        levels.append({source for read in levels[-1] for source in table[read]})
    return levels[::-1]


@overload
def receptive_field(
    layers: Layers, input_size: int, output: int, *, dims: Literal[1]
) -> frozenset[int]: ...
@overload
def receptive_field(
    layers: Layers, input_size: int | Pair, output: Pair, *, dims: Literal[2] = 2
) -> frozenset[Pair]: ...
def receptive_field(
    layers: Layers, input_size: int | Pair, output: int | Pair, *, dims: int = 2
) -> frozenset[int] | frozenset[Pair]:
    """The input cells one output cell of the last layer depends on, holes included.

    Exact: the cells whose gradient is non-zero for that output with all-ones kernels (empty
    if it reads only padding or inserted zeros). ``output`` indices may be negative, counting
    from the end as in Python. Computed per axis from ``ConvSpec`` frames: the field is the
    product of a set of rows and a set of columns.
    """
    stack = _stack(layers, dims)
    specs = _chain(stack, _input_size(input_size, dims))
    cell = _output(output, specs[-1].output_size, dims, len(stack))
    sets = [_levels(_tables(stack, specs, axis), cell[axis])[0] for axis in _axes(dims)]
    if dims == 1:
        return frozenset(sets[0])
    return frozenset(product(sorted(sets[0]), sorted(sets[1])))


@overload
def layer_sizes(layers: Layers, input_size: int, *, dims: Literal[1]) -> tuple[int, ...]: ...
@overload
def layer_sizes(
    layers: Layers, input_size: int | Pair, *, dims: Literal[2] = 2
) -> tuple[Pair, ...]: ...
def layer_sizes(
    layers: Layers, input_size: int | Pair, *, dims: int = 2
) -> tuple[int, ...] | tuple[Pair, ...]:
    """The output size of each layer, in order (the input size not included)."""
    stack = _stack(layers, dims)
    sizes = [spec.output_size for spec in _chain(stack, _input_size(input_size, dims))]
    if dims == 1:
        return tuple(cols for _, cols in sizes)
    return tuple(sizes)


@overload
def dependency_tree(
    layers: Layers, input_size: int, output: int, *, dims: Literal[1]
) -> DependencyTree[int]: ...
@overload
def dependency_tree(
    layers: Layers, input_size: int | Pair, output: Pair, *, dims: Literal[2] = 2
) -> DependencyTree[Pair]: ...
def dependency_tree(
    layers: Layers, input_size: int | Pair, output: int | Pair, *, dims: int = 2
) -> DependencyTree[int] | DependencyTree[Pair]:
    """Every level's units that one output of the last layer depends on, and the connections.

    For diagrams of small stacks (the WaveNet figure): every connection is listed.
    """
    stack = _stack(layers, dims)
    specs = _chain(stack, _input_size(input_size, dims))
    cell = _output(output, specs[-1].output_size, dims, len(stack))
    tables = {axis: _tables(stack, specs, axis) for axis in _axes(dims)}
    levels = {axis: _levels(tables[axis], cell[axis]) for axis in _axes(dims)}
    sizes = [specs[0].input_size] + [spec.output_size for spec in specs]
    if dims == 1:
        cols = tables[1]
        edges = [
            frozenset((unit, source) for unit, read in enumerate(table) for source in read)
            for table in cols
        ]
        return DependencyTree(
            sizes=tuple(size[1] for size in sizes),
            levels=tuple(frozenset(level) for level in levels[1]),
            edges=tuple(edges),
            highlighted=tuple(
                frozenset(edge for edge in level_edges if edge[0] in upper)
                for level_edges, upper in zip(edges, levels[1][1:], strict=True)
            ),
        )
    edges_2d = [
        frozenset(
            ((row, col), (i, j))
            for row, col in product(range(len(rows)), range(len(cols)))
            for i in rows[row]
            for j in cols[col]
        )
        for rows, cols in zip(tables[0], tables[1], strict=True)
    ]
    cells = [
        frozenset(product(sorted(rows), sorted(cols)))
        for rows, cols in zip(levels[0], levels[1], strict=True)
    ]
    return DependencyTree(
        sizes=tuple(sizes),
        levels=tuple(cells),
        edges=tuple(edges_2d),
        highlighted=tuple(
            frozenset(edge for edge in level_edges if edge[0] in upper)
            for level_edges, upper in zip(edges_2d, cells[1:], strict=True)
        ),
    )


# -- sizes, strides and starts ---------------------------------------------------------------


@dataclass(frozen=True)
class _AxisField:
    sizes: tuple[int, ...]  # per position, over the smallest period
    stride: Fraction
    start: int
    method: Method

    @property
    def size(self) -> int:
        return max(self.sizes)

    @property
    def period(self) -> int:
        return len(self.sizes)


def _smallest_period(sizes: Sequence[int]) -> tuple[int, ...]:
    """One period of a cyclic sequence, as short as it repeats (its length divides len)."""
    for period in range(1, len(sizes)):
        if len(sizes) % period == 0 and all(
            size == sizes[i % period] for i, size in enumerate(sizes)
        ):
            return tuple(sizes[:period])
    return tuple(sizes)


@dataclass(frozen=True)
class _Reach:
    """Along one axis, the first and last input cell each unit of a level reads.

    Periodic: unit ``r + k * period`` reads ``spans[r]`` shifted by ``k * shift`` cells
    (``None``: it reads nothing, only inserted zeros). ``period`` is the product of the
    transposed strides below (so ``shift / period`` is the field's stride), ``derived`` whether
    there is one. First and last cells are all a union or a next layer needs: the extent of a
    union of fields is that of its extremes, holes or not. Shared by stacks and by graphs
    (``convanim.graph_fields``), where a level may read several others.
    """

    period: int
    shift: int
    spans: tuple[tuple[int, int] | None, ...]
    derived: bool

    def span(self, unit: int) -> tuple[int, int] | None:
        turns, position = divmod(unit, self.period)
        found = self.spans[position]
        if found is None:
            return None
        return found[0] + turns * self.shift, found[1] + turns * self.shift


#: The input itself: unit u reads cell u.
_INPUT_REACH = _Reach(period=1, shift=1, spans=((0, 0),), derived=False)


def _merge(spans: Iterable[tuple[int, int] | None]) -> tuple[int, int] | None:
    found = [span for span in spans if span is not None]
    if not found:
        return None
    return min(span[0] for span in found), max(span[1] for span in found)


def _through(reach: _Reach, axis: _Axis, before: int) -> _Reach:
    """The reach of a layer's units, reading the level of ``reach`` with ``before`` padding."""
    if axis.transposed:  # unit u + period * stride reads the units of u shifted by period
        period, shift = reach.period * axis.stride, reach.shift
    else:  # unit u + period reads the units of u shifted by period * stride
        period, shift = reach.period, reach.shift * axis.stride
    spans = tuple(
        _merge(reach.span(read) for read in axis.reads(unit, before)) for unit in range(period)
    )
    return _Reach(period, shift, spans, reach.derived or axis.transposed)


def _union(reaches: Sequence[_Reach]) -> _Reach | None:
    """The reach of units that read the same unit of every level of ``reaches`` (a sum, a
    concatenation); None if their fields move by different strides (no common period)."""
    period = math.lcm(*(reach.period for reach in reaches))
    shifts = {reach.shift * (period // reach.period) for reach in reaches}
    if len(shifts) != 1:
        return None
    spans = tuple(_merge(reach.span(unit) for reach in reaches) for unit in range(period))
    return _Reach(period, shifts.pop(), spans, any(reach.derived for reach in reaches))


def _axis_field(reach: _Reach) -> _AxisField:
    """The sizes, stride and start of the fields of a level's units (see ``LayerField``)."""
    sizes = _smallest_period([0 if span is None else span[1] - span[0] + 1 for span in reach.spans])
    found = [span for span in reach.spans if span is not None]
    start = found[0][0] if found else 0
    method: Method = "derived from cells" if reach.derived else "closed form"
    return _AxisField(sizes, Fraction(reach.shift, reach.period), start, method)


def _axis_fields(axes: Sequence[_Axis], befores: Sequence[int]) -> list[_AxisField]:
    """Per layer, the field on one axis: the Distill closed forms until a transposed layer
    (size += (footprint - 1) * jump, start -= before * jump, jump *= stride, which is what
    ``_through`` computes from the first and last tap), then derived from one period."""
    fields = []
    reach = _INPUT_REACH
    for axis, before in zip(axes, befores, strict=True):
        reach = _through(reach, axis, before)
        fields.append(_axis_field(reach))
    return fields


def _befores(stack: Sequence[_Layer], axis: int, input_size: Pair | None) -> list[int]:
    """Per layer, the padding before its input on one axis."""
    if input_size is not None:
        specs = _chain(stack, input_size)
        return [
            layer.axes[axis].before(spec.input_size[axis])
            for layer, spec in zip(stack, specs, strict=True)
        ]
    for layer in stack:
        if layer.axes[axis].sized_padding:
            raise LayerSpecError(
                layer.number,
                "padding",
                f"got 'same' at stride {layer.axes[axis].stride}, which pads by the size of "
                "the layer's input (TensorFlow's rule); give input_size",
            )
    return [layer.axes[axis].before(None) for layer in stack]


@overload
def receptive_field_stats(
    layers: Layers, input_size: int | None = None, *, dims: Literal[1]
) -> tuple[Field1d, ...]: ...
@overload
def receptive_field_stats(
    layers: Layers, input_size: int | Pair | None = None, *, dims: Literal[2] = 2
) -> tuple[Field2d, ...]: ...
def receptive_field_stats(
    layers: Layers, input_size: int | Pair | None = None, *, dims: int = 2
) -> tuple[Field1d, ...] | tuple[Field2d, ...]:
    """Per layer, the size, stride and start of its units' receptive field on the input.

    See ``LayerField``. ``input_size`` is needed only to resolve 'same' padding at stride > 1;
    when given, the stack must also be valid at that size. The numbers never clip to it.
    """
    stack = _stack(layers, dims)
    size = None if input_size is None else _input_size(input_size, dims)
    per_axis = {
        axis: _axis_fields([layer.axes[axis] for layer in stack], _befores(stack, axis, size))
        for axis in _axes(dims)
    }
    if dims == 1:
        return tuple(
            LayerField(
                layer=layer.number,
                size=field.size,
                stride=field.stride,
                start=field.start,
                kernel=layer.axes[1].kernel,
                dilation=layer.axes[1].dilation,
                params=layer.axes[1].kernel,
                method=field.method,
                sizes=field.sizes,
                period=field.period,
            )
            for layer, field in zip(stack, per_axis[1], strict=True)
        )
    return tuple(
        LayerField(
            layer=layer.number,
            size=(rows.size, cols.size),
            stride=(rows.stride, cols.stride),
            start=(rows.start, cols.start),
            kernel=(layer.axes[0].kernel, layer.axes[1].kernel),
            dilation=(layer.axes[0].dilation, layer.axes[1].dilation),
            params=layer.axes[0].kernel * layer.axes[1].kernel,
            method=rows.method,
            sizes=(rows.sizes, cols.sizes),
            period=(rows.period, cols.period),
        )
        for layer, rows, cols in zip(stack, per_axis[0], per_axis[1], strict=True)
    )


def _accepts(axes: Sequence[_Axis], size: int) -> bool:
    """Whether every layer has an output along one axis for an input of ``size``."""
    for axis in axes:
        try:
            size = axis.spec(size).output_size[1]
        except ConvSpecError:
            return False
    return True


@overload
def default_input_size(layers: Layers, *, dims: Literal[1]) -> int: ...
@overload
def default_input_size(layers: Layers, *, dims: Literal[2] = 2) -> Pair: ...
def default_input_size(layers: Layers, *, dims: int = 2) -> int | Pair:
    """An input just large enough for the last layer's receptive field, per axis.

    The last layer's field ``size`` (at least 1), raised if needed to the smallest input the
    stack accepts. With 'same' padding and stride 1 the layers keep that size and a central
    unit's field covers the input (15 for kernels 3 at dilations 1, 2, 4); with no padding
    the last layer has one unit, whose field is the whole input; with 'causal' padding the
    last unit's field is the whole input. In a stack with a transposed layer, 'same' padding
    at stride > 1 raises ``LayerSpecError``: the fields' sizes then depend on the input size.
    """
    stack = _stack(layers, dims)
    sizes = []
    for index in _axes(dims):
        axes = [layer.axes[index] for layer in stack]
        if any(axis.transposed for axis in axes):
            befores = _befores(stack, index, None)
        else:  # padding moves a direct stack's fields but does not change their size
            befores = [0] * len(axes)
        low = high = max(_axis_fields(axes, befores)[-1].size, 1)
        while not _accepts(axes, high):  # accepting is monotone in the input size
            low, high = high, high * 2
        while high - low > 1:
            middle = (low + high) // 2
            low, high = (low, middle) if _accepts(axes, middle) else (middle, high)
        sizes.append(high)
    if dims == 1:
        return sizes[0]
    return sizes[0], sizes[1]
