"""Tests for posters (``--poster``): one still image that shows a whole animation at once.

What a reader gets is checked: the pixels of the written PNG (every output cell in the output
colour, or holding its number; the chosen cell's footprint shaded and nothing else), the file's
stamp (``build --check``), the alt text; then the front-ends: the command line and its mistakes,
a manifest, ``command()``, a notebook figure, a real ``sphinx-build`` (HTML with ``:poster:``;
LaTeX, which gets an animation's poster by itself) and a real ``mkdocs build``. The case files
``tests/cases/*/poster*.toml`` run every kind's poster through every front-end too.
"""

from __future__ import annotations

import inspect
import re
import shlex
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from convanim import kinds
from convanim.cell_render import blend
from convanim.cli import main
from convanim.drawing import AnimationDrawing
from convanim.figures import Figure, FigureError, parse_figure
from convanim.geometry import Cell, ConvSpec
from convanim.options import RenderOptions
from convanim.render import Animation
from convanim.theme import THEMES, hex_rgb
from convanim.values import random_values, worked
from convanim.writers import read_stamp

Rgb = tuple[int, int, int]
THEME = THEMES["solarized"]
CONV = ["conv", "-i", "5", "-k", "3", "-s", "2", "-p", "1"]
MODELS = Path(__file__).resolve().parents[1] / "examples" / "models.py"


@pytest.fixture
def runner() -> CliRunner:
    if "mix_stderr" in inspect.signature(CliRunner.__init__).parameters:  # Click 8.1
        return CliRunner(mix_stderr=False)  # type: ignore[call-arg]
    return CliRunner()


