"""Keras and Flax lines against the frameworks themselves: random layers, their output sizes and
numbers against convanim's figure of the same line. Run by tests/test_layer_jax.py, each check
in a Python process of its own (JAX starts threads when imported, and the test process forks).

Keras: the real Keras 3 layers on the JAX backend (``KERAS_BACKEND=jax``), built from the
line's own arguments. Flax: its ``nn.Conv`` and ``nn.ConvTranspose`` are thin wrappers over
``jax.lax``; flax itself is not installed, and its padding spellings are applied as
flax/linen/linear.py applies them (``canonicalize_padding``: an int is (p, p) on every axis, a
sequence of ints (p, p) per axis; 'CIRCULAR' pads ((k-1)//2, k//2) of the dilated kernel with
``jnp.pad(mode='wrap')`` and then convolves 'VALID', 'CAUSAL' pads ((k-1)*d, 0); the rest
go to ``lax.conv_general_dilated`` as they are; ``ConvTranspose`` calls
``lax.conv_transpose(..., transpose_kernel=...)``, False unless the line says).
"""

from __future__ import annotations

import inspect
import os

os.environ["KERAS_BACKEND"] = "jax"  # before keras is imported: the real layers on JAX

from typing import Any

import conftest  # noqa: F401  # the suite's Hypothesis profile, in this process too
import jax
import jax.numpy as jnp
import keras
import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from convanim.figures import FigureError, parse_figure
from convanim.geometry import ConvSpec
from convanim.kinds import get
from convanim.layer_source import parse_call
from convanim.values import evaluate

jax.config.update("jax_enable_x64", True)

CHECKED = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def figure(line: str, size: Any) -> Any:
    return parse_figure("t", {"kind": "layer", "layer": line, "input": size}, limits=False)


def _values(seed: int, shape: tuple[int, ...], top: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, top, shape).astype(np.float64)


def test_keras_runs_on_jax() -> None:
    assert keras.backend.backend() == "jax"


def test_keras_signatures_are_keras() -> None:
    """Order and defaults of every Keras constructor, as Keras 3 itself has them (a size
    default like (1, 1) is the int 1 here, which Keras takes alike)."""
    from convanim.layer_source import CONSTRUCTORS, REQUIRED

    for name, constructor in CONSTRUCTORS.items():
        if constructor.framework != "Keras":
            continue
        parameters = inspect.signature(getattr(keras.layers, name).__init__).parameters
        real = [
            (p.name, REQUIRED if p.default is inspect.Parameter.empty else p.default)
            for p in parameters.values()
            if p.name != "self" and p.kind == inspect.Parameter.POSITIONAL_OR_KEYWORD
        ]
        real = [(n, d[0] if isinstance(d, tuple) and len(set(d)) == 1 else d) for n, d in real]
        mine = [(arg.name, arg.default) for arg in constructor.signature]
        assert mine == real, (name, mine, real)


# -- Keras ----------------------------------------------------------------------------------


@st.composite
def keras_layers(draw: st.DrawFn) -> tuple[str, tuple[int, ...]]:
    name = draw(
        st.sampled_from(
            [
                "Conv1D",
                "Conv2D",
                "Conv1DTranspose",
                "Conv2DTranspose",
                "DepthwiseConv2D",
                "MaxPooling2D",
                "AveragePooling2D",
                "MaxPooling1D",
                "AveragePooling1D",
            ]
        )
    )
    dims = 1 if "1D" in name else 2
    k = draw(st.integers(1, 4))
    s = draw(st.integers(1, 3))
    size = draw(st.integers(k, 8))
    pooling = "Pooling" in name
    paddings = ["valid", "same"] + (["causal"] if name == "Conv1D" else [])
    padding = draw(st.sampled_from(paddings))
    words = [] if name == "DepthwiseConv2D" or pooling else ["1"]
    words += [str(k), f"strides={s}", f"padding='{padding}'"]
    if not pooling:
        words.append("use_bias=False")
        if s == 1 and draw(st.booleans()):
            words.append(f"dilation_rate={draw(st.integers(1, 2))}")
    if "Transpose" in name and draw(st.booleans()):
        words.append(f"output_padding={draw(st.integers(0, s - 1))}")
    return f"layers.{name}({', '.join(words)})", (size,) * dims


