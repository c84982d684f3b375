"""Channels and groups: ``ConvSpec(in_channels, out_channels, groups)``, its frames, the
channelled ``evaluate`` and ``worked_channels``, and the conv kind's channel options.

Numbers are checked against a brute-force loop written from PyTorch's definitions (a direct
convolution is a correlation of the padded input; a transposed one scatters every input cell
times the kernel), which also records the input channels each output channel reads, and
against PyTorch itself where it is installed.
"""

from __future__ import annotations

import inspect
import itertools
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from convanim.cli import main
from convanim.figures import parse_figure
from convanim.geometry import ConvSpec, ConvSpecError
from convanim.values import (
    channel_shapes,
    evaluate,
    load_values,
    random_channel_values,
    random_values,
    worked,
    worked_channels,
)

Floats = npt.NDArray[np.float64]


# -- the reference ------------------------------------------------------------------------------


def brute_force(
    spec: ConvSpec[Any, Any], x: Floats, weight: Floats, bias: Floats | None
) -> tuple[Floats, dict[tuple[int, ...], set[int]]]:
    """(output, reads): PyTorch's convolution by loops; ``reads[(oc, *cell)]``: the input
    channels whose cells the loop multiplied into output cell ``cell`` of channel ``oc``."""
    dims = spec.dims
    outs, ins, groups = spec.out_channels, spec.in_channels, spec.groups
    out_pg, in_pg = outs // groups, ins // groups
    out = np.zeros((outs, *spec.output_size))
    reads: dict[tuple[int, ...], set[int]] = {
        (oc, *cell): set()
        for oc in range(outs)
        for cell in itertools.product(*(range(n) for n in spec.output_size))
    }
    kernel_cells = list(itertools.product(*(range(k) for k in spec.kernel_size)))
    if not spec.transposed:
        befores = [spec.pads[a][0] for a in range(dims)]
        for oc in range(outs):
            g = oc // out_pg
            for cell in itertools.product(*(range(n) for n in spec.output_size)):
                total = 0.0
                for icl in range(in_pg):
                    ic = g * in_pg + icl
                    for tap in kernel_cells:
                        source = tuple(
                            cell[a] * spec.stride[a] + tap[a] * spec.dilation[a] - befores[a]
                            for a in range(dims)
                        )
                        if all(0 <= source[a] < spec.input_size[a] for a in range(dims)):
                            total += x[(ic, *source)] * weight[(oc, icl, *tap)]
                            reads[(oc, *cell)].add(ic)
                out[(oc, *cell)] = total
    else:
        pads = [spec.pads[a][0] for a in range(dims)]
        for ic in range(ins):
            g = ic // in_pg
            for cell in itertools.product(*(range(n) for n in spec.input_size)):
                for ocl in range(out_pg):
                    oc = g * out_pg + ocl
                    for tap in kernel_cells:
                        target = tuple(
                            cell[a] * spec.stride[a] - pads[a] + tap[a] * spec.dilation[a]
                            for a in range(dims)
                        )
                        if all(0 <= target[a] < spec.output_size[a] for a in range(dims)):
                            out[(oc, *target)] += x[(ic, *cell)] * weight[(ic, ocl, *tap)]
                            reads[(oc, *target)].add(ic)
    if bias is not None:
        out += bias.reshape((outs,) + (1,) * dims)
    return out, reads


@st.composite
def channel_specs(draw: st.DrawFn, max_size: int = 6) -> ConvSpec[Any, Any]:
    """Small random specs with channels and groups, direct and transposed, 1-D, 2-D, 3-D."""
    dims = draw(st.sampled_from([1, 2, 3]))
    transposed = draw(st.booleans())
    groups = draw(st.integers(1, 3))
    in_channels = groups * draw(st.integers(1, 2))
    out_channels = groups * draw(st.integers(1, 2))
    size = draw(st.integers(1, max_size if dims < 3 else 3))
    kernel = draw(st.integers(1, 3))
    stride = draw(st.integers(1, 3))
    dilation = draw(st.integers(1, 2))
    padding = draw(st.integers(0, 2))
    extra = draw(st.integers(0, max(stride, dilation) - 1)) if transposed else 0
    try:
        return ConvSpec(
            size,
            kernel,
            stride,
            padding,
            dilation,
            transposed,
            extra,
            dims=dims,
            in_channels=in_channels,
            out_channels=out_channels,
            groups=groups,
        )
    except ConvSpecError:  # an output of no cells: draw again
        from hypothesis import assume

        assume(False)
        raise


