"""The ``separable`` kind: a depthwise-separable convolution (MobileNet's, ConvNeXt's), drawn
as its two layers in one animation: the depthwise convolution (``groups = channels``, each
channel its own ``multiplier`` kernels), then the pointwise one (1×1, mixing the channels).

The figure writes the weights of the pair against those of the full convolution it stands in
for (``Conv2d(channels, out_channels, kernel)``): 3·9 + 3·4 = 39 against 4·3·9 = 108 for three
channels, a 3×3 kernel and four outputs. Biases are left out of that count (the usual
comparison, and MobileNet's layers have none, a batch norm follows); ``info`` gives both.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from convanim.errors import ParameterError
from convanim.kinds import Kind
from convanim.kinds.conv import (
    CHANNELS,
    GEOMETRY,
    PADDING_MODE,
    _mark_words,
    _output,
    _padding_mode_line,
    _padding_mode_words,
    _render_options,
    _tuple,
    _values,
    check_seed_and_columns,
    layer_words,
)
from convanim.options import MAX_DRAWN_CHANNELS, drawn_channels_refusal
from convanim.params import DRAWING, OUTPUT, VALUES, Param, at_least

if TYPE_CHECKING:
    from convanim.animate import Output
    from convanim.figures import Figure
    from convanim.geometry import ConvSpec
    from convanim.kinds import Poster
    from convanim.values import ChannelWorked

__all__ = ["KIND", "Pair", "Separable", "channel_refusal"]

DOT = "\u00b7"
TIMES = "\u00d7"

SEPARABLE = (
    Param(
        "channels",
        at_least(1),
        3,
        f"Input channels (PyTorch's in_channels), 1 to {MAX_DRAWN_CHANNELS}.",
        api="in_channels",
        metavar="N",
    ),
    Param(
        "multiplier",
        at_least(1),
        1,
        "Depthwise kernels per input channel (the depthwise layer's out_channels is "
        "channels * multiplier).",
        metavar="N",
    ),
    Param(
        "out-channels",
        at_least(1),
        4,
        f"Output channels of the pointwise 1x1 layer, 1 to {MAX_DRAWN_CHANNELS}.",
        api="out_channels",
        metavar="N",
    ),
)
SEPARABLE_KEYS = tuple(param.key for param in SEPARABLE)  # the channel counts
_SHARED = {param.key: param for param in CHANNELS}


def channel_refusal(channels: int, multiplier: int, out_channels: int) -> ParameterError | None:
    """Why a separable figure of these counts cannot be drawn, or None where it can: more than
    ``MAX_DRAWN_CHANNELS`` input, depthwise output (channels * multiplier) or output channels.
    The one rule: the model raises it, the layer kind asks it."""
    refusal = drawn_channels_refusal({"channels": channels, "out-channels": out_channels})
    middle = channels * multiplier
    if refusal is None and middle > MAX_DRAWN_CHANNELS:
        return ParameterError(
            "multiplier",
            f"got {multiplier}: channels * multiplier = {middle} depthwise output "
            f"channels; at most {MAX_DRAWN_CHANNELS} can be drawn readably",
        )
    return refusal


@dataclass(frozen=True)
class Pair:
    """The two layers: ``depthwise`` (groups = in_channels) and ``pointwise`` (1×1)."""

    depthwise: ConvSpec
    pointwise: ConvSpec

    @property
    def frame_count(self) -> int:
        return self.depthwise.frame_count + self.pointwise.frame_count

    def count_frames(self, order: str) -> int:
        return self.depthwise.count_frames(order) + self.pointwise.count_frames(order)


@dataclass(frozen=True)
class Counts:
    """Weights (and biases) of the pair and of the full convolution."""

    depthwise: int
    pointwise: int
    full: int
    depthwise_biases: int
    pointwise_biases: int
    full_biases: int
    words: str  # "3·9 + 3·4 = 39 weights against 4·3·9 = 108"


class Separable(Kind):
    """A depthwise convolution, then a pointwise one, against the full convolution."""

    name = "separable"
    summary = "Animate a depthwise-separable convolution: the depthwise layer, then the pointwise."
    description = (
        "The depthwise layer is Conv2d(channels, channels*multiplier, kernel, groups=channels), "
        "the pointwise one Conv2d(channels*multiplier, out-channels, 1); the figure counts their "
        "weights against the full Conv2d(channels, out-channels, kernel) (biases not counted)."
    )
    examples = (
        "separable -i 5 --channels 3 --multiplier 1 --out-channels 4 -k 3 -o separable.gif",
        "separable -i 5 -p 1 --channels 2 --out-channels 3 --view flat --values -o worked.gif",
        "separable -i 6 -k 3 -s 2 --channels 2 --multiplier 2 --out-channels 2 -o mult.png",
        "separable -i 5 --channels 3 --out-channels 4 --info",
    )
    params: Sequence[Param] = (
        *GEOMETRY,
        PADDING_MODE,
        *SEPARABLE,
        _SHARED["bias"],
        _SHARED["frames"],
        *DRAWING,
        *OUTPUT,
        *VALUES,
    )
    derived: ClassVar[Mapping[str, str]] = {
        "output_size": "input/kernel/padding/dilation",
        "x": "input-values",
        "input_values": "input-values",
    }
    required: ClassVar[Mapping[str, str]] = {"input": "the input size, like 5 or 5,7"}

    # -- the model --------------------------------------------------------------------------

    def model(self, figure: Figure) -> Pair:
        from convanim.geometry import ConvSpec

        o = figure.options
        refusal = channel_refusal(o["channels"], o["multiplier"], o["out-channels"])
        if refusal is not None:
            raise refusal
        middle = o["channels"] * o["multiplier"]
        depthwise = ConvSpec(
            input_size=_tuple(o["input"]),
            kernel_size=_tuple(o["kernel"]),
            stride=_tuple(o["stride"]),
            padding=_tuple(o["padding"]),
            dilation=_tuple(o["dilation"]),
            padding_mode=o["padding-mode"],  # the depthwise layer's: the pointwise has no padding
            in_channels=o["channels"],
            out_channels=middle,
            groups=o["channels"],
        )
        pointwise = ConvSpec(
            input_size=depthwise.output_size,
            kernel_size=1,
            in_channels=middle,
            out_channels=o["out-channels"],
        )
        return Pair(depthwise, pointwise)

    def with_channels(
        self, options: Mapping[str, Any], in_channels: int, out_channels: int, groups: int
    ) -> dict[str, Any] | None:
        """``options`` with the input channels (the multiplier and output channels are
        there), or None where the pair cannot be drawn (``channel_refusal``)."""
        if channel_refusal(in_channels, options["multiplier"], out_channels) is not None:
            return None
        return {**options, "channels": in_channels}

    def one_channel(self, options: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
        """The depthwise layer alone, one channel: a 2-D conv figure of ``options`` without
        the channel counts (multiplier, out-channels)."""
        alone = {key: value for key, value in options.items() if key not in SEPARABLE_KEYS}
        return "conv", {**alone, "dims": 2}

    def order(self, options: Mapping[str, Any]) -> str:
        return str(options["frames"])

    def shows_values(self, options: Mapping[str, Any]) -> bool:
        return bool(options["values"] or options["input-values"] is not None)

    def worked(self, figure: Figure) -> tuple[ChannelWorked, ChannelWorked] | None:
        """Both layers' numbers: the pointwise layer reads the depthwise layer's output."""
        o = figure.options
        if not self.shows_values(o):
            return None
        from convanim.values import channel_shapes, random_channel_values, worked_channels

        pair = self.model(figure)
        x: Any
        x, weight, bias = random_channel_values(pair.depthwise, o["seed"])
        _, pointwise_weight, pointwise_bias = random_channel_values(pair.pointwise, o["seed"])
        if o["input-values"] is not None:
            shape = channel_shapes(pair.depthwise)["x"]
            x = _values(figure, "input-values", "input_values", shape)
        first = worked_channels(pair.depthwise, x, weight, bias if o["bias"] else None)
        second = worked_channels(
            pair.pointwise, first.output, pointwise_weight, pointwise_bias if o["bias"] else None
        )
        return first, second

    def counts(self, pair: Pair) -> Counts:
        depthwise, pointwise = pair.depthwise, pair.pointwise
        rows, cols = depthwise.kernel_size
        taps = rows * cols
        middle, outs, ins = depthwise.out_channels, pointwise.out_channels, depthwise.in_channels
        dw, pw, full = middle * taps, middle * outs, outs * ins * taps
        words = (
            f"{middle}{DOT}{taps} + {middle}{DOT}{outs} = {dw + pw} weights against "
            f"{outs}{DOT}{ins}{DOT}{taps} = {full}"
        )
        return Counts(dw, pw, full, middle, outs, outs, words)

    def note(self, pair: Pair) -> str:
        """What the figure writes above the planes: the two layers' weights against the full
        convolution's."""
        counts = self.counts(pair)
        kernel = TIMES.join(str(k) for k in pair.depthwise.kernel_size)
        return (
            f"depthwise + pointwise: {counts.words.replace(' against', chr(10) + 'against')} "
            f"for a full {kernel} convolution (biases not counted)"
        )

    # -- checks -----------------------------------------------------------------------------

    def complete(self, options: dict[str, Any], given: frozenset[str]) -> None:
        check_seed_and_columns(options, given, self.shows_values(options))

    def check(self, figure: Figure, limits: bool) -> None:
        pair = self.model(figure)
        count = pair.count_frames(self.order(figure.options))
        columns = figure.options["columns"]
        if columns is not None and columns > count:
            raise ParameterError(
                "columns", f"got {columns}; a strip of {count} frames has at most {count} columns"
            )
        if not limits:
            return
        from convanim.options import RenderOptions

        o = figure.options
        still = o["frame"] is not None or o["columns"] is not None or o["poster"]
        self.check_target(figure, ".png" if still else ".gif")
        RenderOptions(**_render_options(o))
        self.worked(figure)

    def check_output(self, figure: Figure, suffix: str) -> None:
        self._request(figure, _output(figure, Path(f"figure{suffix}"), None))

    def _request(self, figure: Figure, output: Output) -> Any:
        from convanim.animate import check_limits, check_output, check_request

        pair = self.model(figure)
        check_output(output)
        check_limits(pair.depthwise, None)  # the drawn grid's size
        order = self.order(figure.options)
        first = pair.depthwise.count_frames(order)
        return check_request(
            output,
            pair.count_frames(order),
            pair.pointwise.output_size[1],
            frame_note=f"frames 0 to {first - 1}: depthwise; {first} on: pointwise",
            strip_advice="write a .gif, one --frame, or use a smaller --scale",
        )

    def still(self, figure: Figure) -> bool:
        return figure.options["frame"] is not None

    # -- drawing ----------------------------------------------------------------------------

    def save(self, figure: Figure, output: Output) -> Path:
        from convanim.animate import save_drawing

        request = self._request(figure, output)  # before matplotlib's import
        drawing = self._drawing(figure, self.order(figure.options), poster=False)
        return save_drawing(drawing, request)

    def _drawing(self, figure: Figure, order: str, poster: bool) -> Callable[[], Any]:
        """What draws the figure: both layers' frames, in ``order``."""
        from convanim.options import RenderOptions

        pair = self.model(figure)
        options = RenderOptions(**_render_options(figure.options))
        note = self.note(pair)
        kernel = TIMES.join(str(k) for k in pair.depthwise.kernel_size)
        channels = pair.depthwise.in_channels
        worked = self.worked(figure)

        def drawing() -> Any:
            from convanim.channel_render import ChannelFigure, Stage

            stages = [
                Stage(
                    pair.depthwise,
                    None if worked is None else worked[0],
                    name="dw",
                    title=f"1. depthwise: {kernel}, groups = {channels}",
                    output_name="mid",
                ),
                Stage(
                    pair.pointwise,
                    None if worked is None else worked[1],
                    name="pw",
                    title="2. pointwise: 1×1 across the channels",
                ),
            ]
            return ChannelFigure(stages, options, order, note, poster=poster)

        return drawing

    def poster(self, figure: Figure) -> Poster:
        """The pointwise layer at the poster cell (default: the middle one), every output
        channel at once, with every value of both layers filled in: the end of the
        animation, both layers done."""
        from convanim.animate import check_limits
        from convanim.kinds import Poster
        from convanim.kinds.conv import cell_words, poster_cell, row_major

        pair = self.model(figure)
        check_limits(pair.depthwise, None)
        size = tuple(pair.pointwise.output_size)
        cell = poster_cell(size, figure.options["poster-cell"])
        # Spatial frames: the depthwise layer's, one per cell, then the pointwise layer's.
        frame = pair.depthwise.count_frames("spatial") + row_major(cell, size)
        filled = "value" if self.shows_values(figure.options) else "cell"
        words = (
            f"every output {filled} of both layers, and the pointwise filters' footprints for "
            f"{cell_words(cell)}"
        )
        return Poster(self._drawing(figure, "spatial", poster=True), frame, words)

    def brief(self, figure: Figure) -> str:
        pair = self.model(figure)
        rows, cols = pair.pointwise.output_size
        count = pair.count_frames(self.order(figure.options))
        return f"{pair.pointwise.out_channels}-channel {rows}x{cols} output, {count} frames"

    def cost(self, figure: Figure, animated: bool) -> float:
        o = figure.options
        pair = self.model(figure)
        frames = pair.count_frames(self.order(o)) if o["frame"] is None else 1
        per_frame = (8.0 if self.shows_values(o) else 1.0) * (1 + pair.depthwise.in_channels / 2)
        return 5.0 + frames * per_frame

    # -- words ------------------------------------------------------------------------------

    def alt_text(self, figure: Figure) -> str:
        o = figure.options
        pair = self.model(figure)
        depthwise, pointwise = pair.depthwise, pair.pointwise
        counts = self.counts(pair)
        words = layer_words(depthwise, "Depthwise-separable convolution")
        settings = [s for s in words.settings if s not in ("stride 1", "padding 0")]
        settings += _padding_mode_words(depthwise)
        size = TIMES.join(str(n) for n in depthwise.input_size)
        kernel = TIMES.join(str(n) for n in depthwise.kernel_size)
        middle, ins = depthwise.out_channels, depthwise.in_channels
        per = "one kernel" if o["multiplier"] == 1 else f"{o['multiplier']} kernels"
        text = (
            f"Depthwise-separable convolution of a {ins}-channel {size} input into "
            f"{_channels(pointwise.out_channels)}, "
            + "".join(f"{s}, " for s in settings)
            + f"first a depthwise {kernel} convolution ({per} per input channel, "
            f"{_channels(middle)}), then a pointwise 1×1 convolution mixing them: "
            f"{counts.depthwise + counts.pointwise} weights against {counts.full} for a full "
            f"{kernel} convolution"
        )
        if self.shows_values(o):
            text += ", with the values of every cell and each output's per-channel sums"
            text += " plus bias" if o["bias"] else ""
        elif _padding_mode_words(depthwise):
            text += _mark_words(depthwise)
        if o["frame"] is not None:
            first = depthwise.count_frames(self.order(o))
            stage = "depthwise" if o["frame"] < first else "pointwise"
            text += f" (frame {o['frame'] + 1}: the {stage} step)"
        return text + "."

    def facts(self, figure: Figure) -> dict[str, Any]:
        pair = self.model(figure)
        counts = self.counts(pair)
        o = figure.options
        bias = bool(o["bias"])

        def layer(spec: ConvSpec, weights: int, biases: int) -> dict[str, Any]:
            return {
                "in_channels": spec.in_channels,
                "out_channels": spec.out_channels,
                "groups": spec.groups,
                "kernel_size": list(spec.kernel_size),
                "output_size": list(spec.output_size),
                "weights": weights,
                "biases": biases if bias else 0,
            }

        order = self.order(o)
        return {
            "layer": "depthwise-separable Conv2d",
            "input_size": list(pair.depthwise.input_size),
            "kernel_size": list(pair.depthwise.kernel_size),
            "stride": list(pair.depthwise.stride),
            "padding": [list(p) for p in pair.depthwise.pads],
            "dilation": list(pair.depthwise.dilation),
            "padding_mode": pair.depthwise.padding_mode,
            "bias": bias,
            "depthwise": layer(pair.depthwise, counts.depthwise, counts.depthwise_biases),
            "pointwise": layer(pair.pointwise, counts.pointwise, counts.pointwise_biases),
            "weights": counts.depthwise + counts.pointwise,
            "full_weights": counts.full,
            "parameters": counts.depthwise
            + counts.pointwise
            + (counts.depthwise_biases + counts.pointwise_biases if bias else 0),
            "full_parameters": counts.full + (counts.full_biases if bias else 0),
            "output_size": list(pair.pointwise.output_size),
            "frames": pair.count_frames(order),
            "frame_order": order,
            "alt_text": self.alt_text(figure),
        }

    def info(self, figure: Figure) -> str:
        facts = self.facts(figure)
        pair = self.model(figure)
        counts = self.counts(pair)
        d, p = facts["depthwise"], facts["pointwise"]
        x = "x".join
        mode = pair.depthwise.padding_mode
        shown = "" if mode == "zeros" else f", padding_mode='{mode}'"
        lines = [
            f"depthwise: Conv2d({d['in_channels']}, {d['out_channels']}, "
            f"{x(map(str, d['kernel_size']))}, groups={d['groups']}{shown}): output "
            f"{d['out_channels']} x {x(map(str, d['output_size']))}, {d['weights']} weights"
            + (f" + {d['biases']} biases" if facts["bias"] else ""),
            f"pointwise: Conv2d({p['in_channels']}, {p['out_channels']}, 1): output "
            f"{p['out_channels']} x {x(map(str, p['output_size']))}, {p['weights']} weights"
            + (f" + {p['biases']} biases" if facts["bias"] else ""),
            f"weights: {counts.words} (full convolution)",
            f"parameters: {facts['parameters']} against {facts['full_parameters']}"
            + (" (with biases)" if facts["bias"] else " (no biases)"),
            f"frames: {facts['frames']} ({facts['frame_order']} order)",
            f"alt text: {facts['alt_text']}",
        ]
        if mode != "zeros":
            lines.insert(2, _padding_mode_line(pair.depthwise))
        return "\n".join(lines)


def _channels(count: int) -> str:
    return f"{count} channel" + ("" if count == 1 else "s")


KIND = Separable()
