"""Layer lines (``convanim.layer_source`` and the ``layer`` kind): how each constructor's line
is read, what it means, and what is refused; checked against PyTorch itself on random layers.

The PyTorch signatures are those of torch.nn's documentation (torch 2.13: Conv2d(in_channels,
out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True,
padding_mode='zeros', device=None, dtype=None); ConvTranspose2d(..., stride=1, padding=0,
output_padding=0, groups=1, bias=True, dilation=1, padding_mode='zeros', ...); MaxPool2d(
kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False);
AvgPool2d(kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
divisor_override=None)); the torch tests below check that reading against the modules.
"""

from __future__ import annotations

import inspect
import re
import warnings
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from convanim.cli import main
from convanim.errors import ParameterError
from convanim.figures import FigureError, parse_figure
from convanim.kinds import get
from convanim.layer_source import CONSTRUCTORS, REQUIRED, describe, parse_call
from convanim.values import evaluate


@pytest.fixture
def runner() -> CliRunner:
    if "mix_stderr" in inspect.signature(CliRunner.__init__).parameters:  # Click 8.1
        return CliRunner(mix_stderr=False)  # type: ignore[call-arg]
    return CliRunner()


def figure(line: str, input: Any, limits: bool = True, **options: Any) -> Any:
    description = {"kind": "layer", "layer": line, "input": input, **options}
    return parse_figure("t", description, limits=limits)


# -- reading: positional and keyword, defaults --------------------------------------------------

