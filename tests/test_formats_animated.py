"""The full-colour animated formats: WebP and APNG (lossless), MP4 (H.264 through FFmpeg).

Round trips decode the files (Pillow for WebP and APNG, FFmpeg for MP4) and compare every
frame with the drawing's own RGB frames: WebP and APNG exactly, MP4 within a small error
(yuv420p halves the colour resolution). Files are written once per module, from a real
convolution figure whose height is odd (381 pixels), so that MP4's padding is exercised.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from convanim.animate import Output, save
from convanim.cli import main
from convanim.drawing import AnimationDrawing, Box
from convanim.errors import ConvSpecError
from convanim.figures import Figure, parse_figure
from convanim.formats import read_stamp, write_drawing, writer_for
from convanim.formats.apng import delay
from convanim.formats.mp4 import EXTRA_MESSAGE, ffmpeg, frame_rate
from convanim.render import Animation
from convanim.rf_render import FieldStrip

ANIMATED = (".webp", ".apng", ".mp4")
LOSSLESS = (".webp", ".apng")
FIGURE = {"input": 5, "kernel": 3, "stride": 2, "padding": 1}  # 9 frames, 394x381 pixels
# MP4: mean absolute difference per channel, out of 255, over every pixel (lines and letters
# blur: yuv420p halves the colour resolution), and over the cells' flat colours, which a
# wrong colour matrix shifts (BT.601 read as BT.709: 5.5).
MAX_MEAN_ERROR, MAX_FLAT_ERROR = 2.0, 3.0


@pytest.fixture(scope="module")
def figure() -> Figure:
    return parse_figure("padding_strides", FIGURE)


@pytest.fixture(scope="module")
def frames(figure: Figure) -> list[np.ndarray]:
    """The drawing's own RGB frames."""
    drawing = AnimationDrawing(Animation(figure.model))
    return [drawing.render(i) for i in range(drawing.frame_count)]


