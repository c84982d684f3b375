"""Tests for ``convanim.rf_render``: receptive-field diagrams, read back from their pixels.

Shading is read at a point a quarter cell up and left of each cell's centre (clear of the tap
dot at the centre and of the grid lines at the edges): fields are filled without antialiasing,
so a cell is shaded exactly when that pixel is the highlight colour. Units of the WaveNet
figure are read at their centres. Every expectation comes from ``convanim.receptive`` (the
geometry) and from colours written out here (the look), never from the renderer's own notes;
the diagrams' ``panels``/``frames`` hooks are checked against both.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from helpers import gif_frames, quantised, words
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from PIL import Image

from convanim.animate import Output, save_rf
from convanim.drawing import STRIP_GAP_PX
from convanim.formats import read_stamp
from convanim.geometry import ConvSpecError
from convanim.options import RenderOptions
from convanim.receptive import (
    LayerSpecError,
    default_input_size,
    dependency_tree,
    layer_sizes,
    receptive_field,
    receptive_field_stats,
)
from convanim.rf_render import DependencyDiagram, FieldStrip
from convanim.theme import THEMES, hex_rgb

Rgb = tuple[int, int, int]
Pair = tuple[int, int]

# The issue's look: conv_arithmetic's Solarized colours, written out; highlight and pale are
# the theme's own.
SOLARIZED = {
    "input": hex_rgb("#268BD2"),
    "output": hex_rgb("#2AA198"),
    "line": hex_rgb("#002B36"),
    "background": hex_rgb("#FFFFFF"),
}


def look(theme: str) -> dict[str, Rgb]:
    colours = THEMES[theme]
    named = {
        "highlight": hex_rgb(colours.highlight),
        "pale": hex_rgb(colours.pale),
    }
    if theme == "solarized":
        return {**SOLARIZED, **named}
    return {
        "input": hex_rgb(colours.input),
        "output": hex_rgb(colours.output),
        "line": hex_rgb(colours.line),
        "background": hex_rgb(colours.background),
        **named,
    }


def same(dilations: tuple[int, ...], kernel: int = 3) -> list[dict[str, Any]]:
    return [{"kernel_size": kernel, "dilation": d, "padding": "same"} for d in dilations]


def causal(dilations: tuple[int, ...], kernel: int = 2) -> list[dict[str, Any]]:
    return [{"kernel_size": kernel, "dilation": d, "padding": "causal"} for d in dilations]


WAVENET = causal((1, 2, 4, 8))

STRIPS: dict[str, tuple[list[dict[str, Any]], Pair | None]] = {
    "yu-koltun": (same((1, 2, 4)), None),  # 15x15, fields 3, 7, 15
    "holes": (same((2, 2)), None),  # 9x9, the field has holes
    "four-panels": (same((1, 2, 4, 8)), None),
    "larger-input": (same((1, 2)), (11, 11)),
    "valid": ([{"kernel_size": 3, "dilation": d} for d in (1, 2)], None),
    "strided": (
        [{"kernel_size": 3, "stride": 2, "padding": 1}, {"kernel_size": 3, "padding": 1}],
        (9, 9),
    ),
    "non-square": ([{"kernel_size": (3, 5), "dilation": (1, 2), "padding": "same"}], (5, 11)),
    "clipped": (same((1, 2, 4)), (9, 9)),  # the last field is larger than the input
}


def pixel(image: np.ndarray, x: float, y: float) -> Rgb:
    r, g, b = (int(v) for v in image[int(y), int(x)])
    return r, g, b


def shaded_cells(image: np.ndarray, strip: FieldStrip, highlight: Rgb) -> set[Pair]:
    """The cells whose fill (read off the centre, clear of the tap dot) is the highlight."""
    rows, cols = strip.geometry.sizes[0]
    quarter = strip.cell_px / 4
    found = set()
    for row in range(rows):
        for col in range(cols):
            x, y = strip.cell_centre(row, col)
            if pixel(image, x - quarter, y - quarter) == highlight:
                found.add((row, col))
    return found


def unit_of(layers: list[dict[str, Any]], size: Pair, depth: int) -> Pair:
    """The centre unit of the output of layer ``depth``, as the strip picks it by default."""
    rows, cols = layer_sizes(layers, size)[depth - 1]
    return (rows - 1) // 2, (cols - 1) // 2


# -- the Yu & Koltun strip -------------------------------------------------------------------


@pytest.mark.parametrize("theme", list(THEMES))
@pytest.mark.parametrize("name", list(STRIPS))
def test_strip_shades_exactly_the_receptive_field(name: str, theme: str) -> None:
    layers, input_size = STRIPS[name]
    strip = FieldStrip(layers, input_size, RenderOptions(theme=theme))
    size = input_size or default_input_size(layers)
    colours = look(theme)
    assert strip.frame_count == len(layers)
    for depth in range(1, len(layers) + 1):
        expected = receptive_field(layers[:depth], size, unit_of(layers, size, depth))
        image = strip.render(depth - 1)
        shaded = shaded_cells(image, strip, colours["highlight"])
        assert shaded == expected, f"panel {depth}"
        assert strip.panels[depth - 1].field == expected
        rows, cols = size
        quarter = strip.cell_px / 4
        for row in range(rows):
            for col in range(cols):
                if (row, col) not in expected:
                    x, y = strip.cell_centre(row, col)
                    assert pixel(image, x - quarter, y - quarter) == colours["input"]


@pytest.mark.parametrize("name", [n for n in STRIPS if n not in ("clipped",)])
def test_strip_captions_are_the_stats(name: str) -> None:
    layers, input_size = STRIPS[name]
    strip = FieldStrip(layers, input_size)
    size = input_size or default_input_size(layers)
    stats = receptive_field_stats(layers, size)
    for depth, field in enumerate(stats, 1):
        strip.draw(depth - 1)
        rows, cols = field.size
        layer = layers[depth - 1]
        kernel = "×".join(str(k) for k in field.kernel) if len(set(field.kernel)) > 1 else ""
        kernel = kernel or str(field.kernel[0])
        assert strip.shown[1] == f"receptive field {rows}×{cols}"
        assert strip.shown[0].startswith(f"layer {depth}: k={kernel}, ")
        assert strip.shown == strip.panels[depth - 1].caption
        if layer.get("stride", 1) != 1:
            assert f"s={layer['stride']}" in strip.shown[0]
        # The shaded extent is the stated size, first to last cell, holes included.
        image = strip.render(depth - 1)
        shaded = np.array(sorted(shaded_cells(image, strip, look("solarized")["highlight"])))
        extent = shaded.max(axis=0) - shaded.min(axis=0) + 1
        assert tuple(extent) == (rows, cols)


def test_yu_koltun_example() -> None:
    """The issue's example: a 15x15 grid, fields 3x3, 7x7, 15x15 centred on the centre cell."""
    strip = FieldStrip(same((1, 2, 4)))
    assert strip.input_size == (15, 15)
    captions = []
    for index, side in enumerate((3, 7, 15)):
        strip.draw(index)
        captions.append(strip.shown)
        half = side // 2
        expected = {
            (row, col) for row in range(7 - half, 8 + half) for col in range(7 - half, 8 + half)
        }
        assert shaded_cells(strip.render(index), strip, look("solarized")["highlight"]) == expected
    assert captions == [
        ("layer 1: k=3, d=1", "receptive field 3×3"),
        ("layer 2: k=3, d=2", "receptive field 7×7"),
        ("layer 3: k=3, d=4", "receptive field 15×15"),
    ]