READ = [
    # (line, input, drawing kind, options that must be there, framework's output size)
    ("nn.Conv2d(3, 64, 7, 2, 3)", 12, "conv", {"kernel": 7, "stride": 2, "padding": 3}, (6, 6)),
    (
        "torch.nn.Conv2d(in_channels=3, out_channels=64, kernel_size=7, stride=2, padding=3)",
        12,
        "conv",
        {"kernel": 7, "stride": 2, "padding": 3, "dilation": 1},
        (6, 6),
    ),
    ("Conv2d(1, 1, (3, 5), dilation=(2, 1))", 9, "conv", {"kernel": [3, 5]}, (5, 5)),
    ("nn.Conv2d(1, 1, 3, 1, 'same', 2)", 7, "conv", {"padding": "same", "dilation": 2}, (7, 7)),
    ("nn.Conv2d(1, 1, 4, padding='same')", 6, "conv", {"padding": "same"}, (6, 6)),
    ("nn.Conv1d(2, 4, 3, 2, 1)", 8, "conv", {"dims": 1, "stride": 2, "padding": 1}, (4,)),
    ("nn.Conv3d(1, 1, 3, padding=1)", 4, "conv", {"dims": 3, "padding": 1}, (4, 4, 4)),
    # ConvTranspose2d's order: ..., padding, output_padding, groups, bias, dilation
    (
        "nn.ConvTranspose2d(1, 1, 3, 2, 1, 1, 1, True, 1)",
        3,
        "conv",
        {"transposed": True, "padding": 1, "output-padding": 1},
        (6, 6),
    ),
    ("nn.ConvTranspose1d(1, 1, 4, stride=2, padding=1)", 5, "conv", {"dims": 1}, (10,)),
    ("nn.MaxPool2d(2)", 6, "pool", {"mode": "max", "kernel": 2, "stride": 2}, (3, 3)),
    ("nn.MaxPool2d(3, 2, 1, 1, False, True)", 6, "pool", {"ceil-mode": True}, (4, 4)),
    (
        "nn.AvgPool2d(3, 2, 1, False, False, 5)",
        6,
        "pool",
        {"mode": "avg", "count-include-pad": False, "divisor-override": 5},
        (3, 3),
    ),
    ("nn.AvgPool1d(2)", 7, "pool", {"dims": 1, "stride": 2}, (3,)),
    ("nn.MaxPool3d(2, 2)", 4, "pool", {"dims": 3}, (2, 2, 2)),
    # Keras: Conv2D(filters, kernel_size, strides=1, padding='valid', data_format=None,
    # dilation_rate=1, groups=1, activation=None, use_bias=True, ...)
    ("layers.Conv2D(64, 3)", 7, "conv", {"padding": "valid", "stride": 1}, (5, 5)),
    ("keras.layers.Conv2D(64, 3, 2, 'same')", 7, "conv", {"padding": "same"}, (4, 4)),
    ("tf.keras.layers.Conv2D(8, 3, padding='SAME', dilation_rate=2)", 7, "conv", {}, (7, 7)),
    (
        "layers.Conv1D(8, 3, padding='causal', dilation_rate=2)",
        9,
        "conv",
        {"padding": [4, 0]},
        (9,),
    ),
    ("layers.Conv3D(8, 3, strides=2, padding='same')", 5, "conv", {"dims": 3}, (3, 3, 3)),
    ("layers.MaxPooling2D()", 7, "pool", {"kernel": 2, "stride": 2}, (3, 3)),
    ("layers.MaxPooling2D(3, 2, 'same')", 7, "pool", {"padding": "same"}, (4, 4)),
    (
        "layers.AveragePooling2D(pool_size=(2, 2), padding='same')",
        5,
        "pool",
        {"mode": "avg", "count-include-pad": False},
        (3, 3),
    ),
    ("layers.DepthwiseConv2D(3, 2, 'same', 2)", 8, "conv", {"stride": 2}, (4, 4)),
    ("layers.SeparableConv2D(4, 3, padding='same')", [1, 5, 5, 3], "separable", {}, (5, 5)),
    # Keras 3's Conv2DTranspose: (filters, kernel_size, strides=1, padding='valid',
    # output_padding=None, data_format=None, dilation_rate=1, ...)
    ("layers.Conv2DTranspose(1, 3, 2, 'same')", 3, "conv", {"padding": [[0, 1], [0, 1]]}, (6, 6)),
    ("layers.Conv2DTranspose(1, 4, 2, 'same')", 3, "conv", {"padding": 1}, (6, 6)),
    ("layers.Conv2DTranspose(1, 3, 2)", 3, "conv", {"padding": 0}, (7, 7)),
    ("layers.Conv2DTranspose(1, 2, 3)", 3, "conv", {"output-padding": 1}, (9, 9)),
    ("layers.Conv2DTranspose(1, 3, 2, 'same', 1)", 3, "conv", {}, (6, 6)),
    # Flax: Conv(features, kernel_size, strides=1, padding='SAME', input_dilation=1,
    # kernel_dilation=1, feature_group_count=1, use_bias=True, ...)
    ("nn.Conv(8, (3, 3))", 7, "conv", {"padding": "same"}, (7, 7)),
    ("flax.linen.Conv(8, (3, 3), 2)", 7, "conv", {"padding": "same", "stride": 2}, (4, 4)),
    ("nn.Conv(8, 3, padding='VALID')", 7, "conv", {"dims": 1}, (5,)),
    ("nn.Conv(8, (3, 3), padding=((0, 1), (2, 0)))", 5, "conv", {}, (4, 5)),
    ("nn.Conv(8, (4,), strides=2, padding='SAME_LOWER')", 7, "conv", {"padding": [2, 1]}, (4,)),
    ("nn.Conv(8, (3,), padding='CAUSAL', kernel_dilation=2)", 6, "conv", {"padding": [4, 0]}, (6,)),
    ("nn.Conv(8, (3, 3), feature_group_count=2)", [1, 6, 6, 4], "conv", {}, (6, 6)),
    (
        "nn.ConvTranspose(8, (3, 3), strides=(2, 2))",
        3,
        "conv",
        {"padding": [[0, 1], [0, 1]]},
        (6, 6),
    ),
    ("nn.ConvTranspose(8, (4, 4), strides=2, padding='VALID')", 3, "conv", {}, (8, 8)),
    ("nn.Conv(8, (3,), input_dilation=2, padding=0)", 4, "conv", {"padding": 2}, (5,)),
    ("nn.Conv(8, (3,), input_dilation=2, padding=((1, 2),))", 4, "conv", {}, (8,)),
]


@pytest.mark.parametrize(("line", "size", "kind", "options", "output"), READ)
def test_lines_are_read_as_documented(
    line: str, size: Any, kind: str, options: dict[str, Any], output: tuple[int, ...]
) -> None:
    found = describe(line, size)
    assert found.kind == kind
    for key, value in options.items():
        assert found.options[key] == value, (key, found.options[key], value)
    assert found.output_size == output
    drawn = figure(line, size)
    spec = drawn.model
    spec = spec.depthwise if kind == "separable" else spec
    assert tuple(spec.output_size) == output  # convanim's geometry agrees with the rule