def arrays_for(spec: ConvSpec[Any, Any], seed: int) -> tuple[Floats, Floats, Floats]:
    shapes = channel_shapes(spec)
    rng = np.random.default_rng(seed)
    return (
        rng.integers(-3, 4, shapes["x"]).astype(float),
        rng.integers(-2, 3, shapes["weight"]).astype(float),
        rng.integers(-2, 3, shapes["bias"]).astype(float),
    )


# -- evaluate ------------------------------------------------------------------------------------


@settings(max_examples=80, deadline=None)
@given(spec=channel_specs(), seed=st.integers(0, 2**16), with_bias=st.booleans())
def test_evaluate_is_the_brute_force_loop(
    spec: ConvSpec[Any, Any], seed: int, with_bias: bool
) -> None:
    x, weight, bias = arrays_for(spec, seed)
    used = bias if with_bias else None
    expected, _ = brute_force(spec, x, weight, used)
    got = evaluate(spec, x, weight, bias=used)
    assert got.shape == (spec.out_channels, *spec.output_size)
    np.testing.assert_array_equal(got, expected)


@settings(max_examples=40, deadline=None)
@given(spec=channel_specs(), seed=st.integers(0, 2**16))
def test_evaluate_is_pytorch(spec: ConvSpec[Any, Any], seed: int) -> None:
    torch = pytest.importorskip("torch")
    functional = torch.nn.functional
    x, weight, bias = arrays_for(spec, seed)
    call = {
        (1, False): functional.conv1d,
        (2, False): functional.conv2d,
        (1, True): functional.conv_transpose1d,
        (2, True): functional.conv_transpose2d,
        (3, False): functional.conv3d,
        (3, True): functional.conv_transpose3d,
    }[(spec.dims, spec.transposed)]
    options: dict[str, Any] = {
        "stride": spec.stride,
        "padding": tuple(lo for lo, _ in spec.pads),
        "dilation": spec.dilation,
        "groups": spec.groups,
    }
    if spec.transposed:
        options["output_padding"] = spec.output_padding
    expected = call(torch.tensor(x)[None], torch.tensor(weight), torch.tensor(bias), **options)[
        0
    ].numpy()
    np.testing.assert_allclose(evaluate(spec, x, weight, bias=bias), expected, atol=1e-9)


def test_the_cs231n_demo() -> None:
    """CS231n's demo: a 3-channel 5x5 input padded by 1, two 3x3x3 filters, stride 2, bias."""
    spec = ConvSpec(5, 3, stride=2, padding=1, in_channels=3, out_channels=2)
    x = np.arange(75).reshape(3, 5, 5) % 3
    weight = (np.arange(54).reshape(2, 3, 3, 3) % 3) - 1
    bias = np.array([1, 0])
    numbers = worked_channels(spec, x, weight, bias)
    assert numbers.output.shape == (2, 3, 3)
    np.testing.assert_array_equal(numbers.output, brute_force(spec, x, weight, bias)[0])
    frame = next(spec.frames())
    (step,) = numbers.steps(frame)
    assert step.out_channel == 0 and step.output == (0, 0) and step.in_channels == (0, 1, 2)
    assert step.products.shape == (3, 3, 3)
    for c in range(3):  # each channel's sum is the loop's on that channel alone
        alone = np.zeros_like(x)
        alone[c] = x[c]
        assert step.sums[c] == brute_force(spec, alone, weight, None)[0][0, 0, 0]
    assert step.bias == 1.0 and step.total == step.sums.sum() + 1 == numbers.output[0, 0, 0]


