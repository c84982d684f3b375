"""Figure descriptions: the one vocabulary of the command line, manifests, the gallery and Sphinx.

A description is a mapping of option names to values, spelt as the command line spells its long
options (``kernel``, ``output-padding``; ``output_padding`` is taken too), plus ``kind``
(``conv``, ``pool`` or ``rf``). ``parse_figure`` validates it completely, without rendering,
into a ``Figure``; ``Figure.render`` writes it. A figure's ``fingerprint`` changes exactly when
its picture would: with its description, with the content of the value files it reads, and
with ``OUTPUT_VERSION``.
"""

from __future__ import annotations

import difflib
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from convanim.geometry import ConvSpec, ConvSpecError

__all__ = [
    "KEYS",
    "KINDS",
    "OUTPUT_VERSION",
    "Figure",
    "FigureError",
    "option_name",
    "parse_figure",
    "parse_padding",
    "parse_size",
]

# Bump when a change to convanim changes the pixels or bytes of existing figures.
OUTPUT_VERSION = "3"

KINDS = ("conv", "pool", "rf")
_DRAWING = ("view", "theme", "labels", "scale", "frame-ms", "columns", "frame", "max-frames")
_VALUES = ("values", "seed", "input-values")
KEYS: dict[str, tuple[str, ...]] = {
    "conv": (
        "input",
        "kernel",
        "stride",
        "padding",
        "dilation",
        "transposed",
        "output-padding",
        *_DRAWING,
        *_VALUES,
        "kernel-values",
    ),
    "pool": ("mode", "input", "kernel", "stride", "padding", "dilation", *_DRAWING, *_VALUES),
    "rf": (
        "kernel",
        "stride",
        "dilation",
        "padding",
        "causal",
        "dims",
        "input",
        "unit",
        "theme",
        "scale",
        "frame-ms",
    ),
}
DEFAULTS: dict[str, Any] = {
    "kernel": 3,
    "stride": 1,
    "padding": 0,
    "dilation": 1,
    "transposed": False,
    "output-padding": 0,
    "view": "oblique",
    "theme": "solarized",
    "labels": False,
    "scale": 1.0,
    "frame-ms": 1000,
    "columns": None,
    "frame": None,
    "max-frames": 1024,
    "values": False,
    "seed": 0,
    "input-values": None,
    "kernel-values": None,
    "mode": "max",
    "causal": False,
    "dims": 2,
    "unit": None,
}
RF_DEFAULTS: dict[str, Any] = {"padding": "same"}  # the layers overlay, as Yu & Koltun draw

# ConvSpecError.param (the library's words) to the option that sets it.
_PARAM_KEYS = {
    "input_size": "input",
    "kernel_size": "kernel",
    "output_padding": "output-padding",
    "output_size": "input/kernel/padding/dilation",
    "frame_ms": "frame-ms",
    "max_frames": "max-frames",
    "op": "mode",
    "x": "input-values",
    "weight": "kernel-values",
    "input_values": "input-values",
    "kernel_values": "kernel-values",
    "output_unit": "unit",
}


def option_name(param: str) -> str:
    """The description key (and long option, without '--') that sets a library parameter."""
    return _PARAM_KEYS.get(param, param.replace("_", "-"))


class FigureError(ConvSpecError):
    """An invalid figure description; ``figure`` names the figure, ``param`` the key."""

    def __init__(self, figure: str, param: str, message: str) -> None:
        super().__init__(param, message)
        self.figure = figure
        self.args = (f"figure '{figure}': {param}: {message}",)


# -- values as the command line and TOML spell them ---------------------------------------


def parse_size(key: str, value: Any) -> Any:
    """``5``, ``"5"``, ``"5,7"`` or ``[5, 7]`` as ConvSpec takes it (checked there)."""
    if isinstance(value, str):
        try:
            numbers = [int(part) for part in value.split(",")]
        except ValueError:
            numbers = []
        if len(numbers) == 1:
            return numbers[0]
        if len(numbers) == 2:
            return (numbers[0], numbers[1])
        raise ConvSpecError(key, f"got '{value}'; expected an integer like 5 or rows,cols like 5,7")
    if isinstance(value, list):
        return tuple(value)
    return value


