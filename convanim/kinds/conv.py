"""The ``conv`` kind: a convolution, direct or transposed, 1-D or 2-D, as PyTorch's ``Conv1d``,
``Conv2d``, ``ConvTranspose1d`` and ``ConvTranspose2d`` define it; the conv_arithmetic animation.

The geometry parameters, the worked numbers and the text of this module serve the ``pool``
kind too, which is the same picture with a window instead of a kernel.

Channels and groups (``--in-channels``, ``--out-channels``, ``--groups``, ``--bias``,
``--bias-values``, ``--frames``; PyTorch's ``in_channels``, ``out_channels``, ``groups``,
``bias``): a *channelled* figure (more than one channel or group, or a bias) is drawn by
``convanim.channel_render``, through this one hook in ``Conv.save``::

    request = channel_request(spec, output, order)        # every check, before any drawing
    save_drawing(lambda: draw_channels(spec, options, worked, order), request)

``draw_channels(spec: ConvSpec, options: RenderOptions | None = None,
worked: values.ChannelWorked | None = None, order: str = "channel") -> drawing.Drawing``
draws ``spec.frames(order)`` (frame i of the request is ``list(spec.frames(order))[i]``);
``worked`` carries the numbers (``worked.steps(frame)``) when the figure shows values. Until
that module exists, a channelled figure is refused with a one-line message. At most
``MAX_DRAWN_CHANNELS`` channels per side are drawn (a readable picture); single-channel
figures without a bias are the figures of old, drawn by ``animate.save``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple

from convanim.errors import ParameterError
from convanim.kinds import Kind
from convanim.options import MAX_DRAWN_CHANNELS, drawn_channels_refusal
from convanim.params import (
    DRAWING,
    OUTPUT,
    VALUES,
    Param,
    boolean,
    check_frame_or_columns,
    choice,
    integer,
    padding,
    padding_3d,
    size,
    size_3d,
    values,
)

if TYPE_CHECKING:
    from convanim.animate import Output, Request
    from convanim.figures import Figure
    from convanim.geometry import ConvSpec
    from convanim.kinds import Poster
    from convanim.values import ChannelWorked, Worked

__all__ = [
    "CHANNELS",
    "DIMS_3D",
    "GEOMETRY",
    "GEOMETRY_3D",
    "KIND",
    "MAX_DRAWN_CHANNELS",
    "PADDING_MODE",
    "PAD_MODE_WORDS",
    "Conv",
    "LayerWords",
    "cell_words",
    "channel_refusal",
    "channel_request",
    "layer_words",
    "poster_cell",
    "row_major",
]

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
GEOMETRY_3D = (
    Param(
        "input",
        size_3d,
        None,
        "Input size: 5, rows,cols like 5,7 (2-D), or depth,rows,cols like 4,5,5 (3-D).",
        api="input_size",
        short="i",
        metavar="SIZE",
    ),
    Param(
        "kernel",
        size_3d,
        3,
        "Kernel size: 3, rows,cols, or depth,rows,cols.",
        api="kernel_size",
        short="k",
        metavar="SIZE",
    ),
    Param(
        "stride", size_3d, 1, "Stride: 2, rows,cols, or depth,rows,cols.", short="s", metavar="SIZE"
    ),
    Param(
        "padding",
        padding_3d,
        0,
        "Padding: 1, rows,cols, top,bottom,left,right (2-D), left,right (1-D), depth,rows,cols "
        "or front,back,top,bottom,left,right (3-D), or valid|same|full.",
        short="p",
        metavar="PADDING",
    ),
    Param(
        "dilation",
        size_3d,
        1,
        "Dilation: 2, rows,cols, or depth,rows,cols.",
        short="d",
        metavar="SIZE",
    ),
)
DIMS = Param(
    "dims",
    choice(1, 2),
    2,
    "2: Conv2d, a grid; 1: Conv1d, a row of cells.",
    metavar="N",
    stamped_at_default=False,
)
DIMS_3D = Param(
    "dims",
    choice(1, 2, 3),
    2,
    "2: a grid; 1: a row of cells; 3: a volume, drawn as its depth slices (sizes of three "
    "numbers imply it).",
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
TRANSPOSED_3D = (
    Param(
        "transposed",
        boolean,
        False,
        "A transposed convolution (PyTorch's ConvTranspose1d/2d/3d).",
        flag=True,
    ),
    Param(
        "output-padding",
        size_3d,
        0,
        "Extra output cells of a transposed convolution, at the bottom/right (and back): 1, "
        "rows,cols, or depth,rows,cols.",
        metavar="SIZE",
    ),
)
PAD_MODE_WORDS = {
    "zeros": "zeros",
    "reflect": "the input mirrored about its edge cells",
    "replicate": "copies of the nearest edge cell",
    "circular": "the input wrapped around from the opposite side",
}
"""What each of PyTorch's padding modes puts in the padding, for alt text and ``info``."""
PADDING_MODE = Param(
    "padding-mode",
    choice("zeros", "reflect", "replicate", "circular"),
    "zeros",
    "What the padding holds (PyTorch's padding_mode): zeros, or copies of input cells: reflect "
    "mirrors the input about its edge cells, replicate repeats the edge cell, circular wraps "
    "around. Not for transposed convolutions.",
    metavar="MODE",
    stamped_at_default=False,
)
KERNEL_VALUES = Param(
    "kernel-values",
    values,
    None,
    "Kernel weights: a .npy, .csv or .txt file, or rows like [[0,1],[2,0]] (implies --values); "
    "with channels, PyTorch's weight shape (out_channels, in_channels/groups, *kernel), or "
    "(in_channels, out_channels/groups, *kernel) when transposed.",
    api="weight",
    metavar="FILE",
)
AXES = {1: ("length",), 2: ("rows", "cols"), 3: ("depth", "rows", "cols")}
SIZE_KEYS = ("input", "kernel", "stride", "dilation", "output-padding")  # padding: sides
CHANNELS = (
    Param(
        "in-channels",
        integer,
        1,
        f"Input channels (PyTorch's in_channels), 1 to {MAX_DRAWN_CHANNELS}.",
        metavar="N",
        stamped_at_default=False,
    ),
    Param(
        "out-channels",
        integer,
        1,
        f"Output channels (PyTorch's out_channels), 1 to {MAX_DRAWN_CHANNELS}.",
        metavar="N",
        stamped_at_default=False,
    ),
    Param(
        "groups",
        integer,
        1,
        "Groups: both channel counts must be multiples of it; groups = in-channels is a "
        "depthwise convolution.",
        metavar="N",
        stamped_at_default=False,
    ),
    Param(
        "bias",
        boolean,
        False,
        "The layer adds a bias per output channel (PyTorch's bias=True).",
        flag=True,
        stamped_at_default=False,
    ),
    Param(
        "bias-values",
        values,
        None,
        "Bias values, one per output channel: a .npy, .csv or .txt file, or a list like [1,0] "
        "(implies --bias and --values).",
        metavar="FILE",
        stamped_at_default=False,
    ),
    Param(
        "frames",
        choice("channel", "spatial"),
        "channel",
        "channel: output channel by output channel, each over every position; spatial: one "
        "frame per position with every filter.",
        api="order",
        metavar="ORDER",
        stamped_at_default=False,
    ),
)


