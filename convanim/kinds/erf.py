"""The ``erf`` kind: the effective receptive field (Luo et al., NeurIPS 2016) as a heatmap.

For the centre unit of each layer, ``|∂ unit / ∂ input|`` over the input, the theoretical field
outlined on top and the central box holding half of the gradient dashed. The layers are the
``rf`` kind's, spelt the same; their weights are uniform (all ones: the gradient is the number
of paths, exactly). A .gif steps through the layers, a .png, .svg or .pdf shows one
(``--layer``, by default the last).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from convanim.errors import ParameterError
from convanim.kinds import Kind
from convanim.kinds.rf import PARAMS as RF_PARAMS
from convanim.kinds.rf import (
    complete_model,
    load_fields,
    model_files,
    model_source,
    no_layer_to_draw,
    reads_model,
)
from convanim.kinds.rf import layers as rf_layers
from convanim.params import LAYER_STACK, MODEL, Param

if TYPE_CHECKING:
    from convanim.animate import Output, Request
    from convanim.erf import ErfLayer
    from convanim.figures import Figure
    from convanim.graph_fields import ModelField
    from convanim.kinds import Poster

__all__ = ["KIND", "EffectiveField"]

TIMES = "\u00d7"


def _rf(key: str, **changes: Any) -> Param:
    param = next(p for p in RF_PARAMS if p.key == key)
    return dataclasses.replace(param, **changes) if changes else param


def layer_choice(key: str, value: Any) -> int | str | None:
    """A layer's index from 0 (negative from the end), a model's layer name, or None."""
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit() and len(value) < 20:
        return int(value)
    if isinstance(value, str) and value.strip() and len(value) < 1000:
        return value.strip()  # a name: only a model's layers have names (checked then)
    shown = f"'{value}'" if isinstance(value, str) else repr(value)
    raise ParameterError(key, f"got {shown}; expected a layer's index: 0, 1, ..., or -1 the last")


def weights_choice(key: str, value: Any) -> str | None:
    """uniform, model, or None (not given: model for --torch, uniform otherwise)."""
    if value is None or value in WEIGHTS:
        return value  # type: ignore[no-any-return]
    shown = f"'{value}'" if isinstance(value, str) else repr(value)
    raise ParameterError(key, f"got {shown}; expected one of {', '.join(WEIGHTS)}")


WEIGHTS = ("uniform", "model")
# What a model's layers leave no room for: the stack's own options.
STACK_OPTIONS = ("kernel", "stride", "dilation", "padding", "causal", "transposed",
                 "output-padding", "dims", "input")  # fmt: skip


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
        "The layer a .png, .svg or .pdf shows: its index from 0, -1 the last, or a model's "
        "layer by name  [default: the last; a .gif shows every layer].",
        metavar="INDEX|NAME",
    ),
    Param(
        "weights",
        weights_choice,
        None,
        "uniform: all-ones kernels, the exact path counts; model: the --torch module's own "
        "weights, by autograd  [default: model with --torch, else uniform].",
        metavar="WEIGHTS",
        stamped_at_default=False,
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
    *MODEL,
)


class EffectiveField(Kind):
    name = "erf"
    summary = "Draw the effective receptive field: |∂ unit / ∂ input| as a heatmap."
    description = (
        "For the centre unit of each layer, with uniform weights (the number of paths from "
        "each input cell) or a PyTorch model's own (--torch), the theoretical field outlined "
        "and the central box that holds half of the gradient dashed (Luo et al., NeurIPS "
        "2016: the effective field is Gaussian-like and much smaller). The layers are spelt "
        "as for rf, or read from --torch or --onnx (its convolutions, poolings and merges). A "
        ".gif steps through the layers; a .png, .svg or .pdf shows one (--layer)."
    )
    examples = (
        "erf -k 3,3,3 -o erf.gif",
        "erf -k 3 -d 1,2,4 -o dilated_erf.png",
        "erf -k 3 -s 2 -p 1,1,1 --layer 1 -o strided_erf.png",
        "erf -k 3,3,3,3,3,3,3,3 --info",
        "erf --dims 1 -k 2 -d 1,2,4,8 --causal --json",
        "erf --torch examples/models.py:resnet18 --input-shape 3,64,64 --layer layer2.0.conv1 "
        "-o resnet_erf.png",
        "erf --torch examples/models.py:resnet18 --input-shape 3,64,64 --weights uniform --info",
    )
    params = PARAMS
    derived: ClassVar[Mapping[str, str]] = {
        "layers": "kernel/stride/dilation/padding",
        "output_size": "kernel/stride/dilation/padding",
        "output_padding": "output-padding",
    }

    # -- the model --------------------------------------------------------------------------

    def files(self, figure: Figure) -> dict[str, Path]:
        return {**super().files(figure), **model_files(figure)}

    def model(self, figure: Figure) -> list[dict[str, Any]]:
        """One dict of ConvSpec keywords per layer."""
        return rf_layers(figure.options)

    def complete(self, options: dict[str, Any], given: frozenset[str]) -> None:
        source = complete_model(options, given, STACK_OPTIONS)
        if source is not None:
            if source == "onnx" and options["weights"] == "model":
                raise ParameterError(
                    "weights", "got 'model'; an ONNX file's weights are not run here: give "
                    "--torch for the model's own weights, or --weights uniform",
                )  # fmt: skip
            if options["weights"] is None:
                options["weights"] = "model" if source == "torch" else "uniform"
            return
        if options["weights"] == "model":
            raise ParameterError(
                "weights", "got 'model'; a stack's weights are uniform: give --torch for a "
                "model's own weights",
            )  # fmt: skip
        # A stack's weights stay None (uniform, the only ones): figures made before --weights
        # keep their fingerprints.
        if options["causal"] and "padding" in given:
            raise ParameterError("causal", "it sets the padding; give causal or padding, not both")
        if options["input"] is None:
            options["input"] = self.implied(options)["input"]

    def implied(self, options: Mapping[str, Any]) -> dict[str, Any]:
        from convanim.erf import default_erf_input

        if reads_model(options):
            return {"weights": "model" if model_source(options) == "torch" else "uniform"}
        found = default_erf_input(rf_layers(options), dims=options["dims"])
        return {"input": list(found) if isinstance(found, tuple) else found}

    # -- checks -----------------------------------------------------------------------------

    def check(self, figure: Figure, limits: bool) -> None:
        from convanim.animate import check_frame_ms
        from convanim.erf import layer_index
        from convanim.options import RenderOptions
        from convanim.receptive import receptive_field_stats

        o = figure.options
        if reads_model(o):
            self._check_model(figure, limits)
            return
        if isinstance(o["layer"], str):
            raise ParameterError(
                "layer", f"got '{o['layer']}'; expected a layer's index: 0, 1, ..., or -1 the "
                "last (names are for --torch and --onnx models' layers)",
            )  # fmt: skip
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

    def _check_model(self, figure: Figure, limits: bool) -> None:
        from convanim.animate import check_frame_ms
        from convanim.erf import MAX_SIDE
        from convanim.options import RenderOptions

        o = figure.options
        fields = load_fields(o, figure.base)
        frames = model_frames(fields)
        if not frames:
            raise no_layer_to_draw(o)
        _pick_row(fields, frames, o["layer"])
        check_frame_ms(o["frame-ms"])
        RenderOptions(theme=o["theme"], scale=o["scale"])
        if limits and max(fields.input_size) > MAX_SIDE:
            shown = "x".join(map(str, fields.input_size))
            raise ParameterError(
                "input_shape", f"the input is {shown}, over the limit of {MAX_SIDE} cells per "
                "side for a heatmap; use a smaller --input-shape",
            )  # fmt: skip

    def _count(self, figure: Figure) -> int:
        if reads_model(figure.options):
            return len(model_frames(load_fields(figure.options, figure.base)))
        return len(self.model(figure))

    def check_output(self, figure: Figure, suffix: str) -> None:
        self._request(figure, _output_for(figure, Path(f"figure{suffix}")))

    def _request(self, figure: Figure, output: Output) -> Request:
        from convanim.animate import check_output, check_request
        from convanim.erf import layer_index

        o = figure.options
        count = len(self.rows(figure)) if reads_model(o) else self._count(figure)
        writer = check_output(output)
        if writer.animates and o["layer"] is not None:
            raise ParameterError(
                "layer",
                f"got {o['layer']}; a .gif shows every layer in turn: --layer picks one for a "
                ".png, .svg or .pdf",
            )
        if not writer.animates:
            if reads_model(o):  # the still's one frame: the layer picked
                index = self._still_index(figure)
            else:
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

    def _still_index(self, figure: Figure) -> int:
        """The frame a still shows: the --layer picked among the frames (a named layer that is
        no frame is drawn as the one frame of a still)."""
        o = figure.options
        fields = load_fields(o, figure.base)
        frames = model_frames(fields)
        row = _pick_row(fields, frames, o["layer"])
        return next((i for i, f in enumerate(frames) if f.name == row.name), len(frames))

    def rows(self, figure: Figure) -> list[ModelField]:
        """A model's rows drawn, one per frame; a layer picked by a name that is no frame
        comes last (a still shows only it)."""
        o = figure.options
        fields = load_fields(o, figure.base)
        frames = model_frames(fields)
        row = _pick_row(fields, frames, o["layer"])
        return frames if row in frames else [*frames, row]

    def entries(self, figure: Figure, only: int | None = None) -> list[ErfLayer]:
        """Every layer's effective field and its summary (``only``: that frame's alone)."""
        o = figure.options
        if reads_model(o):
            rows = self.rows(figure)
            return _model_entries(o, figure.base, rows if only is None else [rows[only]])
        found = _stack_entries(self.model(figure), _size(o["input"]), o["dims"])
        return found if only is None else [found[only]]

    def titles(self, figure: Figure) -> list[str]:
        """The first caption of each frame: "layer 2: k=3, d=2", a model's "layer 7: conv1
        (Conv2d)"."""
        from convanim.rf_render import _layer_caption

        if reads_model(figure.options):
            return [model_title(row) for row in self.rows(figure)]
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
        titles = self.titles(figure)
        if reads_model(o) and len(request.indices) == 1:  # only the layer drawn is computed
            (index,) = request.indices
            entries = self.entries(figure, only=index)
            titles = [titles[index]]
            request = dataclasses.replace(request, indices=(0,))
        else:
            entries = self.entries(figure)
        options = RenderOptions(theme=o["theme"], scale=o["scale"])
        return save_drawing(lambda: ErfMap(entries, titles, options), request)

    def poster(self, figure: Figure) -> Poster:
        """The last layer's heatmap (``--layer``'s, if given): the field the stack grows to."""
        from convanim.erf import layer_index
        from convanim.kinds import Poster
        from convanim.options import RenderOptions

        o = figure.options
        options = RenderOptions(theme=o["theme"], scale=o["scale"])
        if reads_model(o):  # the layer a still shows: --layer's, or the last
            picked = self._still_index(figure)
            title = self.titles(figure)[picked]

            def model_map() -> Any:
                from convanim.erf_render import ErfMap

                return ErfMap(self.entries(figure, only=picked), [title], options)

            return Poster(model_map, 0, f"the effective field of {title}")
        count = self._count(figure)
        index = layer_index(-1 if o["layer"] is None else o["layer"], count)

        def drawing() -> Any:
            from convanim.erf_render import ErfMap

            return ErfMap(self.entries(figure), self.titles(figure), options)

        return Poster(drawing, index, f"the effective field of layer {index + 1} of {count}")

    def brief(self, figure: Figure) -> str:
        count = self._count(figure)
        if reads_model(figure.options) and self.still(figure):  # the one layer drawn
            index = self._still_index(figure)
            drawn = self.entries(figure, only=index)[0]
            return f"layer {index + 1} of {count}, field {_shape(drawn.field)}"
        last = self.entries(figure, only=count - 1)[-1]
        return f"{count} layer{'s' if count > 1 else ''}, last field {_shape(last.field)}"

    def cost(self, figure: Figure, animated: bool) -> float:
        frames = self._count(figure) if animated else 1
        return (40.0 if reads_model(figure.options) else 10.0) + 4.0 * frames

    # -- words ------------------------------------------------------------------------------

    def alt_text(self, figure: Figure) -> str:
        o = figure.options
        if reads_model(o):
            return self._model_alt_text(figure)
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

    def _model_alt_text(self, figure: Figure) -> str:
        o = figure.options
        rows, still = self.rows(figure), self.still(figure)
        index = self._still_index(figure) if still else len(rows) - 1
        # A still computes only its own layer's heatmap; a .gif's text speaks of every layer.
        entries = self.entries(figure, only=index) if still else self.entries(figure)
        row, entry = rows[index], entries[0 if still else index]
        fields = load_fields(o, figure.base)
        shape = TIMES.join(str(n) for n in (*_input_shape(o), *fields.input_size)[-3:])
        weights = (
            "the model's own weights (autograd, summed over channels)"
            if o["weights"] == "model"
            else "uniform weights (the number of paths from each input cell)"
        )
        source = o[model_source(o)]
        text = (
            f"Effective receptive field of the centre unit of layer {row.layer}, {row.name} "
            f"({row.op}), of the model {source} on a {shape} input, with {weights}: a heatmap "
            f"over the input with the theoretical {_cells(entry.field)} field outlined"
            f"{' (clipped by the input)' if entry.clipped else ''}; {_mass(entry)}."
        )
        if not still and len(entries) > 1:  # a .gif's frames
            text += (
                f" Layer by layer ({len(entries)} layers) the field grows from "
                f"{_shape(entries[0].field)} to {_shape(entries[-1].field)}, and the central box "
                f"holding half of the gradient from {_shape(entries[0].central)} to "
                f"{_shape(entries[-1].central)}."
            )
        return text

    def facts(self, figure: Figure) -> dict[str, Any]:
        o = figure.options
        if reads_model(o):
            fields = load_fields(o, figure.base)
            rows = [
                {
                    "layer": row.layer,
                    "name": row.name,
                    "op": row.op,
                    "branch": list(row.branch),
                    **_entry_facts(entry, one_d=fields.dims == 1),
                }
                for row, entry in zip(self.rows(figure), self.entries(figure), strict=True)
            ]
            return {
                "dims": fields.dims,
                "input_size": list(fields.input_size),
                "weights": o["weights"],
                "layers": rows,
                "alt_text": self.alt_text(figure),
            }
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
        keys = MODEL_KEYS if reads_model(figure.options) else STACK_KEYS
        lines = info_lines(facts["layers"], keys)
        return "\n".join([*lines, f"alt text: {facts['alt_text']}"])


