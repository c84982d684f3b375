"""Figures of convolutions with channels and groups, and the separable kind, on rendered frames.

Pixel checks: a frame shades exactly the planes of the channels its filter reads (one for a
depthwise convolution), the output cell it computes, (flat) its filter's kernels; group bands
have their group's colour; every number lies inside its cell; a GIF's frames all differ. The
numbers are PyTorch's.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from convanim.cell_render import blend
from convanim.channel_render import (
    GROUP_COLOURS,
    MAX_DRAWN_CHANNELS,
    ChannelFigure,
    Stage,
    draw_channels,
)
from convanim.cli import main
from convanim.geometry import Cell, ConvSpec
from convanim.options import RenderOptions
from convanim.theme import THEMES, hex_rgb
from convanim.values import random_channel_values, worked_channels

SPECS: dict[str, ConvSpec[Any, Any]] = {
    # The CS231n demo: 3 channels, two 3×3×3 filters, stride 2 (5×5 padded by 1 here).
    "cs231n": ConvSpec(5, 3, stride=2, padding=1, in_channels=3, out_channels=2),
    "grouped": ConvSpec(5, 3, padding=1, in_channels=4, out_channels=4, groups=2),
    "depthwise": ConvSpec(4, 3, in_channels=3, out_channels=3, groups=3),
    "depthwise x2": ConvSpec(4, 3, in_channels=2, out_channels=4, groups=2),
    "transposed": ConvSpec(
        2, 3, stride=2, transposed=True, in_channels=2, out_channels=4, groups=2
    ),
    "pointwise": ConvSpec(3, 1, in_channels=3, out_channels=2),
}


@cache
def figure(name: str, view: str, order: str = "channel", theme: str = "solarized") -> ChannelFigure:
    return draw_channels(SPECS[name], RenderOptions(view=view, theme=theme), None, order)


def colour_at(pixels: np.ndarray, xy: tuple[int, int]) -> tuple[int, int, int]:
    """The commonest colour of the pixels around ``xy``: a link line crossing a cell's centre
    leaves the cell's colour."""
    x, y = xy
    patch = pixels[y - 2 : y + 3, x - 2 : x + 3].reshape(-1, 3)
    colours, counts = np.unique(patch, axis=0, return_counts=True)
    r, g, b = colours[np.argmax(counts)]
    return int(r), int(g), int(b)


def near(found: tuple[int, int, int], expected: str, tolerance: int = 3) -> bool:
    return max(abs(a - b) for a, b in zip(found, hex_rgb(expected), strict=True)) <= tolerance


def shaded(theme: str, under: str) -> str:
    t = THEMES[theme]
    return blend(t.shade, under, t.shade_alpha)