def pixels(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


def colour_at(image: np.ndarray, animation: Animation, plane: Any, cell: tuple[int, int]) -> Rgb:
    """The most common colour around the centre of a cell of a plane (origin top-left)."""
    x, y = animation.transform.transform(plane.cell(*cell)).mean(axis=0)
    row, col = int(animation.size[1] - y), int(x)
    patch = image[row - 4 : row + 5, col - 4 : col + 5].reshape(-1, 3)
    colours, counts = np.unique(patch, axis=0, return_counts=True)
    r, g, b = (int(v) for v in colours[counts.argmax()])
    return r, g, b


def close(found: Rgb, expected: str, tolerance: int = 3) -> bool:
    return all(abs(f - e) <= tolerance for f, e in zip(found, hex_rgb(expected), strict=True))


def write_poster(runner: CliRunner, path: Path, *words: str) -> None:
    result = runner.invoke(main, [*words, "--poster", "-o", str(path)])
    assert result.exit_code == 0, result.output


# -- pixels ---------------------------------------------------------------------------------


@pytest.mark.parametrize("view", ["oblique", "flat"])
@pytest.mark.parametrize("cell", [(0, 2), (1, 1), (2, 0)])
def test_every_output_cell_is_filled_and_only_the_chosen_footprint_is_shaded(
    runner: CliRunner, tmp_path: Path, view: str, cell: tuple[int, int]
) -> None:
    path = tmp_path / "poster.png"
    write_poster(runner, path, *CONV, "--view", view, "--poster-cell", f"{cell[0]},{cell[1]}")
    image = pixels(path)
    spec = ConvSpec(5, 3, stride=2, padding=1)
    animation = Animation(spec, RenderOptions(view=view))
    assert image.shape[:2] == (animation.size[1], animation.size[0])  # one frame, not a strip
    shaded_output = blend(THEME.shade, THEME.output, THEME.shade_alpha)
    for out in np.ndindex(*spec.output_size):
        found = colour_at(image, animation, animation.output_plane, out)
        assert close(found, shaded_output if out == cell else THEME.output), (out, found)
    frame = next(f for f in spec.frames() if f.output == cell)
    taps = {tuple(t) for t in frame.taps}
    grid = spec.grid().cells
    for drawn in np.ndindex(*grid.shape):
        under = THEME.input if grid[drawn] == Cell.INPUT else THEME.padding
        expected = blend(THEME.shade, under, THEME.shade_alpha) if drawn in taps else under
        found = colour_at(image, animation, animation.input_plane, drawn)
        assert close(found, expected), (drawn, found, expected)


def test_the_poster_differs_per_chosen_cell_and_is_the_same_for_the_same_cell(
    runner: CliRunner, tmp_path: Path
) -> None:
    drawn = {}
    for name, cell in (("a", "0,0"), ("b", "2,2"), ("c", "0,0")):
        write_poster(runner, tmp_path / f"{name}.png", *CONV, "--poster-cell", cell)
        drawn[name] = pixels(tmp_path / f"{name}.png")
    assert not np.array_equal(drawn["a"], drawn["b"])
    assert np.array_equal(drawn["a"], drawn["c"])
    assert (tmp_path / "a.png").read_bytes() == (tmp_path / "c.png").read_bytes()


@pytest.mark.parametrize(("size", "middle"), [(5, "1,1"), (6, "1,1"), (7, "2,2")])
def test_the_default_cell_is_the_middle_one(
    runner: CliRunner, tmp_path: Path, size: int, middle: str
) -> None:
    """A 3×3 output's middle is (1, 1); a 4×4 one's the upper left of the middle four."""
    words = ["conv", "-i", str(size), "-k", "3"]
    write_poster(runner, tmp_path / "default.png", *words)
    write_poster(runner, tmp_path / "middle.png", *words, "--poster-cell", middle)
    assert np.array_equal(pixels(tmp_path / "default.png"), pixels(tmp_path / "middle.png"))


def test_without_values_the_poster_is_the_chosen_cells_frame(
    runner: CliRunner, tmp_path: Path
) -> None:
    """conv_arithmetic's output plane is filled in every frame: the poster is the frame."""
    write_poster(runner, tmp_path / "poster.png", *CONV, "--poster-cell", "2,1")
    result = runner.invoke(main, [*CONV, "--frame", "7", "-o", str(tmp_path / "frame.png")])
    assert result.exit_code == 0, result.output
    assert np.array_equal(pixels(tmp_path / "poster.png"), pixels(tmp_path / "frame.png"))


@pytest.mark.parametrize("view", ["oblique", "flat"])
def test_with_values_every_output_holds_its_number(view: str) -> None:
    spec = ConvSpec(5, 3, stride=2, padding=1)
    x, weight = random_values(spec, 3)
    numbers = worked(spec, x, weight, "conv")
    poster = Animation(spec, RenderOptions(view=view), numbers, poster=True)
    plain = Animation(spec, RenderOptions(view=view), numbers)
    frames = list(spec.frames())
    frame = frames[2]  # output cell (0, 2): in an animation, only two outputs are done by then
    image, before = poster.render(frame), plain.render(frame)
    assert not np.array_equal(image, before)
    texts = Counter(text for text, _ in poster.texts(static=False))
    shown = Counter(poster.values.style.text(v) for v in numbers.output.ravel())
    assert texts & shown == shown  # every output's number is written
    assert poster.values.shown["output"] == (0, 2)  # the current cell, in bold, and its sum
    height = poster.size[1]
    for out in np.ndindex(*spec.output_size):  # on the pixels: text in every output cell
        corners = poster.transform.transform(poster.output_plane.cell(*out))
        (x0, y0), (x1, y1) = corners.min(axis=0), corners.max(axis=0)
        inset = (x1 - x0) * 0.2
        patch = image[
            int(height - y1 + inset) : int(height - y0 - inset), int(x0 + inset) : int(x1 - inset)
        ].astype(int)
        assert (np.abs(patch - hex_rgb(THEME.output)).sum(axis=2) > 60).any(), out
    # The vector art says the same.
    vector = poster.vector([frame], 1)
    written = Counter(t.get_text() for t in vector.findobj(lambda a: hasattr(a, "get_text")))
    assert written & shown == shown


def test_a_poster_has_one_frame_and_the_writers_interface(tmp_path: Path) -> None:
    figure = parse_figure("p", {"input": 5, "kernel": 3, "poster": True})
    spec = figure.spec
    path = figure.render(tmp_path / "p.png")
    drawing = AnimationDrawing(Animation(spec, poster=True))
    assert np.array_equal(pixels(path), drawing.render(4))
    assert read_stamp(path) == figure.fingerprint()


def test_a_channelled_poster_shows_every_channel_at_the_chosen_cell() -> None:
    from convanim.channel_render import draw_channels
    from convanim.values import random_channel_values, worked_channels

    spec = ConvSpec(5, 3, stride=2, padding=1, in_channels=2, out_channels=2)
    x, weight, _bias = random_channel_values(spec, 0)
    numbers = worked_channels(spec, x, weight, None)
    figure = draw_channels(spec, RenderOptions(view="flat"), numbers, "spatial", poster=True)
    layer = figure.layer(4)  # output cell (1, 1), both output channels
    texts = Counter(text for _, _, text, _ in layer.texts)
    shown = Counter(figure._text(v) for v in numbers.output.ravel())
    assert texts & shown == shown
    image = figure.render(4)
    shaded = blend(THEME.shade, THEME.output, THEME.shade_alpha)
    for channel in range(2):
        for out in np.ndindex(3, 3):
            x_px, y_px = figure.pixel(1, channel, *out)
            patch = image[y_px + 4 : y_px + 7, x_px - 8 : x_px - 5].reshape(-1, 3)
            colour = tuple(int(v) for v in patch[0])
            assert close(colour, shaded if out == (1, 1) else THEME.output), (channel, out)


@pytest.mark.parametrize(
    ("words", "frame"),
    [
        (["rf", "-k", "3", "-d", "1,2,4"], "2"),
        (["rf", "--dims", "1", "-k", "2", "-d", "1,2,4", "--causal"], "7"),
        (["erf", "-k", "3,3,3"], None),
        (["overlap", "-i", "3", "-k", "3", "-s", "2", "--transposed"], None),
        (["matrix", "-i", "4", "-k", "3"], "1"),
        (["rf", "--torch", f"{MODELS}:resnet18", "--input-shape", "3,64,64"], "28"),
        (["erf", "--torch", f"{MODELS}:resnet18", "--input-shape", "3,32,32"], None),
    ],
)
def test_other_kinds_posters_are_their_natural_stills(
    runner: CliRunner, tmp_path: Path, words: list[str], frame: str | None
) -> None:
    """rf: the last layer's field (1-D: the last unit's tree; a model's: its last drawn
    layer, 29 of ResNet-18's); erf: the last layer; overlap: the final map; matrix: the middle
    cell's frame (every number is written in every frame)."""
    kind = words[0]
    poster_cell = ["--poster-cell", "0,1"] if kind == "matrix" else []
    write_poster(runner, tmp_path / "poster.png", *words, *poster_cell)
    still = [*words, "-o", str(tmp_path / "still.png")]
    result = runner.invoke(main, still + (["--frame", frame] if frame else []))
    assert result.exit_code == 0, result.output
    assert np.array_equal(pixels(tmp_path / "poster.png"), pixels(tmp_path / "still.png"))


def test_a_separable_poster_fills_both_layers() -> None:
    figure = parse_figure(
        "s", {"kind": "separable", "input": 5, "channels": 2, "out-channels": 2, "values": True}
    )
    kind = figure.declaration
    poster = kind.poster(figure)
    drawing = poster.make()
    assert poster.frame == 9 + 4  # the depthwise layer's 9 cells, then pointwise cell (1, 1)
    layer = drawing.layer(poster.frame)
    texts = Counter(text for _, _, text, _ in layer.texts)
    first, second = kind.worked(figure)
    shown = Counter(drawing._text(v) for v in [*first.output.ravel(), *second.output.ravel()])
    assert texts & shown == shown


# -- the command line -------------------------------------------------------------------------


BAD = [
    (["--poster-cell", "3,0"], "--poster-cell: got 3,0; expected row,col of the 3x3 output: "
     "row 0 to 2, col 0 to 2"),
    (["--poster-cell", "1"], "--poster-cell: got 1; expected row,col of the 3x3 output"),
    (["--poster-cell", "a,b"], "--poster-cell: got 'a,b'; expected a cell, 0-based"),
    (["--poster-cell", "-1,0"], "--poster-cell: got '-1,0'; expected a cell, 0-based"),
    (["--frame", "1"], "--poster: a poster is one picture of the whole animation: give poster "
     "or frame, not both"),
    (["--columns", "2"], "--poster: a poster is one picture of the whole animation: give "
     "poster or columns, not both"),
]  # fmt: skip


@pytest.mark.parametrize(("extra", "message"), BAD)
def test_a_bad_poster_request_is_one_line_exit_2_no_file(
    runner: CliRunner, tmp_path: Path, extra: list[str], message: str
) -> None:
    path = tmp_path / "x.png"
    result = runner.invoke(main, [*CONV, "--poster", *extra, "-o", str(path)])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"Error: {message}")
    assert result.stderr.count("\n") == 1
    assert not path.exists()


