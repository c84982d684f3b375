"""The fast paths draw what a fresh, full drawing draws: pixel for pixel.

Each frame drawn by one long-lived animation (which restores only the box the last frame
drew, keeps the outputs filled so far in its background, and stamps texts it has drawn
before) must equal the same frame drawn by a new animation, whose canvas starts from the
freshly drawn static figure. Frames are visited in order, backwards and in a shuffled order,
so that the restored boxes, the refilled outputs and the stamps are all exercised.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import tomllib
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.text import Text
from PIL import Image

from convanim import stamps
from convanim.figures import parse_figure
from convanim.geometry import ConvSpec
from convanim.render import Animation, Page, RenderOptions
from convanim.stamps import TextStamps
from convanim.values import random_values, worked


def _worked(spec: ConvSpec[Any, Any], op: str = "conv") -> Any:
    x, weight = random_values(spec, 3)
    return worked(spec, x, weight if op == "conv" else None, op)


SPECS = {
    "3x3 kernel, padding 1": ConvSpec(5, 3, padding=1),
    "stride 2, dilation 2": ConvSpec(7, 3, stride=2, dilation=2, padding=1),
    "transposed": ConvSpec(3, 3, stride=2, padding=1, transposed=True, output_padding=1),
    "1-D": ConvSpec(6, 3, padding=1, dims=1),
    "reflect": ConvSpec(4, 3, padding=1, padding_mode="reflect"),
}


def _orders(count: int) -> list[list[int]]:
    shuffled = list(range(count)) * 2
    random.Random(count).shuffle(shuffled)
    return [list(range(count)), list(range(count - 1, -1, -1)), shuffled]


@pytest.mark.parametrize("view", ["oblique", "flat"])
@pytest.mark.parametrize("values", [False, True], ids=["plain", "values"])
@pytest.mark.parametrize("name", list(SPECS))
def test_frames_drawn_in_any_order_equal_fresh_drawings(name: str, values: bool, view: str) -> None:
    spec = SPECS[name]
    options = RenderOptions(view=view)
    numbers = _worked(spec) if values else None
    frames = list(spec.frames())
    fresh = [Animation(spec, options, numbers).render(frame) for frame in frames]
    animation = Animation(spec, options, numbers)
    for order in _orders(len(frames)):
        for index in order:
            box = animation.draw(frames[index])
            pixels = animation.rgba()[:, :, :3]
            assert np.array_equal(pixels, fresh[index]), (name, index)
            # Outside the box it returns, a frame is the background of an unstarted frame 0.
            top, bottom, left, right = box
            outside = np.ones(pixels.shape[:2], dtype=bool)
            outside[top:bottom, left:right] = False
            assert np.array_equal(pixels[outside], animation.background[:, :, :3][outside])


def _plain_text(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every text drawn by matplotlib, every time: no stamps."""
    monkeypatch.setattr(TextStamps, "draw", lambda self, text: text.draw(self.renderer))


