"""The geometry engine: convolution parameters in, frames out.

Pure: numpy and the standard library only. Coordinates are (row, col) with the origin at the
top-left. Parameters mean what they mean in PyTorch's ``Conv2d`` and ``ConvTranspose2d``.

A convolution is drawn on a *drawn grid*: the input with its padding for a direct
convolution; for a transposed one, the input with ``stride - 1`` zeros inserted between cells
and ``dilation * (kernel - 1) - padding`` cells of padding on each side (negative: the grid is
cropped), plus ``output_padding`` extra cells at the bottom and right. The kernel then slides
over the drawn grid as a stride-1 (transposed) or stride-``stride`` (direct) convolution.
"""

from __future__ import annotations

import enum
import math
import numbers
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from convanim.errors import ConvSpecError

__all__ = [
    "PADDING_MODES",
    "Cell",
    "ConvSpec",
    "ConvSpecError",
    "DrawnGrid",
    "Frame",
]

Pair = tuple[int, int]
Pads = tuple[Pair, Pair]

PADDING_MODES = ("valid", "same", "full")


class Cell(enum.IntEnum):
    """What a cell of the drawn grid holds."""

    PADDING = 0
    INPUT = 1
    ZERO = 2  # a zero a transposed convolution inserts between input cells


def _is_int(value: object) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _describe(value: object) -> str:
    return repr(value) if not isinstance(value, str) else f"'{value}'"


def _pair(param: str, value: object, minimum: int) -> Pair:
    """An int or a (rows, cols) pair of ints, each at least ``minimum``."""
    valid = f"an integer >= {minimum} or a (rows, cols) pair of them"
    if _is_int(value):
        items: tuple[Any, ...] = (value, value)
    elif isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ConvSpecError(
                param, f"got {len(value)} values {_describe(value)}; expected {valid}"
            )
        items = tuple(value)
    else:
        raise ConvSpecError(param, f"got {_describe(value)}; expected {valid}")
    for item in items:
        if not _is_int(item):
            raise ConvSpecError(param, f"got {_describe(value)}; expected {valid}")
        if item < minimum:
            raise ConvSpecError(param, f"got {_describe(value)}; expected {valid}")
    return int(items[0]), int(items[1])


def _padding(value: object, transposed: bool) -> str | Pads:
    """Normalise ``padding`` to a mode name or ((top, bottom), (left, right))."""
    if isinstance(value, str):
        if transposed:
            raise ConvSpecError(
                "padding",
                f"got {_describe(value)}; a transposed convolution takes an integer >= 0 or a "
                "(rows, cols) pair (PyTorch's ConvTranspose2d has no named padding modes)",
            )
        if value not in PADDING_MODES:
            raise ConvSpecError(
                "padding",
                f"got {_describe(value)}; expected one of {', '.join(PADDING_MODES)}, "
                "an integer >= 0, a (rows, cols) pair or ((top, bottom), (left, right))",
            )
        return value
    valid = "an integer >= 0, a (rows, cols) pair" + (
        "" if transposed else ", ((top, bottom), (left, right)) or valid/same/full"
    )
    if (
        not transposed
        and isinstance(value, (tuple, list))
        and len(value) == 2
        and all(isinstance(v, (tuple, list)) for v in value)
    ):
        top_bottom = _pair("padding", value[0], 0) if len(value[0]) == 2 else None
        left_right = _pair("padding", value[1], 0) if len(value[1]) == 2 else None
        if top_bottom is None or left_right is None:
            raise ConvSpecError("padding", f"got {_describe(value)}; expected {valid}")
        return top_bottom, left_right
    try:
        rows, cols = _pair("padding", value, 0)
    except ConvSpecError:
        raise ConvSpecError("padding", f"got {_describe(value)}; expected {valid}") from None
    return (rows, rows), (cols, cols)


@dataclass(frozen=True)
class _Axis:
    """One axis of the drawn grid: where the input lies on it and where the kernel goes."""

    length: int  # drawn cells
    first: int  # drawn position of input cell 0 (negative when a transposed grid is cropped)
    step: int  # drawn distance between input cells: stride when transposed, else 1
    inputs: int  # input cells
    outputs: int  # output cells
    kernel: int
    dilation: int
    hop: int  # drawn distance the kernel moves per output cell

    def input_index(self, position: int) -> int | None:
        """The input cell at a drawn position, or None for padding or an inserted zero."""
        offset = position - self.first
        if offset < 0 or offset % self.step:
            return None
        index = offset // self.step
        return index if index < self.inputs else None

    def taps(self, output: int) -> range:
        start = output * self.hop
        return range(start, start + self.dilation * (self.kernel - 1) + 1, self.dilation)

    def kinds(self) -> npt.NDArray[np.int8]:
        """Per drawn position: 1 input, 2 between input cells, 0 outside them."""
        positions = np.arange(self.length) - self.first
        inside = (positions >= 0) & (positions <= (self.inputs - 1) * self.step)
        on_input = inside & (positions % self.step == 0)
        return np.where(on_input, 1, np.where(inside, 2, 0)).astype(np.int8)


