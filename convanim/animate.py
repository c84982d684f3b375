"""Spec to file: checks every request up front, then renders and writes in one pass."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from convanim.geometry import ConvSpec, ConvSpecError
from convanim.writers import MAX_VECTOR_FRAMES, VECTOR

if TYPE_CHECKING:
    from collections.abc import Iterator

    from convanim.options import RenderOptions
    from convanim.render import Animation
    from convanim.values import Worked
    from convanim.writers import Drawn

__all__ = [
    "MAX_FRAMES",
    "MAX_GRID",
    "Output",
    "check_frame_ms",
    "check_limits",
    "check_output_request",
    "save",
]

MAX_FRAMES = 1024  # a 32x32 output; --max-frames raises it
MAX_GRID = 256  # drawn cells per axis
GIF_TICK_MS = 10  # GIF delays are whole hundredths of a second


@dataclass(frozen=True)
class Output:
    """Where and how to write: ``frame_ms`` per GIF frame, strip ``columns``, one ``frame``."""

    path: Path  # a str is taken too
    frame_ms: int = 1000
    columns: int | None = None  # default: one row of frames per output row
    frame: int | None = None  # a single frame (0-based) as a PNG
    max_frames: int = MAX_FRAMES
    stamp: str | None = None  # a fingerprint the file carries (see convanim.figures)

    def __post_init__(self) -> None:
        object.__setattr__(self, "path", Path(self.path))


def check_limits(spec: ConvSpec, max_frames: int | None = MAX_FRAMES) -> None:
    """Refuse, without building anything, a spec too large to render in reasonable time.

    ``max_frames`` None: one frame is drawn, only the grid's size matters.
    """
    if max_frames is not None and spec.frame_count > max_frames:
        rows, cols = spec.output_size
        raise ConvSpecError(
            "max_frames",
            f"the output is {rows}x{cols}, {spec.frame_count:,} frames, over the limit of "
            f"{max_frames:,}; use a smaller input or larger stride, or raise --max-frames",
        )
    rows, cols = spec.drawn_size
    if max(rows, cols) > MAX_GRID:
        raise ConvSpecError(
            "input_size",
            f"the drawn grid is {rows}x{cols} cells, over the limit of {MAX_GRID} per side; "
            "use a smaller input, padding or stride",
        )


def check_frame_ms(frame_ms: int) -> None:
    """A GIF frame time convanim can store exactly."""
    if not GIF_TICK_MS * 2 <= frame_ms <= 655_350 or frame_ms % GIF_TICK_MS:
        raise ConvSpecError(
            "frame_ms",
            f"got {frame_ms}; expected a multiple of 10 from 20 to 655350 "
            "(GIF stores hundredths of a second)",
        )


def check_output_request(spec: ConvSpec, output: Output) -> str:
    """Check an output request against a spec without rendering; returns the extension."""
    from convanim.writers import check_output

    suffix = check_output(output.path)
    check_frame_ms(output.frame_ms)
    if output.frame is not None:
        if suffix == ".gif":
            raise ConvSpecError(
                "frame", f"got {output.frame}; a single frame is written as .png, .svg or .pdf"
            )
        if not 0 <= output.frame < spec.frame_count:
            raise ConvSpecError(
                "frame",
                f"got {output.frame}; expected 0 to {spec.frame_count - 1} "
                f"(the frame of output cell (row, col) is row * {spec.output_size[1]} + col)",
            )
    if output.columns is not None and output.columns < 1:
        raise ConvSpecError("columns", f"got {output.columns}; expected an integer >= 1")
    check_limits(spec, output.max_frames if output.frame is None else None)
    if suffix in VECTOR and output.frame is None and spec.frame_count > MAX_VECTOR_FRAMES:
        raise ConvSpecError(
            "output",
            f"a vector strip of {spec.frame_count} frames is over the limit of "
            f"{MAX_VECTOR_FRAMES}; write one --frame, or a .png or .gif",
        )
    return suffix


def save(
    spec: ConvSpec,
    output: Output,
    options: RenderOptions | None = None,
    worked: Worked | None = None,
) -> Path:
    """Render ``spec`` to ``output.path`` (.gif animation, .png strip or frame).

    With ``worked`` (see ``convanim.values.worked``) the frames show the numbers.
    """
    suffix = check_output_request(spec, output)  # before matplotlib's import: refusals are quick
    from convanim.render import Animation
    from convanim.writers import (
        MAX_STRIP_PIXELS,
        strip_size,
        write_gif,
        write_png,
        write_strip,
        write_vector,
    )

    animation = Animation(spec, options, worked)
    if suffix in VECTOR:
        frames = [f for f in spec.frames() if output.frame in (None, f.index)]
        columns = 1 if output.frame is not None else output.columns or spec.output_size[1]
        write_vector(output.path, animation.vector(frames, columns), output.stamp)
        return output.path
    if output.frame is not None:
        frame = next(f for f in spec.frames() if f.index == output.frame)
        write_png(output.path, animation.render(frame), output.stamp)
        return output.path
    if suffix == ".gif":
        write_gif(
            output.path,
            _drawn(animation, spec),
            animation.colours(),
            output.frame_ms,
            output.stamp,
            animation.inks(),
        )
        return output.path
    pixels = (animation.render(frame) for frame in spec.frames())
    columns = output.columns or spec.output_size[1]
    width, height = strip_size(spec.frame_count, animation.size, columns)
    if width * height > MAX_STRIP_PIXELS:
        raise ConvSpecError(
            "columns",
            f"the strip would be {width}x{height} pixels, over the limit of "
            f"{MAX_STRIP_PIXELS:,}; write a .gif, one --frame, or use a smaller --scale",
        )
    write_strip(
        output.path,
        pixels,
        spec.frame_count,
        animation.size,
        columns,
        animation.theme.background,
        output.stamp,
    )
    return output.path


def _drawn(animation: Animation, spec: ConvSpec) -> Iterator[Drawn]:
    """Each frame drawn on the animation's canvas, as the GIF writer reads it."""
    from convanim.writers import Drawn

    for frame in spec.frames():
        box = animation.draw(frame)
        yield Drawn(animation.rgba(), box)