def test_holes_of_a_dilated_field_stay_unshaded() -> None:
    """Dilation 2 then 2 (no 1): a 9x9 field of which only the even offsets are read."""
    strip = FieldStrip(same((2, 2)))
    assert strip.input_size == (9, 9)
    shaded = shaded_cells(strip.render(1), strip, look("solarized")["highlight"])
    assert shaded == {(row, col) for row in range(0, 9, 2) for col in range(0, 9, 2)}
    assert len(shaded) == 25
    assert (4, 5) not in shaded and (1, 1) not in shaded
    strip.draw(1)
    assert strip.shown[1] == "receptive field 9×9"


@pytest.mark.parametrize("theme", list(THEMES))
def test_taps_are_dots_on_the_cells_the_layer_reads(theme: str) -> None:
    layers = same((1, 2, 4))
    strip = FieldStrip(layers, options=RenderOptions(theme=theme))
    line = look(theme)["line"]
    for depth, dilation in enumerate((1, 2, 4), 1):
        image = strip.render(depth - 1)
        panel = strip.panels[depth - 1]
        # 'same' padding: level depth - 1 overlays the input, so its units are input cells.
        expected = {(7 + dilation * i, 7 + dilation * j) for i in (-1, 0, 1) for j in (-1, 0, 1)}
        assert panel.taps == expected
        assert sorted(panel.tap_points) == sorted(expected)
        rows, cols = strip.geometry.sizes[0]
        dotted = {
            (row, col)
            for row in range(rows)
            for col in range(cols)
            if pixel(image, *strip.cell_centre(row, col)) == line
        }
        assert dotted == expected


def test_taps_of_a_shrinking_level_sit_at_their_fields_centres() -> None:
    """No padding: layer 2 reads units of a 13x13 level, each the centre of a 3x3 field."""
    layers = [{"kernel_size": 3}, {"kernel_size": 3, "dilation": 2}]
    strip = FieldStrip(layers)
    assert strip.input_size == (7, 7)
    panel = strip.panels[1]
    assert panel.unit == (0, 0)
    assert panel.taps == {(r, c) for r in (0, 2, 4) for c in (0, 2, 4)}
    assert sorted(panel.tap_points) == [(r + 1, c + 1) for r in (0, 2, 4) for c in (0, 2, 4)]


