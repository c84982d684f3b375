"""The ``rf`` kind: how a stack of (dilated) convolutions grows the receptive field.

2-D: Yu & Koltun's strip, one panel per layer. 1-D: the WaveNet dependency tree of one output
unit. Each option takes one value per layer (comma-separated) or one value for every layer.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from convanim.errors import ParameterError
from convanim.kinds import Kind
from convanim.params import (
    DRAWING,
    LAYER_STACK,
    MODEL,
    OUTPUT,
    Param,
    check_frame_or_columns,
    choice,
    size,
)

if TYPE_CHECKING:
    from convanim.animate import Output
    from convanim.figures import Figure
    from convanim.kinds import Poster

__all__ = ["KIND", "ReceptiveField", "complete_model", "info_table", "layer_rows"]

TIMES = "\u00d7"


def _pick(group: Sequence[Param], key: str, **changes: Any) -> Param:
    param = next(p for p in group if p.key == key)
    return dataclasses.replace(param, **changes) if changes else param


MODEL_COLUMNS = 6  # panels per row of a model's strip

PARAMS = (
    *LAYER_STACK,
    Param("dims", choice(1, 2), 2, "2: grids; 1: sequences (the WaveNet picture).", metavar="N"),
    Param(
        "input",
        size,
        None,
        "Input size: 15, or rows,cols (2-D)  [default: just large enough for the last field].",
        api="input_size",
        short="i",
        metavar="SIZE",
    ),
    Param(
        "unit",
        size,
        None,
        "The output unit whose field is drawn, 0-based: row,col in 2-D "
        "(every layer's), a unit in 1-D  [default: the centre; 1-D: the last].",
        api="output_unit",
        metavar="UNIT",
    ),
    _pick(DRAWING, "theme"),
    _pick(DRAWING, "scale"),
    _pick(OUTPUT, "frame-ms"),
    _pick(
        OUTPUT,
        "columns",
        help="Panels per row of a 2-D .png, .svg or .pdf strip  [default: all in one row; a "
        f"model's: {MODEL_COLUMNS}].",
        stamped_at_default=False,
    ),
    _pick(
        OUTPUT,
        "frame",
        help="Write one frame as a .png, .svg or .pdf: 2-D, layer frame+1's "
        "panel; 1-D, output unit frame's tree.",
        stamped_at_default=False,
    ),
    _pick(
        OUTPUT,
        "max-frames",
        help="Refuse animations with more frames than this.",
        stamped_at_default=False,
    ),
    _pick(
        OUTPUT,
        "poster",
        help="Write one still image of the whole animation (.png, .svg or .pdf): 2-D, the last "
        "layer's field (of --unit); 1-D, the tree of --unit (default: the last).",
    ),
    *MODEL,
)

LAYER_OPTIONS = ("kernel", "stride", "dilation", "padding", "causal", "transposed",
                 "output-padding", "dims", "input", "unit")  # fmt: skip


class ReceptiveField(Kind):
    name = "rf"
    summary = "Draw how stacked (dilated) convolutions grow the receptive field."
    description = "Each option takes one value per layer (comma-separated) or one for every layer."
    examples = (
        "rf -k 3 -d 1,2,4 -o dilated.png",
        "rf -k 3 -d 1,2,4 -o dilated.gif",
        "rf -k 3 -d 1,2,4 -i 9,15 --unit 4,7 -o off_centre.png",
        "rf --dims 1 -k 2 -d 1,2,4,8 --causal -o wavenet.gif",
        "rf -k 7,3 -s 2,2 -p 3,1 --info",
        "rf -k 3 -s 2 -p 1 --transposed 0,1 -i 9 --unit 2,3 -o decoder.png",
        "rf --dims 1 -k 2 -d 1,2,4,8 --causal --json",
        "rf --torch examples/models.py:resnet18 --input-shape 3,224,224 --info",
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
        return layers(figure.options)

    def files(self, figure: Figure) -> dict[str, Path]:
        return {**super().files(figure), **model_files(figure)}

    def complete(self, options: dict[str, Any], given: frozenset[str]) -> None:
        check_frame_or_columns(options)
        if complete_model(options, given, LAYER_OPTIONS) is not None:
            return
        if options["causal"] and "padding" in given:
            raise ParameterError("causal", "it sets the padding; give causal or padding, not both")
        if options["input"] is None:
            options["input"] = self.implied(options)["input"]

    def implied(self, options: Mapping[str, Any]) -> dict[str, Any]:
        from convanim.receptive import default_input_size

        found = default_input_size(layers(options), dims=options["dims"])
        return {"input": list(found) if isinstance(found, tuple) else found}

    # -- checks -----------------------------------------------------------------------------

    def check(self, figure: Figure, limits: bool) -> None:
        from convanim.animate import check_frame_ms
        from convanim.options import RenderOptions
        from convanim.receptive import layer_sizes, receptive_field_stats

        o = figure.options
        if reads_model(o):
            fields = load_fields(o, figure.base)
            if limits:
                self._check_model_drawing(figure, fields)
            return
        stack, dims = self.model(figure), o["dims"]
        size = _size(o["input"])
        if dims == 1 and not isinstance(size, int):
            raise ParameterError(
                "input_size", f"got {o['input']!r}; a 1-D stack takes an integer >= 1"
            )
        receptive_field_stats(stack, size, dims=dims)
        check_frame_ms(o["frame-ms"])
        RenderOptions(theme=o["theme"], scale=o["scale"])
        if o["columns"] is not None and (dims == 1 or o["columns"] < 1):
            valid = "an integer >= 1" if dims == 2 else "none: a 1-D diagram is one frame per file"
            raise ParameterError("columns", f"got {o['columns']}; expected {valid}")
        levels = list(layer_sizes(stack, size, dims=dims))
        unit = o["unit"]
        if unit is not None:
            _check_unit(unit, levels, dims)
            if o["frame"] is not None and dims == 1:
                raise ParameterError(
                    "frame", f"got {o['frame']} and unit {unit!r}; give one of them"
                )
        count = self.frame_count(figure)
        if o["columns"] is not None and o["columns"] > count:
            raise ParameterError(
                "columns",
                f"got {o['columns']}; a strip of {count} panels has at most {count} columns",
            )
        if o["frame"] is not None and not 0 <= o["frame"] < count:
            what = "output unit i" if dims == 1 else "layer i + 1"
            raise ParameterError(
                "frame", f"got {o['frame']}; expected 0 to {count - 1} (frame i: {what})"
            )

    def _check_model_drawing(self, figure: Figure, fields: Any) -> None:
        from convanim.animate import check_frame_ms
        from convanim.graph_fields import drawn_rows
        from convanim.options import RenderOptions

        o = figure.options
        count = len(drawn_rows(fields))
        if count == 0:
            raise no_layer_to_draw(o)
        check_frame_ms(o["frame-ms"])
        RenderOptions(theme=o["theme"], scale=o["scale"])
        if o["columns"] is not None and o["columns"] > count:
            raise ParameterError(
                "columns",
                f"got {o['columns']}; a strip of {count} panels has at most {count} columns",
            )
        if o["frame"] is not None and not 0 <= o["frame"] < count:
            raise ParameterError(
                "frame", f"got {o['frame']}; expected 0 to {count - 1} (frame i: the model's "
                "i-th drawn layer, from 0: its convolutions, poolings and merges)",
            )  # fmt: skip

    def frame_count(self, figure: Figure) -> int:
        o = figure.options
        if reads_model(o):
            from convanim.graph_fields import drawn_rows

            return len(drawn_rows(load_fields(o, figure.base)))
        if o["dims"] == 1:
            from convanim.receptive import layer_sizes

            return int(layer_sizes(self.model(figure), o["input"], dims=1)[-1])
        return len(self.model(figure))

    def check_output(self, figure: Figure, suffix: str) -> None:
        from convanim.formats import writer_for

        o = figure.options
        if writer_for(suffix).animates:
            if o["frame"] is not None:
                raise ParameterError(
                    "frame", f"got {o['frame']}; a single frame is written as .png, .svg or .pdf"
                )
            if o["columns"] is not None:
                raise ParameterError(
                    "columns",
                    f"got {o['columns']}; an animation has no columns: write a .png, .svg or "
                    ".pdf strip, or leave columns out",
                )
            if o["unit"] is not None and o["dims"] == 1:
                raise ParameterError(
                    "output_unit",
                    f"got {o['unit']!r}; a .gif shows every output unit in turn, a .png one "
                    "of them",
                )
            count = self.frame_count(figure)
            if count > o["max-frames"]:
                raise ParameterError(
                    "max_frames",
                    f"the animation would have {count:,} frames, over the limit of "
                    f"{o['max-frames']:,}; use a smaller input, or raise --max-frames",
                )

    def still(self, figure: Figure) -> bool:
        o = figure.options
        return o["frame"] is not None or (o["dims"] == 1 and o["unit"] is not None)

    # -- drawing ----------------------------------------------------------------------------

    def save(self, figure: Figure, output: Output) -> Path:
        from convanim.animate import save_rf
        from convanim.options import RenderOptions

        o = figure.options
        self.check_output(figure, output.path.suffix.lower())
        if reads_model(o):
            return self._save_model(figure, output)
        return save_rf(
            self.model(figure),
            output,
            RenderOptions(theme=o["theme"], scale=o["scale"]),
            dims=o["dims"],
            input_size=_size(o["input"]),
            output_unit=_size(o["unit"]),
        )

    def poster(self, figure: Figure) -> Poster:
        """2-D: the last panel, the final level's field of the drawn unit (``--unit``, default
        the centre), which holds every layer's growth; 1-D: the tree of ``--unit`` (default
        the last output unit)."""
        from convanim.kinds import Poster
        from convanim.options import RenderOptions

        o = figure.options
        options = RenderOptions(theme=o["theme"], scale=o["scale"])
        if reads_model(o):  # the last drawn layer's field
            titles, model_map = _model_map(figure)
            return Poster(
                model_map, len(titles) - 1, f"the field of the last drawn layer, {titles[-1]}"
            )
        stack, size = self.model(figure), _size(o["input"])
        unit = _size(o["unit"])
        if o["dims"] == 1:
            last = self.frame_count(figure) - 1
            frame = last if unit is None else int(unit)

            def tree() -> Any:
                from convanim.rf_render import DependencyDiagram

                return DependencyDiagram(stack, size, options)

            return Poster(tree, frame, f"the dependency tree of output unit {frame + 1}")

        def strip() -> Any:
            from convanim.rf_render import FieldStrip

            return FieldStrip(stack, size, options, dims=2, output_unit=unit)

        which = (
            "the centre unit" if unit is None else f"unit row {unit[0] + 1}, column {unit[1] + 1}"
        )
        words = f"the field of {which} of the last layer, layer {len(stack)}"
        return Poster(strip, len(stack) - 1, words)

    def _save_model(self, figure: Figure, output: Output) -> Path:
        from convanim.animate import check_request, save_drawing

        titles, model_map = _model_map(figure)
        request = check_request(
            output,
            len(titles),
            min(len(titles), MODEL_COLUMNS),
            frame_note="frame i: the model's i-th drawn layer",
            strip_advice="write a .gif or one --frame, or use a smaller --scale",
        )
        return save_drawing(model_map, request)

    def _brief(self, figure: Figure) -> str:
        stack = self.model(figure)
        last = self._stats(figure)[-1]
        field = _field_cell(_field(last), _plain(last.period))  # 3|5 where units differ
        return f"{len(stack)} layers, last field {field}"

    def cost(self, figure: Figure, animated: bool) -> float:
        o = figure.options
        if reads_model(o):
            return 40.0 + 4.0 * (self.frame_count(figure) if animated else 1)
        frames = o["input"] if o["dims"] == 1 else len(self.model(figure))
        return 10.0 + 4.0 * (frames if animated else 1)

    # -- words ------------------------------------------------------------------------------

    def _stats(self, figure: Figure) -> Any:
        from convanim.receptive import receptive_field_stats

        o = figure.options
        return receptive_field_stats(self.model(figure), _size(o["input"]), dims=o["dims"])

    def alt_text(self, figure: Figure) -> str:
        options = figure.options
        if reads_model(options):
            return _model_alt_text(options, figure.base)
        stack = self.model(figure)
        stats = self._stats(figure)
        kernels = sorted({str(layer["kernel_size"]) for layer in stack})
        dilations = [str(layer["dilation"]) for layer in stack]
        count = len(stack)
        what = "convolution" if count == 1 else "convolutions"
        flipped = [str(i) for i, layer in enumerate(stack, 1) if layer.get("transposed") is True]
        if flipped:
            layer_word = "layer" if len(flipped) == 1 else "layers"
            flipped_words = f", {layer_word} {_listing(flipped)} transposed"
        else:
            flipped_words = ""
        if options["dims"] == 1:
            causal = "causal " if options["causal"] else ""
            last = stats[-1]
            units = _or(sorted(set(last.sizes))) if last.varies else str(last.size)
            by_position = f", by its position ({_rhythm(last.period)})" if last.varies else ""
            return (
                f"Dependency tree of one output unit in a stack of {count} {causal}1-D {what} "
                f"(kernel {_listing(kernels)}, dilation {_listing(dilations)}{flipped_words}): "
                f"it depends on {units} input units{by_position}."
            )
        varying = [_varying_words(entry) for entry in stats if entry.varies]
        levels = [list(size) for size in self._levels(figure)]
        picked = options["unit"]
        # The drawn unit's field per panel: each level's centre unit, or the one picked.
        fields = [
            TIMES.join(str(v) for v in entry.size_of(tuple(picked or _centre(level))))
            for entry, level in zip(stats, levels, strict=True)
        ]
        params = {entry.params for entry in stats}
        same = f", with the same {stats[0].params} weights per layer" if len(params) == 1 else ""
        unit = "the centre unit" if picked is None else "one unit"
        position = (
            " Above a transposed layer a unit's field depends on its position: "
            + "; ".join(varying)
            + "."
            if varying
            else ""
        )
        return (
            f"Receptive field of {unit} of a stack of {count} {what} (kernel "
            f"{_listing(kernels)}, dilation {_listing(dilations)}{flipped_words}) growing to "
            f"{_listing(fields)} after each layer{same}.{position}"
        )

    def _levels(self, figure: Figure) -> Any:
        from convanim.receptive import layer_sizes

        o = figure.options
        return layer_sizes(self.model(figure), _size(o["input"]), dims=o["dims"])

    def facts(self, figure: Figure) -> dict[str, Any]:
        o = figure.options
        if reads_model(o):
            fields = load_fields(o, figure.base)
            return {
                "dims": fields.dims,
                "input_size": list(fields.input_size),
                "layers": model_rows(fields),
                "ended": fields.ended or None,
            }
        rows = layer_rows(self.model(figure), self._stats(figure))
        return {"dims": o["dims"], "input_size": o["input"], "layers": rows}

    def info(self, figure: Figure) -> str:
        facts = self.facts(figure)
        if reads_model(figure.options):
            table = model_table(facts["layers"])
            return table + (f"\n({facts['ended']})" if facts["ended"] else "")
        return info_table(facts["layers"])

    def brief(self, figure: Figure) -> str:
        if reads_model(figure.options):
            from convanim.graph_fields import drawn_rows

            fields = load_fields(figure.options, figure.base)
            return f"{len(drawn_rows(fields))} of {len(fields.rows)} layers drawn"
        return self._brief(figure)


def _model_map(figure: Figure) -> tuple[list[str], Callable[[], Any]]:
    """A model figure's drawing: the titles of its drawn layers (frame i: layer i's), and
    what draws them (a ``ModelFieldMap``, made when called)."""
    from convanim.graph_fields import drawn_rows
    from convanim.model_render import model_title
    from convanim.options import RenderOptions

    o = figure.options
    fields = load_fields(o, figure.base)
    rows = drawn_rows(fields)
    titles = [model_title(row) for row in rows]
    options = RenderOptions(theme=o["theme"], scale=o["scale"])

    def model_map() -> Any:
        from convanim.model_render import ModelFieldMap

        return ModelFieldMap(rows, fields.input_size, titles, options)

    return titles, model_map


def _model_alt_text(options: Mapping[str, Any], base: Path) -> str:
    """A model's figure in words: the layers drawn and how their fields grow."""
    from convanim.graph_fields import drawn_rows
    from convanim.model_render import field_caption

    fields = load_fields(options, base)
    rows = drawn_rows(fields)
    source = options[model_source(options)]
    size = TIMES.join(map(str, fields.input_size))
    if not rows:
        return f"Receptive fields of the model {source} on a {size} input: no layer to draw."
    if options["frame"] is not None:
        row = rows[options["frame"]]
        return (
            f"Receptive field of the centre unit of layer {row.layer}, {row.name} ({row.op}), "
            f"of the model {source}, outlined on its {size} input: "
            f"{field_caption(row).replace(' · ', ', ')}."
        )

    def extent(row: Any) -> str:
        return TIMES.join(str(s[1] - s[0] + 1) if s else "0" for s in row.centre_field)

    clipped = next((row for row in rows if row.clipped), None)
    past = (
        f"; from layer {clipped.layer} ({clipped.name}) on, fields run past the input"
        if clipped is not None
        else ""
    )
    return (
        f"Receptive fields of the centre units of {len(rows)} layers of the model {source} "
        f"(its convolutions, poolings and merges of branches), each outlined on the {size} "
        f"input: from {extent(rows[0])} at layer {rows[0].layer} ({rows[0].name}) to "
        f"{extent(rows[-1])} at layer {rows[-1].layer} ({rows[-1].name}){past}."
    )


