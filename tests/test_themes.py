"""The colour-blind-safe theme: its colours stay apart under simulated colour-vision deficiencies.

Deficiencies are simulated with the matrices of Machado, Oliveira and Fernandes, "A
Physiologically-based Model for Simulation of Color Vision Deficiency" (IEEE TVCG 15(6), 2009),
at severity 1.0 (complete dichromacy: the hardest case), applied to linear RGB as the paper
does. Distances are CIE76 ΔE (Euclidean in CIELAB, D65 white).

The threshold is ΔE ≥ 20. A ΔE of about 2 is just noticeable side by side; colours that carry
meaning are read at a glance, on projectors and in small cells, and 20 is a common bar for
categorical palettes. For scale: the default solarized theme's input and output (blue and cyan)
are 50 apart with normal vision and 10 under tritanopia; okabe-ito's key pairs are 28.9 or more
apart under every simulated deficiency (the least: the shade over an input cell, a change of
lightness). Highlight against output (vermillion, orange: 18 under deuteranopia) is no key pair:
the rf tree draws highlighted edges between units, never a highlight on an output unit.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from convanim import kinds
from convanim.figures import parse_figure
from convanim.theme import THEMES, Theme, hex_rgb

THEME = THEMES["okabe-ito"]
MIN_DELTA_E = 20.0

# Machado et al. (2009), Table 1, severity 1.0: linear RGB -> linear RGB.
MACHADO = {
    "protanopia": (
        (0.152286, 1.052583, -0.204868),
        (0.114503, 0.786281, 0.099216),
        (-0.003882, -0.048116, 1.051998),
    ),
    "deuteranopia": (
        (0.367322, 0.860646, -0.227968),
        (0.280085, 0.672501, 0.047413),
        (-0.011820, 0.042940, 0.968881),
    ),
    "tritanopia": (
        (1.255528, -0.076749, -0.178779),
        (-0.078411, 0.930809, 0.147602),
        (0.004733, 0.691367, 0.303900),
    ),
}
VISIONS = ("normal", *MACHADO)

SRGB_TO_XYZ = np.array(
    [
        [0.4124564, 0.3575761, 0.1804375],
        [0.2126729, 0.7151522, 0.0721750],
        [0.0193339, 0.1191920, 0.9503041],
    ]
)
D65 = np.array([0.95047, 1.0, 1.08883])


def linear(rgb: tuple[float, ...]) -> np.ndarray:
    """sRGB (0-255) to linear RGB (0-1)."""
    c = np.asarray(rgb, dtype=float) / 255
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def lab(rgb: tuple[float, ...], vision: str) -> np.ndarray:
    """CIELAB of an sRGB colour as seen with ``vision`` (normal or a deficiency)."""
    light = linear(rgb)
    if vision != "normal":
        light = np.clip(np.array(MACHADO[vision]) @ light, 0, 1)
    t = SRGB_TO_XYZ @ light / D65
    delta = 6 / 29
    f = np.where(t > delta**3, np.cbrt(t), t / (3 * delta**2) + 4 / 29)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def delta_e(a: tuple[float, ...], b: tuple[float, ...], vision: str) -> float:
    return float(np.linalg.norm(lab(a, vision) - lab(b, vision)))


def shaded(theme: Theme, under: str) -> tuple[float, ...]:
    """A cell's colour under the sliding window's shade, as the renderer lays it."""
    alpha = theme.shade_alpha
    return tuple(
        alpha * s + (1 - alpha) * u
        for s, u in zip(hex_rgb(theme.shade), hex_rgb(under), strict=True)
    )


def key_pairs(theme: Theme) -> dict[str, tuple[tuple[float, ...], tuple[float, ...]]]:
    """The pairs of colours whose difference carries the figure's meaning."""
    rgb = hex_rgb
    return {
        "input vs output": (rgb(theme.input), rgb(theme.output)),
        "shaded vs unshaded input": (shaded(theme, theme.input), rgb(theme.input)),
        "shaded vs unshaded output": (shaded(theme, theme.output), rgb(theme.output)),
        "shaded input vs output": (shaded(theme, theme.input), rgb(theme.output)),
        "shaded vs unshaded padding": (shaded(theme, theme.padding), rgb(theme.padding)),
        "highlight vs input": (rgb(theme.highlight), rgb(theme.input)),
        "highlight vs pale": (rgb(theme.highlight), rgb(theme.pale)),
        "input vs padding": (rgb(theme.input), rgb(theme.padding)),
        "text vs background": (rgb(theme.text), rgb(theme.background)),
        "text vs shaded input": (rgb(theme.text), shaded(theme, theme.input)),
    }


@pytest.mark.parametrize("vision", VISIONS)
@pytest.mark.parametrize("pair", list(key_pairs(THEME)))
def test_key_pairs_stay_apart(pair: str, vision: str) -> None:
    a, b = key_pairs(THEME)[pair]
    assert delta_e(a, b, vision) >= MIN_DELTA_E, (pair, vision)


def test_simulation_is_sound() -> None:
    """The simulation keeps greys and confuses what each deficiency is known to confuse."""
    for vision in MACHADO:  # each matrix's rows sum to 1: white stays white, greys stay grey
        assert delta_e((255, 255, 255), (255, 255, 255), vision) == 0
        assert np.allclose(np.array(MACHADO[vision]).sum(axis=1), 1, atol=1e-5)
    red, green = (255, 0, 0), (0, 160, 0)
    assert delta_e(red, green, "normal") > 100
    assert delta_e(red, green, "deuteranopia") < delta_e(red, green, "normal") / 2
    # Tritanopes confuse Okabe & Ito's sky blue with their bluish green, as the palette warns.
    assert delta_e(hex_rgb("#56b4e9"), hex_rgb("#009e73"), "tritanopia") < MIN_DELTA_E


def test_every_kind_takes_the_theme() -> None:
    for kind in kinds.kinds():
        assert "okabe-ito" in kind.param("theme").choices
        examples = {"layer": "nn.Conv2d(1, 1, 3)"}  # every other required option: a size
        required = {key: examples.get(key, 4) for key in kind.required}
        figure = parse_figure("t", {"kind": kind.name, **required, "theme": "okabe-ito"})
        assert figure.options["theme"] == "okabe-ito"


@pytest.mark.parametrize(
    ("description", "colours"),
    [
        ({"kind": "conv", "input": 5, "kernel": 3, "frame": 4}, ("input", "output")),
        ({"kind": "pool", "input": 4, "kernel": 2, "stride": 2, "frame": 1}, ("input", "output")),
        ({"kind": "rf", "kernel": 3, "dilation": [1, 2]}, ("input", "highlight")),
    ],
    ids=["conv", "pool", "rf"],
)
def test_rendered_frames_use_the_theme(
    tmp_path: Path, description: dict[str, object], colours: tuple[str, ...]
) -> None:
    figure = parse_figure("t", {**description, "theme": "okabe-ito"})
    path = figure.render(tmp_path / "frame.png")
    pixels = np.asarray(Image.open(path).convert("RGB")).reshape(-1, 3)
    found, counts = np.unique(pixels, axis=0, return_counts=True)
    common = {tuple(int(c) for c in colour) for colour in found[counts > 200]}
    for name in ("background", *colours):
        assert hex_rgb(getattr(THEME, name)) in common, name
    if description["kind"] != "rf":  # the window's shade over input cells, within rounding
        under = shaded(THEME, THEME.input)
        assert any(max(abs(a - b) for a, b in zip(c, under, strict=True)) <= 2 for c in common)
