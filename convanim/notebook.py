"""Figures in Jupyter: ``convanim.figure(kind, **options)`` displays itself inline.

The options are a manifest's keys, spelt with underscores (``output_padding=1``; a list for a
list: ``dilation=[1, 2, 4]``)::

    import convanim
    convanim.figure("conv", input=5, kernel=3, stride=2, padding=1)         # an animated GIF
    convanim.figure("conv", input=5, kernel=3, stride=2, padding=1).player()  # the HTML player
    convanim.figure("rf", kernel=3, dilation=[1, 2, 4], format="svg")

The figure is checked completely when it is made (a ``FigureError`` naming the option), and
drawn the first time it is shown, into memory: no file is written until ``save``. It shows
through IPython's display protocol (``_repr_mimebundle_``, ``_repr_html_``), so IPython itself
is not needed: an image as a ``data:`` URI in an ``<img>`` with the alt text (and, for a PNG or
an SVG, the image itself too, for exporters that take no HTML), an MP4 as a ``<video>``, the
player of ``format="html"`` as itself. PDF shows in no notebook; ``save`` writes one.

The format is gif by default (png for a single frame), as the Sphinx directive's and MkDocs'.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from convanim.errors import ParameterError
from convanim.figures import Figure, FigureError, parse_figure
from convanim.formats import SUFFIXES, Writer, check_installed, writer_for

__all__ = ["InlineFigure", "InlineFigureError", "embed_format", "figure", "media_html"]

# What a web page (a notebook's output, a documentation page) can show, by mime type.
IMAGES = ("image/gif", "image/png", "image/svg+xml", "image/webp", "image/apng")
SHOWN = (*IMAGES, "video/mp4", "text/html")
RAW = ("image/png", "image/svg+xml")  # also given as themselves, for exporters without HTML


class InlineFigureError(FigureError):
    """A ``FigureError`` that IPython shows as its one line, without a traceback: the
    mistake is the user's, in the cell they just ran."""

    def _render_traceback_(self) -> list[str]:
        return [f"FigureError: {self}"]


def embed_format(figure: Figure, given: str | None) -> str:
    """The extension (with its dot) to show ``figure`` as in a web page: ``given`` (gif, png,
    html...), or gif (png for a single frame); a ParameterError naming ``format`` otherwise."""
    names = [s.lstrip(".") for s in SUFFIXES if writer_for(s).mime_type in SHOWN]
    still = figure.still()
    if given is None:
        ext = ".png" if still else ".gif"
    else:
        name = str(given).strip().lower().lstrip(".")
        if name not in names:
            raise ParameterError("format", f"got '{given}'; expected one of {', '.join(names)}")
        ext = f".{name}"
        if still and writer_for(ext).animates:
            stills = ", ".join(n for n in names if not writer_for(f".{n}").animates)
            raise ParameterError("format", f"got '{given}'; a single frame is one of {stills}")
    figure.check_output(f"figure{ext}")  # this format's own limits (a vector strip's length)
    check_installed(writer_for(ext))  # MP4: FFmpeg
    return ext


def media_html(mime: str, src: str, alt: str) -> str:
    """The element that shows an image or a video of ``mime`` at ``src`` (a URL, a data URI)."""
    src, alt = html.escape(src), html.escape(alt)
    if mime == "video/mp4":
        return (
            f'<video src="{src}" autoplay loop muted controls playsinline '
            f'aria-label="{alt}" title="{alt}"></video>'
        )
    return f'<img src="{src}" alt="{alt}">'


class InlineFigure:
    """A checked figure that a notebook shows inline, drawn once, when first shown.

    ``figure`` is the ``convanim.Figure``; ``format`` the extension it shows as (".gif");
    ``alt_text`` what it shows, in words (the ``alt`` given, or the figure's own).
    """

    def __init__(self, figure: Figure, format: str | None = None, alt: str | None = None):
        try:
            self.format = embed_format(figure, format)
        except ParameterError as error:
            raise _inline(figure.name, error) from None
        self.figure = figure
        self.alt_text = alt if alt is not None else figure.alt_text()
        self._writer: Writer = writer_for(self.format)
        self._data: bytes | None = None

    def __repr__(self) -> str:
        return f"<convanim {self.figure.kind} figure ({self.format.lstrip('.')}): {self.alt_text}>"

    def player(self) -> InlineFigure:
        """The same figure as the interactive HTML player (play, pause, step, scrub, speed)."""
        return InlineFigure(self.figure, ".html", self.alt_text)

    def info(self) -> str:
        """What ``convanim info`` prints for the figure."""
        return self.figure.info()

    def command(self) -> str:
        """The command line that draws the figure: ``convanim conv -i 5 ... -o OUTPUT``."""
        return self.figure.command()

    def save(self, path: str | Path) -> Path:
        """Write the figure to ``path``, in the format of its suffix; returns the path."""
        try:
            self.figure.check_output(path)
            return self.figure.render(path)
        except ParameterError as error:
            raise _inline(self.figure.name, error) from None

    def data(self) -> bytes:
        """The file's bytes in the figure's format, drawn on the first call."""
        if self._data is None:
            buffer = io.BytesIO()
            try:
                self.figure.render(Path(f"figure{self.format}"), stream=buffer)
            except ParameterError as error:
                raise _inline(self.figure.name, error) from None
            self._data = buffer.getvalue()
        return self._data

    def _repr_html_(self) -> str:
        mime = self._writer.mime_type
        if mime == "text/html":
            from convanim.formats.html import player_fragment

            return player_fragment(self.data().decode("utf-8"), alt=self.alt_text)
        uri = f"data:{mime};base64,{base64.b64encode(self.data()).decode('ascii')}"
        return media_html(mime, uri, self.alt_text)

    def _repr_mimebundle_(
        self, include: Any = None, exclude: Any = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        bundle: dict[str, Any] = {"text/html": self._repr_html_(), "text/plain": repr(self)}
        metadata: dict[str, Any] = {}
        mime = self._writer.mime_type
        if mime == "image/svg+xml":
            bundle[mime] = self.data().decode("utf-8")
        elif mime in RAW:
            bundle[mime] = base64.b64encode(self.data()).decode("ascii")
            metadata[mime] = {"alt": self.alt_text}
        return bundle, metadata


def figure(
    kind: str = "conv",
    /,
    *,
    format: str | None = None,
    alt: str | None = None,
    **options: Any,
) -> InlineFigure:
    """A figure that shows itself in a notebook: ``figure("conv", input=5, kernel=3)``.

    ``options`` are the kind's manifest keys, with underscores for hyphens; ``format`` is
    gif (the default; png for a single frame), png, svg, webp, apng, mp4 or html (the
    player); ``alt`` replaces the alt text. A mistake is a ``FigureError`` naming the option.
    """
    description: Mapping[str, Any] = {"kind": kind, **options}
    try:
        checked = parse_figure(str(kind), description)
    except ParameterError as error:
        raise _inline(str(kind), error) from None
    return InlineFigure(checked, format, alt)


def _inline(name: str, error: ParameterError) -> InlineFigureError:
    """An error as the one line a notebook shows (``figure 'conv': stride: got 0; ...``)."""
    if isinstance(error, InlineFigureError):
        return error
    if isinstance(error, FigureError):
        return InlineFigureError(error.figure, error.param, error.detail)
    return InlineFigureError(name, error.param, error.detail)