def complete_model(
    options: Mapping[str, Any], given: frozenset[str], layered: Sequence[str]
) -> str | None:
    """The model a kind's options read its layers from (``params.MODEL``), checked: "torch",
    "onnx", or None for a stack (which then refuses --input-shape). ``layered`` are the
    options a model's layers leave no room for."""
    if options["torch"] is not None and options["onnx"] is not None:
        raise ParameterError("torch", "give --torch or --onnx, not both")
    if not reads_model(options):
        if options["input-shape"] is not None:
            raise ParameterError("input-shape", "it is the input of --torch or --onnx models")
        return None
    source = model_source(options)
    found = [key for key in layered if key in given]
    if found:
        raise ParameterError(found[0], f"the layers come from --{source}; leave --{found[0]} out")
    if source == "torch" and options["input-shape"] is None:
        raise ParameterError("input-shape", "--torch needs the input's shape, like 3,224,224")
    return source


def reads_model(options: Mapping[str, Any]) -> bool:
    return options.get("torch") is not None or options.get("onnx") is not None


def model_source(options: Mapping[str, Any]) -> str:
    """The option that names a model figure's model (``reads_model``): "torch" or "onnx"."""
    return "torch" if options.get("torch") is not None else "onnx"


def no_layer_to_draw(options: Mapping[str, Any]) -> ParameterError:
    """The error of a model figure whose model has no layer to draw."""
    return ParameterError(
        model_source(options),
        "the model has no convolution, pooling or merge of branches before its analysis "
        "ends: no layer to draw",
    )