# -- a model's layers -------------------------------------------------------------------------


def _input_shape(options: Mapping[str, Any]) -> tuple[int, ...]:
    """The channels of --input-shape, if given (an ONNX file's own shape otherwise: none)."""
    from convanim.model_fields import parse_input_shape

    shape = options["input-shape"]
    return parse_input_shape(shape)[:1] if shape is not None else ()


def model_frames(fields: Any) -> list[ModelField]:
    """The rows a model's figure draws (``convanim.graph_fields.drawn_rows``)."""
    from convanim.graph_fields import drawn_rows

    return drawn_rows(fields)


def model_title(row: Any) -> str:
    """A model's frame's first caption (``convanim.model_render.model_title``)."""
    from convanim.model_render import model_title as title

    return title(row)


def _pick_row(fields: Any, frames: Sequence[Any], layer: Any) -> Any:
    """The row --layer names: an index among the frames (None: the last), or a row's name."""
    from convanim.erf import layer_index

    if layer is None:
        return frames[-1]
    if isinstance(layer, str):
        for row in fields:
            if row.name == layer:
                return row
        names = [row.name for row in frames]
        shown = ", ".join(names[:4]) + (", ..." if len(names) > 4 else "")
        raise ParameterError(
            "layer", f"got '{layer}'; the model has no layer of that name (its drawn layers: "
            f"{shown}; every name: rf --info)",
        )  # fmt: skip
    try:
        return frames[layer_index(layer, len(frames))]
    except ParameterError:
        count = len(frames)
        raise ParameterError(
            "layer", f"got {layer}; expected an index of the model's {count} drawn layers: 0 to "
            f"{count - 1}, or -{count} to -1 from the end, or a layer's name",
        ) from None  # fmt: skip