def test_output_unit_picks_the_field() -> None:
    layers = same((1, 2))
    strip = FieldStrip(layers, (9, 9), output_unit=(1, -2))
    assert [panel.unit for panel in strip.panels] == [(1, 7), (1, 7)]
    expected = receptive_field(layers, (9, 9), (1, 7))
    assert shaded_cells(strip.render(1), strip, look("solarized")["highlight"]) == expected


def test_one_d_strip() -> None:
    layers = same((1, 2, 4))
    strip = FieldStrip(layers, dims=1)
    assert strip.input_size == 15
    for depth in (1, 2, 3):
        expected = receptive_field(layers[:depth], 15, 7, dims=1)
        shaded = shaded_cells(strip.render(depth - 1), strip, look("solarized")["highlight"])
        assert shaded == {(0, unit) for unit in expected}
    strip.draw(2)
    assert strip.shown == ("layer 3: k=3, d=4", "receptive field 15")


def test_frames_leave_nothing_behind() -> None:
    """A panel drawn after the others equals the same panel drawn first."""
    layers = same((1, 2, 4))
    first = FieldStrip(layers).render(0)
    strip = FieldStrip(layers)
    for index in (2, 1, 0):
        last = strip.render(index)
    assert np.array_equal(first, last)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.fixed_dictionaries(
            {
                "kernel_size": st.integers(1, 4),
                "dilation": st.integers(1, 3),
                "padding": st.sampled_from(["same", "valid", "causal", 0, 1]),
            }
        ),
        min_size=1,
        max_size=3,
    ),
    st.integers(0, 6),
)
def test_any_stack_shades_exactly_its_field(layers: list[dict[str, Any]], extra: int) -> None:
    try:
        low = default_input_size(layers)[0]
    except ConvSpecError:
        return
    side = low + extra
    if side > 40:
        return
    strip = FieldStrip(layers, (side, side))
    for depth, panel in enumerate(strip.panels, 1):
        expected = receptive_field(
            layers[:depth], (side, side), unit_of(layers, (side, side), depth)
        )
        assert panel.field == expected
        assert shaded_cells(strip.render(depth - 1), strip, look("solarized")["highlight"]) == (
            expected
        )


# -- above a transposed layer: each unit's own field ---------------------------------------

# Kernel 3, stride 2, padding 1, then its transposed pair: above it, even units' fields span 3
# cells and odd units' 5, per axis (see tests/test_receptive.py for the cells by hand).
DECODER = [
    {"kernel_size": 3, "stride": 2, "padding": 1},
    {"kernel_size": 3, "stride": 2, "padding": 1, "transposed": True},
]
# A stride-3 transposed layer (sizes 5, 3, 5 per axis) and a direct layer above it (5, 7, 5).
THIRDS = [
    {"kernel_size": 3, "stride": 2, "padding": 1},
    {"kernel_size": 5, "stride": 3, "padding": 1, "transposed": True},
    {"kernel_size": 3, "padding": 1},
]


class HiddenCell(AssertionError):
    """A cell whose fill no pixel shows: a level far finer than the input covers it in dots."""


def filled_cells(image: np.ndarray, strip: FieldStrip, highlight: Rgb) -> set[Pair]:
    """``shaded_cells`` for taps off the cells' centres (a transposed level is spread evenly
    over the input): a cell's fill is read at points around its centre, clear of the grid
    lines; the points no dot covers (or blends) are a fill colour, and they all agree."""
    rows, cols = strip.geometry.sizes[0]
    quarter = strip.cell_px / 4
    fills = {highlight, look(strip.options.theme)["input"]}
    found = set()
    for row, col in np.ndindex(rows, cols):
        x, y = strip.cell_centre(row, col)
        steps = (-quarter, quarter, -1.5 * quarter, 1.5 * quarter, 0)  # more where dots crowd
        probes = [(x + dx, y + dy) for dx in steps for dy in steps]
        seen = {pixel(image, px, py) for px, py in probes} & fills
        if not seen:
            raise HiddenCell((row, col))
        assert len(seen) == 1, (row, col, seen)
        if seen == {highlight}:
            found.add((row, col))
    return found


def extent_of(cells: set[Pair]) -> Pair:
    found = np.array(sorted(cells))
    rows, cols = found.max(axis=0) - found.min(axis=0) + 1
    return int(rows), int(cols)