@dataclass(frozen=True, eq=False)
class DrawnGrid:
    """The grid the kernel slides over: input cells, padding and inserted zeros.

    ``cells[row, col]`` is a ``Cell`` code; ``input_rows[row]`` and ``input_cols[col]`` give
    the input row / column at a drawn position, or -1 where there is none.
    """

    cells: npt.NDArray[np.uint8]
    input_rows: npt.NDArray[np.intp]
    input_cols: npt.NDArray[np.intp]

    @property
    def shape(self) -> Pair:
        rows, cols = self.cells.shape
        return int(rows), int(cols)

    def input_at(self, row: int, col: int) -> Pair | None:
        """The input cell drawn at (row, col), or None for padding or an inserted zero."""
        i, j = int(self.input_rows[row]), int(self.input_cols[col])
        return (i, j) if i >= 0 and j >= 0 else None


@dataclass(frozen=True)
class Frame:
    """One step of the animation: one output cell and what it reads."""

    index: int
    output: Pair
    sources: frozenset[Pair]  # input cells read; never padding or inserted zeros
    taps: tuple[Pair, ...]  # drawn (row, col) of every kernel tap, kernel row-major
    window: tuple[Pair, Pair]  # drawn footprint: (top, left) inclusive, (bottom, right) exclusive
    grid: DrawnGrid = field(repr=False, compare=False)


