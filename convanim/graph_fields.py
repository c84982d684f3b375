"""Receptive fields of a model's graph: per layer, in graph order, on the model's input.

Pure: the standard library only. A model is a sequence of ``Node`` s in graph order (the
readers in ``convanim.model_fields`` build them from a PyTorch module or an ONNX file); the
field arithmetic is ``convanim.receptive``'s, the one that stacks use, applied per spatial
axis, with branches that read the same units of several levels (a residual sum, a
concatenation of channels) taking the union of their fields.

Sizes and per-axis numbers are tuples with one entry per spatial axis: (rows, cols) in 2-D,
(length,) in 1-D. Coordinates are input cells from 0 (top-left); negative ones lie in padding.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Literal

from convanim.errors import ParameterError
from convanim.receptive import (
    _INPUT_REACH,
    MAX_INPUT,
    LayerField,
    _Axis,
    _axis_field,
    _AxisField,
    _Reach,
    _through,
    _union,
)

__all__ = [
    "INPUT",
    "KINDS",
    "PADDING_MODES",
    "ModelError",
    "ModelField",
    "ModelFields",
    "Node",
    "drawn_rows",
    "graph_fields",
]

#: The name a node's ``inputs`` give the model's input.
INPUT = "input"

Kind = Literal["window", "pointwise", "merge", "head", "unsupported"]
#: window: a convolution, a pooling or a constant pad (kernel_size, stride, padding...);
#: pointwise: keeps every unit's field (ReLU, BatchNorm, Dropout, Identity...);
#: merge: reads the same unit of each input (Add, Mul, channel Concat): the union;
#: head: every unit sees the whole input (global pooling, Flatten, Linear): the analysis ends;
#: unsupported: anything else (a resize, attention): an error naming the op and the layer.
KINDS: tuple[Kind, ...] = ("window", "pointwise", "merge", "head", "unsupported")

#: Padding modes a window may give instead of (before, after) per axis: PyTorch's 'same'
#: (stride 1: the extra cell of an even total after), ONNX's SAME_UPPER / SAME_LOWER (the
#: extra cell after / before, for any stride), 'valid' (none).
PADDING_MODES = ("same", "same_upper", "same_lower", "valid")

Pad = tuple[int, int]


class ModelError(ParameterError):
    """A model the analysis cannot read: names the layer (``layer``) and, if any, its op."""

    def __init__(self, layer: str, message: str, op: str = "") -> None:
        where = f"layer '{layer}'" + (f" ({op})" if op else "")
        super().__init__("model", f"{where}: {message}")
        self.layer = layer
        self.op = op


@dataclass(frozen=True)
class Node:
    """One operation of a model's graph, with the window parameters of its spatial axes.

    ``op`` is the model's own word (``Conv2d``, ``add``, ``MaxPool``); ``inputs`` names the
    nodes whose outputs it reads (``INPUT``: the model's input), leaving out constants and
    weights. Window parameters hold one entry per spatial axis; ``padding`` is (before, after)
    per axis or one of ``PADDING_MODES``. A transposed window's padding is PyTorch's (and
    ONNX's ``pads``): cells cropped from each end of the full output.
    """

    name: str
    op: str
    kind: Kind
    inputs: tuple[str, ...]
    kernel_size: tuple[int, ...] = ()
    stride: tuple[int, ...] = ()
    padding: tuple[Pad, ...] | str = ()
    dilation: tuple[int, ...] = ()
    transposed: bool = False
    output_padding: tuple[int, ...] = ()
    ceil_mode: bool = False
    weighted: bool = False  # a convolution's kernel (``params`` counts it), not a pooling's
    note: str = ""  # why an unsupported op is not supported, or what a head does

    def window(self, dims: int) -> Node:
        """This node with every window parameter given per axis, checked."""
        defaults = {"kernel_size": 1, "stride": 1, "dilation": 1, "output_padding": 0}
        values: dict[str, Any] = {}
        for key, default in defaults.items():
            value = getattr(self, key) or (default,) * dims
            if len(value) != dims or not all(
                isinstance(v, int) and v >= (0 if key == "output_padding" else 1) for v in value
            ):
                raise ModelError(self.name, f"{key} {value!r} is not one valid value per axis")
            values[key] = tuple(value)
        padding = self.padding or ((0, 0),) * dims
        if isinstance(padding, str):
            if padding not in PADDING_MODES:
                raise ModelError(self.name, f"padding '{padding}' is not one of {PADDING_MODES}")
            if self.transposed and padding != "valid":
                raise ModelError(self.name, f"padding '{padding}' of a transposed layer", self.op)
        elif len(padding) != dims or not all(
            len(pad) == 2 and all(isinstance(p, int) and p >= 0 for p in pad) for pad in padding
        ):
            raise ModelError(self.name, f"padding {padding!r} is not (before, after) per axis")
        return Node(
            self.name, self.op, self.kind, self.inputs, padding=padding,
            transposed=self.transposed, ceil_mode=self.ceil_mode, weighted=self.weighted,
            note=self.note, **values,
        )  # fmt: skip


@dataclass(frozen=True)
class ModelField:
    """One layer's row: what its units see of the model's input.

    ``field`` is ``convanim.receptive.LayerField`` (its ``layer`` is this row's number, from
    1; ``size``, ``sizes``/``period`` where units differ, ``stride`` the effective stride,
    ``start`` the first cell of unit 0's field), per axis as pairs in 2-D and ints in 1-D.
    ``centre`` is the centre of unit 0's field (a half cell for even sizes), ``clipped``
    whether the field of the layer's centre unit, unit ``(n - 1) // 2``, runs past the
    input on some axis. ``branch`` names the levels a merge takes the union of (empty for
    other layers). ``padding`` is (before, after) per axis as the layer applied it.
    ``repeat`` is, per axis, the number of units after which fields repeat shifted by
    ``repeat * stride`` cells (the product of the transposed strides below: 1 where every
    unit's field starts ``stride`` cells after the previous one's). ``centre_field`` is, per
    axis, the first and last cell of the centre unit's field, unclipped (None on an axis
    where it reads only padding).
    """

    name: str
    op: str
    output_size: tuple[int, ...]
    field: Any  # LayerField, 1-D or 2-D
    centre: tuple[Fraction, ...]
    clipped: bool
    branch: tuple[str, ...]
    kernel_size: tuple[int, ...] | None
    stride: tuple[int, ...] | None
    padding: tuple[Pad, ...] | None
    dilation: tuple[int, ...] | None
    transposed: bool
    output_padding: tuple[int, ...] | None
    repeat: tuple[int, ...] = ()
    centre_field: tuple[tuple[int, int] | None, ...] = ()

    @property
    def layer(self) -> int:
        return int(self.field.layer)


@dataclass(frozen=True)
class ModelFields:
    """Every analysed layer's row, and where and why the analysis ended before the graph did."""

    input_size: tuple[int, ...]  # spatial
    rows: tuple[ModelField, ...]
    ended: str = ""  # "" if every node was analysed
    nodes: tuple[Node, ...] = field(default=(), repr=False)

    @property
    def dims(self) -> int:
        return len(self.input_size)

    def __iter__(self) -> Iterator[ModelField]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, index: int) -> ModelField:
        return self.rows[index]


# -- one node along one axis ---------------------------------------------------------------


def _pads(node: Node, axis: int, size: int) -> Pad:
    """(before, after) padding of a window on one axis for an input of ``size`` cells."""
    padding = node.padding
    if not isinstance(padding, str):
        return padding[axis]
    stride, footprint = node.stride[axis], node.dilation[axis] * (node.kernel_size[axis] - 1) + 1
    if padding == "valid":
        return 0, 0
    if padding == "same":
        if stride != 1:
            raise ModelError(node.name, "padding 'same' needs stride 1 (PyTorch's rule)", node.op)
        total = footprint - 1
        return total // 2, total - total // 2
    out = -(-size // stride)
    total = max((out - 1) * stride + footprint - size, 0)
    small = total // 2
    return (small, total - small) if padding == "same_upper" else (total - small, small)


def _output(node: Node, axis: int, size: int, pad: Pad) -> int:
    """A window's output size on one axis (PyTorch's formulas; ceil_mode as its pools)."""
    kernel, stride, dilation = node.kernel_size[axis], node.stride[axis], node.dilation[axis]
    footprint = dilation * (kernel - 1) + 1
    if node.transposed:
        return (size - 1) * stride - pad[0] - pad[1] + footprint + node.output_padding[axis]
    span = size + pad[0] + pad[1] - footprint
    if span < 0:
        return 0
    if not node.ceil_mode:
        return span // stride + 1
    out = -(-span // stride) + 1
    if (out - 1) * stride >= size + pad[0]:  # the last window would start in the padding
        out -= 1
    return out


def _axis(node: Node, axis: int, pad: Pad) -> _Axis:
    return _Axis(
        kernel=node.kernel_size[axis],
        stride=node.stride[axis],
        dilation=node.dilation[axis],
        padding=pad,
        transposed=node.transposed,
        output_padding=node.output_padding[axis],
    )


# -- the graph -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Level:
    """A node's output: its size and, per axis, the reach of its units on the input."""

    size: tuple[int, ...]
    reaches: tuple[_Reach, ...]


def _check_input(input_size: Sequence[int]) -> tuple[int, ...]:
    if not (
        isinstance(input_size, (tuple, list))
        and len(input_size) in (1, 2)
        and all(isinstance(n, int) and not isinstance(n, bool) and n >= 1 for n in input_size)
    ):
        raise ParameterError(
            "input_shape", f"got {input_size!r}; expected 1 or 2 spatial sizes, each >= 1"
        )
    if max(input_size) > MAX_INPUT:
        raise ParameterError(
            "input_shape", f"got {max(input_size):,} cells per side, over the limit of "
            f"{MAX_INPUT:,}",
        )  # fmt: skip
    return tuple(input_size)


def graph_fields(nodes: Sequence[Node], input_size: Sequence[int]) -> ModelFields:
    """Per node in graph order, the receptive field of its units on the model's input.

    ``input_size`` is the input's spatial size. A node of kind ``head`` (or one reading its
    output) ends the analysis there, with ``ended`` saying so: its units see the whole input.
    An ``unsupported`` node, a node reading an unknown name, a window its input is too small
    for, or a merge of levels of different sizes raises ``ModelError`` naming the layer.
    """
    size = _check_input(input_size)
    dims = len(size)
    levels: dict[str, _Level] = {INPUT: _Level(size, (_INPUT_REACH,) * dims)}
    rows: list[ModelField] = []
    for node in nodes:
        if node.kind not in KINDS:
            raise ModelError(node.name, f"kind {node.kind!r} is not one of {KINDS}", node.op)
        if node.kind == "unsupported":
            why = f" ({node.note})" if node.note else ""
            raise ModelError(
                node.name,
                f"op {node.op} is not supported{why}; the analysis ends here. Supported: "
                "convolutions (transposed too), max and average pooling, constant pads, "
                "element-wise ops, sums and channel concatenations of branches",
                node.op,
            )
        if node.kind == "head":
            what = node.note or "its units see the whole input"
            ended = f"the analysis ends at layer '{node.name}' ({node.op}): {what}"
            return ModelFields(size, tuple(rows), ended, tuple(nodes))
        for name in node.inputs:
            if name not in levels:
                raise ModelError(node.name, f"reads '{name}', which no earlier layer outputs")
        if not node.inputs:
            raise ModelError(node.name, "reads no layer's output", node.op)
        level, row = _level(node, [levels[name] for name in node.inputs], size, len(rows) + 1)
        levels[node.name] = level
        rows.append(row)
    return ModelFields(size, tuple(rows), "", tuple(nodes))


def _level(
    node: Node, inputs: Sequence[_Level], model_input: tuple[int, ...], number: int
) -> tuple[_Level, ModelField]:
    """A node's level from those it reads, and its row."""
    dims = len(model_input)
    window = node.kind == "window"
    branch: tuple[str, ...] = ()
    pads: list[Pad] = []
    if window:
        if len(inputs) != 1:
            raise ModelError(node.name, f"reads {len(inputs)} levels; a window reads 1", node.op)
        node = node.window(dims)
        source = inputs[0]
        out, reaches = [], []
        for axis in range(dims):
            pad = _pads(node, axis, source.size[axis])
            pads.append(pad)
            n = _output(node, axis, source.size[axis], pad)
            if n < 1:
                raise ModelError(
                    node.name,
                    f"its input is too small: {source.size[axis]} cells on axis {axis} "
                    f"with padding {pad} for a window of "
                    f"{node.dilation[axis] * (node.kernel_size[axis] - 1) + 1}; use a "
                    "larger --input-shape",
                    node.op,
                )
            out.append(n)
            reaches.append(_through(source.reaches[axis], _axis(node, axis, pad), pad[0]))
        level = _Level(tuple(out), tuple(reaches))
    elif len(inputs) == 1:
        level = inputs[0]
    else:
        sizes = {level.size for level in inputs}
        if len(sizes) != 1:
            shown = " and ".join("x".join(map(str, s)) for s in sorted(sizes))
            raise ModelError(node.name, f"merges levels of different sizes, {shown}", node.op)
        merged = []
        for axis in range(dims):
            union = _union([level.reaches[axis] for level in inputs])
            if union is None:
                raise ModelError(
                    node.name, f"merges branches whose fields move by different strides on "
                    f"axis {axis}", node.op,
                )  # fmt: skip
            merged.append(union)
        level = _Level(inputs[0].size, tuple(merged))
        branch = node.inputs
    fields = [_axis_field(reach) for reach in level.reaches]
    centre_unit = [(n - 1) // 2 for n in level.size]
    spans = tuple(reach.span(unit) for reach, unit in zip(level.reaches, centre_unit, strict=True))
    clipped = any(
        span is not None and (span[0] < 0 or span[1] >= model_input[axis])
        for axis, span in enumerate(spans)
    )
    row = ModelField(
        name=node.name,
        op=node.op,
        output_size=level.size,
        field=_layer_field(number, fields, node if window else None),
        centre=tuple(_centre(reach) for reach in level.reaches),
        clipped=clipped,
        branch=branch,
        kernel_size=node.kernel_size if window else None,
        stride=node.stride if window else None,
        padding=tuple(pads) if window else None,
        dilation=node.dilation if window else None,
        transposed=node.transposed,
        output_padding=node.output_padding if window and node.transposed else None,
        repeat=tuple(reach.period for reach in level.reaches),
        centre_field=spans,
    )
    return level, row


def _centre(reach: _Reach) -> Fraction:
    span = reach.span(0)
    if span is None:
        found = [s for s in reach.spans if s is not None]
        if not found:
            return Fraction(0)
        span = found[0]
    return Fraction(span[0] + span[1], 2)


def _layer_field(number: int, fields: Sequence[_AxisField], node: Node | None) -> Any:
    kernel = node.kernel_size if node is not None else (1,) * len(fields)
    dilation = node.dilation if node is not None else (1,) * len(fields)
    params = math.prod(kernel) if node is not None and node.weighted else 0
    if len(fields) == 1:
        (one,) = fields
        return LayerField(
            layer=number, size=one.size, stride=one.stride, start=one.start, kernel=kernel[0],
            dilation=dilation[0], params=params, method=one.method, sizes=one.sizes,
            period=one.period,
        )  # fmt: skip
    rows, cols = fields
    return LayerField(
        layer=number,
        size=(rows.size, cols.size),
        stride=(rows.stride, cols.stride),
        start=(rows.start, cols.start),
        kernel=(kernel[0], kernel[1]),
        dilation=(dilation[0], dilation[1]),
        params=params,
        method="derived from cells" if "derived from cells" in (rows.method, cols.method)
        else "closed form",
        sizes=(rows.sizes, cols.sizes),
        period=(rows.period, cols.period),
    )  # fmt: skip


def drawn_rows(fields: ModelFields) -> list[ModelField]:
    """The rows a figure of the model draws, one per frame: where the field can change, its
    convolutions and poolings (windows other than a pad) and its merges of branches."""

    def pad(row: ModelField) -> bool:
        kernel, stride = row.kernel_size or (), row.stride or ()
        return not row.field.params and all(k == 1 for k in kernel) and all(s == 1 for s in stride)

    return [row for row in fields if row.branch or (row.kernel_size is not None and not pad(row))]
