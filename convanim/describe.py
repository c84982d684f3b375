"""Alt text: what a figure shows, in one sentence a screen reader can read out."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from convanim.figures import Figure

__all__ = ["alt_text"]

TIMES = "\u00d7"


def _size(pair: Sequence[int]) -> str:
    return f"{pair[0]}{TIMES}{pair[1]}"


def _number(pair: Sequence[int]) -> str:
    """A per-axis number: '2' when both axes agree, else '2 by 1' (rows by cols)."""
    return str(pair[0]) if pair[0] == pair[1] else f"{pair[0]} by {pair[1]}"


def _padding(figure: Figure) -> str:
    spec = figure.spec
    (top, bottom), (left, right) = spec.pads
    mode = f"'{spec.padding}' padding" if isinstance(spec.padding, str) else "padding"
    if top == bottom == left == right:
        return f"{mode} {top}"
    if top == bottom and left == right:
        return f"{mode} {top} by {left}"
    return f"{mode} {top} top, {bottom} bottom, {left} left, {right} right"


def _conv(figure: Figure) -> str:
    spec = figure.spec
    options = figure.options
    if figure.kind == "pool":
        name = "Max pooling" if options["mode"] == "max" else "Average pooling"
        window = "window"
    else:
        name = "Transposed convolution" if spec.transposed else "Convolution"
        window = "kernel"
    parts = [
        f"{name} of a {_size(spec.input_size)} input with a {_size(spec.kernel_size)} {window}",
        f"stride {_number(spec.stride)}",
        _padding(figure),
    ]
    if spec.dilation != (1, 1):
        parts.append(f"dilation {_number(spec.dilation)}")
    if spec.transposed and spec.output_padding != (0, 0):
        parts.append(f"output padding {_number(spec.output_padding)}")
    text = ", ".join(parts) + f", giving a {_size(spec.output_size)} output"
    if figure.worked() is not None:
        text += ", with the values of every cell and the sum for each output"
    if options.get("frame") is not None:
        row, col = divmod(options["frame"], spec.output_size[1])
        text += f" (the step for output cell row {row + 1}, column {col + 1})"
    return text + "."


def _listing(values: Sequence[Any]) -> str:
    words = [str(v) for v in values]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _rf(figure: Figure) -> str:
    from convanim.receptive import receptive_field_stats

    options = figure.options
    layers = figure.layers
    dims = options["dims"]
    size = options["input"]
    stats = receptive_field_stats(
        layers, tuple(size) if isinstance(size, list) else size, dims=dims
    )
    kernels = sorted({str(layer["kernel_size"]) for layer in layers})
    dilations = [str(layer["dilation"]) for layer in layers]
    count = len(layers)
    what = "convolution" if count == 1 else "convolutions"
    if dims == 1:
        causal = "causal " if options["causal"] else ""
        return (
            f"Dependency tree of one output unit in a stack of {count} {causal}1-D {what} "
            f"(kernel {_listing(kernels)}, dilation {_listing(dilations)}): it depends on "
            f"{stats[-1].size} input units."
        )
    fields = [_size(entry.size) for entry in stats]
    params = {entry.params for entry in stats}
    same = f", with the same {stats[0].params} weights per layer" if len(params) == 1 else ""
    return (
        f"Receptive field of the centre unit of a stack of {count} {what} (kernel "
        f"{_listing(kernels)}, dilation {_listing(dilations)}) growing to "
        f"{_listing(fields)} after each layer{same}."
    )


def alt_text(figure: Figure) -> str:
    """One sentence describing the figure: its parameters and the output they give."""
    return _rf(figure) if figure.kind == "rf" else _conv(figure)
