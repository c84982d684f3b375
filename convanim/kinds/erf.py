"""The ``erf`` kind: the effective receptive field (Luo et al., NeurIPS 2016) as a heatmap.

For the centre unit of each layer, ``|∂ unit / ∂ input|`` over the input, the theoretical field
outlined on top and the central box holding half of the gradient dashed. The layers are the
``rf`` kind's, spelt the same; their weights are uniform (all ones: the gradient is the number
of paths, exactly). A .gif steps through the layers, a .png, .svg or .pdf shows one
(``--layer``, by default the last).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from convanim.errors import ParameterError
from convanim.kinds import Kind
from convanim.kinds.rf import PARAMS as RF_PARAMS
from convanim.kinds.rf import layers as rf_layers
from convanim.params import LAYER_STACK, Param

if TYPE_CHECKING:
    from convanim.animate import Output, Request
    from convanim.erf import ErfLayer
    from convanim.figures import Figure
    from convanim.kinds import Poster

__all__ = ["KIND", "EffectiveField"]

TIMES = "\u00d7"


def _rf(key: str, **changes: Any) -> Param:
    param = next(p for p in RF_PARAMS if p.key == key)
    return dataclasses.replace(param, **changes) if changes else param


def layer_choice(key: str, value: Any) -> int | None:
    """A layer's index from 0 (negative from the end), or None (not given)."""
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit() and len(value) < 20:
        return int(value)
    shown = f"'{value}'" if isinstance(value, str) else repr(value)
    raise ParameterError(key, f"got {shown}; expected a layer's index: 0, 1, ..., or -1 the last")


PARAMS = (
    *LAYER_STACK,
    _rf("dims", help="2: a grid of input cells; 1: a sequence, one row of cells."),
    _rf(
        "input",
        help="Input size: 15, or rows,cols (2-D)  [default: the smallest that holds the last "
        "layer's centre unit's whole field].",
    ),
    Param(
        "layer",
        layer_choice,
        None,
        "The layer a .png, .svg or .pdf shows: its index from 0, -1 the last  [default: the "
        "last; a .gif shows every layer].",
        metavar="INDEX",
    ),
    _rf("theme"),
    _rf("scale"),
    _rf("frame-ms"),
    _rf("max-frames"),
    _rf(
        "poster",
        help="Write one still image (.png, .svg or .pdf): the last layer's field (or --layer's), "
        "the growth's end.",
    ),
)


