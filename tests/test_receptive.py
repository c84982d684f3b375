"""Receptive fields: against a brute-force reference, the Distill closed forms and PyTorch."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from fractions import Fraction
from itertools import product
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from convanim.geometry import ConvSpecError
from convanim.receptive import (
    LAYER_KEYS,
    LayerSpecError,
    default_input_size,
    dependency_tree,
    layer_sizes,
    receptive_field,
    receptive_field_stats,
)

# -- an independent reference: PyTorch's definitions, loop by loop -------------------------


@dataclass(frozen=True)
class Ax:
    """One layer along one axis, every number explicit."""

    k: int = 1
    s: int = 1
    d: int = 1
    pad: str | tuple[int, int] = (0, 0)  # a mode name or (before, after); transposed: (p, p)
    transposed: bool = False
    op: int = 0

    @property
    def span(self) -> int:
        return self.d * (self.k - 1)

    def pads(self, n: int) -> tuple[int, int]:
        if self.pad == "valid":
            return 0, 0
        if self.pad == "full":
            return self.span, self.span
        if self.pad == "causal":
            return self.span, 0
        if self.pad == "same":  # PyTorch's rule at stride 1, TensorFlow's above
            if self.s == 1:
                total = self.span
            else:
                total = max((-(-n // self.s) - 1) * self.s + self.span + 1 - n, 0)
            return total // 2, total - total // 2
        assert isinstance(self.pad, tuple)
        return self.pad

    def out(self, n: int) -> int:
        lo, hi = self.pads(n)
        if self.transposed:  # ConvTranspose: (n - 1) * s - 2p + d (k - 1) + output_padding + 1
            return (n - 1) * self.s - lo - hi + self.span + self.op + 1
        return (n + lo + hi - self.span - 1) // self.s + 1


@dataclass(frozen=True)
class Stack:
    """A stack as the reference sees it (per layer, rows and cols axes) and as convanim does."""

    dims: int
    axes: tuple[tuple[Ax, Ax], ...]
    kwargs: tuple[dict[str, Any], ...]
    size: tuple[int, int]  # (1, n) in 1-D

    @property
    def input_size(self) -> Any:
        return self.size[1] if self.dims == 1 else self.size

    def cell(self, cell: tuple[int, int]) -> Any:
        return cell[1] if self.dims == 1 else cell

    def sizes(self) -> list[tuple[int, int]]:
        """The input size, then each layer's output size, up to the first invalid layer."""
        sizes = [self.size]
        for rows, cols in self.axes:
            size = rows.out(sizes[-1][0]), cols.out(sizes[-1][1])
            sizes.append(size)
            if min(size) < 1:
                break
        return sizes

    def first_invalid(self) -> int | None:
        sizes = self.sizes()
        return len(sizes) - 1 if min(sizes[-1]) < 1 else None


def brute_force(stack: Stack) -> dict[tuple[int, int], set[tuple[int, int]]]:
    """Per output cell of the last layer, the input cells it depends on.

    Forward propagation of dependency sets: a direct layer's output (r, c) reads input
    (r * s - pad + t * d) for each kernel tap t per axis; a transposed layer adds input (i, j)
    into output (i * s - pad + t * d) per tap, as PyTorch defines them.
    """
    rows, cols = stack.size
    deps = {(i, j): {(i, j)} for i in range(rows) for j in range(cols)}
    for ra, ca in stack.axes:
        (rlo, _), (clo, _) = ra.pads(rows), ca.pads(cols)
        rows, cols = ra.out(rows), ca.out(cols)
        new: dict[tuple[int, int], set[tuple[int, int]]] = {
            (r, c): set() for r in range(rows) for c in range(cols)
        }
        for tr, tc in product(range(ra.k), range(ca.k)):
            if not ra.transposed:
                for r, c in new:
                    source = (r * ra.s - rlo + tr * ra.d, c * ca.s - clo + tc * ca.d)
                    if source in deps:
                        new[r, c] |= deps[source]
            else:
                for i, j in deps:
                    target = (i * ra.s - rlo + tr * ra.d, j * ca.s - clo + tc * ca.d)
                    if target in new:
                        new[target] |= deps[i, j]
        deps = new
    return deps


def unbounded_field(axes: list[Ax], befores: list[int], unit: int) -> set[int]:
    """The input positions one unit of the last layer reaches on an unbounded input (one axis)."""
    cells = {unit}
    for ax, lo in zip(reversed(axes), reversed(befores), strict=True):
        if not cells:
            break
        if ax.transposed:  # which inputs i scatter onto these units?
            candidates = range(
                (min(cells) + lo - ax.span) // ax.s - 1, (max(cells) + lo) // ax.s + 2
            )
            cells = {
                i for i in candidates for t in range(ax.k) if i * ax.s - lo + t * ax.d in cells
            }
        else:
            cells = {o * ax.s - lo + t * ax.d for o in cells for t in range(ax.k)}
    return cells