def model_files(figure: Figure) -> dict[str, Path]:
    """The model file a figure reads (``--torch``'s .py target or ``--onnx``'s file), if any."""
    o = figure.options
    if not reads_model(o):
        return {}
    from convanim.model_fields import model_files as files

    return files(o["torch"], o["onnx"], figure.base)


_LOADED: dict[tuple[Any, ...], Any] = {}


def load_fields(options: Mapping[str, Any], base: Path) -> Any:
    """The rows of ``--torch`` or ``--onnx``, its files relative to ``base`` (read once per
    process and options)."""
    from convanim.graph_fields import ModelError
    from convanim.model_fields import load_model, locate, onnx_fields, receptive_fields

    torch, onnx = locate(options["torch"], options["onnx"], base)
    key = (torch, onnx, options["input-shape"])
    if key not in _LOADED:
        source = model_source(options)
        try:
            if torch is not None:
                fields = receptive_fields(load_model(torch), options["input-shape"])
            else:
                fields = onnx_fields(str(onnx), options["input-shape"])
        except ModelError as error:
            raise ParameterError(source, error.detail) from None
        _LOADED[key] = fields
    return _LOADED[key]


def _axes_value(values: Any) -> Any:
    """Per-axis numbers for JSON: a plain value in 1-D, a list in 2-D."""
    if values is None:
        return None
    plain = [_plain(v) for v in values]
    return plain[0] if len(plain) == 1 else plain


