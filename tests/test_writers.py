"""Tests for the writers (``convanim.formats``) through ``convanim.animate.save``: files on disk.

GIFs are read back with Pillow, which composites each frame over the previous ones as a
viewer does, and compared with the frames the renderer gives. PNGs are lossless: equal pixels.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from helpers import gif_frames, quantised
from PIL import Image

from convanim.animate import Output, check_output, save
from convanim.formats import atomic_output, writer_for
from convanim.formats import gif as gif_format
from convanim.formats.gif import _patch, encode
from convanim.geometry import ConvSpec, ConvSpecError
from convanim.render import Animation, RenderOptions, render_frames
from convanim.theme import THEMES, hex_rgb

Rgb = tuple[int, int, int]

GAP_PX = 8  # between the frames of a PNG strip
# Per channel: an antialiased edge quantised to the nearest palette blend. Blends sit at
# thirds between an ink and the colour under it, so an edge is at most a sixth of the way off.
EDGE_TOLERANCE = 43

PADDING_STRIDES = ConvSpec(5, 3, stride=2, padding=1)  # output 3x3: 9 frames
WIDE = ConvSpec((4, 5), 3)  # output 2x3: 6 frames, more columns than rows


def files_in(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (hidden ones included) and its bytes."""
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def gif_blocks(data: bytes) -> dict[str, Any]:
    """The structure of a GIF file: its global colour table and its image descriptors."""
    assert data[:6] in (b"GIF87a", b"GIF89a")
    width, height, packed = struct.unpack("<HHB", data[6:11])
    has_global = bool(packed & 0x80)
    position = 13 + (3 << ((packed & 7) + 1) if has_global else 0)
    images: list[dict[str, int | bool]] = []

    def skip_sub_blocks(position: int) -> int:
        while data[position]:
            position += data[position] + 1
        return position + 1

    while data[position] != 0x3B:  # trailer
        introducer = data[position]
        if introducer == 0x21:  # extension: label, then sub-blocks
            position = skip_sub_blocks(position + 2)
        elif introducer == 0x2C:  # image descriptor
            left, top, w, h, flags = struct.unpack("<HHHHB", data[position + 1 : position + 10])
            images.append(
                {"left": left, "top": top, "width": w, "height": h, "local": bool(flags & 0x80)}
            )
            position += 10
            if flags & 0x80:
                position += 3 << ((flags & 7) + 1)
            position = skip_sub_blocks(position + 1)  # after the LZW minimum code size
        else:
            raise AssertionError(f"unexpected block 0x{introducer:02x} at byte {position}")
    assert position == len(data) - 1, "bytes after the GIF trailer"
    return {"size": (width, height), "global_palette": has_global, "images": images}