class Conv(Kind):
    """A convolution (``op`` "conv"); ``Pool`` changes the op and the words."""

    name = "conv"
    summary = "Animate a convolution: a GIF, a PNG strip of every frame, or one frame."
    description = (
        "Parameters mean what they mean in PyTorch's Conv1d/2d/3d and ConvTranspose1d/2d/3d. "
        "A 3-D convolution is drawn as the depth slices of its input and output volumes."
    )
    examples: Sequence[str] = (
        "conv -i 5 -k 3 -o no_padding.gif",
        "conv -i 5 -k 3 -s 2 -p 1 -o padding_strides.gif",
        "conv -i 7 -k 3 -d 2 -o dilation.gif",
        "conv -i 2 -k 3 -s 2 --transposed --labels -o transposed.gif",
        "conv -i 5,7 -k 3 -p same --view flat -o strip.png --columns 7",
        "conv -i 5 -k 3 -o frame.png --frame 4",
        "conv -i 5 -k 3 -s 2 -p 1 --values --view flat --poster --poster-cell 0,1 -o poster.png",
        "conv -i 5 -k 3 --values --view flat --seed 1 -o numbers.gif",
        "conv --dims 1 -i 7 -k 3 -o conv1d.gif",
        "conv -i 4,4,4 -k 3 --labels -o conv3d.gif",
        "conv --dims 3 -i 2 -k 3 -s 2 -p 1 --transposed --view flat -o up3d.gif",
        "conv -i 4 -k 3 -p 1 --padding-mode reflect --values --view flat -o reflect.gif",
        "conv -i 5 -k 3 -s 2 -p 1 --info",
        "conv -i 5 -k 3 --in-channels 4 --out-channels 4 --groups 2 --info",
        "conv -i 5 -k 3 -s 2 -p 1 --in-channels 3 --out-channels 2 --bias -o cs231n.gif",
        "conv -i 4 -k 3 --in-channels 3 --out-channels 3 --groups 3 --values -o depthwise.gif",
    )
    params: Sequence[Param] = (
        *GEOMETRY_3D,
        PADDING_MODE,
        *TRANSPOSED_3D,
        DIMS_3D,
        *CHANNELS,
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
        "bias_values": "bias-values",
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
        if options.get("ceil-mode"):
            arguments["ceil_mode"] = True
        if options.get("padding-mode", "zeros") != "zeros":
            arguments["padding_mode"] = options["padding-mode"]
        for key in ("in-channels", "out-channels", "groups"):
            if options.get(key, 1) != 1:
                arguments[key.replace("-", "_")] = options[key]
        return arguments

    def _inferred_3d(self, options: Mapping[str, Any], given: frozenset[str]) -> bool:
        """Whether a size of three numbers makes the figure 3-D, ``dims`` not being given."""
        if "dims" in given or 3 not in (self.param("dims").choices or ()):
            return False
        return any(
            isinstance(options.get(key), list) and len(options[key]) == 3 for key in SIZE_KEYS
        )

    def model(self, figure: Figure) -> ConvSpec:
        from convanim.geometry import ConvSpec

        return ConvSpec(**self.spec_arguments(figure.options))

    def op(self, options: Mapping[str, Any]) -> str:
        """What the window computes: "conv" here; a pooling kind's mode."""
        return "conv"

    def value_options(self, options: Mapping[str, Any]) -> dict[str, Any]:
        """``evaluate``'s keyword arguments besides the op: pooling's divisor rules."""
        return {}

    def shows_values(self, options: Mapping[str, Any]) -> bool:
        return bool(
            options["values"]
            or options["input-values"]
            or options.get("kernel-values")
            or options.get("bias-values")
        )

    def channelled(self, options: Mapping[str, Any]) -> bool:
        """Whether the figure has channels, groups or a bias: ``channel_render`` draws it."""
        counts = (options.get(key, 1) for key in ("in-channels", "out-channels", "groups"))
        return any(count != 1 for count in counts) or bool(options.get("bias"))

    def with_channels(
        self, options: Mapping[str, Any], in_channels: int, out_channels: int, groups: int
    ) -> dict[str, Any] | None:
        """``options`` with these channel counts, or None where they are one of each or
        cannot be drawn (``channel_refusal``): then one channel of each is drawn."""
        if (in_channels, out_channels, groups) == (1, 1, 1):
            return None
        dims = options.get("dims", 2)
        if channel_refusal(in_channels, out_channels, groups, dims) is not None:
            return None
        counts = {"in-channels": in_channels, "out-channels": out_channels, "groups": groups}
        return {**options, **counts}

    def order(self, options: Mapping[str, Any]) -> str:
        """The frames' order: "channel" or "spatial" (see ``ConvSpec.frames``)."""
        return str(options.get("frames", "channel"))

    def frame_count(self, figure: Figure) -> int:
        return self.model(figure).count_frames(self.order(figure.options))

    def channel_worked(self, figure: Figure) -> ChannelWorked | None:
        """The numbers a channelled figure with values shows, or None."""
        o = figure.options
        if not self.shows_values(o):
            return None
        from convanim.values import channel_shapes, random_channel_values, worked_channels

        spec = self.model(figure)
        shapes = channel_shapes(spec)
        x: Any
        weight: Any
        bias: Any
        x, weight, bias = random_channel_values(spec, o["seed"])
        if o["input-values"] is not None:
            x = _values(figure, "input-values", "input_values", shapes["x"])
        if o["kernel-values"] is not None:
            weight = _values(figure, "kernel-values", "kernel_values", shapes["weight"])
        if o["bias-values"] is not None:
            bias = _values(figure, "bias-values", "bias_values", shapes["bias"])
        return worked_channels(spec, x, weight, bias if o["bias"] else None)

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
        return worked(spec, x, weight if op == "conv" else None, op, **self.value_options(o))

    # -- checks -----------------------------------------------------------------------------

    def complete(self, options: dict[str, Any], given: frozenset[str]) -> None:
        if self._inferred_3d(options, given):
            options["dims"] = 3
        if options.get("bias-values") is not None:
            if "bias" in given and not options["bias"]:
                raise ParameterError(
                    "bias",
                    "got false, with bias values; give bias values only to a layer with a bias",
                )
            options["bias"] = True
        check_seed_and_columns(options, given, self.shows_values(options))

    def implied(self, options: Mapping[str, Any]) -> dict[str, Any]:
        """Bias values imply a bias; a 3-D figure whose sizes say so needs no ``--dims 3``."""
        found: dict[str, Any] = {"bias": True} if options.get("bias-values") is not None else {}
        if self._inferred_3d(options, frozenset()):
            found["dims"] = 3
        return found

    def check(self, figure: Figure, limits: bool) -> None:
        count = self.frame_count(figure)  # the model validates
        columns = figure.options["columns"]
        if columns is not None and columns > count:
            raise ParameterError(
                "columns", f"got {columns}; a strip of {count} frames has at most {count} columns"
            )
        if not limits:
            return
        from convanim.options import RenderOptions

        o = figure.options
        if self.channelled(o):
            self.channel_worked(figure)  # the values, before what drawing can and cannot do
        still = o["frame"] is not None or o["columns"] is not None  # the output is checked later
        self.check_target(figure, ".png" if still or o["poster"] else ".gif")
        RenderOptions(**_render_options(figure.options))
        if not self.channelled(o):
            self.worked(figure)

    def check_output(self, figure: Figure, suffix: str) -> None:
        output = _output(figure, Path(f"figure{suffix}"), None)
        if self.channelled(figure.options):
            check_channel_figure(self.model(figure))
            channel_request(self.model(figure), output, self.order(figure.options))
            return
        from convanim.animate import check_output_request

        check_output_request(self.model(figure), output)

    def still(self, figure: Figure) -> bool:
        return figure.options["frame"] is not None

    # -- drawing ----------------------------------------------------------------------------

    def save(self, figure: Figure, output: Output) -> Path:
        from convanim.animate import save
        from convanim.options import RenderOptions

        options = RenderOptions(**_render_options(figure.options))
        if self.channelled(figure.options):
            return self._save_channels(figure, output, options)
        return save(self.model(figure), output, options, self.worked(figure))

    def _save_channels(self, figure: Figure, output: Output, options: Any) -> Path:
        """The hook: ``convanim.channel_render.draw_channels`` draws a channelled figure."""
        from convanim.animate import save_drawing

        spec, order = self.model(figure), self.order(figure.options)
        check_channel_figure(spec)
        request = channel_request(spec, output, order)  # before matplotlib's import
        worked = self.channel_worked(figure)
        from convanim.channel_render import draw_channels

        return save_drawing(lambda: draw_channels(spec, options, worked, order), request)

    def poster(self, figure: Figure) -> Poster:
        """The frame of the poster cell (default: the middle output cell) with every other
        output's value filled in; a channelled figure's: that cell of every output channel at
        once (the spatial frame), with every filter's footprint."""
        from convanim.animate import check_limits
        from convanim.kinds import Poster
        from convanim.options import RenderOptions

        spec, o = self.model(figure), figure.options
        cell = poster_cell(tuple(spec.output_size), o["poster-cell"])
        options = RenderOptions(**_render_options(o))
        frame = row_major(cell, tuple(spec.output_size))
        window = self.title(figure, spec)[1]
        where = cell_words(cell)
        if self.channelled(o):
            check_channel_figure(spec)
            check_limits(spec, None)

            def channels() -> Any:
                from convanim.channel_render import draw_channels

                worked = self.channel_worked(figure)
                return draw_channels(spec, options, worked, "spatial", poster=True)

            filled = "value" if self.shows_values(o) else "cell"
            footprints = f"every filter's footprint for {where}"
            return Poster(
                channels, frame, f"every {filled} of every output channel, and {footprints}"
            )
        check_limits(spec, None)

        def drawing() -> Any:
            worked = self.worked(figure)
            if spec.dims == 3:
                from convanim.volume_render import VolumeAnimation

                return VolumeAnimation(spec, options, worked, poster=True)
            from convanim.drawing import AnimationDrawing
            from convanim.render import Animation

            return AnimationDrawing(Animation(spec, options, worked, poster=True))

        filled = "every output value" if self.shows_values(o) else "every output cell"
        return Poster(drawing, frame, f"{filled}, and the {window}'s footprint for {where}")

    def brief(self, figure: Figure) -> str:
        spec = self.model(figure)
        size = "length " + str(spec.output_size[0]) if spec.dims == 1 else _x(spec.output_size)
        if self.channelled(figure.options):
            size = f"{spec.out_channels}-channel {size}"
        return f"{size} output, {self.frame_count(figure)} frames"

    def cost(self, figure: Figure, animated: bool) -> float:
        o = figure.options
        frames = self.frame_count(figure) if o["frame"] is None else 1
        per_frame = 8.0 if self.shows_values(o) else 1.0
        if self.channelled(o):
            per_frame *= 1 + self.model(figure).in_channels / 2
        return 5.0 + frames * per_frame

    # -- words ------------------------------------------------------------------------------

    def title(self, figure: Figure, spec: ConvSpec) -> tuple[str, str]:
        """(what it is, what slides): ("Transposed convolution", "kernel")."""
        return ("Transposed convolution" if spec.transposed else "Convolution"), "kernel"

    def layer_name(self, figure: Figure, spec: ConvSpec) -> str:
        return f"{'ConvTranspose' if spec.transposed else 'Conv'}{_dims(spec)}d"

    def settings(self, figure: Figure, spec: ConvSpec) -> list[str]:
        """The alt text's words for the kind's own options, after the layer's settings."""
        return _padding_mode_words(spec)

    def alt_text(self, figure: Figure) -> str:
        spec = self.model(figure)
        if self.channelled(figure.options):
            return self._channel_alt_text(figure, spec)
        name, window = self.title(figure, spec)
        words = layer_words(spec, name, window)
        parts = [f"{words.name} of {words.shape}", *words.settings, *self.settings(figure, spec)]
        text = ", ".join(parts) + f", giving a {words.output} output"
        if self.shows_values(figure.options):
            text += ", with the values of every cell and the sum for each output"
        elif _padding_mode_words(spec):
            text += _mark_words(spec)
        frame = figure.options["frame"]
        if frame is not None:
            if _dims(spec) == 1:
                text += f" (the step for output cell {frame + 1})"
            elif _dims(spec) == 3:
                _, rows, cols = tuple(spec.output_size)  # (depth, rows, cols)
                rest, col = divmod(frame, cols)
                depth, row = divmod(rest, rows)
                text += (
                    f" (the step for output cell depth {depth + 1}, row {row + 1}, "
                    f"column {col + 1})"
                )
            else:
                row, col = divmod(frame, spec.output_size[1])
                text += f" (the step for output cell row {row + 1}, column {col + 1})"
        return text + "."

    def _channel_alt_text(self, figure: Figure, spec: ConvSpec) -> str:
        """ "Grouped convolution of a 4-channel 5×5 input into 4 channels, 2 groups, 3×3
        kernels: each output channel reads 2 input channels." Settings at PyTorch's defaults
        (stride 1, padding 0, dilation 1) go unsaid."""
        o = figure.options
        words = layer_words(spec, _channel_name(spec), "kernel")
        one_d = _dims(spec) == 1
        size = f"length-{spec.input_size[0]}" if one_d else _size(spec.input_size)
        kernels = (
            f"{spec.kernel_size[0]}-cell kernels" if one_d else f"{_size(spec.kernel_size)} kernels"
        )
        outs = spec.out_channels
        parts = [
            f"{words.name} of a {_count(spec.in_channels, 'channel', '-')} {size} input into "
            f"{_count(outs, 'channel')}"
        ]
        if spec.groups > 1 and spec.groups != spec.in_channels:
            parts.append(f"{spec.groups} groups")
        parts.append(kernels)
        parts += [
            setting
            for setting in words.settings
            if setting not in ("stride 1", "padding 0", "'valid' padding 0")
        ]
        parts += _padding_mode_words(spec)
        if o["bias"]:
            parts.append("with bias")
        read = spec.in_channels // spec.groups
        text = ", ".join(parts) + (
            f": each output channel reads {_count(read, 'input channel')}"
            if outs > 1
            else f": the output channel reads {_count(read, 'input channel')}"
        )
        if self.shows_values(o):
            text += ", with the values of every cell and each output's per-channel sums" + (
                " plus bias" if o["bias"] else ""
            )
        elif _padding_mode_words(spec):
            text += _mark_words(spec)
        frame = o["frame"]
        if frame is not None:
            text += f" ({self._step_words(spec, frame, self.order(o))})"
        return text + "."

    def _step_words(self, spec: ConvSpec, frame: int, order: str) -> str:
        """What frame ``frame`` of a channelled figure shows, in words."""
        cells = spec.count_frames("spatial")
        out_channel, cell = divmod(frame, cells)
        if _dims(spec) == 1:
            where = f"output cell {cell + 1}"
        else:
            row, col = divmod(cell, spec.output_size[1])
            where = f"output cell row {row + 1}, column {col + 1}"
        if spec.out_channels == 1:
            return f"the step for {where}"
        if order == "spatial":
            return f"the step for {where} of every output channel"
        return f"the step for output channel {out_channel + 1}, {where}"

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
            "padding_rule": spec.padding if isinstance(spec.padding, str) else None,
            "dilation": list(spec.dilation),
        }
        if "padding-mode" in figure.options:
            facts["padding_mode"] = spec.padding_mode
        if "transposed" in figure.options:
            facts["transposed"] = spec.transposed
            facts["output_padding"] = list(spec.output_padding)
        if "in-channels" in figure.options:
            facts.update(_channel_facts(spec, bool(figure.options["bias"])))
            facts["frame_order"] = self.order(figure.options)
        facts.update(
            {
                "output_size": list(spec.output_size),
                "frames": self.frame_count(figure),
                "drawn_size": list(spec.drawn_size),
                "formula": dict(zip(axes, spec.formula(), strict=True)),
                "alt_text": self.alt_text(figure),
            }
        )
        return facts

    def info(self, figure: Figure) -> str:
        spec = self.model(figure)
        facts = self.facts(figure)
        sides = SIDES[_dims(spec)]
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
        if spec.padding_mode != "zeros":
            head += f", padding_mode {spec.padding_mode}"
        lines = [head, f"output: {_x(spec.output_size)}"]
        lines += [f"  {axis}: {text}" for axis, text in facts["formula"].items()]
        if spec.padding_mode != "zeros":
            lines.append(_padding_mode_line(spec))
        if self.channelled(figure.options):
            lines += _channel_lines(spec, facts)
        lines += [
            f"frames: {self.frame_count(figure)}"
            + (f" ({self.order(figure.options)} order)" if self.channelled(figure.options) else ""),
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
    if _dims(spec) == 3:
        name = f"3-D {name[0].lower()}{name[1:]}"
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


SIDES = {
    1: ("left", "right"),
    2: ("top", "bottom", "left", "right"),
    3: ("front", "back", "top", "bottom", "left", "right"),
}


def _channel_name(spec: ConvSpec) -> str:
    """ "Grouped convolution", "Depthwise transposed convolution", "Pointwise convolution"."""
    base = "transposed convolution" if spec.transposed else "convolution"
    if spec.groups > 1 and spec.groups == spec.in_channels:
        return f"Depthwise {base}"
    pointwise = all(k == 1 for k in spec.kernel_size)
    if pointwise:
        base = f"pointwise {base}"
    if spec.groups > 1:
        base = f"grouped {base}"
    return base[0].upper() + base[1:]


def _count(number: int, noun: str, joiner: str = " ") -> str:
    """'2 input channels', '1 input channel', '4-channel'."""
    if joiner == "-":
        return f"{number}-{noun}"
    return f"{number} {noun}" + ("" if number == 1 else "s")


def _channel_facts(spec: ConvSpec, bias: bool) -> dict[str, Any]:
    """What ``info --json`` says of the channels: counts, weight shape, parameters, reads."""
    from convanim.values import channel_shapes

    weight_shape = channel_shapes(spec)["weight"]
    weights = spec.out_channels * (spec.in_channels // spec.groups)
    for k in spec.kernel_size:
        weights *= k
    return {
        "in_channels": spec.in_channels,
        "out_channels": spec.out_channels,
        "groups": spec.groups,
        "bias": bias,
        "weight_shape": list(weight_shape),
        "parameters": weights + (spec.out_channels if bias else 0),
        "reads": [list(spec.channels_read(oc)) for oc in range(spec.out_channels)],
    }


def _channel_lines(spec: ConvSpec, facts: Mapping[str, Any]) -> list[str]:
    """``info``'s lines on the channels."""
    read = spec.in_channels // spec.groups
    kernel = " * ".join(str(k) for k in spec.kernel_size)
    weights = facts["parameters"] - (spec.out_channels if facts["bias"] else 0)
    count = (
        f"{spec.out_channels} * {spec.in_channels} / {spec.groups} * {kernel} = {weights} weights"
    )
    if facts["bias"]:
        count += f" + {spec.out_channels} biases = {facts['parameters']}"

    def span(channels: Sequence[int]) -> str:
        first, last = channels[0], channels[-1]
        return str(first) if first == last else f"{first}-{last}"

    reads = ", ".join(f"{oc} <- {span(ins)}" for oc, ins in enumerate(facts["reads"]))
    return [
        f"channels: {spec.in_channels} in, {spec.out_channels} out, "
        f"{_count(spec.groups, 'group')}: each output channel reads "
        f"{_count(read, 'input channel')}",
        f"reads (output channel <- input channels): {reads}",
        f"weight: {_x(facts['weight_shape'])}",
        f"parameters: {count}",
    ]


def check_seed_and_columns(options: Mapping[str, Any], given: frozenset[str], shows: bool) -> None:
    """Refuse a seed for a figure without values (``shows``) and columns for a single frame."""
    if "seed" in given and not shows:
        raise ParameterError(
            "seed",
            f"got {options['seed']}; it picks the random numbers that values shows: "
            "add values, or leave seed out",
        )
    check_frame_or_columns(options)


def channel_refusal(
    in_channels: int, out_channels: int, groups: int, dims: int
) -> ParameterError | None:
    """Why a channelled figure of these counts cannot be drawn, or None where it can: more
    than ``MAX_DRAWN_CHANNELS`` on a side, or 3-D (whose volumes are drawn slice by slice, one
    channel each). The one rule: the kind's checks raise it, the layer kind asks it."""
    counts = {"in_channels": in_channels, "out_channels": out_channels}
    refusal = drawn_channels_refusal(counts)
    if refusal is not None or dims != 3:
        return refusal
    given = [(n, c) for n, c in {**counts, "groups": groups}.items() if c > 1]
    name, value = given[0] if given else ("bias", "true")
    return ParameterError(
        name,
        f"got {value}; a 3-D figure is drawn with one input and one output channel and no "
        "bias: leave channels, groups and bias out (info and --json describe any number)",
    )


def check_channel_figure(spec: ConvSpec) -> None:
    """Refuse a channelled figure that cannot be drawn (``channel_refusal``)."""
    refusal = channel_refusal(spec.in_channels, spec.out_channels, spec.groups, spec.dims)
    if refusal is not None:
        raise refusal


def channel_request(spec: ConvSpec, output: Output, order: str) -> Request:
    """Check an output request for a channelled figure of ``spec`` in ``order``; nothing is
    drawn. Frame i is ``list(spec.frames(order))[i]``; one row of frames per output row."""
    from convanim.animate import check_limits, check_output, check_request

    check_output(output)
    check_limits(spec, None)  # the drawn grid's size; the frames are counted below
    cols = spec.as_2d().output_size[1]
    cells = spec.count_frames("spatial")
    if _dims(spec) == 1:
        note = "frame j: output cell j"
    else:
        note = f"the frame of output cell (row, col) is row * {cols} + col"
    if order == "channel" and spec.out_channels > 1:
        note += f", plus {cells} per output channel before it"
    return check_request(
        output,
        spec.count_frames(order),
        cols,
        frame_note=note,
        strip_advice="write a .gif, one --frame, or use a smaller --scale",
    )


def poster_cell(output_size: tuple[int, ...], given: Any) -> tuple[int, ...]:
    """The output cell a poster shows, checked against ``output_size``: ``given``, or the
    middle one (the upper left of the middle four, on an even axis)."""
    if given is None:
        return tuple((n - 1) // 2 for n in output_size)
    cell = tuple(given) if isinstance(given, list) else (given,)
    axes = ("row", "col") if len(output_size) == 2 else ("depth", "row", "col")
    shown = ",".join(str(n) for n in cell)
    if len(output_size) == 1:
        valid = f"a cell of the length-{output_size[0]} output, 0 to {output_size[0] - 1}"
    else:
        ranges = ", ".join(
            f"{axis} 0 to {n - 1}" for axis, n in zip(axes, output_size, strict=True)
        )
        valid = f"{','.join(axes)} of the {_x(output_size)} output: {ranges}"
    if len(cell) != len(output_size) or any(
        not 0 <= c < n for c, n in zip(cell, output_size, strict=False)
    ):
        raise ParameterError("poster-cell", f"got {shown}; expected {valid}")
    return cell


def row_major(cell: tuple[int, ...], size: tuple[int, ...]) -> int:
    """The index of ``cell`` among the cells of a grid of ``size``, row-major."""
    index = 0
    for c, n in zip(cell, size, strict=True):
        index = index * n + c
    return index


def cell_words(cell: tuple[int, ...]) -> str:
    """An output cell in the alt text's words, 1-based: "output cell row 2, column 3"."""
    if len(cell) == 1:
        return f"output cell {cell[0] + 1}"
    names = ("row", "column") if len(cell) == 2 else ("depth", "row", "column")
    return "output cell " + ", ".join(f"{n} {c + 1}" for n, c in zip(names, cell, strict=True))


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


def _padding_mode_words(spec: ConvSpec) -> list[str]:
    """The alt text's words for a padding mode: none for zeros (PyTorch's default)."""
    mode = spec.padding_mode
    if mode == "zeros" or not any(n for pair in spec.pads for n in pair):
        return []
    return [f"{mode} padding (the padding holds {PAD_MODE_WORDS[mode]})"]


def _mark_words(spec: ConvSpec) -> str:
    """The alt text's words for how a figure without values marks a padding mode's copies."""
    plane = spec.pads[1:] if _dims(spec) == 3 else spec.pads
    words = []
    if any(n for pair in plane for n in pair):
        words.append(", each padding cell lettered like the input cell it copies")
    if _dims(spec) == 3 and any(spec.pads[0]):
        words.append(", each slice of padding captioned with the input slice it copies")
    return "".join(words)


def _padding_mode_line(spec: ConvSpec) -> str:
    """``info``'s line on a padding mode, with the cell one corner of the padding copies;
    cells are counted from input cell 0, as ``F.pad`` counts them (-1: just before it)."""
    from convanim.geometry import pad_source

    mode = spec.padding_mode
    line = f"padding_mode: {mode}, the padding holds {PAD_MODE_WORDS[mode]}"
    if not any(n for pair in spec.pads for n in pair):
        return line + " (there is no padding here)"
    cell, source = [], []
    for cells, (lo, hi) in zip(spec.input_size, spec.pads, strict=True):
        at = -lo if lo else (cells + hi - 1 if hi else 0)
        cell.append(at)
        source.append(pad_source(at, cells, mode))

    def shown(values: Sequence[Any]) -> str:
        return str(values[0]) if len(values) == 1 else "(" + ", ".join(map(str, values)) + ")"

    return line + f"; e.g. padding cell {shown(cell)} copies input cell {shown(source)}"


def _padding_words(spec: ConvSpec) -> str:
    """'padding 1', 'padding 1 by 2', 'padding 0 top, 1 bottom, ...'; a mode's numbers are
    what it resolved to: "'same' padding (0 top, 1 bottom, 0 left, 1 right)"."""
    pads = [number for pair in spec.pads for number in pair]
    if len(set(pads)) == 1:
        numbers = str(pads[0])
    elif len(pads) == 6:
        if pads[0::2] == pads[1::2]:
            numbers = " by ".join(str(n) for n in pads[0::2])
        else:
            numbers = ", ".join(f"{n} {side}" for side, n in zip(SIDES[3], pads, strict=True))
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
