"""erf of the user's own model (--torch, --onnx): every drawn layer's heatmap against autograd
computed here, uniform weights against an all-ones copy, the command line's words and files."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from convanim.cli import main

MODELS = """
import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self, channels=2):
        super().__init__()
        c = channels
        self.conv1 = nn.Conv2d(1, c, 3, stride=2, padding=1)
        self.relu = nn.ReLU(inplace=True)
        self.pool = nn.MaxPool2d(3, stride=1, padding=1)
        self.conv2 = nn.Conv2d(c, c, 3, padding=2, dilation=2)
        self.up = nn.ConvTranspose2d(2 * c, c, 3, stride=2, padding=1, output_padding=1)
        self.out = nn.Conv2d(c, 1, 3, padding=1)

    def forward(self, x):
        y = self.pool(self.relu(self.conv1(x)))
        z = self.conv2(y) + y
        return self.out(self.up(torch.cat([z, y], 1)))


def net():
    torch.manual_seed(3)
    return Net()


def thin():
    torch.manual_seed(3)
    return Net(channels=1)


def number():
    return 7
"""
NAMES = ["conv1", "pool", "conv2", "add", "cat", "up", "out"]  # the drawn layers, in order
SHAPE = (1, 24, 24)


@pytest.fixture
def models(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    pytest.importorskip("torch")
    path = tmp_path / "erf_models.py"
    path.write_text(MODELS, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delitem(sys.modules, "erf_models", raising=False)
    return path


def levels(model: Any, x: Any, ones: bool = False) -> dict[str, Any]:
    """Every drawn layer's output, computed here as Net.forward computes it (no tracing).

    ``ones``: the all-ones linear copy's instead: kernels of ones, no bias, no ReLU, and max
    pooling as the sum over its windows (uniform weights' path counts)."""
    import torch
    import torch.nn.functional as F

    def conv(module: Any, y: Any) -> Any:
        if not ones:
            return module(y)
        weight = torch.ones_like(module.weight)
        if isinstance(module, torch.nn.ConvTranspose2d):
            return F.conv_transpose2d(
                y, weight, None, module.stride, module.padding, module.output_padding
            )
        return F.conv2d(y, weight, None, module.stride, module.padding, module.dilation)

    found = {"conv1": conv(model.conv1, x)}
    relu = found["conv1"] if ones else torch.relu(found["conv1"])
    pool = model.pool
    found["pool"] = (
        F.avg_pool2d(relu, pool.kernel_size, pool.stride, pool.padding, divisor_override=1)
        if ones
        else F.max_pool2d(relu, pool.kernel_size, pool.stride, pool.padding)
    )
    found["conv2"] = conv(model.conv2, found["pool"])
    found["add"] = found["conv2"] + found["pool"]
    found["cat"] = torch.cat([found["add"], found["pool"]], 1)
    found["up"] = conv(model.up, found["cat"])
    found["out"] = conv(model.out, found["up"])
    return found


def autograd(model: Any, ones: bool = False) -> dict[str, np.ndarray]:
    """|∂ unit / ∂ input| of each layer's centre unit, summed over channels: at the input the
    kind takes its gradient at (standard normal, seed 0), or, for ``ones``, anywhere."""
    import torch

    generator = torch.Generator().manual_seed(0)
    x = torch.randn((1, *SHAPE), generator=generator, dtype=torch.float64).float()
    x.requires_grad_(True)
    found = {}
    for name, level in levels(model.eval(), x, ones).items():
        centre = tuple((n - 1) // 2 for n in level.shape[2:])
        unit = level[(0, slice(None), *centre)].sum()
        (grad,) = torch.autograd.grad(unit, x, retain_graph=True)
        found[name] = grad.abs().sum(1)[0].double().numpy()
    return found


def figure(**options: Any) -> Any:
    from convanim.figures import parse_figure

    return parse_figure("erf", {"kind": "erf", "input-shape": "1,24,24", **options})


def test_model_weights_equal_autograd_on_every_drawn_layer(models: Path) -> None:
    from convanim.model_fields import load_model

    f = figure(torch="erf_models:net")
    kind = f.declaration
    assert f.options["weights"] == "model"
    assert [row.name for row in kind.rows(f)] == NAMES
    expected = autograd(load_model("erf_models:net"))
    for row, entry in zip(kind.rows(f), kind.entries(f), strict=True):
        assert entry.heatmap.shape == SHAPE[1:]
        assert np.allclose(entry.heatmap, expected[row.name], rtol=1e-5, atol=1e-7), row.name
        assert entry.total > 0


def test_uniform_weights_of_a_model_are_the_autograd_gradient_of_its_all_ones_copy(
    models: Path,
) -> None:
    """One channel per layer (the concatenation's two read by the next all-ones kernel): the
    path counts through the graph, branches summed, exactly."""
    from convanim.model_fields import load_model

    f = figure(torch="erf_models:thin", weights="uniform")
    kind = f.declaration
    expected = autograd(load_model("erf_models:thin"), ones=True)
    rows, entries = kind.rows(f), kind.entries(f)
    for row, entry in zip(rows, entries, strict=True):
        assert np.array_equal(entry.heatmap, expected[row.name]), row.name
    # The support is the centre unit's theoretical field, clipped to the input.
    for row, entry in zip(rows, entries, strict=True):
        cells = np.argwhere(entry.heatmap > 0)
        pairs = zip(row.centre_field, SHAPE[1:], strict=True)
        spans = [(max(a, 0), min(b, n - 1)) for (a, b), n in pairs]
        found = zip(cells.min(0), cells.max(0), strict=True)
        assert [(int(lo), int(hi)) for lo, hi in found] == spans


def test_onnx_uniform_weights_equal_torch_uniform_weights(models: Path, tmp_path: Path) -> None:
    pytest.importorskip("onnx")
    from convanim.figures import parse_figure
    from convanim.model_fields import load_model
    from tests.test_model_fields import export_onnx

    path = export_onnx(load_model("erf_models:net"), SHAPE, tmp_path / "net.onnx")
    from_torch = figure(torch="erf_models:net", weights="uniform")
    from_onnx = parse_figure("erf", {"kind": "erf", "onnx": str(path)})  # the file's shape
    assert from_onnx.options["weights"] == "uniform"
    torch_entries = from_torch.declaration.entries(from_torch)
    onnx_entries = from_onnx.declaration.entries(from_onnx)
    assert len(torch_entries) == len(onnx_entries) == len(NAMES)
    for a, b in zip(torch_entries, onnx_entries, strict=True):
        assert np.array_equal(a.heatmap, b.heatmap)
        assert (a.field, a.first, a.central) == (b.field, b.first, b.central)


@pytest.fixture
def runner() -> Any:
    import inspect

    from click.testing import CliRunner

    if "mix_stderr" in inspect.signature(CliRunner.__init__).parameters:  # Click 8.1
        return CliRunner(mix_stderr=False)  # type: ignore[call-arg]
    return CliRunner()


MODEL = ["erf", "--torch", "erf_models:net", "--input-shape", "1,24,24"]


def test_a_gif_steps_through_the_drawn_layers_and_a_png_shows_one(
    models: Path, runner: Any
) -> None:
    from convanim.erf_render import ErfMap
    from convanim.kinds.erf import model_title
    from tests.helpers import gif_frames

    result = runner.invoke(main, [*MODEL, "-o", "erf.gif"])
    assert result.exit_code == 0, result.output
    frames = gif_frames(models.parent / "erf.gif")
    assert len(frames) == len(NAMES) and len({f.tobytes() for f in frames}) == len(NAMES)
    result = runner.invoke(main, [*MODEL, "--layer", "conv2", "-o", "conv2.png"])
    assert result.exit_code == 0, result.output
    f = figure(torch="erf_models:net", layer="conv2")
    rows = f.declaration.rows(f)
    index = [row.name for row in rows].index("conv2")
    entry = f.declaration.entries(f, only=index)
    drawn = ErfMap(entry, [model_title(rows[index])]).render(0)
    with Image.open(models.parent / "conv2.png") as image:
        assert np.array_equal(np.asarray(image.convert("RGB")), drawn[..., :3])
    # A layer that is no frame (the ReLU) is drawn by name too; an index picks a frame.
    for layer in ("relu", "-1", "0"):
        result = runner.invoke(main, [*MODEL, "--layer", layer, "-o", f"{layer}.svg"])
        assert result.exit_code == 0, result.output


def test_json_rows_name_the_layers_and_give_their_fields(models: Path, runner: Any) -> None:
    from convanim.model_fields import load_model, receptive_fields

    result = runner.invoke(main, [*MODEL, "--json"])
    assert result.exit_code == 0, result.output
    facts = json.loads(result.output)
    assert facts["weights"] == "model" and facts["input_size"] == [24, 24]
    assert [row["name"] for row in facts["layers"]] == NAMES
    rows = {row.name: row for row in receptive_fields(load_model("erf_models:net"), SHAPE)}
    for row in facts["layers"]:
        spans = rows[row["name"]].centre_field
        assert row["field"] == [b - a + 1 for a, b in spans]
        assert row["first"] == [a for a, _ in spans]
        assert row["op"] == rows[row["name"]].op
    assert facts["layers"][3]["branch"] == ["conv2", "pool"]
    assert "with the model's own weights" in facts["alt_text"]
    text = runner.invoke(main, [*MODEL, "--weights", "uniform", "--info"])
    assert text.exit_code == 0, text.output
    assert text.output.splitlines()[0].split()[:4] == ["layer", "name", "op", "field"]
    assert "uniform weights" in text.output


@pytest.mark.parametrize(
    ("words", "message"),
    [
        (["--torch", "no_such_module:net", "--input-shape", "1,24,24"],
         "Error: --torch: got 'no_such_module'; no module named 'no_such_module' (expected "
         "MODULE:CALLABLE (a module importable from the current directory, or "
         "file.py:callable))"),
        (["--torch", "erf_models:number", "--input-shape", "1,24,24"],
         "Error: --torch: 'erf_models:number()' returned int; expected a torch.nn.Module"),
        ([*MODEL[1:], "--layer", "conv9"],
         "Error: --layer: got 'conv9'; the model has no layer of that name (its drawn layers: "
         "conv1, pool, conv2, add, ...; every name: rf --info)"),
        ([*MODEL[1:], "--layer", "7"],
         "Error: --layer: got 7; expected an index of the model's 7 drawn layers: 0 to 6, or "
         "-7 to -1 from the end, or a layer's name"),
        ([*MODEL[1:], "-k", "3"], "Error: --kernel: the layers come from --torch; leave "
         "--kernel out"),
        (["--torch", "erf_models:net"],
         "Error: --input-shape: --torch needs the input's shape, like 3,224,224"),
        (["-k", "3", "--weights", "model"],
         "Error: --weights: got 'model'; a stack's weights are uniform: give --torch for a "
         "model's own weights"),
        (["-k", "3", "--layer", "conv1"],
         "Error: --layer: got 'conv1'; expected a layer's index: 0, 1, ..., or -1 the last "
         "(names are for --torch and --onnx models' layers)"),
        (["--torch", "erf_models:net", "--input-shape", "1,300,300"],
         "Error: --input-shape: the input is 300x300, over the limit of 256 cells per side "
         "for a heatmap; use a smaller --input-shape"),
    ],
)  # fmt: skip
def test_mistakes_are_one_line_exit_2_and_no_file(
    models: Path, runner: Any, words: list[str], message: str
) -> None:
    result = runner.invoke(main, ["erf", *words, "-o", "x.png"])
    assert result.exit_code == 2, result.output
    assert result.stderr.strip() == message
    assert not (models.parent / "x.png").exists()


def test_without_torch_the_error_names_the_extra(
    models: Path, runner: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)  # import torch raises ImportError
    result = runner.invoke(main, ["erf", "--torch", "erf_models:thin", "--input-shape", "1,9,9",
                                  "-o", "x.png"])  # fmt: skip
    assert result.exit_code == 2, result.output
    assert result.stderr.strip() == (
        "Error: --torch: reading a PyTorch model needs the torch extra: "
        "pip install 'convanim[torch]'"
    )
    assert not (models.parent / "x.png").exists()


def test_onnx_model_weights_are_refused(models: Path, runner: Any, tmp_path: Path) -> None:
    result = runner.invoke(main, ["erf", "--onnx", "m.onnx", "--weights", "model", "--info"])
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "Error: --weights: got 'model'; an ONNX file's weights are not run here: give --torch "
        "for the model's own weights, or --weights uniform"
    )


def test_in_place_operations_leave_each_layers_output_as_it_made_it() -> None:
    """``y = conv1(x); y += conv2(x); y.relu_()``, traced and (where a value decides the
    path) hooked: conv1's heatmap is conv1's own gradient, not that of the sum after it."""
    torch = pytest.importorskip("torch")
    from convanim.erf_model import model_erfs
    from convanim.model_fields import receptive_fields

    nn = torch.nn

    class InPlace(nn.Module):
        def __init__(self, hooked: bool) -> None:
            super().__init__()
            torch.manual_seed(1)
            self.conv1, self.conv2 = nn.Conv2d(1, 1, 3, padding=1), nn.Conv2d(1, 1, 5, padding=2)
            self.hooked = hooked

        def forward(self, x: Any) -> Any:
            if self.hooked and bool(x.detach().sum() > -1e30):  # fx cannot trace this
                x = torch.tanh(x)
            y = self.conv1(x)
            y += self.conv2(x)
            return y.relu_()

    x = torch.randn((1, 1, 9, 9), generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    for hooked in (False, True):
        model = InPlace(hooked).eval()
        rows = receptive_fields(model, (1, 9, 9))
        assert rows[-2].branch == ("conv1", "conv2")  # the sum, whatever its name
        conv1, add = model_erfs(model, (1, 9, 9), ["conv1", rows[-2].name])
        probe = x.float().requires_grad_(True)
        y = model.conv1(torch.tanh(probe) if hooked else probe)
        (grad,) = torch.autograd.grad(y[0, 0, 4, 4], probe)
        assert np.allclose(conv1, grad.abs()[0, 0].numpy()), hooked
        assert (conv1 > 0).sum() == 9 and (add > 0).sum() == 25