@pytest.fixture(scope="module")
def padding_strides_gif(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("gif") / "padding_strides.gif"
    assert save(PADDING_STRIDES, Output(path)) == path
    return path


# -- GIF ----------------------------------------------------------------------------------


def test_gif_frames_and_loop(padding_strides_gif: Path) -> None:
    with Image.open(padding_strides_gif) as image:
        assert image.format == "GIF"
        assert image.n_frames == PADDING_STRIDES.frame_count == 9
        assert image.info["loop"] == 0  # forever
        assert image.size == Animation(PADDING_STRIDES).size


def test_gif_default_duration(padding_strides_gif: Path) -> None:
    with Image.open(padding_strides_gif) as image:
        durations = []
        for index in range(image.n_frames):
            image.seek(index)
            durations.append(image.info["duration"])
    assert durations == [1000] * 9


@pytest.mark.parametrize("frame_ms", [20, 250, 1500])
def test_gif_custom_duration(tmp_path: Path, frame_ms: int) -> None:
    spec = ConvSpec(4, 3)  # 4 frames
    path = tmp_path / "x.gif"
    save(spec, Output(path, frame_ms=frame_ms))
    with Image.open(path) as image:
        durations = []
        for index in range(image.n_frames):
            image.seek(index)
            durations.append(image.info["duration"])
    assert durations == [frame_ms] * spec.frame_count


def test_gif_of_one_frame(tmp_path: Path) -> None:
    spec = ConvSpec(3, 3)
    path = tmp_path / "x.gif"
    save(spec, Output(path, frame_ms=500))
    with Image.open(path) as image:
        assert image.n_frames == 1
        assert image.info["duration"] == 500
    (decoded,) = gif_frames(path)
    rendered = next(iter(render_frames(spec)))
    assert np.abs(decoded.astype(int) - rendered.astype(int)).max() <= EDGE_TOLERANCE


def test_gif_frames_share_the_global_palette(padding_strides_gif: Path) -> None:
    blocks = gif_blocks(padding_strides_gif.read_bytes())
    assert blocks["global_palette"]
    assert blocks["size"] == Animation(PADDING_STRIDES).size
    assert len(blocks["images"]) == PADDING_STRIDES.frame_count
    assert [image["local"] for image in blocks["images"]] == [False] * 9
    width, height = blocks["size"]
    for image in blocks["images"]:
        assert image["left"] + image["width"] <= width
        assert image["top"] + image["height"] <= height


GIF_CASES = {
    "oblique-solarized": (PADDING_STRIDES, RenderOptions()),
    "flat-dark": (PADDING_STRIDES, RenderOptions(view="flat", theme="dark")),
    "transposed-labels": (
        ConvSpec(2, 3, stride=2, transposed=True),
        RenderOptions(labels=True),
    ),
    "dilation-half-scale": (ConvSpec(7, 3, dilation=2), RenderOptions(scale=0.5)),
    "flat-double-scale": (ConvSpec((3, 4), 2), RenderOptions(view="flat", scale=2)),
}


@pytest.mark.parametrize("case", list(GIF_CASES))
def test_gif_frames_match_rendered_frames(tmp_path: Path, case: str) -> None:
    spec, options = GIF_CASES[case]
    path = tmp_path / "x.gif"
    save(spec, Output(path), options)
    decoded = gif_frames(path)
    rendered = list(render_frames(spec, options))
    assert len(decoded) == len(rendered) == spec.frame_count
    theme = THEMES[options.theme]
    flat = [
        hex_rgb(colour)
        for colour in (theme.background, theme.input, theme.output, theme.line, theme.padding)
    ]
    for index, (gif, rgb) in enumerate(zip(decoded, rendered, strict=True)):
        assert gif.shape == rgb.shape
        difference = np.abs(gif.astype(int) - rgb.astype(int)).max(axis=2)
        assert difference.max() <= EDGE_TOLERANCE, f"frame {index}"
        # Flat colours (cells, background, lines) come through exactly: only blends move.
        is_flat = np.zeros(rgb.shape[:2], dtype=bool)
        for colour in flat:
            is_flat |= (rgb == colour).all(axis=2)
        assert is_flat.mean() > 0.5
        assert difference[is_flat].max() == 0, f"frame {index}: a flat colour changed"
        assert (difference == 0).mean() > 0.8, f"frame {index}"


@pytest.mark.parametrize("case", list(GIF_CASES))
def test_gif_frames_are_full_redraws_exactly(tmp_path: Path, case: str) -> None:
    """Each frame stored as its changed rectangle decodes to the whole frame drawn afresh,
    pixel for pixel, in the palette's colours: nothing is lost by storing only the changes."""
    spec, options = GIF_CASES[case]
    path = tmp_path / "x.gif"
    save(spec, Output(path), options)
    animation = Animation(spec, options)
    colours, inks = animation.colours(), animation.inks()
    for index, (gif, rgb) in enumerate(
        zip(gif_frames(path), render_frames(spec, options), strict=True)
    ):
        assert np.array_equal(gif, quantised(rgb, colours, inks)), f"frame {index}"


def colour_at(image: np.ndarray, animation: Animation, plane: Any, row: int, col: int) -> Rgb:
    """The most common colour of a 7x7 patch at the centre of a cell (a link may cross it)."""
    x, y = animation.transform.transform(plane.cell(row, col)).mean(axis=0)
    top, left = int(animation.size[1] - y) - 3, int(x) - 3
    patch = image[top : top + 7, left : left + 7].reshape(-1, 3)
    colours, counts = np.unique(patch, axis=0, return_counts=True)
    r, g, b = (int(v) for v in colours[counts.argmax()])
    return r, g, b


def test_gif_cell_centres_are_exact(padding_strides_gif: Path) -> None:
    """Unshaded cells of every decoded frame: exactly input blue, output cyan, white padding."""
    spec = PADDING_STRIDES
    animation = Animation(spec)
    decoded = gif_frames(padding_strides_gif)
    blue, cyan, white = hex_rgb("#268bd2"), hex_rgb("#2aa198"), hex_rgb("#ffffff")
    padding = {(row, col) for row in range(7) for col in range(7)} - {
        (row, col) for row in range(1, 6) for col in range(1, 6)
    }
    for frame in spec.frames():
        image = decoded[frame.index]
        for row in range(7):
            for col in range(7):
                if (row, col) not in frame.taps:
                    want = white if (row, col) in padding else blue
                    got = colour_at(image, animation, animation.input_plane, row, col)
                    assert got == want, (frame.index, row, col)
        for row in range(3):
            for col in range(3):
                if (row, col) != frame.output:
                    got = colour_at(image, animation, animation.output_plane, row, col)
                    assert got == cyan, (frame.index, row, col)


T = 9  # the transparent index in the tests of _patch


@pytest.mark.parametrize(
    ("indices", "changed", "written"),
    [
        # An erased line (1) beside unchanged background (1): one run of 1s.
        ([2, 1, 1, 1, 1, 2], [1, 1, 0, 0, 0, 1], [2, 1, 1, 1, 1, 2]),
        ([2, 1, 1, 1, 1, 2], [1, 0, 0, 0, 1, 1], [2, 1, 1, 1, 1, 2]),
        # Unchanged between changed pixels of other colours: transparent.
        ([2, 1, 1, 1, 3], [1, 0, 0, 0, 1], [2, T, T, T, 3]),
        # Next to another unchanged run: transparent, however the changed neighbour looks.
        ([1, 1, 1, 4, 4, 2], [1, 0, 0, 0, 0, 1], [1, T, T, T, T, 2]),
        # The rectangle's ends bound a run but match no colour.
        ([1, 1, 2], [0, 0, 1], [T, T, 2]),
        ([2, 1, 1], [1, 0, 0], [2, T, T]),
        ([2, 2, 1], [0, 0, 1], [T, T, 1]),
        ([1, 2, 2], [1, 0, 0], [1, T, T]),
        ([1, 1, 1], [0, 0, 0], [T, T, T]),
        ([3, 1, 1], [0, 0, 1], [T, T, 1]),
        ([1, 1, 1], [0, 0, 1], [1, 1, 1]),
    ],
)
def test_patch_keeps_unchanged_runs_only_where_they_join_their_colour(
    indices: list[int], changed: list[int], written: list[int]
) -> None:
    patch = _patch(
        np.array([indices], dtype=np.uint8), np.array([changed], dtype=bool), transparent=T
    )
    assert patch.tolist() == [written]


def test_patch_reads_rows_in_order() -> None:
    """Runs continue from one row's end to the next row's start, as LZW reads them."""
    indices = np.array([[2, 1, 1], [1, 1, 2]], dtype=np.uint8)
    changed = np.array([[1, 1, 0], [0, 0, 1]], dtype=bool)
    assert _patch(indices, changed, transparent=T).tolist() == [[2, 1, 1], [1, 1, 2]]


def test_same_gif_twice_is_byte_identical(tmp_path: Path, padding_strides_gif: Path) -> None:
    again = tmp_path / "again.gif"
    save(PADDING_STRIDES, Output(again))
    assert again.read_bytes() == padding_strides_gif.read_bytes()


def test_a_shared_quantiser_writes_the_same_bytes_as_a_fresh_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Figures of one palette share its quantiser: what one figure taught it (the nearest
    entry of each colour seen) changes nothing in the next figure's file."""
    monkeypatch.setattr(gif_format, "_QUANTISERS", {})
    first, second = ConvSpec(6, 3, dilation=2, padding=1), ConvSpec(5, 3, stride=2)
    save(second, Output(tmp_path / "alone.gif"))
    monkeypatch.setattr(gif_format, "_QUANTISERS", {})
    save(first, Output(tmp_path / "first.gif"))
    (shared,) = gif_format._QUANTISERS.values()
    learnt = np.count_nonzero(shared.table)
    save(second, Output(tmp_path / "after.gif"))
    assert list(gif_format._QUANTISERS.values()) == [shared]  # one palette, one table
    assert np.count_nonzero(shared.table) > learnt  # the second figure had colours of its own
    assert (tmp_path / "after.gif").read_bytes() == (tmp_path / "alone.gif").read_bytes()


def test_quantisers_kept_are_the_most_recently_used(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gif_format, "_QUANTISERS", {})
    palettes = [np.array([[i, 0, 0], [255, 255, 255]], dtype=np.uint8) for i in range(6)]
    first = gif_format.quantiser(palettes[0])
    for palette in palettes[1:4]:
        gif_format.quantiser(palette)
    assert gif_format.quantiser(palettes[0]) is first  # used again: now the most recent
    gif_format.quantiser(palettes[4])
    gif_format.quantiser(palettes[5])
    kept = {key[0] for key in gif_format._QUANTISERS}
    assert len(kept) == gif_format.KEPT_QUANTISERS and kept == {0, 3, 4, 5}
    assert gif_format.quantiser(palettes[0]) is first


# -- PNG ----------------------------------------------------------------------------------


def read_png(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        assert image.format == "PNG"
        return np.asarray(image.convert("RGB"))


@pytest.mark.parametrize(
    ("columns", "grid"),
    [(None, (2, 3)), (1, (6, 1)), (4, (2, 4)), (6, (1, 6))],
    ids=["default", "1", "4", "6"],
)
def test_png_strip_layout(tmp_path: Path, columns: int | None, grid: tuple[int, int]) -> None:
    spec = WIDE
    path = tmp_path / "strip.png"
    save(spec, Output(path, columns=columns))
    strip = read_png(path)
    width, height = Animation(spec).size
    rows, cols = grid
    assert strip.shape == (
        rows * height + (rows - 1) * GAP_PX,
        cols * width + (cols - 1) * GAP_PX,
        3,
    )
    background = np.array(hex_rgb("#ffffff"), dtype=np.uint8)
    covered = np.zeros(strip.shape[:2], dtype=bool)
    for index, frame in enumerate(render_frames(spec)):
        row, col = divmod(index, cols)
        top, left = row * (height + GAP_PX), col * (width + GAP_PX)
        tile = strip[top : top + height, left : left + width]
        assert np.array_equal(tile, frame), f"frame {index} at row {row}, column {col}"
        covered[top : top + height, left : left + width] = True
    assert (strip[~covered] == background).all()  # gaps and empty slots: background


def test_png_strip_dark_background(tmp_path: Path) -> None:
    path = tmp_path / "strip.png"
    save(WIDE, Output(path), RenderOptions(theme="dark"))
    strip = read_png(path)
    width, height = Animation(WIDE).size
    gap = strip[:height, width : width + GAP_PX]
    assert (gap == hex_rgb(THEMES["dark"].background)).all()


@pytest.mark.parametrize("index", [0, 4, 8])
def test_single_frame_png_equals_rendered_frame(tmp_path: Path, index: int) -> None:
    path = tmp_path / "frame.png"
    save(PADDING_STRIDES, Output(path, frame=index))
    expected = next(iter(render_frames(PADDING_STRIDES, frames=[index])))
    assert np.array_equal(read_png(path), expected)


def test_same_png_twice_is_byte_identical(tmp_path: Path) -> None:
    for name in ("a.png", "b.png"):
        save(WIDE, Output(tmp_path / name))
        save(WIDE, Output(tmp_path / f"frame-{name}", frame=3))
    assert (tmp_path / "a.png").read_bytes() == (tmp_path / "b.png").read_bytes()
    assert (tmp_path / "frame-a.png").read_bytes() == (tmp_path / "frame-b.png").read_bytes()


# -- atomic writes ----------------------------------------------------------------------------


class FailingSpec(ConvSpec):
    """A spec whose frames run out with an error: the third frame raises ``error``."""

    error: BaseException = RuntimeError("rendering failed")

    def frames(self) -> Iterator[Any]:
        for frame in super().frames():
            if frame.index == 2:
                raise type(self).error
            yield frame


class InterruptedSpec(FailingSpec):
    error = KeyboardInterrupt()


@pytest.mark.parametrize("existing", [False, True], ids=["new", "existing"])
@pytest.mark.parametrize("name", ["x.gif", "x.png"])
def test_failure_mid_way_leaves_no_file(tmp_path: Path, name: str, existing: bool) -> None:
    path = tmp_path / name
    if existing:
        path.write_bytes(b"an earlier animation")
    before = files_in(tmp_path)
    with pytest.raises(RuntimeError, match="rendering failed"):
        save(FailingSpec(5, 3, stride=2, padding=1), Output(path))
    assert files_in(tmp_path) == before  # no temporary file, the old file untouched


def test_interrupt_mid_way_leaves_no_file(tmp_path: Path) -> None:
    path = tmp_path / "x.gif"
    path.write_bytes(b"an earlier animation")
    with pytest.raises(KeyboardInterrupt):
        save(InterruptedSpec(5, 3, stride=2, padding=1), Output(path))
    assert files_in(tmp_path) == {"x.gif": b"an earlier animation"}


def test_gif_without_frames_leaves_no_file(tmp_path: Path) -> None:
    with pytest.raises(ConvSpecError) as error, atomic_output(tmp_path / "x.gif") as stream:
        encode(stream, [], ["#ffffff", "#000000"])
    assert error.value.param == "frames"
    assert files_in(tmp_path) == {}
    assert writer_for(".gif").animates


def test_written_file_has_ordinary_permissions(tmp_path: Path) -> None:
    """Not the 0600 of a temporary file: what open() would give under the umask."""
    umask = os.umask(0o022)
    try:
        save(ConvSpec(4, 3), Output(tmp_path / "x.gif"))
        save(ConvSpec(4, 3), Output(tmp_path / "x.png", frame=0))
    finally:
        os.umask(umask)
    assert (tmp_path / "x.gif").stat().st_mode & 0o777 == 0o644
    assert (tmp_path / "x.png").stat().st_mode & 0o777 == 0o644


def test_overwrites_an_existing_file(tmp_path: Path) -> None:
    path = tmp_path / "x.png"
    path.write_bytes(b"old")
    save(ConvSpec(4, 3), Output(path, frame=0))
    assert files_in(tmp_path).keys() == {"x.png"}
    assert read_png(path).shape[2] == 3


# -- checks before writing ----------------------------------------------------------------------


def test_check_output_accepts_gif_and_png(tmp_path: Path) -> None:
    assert check_output(Output(tmp_path / "a.gif")).suffix == ".gif"
    assert check_output(Output(tmp_path / "a.png")).suffix == ".png"
    assert check_output(Output(tmp_path / "a.GIF")).suffix == ".gif"


@pytest.mark.parametrize("name", ["a.bmp", "a", "a.gif.txt", "missing/a.gif"])
def test_check_output_refuses(tmp_path: Path, name: str) -> None:
    with pytest.raises(ConvSpecError) as error:
        check_output(Output(tmp_path / name))
    assert error.value.param == "output"
    assert name in str(error.value)


@pytest.mark.parametrize(
    ("output", "param"),
    [
        ({"name": "x.gif", "frame_ms": 15}, "frame_ms"),
        ({"name": "x.gif", "frame_ms": 10}, "frame_ms"),
        ({"name": "x.gif", "frame": 0}, "frame"),
        ({"name": "x.png", "frame": 9}, "frame"),
        ({"name": "x.png", "frame": -1}, "frame"),
        ({"name": "x.png", "columns": 0}, "columns"),
        ({"name": "x.gif", "max_frames": 8}, "max_frames"),
        ({"name": "x.bmp"}, "output"),
    ],
)
def test_save_refuses_before_writing(tmp_path: Path, output: dict[str, Any], param: str) -> None:
    path = tmp_path / output.pop("name")
    with pytest.raises(ConvSpecError) as error:
        save(PADDING_STRIDES, Output(path, **output))
    assert error.value.param == param
    assert files_in(tmp_path) == {}
