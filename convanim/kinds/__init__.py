"""Figure kinds: each is one declaration in one module of this package, and this is their registry.

A kind declares its parameters (``convanim.params.Param``), how they become a validated model
(a ``ConvSpec``, a stack of layers), its alt text, its ``info`` facts, how it is drawn and what
its poster is (``Kind.poster``: one still of the whole animation, for ``--poster``). The
command line, manifests, the Sphinx directive, ``info`` and ``Figure.command()`` are generated
from these declarations; none of them names a kind.

Adding a kind is adding its module and one line to ``KINDS``. Modules are imported when first
used, and import neither numpy nor matplotlib until a figure is checked or drawn.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from convanim.errors import ParameterError
from convanim.params import VALUE_FILES, Param

if TYPE_CHECKING:
    from convanim.animate import Output
    from convanim.drawing import Drawing
    from convanim.figures import Figure

__all__ = ["KINDS", "Kind", "Poster", "get", "kinds"]

# The one list of kinds: name -> the module that declares it (as ``KIND``).
KINDS: dict[str, str] = {
    "conv": "convanim.kinds.conv",
    "pool": "convanim.kinds.pool",
    "rf": "convanim.kinds.rf",
    "matrix": "convanim.kinds.matrix",
    "overlap": "convanim.kinds.overlap",
    "erf": "convanim.kinds.erf",
    "separable": "convanim.kinds.separable",
    "layer": "convanim.kinds.layer",
}


@dataclass(frozen=True)
class Poster:
    """A figure's poster: frame ``frame`` of the drawing ``make`` builds, one still image that
    shows the whole animation at once; ``words`` say what it shows, for the alt text ("every
    output and the kernel's footprint for output cell row 2, column 2")."""

    make: Callable[[], Drawing]
    frame: int
    words: str


class Kind:
    """A kind of figure. Subclasses set the class attributes and implement the methods."""

    name: str
    summary: str  # one line: what the figure shows
    description: str = ""  # more of the command's help, before its examples
    examples: Sequence[str] = ()  # command lines, without the leading "convanim"
    params: Sequence[Param] = ()
    # Library names of quantities that no one option sets, with the options that do.
    derived: ClassVar[Mapping[str, str]] = {}
    # The options that must be given, with what to give (reported before anything else).
    required: ClassVar[Mapping[str, str]] = {}

    # -- the declaration's vocabulary -----------------------------------------------------------

    def option_keys(self) -> tuple[str, ...]:
        return tuple(param.key for param in self.params)

    def param(self, key: str) -> Param:
        for param in self.params:
            if param.key == key:
                return param
        raise KeyError(key)

    def key_for(self, api: str) -> str:
        """The option that sets a library parameter (``kernel_size`` -> ``kernel``)."""
        if api in self.derived:
            return self.derived[api]
        for param in self.params:
            if api in (param.api, param.key, param.key.replace("-", "_")):
                return param.key
        return api.replace("_", "-")

    def files(self, figure: Figure) -> dict[str, Path]:
        """The files the figure reads, by option: their contents go into its fingerprint (the
        value files; a kind reading others adds them)."""
        names = {key: figure.options.get(key) for key in VALUE_FILES}
        return {key: figure.base / name for key, name in names.items() if isinstance(name, str)}

    def help(self) -> str:
        """The command's help: summary, description and examples."""
        parts = [self.summary]
        if self.description:
            parts.append(self.description)
        examples = "\n".join(f"  convanim {line}" for line in self.examples)
        parts.append(f"\b\nExamples:\n{examples}")
        return "\n\n".join(parts)

    def options_markdown(self) -> str:
        """The kind's options as a Markdown table, as the README shows them."""
        rows = ["| option | meaning |", "| --- | --- |"]
        for param in self.params:
            names = [f"-{param.short}", f"--{param.key}"] if param.short else [f"--{param.key}"]
            spelt = "/".join(names) if param.flag is False else f"--{param.key}"
            text = param.help_text().replace("|", "\\|")
            if param.key in self.required:
                text += " (required)"
            rows.append(f"| `{spelt}` | {text} |")
        return "\n".join(rows)

    # -- what each kind implements --------------------------------------------------------------

    def complete(self, options: dict[str, Any], given: frozenset[str]) -> None:
        """Fill values implied by others, and refuse combinations, in the normalised options.

        ``given`` holds the keys the user gave. Called before ``check``.
        """

    def implied(self, options: Mapping[str, Any]) -> dict[str, Any]:
        """Values ``complete`` filled in, which ``command()`` need not spell out."""
        return {}

    def model(self, figure: Figure) -> Any:
        """The validated model the figure draws (a ConvSpec, a list of layers...)."""
        raise NotImplementedError

    def check(self, figure: Figure, limits: bool) -> None:
        """Everything that can be checked without rendering; ``limits``: also the limits of
        drawing (frame counts, grid sizes), which ``info`` does not need."""
        raise NotImplementedError

    def check_output(self, figure: Figure, suffix: str) -> None:
        """What only the output format can tell (a single frame is no GIF, say)."""

    def still(self, figure: Figure) -> bool:
        """Whether the figure is a single picture, which no animation can hold."""
        return False

    def poster(self, figure: Figure) -> Poster:
        """The figure's poster (``--poster``): what the kind's whole animation looks like at
        once. Everything it needs is checked here (the poster cell), and nothing is drawn
        until ``make`` is called."""
        raise ParameterError("poster", f"the {self.name} kind has no poster")

    def check_target(self, figure: Figure, suffix: str) -> None:
        """``check_output``, or for a poster what a poster needs of the output and itself."""
        if not figure.options.get("poster"):
            self.check_output(figure, suffix)
            return
        from convanim.animate import Output, check_poster_output

        check_poster_output(Output(Path(f"figure{suffix}")))
        self.poster(figure)

    def save_poster(self, figure: Figure, output: Output) -> Path:
        """Draw the figure's poster into ``output``: one still image."""
        from convanim.animate import save_poster

        poster = self.poster(figure)
        return save_poster(poster.make, poster.frame, output)

    def alt_text(self, figure: Figure) -> str:
        raise NotImplementedError

    def facts(self, figure: Figure) -> dict[str, Any]:
        """What ``info --json`` prints: JSON-ready."""
        raise NotImplementedError

    def info(self, figure: Figure) -> str:
        """What ``info`` prints: lines of text."""
        raise NotImplementedError

    def save(self, figure: Figure, output: Output) -> Path:
        """Draw the figure into ``output`` (its path or stream, its stamp, its progress)."""
        raise NotImplementedError

    def brief(self, figure: Figure) -> str:
        """A few words on what was drawn, for "wrote x.gif (3x3 output, 9 frames, 45 KB)"."""
        return self.name

    def cost(self, figure: Figure, animated: bool) -> float:
        """A rough rendering cost, in plain animation frames (a few ms each), for scheduling."""
        return 10.0

    # -- what the layer kind asks of the kind that draws a layer --------------------------------

    def with_channels(
        self, options: Mapping[str, Any], in_channels: int, out_channels: int, groups: int
    ) -> dict[str, Any] | None:
        """The options (``options``: the layer's, without channel counts) that draw a layer of
        these channel counts with every channel, or None: the kind draws it with one input and
        one output channel (``one_channel``)."""
        return None

    def one_channel(self, options: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
        """The kind and options that draw a layer (``options``: the layer's, without channel
        counts) with one input and one output channel."""
        return self.name, dict(options)


def get(name: object) -> Kind:
    """The kind called ``name``; a ParameterError naming ``kind`` otherwise."""
    module = KINDS.get(name) if isinstance(name, str) else None
    if module is None:
        shown = f"'{name}'" if isinstance(name, str) else repr(name)
        raise ParameterError("kind", f"got {shown}; expected one of {', '.join(KINDS)}")
    kind: Kind = importlib.import_module(module).KIND
    return kind


def kinds() -> list[Kind]:
    """Every kind, in the registry's order."""
    return [get(name) for name in KINDS]
