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
  ``html`` puts the interactive player (``convanim.formats.html``) in the page itself;
- ``:alt:`` replaces the alt text, which otherwise says what the figure shows;
- ``:caption:`` wraps the image in a figure with this caption;
- ``:width:``, ``:height:``, ``:align:``, ``:class:`` and ``:name:``, as the image directive.

Value files (``:input-values: x.csv``) are relative to the document, as images are.

Options are checked when a document is read: a mistake is an error at the directive's line
that names the option and what would be valid, and the figure is left out. Figures are
rendered when a document is read (in parallel with ``-j``), or else when it is written, for
the builder at hand, into
``<doctreedir>/convanim/<fingerprint>.<ext>``; Sphinx copies them into the output as any
image (``_images/`` in HTML). A figure whose file is there is reused, not rendered again (the
name changes with the picture); files of figures that changed stay behind. A builder that cannot
show the format gets a PNG instead; LaTeX, which shows no animation (a GIF would print its first
frame), gets an animation's poster: one still of the whole animation, as a PDF (vector art,
sharp in print); ``:poster:`` asks for the poster in every builder. A builder that shows no
images (text, man) gets the alt text, and nothing is rendered.
HTML builders show every format: WebP and APNG as images, MP4 as a looping ``<video>``, and
the player of ``:format: html`` written into the page, frames and all (EPUB and every other
builder get the PNG).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

from convanim import __version__, kinds
from convanim.errors import ParameterError
from convanim.figures import Figure, parse_figure
from convanim.formats import WRITERS, writer_for
from convanim.params import VALUE_FILES

if TYPE_CHECKING:
    from sphinx.application import Sphinx

__all__ = ["MIME_TYPES", "ConvanimDirective", "convanim_figure", "description", "setup"]

logger = logging.getLogger(__name__)