def _padding_value(pads: Any) -> Any:
    if pads is None:
        return None
    per_axis = [p[0] if p[0] == p[1] else list(p) for p in pads]
    return per_axis[0] if len(per_axis) == 1 else per_axis


def _centre_value(value: Any) -> Any:
    return int(value) if value.denominator == 1 else float(value)


def model_rows(fields: Any) -> list[dict[str, Any]]:
    """The per-layer rows of ``rf --torch/--onnx --json``: ``rf --json``'s keys, with the
    layer's ``name`` and ``op``, its ``output_size``, the ``centre`` of unit 0's field, whether
    the centre unit's field is ``clipped`` by the input, and the levels a ``branch`` merges.
    Window keys (kernel, stride, padding, dilation) are null for layers without a window."""
    rows = []
    for row in fields:
        entry = row.field
        rows.append(
            {
                "layer": row.layer,
                "name": row.name,
                "op": row.op,
                "kernel": _axes_value(row.kernel_size),
                "stride": _axes_value(row.stride),
                "padding": _padding_value(row.padding),
                "dilation": _axes_value(row.dilation),
                "transposed": row.transposed,
                "output_padding": _axes_value(row.output_padding) or 0,
                "params": entry.params,
                "field": _field(entry),
                "period": _plain(entry.period),
                "effective_stride": _plain(entry.stride),
                "start": _plain(entry.start),
                "method": entry.method,
                "output_size": _axes_value(row.output_size),
                "centre": [_centre_value(c) for c in row.centre]
                if len(row.centre) > 1
                else _centre_value(row.centre[0]),
                "clipped": row.clipped,
                "branch": list(row.branch),
            }
        )
    return rows


