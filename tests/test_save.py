"""Tests for the one save (``convanim.animate``): its checks, in one place for every kind.

``check_request`` refuses before anything is drawn, ``save_drawing`` before anything is
written; ``save`` (convolutions) and ``save_rf`` (receptive fields) call them.
"""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from test_formats import Blocks, files_in

from convanim.animate import (
    MAX_STRIP_PIXELS,
    MAX_VECTOR_FRAMES,
    Output,
    check_output,
    check_output_request,
    check_request,
    save,
    save_drawing,
    save_rf,
)
from convanim.drawing import Drawing, strip_size
from convanim.errors import ConvSpecError
from convanim.formats import SUFFIXES
from convanim.geometry import ConvSpec
from convanim.rf_render import DependencyDiagram, FieldStrip

NOTE = "frame i: block i"
ADVICE = "draw fewer blocks"
WAVENET = [{"kernel_size": 2, "dilation": d, "padding": "causal"} for d in (1, 2, 4)]
LAYERS = [{"kernel_size": 3, "dilation": d, "padding": "same"} for d in (1, 2, 4)]


def request(tmp_path: Path, name: str, count: int = 9, **output: Any) -> Any:
    return check_request(
        Output(tmp_path / name, **output), count, 3, frame_note=NOTE, strip_advice=ADVICE
    )


# -- what is written --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "output", "indices", "columns"),
    [
        ("x.gif", {}, tuple(range(9)), 3),
        ("x.png", {}, tuple(range(9)), 3),
        ("x.png", {"columns": 4}, tuple(range(9)), 4),
        ("x.png", {"columns": 20}, tuple(range(9)), 20),  # as asked: empty slots
        ("x.svg", {"frame": 8}, (8,), 1),
        ("x.pdf", {"frame": 0, "columns": 5}, (0,), 1),
    ],
)
def test_request_picks_the_frames_and_the_columns(
    tmp_path: Path, name: str, output: dict[str, Any], indices: tuple[int, ...], columns: int
) -> None:
    checked = request(tmp_path, name, **output)
    assert (checked.indices, checked.columns) == (indices, columns)
    assert checked.writer.suffix == Path(name).suffix


def test_save_drawing_writes_to_a_stream_what_it_writes_to_the_path(tmp_path: Path) -> None:
    checked = request(tmp_path, "x.gif", count=4, stamp="abc")
    stream = io.BytesIO()
    save_drawing(Blocks, checked, stream)
    assert files_in(tmp_path) == {}  # the stream, not the path
    path = save_drawing(Blocks, checked)
    assert path.read_bytes() == stream.getvalue()


# -- refused before drawing -------------------------------------------------------------------

SUPPORTED = f"the supported extensions are {', '.join(SUFFIXES)}"
FRAME_MS = "expected a multiple of 10 from 20 to 655350 (GIF stores hundredths of a second)"
OVER = "9 frames, over the limit of 8; use a smaller input, or raise --max-frames"

REFUSED: list[tuple[str, dict[str, Any], str, str]] = [
    # (file name, Output keywords, parameter, message)
    ("x.jpg", {}, "output", f"got '{{tmp}}/x.jpg'; {SUPPORTED}"),
    ("missing/x.png", {}, "output", "got '{tmp}/missing/x.png'; folder '{tmp}/missing' does not exist"),  # noqa: E501
    ("x.gif", {"frame_ms": 15}, "frame_ms", f"got 15; {FRAME_MS}"),
    ("x.gif", {"frame_ms": 10}, "frame_ms", f"got 10; {FRAME_MS}"),
    ("x.gif", {"frame": 0}, "frame", "got 0; a single frame is written as .png, .svg or .pdf"),
    ("x.png", {"frame": 9}, "frame", f"got 9; expected 0 to 8 ({NOTE})"),
    ("x.svg", {"frame": -1}, "frame", f"got -1; expected 0 to 8 ({NOTE})"),
    ("x.png", {"columns": 0}, "columns", "got 0; expected an integer >= 1"),
    ("x.gif", {"max_frames": 8}, "max_frames", f"the animation would have {OVER}"),
    ("x.png", {"max_frames": 8}, "max_frames", f"the strip would have {OVER}"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "output", "param", "message"), REFUSED)
def test_request_refusals(
    tmp_path: Path, name: str, output: dict[str, Any], param: str, message: str
) -> None:
    with pytest.raises(ConvSpecError) as error:
        request(tmp_path, name, **output)
    assert error.value.param == param
    assert error.value.detail == message.format(tmp=tmp_path)


def test_one_frame_is_within_every_frame_limit(tmp_path: Path) -> None:
    assert request(tmp_path, "x.png", frame=3, max_frames=1).indices == (3,)
    assert request(tmp_path, "x.svg", MAX_VECTOR_FRAMES + 1, frame=0).indices == (0,)


@pytest.mark.parametrize("suffix", [".svg", ".pdf"])
def test_vector_frame_limit(tmp_path: Path, suffix: str) -> None:
    request(tmp_path, f"x{suffix}", MAX_VECTOR_FRAMES)
    with pytest.raises(ConvSpecError) as error:
        request(tmp_path, f"x{suffix}", MAX_VECTOR_FRAMES + 1)
    assert error.value.param == "output"
    assert error.value.detail == (
        f"a vector strip of {MAX_VECTOR_FRAMES + 1} frames is over the limit of "
        f"{MAX_VECTOR_FRAMES}; write one --frame, or a .png or .gif"
    )