def test_the_issues_example() -> None:
    drawn = figure("nn.Conv2d(3, 64, kernel_size=7, stride=2, padding=3)", 12)
    facts = drawn.facts()
    assert facts["output_size"] == [6, 6]
    assert (facts["layer_in_channels"], facts["layer_out_channels"]) == (3, 64)
    assert facts["channels_drawn"] is False
    assert facts["ignored"] == {}
    assert facts["arguments"]["bias"] is True
    assert "3 input channels, 64 output channels" in drawn.alt_text()


def test_keras_same_is_tensorflows_rule_in_words() -> None:
    found = describe("layers.Conv2D(64, 3, strides=2, padding='same')", 12)
    assert "Keras Conv2D with padding='same' and strides 2: TensorFlow's rule, output " in (
        found.meaning
    )
    assert "ceil(12/2) = 6" in found.meaning


def test_arguments_that_do_not_change_the_picture_are_named() -> None:
    found = describe(
        "layers.Conv2D(8, 3, activation='relu', use_bias=False, kernel_initializer='he_normal',"
        " name='c1')",
        5,
    )
    assert found.ignored == {
        "activation": "relu",
        "use_bias": False,
        "kernel_initializer": "he_normal",
        "name": "c1",
    }
    info = figure("nn.Conv2d(3, 8, 3, bias=False, device='cpu')", 5).info()
    assert "accepted, not drawn: bias=False, device='cpu'" in info.splitlines()


def test_the_layer_kind_spells_values_as_every_option_does() -> None:
    """The layer kind's facts, info and input errors use ``convanim.params``'s helpers: tuples
    as lists all the way down (inside dicts too), strings quoted."""
    import json

    from convanim.params import plain, shown

    assert plain({"k": (3, (1, 2)), "s": "same"}) == {"k": [3, [1, 2]], "s": "same"}
    assert (shown("same"), shown((1, 2)), shown(None)) == ("'same'", "(1, 2)", "None")
    facts = figure("nn.Conv2d(2, 4, (3, 1), padding=(1, 0), device='cpu')", 5).facts()
    assert facts["arguments"]["kernel_size"] == [3, 1]
    assert facts["arguments"]["padding"] == [1, 0] and facts["ignored"] == {"device": "cpu"}
    assert json.loads(json.dumps(facts)) == facts
    for size, message in [
        ("5,x", "input: got '5,x'; expected a size like 12 or 12,16"),
        ([5, True], "input: got [5, True]; expected integers, like 12 or 1,3,32,32"),
        ("1,2,0", "input: got [1, 2, 0]; expected integers >= 1"),
    ]:
        with pytest.raises(FigureError, match=re.escape(message)):
            figure("nn.Conv2d(2, 4, 3)", size)


def test_source_lines_around_the_call() -> None:
    for line in (
        "self.conv1 = nn.Conv2d(3, 64, 3)",
        "x = layers.Conv2D(64, 3)(x)",
        "nn.Conv2d(3, 64, 3),",
        "conv: nn.Module = nn.Conv2d(3, 64, 3)",
        "  nn.Conv2d(3, 64, 3)  ",
    ):
        assert parse_call(line).name in ("Conv2d", "Conv2D")


def test_a_shape_gives_the_channels_in_the_frameworks_order() -> None:
    assert describe("nn.Conv2d(3, 8, 3)", [1, 3, 10, 12]).output_size == (8, 10)
    keras = describe("layers.Conv2D(8, 3)", [1, 10, 12, 3])
    assert (keras.in_channels, keras.output_size) == (3, (8, 10))
    first = describe("layers.Conv2D(8, 3, data_format='channels_first')", [1, 3, 10, 12])
    assert (first.in_channels, first.output_size) == (3, (8, 10))
    assert describe("nn.Conv2d(3, 8, 3)", [3, 10, 10]).output_size == (8, 8)  # unbatched
    with pytest.raises(ParameterError, match="has 4 channels; Conv2d\\(\\) expects 3"):
        describe("nn.Conv2d(3, 8, 3)", [1, 4, 10, 10])