_ENTRIES: dict[tuple[Any, ...], Any] = {}


def _model_entries(options: Mapping[str, Any], base: Path, rows: Sequence[Any]) -> list[ErfLayer]:
    """The effective fields of a model's ``rows`` (computed once per process and options)."""
    from convanim.erf import erf_summary, graph_erf
    from convanim.model_fields import locate

    fields = load_fields(options, base)
    torch, onnx = locate(options["torch"], options["onnx"], base)
    key = (torch, onnx, options["input-shape"], options["weights"])
    known = _ENTRIES.setdefault(key, {})
    missing = [row.name for row in rows if row.name not in known]
    if missing and options["weights"] == "model":
        from convanim.erf_model import model_erfs
        from convanim.model_fields import load_model, parse_input_shape

        model = load_model(str(torch))
        heatmaps = model_erfs(model, parse_input_shape(options["input-shape"]), missing)
    elif missing:
        heatmaps = graph_erf(fields, missing)
    for name, heatmap in zip(missing, heatmaps if missing else [], strict=True):
        known[name] = heatmap
    found = []
    for row in rows:
        spans = [(0, -1) if span is None else span for span in row.centre_field]
        found.append(
            erf_summary(
                known[row.name],
                [last - first + 1 for first, last in spans],
                [first for first, _ in spans],
                layer=row.layer,
                unit=[(n - 1) // 2 for n in row.output_size],
                output_size=row.output_size,
            )
        )
    return found


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


STACK_KEYS = ("layer", "kernel", "stride", "padding", "dilation", "field", "clipped", "central",
              "share", "std", "std_per_field")  # fmt: skip
MODEL_KEYS = ("layer", "name", "op", "field", "clipped", "central", "share", "std",
              "std_per_field")  # fmt: skip


def info_lines(rows: Sequence[Mapping[str, Any]], keys: Sequence[str] = STACK_KEYS) -> list[str]:
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


# A render and its alt text ask for the same stack's fields: each is worked out once.
_STACK_ENTRIES: dict[str, list[ErfLayer]] = {}
KEPT_STACK_ENTRIES = 16


def _stack_entries(
    stack: list[dict[str, Any]], size: int | tuple[int, int], dims: int
) -> list[ErfLayer]:
    """``erf_layers`` of a stack, kept for the next figure of the same stack and input. The
    heatmaps are read-only, since every caller shares them."""
    from convanim.erf import erf_layers

    key = json.dumps([stack, size, dims], sort_keys=True, default=repr)
    found = _STACK_ENTRIES.pop(key, None)
    if found is None:
        found = erf_layers(stack, size, dims=dims)
        for entry in found:
            entry.heatmap.flags.writeable = False
    _STACK_ENTRIES[key] = found  # the most recently used last
    while len(_STACK_ENTRIES) > KEPT_STACK_ENTRIES:
        del _STACK_ENTRIES[next(iter(_STACK_ENTRIES))]
    return list(found)