@pytest.mark.parametrize("suffix", [".gif", ".webp", ".apng", ".mp4", ".html"])
def test_a_poster_is_a_still_format(runner: CliRunner, tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"x{suffix}"
    result = runner.invoke(main, [*CONV, "--poster", "-o", str(path)])
    assert result.exit_code == 2
    expected = f"a poster is one still image, written as .png, .svg or .pdf, not {suffix}"
    assert result.stderr == f"Error: --poster: {expected}\n"
    assert not path.exists()
    result = runner.invoke(main, [*CONV, "--poster", "-o", "-", "--format", suffix[1:]])
    assert (result.exit_code, result.stderr) == (2, f"Error: --poster: {expected}\n")
    assert result.stdout_bytes == b""


def test_a_poster_cell_needs_a_poster(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(main, [*CONV, "--poster-cell", "1,1", "-o", str(tmp_path / "x.png")])
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: --poster-cell: got 1,1; it picks the output cell of a poster: add poster, or "
        "leave poster-cell out\n"
    )


@pytest.mark.parametrize(
    ("words", "message"),
    [
        (["conv", "--dims", "1", "-i", "7", "-k", "3", "--poster-cell", "5"],
         "--poster-cell: got 5; expected a cell of the length-5 output, 0 to 4"),
        (["conv", "-i", "4,4,4", "-k", "3", "--poster-cell", "0,2,0"],
         "--poster-cell: got 0,2,0; expected depth,row,col of the 2x2x2 output: depth 0 to 1, "
         "row 0 to 1, col 0 to 1"),
        (["matrix", "-i", "4", "-k", "3", "--poster-cell", "2,0"],
         "--poster-cell: got 2,0; expected row,col of the 2x2 output"),
        (["separable", "-i", "5", "--poster-cell", "0,3"],
         "--poster-cell: got 0,3; expected row,col of the 3x3 output"),
    ],
)  # fmt: skip
def test_every_kind_checks_its_poster_cell(
    runner: CliRunner, tmp_path: Path, words: list[str], message: str
) -> None:
    path = tmp_path / "x.png"
    result = runner.invoke(main, [*words, "--poster", "-o", str(path)])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"Error: {message}")
    assert not path.exists()