@pytest.fixture(scope="module")
def written(figure: Figure, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The figure rendered once in each format, stamped."""
    folder = tmp_path_factory.mktemp("animated")
    return {suffix: figure.render(folder / f"figure{suffix}") for suffix in ANIMATED}


def decoded(path: Path) -> tuple[list[np.ndarray], list[float], int]:
    """A WebP's or APNG's frames as a viewer shows them (RGB), their durations (ms), loop."""
    pixels, durations = [], []
    with Image.open(path) as image:
        for index in range(image.n_frames):
            image.seek(index)
            pixels.append(np.asarray(image.convert("RGB")))
            durations.append(image.info["duration"])
        loop = image.info["loop"]
    return pixels, durations, loop


def mp4_frames(path: Path, size: tuple[int, int]) -> np.ndarray:
    """Every frame of an MP4 decoded by FFmpeg, (frames, height, width, 3) RGB, its colours
    read as the file's tags say, as a player reads them."""
    width, height = size
    result = subprocess.run(
        [
            *(ffmpeg(), "-v", "error", "-i", str(path)),
            *("-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"),
        ],
        capture_output=True,
        check=True,
    )
    return np.frombuffer(result.stdout, dtype=np.uint8).reshape(-1, height, width, 3)


def mp4_info(path: Path) -> str:
    """What FFmpeg says of a file: its duration, streams and metadata."""
    result = subprocess.run([ffmpeg(), "-hide_banner", "-i", str(path)], capture_output=True)
    return result.stderr.decode()


def flat(rgb: np.ndarray, reach: int = 3) -> np.ndarray:
    """Where a pixel has one colour, not white, with every pixel ``reach`` or fewer away."""
    height, width = rgb.shape[:2]
    inner = rgb[reach : height - reach, reach : width - reach]
    same = (inner != 255).any(axis=2)
    for dy in range(-reach, reach + 1):
        for dx in range(-reach, reach + 1):
            shifted = rgb[reach + dy : height - reach + dy, reach + dx : width - reach + dx]
            same &= (shifted == inner).all(axis=2)
    mask = np.zeros((height, width), dtype=bool)
    mask[reach : height - reach, reach : width - reach] = same
    return mask


def children() -> list[int]:
    """The process ids of this process's children (Linux)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == os.getpid():
                found.append(int(entry.name))
    return found


class Steps:
    """A drawing in numpy alone: a white canvas, frame i a red square at (3i + 1, 2i + 1).

    Odd offsets (WebP stores even ones), and ``repeat`` draws frame i like frame i - 1.
    """

    def __init__(self, frame_count: int = 4, size: tuple[int, int] = (31, 17), repeat: int = -1):
        self.frame_count, self.size, self.repeat = frame_count, size, repeat
        self.background = "#ffffff"
        self.default_columns = frame_count
        width, height = size
        self.canvas = np.full((height, width, 4), 255, dtype=np.uint8)

    def colours(self) -> list[str]:
        return ["#ffffff", "#dc322f"]

    def inks(self) -> list[str] | None:
        return None

    def draw(self, index: int) -> Box:
        shown = index - 1 if index == self.repeat else index
        self.canvas[:, :, :3] = 255
        top, left = 2 * shown + 1, 3 * shown + 1
        self.canvas[top : top + 5, left : left + 7, :3] = (220, 50, 47)
        return 0, self.size[1], 0, self.size[0]

    def rgba(self) -> np.ndarray:
        return self.canvas

    def render(self, index: int) -> np.ndarray:
        self.draw(index)
        return self.canvas[:, :, :3].copy()

    def vector(self, indices: Sequence[int], columns: int) -> Any:
        raise AssertionError("Steps has no vector figure")


class Stalling(Steps):
    """Steps that fail (or sleep) when frame ``at`` is drawn."""

    def __init__(self, error: BaseException | None, at: int = 2, seconds: float = 0) -> None:
        super().__init__()
        self.error, self.at, self.seconds = error, at, seconds

    def draw(self, index: int) -> Box:
        if index == self.at:
            if self.error is not None:
                raise self.error
            time.sleep(self.seconds)
        return super().draw(index)


# -- lossless: WebP, APNG ----------------------------------------------------------------------


@pytest.mark.parametrize("suffix", LOSSLESS)
def test_lossless_frames_are_the_drawings(
    written: dict[str, Path], frames: list[np.ndarray], suffix: str
) -> None:
    pixels, durations, loop = decoded(written[suffix])
    assert len(pixels) == len(frames) == 9
    for index, (got, expected) in enumerate(zip(pixels, frames, strict=True)):
        assert np.array_equal(got, expected), index
    assert durations == [1000] * 9
    assert loop == 0  # forever, like the GIF


@pytest.mark.parametrize("suffix", LOSSLESS)
def test_lossless_keeps_every_frame_and_its_time(tmp_path: Path, suffix: str) -> None:
    """A frame like the one before is a frame too; odd offsets are exact (WebP's are even)."""
    drawing = Steps(5, repeat=2)
    path = tmp_path / f"x{suffix}"
    write_drawing(path, writer_for(path), drawing, [0, 1, 2, 3, 4, 4], 1, 70)
    pixels, durations, _ = decoded(path)
    assert len(pixels) == 6
    for got, index in zip(pixels, [0, 1, 2, 3, 4, 4], strict=True):
        assert np.array_equal(got, Steps(5, repeat=2).render(index)), index
    assert durations == [70] * 6


@pytest.mark.parametrize("suffix", LOSSLESS)
def test_lossless_receptive_field_strip(tmp_path: Path, suffix: str) -> None:
    """Another kind's drawing: the receptive-field panels, frame by frame."""
    layers = [{"kernel_size": 3, "dilation": d} for d in (1, 2, 4)]
    path = tmp_path / f"rf{suffix}"
    write_drawing(path, writer_for(path), FieldStrip(layers), [0, 1, 2, 1], 1, 500)
    pixels, _, _ = decoded(path)
    strip = FieldStrip(layers)
    assert len(pixels) == 4
    for got, index in zip(pixels, [0, 1, 2, 1], strict=True):
        assert np.array_equal(got, strip.render(index)), index


def test_apng_delays_are_stored_exactly() -> None:
    assert delay(1000) == (1, 1)
    assert delay(30) == (3, 100)
    assert delay(655_350) == (13107, 20)
    assert delay(70_001) == (70, 1)  # 16 bits cannot hold 70001/1000: the nearest tenth


# -- MP4 -------------------------------------------------------------------------------------


def test_mp4_has_every_frame_close_to_the_drawings(
    written: dict[str, Path], frames: list[np.ndarray]
) -> None:
    height, width = frames[0].shape[:2]
    assert (width, height) == (394, 381)
    video = mp4_frames(written[".mp4"], (width, height + 1))  # padded to an even height
    assert len(video) == len(frames)
    for index, (got, expected) in enumerate(zip(video, frames, strict=True)):
        difference = np.abs(got[:height].astype(int) - expected)
        assert difference.mean() < MAX_MEAN_ERROR, (index, difference.mean())
        cells = flat(expected)
        assert cells.sum() > 10_000  # the cells, grey and blue: 8% of the frame
        assert difference[cells].mean() < MAX_FLAT_ERROR, (index, difference[cells].mean())
    assert np.abs(video[:, height:].astype(int) - 255).max() <= 4  # the background, white
    info = mp4_info(written[".mp4"])
    assert "Duration: 00:00:09.00" in info
    assert re.search(r"h264 .*yuv420p\(tv, bt709, progressive\), 394x382", info), info


def test_mp4_frame_rate_is_one_frame_per_frame_ms(tmp_path: Path) -> None:
    assert frame_rate(1000) == "1/1" and frame_rate(30) == "100/3" and frame_rate(40) == "25/1"
    path = tmp_path / "x.mp4"
    write_drawing(path, writer_for(path), Steps(4), [0, 1, 2, 3, 3, 2], 1, 30)
    assert len(mp4_frames(path, (32, 18))) == 6  # 31x17, padded to even sizes
    assert "Duration: 00:00:00.18" in mp4_info(path)


def test_mp4_failure_is_an_error_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("convanim.formats.mp4.CRF", "not-a-number")
    path = tmp_path / "x.mp4"
    with pytest.raises(OSError, match=r"ffmpeg failed \(exit status \d+\)"):
        write_drawing(path, writer_for(path), Steps(), [0, 1, 2])
    assert list(tmp_path.iterdir()) == []
    assert children() == []


@pytest.mark.parametrize("error", [KeyboardInterrupt(), RuntimeError("drawing failed")])
def test_mp4_stopped_mid_way_leaves_no_file_and_no_ffmpeg(
    tmp_path: Path, error: BaseException
) -> None:
    path = tmp_path / "x.mp4"
    path.write_bytes(b"an earlier video")
    with pytest.raises(type(error)):
        write_drawing(path, writer_for(path), Stalling(error), [0, 1, 2, 3])
    assert [p.name for p in tmp_path.iterdir()] == ["x.mp4"]
    assert path.read_bytes() == b"an earlier video"
    assert children() == []


KILLED = """
import sys, time
sys.path.insert(0, sys.argv[2])
from test_formats_animated import Stalling
from convanim.formats import write_drawing, writer_for
write_drawing(sys.argv[1], writer_for(".mp4"), Stalling(None, at=2, seconds=60), [0, 1, 2, 3])
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_mp4_writer_killed_takes_ffmpeg_with_it(tmp_path: Path) -> None:
    """SIGKILL leaves no file (FFmpeg writes to an unnamed one) and FFmpeg dies too."""
    path = tmp_path / "x.mp4"
    tests = str(Path(__file__).parent)
    process = subprocess.Popen([sys.executable, "-c", KILLED, str(path), tests])
    try:
        encoder = None
        for _ in range(200):  # FFmpeg starts when the first frame is drawn
            encoder = _child_of(process.pid)
            if encoder is not None:
                break
            time.sleep(0.05)
        assert encoder is not None, "FFmpeg did not start"
        time.sleep(0.3)  # a frame or two written, the drawing stalls
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        for _ in range(100):
            if not Path(f"/proc/{encoder}").exists() or _zombie(encoder):
                break
            time.sleep(0.05)
        assert not Path(f"/proc/{encoder}").exists() or _zombie(encoder)
    finally:
        process.kill()
        process.wait()
    assert list(tmp_path.iterdir()) == []


def _child_of(parent: int) -> int | None:
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == parent and "ffmpeg" in stat:
                return int(entry.name)
    return None


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def test_missing_video_extra_is_one_line_before_drawing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "imageio_ffmpeg", None)  # import fails as if missing
    with pytest.raises(ConvSpecError) as error:
        save(parse_figure("x", FIGURE).model, Output(tmp_path / "x.mp4"))
    assert (error.value.param, error.value.detail) == ("output", EXTRA_MESSAGE)
    result = CliRunner().invoke(main, ["conv", "-i", "5", "-o", str(tmp_path / "x.mp4")])
    assert result.exit_code == 2
    assert result.output == f"Error: --output: {EXTRA_MESSAGE}\n"
    assert EXTRA_MESSAGE == ".mp4 needs the video extra: pip install 'convanim[video]'"
    assert list(tmp_path.iterdir()) == []


def test_missing_video_extra_stops_before_matplotlib(tmp_path: Path) -> None:
    code = textwrap.dedent(
        f"""
        import sys
        sys.modules["imageio_ffmpeg"] = None
        from convanim.cli import main
        try:
            main(["conv", "-i", "5", "-o", {str(tmp_path / "x.mp4")!r}])
        except SystemExit as stop:
            print(stop.code, "matplotlib" in sys.modules)
        """
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.split() == ["2", "False"]
    assert EXTRA_MESSAGE in result.stderr
    assert list(tmp_path.iterdir()) == []


# -- all three: stamps, builds, determinism, refusals ------------------------------------------


@pytest.mark.parametrize("suffix", ANIMATED)
def test_fingerprint_is_read_back(figure: Figure, written: dict[str, Path], suffix: str) -> None:
    assert read_stamp(written[suffix]) == figure.fingerprint()


def test_same_figure_same_bytes_in_another_process(written: dict[str, Path]) -> None:
    folder = next(iter(written.values())).parent / "again"
    folder.mkdir()
    code = (
        "import sys; from convanim.figures import parse_figure; "
        f"f = parse_figure('padding_strides', {FIGURE!r}); "
        f"[f.render(sys.argv[1] + '/figure' + s) for s in {ANIMATED!r}]"
    )
    subprocess.run([sys.executable, "-c", code, str(folder)], check=True)
    for suffix, path in written.items():
        assert (folder / path.name).read_bytes() == path.read_bytes(), suffix


MANIFEST = """
[lossless]
output = "img/lossless.webp"
input = 4
kernel = 3

[png_like]
output = "img/png_like.apng"
kind = "pool"
input = 4
kernel = 2
stride = 2

[video]
output = "img/video.mp4"
kind = "rf"
kernel = 3
dilation = [1, 2]
"""


def test_build_check_sees_animated_figures_as_current(tmp_path: Path) -> None:
    manifest = tmp_path / "figures.toml"
    manifest.write_text(MANIFEST)
    result = CliRunner().invoke(main, ["build", str(manifest), "--jobs", "1"])
    assert result.exit_code == 0, result.output
    assert "rendered 3, skipped 0, failed 0" in result.output
    result = CliRunner().invoke(main, ["build", str(manifest), "--check"])
    assert result.exit_code == 0, result.output
    assert "3 current, 0 stale or missing" in result.output
    result = CliRunner().invoke(main, ["build", str(manifest)])
    assert "rendered 0, skipped 3" in result.output
    manifest.write_text(MANIFEST.replace("kernel = 3\n", "kernel = 2\n", 1))
    result = CliRunner().invoke(main, ["build", str(manifest), "--check"])
    assert result.exit_code == 1 and "stale or missing: lossless" in result.output


@pytest.mark.parametrize("suffix", ANIMATED)
@pytest.mark.parametrize(
    ("command", "option", "message"),
    [
        ("conv -i 4", "--frame 1", "--frame: got 1; a single frame is written as"),
        ("conv -i 4", "--columns 2", "--columns: got 2; an animation has no columns"),
        ("matrix -i 3 -k 2", "--columns 2", "--columns: got 2; an animation has no columns"),
        ("rf -k 3 -d 1,2", "--frame 1", "--frame: got 1; a single frame is written as"),
        ("rf -k 3 -d 1,2", "--columns 1", "--columns: got 1; an animation has no columns"),
    ],
)
def test_one_frame_and_columns_are_refused_as_for_a_gif(
    tmp_path: Path, suffix: str, command: str, option: str, message: str
) -> None:
    path = tmp_path / f"x{suffix}"
    args = [*command.split(), *option.split(), "-o", str(path)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2
    assert result.output.startswith(f"Error: {message}"), result.output
    assert list(tmp_path.iterdir()) == []
    gif = CliRunner().invoke(main, [*args[:-1], str(tmp_path / "x.gif")])
    assert gif.exit_code == 2 and gif.output == result.output


@pytest.mark.parametrize("suffix", ANIMATED)
def test_standard_output_with_format(tmp_path: Path, suffix: str) -> None:
    """``-o - --format webp`` writes what ``-o x.webp`` writes."""
    path = tmp_path / f"x{suffix}"
    assert (
        CliRunner().invoke(main, ["conv", "-i", "3", "-k", "2", "-q", "-o", str(path)]).exit_code
        == 0
    )
    result = CliRunner().invoke(
        main, ["conv", "-i", "3", "-k", "2", "-o", "-", "--format", suffix.lstrip(".")]
    )
    assert result.exit_code == 0
    assert result.stdout_bytes == path.read_bytes()