# -- hypothesis strategies -----------------------------------------------------------------


@st.composite
def layers(
    draw: st.DrawFn, dims: int, transposed: bool = True, force: bool = False
) -> tuple[tuple[Ax, Ax], dict]:
    """One layer: its reference axes and its convanim keywords; ``force``: transposed, s 2-3."""
    is_transposed = force or (transposed and draw(st.sampled_from([False, False, True])))
    n = dims
    k = [draw(st.integers(1, 4)) for _ in range(n)]
    s = [draw(st.integers(2 if force else 1, 3 if dims == 1 or force else 2)) for _ in range(n)]
    d = [draw(st.integers(1, 3)) for _ in range(n)]
    kwargs: dict[str, Any]
    if is_transposed:
        p = [draw(st.integers(0, 2)) for _ in range(n)]
        op = [draw(st.integers(0, max(s[a], d[a]) - 1)) for a in range(n)]
        axes = [Ax(k[a], s[a], d[a], (p[a], p[a]), True, op[a]) for a in range(n)]
        kwargs = dict(padding=p, transposed=True, output_padding=op)
    else:
        mode = draw(st.sampled_from(["explicit", "valid", "same", "full", "causal"]))
        if mode == "explicit":
            pads = [(draw(st.integers(0, 3)), draw(st.integers(0, 3))) for _ in range(n)]
            axes = [Ax(k[a], s[a], d[a], pads[a]) for a in range(n)]
            kwargs = dict(padding=pads)
        else:
            axes = [Ax(k[a], s[a], d[a], mode) for a in range(n)]
            kwargs = dict(padding=mode)
    kwargs.update(kernel_size=k, stride=s, dilation=d)
    if dims == 1:
        for key in ("kernel_size", "stride", "dilation", "output_padding"):
            if key in kwargs:
                kwargs[key] = kwargs[key][0]
        if isinstance(kwargs["padding"], list):
            padding = kwargs["padding"][0]
            symmetric = isinstance(padding, int) or padding[0] == padding[1]
            kwargs["padding"] = padding if not symmetric else axes[0].pads(1)[0]
        return (Ax(transposed=is_transposed), axes[0]), kwargs
    for key in ("kernel_size", "stride", "dilation", "output_padding", "padding"):
        if isinstance(kwargs.get(key), list):
            kwargs[key] = tuple(kwargs[key])
    return (axes[0], axes[1]), kwargs


@st.composite
def stacks(draw: st.DrawFn, dims: int, transposed: bool = True) -> Stack:
    drawn = draw(st.lists(layers(dims, transposed), min_size=1, max_size=4 if dims == 1 else 3))
    if dims == 1:
        size = (1, draw(st.integers(1, 16)))
    else:
        size = (draw(st.integers(1, 7)), draw(st.integers(1, 7)))
    return Stack(dims, tuple(a for a, _ in drawn), tuple(kw for _, kw in drawn), size)


any_stack = st.one_of(stacks(1), stacks(2))