def test_every_kind_has_a_poster_option_and_a_poster(runner: CliRunner, tmp_path: Path) -> None:
    words = {
        "conv": ["-i", "4"],
        "pool": ["-i", "4", "-k", "2"],
        "rf": ["-k", "3", "-d", "1,2"],
        "matrix": ["-i", "3", "-k", "2"],
        "overlap": ["-i", "3", "-k", "2"],
        "erf": ["-k", "3,3"],
        "separable": ["-i", "4", "--channels", "2", "--out-channels", "2"],
        "layer": ["--layer", "nn.MaxPool2d(2)", "-i", "4"],
    }
    assert set(words) == set(kinds.KINDS)
    for kind in kinds.kinds():
        assert "poster" in kind.option_keys(), kind.name
        path = tmp_path / f"{kind.name}.svg"
        result = runner.invoke(main, [kind.name, *words[kind.name], "--poster", "-o", str(path)])
        assert result.exit_code == 0, (kind.name, result.output)
        assert "wrote" in result.stderr and "poster of" in result.stderr
        figure = parse_figure("x", {"kind": kind.name, **_options(kind.name, words[kind.name])})
        assert read_stamp(path) == figure.fingerprint()
        assert path.read_text(encoding="utf-8").count("<svg") == 1


def _options(kind: str, words: list[str]) -> dict[str, Any]:
    """Command-line words as a figure description, with poster."""
    declaration = kinds.get(kind)
    found: dict[str, Any] = {"poster": True}
    for flag, value in zip(words[::2], words[1::2], strict=True):
        name = flag.lstrip("-")
        key = next(p.key for p in declaration.params if name in (p.key, p.short))
        found[key] = value
    return found