def parse_padding(key: str, value: Any) -> Any:
    """Padding: an int, ``rows,cols``, ``top,bottom,left,right``, a mode, or lists of those."""
    if isinstance(value, str) and value in ("valid", "same", "full", "causal"):
        return value
    if isinstance(value, str):
        try:
            numbers = [int(part) for part in value.split(",")]
        except ValueError:
            numbers = []
        if len(numbers) in (1, 2):
            return numbers[0] if len(numbers) == 1 else (numbers[0], numbers[1])
        value = numbers if numbers else value
        if not numbers:
            raise ConvSpecError(
                key,
                f"got '{value}'; expected 1, rows,cols like 1,2, top,bottom,left,right like "
                "0,1,0,1, or valid|same|full",
            )
    if isinstance(value, (list, tuple)):
        if len(value) == 4 and all(isinstance(v, int) for v in value):
            return (value[0], value[1]), (value[2], value[3])
        return tuple(tuple(v) if isinstance(v, list) else v for v in value)
    return value


def _layer_list(key: str, value: Any, kinds: tuple[type, ...] = (int,)) -> list[Any]:
    """One value per layer: ``1,2,4``, ``[1, 2, 4]`` or a single value."""
    if isinstance(value, str):
        parts = value.split(",")
        try:
            return [int(p) if p.lstrip("-").isdigit() else p for p in parts]
        except ValueError:
            pass
    if isinstance(value, (list, tuple)):
        return list(value)
    if isinstance(value, kinds) and not isinstance(value, bool):
        return [value]
    raise ConvSpecError(key, f"got {value!r}; expected one value or a list, one per layer")


def _choice(key: str, value: Any, choices: tuple[Any, ...]) -> Any:
    if value not in choices:
        names = ", ".join(str(c) for c in choices)
        raise ConvSpecError(key, f"got {value!r}; expected one of {names}")
    return value


def _typed(key: str, value: Any, kind: type, what: str) -> Any:
    if value is None:
        return None
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ConvSpecError(key, f"got {value!r}; expected {what}")
    return value


