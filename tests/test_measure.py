"""Tests for ``convanim.measure``: text measured once, exactly as Agg measures it."""

from __future__ import annotations

from typing import Any

import matplotlib as mpl
import pytest
from matplotlib.backends.backend_agg import RendererAgg
from matplotlib.font_manager import FontProperties

from convanim import measure


def agg(text: str, font: FontProperties, dpi: float) -> tuple[float, float, float]:
    renderer: Any = RendererAgg(1, 1, dpi)
    width, height, descent = renderer.get_text_width_height_descent(text, font, ismath=False)
    return float(width), float(height), float(descent)


@pytest.mark.parametrize("text", ["0.5", "-12.25", "x₀₁ · w₂", "Σ = 3", "", "stride 2"])
@pytest.mark.parametrize(
    ("size", "weight", "dpi"),
    [(8.0, "normal", 100.0), (11.5, "bold", 100.0), (9.0, "normal", 72.0)],
)
def test_measured_twice_as_agg_measures(text: str, size: float, weight: str, dpi: float) -> None:
    font = FontProperties(size=size, weight=weight)
    assert measure.text_metrics(text, font, dpi) == agg(text, font, dpi)
    assert measure.text_metrics(text, font, dpi) == agg(text, font, dpi)  # from the cache


def test_a_font_changed_after_measuring_is_measured_again() -> None:
    font = FontProperties(size=10)
    narrow = measure.text_metrics("convanim", font, 100.0)
    font.set_size(20)  # FontProperties is mutable: the cache keys on its fields, not on it
    assert measure.text_metrics("convanim", font, 100.0) == agg("convanim", font, 100.0)
    assert measure.text_metrics("convanim", font, 100.0)[0] > narrow[0]


def test_matplotlib_settings_are_part_of_the_key() -> None:
    font = FontProperties(size=10)
    with mpl.rc_context({"font.sans-serif": ["DejaVu Sans"]}):
        sans = measure.text_metrics("Wide words", font, 100.0)
    with mpl.rc_context({"font.sans-serif": ["DejaVu Sans Mono"]}):
        mono = measure.text_metrics("Wide words", font, 100.0)
        assert mono == agg("Wide words", font, 100.0)
    assert sans != mono
    with mpl.rc_context({"text.hinting": "no_hinting"}):
        assert measure.text_metrics("Wide words", font, 100.0) == agg("Wide words", font, 100.0)


def test_the_cache_keeps_the_most_recently_used(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(measure, "MAX_MEASURED", 3)
    monkeypatch.setattr(measure, "_CACHE", {})
    font = FontProperties(size=10)
    for text in ("a", "b", "c", "a", "d"):
        measure.text_metrics(text, font, 100.0)
    assert [key[0] for key in measure._CACHE] == ["c", "a", "d"]


def test_text_width_is_the_widest() -> None:
    font = FontProperties(size=10)
    texts = ["1", "1000", "10"]
    assert measure.text_width(texts, font, 100.0) == agg("1000", font, 100.0)[0]
    assert measure.text_width([], font, 100.0) == 0.0