def sample_outputs(data: st.DataObject, cells: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """All outputs of a small layer; else the corners and a few drawn ones."""
    if len(cells) <= 6:
        return cells
    picks = data.draw(st.lists(st.sampled_from(cells), min_size=1, max_size=3))
    return sorted({cells[0], cells[-1], *picks})


# -- the exact field: cases ----------------------------------------------------------------


DILATED = [dict(kernel_size=3, dilation=d) for d in (1, 2, 4)]
WAVENET = [dict(kernel_size=2, dilation=d, padding="causal") for d in (1, 2, 4, 8)]


def test_issue_example_is_the_whole_15x15_input():
    assert receptive_field(DILATED, input_size=15, output=(0, 0)) == set(
        product(range(15), range(15))
    )


def test_dilated_twice_leaves_holes_cell_by_cell():
    layers = [dict(kernel_size=3, dilation=2)] * 2
    field = receptive_field(layers, input_size=11, output=(1, 0))
    for i, j in product(range(11), range(11)):
        assert ((i, j) in field) == (i % 2 == 1 and i <= 9 and j % 2 == 0 and j <= 8), (i, j)
    assert receptive_field(layers, 11, 1, dims=1) == {1, 3, 5, 7, 9}
    assert receptive_field_stats(layers)[-1].size == (9, 9)  # the extent, holes included


def test_transposed_then_direct_by_hand():
    # ConvTranspose1d(k=3, s=2, p=1) on 4 inputs: 7 outputs; even o reads o/2, odd o reads
    # (o-1)/2 and (o+1)/2. Then a kernel of 2 joins neighbours.
    layers = [dict(kernel_size=3, stride=2, padding=1, transposed=True), dict(kernel_size=2)]
    assert layer_sizes(layers, 4, dims=1) == (7, 6)
    fields = [receptive_field(layers, 4, o, dims=1) for o in range(6)]
    assert fields == [{0, 1}, {0, 1}, {1, 2}, {1, 2}, {2, 3}, {2, 3}]
    stats = receptive_field_stats(layers, dims=1)
    assert [(f.size, f.stride, f.start, f.method) for f in stats] == [
        (2, Fraction(1, 2), 0, "derived from cells"),
        (2, Fraction(1, 2), 0, "derived from cells"),
    ]


def test_transposed_unit_that_reads_only_inserted_zeros():
    # stride 2, kernel 1: odd outputs sit on inserted zeros and read nothing.
    layers = [dict(kernel_size=1, stride=2, transposed=True)]
    assert [receptive_field(layers, 3, o, dims=1) for o in range(5)] == [
        {0},
        set(),
        {1},
        set(),
        {2},
    ]
    (stats,) = receptive_field_stats(layers, dims=1)
    assert (stats.size, stats.stride, stats.start) == (1, Fraction(1, 2), 0)


def test_wavenet_causal_field_is_the_16_inputs_ending_at_the_unit():
    assert receptive_field_stats(WAVENET, dims=1)[-1].size == 16
    assert layer_sizes(WAVENET, 40, dims=1) == (40, 40, 40, 40)
    for unit in range(40):
        field = receptive_field(WAVENET, 40, unit, dims=1)
        assert field == set(range(max(unit - 15, 0), unit + 1))
    assert receptive_field(WAVENET, 40, -1, dims=1) == set(range(24, 40))


def test_causal_2d_pads_top_and_left():
    layers = [dict(kernel_size=2, dilation=d, padding="causal") for d in (1, 2)]
    assert layer_sizes(layers, (5, 6)) == ((5, 6), (5, 6))
    assert receptive_field(layers, (5, 6), (4, 5)) == set(product(range(1, 5), range(2, 6)))


def test_dependency_tree_of_wavenet():
    tree = dependency_tree(WAVENET, 16, 15, dims=1)
    assert tree.sizes == (16,) * 5
    assert tree.levels == (
        frozenset(range(16)),
        frozenset(range(1, 16, 2)),
        frozenset({3, 7, 11, 15}),
        frozenset({7, 15}),
        frozenset({15}),
    )
    assert tree.edges[0] == {(u, u) for u in range(16)} | {(u, u - 1) for u in range(1, 16)}
    assert tree.edges[3] == {(u, u) for u in range(16)} | {(u, u - 8) for u in range(8, 16)}
    assert tree.highlighted[3] == {(15, 15), (15, 7)}
    assert tree.highlighted[0] == {(u, v) for u, v in tree.edges[0] if u % 2 == 1}


@settings(max_examples=40, deadline=None)
@given(stack=any_stack, data=st.data())
def test_dependency_tree_agrees_with_the_fields(stack: Stack, data: st.DataObject):
    assume(stack.first_invalid() is None)
    last = stack.sizes()[-1]
    output = data.draw(st.sampled_from(sorted(product(range(last[0]), range(last[1])))))
    tree = dependency_tree(stack.kwargs, stack.input_size, stack.cell(output), dims=stack.dims)
    assert tree.levels[0] == receptive_field(
        stack.kwargs, stack.input_size, stack.cell(output), dims=stack.dims
    )
    assert tree.levels[-1] == {stack.cell(output)}
    assert len(tree.levels) == len(tree.sizes) == len(tree.edges) + 1
    for lower, upper, edges, lit in zip(
        tree.levels[:-1], tree.levels[1:], tree.edges, tree.highlighted, strict=True
    ):
        assert lit == {(u, v) for u, v in edges if u in upper}
        assert {v for _, v in lit} == lower


# -- the exact field: against the brute force and PyTorch ----------------------------------


@settings(max_examples=150, deadline=None)
@given(stack=any_stack, data=st.data())
def test_receptive_field_matches_brute_force(stack: Stack, data: st.DataObject):
    invalid = stack.first_invalid()
    if invalid is not None:
        with pytest.raises(LayerSpecError) as caught:
            layer_sizes(stack.kwargs, stack.input_size, dims=stack.dims)
        assert (caught.value.layer, caught.value.param) == (invalid, "output_size")
        assert str(caught.value).startswith(f"layer {invalid}: output_size: ")
        return
    sizes = [stack.cell(size) for size in stack.sizes()[1:]]
    assert layer_sizes(stack.kwargs, stack.input_size, dims=stack.dims) == tuple(sizes)
    reference = brute_force(stack)
    for output in sample_outputs(data, sorted(reference)):
        got = receptive_field(stack.kwargs, stack.input_size, stack.cell(output), dims=stack.dims)
        assert got == {stack.cell(cell) for cell in reference[output]}, output


@pytest.fixture(scope="module")
def torch() -> Any:
    return pytest.importorskip("torch")


def autograd_fields(
    torch: Any, stack: Stack, outputs: list[tuple[int, int]] | None = None
) -> dict[tuple[int, int], set[Any]]:
    """Per output cell (all by default), the input cells with a non-zero gradient for it, with
    all-ones kernels: PyTorch's conv1d/2d and conv_transpose1d/2d as the reference."""
    functional = torch.nn.functional
    x = torch.zeros((1, 1, *stack.size), dtype=torch.float64, requires_grad=True)
    y, (rows, cols) = (x[:, :, 0] if stack.dims == 1 else x), stack.size
    for ra, ca in stack.axes:
        (rlo, rhi), (clo, chi) = ra.pads(rows), ca.pads(cols)
        if stack.dims == 1:
            ones = torch.ones((1, 1, ca.k), dtype=torch.float64)
            if ca.transposed:
                y = functional.conv_transpose1d(
                    y, ones, stride=ca.s, padding=clo, output_padding=ca.op, dilation=ca.d
                )
            else:
                y = functional.conv1d(
                    functional.pad(y, (clo, chi)), ones, stride=ca.s, dilation=ca.d
                )
        else:
            ones = torch.ones((1, 1, ra.k, ca.k), dtype=torch.float64)
            if ra.transposed:
                y = functional.conv_transpose2d(
                    y,
                    ones,
                    stride=(ra.s, ca.s),
                    padding=(rlo, clo),
                    output_padding=(ra.op, ca.op),
                    dilation=(ra.d, ca.d),
                )
            else:
                padded = functional.pad(y, (clo, chi, rlo, rhi))
                y = functional.conv2d(padded, ones, stride=(ra.s, ca.s), dilation=(ra.d, ca.d))
        rows, cols = ra.out(rows), ca.out(cols)
    y = y[:, :, None] if stack.dims == 1 else y
    assert tuple(y.shape[2:]) == (rows, cols)
    fields = {}
    for output in outputs if outputs is not None else product(range(rows), range(cols)):
        (grad,) = torch.autograd.grad(y[0, 0, output[0], output[1]], x, retain_graph=True)
        fields[output] = {stack.cell((i, j)) for i, j in grad[0, 0].nonzero().tolist()}
    return fields


@settings(max_examples=40, deadline=None)
@given(stack=any_stack, data=st.data())
def test_receptive_field_is_what_autograd_says(torch: Any, stack: Stack, data: st.DataObject):
    """Input cells with a non-zero gradient for the output, with all-ones kernels."""
    assume(stack.first_invalid() is None)
    rows, cols = stack.sizes()[-1]
    outputs = sample_outputs(data, sorted(product(range(rows), range(cols))))
    for output, expected in autograd_fields(torch, stack, outputs).items():
        got = receptive_field(stack.kwargs, stack.input_size, stack.cell(output), dims=stack.dims)
        assert got == expected, output


# -- sizes, strides and starts -------------------------------------------------------------


DISTILL = [
    pytest.param([(3, 1, 1, 1), (3, 1, 2, 2), (3, 1, 4, 4)], [3, 7, 15], [1, 1, 1], [-1, -3, -7]),
    pytest.param([(3, 2, 1, 1), (3, 1, 1, 1)], [3, 7], [2, 2], [-1, -3]),
    pytest.param([(7, 2, 3, 1), (3, 2, 1, 1)], [7, 11], [2, 4], [-3, -5]),
]


@pytest.mark.parametrize(("ksdp", "sizes", "strides", "starts"), DISTILL)
def test_distill_vectors(ksdp, sizes, strides, starts):
    layers = [dict(kernel_size=k, stride=s, padding=p, dilation=d) for k, s, p, d in ksdp]
    one = receptive_field_stats(layers, dims=1)
    assert [f.size for f in one] == sizes
    assert [f.stride for f in one] == strides
    assert [f.start for f in one] == starts
    assert {f.method for f in one} == {"closed form"}
    assert [f.layer for f in one] == list(range(1, len(layers) + 1))
    two = receptive_field_stats(layers)
    assert [f.size for f in two] == [(n, n) for n in sizes]
    assert [f.stride for f in two] == [(n, n) for n in strides]
    assert [f.start for f in two] == [(n, n) for n in starts]
    assert [f.params for f in two] == [k * k for k, *_ in ksdp]
    assert [(f.kernel, f.dilation) for f in one] == [(k, d) for k, _, _, d in ksdp]


def test_stats_per_axis_in_2d():
    layers = [dict(kernel_size=(1, 3), stride=(2, 1), dilation=(1, 2), padding=((0, 0), (2, 1)))]
    (field,) = receptive_field_stats(layers)
    assert (field.size, field.stride, field.start) == ((1, 5), (2, 1), (0, -2))
    assert (field.kernel, field.dilation, field.params) == ((1, 3), (1, 2), 3)


def smallest_period(sizes: list[int]) -> int:
    """The shortest p with sizes[u] == sizes[u % p] for a sequence repeating every len(sizes)."""
    n = len(sizes)
    return next(p for p in range(1, n + 1) if n % p == 0 and sizes == sizes[:p] * (n // p))


def check_axis_stats(
    stack: Stack,
    axis: int,
    fields: list[tuple[int, Fraction, int, str]],
    sizes: list[tuple[tuple[int, ...], int]],
):
    """One axis's stats against the Distill formulas and the unbounded cells of the reference.

    ``sizes``: per layer, the per-position sizes over one period and the period."""
    axes = [layer[axis] for layer in stack.axes]
    befores = [ax.pads(size[axis])[0] for ax, size in zip(axes, stack.sizes(), strict=False)]
    for depth, ((size, stride, start, method), (per_unit, smallest)) in enumerate(
        zip(fields, sizes, strict=True), 1
    ):
        below = axes[:depth]
        period = math.prod(ax.s for ax in below if ax.transposed)
        assert stride == Fraction(math.prod(ax.s for ax in below if not ax.transposed), period)
        cells = [unbounded_field(below, befores[:depth], unit) for unit in range(2 * period)]
        for unit in range(period):  # fields repeat, shifted, every period
            assert cells[unit + period] == {c + int(period * stride) for c in cells[unit]}
        extents = [max(c) - min(c) + 1 if c else 0 for c in cells[:period]]
        assert smallest == smallest_period(extents) == len(per_unit)
        assert list(per_unit) == extents[:smallest]
        assert size == max(per_unit)
        if any(ax.transposed for ax in below):
            assert method == "derived from cells"
            found = [c for c in cells[:period] if c]
            assert size == max((max(c) - min(c) + 1 for c in found), default=0)
            assert start == (min(found[0]) if found else 0)
            continue
        assert method == "closed form"
        jumps = [math.prod(ax.s for ax in below[:i]) for i in range(depth)]
        assert size == 1 + sum(ax.span * jump for ax, jump in zip(below, jumps, strict=True))
        assert stride == jumps[-1] * below[-1].s
        assert start == -sum(lo * jump for lo, jump in zip(befores, jumps, strict=False))
        for unit, found in enumerate(cells):
            assert (min(found), max(found)) == (
                start + unit * stride,
                start + unit * stride + size - 1,
            )


@settings(max_examples=100, deadline=None)
@given(stack=any_stack)
def test_stats_match_distill_and_the_cells(stack: Stack):
    assume(stack.first_invalid() is None)
    stats = receptive_field_stats(stack.kwargs, stack.input_size, dims=stack.dims)
    assert len(stats) == len(stack.axes)
    if stack.dims == 1:
        fields_1d = [(f.size, f.stride, f.start, f.method) for f in stats]
        check_axis_stats(stack, 1, fields_1d, [(f.sizes, f.period) for f in stats])
    else:
        for axis in (0, 1):
            fields = [(f.size[axis], f.stride[axis], f.start[axis], f.method) for f in stats]
            sizes = [(f.sizes[axis], f.period[axis]) for f in stats]
            check_axis_stats(stack, axis, fields, sizes)
    # the exact field of any output lies within its unbounded field
    last = stack.sizes()[-1][1]
    axes = [layer[1] for layer in stack.axes]
    befores = [ax.pads(size[1])[0] for ax, size in zip(axes, stack.sizes(), strict=False)]
    if stack.dims == 1:
        for unit in range(min(last, 8)):
            field = receptive_field(stack.kwargs, stack.input_size, unit, dims=1)
            assert field <= unbounded_field(axes, befores, unit)


# -- position-dependent fields above a transposed layer --------------------------------------

ENCODE_DECODE = [  # kernel 3, stride 2, padding 1: a direct layer, then its transposed pair
    dict(kernel_size=3, stride=2, padding=1),
    dict(kernel_size=3, stride=2, padding=1, transposed=True),
]


def test_issue_vector_3_5_3_5():
    # Layer 1 unit j reads inputs 2j-1..2j+1. The transposed layer scatters j onto o = 2j-1+t
    # (t = 0, 1, 2): an even o is reached from j = o/2 alone (t = 1), 3 inputs o-1..o+1; an
    # odd o from j = (o-1)/2 and (o+1)/2 (t = 2 and t = 0), 5 inputs o-2..o+2.
    assert layer_sizes(ENCODE_DECODE, 16, dims=1) == (8, 15)
    fields = [receptive_field(ENCODE_DECODE, 16, o, dims=1) for o in range(15)]
    assert fields[4] == {3, 4, 5} and fields[5] == set(range(3, 8))
    assert [len(f) for f in fields[2:]] == [3, 5] * 6 + [3]
    assert fields[:2] == [{0, 1}, {0, 1, 2, 3}]  # clipped: their fields start at input -1
    first, second = receptive_field_stats(ENCODE_DECODE, dims=1)
    assert (first.sizes, first.period, first.varies) == ((3,), 1, False)
    assert (second.sizes, second.period, second.size, second.varies) == ((3, 5), 2, 5, True)
    assert [second.size_of(o) for o in range(6)] == [3, 5, 3, 5, 3, 5]
    assert (second.stride, second.start, second.method) == (1, -1, "derived from cells")
    (_, two) = receptive_field_stats(ENCODE_DECODE)
    assert (two.sizes, two.period, two.size) == (((3, 5), (3, 5)), (2, 2), (5, 5))
    assert two.size_of((4, 7)) == (3, 5)
    assert receptive_field(ENCODE_DECODE, 16, (4, 7)) == set(product(range(3, 6), range(5, 10)))


@pytest.mark.parametrize(
    ("layers", "sizes"),
    [
        # o = 2i - 1 + t: even o from t = 1 (one input), odd o from t = 0 and 2 (two)
        pytest.param(
            [dict(kernel_size=3, stride=2, padding=1, transposed=True)], (1, 2), id="k3s2"
        ),
        # every o is reached by two taps of a kernel 4: even (Odena et al.), one period
        pytest.param([dict(kernel_size=4, stride=2, padding=1, transposed=True)], (2,), id="k4s2"),
        # o = 3i + t, t < 5: o = 0, 1 (mod 3) by two taps, o = 2 (mod 3) by one
        pytest.param([dict(kernel_size=5, stride=3, transposed=True)], (2, 2, 1), id="k5s3"),
        # kernel 1, stride 2: odd units sit on inserted zeros and read nothing
        pytest.param([dict(kernel_size=1, stride=2, transposed=True)], (1, 0), id="zeros"),
        # k4s2 after a direct k3s2: both parities reach two units of layer 1, 5 inputs
        pytest.param(
            [ENCODE_DECODE[0], dict(kernel_size=4, stride=2, padding=1, transposed=True)],
            (5,),
            id="even-decoder",
        ),
    ],
)
def test_sizes_per_position_by_hand(layers, sizes):
    (*_, last) = receptive_field_stats(layers, dims=1)
    assert (last.sizes, last.period, last.size) == (sizes, len(sizes), max(sizes))
    assert last.varies == (len(sizes) > 1)


@st.composite
def transposed_stacks(draw: st.DrawFn, dims: int) -> Stack:
    """Stacks with at least one transposed layer of stride 2 or 3, direct layers around it."""
    drawn = draw(st.lists(layers(dims), min_size=0, max_size=3 if dims == 1 else 2))
    drawn.insert(draw(st.integers(0, len(drawn))), draw(layers(dims, force=True)))
    size = (1, draw(st.integers(8, 24))) if dims == 1 else (9, 9)
    return Stack(dims, tuple(a for a, _ in drawn), tuple(kw for _, kw in drawn), size)


def interior(stack: Stack, period: tuple[int, int]) -> tuple[Stack, list[tuple[int, int]]]:
    """The stack at an input large enough that two periods of output units around the middle
    have their whole unbounded field inside it (no level clips them); those units (in 2-D,
    each of the window's rows and cols once)."""
    while True:
        if stack.first_invalid() is None:
            sizes = stack.sizes()
            window = [range(1)] if stack.dims == 1 else []
            for axis in _axes_of(stack):
                middle = sizes[-1][axis] // 2 // period[axis] * period[axis]
                window.append(range(middle, min(middle + 2 * period[axis], sizes[-1][axis])))
            # every row and every col of the window, not every pair: the axes are separable
            count = max(len(w) for w in window)
            units = [
                (window[0][i % len(window[0])], window[1][i % len(window[1])]) for i in range(count)
            ]
            wide = all(len(window[axis]) == 2 * period[axis] for axis in _axes_of(stack))
            if wide and all(unclipped(stack, unit) for unit in units):
                return stack, units
        assert max(stack.size) < 4096, stack
        rows, cols = stack.size
        stack = replace(stack, size=(rows if stack.dims == 1 else 2 * rows, 2 * cols))


def unclipped(stack: Stack, unit: tuple[int, int]) -> bool:
    """Whether the unit's exact field is its unbounded one, on every axis."""
    got = receptive_field(stack.kwargs, stack.input_size, stack.cell(unit), dims=stack.dims)
    unbounded = []
    for axis in _axes_of(stack):
        axes = [layer[axis] for layer in stack.axes]
        befores = [ax.pads(size[axis])[0] for ax, size in zip(axes, stack.sizes(), strict=False)]
        unbounded.append(unbounded_field(axes, befores, unit[axis]))
    if not got:  # a 2-D field is empty when one axis reads nothing
        return not all(unbounded)
    return all(
        {cell if stack.dims == 1 else cell[axis] for cell in got} == cells
        for axis, cells in zip(_axes_of(stack), unbounded, strict=True)
    )


def _axes_of(stack: Stack) -> tuple[int, ...]:
    return (1,) if stack.dims == 1 else (0, 1)


def extent(cells: set[int]) -> int:
    return max(cells) - min(cells) + 1 if cells else 0


@settings(max_examples=80, deadline=None)
@given(stack=transposed_stacks(1))
def test_each_unit_has_the_size_of_its_position(stack: Stack):
    """Brute force: a period's units away from the ends have exactly sizes[u % period] cells."""
    assume(stack.first_invalid() is None)
    stats = receptive_field_stats(stack.kwargs, stack.input_size, dims=1)
    stack, units = interior(stack, (1, stats[-1].period))
    stats = receptive_field_stats(stack.kwargs, stack.input_size, dims=1)
    reference = brute_force(stack)
    for unit in units:
        cells = {col for _, col in reference[unit]}
        assert (
            extent(cells)
            == stats[-1].size_of(unit[1])
            == stats[-1].sizes[unit[1] % stats[-1].period]
        )
    assert {stats[-1].size_of(u[1]) for u in units} == set(stats[-1].sizes)
    assert stats[-1].varies == (len(set(stats[-1].sizes)) > 1)


@settings(max_examples=40, deadline=None)
@given(stack=st.one_of(transposed_stacks(1), transposed_stacks(2)))
def test_each_unit_has_the_size_autograd_says(torch: Any, stack: Stack):
    """PyTorch: the gradient's extent per axis, for two periods of units, is the unit's size."""
    assume(stack.first_invalid() is None)
    last = receptive_field_stats(stack.kwargs, stack.input_size, dims=stack.dims)[-1]
    period = (1, last.period) if stack.dims == 1 else last.period
    stack, units = interior(stack, period)
    last = receptive_field_stats(stack.kwargs, stack.input_size, dims=stack.dims)[-1]
    for unit, cells in autograd_fields(torch, stack, units).items():
        if stack.dims == 1:
            assert extent(cells) == last.size_of(unit[1]), unit
        elif cells:
            rows, cols = {i for i, _ in cells}, {j for _, j in cells}
            assert (extent(rows), extent(cols)) == last.size_of(unit), unit
        else:  # the unit reads only inserted zeros along some axis
            assert 0 in last.size_of(unit), unit


@settings(max_examples=40, deadline=None)
@given(stack=transposed_stacks(2))
def test_2d_sizes_are_each_axis_alone(stack: Stack):
    """Per axis, a 2-D stack's sizes and period are those of its 1-D stack along that axis."""
    assume(stack.first_invalid() is None)
    two = receptive_field_stats(stack.kwargs, stack.input_size)
    sizes = stack.sizes()
    for axis in (0, 1):
        one_d = []
        for (ax, _), (_, cax), size in zip(stack.axes, stack.axes, sizes, strict=False):
            a = (ax, cax)[axis]
            pads = a.pads(size[axis])
            one_d.append(
                dict(
                    kernel_size=a.k,
                    stride=a.s,
                    dilation=a.d,
                    padding=pads[0] if a.transposed else pads,
                    transposed=a.transposed,
                    output_padding=a.op,
                )
            )
        one = receptive_field_stats(one_d, dims=1)
        assert [f.sizes[axis] for f in two] == [f.sizes for f in one]
        assert [f.period[axis] for f in two] == [f.period for f in one]


def test_stats_need_no_input_size_unless_same_padding_strides():
    layers = [dict(kernel_size=3, stride=2, padding="same")]
    with pytest.raises(LayerSpecError, match=r"^layer 1: padding: .*give input_size"):
        receptive_field_stats(layers)
    assert receptive_field_stats(layers, 10)[0].start == (0, 0)  # total 1: none before
    assert receptive_field_stats(layers, 9)[0].start == (-1, -1)  # total 2: one before
    assert receptive_field_stats([dict(kernel_size=3, padding="same")])[0].start == (-1, -1)


# -- default input size --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("layers", "dims", "expected"),
    [
        pytest.param([{**layer, "padding": "same"} for layer in DILATED], 2, (15, 15), id="same"),
        pytest.param(DILATED, 1, 15, id="valid"),
        pytest.param(WAVENET, 1, 16, id="causal"),
        pytest.param([dict(kernel_size=(3, 1), stride=2)] * 2, 2, (7, 1), id="strided"),
        pytest.param([dict(kernel_size=3, stride=2, padding="same")], 1, 3, id="same-strided"),
    ],
)
def test_default_input_size_is_the_last_field(layers, dims, expected):
    assert default_input_size(layers, dims=dims) == expected
    layer_sizes(layers, expected, dims=dims)  # the stack accepts it


def test_default_input_size_grows_to_what_the_stack_accepts():
    layers = [dict(kernel_size=1, transposed=True, padding=3)]  # crops 3 cells each side
    assert receptive_field_stats(layers, dims=1)[-1].size == 1
    assert default_input_size(layers, dims=1) == 7
    assert layer_sizes(layers, 7, dims=1) == (1,)
    with pytest.raises(LayerSpecError, match=r"^layer 1: output_size: "):
        layer_sizes(layers, 6, dims=1)


def test_default_input_size_fits_the_last_field_with_same_padding():
    layers = [{**layer, "padding": "same"} for layer in DILATED]
    size = default_input_size(layers, dims=1)
    assert receptive_field(layers, size, size // 2, dims=1) == set(range(size))


# -- errors --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("layers", "dims", "layer", "param", "fragment"),
    [
        ([dict(), dict(kernal_size=3)], 2, 2, "kernal_size", "did you mean kernel_size"),
        ([dict(), dict(kernel_size=5)], 2, 2, "output_size", "would be -1"),
        ([dict(), dict(), dict(dilation=0)], 2, 3, "dilation", "got 0"),
        ([dict(stride="2")], 2, 1, "stride", "got '2'"),
        ([dict(kernel_size=(3, 3))], 1, 1, "kernel_size", "a 1-D layer takes an integer"),
        ([dict(padding=(1, 2, 3))], 1, 1, "padding", "a (before, after) pair"),
        ([dict(padding="same", transposed=True)], 1, 1, "padding", "transposed layer takes"),
        ([dict(padding="causal", transposed=True)], 2, 1, "padding", "direct convolutions only"),
        ([dict(padding="cauzal")], 2, 1, "padding", "one of valid, same, full, causal,"),
        ([dict(transposed=True, stride=2, output_padding=2)], 1, 1, "output_padding", "got 2;"),
        ([dict(kernel_size=9)], 1, 1, "output_size", "would be -3 (kernel"),
        ([dict(), 3], 2, 2, "layers", "expected a mapping"),
    ],
)
def test_layer_errors_name_the_layer_and_the_parameter(layers, dims, layer, param, fragment):
    with pytest.raises(LayerSpecError) as caught:
        receptive_field(layers, 5, 0 if dims == 1 else (0, 0), dims=dims)
    error = caught.value
    assert isinstance(error, ConvSpecError)
    assert isinstance(error, ValueError)
    assert (error.layer, error.param) == (layer, param)
    assert str(error).startswith(f"layer {layer}: {param}: ")
    assert fragment in str(error)
    if dims == 1:  # no rows or cols axis of the 1 x N problem under a 1-D layer
        assert " axis" not in str(error)


def test_unknown_key_lists_the_valid_keys():
    with pytest.raises(LayerSpecError) as caught:
        receptive_field_stats([dict(bias=False)])
    assert str(caught.value) == (
        "layer 1: bias: unknown key; valid keys are " + ", ".join(LAYER_KEYS)
    )
    assert LAYER_KEYS == (
        "kernel_size",
        "stride",
        "padding",
        "dilation",
        "transposed",
        "output_padding",
    )


@pytest.mark.parametrize(
    ("call", "param"),
    [
        (lambda: receptive_field(DILATED, 15, (15, 0)), "output"),
        (lambda: receptive_field(DILATED, 15, 3), "output"),
        (lambda: receptive_field(DILATED, 15, 30, dims=1), "output"),
        (lambda: receptive_field(DILATED, 0, 0, dims=1), "input_size"),
        (lambda: receptive_field(DILATED, (15, 0), (0, 0)), "input_size"),
        (lambda: layer_sizes([], 5), "layers"),
        (lambda: layer_sizes(dict(kernel_size=3), 5), "layers"),
        (lambda: receptive_field_stats(DILATED, dims=3), "dims"),
    ],
)
def test_stack_errors_name_the_parameter(call, param):
    with pytest.raises(ConvSpecError) as caught:
        call()
    assert not isinstance(caught.value, LayerSpecError)
    assert caught.value.param == param
    assert str(caught.value).startswith(f"{param}: ")
