"""The geometry engine: convolution parameters in, frames out.

Pure: numpy and the standard library only. Coordinates are (row, col) with the origin at the
top-left. Parameters mean what they mean in PyTorch's ``Conv2d`` and ``ConvTranspose2d``, or,
with ``dims=1``, ``Conv1d`` and ``ConvTranspose1d``.

A convolution is drawn on a *drawn grid*: the input with its padding for a direct
convolution; for a transposed one, the input with ``stride - 1`` zeros inserted between cells
and ``dilation * (kernel - 1) - padding`` cells of padding on each side (negative: the grid is
cropped), plus ``output_padding`` extra cells at the bottom and right. The kernel then slides
over the drawn grid as a stride-1 (transposed) or stride-``stride`` (direct) convolution.

One dimension. ``ConvSpec(7, 3, dims=1)`` is PyTorch's ``Conv1d`` seen as PyTorch sees it:
every size is a 1-tuple (``kernel_size == (3,)``, like ``nn.Conv1d(1, 1, 3).kernel_size``),
``pads`` is ``((before, after),)``, and a frame's ``output`` is ``(j,)``, its ``sources`` and
``taps`` 1-tuples. Underneath, a 1-D spec is the 2-D problem of a 1 x W input with a trivial
rows axis (size 1, kernel 1, stride 1, padding 0, dilation 1), which ``as_2d()`` returns: the
same arithmetic computes both, so 2-D results cannot drift, and whatever draws or evaluates a
2-D spec draws and evaluates that one. A 1-D spec's ``grid()`` (and its frames' ``grid``) is
that plane's drawn grid: one row. Errors about a 1-D spec name no axis.

Three dimensions. ``ConvSpec((4, 5, 5), 3)`` (a 3-tuple size), or ints with ``dims=3``, is
PyTorch's ``Conv3d`` (or ``ConvTranspose3d``): sizes are (depth, rows, cols) triples, ``pads``
is ((front, back), (top, bottom), (left, right)), and a frame's ``output``, ``sources`` and
``taps`` are (depth, row, col) triples, frames depth-major. A convolution's axes are
independent, so a 3-D spec is two problems of the same arithmetic: the (rows, cols) plane,
``plane()``, which every depth slice shares, and the depth axis, ``depth()``, a 1-D spec (a
stride-1 transposed depth axis inserts zero slices, padding adds slices of padding). An output
cell (d, r, c) reads the plane's window of output (r, c) on each drawn slice of the depth
axis's taps of output d. ``volume()`` is the drawn volume; ``grid()`` is one slice's layout (the
plane's). A 3-D spec has no ``as_2d()``: its drawing shows its slices (volume_render).

Types: ``ConvSpec`` is generic in its size type (a ``(rows, cols)`` pair, or a 1-tuple for 1-D)
and its padding type; both default to 2-D, so a bare ``ConvSpec`` annotation means a 2-D spec.
"""

from __future__ import annotations

import enum
import math
import numbers
import typing
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Generic, Literal, cast, overload

import numpy as np
import numpy.typing as npt

from convanim.errors import ConvSpecError

__all__ = [
    "FRAME_ORDERS",
    "PADDING_MODES",
    "PAD_MODES",
    "Cell",
    "ConvSpec",
    "ConvSpecError",
    "DrawnGrid",
    "DrawnVolume",
    "Frame",
    "pad_source",
]

Pair = tuple[int, int]
Pads = tuple[Pair, Pair]
Single = tuple[int]
Pads1d = tuple[Pair]
Triple = tuple[int, int, int]
Pads3d = tuple[Pair, Pair, Pair]

if TYPE_CHECKING:
    from typing_extensions import TypeVar

    Size = TypeVar("Size", bound=tuple[int, ...], default=Pair)
    PadsT = TypeVar("PadsT", bound=tuple[Pair, ...], default=Pads)
else:  # defaults matter only to type checkers (typing.TypeVar takes them from Python 3.13)
    Size = typing.TypeVar("Size", bound=tuple[int, ...])
    PadsT = typing.TypeVar("PadsT", bound=tuple[Pair, ...])

PADDING_MODES = ("valid", "same", "full")
PAD_MODES = ("zeros", "reflect", "replicate", "circular")
"""PyTorch's ``padding_mode``: what a convolution's padding cells hold."""
_AXES = ("rows", "cols")
_AXES_3D = ("depth", "rows", "cols")


class Cell(enum.IntEnum):
    """What a cell of the drawn grid holds."""

    PADDING = 0
    INPUT = 1
    ZERO = 2  # a zero a transposed convolution inserts between input cells
    OUTSIDE = 3  # past the padding: only ceil_mode's last pooling window reaches it


def _is_int(value: object) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


MAX_SIZE = 10**9  # any size or step: far beyond what can be drawn, small enough to print