@CHECKED
@given(keras_layers(), st.integers(0, 2**16))
def test_keras_layers_are_drawn_as_keras_computes_them(
    layer: tuple[str, tuple[int, ...]], seed: int
) -> None:
    line, size = layer
    call = parse_call(line)
    real = getattr(keras.layers, call.name)(*call.args, dtype="float64", **call.kwargs)
    x = _values(seed, size, 4)
    try:
        expected = np.asarray(real(x[None, ..., None]))[0, ..., 0]
    except ValueError:  # Keras refuses it (an output of no cells): so does convanim
        with pytest.raises(FigureError):
            figure(line, list(size))
        return
    drawn = figure(line, list(size))
    facts = drawn.facts()
    assert tuple(facts["framework_output_size"]) == expected.shape, line
    spec = drawn.model
    assert tuple(spec.output_size) == expected.shape, line
    if "Pooling" in call.name:
        op = "max" if call.name.startswith("Max") else "avg"
        got = evaluate(spec, x, op=op, count_include_pad=False) if op == "avg" else None
        got = evaluate(spec, x, op="max") if op == "max" else got
    else:
        kernel = np.asarray(real.kernel.value)  # (*k, in, out), or (*k, out, in) when transposed
        weight = kernel[..., 0, 0]
        got = evaluate(spec, x, weight)
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-9, err_msg=line)


def test_keras_separable_is_its_depthwise_then_its_pointwise() -> None:
    line = "layers.SeparableConv2D(2, 3, strides=2, padding='same', use_bias=False)"
    call = parse_call(line)
    real = keras.layers.SeparableConv2D(*call.args, dtype="float64", **call.kwargs)
    x = _values(1, (1, 7, 7, 3), 4)
    expected = np.asarray(real(x))
    drawn = figure(line, [1, 7, 7, 3])
    assert drawn.facts()["drawn_as"] == "separable"
    pair = drawn.model
    assert tuple(pair.pointwise.output_size) == expected.shape[1:3] == (4, 4)
    depthwise = np.asarray(real.depthwise_kernel.value)  # (3, 3, 3, 1)
    pointwise = np.asarray(real.pointwise_kernel.value)  # (1, 1, 3, 2)
    plane = ConvSpec(7, 3, 2, "same")  # one channel of the depthwise layer
    assert pair.depthwise.pads == plane.pads
    first = np.stack([evaluate(plane, x[0, ..., c], depthwise[..., c, 0]) for c in range(3)])
    second = np.einsum("chw,co->hwo", first, pointwise[0, 0])
    np.testing.assert_allclose(second, expected[0], rtol=1e-9, atol=1e-9)


# -- Flax, through jax.lax -------------------------------------------------------------------


