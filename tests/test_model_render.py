"""A model's receptive fields drawn on its real input: pixel checks on rendered frames (the
outline's extent is the reported field, scaled, per layer), and the command line's files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from convanim.cli import main
from convanim.model_render import ModelFieldMap, grid_step, model_title


@pytest.fixture(scope="module")
def models() -> dict[str, Any]:
    from tests.test_model_fields import torch_models

    return torch_models()


def field_map(models: dict[str, Any], name: str, shape: tuple[int, ...]) -> Any:
    from convanim.graph_fields import drawn_rows
    from convanim.model_fields import receptive_fields

    fields = receptive_fields(models[name][0], shape)
    rows = drawn_rows(fields)
    return ModelFieldMap(rows, fields.input_size, [model_title(row) for row in rows]), rows


def rgb(colour: str) -> tuple[int, int, int]:
    from convanim.theme import hex_rgb

    return hex_rgb(colour)


def outline_box(figure: Any, pixels: np.ndarray) -> tuple[int, int, int, int]:
    """The box of the thick outline's pixels (the line's exact colour) in the drawn area."""
    rows, cols = figure.cells
    top, left = int(figure.top) - 8, int(figure.left) - 8
    bottom = int(figure.top + rows * figure.row_px) + 8
    right = int(figure.left + cols * figure.cell_px) + 8
    area = pixels[max(top, 0) : bottom, max(left, 0) : right, :3]
    ys, xs = np.nonzero(np.all(area == rgb(figure.theme.line), axis=-1))
    return (xs.min() + max(left, 0), ys.min() + max(top, 0), xs.max() + max(left, 0),
            ys.max() + max(top, 0))  # fmt: skip


@pytest.mark.parametrize(
    ("name", "shape"),
    [("resnet18", (3, 224, 224)), ("unet", (1, 40, 40)), ("functional_1d", (1, 96))],
)
def test_each_frame_outlines_the_reported_field_scaled(
    models: dict[str, Any], name: str, shape: tuple[int, ...]
) -> None:
    """Per layer: the outline's pixel extent is the centre unit's field (the size --info
    reports for that unit), at the drawn scale, from its first cell."""
    figure, rows = field_map(models, name, shape)
    one_d = len(shape) == 2
    half = figure.line_width * 100 / 72 / 2 + 1.5  # half the thick line, in pixels, and a pixel
    for index, row in enumerate(rows):
        centre = tuple((n - 1) // 2 for n in row.output_size)
        reported = row.field.size_of(centre[0] if one_d else centre)
        spans = row.centre_field
        assert [b - a + 1 for a, b in spans] == ([reported] if one_d else list(reported))
        x0, y0, x1, y1 = figure.field_rect(index)
        first_row, first_col = (0, spans[0][0]) if one_d else (spans[0][0], spans[1][0])
        assert x0 == pytest.approx(figure.left + (first_col - figure.origin[1]) * figure.cell_px)
        assert y0 == pytest.approx(figure.top + (first_row - figure.origin[0]) * figure.row_px)
        width = reported if one_d else reported[1]
        assert x1 - x0 == pytest.approx(width * figure.cell_px)
        if not one_d:
            assert y1 - y0 == pytest.approx(reported[0] * figure.row_px)
        pixels = figure.render(index)
        bx0, by0, bx1, by1 = outline_box(figure, pixels)
        for drawn, wanted in ((bx0, x0), (by0, y0), (bx1, x1), (by1, y1)):
            assert abs(drawn - wanted) <= half, (row.name, (bx0, by0, bx1, by1), (x0, y0, x1, y1))
        assert figure.shown["texts"][0] == model_title(row)


def test_a_224_input_is_drawn_as_a_plane_with_a_coarse_grid(models: dict[str, Any]) -> None:
    figure, rows = field_map(models, "resnet18", (3, 224, 224))
    assert figure.cell_px < 2 and figure.step == grid_step(figure.cell_px) == 16
    assert figure.footer == "input 224×224 · grid lines every 16 cells"
    # The drawn area reaches as far into the padding as the largest field: -121 to 313.
    assert figure.origin == (-121, -121) and figure.cells == (435, 435)
    pixels = figure.render(0)  # conv1: a 7×7 field in the middle
    x0, y0, _, _ = figure.input_rect()
    inside = pixels[int(y0) + 3, int(x0 + 8 * figure.cell_px), :3]  # between two grid lines
    assert tuple(inside) == rgb(figure.plane)
    line_x = x0 + 16 * figure.cell_px
    column = pixels[int(y0) + 3, int(line_x) - 1 : int(line_x) + 2, :3]
    assert any(tuple(p) == rgb(figure.grid_colour) for p in column)
    last = figure.render(len(rows) - 1)  # the last field holds the whole input and padding
    fx0, fy0, _, _ = figure.field_rect(len(rows) - 1)
    assert tuple(last[int(fy0) + 4, int(fx0) + 4, :3]) == rgb(figure.field_out)
    assert tuple(last[int(y0) + 3, int(x0 + 8 * figure.cell_px), :3]) == rgb(figure.field_in)


def test_a_small_input_has_a_grid_line_per_cell(models: dict[str, Any]) -> None:
    figure, _ = field_map(models, "unet", (1, 40, 40))
    assert figure.step == 1 and figure.footer == "input 40×40 · one square per cell"


@pytest.mark.parametrize(
    ("name", "shape"),
    [("resnet18", (3, 224, 224)), ("unet", (1, 40, 40)), ("functional_1d", (1, 96))],
)
def test_a_vector_frame_is_the_static_input_and_the_frames_field(
    models: dict[str, Any], name: str, shape: tuple[int, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A vector frame draws what the raster frames' cached background holds (the input
    plane, its grid, the footer) with the frame's field fills between plane and grid; the
    grid's lines are made once, not per frame."""
    from matplotlib.collections import LineCollection, PolyCollection
    from matplotlib.text import Text

    figure, rows = field_map(models, name, shape)

    def again() -> Any:
        raise AssertionError("the grid is made once, when the figure is laid out")

    monkeypatch.setattr(figure, "_grid_segments", again)
    x0, y0, x1, y1 = figure.input_rect()
    for index in sorted({0, len(rows) // 2, len(rows) - 1}):
        figure.render(index)
        drawn = figure.vector([index], 1).artists
        fills = [rects for _, rects in figure._fills(index) if rects]
        plane, *filled, grid, footer = drawn[: 3 + len(fills)]
        assert isinstance(plane, PolyCollection) and plane.get_facecolor().shape == (1, 4)
        polygon = plane.get_paths()[0].vertices[:4]
        assert np.allclose(polygon, [(x0, y0), (x1, y0), (x1, y1), (x0, y1)])
        assert [len(p.get_paths()) for p in filled] == [len(rects) for rects in fills]
        assert isinstance(grid, LineCollection)
        assert np.allclose(np.asarray(grid.get_segments()), figure.grid)
        assert isinstance(footer, Text) and footer.get_text() == figure.footer


@pytest.fixture
def runner() -> Any:
    import inspect

    from click.testing import CliRunner

    if "mix_stderr" in inspect.signature(CliRunner.__init__).parameters:  # Click 8.1
        return CliRunner(mix_stderr=False)  # type: ignore[call-arg]
    return CliRunner()


@pytest.fixture
def model_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    pytest.importorskip("torch")
    path = tmp_path / "draw_models.py"
    path.write_text(
        "import torch.nn as nn\n\n"
        "def net():\n"
        "    return nn.Sequential(nn.Conv2d(1, 1, 3, stride=2), nn.ReLU(), nn.MaxPool2d(2),\n"
        "                         nn.Conv2d(1, 1, 3, padding=2, dilation=2))\n",
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    return path


MODEL = ["rf", "--torch", "draw_models.py:net", "--input-shape", "1,31,31"]


def test_gif_png_strip_and_frame_on_the_command_line(model_file: Path, runner: Any) -> None:
    from tests.helpers import gif_frames

    result = runner.invoke(main, [*MODEL, "-o", "m.gif"])
    assert result.exit_code == 0, result.output
    assert "3 of 4 layers drawn" in result.output
    frames = gif_frames(model_file.parent / "m.gif")
    assert len(frames) == 3 and len({f.tobytes() for f in frames}) == 3
    height, width = frames[0].shape[:2]
    assert runner.invoke(main, [*MODEL, "-o", "m.png"]).exit_code == 0
    with Image.open(model_file.parent / "m.png") as image:  # three panels in one row
        assert image.size[1] == height and image.size[0] > 3 * width
    result = runner.invoke(main, [*MODEL, "--frame", "1", "-o", "one.png"])
    assert result.exit_code == 0, result.output
    from convanim.graph_fields import drawn_rows
    from convanim.model_fields import load_model, receptive_fields

    fields = receptive_fields(load_model("draw_models.py:net"), (1, 31, 31))
    rows = drawn_rows(fields)
    drawn = ModelFieldMap(rows, fields.input_size, [model_title(r) for r in rows]).render(1)
    with Image.open(model_file.parent / "one.png") as image:
        assert np.array_equal(np.asarray(image.convert("RGB")), drawn[..., :3])
    assert runner.invoke(main, [*MODEL, "--columns", "2", "-o", "m.svg"]).exit_code == 0


def test_the_poster_is_the_animations_last_frame(model_file: Path, runner: Any) -> None:
    """The poster and the animation are one drawing: the poster's pixels are the last
    frame's, in the figure's theme and scale."""
    style = ["--theme", "dark", "--scale", "1.5"]
    drawn = {}
    for name, words in [("poster", ["--poster"]), ("last", ["--frame", "2"]), ("plain", [])]:
        more = style if name != "plain" else ["--frame", "2"]
        result = runner.invoke(main, [*MODEL, *words, *more, "-o", f"{name}.png"])
        assert result.exit_code == 0, result.output
        with Image.open(f"{name}.png") as image:
            drawn[name] = np.asarray(image.convert("RGB"))
    assert np.array_equal(drawn["poster"], drawn["last"])
    assert drawn["poster"].shape != drawn["plain"].shape  # the scale is the figure's


@pytest.mark.parametrize("kind", ["rf", "erf"])
@pytest.mark.parametrize("source", ["torch", "onnx"])
def test_a_model_figures_errors_name_its_models_option(
    tmp_path: Path, runner: Any, monkeypatch: pytest.MonkeyPatch, kind: str, source: str
) -> None:
    """rf and erf name the option that gave the model, --torch or --onnx, in their errors."""
    pytest.importorskip("torch")
    import torch.nn as nn

    from tests.test_model_fields import export_onnx

    monkeypatch.chdir(tmp_path)
    (tmp_path / "flat.py").write_text(
        "import torch.nn as nn\n\ndef flat():\n    return nn.Sequential(nn.ReLU())\n",
        encoding="utf-8",
    )
    if source == "onnx":
        export_onnx(nn.Sequential(nn.ReLU()), (1, 8, 8), tmp_path / "flat.onnx")
        model = ["--onnx", "flat.onnx"]
    else:
        model = ["--torch", "flat.py:flat", "--input-shape", "1,8,8"]
    result = runner.invoke(main, [kind, *model, "-o", "x.png"])
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        f"Error: --{source}: the model has no convolution, pooling or merge of branches before "
        "its analysis ends: no layer to draw"
    )
    result = runner.invoke(main, [kind, *model, "-k", "3", "--info"])
    assert result.exit_code == 2
    assert (
        result.stderr.strip()
        == f"Error: --kernel: the layers come from --{source}; leave --kernel out"
    )


@pytest.mark.parametrize(
    ("words", "message"),
    [
        (["--frame", "3", "-o", "x.png"],
         "Error: --frame: got 3; expected 0 to 2 (frame i: the model's i-th drawn layer, from "
         "0: its convolutions, poolings and merges)"),
        (["--columns", "4", "-o", "x.png"],
         "Error: --columns: got 4; a strip of 3 panels has at most 3 columns"),
        (["--frame", "1", "-o", "x.gif"],
         "Error: --frame: got 1; a single frame is written as .png, .svg or .pdf"),
        (["--max-frames", "2", "-o", "x.gif"],
         "Error: --max-frames: the animation would have 3 frames, over the limit of 2; use a "
         "smaller input, or raise --max-frames"),
        (["--frame", "1", "--columns", "2", "-o", "x.png"],
         "Error: --columns: got 2; a single frame has no columns: give frame or columns, not "
         "both"),
    ],
)  # fmt: skip
def test_drawing_mistakes_are_one_line_exit_2_and_no_file(
    model_file: Path, runner: Any, words: list[str], message: str
) -> None:
    result = runner.invoke(main, [*MODEL, *words])
    assert result.exit_code == 2, result.output
    assert result.stderr.strip() == message
    assert not list(model_file.parent.glob("x.*"))


def test_a_manifests_model_file_is_relative_to_it_and_in_its_fingerprint(
    model_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Built from another folder, the manifest's ``draw_models.py`` is found beside it; a
    change to that file makes the figure stale."""
    from click.testing import CliRunner

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "draw_models.py").write_text(model_file.read_text(encoding="utf-8"))
    (docs / "figures.toml").write_text(
        '[fields]\noutput = "fields.gif"\nkind = "rf"\ntorch = "draw_models.py:net"\n'
        'input-shape = "1,31,31"\n\n'
        '[erf]\noutput = "erf.png"\nkind = "erf"\ntorch = "draw_models.py:net"\n'
        'input-shape = "1,31,31"\nweights = "uniform"\n',
        encoding="utf-8",
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    runner = CliRunner()
    result = runner.invoke(main, ["build", str(docs / "figures.toml"), "--jobs", "1"])
    assert result.exit_code == 0, result.output
    assert (docs / "fields.gif").exists() and (docs / "erf.png").exists()
    check = runner.invoke(main, ["build", str(docs / "figures.toml"), "--check"])
    assert check.exit_code == 0, check.output
    with (docs / "draw_models.py").open("a", encoding="utf-8") as file:
        file.write("\n# changed\n")
    check = runner.invoke(main, ["build", str(docs / "figures.toml"), "--check"])
    assert check.exit_code == 1 and "2 stale or missing" in check.output, check.output


def test_a_deep_model_is_limited_by_max_frames_alone(
    tmp_path: Path, runner: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A model of 300 convolutions: its poster (one layer) is drawn, and a .gif is refused
    before anything is drawn unless --max-frames allows its frames; no other limit applies."""
    pytest.importorskip("torch")
    (tmp_path / "deep.py").write_text(
        "import torch.nn as nn\n\n"
        "def deep():\n"
        "    return nn.Sequential(*[nn.Conv2d(1, 1, 3, padding=1) for _ in range(300)])\n",
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    deep = ["rf", "--torch", "deep.py:deep", "--input-shape", "1,8,8"]
    result = runner.invoke(main, [*deep, "--poster", "-o", "deep.png"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(main, [*deep, "--max-frames", "299", "-o", "deep.gif"])
    assert result.exit_code == 2
    assert "the animation would have 300 frames, over the limit of 299" in result.stderr
    assert not (tmp_path / "deep.gif").exists()
