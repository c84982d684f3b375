"""To file: one save for every figure kind, every request checked before anything is drawn.

A kind checks what only it knows (a spec's grid, a stack's layers), then hands its drawing to
the one save: ``check_request`` checks the output against the drawing's frame count, without
drawing (or importing matplotlib); ``save_drawing`` draws and writes. ``save`` is the
convolution's, ``save_rf`` the receptive field's: each a thin caller.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from convanim.errors import ConvSpecError
from convanim.formats import check_installed, write_drawing, writer_for

if TYPE_CHECKING:
    from convanim.drawing import Drawing
    from convanim.formats import Writer
    from convanim.geometry import ConvSpec
    from convanim.options import RenderOptions
    from convanim.values import Worked

__all__ = [
    "MAX_FRAMES",
    "MAX_GRID",
    "MAX_SLICES",
    "MAX_SLICE_SIDE",
    "MAX_STRIP_PIXELS",
    "MAX_VECTOR_FRAMES",
    "Output",
    "Request",
    "check_frame_ms",
    "check_limits",
    "check_output",
    "check_output_request",
    "check_poster_output",
    "check_request",
    "save",
    "save_drawing",
    "save_poster",
    "save_rf",
]

MAX_FRAMES = 1024  # a 32x32 output; --max-frames raises it
MAX_GRID = 256  # drawn cells per axis
MAX_SLICES = 10  # 3-D: drawn slices of either volume; more are not told apart at a glance
MAX_SLICE_SIDE = 16  # 3-D: drawn cells along a slice's side
MAX_VECTOR_FRAMES = 100  # frames in one SVG or PDF
MAX_STRIP_PIXELS = 64_000_000  # pixels in one raster strip
GIF_TICK_MS = 10  # GIF delays are whole hundredths of a second


@dataclass(frozen=True)
class Output:
    """Where and how to write: ``frame_ms`` per GIF frame, strip ``columns``, one ``frame``."""

    path: Path  # a str is taken too
    frame_ms: int = 1000
    columns: int | None = None  # default: the drawing's (a convolution: one row per output row)
    frame: int | None = None  # a single frame (0-based) as a PNG, SVG or PDF
    max_frames: int = MAX_FRAMES
    stamp: str | None = None  # a fingerprint the file carries (see convanim.figures)
    alt: str | None = None  # what the figure shows, for formats that hold text (.html)
    # Written to this stream instead of ``path`` (whose suffix still names the format).
    stream: BinaryIO | None = field(default=None, compare=False)
    # Told (frames drawn, frames to draw) after each frame: the command line's progress.
    progress: Callable[[int, int], None] | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.path, (str, os.PathLike)):
            raise ConvSpecError("output", f"got {self.path!r}; expected a file path")
        object.__setattr__(self, "path", Path(self.path))
        for name in ("frame_ms", "columns", "frame", "max_frames"):
            value = getattr(self, name)
            optional = name in ("columns", "frame")
            if (value is None and optional) or (
                isinstance(value, int) and not isinstance(value, bool)
            ):
                continue
            what = "an integer, or None" if optional else "an integer"
            raise ConvSpecError(name, f"got {value!r}; expected {what}")
        if self.max_frames < 1:
            raise ConvSpecError("max_frames", f"got {self.max_frames}; expected an integer >= 1")
        if self.stamp is not None and not isinstance(self.stamp, str):
            raise ConvSpecError("stamp", f"got {self.stamp!r}; expected a string, or None")
        if self.alt is not None and not isinstance(self.alt, str):
            raise ConvSpecError("alt", f"got {self.alt!r}; expected a string, or None")


@dataclass(frozen=True)
class Request:
    """An output checked against a drawing's frames: which frames ``writer`` writes, how.

    ``indices`` are tiled ``columns`` to a row by a still writer; ``strip_advice`` is the
    kind's words for making a raster strip smaller, should the drawing's frames make it
    too large (known only once the drawing is built).
    """

    output: Output
    writer: Writer
    indices: tuple[int, ...]
    columns: int
    strip_advice: str


def check_frame_ms(frame_ms: int) -> None:
    """A GIF frame time convanim can store exactly."""
    if not GIF_TICK_MS * 2 <= frame_ms <= 655_350 or frame_ms % GIF_TICK_MS:
        raise ConvSpecError(
            "frame_ms",
            f"got {frame_ms}; expected a multiple of 10 from 20 to 655350 "
            "(GIF stores hundredths of a second)",
        )


def check_output(output: Output) -> Writer:
    """The writer for ``output``, after every check that needs neither geometry nor drawing."""
    writer = writer_for(output.path)
    check_installed(writer)  # a missing extra (.mp4: FFmpeg) before anything else
    parent = output.path.parent
    if parent.exists() and not parent.is_dir():
        raise ConvSpecError("output", f"got '{output.path}'; '{parent}' is a file, not a folder")
    if not parent.is_dir():
        raise ConvSpecError("output", f"got '{output.path}'; folder '{parent}' does not exist")
    if output.path.is_dir():
        raise ConvSpecError("output", f"got '{output.path}'; it is a folder, not a file")
    check_frame_ms(output.frame_ms)
    if output.frame is not None and writer.animates:
        raise ConvSpecError(
            "frame",
            f"got {output.frame}; a single frame is written as {_stills()}",
        )
    if output.columns is not None and output.columns < 1:
        raise ConvSpecError("columns", f"got {output.columns}; expected an integer >= 1")
    if output.columns is not None and writer.animates:
        raise ConvSpecError(
            "columns",
            f"got {output.columns}; an animation has no columns: write a {_stills()} strip, "
            "or leave columns out",
        )
    return writer


def _stills() -> str:
    """The still formats, for messages: '.png, .svg or .pdf'."""
    from convanim.formats import SUFFIXES

    stills = [s for s in SUFFIXES if not writer_for(s).animates]
    return ", ".join(stills[:-1]) + f" or {stills[-1]}" if len(stills) > 1 else stills[0]


def check_request(
    output: Output,
    frame_count: int,
    default_columns: int,
    *,
    frame_note: str,
    strip_advice: str,
) -> Request:
    """Check ``output`` for a drawing of ``frame_count`` frames; nothing is drawn.

    ``frame_note`` says what frame i is, after the valid range in a message
    ("frame i: layer i + 1"). Every frame is written unless ``output.frame`` picks one.
    """
    writer = check_output(output)
    if output.frame is None:
        indices = tuple(range(frame_count))
        columns = output.columns or default_columns
    else:
        if not 0 <= output.frame < frame_count:
            raise ConvSpecError(
                "frame", f"got {output.frame}; expected 0 to {frame_count - 1} ({frame_note})"
            )
        indices, columns = (output.frame,), 1
    if len(indices) > output.max_frames:
        what = "animation" if writer.animates else "strip"
        raise ConvSpecError(
            "max_frames",
            f"the {what} would have {len(indices):,} frames, over the limit of "
            f"{output.max_frames:,}; use a smaller input, or raise --max-frames",
        )
    if writer.vector and len(indices) > MAX_VECTOR_FRAMES:
        raise ConvSpecError(
            "output",
            f"a vector strip of {len(indices)} frames is over the limit of "
            f"{MAX_VECTOR_FRAMES}; write one --frame, or a .png or .gif",
        )
    return Request(output, writer, indices, columns, strip_advice)


def check_poster_output(output: Output) -> Writer:
    """The writer of a poster's ``output``: a still format, a poster being one image."""
    writer = check_output(output)
    if writer.animates:
        raise ConvSpecError(
            "poster",
            f"a poster is one still image, written as {_stills()}, not {writer.suffix}",
        )
    return writer