class EffectiveField(Kind):
    name = "erf"
    summary = "Draw the effective receptive field: |∂ unit / ∂ input| as a heatmap."
    description = (
        "For the centre unit of each layer, with uniform weights (the number of paths from "
        "each input cell), the theoretical field outlined and the central box that holds half "
        "of the gradient dashed (Luo et al., NeurIPS 2016: the effective field is "
        "Gaussian-like and much smaller). The layers are spelt as for rf. A .gif steps through "
        "the layers; a .png, .svg or .pdf shows one (--layer)."
    )
    examples = (
        "erf -k 3,3,3 -o erf.gif",
        "erf -k 3 -d 1,2,4 -o dilated_erf.png",
        "erf -k 3 -s 2 -p 1,1,1 --layer 1 -o strided_erf.png",
        "erf -k 3,3,3,3,3,3,3,3 --info",
        "erf --dims 1 -k 2 -d 1,2,4,8 --causal --json",
    )
    params = PARAMS
    derived: ClassVar[Mapping[str, str]] = {
        "layers": "kernel/stride/dilation/padding",
        "output_size": "kernel/stride/dilation/padding",
        "output_padding": "output-padding",
    }

    # -- the model --------------------------------------------------------------------------

    def model(self, figure: Figure) -> list[dict[str, Any]]:
        """One dict of ConvSpec keywords per layer."""
        return rf_layers(figure.options)

    def complete(self, options: dict[str, Any], given: frozenset[str]) -> None:
        if options["causal"] and "padding" in given:
            raise ParameterError("causal", "it sets the padding; give causal or padding, not both")
        if options["input"] is None:
            options["input"] = self.implied(options)["input"]

    def implied(self, options: Mapping[str, Any]) -> dict[str, Any]:
        from convanim.erf import default_erf_input

        found = default_erf_input(rf_layers(options), dims=options["dims"])
        return {"input": list(found) if isinstance(found, tuple) else found}

    # -- checks -----------------------------------------------------------------------------

    def check(self, figure: Figure, limits: bool) -> None:
        from convanim.animate import check_frame_ms
        from convanim.erf import layer_index
        from convanim.options import RenderOptions
        from convanim.receptive import receptive_field_stats

        o = figure.options
        stack, dims = self.model(figure), o["dims"]
        size = _size(o["input"])
        if dims == 1 and not isinstance(size, int):
            raise ParameterError(
                "input_size", f"got {o['input']!r}; a 1-D stack takes an integer >= 1"
            )
        receptive_field_stats(stack, size, dims=dims)
        if o["layer"] is not None:
            layer_index(o["layer"], len(stack))
        check_frame_ms(o["frame-ms"])
        RenderOptions(theme=o["theme"], scale=o["scale"])
        if limits:
            from convanim.erf import MAX_SIDE

            one = [size] if dims == 1 else [size, size]
            sides = one if isinstance(size, int) else list(size)
            if max(sides) > MAX_SIDE:
                shown = f"length {size}" if dims == 1 else "x".join(map(str, sides))
                raise ParameterError(
                    "input_size",
                    f"the input is {shown}, over the limit of {MAX_SIDE} cells per side for a "
                    "heatmap; use a smaller input",
                )

    def check_output(self, figure: Figure, suffix: str) -> None:
        self._request(figure, _output_for(figure, Path(f"figure{suffix}")))

    def _request(self, figure: Figure, output: Output) -> Request:
        from convanim.animate import check_output, check_request
        from convanim.erf import layer_index

        o = figure.options
        count = len(self.model(figure))
        writer = check_output(output)
        if writer.animates and o["layer"] is not None:
            raise ParameterError(
                "layer",
                f"got {o['layer']}; a .gif shows every layer in turn: --layer picks one for a "
                ".png, .svg or .pdf",
            )
        if not writer.animates:
            index = layer_index(-1 if o["layer"] is None else o["layer"], count)
            output = dataclasses.replace(output, frame=index)
        return check_request(
            output,
            count,
            1,
            frame_note="frame i: layer i + 1",
            strip_advice="write a .gif, or use a smaller --scale",
        )

    def still(self, figure: Figure) -> bool:
        return figure.options["layer"] is not None

    # -- drawing ----------------------------------------------------------------------------

    def entries(self, figure: Figure) -> list[ErfLayer]:
        """Every layer's effective field (uniform weights) and its summary."""
        from convanim.erf import erf_layers

        o = figure.options
        return erf_layers(self.model(figure), _size(o["input"]), dims=o["dims"])

    def titles(self, figure: Figure) -> list[str]:
        """The first caption of each frame: "layer 2: k=3, d=2"."""
        from convanim.rf_render import _layer_caption

        return [
            _layer_caption(number, layer, layer["kernel_size"], layer["dilation"])
            for number, layer in enumerate(self.model(figure), 1)
        ]

    def save(self, figure: Figure, output: Output) -> Path:
        from convanim.animate import save_drawing
        from convanim.erf_render import ErfMap
        from convanim.options import RenderOptions

        o = figure.options
        request = self._request(figure, output)
        entries, titles = self.entries(figure), self.titles(figure)
        options = RenderOptions(theme=o["theme"], scale=o["scale"])
        return save_drawing(lambda: ErfMap(entries, titles, options), request)

    def poster(self, figure: Figure) -> Poster:
        """The last layer's heatmap (``--layer``'s, if given): the field the stack grows to."""
        from convanim.erf import layer_index
        from convanim.kinds import Poster
        from convanim.options import RenderOptions

        o = figure.options
        count = len(self.model(figure))
        index = layer_index(-1 if o["layer"] is None else o["layer"], count)
        options = RenderOptions(theme=o["theme"], scale=o["scale"])

        def drawing() -> Any:
            from convanim.erf_render import ErfMap

            return ErfMap(self.entries(figure), self.titles(figure), options)

        return Poster(drawing, index, f"the effective field of layer {index + 1} of {count}")

    def brief(self, figure: Figure) -> str:
        last = self.entries(figure)[-1]
        count = len(self.model(figure))
        return f"{count} layer{'s' if count > 1 else ''}, last field {_shape(last.field)}"

    def cost(self, figure: Figure, animated: bool) -> float:
        return 10.0 + 4.0 * (len(self.model(figure)) if animated else 1)

    # -- words ------------------------------------------------------------------------------

    def alt_text(self, figure: Figure) -> str:
        o = figure.options
        stack = self.model(figure)
        entries = self.entries(figure)
        count = len(stack)
        kernels = sorted({str(layer["kernel_size"]) for layer in stack})
        dilations = _each([str(layer["dilation"]) for layer in stack])
        strides = _each([str(layer["stride"]) for layer in stack])
        settings = [f"kernel {_listing(kernels)}"]
        if strides != ["1"]:
            settings.append(f"stride {_listing(strides)}")
        settings.append(f"dilation {_listing(dilations)}")
        flipped = [str(i) for i, layer in enumerate(stack, 1) if layer.get("transposed") is True]
        if flipped:
            noun = "layer" if len(flipped) == 1 else "layers"
            settings.append(f"{noun} {_listing(flipped)} transposed")
        causal = "causal " if o["causal"] else ""
        one_d = o["dims"] == 1
        what = "convolution" if count == 1 else "convolutions"
        index = -1 if o["layer"] is None else o["layer"] % count
        entry = entries[index]
        size = _shape(entry.heatmap.shape)
        input_words = f"{size}-cell input" if one_d else f"{size} input"
        text = (
            f"Effective receptive field of the centre unit of layer {entry.layer} of a stack of "
            f"{count} {causal}{'1-D ' if one_d else ''}{what} ({', '.join(settings)}), with "
            f"uniform weights: a heatmap of the number of paths from each cell of the "
            f"{input_words}, with the theoretical {_cells(entry.field)} field outlined"
            f"{' (clipped by the input)' if entry.clipped else ''}; {_mass(entry)}."
        )
        if o["layer"] is None and count > 1:
            fields = _listing([_shape(e.field) for e in entries])
            central = _listing([_shape(e.central) for e in entries])
            text += (
                f" Layer by layer the field is {fields}, and the central box holding half of "
                f"the gradient {central}."
            )
        return text

    def facts(self, figure: Figure) -> dict[str, Any]:
        o = figure.options
        rows = []
        for layer, entry in zip(self.model(figure), self.entries(figure), strict=True):
            rows.append(
                {
                    "layer": entry.layer,
                    "kernel": layer["kernel_size"],
                    "stride": layer["stride"],
                    "padding": layer["padding"],
                    "dilation": layer["dilation"],
                    "transposed": layer.get("transposed") is True,
                    "output_padding": layer.get("output_padding", 0),
                    **_entry_facts(entry, one_d=o["dims"] == 1),
                }
            )
        return {
            "dims": o["dims"],
            "input_size": o["input"],
            "weights": "uniform",
            "layers": rows,
            "alt_text": self.alt_text(figure),
        }

    def info(self, figure: Figure) -> str:
        facts = self.facts(figure)
        return "\n".join([*info_lines(facts["layers"]), f"alt text: {facts['alt_text']}"])