@dataclass(frozen=True, init=False)
class ConvSpec:
    """A validated convolution, direct or transposed, as PyTorch's ``Conv2d`` defines it.

    Sizes are ints (both axes) or (rows, cols) pairs and are stored as pairs. ``padding`` is
    stored as a mode name (``valid``, ``same``, ``full``) or ((top, bottom), (left, right));
    ``pads`` resolves it to numbers.
    """

    input_size: Pair
    kernel_size: Pair
    stride: Pair
    padding: str | Pads
    dilation: Pair
    transposed: bool
    output_padding: Pair

    def __init__(
        self,
        input_size: int | tuple[int, int],
        kernel_size: int | tuple[int, int] = 3,
        stride: int | tuple[int, int] = 1,
        padding: int | str | tuple[int, int] | Pads = 0,
        dilation: int | tuple[int, int] = 1,
        transposed: bool = False,
        output_padding: int | tuple[int, int] = 0,
    ) -> None:
        if not isinstance(transposed, bool):
            raise ConvSpecError(
                "transposed", f"got {_describe(transposed)}; expected True or False"
            )
        values = {
            "input_size": _pair("input_size", input_size, 1),
            "kernel_size": _pair("kernel_size", kernel_size, 1),
            "stride": _pair("stride", stride, 1),
            "padding": _padding(padding, transposed),
            "dilation": _pair("dilation", dilation, 1),
            "transposed": transposed,
            "output_padding": _pair("output_padding", output_padding, 0),
        }
        for name, value in values.items():
            object.__setattr__(self, name, value)
        self._check()

    def _check(self) -> None:
        if not self.transposed:
            if self.output_padding != (0, 0):
                raise ConvSpecError(
                    "output_padding",
                    f"got {self.output_padding}; it applies only to transposed convolutions, "
                    "expected 0",
                )
        else:
            for axis in range(2):
                limit = max(self.stride[axis], self.dilation[axis])
                if self.output_padding[axis] >= limit:
                    raise ConvSpecError(
                        "output_padding",
                        f"got {self.output_padding}; it must be smaller than stride or dilation "
                        f"(at most {limit - 1} on the {('rows', 'cols')[axis]} axis)",
                    )
        for axis in range(2):
            if self._axis(axis).outputs < 1:
                raise ConvSpecError(
                    "output_size",
                    f"would be {self._raw_output(axis)} on the {('rows', 'cols')[axis]} axis "
                    f"(kernel footprint {self.footprint[axis]} on "
                    f"{'a padded input' if not self.transposed else 'an input'} of "
                    f"{self._padded_input(axis)}); expected at least 1: use a smaller kernel "
                    f"or dilation, or {'more' if not self.transposed else 'less'} padding",
                )

    # -- derived numbers ------------------------------------------------------------------

    @property
    def footprint(self) -> Pair:
        """Drawn cells the kernel spans per axis: dilation * (kernel - 1) + 1."""
        return (
            self.dilation[0] * (self.kernel_size[0] - 1) + 1,
            self.dilation[1] * (self.kernel_size[1] - 1) + 1,
        )

    @property
    def pads(self) -> Pads:
        """Padding in cells, ((top, bottom), (left, right)); for a transposed spec, PyTorch's."""
        if isinstance(self.padding, tuple):
            return self.padding
        resolved = []
        for axis in range(2):
            span = self.footprint[axis] - 1
            if self.padding == "valid":
                lo, hi = 0, 0
            elif self.padding == "full":
                lo, hi = span, span
            else:  # same: PyTorch's rule at stride 1, TensorFlow's at larger strides
                size, stride = self.input_size[axis], self.stride[axis]
                total = max((math.ceil(size / stride) - 1) * stride + span + 1 - size, 0)
                lo, hi = total // 2, total - total // 2
            resolved.append((lo, hi))
        return resolved[0], resolved[1]

    def _padded_input(self, axis: int) -> int:
        lo, hi = self.pads[axis]
        if self.transposed:
            return self.input_size[axis]
        return self.input_size[axis] + lo + hi

    def _raw_output(self, axis: int) -> int:
        size, kernel = self.input_size[axis], self.kernel_size[axis]
        stride, dilation = self.stride[axis], self.dilation[axis]
        lo, hi = self.pads[axis]
        if self.transposed:
            return (
                (size - 1) * stride
                - lo
                - hi
                + dilation * (kernel - 1)
                + self.output_padding[axis]
                + 1
            )
        return (size + lo + hi - dilation * (kernel - 1) - 1) // stride + 1

    def _axis(self, axis: int) -> _Axis:
        size, stride = self.input_size[axis], self.stride[axis]
        span = self.footprint[axis] - 1
        lo, hi = self.pads[axis]
        if self.transposed:
            first = span - lo
            length = (size - 1) * stride + 1 + first + (span - hi) + self.output_padding[axis]
            step, hop = stride, 1
        else:
            first, length, step, hop = lo, size + lo + hi, 1, stride
        return _Axis(
            length=length,
            first=first,
            step=step,
            inputs=size,
            outputs=self._raw_output(axis),
            kernel=self.kernel_size[axis],
            dilation=self.dilation[axis],
            hop=hop,
        )

    @property
    def output_size(self) -> Pair:
        """(rows, cols) of the output."""
        return self._raw_output(0), self._raw_output(1)

    @property
    def frame_count(self) -> int:
        """One frame per output cell."""
        rows, cols = self.output_size
        return rows * cols

    @property
    def drawn_size(self) -> Pair:
        """(rows, cols) of the drawn grid, without building it."""
        return self._axis(0).length, self._axis(1).length

    # -- the grid and the frames ----------------------------------------------------------

    def grid(self) -> DrawnGrid:
        """The drawn grid, shared by every frame."""
        rows, cols = self._axis(0), self._axis(1)
        row_kind, col_kind = rows.kinds(), cols.kinds()
        both_input = (row_kind[:, None] == 1) & (col_kind[None, :] == 1)
        both_inside = (row_kind[:, None] > 0) & (col_kind[None, :] > 0)
        cells = np.full((rows.length, cols.length), Cell.PADDING, dtype=np.uint8)
        cells[both_inside] = Cell.ZERO
        cells[both_input] = Cell.INPUT

        def indices(axis: _Axis) -> npt.NDArray[np.intp]:
            found = [axis.input_index(p) for p in range(axis.length)]
            return np.array([-1 if i is None else i for i in found], dtype=np.intp)

        return DrawnGrid(cells=cells, input_rows=indices(rows), input_cols=indices(cols))

    def frames(self) -> Iterator[Frame]:
        """One frame per output cell, row-major from the top-left."""
        grid = self.grid()
        rows, cols = self._axis(0), self._axis(1)
        for index in range(self.frame_count):
            out_row, out_col = divmod(index, cols.outputs)
            tap_rows, tap_cols = rows.taps(out_row), cols.taps(out_col)
            src_rows = [i for i in map(rows.input_index, tap_rows) if i is not None]
            src_cols = [j for j in map(cols.input_index, tap_cols) if j is not None]
            yield Frame(
                index=index,
                output=(out_row, out_col),
                sources=frozenset((i, j) for i in src_rows for j in src_cols),
                taps=tuple((r, c) for r in tap_rows for c in tap_cols),
                window=((tap_rows[0], tap_cols[0]), (tap_rows[-1] + 1, tap_cols[-1] + 1)),
                grid=grid,
            )

    def formula(self) -> tuple[str, str]:
        """The output-size formula per axis (rows, cols), with this spec's numbers filled in."""
        lines = []
        for axis in range(2):
            size, kernel = self.input_size[axis], self.kernel_size[axis]
            stride, dilation = self.stride[axis], self.dilation[axis]
            lo, hi = self.pads[axis]
            out = self._raw_output(axis)
            if self.transposed:
                lines.append(
                    f"({size} - 1) * {stride} - 2 * {lo} + {dilation} * ({kernel} - 1) "
                    f"+ {self.output_padding[axis]} + 1 = {out}"
                )
            else:
                lines.append(
                    f"floor(({size} + {lo} + {hi} - {dilation} * ({kernel} - 1) - 1) / {stride})"
                    f" + 1 = {out}"
                )
        return lines[0], lines[1]
