"""Figure descriptions: the one vocabulary of the command line, manifests, the gallery and Sphinx.

A description is a mapping of option names to values, spelt as the command line spells its long
options (``kernel``, ``output-padding``; ``output_padding`` is taken too), plus ``kind`` (a name
in ``convanim.kinds.KINDS``). Which options a kind has, their defaults and how they are read all
come from the kind's declaration. ``parse_figure`` validates a description completely, without
rendering, into a ``Figure``; ``Figure.render`` writes it. A figure's ``fingerprint`` changes
exactly when its picture would: with its description, with the content of the value files it
reads, and with ``OUTPUT_VERSION``.
"""

from __future__ import annotations

import difflib
import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from convanim import kinds
from convanim.errors import ParameterError
from convanim.kinds import Kind

__all__ = [
    "OUTPUT_VERSION",
    "Figure",
    "FigureError",
    "parse_figure",
]

# Bump when a change to convanim changes the pixels or bytes of existing figures.
OUTPUT_VERSION = "4"

# Options whose values name files (relative to the figure's base), hashed into the fingerprint.


class FigureError(ParameterError):
    """An invalid figure description; ``figure`` names the figure, ``param`` the key."""

    def __init__(self, figure: str, param: str, message: str) -> None:
        super().__init__(param, message)
        self.figure = figure
        self.args = (f"figure '{figure}': {param}: {message}",)


