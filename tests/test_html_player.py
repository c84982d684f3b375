"""Tests for ``convanim.formats.html``: the self-contained page and its player.

The page is read as a reader's browser reads it: what it loads (nothing from outside), its
frames decoded and laid over the base as the player lays them, equal to the drawing's frames
in the GIF's palette. Then the player runs in a real headless Chromium (Debian's, driven by
Playwright; skipped where either is missing): no console errors, every frame shown in turn
with its number and output cell, the keys, play, speed and the scrubber.
"""

from __future__ import annotations

import base64
import io
import itertools
import json
import os
import re
import shutil
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from helpers import quantised
from PIL import Image

from convanim.cli import main
from convanim.drawing import AnimationDrawing, Box
from convanim.formats import read_stamp, write_drawing, writer_for
from convanim.formats.html import player_fragment
from convanim.geometry import ConvSpec
from convanim.render import Animation

PADDING_STRIDES = (
    "Convolution of a 5×5 input with a 3×3 kernel, stride 2, padding 1, giving a 3×3 output."
)
CONV = ["conv", "-i", "5", "-k", "3", "-s", "2", "-p", "1"]


class Squares:
    """A drawing in numpy alone: frame i is a white canvas with a blue square at column i."""

    def __init__(self, frame_count: int = 5) -> None:
        self.frame_count = frame_count
        self.size = (70, 20)
        self.background = "#ffffff"
        self.default_columns = frame_count
        self.canvas = np.full((20, 70, 4), 255, dtype=np.uint8)

    def colours(self) -> list[str]:
        return ["#ffffff", "#268bd2"]

    def inks(self) -> list[str] | None:
        return None

    def draw(self, index: int) -> Box:
        self.canvas[...] = 255
        left = 2 + 12 * index
        self.canvas[5:15, left : left + 10, :3] = (0x26, 0x8B, 0xD2)
        return 5, 15, left, left + 10

    def rgba(self) -> np.ndarray:
        return self.canvas

    def render(self, index: int) -> np.ndarray:
        self.draw(index)
        return self.canvas[:, :, :3].copy()

    def vector(self, indices: Any, columns: int) -> Any:
        raise AssertionError("no vector figure")


class Tags(HTMLParser):
    """Every start tag of a page, with its attributes."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {key: value or "" for key, value in attrs}))


def player_data(text: str) -> dict[str, Any]:
    found = re.search(r'<script type="application/json" class="convanim-data">(.*?)</script>', text)
    assert found is not None
    data: dict[str, Any] = json.loads(found.group(1))
    return data


def decode(uri: str) -> Image.Image:
    prefix = "data:image/png;base64,"
    assert uri.startswith(prefix)
    image = Image.open(io.BytesIO(base64.b64decode(uri[len(prefix) :])))
    image.load()
    return image


def shown_frames(text: str) -> list[np.ndarray]:
    """Each frame as the player shows it: the base with the frame's patch laid over it."""
    base_uri = re.search(r'<img class="convanim-base" src="([^"]+)"', text)
    assert base_uri is not None
    base = decode(base_uri.group(1)).convert("RGBA")
    frames = []
    for patch in player_data(text)["frames"]:
        image = base.copy()
        if patch is not None:
            left, top, width, height, uri = patch
            layer = decode(uri).convert("RGBA")
            assert layer.size == (width, height)
            image.alpha_composite(layer, (left, top))
        frames.append(np.asarray(image.convert("RGB")))
    return frames


def conv_drawing() -> AnimationDrawing:
    return AnimationDrawing(Animation(ConvSpec(input_size=5, kernel_size=3, stride=2, padding=1)))


def written(drawing: Any, stamp: str | None = None, frame_ms: int = 1000) -> str:
    stream = io.BytesIO()
    indices = range(drawing.frame_count)
    write_drawing(stream, writer_for(".html"), drawing, indices, 1, frame_ms, stamp)
    return stream.getvalue().decode("utf-8")


@pytest.fixture(scope="module")
def figure_page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The README's first figure as a page, through the command line."""
    path = tmp_path_factory.mktemp("html") / "padding_strides.html"
    result = CliRunner().invoke(main, [*CONV, "-o", str(path), "-q"])
    assert result.exit_code == 0, result.output
    return path


# -- the file ----------------------------------------------------------------------------------


