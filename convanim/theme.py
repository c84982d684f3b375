"""Colour themes. The default is conv_arithmetic's Solarized look."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["THEMES", "Theme", "hex_rgb"]


def hex_rgb(colour: str) -> tuple[int, int, int]:
    """'#rrggbb' as (r, g, b), 0-255."""
    value = colour.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


@dataclass(frozen=True)
class Theme:
    """Colours as '#rrggbb'; ``shade`` is laid over cells at ``shade_alpha`` opacity."""

    name: str
    background: str
    input: str
    output: str
    line: str
    shade: str
    shade_alpha: float
    padding: str  # fill of padding and inserted-zero cells
    text: str
    highlight: str  # receptive-field and dependency highlights
    pale: str  # units a diagram leaves out


THEMES: dict[str, Theme] = {
    theme.name: theme
    for theme in (
        Theme(
            name="solarized",
            background="#ffffff",
            input="#268bd2",
            output="#2aa198",
            line="#002b36",
            shade="#073642",
            shade_alpha=0.4,
            padding="#ffffff",
            text="#002b36",
            highlight="#cb4b16",
            pale="#93a1a1",
        ),
        Theme(
            name="dark",
            background="#0d1117",
            input="#268bd2",
            output="#2aa198",
            line="#c9d1d9",
            shade="#fdf6e3",
            shade_alpha=0.35,
            padding="#0d1117",
            text="#c9d1d9",
            highlight="#cb4b16",
            pale="#484f58",
        ),
        # Okabe & Ito's palette ("Color Universal Design", 2002/2008): sky blue, orange and
        # vermillion stay apart under protanopia, deuteranopia and tritanopia, and shading is a
        # change of lightness, which no colour-vision deficiency hides. tests/test_themes.py
        # checks the pairs that carry meaning against simulated deficiencies.
        Theme(
            name="okabe-ito",
            background="#ffffff",
            input="#56b4e9",  # sky blue
            output="#e69f00",  # orange
            line="#000000",
            shade="#000000",
            shade_alpha=0.4,
            padding="#ffffff",
            text="#000000",
            highlight="#d55e00",  # vermillion
            pale="#999999",  # the palette's grey
        ),
    )
}
