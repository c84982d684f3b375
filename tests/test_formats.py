"""Tests for ``convanim.formats``: the registry, writing to streams and paths, stamps, atomicity.

Most tests draw ``Blocks``, a drawing in numpy alone, so that they test the writers and not a
figure; the vector formats draw a real receptive-field strip (they need matplotlib figures).
"""

from __future__ import annotations

import io
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from helpers import gif_frames
from PIL import Image

from convanim.drawing import STRIP_GAP_PX, AnimationDrawing, Box, Drawing
from convanim.errors import ConvSpecError
from convanim.formats import (
    MIME_TYPES,
    SUFFIXES,
    WRITERS,
    Writer,
    read_stamp,
    write_drawing,
    writer_for,
)
from convanim.geometry import ConvSpec
from convanim.rf_render import DependencyDiagram, FieldStrip
from convanim.theme import hex_rgb

LAYERS = [{"kernel_size": 3, "dilation": d, "padding": "same"} for d in (1, 2)]
WAVENET = [{"kernel_size": 2, "dilation": d, "padding": "causal"} for d in (1, 2, 4)]

# What the formats were before convanim.formats, as convanim.writers and the Sphinx extension
# listed them: the same content, in the same order.
LEGACY_WRITERS = {
    ".gif": "animation",
    ".png": "strip of all frames, or one frame with --frame",
    ".svg": "vector strip, or one frame",
    ".pdf": "vector strip, or one frame",
}
LEGACY_MIME_TYPES = {
    ".gif": "image/gif",
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".pdf": "application/pdf",
}
# The formats added since, in the order they were added.
ADDED_MIME_TYPES = {".webp": "image/webp", ".apng": "image/apng", ".mp4": "video/mp4"}
MIME = {**LEGACY_MIME_TYPES, **ADDED_MIME_TYPES}
ANIMATED = (".gif", ".webp", ".apng", ".mp4")
# What a file starts with (an MP4: its first box's size, then its type).
MAGIC = {
    ".gif": b"GIF89a",
    ".png": b"\x89PNG",
    ".svg": b"<?xml",
    ".pdf": b"%PDF",
    ".webp": b"RIFF",
    ".apng": b"\x89PNG",
    ".mp4": b"ftyp",
    ".html": b"<!DOCTYP",
}


class Blocks:
    """A drawing in numpy alone: frame i is a white canvas with a blue square at column i."""

    def __init__(self, frame_count: int = 4, size: tuple[int, int] = (60, 20)) -> None:
        self.frame_count = frame_count
        self.size = size
        self.background = "#ffffff"
        self.default_columns = frame_count
        width, height = size
        self.canvas = np.full((height, width, 4), 255, dtype=np.uint8)
        self.drawn: list[int] = []

    def colours(self) -> list[str]:
        return ["#ffffff", "#268bd2"]

    def inks(self) -> list[str] | None:
        return None

    def _square(self, index: int) -> Box:
        left = 2 + 10 * (index % 5)
        return 5, 15, left, left + 10

    def draw(self, index: int) -> Box:
        if not 0 <= index < self.frame_count:
            raise IndexError(index)
        self.drawn.append(index)
        self.canvas[...] = 255
        top, bottom, left, right = self._square(index)
        self.canvas[top:bottom, left:right, :3] = hex_rgb("#268bd2")
        boxes = [self._square(i) for i in (index, index - 1) if i >= 0]
        return (
            min(b[0] for b in boxes),
            max(b[1] for b in boxes),
            min(b[2] for b in boxes),
            max(b[3] for b in boxes),
        )

    def rgba(self) -> np.ndarray:
        return self.canvas

    def render(self, index: int) -> np.ndarray:
        self.draw(index)
        return np.ascontiguousarray(self.canvas[:, :, :3])

    def vector(self, indices: Sequence[int], columns: int) -> Any:
        raise AssertionError("Blocks has no vector figure")


class Failing(Blocks):
    """Blocks whose frame ``at`` raises ``error`` when drawn."""

    def __init__(self, error: BaseException, at: int = 2) -> None:
        super().__init__()
        self.error, self.at = error, at

    def draw(self, index: int) -> Box:
        if index == self.at:
            raise self.error
        return super().draw(index)


class FailingStrip(FieldStrip):
    """A receptive-field strip whose second panel fails in the vector figure."""

    def _add_frame(self, sheet: Any, index: int) -> None:
        if index == 1:
            raise RuntimeError("drawing failed")
        super()._add_frame(sheet, index)