def save_poster(make_drawing: Callable[[], Drawing], frame: int, output: Output) -> Path:
    """Write frame ``frame`` of the drawing ``make_drawing`` builds as a poster: one still."""
    writer = check_poster_output(output)
    request = Request(output, writer, (frame,), 1, "use a smaller scale")
    return save_drawing(make_drawing, request)


def save_drawing(
    make_drawing: Callable[[], Drawing], request: Request, stream: BinaryIO | None = None
) -> Path:
    """Build the drawing, check the size of a raster strip, and write the file.

    To ``request.output.path``, atomically (a failure leaves no file and the old one intact),
    or to ``stream`` in the format of the path's suffix. Returns the path.
    """
    drawing = make_drawing()
    writer, indices, columns = request.writer, request.indices, request.columns
    output = request.output
    if not (writer.animates or writer.vector) and len(indices) > 1:
        from convanim.drawing import strip_size

        width, height = strip_size(len(indices), drawing.size, columns)
        if width * height > MAX_STRIP_PIXELS:
            raise ConvSpecError(
                # Blame --columns only when it was given: the frames' size is not its doing.
                "columns" if output.columns is not None else "output",
                f"the strip would be {width}x{height} pixels, over the limit of "
                f"{MAX_STRIP_PIXELS:,}; {request.strip_advice}",
            )
    if output.alt is not None:
        drawing = _Described(drawing, output.alt)
    if output.progress is not None:
        drawing = _Reporting(drawing, len(indices), output.progress)
    stream = stream or output.stream
    target = output.path if stream is None else stream
    write_drawing(target, writer, drawing, indices, columns, output.frame_ms, output.stamp)
    return output.path