@settings(max_examples=30, deadline=None)
@given(spec=channel_specs(max_size=4), seed=st.integers(0, 2**16))
def test_worked_steps_add_up(spec: ConvSpec[Any, Any], seed: int) -> None:
    x, weight, bias = arrays_for(spec, seed)
    numbers = worked_channels(spec, x, weight, bias)
    for frame in spec.frames():
        (step,) = numbers.steps(frame)
        assert step.in_channels == frame.in_channels
        assert (
            step.sums.tolist() == step.products.reshape(len(step.in_channels), -1).sum(1).tolist()
        )
        assert step.total == pytest.approx(step.sums.sum() + step.bias)
        assert step.total == numbers.output[(frame.out_channel, *frame.output)]
    spatial = next(spec.frames("spatial"))
    steps = numbers.steps(spatial)
    assert [s.out_channel for s in steps] == list(range(spec.out_channels))


def test_one_channel_is_what_it_was() -> None:
    spec = ConvSpec(5, 3, stride=2, padding=1)
    x, weight = random_values(spec, 3)
    old = evaluate(spec, x, weight)
    assert old.shape == (3, 3)
    channelled = evaluate(spec, x[None], weight[None, None])
    np.testing.assert_array_equal(channelled, old[None])
    np.testing.assert_array_equal(evaluate(spec, x[None], weight[None, None], bias=[2])[0], old + 2)
    cx, cw, _ = random_channel_values(spec, 3)
    np.testing.assert_array_equal(cx[0], x)
    np.testing.assert_array_equal(cw[0, 0], weight)
    assert worked(spec, x, weight).output.tolist() == old.tolist()
    assert repr(spec) == (
        "ConvSpec(input_size=(5, 5), kernel_size=(3, 3), stride=(2, 2), "
        "padding=((1, 1), (1, 1)), dilation=(1, 1), transposed=False, output_padding=(0, 0))"
    )
    assert spec == ConvSpec(5, 3, stride=2, padding=1, in_channels=1, out_channels=1, groups=1)
    one = ConvSpec(5, 3, in_channels=1, out_channels=1)
    assert list(one.frames()) == list(one.frames("spatial")) == list(ConvSpec(5, 3).frames())
    assert all(f.out_channel == 0 and f.in_channels == (0,) for f in one.frames())


def test_repr_and_replace_carry_channels() -> None:
    import dataclasses

    spec = ConvSpec(5, 3, in_channels=4, out_channels=2, groups=2, dims=1)
    assert repr(spec).endswith("in_channels=4, out_channels=2, groups=2)")
    assert dataclasses.replace(spec) == spec
    assert dataclasses.replace(spec, groups=1).groups == 1
    assert spec.as_2d().groups == 2 and spec.as_2d().in_channels == 4
    assert spec != ConvSpec(5, 3, in_channels=4, out_channels=2, dims=1)


# -- frames --------------------------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(spec=channel_specs(max_size=4))
def test_frames_read_what_the_loop_reads(spec: ConvSpec[Any, Any]) -> None:
    x, weight, _ = arrays_for(spec, 0)
    _, reads = brute_force(spec, np.ones_like(x), np.ones_like(weight), None)
    frames = list(spec.frames())
    positions = spec.count_frames("spatial")
    assert len(frames) == spec.frame_count == spec.count_frames("channel")
    assert len(frames) == positions * spec.out_channels
    assert [f.index for f in frames] == list(range(len(frames)))
    for frame in frames:
        assert frame.out_channel == frame.index // positions
        read = reads[(frame.out_channel, *frame.output)]
        # A window over padding (or inserted zeros) only reads no cell of any channel.
        assert read == (set(frame.in_channels) if frame.sources else set())
        assert frame.in_channels == tuple(spec.channels_read(frame.out_channel))
        assert spec.group_of(frame.out_channel) == frame.out_channel // (
            spec.out_channels // spec.groups
        )
    padding = tuple(lo for lo, _ in spec.pads)  # the drawn specs pad both sides alike
    plain = list(
        ConvSpec(
            spec.input_size,
            spec.kernel_size,
            spec.stride,
            padding if spec.dims > 1 else padding[0],
            spec.dilation,
            spec.transposed,
            spec.output_padding,
            dims=spec.dims,
        ).frames()
    )
    spatial = list(spec.frames("spatial"))
    assert len(spatial) == positions == len(plain)
    for frame, old in zip(spatial, plain, strict=True):
        assert (frame.output, frame.sources, frame.taps, frame.window) == (
            old.output,
            old.sources,
            old.taps,
            old.window,
        )
        if spec.out_channels > 1:
            assert frame.out_channel is None
            assert frame.in_channels == tuple(range(spec.in_channels))
    for frame in frames:
        old = plain[frame.index % positions]
        assert (frame.output, frame.taps) == (old.output, old.taps)
        if spec.dims < 3:
            assert frame.as_2d().in_channels == frame.in_channels