def drawing_for(suffix: str) -> Drawing:
    return FieldStrip(LAYERS) if writer_for(suffix).vector else Blocks()


def files_in(folder: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


# -- the registry ------------------------------------------------------------------------------


def test_writers_lists_every_format_as_before() -> None:
    """The formats of earlier releases first, as they were listed, then the new ones."""
    assert list(WRITERS) == list(MIME_TYPES) == list(SUFFIXES)
    assert dict(list(WRITERS.items())[: len(LEGACY_WRITERS)]) == LEGACY_WRITERS
    assert {s: MIME_TYPES[s] for s in MIME if s in MIME_TYPES} == MIME


def test_legacy_module_lists_the_same_formats() -> None:
    import convanim
    import convanim.writers

    assert convanim.writers.WRITERS == convanim.WRITERS == WRITERS
    assert LEGACY_WRITERS.items() <= convanim.writers.WRITERS.items()


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_every_suffix_has_a_writer(suffix: str) -> None:
    writer: Writer = writer_for(suffix)
    assert writer.suffix == suffix
    assert writer.mime_type == MIME.get(suffix, writer.mime_type)
    assert writer.what == LEGACY_WRITERS.get(suffix, writer.what)
    assert writer.animates == (suffix in ANIMATED) or suffix not in MIME
    assert writer.vector == (suffix in (".svg", ".pdf"))
    assert writer_for(f"figure{suffix.upper()}") is writer
    assert writer_for(Path("some/folder") / f"x{suffix}") is writer


@pytest.mark.parametrize("name", ["x.jpg", "x", "x.gif.txt", ".jpg", "GIF"])
def test_unknown_suffix_is_refused_with_the_supported_ones(name: str) -> None:
    with pytest.raises(ConvSpecError) as error:
        writer_for(name)
    assert error.value.param == "output"
    assert str(error.value) == (
        f"output: got '{name}'; the supported extensions are {', '.join(SUFFIXES)}"
    )
    assert ", ".join(SUFFIXES).startswith(".gif, .png, .svg, .pdf, .webp, .apng, .mp4")


def run_python(code: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    return result.stdout.strip()


def test_listing_formats_imports_no_heavy_library() -> None:
    """The command line lists formats in its help: numpy, Pillow and matplotlib stay out."""
    code = (
        "import sys; import convanim.formats as f, convanim.drawing, convanim.writers, "
        "convanim.animate; f.WRITERS; f.MIME_TYPES; f.writer_for('x.gif'); "
        "print(sorted(m for m in ('numpy', 'PIL', 'matplotlib') if m in sys.modules))"
    )
    assert run_python(code) == "[]"


def test_a_writer_module_is_imported_when_used() -> None:
    code = (
        "import sys; from convanim.formats import writer_for; writer_for('x.png'); "
        "print(sorted(m for m in sys.modules if m.startswith('convanim.formats.')))"
    )
    assert run_python(code) == "['convanim.formats.png']"


# -- streams and paths ---------------------------------------------------------------------


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_a_stream_gets_the_bytes_a_path_gets(tmp_path: Path, suffix: str) -> None:
    writer = writer_for(suffix)
    drawing = drawing_for(suffix)
    indices = list(range(drawing.frame_count))
    stream = io.BytesIO()
    write_drawing(stream, writer, drawing, indices, 2, 100, "c0ffee")
    path = tmp_path / f"x{suffix}"
    write_drawing(path, writer, drawing, indices, 2, 100, "c0ffee")
    assert stream.getvalue() == path.read_bytes()
    assert MAGIC[suffix] in stream.getvalue()[:8]
    assert files_in(tmp_path).keys() == {path.name}  # no temporary file left behind


def test_gif_holds_every_frame(tmp_path: Path) -> None:
    drawing = Blocks(5)
    path = tmp_path / "x.gif"
    write_drawing(path, writer_for(path), drawing, [0, 1, 2, 3, 4], 1, 100)
    frames = gif_frames(path)
    assert len(frames) == 5
    for index, frame in enumerate(frames):
        assert np.array_equal(frame, Blocks(5).render(index)), index


@pytest.mark.parametrize(("indices", "columns"), [([0, 1, 2], 2), ([3], 1), ([2, 0], 1)])
def test_png_tiles_the_frames_asked_for(tmp_path: Path, indices: list[int], columns: int) -> None:
    drawing = Blocks()
    path = tmp_path / "x.png"
    write_drawing(path, writer_for(path), drawing, indices, columns)
    with Image.open(path) as image:
        pixels = np.asarray(image.convert("RGB"))
    width, height = drawing.size
    rows = -(-len(indices) // columns)
    assert pixels.shape == (
        rows * height + (rows - 1) * STRIP_GAP_PX,
        columns * width + (columns - 1) * STRIP_GAP_PX,
        3,
    )
    for position, index in enumerate(indices):
        row, col = divmod(position, columns)
        top, left = row * (height + STRIP_GAP_PX), col * (width + STRIP_GAP_PX)
        tile = pixels[top : top + height, left : left + width]
        assert np.array_equal(tile, Blocks().render(index))


def test_animation_adapter_numbers_frames_row_major() -> None:
    from convanim.render import Animation

    spec = ConvSpec((4, 5), 3)
    drawing = AnimationDrawing(Animation(spec))
    assert drawing.frame_count == 6 and drawing.default_columns == 3
    assert drawing.background == "#ffffff"
    frames = list(spec.frames())
    assert np.array_equal(drawing.render(4), Animation(spec).render(frames[4]))


def test_receptive_field_figures_are_drawings() -> None:
    strip, diagram = FieldStrip(LAYERS), DependencyDiagram(WAVENET)
    assert (strip.frame_count, strip.default_columns) == (2, 2)
    assert diagram.default_columns == diagram.frame_count
    for drawing in (strip, diagram):
        assert drawing.background == drawing.theme.background
        assert drawing.render(0).shape == (drawing.size[1], drawing.size[0], 3)


# -- stamps ------------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_stamp_round_trip(tmp_path: Path, suffix: str) -> None:
    writer = writer_for(suffix)
    stamped, plain = tmp_path / f"stamped{suffix}", tmp_path / f"plain{suffix}"
    drawing = drawing_for(suffix)
    write_drawing(stamped, writer, drawing, [0, 1], 2, stamp="0123456789abcdef")
    write_drawing(plain, writer, drawing, [0, 1], 2)
    assert read_stamp(stamped) == writer.read_stamp(stamped) == "0123456789abcdef"
    assert read_stamp(plain) is None


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_stamps_are_stored_as_before(tmp_path: Path, suffix: str) -> None:
    """Bit for bit what earlier releases wrote, so that their files stay current."""
    path = tmp_path / f"x{suffix}"
    write_drawing(path, writer_for(suffix), drawing_for(suffix), [0], 1, stamp="beef")
    data = path.read_bytes()
    stored = {
        ".gif": b"!\xfe\x0dconvanim:beef\x00",  # a comment extension
        ".png": b"tEXtconvanim\x00beef",  # a text chunk
        ".svg": b"<dc:description>convanim:beef</dc:description>",
        ".pdf": b"/Subject (convanim:beef)",
        ".webp": b'<rdf:li xml:lang="x-default">convanim:beef</rdf:li>',  # in an XMP chunk
        ".apng": b"tEXtconvanim\x00beef",  # a text chunk, as a PNG's
        # The comment: moov/udta/meta/ilst, a UTF-8 (type 1) data atom.
        ".mp4": b"\xa9cmt\x00\x00\x00\x1ddata\x00\x00\x00\x01\x00\x00\x00\x00convanim:beef",
        ".html": b'<meta name="convanim" content="convanim:beef">',  # in the page's head
    }
    assert stored[suffix] in data


@pytest.mark.parametrize("suffix", [*SUFFIXES, ".jpg"])
def test_no_stamp_in_files_not_ours(tmp_path: Path, suffix: str) -> None:
    missing = tmp_path / f"missing{suffix}"
    assert read_stamp(missing) is None
    other = tmp_path / f"other{suffix}"
    other.write_bytes(b"not an image, but it says convanim:abc")
    if suffix in (".svg", ".pdf"):  # plain text: a stamp is wherever it is written
        assert read_stamp(other) == "abc"
    else:
        assert read_stamp(other) is None


def test_gif_stamp_is_read_from_its_comment_only(tmp_path: Path) -> None:
    """Image data that happens to spell a stamp is not a stamp."""
    path = tmp_path / "x.gif"
    write_drawing(path, writer_for(path), Blocks(), [0, 1])
    path.write_bytes(path.read_bytes()[:-1] + b"convanim:abc;")
    assert read_stamp(path) is None


# -- atomic files ------------------------------------------------------------------------------


@pytest.mark.parametrize("error", [RuntimeError("drawing failed"), KeyboardInterrupt()])
@pytest.mark.parametrize("existing", [False, True], ids=["new", "existing"])
@pytest.mark.parametrize("suffix", SUFFIXES)
def test_failure_mid_way_leaves_no_file(
    tmp_path: Path, suffix: str, existing: bool, error: BaseException
) -> None:
    path = tmp_path / f"x{suffix}"
    if existing:
        path.write_bytes(b"an earlier figure")
    before = files_in(tmp_path)
    if writer_for(suffix).vector:
        drawing: Drawing = FailingStrip([*LAYERS, *LAYERS])
        error = RuntimeError("drawing failed")
    else:
        drawing = Failing(error)
    with pytest.raises(type(error)):
        write_drawing(path, writer_for(suffix), drawing, [0, 1, 2, 3], 2)
    assert files_in(tmp_path) == before  # no temporary file, the old file untouched


def test_a_stream_is_written_as_it_goes() -> None:
    """A stream is the caller's: a failure leaves what was written (atomicity is the path's)."""
    stream = io.BytesIO()
    with pytest.raises(RuntimeError):
        write_drawing(stream, writer_for(".gif"), Failing(RuntimeError()), [0, 1, 2, 3])
    assert stream.getvalue().startswith(b"GIF89a")


STRIP_FIGURES = [
    ("conv", {"input": 4, "kernel": 3}),
    ("conv", {"input": 4, "kernel": 3, "stride": 2, "padding": 1, "view": "flat"}),
    ("conv", {"input": 4, "kernel": 3, "values": True, "seed": 3, "view": "flat"}),
    ("pool", {"input": 4, "kernel": 2, "stride": 2, "mode": "avg", "values": True}),
    ("rf", {"kernel": [3, 3], "dilation": [1, 2]}),
    ("matrix", {"input": 3, "kernel": 2}),
    ("conv", {"input": [2, 3, 3], "kernel": 2}),
]


@pytest.mark.parametrize(("kind", "options"), STRIP_FIGURES, ids=lambda x: str(x))
def test_a_png_strip_holds_each_frame_exactly_as_drawn_alone(
    tmp_path: Path, kind: str, options: dict[str, Any]
) -> None:
    """The strip draws each frame over the one before (only the boxes that changed are
    copied); each tile must equal that frame rendered alone by a fresh drawing, worked
    numbers (which accumulate) included."""
    from convanim.figures import parse_figure

    figure = parse_figure("x", {"kind": kind, **options})
    figure.render(tmp_path / "strip.png")
    with Image.open(tmp_path / "strip.png") as image:
        strip = np.asarray(image.convert("RGB"))
    frames = figure.declaration.frame_count(figure)
    tiles = []
    for index in range(frames):
        alone = parse_figure("x", {"kind": kind, **options, "frame": index})
        alone.render(tmp_path / f"{index}.png")
        with Image.open(tmp_path / f"{index}.png") as image:
            tiles.append(np.asarray(image.convert("RGB")))
    height, width = tiles[0].shape[:2]
    per_row = (strip.shape[1] + STRIP_GAP_PX) // (width + STRIP_GAP_PX)
    assert per_row >= 1
    for index, tile in enumerate(tiles):
        row, col = divmod(index, per_row)
        top, left = row * (height + STRIP_GAP_PX), col * (width + STRIP_GAP_PX)
        assert np.array_equal(strip[top : top + height, left : left + width], tile), index


@pytest.mark.parametrize("colours", [1, 2, 256, 257, 1500])
def test_png_encoding_is_exact_palette_or_rgb(tmp_path: Path, colours: int) -> None:
    """At most 256 colours: a palette PNG; more: RGB; either way the very same pixels, and a
    stamp that Pillow reads as the text chunk it is."""
    from convanim.formats.png import encode

    rng = np.random.default_rng(colours)
    palette = rng.integers(0, 256, size=(colours, 3), dtype=np.uint8)
    palette[:, 0] = np.arange(colours) % 256  # distinct colours
    palette[:, 1] = np.arange(colours) // 256
    pixels = palette[rng.integers(0, colours, size=(37, 53))]
    pixels.reshape(-1, 3)[:colours] = palette  # every colour present
    path = tmp_path / "x.png"
    with path.open("wb") as stream:
        encode(stream, pixels, stamp="abc123")
    with Image.open(path) as image:
        assert image.mode == ("P" if colours <= 256 else "RGB")
        assert image.text == {"convanim": "abc123"}
        assert np.array_equal(np.asarray(image.convert("RGB")), pixels)


class Speckled(Blocks):
    """Blocks whose frames from ``at`` on also paint a patch of ``colours`` distinct colours:
    a strip that outgrows a palette partway through."""

    def __init__(self, at: int, colours: int = 300, frame_count: int = 5) -> None:
        super().__init__(frame_count=frame_count, size=(60, 40))
        self.at, self.count = at, colours

    def draw(self, index: int) -> Box:
        box = super().draw(index)
        if index >= self.at:
            values = np.arange(self.count)
            patch = np.stack([values % 256, values // 256, np.full_like(values, 7)], axis=1)
            self.canvas[20:35, :20, :3] = patch.reshape(15, 20, 3).astype(np.uint8)
            return (0, 40, 0, 60)
        return box


def _tiled(drawing: Drawing, indices: Sequence[int], columns: int) -> np.ndarray:
    """The strip as it should be: each frame drawn alone, tiled over the background."""
    width, height = drawing.size
    rows = -(-len(indices) // columns)
    strip = np.empty(
        (
            rows * height + (rows - 1) * STRIP_GAP_PX,
            columns * width + (columns - 1) * STRIP_GAP_PX,
            3,
        ),
        dtype=np.uint8,
    )
    strip[:] = hex_rgb(drawing.background)
    for position, index in enumerate(indices):
        row, col = divmod(position, columns)
        top, left = row * (height + STRIP_GAP_PX), col * (width + STRIP_GAP_PX)
        strip[top : top + height, left : left + width] = drawing.render(index)
    return strip


@pytest.mark.parametrize(("at", "mode"), [(99, "P"), (0, "RGB"), (3, "RGB")])
@pytest.mark.parametrize("columns", [1, 2, 5])
def test_a_png_strip_is_a_palette_image_until_it_outgrows_one(
    tmp_path: Path, at: int, mode: str, columns: int
) -> None:
    """A strip of at most 256 colours is written as palette indices, a row of frames at a
    time; one whose frames bring more colours (from the first, or partway) starts again as
    RGB. Either way every tile is its frame exactly."""
    drawing = Speckled(at)
    path = tmp_path / "strip.png"
    indices = [0, 1, 2, 3, 4]
    with path.open("wb") as stream:
        writer_for(".png").write(stream, drawing, indices, columns, 0, "s")
    with Image.open(path) as image:
        assert image.mode == mode
        assert image.text == {"convanim": "s"}
        pixels = np.asarray(image.convert("RGB"))
    assert np.array_equal(pixels, _tiled(Speckled(at), indices, columns))


@pytest.mark.parametrize("at", [99, 0], ids=["palette", "rgb"])
def test_png_strip_bytes_do_not_depend_on_the_threads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, at: int
) -> None:
    """The compressed parts are the rows of frames, whatever the number of threads."""
    from convanim.formats import png

    written = []
    for threads in (1, 2, 3):
        monkeypatch.setattr(png, "_workers", lambda threads=threads: threads)
        stream = io.BytesIO()
        png.write_strip(stream, Speckled(at, frame_count=7), range(7), 2, None)
        written.append(stream.getvalue())
    assert written[0] == written[1] == written[2]


def test_a_png_strip_in_parts_is_one_valid_zlib_stream() -> None:
    """Parts ended by sync flushes, a last empty block and the checksum of all the data: what
    zlib itself decompresses to the filtered rows, checksum checked."""
    import zlib

    from convanim.formats.png import _Deflate

    rng = np.random.default_rng(0)
    parts = [rng.integers(0, 4, size=(50, 4001), dtype=np.uint8) for _ in range(5)]
    deflate = _Deflate(6)
    try:
        for part in parts:
            deflate.add(part)
        data = deflate.finish()
    finally:
        deflate.close()
    assert zlib.decompress(data) == b"".join(part.tobytes() for part in parts)


def test_a_png_strip_that_fails_leaves_no_thread_behind(monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    from convanim.formats import png

    monkeypatch.setattr(png, "_workers", lambda: 2)
    before = threading.active_count()
    drawing = Failing(RuntimeError("drawing failed"), at=3)
    with pytest.raises(RuntimeError, match="drawing failed"):
        png.write_strip(io.BytesIO(), drawing, [0, 1, 2, 3], 1, None)
    assert threading.active_count() == before