class _Described:
    """A drawing with the figure's description as its ``alt`` (see ``convanim.drawing``)."""

    def __init__(self, drawing: Drawing, alt: str) -> None:
        self._drawing, self.alt = drawing, alt

    def __getattr__(self, name: str) -> Any:
        return getattr(self._drawing, name)


class _Reporting:
    """A drawing that tells ``progress`` (done, total) after each frame it draws."""

    def __init__(self, drawing: Drawing, total: int, progress: Callable[[int, int], None]):
        self._drawing, self._total, self._progress, self._done = drawing, total, progress, 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._drawing, name)

    def _tell(self) -> None:
        self._done = min(self._done + 1, self._total)
        self._progress(self._done, self._total)

    def draw(self, index: int) -> Any:
        box = self._drawing.draw(index)
        self._tell()
        return box

    def render(self, index: int) -> Any:
        pixels = self._drawing.render(index)
        self._tell()
        return pixels

    def vector(self, indices: Sequence[int], columns: int) -> Any:
        figure = self._drawing.vector(indices, columns)
        self._progress(self._total, self._total)
        return figure


# -- the convolution -------------------------------------------------------------------------


def check_limits(spec: ConvSpec[Any, Any], max_frames: int | None = MAX_FRAMES) -> None:
    """Refuse, without building anything, a spec too large to render in reasonable time.

    ``max_frames`` None: one frame is drawn, only the grid's size matters. A 1-D spec's
    messages name no axis. A 3-D spec's slices must be few enough and small enough to read.
    """
    if spec.dims == 3:
        _check_volume(spec, max_frames)
        return
    one_d = spec.dims == 1
    if max_frames is not None and spec.frame_count > max_frames:
        rows, cols = spec.as_2d().output_size
        size = f"length {cols}" if one_d else f"{rows}x{cols}"
        raise ConvSpecError(
            "max_frames",
            f"the output is {size}, {spec.frame_count:,} frames, over the limit of "
            f"{max_frames:,}; use a smaller input or larger stride, or raise --max-frames",
        )
    rows, cols = spec.as_2d().drawn_size
    if max(rows, cols) > MAX_GRID:
        size, limit = (
            (f"{cols} cells", f"{MAX_GRID}")
            if one_d
            else (f"{rows}x{cols} cells", f"{MAX_GRID} per side")
        )
        raise ConvSpecError(
            "input_size",
            f"the drawn grid is {size}, over the limit of {limit}; "
            "use a smaller input, padding or stride",
        )


def _check_volume(spec: ConvSpec[Any, Any], max_frames: int | None) -> None:
    depth, rows, cols = spec.output_size
    if max_frames is not None and spec.frame_count > max_frames:
        raise ConvSpecError(
            "max_frames",
            f"the output is {depth}x{rows}x{cols}, {spec.frame_count:,} frames, over the limit "
            f"of {max_frames:,}; use a smaller input or larger stride, or raise --max-frames",
        )
    drawn_depth, drawn_rows, drawn_cols = spec.drawn_size
    if max(drawn_depth, depth) > MAX_SLICES:
        which = "drawn input volume" if drawn_depth >= depth else "output volume"
        raise ConvSpecError(
            "input_size",
            f"the {which} has {max(drawn_depth, depth)} depth slices, over the limit of "
            f"{MAX_SLICES} a 3-D figure shows readably; use a smaller depth, padding or stride",
        )
    if max(drawn_rows, drawn_cols, rows, cols) > MAX_SLICE_SIDE:
        big = (
            (drawn_rows, drawn_cols)
            if max(drawn_rows, drawn_cols) >= max(rows, cols)
            else (
                rows,
                cols,
            )
        )
        which = "a drawn input slice" if big == (drawn_rows, drawn_cols) else "an output slice"
        raise ConvSpecError(
            "input_size",
            f"{which} is {big[0]}x{big[1]} cells, over the limit of {MAX_SLICE_SIDE} per side "
            "a 3-D figure shows readably; use a smaller input, padding or stride",
        )


def _conv_request(spec: ConvSpec[Any, Any], output: Output) -> Request:
    check_output(output)  # again in check_request: cheap, and the spec's limits come between
    check_limits(spec, output.max_frames if output.frame is None else None)
    cols = spec.output_size[-1]  # one row of frames per output row
    if spec.dims == 1:
        note = "frame j: output cell j"
    elif spec.dims == 3:
        rows = spec.output_size[1]
        note = (
            f"the frame of output cell (depth, row, col) is (depth * {rows} + row) * {cols} + col"
        )
    else:
        note = f"the frame of output cell (row, col) is row * {cols} + col"
    return check_request(
        output,
        spec.frame_count,
        cols,
        frame_note=note,
        strip_advice="write a .gif, one --frame, or use a smaller --scale",
    )


