"""The ``layer`` kind: a layer pasted as written in a model's source, in PyTorch, Keras or Flax
spelling (``nn.Conv2d(3, 64, kernel_size=7, stride=2, padding=3)``), drawn by the kind that
draws its operation (``conv``, ``pool``, ``separable``).

``convanim.layer_source`` reads the line as data and says what it means: the matching kind's
options, the channel counts, the arguments that do not change the picture, the framework's own
rule in words. This kind adds what the line cannot say (the input size, the drawing, output and
values options) and hands the figure to the matching kind: its model, checks, drawing and
numbers are that kind's, and its alt text and ``info`` say where the figure came from.

A layer of many channels (``Conv2d(3, 64, ...)``) is drawn spatially, one input and one output
channel, its channel counts and groups in the alt text and ``info``; the channel view is drawn
where it is readable (at most ``MAX_DRAWN_CHANNELS`` per side).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from convanim.errors import ParameterError
from convanim.kinds import Kind, get
from convanim.kinds.conv import CHANNELS, KERNEL_VALUES, MAX_DRAWN_CHANNELS
from convanim.layer_source import Description, describe, parse_call
from convanim.params import (
    DRAWING,
    OUTPUT,
    VALUES,
    Param,
    check_frame_or_columns,
    choice,
    ints,
    is_int,
    plain,
    shown,
)

if TYPE_CHECKING:
    from convanim.animate import Output
    from convanim.figures import Figure
    from convanim.kinds import Poster

__all__ = ["KIND", "Layer"]


def _line(key: str, value: Any) -> str | None:
    """The layer's line, read (not run) at once, so that a bad line is the first error."""
    if value is None:
        return None
    parse_call(value)
    return str(value).strip()


def _input(key: str, value: Any) -> Any:
    """A spatial size (12, or 12,16) or a tensor shape (1,3,32,32): integers >= 1."""
    if value is None:
        return None
    if isinstance(value, str):
        numbers = ints(value) if len(value) < 200 else None
        if not numbers or len(numbers) > 5:
            raise ParameterError(
                key,
                f"got '{value[:40]}'; expected a size like 12 or 12,16, or a shape like "
                "1,3,32,32 (PyTorch's N,C,H,W; Keras and Flax: N,H,W,C)",
            )
        value = numbers[0] if len(numbers) == 1 else numbers
    if isinstance(value, (list, tuple)):
        value = list(value)
        items = value
    else:
        items = [value]
    if not items or not all(map(is_int, items)):
        raise ParameterError(key, f"got {value!r}; expected integers, like 12 or 1,3,32,32")
    if any(n < 1 for n in items):
        raise ParameterError(key, f"got {value!r}; expected integers >= 1")
    return value


LAYER = Param(
    "layer",
    _line,
    None,
    "The layer as written in the model, quoted: 'nn.Conv2d(3, 64, 7, stride=2, padding=3)', "
    "'layers.Conv2D(64, 3, strides=2, padding=\"same\")', 'nn.Conv(64, (3, 3), strides=2)'.",
    metavar="LINE",
    positional=True,
)
INPUT = Param(
    "input",
    _input,
    None,
    "Input size: 12, one number per axis like 12,16, or a shape with channels like 1,3,32,32 "
    "(PyTorch: N,C,H,W; Keras and Flax: N,H,W,C).",
    api="input_size",
    short="i",
    metavar="SIZE",
)
CHANNEL_VIEW = Param(
    "channel-view",
    choice("auto", "off"),
    "auto",
    f"auto: draw the channels where both sides have at most {MAX_DRAWN_CHANNELS}; off: one "
    "input and one output channel.",
    metavar="WHEN",
)
_FRAMES = next(param for param in CHANNELS if param.key == "frames")
# The matching kind's options that this kind passes on as they are.
PASSED = ("frames", *(p.key for p in (*DRAWING, *OUTPUT, *VALUES)), "kernel-values")


