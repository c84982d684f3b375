"""Sphinx extension: a ``convanim`` directive that draws its figure when the docs are built.

In ``conf.py``, ``extensions = ["convanim.sphinxext"]``; then, in a document::

    .. convanim::
       :input: 5
       :kernel: 3
       :stride: 2
       :padding: 1

Options are the command line's long options, spelt as it spells them (``:output-padding: 1``,
``:input: 5,7``; an rf figure's ``:dilation: 1,2,4``); ``:transposed:``, ``:labels:``,
``:values:`` and ``:causal:`` are flags that take no value (or true/false). Besides those:

- ``:kind:`` conv (the default), pool or rf;
- ``:format:`` gif (the default), png, or another format ``convanim.writers.WRITERS`` lists; a
  single frame (``:frame:``, or ``:unit:`` of a 1-D rf figure) defaults to png, and is no gif;
- ``:alt:`` replaces the alt text, which otherwise says what the figure shows;
- ``:caption:`` wraps the image in a figure with this caption;
- ``:width:``, ``:height:``, ``:align:``, ``:class:`` and ``:name:``, as the image directive.

Value files (``:input-values: x.csv``) are relative to the document, as images are.

Options are checked when a document is read: a mistake is an error at the directive's line
that names the option and what would be valid, and the figure is left out. Figures are
rendered when a document is written, for the builder at hand, into
``<doctreedir>/convanim/<fingerprint>.<ext>``; Sphinx copies them into the output as any
image (``_images/`` in HTML). A figure whose file is there is reused, not rendered again (the
name changes with the picture); files of figures that changed stay behind. A builder that cannot
show the format gets a PNG instead (LaTeX shows no GIF: it gets the strip of every frame); a
builder that shows no images (text, man) gets the alt text, and nothing is rendered.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

from convanim import __version__
from convanim.figures import KEYS, KINDS, Figure, option_name, parse_figure
from convanim.geometry import ConvSpecError
from convanim.writers import WRITERS

if TYPE_CHECKING:
    from sphinx.application import Sphinx

__all__ = ["MIME_TYPES", "ConvanimDirective", "convanim_figure", "description", "setup"]

logger = logging.getLogger(__name__)

MIME_TYPES = {
    ".gif": "image/gif",
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".pdf": "application/pdf",
}
FALLBACK = ".png"  # for a builder that cannot show the format asked for
FOLDER = "convanim"  # inside the doctree folder

_FLAGS = frozenset({"transposed", "labels", "values", "causal"})
_INTEGERS = frozenset({"frame-ms", "columns", "frame", "max-frames", "seed", "unit", "dims"})
_NUMBERS = frozenset({"scale"})
_VALUE_FILES = frozenset({"input-values", "kernel-values"})
_TRUE = ("", "true", "yes", "on", "1")
_FALSE = ("false", "no", "off", "0")

# The directive's own options; every other option is a key of the figure's description.
IMAGE_OPTIONS: dict[str, Callable[[str], Any]] = {
    "width": directives.length_or_percentage_or_unitless,
    "height": directives.length_or_unitless,
    "align": lambda text: directives.choice(
        text, ("left", "center", "right", "top", "middle", "bottom")
    ),
    "class": directives.class_option,
    "name": directives.unchanged,
}
OWN_OPTIONS: dict[str, Callable[[str], Any]] = {
    "kind": directives.unchanged,
    "format": directives.unchanged,
    "alt": directives.unchanged,
    "caption": directives.unchanged,
    **IMAGE_OPTIONS,
}


class convanim_figure(nodes.General, nodes.Element):  # lower case, as docutils names nodes
    """Where a figure goes: replaced by an image once the builder, and so the format, is known.

    Attributes: ``kind``, ``options`` (normalised, as ``Figure.options``), ``base`` (the folder
    value files are relative to), ``format`` (an extension, with its dot), ``alt`` and
    ``image`` (the image node's width, height and align).
    """


class _OptionSpec(dict[str, Callable[[str], Any]]):
    """Docutils' option table, which lets an unknown option through to ``run``, where it is
    reported with the options that would be valid (docutils says only 'unknown option')."""

    def __missing__(self, key: str) -> Callable[[str], Any]:
        return directives.unchanged


def description(options: Mapping[str, str]) -> dict[str, Any]:
    """A figure description (see ``convanim.figures``) from directive options, which are text.

    One integer becomes an int; other sizes, paddings and per-layer lists stay text, which
    ``parse_figure`` reads as the command line does (``5,7``, ``same``, ``1,2,4``). A
    ConvSpecError names an option that is not valid.
    """
    out: dict[str, Any] = {}
    for name, raw in options.items():
        key = name.replace("_", "-")
        text = raw.strip()
        if key in _FLAGS:
            if text.lower() not in (*_TRUE, *_FALSE):
                raise ConvSpecError(key, f"got '{text}'; a flag takes no value (or true or false)")
            out[key] = text.lower() in _TRUE
        elif key in _INTEGERS:
            try:
                out[key] = int(text)
            except ValueError:
                raise ConvSpecError(key, f"got '{text}'; expected an integer") from None
        elif key in _NUMBERS:
            try:
                out[key] = float(text)
            except ValueError:
                raise ConvSpecError(key, f"got '{text}'; expected a number") from None
        elif key in _VALUE_FILES and text.startswith("["):
            try:
                out[key] = json.loads(text)
            except ValueError:
                raise ConvSpecError(
                    key, f"got '{text}'; expected a file name, or rows like [[1, 2], [3, 4]]"
                ) from None
        else:
            # figures.parse_padding would read the text "1" as a 1-tuple.
            out[key] = int(text) if text.lstrip("-").isdigit() else text
    return out


def _one_frame(figure: Figure) -> bool:
    """Whether the figure is one frame, which a GIF cannot hold."""
    o = figure.options
    if figure.kind == "rf":
        return o["dims"] == 1 and o["unit"] is not None
    return o["frame"] is not None


def _format(given: str | None, figure: Figure) -> str:
    """The extension (with its dot) the directive asks for; a ConvSpecError if not valid."""
    formats = [ext.lstrip(".") for ext in WRITERS]
    if given is None:
        ext = ".png" if _one_frame(figure) else ".gif"
    else:
        name = given.strip().lower().lstrip(".")
        if name not in formats:
            raise ConvSpecError("format", f"got '{given}'; expected one of {', '.join(formats)}")
        ext = f".{name}"
    if _one_frame(figure) and ext == ".gif":
        what = ":frame:" if figure.kind != "rf" else ":unit: of a 1-D figure"
        still = ", ".join(name for name in formats if name != "gif")
        raise ConvSpecError("format", f"got '{given}'; a single frame ({what}) is one of {still}")
    if figure.kind != "rf":  # the limits of this format (a vector strip's frame count, say)
        from convanim.animate import Output, check_output_request

        o = figure.options
        output = Output(
            path=Path(f"figure{ext}"),
            frame_ms=o["frame-ms"],
            columns=o["columns"],
            frame=o["frame"],
            max_frames=o["max-frames"],
        )
        check_output_request(figure.spec, output)
    return ext


class ConvanimDirective(SphinxDirective):
    """``.. convanim::`` with the figure's options; see the module's docstring."""

    has_content = False
    required_arguments = 0
    optional_arguments = 0
    option_spec = _OptionSpec(
        {key: directives.unchanged for kind in KINDS for key in KEYS[kind]}, **OWN_OPTIONS
    )

    def run(self) -> list[nodes.Node]:
        options: dict[str, Any] = dict(self.options)
        own = {key: options.pop(key) for key in OWN_OPTIONS if key in options}
        try:
            figure, ext = self._figure(own.get("kind"), options, own.get("format"))
        except ConvSpecError as error:
            raise self.error(_message(error, list(self.options))) from None

        node = convanim_figure(
            self.block_text,
            kind=figure.kind,
            options=dict(figure.options),
            base=str(figure.base),
            format=ext,
            alt=own.get("alt") or figure.alt_text(),
            image={key: own[key] for key in ("width", "height", "align") if key in own},
        )
        self.set_source_info(node)
        node["classes"] += own.get("class", [])
        if "caption" not in own:
            self.add_name(node)
            return [node]
        wrapper = nodes.figure("", node)
        self.set_source_info(wrapper)
        if "align" in own:  # as the figure directive: the figure is aligned, not its image
            wrapper["align"] = node["image"].pop("align")
        caption, messages = self.state.inline_text(own["caption"], self.lineno)
        wrapper += nodes.caption(own["caption"], "", *caption)
        self.add_name(wrapper)
        return [wrapper, *messages]

    def _figure(
        self, kind: str | None, options: dict[str, str], given_format: str | None
    ) -> tuple[Figure, str]:
        """The validated figure and the extension to render; a ConvSpecError if not valid."""
        kind = (kind or "conv").strip()
        if kind in KINDS:
            valid = (*KEYS[kind], *OWN_OPTIONS)
            for name in options:
                if name.replace("_", "-") not in valid:
                    close = difflib.get_close_matches(name, valid, n=1)
                    hint = f" (did you mean ':{close[0]}:'?)" if close else ""
                    raise ConvSpecError(
                        name,
                        f"unknown option for kind '{kind}'{hint}; valid options are "
                        + ", ".join(valid),
                    )
        docname = self.env.docname
        base = Path(self.env.doc2path(docname)).parent
        figure = parse_figure(
            f"{docname}:{self.lineno}", {"kind": kind, **description(options)}, base
        )
        for key in _VALUE_FILES:
            value = figure.options.get(key)
            if isinstance(value, str):  # a change to the file makes the document stale
                self.env.note_dependency(str(base / value))
        return figure, _format(given_format, figure)


def _builder_format(asked: str, supported: Sequence[str]) -> str | None:
    """The extension to render for a builder showing ``supported`` mime types, or None."""
    if MIME_TYPES[asked] in supported:
        return asked
    if MIME_TYPES[FALLBACK] in supported:
        return FALLBACK
    return None


def render_figures(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """Replace each figure of a document being written by an image in the builder's format,
    rendering only the figures whose file is not there yet."""
    supported = app.builder.supported_image_types
    folder = Path(app.doctreedir) / FOLDER
    for node in list(doctree.findall(convanim_figure)):
        figure = Figure(
            name=f"{docname}:{node.line}",
            kind=node["kind"],
            options=node["options"],
            base=Path(node["base"]),
        )
        fingerprint = figure.fingerprint()
        image = nodes.image(node.rawsource, alt=node["alt"], **node["image"])
        image.source, image.line = node.source, node.line
        ext = _builder_format(node["format"], supported)
        if ext is None:  # a builder without images: alt text alone, nothing rendered
            image["uri"] = f"{fingerprint}{node['format']}"
            image["candidates"] = {"?": image["uri"]}
            node.replace_self(image)
            continue
        path = folder / f"{fingerprint}{ext}"
        if not path.is_file():  # a file is complete or absent: writers replace files atomically
            try:
                folder.mkdir(parents=True, exist_ok=True)
                figure.render(path)
            except ConvSpecError as error:
                _failed(node, _message(error))
                continue
            except OSError as error:
                _failed(node, f"convanim: cannot write {path}: {error.strerror}")
                continue
        image["uri"] = str(path)
        image["candidates"] = {MIME_TYPES[ext]: str(path)}
        app.env.images.add_file(docname, str(path))  # the builder copies it into its output
        node.replace_self(image)


def _message(error: ConvSpecError, given: Sequence[str] = ()) -> str:
    """An error as the directive's options name it: ``convanim: :stride: got 0; ...``."""
    names = option_name(error.param).split("/")
    known = {*OWN_OPTIONS, *given, *(key for kind in KINDS for key in KEYS[kind])}
    if all(name in known for name in names):
        return f"convanim: {'/'.join(f':{name}:' for name in names)} {error.detail}"
    return f"convanim: {error.param}: {error.detail}"


def _failed(node: convanim_figure, message: str) -> None:
    """Report a figure that could not be rendered, and put its alt text in its place."""
    logger.warning(message, location=node, type="convanim", subtype="render")
    node.replace_self(nodes.paragraph(node["alt"], node["alt"]))


def setup(app: Sphinx) -> dict[str, Any]:
    """Register the directive, and the rendering of its figures as documents are written."""
    app.add_node(convanim_figure)
    app.add_directive("convanim", ConvanimDirective)
    app.connect("doctree-resolved", render_figures)
    return {"version": __version__, "parallel_read_safe": True, "parallel_write_safe": True}