# Every format's MIME type, as its writer says (.html: the player, embedded in HTML builders'
# pages, no image there).
MIME_TYPES: dict[str, str] = {suffix: writer_for(suffix).mime_type for suffix in WRITERS}
FALLBACK = ".png"  # for a builder that cannot show the format asked for
POSTER = ".pdf"  # an animation's poster, for LaTeX
# What a web page shows though Sphinx's HTML builders do not list them as image types.
WEB_ONLY = (".webp", ".apng", ".mp4", ".html")
FOLDER = "convanim"  # inside the doctree folder

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

    The text is read by each option's declaration, as the command line's is (``5,7``,
    ``same``, ``1,2,4``; a flag given without a value is true).
    """
    return {name.replace("_", "-"): raw.strip() for name, raw in options.items()}


def _format(given: str | None, figure: Figure) -> str:
    """The extension (with its dot) the directive asks for; a ParameterError if not valid."""
    formats = [ext.lstrip(".") for ext in WRITERS]
    still = figure.still()
    if given is None:
        ext = ".png" if still else ".gif"
    else:
        name = given.strip().lower().lstrip(".")
        if name not in formats:
            raise ParameterError("format", f"got '{given}'; expected one of {', '.join(formats)}")
        ext = f".{name}"
    if still and writer_for(ext).animates:
        others = ", ".join(name for name in formats if not writer_for(f".{name}").animates)
        raise ParameterError("format", f"got '{given}'; a single frame is one of {others}")
    figure.check_output(f"figure{ext}")  # the limits of this format (a vector strip's length)
    return ext


class ConvanimDirective(SphinxDirective):
    """``.. convanim::`` with the figure's options; see the module's docstring."""

    has_content = False
    required_arguments = 0
    optional_arguments = 0
    option_spec = _OptionSpec(
        {key: directives.unchanged for kind in kinds.kinds() for key in kind.option_keys()},
        **OWN_OPTIONS,
    )

    def run(self) -> list[nodes.Node]:
        options: dict[str, Any] = dict(self.options)
        own = {key: options.pop(key) for key in OWN_OPTIONS if key in options}
        try:
            figure, ext = self._figure(own.get("kind"), options, own.get("format"))
        except ParameterError as error:
            raise self.error(_message(error)) from None

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
        self, kind_name: str | None, options: dict[str, str], given_format: str | None
    ) -> tuple[Figure, str]:
        """The validated figure and the extension to render; a ParameterError if not valid."""
        kind = kinds.get((kind_name or "conv").strip())
        valid = (*kind.option_keys(), *OWN_OPTIONS)
        for name in options:
            if name.replace("_", "-") not in valid:
                close = difflib.get_close_matches(name, valid, n=1)
                hint = f" (did you mean ':{close[0]}:'?)" if close else ""
                raise ParameterError(
                    name,
                    f"unknown option for kind '{kind.name}'{hint}; valid options are "
                    + ", ".join(valid),
                )
        docname = self.env.docname
        base = Path(self.env.doc2path(docname)).parent
        figure = parse_figure(
            f"{docname}:{self.lineno}", {"kind": kind.name, **description(options)}, base
        )
        for key in VALUE_FILES:
            value = figure.options.get(key)
            if isinstance(value, str):  # a change to the file makes the document stale
                self.env.note_dependency(str(base / value))
        return figure, _format(given_format, figure)


def _builder_format(asked: str, supported: Sequence[str], web: bool = False) -> str | None:
    """The extension to render for a builder showing ``supported`` mime types (``web``: and
    what a web page shows: WebP, APNG, MP4, the player), or None."""
    if MIME_TYPES[asked] in supported or (web and asked in WEB_ONLY):
        return asked
    if MIME_TYPES[FALLBACK] in supported:
        return FALLBACK
    return None


def _embeds_html(app: Sphinx) -> bool:
    """Whether the builder writes web pages that can hold the player (not EPUB's)."""
    return app.builder.format == "html" and not app.builder.name.startswith("epub")


def _poster_of(figure: Figure) -> Figure:
    """The figure's poster (see ``convanim.kinds.Kind.poster``)."""
    options = {**figure.options, "poster": True}
    return Figure(name=figure.name, kind=figure.kind, options=options, base=figure.base)


def _target(app: Sphinx, node: convanim_figure, docname: str) -> tuple[Figure, str | None]:
    """The figure the builder at hand shows for ``node`` and the extension it is rendered
    to (None: a builder without images, nothing rendered).

    LaTeX (PDF) builders, which show no animation, get an animation's poster: one still of
    the whole animation (see ``convanim.kinds.Kind.poster``), not the strip of its frames.
    """
    figure = Figure(
        name=f"{docname}:{node.line}",
        kind=node["kind"],
        options=node["options"],
        base=Path(node["base"]),
    )
    supported = app.builder.supported_image_types
    ext = _builder_format(node["format"], supported, _embeds_html(app))
    if ext is not None and app.builder.format == "latex" and writer_for(node["format"]).animates:
        figure, ext = _poster_of(figure), POSTER  # for print: one still, vector art
    return figure, ext


def prerender_figures(app: Sphinx, doctree: nodes.document) -> None:
    """Render the figures of a document just read, for the builder at hand.

    Sphinx reads documents in parallel (``-j``) but resolves them for writing in its main
    process, one after another: rendering here is what lets ``-j 2`` render two figures at
    once. A figure that fails is left for ``render_figures``, which reports it.
    """
    folder = Path(app.doctreedir) / FOLDER
    for node in doctree.findall(convanim_figure):
        figure, ext = _target(app, node, app.env.docname)
        if ext is None:
            continue
        path = folder / f"{figure.fingerprint()}{ext}"
        if not path.is_file():
            try:
                folder.mkdir(parents=True, exist_ok=True)
                figure.render(path)
            except (ParameterError, OSError):
                continue


def render_figures(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """Replace each figure of a document being written by an image in the builder's format,
    rendering only the figures whose file is not there yet (``prerender_figures`` has
    rendered them while reading, unless the document was read for another builder)."""
    folder = Path(app.doctreedir) / FOLDER
    for node in list(doctree.findall(convanim_figure)):
        figure, ext = _target(app, node, docname)
        image = nodes.image(node.rawsource, alt=node["alt"], **node["image"])
        image.source, image.line = node.source, node.line
        if ext is None:  # a builder without images: alt text alone, nothing rendered
            image["uri"] = f"{figure.fingerprint()}{node['format']}"
            image["candidates"] = {"?": image["uri"]}
            node.replace_self(image)
            continue
        fingerprint = figure.fingerprint()
        path = folder / f"{fingerprint}{ext}"
        if not path.is_file():  # a file is complete or absent: writers replace files atomically
            try:
                folder.mkdir(parents=True, exist_ok=True)
                figure.render(path)
            except ParameterError as error:
                _failed(node, _message(error))
                continue
            except OSError as error:
                _failed(node, f"convanim: cannot write {path}: {error.strerror}")
                continue
        if ext == ".html":  # the player itself, in the page, its frames inline
            from convanim.formats.html import player_fragment

            fragment = player_fragment(path.read_text(encoding="utf-8"), alt=node["alt"])
            node.replace_self(nodes.raw("", fragment, format="html"))
            continue
        if ext == ".mp4":  # a video, not an image: the builder copies it as it copies images
            node.replace_self(_video(app, docname, path, node["alt"]))
            continue
        image["uri"] = str(path)
        # A web page's WebP or APNG, which HTML builders do not list: taken as it is ("*").
        kind = "*" if ext in WEB_ONLY else MIME_TYPES[ext]
        image["candidates"] = {kind: str(path)}
        app.env.images.add_file(docname, str(path))  # the builder copies it into its output
        node.replace_self(image)


def _video(app: Sphinx, docname: str, path: Path, alt: str) -> nodes.raw:
    """An MP4 in a web page: copied beside the images, shown as a looping ``<video>``."""
    import shutil

    from sphinx.util.osutil import relative_uri

    from convanim.notebook import media_html

    images = Path(app.builder.outdir) / app.builder.imagedir
    images.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(path, images / path.name)
    src = relative_uri(app.builder.get_target_uri(docname), f"{app.builder.imagedir}/{path.name}")
    return nodes.raw("", media_html("video/mp4", src, alt), format="html")


def _message(error: ParameterError) -> str:
    """An error as the directive's options name it: ``convanim: :stride: got 0; ...``."""
    names = error.param.split("/")
    return f"convanim: {'/'.join(f':{name}:' for name in names)} {error.detail}"


def _failed(node: convanim_figure, message: str) -> None:
    """Report a figure that could not be rendered, and put its alt text in its place."""
    logger.warning(message, location=node, type="convanim", subtype="render")
    node.replace_self(nodes.paragraph(node["alt"], node["alt"]))


def import_before_forking(app: Sphinx) -> None:
    """With ``-j N``, import the renderer (matplotlib, Pillow, the font list) once, before
    Sphinx forks its readers: each reader then inherits it instead of importing it again,
    which took about as long as rendering its documents' figures."""
    if app.parallel > 1:
        from matplotlib import font_manager

        import convanim.formats.gif
        import convanim.formats.png
        import convanim.render  # noqa: F401

        font_manager.findfont("DejaVu Sans")


def setup(app: Sphinx) -> dict[str, Any]:
    """Register the directive, and the rendering of its figures as documents are read."""
    app.add_node(convanim_figure)
    app.add_directive("convanim", ConvanimDirective)
    app.connect("builder-inited", import_before_forking)
    app.connect("doctree-read", prerender_figures)
    app.connect("doctree-resolved", render_figures)
    return {"version": __version__, "parallel_read_safe": True, "parallel_write_safe": True}