def test_a_poster_is_left_out_of_fingerprints_at_its_default() -> None:
    """Figures made before posters stay current: ``poster = false`` changes nothing."""
    plain = parse_figure("a", {"input": 5, "kernel": 3})
    said = parse_figure("a", {"input": 5, "kernel": 3, "poster": False})
    poster = parse_figure("a", {"input": 5, "kernel": 3, "poster": True})
    cell = parse_figure("a", {"input": 5, "kernel": 3, "poster": True, "poster-cell": [0, 0]})
    assert plain.fingerprint() == said.fingerprint()
    assert len({plain.fingerprint(), poster.fingerprint(), cell.fingerprint()}) == 3


# -- manifests, command(), notebooks ------------------------------------------------------------


def test_a_manifest_poster_is_built_stamped_and_checked(runner: CliRunner, tmp_path: Path) -> None:
    manifest = tmp_path / "figures.toml"
    manifest.write_text(
        '[p]\noutput = "p.png"\ninput = 5\nkernel = 3\nstride = 2\npadding = 1\n'
        "poster = true\nposter-cell = [0, 1]\n",
        encoding="utf-8",
    )
    result = runner.invoke(main, ["build", str(manifest), "-q"])
    assert result.exit_code == 0, result.output
    figure = parse_figure(
        "p", {"input": 5, "kernel": 3, "stride": 2, "padding": 1, "poster": True,
              "poster-cell": [0, 1]},
    )  # fmt: skip
    assert read_stamp(tmp_path / "p.png") == figure.fingerprint()
    result = runner.invoke(main, ["build", str(manifest), "--check"])
    assert result.exit_code == 0, result.output
    assert "1 current, 0 stale" in result.stderr
    manifest.write_text(manifest.read_text().replace("[0, 1]", "[1, 1]"), encoding="utf-8")
    result = runner.invoke(main, ["build", str(manifest), "--check"])
    assert result.exit_code == 1
    assert "stale or missing: p" in result.stderr


def test_command_round_trip_draws_the_same_poster(runner: CliRunner, tmp_path: Path) -> None:
    figure = parse_figure(
        "p", {"kind": "pool", "input": 4, "kernel": 2, "poster": True, "poster-cell": [2, 0]}
    )
    command = figure.command(str(tmp_path / "ran.png"))
    assert "--poster --poster-cell 2,0" in command
    result = runner.invoke(main, shlex.split(command)[1:])
    assert result.exit_code == 0, result.output
    figure.render(tmp_path / "rendered.png")
    assert (tmp_path / "ran.png").read_bytes() == (tmp_path / "rendered.png").read_bytes()


def test_a_notebook_poster_is_a_png() -> None:
    import convanim

    shown = convanim.figure("conv", input=5, kernel=3, poster=True, poster_cell=[0, 0])
    assert shown.format == ".png"
    assert shown.data().startswith(b"\x89PNG")
    assert "The poster shows every output cell" in shown.alt_text
    with pytest.raises(FigureError, match="format: got 'gif'; a single frame is one of"):
        convanim.figure("conv", input=5, poster=True, format="gif")
    with pytest.raises(FigureError, match="poster-cell: got 9,9"):
        convanim.figure("conv", input=5, poster=True, poster_cell=[9, 9])