@pytest.mark.parametrize(
    ("layers", "size", "unit", "captions"),
    [
        pytest.param(DECODER, (9, 9), (2, 2), ["3×3", "3×3 (unit 2,2)"], id="even-even"),
        pytest.param(DECODER, (9, 9), (2, 3), ["3×3", "3×5 (unit 2,3)"], id="even-odd"),
        pytest.param(DECODER, (9, 9), (3, 3), ["3×3", "5×5 (unit 3,3)"], id="odd-odd"),
        pytest.param(DECODER, (12, 9), (3, 2), ["3×3", "5×3 (unit 3,2)"], id="non-square"),
        pytest.param(
            THIRDS, (18, 18), (6, 7), ["3×3", "5×3 (unit 6,7)", "5×7 (unit 6,7)"], id="thirds"
        ),
    ],
)
def test_strip_draws_the_picked_units_own_field(
    layers: list[dict[str, Any]], size: Pair, unit: Pair, captions: list[str]
) -> None:
    """Every panel shades exactly the picked unit's field and states that unit's size, not the
    largest of a period."""
    strip = FieldStrip(layers, size, output_unit=unit)
    stats = receptive_field_stats(layers, size)
    highlight = look("solarized")["highlight"]
    for depth, caption in enumerate(captions, 1):
        expected = receptive_field(layers[:depth], size, unit)
        image = strip.render(depth - 1)
        assert filled_cells(image, strip, highlight) == expected, f"panel {depth}"
        assert strip.panels[depth - 1].unit == unit
        assert strip.shown[1] == f"receptive field {caption}"
        own = stats[depth - 1].size_of(unit)
        assert strip.panels[depth - 1].size == own
        # Away from the input's edges, the shaded extent is the stated size.
        assert extent_of(expected) == own
        if stats[depth - 1].varies:
            assert own != stats[depth - 1].size or unit == (3, 3)  # not the period's largest


def test_neighbours_above_a_transposed_layer_are_drawn_differently() -> None:
    """Units (2, 2) and (2, 3): 3x3 and 3x5 fields, each shaded and captioned as its own."""
    highlight = look("solarized")["highlight"]
    drawn = {}
    for unit in ((2, 2), (2, 3)):
        strip = FieldStrip(DECODER, (9, 9), output_unit=unit)
        image = strip.render(1)
        drawn[unit] = (filled_cells(image, strip, highlight), strip.shown[1])
    assert drawn[(2, 2)] == (
        {(r, c) for r in (1, 2, 3) for c in (1, 2, 3)},
        "receptive field 3×3 (unit 2,2)",
    )
    assert drawn[(2, 3)] == (
        {(r, c) for r in (1, 2, 3) for c in (1, 2, 3, 4, 5)},
        "receptive field 3×5 (unit 2,3)",
    )


def test_default_unit_above_a_transposed_layer_is_each_levels_centre() -> None:
    strip = FieldStrip(DECODER, (11, 11))  # levels 6x6 and 11x11: centres (2, 2) and (5, 5)
    assert [panel.unit for panel in strip.panels] == [(2, 2), (5, 5)]
    strip.draw(1)
    assert strip.shown[1] == "receptive field 5×5 (unit 5,5)"  # odd: 5 cells per axis


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.fixed_dictionaries(
            {
                "kernel_size": st.integers(1, 4),
                "stride": st.integers(1, 3),
                "dilation": st.integers(1, 2),
                "padding": st.integers(0, 2),
                "transposed": st.booleans(),
            }
        ),
        min_size=1,
        max_size=3,
    ),
    st.integers(8, 16),
    st.data(),
)
def test_any_transposed_stack_shades_the_picked_units_field(
    layers: list[dict[str, Any]], side: int, data: st.DataObject
) -> None:
    try:
        levels = layer_sizes(layers, (side, side))
    except ConvSpecError:
        return
    if max(max(level) for level in levels) > 60:
        return
    rows, cols = min(level[0] for level in levels), min(level[1] for level in levels)
    unit = (data.draw(st.integers(0, rows - 1)), data.draw(st.integers(0, cols - 1)))
    strip = FieldStrip(layers, (side, side), output_unit=unit)
    stats = receptive_field_stats(layers, (side, side))
    for depth, panel in enumerate(strip.panels, 1):
        expected = receptive_field(layers[:depth], (side, side), unit)
        assert panel.field == expected
        image = strip.render(depth - 1)
        try:
            filled = filled_cells(image, strip, look("solarized")["highlight"])
        except HiddenCell:
            assume(False)  # dots hide a cell's fill: the picture cannot be read there
        assert filled == expected
        rows_size, cols_size = stats[depth - 1].size_of(unit)
        assert strip.shown[1].startswith(f"receptive field {rows_size}×{cols_size}")


def test_one_d_strip_above_a_transposed_layer() -> None:
    strip = FieldStrip(DECODER, 16, dims=1, output_unit=5)
    assert strip.panels[1].field == {(0, u) for u in range(3, 8)}
    shaded = filled_cells(strip.render(1), strip, look("solarized")["highlight"])
    assert shaded == {(0, u) for u in range(3, 8)}
    assert strip.shown[1] == "receptive field 5 (unit 5)"


def test_tree_captions_each_units_own_field_above_a_transposed_layer() -> None:
    diagram = DependencyDiagram(DECODER, 16)
    assert diagram.frame_count == 15
    for unit in range(2, 15):  # units 0 and 1 reach input -1, which is padding
        tree = dependency_tree(DECODER, 16, unit, dims=1)
        size = 3 if unit % 2 == 0 else 5
        assert len(tree.levels[0]) == size
        diagram.draw(unit)
        assert diagram.shown == (f"output unit {unit}: receptive field {size}",)
        image = diagram.render(unit)
        lit = [
            u
            for u, colour in enumerate(unit_colours(image, diagram, 0))
            if colour != look("solarized")["pale"]
        ]
        assert lit == sorted(tree.levels[0])
    diagram.draw(1)
    assert diagram.shown == ("output unit 1: receptive field 5 (reads 4 input units)",)


