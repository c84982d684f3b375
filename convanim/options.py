"""How to draw: options shared by every figure, light enough for the command line to import."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from convanim.errors import ConvSpecError
from convanim.theme import THEMES

__all__ = [
    "MAX_DRAWN_CHANNELS",
    "VIEWS",
    "RenderOptions",
    "check_drawn_channels",
    "drawn_channels_refusal",
]

VIEWS = ("oblique", "flat")
MAX_DRAWN_CHANNELS = 8  # per volume: more planes than this cannot be told apart


def drawn_channels_refusal(counts: Mapping[str, int]) -> ConvSpecError | None:
    """The error for the first channel count (by the name the caller's user knows it by)
    beyond ``MAX_DRAWN_CHANNELS``, the most a figure draws readably, or None; ``info``
    describes any number."""
    for name, count in counts.items():
        if count > MAX_DRAWN_CHANNELS:
            return ConvSpecError(
                name,
                f"got {count}; at most {MAX_DRAWN_CHANNELS} channels can be drawn readably "
                f"(the limit is {MAX_DRAWN_CHANNELS} per side); use fewer channels",
            )
    return None


def check_drawn_channels(counts: Mapping[str, int]) -> None:
    """Refuse a channel count beyond ``MAX_DRAWN_CHANNELS`` (``drawn_channels_refusal``)."""
    refusal = drawn_channels_refusal(counts)
    if refusal is not None:
        raise refusal


@dataclass(frozen=True)
class RenderOptions:
    """How to draw: ``view`` (oblique or flat), ``theme`` name, ``labels``, ``scale`` (x)."""

    view: str = "oblique"
    theme: str = "solarized"
    labels: bool = False
    scale: float = 1.0

    def __post_init__(self) -> None:
        if not isinstance(self.labels, bool):
            raise ConvSpecError("labels", f"got {self.labels!r}; expected True or False")
        scale = self.scale
        if isinstance(scale, bool) or not isinstance(scale, (int, float)):
            raise ConvSpecError("scale", f"got {scale!r}; expected a number from 0.1 to 10")
        if self.view not in VIEWS:
            raise ConvSpecError("view", f"got '{self.view}'; expected one of {', '.join(VIEWS)}")
        if self.theme not in THEMES:
            raise ConvSpecError("theme", f"got '{self.theme}'; expected one of {', '.join(THEMES)}")
        if not 0.1 <= self.scale <= 10:
            raise ConvSpecError("scale", f"got {self.scale}; expected a number from 0.1 to 10")