def _describe(value: object) -> str:
    """The value as the user gave it, short: a huge number or a long text is summarised."""
    try:
        text = repr(value) if not isinstance(value, str) else f"'{value}'"
    except ValueError:  # an int beyond Python's int-to-text limit
        return "a value too long to show"
    return text if len(text) <= 60 else text[:57] + "..."


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
        if item > MAX_SIZE:
            raise ConvSpecError(
                param, f"got {_describe(value)}; expected at most {MAX_SIZE:,} (and {valid})"
            )
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
        ", or ((top, bottom), (left, right)) crops"
        if transposed
        else ", ((top, bottom), (left, right)) or valid/same/full"
    )
    if (
        isinstance(value, (tuple, list))
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


def _triple(param: str, value: object, minimum: int) -> Triple:
    """An int or a (depth, rows, cols) triple of ints, each at least ``minimum``."""
    valid = f"an integer >= {minimum} or a (depth, rows, cols) triple of them"
    if _is_int(value):
        items: tuple[Any, ...] = (value, value, value)
    elif isinstance(value, (tuple, list)) and len(value) == 3:
        items = tuple(value)
    elif isinstance(value, (tuple, list)):
        raise ConvSpecError(
            param,
            f"got {len(value)} values {_describe(value)}; a 3-D convolution takes three: "
            f"expected {valid}",
        )
    else:
        raise ConvSpecError(param, f"got {_describe(value)}; expected {valid}")
    for item in items:
        if not _is_int(item) or item < minimum:
            raise ConvSpecError(param, f"got {_describe(value)}; expected {valid}")
        if item > MAX_SIZE:
            raise ConvSpecError(
                param, f"got {_describe(value)}; expected at most {MAX_SIZE:,} (and {valid})"
            )
    return int(items[0]), int(items[1]), int(items[2])


def _padding_3d(value: object, transposed: bool) -> str | Pads3d:
    """A 3-D ``padding`` as a mode name or ((front, back), (top, bottom), (left, right))."""
    if isinstance(value, str):
        if transposed:
            raise ConvSpecError(
                "padding",
                f"got {_describe(value)}; a transposed convolution takes an integer >= 0 or a "
                "(depth, rows, cols) triple (PyTorch's ConvTranspose3d has no named padding modes)",
            )
        if value not in PADDING_MODES:
            raise ConvSpecError(
                "padding",
                f"got {_describe(value)}; expected one of {', '.join(PADDING_MODES)}, "
                "an integer >= 0, a (depth, rows, cols) triple or "
                "((front, back), (top, bottom), (left, right))",
            )
        return value
    valid = "an integer >= 0, a (depth, rows, cols) triple" + (
        ", or ((front, back), (top, bottom), (left, right)) crops"
        if transposed
        else ", ((front, back), (top, bottom), (left, right)) or valid/same/full"
    )
    if (
        isinstance(value, (tuple, list))
        and len(value) == 3
        and all(isinstance(v, (tuple, list)) for v in value)
    ):
        sides = []
        for pair in value:
            if len(pair) != 2:
                raise ConvSpecError("padding", f"got {_describe(value)}; expected {valid}")
            sides.append(_pair("padding", pair, 0))
        return sides[0], sides[1], sides[2]
    try:
        depth, rows, cols = _triple("padding", value, 0)
    except ConvSpecError:
        raise ConvSpecError("padding", f"got {_describe(value)}; expected {valid}") from None
    return (depth, depth), (rows, rows), (cols, cols)


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
    padded: int = -1  # drawn cells up to the end of the padding (-1: all of them)
    padding_mode: str = "zeros"

    def input_index(self, position: int) -> int | None:
        """The input cell at a drawn position, or None for padding or an inserted zero."""
        offset = position - self.first
        if offset < 0 or offset % self.step:
            return None
        index = offset // self.step
        return index if index < self.inputs else None

    def source_index(self, position: int) -> int | None:
        """The input cell whose value a drawn position holds: the input cell there, or the one
        a padding cell copies (``reflect``, ``replicate``, ``circular``); None for zero
        padding, an inserted zero, or a cell past the padding."""
        index = self.input_index(position)
        if index is not None or self.padding_mode == "zeros" or self.step != 1:
            return index
        if not 0 <= position < self.end:
            return None
        return pad_source(position - self.first, self.inputs, self.padding_mode)

    @property
    def end(self) -> int:
        """Drawn cells up to the end of the padding; any more are ``Cell.OUTSIDE``."""
        return self.length if self.padded < 0 else self.padded

    def taps(self, output: int) -> range:
        start = output * self.hop
        return range(start, start + self.dilation * (self.kernel - 1) + 1, self.dilation)

    def kinds(self) -> npt.NDArray[np.int8]:
        """Per drawn position: 1 input, 2 between input cells, 0 outside them."""
        positions = np.arange(self.length) - self.first
        inside = (positions >= 0) & (positions <= (self.inputs - 1) * self.step)
        on_input = inside & (positions % self.step == 0)
        kinds = np.where(on_input, 1, np.where(inside, 2, 0)).astype(np.int8)
        kinds[self.end :] = 3
        return kinds

    def sources(self) -> npt.NDArray[np.intp]:
        """``source_index`` of every drawn position, -1 for None."""
        found = [self.source_index(p) for p in range(self.length)]
        return np.array([-1 if i is None else i for i in found], dtype=np.intp)


def pad_source(index: int, size: int, mode: str) -> int | None:
    """The input index a padding cell copies, per axis: ``index`` is its place counted from
    input cell 0 (negative before the input, ``size`` or more after it), as ``F.pad`` counts.

    reflect mirrors about the edge cell (-1 copies 1), replicate repeats the edge cell,
    circular wraps around (-1 copies ``size - 1``); zeros copies nothing (None). The mode's
    limits (reflect: padding < size; circular: padding <= size) make one reflection or one
    wrap enough, as PyTorch requires them.
    """
    if 0 <= index < size:
        return index
    if mode == "zeros":
        return None
    if mode == "replicate":
        return min(max(index, 0), size - 1)
    if mode == "circular":
        return index % size
    reflected = -index if index < 0 else 2 * (size - 1) - index
    return min(max(reflected, 0), size - 1)  # reflect: within range whenever padding < size


@dataclass(frozen=True, eq=False)
class DrawnGrid:
    """The grid the kernel slides over: input cells, padding and inserted zeros.

    ``cells[row, col]`` is a ``Cell`` code; ``input_rows[row]`` and ``input_cols[col]`` give
    the input row / column at a drawn position, or -1 where there is none.
    """

    cells: npt.NDArray[np.uint8]
    input_rows: npt.NDArray[np.intp]
    input_cols: npt.NDArray[np.intp]
    # The input row / column whose value each drawn position holds (padding_mode's copies
    # included), or -1: equal to input_rows / input_cols for zero padding.
    source_rows: npt.NDArray[np.intp] | None = None
    source_cols: npt.NDArray[np.intp] | None = None

    @property
    def shape(self) -> Pair:
        rows, cols = self.cells.shape
        return int(rows), int(cols)

    def input_at(self, row: int, col: int) -> Pair | None:
        """The input cell drawn at (row, col), or None for padding or an inserted zero."""
        i, j = int(self.input_rows[row]), int(self.input_cols[col])
        return (i, j) if i >= 0 and j >= 0 else None

    def source_at(self, row: int, col: int) -> Pair | None:
        """The input cell whose value the drawn cell (row, col) holds: the input cell itself,
        or the one its padding copies (``padding_mode``); None for zeros or past the padding."""
        rows = self.input_rows if self.source_rows is None else self.source_rows
        cols = self.input_cols if self.source_cols is None else self.source_cols
        i, j = int(rows[row]), int(cols[col])
        return (i, j) if i >= 0 and j >= 0 else None

    def padding_sources(self) -> dict[Pair, Pair]:
        """Every padding cell that copies an input cell: drawn (row, col) -> input (row, col)."""
        found = {}
        for row, col in zip(*np.nonzero(self.cells == Cell.PADDING), strict=True):
            source = self.source_at(int(row), int(col))
            if source is not None:
                found[int(row), int(col)] = source
        return found


@dataclass(frozen=True, eq=False)
class DrawnVolume:
    """A 3-D spec's drawn volume: its drawn depth slices, each laid out as ``plane``.

    ``input_depths[d]`` is the input depth slice drawn at slice ``d``, or -1 for a slice of
    padding or of inserted zeros; ``depth_kinds[d]`` says which (1 input, 2 inserted zeros,
    0 padding). ``cells[d, row, col]`` is a ``Cell`` code, by the plane's rule: an input cell on
    an input slice, padding outside the input on either, an inserted zero between.
    """

    input_depths: npt.NDArray[np.intp]
    depth_kinds: npt.NDArray[np.int8]
    plane: DrawnGrid
    # The input slice whose values each drawn slice holds (padding_mode's copies included), or
    # -1; None: input_depths (zero padding). depth_kinds 3: past the padding (ceil_mode's).
    source_depths: npt.NDArray[np.intp] | None = None

    @property
    def shape(self) -> Triple:
        rows, cols = self.plane.shape
        return len(self.input_depths), rows, cols

    @property
    def cells(self) -> npt.NDArray[np.uint8]:
        plane = self.plane.cells
        inside = plane != Cell.PADDING
        cells = np.full(self.shape, Cell.PADDING, dtype=np.uint8)
        for depth, kind in enumerate(self.depth_kinds):
            if kind == 1:
                cells[depth] = plane
            elif kind == 2:
                cells[depth][inside] = Cell.ZERO
            elif kind == 3:
                cells[depth] = Cell.OUTSIDE
        cells[:, plane == Cell.OUTSIDE] = Cell.OUTSIDE
        return cells

    def input_at(self, depth: int, row: int, col: int) -> Triple | None:
        """The input cell drawn at (depth, row, col), or None for padding or an inserted zero."""
        d, cell = int(self.input_depths[depth]), self.plane.input_at(row, col)
        return (d, *cell) if d >= 0 and cell is not None else None


@dataclass(frozen=True)
class Frame(Generic[Size]):
    """One step of the animation: one output cell and what it reads.

    In 2-D every position is (row, col); in 1-D it is a 1-tuple ``(j,)``, as PyTorch indexes a
    1-D signal, and ``grid`` is the one-row drawn grid of the spec's ``as_2d()``. In 3-D every
    position is (depth, row, col), taps are kernel depth-major, and ``grid`` is the layout of
    one drawn slice (the spec's ``plane()`` grid).
    """

    index: int
    output: Size
    sources: frozenset[Size]  # input cells read; never padding or inserted zeros
    taps: tuple[Size, ...]  # drawn position of every kernel tap, kernel row-major
    window: tuple[Size, Size]  # drawn footprint: (top, left) inclusive, (bottom, right) exclusive
    grid: DrawnGrid = field(repr=False, compare=False)
    out_channel: int | None = 0  # the output channel computed; None: every one (spatial order)
    in_channels: tuple[int, ...] = (0,)  # the input channels its filter(s) read

    def as_2d(self) -> Frame[Pair]:
        """This frame as a frame of the spec's ``as_2d()``: itself in 2-D, on row 0 in 1-D."""
        if len(self.output) == 2:
            return cast("Frame[Pair]", self)
        if len(self.output) == 3:
            raise ConvSpecError("dims", "a 3-D frame has no 2-D form: its taps span depth slices")
        (low,), (high,) = self.window
        return Frame(
            index=self.index,
            output=(0, self.output[0]),
            sources=frozenset((0, j) for (j,) in self.sources),
            taps=tuple((0, c) for (c,) in self.taps),
            window=((0, low), (1, high)),
            grid=self.grid,
            out_channel=self.out_channel,
            in_channels=self.in_channels,
        )


FRAME_ORDERS = ("channel", "spatial")


@dataclass(frozen=True)
class _Conv:
    """The arithmetic of a validated 2-D convolution; ``ConvSpec`` validates and presents it."""

    input_size: Pair
    kernel_size: Pair
    stride: Pair
    padding: str | Pads
    dilation: Pair
    transposed: bool
    output_padding: Pair
    ceil_mode: bool = False
    padding_mode: str = "zeros"

    @property
    def footprint(self) -> Pair:
        return (
            self.dilation[0] * (self.kernel_size[0] - 1) + 1,
            self.dilation[1] * (self.kernel_size[1] - 1) + 1,
        )

    @property
    def pads(self) -> Pads:
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

    def padded_input(self, axis: int) -> int:
        lo, hi = self.pads[axis]
        if self.transposed:
            return self.input_size[axis]
        return self.input_size[axis] + lo + hi

    def raw_output(self, axis: int) -> int:
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
        reach = size + lo + hi - dilation * (kernel - 1) - 1
        if not self.ceil_mode:
            return reach // stride + 1
        # PyTorch's pooling_output_shape: round up, then drop a last window that would start
        # past the input, in the right padding.
        outputs = -(-reach // stride) + 1
        if (outputs - 1) * stride >= size + lo:
            outputs -= 1
        return outputs

    def dropped(self, axis: int) -> bool:
        """Whether ceil_mode dropped a last window on this axis (it would start in the padding)."""
        if not self.ceil_mode:
            return False
        size, stride = self.input_size[axis], self.stride[axis]
        lo, hi = self.pads[axis]
        reach = size + lo + hi - self.footprint[axis]
        return (-(-reach // stride)) * stride >= size + lo

    def axis(self, axis: int) -> _Axis:
        size, stride = self.input_size[axis], self.stride[axis]
        span = self.footprint[axis] - 1
        lo, hi = self.pads[axis]
        if self.transposed:
            first = span - lo
            length = (size - 1) * stride + 1 + first + (span - hi) + self.output_padding[axis]
            step, hop = stride, 1
        else:
            first, length, step, hop = lo, size + lo + hi, 1, stride
        outputs = self.raw_output(axis)
        padded = length
        if self.ceil_mode and not self.transposed:  # the last window may hang past the padding
            length = max(length, (outputs - 1) * hop + span + 1)
        return _Axis(
            length=length,
            first=first,
            step=step,
            inputs=size,
            outputs=outputs,
            kernel=self.kernel_size[axis],
            dilation=self.dilation[axis],
            hop=hop,
            padded=padded,
            padding_mode=self.padding_mode,
        )

    @property
    def output_size(self) -> Pair:
        return self.raw_output(0), self.raw_output(1)

    @property
    def drawn_size(self) -> Pair:
        return self.axis(0).length, self.axis(1).length

    def grid(self) -> DrawnGrid:
        rows, cols = self.axis(0), self.axis(1)
        row_kind, col_kind = rows.kinds(), cols.kinds()
        both_input = (row_kind[:, None] == 1) & (col_kind[None, :] == 1)
        both_inside = (row_kind[:, None] > 0) & (col_kind[None, :] > 0)
        cells = np.full((rows.length, cols.length), Cell.PADDING, dtype=np.uint8)
        cells[both_inside] = Cell.ZERO
        cells[both_input] = Cell.INPUT
        cells[(row_kind[:, None] == 3) | (col_kind[None, :] == 3)] = Cell.OUTSIDE

        def indices(axis: _Axis) -> npt.NDArray[np.intp]:
            found = [axis.input_index(p) for p in range(axis.length)]
            return np.array([-1 if i is None else i for i in found], dtype=np.intp)

        input_rows, input_cols = indices(rows), indices(cols)
        if self.padding_mode == "zeros":
            return DrawnGrid(cells=cells, input_rows=input_rows, input_cols=input_cols)
        return DrawnGrid(
            cells=cells,
            input_rows=input_rows,
            input_cols=input_cols,
            source_rows=rows.sources(),
            source_cols=cols.sources(),
        )

    def frames(self) -> Iterator[Frame[Pair]]:
        grid = self.grid()
        rows, cols = self.axis(0), self.axis(1)
        for index in range(rows.outputs * cols.outputs):
            out_row, out_col = divmod(index, cols.outputs)
            tap_rows, tap_cols = rows.taps(out_row), cols.taps(out_col)
            src_rows = [i for i in map(rows.source_index, tap_rows) if i is not None]
            src_cols = [j for j in map(cols.source_index, tap_cols) if j is not None]
            yield Frame(
                index=index,
                output=(out_row, out_col),
                sources=frozenset((i, j) for i in src_rows for j in src_cols),
                taps=tuple((r, c) for r in tap_rows for c in tap_cols),
                window=((tap_rows[0], tap_cols[0]), (tap_rows[-1] + 1, tap_cols[-1] + 1)),
                grid=grid,
            )

    def formula(self) -> tuple[str, str]:
        lines = []
        for axis in range(2):
            size, kernel = self.input_size[axis], self.kernel_size[axis]
            stride, dilation = self.stride[axis], self.dilation[axis]
            lo, hi = self.pads[axis]
            out = self.raw_output(axis)
            if self.transposed:
                crop = f"2 * {lo}" if lo == hi else f"{lo} - {hi}"
                lines.append(
                    f"({size} - 1) * {stride} - {crop} + {dilation} * ({kernel} - 1) "
                    f"+ {self.output_padding[axis]} + 1 = {out}"
                )
            elif self.ceil_mode:
                counted = out + 1 if self.dropped(axis) else out
                start = (counted - 1) * stride
                line = (
                    f"ceil(({size} + {lo} + {hi} - {dilation} * ({kernel} - 1) - 1) / {stride})"
                    f" + 1 = {counted}"
                )
                if self.dropped(axis):
                    line += (
                        f"; window {counted} would start at ({counted} - 1) * {stride} = {start}"
                        f" >= {size} + {lo}, in the right padding: dropped, {out}"
                    )
                else:
                    line += (
                        f"; the last window starts at ({counted} - 1) * {stride} = {start}"
                        f" < {size} + {lo}: kept"
                    )
                lines.append(line)
            else:
                lines.append(
                    f"floor(({size} + {lo} + {hi} - {dilation} * ({kernel} - 1) - 1) / {stride})"
                    f" + 1 = {out}"
                )
        return lines[0], lines[1]


def _single(param: str, value: object, minimum: int) -> int:
    """A 1-D parameter: an int, or a 1-tuple of one (as ``nn.Conv1d`` stores it)."""
    valid = f"an integer >= {minimum}"
    item = value
    if isinstance(value, (tuple, list)):
        if len(value) != 1:
            raise ConvSpecError(
                param,
                f"got {len(value)} values {_describe(value)}; a 1-D convolution takes one: "
                f"expected {valid}",
            )
        item = value[0]
    if not _is_int(item) or cast(int, item) < minimum:
        raise ConvSpecError(param, f"got {_describe(value)}; expected {valid}")
    return int(cast(int, item))


def _padding_1d(value: object, transposed: bool) -> str | Pads1d:
    """Normalise a 1-D ``padding`` to a mode name or ((before, after),)."""
    if isinstance(value, str):
        if transposed:
            raise ConvSpecError(
                "padding",
                f"got {_describe(value)}; a transposed convolution takes an integer >= 0 "
                "(PyTorch's ConvTranspose1d has no named padding modes)",
            )
        if value not in PADDING_MODES:
            raise ConvSpecError(
                "padding",
                f"got {_describe(value)}; expected one of {', '.join(PADDING_MODES)}, "
                "an integer >= 0 or a (before, after) pair",
            )
        return value
    valid = "an integer >= 0" + (
        " or (before, after) crops" if transposed else ", a (before, after) pair or valid/same/full"
    )
    wrapped = isinstance(value, (tuple, list)) and len(value) == 1
    # (p,) is how nn.Conv1d stores padding, ((before, after),) how this spec does.
    items: Any = value[0] if wrapped else value  # type: ignore[index]
    if _is_int(items):
        sides: Any = (items, items)
    elif isinstance(items, (tuple, list)) and len(items) == 2 and all(map(_is_int, items)):
        sides = items  # a transposed spec's: crops (Keras's and JAX's transposed 'same')
    else:
        sides = None
    if sides is None or min(sides) < 0:
        raise ConvSpecError("padding", f"got {_describe(value)}; expected {valid}")
    return ((int(sides[0]), int(sides[1])),)


@dataclass(frozen=True, init=False)
class ConvSpec(Generic[Size, PadsT]):
    """A validated convolution, direct or transposed, as PyTorch's ``Conv2d`` defines it
    (``dims=2``, the default) or its ``Conv1d`` (``dims=1``).

    2-D sizes are ints (both axes) or (rows, cols) pairs and are stored as pairs. ``padding``
    is stored as a mode name (``valid``, ``same``, ``full``) or ((top, bottom), (left, right));
    ``pads`` resolves it to numbers. 1-D sizes are ints (or 1-tuples) and are stored as
    1-tuples; ``padding`` is an int, a (before, after) pair (not for a transposed spec, whose
    PyTorch padding is one number) or a mode name, and is stored as a mode name or
    ((before, after),). A transposed spec's padding is PyTorch's (the same crop on both sides
    of an axis), or unequal crops as the stored form gives them (((0, 1), (0, 1)): the output
    that Keras's and JAX's transposed 'same' keeps, which no PyTorch layer has). 3-D sizes
    (``dims=3``, implied by a 3-tuple ``input_size`` when ``dims`` is not given) are ints or
    (depth, rows, cols) triples, stored as triples; ``padding`` also takes
    ((front, back), (top, bottom), (left, right)), its stored form.

    ``padding_mode`` is PyTorch's (``zeros``, ``reflect``, ``replicate``, ``circular``): what
    the padding cells hold (``DrawnGrid.source_at``); a frame's ``sources`` then include the
    input cells its padding taps copy. ``ceil_mode`` is pooling's output rule (PyTorch's
    ``MaxPool2d(ceil_mode=True)``): a last window that starts inside the input or the left
    padding is kept even where it hangs past the right padding, over ``Cell.OUTSIDE`` cells.
    Both are per-axis arithmetic, the same on every axis in 1-D, 2-D and 3-D.
    Channels are PyTorch's ``in_channels``, ``out_channels`` and ``groups``, keyword-only: the
    input channels split into ``groups`` equal groups, and output channel ``oc`` reads the
    input channels of its group (``channels_read``), directly or transposed alike. A spec of
    one channel and one group is the spec it always was (its repr, frames and numbers).
    """

    input_size: Size
    kernel_size: Size
    stride: Size
    padding: str | PadsT
    dilation: Size
    transposed: bool
    output_padding: Size
    dims: int = field(repr=False)
    ceil_mode: bool = field(default=False, repr=False)
    padding_mode: str = field(default="zeros", repr=False)
    in_channels: int = field(default=1, repr=False)
    out_channels: int = field(default=1, repr=False)
    groups: int = field(default=1, repr=False)
    _core: _Conv = field(init=False, repr=False, compare=False)
    # 3-D: the depth axis, as a 1-D spec's core (a 1 x depth plane); _core is the (rows, cols)
    _depth: _Conv | None = field(init=False, repr=False, compare=False, default=None)

    @overload
    def __init__(
        self: ConvSpec[Pair, Pads],
        input_size: int | Pair,
        kernel_size: int | Pair = 3,
        stride: int | Pair = 1,
        padding: int | str | Pair | Pads = 0,
        dilation: int | Pair = 1,
        transposed: bool = False,
        output_padding: int | Pair = 0,
        *,
        dims: Literal[2] | None = None,
        ceil_mode: bool = False,
        padding_mode: str = "zeros",
        in_channels: int = 1,
        out_channels: int = 1,
        groups: int = 1,
    ) -> None: ...

    @overload
    def __init__(
        self: ConvSpec[Single, Pads1d],
        input_size: int | Single,
        kernel_size: int | Single = 3,
        stride: int | Single = 1,
        padding: int | str | Single | Pair | Pads1d = 0,
        dilation: int | Single = 1,
        transposed: bool = False,
        output_padding: int | Single = 0,
        *,
        dims: Literal[1],
        ceil_mode: bool = False,
        padding_mode: str = "zeros",
        in_channels: int = 1,
        out_channels: int = 1,
        groups: int = 1,
    ) -> None: ...

    @overload
    def __init__(
        self: ConvSpec[Triple, Pads3d],
        input_size: int | Triple,
        kernel_size: int | Triple = 3,
        stride: int | Triple = 1,
        padding: int | str | Triple | Pads3d = 0,
        dilation: int | Triple = 1,
        transposed: bool = False,
        output_padding: int | Triple = 0,
        *,
        dims: Literal[3],
        ceil_mode: bool = False,
        padding_mode: str = "zeros",
        in_channels: int = 1,
        out_channels: int = 1,
        groups: int = 1,
    ) -> None: ...

    @overload
    def __init__(
        self: ConvSpec[Triple, Pads3d],
        input_size: Triple,
        kernel_size: int | Triple = 3,
        stride: int | Triple = 1,
        padding: int | str | Triple | Pads3d = 0,
        dilation: int | Triple = 1,
        transposed: bool = False,
        output_padding: int | Triple = 0,
        *,
        dims: None = None,
        ceil_mode: bool = False,
        padding_mode: str = "zeros",
        in_channels: int = 1,
        out_channels: int = 1,
        groups: int = 1,
    ) -> None: ...

    @overload
    def __init__(
        self: ConvSpec[Any, Any],
        input_size: Any,
        kernel_size: Any = 3,
        stride: Any = 1,
        padding: Any = 0,
        dilation: Any = 1,
        transposed: bool = False,
        output_padding: Any = 0,
        *,
        dims: int | None,
        ceil_mode: bool = False,
        padding_mode: str = "zeros",
        in_channels: int = 1,
        out_channels: int = 1,
        groups: int = 1,
    ) -> None: ...

    def __init__(
        self,
        input_size: Any,
        kernel_size: Any = 3,
        stride: Any = 1,
        padding: Any = 0,
        dilation: Any = 1,
        transposed: bool = False,
        output_padding: Any = 0,
        *,
        dims: int | None = None,
        ceil_mode: bool = False,
        padding_mode: str = "zeros",
        in_channels: int = 1,
        out_channels: int = 1,
        groups: int = 1,
    ) -> None:
        if dims is None:  # a 3-tuple size is 3-D, anything else 2-D (as before dims=3)
            dims = 3 if isinstance(input_size, (tuple, list)) and len(input_size) == 3 else 2
        if not _is_int(dims) or dims not in (1, 2, 3):
            raise ConvSpecError("dims", f"got {_describe(dims)}; expected 1, 2 or 3")
        for name, flag in (("transposed", transposed), ("ceil_mode", ceil_mode)):
            if not isinstance(flag, bool):
                raise ConvSpecError(name, f"got {_describe(flag)}; expected True or False")
        if not isinstance(padding_mode, str) or padding_mode not in PAD_MODES:
            raise ConvSpecError(
                "padding_mode",
                f"got {_describe(padding_mode)}; expected one of {', '.join(PAD_MODES)}",
            )
        values: dict[str, Any]
        if dims == 2:
            values = {
                "input_size": _pair("input_size", input_size, 1),
                "kernel_size": _pair("kernel_size", kernel_size, 1),
                "stride": _pair("stride", stride, 1),
                "padding": _padding(padding, transposed),
                "dilation": _pair("dilation", dilation, 1),
                "transposed": transposed,
                "output_padding": _pair("output_padding", output_padding, 0),
            }
            core = _Conv(**values, ceil_mode=ceil_mode, padding_mode=padding_mode)
        elif dims == 3:
            values = {
                "input_size": _triple("input_size", input_size, 1),
                "kernel_size": _triple("kernel_size", kernel_size, 1),
                "stride": _triple("stride", stride, 1),
                "padding": _padding_3d(padding, transposed),
                "dilation": _triple("dilation", dilation, 1),
                "transposed": transposed,
                "output_padding": _triple("output_padding", output_padding, 0),
            }
            padding_3d = values["padding"]

            def plane(key: str) -> Pair:
                return values[key][1], values[key][2]

            def depth(key: str) -> Pair:
                return 1 if key != "output_padding" else 0, values[key][0]

            core = _Conv(
                input_size=plane("input_size"),
                kernel_size=plane("kernel_size"),
                stride=plane("stride"),
                padding=padding_3d if isinstance(padding_3d, str) else padding_3d[1:],
                dilation=plane("dilation"),
                transposed=transposed,
                output_padding=plane("output_padding"),
                ceil_mode=ceil_mode,
                padding_mode=padding_mode,
            )
            object.__setattr__(
                self,
                "_depth",
                _Conv(
                    input_size=depth("input_size"),
                    kernel_size=depth("kernel_size"),
                    stride=depth("stride"),
                    padding=_plane_padding(
                        padding_3d if isinstance(padding_3d, str) else padding_3d[:1]
                    ),
                    dilation=depth("dilation"),
                    transposed=transposed,
                    output_padding=depth("output_padding"),
                    ceil_mode=ceil_mode,
                    padding_mode=padding_mode,
                ),
            )
        else:
            values = {
                "input_size": (_single("input_size", input_size, 1),),
                "kernel_size": (_single("kernel_size", kernel_size, 1),),
                "stride": (_single("stride", stride, 1),),
                "padding": _padding_1d(padding, transposed),
                "dilation": (_single("dilation", dilation, 1),),
                "transposed": transposed,
                "output_padding": (_single("output_padding", output_padding, 0),),
            }
            (size,), (kernel,), (step,) = (
                values[k] for k in ("input_size", "kernel_size", "stride")
            )
            (dilation_,), (extra,) = values["dilation"], values["output_padding"]
            core = _Conv(
                input_size=(1, size),
                kernel_size=(1, kernel),
                stride=(1, step),
                padding=_plane_padding(values["padding"]),
                dilation=(1, dilation_),
                transposed=transposed,
                output_padding=(0, extra),
                ceil_mode=ceil_mode,
                padding_mode=padding_mode,
            )
        for name, value in values.items():
            object.__setattr__(self, name, value)
        object.__setattr__(self, "dims", int(dims))
        object.__setattr__(self, "ceil_mode", ceil_mode)
        object.__setattr__(self, "padding_mode", padding_mode)
        for name, value in _channels(in_channels, out_channels, groups).items():
            object.__setattr__(self, name, value)
        object.__setattr__(self, "_core", core)
        self._check()

    def __repr__(self) -> str:
        names = (
            "input_size",
            "kernel_size",
            "stride",
            "padding",
            "dilation",
            "transposed",
            "output_padding",
        )
        shown = [f"{name}={getattr(self, name)!r}" for name in names]
        if (self.in_channels, self.out_channels, self.groups) != (1, 1, 1):
            shown += [
                f"in_channels={self.in_channels}",
                f"out_channels={self.out_channels}",
                f"groups={self.groups}",
            ]
        if self.ceil_mode:
            shown.append("ceil_mode=True")
        if self.padding_mode != "zeros":
            shown.append(f"padding_mode={self.padding_mode!r}")
        return f"ConvSpec({', '.join(shown)})"

    def _parts(self) -> list[tuple[_Conv, int, str]]:
        """Each axis of this spec as (core, its axis there, where a message says it lies):
        the cols axis in 1-D, nowhere to say; both in 2-D; depth, rows and cols in 3-D."""
        if self.dims == 1:
            return [(self._core, 1, "")]
        parts = [(self._core, axis, f" on the {_AXES[axis]} axis") for axis in (0, 1)]
        if self._depth is not None:
            parts.insert(0, (self._depth, 1, " on the depth axis"))
        return parts

    def _shown(self, value: tuple[int, ...]) -> str:
        """A per-axis value as a message shows it: the number in 1-D, the tuple otherwise."""
        return str(value[0]) if self.dims == 1 else str(value)

    def _check(self) -> None:
        if self.transposed and self.padding_mode != "zeros":
            raise ConvSpecError(
                "padding_mode",
                f"got '{self.padding_mode}'; PyTorch's ConvTranspose{self.dims}d supports only "
                "zeros padding, expected zeros",
            )
        if self.transposed and self.ceil_mode:
            raise ConvSpecError(
                "ceil_mode",
                "got True; ceil_mode is pooling's (a transposed convolution has no such rule), "
                "expected False",
            )
        self._check_padding_mode()
        if not self.transposed:
            if any(self.output_padding):
                raise ConvSpecError(
                    "output_padding",
                    f"got {self._shown(self.output_padding)}; it applies only to transposed "
                    "convolutions, expected 0",
                )
        else:
            for core, axis, where in self._parts():
                limit = max(core.stride[axis], core.dilation[axis])
                if core.output_padding[axis] >= limit:
                    raise ConvSpecError(
                        "output_padding",
                        f"got {self._shown(self.output_padding)}; it must be smaller than "
                        f"stride or dilation (at most {limit - 1}{where})",
                    )
        for core, axis, where in self._parts():
            if core.axis(axis).outputs < 1:
                raise ConvSpecError(
                    "output_size",
                    f"would be {core.raw_output(axis)}{where} "
                    f"(kernel footprint {core.footprint[axis]} on "
                    f"{'a padded input' if not self.transposed else 'an input'} of "
                    f"{core.padded_input(axis)}); expected at least 1: use a smaller kernel "
                    f"or dilation, or {'more' if not self.transposed else 'less'} padding",
                )

    def _check_padding_mode(self) -> None:
        """PyTorch's limits on what a padding mode can copy: ``F.pad`` refuses reflect padding
        not smaller than the input, and circular padding larger than it."""
        mode = self.padding_mode
        if mode not in ("reflect", "circular"):
            return
        for core, axis, where in self._parts():
            size = core.input_size[axis]
            lo, hi = core.pads[axis]
            limit = size - 1 if mode == "reflect" else size
            if max(lo, hi) > limit:
                shown = (
                    f"'{self.padding}' (resolved to {lo} before, {hi} after)"
                    if isinstance(self.padding, str)
                    else (str(lo) if lo == hi else f"{lo} before, {hi} after")
                )
                rule = "smaller than" if mode == "reflect" else "at most"
                raise ConvSpecError(
                    "padding",
                    f"got {shown}{where}; {mode} padding must be {rule} the input size "
                    f"({size}), as in PyTorch: at most {limit}, or another padding mode",
                )

    def _view(self, pair: Pair, depth: Pair | None = None) -> Size:
        """A core pair as this spec's size type: itself in 2-D, its cols 1-tuple in 1-D; in
        3-D the depth core's ``depth`` pair's cols number before it."""
        if self.dims == 3:
            assert depth is not None
            return cast(Size, (depth[1], *pair))
        return cast(Size, pair[1:] if self.dims == 1 else pair)

    @property
    def _depth_core(self) -> _Conv:
        assert self._depth is not None, "a 3-D spec's"
        return self._depth

    # -- derived numbers ------------------------------------------------------------------

    @property
    def footprint(self) -> Size:
        """Drawn cells the kernel spans per axis: dilation * (kernel - 1) + 1."""
        if self.dims == 3:
            return self._view(self._core.footprint, self._depth_core.footprint)
        return self._view(self._core.footprint)

    @property
    def pads(self) -> PadsT:
        """Padding in cells, ((top, bottom), (left, right)) in 2-D, ((before, after),) in 1-D,
        ((front, back), (top, bottom), (left, right)) in 3-D; for a transposed spec, PyTorch's."""
        pads = self._core.pads
        if self.dims == 3:
            return cast(PadsT, (self._depth_core.pads[1], *pads))
        return cast(PadsT, pads[1:] if self.dims == 1 else pads)

    @property
    def output_size(self) -> Size:
        """(rows, cols) of the output; (width,) in 1-D; (depth, rows, cols) in 3-D."""
        if self.dims == 3:
            return self._view(self._core.output_size, self._depth_core.output_size)
        return self._view(self._core.output_size)

    @property
    def frame_count(self) -> int:
        """Frames in the default order ("channel"): one per output cell of every output
        channel; one per output cell with one output channel."""
        return self.count_frames()

    def count_frames(self, order: str = "channel") -> int:
        """Frames ``frames(order)`` yields: output cells times output channels in "channel"
        order, output cells in "spatial" order."""
        rows, cols = self._core.output_size
        depth = self._depth_core.output_size[1] if self.dims == 3 else 1
        cells = depth * rows * cols
        return cells * (self.out_channels if _order(order) == "channel" else 1)

    # -- channels -------------------------------------------------------------------------

    def group_of(self, out_channel: int) -> int:
        """The group output channel ``out_channel`` belongs to (0-based)."""
        return self._out_channel(out_channel) // (self.out_channels // self.groups)

    def channels_read(self, out_channel: int) -> range:
        """The input channels output channel ``out_channel`` reads: those of its group,
        ``in_channels // groups`` of them (direct and transposed alike)."""
        per_group = self.in_channels // self.groups
        start = self.group_of(out_channel) * per_group
        return range(start, start + per_group)

    def _out_channel(self, out_channel: object) -> int:
        if not _is_int(out_channel) or not 0 <= cast(int, out_channel) < self.out_channels:
            raise ConvSpecError(
                "out_channel",
                f"got {_describe(out_channel)}; expected 0 to {self.out_channels - 1}",
            )
        return int(cast(int, out_channel))

    @property
    def drawn_size(self) -> Size:
        """(rows, cols) of the drawn grid, without building it; (width,) in 1-D; in 3-D
        (depth, rows, cols) of the drawn volume (slices of padding and inserted zeros too)."""
        if self.dims == 3:
            return self._view(self._core.drawn_size, self._depth_core.drawn_size)
        return self._view(self._core.drawn_size)

    def as_2d(self) -> ConvSpec[Pair, Pads]:
        """This spec as a 2-D one: itself in 2-D; in 1-D the 1 x W problem it is drawn as."""
        if self.dims == 2:
            return cast("ConvSpec[Pair, Pads]", self)
        if self.dims == 3:
            raise ConvSpecError(
                "dims", "a 3-D spec has no 2-D form; its plane() and depth() are its parts"
            )
        return self._from_core(self._core, self)

    def plane(self) -> ConvSpec[Pair, Pads]:
        """The (rows, cols) plane of a 3-D spec, which every depth slice shares, as a 2-D spec;
        ``as_2d()`` in 1-D and 2-D."""
        return self._from_core(self._core, self) if self.dims == 3 else self.as_2d()

    def depth(self) -> ConvSpec[Single, Pads1d]:
        """The depth axis of a 3-D spec as a 1-D spec (its drawn cells are the drawn slices)."""
        if self.dims != 3:
            raise ConvSpecError("dims", f"got {self.dims}; only a 3-D spec has a depth axis")
        core = self._depth_core
        (size,), (kernel,), (step,), (dilation,), (extra,) = (
            core.input_size[1:],
            core.kernel_size[1:],
            core.stride[1:],
            core.dilation[1:],
            core.output_padding[1:],
        )
        lo, hi = core.pads[1]
        padding: Any = core.padding if isinstance(core.padding, str) else (lo, hi)
        if self.transposed:
            padding = lo
        return ConvSpec(
            size,
            kernel,
            step,
            padding,
            dilation,
            self.transposed,
            extra,
            dims=1,
            ceil_mode=self.ceil_mode,
            padding_mode=self.padding_mode,
        )

    def volume(self) -> DrawnVolume:
        """A 3-D spec's drawn volume: its drawn slices, each laid out as ``grid()``."""
        axis = self._depth_core.axis(1)
        found = [axis.input_index(p) for p in range(axis.length)]
        return DrawnVolume(
            input_depths=np.array([-1 if i is None else i for i in found], dtype=np.intp),
            depth_kinds=axis.kinds(),
            plane=self._core.grid(),
            source_depths=None if self.padding_mode == "zeros" else axis.sources(),
        )

    @staticmethod
    def _from_core(core: _Conv, channels: ConvSpec[Any, Any]) -> ConvSpec[Pair, Pads]:
        """``core`` as a 2-D spec of the channels of ``channels``."""
        padding: str | Pair | Pads = core.padding
        if core.transposed:  # ConvTranspose2d's padding is (rows, cols), unless crops differ
            (top, bottom), (left, right) = core.pads
            padding = (top, left) if (top, left) == (bottom, right) else core.pads
        return ConvSpec(
            core.input_size,
            core.kernel_size,
            core.stride,
            padding,
            core.dilation,
            core.transposed,
            core.output_padding,
            dims=2,
            ceil_mode=core.ceil_mode,
            padding_mode=core.padding_mode,
            in_channels=channels.in_channels,
            out_channels=channels.out_channels,
            groups=channels.groups,
        )

    # -- the grid and the frames ----------------------------------------------------------

    def grid(self) -> DrawnGrid:
        """The drawn grid, shared by every frame; in 1-D, one row (that of ``as_2d()``); in
        3-D, the layout of every drawn slice (that of ``plane()``; see ``volume()``)."""
        return self._core.grid()

    def frames(self, order: str = "channel") -> Iterator[Frame[Size]]:
        """One frame per output cell, row-major from the top-left (left to right in 1-D;
        depth-major, then row-major, in 3-D).

        ``order="channel"`` (the default): output channel by output channel, each walking
        every output cell (``index`` runs on across channels); ``"spatial"``: one frame per
        output cell with every filter at once (``out_channel`` None, ``in_channels`` all of
        them). With one output channel both orders are the frames of old (channel 0).
        """
        if _order(order) == "spatial" and self.out_channels > 1:
            every = tuple(range(self.in_channels))
            for frame in self._positions():
                yield replace(frame, out_channel=None, in_channels=every)
            return
        count = self.count_frames("spatial")
        for out_channel in range(self.out_channels):
            read = tuple(self.channels_read(out_channel))
            for frame in self._positions():
                if out_channel == 0 and read == (0,):
                    yield frame
                else:
                    yield replace(
                        frame,
                        index=out_channel * count + frame.index,
                        out_channel=out_channel,
                        in_channels=read,
                    )

    def _positions(self) -> Iterator[Frame[Size]]:
        """One single-channel frame per output cell."""
        if self.dims == 2:
            yield from cast("Iterator[Frame[Size]]", self._core.frames())
            return
        if self.dims == 3:
            yield from cast("Iterator[Frame[Size]]", self._frames_3d())
            return
        for frame in self._core.frames():
            (_, low), (_, high) = frame.window
            yield cast(
                "Frame[Size]",
                Frame(
                    index=frame.index,
                    output=(frame.output[1],),
                    sources=frozenset((j,) for _, j in frame.sources),
                    taps=tuple((c,) for _, c in frame.taps),
                    window=((low,), (high,)),
                    grid=frame.grid,
                ),
            )

    def _frames_3d(self) -> Iterator[Frame[Triple]]:
        depth = self._depth_core.axis(1)
        planes = list(self._core.frames())
        for out_depth in range(depth.outputs):
            tap_depths = depth.taps(out_depth)
            sources = [d for d in map(depth.source_index, tap_depths) if d is not None]
            for plane in planes:
                (top, left), (bottom, right) = plane.window
                yield Frame(
                    index=out_depth * len(planes) + plane.index,
                    output=(out_depth, *plane.output),
                    sources=frozenset((d, r, c) for d in sources for r, c in plane.sources),
                    taps=tuple((d, r, c) for d in tap_depths for r, c in plane.taps),
                    window=((tap_depths[0], top, left), (tap_depths[-1] + 1, bottom, right)),
                    grid=plane.grid,
                )

    @overload
    def formula(self: ConvSpec[Pair, Pads]) -> tuple[str, str]: ...

    @overload
    def formula(self: ConvSpec[Single, Pads1d]) -> tuple[str]: ...

    @overload
    def formula(self: ConvSpec[Triple, Pads3d]) -> tuple[str, str, str]: ...

    def formula(self) -> tuple[str, ...]:
        """The output-size formula per axis (rows, cols), with this spec's numbers filled in;
        one formula in 1-D; (depth, rows, cols) in 3-D."""
        lines = self._core.formula()
        if self.dims == 3:
            return self._depth_core.formula()[1], *lines
        return lines[1:] if self.dims == 1 else lines


def _channels(in_channels: object, out_channels: object, groups: object) -> dict[str, int]:
    """PyTorch's channel checks, in its order: each a positive integer, both counts divisible
    by ``groups``."""
    counts = {"in_channels": in_channels, "out_channels": out_channels, "groups": groups}
    for name, value in counts.items():
        if not _is_int(value) or not 1 <= cast(int, value) <= MAX_SIZE:
            raise ConvSpecError(name, f"got {_describe(value)}; expected an integer >= 1")
    checked = {name: int(cast(int, value)) for name, value in counts.items()}
    for name in ("in_channels", "out_channels"):
        if checked[name] % checked["groups"]:
            raise ConvSpecError(
                name,
                f"got {checked[name]}; {name} must be divisible by groups "
                f"({checked['groups']}): expected a multiple of {checked['groups']}",
            )
    return checked


def _order(order: object) -> str:
    if not isinstance(order, str) or order not in FRAME_ORDERS:
        raise ConvSpecError(
            "order", f"got {_describe(order)}; expected one of {', '.join(FRAME_ORDERS)}"
        )
    return order


def _plane_padding(padding: str | Pads1d) -> str | Pads:
    """A 1-D padding on the 1 x W plane: none on the rows axis."""
    return padding if isinstance(padding, str) else ((0, 0), padding[0])