def some(count: int) -> list[int]:
    return sorted({0, 1, count // 2, count - 1})


@pytest.mark.parametrize("view", ["oblique", "flat"])
@pytest.mark.parametrize("order", ["channel", "spatial"])
@pytest.mark.parametrize("name", list(SPECS))
def test_a_frame_shades_exactly_the_planes_its_filter_reads(name: str, order: str, view: str):
    fig = figure(name, view, order)
    spec = SPECS[name]
    theme = THEMES["solarized"]
    cells = spec.grid().cells
    for index in some(fig.frame_count):
        pixels = fig.render(index)
        _, frame = fig.frames[index]
        expected = (
            set(range(spec.in_channels))
            if frame.out_channel is None
            else set(spec.channels_read(frame.out_channel))
        )
        assert set(frame.in_channels) == expected
        row, col = frame.taps[len(frame.taps) // 2]  # the middle tap: inside every plane
        under = theme.input if cells[row, col] == Cell.INPUT else theme.padding
        lit = {
            c
            for c in range(spec.in_channels)
            if near(colour_at(pixels, fig.pixel(0, c, row, col)), shaded("solarized", under))
        }
        plain = {
            c
            for c in range(spec.in_channels)
            if near(colour_at(pixels, fig.pixel(0, c, row, col)), under)
        }
        assert lit == expected, (index, lit, expected)
        assert plain == set(range(spec.in_channels)) - expected
        if spec.groups == spec.in_channels and order == "channel":
            assert len(lit) == 1  # depthwise: one plane
        out_row, out_col = frame.output
        outs = range(spec.out_channels) if frame.out_channel is None else [frame.out_channel]
        for oc in range(spec.out_channels):
            found = colour_at(pixels, fig.pixel(1, oc, out_row, out_col))
            want = shaded("solarized", theme.output) if oc in outs else theme.output
            assert near(found, want), (index, oc)
        if view == "flat":  # the filter at work is shaded, the others are not
            kernel = blend(theme.shade, theme.background, theme.shade_alpha)
            for oc in range(spec.out_channels):
                for c in spec.channels_read(oc):
                    found = colour_at(pixels, fig.kernel_pixel(0, oc, c, 0, 0))
                    want = shaded("solarized", kernel) if oc in outs else kernel
                    assert near(found, want), (index, oc, c)


@pytest.mark.parametrize("theme", list(THEMES))
@pytest.mark.parametrize("view", ["oblique", "flat"])
def test_group_bands_have_their_groups_colours(view: str, theme: str) -> None:
    fig = figure("grouped", view, theme=theme)
    pixels = fig.render(0)
    spec = SPECS["grouped"]
    colours = GROUP_COLOURS[theme]
    for c in range(spec.in_channels):
        assert near(colour_at(pixels, fig.band_pixel(0, c)), colours[c // 2]), c
    for oc in range(spec.out_channels):
        assert near(colour_at(pixels, fig.band_pixel(1, oc)), colours[spec.group_of(oc)]), oc
    assert colours[0] != colours[1]


def test_every_theme_has_group_colours_apart_from_its_cells() -> None:
    for name, theme in THEMES.items():
        colours = GROUP_COLOURS[name]
        assert len(set(colours)) == len(colours) == MAX_DRAWN_CHANNELS
        for colour in colours:
            for cell in (theme.input, theme.output, theme.background):
                distance = max(
                    abs(a - b) for a, b in zip(hex_rgb(colour), hex_rgb(cell), strict=False)
                )
                assert distance > 40, (name, colour, cell)


def test_no_bands_without_groups() -> None:
    fig = figure("cs231n", "flat")
    assert all(volume.bands is None for volume in fig.volumes)


def test_the_drawing_limit_is_the_kinds() -> None:
    from convanim.kinds.conv import MAX_DRAWN_CHANNELS as KIND_LIMIT

    assert KIND_LIMIT == MAX_DRAWN_CHANNELS


# -- numbers --------------------------------------------------------------------------------

WIDE = np.array([-1.5, 12, 0.25, -7, 99, 3.5, -12, 8])


def numbers(spec: ConvSpec[Any, Any], wide: bool) -> Any:
    x, weight, bias = random_channel_values(spec, 4)
    if wide:
        x = np.resize(WIDE, x.shape)
        weight = np.resize(WIDE[::-1], weight.shape)
    return worked_channels(spec, x, weight, bias)


def inside(inner: Any, outer: tuple[float, float, float, float], slack: float = 0.5) -> bool:
    x0, y0, x1, y1 = outer
    return bool(
        inner.x0 >= x0 - slack
        and inner.x1 <= x1 + slack
        and inner.y0 >= y0 - slack
        and inner.y1 <= y1 + slack
    )


@pytest.mark.parametrize(
    ("name", "wide", "scale"),
    [
        ("cs231n", True, 0.5),
        ("cs231n", False, 1.0),
        ("grouped", True, 1.0),
        ("grouped", False, 2.0),
        ("transposed", True, 2.0),
    ],
)
def test_every_number_fits_inside_its_cell_flat(name: str, wide: bool, scale: float) -> None:
    spec = SPECS[name]
    fig = draw_channels(spec, RenderOptions(view="flat", scale=scale), numbers(spec, wide))
    width, height = fig.size
    for index in some(fig.frame_count):
        fig.draw(index)
        for text, box in fig.texts():
            if text.strip():
                assert inside(box, (0, 0, width, height)), (index, text, box.bounds)
        # Every number's box against the cell it is written in (flat cells are rectangles).
        for text, box, cell in fig.cell_texts():
            assert inside(box, cell), (index, text, box.bounds, cell)


@pytest.mark.parametrize(("name", "scale"), [("cs231n", 0.5), ("depthwise", 1.0)])
def test_every_number_fits_inside_the_image_oblique(name: str, scale: float) -> None:
    spec = SPECS[name]
    fig = draw_channels(spec, RenderOptions(scale=scale), numbers(spec, True))
    width, height = fig.size
    for index in some(fig.frame_count):
        fig.draw(index)
        for text, box in fig.texts():
            if text.strip():
                assert inside(box, (0, 0, width, height)), (index, text, box.bounds)
        # A cell's value is narrower than the cell (a slanted cell is 1.7 cells wide at its
        # middle row, a value at most one).
        for text, box, cell in fig.cell_texts():
            assert box.width <= (cell[2] - cell[0]), (text, box.bounds, cell)


def test_the_sums_are_pytorchs() -> None:
    torch = pytest.importorskip("torch")
    for name in ("cs231n", "grouped", "transposed", "depthwise x2"):
        spec = SPECS[name]
        x, weight, bias = random_channel_values(spec, 7)
        worked = worked_channels(spec, x, weight, bias)
        conv = (
            torch.nn.functional.conv_transpose2d if spec.transposed else torch.nn.functional.conv2d
        )
        keywords: dict[str, Any] = {"stride": spec.stride, "groups": spec.groups}
        if not spec.transposed:
            keywords["padding"] = spec.pads[0][0]
        expected = conv(
            torch.tensor(x[None], dtype=torch.float64),
            torch.tensor(weight, dtype=torch.float64),
            torch.tensor(bias, dtype=torch.float64),
            **keywords,
        )[0].numpy()
        fig = draw_channels(spec, RenderOptions(view="flat"), worked)
        for index in some(fig.frame_count):
            fig.draw(index)
            _, frame = fig.frames[index]
            caption = fig.shown["caption"]
            total = float(caption.split("\n")[-1].rsplit("= ", 1)[1])
            assert total == expected[(frame.out_channel, *frame.output)], (name, index)
            # Each channel's line: its products, then their sum, which the last line adds up.
            lines = caption.split("\n")
            sums = [float(line.rsplit("= ", 1)[1]) for line in lines[:-1]]
            assert sum(sums) + bias[frame.out_channel] == total
            assert len(lines) == len(frame.in_channels) + 1


def test_a_spatial_frame_sums_every_output_channel() -> None:
    spec = SPECS["cs231n"]
    fig = draw_channels(spec, RenderOptions(view="flat"), numbers(spec, False), "spatial")
    fig.draw(4)
    lines = fig.shown["caption"].split("\n")
    assert [line.split(":")[0] for line in lines] == ["out 0", "out 1"]
    assert fig.frame_count == 9


def test_the_cs231n_frame_writes_the_products_and_the_bias() -> None:
    spec = SPECS["cs231n"]
    worked = numbers(spec, False)
    fig = draw_channels(spec, RenderOptions(), worked)
    fig.draw(10)  # output channel 1, cell (0, 1)
    step = worked.step(fig.frames[10][1], 1)
    lines = fig.shown["caption"].split("\n")
    assert lines[0].startswith("in 0: ") and lines[0].count("×") == 9
    assert lines[-1].endswith(f"+ {step.bias:g} (bias) = {step.total:g}")


# -- formats and frames ---------------------------------------------------------------------


def test_gif_frames_are_distinct(tmp_path: Path) -> None:
    path = tmp_path / "grouped.gif"
    result = CliRunner().invoke(
        main,
        [
            "conv",
            "-i",
            "4",
            "-k",
            "3",
            "--in-channels",
            "4",
            "--out-channels",
            "4",
            "--groups",
            "2",
            "--values",
            "-o",
            str(path),
        ],
    )
    assert result.exit_code == 0, result.output
    with Image.open(path) as gif:
        frames = []
        for index in range(gif.n_frames):
            gif.seek(index)
            frames.append(np.asarray(gif.convert("RGB")).tobytes())
    assert len(frames) == 16
    assert len(set(frames)) == len(frames)


@pytest.mark.parametrize("suffix", [".svg", ".pdf", ".png"])
def test_vector_and_strip_outputs(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"figure{suffix}"
    words = [
        "conv",
        "-i",
        "3",
        "-k",
        "2",
        "--in-channels",
        "2",
        "--out-channels",
        "2",
        "--values",
        "--bias",
        "--view",
        "flat",
        "-o",
        str(path),
    ]
    result = CliRunner().invoke(main, words + (["--frame", "2"] if suffix != ".png" else []))
    assert result.exit_code == 0, result.output
    assert path.stat().st_size > 1000


def test_one_dimension_draws_rows_of_cells() -> None:
    spec = ConvSpec(7, 3, dims=1, in_channels=2, out_channels=2)
    fig = draw_channels(spec, RenderOptions(view="flat"), numbers(spec, False))
    fig.draw(6)
    assert fig.shown["caption"].count("\n") == 2
    assert len({fig.render(i).tobytes() for i in range(fig.frame_count)}) == fig.frame_count


# -- the separable kind ---------------------------------------------------------------------


def separable(**options: Any) -> ChannelFigure:
    """The kind's figure, as its save builds it."""
    from convanim.figures import parse_figure

    fig = parse_figure("s", {"kind": "separable", **options})
    kind = fig.declaration
    pair = kind.model(fig)  # type: ignore[attr-defined]
    worked = kind.worked(fig)  # type: ignore[attr-defined]
    return ChannelFigure(
        [
            Stage(pair.depthwise, worked and worked[0], name="dw", output_name="mid"),
            Stage(pair.pointwise, worked and worked[1], name="pw"),
        ],
        RenderOptions(view=fig.options["view"]),
        fig.options["frames"],
        kind.note(pair),  # type: ignore[attr-defined]
    )


def test_separable_depthwise_frames_read_one_plane_pointwise_every_one() -> None:
    fig = separable(input=5, channels=3, **{"out-channels": 4})
    assert fig.frame_count == 3 * 9 + 4 * 9
    for index in (0, 13, 26, 27, 50, 62):
        pixels = fig.render(index)
        stage, frame = fig.frames[index]
        row, col = frame.taps[0]
        lit = {
            c
            for c in range(len(fig.volumes[stage].planes))
            if near(
                colour_at(pixels, fig.pixel(stage, c, row, col)),
                shaded("solarized", fig.volumes[stage].fill),
            )
        }
        assert lit == ({index // 9} if stage == 0 else {0, 1, 2}), index


def test_separable_writes_the_counts_and_matches_pytorch() -> None:
    torch = pytest.importorskip("torch")
    from convanim.figures import parse_figure

    fig = parse_figure(
        "s",
        {
            "kind": "separable",
            "input": 5,
            "channels": 2,
            "multiplier": 2,
            "out-channels": 3,
            "padding": 1,
            "bias": True,
            "values": True,
        },
    )
    kind: Any = fig.declaration
    assert "4·9 + 4·3 = 48 weights" in kind.note(kind.model(fig))
    assert "3·2·9 = 54" in kind.note(kind.model(fig))
    first, second = kind.worked(fig)
    x, weight, bias = random_channel_values(kind.model(fig).depthwise, 0)
    _, pw_weight, pw_bias = random_channel_values(kind.model(fig).pointwise, 0)
    t = lambda a: torch.tensor(a, dtype=torch.float64)  # noqa: E731
    middle = torch.nn.functional.conv2d(t(x[None]), t(weight), t(bias), padding=1, groups=2)
    out = torch.nn.functional.conv2d(middle, t(pw_weight), t(pw_bias))
    assert np.array_equal(first.output, middle[0].numpy())
    assert np.array_equal(second.output, out[0].numpy())
    # PyTorch's own parameter counts of the two layers and of the full convolution.
    dw = torch.nn.Conv2d(2, 4, 3, groups=2, bias=False)
    pw = torch.nn.Conv2d(4, 3, 1, bias=False)
    full = torch.nn.Conv2d(2, 3, 3, bias=False)
    facts = fig.facts()
    assert facts["weights"] == dw.weight.numel() + pw.weight.numel()
    assert facts["full_weights"] == full.weight.numel()


def test_separable_refuses_too_many_channels() -> None:
    runner = CliRunner()
    for words, option in (
        (["--channels", "9"], "--channels"),
        (["--channels", "4", "--multiplier", "3"], "--multiplier"),
        (["--out-channels", "12"], "--out-channels"),
    ):
        result = runner.invoke(main, ["separable", "-i", "5", *words, "-o", "x.gif"])
        assert result.exit_code == 2, result.output
        assert option in result.output and "at most 8" in result.output
        assert "Traceback" not in result.output


def test_separable_json() -> None:
    result = CliRunner().invoke(main, ["info", "separable", "-i", "5", "--bias", "--json"])
    assert result.exit_code == 0, result.output
    facts = json.loads(result.output)
    assert (facts["weights"], facts["full_weights"]) == (39, 108)
    assert (facts["parameters"], facts["full_parameters"]) == (39 + 3 + 4, 108 + 4)
