"""How to draw: options shared by every figure, light enough for the command line to import."""

from __future__ import annotations

from dataclasses import dataclass

from convanim.geometry import ConvSpecError
from convanim.theme import THEMES

__all__ = ["VIEWS", "RenderOptions"]

VIEWS = ("oblique", "flat")


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