# -- the figure ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    """A validated figure: ``kind`` and its normalised ``options`` (every key, JSON-ready)."""

    name: str
    kind: str
    options: Mapping[str, Any]
    base: Path = field(default=Path("."), compare=False)  # value files are relative to it

    @property
    def spec(self) -> ConvSpec:
        """The convolution of a conv or pool figure."""
        o = self.options
        extra = {}
        if self.kind == "conv":
            extra = {
                "transposed": o["transposed"],
                "output_padding": parse_size("output-padding", o["output-padding"]),
            }
        return ConvSpec(
            input_size=parse_size("input", o["input"]),
            kernel_size=parse_size("kernel", o["kernel"]),
            stride=parse_size("stride", o["stride"]),
            padding=parse_padding("padding", o["padding"]),
            dilation=parse_size("dilation", o["dilation"]),
            **extra,
        )

    @property
    def layers(self) -> list[dict[str, Any]]:
        """The stack of an rf figure: one dict of ConvSpec keywords per layer."""
        return _layers(self.options)

    def _files(self) -> dict[str, str]:
        """Content hashes of the value files the figure reads."""
        hashes = {}
        for key in ("input-values", "kernel-values"):
            name = self.options.get(key)
            if isinstance(name, str):
                path = self.base / name
                try:
                    hashes[key] = hashlib.sha256(path.read_bytes()).hexdigest()
                except OSError:
                    hashes[key] = "missing"
        return hashes

    def fingerprint(self) -> str:
        """Changes exactly when the rendered file would."""
        payload = {
            "kind": self.kind,
            "options": dict(self.options),
            "files": self._files(),
            "output_version": OUTPUT_VERSION,
        }
        text = json.dumps(payload, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:32]

    def command(self) -> str:
        """The ``convanim`` command line that draws this figure (options that differ from
        the defaults), with ``OUTPUT`` for the file."""
        defaults = {**DEFAULTS, **RF_DEFAULTS} if self.kind == "rf" else DEFAULTS
        words = ["convanim", self.kind]
        for key, value in self.options.items():
            default = defaults.get(key)
            if self.kind == "rf" and isinstance(default, (int, str)):
                default = [default]
            if value == default or value is None or (key == "input" and self.kind == "rf"):
                continue
            if isinstance(value, bool):
                words.append(f"--{key}" if value else f"--no-{key}")
            elif isinstance(value, list) and value and isinstance(value[0], list):
                words.append(f"--{key} FILE")
            elif isinstance(value, list):
                words.append(f"--{key} {','.join(str(v) for v in value)}")
            else:
                words.append(f"--{key} {value}")
        return " ".join([*words, "-o", "OUTPUT"])

    def alt_text(self) -> str:
        """What the figure shows, in one sentence, for alt text and captions."""
        from convanim.describe import alt_text

        return alt_text(self)

    def render(self, path: str | Path, stamp: bool = True) -> Path:
        """Write the figure to ``path`` (.gif, .png, .svg or .pdf); returns the path.

        With ``stamp``, the file carries the figure's fingerprint, so that a later build can
        tell whether it is current without another record.
        """
        from convanim.animate import Output, save
        from convanim.options import RenderOptions

        o = self.options
        fingerprint = self.fingerprint() if stamp else None
        output = Output(
            path=Path(path),
            frame_ms=o["frame-ms"],
            columns=o.get("columns"),
            frame=o.get("frame"),
            max_frames=o.get("max-frames", DEFAULTS["max-frames"]),
            stamp=fingerprint,
        )
        if self.kind == "rf":
            from convanim.rf_render import save_rf

            options = RenderOptions(theme=o["theme"], scale=o["scale"])
            return save_rf(
                self.layers,
                output,
                options,
                dims=o["dims"],
                input_size=_rf_input(o["input"]),
                output_unit=o["unit"],
            )
        options = RenderOptions(
            view=o["view"], theme=o["theme"], labels=o["labels"], scale=o["scale"]
        )
        return save(self.spec, output, options, self.worked())

    def worked(self) -> Any:
        """The numbers a --values figure shows, or None."""
        o = self.options
        if not (o["values"] or o["input-values"] or o.get("kernel-values")):
            return None
        from convanim.values import random_values, worked

        spec = self.spec
        op = "conv" if self.kind == "conv" else o["mode"]
        x: Any
        weight: Any
        x, weight = random_values(spec, o["seed"])
        if o["input-values"]:
            x = self._values("input-values", spec.input_size)
        if o.get("kernel-values"):
            weight = self._values("kernel-values", spec.kernel_size)
        return worked(spec, x, weight if op == "conv" else None, op)

    def _values(self, key: str, shape: tuple[int, int]) -> Any:
        """Values given inline (a list of rows) or as a file name, shape-checked."""
        import numpy as np

        from convanim.values import load_values

        given = self.options[key]
        param = key.replace("-", "_")
        if isinstance(given, str):
            return load_values(self.base / given, shape, param)
        try:
            array = np.array(given, dtype=float)
        except (TypeError, ValueError):
            raise ConvSpecError(param, "expected rows of numbers, like [[1, 2], [3, 4]]") from None
        if array.shape != shape:
            raise ConvSpecError(param, f"holds values of shape {array.shape}; expected {shape}")
        return array