def test_checks_before_drawing_import_no_matplotlib(tmp_path: Path) -> None:
    code = (
        "import sys; from convanim.animate import Output, check_output_request;"
        "from convanim.geometry import ConvSpec;"
        f"check_output_request(ConvSpec(5, 3), Output({str(tmp_path / 'x.png')!r}, frame=2));"
        "print('matplotlib' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "False", result.stderr


# -- refused before writing: the strip's pixels -----------------------------------------------


@pytest.mark.parametrize(("columns", "param"), [(None, "output"), (3, "columns")])
def test_strip_pixel_limit_blames_what_was_given(
    tmp_path: Path, columns: int | None, param: str
) -> None:
    size = (3000, 3000)  # nine frames: 81 million pixels
    width, height = strip_size(9, size, 3)
    assert width * height > MAX_STRIP_PIXELS
    checked = request(tmp_path, "x.png", columns=columns)

    def huge() -> Drawing:
        return Blocks(9, size)

    with pytest.raises(ConvSpecError) as error:
        save_drawing(huge, checked)
    assert error.value.param == param
    assert error.value.detail == (
        f"the strip would be {width}x{height} pixels, over the limit of 64,000,000; {ADVICE}"
    )
    assert files_in(tmp_path) == {}
    save_drawing(huge, request(tmp_path, "x.png", frame=0))  # one frame is not a strip


# -- the kinds: their own words -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("output", "message"),
    [
        ({"frame": 9}, "got 9; expected 0 to 8 (the frame of output cell (row, col) is row * 3 + col)"),  # noqa: E501
        ({"max_frames": 8}, "the output is 3x3, 9 frames, over the limit of 8; use a smaller input or larger stride, or raise --max-frames"),  # noqa: E501
    ],
)  # fmt: skip
def test_conv_messages(tmp_path: Path, output: dict[str, Any], message: str) -> None:
    with pytest.raises(ConvSpecError) as error:
        check_output_request(
            ConvSpec(5, 3, stride=2, padding=1), Output(tmp_path / "x.png", **output)
        )
    assert error.value.detail == message


@pytest.mark.parametrize(
    ("kwargs", "output", "message"),
    [
        ({}, {"frame": 3}, "got 3; expected 0 to 2 (frame i: layer i + 1)"),
        ({"dims": 1}, {"frame": 8}, "got 8; expected 0 to 7 (frame i: output unit i)"),
        ({"dims": 1}, {"columns": 2}, "got 2; expected none: a 1-D diagram is one frame per file"),
    ],
)  # fmt: skip
def test_rf_messages(
    tmp_path: Path, kwargs: dict[str, Any], output: dict[str, Any], message: str
) -> None:
    layers = WAVENET if kwargs.get("dims") == 1 else LAYERS
    with pytest.raises(ConvSpecError) as error:
        save_rf(layers, Output(tmp_path / "x.png", **output), **kwargs)
    assert error.value.detail == message
    assert files_in(tmp_path) == {}


def test_rf_strip_columns_stop_at_the_panels(tmp_path: Path) -> None:
    """A row holds every panel at most: columns beyond them change nothing."""
    save_rf(LAYERS, Output(tmp_path / "three.png", columns=3))
    save_rf(LAYERS, Output(tmp_path / "ten.png", columns=10))
    assert (tmp_path / "three.png").read_bytes() == (tmp_path / "ten.png").read_bytes()


def test_rf_1d_still_is_one_frame_within_max_frames(tmp_path: Path) -> None:
    path = save_rf(WAVENET, Output(tmp_path / "x.png", max_frames=2), dims=1)
    from PIL import Image

    with Image.open(path) as image:
        assert image.size == DependencyDiagram(WAVENET).size


def test_conv_and_rf_share_the_limits(tmp_path: Path) -> None:
    """The same Output refused the same way by either kind, where neither adds its own words."""
    for name, output in [("x.png", {"columns": 0}), ("x.gif", {"frame": 1})]:
        details = []
        for call in (
            lambda o: save(ConvSpec(5, 3), o),
            lambda o: save_rf(LAYERS, o),
        ):
            with pytest.raises(ConvSpecError) as error:
                call(Output(tmp_path / name, **output))
            details.append((error.value.param, error.value.detail))
        assert details[0] == details[1]
    assert check_output(Output(tmp_path / "x.svg")).vector
    assert FieldStrip(LAYERS).default_columns == 3


CONV1D = ConvSpec(9, 3, dims=1, stride=2)  # output length 4
LARGER = "use a smaller input or larger stride, or raise --max-frames"


@pytest.mark.parametrize(
    ("spec", "output", "param", "message"),
    [
        (CONV1D, {"frame": 4}, "frame", "got 4; expected 0 to 3 (frame j: output cell j)"),
        (CONV1D, {"max_frames": 2}, "max_frames", f"the output is length 4, 4 frames, over the limit of 2; {LARGER}"),  # noqa: E501
        (ConvSpec(300, 3, dims=1), {"frame": 0}, "input_size", "the drawn grid is 300 cells, over the limit of 256; use a smaller input, padding or stride"),  # noqa: E501
    ],
)  # fmt: skip
def test_conv1d_messages_name_no_axis(
    tmp_path: Path, spec: ConvSpec[Any, Any], output: dict[str, Any], param: str, message: str
) -> None:
    with pytest.raises(ConvSpecError) as error:
        check_output_request(spec, Output(tmp_path / "x.png", **output))
    assert (error.value.param, error.value.detail) == (param, message)


def test_conv1d_strip_is_one_row(tmp_path: Path) -> None:
    spec = CONV1D
    from PIL import Image

    from convanim.render import Animation

    with Image.open(save(spec, Output(tmp_path / "x.png"))) as image:
        width, height = Animation(spec).size
        assert image.size == (4 * width + 3 * 8, height)