# -- Sphinx and MkDocs --------------------------------------------------------------------------


def sphinx_build(source: Path, builder: str, out: Path) -> subprocess.CompletedProcess[str]:
    """A real ``sphinx-build``, warnings as errors."""
    command = [sys.executable, "-m", "sphinx", "-b", builder, "-W", "-q", "-d"]
    command += [str(out.parent / "doctrees"), str(source), str(out)]
    return subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)


def sphinx_project(folder: Path, body: str) -> Path:
    source = folder / "src"
    source.mkdir(parents=True)
    (source / "conf.py").write_text('extensions = ["convanim.sphinxext"]\n', encoding="utf-8")
    (source / "index.rst").write_text(f"Posters\n=======\n\n{body}", encoding="utf-8")
    return source


def directive(**options: str) -> str:
    lines = [".. convanim::"] + [f"   :{key.replace('_', '-')}: {v}" for key, v in options.items()]
    return "\n".join(lines) + "\n\n"


def test_latex_gets_each_animations_poster(tmp_path: Path) -> None:
    """A PDF shows no animation (a GIF prints its first frame): the .tex includes posters."""
    body = (
        directive(input="5", kernel="3", stride="2", padding="1")
        + directive(kind="rf", kernel="3", dilation="1,2,4")
        + directive(input="4", kernel="3", format="webp", values="")
        + directive(input="5", kernel="3", frame="2")  # a still: its own frame, as asked
    )
    source = sphinx_project(tmp_path, body)
    done = sphinx_build(source, "latex", tmp_path / "latex")
    assert done.returncode == 0, done.stderr
    tex = next((tmp_path / "latex").glob("*.tex")).read_text(encoding="utf-8")
    included = re.findall(r"\\sphinxincludegraphics\{\{(\w+)\}\.(png|pdf)\}", tex)
    expected = [
        (parse_figure("d", {"input": 5, "kernel": 3, "stride": 2, "padding": 1, "poster": True}),
         "pdf"),
        (parse_figure("d", {"kind": "rf", "kernel": 3, "dilation": [1, 2, 4], "poster": True}),
         "pdf"),
        (parse_figure("d", {"input": 4, "kernel": 3, "values": True, "poster": True}), "pdf"),
        (parse_figure("d", {"input": 5, "kernel": 3, "frame": 2}), "png"),
    ]  # fmt: skip
    assert included == [(figure.fingerprint(), ext) for figure, ext in expected]
    for stem, ext in included:
        path = tmp_path / "latex" / f"{stem}.{ext}"
        assert read_stamp(path) == stem
    # One page, of one frame's size (pixels at 100 per inch): not a strip of 9 frames.
    pdf = (tmp_path / "latex" / f"{included[0][0]}.pdf").read_bytes()
    boxes = re.findall(rb"/MediaBox \[ ?0 0 ([\d.]+) ([\d.]+) ?\]", pdf)
    assert len(boxes) == 1
    animation = Animation(ConvSpec(5, 3, stride=2, padding=1))
    width, height = (float(v) for v in boxes[0])
    assert (width, height) == pytest.approx(
        (animation.size[0] * 0.72, animation.size[1] * 0.72), abs=1
    )


def test_the_poster_option_in_an_html_build(tmp_path: Path) -> None:
    source = sphinx_project(
        tmp_path, directive(input="5", kernel="3", poster="", poster_cell="0,1")
    )
    done = sphinx_build(source, "html", tmp_path / "html")
    assert done.returncode == 0, done.stderr
    page = (tmp_path / "html" / "index.html").read_text(encoding="utf-8")
    figure = parse_figure("d", {"input": 5, "kernel": 3, "poster": True, "poster-cell": [0, 1]})
    assert f'src="_images/{figure.fingerprint()}.png"' in page
    assert "The poster shows every output cell, and the kernel’s footprint" in page or (
        "The poster shows every output cell, and the kernel&#8217;s footprint" in page
        or "The poster shows every output cell, and the kernel's footprint" in page
    )
    assert read_stamp(tmp_path / "html" / "_images" / f"{figure.fingerprint()}.png") == (
        figure.fingerprint()
    )