def test_the_page_loads_nothing_from_outside(figure_page: Path) -> None:
    text = figure_page.read_text(encoding="utf-8")
    assert not re.search(r"(?i)https?:|//[a-z0-9.-]+\.[a-z]{2,}/|url\(", text)
    tags = Tags(text).tags
    assert not [tag for tag, _ in tags if tag in ("link", "iframe", "object", "embed")]
    for tag, attrs in tags:
        for key in ("src", "href", "srcset", "data", "poster"):
            assert attrs.get(key, "data:").startswith("data:"), (tag, attrs)
    scripts = [attrs for tag, attrs in tags if tag == "script"]
    assert len(scripts) == 2 and not any("src" in attrs for attrs in scripts)


def test_every_frame_is_there_as_the_gif_shows_it(figure_page: Path) -> None:
    drawing = conv_drawing()
    frames = shown_frames(figure_page.read_text(encoding="utf-8"))
    assert len(frames) == drawing.frame_count == 9
    for index, frame in enumerate(frames):
        expected = quantised(drawing.render(index), drawing.colours(), drawing.inks())
        assert np.array_equal(frame, expected), index
    assert len({frame.tobytes() for frame in frames}) == 9


def test_a_frame_of_flat_colours_is_exact() -> None:
    drawing = Squares()
    frames = shown_frames(written(drawing))
    assert [np.array_equal(f, drawing.render(i)) for i, f in enumerate(frames)] == [True] * 5


def test_a_page_is_smaller_than_the_frames_it_holds(figure_page: Path) -> None:
    drawing = conv_drawing()
    pngs = 0
    for index in range(drawing.frame_count):
        buffer = io.BytesIO()
        Image.fromarray(drawing.render(index)).save(buffer, format="PNG")
        pngs += len(buffer.getvalue())
    assert figure_page.stat().st_size < pngs / 3


def test_frame_numbers_captions_and_alt_text(figure_page: Path) -> None:
    text = figure_page.read_text(encoding="utf-8")
    data = player_data(text)
    assert data["captions"] == [f"output cell {divmod(i, 3)}" for i in range(9)]
    assert data["frameMs"] == 1000 and (data["width"], data["height"]) == conv_drawing().size
    assert f'role="img" aria-label="{PADDING_STRIDES}"' in text
    assert f"<figcaption>{PADDING_STRIDES}</figcaption>" in text
    assert f"<title>{PADDING_STRIDES}</title>" in text
    assert 'max="8"' in text and "Frame 1 of 9" in text


def test_a_drawing_without_words_still_plays() -> None:
    text = written(Squares(3))
    assert player_data(text)["captions"] is None
    assert 'aria-label="An animation of 3 frames"' in text and "<figcaption>" not in text


def test_one_dimensional_captions_name_one_cell() -> None:
    spec = ConvSpec(input_size=6, kernel_size=3, stride=2, dims=1)
    captions = player_data(written(AnimationDrawing(Animation(spec))))["captions"]
    assert captions == ["output cell 0", "output cell 1"]


# Every kind's player says what each frame shows, from the kind's own drawing: a figure, its
# frame count, and the captions of its first and last frames.
KIND_CAPTIONS = [
    ({"kind": "pool", "input": 4, "kernel": 2, "stride": 2}, 4,
     "output cell (0, 0)", "output cell (1, 1)"),
    ({"kind": "rf", "kernel": 3, "dilation": [1, 2]}, 2,
     "layer 1: k=3, d=1; receptive field 3×3, of unit (3, 3)",
     "layer 2: k=3, d=2; receptive field 7×7, of unit (3, 3)"),
    ({"kind": "rf", "dims": 1, "kernel": 2, "dilation": [1, 2], "causal": True}, 4,
     "output unit 0: receptive field 4 (reads 1 input unit)",
     "output unit 3: receptive field 4"),
    ({"kind": "matrix", "input": 3, "kernel": 2}, 4,
     "output cell (0, 0), its row of C: y₀₀ = w₀₀x₀₀ + w₀₁x₀₁ + w₁₀x₁₀ + w₁₁x₁₁",
     "output cell (1, 1), its row of C: y₁₁ = w₀₀x₁₁ + w₀₁x₁₂ + w₁₀x₂₁ + w₁₁x₂₂"),
    ({"kind": "matrix", "dims": 1, "input": 3, "kernel": 2, "transposed": True}, 4,
     "output cell 0, its row of Cᵀ: y₀ = w₀x₀", "output cell 3, its row of Cᵀ: y₃ = w₁x₂"),
    ({"kind": "overlap", "input": 2, "kernel": 3, "stride": 2, "transposed": True}, 5,
     "input cell (0, 0) reaches 9 output cells", "after all 4 stamps: 1 to 4 taps"),
    ({"kind": "erf", "kernel": [3, 3]}, 2,
     "layer 1: k=3, d=1; field 3×3 · half in the central 3×3 · std 0.8 cells",
     "layer 2: k=3, d=1; field 5×5 · half in the central 3×3 · std 1.2 cells"),
    ({"kind": "layer", "layer": "nn.MaxPool2d(2)", "input": 4}, 4,
     "output cell (0, 0)", "output cell (1, 1)"),
    ({"kind": "separable", "input": 4, "channels": 2, "out-channels": 2, "frames": "spatial"}, 8,
     "1. depthwise: 3×3, groups = 2: every output channel, cell (0, 0)",
     "2. pointwise: 1×1 across the channels: every output channel, cell (1, 1)"),
]  # fmt: skip