def test_depthwise_frames_read_one_channel() -> None:
    spec = ConvSpec(4, 3, in_channels=3, out_channels=6, groups=3)
    assert [list(spec.channels_read(oc)) for oc in range(6)] == [[0], [0], [1], [1], [2], [2]]
    assert {f.in_channels for f in spec.frames() if f.out_channel == 3} == {(1,)}
    transposed = ConvSpec(2, 3, stride=2, transposed=True, in_channels=4, out_channels=2, groups=2)
    assert [list(transposed.channels_read(oc)) for oc in range(2)] == [[0, 1], [2, 3]]
    assert channel_shapes(transposed)["weight"] == (4, 1, 3, 3)


# -- validation: PyTorch's rules, one line naming the parameter -----------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"in_channels": 3, "groups": 2, "out_channels": 2},
            "in_channels: got 3; in_channels must be divisible by groups (2): "
            "expected a multiple of 2",
        ),
        (
            {"in_channels": 4, "groups": 2, "out_channels": 3},
            "out_channels: got 3; out_channels must be divisible by groups (2): "
            "expected a multiple of 2",
        ),
        ({"groups": 0}, "groups: got 0; expected an integer >= 1"),
        ({"in_channels": 0}, "in_channels: got 0; expected an integer >= 1"),
        ({"out_channels": -1}, "out_channels: got -1; expected an integer >= 1"),
        ({"in_channels": True}, "in_channels: got True; expected an integer >= 1"),
        ({"groups": 1.0}, "groups: got 1.0; expected an integer >= 1"),
        ({"out_channels": "2"}, "out_channels: got '2'; expected an integer >= 1"),
    ],
)
def test_channel_errors(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ConvSpecError) as error:
        ConvSpec(5, 3, **kwargs)
    assert str(error.value) == message
    with pytest.raises(ConvSpecError) as error:
        ConvSpec(5, 3, dims=1, **kwargs)
    assert str(error.value) == message


def test_channel_lookups_refuse_what_is_not_there() -> None:
    spec = ConvSpec(5, 3, in_channels=2, out_channels=2)
    with pytest.raises(ConvSpecError, match=r"^out_channel: got 2; expected 0 to 1$"):
        spec.channels_read(2)
    with pytest.raises(ConvSpecError, match=r"^out_channel: got -1; expected 0 to 1$"):
        spec.group_of(-1)
    with pytest.raises(ConvSpecError, match=r"^order: got 'rows'; expected one of channel, "):
        list(spec.frames("rows"))
    with pytest.raises(ConvSpecError, match=r"^order: "):
        spec.count_frames("rows")


