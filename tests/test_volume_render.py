"""Pixel tests of the 3-D drawing: the shaded slices are exactly those the kernel covers."""

from __future__ import annotations

import numpy as np

from convanim.geometry import ConvSpec
from convanim.options import RenderOptions
from convanim.render import _blend
from convanim.theme import THEMES, hex_rgb
from convanim.volume_render import VolumeAnimation

THEME = THEMES["solarized"]
SHADED_INPUT = hex_rgb(_blend(hex_rgb(THEME.shade), hex_rgb(THEME.input), THEME.shade_alpha))
SHADED_OUTPUT = hex_rgb(_blend(hex_rgb(THEME.shade), hex_rgb(THEME.output), THEME.shade_alpha))


def near(a: tuple[int, ...], b: tuple[int, ...]) -> bool:
    return max(abs(x - y) for x, y in zip(a, b, strict=True)) <= 2


def pixel(rgb: np.ndarray, point: np.ndarray, animation: VolumeAnimation) -> tuple[int, ...]:
    x, y = animation.transform.transform(point)
    return tuple(int(v) for v in rgb[int(animation.size[1] - y), int(x)])


def test_shaded_slices_are_the_covered_ones_and_the_output_cell() -> None:
    spec = ConvSpec((4, 3, 3), (2, 2, 2), stride=(2, 1, 1))
    for view in ("oblique", "flat"):
        animation = VolumeAnimation(spec, RenderOptions(view=view))
        seen = set()
        for frame in animation.frames:
            rgb = animation.render(frame.index)
            seen.add(rgb.tobytes())
            depths = {tap[0] for tap in frame.taps}
            for d, piece in enumerate(animation.slices):
                for row in range(3):
                    for col in range(3):
                        centre = piece.plane.cell(row, col).mean(axis=0)
                        tapped = (d, row, col) in frame.taps
                        colour = pixel(rgb, centre, animation)
                        assert near(colour, SHADED_INPUT) == tapped, (
                            view,
                            frame.index,
                            d,
                            row,
                            col,
                        )
                        if d not in depths:
                            assert near(colour, hex_rgb(THEME.input))
            out_d, out_r, out_c = frame.output
            for d, piece in enumerate(animation.outputs):
                for row in range(spec.output_size[1]):
                    for col in range(spec.output_size[2]):
                        centre = piece.plane.cell(row, col).mean(axis=0)
                        current = (d, row, col) == (out_d, out_r, out_c)
                        colour = pixel(rgb, centre, animation)
                        assert near(colour, SHADED_OUTPUT if current else hex_rgb(THEME.output))
        assert len(seen) == spec.frame_count
