"""The ``conv`` kind: a convolution, direct or transposed, 1-D or 2-D, as PyTorch's ``Conv1d``,
``Conv2d``, ``ConvTranspose1d`` and ``ConvTranspose2d`` define it; the conv_arithmetic animation.

The geometry parameters, the worked numbers and the text of this module serve the ``pool``
kind too, which is the same picture with a window instead of a kernel.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple

from convanim.errors import ParameterError
from convanim.kinds import Kind
from convanim.params import DRAWING, OUTPUT, VALUES, Param, boolean, choice, padding, size, values

if TYPE_CHECKING:
    from convanim.animate import Output
    from convanim.figures import Figure
    from convanim.geometry import ConvSpec
    from convanim.values import Worked

__all__ = ["GEOMETRY", "KIND", "Conv", "LayerWords", "layer_words"]

TIMES = "\u00d7"

GEOMETRY = (
    Param(
        "input",
        size,
        None,
        "Input size: 5, or rows,cols like 5,7 (2-D).",
        api="input_size",
        short="i",
        metavar="SIZE",
    ),
    Param(
        "kernel",
        size,
        3,
        "Kernel size: 3, or rows,cols.",
        api="kernel_size",
        short="k",
        metavar="SIZE",
    ),
    Param("stride", size, 1, "Stride: 2, or rows,cols.", short="s", metavar="SIZE"),
    Param(
        "padding",
        padding,
        0,
        "Padding: 1, rows,cols, top,bottom,left,right (2-D), left,right (1-D), or valid|same|full.",
        short="p",
        metavar="PADDING",
    ),
    Param("dilation", size, 1, "Dilation: 2, or rows,cols.", short="d", metavar="SIZE"),
)
DIMS = Param(
    "dims",
    choice(1, 2),
    2,
    "2: Conv2d, a grid; 1: Conv1d, a row of cells.",
    metavar="N",
    stamped_at_default=False,
)
TRANSPOSED = (
    Param(
        "transposed",
        boolean,
        False,
        "A transposed convolution (PyTorch's ConvTranspose1d/2d).",
        flag=True,
    ),
    Param(
        "output-padding",
        size,
        0,
        "Extra output cells of a transposed convolution, at the bottom/right: 1, or rows,cols.",
        metavar="SIZE",
    ),
)
KERNEL_VALUES = Param(
    "kernel-values",
    values,
    None,
    "Kernel weights: a .npy, .csv or .txt file, or rows like [[0,1],[2,0]] (implies --values).",
    api="weight",
    metavar="FILE",
)
AXES = {1: ("length",), 2: ("rows", "cols")}


class Conv(Kind):
    """A convolution (``op`` "conv"); ``Pool`` changes the op and the words."""

    name = "conv"
    summary = "Animate a convolution: a GIF, a PNG strip of every frame, or one frame."
    description = "Parameters mean what they mean in PyTorch's Conv1d/2d and ConvTranspose1d/2d."
    examples: Sequence[str] = (
        "conv -i 5 -k 3 -o no_padding.gif",
        "conv -i 5 -k 3 -s 2 -p 1 -o padding_strides.gif",
        "conv -i 7 -k 3 -d 2 -o dilation.gif",
        "conv -i 2 -k 3 -s 2 --transposed --labels -o transposed.gif",
        "conv -i 5,7 -k 3 -p same --view flat -o strip.png --columns 7",
        "conv -i 5 -k 3 -o frame.png --frame 4",
        "conv -i 5 -k 3 --values --view flat --seed 1 -o numbers.gif",
        "conv --dims 1 -i 7 -k 3 -o conv1d.gif",
        "conv -i 5 -k 3 -s 2 -p 1 --info",
    )
    params: Sequence[Param] = (
        *GEOMETRY,
        *TRANSPOSED,
        DIMS,
        *DRAWING,
        *OUTPUT,
        *VALUES,
        KERNEL_VALUES,
    )
    derived: ClassVar[Mapping[str, str]] = {
        "output_size": "input/kernel/padding/dilation",
        "x": "input-values",
        "input_values": "input-values",
        "kernel_values": "kernel-values",
    }
    required: ClassVar[Mapping[str, str]] = {"input": "the input size, like 5 or 5,7"}

    # -- the model --------------------------------------------------------------------------

    def spec_arguments(self, options: Mapping[str, Any]) -> dict[str, Any]:
        """ConvSpec's keyword arguments from the options (2-D arguments for a 2-D spec)."""
        arguments: dict[str, Any] = {
            "input_size": _tuple(options["input"]),
            "kernel_size": _tuple(options["kernel"]),
            "stride": _tuple(options["stride"]),
            "padding": _tuple(options["padding"]),
            "dilation": _tuple(options["dilation"]),
        }
        if "transposed" in options:
            arguments["transposed"] = options["transposed"]
            arguments["output_padding"] = _tuple(options["output-padding"])
        arguments["dims"] = options.get("dims", 2)  # a 3-tuple size alone is 3-D to ConvSpec
        return arguments

    def model(self, figure: Figure) -> ConvSpec:
        from convanim.geometry import ConvSpec

        return ConvSpec(**self.spec_arguments(figure.options))

    def op(self, options: Mapping[str, Any]) -> str:
        """What the window computes: "conv" here; a pooling kind's mode."""
        return "conv"

    def shows_values(self, options: Mapping[str, Any]) -> bool:
        return bool(options["values"] or options["input-values"] or options.get("kernel-values"))

    def worked(self, figure: Figure) -> Worked | None:
        """The numbers a figure with values shows, or None."""
        o = figure.options
        if not self.shows_values(o):
            return None
        from convanim.values import random_values, worked

        spec = self.model(figure)
        x: Any
        weight: Any
        x, weight = random_values(spec, o["seed"])
        if o["input-values"] is not None:
            x = _values(figure, "input-values", "input_values", spec.input_size)
        if o.get("kernel-values") is not None:
            weight = _values(figure, "kernel-values", "kernel_values", spec.kernel_size)
        op = self.op(o)
        return worked(spec, x, weight if op == "conv" else None, op)

    # -- checks -----------------------------------------------------------------------------

    def complete(self, options: dict[str, Any], given: frozenset[str]) -> None:
        if "seed" in given and not self.shows_values(options):
            raise ParameterError(
                "seed",
                f"got {options['seed']}; it picks the random numbers that values shows: "
                "add values, or leave seed out",
            )
        if options["columns"] is not None and options["frame"] is not None:
            raise ParameterError(
                "columns",
                f"got {options['columns']}; a single frame has no columns: give frame or "
                "columns, not both",
            )

    def check(self, figure: Figure, limits: bool) -> None:
        spec = self.model(figure)  # ConvSpec validates
        columns = figure.options["columns"]
        if columns is not None and columns > spec.frame_count:
            raise ParameterError(
                "columns",
                f"got {columns}; a strip of {spec.frame_count} frames has at most "
                f"{spec.frame_count} columns",
            )
        if not limits:
            return
        from convanim.animate import check_output_request
        from convanim.options import RenderOptions

        o = figure.options
        still = o["frame"] is not None or o["columns"] is not None  # the output is checked later
        output = _output(figure, Path("figure.png" if still else "figure.gif"), None)
        check_output_request(self.model(figure), output)

        RenderOptions(**_render_options(figure.options))
        self.worked(figure)

    def check_output(self, figure: Figure, suffix: str) -> None:
        from convanim.animate import check_output_request

        check_output_request(self.model(figure), _output(figure, Path(f"figure{suffix}"), None))

    def still(self, figure: Figure) -> bool:
        return figure.options["frame"] is not None

    # -- drawing ----------------------------------------------------------------------------

    def save(self, figure: Figure, output: Output) -> Path:
        from convanim.animate import save
        from convanim.options import RenderOptions

        options = RenderOptions(**_render_options(figure.options))
        return save(self.model(figure), output, options, self.worked(figure))

    def brief(self, figure: Figure) -> str:
        spec = self.model(figure)
        size = "length " + str(spec.output_size[0]) if spec.dims == 1 else _x(spec.output_size)
        return f"{size} output, {spec.frame_count} frames"

    def cost(self, figure: Figure, animated: bool) -> float:
        o = figure.options
        frames = self.model(figure).frame_count if o["frame"] is None else 1
        return 5.0 + frames * (8.0 if self.shows_values(o) else 1.0)

    # -- words ------------------------------------------------------------------------------

    def title(self, figure: Figure, spec: ConvSpec) -> tuple[str, str]:
        """(what it is, what slides): ("Transposed convolution", "kernel")."""
        return ("Transposed convolution" if spec.transposed else "Convolution"), "kernel"

    def layer_name(self, figure: Figure, spec: ConvSpec) -> str:
        return f"{'ConvTranspose' if spec.transposed else 'Conv'}{_dims(spec)}d"

    def alt_text(self, figure: Figure) -> str:
        spec = self.model(figure)
        name, window = self.title(figure, spec)
        words = layer_words(spec, name, window)
        parts = [f"{words.name} of {words.shape}", *words.settings]
        text = ", ".join(parts) + f", giving a {words.output} output"
        if self.shows_values(figure.options):
            text += ", with the values of every cell and the sum for each output"
        frame = figure.options["frame"]
        if frame is not None:
            if _dims(spec) == 1:
                text += f" (the step for output cell {frame + 1})"
            else:
                row, col = divmod(frame, spec.output_size[1])
                text += f" (the step for output cell row {row + 1}, column {col + 1})"
        return text + "."

    def facts(self, figure: Figure) -> dict[str, Any]:
        spec = self.model(figure)
        axes = AXES[_dims(spec)]
        pads = [list(pair) for pair in spec.pads]
        facts: dict[str, Any] = {
            "layer": self.layer_name(figure, spec),
            "input_size": list(spec.input_size),
            "kernel_size": list(spec.kernel_size),
            "stride": list(spec.stride),
            "padding": pads,
            "padding_mode": spec.padding if isinstance(spec.padding, str) else None,
            "dilation": list(spec.dilation),
        }
        if "transposed" in figure.options:
            facts["transposed"] = spec.transposed
            facts["output_padding"] = list(spec.output_padding)
        facts.update(
            {
                "output_size": list(spec.output_size),
                "frames": spec.frame_count,
                "drawn_size": list(spec.drawn_size),
                "formula": dict(zip(axes, spec.formula(), strict=True)),
                "alt_text": self.alt_text(figure),
            }
        )
        return facts

    def info(self, figure: Figure) -> str:
        spec = self.model(figure)
        facts = self.facts(figure)
        sides = ("left", "right") if _dims(spec) == 1 else ("top", "bottom", "left", "right")
        pads = [number for pair in spec.pads for number in pair]
        padding_words = " ".join(f"{side} {n}" for side, n in zip(sides, pads, strict=True))
        mode = f" ({spec.padding})" if isinstance(spec.padding, str) else ""
        head = (
            f"{facts['layer']}: input {_x(spec.input_size)}, kernel {_x(spec.kernel_size)}, "
            f"stride {_x(spec.stride)}, padding {padding_words}{mode}, "
            f"dilation {_x(spec.dilation)}"
        )
        if spec.transposed:
            head += f", output_padding {_x(spec.output_padding)}"
        lines = [head, f"output: {_x(spec.output_size)}"]
        lines += [f"  {axis}: {text}" for axis, text in facts["formula"].items()]
        lines += [
            f"frames: {spec.frame_count}",
            f"drawn grid: {_x(spec.drawn_size)}",
            f"alt text: {facts['alt_text']}",
        ]
        return "\n".join(lines)