@pytest.mark.parametrize(("description", "count", "first", "last"), KIND_CAPTIONS)
def test_every_kind_captions_every_frame(
    description: dict[str, Any], count: int, first: str, last: str
) -> None:
    from convanim.figures import parse_figure

    figure = parse_figure("captions", description)
    buffer = io.BytesIO()
    figure.render(Path("figure.html"), stream=buffer)
    captions = player_data(buffer.getvalue().decode("utf-8"))["captions"]
    assert len(captions) == count
    assert (captions[0], captions[-1]) == (first, last)
    assert len(set(captions)) == count  # each frame its own words


def test_every_kind_has_captions() -> None:
    from convanim import kinds

    assert {d["kind"] for d, *_ in KIND_CAPTIONS} | {"conv"} == set(kinds.KINDS)


def test_stamp_round_trip_and_foreign_pages(tmp_path: Path) -> None:
    path = tmp_path / "x.html"
    path.write_text(written(Squares(), stamp="0123abcd"), encoding="utf-8")
    assert read_stamp(path) == "0123abcd"
    path.write_text(written(Squares()), encoding="utf-8")
    assert read_stamp(path) is None
    path.write_text('<html><body><meta name="convanim" content="convanim:ab"></body></html>')
    assert read_stamp(path) is None  # a stamp counts in the head only
    assert read_stamp(tmp_path / "missing.html") is None


def test_the_same_figure_gives_the_same_bytes(tmp_path: Path) -> None:
    first, second = tmp_path / "a.html", tmp_path / "b.html"
    for path in (first, second):
        assert CliRunner().invoke(main, [*CONV, "-o", str(path), "-q"]).exit_code == 0
    assert first.read_bytes() == second.read_bytes()


def test_build_check_reads_the_stamp(tmp_path: Path) -> None:
    manifest = tmp_path / "figures.toml"
    manifest.write_text('[a]\noutput = "a.html"\ninput = 5\nstride = 2\n', encoding="utf-8")
    runner = CliRunner()
    assert runner.invoke(main, ["build", str(manifest), "--check"]).exit_code == 1
    assert runner.invoke(main, ["build", str(manifest), "-q"]).exit_code == 0
    result = runner.invoke(main, ["build", str(manifest), "--check"])
    assert result.exit_code == 0, result.output
    manifest.write_text('[a]\noutput = "a.html"\ninput = 5\nstride = 1\n', encoding="utf-8")
    assert runner.invoke(main, ["build", str(manifest), "--check"]).exit_code == 1


def test_one_frame_is_no_player(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, [*CONV, "--frame", "2", "-o", str(tmp_path / "x.html")])
    assert result.exit_code == 2 and "--frame" in result.output
    assert not list(tmp_path.iterdir())


def test_the_fragment_is_the_player_alone(figure_page: Path) -> None:
    fragment = player_fragment(figure_page.read_text(encoding="utf-8"), alt='A "kernel" & <x>')
    assert fragment.startswith("<!-- convanim player -->") and "<head>" not in fragment
    assert 'aria-label="A &quot;kernel&quot; &amp; &lt;x&gt;"' in fragment
    assert "<figcaption>" not in fragment and " data-page>" not in fragment


# -- in a browser ------------------------------------------------------------------------------