# -- the WaveNet picture ---------------------------------------------------------------------


def unit_colours(image: np.ndarray, diagram: DependencyDiagram, level: int) -> list[Rgb]:
    return [
        pixel(image, *diagram.unit_centre(level, unit))
        for unit in range(diagram.level_sizes[level])
    ]


@pytest.mark.parametrize("theme", list(THEMES))
def test_wavenet_highlights_the_dependency_tree(theme: str) -> None:
    diagram = DependencyDiagram(WAVENET, options=RenderOptions(theme=theme))
    colours = look(theme)
    assert diagram.input_size == 16
    assert diagram.frame_count == 16
    top = len(WAVENET)
    for unit in range(16):
        tree = dependency_tree(WAVENET, 16, unit, dims=1)
        frame = diagram.frames[unit]
        assert frame.levels == tree.levels
        assert frame.edges == tree.highlighted
        image = diagram.render(unit)
        for level, size in enumerate(tree.sizes):
            own = colours["output"] if level == top else colours["input"]
            expected = [own if u in tree.levels[level] else colours["pale"] for u in range(size)]
            assert unit_colours(image, diagram, level) == expected, f"unit {unit} level {level}"
            assert frame.pale[level] == frozenset(range(size)) - tree.levels[level]


def test_wavenet_field_is_sixteen() -> None:
    diagram = DependencyDiagram(WAVENET)
    diagram.draw(15)
    assert diagram.shown == ("output unit 15: receptive field 16",)
    assert diagram.frames[15].levels[0] == frozenset(range(16))
    diagram.draw(3)  # causal padding: unit 3 reads inputs 0..3 only
    assert diagram.shown == ("output unit 3: receptive field 16 (reads 4 input units)",)
    assert receptive_field_stats(WAVENET, dims=1)[-1].size == 16


def distance(point: np.ndarray, start: np.ndarray, end: np.ndarray) -> float:
    """From a point to a segment, in pixels."""
    along = np.clip(np.dot(point - start, end - start) / np.dot(end - start, end - start), 0, 1)
    return float(np.linalg.norm(point - (start + along * (end - start))))


def test_wavenet_highlighted_edges_are_drawn() -> None:
    """Midway along a highlighted edge the pixel is the highlight; along any other edge clear
    of the highlighted ones, it is not."""
    diagram = DependencyDiagram(WAVENET)
    image = diagram.render(15)
    highlight = look("solarized")["highlight"]
    tree = dependency_tree(WAVENET, 16, 15, dims=1)
    segments = {
        (layer, edge): (
            np.array(diagram.unit_centre(layer, edge[0])),
            np.array(diagram.unit_centre(layer - 1, edge[1])),
        )
        for layer, edges in enumerate(tree.edges, 1)
        for edge in edges
    }
    lit = [ends for (layer, edge), ends in segments.items() if edge in tree.highlighted[layer - 1]]
    assert len(lit) == sum(map(len, tree.highlighted)) == 30
    for (layer, edge), (start, end) in segments.items():
        middle = (start + end) / 2
        seen = pixel(image, *middle)
        if edge in tree.highlighted[layer - 1]:
            assert seen == highlight, (layer, edge)
        elif min(distance(middle, *ends) for ends in lit) > 4:
            assert seen != highlight, (layer, edge)


def test_wavenet_on_a_longer_input_walks_along_the_output() -> None:
    diagram = DependencyDiagram(WAVENET, 40)
    assert diagram.frame_count == 40
    assert [len(frame.levels[0]) for frame in diagram.frames] == [min(u + 1, 16) for u in range(40)]


def test_levels_that_shrink() -> None:
    """No padding and a stride: every unit's tree is still dependency_tree's."""
    layers = [{"kernel_size": 3, "stride": 2}, {"kernel_size": 3, "stride": 2}, {"kernel_size": 2}]
    diagram = DependencyDiagram(layers, 20)
    assert diagram.level_sizes == (20, 9, 4, 3)
    for unit in range(3):
        tree = dependency_tree(layers, 20, unit, dims=1)
        image = diagram.render(unit)
        assert diagram.frames[unit].levels == tree.levels
        for level in range(4):
            pale = look("solarized")["pale"]
            drawn = unit_colours(image, diagram, level)
            assert {u for u, c in enumerate(drawn) if c != pale} == tree.levels[level]


# -- files ------------------------------------------------------------------------------------