def test_evaluate_shape_errors_name_the_array_and_its_layout() -> None:
    spec = ConvSpec(5, 3, in_channels=2, out_channels=4, groups=2)
    x, weight, bias = arrays_for(spec, 0)
    with pytest.raises(ConvSpecError) as error:
        evaluate(spec, x[0], weight)
    assert str(error.value) == (
        "x: got shape (5, 5); expected an array (in_channels, *input_size) of shape (2, 5, 5)"
    )
    with pytest.raises(ConvSpecError) as error:
        evaluate(spec, x, weight[:, :, :2])
    assert str(error.value) == (
        "weight: got shape (4, 1, 2, 3); expected an array (out_channels, in_channels/groups, "
        "*kernel_size) of shape (4, 1, 3, 3)"
    )
    with pytest.raises(ConvSpecError, match=r"^bias: got shape \(3,\); .* of shape \(4,\)$"):
        evaluate(spec, x, weight, bias=bias[:3])
    with pytest.raises(ConvSpecError, match=r"^weight: got None; "):
        evaluate(spec, x)
    with pytest.raises(ConvSpecError, match=r"^op: got 'max'; channels and groups are for "):
        evaluate(spec, x, None, "max")
    transposed = ConvSpec(3, 2, transposed=True, in_channels=2, out_channels=4, groups=2)
    with pytest.raises(ConvSpecError, match=r"\(in_channels, out_channels/groups, \*kernel_size"):
        evaluate(transposed, np.zeros((2, 3, 3)), np.zeros((4, 1, 2, 2)))


# -- values files ----------------------------------------------------------------------------------


def test_values_files_with_channels(tmp_path: Path) -> None:
    weight = np.arange(2 * 3 * 2 * 2, dtype=float).reshape(2, 3, 2, 2)
    np.save(tmp_path / "w.npy", weight)
    np.testing.assert_array_equal(load_values(tmp_path / "w.npy", (2, 3, 2, 2), "w"), weight)
    one_filter = weight[:1]  # (1, 3, 2, 2): its leading 1 is PyTorch's out_channels, kept
    np.save(tmp_path / "one.npy", one_filter)
    np.testing.assert_array_equal(load_values(tmp_path / "one.npy", (1, 3, 2, 2), "w"), one_filter)
    x = np.arange(2 * 2 * 3, dtype=float).reshape(2, 2, 3)
    text = "\n".join(",".join(str(int(v)) for v in row) for row in x.reshape(4, 3))
    (tmp_path / "x.csv").write_text(text + "\n")  # channels' planes one under another
    np.testing.assert_array_equal(load_values(tmp_path / "x.csv", (2, 2, 3), "x"), x)
    (tmp_path / "b.txt").write_text("1 2 3\n")
    assert load_values(tmp_path / "b.txt", (3,), "b").tolist() == [1, 2, 3]
    with pytest.raises(ConvSpecError, match=r"holds values of shape \(2, 3, 2, 2\); expected "):
        load_values(tmp_path / "w.npy", (2, 3, 3, 3), "kernel_values")


# -- the conv kind ------------------------------------------------------------------------------


def conv(**options: Any) -> Any:
    return parse_figure("f", {"kind": "conv", "input": 5, **options})


@pytest.mark.parametrize(
    ("options", "alt_text"),
    [
        (
            {"in-channels": 4, "out-channels": 4, "groups": 2},
            "Grouped convolution of a 4-channel 5×5 input into 4 channels, 2 groups, 3×3 "
            "kernels: each output channel reads 2 input channels.",
        ),
        (
            {"in-channels": 3, "out-channels": 3, "groups": 3},
            "Depthwise convolution of a 3-channel 5×5 input into 3 channels, 3×3 kernels: "
            "each output channel reads 1 input channel.",
        ),
        (
            {"in-channels": 3, "out-channels": 4, "kernel": 1},
            "Pointwise convolution of a 3-channel 5×5 input into 4 channels, 1×1 kernels: "
            "each output channel reads 3 input channels.",
        ),
        (
            {"in-channels": 3, "out-channels": 2, "stride": 2, "padding": 1, "bias": True},
            "Convolution of a 3-channel 5×5 input into 2 channels, 3×3 kernels, stride 2, "
            "padding 1, with bias: each output channel reads 3 input channels.",
        ),
        (
            {"in-channels": 2, "out-channels": 2, "dims": 1, "transposed": True, "groups": 2},
            "1-D depthwise transposed convolution of a 2-channel length-5 input into 2 "
            "channels, 3-cell kernels: each output channel reads 1 input channel.",
        ),
        (
            {"in-channels": 2, "values": True, "frame": 4},
            "Convolution of a 2-channel 5×5 input into 1 channel, 3×3 kernels: the output "
            "channel reads 2 input channels, with the values of every cell and each output's "
            "per-channel sums (the step for output cell row 2, column 2).",
        ),
        (
            {"in-channels": 2, "out-channels": 2, "frame": 10},
            "Convolution of a 2-channel 5×5 input into 2 channels, 3×3 kernels: each output "
            "channel reads 2 input channels (the step for output channel 2, output cell row 1, "
            "column 2).",
        ),
        (
            {"in-channels": 2, "out-channels": 2, "frame": 1, "frames": "spatial"},
            "Convolution of a 2-channel 5×5 input into 2 channels, 3×3 kernels: each output "
            "channel reads 2 input channels (the step for output cell row 1, column 2 of every "
            "output channel).",
        ),
    ],
)
def test_alt_text(options: dict[str, Any], alt_text: str) -> None:
    assert conv(**options).alt_text() == alt_text


