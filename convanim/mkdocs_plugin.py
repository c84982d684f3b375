"""MkDocs plugin: fenced ``convanim`` blocks become figures when the site is built.

In ``mkdocs.yml``, ``plugins: [convanim]`` (with ``search`` and the others you use); then, in a
page, a block of a manifest's keys, in TOML::

    ```convanim
    input = 5
    kernel = 3
    stride = 2
    padding = 1
    ```

Besides the figure's keys (``kind`` is conv unless given), a block takes the Sphinx directive's
own options: ``format`` (gif, the default; png for a single frame; svg, webp, apng, mp4, or
html: the interactive player, in the page itself), ``alt`` (replaces the alt text, which
otherwise says what the figure shows), ``caption`` (a ``<figure>`` with this caption) and
``width`` (of the image, as HTML takes it). Value files are relative to the page.

Figures are rendered into ``cache_dir`` (``.cache/convanim`` beside ``mkdocs.yml``) under their
fingerprint, ``<fingerprint>.<ext>``, and a figure whose file is there is reused, not rendered
again (the name changes with the picture; files of figures that changed stay behind). The files
a site uses are copied into it, under ``assets_dir`` (``assets/convanim``).

A block with a mistake is a warning that names the page, the block's line and the key, and the
block stays in the page as code; ``mkdocs build --strict`` fails on it.
"""

from __future__ import annotations

import html
import logging
import re
import secrets
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mkdocs.config import base
from mkdocs.config import config_options as c
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.plugins import BasePlugin
from mkdocs.structure.files import Files
from mkdocs.structure.pages import Page
from mkdocs.utils import get_relative_url

from convanim.errors import ParameterError
from convanim.figures import Figure, FigureError, parse_figure
from convanim.formats import writer_for
from convanim.notebook import embed_format, media_html

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = ["ConvanimPlugin", "ConvanimPluginConfig", "blocks"]

log = logging.getLogger("mkdocs.plugins.convanim")