CHROMIUM = os.environ.get("CONVANIM_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
# As Debian's Chromium runs here: no sandbox (root), no GPU, and no connections of its own.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Chromium, driven by Playwright; the tests are skipped where either is missing."""
    sync_api = pytest.importorskip("playwright.sync_api")
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    with sync_api.sync_playwright() as playwright:
        try:  # Playwright gives it a new, empty profile (user data folder) of its own
            chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        except sync_api.Error as error:
            pytest.skip(f"Chromium does not start: {str(error).splitlines()[0]}")
        yield chromium
        chromium.close()


class Opened:
    """A page of the browser, with the console's errors and the page's uncaught exceptions."""

    def __init__(self, browser: Any, path: Path, reduced_motion: bool = True) -> None:
        motion = "reduce" if reduced_motion else "no-preference"
        self.page = browser.new_page(reduced_motion=motion, viewport={"width": 640, "height": 720})
        self.errors: list[str] = []
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.goto(path.as_uri())
        self.player = self.page.locator(".convanim-player")

    def _console(self, message: Any) -> None:
        if message.type == "error":
            self.errors.append(message.text)

    @property
    def frame(self) -> int:
        return int(self.player.get_attribute("data-frame"))

    @property
    def status(self) -> str:
        return str(self.page.locator(".convanim-status").text_content())

    @property
    def playing(self) -> bool:
        return bool(self.player.get_attribute("data-playing") == "true")

    def shown(self) -> np.ndarray:
        """The picture on screen, read back from a screenshot of the stage."""
        png = self.page.locator(".convanim-stage").screenshot()
        return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


@pytest.fixture
def opened(browser: Any, figure_page: Path) -> Iterator[Opened]:
    page = Opened(browser, figure_page)
    yield page
    assert page.errors == []
    page.page.close()


def test_the_page_loads_without_errors_and_waits(opened: Opened) -> None:
    assert opened.page.title() == PADDING_STRIDES
    assert opened.status == "Frame 1 of 9: output cell (0, 0)"
    assert not opened.playing  # the reader asked for reduced motion
    assert opened.page.evaluate("document.querySelector('.convanim-base').naturalWidth") > 0


def test_stepping_shows_every_frame_as_drawn(opened: Opened, figure_page: Path) -> None:
    frames = shown_frames(figure_page.read_text(encoding="utf-8"))
    forward = opened.page.get_by_role("button", name="Next frame")
    for index in range(9):
        assert opened.frame == index
        assert opened.status == f"Frame {index + 1} of 9: output cell {divmod(index, 3)}"
        assert np.array_equal(opened.shown(), frames[index]), index
        forward.click()
    assert opened.frame == 0  # round to the first again
    opened.page.get_by_role("button", name="Previous frame").click()
    assert opened.frame == 8


def test_the_keys(opened: Opened) -> None:
    keyboard = opened.page.keyboard
    keyboard.press("ArrowRight")
    keyboard.press("ArrowRight")
    assert opened.frame == 2
    keyboard.press("ArrowLeft")
    assert opened.frame == 1
    keyboard.press("End")
    assert opened.frame == 8 and opened.status.startswith("Frame 9 of 9")
    keyboard.press("Home")
    assert opened.frame == 0
    keyboard.press(" ")
    assert opened.playing
    keyboard.press(" ")
    assert not opened.playing
    # A focused button takes space as the player does, once, not as a second click.
    opened.page.get_by_role("button", name="Next frame").focus()
    keyboard.press(" ")
    assert opened.playing
    keyboard.press(" ")
    assert not opened.playing
    assert opened.page.evaluate("window.scrollY") == 0


def test_the_scrubber_jumps(opened: Opened) -> None:
    scrubber = opened.page.get_by_role("slider", name="Frame")
    scrubber.evaluate("(s) => { s.value = '6'; s.dispatchEvent(new Event('input')); }")
    assert opened.frame == 6 and opened.status == "Frame 7 of 9: output cell (2, 0)"
    scrubber.focus()
    opened.page.keyboard.press("ArrowRight")  # the slider's own key, one step
    assert opened.frame == 7
    opened.page.keyboard.press("Home")
    assert opened.frame == 0
    opened.page.get_by_role("button", name="Next frame").click()
    assert scrubber.input_value() == "1"


def test_play_advances_loops_and_speeds_up(browser: Any, tmp_path: Path) -> None:
    path = tmp_path / "fast.html"
    result = CliRunner().invoke(
        main, ["conv", "-i", "4", "-k", "3", "--frame-ms", "200", "-o", str(path)]
    )
    assert result.exit_code == 0, result.output
    page = Opened(browser, path, reduced_motion=False)
    assert page.playing  # plays by itself, as the GIF does
    # The times at which the frame changes, seen from inside the page.
    page.page.evaluate(
        """() => { window.changes = [];
        new MutationObserver(() => window.changes.push([performance.now(),
            document.querySelector('.convanim-player').dataset.frame]))
          .observe(document.querySelector('.convanim-player'),
                   {attributes: true, attributeFilter: ['data-frame']}); }"""
    )
    page.page.wait_for_function("window.changes.length >= 5", timeout=5000)
    seen = [int(frame) for _, frame in page.page.evaluate("window.changes")]
    assert 0 in seen and 3 in seen  # four frames: through the last and round again
    page.page.get_by_role("combobox", name="Speed").select_option("4")
    page.page.evaluate("window.changes = []")
    page.page.wait_for_function("window.changes.length >= 6", timeout=5000)
    times = [time for time, _ in page.page.evaluate("window.changes")]
    gaps = sorted(b - a for a, b in itertools.pairwise(times))
    assert 25 <= gaps[len(gaps) // 2] <= 120  # 200 ms at 4×: 50 ms a frame
    page.page.get_by_role("button", name="Pause").click()
    stopped = page.frame
    page.page.wait_for_timeout(300)
    assert page.frame == stopped and not page.playing
    assert page.errors == []
    page.page.close()


# -- Sphinx ------------------------------------------------------------------------------------


def sphinx_build(project: Path, builder: str) -> tuple[int, str, Path]:
    pytest.importorskip("sphinx")
    from sphinx.application import Sphinx
    from sphinx.util.docutils import docutils_namespace, patch_docutils

    warnings = io.StringIO()
    src, out = project / "src", project / builder
    with patch_docutils(src), docutils_namespace():
        app = Sphinx(src, src, out, project / "doctrees", builder, status=None, warning=warnings)
        app.build()
    return app.statuscode, warnings.getvalue(), out


@pytest.fixture(scope="module")
def sphinx_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = tmp_path_factory.mktemp("sphinx")
    (project / "src").mkdir()
    (project / "src" / "conf.py").write_text('extensions = ["convanim.sphinxext"]\n')
    (project / "src" / "index.rst").write_text(
        "Players\n=======\n\n"
        ".. convanim::\n   :input: 5\n   :kernel: 3\n   :stride: 2\n   :padding: 1\n"
        "   :format: html\n\n"
        ".. convanim::\n   :input: 4\n   :format: html\n   :alt: Four by four.\n"
        "   :caption: A caption of the page's own.\n"
    )
    return project


def test_sphinx_embeds_the_player_in_html_pages(sphinx_project: Path) -> None:
    status, warnings, out = sphinx_build(sphinx_project, "html")
    assert status == 0 and warnings == ""
    text = (out / "index.html").read_text(encoding="utf-8")
    assert text.count('<figure class="convanim-player"') == 2
    assert f'aria-label="{PADDING_STRIDES}"' in text and 'aria-label="Four by four."' in text
    assert "A caption of the page&#8217;s own." in text or "A caption of the page’s own." in text
    assert not [
        img for tag, img in Tags(text).tags if tag == "img" and "_images" in img.get("src", "")
    ]


def test_sphinx_gives_other_builders_a_still(sphinx_project: Path) -> None:
    """EPUB gets the PNG strip; LaTeX, printed, the animation's poster (a PDF)."""
    status, warnings, out = sphinx_build(sphinx_project, "latex")
    assert status == 0 and warnings == ""
    tex = next(out.glob("*.tex")).read_text(encoding="utf-8")
    assert tex.count(".pdf}") == 2 and ".html" not in tex
    status, warnings, out = sphinx_build(sphinx_project, "epub")
    assert status == 0 and "convanim" not in warnings  # EPUB3's own: no version, copyright
    assert len(list((out / "_images").glob("*.png"))) == 2


def test_two_embedded_players_keep_to_themselves(browser: Any, sphinx_project: Path) -> None:
    sphinx_build(sphinx_project, "html")
    page = Opened(browser, sphinx_project / "html" / "index.html")
    first, second = page.page.locator(".convanim-player").all()
    second.focus()
    page.page.keyboard.press("End")  # the focused player's key: the other stays
    assert second.get_attribute("data-frame") == "3" and first.get_attribute("data-frame") == "0"
    first.get_by_role("button", name="Next frame").click()
    assert first.get_attribute("data-frame") == "1" and second.get_attribute("data-frame") == "3"
    assert page.errors == []
    page.page.close()