def parse_figure(
    name: str, raw: Mapping[str, Any], base: Path | None = None, limits: bool = True
) -> Figure:
    """Validate a description completely, without rendering: a Figure or a FigureError.

    ``output`` is not part of a figure (a manifest names it); value files are read relative
    to ``base``. ``limits=False`` skips the checks that only rendering needs (frame counts).
    """
    options = {str(key).replace("_", "-"): value for key, value in raw.items()}
    options.pop("output", None)
    kind = options.pop("kind", "conv")
    if kind not in KINDS:
        raise FigureError(name, "kind", f"got {kind!r}; expected one of {', '.join(KINDS)}")
    allowed = KEYS[kind]
    for key in options:
        if key not in allowed:
            close = difflib.get_close_matches(key, allowed, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise FigureError(
                name,
                key,
                f"unknown key for kind '{kind}'{hint}; valid keys are {', '.join(allowed)}",
            )
    if kind != "rf" and "input" not in options:
        raise FigureError(name, "input", "missing; give the input size, like input = 5")
    if kind == "rf" and options.get("causal") and "padding" in options:
        raise FigureError(name, "causal", "it sets the padding; give causal or padding, not both")
    defaults = {**DEFAULTS, **RF_DEFAULTS} if kind == "rf" else DEFAULTS
    merged = {key: options.get(key, defaults.get(key)) for key in allowed}
    try:
        normal = _normalise(kind, merged)
        if kind == "rf" and normal["input"] is None:
            from convanim.receptive import default_input_size

            size = default_input_size(_layers(normal), dims=normal["dims"])
            normal["input"] = list(size) if isinstance(size, tuple) else size
        figure = Figure(name=name, kind=kind, options=normal, base=base or Path("."))
        _check(figure, limits)
    except FigureError:
        raise
    except ConvSpecError as error:
        layer = getattr(error, "layer", None)
        detail = f"layer {layer}: {error.detail}" if layer is not None else error.detail
        raise FigureError(name, option_name(error.param), detail) from None
    return figure


def _normalise(kind: str, o: dict[str, Any]) -> dict[str, Any]:
    """Types checked, values in one JSON-ready spelling (lists, not tuples)."""

    def plain(value: Any) -> Any:
        if isinstance(value, tuple):
            return [plain(v) for v in value]
        return value

    out: dict[str, Any] = {}
    for key, value in o.items():
        if key in ("theme",):
            value = _choice(key, value, ("solarized", "dark"))
        elif key == "view":
            value = _choice(key, value, ("oblique", "flat"))
        elif key == "mode":
            value = _choice(key, value, ("max", "avg"))
        elif key in ("labels", "transposed", "values", "causal"):
            value = _typed(key, value, bool, "true or false")
        elif key == "scale":
            value = _typed(key, value, float, "a number")
        elif key in ("frame-ms", "columns", "frame", "max-frames", "seed", "unit"):
            value = _typed(key, value, int, "an integer")
        elif key in ("input-values", "kernel-values") and not isinstance(value, list):
            value = _typed(key, value, str, "a file name, or the values as a list of rows")
        elif kind == "rf" and key in ("kernel", "stride", "dilation"):
            value = _layer_list(key, value)
        elif kind == "rf" and key == "padding":
            value = _layer_list(key, value, (int, str))
        elif kind == "rf" and key == "dims":
            value = _choice(key, int(value) if isinstance(value, str) else value, (1, 2))
        elif kind == "rf" and key == "input" and value is not None:
            value = parse_size(key, value)
        elif key == "padding":
            value = parse_padding(key, value)
        elif key in ("input", "kernel", "stride", "dilation", "output-padding"):
            value = parse_size(key, value)
        out[key] = plain(value)
    return out


def _check(figure: Figure, limits: bool = True) -> None:
    """Everything that can be checked without rendering."""
    o = figure.options
    if figure.kind == "rf":
        from convanim.animate import check_frame_ms
        from convanim.receptive import receptive_field_stats

        receptive_field_stats(figure.layers, _rf_input(o["input"]), dims=o["dims"])
        check_frame_ms(o["frame-ms"])
        return
    from convanim.animate import Output, check_output_request

    spec = figure.spec
    if figure.kind == "pool":
        from convanim.values import pool_spec_check

        pool_spec_check(spec, o["mode"])
    if not limits:
        return
    check_output_request(
        spec,
        Output(
            path=Path("figure.png" if o["frame"] is not None else "figure.gif"),
            frame_ms=o["frame-ms"],
            columns=o["columns"],
            frame=o["frame"],
            max_frames=o["max-frames"],
        ),
    )
    from convanim.options import RenderOptions

    RenderOptions(view=o["view"], theme=o["theme"], labels=o["labels"], scale=o["scale"])
    if o["values"] or o["input-values"] or o.get("kernel-values"):
        figure.worked()


def _layers(options: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One dict of ConvSpec keywords per layer from an rf figure's per-layer lists."""
    lists = {
        "kernel_size": options["kernel"],
        "stride": options["stride"],
        "dilation": options["dilation"],
        "padding": ["causal"] if options["causal"] else options["padding"],
    }
    counts = {key: len(v) for key, v in lists.items() if len(v) > 1}
    if len(set(counts.values())) > 1:
        names = {"kernel_size": "kernel", "stride": "stride", "dilation": "dilation"}
        given = ", ".join(f"{names.get(k, k)} has {count}" for k, count in counts.items())
        raise ConvSpecError(
            "layers", f"{given} values; give one value (used for every layer) or one per layer"
        )
    count = max(counts.values(), default=1)
    return [
        {key: values[i if len(values) > 1 else 0] for key, values in lists.items()}
        for i in range(count)
    ]


def _rf_input(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value