def test_readable_channels_are_drawn_with_their_channels() -> None:
    assert figure("nn.Conv2d(2, 4, 3, groups=2)", 5).facts()["channels_drawn"] is True
    assert figure("nn.Conv2d(2, 4, 3)", 5, channel_view="off").facts()["in_channels"] == 1
    many = figure("nn.Conv2d(3, 64, 3, groups=1)", 5).facts()
    assert many["channels_drawn"] is False and many["layer_out_channels"] == 64
    separable = figure("layers.SeparableConv2D(4, 3)", [1, 5, 5, 3]).facts()
    assert separable["drawn_as"] == "separable"
    assert figure("layers.SeparableConv2D(4, 3)", 5).facts()["drawn_as"] == "conv"


def _accepted(description: dict[str, Any]) -> bool:
    """Whether the kind named in ``description`` draws it (every check, limits included)."""
    try:
        parse_figure("t", description, limits=True)
    except FigureError:
        return False
    return True


# (in_channels, out_channels, groups): each side of the limit, grouped; in 1-D to 3-D.
COUNTS = [(1, 1, 1), (1, 2, 1), (2, 4, 2), (8, 8, 1), (8, 8, 8), (9, 8, 1), (8, 9, 1), (3, 64, 1)]
CONV_CHANNELS = [(*counts, dims) for dims in (1, 2, 3) for counts in COUNTS]


@pytest.mark.parametrize(("ins", "outs", "groups", "dims"), CONV_CHANNELS)
def test_the_layer_draws_the_channels_that_the_conv_kind_draws(
    ins: int, outs: int, groups: int, dims: int
) -> None:
    """One rule: a layer's channels are drawn exactly where the conv kind accepts a figure of
    those channels (one of each being the plain figure)."""
    size = 4 if dims == 3 else 5
    line = f"nn.Conv{dims}d({ins}, {outs}, 3, groups={groups})"
    drawn = figure(line, size).facts()
    conv = {"kind": "conv", "input": size, "kernel": 3, "dims": dims}
    counts = {"in-channels": ins, "out-channels": outs, "groups": groups}
    expected = (ins, outs, groups) != (1, 1, 1) and _accepted({**conv, **counts})
    assert drawn["channels_drawn"] is expected
    assert drawn["in_channels"] == (ins if expected else 1)
    assert drawn["out_channels"] == (outs if expected else 1)


# (channels, depth_multiplier, filters)
SEPARABLE_CHANNELS = [(1, 1, 1), (3, 1, 4), (4, 2, 8), (4, 3, 4), (9, 1, 4), (3, 1, 9), (8, 1, 8)]


@pytest.mark.parametrize(("ins", "multiplier", "outs"), SEPARABLE_CHANNELS)
def test_the_layer_draws_the_separable_pairs_that_the_separable_kind_draws(
    ins: int, multiplier: int, outs: int
) -> None:
    """A SeparableConv2D is drawn as the pair exactly where the separable kind accepts those
    counts; elsewhere its depthwise layer alone, one channel."""
    line = f"layers.SeparableConv2D({outs}, 3, depth_multiplier={multiplier})"
    drawn = figure(line, [1, 5, 5, ins]).facts()
    counts = {"channels": ins, "multiplier": multiplier, "out-channels": outs}
    expected = _accepted({"kind": "separable", "input": 5, "kernel": 3, **counts})
    assert drawn["channels_drawn"] is expected
    assert drawn["drawn_as"] == ("separable" if expected else "conv")


@pytest.mark.parametrize(
    ("line", "size"),
    [
        ("layers.SeparableConv2D(4, 3, strides=2, padding='same')", [1, 7, 7, 3]),
        ("layers.SeparableConv2D(4, 3, depth_multiplier=2)", [1, 6, 6, 3]),
        ("layers.SeparableConv2D(4, 3, dilation_rate=2)", [1, 7, 7, 2]),
    ],
)
def test_a_separable_layer_in_one_channel_is_its_depthwise_layer(
    line: str, size: list[int]
) -> None:
    """Without its channel view, a separable layer is the separable kind's depthwise layer in
    one channel, drawn by the conv kind (``Separable.one_channel``)."""
    pair = figure(line, size).model
    alone = figure(line, size, channel_view="off")
    assert alone.facts()["drawn_as"] == "conv"
    one = {"in_channels": 1, "out_channels": 1, "groups": 1}
    assert alone.model == replace(pair.depthwise, **one)
    kind, drawn = get("separable").one_channel({"multiplier": 2, "out-channels": 4, "kernel": 3})
    assert (kind, drawn) == ("conv", {"kernel": 3, "dims": 2})