MAGIC = {".webp": b"RIFF", ".apng": b"\x89PNG", ".mp4": b"\x00\x00\x00"}


def test_every_format_in_sphinx_html_and_latex(tmp_path: Path) -> None:
    """``:format: webp``, ``apng`` and ``mp4`` (once a KeyError): HTML shows each as asked,
    LaTeX gets the poster."""
    pytest.importorskip("imageio_ffmpeg")
    body = "".join(
        directive(input="4", kernel="3", format=name) for name in ("webp", "apng", "mp4")
    )
    source = sphinx_project(tmp_path, body)
    done = sphinx_build(source, "html", tmp_path / "html")
    assert done.returncode == 0, done.stderr
    page = (tmp_path / "html" / "index.html").read_text(encoding="utf-8")
    figure = parse_figure("d", {"input": 4, "kernel": 3})
    for ext, magic in MAGIC.items():
        path = tmp_path / "html" / "_images" / f"{figure.fingerprint()}{ext}"
        assert path.read_bytes().startswith(magic), ext
        assert read_stamp(path) == figure.fingerprint()
        tag = "video" if ext == ".mp4" else "img"
        assert re.search(rf'<{tag}[^>]*src="_images/{path.name}"', page), ext
    assert 'aria-label="Convolution of a 4×4 input' in page
    done = sphinx_build(source, "latex", tmp_path / "latex")
    assert done.returncode == 0, done.stderr
    tex = next((tmp_path / "latex").glob("*.tex")).read_text(encoding="utf-8")
    poster = parse_figure("d", {"input": 4, "kernel": 3, "poster": True}).fingerprint()
    assert tex.count(f"\\sphinxincludegraphics{{{{{poster}}}.pdf}}") == 3


def test_a_mkdocs_block_takes_the_poster_keys(tmp_path: Path) -> None:
    pytest.importorskip("mkdocs")
    (tmp_path / "docs").mkdir()
    (tmp_path / "mkdocs.yml").write_text("site_name: posters\nplugins:\n  - convanim\n")
    (tmp_path / "docs" / "index.md").write_text(
        "# Posters\n\n```convanim\ninput = 5\nkernel = 3\nposter = true\n"
        "poster-cell = [2, 0]\n```\n\n```convanim\ninput = 5\nposter-cell = [3, 0]\n"
        "poster = true\n```\n",
        encoding="utf-8",
    )
    command = [sys.executable, "-m", "mkdocs", "build", "-d", str(tmp_path / "site")]
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "figure 'index.md:10': poster-cell: got 3,0; expected row,col of the 3x3" in done.stderr
    page = (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
    figure = parse_figure("d", {"input": 5, "kernel": 3, "poster": True, "poster-cell": [2, 0]})
    asset = tmp_path / "site" / "assets" / "convanim" / f"{figure.fingerprint()}.png"
    assert read_stamp(asset) == figure.fingerprint()
    assert f'src="assets/convanim/{asset.name}"' in page
    assert "The poster shows every output cell" in page
    done = subprocess.run([*command, "--strict"], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode != 0  # the bad block fails a strict build


def test_the_poster_api_is_the_declarations(tmp_path: Path) -> None:
    """``Figure.poster`` and ``Kind.poster``: the one place each kind says what its poster is."""
    figure = parse_figure("p", {"kind": "overlap", "input": 3, "kernel": 2, "poster": True})
    assert isinstance(figure, Figure) and figure.poster and figure.still()
    poster = figure.declaration.poster(figure)
    assert poster.frame == 9 and "final map" in poster.words