def read_png(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


GIFS: dict[str, tuple[list[dict[str, Any]], int, Any]] = {
    "yu-koltun": (same((1, 2, 4)), 2, None),
    "holes-dark": (same((2, 2)), 2, None),
    "wavenet": (WAVENET, 1, None),
    "wavenet-40": (WAVENET, 1, 40),
}


@pytest.mark.parametrize("name", list(GIFS))
def test_gif_frames_are_the_rendered_frames(tmp_path: Path, name: str) -> None:
    """One frame per layer (2-D) or per output unit (1-D), each the rendered frame quantised."""
    layers, dims, input_size = GIFS[name]
    options = RenderOptions(theme="dark" if name.endswith("dark") else "solarized")
    path = save_rf(layers, Output(tmp_path / "rf.gif"), options, dims=dims, input_size=input_size)
    decoded = gif_frames(path)
    diagram: FieldStrip | DependencyDiagram = (
        FieldStrip(layers, input_size, options)
        if dims == 2
        else DependencyDiagram(layers, input_size, options)
    )
    expected_frames = (
        len(layers) if dims == 2 else layer_sizes(layers, diagram.input_size, dims=1)[-1]
    )
    assert len(decoded) == diagram.frame_count == expected_frames
    for index, gif in enumerate(decoded):
        expected = quantised(diagram.render(index), diagram.colours(), diagram.inks())
        assert np.array_equal(gif, expected), index


def test_every_flat_colour_is_declared() -> None:
    """Large areas of one colour are figure colours, so the GIF palette keeps them exact."""
    for diagram in (FieldStrip(same((1, 2, 4))), DependencyDiagram(WAVENET)):
        declared = {hex_rgb(c) for c in diagram.colours()}
        for index in range(diagram.frame_count):
            pixels = words(diagram.render(index)).reshape(-1)
            colours, counts = np.unique(pixels, return_counts=True)
            for colour in colours[counts > len(pixels) // 200]:  # not text's antialiasing
                rgb = (int(colour) >> 16, (int(colour) >> 8) & 255, int(colour) & 255)
                assert rgb in declared, (type(diagram).__name__, index)


@pytest.mark.parametrize("columns", [None, 2])
def test_png_strip_is_every_panel_side_by_side(tmp_path: Path, columns: int | None) -> None:
    layers = same((1, 2, 4, 8))
    path = save_rf(layers, Output(tmp_path / "rf.png", columns=columns))
    image = read_png(path)
    strip = FieldStrip(layers)
    width, height = strip.size
    per_row = columns or 4
    rows = -(-4 // per_row)
    assert image.shape == (
        rows * height + (rows - 1) * STRIP_GAP_PX,
        per_row * width + (per_row - 1) * STRIP_GAP_PX,
        3,
    )
    for index in range(4):
        row, col = divmod(index, per_row)
        top, left = row * (height + STRIP_GAP_PX), col * (width + STRIP_GAP_PX)
        panel = image[top : top + height, left : left + width]
        assert np.array_equal(panel, strip.render(index)), index


def test_png_of_one_panel(tmp_path: Path) -> None:
    layers = same((1, 2, 4))
    path = save_rf(layers, Output(tmp_path / "rf.png", frame=1))
    assert np.array_equal(read_png(path), FieldStrip(layers).render(1))


@pytest.mark.parametrize(
    ("kwargs", "output", "unit"),
    [
        ({}, {}, 15),
        ({"output_unit": 5}, {}, 5),
        ({"output_unit": -3}, {}, 13),
        ({}, {"frame": 2}, 2),
    ],
)
def test_wavenet_png_is_one_frame(
    tmp_path: Path, kwargs: dict[str, Any], output: dict[str, Any], unit: int
) -> None:
    path = save_rf(WAVENET, Output(tmp_path / "w.png", **output), dims=1, **kwargs)
    assert np.array_equal(read_png(path), DependencyDiagram(WAVENET).render(unit))


@pytest.mark.parametrize(
    ("name", "layers", "dims"),
    [("a.gif", same((1, 2, 4)), 2), ("a.png", same((1, 2)), 2), ("a.gif", WAVENET, 1)],
)
def test_same_call_twice_gives_the_same_bytes(
    tmp_path: Path, name: str, layers: list[dict[str, Any]], dims: int
) -> None:
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    one = save_rf(layers, Output(tmp_path / "one" / name), dims=dims)
    two = save_rf(layers, Output(tmp_path / "two" / name), dims=dims)
    assert one.read_bytes() == two.read_bytes()


def test_scale_multiplies_the_cells() -> None:
    small, large = (
        FieldStrip(same((1, 2))),
        FieldStrip(same((1, 2)), options=RenderOptions(scale=2)),
    )
    assert large.cell_px == 2 * small.cell_px
    assert 14 <= small.cell_px <= 20


def test_cells_fit_the_grid() -> None:
    """~14-20 pixels a cell: larger for small grids, never below 14 for large ones."""
    assert FieldStrip(same((1,)), (5, 5)).cell_px == 20
    assert FieldStrip(same((1,)), (100, 100)).cell_px == 14


def test_captions_fit_inside_the_frame() -> None:
    strip = FieldStrip([{"kernel_size": (3, 5), "stride": (1, 2), "dilation": (2, 1)}], (5, 5))
    strip.draw(0)
    width, height = strip.size
    for text in strip.captions:
        box = text.get_window_extent(strip.renderer)
        assert box.x0 >= 0 and box.x1 <= width and box.y0 >= 0 and box.y1 <= height
    diagram = DependencyDiagram(WAVENET, 40)
    diagram.draw(3)
    box = diagram.caption.get_window_extent(diagram.renderer)
    assert box.x0 >= 0 and box.x1 <= diagram.size[0] and box.y0 >= 0


@pytest.mark.parametrize("suffix", [".svg", ".pdf"])
@pytest.mark.parametrize("dims", [1, 2])
def test_vector_files(tmp_path: Path, suffix: str, dims: int) -> None:
    layers = WAVENET if dims == 1 else same((1, 2, 4))
    one = save_rf(layers, Output(tmp_path / f"one{suffix}"), dims=dims)
    two = save_rf(layers, Output(tmp_path / f"two{suffix}"), dims=dims)
    data = one.read_bytes()
    assert data.startswith(b"<?xml" if suffix == ".svg" else b"%PDF")
    assert data == two.read_bytes()


def test_vector_figure_draws_what_the_frames_draw() -> None:
    """The artists of a vector figure, drawn by Agg, give the raster frames' pixels."""
    strip = FieldStrip(same((2, 2)), (11, 11))
    figure = strip.vector([0, 1], 2)
    tiled = agg_pixels(figure)
    width, height = strip.size
    assert tiled.shape == (height, 2 * width + STRIP_GAP_PX, 3)
    for index in (0, 1):
        left = index * (width + STRIP_GAP_PX)
        assert np.array_equal(tiled[:, left : left + width], strip.render(index))
    diagram = DependencyDiagram(WAVENET, 20)
    for unit in (0, 9, 19):
        assert np.array_equal(agg_pixels(diagram.vector([unit], 1)), diagram.render(unit))


def agg_pixels(figure: Any) -> np.ndarray:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[:, :, :3].copy()


@pytest.mark.parametrize("suffix", [".gif", ".png", ".svg", ".pdf"])
@pytest.mark.parametrize("dims", [1, 2])
def test_files_carry_the_stamp(tmp_path: Path, suffix: str, dims: int) -> None:
    layers = WAVENET if dims == 1 else same((1, 2))
    path = save_rf(layers, Output(tmp_path / f"x{suffix}", stamp="c0ffee"), dims=dims)
    assert read_stamp(path) == "c0ffee"


# -- errors: refused up front, nothing written --------------------------------------------


def files_in(folder: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


ERRORS: list[tuple[str, dict[str, Any], dict[str, Any], str]] = [
    # (file name, save_rf keywords, Output keywords, the parameter named)
    ("x.jpg", {}, {}, "output"),
    ("missing/x.png", {}, {}, "output"),
    ("x.gif", {}, {"frame_ms": 15}, "frame_ms"),
    ("x.gif", {}, {"frame": 0}, "frame"),
    ("x.svg", {}, {"frame": 3}, "frame"),
    ("x.png", {}, {"frame": 3}, "frame"),
    ("x.png", {}, {"columns": 0}, "columns"),
    ("x.png", {"dims": 3}, {}, "dims"),
    ("x.png", {"input_size": 129}, {}, "input_size"),
    ("x.png", {"input_size": (5, 200)}, {}, "input_size"),
    ("x.png", {"input_size": 0}, {}, "input_size"),
    ("x.png", {"layers": same((64, 64))}, {}, "layers"),  # default input 257x257
    ("x.png", {"layers": []}, {}, "layers"),
    ("x.png", {"layers": "3,3"}, {}, "layers"),
    ("x.png", {"layers": same((1,)) * 40}, {}, "layers"),
    ("x.png", {"output_unit": (15, 0)}, {}, "output_unit"),
    ("x.png", {"output_unit": 3}, {}, "output_unit"),
    ("x.png", {"layers": [{"kernel_size": 3, "dilation": 4}], "input_size": 5}, {}, "output_size"),
    ("x.png", {"layers": same((1,)), "input_size": 128}, {}, "scale"),
    ("x.gif", {"dims": 1, "input_size": 513}, {}, "input_size"),
    ("x.gif", {"dims": 1, "layers": causal(tuple(2**i for i in range(10)))}, {}, "layers"),
    ("x.gif", {"dims": 1, "output_unit": 3}, {}, "output_unit"),
    ("x.png", {"dims": 1, "output_unit": 16}, {}, "output_unit"),
    ("x.png", {"dims": 1, "output_unit": 1}, {"frame": 1}, "frame"),
    ("x.png", {"dims": 1}, {"columns": 2}, "columns"),
    ("x.png", {"dims": 1, "input_size": (4, 4)}, {}, "input_size"),
    ("x.gif", {"dims": 1, "input_size": 40}, {"max_frames": 30}, "max_frames"),
    (
        "x.gif",
        {"dims": 1, "layers": causal((1,), kernel=300), "input_size": 400},
        {},
        "kernel_size",
    ),
]


@pytest.mark.parametrize(("name", "kwargs", "output", "param"), ERRORS)
def test_errors_name_the_parameter_and_write_nothing(
    tmp_path: Path, name: str, kwargs: dict[str, Any], output: dict[str, Any], param: str
) -> None:
    options = RenderOptions(scale=10) if param == "scale" else None
    kwargs = dict(kwargs)
    dims = kwargs.get("dims", 2)
    layers = kwargs.pop("layers", WAVENET if dims == 1 else same((1, 2, 4)))
    existing = tmp_path / "x.png"
    existing.write_bytes(b"keep me")
    before = files_in(tmp_path)
    with pytest.raises(ConvSpecError) as error:
        save_rf(layers, Output(tmp_path / name, **output), options, **kwargs)
    assert error.value.param == param
    assert str(error.value).startswith(f"{param}: ") or isinstance(error.value, LayerSpecError)
    assert files_in(tmp_path) == before


@pytest.mark.parametrize(
    ("layer", "param"),
    [
        ({"kernel_size": 0}, "kernel_size"),
        ({"kernal_size": 3}, "kernal_size"),
        ({"padding": "x"}, "padding"),
    ],
)
@pytest.mark.parametrize("dims", [1, 2])
def test_bad_layers_are_layer_errors(
    tmp_path: Path, layer: dict[str, Any], param: str, dims: int
) -> None:
    with pytest.raises(LayerSpecError) as error:
        save_rf([{"kernel_size": 3}, layer], Output(tmp_path / "x.gif"), dims=dims)
    assert (error.value.layer, error.value.param) == (2, param)
    assert os.listdir(tmp_path) == []


def test_bad_options_are_refused_by_render_options() -> None:
    with pytest.raises(ConvSpecError) as error:
        FieldStrip(same((1,)), options=RenderOptions(theme="neon"))
    assert error.value.param == "theme"


def test_draw_boxes_cover_every_change() -> None:
    """Outside the box a frame returns, its pixels are the background's."""
    for diagram in (FieldStrip(same((2, 2))), DependencyDiagram(WAVENET, 24)):
        for index in range(diagram.frame_count):
            box = diagram.draw(index)
            frame = diagram.rgba()[:, :, :3].copy()
            diagram.page.restore(diagram.cached)
            plain = diagram.rgba()[:, :, :3].copy()
            top, bottom, left, right = box
            outside = np.ones(frame.shape[:2], dtype=bool)
            outside[top:bottom, left:right] = False
            assert np.array_equal(frame[outside], plain[outside]), index


# -- the command line, above a transposed layer -------------------------------------------

DECODER_ARGS = ["rf", "-k", "3", "-s", "2", "-p", "1", "--transposed", "0,1"]


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (
            [*DECODER_ARGS, "-i", "9", "--unit", "4,5"],
            "Error: --unit: got 4,5; expected a (row, col) every layer's output has: rows 0 to "
            "4, cols 0 to 4",
        ),
        (
            [*DECODER_ARGS, "--dims", "1", "-i", "16", "--unit", "15"],
            "Error: --unit: got 15; expected a unit of the 15-unit output of layer 2, 0 to 14",
        ),
        (
            [*DECODER_ARGS[:-1], "0,2"],
            "Error: --transposed: got '0,2'; expected 0 or 1 per layer (1: transposed)",
        ),
        (
            ["rf", "-k", "3", "-s", "2", "--transposed", "0,1"],
            "Error: --padding: layer 2: got 'same'; a transposed convolution takes an integer",
        ),
        (
            [*DECODER_ARGS, "--output-padding", "1"],
            "Error: --output-padding: layer 1: ",
        ),
    ],
)
def test_command_line_refusals_above_a_transposed_layer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], line: str
) -> None:
    import inspect

    from click.testing import CliRunner

    from convanim.cli import main

    monkeypatch.chdir(tmp_path)
    kwargs = (
        {"mix_stderr": False} if "mix_stderr" in inspect.signature(CliRunner).parameters else {}
    )
    result = CliRunner(**kwargs).invoke(main, [*args, "-o", "x.png"])
    assert result.exit_code == 2, result.output
    assert result.stderr.count("\n") == 1 and result.stderr.startswith(line), result.stderr
    assert list(tmp_path.iterdir()) == []


def test_command_line_draws_the_picked_unit(tmp_path: Path) -> None:
    """The strip the command writes is the library's, panel for panel."""
    from click.testing import CliRunner

    from convanim.cli import main

    path = tmp_path / "decoder.png"
    result = CliRunner().invoke(main, [*DECODER_ARGS, "-i", "9", "--unit", "2,3", "-o", str(path)])
    assert result.exit_code == 0, result.output
    strip = FieldStrip(DECODER, (9, 9), output_unit=(2, 3))
    written = read_png(path)
    width, height = strip.size
    for index in range(2):
        x0 = index * (width + STRIP_GAP_PX)
        assert np.array_equal(written[:height, x0 : x0 + width], strip.render(index))