def test_facts_and_info() -> None:
    figure = conv(**{"in-channels": 4, "out-channels": 4, "groups": 2, "bias": True})
    facts = figure.facts()
    assert {k: facts[k] for k in ("in_channels", "out_channels", "groups", "bias")} == {
        "in_channels": 4,
        "out_channels": 4,
        "groups": 2,
        "bias": True,
    }
    assert facts["weight_shape"] == [4, 2, 3, 3]
    assert facts["parameters"] == 4 * 4 // 2 * 3 * 3 + 4 == 76
    assert facts["reads"] == [[0, 1], [0, 1], [2, 3], [2, 3]]
    assert facts["frames"] == 36 and facts["frame_order"] == "channel"
    assert conv(**{"in-channels": 4, "out-channels": 4, "frames": "spatial"}).facts()["frames"] == 9
    info = figure.info().splitlines()
    assert "channels: 4 in, 4 out, 2 groups: each output channel reads 2 input channels" in info
    assert "reads (output channel <- input channels): 0 <- 0-1, 1 <- 0-1, 2 <- 2-3, 3 <- 2-3" in (
        info
    )
    assert "parameters: 4 * 4 / 2 * 3 * 3 = 72 weights + 4 biases = 76" in info
    assert "frames: 36 (channel order)" in info
    transposed = conv(**{"in-channels": 2, "out-channels": 4, "transposed": True})
    assert transposed.facts()["weight_shape"] == [2, 4, 3, 3]
    assert transposed.facts()["parameters"] == 72
    plain = conv().facts()
    assert plain["parameters"] == 9 and plain["reads"] == [[0]] and plain["bias"] is False
    assert "channels:" not in conv().info()


def test_defaults_leave_fingerprints_and_commands_alone() -> None:
    plain = conv(kernel=3)
    spelt = conv(
        kernel=3,
        **{"in-channels": 1, "out-channels": 1, "groups": 1, "bias": False, "frames": "channel"},
    )
    assert spelt.fingerprint() == plain.fingerprint()
    assert spelt.command("x.gif") == plain.command("x.gif") == "convanim conv -i 5 -o x.gif"
    biased = conv(**{"in-channels": 2, "bias-values": [1]})
    assert biased.options["bias"] is True
    assert biased.command("x.gif") == (
        "convanim conv -i 5 --in-channels 2 --bias-values '[1]' -o x.gif"
    )


def test_bias_values_shape_is_checked() -> None:
    figure = conv(**{"in-channels": 2, "out-channels": 2, "bias-values": [1, 2]})
    worked_numbers = figure.declaration.channel_worked(figure)
    assert worked_numbers is not None and worked_numbers.bias is not None
    assert worked_numbers.bias.tolist() == [1, 2]


@pytest.fixture
def runner() -> CliRunner:
    if "mix_stderr" in inspect.signature(CliRunner.__init__).parameters:  # Click 8.1
        return CliRunner(mix_stderr=False)  # type: ignore[call-arg]
    return CliRunner()


