"""Pooling's edge cases: ``ceil_mode``, max pooling's ``dilation``, ``count_include_pad=False``
and ``divisor_override``, in 1-D, 2-D and 3-D (the same per-axis arithmetic).

The reference is independent of ``convanim``: PyTorch's CPU kernels written out as loops, one
axis at a time (``hend = min(hstart + kernel, size + padding)`` and so on). PyTorch itself is
checked too where torch is installed, and refuses exactly what ``pool_spec_check`` refuses.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from convanim.geometry import Cell, ConvSpec, ConvSpecError
from convanim.values import divisors, evaluate, pool_spec_check, worked

# -- the reference ------------------------------------------------------------------------------


def ref_size(size: int, kernel: int, stride: int, pad: int, dilation: int, ceil: bool) -> int:
    """PyTorch's pooling_output_shape, written from its source."""
    reach = size + 2 * pad - dilation * (kernel - 1) - 1
    if not ceil:
        return math.floor(reach / stride) + 1
    out = math.ceil(reach / stride) + 1
    if (out - 1) * stride >= size + pad:  # the last window must start inside the input
        out -= 1
    return out


def ref_pool(
    x: np.ndarray,
    kernel: tuple[int, ...],
    stride: tuple[int, ...],
    pad: tuple[int, ...],
    dilation: tuple[int, ...],
    ceil: bool,
    op: str,
    include: bool = True,
    override: int | None = None,
) -> np.ndarray:
    """max_pool / avg_pool as PyTorch's CPU loops compute them, any number of axes."""
    dims = x.ndim
    shape = tuple(
        ref_size(x.shape[a], kernel[a], stride[a], pad[a], dilation[a], ceil) for a in range(dims)
    )
    out = np.zeros(shape)
    for index in itertools.product(*(range(n) for n in shape)):
        if op == "max":
            axes = []
            for a in range(dims):
                start = index[a] * stride[a] - pad[a]
                taps = [start + t * dilation[a] for t in range(kernel[a])]
                axes.append([p for p in taps if 0 <= p < x.shape[a]])
            found = [x[cell] for cell in itertools.product(*axes)]
            out[index] = max(found) if found else -math.inf
            continue
        pool, lows, highs = 1, [], []
        for a in range(dims):
            start = index[a] * stride[a] - pad[a]
            end = min(start + kernel[a], x.shape[a] + pad[a])
            pool *= end - start
            lows.append(max(start, 0))
            highs.append(min(end, x.shape[a]))
        if any(low >= high for low, high in zip(lows, highs, strict=True)):
            continue  # PyTorch writes 0
        inside = x[tuple(slice(low, high) for low, high in zip(lows, highs, strict=True))]
        if override is not None:
            divisor = override
        elif include:
            divisor = pool
        else:
            divisor = inside.size
        out[index] = inside.sum() / divisor
    return out