def _entry_facts(entry: ErfLayer, one_d: bool) -> dict[str, Any]:
    """An effective field's numbers, JSON-ready: per axis as lists in 2-D, plain in 1-D."""

    def axis(values: Sequence[Any], digits: int | None = None) -> Any:
        shown = [v if digits is None else _round(v, digits) for v in values]
        return shown[0] if one_d else shown

    return {
        "unit": axis(entry.unit),
        "output_size": axis(entry.output_size),
        "field": axis(entry.field),
        "first": axis(entry.first),
        "clipped": entry.clipped,
        "paths": round(entry.total),
        "peak": round(entry.peak),
        "central": axis(entry.central),
        "share": _round(entry.share, 4),
        "std": axis(entry.std, 3),
        "std_per_field": axis(
            [s / n if n else None for s, n in zip(entry.std, entry.field, strict=True)], 3
        ),
    }


def _round(value: Any, digits: int) -> Any:
    import math

    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return round(float(value), digits)


def info_lines(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """The per-layer table of ``erf --info``."""

    def cell(value: Any) -> str:
        if isinstance(value, bool):
            return "yes" if value else "no"
        if isinstance(value, list):
            return (
                "x".join(cell(v) for v in value)
                if len(set(map(str, value))) > 1
                else cell(value[0])
            )
        if value is None:
            return "-"
        return str(value)

    keys = ["layer", "kernel", "stride", "padding", "dilation", "field", "clipped", "central",
            "share", "std", "std_per_field"]  # fmt: skip
    cells = [[cell(row[key]) for key in keys] for row in rows]
    widths = [max(len(key), *(len(c[i]) for c in cells)) for i, key in enumerate(keys)]
    lines = ["  ".join(key.ljust(w) for key, w in zip(keys, widths, strict=True)).rstrip()]
    lines += [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells
    ]
    lines.append(
        "(central: the smallest centred box holding half of |gradient|, share: what it holds; "
        "std in cells)"
    )
    return lines


def _mass(entry: ErfLayer) -> str:
    """Where the mass is, in words."""
    if entry.total <= 0:
        return "the unit reads only padding, so every cell is zero"
    std = entry.std if len(set(entry.std)) > 1 else entry.std[:1]
    per = [s / n for s, n in zip(entry.std, entry.field, strict=True) if n]
    ratio = max(per) if per else 0.0
    cells = " by ".join(f"{s:.1f}" for s in std)
    return (
        f"the smallest centred box holding half of the gradient is the central "
        f"{_shape(entry.central)}{' cells' if len(entry.central) == 1 else ''} "
        f"({round(entry.share * 100)}%), and its standard deviation "
        f"is {cells} cells, {_fraction(ratio)} of the field's size"
    )


def _fraction(ratio: float) -> str:
    """0.26 as "about a quarter"; else as a percentage."""
    for value, words in ((1 / 2, "half"), (1 / 3, "a third"), (1 / 4, "a quarter"),
                         (1 / 5, "a fifth"), (1 / 6, "a sixth"), (1 / 8, "an eighth"),
                         (1 / 10, "a tenth")):  # fmt: skip
        if abs(ratio - value) <= 0.02:
            return f"about {words}"
    return f"{round(ratio * 100)}%"


def _each(values: list[str]) -> list[str]:
    """Per-layer values, or the one value every layer has."""
    return values[:1] if len(set(values)) == 1 else values


def _listing(values: Sequence[Any]) -> str:
    words = [str(v) for v in values]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _shape(size: Sequence[int]) -> str:
    return TIMES.join(str(v) for v in size)


def _cells(size: Sequence[int]) -> str:
    """A 2-D box as 5×5, a 1-D one as 5-cell."""
    return f"{size[0]}-cell" if len(size) == 1 else _shape(size)


def _size(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def _output_for(figure: Figure, path: Path) -> Output:
    from convanim.animate import Output

    return Output(path, **figure.output_options())


KIND = EffectiveField()