class LayerWords(NamedTuple):
    """A layer in words, for alt text: every kind drawing a convolution says it so."""

    name: str  # "Transposed convolution", "1-D max pooling"
    shape: str  # "a 5×5 input with a 3×3 kernel", "a length-7 input with a 3-cell kernel"
    settings: list[str]  # ["stride 2", "padding 1", "dilation 2", "output padding 1"]
    output: str  # "3×3", "length-4"


def layer_words(spec: ConvSpec, name: str, window: str = "kernel") -> LayerWords:
    """``spec`` in words; ``name`` is what it is ("Convolution"), ``window`` what slides."""
    if _dims(spec) == 1:
        name = f"1-D {name[0].lower()}{name[1:]}"
        shape = f"a length-{spec.input_size[0]} input with a {spec.kernel_size[0]}-cell {window}"
        output = f"length-{spec.output_size[0]}"
    else:
        shape = f"a {_size(spec.input_size)} input with a {_size(spec.kernel_size)} {window}"
        output = _size(spec.output_size)
    settings = [f"stride {_number(spec.stride)}", _padding_words(spec)]
    if any(d != 1 for d in spec.dilation):
        settings.append(f"dilation {_number(spec.dilation)}")
    if spec.transposed and any(spec.output_padding):
        settings.append(f"output padding {_number(spec.output_padding)}")
    return LayerWords(name, shape, settings, output)