def test_the_channel_rules_are_the_kinds_own() -> None:
    """The kinds' checks and the layer kind ask the same functions: what they refuse is what
    the figures' own checks raise, word for word."""
    from convanim.kinds.conv import channel_refusal
    from convanim.kinds.separable import channel_refusal as separable_refusal

    refusal = channel_refusal(9, 2, 1, 2)
    assert refusal is not None and refusal.param == "in_channels"
    with pytest.raises(FigureError, match=re.escape(refusal.detail)):
        parse_figure("t", {"kind": "conv", "input": 5, "kernel": 3, "in-channels": 9})
    assert channel_refusal(8, 8, 1, 2) is None and channel_refusal(1, 2, 1, 3) is not None
    refusal = separable_refusal(3, 3, 4)
    assert refusal is not None and refusal.param == "multiplier"
    with pytest.raises(FigureError, match=re.escape(refusal.detail)):
        parse_figure("t", {"kind": "separable", "input": 5, "channels": 3, "multiplier": 3})
    assert separable_refusal(4, 2, 8) is None


@pytest.mark.parametrize(
    "words", [["--info"], ["--info", "--json"], ["-o", "x.gif"], ["-o", "x.png", "--poster"]]
)
def test_a_command_reads_its_layer_line_once(
    words: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Checks, alt text, info and drawing ask for the line's meaning and the inner figure
    many times; each is made once per figure."""
    import convanim.kinds.layer as layer

    made = {"describe": 0, "inner": 0}
    describe_once, make_inner = layer.describe, layer.Layer.make_inner

    def counted_describe(*args: Any) -> Any:
        made["describe"] += 1
        return describe_once(*args)

    def counted_inner(self: Any, figure: Any) -> Any:
        made["inner"] += 1
        return make_inner(self, figure)

    monkeypatch.setattr(layer, "describe", counted_describe)
    monkeypatch.setattr(layer.Layer, "make_inner", counted_inner)
    layer._described.cache_clear()
    layer._inner.cache_clear()
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["layer", "nn.Conv2d(2, 4, 3, groups=2)", "-i", "5", *words])
    assert result.exit_code == 0, result.output
    assert made == {"describe": 1, "inner": 1}


def test_a_remembered_layer_is_its_own_figures() -> None:
    """What is remembered is keyed by everything that makes the figure: another input, line,
    option or base is another figure."""
    first = figure("nn.Conv2d(1, 1, 3)", 5)
    assert figure("nn.Conv2d(1, 1, 3)", 5).facts() == first.facts()
    assert figure("nn.Conv2d(1, 1, 3)", 6).model.output_size == (4, 4)
    assert figure("nn.Conv2d(1, 1, 2)", 5).model.output_size == (4, 4)
    assert figure("nn.Conv2d(1, 1, 3)", 5, view="flat").facts()["command"].endswith("--view flat")
    moved = replace(first, base=Path("elsewhere"))
    assert get("layer").inner(moved).base == Path("elsewhere")
    assert get("layer").inner(first).base == first.base


# -- refused: one line, nothing run ---------------------------------------------------------------

BAD = [
    ("__import__('os').system('touch pwned')", "constructor __import__('os') is not understood"),
    ("nn.Conv2d(3, x, 3)", "the variable 'x'"),
    ("nn.Conv2d(3, 64, int('3'))", "a call inside the arguments (int('3'))"),
    ("nn.Conv2d(3, 64, 1 + 2)", "the expression 1 + 2"),
    ("nn.Conv2d(3, 64, *sizes)", "an unpacked argument"),
    ("nn.Conv2d(3, 64, 3, **kw)", "**kw is not understood"),
    ("nn.Conv2d(3, 64, cfg.k)", "the name 'cfg.k'"),
    ("nn.Conv2d(3, 64, 3); import os", "holds 2 statements"),
    ("import os", "is not a layer's constructor"),
    ("nn.Conv2d", "is not a call"),
    ("nn.Conv2d(3, 64, 3", "is not a Python line"),
    ("nn.Linear(3, 64)", "nn.Linear is not a layer convanim knows"),
    ("nn.Conv2D(3, 64, 3)", "Conv2D is Keras's"),
    ("layers.Conv2d(3, 64, 3)", "Conv2d is PyTorch's"),
    ("nn.Conv2d(3, 64)", "Conv2d() needs kernel_size"),
    ("nn.Conv2d(3, 64, 3, stride=2, strid=1)", "did you mean stride?"),
    ("nn.Conv2d(3, 64, 3, kernel_size=3)", "got kernel_size twice"),
    ("nn.MaxPool2d(2, 2, 0, 1, False, False, 9)", "takes at most 6 positional arguments"),
    ("nn.Conv2d(3, 64, (3, 3, 3))", "kernel_size=(3, 3, 3): expected an integer >= 1 or a tuple"),
    ("nn.Conv2d(3, 64, 3, stride=0)", "stride=0"),
    ("nn.Conv2d(3, 64, 3, bias='yes')", "bias='yes': expected True or False"),
    ("nn.Conv2d(3, 64, 3, padding='SAME')", "padding='SAME': expected 'same', 'valid'"),
    ("nn.Conv2d(3, 64, 3, stride=2, padding='same')", "PyTorch refuses it"),
    ("nn.Conv2d(3, 64, 3, groups=2)", "in_channels=3 is not divisible by groups=2"),
    ("nn.ConvTranspose2d(1, 1, 3, padding='same')", "padding='same': expected an integer"),
    ("nn.AvgPool1d(2, divisor_override=2)", "AvgPool1d() has no argument divisor_override"),
    ("layers.Conv2D(8, 3, strides=2, dilation_rate=2)", "Keras refuses strides > 1 together"),
    ("layers.Conv2D(8, 3, padding='causal')", "padding='causal': expected one of 'valid'"),
    ("layers.Conv2D(6, 3, groups=4)", "filters to be divisible by groups"),
    ("layers.Conv2DTranspose(1, 3, 2, output_padding=2)", "output_padding smaller than strides"),
    ("nn.Conv(8, (3, 3), padding='FULL')", "padding='FULL': expected 'SAME'"),
    ("nn.Conv(8, (3, 3), strides=(1, 1, 1))", "the kernel has 2 dimensions"),
    ("nn.Conv(8, (3, 3), strides=2, input_dilation=2)", "is no transposed convolution"),
    ("nn.Conv(8, (3,), input_dilation=2)", "jax.lax refuses string padding"),
    ("jax.lax.conv_general_dilated(x, w, (1, 1), 'SAME')", "jax.lax's functions take the arrays"),
    ("nn.Conv2d(3, 64, b'3')", "b'3' is not understood"),
]


@pytest.mark.parametrize(("line", "message"), BAD)
def test_bad_lines_are_one_line_naming_what(line: str, message: str) -> None:
    with pytest.raises(ParameterError) as error:
        describe(line, 7)
    assert error.value.param == "layer"
    assert message in error.value.detail, error.value.detail
    assert "\n" not in str(error.value)


@pytest.mark.parametrize(("line", "message"), BAD[:8])
def test_bad_lines_exit_2_and_write_nothing(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, line: str, message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(main, ["layer", line, "-i", "7", "-o", "x.gif"])
    assert result.exit_code == 2, result.output
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("Error: --layer: ")
    assert message in result.stderr
    assert list(tmp_path.iterdir()) == []  # no x.gif, no pwned


def test_nothing_in_the_line_is_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "written"
    line = f"nn.Conv2d(3, open({str(target)!r}, 'w').write('x'), 3)"
    with pytest.raises(ParameterError):
        describe(line, 7)
    assert not target.exists()


def test_the_input_is_named_when_it_is_wrong(runner: CliRunner) -> None:
    result = runner.invoke(main, ["layer", "nn.Conv2d(3, 8, 3)", "-i", "1,3,5", "-o", "x.gif"])
    assert result.exit_code == 0 or "--input" in result.stderr  # C,H,W is a shape: unbatched
    result = runner.invoke(main, ["layer", "nn.Conv2d(3, 8, 3)", "-i", "1,2,3,4,5", "--info"])
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: --input: got 5 numbers")
    result = runner.invoke(main, ["info", "layer", "nn.Conv2d(3, 8, 3)"])
    assert result.exit_code == 2 and "--input: missing" in result.stderr


def test_the_line_once(runner: CliRunner) -> None:
    words = ["info", "layer", "nn.Conv2d(1, 1, 3)", "--layer", "nn.Conv2d(1, 1, 3)", "-i", "5"]
    result = runner.invoke(main, words)
    assert result.exit_code == 2 and "given twice" in result.stderr


def test_options_of_another_kind_are_refused() -> None:
    with pytest.raises(FigureError, match="kernel-values: a MaxPool2d has no kernel values"):
        figure("nn.MaxPool2d(2)", 4, kernel_values=[[1, 0], [0, 1]])


def test_an_invalid_combination_is_named_by_the_layer() -> None:
    with pytest.raises(FigureError) as error:
        figure("nn.MaxPool2d(2, padding=2)", 6)  # PyTorch: padding at most half the kernel
    assert error.value.param == "layer"
    assert error.value.detail.startswith("MaxPool2d(): ")


# -- against PyTorch -------------------------------------------------------------------------

SLOW = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def torch_layers(draw: st.DrawFn) -> tuple[str, int, tuple[int, ...]]:
    dims = draw(st.sampled_from([1, 2, 3]))
    name = draw(st.sampled_from(["Conv", "ConvTranspose", "MaxPool", "AvgPool"]))
    k = draw(st.integers(1, 3))
    s = draw(st.integers(1, 3))
    size = draw(st.integers(k, 7))
    words: list[str]
    if name in ("Conv", "ConvTranspose"):
        d = draw(st.integers(1, 2))
        groups = draw(st.sampled_from([1, 2]))
        ins, outs = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
        words = [str(ins), str(outs), str(k)]
        keywords = {"stride": s, "dilation": d, "groups": groups}
        if name == "Conv":
            keywords["padding"] = draw(st.sampled_from([0, 1, 2, "'valid'", "'same'"]))
            if keywords["padding"] == "'same'":
                keywords["stride"] = 1
            modes = ["'zeros'", "'reflect'", "'replicate'", "'circular'"]
            keywords["padding_mode"] = draw(st.sampled_from(modes))
        else:
            keywords["padding"] = draw(st.integers(0, 2))
            keywords["output_padding"] = draw(st.integers(0, max(s, d) - 1))
        words += [f"{key}={value}" for key, value in keywords.items()]
        channels = ins
    else:
        p = draw(st.integers(0, k // 2))
        words = [str(k), f"stride={s}", f"padding={p}"]
        if draw(st.booleans()):
            words.append("ceil_mode=True")
        if name == "AvgPool" and draw(st.booleans()):
            words.append("count_include_pad=False")
        channels = 1
    line = f"nn.{name}{dims}d({', '.join(words)})"
    return line, size, (1, channels, *([size] * dims))


def _torch_module(line: str) -> torch.nn.Module:
    call = parse_call(line)
    module: torch.nn.Module = getattr(torch.nn, call.name)(*call.args, **call.kwargs)
    return module


@SLOW
@given(torch_layers(), st.integers(0, 2**16))
def test_output_sizes_and_values_are_pytorchs(
    layer: tuple[str, int, tuple[int, ...]], seed: int
) -> None:
    line, _, shape = layer
    module = _torch_module(line)
    x = torch.from_numpy(np.random.default_rng(seed).integers(0, 4, shape).astype(np.float64))
    try:
        with torch.no_grad(), warnings.catch_warnings():
            # torch warns, once per process, that 'same' with an even kernel copies the input
            warnings.filterwarnings("ignore", "Using padding='same'", UserWarning)
            expected = module.double()(x)
    except (RuntimeError, ValueError, NotImplementedError):  # PyTorch refuses it (an output
        # of no cells, a pool's window, a reflect padding as large as the input)
        with pytest.raises(ParameterError):
            figure(line, list(shape), limits=False)
        return
    try:
        drawn = figure(line, list(shape), limits=False)
    except FigureError as error:
        pytest.fail(f"{line} over {shape}: PyTorch takes it; convanim says {error}")
    assert list(drawn.facts()["framework_output_size"]) == list(expected.shape[2:])
    spec = drawn.model
    assert tuple(spec.output_size) == tuple(expected.shape[2:])
    facts = drawn.facts()
    if shape[1] > 1 or (facts["layer_out_channels"] or 1) > 1:
        return  # the channelled numbers are checked by the conv kind's own tests
    op = drawn.facts().get("layer", "")
    weight = module.weight.detach().double()[0, 0].numpy() if hasattr(module, "weight") else None
    kind = "conv" if weight is not None else ("max" if op.startswith("Max") else "avg")
    extra = {}
    if kind == "avg":
        extra = {"count_include_pad": module.count_include_pad}  # type: ignore[attr-defined]
    got = evaluate(spec, x.numpy()[0, 0], weight, op=kind, **extra)
    bias = float(module.bias.detach()[0]) if getattr(module, "bias", None) is not None else 0.0
    np.testing.assert_allclose(got + bias, expected.numpy()[0, 0], rtol=1e-9, atol=1e-9)


def test_padding_modes_are_drawn_or_refused_never_dropped() -> None:
    line = "nn.Conv2d(1, 1, 3, padding=1, padding_mode='reflect')"
    assert describe(line, 5).options["padding-mode"] == "reflect"
    if "padding-mode" in get("conv").option_keys():
        assert figure(line, 5).model.padding_mode == "reflect"
    else:
        with pytest.raises(FigureError, match="padding_mode \\('reflect'\\) cannot be drawn"):
            figure(line, 5)


def test_the_notebook_takes_the_layer() -> None:
    import convanim

    line = "nn.Conv2d(3, 64, kernel_size=7, stride=2, padding=3)"
    shown = convanim.figure("layer", layer=line, input=12)
    assert shown.alt_text.startswith(f"{line}: PyTorch Conv2d: output floor((12 + 3 + 3")
    with pytest.raises(FigureError, match="layer: the variable 'k'"):
        convanim.figure("layer", layer="nn.Conv2d(3, 64, k)", input=12)


def _signature(cls: type) -> list[tuple[str, Any]]:
    """A class's constructor arguments that can be given by position, with their defaults."""
    parameters = inspect.signature(cls.__init__).parameters.values()  # type: ignore[misc]
    kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD,)
    return [
        (p.name, REQUIRED if p.default is inspect.Parameter.empty else p.default)
        for p in parameters
        if p.name != "self" and p.kind in kinds
    ]