def model_table(rows: list[dict[str, Any]]) -> str:
    """A model's rows as an aligned text table (a merge's row: 'union of a + b')."""

    def cell(key: str, row: dict[str, Any]) -> str:
        value = row[key]
        if key == "field":
            return _field_cell(value, row["period"])
        if key == "branch":
            return "union of " + " + ".join(value) if value else ""
        if value is None:
            return "-"
        if isinstance(value, bool):
            return "yes" if value else "no"
        if isinstance(value, list):
            shown = [str(v) for v in value]
            return "x".join(shown) if len(set(shown)) > 1 else shown[0]
        return str(value)

    varies = any(row["period"] not in (1, [1, 1]) for row in rows)
    keys = ["layer", "name", "op", "output_size", "field", *(["period"] if varies else []),
            "effective_stride", "start", "centre", "clipped", "branch"]  # fmt: skip
    heads = {"output_size": "output", "effective_stride": "jump", "branch": "from"}
    cells = [[cell(key, row) for key in keys] for row in rows]
    titles = [heads.get(key, key) for key in keys]
    widths = [max(len(t), *(len(c[i]) for c in cells)) for i, t in enumerate(titles)]
    lines = ["  ".join(t.ljust(w) for t, w in zip(titles, widths, strict=True)).rstrip()]
    lines += [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells
    ]
    if varies:
        lines.append(
            "(a|b: units differ; unit u's field is the (u mod period)-th size, from 0, per axis)"
        )
    return "\n".join(lines)