class Layer(Kind):
    """A pasted layer, drawn by the kind of its operation."""

    name = "layer"
    summary = "Draw a layer pasted from a model: PyTorch, Keras or Flax spelling."
    description = (
        "The line is read as data, never run: the constructor's name and literal arguments, "
        "positional or keyword, with the library's defaults. PyTorch's Conv1d/2d/3d, "
        "ConvTranspose1d/2d/3d, MaxPool*d, AvgPool*d; Keras's Conv1D/2D/3D, Conv*DTranspose, "
        "DepthwiseConv2D, SeparableConv2D, MaxPooling*D, AveragePooling*D; Flax's Conv and "
        "ConvTranspose. Arguments that do not change the picture (bias, activation, ...) are "
        "accepted and named in info."
    )
    examples: Sequence[str] = (
        "layer 'nn.Conv2d(3, 64, kernel_size=7, stride=2, padding=3)' -i 12 -o conv.gif",
        "layer 'layers.Conv2D(64, 3, strides=2, padding=\"same\")' -i 1,7,7,3 --info",
        "layer 'layers.Conv2DTranspose(1, 3, strides=2, padding=\"same\")' -i 3 -o up.gif",
        "layer 'nn.Conv(features=8, kernel_size=(3, 3), strides=2)' -i 6 --view flat -o c.png",
        "layer 'nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True)' -i 6 --values -o p.gif",
        "layer 'nn.Conv2d(2, 4, 3, groups=2)' -i 5 --view flat -o grouped.gif",
    )
    params: Sequence[Param] = (
        LAYER,
        INPUT,
        CHANNEL_VIEW,
        _FRAMES,
        *DRAWING,
        *OUTPUT,
        *VALUES,
        KERNEL_VALUES,
    )
    derived: ClassVar[Mapping[str, str]] = {
        "x": "input-values",
        "input_values": "input-values",
        "kernel_values": "kernel-values",
        "weight": "kernel-values",
    }
    required: ClassVar[Mapping[str, str]] = {
        "layer": "the layer as written, like 'nn.Conv2d(3, 64, 3)'",
        "input": "the input size, like 12 or 1,3,32,32",
    }

    def key_for(self, api: str) -> str:
        """The layer's own options keep their keys; every other parameter is the line's."""
        own = {param.key for param in self.params}
        key = super().key_for(api)
        return key if key in own else "layer"

    # -- what the line says ---------------------------------------------------------------------

    def description_of(self, figure: Figure) -> Description:
        """What the figure's line says, read once per line and input (shared: read only)."""
        return _described(figure.options["layer"], json.dumps(figure.options["input"]))

    def drawn(self, figure: Figure) -> tuple[str, dict[str, Any], bool]:
        """The kind and options that draw the layer, and whether with every channel: the
        kind of its operation says which counts it draws (``Kind.with_channels``) and what
        draws one channel of each (``Kind.one_channel``)."""
        found = self.description_of(figure)
        target = get(found.kind)
        ins, outs = found.in_channels, found.out_channels
        if figure.options["channel-view"] != "off" and ins is not None and outs is not None:
            options = target.with_channels(found.options, ins, outs, found.groups)
            if options is not None:
                return found.kind, options, True
        return (*target.one_channel(found.options), False)

    def channelled(self, figure: Figure) -> bool:
        """Whether the layer is drawn with every channel."""
        return self.drawn(figure)[2]

    def inner(self, figure: Figure) -> Figure:
        """The figure of the matching kind that draws the layer, made once per figure."""
        return _inner(_Same.of(figure))

    def make_inner(self, figure: Figure) -> Figure:
        """``inner``, made afresh."""
        found = self.description_of(figure)
        kind_name, options, _ = self.drawn(figure)
        target = get(kind_name)
        o = figure.options
        keys = set(target.option_keys())
        for key in options:
            if key not in keys:  # never drop what the layer does: refuse it
                raise ParameterError(
                    "layer",
                    f"{found.constructor}(): its {key.replace('-', '_')} "
                    f"({shown(options[key])}) cannot be drawn by this version's {kind_name} "
                    "kind; use --info for its numbers",
                )
        for key in PASSED:
            if key in keys:
                options[key] = o[key]
            elif o[key] is not None and o[key] != self.param(key).normal_default:
                raise ParameterError(
                    key,
                    f"a {found.constructor} has no {key.replace('-', ' ')} (it is drawn as "
                    f"{kind_name}); leave {key} out",
                )
        given = frozenset(options) - {
            key for key in PASSED if key in keys and o[key] == self.param(key).normal_default
        }
        normal = {}
        for param in target.params:
            normal[param.key] = param.parse(param.key, options.get(param.key, param.default))
        target.complete(normal, given)
        return replace(figure, kind=kind_name, options=normal)

    def _delegate(self, figure: Figure, method: str, *args: Any) -> Any:
        """``method`` of the matching kind on the inner figure; its errors named here."""
        try:
            inner = self.inner(figure)
            return getattr(inner.declaration, method)(inner, *args)
        except ParameterError as error:
            raise self._translated(figure, error) from None

    def _translated(self, figure: Figure, error: ParameterError) -> ParameterError:
        own = {param.key for param in self.params}
        key = error.param.replace("_", "-")
        if key in own or error.param in self.derived:
            return error
        found = self.description_of(figure)
        return ParameterError("layer", f"{found.constructor}(): {error.param}: {error.detail}")

    # -- the kind's interface -------------------------------------------------------------------

    def complete(self, options: dict[str, Any], given: frozenset[str]) -> None:
        check_frame_or_columns(options)

    def model(self, figure: Figure) -> Any:
        return self._delegate(figure, "model")

    def check(self, figure: Figure, limits: bool) -> None:
        self._delegate(figure, "check", limits)

    def check_output(self, figure: Figure, suffix: str) -> None:
        self._delegate(figure, "check_output", suffix)

    def still(self, figure: Figure) -> bool:
        return bool(self._delegate(figure, "still"))

    def save(self, figure: Figure, output: Output) -> Path:
        return self._delegate(figure, "save", output)  # type: ignore[no-any-return]

    def poster(self, figure: Figure) -> Poster:
        """The poster of the kind that draws the layer (its ``--poster-cell``)."""
        return self._delegate(figure, "poster")  # type: ignore[no-any-return]

    def brief(self, figure: Figure) -> str:
        return str(self._delegate(figure, "brief"))

    def cost(self, figure: Figure, animated: bool) -> float:
        return float(self._delegate(figure, "cost", animated))

    # -- words ----------------------------------------------------------------------------------

    def channel_words(self, figure: Figure, found: Description) -> str:
        """ "3 input and 64 output channels, 1 group: drawn with one of each"."""
        ins, outs = found.in_channels, found.out_channels
        if found.kind == "pool":
            return (
                f"{ins} channels, each pooled alone: drawn with one"
                if ins is not None
                else "each channel pooled alone: drawn with one"
            )
        depthwise = found.kind == "separable" or found.constructor == "DepthwiseConv2D"
        if ins is None:
            text = "input channels not in the line (give -i as a shape with channels)"
            if outs is not None and not depthwise:
                text += f", {_count(outs, 'output channel')}"
        else:
            text = f"{_count(ins, 'input channel')}, {_count(outs or 0, 'output channel')}"
        if depthwise:
            text += ", depthwise (groups = input channels)"
        elif found.groups != 1:
            text += f", {_count(found.groups, 'group')}"
        if self.channelled(figure):
            return text + ": drawn with every channel"
        return text + ": drawn with one input and one output channel"

    def alt_text(self, figure: Figure) -> str:
        found = self.description_of(figure)
        inner = self._delegate(figure, "alt_text")
        return f"{found.text}: {found.meaning}; {self.channel_words(figure, found)}. {inner}"

    def facts(self, figure: Figure) -> dict[str, Any]:
        found = self.description_of(figure)
        inner = self.inner(figure)
        facts: dict[str, Any] = {
            "source": figure.options["layer"],
            "framework": found.framework,
            "constructor": found.constructor,
            "meaning": found.meaning,
            "arguments": plain(dict(found.arguments)),
            "given": list(found.given),
            "ignored": plain(dict(found.ignored)),
            "notes": list(found.notes),
            "drawn_as": inner.kind,
            "command": inner.command().removesuffix(" -o OUTPUT"),
            "layer_in_channels": found.in_channels,
            "layer_out_channels": found.out_channels,
            "layer_groups": found.groups,
            "channels_drawn": self.channelled(figure),
            "framework_output_size": list(found.output_size),
        }
        inner_facts = self._delegate(figure, "facts")
        inner_facts.pop("alt_text", None)
        facts.update(inner_facts)
        facts["alt_text"] = self.alt_text(figure)
        return facts

    def info(self, figure: Figure) -> str:
        found = self.description_of(figure)
        inner = self.inner(figure)
        lines = [
            f"layer: {figure.options['layer']}",
            f"meaning: {found.meaning}",
            f"channels: {self.channel_words(figure, found)}",
        ]
        if found.ignored:
            accepted = ", ".join(f"{name}={shown(value)}" for name, value in found.ignored.items())
            lines.append(f"accepted, not drawn: {accepted}")
        lines += [f"note: {note}" for note in found.notes]
        lines.append(f"drawn as: {inner.command().removesuffix(' -o OUTPUT')}")
        lines += self._delegate(figure, "info").splitlines()
        at = next(i for i, line in enumerate(lines) if line.startswith("alt text:"))
        lines[at] = f"alt text: {self.alt_text(figure)}"
        return "\n".join(lines)


@dataclass(frozen=True)
class _Same:
    """A figure, compared and hashed by its JSON text (name, base, options): a cache's key."""

    text: str
    figure: Figure = field(compare=False)

    @classmethod
    def of(cls, figure: Figure) -> _Same:
        text = [figure.name, str(figure.base), figure.options]
        return cls(json.dumps(text, sort_keys=True, default=repr), figure)


# A command asks for a figure's line and inner figure many times (checks, alt text, info,
# drawing): each is made once, for the last few figures.
@functools.lru_cache(maxsize=32)
def _described(line: str, size: str) -> Description:
    """``describe``, once per line and input (``size``: the input option as JSON)."""
    return describe(line, json.loads(size))


@functools.lru_cache(maxsize=32)
def _inner(same: _Same) -> Figure:
    return KIND.make_inner(same.figure)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" + ("" if number == 1 else "s")


KIND = Layer()