def _flax_conv(x: np.ndarray, w: np.ndarray, arguments: dict[str, Any]) -> np.ndarray:
    """Flax's nn.Conv on one channel: x (*spatial), w (*kernel), as flax/linen/linear.py."""
    dims = x.ndim
    strides = arguments["strides"]
    strides = (strides,) * dims if isinstance(strides, int) else tuple(strides)
    dilation = arguments["kernel_dilation"]
    dilation = (dilation,) * dims if isinstance(dilation, int) else tuple(dilation)
    padding = arguments["padding"]
    lhs = jnp.asarray(x)[None, ..., None]
    rhs = jnp.asarray(w)[..., None, None]
    if padding == "CIRCULAR":
        footprints = [(k - 1) * d + 1 for k, d in zip(w.shape, dilation, strict=True)]
        pads = [(0, 0)] + [((f - 1) // 2, f // 2) for f in footprints] + [(0, 0)]
        lhs = jnp.pad(lhs, pads, mode="wrap")
        padding = "VALID"
    elif padding == "CAUSAL":
        padding = [((w.shape[0] - 1) * dilation[0], 0)]
    elif isinstance(padding, int):
        padding = [(padding, padding)] * dims
    elif isinstance(padding, tuple):
        padding = [p if isinstance(p, tuple) else (p, p) for p in padding]
    spatial = "HWD"[:dims]
    numbers = jax.lax.conv_dimension_numbers(
        lhs.shape, rhs.shape, (f"N{spatial}C", f"{spatial}IO", f"N{spatial}C")
    )
    inserted = arguments["input_dilation"]
    inserted = (inserted,) * dims if isinstance(inserted, int) else tuple(inserted)
    out = jax.lax.conv_general_dilated(
        lhs,
        rhs,
        strides,
        padding,
        lhs_dilation=inserted,
        rhs_dilation=dilation,
        dimension_numbers=numbers,
    )
    return np.asarray(out)[0, ..., 0]


def _flax_conv_transpose(x: np.ndarray, w: np.ndarray, arguments: dict[str, Any]) -> np.ndarray:
    """Flax's nn.ConvTranspose on one channel: lax.conv_transpose."""
    dims = x.ndim
    strides = arguments["strides"] or 1
    strides = (strides,) * dims if isinstance(strides, int) else tuple(strides)
    dilation = arguments["kernel_dilation"] or 1
    dilation = (dilation,) * dims if isinstance(dilation, int) else tuple(dilation)
    padding = arguments["padding"]
    if isinstance(padding, int):
        padding = [(padding, padding)] * dims
    elif isinstance(padding, tuple):
        padding = [p if isinstance(p, tuple) else (p, p) for p in padding]
    spatial = "HWD"[:dims]
    out = jax.lax.conv_transpose(
        jnp.asarray(x)[None, ..., None],
        jnp.asarray(w)[..., None, None],
        strides,
        padding,
        rhs_dilation=dilation,
        dimension_numbers=(f"N{spatial}C", f"{spatial}IO", f"N{spatial}C"),
        transpose_kernel=arguments["transpose_kernel"],
    )
    return np.asarray(out)[0, ..., 0]


def _beyond_pytorchs_form(arguments: dict[str, Any]) -> bool:
    """Whether a Conv with input_dilation e is a transposed convolution (stride e, crops
    footprint - 1 - padding) that PyTorch's form cannot write: padding past the footprint
    before an axis (cells added before the output), or after it by the stride or more (an
    output_padding that large)."""
    inserted = arguments["input_dilation"]
    padding = arguments["padding"]
    if inserted == 1 or isinstance(padding, str):
        return False
    kernel = arguments["kernel_size"]
    dims = len(kernel)
    inserted = (inserted,) * dims if isinstance(inserted, int) else tuple(inserted)
    dilation = arguments["kernel_dilation"]
    dilation = (dilation,) * dims if isinstance(dilation, int) else tuple(dilation)
    if isinstance(padding, int):
        padding = (padding,) * dims
    pads = [p if isinstance(p, tuple) else (p, p) for p in padding]
    for k, e, d, (lo, hi) in zip(kernel, inserted, dilation, pads, strict=True):
        footprint = (k - 1) * d + 1
        before, after = footprint - 1 - lo, footprint - 1 - hi
        if before < 0 or (after < 0 and -after >= max(e, d)):
            return True
    return False


@st.composite
def flax_layers(draw: st.DrawFn) -> tuple[str, tuple[int, ...]]:
    transposed = draw(st.booleans())
    dims = draw(st.sampled_from([1, 2]))
    kernel = tuple(draw(st.integers(1, 4)) for _ in range(dims))
    size = tuple(draw(st.integers(max(kernel), 8)) for _ in range(dims))
    strides = draw(st.integers(1, 3))
    dilation = draw(st.integers(1, 2)) if strides == 1 or transposed else 1
    spellings: list[str] = ["'SAME'", "'VALID'"]
    if not transposed:
        spellings += ["'SAME_LOWER'", "'CIRCULAR'", "1", "PAIRS"]
        if dims == 1:
            spellings.append("'CAUSAL'")
    padding = draw(st.sampled_from(spellings))
    if padding == "PAIRS":
        pairs = [(draw(st.integers(0, 2)), draw(st.integers(0, 2))) for _ in range(dims)]
        padding = repr(tuple(pairs))
    name = "ConvTranspose" if transposed else "Conv"
    line = (
        f"nn.{name}(1, {kernel!r}, strides={strides}, padding={padding}, kernel_dilation={dilation}"
    )
    if transposed and draw(st.booleans()):
        line += ", transpose_kernel=True"
    inserted = 1
    if not transposed and strides == 1 and padding not in ("'CIRCULAR'", "'CAUSAL'"):
        inserted = draw(st.integers(1, 3))
        line += f", input_dilation={inserted}"
    line += ")"
    return line, size


@CHECKED
@given(flax_layers(), st.integers(0, 2**16))
# Padding past a 1-cell kernel's footprint before the input, and after it within the stride.
@example(("nn.Conv(1, (1,), strides=1, padding=1, kernel_dilation=1, input_dilation=2)", (1,)), 0)
@example(
    ("nn.Conv(1, (1,), strides=1, padding=((0, 1),), kernel_dilation=1, input_dilation=2)", (3,)), 0
)
def test_flax_layers_are_drawn_as_lax_computes_them(
    layer: tuple[str, tuple[int, ...]], seed: int
) -> None:
    line, size = layer
    call = parse_call(line)
    from convanim.layer_source import CONSTRUCTORS, bind

    arguments, _ = bind(CONSTRUCTORS[call.name], call)
    x = _values(seed, size, 4)
    w = _values(seed + 1, arguments["kernel_size"], 3)
    transposed = call.name == "ConvTranspose"
    try:
        expected = (_flax_conv_transpose if transposed else _flax_conv)(x, w, arguments)
    except (ValueError, TypeError):  # lax refuses it (string padding with input_dilation)
        with pytest.raises(FigureError):
            figure(line, list(size))
        return
    if 0 in expected.shape:
        return
    if arguments["padding"] == "CIRCULAR" and any(
        max((k - 1) * arguments["kernel_dilation"] // 2 + 1, 0) > n
        for k, n in zip(arguments["kernel_size"], size, strict=True)
    ):
        return  # a wrap past the input, which PyTorch's circular padding refuses
    if arguments["padding"] == "CIRCULAR" and "padding-mode" not in get("conv").option_keys():
        with pytest.raises(FigureError, match="padding_mode \\('circular'\\) cannot be drawn"):
            figure(line, list(size))
        return  # until the conv kind takes --padding-mode
    if not transposed and _beyond_pytorchs_form(arguments):
        with pytest.raises(FigureError, match=r"not drawn|output_padding must be smaller"):
            figure(line, list(size))
        return
    drawn = figure(line, list(size))
    assert tuple(drawn.facts()["framework_output_size"]) == expected.shape, line
    spec = drawn.model
    assert tuple(spec.output_size) == expected.shape, line
    # Flax slides its kernel unflipped over a zero-inserted input (ConvTranspose's default,
    # Conv's input_dilation); the figure draws PyTorch's transposed convolution, flipped.
    if transposed:  # noqa: SIM108 - the two rules read better apart
        flipped = not arguments["transpose_kernel"]
    else:
        flipped = arguments["input_dilation"] != 1
    weight = w[(slice(None, None, -1),) * w.ndim] if flipped else w
    got = evaluate(spec, x, weight)
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-9, err_msg=line)