def _tuple(value: Any) -> Any:
    """Lists as tuples, all the way down: ConvSpec's spelling."""
    if isinstance(value, list):
        return tuple(_tuple(v) for v in value)
    return value


def _dims(spec: ConvSpec) -> int:
    return int(getattr(spec, "dims", 2))


def _render_options(options: Mapping[str, Any]) -> dict[str, Any]:
    return {key: options[key] for key in ("view", "theme", "labels", "scale")}


def _output(figure: Figure, path: Path, stamp: str | None) -> Output:
    from convanim.animate import Output

    return Output(path, stamp=stamp, **figure.output_options())


def _values(figure: Figure, key: str, param: str, shape: tuple[int, ...]) -> Any:
    """Values given inline (rows) or as a file name, shape-checked."""
    import numpy as np

    from convanim.values import load_values

    given = figure.options[key]
    if isinstance(given, str):
        return load_values(figure.base / given, shape, param)
    try:
        array = np.array(given, dtype=float)
    except (TypeError, ValueError):
        raise ParameterError(param, "expected rows of numbers, like [[1, 2], [3, 4]]") from None
    if array.shape != tuple(shape):
        raise ParameterError(param, f"holds values of shape {array.shape}; expected {shape}")
    return array


def _x(values: Sequence[int]) -> str:
    """Sizes as ``info`` prints them: 5x7, or 7 in 1-D."""
    return "x".join(str(v) for v in values)