@dataclass(frozen=True)
class Figure:
    """A validated figure: ``kind`` and its normalised ``options`` (every key, JSON-ready)."""

    name: str
    kind: str
    options: Mapping[str, Any]
    base: Path = field(default=Path("."), compare=False)  # value files are relative to it

    @property
    def declaration(self) -> Kind:
        """The kind's declaration (``convanim.kinds``)."""
        return kinds.get(self.kind)

    @property
    def model(self) -> Any:
        """What the figure draws, validated: a ConvSpec, a stack of layers..."""
        return self.declaration.model(self)

    @property
    def spec(self) -> Any:
        """The model of a convolution or pooling figure: its ``ConvSpec``."""
        return self.model

    def _files(self) -> dict[str, str]:
        """Content hashes of the files the figure reads (``Kind.files``)."""
        paths = self.declaration.files(self)
        hashes = {}
        for key, path in paths.items():
            try:
                hashes[key] = hashlib.sha256(path.read_bytes()).hexdigest()
            except OSError:
                hashes[key] = "missing"
        return hashes

    def fingerprint(self) -> str:
        """Changes exactly when the rendered file would."""
        declared = {param.key: param for param in self.declaration.params}
        options = {
            key: value
            for key, value in self.options.items()
            if key not in declared
            or declared[key].stamped_at_default
            or value != declared[key].normal_default
        }
        payload = {
            "kind": self.kind,
            "options": options,
            "files": self._files(),
            "output_version": OUTPUT_VERSION,
        }
        text = json.dumps(payload, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:32]

    def command(self, output: str = "OUTPUT") -> str:
        """The ``convanim`` command line that draws this figure into ``output``: the options
        that differ from their defaults, quoted for a POSIX shell where needed."""
        import shlex

        kind = self.declaration
        implied = kind.implied(self.options)
        words = ["convanim", self.kind]
        for param in kind.params:
            value = self.options[param.key]
            if value is None or value == param.normal_default or implied.get(param.key) == value:
                continue
            words += param.words(value)
        return " ".join(shlex.quote(word) for word in [*words, "-o", output])

    @property
    def poster(self) -> bool:
        """Whether the figure is drawn as its poster: one still of the whole animation."""
        return bool(self.options.get("poster"))

    def alt_text(self) -> str:
        """What the figure shows, in one sentence, for alt text and captions (a poster's: and
        a sentence on what the poster shows)."""
        text = self.declaration.alt_text(self)
        if self.poster:
            text += f" The poster shows {self.declaration.poster(self).words}."
        return text

    def facts(self) -> dict[str, Any]:
        """What ``convanim info --json`` prints for the figure (a poster's: what it shows,
        and its alt text)."""
        facts = self.declaration.facts(self)
        if self.poster:
            facts["poster"] = self.declaration.poster(self).words
            if "alt_text" in facts:
                facts["alt_text"] = self.alt_text()
        return facts

    def info(self) -> str:
        """What ``convanim info`` prints for the figure (a poster's: what it shows, and its
        alt text)."""
        text = self.declaration.info(self)
        if not self.poster:
            return text
        lines = [
            f"alt text: {self.alt_text()}" if line.startswith("alt text: ") else line
            for line in text.splitlines()
        ]
        lines.append(f"poster: {self.declaration.poster(self).words}")
        return "\n".join(lines)

    def still(self) -> bool:
        """Whether the figure is one picture, which no animation (GIF) can hold: a single
        frame, or a poster."""
        return self.poster or self.declaration.still(self)

    def check(self, limits: bool = True) -> None:
        """Validate the model the options describe (a FigureError), as ``parse_figure`` does;
        ``limits=False`` skips the checks that only rendering needs (frame counts)."""
        try:
            self.declaration.check(self, limits)
        except ParameterError as error:
            raise _named(self.name, self.declaration, error) from None

    def check_output(self, path: str | Path) -> None:
        """Refuse an output file this figure cannot be written to (a FigureError)."""
        if Path(path).is_dir():
            raise FigureError(self.name, "output", f"got '{path}'; it is a folder, not a file")
        try:
            self.declaration.check_target(self, Path(path).suffix.lower())
        except ParameterError as error:
            raise _named(self.name, self.declaration, error) from None

    def output_options(self) -> dict[str, Any]:
        """``Output``'s keywords from the figure's output options (those its kind declares)."""
        o = self.options
        names = {"frame-ms": "frame_ms", "columns": "columns", "frame": "frame"}
        found = {name: o[key] for key, name in names.items() if key in o}
        if "max-frames" in o:
            found["max_frames"] = o["max-frames"]
        return found

    def render(
        self,
        path: str | Path,
        stamp: bool = True,
        *,
        stream: BinaryIO | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> Path:
        """Write the figure to ``path`` (.gif, .png, .svg or .pdf); returns the path.

        With ``stamp``, the file carries the figure's fingerprint, so that a later build can
        tell whether it is current without another record. With ``stream``, the bytes go
        there instead, in the format of ``path``'s suffix. ``progress`` is told (frames drawn,
        frames to draw) as the frames are drawn.
        """
        from convanim.animate import Output

        try:
            output = Output(
                Path(path),
                stamp=self.fingerprint() if stamp else None,
                alt=self.alt_text(),
                stream=stream,
                progress=progress,
                **self.output_options(),
            )
            if self.poster:
                return self.declaration.save_poster(self, output)
            return self.declaration.save(self, output)
        except FigureError:
            raise
        except ParameterError as error:
            raise _named(self.name, self.declaration, error) from None


def parse_figure(
    name: str,
    raw: Mapping[str, Any],
    base: Path | None = None,
    limits: bool = True,
    *,
    check: bool = True,
) -> Figure:
    """Validate a description completely, without rendering: a Figure or a FigureError.

    ``output`` is not part of a figure (a manifest names it); value files are read relative
    to ``base``. ``limits=False`` skips the checks that only rendering needs (frame counts).
    ``check=False`` reads the options only (their types and ranges, enough for the
    fingerprint) and leaves the model's validation to ``Figure.check``: what a build does for
    a figure whose file may be current, which that figure's rendering validated already.
    """
    given = {str(key).replace("_", "-"): value for key, value in raw.items()}
    given.pop("output", None)
    try:
        kind = kinds.get(given.pop("kind", "conv"))
    except ParameterError as error:
        raise FigureError(name, "kind", error.detail) from None
    allowed = kind.option_keys()
    for key in given:
        if key not in allowed:
            close = difflib.get_close_matches(key, allowed, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise FigureError(
                name,
                key,
                f"unknown key for kind '{kind.name}'{hint}; valid keys are {', '.join(allowed)}",
            )
    for key, what in kind.required.items():
        if given.get(key) is None:
            raise FigureError(name, key, f"missing; give {what}")
    try:
        options = {
            param.key: param.parse(param.key, given.get(param.key, param.default))
            for param in kind.params
        }
        kind.complete(options, frozenset(given))
        _check_poster_options(options)
    except ParameterError as error:
        raise _named(name, kind, error) from None
    figure = Figure(name=name, kind=kind.name, options=options, base=base or Path("."))
    if check:
        figure.check(limits)
    return figure


def _check_poster_options(options: Mapping[str, Any]) -> None:
    """A poster is one picture already: no frame, no strip; a poster cell needs a poster."""
    if options.get("poster"):
        for key in ("frame", "columns"):
            if options.get(key) is not None:
                raise ParameterError(
                    "poster",
                    f"a poster is one picture of the whole animation: give poster or {key}, "
                    "not both",
                )
    elif options.get("poster-cell") is not None:
        cell = options["poster-cell"]
        shown = ",".join(map(str, cell)) if isinstance(cell, list) else str(cell)
        raise ParameterError(
            "poster-cell",
            f"got {shown}; it picks the output cell of a poster: add "
            "poster, or leave poster-cell out",
        )


def _named(name: str, kind: Kind, error: ParameterError) -> FigureError:
    """A library error as a FigureError naming the option that sets the parameter."""
    if isinstance(error, FigureError):
        return error
    layer = getattr(error, "layer", None)
    detail = f"layer {layer}: {error.detail}" if layer is not None else error.detail
    return FigureError(name, kind.key_for(error.param), detail)