def check_output_request(spec: ConvSpec[Any, Any], output: Output) -> str:
    """Check an output request against a spec without rendering; returns the extension."""
    return _conv_request(spec, output).writer.suffix


def save(
    spec: ConvSpec[Any, Any],
    output: Output,
    options: RenderOptions | None = None,
    worked: Worked | None = None,
) -> Path:
    """Render ``spec`` to ``output.path`` (.gif animation; .png, .svg or .pdf strip or frame).

    With ``worked`` (see ``convanim.values.worked``) the frames show the numbers.
    """
    request = _conv_request(spec, output)  # before matplotlib's import: refusals are quick

    def drawing() -> Drawing:
        if spec.dims == 3:  # drawn as its depth slices
            from convanim.volume_render import VolumeAnimation

            return VolumeAnimation(spec, options, worked)

        from convanim.drawing import AnimationDrawing
        from convanim.render import Animation

        return AnimationDrawing(Animation(spec, options, worked))

    return save_drawing(drawing, request)


# -- receptive fields ------------------------------------------------------------------------

RF_STRIP_ADVICE = "write a .gif, one frame, or use a smaller scale"


def save_rf(
    layers: Iterable[Mapping[str, Any]],
    output: Output,
    options: RenderOptions | None = None,
    *,
    dims: int = 2,
    input_size: int | tuple[int, int] | None = None,
    output_unit: int | tuple[int, int] | None = None,
) -> Path:
    """Draw a stack's receptive fields to ``output.path``; every check comes before any write.

    2-D: a ``FieldStrip``: a .gif (one frame per layer), or a .png, .svg or .pdf strip of
    every panel (``output.columns`` panels to a row, default all in one row; ``output.frame``
    picks one panel). ``output_unit`` is a (row, col) unit of every level (default: each
    one's centre). 1-D: a ``DependencyDiagram``: a .gif (one frame per output unit), or a
    .png, .svg or .pdf of one output unit's tree, ``output_unit`` or ``output.frame``
    (default: the last unit). ``output.stamp`` goes into the file as the writers put it.
    Errors are ``ConvSpecError`` (``LayerSpecError`` for a layer) naming the parameter.
    """
    writer = check_output(output)
    if dims not in (1, 2):
        raise ConvSpecError("dims", f"got {dims!r}; expected 1 or 2")
    if dims == 2:
        return _save_rf_2d(layers, output, options, input_size, output_unit)
    if output.columns is not None:
        raise ConvSpecError(
            "columns", f"got {output.columns}; expected none: a 1-D diagram is one frame per file"
        )
    if output_unit is not None and writer.animates:
        raise ConvSpecError(
            "output_unit",
            f"got {output_unit!r}; a .gif shows every output unit in turn, a .png one of them",
        )
    if output_unit is not None and output.frame is not None:
        raise ConvSpecError(
            "frame", f"got {output.frame} and output_unit {output_unit!r}; give one of them"
        )
    if input_size is not None and not isinstance(input_size, int):
        raise ConvSpecError("input_size", f"got {input_size!r}; a 1-D stack takes an integer >= 1")
    from convanim.rf_render import DependencyDiagram

    diagram = DependencyDiagram(layers, input_size, options)
    units = diagram.frame_count
    if not writer.animates and output.frame is None:  # a still shows one unit: the last by default
        unit = diagram.unit_index(units - 1 if output_unit is None else output_unit)
        output = replace(output, frame=unit)
    request = check_request(
        output, units, 1, frame_note="frame i: output unit i", strip_advice=RF_STRIP_ADVICE
    )
    return save_drawing(lambda: diagram, request)


def _save_rf_2d(
    layers: Iterable[Mapping[str, Any]],
    output: Output,
    options: RenderOptions | None,
    input_size: int | tuple[int, int] | None,
    output_unit: int | tuple[int, int] | None,
) -> Path:
    from convanim.rf_render import FieldStrip

    strip = FieldStrip(layers, input_size, options, dims=2, output_unit=output_unit)
    count = strip.frame_count
    if output.columns is not None:  # a row holds at most every panel
        output = replace(output, columns=min(output.columns, count))
    request = check_request(
        output, count, count, frame_note="frame i: layer i + 1", strip_advice=RF_STRIP_ADVICE
    )
    return save_drawing(lambda: strip, request)