@pytest.mark.parametrize(
    "name", [name for name, c in CONSTRUCTORS.items() if c.framework == "PyTorch"]
)
def test_pytorch_signatures_are_torchs(name: str) -> None:
    """Order and defaults of every PyTorch constructor, as torch itself has them."""
    mine = [(arg.name, arg.default) for arg in CONSTRUCTORS[name].signature]
    assert mine == _signature(getattr(torch.nn, name))


# flax/linen/linear.py (Flax 0.8-0.10): the dataclass fields of _Conv (Conv's) and of
# ConvTranspose, in order; flax is not installed here, so they are written down.
FLAX_FIELDS = {
    "Conv": [
        "features", "kernel_size", "strides", "padding", "input_dilation", "kernel_dilation",
        "feature_group_count", "use_bias", "mask", "dtype", "param_dtype", "precision",
        "kernel_init", "bias_init", "conv_general_dilated", "conv_general_dilated_cls",
    ],
    "ConvTranspose": [
        "features", "kernel_size", "strides", "padding", "kernel_dilation", "use_bias", "mask",
        "dtype", "param_dtype", "precision", "kernel_init", "bias_init", "transpose_kernel",
    ],
}  # fmt: skip


@pytest.mark.parametrize("name", list(FLAX_FIELDS))
def test_flax_signatures_are_flaxs(name: str) -> None:
    assert [arg.name for arg in CONSTRUCTORS[name].signature] == FLAX_FIELDS[name]
    defaults = {arg.name: arg.default for arg in CONSTRUCTORS[name].signature}
    assert defaults["padding"] == "SAME" and defaults["use_bias"] is True
    assert defaults["strides"] == (1 if name == "Conv" else None)