BAD = [
    (
        ["--in-channels", "3", "--groups", "2", "--out-channels", "2"],
        "--in-channels: got 3; in_channels must be divisible by groups (2): "
        "expected a multiple of 2",
    ),
    (
        ["--in-channels", "2", "--groups", "2", "--out-channels", "3"],
        "--out-channels: got 3; out_channels must be divisible by groups (2): "
        "expected a multiple of 2",
    ),
    (["--groups", "0"], "--groups: got 0; expected an integer >= 1"),
    (["--in-channels", "x"], "--in-channels: got 'x'; expected an integer"),
    (
        ["--in-channels", "9"],
        "--in-channels: got 9; at most 8 channels can be drawn readably (the limit is 8 per "
        "side); use fewer channels",
    ),
    (
        ["--in-channels", "2", "--out-channels", "9"],
        "--out-channels: got 9; at most 8 channels can be drawn readably (the limit is 8 per "
        "side); use fewer channels",
    ),
    (["--frames", "rows"], "--frames: got 'rows'; expected one of channel, spatial"),
    (
        ["--in-channels", "2", "--input-values", "x.npy"],
        "--input-values: x.npy: holds values of shape (5, 5); expected (2, 5, 5)",
    ),
    (
        ["--in-channels", "2", "--out-channels", "2", "--kernel-values", "x.npy"],
        "--kernel-values: x.npy: holds values of shape (5, 5); expected (2, 2, 3, 3)",
    ),
    (
        ["--in-channels", "2", "--out-channels", "2", "--bias-values", "x.npy"],
        "--bias-values: x.npy: holds values of shape (5, 5); expected (2,)",
    ),
    (
        ["--in-channels", "2", "--bias-values", "[1, 2]"],
        "--bias-values: holds values of shape (2,); expected (1,)",
    ),
    (
        ["--in-channels", "2", "--input-values", "[[1, 2], [3, 4]]"],
        "--input-values: holds values of shape (2, 2); expected (2, 5, 5)",
    ),
    (
        ["--bias-values", "[1]", "--no-bias"],
        "--bias: got false, with bias values; give bias values only to a layer with a bias",
    ),
]


@pytest.mark.parametrize(
    ("words", "message"), BAD, ids=[m.split(":")[0] + str(i) for i, (_, m) in enumerate(BAD)]
)
def test_bad_input_is_one_line_exit_2_and_no_file(
    runner: CliRunner,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    words: list[str],
    message: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    np.save(tmp_path / "x.npy", np.ones((5, 5)))
    result = runner.invoke(main, ["conv", "-i", "5", "-k", "3", *words, "-o", "out.gif"])
    assert result.exit_code == 2, result.output
    assert result.stderr == f"Error: {message}\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.npy"]


@pytest.mark.parametrize(
    ("words", "option", "value"),
    [
        (["--out-channels", "2"], "--out-channels", "2"),
        (["--bias"], "--bias", "true"),
        (["--in-channels", "2", "--out-channels", "2", "--groups", "2"], "--in-channels", "2"),
    ],
)
def test_a_channelled_3d_figure_is_refused_in_one_line(
    tmp_path: Path, words: list[str], option: str, value: str
) -> None:
    """3-D volumes are drawn one channel each: channels, groups or a bias there are refused
    naming the option (info still describes them), and no file is written."""
    from convanim.cli import main

    out = tmp_path / "x.gif"
    result = CliRunner().invoke(main, ["conv", "-i", "2,2,2", "-k", "1", *words, "-o", str(out)])
    assert result.exit_code == 2
    assert result.output.startswith(f"Error: {option}: got {value}; a 3-D figure is drawn")
    assert len(result.output.strip().splitlines()) == 1 and not out.exists()
    info = CliRunner().invoke(main, ["conv", "-i", "2,2,2", "-k", "1", *words, "--info"])
    assert info.exit_code == 0 and "3-D" in info.output