@st.composite
def pools(draw: Any, op: str | None = None) -> dict[str, Any]:
    """A pooling layer PyTorch accepts (symmetric padding), 1-D or 2-D, and its options."""
    dims = draw(st.sampled_from([1, 2, 2, 3]))
    op = op or draw(st.sampled_from(["max", "avg"]))
    small = 3 if dims == 3 else 4  # 3-D: few cells, fast
    kernel = tuple(draw(st.integers(1, small)) for _ in range(dims))
    stride = tuple(draw(st.integers(1, 3)) for _ in range(dims))
    pad = tuple(draw(st.integers(0, k // 2)) for k in kernel)
    dilation = tuple(draw(st.integers(1, 3)) for _ in range(dims)) if op == "max" else (1,) * dims
    size = tuple(draw(st.integers(1, small + 3)) for _ in range(dims))
    ceil = draw(st.booleans())
    include = draw(st.booleans()) if op == "avg" else True
    override = draw(st.sampled_from([None, None, 1, 3, -2])) if op == "avg" else None
    return {
        "dims": dims,
        "op": op,
        "kernel": kernel,
        "stride": stride,
        "pad": pad,
        "dilation": dilation,
        "size": size,
        "ceil": ceil,
        "include": include,
        "override": override,
    }


def spec_of(case: dict[str, Any]) -> ConvSpec[Any, Any]:
    one = case["dims"] == 1

    def given(value: tuple[int, ...]) -> Any:
        return value[0] if one else value

    return ConvSpec(
        given(case["size"]),
        given(case["kernel"]),
        given(case["stride"]),
        given(case["pad"]),
        given(case["dilation"]),
        dims=case["dims"],
        ceil_mode=case["ceil"],
    )


def expected_sizes(case: dict[str, Any]) -> tuple[int, ...]:
    return tuple(
        ref_size(
            case["size"][a],
            case["kernel"][a],
            case["stride"][a],
            case["pad"][a],
            case["dilation"][a],
            case["ceil"],
        )
        for a in range(case["dims"])
    )


# -- sizes, values, geometry: against the reference -----------------------------------------------


@settings(max_examples=250, deadline=None)
@given(pools(), st.integers(0, 2**32 - 1))
def test_sizes_and_values_match_the_reference(case: dict[str, Any], seed: int) -> None:
    sizes = expected_sizes(case)
    if min(sizes) < 1:
        with pytest.raises(ConvSpecError) as caught:
            spec_of(case)
        assert caught.value.param == "output_size"
        return
    spec = spec_of(case)
    assert spec.output_size == sizes
    x = np.random.default_rng(seed).integers(-5, 6, size=case["size"]).astype(float)
    options = {"count_include_pad": case["include"], "divisor_override": case["override"]}
    small = any(s < k for s, k in zip(case["size"], case["kernel"], strict=True))
    if case["dims"] == 3 and case["op"] == "avg" and small:  # avg_pool3d's own rule
        with pytest.raises(ConvSpecError) as caught:
            evaluate(spec, x, op="avg", **options)
        assert caught.value.param == "kernel_size"
        return
    got = evaluate(spec, x, op=case["op"], **options)
    expected = ref_pool(
        x,
        case["kernel"],
        case["stride"],
        case["pad"],
        case["dilation"],
        case["ceil"],
        case["op"],
        case["include"],
        case["override"],
    )
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


@settings(max_examples=150, deadline=None)
@given(pools("max"))
def test_sources_are_the_input_cells_under_the_window(case: dict[str, Any]) -> None:
    """A frame's sources are the input cells its taps land on; taps past the padding land on
    OUTSIDE cells, which only a kept ceil-mode window reaches."""
    if min(expected_sizes(case)) < 1:
        return
    spec = spec_of(case)
    dims = case["dims"]
    cells = spec.volume().cells if dims == 3 else spec.grid().cells
    reaches_outside = False
    for frame in spec.frames():
        axes = []
        for a in range(dims):
            start = frame.output[a] * case["stride"][a] - case["pad"][a]
            taps = [start + t * case["dilation"][a] for t in range(case["kernel"][a])]
            axes.append([p for p in taps if 0 <= p < case["size"][a]])
        assert frame.sources == frozenset(itertools.product(*axes))
        taps = frame.taps if dims == 3 else frame.as_2d().taps
        for tap in taps:
            reaches_outside |= cells[tap] == Cell.OUTSIDE
    padded = [case["size"][a] + 2 * case["pad"][a] for a in range(dims)]
    assert (Cell.OUTSIDE in cells) == any(
        s > p for s, p in zip(spec.drawn_size, padded, strict=True)
    )
    assert reaches_outside == (Cell.OUTSIDE in cells)


def test_the_issue_example() -> None:
    """ceil_mode's last window would start at 6 >= 5 + 1, in the right padding: dropped."""
    spec = ConvSpec(input_size=5, kernel_size=2, stride=2, padding=1, ceil_mode=True)
    assert spec.output_size == (3, 3)
    assert spec.drawn_size == (7, 7)  # nothing hangs past the padding
    assert "dropped, 3" in spec.formula()[0]
    hangs = ConvSpec(6, 3, stride=2, padding=1, ceil_mode=True)
    assert hangs.output_size == (4, 4) and ConvSpec(6, 3, stride=2, padding=1).output_size == (3, 3)
    assert hangs.drawn_size == (9, 9)  # the last window covers drawn 6, 7 (padding) and 8
    assert hangs.grid().cells[8, 4] == Cell.OUTSIDE and hangs.grid().cells[7, 4] == Cell.PADDING
    assert hangs.formula()[1] == (
        "ceil((6 + 1 + 1 - 1 * (3 - 1) - 1) / 2) + 1 = 4; the last window starts at "
        "(4 - 1) * 2 = 6 < 6 + 1: kept"
    )


def test_divisors_follow_pytorch_rule() -> None:
    spec = ConvSpec(5, 2, stride=2, padding=1, dims=1, ceil_mode=True)
    assert list(divisors(spec)) == [2, 2, 2]
    assert list(divisors(spec, count_include_pad=False)) == [1, 2, 2]
    assert list(divisors(spec, divisor_override=3)) == [3, 3, 3]
    hangs = ConvSpec(5, 2, stride=2, dims=1, ceil_mode=True)  # the last window: cell 4 and past
    assert list(divisors(hangs)) == [2, 2, 1]
    x = np.array([1.0, 2, 3, 4, 10])
    assert list(evaluate(hangs, x, op="avg")) == [1.5, 3.5, 10.0]
    assert list(evaluate(hangs, x, op="max")) == [2, 4, 10]


def test_worked_records_what_the_sum_shows() -> None:
    spec = ConvSpec(5, 2, stride=2, padding=1, dims=1, ceil_mode=True)
    x = np.arange(5.0)
    shown = worked(spec, x, op="avg", count_include_pad=False)
    assert shown.divisors is not None and list(shown.divisors) == [1, 2, 2]
    assert shown.counted is not None and list(shown.counted) == [False, *[True] * 5, False]
    plain = worked(ConvSpec(4, 2), np.zeros((4, 4)), op="max")
    assert plain.divisors is None and plain.counted is None


# -- refusals --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "op", "options", "param", "words"),
    [
        ({}, "max", {"count_include_pad": False}, "count_include_pad", "max pooling has none"),
        ({}, "max", {"divisor_override": 2}, "divisor_override", "expected None"),
        ({}, "avg", {"divisor_override": 0}, "divisor_override", "not zero"),
        ({}, "avg", {"divisor_override": 1.5}, "divisor_override", "non-zero integer"),
        ({}, "avg", {"count_include_pad": "no"}, "count_include_pad", "True or False"),
        ({"dilation": 2}, "avg", {}, "dilation", "has no dilation"),
        ({"padding": 2, "kernel_size": 3}, "max", {}, "padding", "at most 1"),
        ({"padding_mode": "reflect", "padding": 1}, "max", {}, "padding_mode", "-inf"),
    ],
)
def test_refusals_name_the_option(
    kwargs: dict[str, Any], op: str, options: dict[str, Any], param: str, words: str
) -> None:
    with pytest.raises(ConvSpecError) as caught:
        pool_spec_check(ConvSpec(6, **{"kernel_size": 2, **kwargs}), op, **options)
    assert caught.value.param == param
    assert words in str(caught.value)
    assert "\n" not in str(caught.value)


def test_ceil_mode_is_pooling_only() -> None:
    with pytest.raises(ConvSpecError) as caught:
        ConvSpec(4, 3, stride=2, transposed=True, ceil_mode=True)
    assert caught.value.param == "ceil_mode"
    with pytest.raises(ConvSpecError) as caught:
        evaluate(ConvSpec(5, 2, stride=2, ceil_mode=True), np.zeros((5, 5)), np.ones((2, 2)))
    assert caught.value.param == "ceil_mode"
    with pytest.raises(ConvSpecError) as caught:
        ConvSpec(4, ceil_mode=1)  # type: ignore[call-overload]
    assert caught.value.param == "ceil_mode"


# -- PyTorch ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def torch() -> Iterator[Any]:
    module = pytest.importorskip("torch")
    threads = module.get_num_threads()
    module.set_num_threads(1)
    yield module
    module.set_num_threads(threads)


def torch_pool(torch: Any, case: dict[str, Any], x: np.ndarray) -> np.ndarray:
    functional = torch.nn.functional
    tx = torch.from_numpy(x)[None, None]
    k, s, p, d = case["kernel"], case["stride"], case["pad"], case["dilation"]
    if case["op"] == "max":
        pool = (functional.max_pool1d, functional.max_pool2d, functional.max_pool3d)
        result = pool[case["dims"] - 1](tx, k, s, p, d, ceil_mode=case["ceil"])
    elif case["dims"] == 3:
        result = functional.avg_pool3d(tx, k, s, p, case["ceil"], case["include"], case["override"])
    elif case["dims"] == 1 and case["override"] is None:
        result = functional.avg_pool1d(tx, k, s, p, case["ceil"], case["include"])
    else:  # avg_pool1d has no divisor_override: the one-row plane through avg_pool2d
        plane = tx if case["dims"] == 2 else tx[:, :, None, :]
        pair = (lambda v: v) if case["dims"] == 2 else (lambda v: (1, v[0]))
        result = functional.avg_pool2d(
            plane,
            pair(k),
            pair(s),
            pair(p) if case["dims"] == 2 else (0, p[0]),
            case["ceil"],
            case["include"],
            case["override"],
        )
    out: np.ndarray = result.reshape(result.shape[2:] if case["dims"] > 1 else (-1,)).numpy()
    return out


@settings(max_examples=250, deadline=None)
@given(pools(), st.integers(0, 2**32 - 1))
def test_matches_pytorch_and_refuses_what_it_refuses(
    torch: Any, case: dict[str, Any], seed: int
) -> None:
    x = np.random.default_rng(seed).normal(size=case["size"])
    try:
        expected = torch_pool(torch, case, x)
    except RuntimeError:
        expected = None
    try:
        spec = spec_of(case)
        got = evaluate(
            spec,
            x,
            op=case["op"],
            count_include_pad=case["include"],
            divisor_override=case["override"],
        )
    except ConvSpecError as error:
        assert expected is None, (case, error)
        return
    assert expected is not None, case
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-10)


def test_pytorch_refuses_what_pool_spec_check_refuses(torch: Any) -> None:
    functional = torch.nn.functional
    x = torch.zeros(1, 1, 6, 6)
    with pytest.raises(RuntimeError, match="divisor must be not zero"):
        functional.avg_pool2d(x, 2, divisor_override=0)
    with pytest.raises(ConvSpecError):
        pool_spec_check(ConvSpec(6, 2), "avg", divisor_override=0)
    for kernel, pad, dilation in itertools.product(range(1, 5), range(4), range(1, 4)):
        try:
            functional.max_pool2d(x, kernel, 1, pad, dilation, ceil_mode=True)
            accepts = True
        except RuntimeError:
            accepts = False
        try:
            pool_spec_check(
                ConvSpec(6, kernel, padding=pad, dilation=dilation, ceil_mode=True), "max"
            )
            we_accept = True
        except ConvSpecError:
            we_accept = False
        assert we_accept == accepts, (kernel, pad, dilation)


def test_avg_pool3d_refuses_an_input_under_the_kernel(torch: Any) -> None:
    """avg_pool3d, unlike every other pool, checks the input without its padding."""
    x = torch.zeros(1, 1, 1, 3, 3)
    with pytest.raises(RuntimeError, match="smaller than kernel size"):
        torch.nn.functional.avg_pool3d(x, (2, 1, 1), 1, (1, 0, 0))
    torch.nn.functional.max_pool3d(x, (2, 1, 1), 1, (1, 0, 0))
    spec = ConvSpec((1, 3, 3), (2, 1, 1), padding=(1, 0, 0))
    pool_spec_check(spec, "max")
    with pytest.raises(ConvSpecError) as caught:
        pool_spec_check(spec, "avg")
    assert caught.value.param == "kernel_size"
    assert "1 on the depth axis is smaller than 2" in str(caught.value)