def layers(options: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One dict of ConvSpec keywords per layer from the per-layer lists."""
    lists = {
        "kernel_size": options["kernel"],
        "stride": options["stride"],
        "dilation": options["dilation"],
        "padding": ["causal"] if options["causal"] else options["padding"],
        "transposed": options["transposed"],
        "output_padding": options["output-padding"],
    }
    counts = {key: len(v) for key, v in lists.items() if len(v) > 1}
    if len(set(counts.values())) > 1:
        names = {"kernel_size": "kernel", "output_padding": "output-padding"}
        given = ", ".join(f"{names.get(k, k)} has {count}" for k, count in counts.items())
        raise ParameterError(
            "layers", f"{given} values; give one value (used for every layer) or one per layer"
        )
    count = max(counts.values(), default=1)
    stack = []
    for i in range(count):
        layer = {key: values[i if len(values) > 1 else 0] for key, values in lists.items()}
        # A direct layer's dict holds only the four keys it always had.
        if layer["transposed"]:
            layer["transposed"] = True
        else:
            del layer["transposed"]
        if layer["output_padding"] == 0:
            del layer["output_padding"]
        stack.append(layer)
    return stack


def _size(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def _check_unit(unit: Any, levels: Sequence[Any], dims: int) -> None:
    """A unit every level has (2-D: a row,col; 1-D: a unit of the last level)."""
    if dims == 1:
        last = levels[-1]
        if not isinstance(unit, int) or not 0 <= unit < last:
            raise ParameterError(
                "output_unit",
                f"got {unit!r}; expected a unit of the {last}-unit output of layer "
                f"{len(levels)}, 0 to {last - 1}",
            )
        return
    rows = min(level[0] for level in levels)
    cols = min(level[1] for level in levels)
    if not (isinstance(unit, list) and len(unit) == 2):
        raise ParameterError(
            "output_unit", f"got {unit!r}; a 2-D stack takes row,col, like {rows // 2},{cols // 2}"
        )
    row, col = unit
    if not (0 <= row < rows and 0 <= col < cols):
        raise ParameterError(
            "output_unit",
            f"got {row},{col}; expected a (row, col) every layer's output has: rows 0 to "
            f"{rows - 1}, cols 0 to {cols - 1}",
        )


def _listing(values: Sequence[Any], last: str = "and") -> str:
    words = [str(v) for v in values]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + f" {last} " + words[-1]


def _or(values: Sequence[Any]) -> str:
    return _listing(values, "or")


def _centre(level: Sequence[int]) -> tuple[int, ...]:
    return tuple((n - 1) // 2 for n in level)


def _rhythm(period: int) -> str:
    """How sizes over a period take turns, in words."""
    if period == 1:
        return ""
    return "alternating" if period == 2 else f"repeating every {period} units"


def _varying_words(entry: Any) -> str:
    """A 2-D layer whose units' fields differ: '3 or 5 cells per axis, alternating, after
    layer 2'; per axis where the axes differ."""

    def axis(sizes: Sequence[int], period: int, noun: str) -> str:
        rhythm = _rhythm(period)
        return f"{_or(sorted(set(sizes)))} {noun}" + (f", {rhythm}" if rhythm else "")

    (rows, cols), (row_period, col_period) = entry.sizes, entry.period
    if rows == cols:
        words = axis(rows, row_period, "cells per axis")
    else:
        words = f"{axis(rows, row_period, 'rows')} by {axis(cols, col_period, 'columns')}"
    return f"{words}, after layer {entry.layer}"


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if hasattr(value, "denominator"):
        return int(value) if value.denominator == 1 else str(value)
    return value


def _field(entry: Any) -> Any:
    """A layer's field for JSON: its size where every unit's is the same; else, on each axis
    whose units differ, the list of sizes of units 0 to period - 1."""
    if not entry.varies:
        return _plain(entry.size)
    if isinstance(entry.period, int):
        return list(entry.sizes)
    return [
        list(sizes) if period > 1 else sizes[0]
        for sizes, period in zip(entry.sizes, entry.period, strict=True)
    ]


def layer_rows(stack: Sequence[Mapping[str, Any]], stats: Sequence[Any]) -> list[dict[str, Any]]:
    """The per-layer table of ``rf --info``: JSON-ready.

    ``field`` is the extent of every unit's field (2-D: [rows, cols]); where units differ,
    each axis that differs holds a list instead, the sizes of units 0, 1, ... of one
    ``period``: unit u's field is the (u mod period)-th (per axis in 2-D).
    """
    return [
        {
            "layer": entry.layer,
            "kernel": layer["kernel_size"],
            "stride": layer["stride"],
            "padding": layer["padding"],
            "dilation": layer["dilation"],
            "transposed": layer.get("transposed") is True,
            "output_padding": layer.get("output_padding", 0),
            "params": entry.params,
            "field": _field(entry),
            "period": _plain(entry.period),
            "effective_stride": _plain(entry.stride),
            "start": _plain(entry.start),
            "method": entry.method,
        }
        for layer, entry in zip(stack, stats, strict=True)
    ]


def _field_cell(field: Any, period: Any) -> str:
    """A field for the text table: 3 or 3x5 (rows x cols); where units differ, the sizes of
    units 0, 1, ... of a period in turn, 3|5 (per axis in 2-D: 3|5x7)."""
    if isinstance(period, int):  # 1-D
        return "|".join(map(str, field)) if isinstance(field, list) else str(field)
    axes = ["|".join(map(str, v)) if isinstance(v, list) else str(v) for v in field]
    return axes[0] if len(set(axes)) == 1 else "x".join(axes)


def info_table(rows: list[dict[str, Any]]) -> str:
    """Rows of dicts as an aligned text table."""

    def cell(value: Any) -> str:
        if isinstance(value, bool):
            return "yes" if value else "no"
        if isinstance(value, list):
            return (
                "x".join(str(v) for v in value) if len(set(map(str, value))) > 1 else str(value[0])
            )
        return str(value)

    transposed = any(row["transposed"] for row in rows)
    varies = any(row["period"] not in (1, [1, 1]) for row in rows)
    keys = ["layer", "kernel", "stride", "padding", "dilation",
            *(["transposed", "output_padding"] if transposed else []), "params", "field",
            *(["period"] if varies else []), "effective_stride", "start"]  # fmt: skip
    cells = [
        [_field_cell(row[key], row["period"]) if key == "field" else cell(row[key]) for key in keys]
        for row in rows
    ]
    widths = [max(len(key), *(len(c[i]) for c in cells)) for i, key in enumerate(keys)]
    lines = ["  ".join(key.ljust(w) for key, w in zip(keys, widths, strict=True)).rstrip()]
    lines += [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells
    ]
    if any(row["method"] != "closed form" for row in rows):
        lines.append("(rows below a transposed layer are derived from the exact cells)")
    if varies:
        lines.append(
            "(a|b: units differ; unit u's field is the (u mod period)-th size, from 0, per axis)"
        )
    return "\n".join(lines)


KIND = ReceptiveField()
