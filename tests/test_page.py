"""The raster page draws what a matplotlib Figure on an Agg canvas draws, pixel for pixel.

``Page`` stands in for a figure so that raster output never imports ``matplotlib.figure``;
artists only ask it for its dpi and size. These tests swap in a real Figure and compare every
frame of each kind of figure, so a matplotlib release that asks artists' figures for more
fails here rather than drawing something else.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from matplotlib.artist import Artist
from matplotlib.backends.backend_agg import FigureCanvasAgg

import convanim.render
from convanim.geometry import ConvSpec
from convanim.render import Animation, RenderOptions, pixel_figure
from convanim.rf_render import DependencyDiagram, FieldStrip
from convanim.values import random_values, worked


class FigurePage:
    """A ``Page`` made of a real Figure and its Agg canvas."""

    def __init__(self, width_px: int, height_px: int, background: str, dpi: float = 100.0):
        self.figure = pixel_figure(width_px, height_px, dpi)
        self.figure.patch.set_facecolor(background)
        self.canvas = FigureCanvasAgg(self.figure)
        self.dpi = dpi
        self.dpi_scale_trans = self.figure.dpi_scale_trans

    @property
    def renderer(self) -> Any:
        return self.canvas.get_renderer()

    def add_artist(self, artist: Artist) -> Artist:
        return self.figure.add_artist(artist)

    def draw(self) -> None:
        self.canvas.draw()

    def draw_artist(self, artist: Artist) -> None:
        self.figure.draw_artist(artist)

    def draw_text(self, text: Artist) -> None:
        """Every text drawn by matplotlib (no stamps): only its window extent bounds it."""
        self.figure.draw_artist(text)

    def copy(self) -> Any:
        return self.canvas.copy_from_bbox(self.figure.bbox)

    def restore(self, region: Any) -> None:
        self.canvas.restore_region(region)

    def rgba(self) -> np.ndarray:
        return np.asarray(self.canvas.buffer_rgba())


def numbers(spec: ConvSpec, options: RenderOptions) -> Animation:
    x, weight = random_values(spec, 0)
    return Animation(spec, options, worked(spec, x, weight))


PADDING_STRIDES = ConvSpec(5, 3, stride=2, padding=1)
TRANSPOSED = ConvSpec(3, 3, stride=2, padding=1, transposed=True, output_padding=1)
CASES: dict[str, Callable[[], Any]] = {
    "oblique": lambda: Animation(PADDING_STRIDES),
    "flat dark": lambda: Animation(PADDING_STRIDES, RenderOptions(view="flat", theme="dark")),
    "labels": lambda: Animation(TRANSPOSED, RenderOptions(labels=True, theme="solarized")),
    "numbers": lambda: numbers(PADDING_STRIDES, RenderOptions(labels=True)),
    "numbers flat": lambda: numbers(TRANSPOSED, RenderOptions(view="flat")),
    "field strip": lambda: FieldStrip(
        [{"kernel_size": 3, "dilation": d, "padding": "same"} for d in (1, 2, 4)]
    ),
    "dependency diagram": lambda: DependencyDiagram(
        [{"kernel_size": 2, "dilation": d, "padding": "causal"} for d in (1, 2, 4, 8)], 16
    ),
}


def every_frame(figure: Any) -> list[np.ndarray]:
    if isinstance(figure, Animation):
        return [figure.render(frame) for frame in figure.spec.frames()]
    return [figure.render(index) for index in range(figure.frame_count)]


@pytest.mark.parametrize("case", CASES)
def test_page_draws_as_a_figure_does(case: str, monkeypatch: pytest.MonkeyPatch) -> None:
    on_page = every_frame(CASES[case]())
    monkeypatch.setattr(convanim.render, "Page", FigurePage)
    made = CASES[case]()
    assert isinstance(made.page, FigurePage)
    on_figure = every_frame(made)
    assert len(on_page) == len(on_figure) > 1
    for index, (page, figure) in enumerate(zip(on_page, on_figure, strict=True)):
        assert page.shape == figure.shape, index
        differ = int((page != figure).any(axis=2).sum())
        assert differ == 0, f"frame {index}: {differ} pixels differ"


def test_raster_output_never_imports_matplotlib_figure(tmp_path: Any) -> None:
    """The quarter second that import costs is paid by vector output only."""
    commands = [
        ["conv", "-i", "5", "-k", "3", "--values", "-o", str(tmp_path / "a.gif")],
        ["rf", "-k", "3", "-d", "1,2", "-o", str(tmp_path / "b.png")],
        ["rf", "--dims", "1", "-k", "2", "-d", "1,2", "--causal", "-o", str(tmp_path / "c.gif")],
    ]
    code = (
        "import sys\n"
        "from convanim.cli import main\n"
        f"for args in {commands!r}:\n"
        "    try: main(args)\n"
        "    except SystemExit as stop: assert stop.code == 0, stop.code\n"
        "assert 'matplotlib.figure' not in sys.modules, 'matplotlib.figure was imported'\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert all((tmp_path / name).stat().st_size > 0 for name in ("a.gif", "b.png", "c.gif"))