@pytest.mark.parametrize("view", ["oblique", "flat"])
@pytest.mark.parametrize(
    "name", ["3x3 kernel, padding 1", "stride 2, dilation 2", "transposed", "1-D"]
)
def test_stamped_worked_numbers_equal_matplotlib_text(
    name: str, view: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Texts replayed from stamps are the pixels matplotlib draws for them: every frame of a
    worked-numbers animation, against fresh animations that draw every text through it."""
    spec, options = SPECS[name], RenderOptions(view=view)
    numbers = _worked(spec)
    frames = list(spec.frames())
    animation = Animation(spec, options, numbers)
    stamped = [animation.render(frame) for frame in frames]
    assert stamps.STORE  # stamps were made, and (below) used
    with monkeypatch.context() as patch:
        _plain_text(patch)
        for frame, pixels in zip(frames, stamped, strict=True):
            assert np.array_equal(Animation(spec, options, numbers).render(frame), pixels)


GALLERY = Path(__file__).resolve().parents[1] / "examples" / "figures.toml"
# Every kind that draws text on a Page, with its numbers where it has them.
STAMPED_FIGURES = [
    "worked_padding_strides",
    "max_pool_ceil_mode",
    "receptive_field_dilated",
    "wavenet",
    "matrix",
    "overlap_even",
    "erf",
    "channels_cs231n",
    "separable",
    "padding_reflect",
    "padding_reflect_marks",
    "conv3d",
]


@pytest.mark.parametrize("name", STAMPED_FIGURES)
def test_every_kind_draws_the_same_pixels_with_stamps(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A PNG strip of every frame of gallery figures, with stamps and with matplotlib drawing
    every text: the same pixels."""
    table = tomllib.loads(GALLERY.read_text())[name]
    figure = parse_figure(name, table, GALLERY.parent)
    stamped, plain = tmp_path / "stamped.png", tmp_path / "plain.png"
    figure.render(stamped)
    with monkeypatch.context() as patch:
        _plain_text(patch)
        figure.render(plain)
    with Image.open(stamped) as a, Image.open(plain) as b:
        assert np.array_equal(np.asarray(a.convert("RGB")), np.asarray(b.convert("RGB")))


def test_a_text_not_plain_is_drawn_by_matplotlib() -> None:
    """Mathtext is never stamped: it is drawn each time, and nothing is kept."""
    animation = Animation(ConvSpec(3, 2))
    text = animation.sheet.text(10, 10, "$x^2$", animated=True)
    animation.page.draw_artist(text)
    animation.page.draw_artist(text)
    assert all(key[0] != "$x^2$" for key in stamps.STORE)


def test_stamps_made_on_one_canvas_replay_on_another(monkeypatch: pytest.MonkeyPatch) -> None:
    """Stamps outlive their figure: a second figure of another size, drawn with the first
    one's stamps, is the pixels matplotlib draws for it."""
    stamps.clear()
    first = ConvSpec(5, 3, padding=1)
    Animation(first, RenderOptions(view="flat"), _worked(first)).render(next(first.frames()))
    recorded: list[str] = []
    # A text matplotlib lays out (or, on another release, draws): not from a stamp or layout.
    for method in ("_record", "_lay_out"):
        original = getattr(TextStamps, method)

        def counting(self: TextStamps, text: Any, *args: Any, original: Any = original) -> Any:
            recorded.append(text.get_text())
            return original(self, text, *args)

        monkeypatch.setattr(TextStamps, method, counting)
    second = ConvSpec(6, 3, padding=1, stride=2)
    numbers, options = _worked(second), RenderOptions(view="flat")
    animation = Animation(second, options, numbers)
    static = [artist for artist in animation.page.artists if isinstance(artist, Text)]
    assert len(recorded) < len(static) / 4  # most of its numbers were replayed
    stamped = [animation.render(frame) for frame in second.frames()]
    with monkeypatch.context() as patch:
        _plain_text(patch)
        for frame, pixels in zip(second.frames(), stamped, strict=True):
            assert np.array_equal(Animation(second, options, numbers).render(frame), pixels)


def _slow_paths(monkeypatch: pytest.MonkeyPatch) -> None:
    """The renderer without its fast paths: every text drawn by matplotlib, and every frame
    restoring the whole background (as benchmarks/run.py's ``slow_paths``)."""
    _plain_text(monkeypatch)
    restore = Animation.restore

    def whole(self: Animation) -> None:
        self.dirty = None
        restore(self)

    monkeypatch.setattr(Animation, "restore", whole)


WORKED_SPECS = {
    "3x3 kernel, padding 1": ConvSpec(5, 3, padding=1),
    "dilated": ConvSpec(7, 3, dilation=2, padding=1),
    "transposed": ConvSpec(3, 3, stride=2, padding=1, transposed=True, output_padding=1),
    "sum on two lines": ConvSpec(4, 3),
    "max pool": ConvSpec(5, 3, stride=2, padding=1),
}


@pytest.mark.parametrize("view", ["oblique", "flat"])
@pytest.mark.parametrize("name", list(WORKED_SPECS))
def test_worked_numbers_after_another_figure_equal_the_slow_paths(
    name: str, view: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Worked-number frames drawn as a build draws them (after another figure, whose
    stamps, layouts and glyph images are kept; in order, then shuffled) are the pixels the
    renderer without its fast paths draws: matplotlib drawing every text, whole backgrounds."""
    spec, options = WORKED_SPECS[name], RenderOptions(view=view)
    op = "max" if name == "max pool" else "conv"
    numbers = _worked(spec, op)
    stamps.clear()
    x, weight = random_values(spec, 11)
    other = worked(spec, x, weight if op == "conv" else None, op)
    before = Animation(spec, options, other)
    for frame in spec.frames():
        before.draw(frame)
    frames = list(spec.frames())
    animation = Animation(spec, options, numbers)
    if name == "sum on two lines":
        assert "\n" in animation.values.caption_text(frames[0].as_2d())  # type: ignore[union-attr]
    drawn = {}
    for index in _orders(len(frames))[2]:
        animation.draw(frames[index])
        drawn.setdefault(index, animation.rgba()[:, :, :3].copy())
    with monkeypatch.context() as patch:
        _slow_paths(patch)
        slow = Animation(spec, options, numbers)
        for index, frame in enumerate(frames):
            assert np.array_equal(slow.render(frame), drawn[index]), (name, view, index)


def _page_text(page: Page, x: float, y: float, string: str, **style: Any) -> Text:
    text = Text(x, y, string, animated=True, **style)
    text.set_transform(page.dpi_scale_trans.inverted() + page.dpi_scale_trans)
    page.add_artist(text)
    return text


@pytest.mark.skipif(not stamps.CACHED_GLYPHS, reason="matplotlib draws every text itself")
def test_texts_placed_from_their_layout_equal_matplotlib_text() -> None:
    """A text laid out once and placed from that layout at many sub-pixel positions (each a
    new stamp, its glyphs rendered once per 1/64-pixel place) is the pixels matplotlib draws
    for it there: one line and two, every alignment, a bold and an antialiasing-free one."""
    stamps.clear()
    rng = random.Random(18)
    styles: list[dict[str, Any]] = [
        {"ha": "center", "va": "center", "fontsize": 9.3},
        {"ha": "left", "va": "bottom", "fontsize": 7.1, "fontweight": "bold"},
        {"ha": "right", "va": "top", "fontsize": 11.0, "antialiased": False},
        {"ha": "center", "va": "baseline", "fontsize": 8.2, "color": "#c03020"},
    ]
    strings = ["0×1 + -2×3 = 7", "×-0.5", "max(1, 2, 3)\n= 3", "(1 + 2) / 4\n= 0.75"]
    fast = Page(240, 120, "#ffffff")
    slow = Page(240, 120, "#ffffff")
    laid_out = 0
    for _ in range(40):
        string, style = rng.choice(strings), rng.choice(styles)
        x, y = rng.uniform(40, 200), rng.uniform(30, 90)
        fast.draw_text(_page_text(fast, x, y, string, **style))
        _page_text(slow, x, y, string, **style).draw(slow.renderer)
        laid_out += 1
        assert np.array_equal(fast.rgba(), slow.rgba()), (string, style, x, y)
    assert stamps.LAYOUTS and stamps.GLYPHS
    assert len(stamps.LAYOUTS) <= len(strings) * len(styles) < laid_out


def test_layers_blend_as_the_glyphs_one_by_one() -> None:
    """Glyph images merged into layers (none overlapping within a layer, each pixel's
    glyphs in their order across layers) blend the pixels that blending them one by one
    does, overlaps, empty images and all; a line of glyphs apart is one image."""
    rng = np.random.default_rng(18)
    glyphs: list[Any] = []
    for _ in range(60):
        rows, cols = (int(n) for n in rng.integers(0, 9, size=2))
        image = rng.integers(0, 256, size=(rows, cols)).astype(np.uint8)
        image[rng.random(image.shape) < 0.3] = 0
        glyphs.append((image, int(rng.integers(0, 50)), int(rng.integers(8, 40)), 0.0))
    one_by_one, layered = Page(64, 48, "#204060"), Page(64, 48, "#204060")
    for page, drawn in ((one_by_one, glyphs), (layered, stamps._layers(glyphs))):
        gc = page.renderer.new_gc()
        gc.set_foreground((0.9, 0.8, 0.1, 1.0), isRGBA=True)
        for image, x, y, angle in drawn:
            page.renderer._renderer.draw_text_image(image, x, y, angle, gc)
        gc.restore()
    assert np.array_equal(one_by_one.rgba(), layered.rgba())
    assert 1 < len(stamps._layers(glyphs)) < len(glyphs)
    line = [(np.full((9, 7), 200, np.uint8), 8 * k, 20, 0.0) for k in range(30)]
    assert len(stamps._layers(line)) == 1
    # Each glyph over the one before it: a pixel's glyphs keep their order, a layer each.
    assert (
        len(stamps._layers([(image, x - 2 * k, y, a) for k, (image, x, y, a) in enumerate(line)]))
        == 30
    )


LINE_CHARACTERS = "0123456789.-×+=()/ sumofprductsmaxAVWTyfi,"


@pytest.mark.skipif(not stamps.CACHED_GLYPHS, reason="matplotlib draws every text itself")
@settings(max_examples=300, deadline=None)
@given(
    line=st.text(alphabet=LINE_CHARACTERS, min_size=1, max_size=40),
    size=st.floats(5.0, 30.0),
    weight=st.sampled_from(["normal", "bold"]),
)
def test_a_line_measured_from_its_glyphs_is_as_freetype_measures_it(
    line: str, size: float, weight: str
) -> None:
    """A line's width, height and descent worked out from its shaped glyphs are those Agg
    measures with FreeType's ``set_text`` (what matplotlib's layout of it reads), to the 1/64
    pixel: ligatures, kerning, spaces and hinted advances included."""
    from matplotlib.backends.backend_agg import RendererAgg, get_hinting_flag
    from matplotlib.font_manager import FontProperties

    renderer = RendererAgg(200, 100, 100)
    prop = FontProperties(size=size, weight=weight)
    font = renderer._prepare_font(prop)
    items = font._layout(line, flags=get_hinting_flag())
    measured = stamps._measured(font, items, prop.get_size_in_points(), renderer.dpi)
    assert measured == renderer.get_text_width_height_descent(line, prop, False)


@pytest.mark.skipif(not stamps.CACHED_GLYPHS, reason="matplotlib draws every text itself")
def test_a_line_with_a_missing_glyph_is_left_to_freetype() -> None:
    """A glyph from a fallback font or missing (``set_text`` warns of it) is not measured
    from the glyphs: matplotlib measures that line itself."""
    from matplotlib.backends.backend_agg import RendererAgg, get_hinting_flag
    from matplotlib.font_manager import FontProperties

    renderer = RendererAgg(200, 100, 100)
    prop = FontProperties(size=9)
    font = renderer._prepare_font(prop)
    for line in ("1\t2", "日本"):
        items = font._layout(line, flags=get_hinting_flag())
        assert stamps._measured(font, items, 9.0, renderer.dpi) is None


@pytest.mark.skipif(not stamps.CACHED_GLYPHS, reason="matplotlib draws every text itself")
def test_a_new_text_is_shaped_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """A text not drawn before is laid out without FreeType measuring it again (its lines'
    sizes come from their glyphs), and is the pixels matplotlib draws for it."""
    from matplotlib.backends.backend_agg import RendererAgg

    stamps.clear()
    asked: list[str] = []
    measure = RendererAgg.get_text_width_height_descent

    def counted(self: Any, string: str, prop: Any, ismath: Any) -> Any:
        asked.append(string)
        return measure(self, string, prop, ismath)

    monkeypatch.setattr(RendererAgg, "get_text_width_height_descent", counted)
    fast, slow = Page(240, 120, "#ffffff"), Page(240, 120, "#ffffff")
    for string in ("1×2 + 3×-4 = -10.25", "(1 + 2) / 4\n= 0.75"):
        style = {"ha": "center", "va": "center", "fontsize": 8.7}
        fast.draw_text(_page_text(fast, 120.3, 60.6, string, **style))
        assert not [line for line in string.split("\n") if line in asked]
        _page_text(slow, 120.3, 60.6, string, **style).draw(slow.renderer)
        assert np.array_equal(fast.rgba(), slow.rgba()), string