def _size(values: Sequence[int]) -> str:
    return TIMES.join(str(v) for v in values)


def _number(values: Sequence[int]) -> str:
    """A per-axis number: '2' when the axes agree, else '2 by 1' (rows by cols)."""
    return str(values[0]) if len(set(values)) == 1 else " by ".join(str(v) for v in values)


def _padding_words(spec: ConvSpec) -> str:
    """'padding 1', 'padding 1 by 2', 'padding 0 top, 1 bottom, ...'; a mode's numbers are
    what it resolved to: "'same' padding (0 top, 1 bottom, 0 left, 1 right)"."""
    pads = [number for pair in spec.pads for number in pair]
    if len(set(pads)) == 1:
        numbers = str(pads[0])
    elif len(pads) == 2:
        numbers = f"{pads[0]} left, {pads[1]} right"
    elif pads[0] == pads[1] and pads[2] == pads[3]:
        numbers = f"{pads[0]} by {pads[2]}"
    else:
        numbers = f"{pads[0]} top, {pads[1]} bottom, {pads[2]} left, {pads[3]} right"
    if not isinstance(spec.padding, str):
        return f"padding {numbers}"
    return f"'{spec.padding}' padding " + (numbers if len(set(pads)) == 1 else f"({numbers})")


KIND = Conv()