OWN_KEYS = ("format", "alt", "caption", "width")
# A fence opens with three or more backticks or tildes; ``convanim`` as its info string.
FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^`\n]*?)[ \t]*$")


class ConvanimPluginConfig(base.Config):
    cache_dir = c.Type(str, default=".cache/convanim")  # relative to mkdocs.yml
    assets_dir = c.Type(str, default="assets/convanim")  # inside the site


@dataclass(frozen=True)
class Block:
    """A fenced ``convanim`` block: its first line (1-based), its lines and its TOML text."""

    line: int
    start: int  # index of the opening fence among the page's lines
    end: int  # index after the closing fence
    indent: str
    text: str


def blocks(markdown: str) -> list[Block]:
    """The page's top-level fenced ``convanim`` blocks (not those shown inside other fences)."""
    lines = markdown.split("\n")
    found: list[Block] = []
    index = 0
    while index < len(lines):
        opener = FENCE.match(lines[index])
        if opener is None:
            index += 1
            continue
        fence = opener["fence"]
        closing = re.compile(rf"^[ \t]*{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$")
        end = index + 1
        while end < len(lines) and not closing.match(lines[end]):
            end += 1
        if opener["info"].split(maxsplit=1)[:1] == ["convanim"]:
            indent = opener["indent"]
            body = [
                line[len(indent) :] if line.startswith(indent) else line.lstrip()
                for line in lines[index + 1 : end]
            ]
            found.append(Block(index + 1, index, min(end + 1, len(lines)), indent, "\n".join(body)))
        index = end + 1
    return found


@dataclass(frozen=True)
class Placed:
    """A figure of a page: what to render, and the element that stands for the block."""

    figure: Figure
    ext: str
    alt: str
    caption: str | None
    width: str | None


class ConvanimPlugin(BasePlugin[ConvanimPluginConfig]):
    """Renders a page's ``convanim`` blocks (see the module's docstring)."""

    def __init__(self) -> None:
        super().__init__()
        self._root = Path(".")  # the folder of mkdocs.yml
        self._pages: dict[str, dict[str, Placed]] = {}  # page -> token -> figure
        self._used: set[str] = set()  # file names in the cache this build uses
        self.drawn = 0
        self.reused = 0

    @property
    def cache(self) -> Path:
        return self._root / self.config.cache_dir

    def on_config(self, config: MkDocsConfig) -> MkDocsConfig | None:
        self._root = Path(config.config_file_path or ".").resolve().parent
        self._pages.clear()
        self._used.clear()
        self.drawn = self.reused = 0
        return config

    def on_page_markdown(
        self, markdown: str, /, *, page: Page, config: MkDocsConfig, files: Files
    ) -> str | None:
        found = blocks(markdown)
        if not found:
            return None
        lines = markdown.split("\n")
        placed: dict[str, Placed] = {}
        for block in reversed(found):
            name = f"{page.file.src_uri}:{block.line}"
            try:
                figure = self._placed(name, block.text, Path(page.file.abs_src_path or ".").parent)
            except FigureError as error:
                log.warning(f"convanim: {error}")
                continue
            token = f"convanim-figure-{secrets.token_hex(8)}"
            placed[token] = figure
            lines[block.start : block.end] = [block.indent + token]
        self._pages[page.file.src_uri] = placed
        return "\n".join(lines)

    def _placed(self, name: str, text: str, base: Path) -> Placed:
        """A block's figure, checked; a FigureError naming the key otherwise."""
        try:
            raw: dict[str, Any] = tomllib.loads(text)
        except tomllib.TOMLDecodeError as error:
            raise FigureError(name, "block", f"not TOML: {error}") from None
        own = {key: raw.pop(key) for key in OWN_KEYS if key in raw}
        for key, value in own.items():
            if not isinstance(value, str if key != "width" else (str, int)):
                kind = "a string" if key != "width" else "a number of pixels or a string"
                raise FigureError(name, key, f"got {value!r}; expected {kind}")
        figure = parse_figure(name, raw, base)
        try:
            ext = embed_format(figure, own.get("format"))
        except ParameterError as error:
            if isinstance(error, FigureError):
                raise
            raise FigureError(name, error.param, error.detail) from None
        width = own.get("width")
        return Placed(
            figure,
            ext,
            own.get("alt") or figure.alt_text(),
            own.get("caption"),
            None if width is None else str(width),
        )

    def on_page_content(
        self, html_text: str, /, *, page: Page, config: MkDocsConfig, files: Files
    ) -> str | None:
        placed = self._pages.get(page.file.src_uri)
        if not placed:
            return None
        for token, figure in placed.items():
            element = self._element(figure, page)
            # Markdown wraps the token in a paragraph of its own; replace the paragraph.
            paragraph = re.search(rf"<p>\s*{token}\s*</p>", html_text)
            if paragraph is None:
                html_text = html_text.replace(token, element)
            else:
                html_text = html_text[: paragraph.start()] + element + html_text[paragraph.end() :]
        return html_text

    def _element(self, placed: Placed, page: Page) -> str:
        """The HTML that shows a figure on ``page``, rendering its file unless it is there."""
        figure = placed.figure
        path = self.cache / f"{figure.fingerprint()}{placed.ext}"
        if path.is_file():  # writers replace files atomically: a file is complete or absent
            self.reused += 1
        else:
            try:
                self.cache.mkdir(parents=True, exist_ok=True)
                figure.render(path)
            except ParameterError as error:
                log.warning(f"convanim: {error}")
                return f"<p>{html.escape(placed.alt)}</p>"
            except OSError as error:
                log.warning(f"convanim: {figure.name}: cannot write {path}: {error.strerror}")
                return f"<p>{html.escape(placed.alt)}</p>"
            self.drawn += 1
        mime = writer_for(placed.ext).mime_type
        if mime == "text/html":  # the player itself, in the page, its frames inline
            from convanim.formats.html import player_fragment

            element = player_fragment(path.read_text(encoding="utf-8"), alt=placed.alt)
        else:
            self._used.add(path.name)
            url = get_relative_url(f"{self.config.assets_dir}/{path.name}", page.url)
            element = media_html(mime, url, placed.alt)
            if placed.width is not None:
                element = element.replace(" ", f' width="{html.escape(placed.width)}" ', 1)
        if placed.caption is None:
            return element
        caption = html.escape(placed.caption)
        return (
            f'<figure class="convanim">\n{element}\n<figcaption>{caption}</figcaption>\n</figure>'
        )

    def on_post_build(self, *, config: MkDocsConfig) -> None:
        folder = Path(config.site_dir) / self.config.assets_dir
        if self._used:
            folder.mkdir(parents=True, exist_ok=True)
        for name in sorted(self._used):
            shutil.copyfile(self.cache / name, folder / name)
        if self.drawn or self.reused:
            log.info(f"convanim: {self.drawn} figures drawn, {self.reused} reused")
