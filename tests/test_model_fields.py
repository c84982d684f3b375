"""Receptive fields of the user's own model: the loader, the readers and the analysis."""

from __future__ import annotations

import dataclasses
import math
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from convanim.errors import ParameterError
from convanim.graph_fields import INPUT, ModelError, Node, graph_fields
from convanim.model_fields import load_model, parse_input_shape

# -- MODULE:CALLABLE ------------------------------------------------------------------------

MODEL_FILE = """
import torch

def build():
    return torch.nn.Sequential(torch.nn.Conv2d(1, 1, 3), torch.nn.ReLU())

instance = torch.nn.Conv2d(1, 1, 5)

def not_a_module():
    return 42

def broken():
    raise RuntimeError("no weights here")

number = 7
"""


@pytest.fixture
def model_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    pytest.importorskip("torch")
    path = tmp_path / "my_models.py"
    path.write_text(MODEL_FILE, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delitem(sys.modules, "my_models", raising=False)
    return path


def test_a_module_of_the_current_directory_loads(model_file: Path) -> None:
    model = load_model("my_models:build")
    assert type(model).__name__ == "Sequential"
    assert not model.training
    assert "my_models" not in [Path(p).name for p in sys.path if p]


def test_a_file_path_loads_and_an_instance_is_taken_as_it_is(model_file: Path) -> None:
    assert type(load_model(f"{model_file}:build")).__name__ == "Sequential"
    assert load_model("my_models.py:instance").kernel_size == (5, 5)


@pytest.mark.parametrize(
    ("target", "words"),
    [
        ("my_models", "expected MODULE:CALLABLE"),
        ("no_such_module_here:build", "no module named 'no_such_module_here'"),
        ("missing.py:build", "no such file"),
        ("my_models:nothing", "has no attribute 'nothing'"),
        ("my_models:not_a_module", "returned int; expected a torch.nn.Module"),
        ("my_models:broken", "raised RuntimeError: no weights here"),
        ("my_models:number", "a int; expected a callable"),
        (":build", "expected MODULE:CALLABLE"),
    ],
)
def test_a_bad_target_is_one_error_naming_torch(model_file: Path, target: str, words: str) -> None:
    with pytest.raises(ParameterError) as caught:
        load_model(target)
    assert caught.value.param == "torch"
    assert words in caught.value.detail
    assert "\n" not in str(caught.value)


def test_input_shapes_parse() -> None:
    assert parse_input_shape("3,224,224") == (3, 224, 224)
    assert parse_input_shape([1, 100]) == (1, 100)
    for bad in ("3", "3,0,4", "a,b", "1,2,3,4", True, "3,-1,4"):
        with pytest.raises(ParameterError, match="input_shape"):
            parse_input_shape(bad)


# -- the analysis core on published numbers (no torch) ---------------------------------------


def conv(name: str, source: str, k: int, s: int = 1, p: int = 0, d: int = 1, dims: int = 2) -> Node:
    return Node(
        name, "Conv", "window", (source,), kernel_size=(k,) * dims, stride=(s,) * dims,
        padding=((p, p),) * dims, dilation=(d,) * dims, weighted=True,
    )  # fmt: skip


def chain(specs: list[tuple[int, int, int, int]], dims: int = 2) -> list[Node]:
    nodes, source = [], INPUT
    for i, (k, s, p, d) in enumerate(specs, 1):
        nodes.append(conv(f"conv{i}", source, k, s, p, d, dims))
        source = f"conv{i}"
    return nodes


def test_yu_koltun_dilations_give_3_7_15() -> None:
    rows = graph_fields(chain([(3, 1, 1, 1), (3, 1, 2, 2), (3, 1, 4, 4)]), (32, 32))
    assert [row.field.size for row in rows] == [(3, 3), (7, 7), (15, 15)]
    assert [row.field.start for row in rows] == [(-1, -1), (-3, -3), (-7, -7)]
    assert [row.name for row in rows] == ["conv1", "conv2", "conv3"]


def test_wavenet_stack_is_1024_and_1025_after_a_causal_first_layer() -> None:
    dilations = [2**i for i in range(10)]
    stack = chain([(2, 1, 0, d) for d in dilations], dims=1)
    assert graph_fields(stack, (4096,))[-1].field.size == 1024
    causal = Node("causal_pad", "ConstantPad1d", "window", (INPUT,), padding=((1, 0),))
    first = conv("causal", "causal_pad", 2, dims=1)
    rest = chain([(2, 1, 0, d) for d in dilations], dims=1)
    rest[0] = dataclasses.replace(rest[0], inputs=("causal",))
    rows = graph_fields([causal, first, *rest], (4096,))
    assert rows[-1].field.size == 1025
    assert rows[1].field.start == -1  # the causal pad: unit 0 reads the cell before the input


VGG16_CFG = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]


def test_vgg16_field_is_212_at_pool5() -> None:
    nodes, source = [], INPUT
    for i, width in enumerate(VGG16_CFG):
        name = f"features.{i}"
        if width == "M":
            nodes.append(
                Node(name, "MaxPool2d", "window", (source,), kernel_size=(2, 2), stride=(2, 2))
            )
        else:
            nodes.append(conv(name, source, 3, 1, 1))
        source = name
    rows = graph_fields(nodes, (224, 224))
    pool5 = rows[-1]
    assert pool5.field.size == (212, 212)
    assert pool5.field.stride == (32, 32)
    assert pool5.field.start == (-90, -90)
    assert pool5.output_size == (7, 7)
    assert not pool5.clipped  # the centre unit's field, cells 6 to 217, fits 224
    assert graph_fields(nodes, (200, 200))[-1].clipped


def test_a_transposed_layer_after_a_strided_conv_has_fields_of_3_and_5() -> None:
    """Where one calculator answers -7: even units see 3 cells, odd ones 5."""
    up = Node(
        "up", "ConvTranspose2d", "window", ("down",), kernel_size=(3, 3), stride=(2, 2),
        padding=((1, 1), (1, 1)), transposed=True, weighted=True,
    )  # fmt: skip
    rows = graph_fields([conv("down", INPUT, 3, 2, 1), up], (9, 9))
    assert rows[-1].field.sizes == ((3, 5), (3, 5))
    assert rows[-1].field.size == (5, 5)
    assert rows[-1].field.stride == (1, 1)
    assert rows[-1].field.method == "derived from cells"
    assert rows[-1].output_size == (9, 9)


def test_a_residual_sum_takes_the_union_of_its_branches() -> None:
    nodes = [
        conv("a", INPUT, 3, 1, 1),
        conv("b", "a", 3, 1, 1),
        Node("add", "add", "merge", ("b", "a")),
        Node("relu", "relu", "pointwise", ("add",)),
    ]
    rows = graph_fields(nodes, (16, 16))
    assert [row.field.size for row in rows] == [(3, 3), (5, 5), (5, 5), (5, 5)]
    assert rows[2].branch == ("b", "a") and rows[3].branch == ()
    # A branch that shifts its field: the union's extent runs between the extremes.
    shifted = [
        Node("pad", "Pad", "window", (INPUT,), padding=((2, 0), (0, 0))),
        Node("tall", "Conv", "window", ("pad",), kernel_size=(3, 1)),
        conv("c", INPUT, 3, 1, 1),
        Node("sum", "Add", "merge", ("tall", "c")),
    ]
    merged = graph_fields(shifted, (8, 8))
    assert merged[1].field.start == (-2, 0)
    assert merged[-1].field.start == (-2, -1)
    assert merged[-1].field.size == (4, 3)


def test_same_padding_modes_resolve_by_the_input_size() -> None:
    def one(padding: str, stride: int, size: int) -> Any:
        node = Node(
            "c", "Conv", "window", (INPUT,), kernel_size=(4,), stride=(stride,), padding=padding
        )
        return graph_fields([node], (size,))[0]

    assert one("same", 1, 10).padding == ((1, 2),)  # PyTorch: the extra cell after
    assert one("same_upper", 2, 9).padding == ((1, 2),)  # out 5: total (5-1)*2+4-9 = 3
    assert one("same_lower", 2, 9).padding == ((2, 1),)
    assert one("same_upper", 2, 9).output_size == (5,)
    with pytest.raises(ModelError, match="'same' needs stride 1"):
        one("same", 2, 9)


def test_ceil_mode_adds_the_last_partial_window() -> None:
    def pool(ceil: bool, size: int) -> tuple[int, ...]:
        node = Node(
            "p", "MaxPool2d", "window", (INPUT,), kernel_size=(3, 3), stride=(2, 2),
            ceil_mode=ceil,
        )  # fmt: skip
        return graph_fields([node], (size, size))[0].output_size

    assert pool(False, 8) == (3, 3) and pool(True, 8) == (4, 4)
    assert pool(True, 7) == (3, 3)


@pytest.mark.parametrize(
    ("nodes", "words"),
    [
        ([Node("up", "Upsample", "unsupported", (INPUT,))], "layer 'up' (Upsample): op Upsample"),
        ([conv("c", "nowhere", 3)], "reads 'nowhere'"),
        ([conv("c", INPUT, 9)], "its input is too small"),
        (
            [conv("a", INPUT, 3, 2), Node("s", "Add", "merge", ("a", INPUT))],
            "merges levels of different sizes, 3x3 and 8x8",
        ),
    ],
)
def test_what_the_analysis_cannot_read_is_one_line_naming_the_layer(
    nodes: list[Node], words: str
) -> None:
    with pytest.raises(ModelError) as caught:
        graph_fields(nodes, (8, 8))
    assert words in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_head_ends_the_analysis_with_a_note() -> None:
    nodes = [conv("c", INPUT, 3), Node("pool", "GlobalAveragePool", "head", ("c",))]
    fields = graph_fields(nodes, (8, 8))
    assert len(fields) == 1
    assert "ends at layer 'pool' (GlobalAveragePool)" in fields.ended


# -- torchvision's structures, checked against autograd -------------------------------------
# torchvision does not install beside torch 2.13.0 here, so the models are built below with
# its layer structure (kernels, strides, paddings, branches) and a few channels each: the
# fields depend on the structure, not on the widths.


def torch_models() -> dict[str, tuple[Any, tuple[int, ...], int]]:
    """name -> (model, input shape large enough for every layer's centre unit's field, the
    smallest size of an axis the model runs on)."""
    nn = pytest.importorskip("torch.nn")

    class VGG16(nn.Module):  # torchvision.models.vgg16: features, avgpool, classifier
        def __init__(self) -> None:
            super().__init__()
            layers: list[Any] = []
            channels = 3
            for width in VGG16_CFG:
                if width == "M":
                    layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
                else:
                    out = max(int(width) // 128, 1)
                    layers += [nn.Conv2d(channels, out, kernel_size=3, padding=1), nn.ReLU(True)]
                    channels = out
            self.features = nn.Sequential(*layers)
            self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
            self.classifier = nn.Sequential(nn.Linear(channels * 49, 10))

        def forward(self, x: Any) -> Any:
            return self.classifier(torch_flatten(self.avgpool(self.features(x))))

    class BasicBlock(nn.Module):  # torchvision.models.resnet.BasicBlock
        def __init__(self, inplanes: int, planes: int, stride: int = 1) -> None:
            super().__init__()
            self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(planes)
            self.relu = nn.ReLU(inplace=True)
            self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(planes)
            self.downsample = None
            if stride != 1 or inplanes != planes:
                self.downsample = nn.Sequential(
                    nn.Conv2d(inplanes, planes, 1, stride, bias=False), nn.BatchNorm2d(planes)
                )

        def forward(self, x: Any) -> Any:
            identity = x if self.downsample is None else self.downsample(x)
            out = self.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            out += identity
            return self.relu(out)

    class ResNet18(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv1 = nn.Conv2d(3, 2, kernel_size=7, stride=2, padding=3, bias=False)
            self.bn1 = nn.BatchNorm2d(2)
            self.relu = nn.ReLU(inplace=True)
            self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
            widths = [(2, 2, 1), (2, 3, 2), (3, 4, 2), (4, 4, 2)]
            for i, (inplanes, planes, stride) in enumerate(widths, 1):
                blocks = [BasicBlock(inplanes, planes, stride), BasicBlock(planes, planes)]
                setattr(self, f"layer{i}", nn.Sequential(*blocks))
            self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
            self.fc = nn.Linear(4, 10)

        def forward(self, x: Any) -> Any:
            x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
            x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
            return self.fc(torch_flatten(self.avgpool(x)))

    def conv_bn(inp: int, out: int, k: int, s: int, groups: int = 1, act: bool = True) -> Any:
        layers = [nn.Conv2d(inp, out, k, s, (k - 1) // 2, groups=groups, bias=False)]
        layers.append(nn.BatchNorm2d(out))
        if act:
            layers.append(nn.ReLU6(inplace=True))
        return nn.Sequential(*layers)

    class InvertedResidual(nn.Module):  # torchvision.models.mobilenetv2.InvertedResidual
        def __init__(self, inp: int, oup: int, stride: int, expand: int) -> None:
            super().__init__()
            hidden = inp * expand
            self.use_res_connect = stride == 1 and inp == oup
            layers = [] if expand == 1 else [conv_bn(inp, hidden, 1, 1)]
            layers += [conv_bn(hidden, hidden, 3, stride, groups=hidden)]
            layers += [conv_bn(hidden, oup, 1, 1, act=False)]
            self.conv = nn.Sequential(*layers)

        def forward(self, x: Any) -> Any:
            return x + self.conv(x) if self.use_res_connect else self.conv(x)

    class MobileNetV2(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            settings = [(1, 1, 1, 1), (2, 2, 2, 2), (2, 2, 3, 2), (2, 3, 4, 2), (2, 3, 3, 1),
                        (2, 4, 3, 2), (2, 4, 1, 1)]  # fmt: skip
            features = [conv_bn(3, 2, 3, 2)]
            channels = 2
            for t, c, n, s in settings:
                for i in range(n):
                    features.append(InvertedResidual(channels, c, s if i == 0 else 1, t))
                    channels = c
            features.append(conv_bn(channels, 5, 1, 1))
            self.features = nn.Sequential(*features)
            self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(5, 10))

        def forward(self, x: Any) -> Any:
            x = nn.functional.adaptive_avg_pool2d(self.features(x), (1, 1))
            return self.classifier(torch_flatten(x))

    def double(inp: int, out: int) -> Any:
        return nn.Sequential(
            nn.Conv2d(inp, out, 3, padding=1), nn.BatchNorm2d(out), nn.ReLU(inplace=True),
            nn.Conv2d(out, out, 3, padding=1), nn.BatchNorm2d(out), nn.ReLU(inplace=True),
        )  # fmt: skip

    class UNet(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inc, self.down1, self.down2 = double(1, 2), double(2, 3), double(3, 4)
            self.pool = nn.MaxPool2d(2)
            self.up1 = nn.ConvTranspose2d(4, 3, kernel_size=2, stride=2)
            self.conv1 = double(6, 3)
            self.up2 = nn.ConvTranspose2d(3, 2, kernel_size=3, stride=2, padding=1,
                                          output_padding=1)  # fmt: skip
            self.conv2 = double(4, 2)
            self.outc = nn.Conv2d(2, 1, kernel_size=1)

        def forward(self, x: Any) -> Any:
            x1 = self.inc(x)
            x2 = self.down1(self.pool(x1))
            x3 = self.down2(self.pool(x2))
            y = self.conv1(torch_cat([x2, self.up1(x3)]))
            y = self.conv2(torch_cat([x1, self.up2(y)]))
            return self.outc(y)

    import torch
    import torch.nn.functional as F

    def weight(*shape: int) -> Any:
        return nn.Parameter(torch.randn(shape))

    class Functional(nn.Module):  # the layers as calls in forward(), weights as parameters
        def __init__(self) -> None:
            super().__init__()
            self.w1, self.b1, self.w2 = weight(2, 1, 3, 3), weight(2), weight(2, 2, 3, 3)
            self.t, self.w3 = weight(4, 2, 4, 4), weight(1, 2, 3, 3)

        def forward(self, x: Any) -> Any:
            y = F.relu(F.conv2d(x, self.w1, self.b1, stride=2, padding=1))
            z = F.max_pool2d(y, 3, stride=2, padding=1, ceil_mode=True)
            a = F.conv2d(z, self.w2, None, 1, 2, 2)  # positional: stride, padding, dilation
            s = a + F.avg_pool2d(z, 3, 1, 1)
            c = torch.cat([s, F.max_pool2d(F.pad(z, (1, 1, 1, 1)), 3, 1, 1, dilation=2)], dim=1)
            u = F.conv_transpose2d(c, self.t, stride=2, padding=1)
            u = F.pad(u, (1, 2, 0, 1))[:, :2]
            return F.conv2d(u, self.w3, padding="same", dilation=(1, 2))

    class Functional1d(nn.Module):  # WaveNet-like: a causal pad, dilated kernels of 2
        def __init__(self) -> None:
            super().__init__()
            self.w = nn.ParameterList([weight(1, 1, 2) for _ in range(4)])
            self.t = weight(1, 1, 3)

        def forward(self, x: Any) -> Any:
            for i, w in enumerate(self.w):
                x = torch.tanh(F.conv1d(F.pad(x, (2**i, 0)), w, dilation=2**i))
            x = F.max_pool1d(x, 2)
            return F.conv_transpose1d(x, self.t, stride=2, output_padding=1)

    return {
        "functional": (Functional(), (1, 192, 192), 16),
        "functional_1d": (Functional1d(), (1, 256), 8),
        "vgg16": (VGG16(), (3, 256, 256), 32),
        "resnet18": (ResNet18(), (3, 512, 512), 1),
        "mobilenet_v2": (MobileNetV2(), (3, 544, 544), 1),
        "unet": (UNet(), (1, 128, 128), 4),
    }


def torch_flatten(x: Any) -> Any:
    import torch

    return torch.flatten(x, 1)


def torch_cat(xs: list[Any]) -> Any:
    import torch

    return torch.cat(xs, dim=1)


def linearised(model: Any) -> Any:
    """A copy whose gradients are positive exactly on each unit's field: positive weights,
    average pools for max pools (the same windows), activations taken out."""
    import copy

    import torch.nn as nn

    clone = copy.deepcopy(model).eval()
    for name, module in list(clone.named_modules()):
        parent = clone.get_submodule(name.rpartition(".")[0]) if "." in name else clone
        leaf = name.rpartition(".")[2]
        if isinstance(module, (nn.MaxPool2d, nn.MaxPool1d)):
            avg = nn.AvgPool2d if isinstance(module, nn.MaxPool2d) else nn.AvgPool1d
            setattr(parent, leaf, avg(module.kernel_size, module.stride, module.padding,
                                      module.ceil_mode))  # fmt: skip
        elif isinstance(module, (nn.ReLU, nn.ReLU6)):
            setattr(parent, leaf, nn.Identity())
        elif isinstance(module, (nn.Conv2d, nn.ConvTranspose2d, nn.Conv1d, nn.ConvTranspose1d)):
            module.weight.data = module.weight.data.abs() + 0.05
        elif not isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d)):
            for parameter in module.parameters(recurse=False):  # F.conv2d's weights
                parameter.data = parameter.data.abs() + 0.05
    return clone


def _as_window_sum(target: Any, args: Any, kwargs: Any) -> Any:
    """``F.max_pool1d/2d``'s call as a sum over the same windows (its gradient is positive on
    every window cell; a max's only at the largest): an average pool, or a dilated all-ones
    convolution where the pool is dilated."""
    import torch
    import torch.nn.functional as F

    name = getattr(target, "__name__", "")
    keys = ("kernel_size", "stride", "padding", "dilation", "ceil_mode")
    a = dict(zip(keys, args[1:], strict=False)) | kwargs
    x, dims = args[0], 1 if "1d" in name else 2
    kernel, stride = a["kernel_size"], a.get("stride") or a["kernel_size"]
    padding, dilation = a.get("padding", 0), a.get("dilation", 1)
    if dilation in (1, (1,) * dims, [1] * dims):
        avg = F.avg_pool1d if dims == 1 else F.avg_pool2d
        return avg(x, kernel, stride, padding, a.get("ceil_mode", False))
    assert not a.get("ceil_mode"), "a dilated ceil_mode pool has no window-sum stand-in here"
    size = (kernel,) * dims if isinstance(kernel, int) else tuple(kernel)
    ones = torch.ones((x.shape[1], 1, *size), dtype=x.dtype)
    conv = F.conv1d if dims == 1 else F.conv2d
    return conv(x, ones, None, stride, padding, dilation, groups=x.shape[1])


def level_outputs(model: Any, x: Any) -> dict[str, Any]:
    """Every fx node's output, by the name the rows give it (a module called again: #2)."""
    import torch.fx

    traced = torch.fx.symbolic_trace(model)
    found: dict[str, Any] = {}
    calls: dict[str, int] = {}

    class Recorder(torch.fx.Interpreter):
        def call_function(self, target: Any, args: Any, kwargs: Any) -> Any:
            if getattr(target, "__name__", "") in ("max_pool1d", "max_pool2d"):
                return _as_window_sum(target, args, kwargs)
            return super().call_function(target, args, kwargs)

        def run_node(self, n: Any) -> Any:
            result = super().run_node(n)
            name = n.name
            if n.op == "call_module":
                calls[n.target] = calls.get(n.target, 0) + 1
                name = n.target + (f"#{calls[n.target]}" if calls[n.target] > 1 else "")
            found[name] = result
            return result

    Recorder(traced).run(x)
    return found


def pick(value: Any, axis: int, dims: int) -> Any:
    """A LayerField's number on one axis (a 1-D field's are plain)."""
    return value[axis] if dims > 1 else value


THIN = 32  # the other axis's size when one axis is checked: fields are per axis


def check_against_autograd(model: Any, shape: tuple[int, ...], rows: Any, thin: int = THIN) -> int:
    """Every row's size, sizes per position, stride and start, against autograd; the count.

    One axis at a time, on an input as large as ``shape`` on that axis and thin on the
    other; one backward pass for every (row, unit) asked, each unit on its own copy of the
    input in a batch (the copies are independent in eval mode). Units: the centre one,
    rounded down to a multiple of its period (of sizes and of starts), and the next period.
    """
    import torch

    probe = linearised(model)
    dims = len(shape) - 1
    checked: set[str] = set()
    for axis in range(dims):
        sizes_in = tuple(n if a == axis else min(n, thin) for a, n in enumerate(shape[1:]))
        asks = []
        for row in rows:
            field = row.field
            period = field.period if dims > 1 else (field.period,)
            p, n = math.lcm(period[axis], row.repeat[axis]), row.output_size[axis]
            first = (n - 1) // 2 // p * p
            asks += [(row, first + step) for step in range(p + 1)]
        x = torch.rand((len(asks), shape[0], *sizes_in)) + 0.5
        x.requires_grad_(True)
        outputs = level_outputs(probe, x)
        total = 0
        for b, (row, unit) in enumerate(asks):
            level = outputs[row.name]
            index: list[Any] = [b, slice(None)] + [(m - 1) // 2 for m in level.shape[2:]]
            index[2 + axis] = unit  # every channel: a position's field (a concatenation's)
            total = total + level[tuple(index)].sum()
        (grad,) = torch.autograd.grad(total, x)
        mass = grad.abs().sum(1)  # (batch, *spatial)
        others = tuple(1 + a for a in range(dims) if a != axis)
        lines = mass.sum(others) if others else mass
        for b, (row, unit) in enumerate(asks):
            field = row.field
            sizes, start = pick(field.sizes, axis, dims), pick(field.start, axis, dims)
            stride = pick(field.stride, axis, dims)
            p, repeat = pick(field.period, axis, dims), row.repeat[axis]
            nonzero = torch.nonzero(lines[b] > 0).flatten().tolist()
            want = sizes[unit % p]
            assert nonzero, (row.name, axis, unit, "reads nothing")
            lo, hi = nonzero[0], nonzero[-1]
            assert lo > 0 and hi < shape[1 + axis] - 1, (row.name, axis, "input too small")
            assert hi - lo + 1 == want, (row.name, axis, unit, hi - lo + 1, want)
            if unit % repeat == 0:  # it starts where unit 0's does, unit / repeat repeats on
                assert lo == start + unit * stride, (row.name, axis, unit, lo, start, stride)
            checked.add(row.name)
    return len(checked)


@pytest.fixture(scope="module")
def models() -> Iterator[dict[str, tuple[Any, tuple[int, ...], int]]]:
    torch = pytest.importorskip("torch")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # these convolutions have a few channels: threads cost more
    yield torch_models()
    torch.set_num_threads(threads)


ALL_MODELS = ["vgg16", "resnet18", "mobilenet_v2", "unet", "functional", "functional_1d"]


@pytest.mark.parametrize("name", ALL_MODELS)
def test_every_field_equals_autograd(models: Any, name: str) -> None:
    from convanim.model_fields import receptive_fields

    model, shape, thin = models[name]
    fields = receptive_fields(model, shape)
    assert check_against_autograd(model, shape, fields, thin) == len(fields) > 10
    assert all(not row.clipped for row in fields)


def test_published_fields_of_the_torch_models(models: Any) -> None:
    from convanim.model_fields import receptive_fields

    vgg = receptive_fields(*models["vgg16"][:2])
    assert vgg[-1].name == "features.30" and vgg[-1].field.size == (212, 212)
    assert "ends at layer 'avgpool' (AdaptiveAvgPool2d)" in vgg.ended
    resnet = receptive_fields(*models["resnet18"][:2])
    assert resnet[-1].name == "layer4.1.relu_1" or resnet[-1].op == "ReLU"
    assert resnet[-1].field.size == (435, 435) and resnet[-1].field.stride == (32, 32)
    adds = [row for row in resnet if row.op == "add"]
    assert len(adds) == 8 and adds[0].branch == ("layer1.0.bn2", "maxpool")
    unet = receptive_fields(*models["unet"][:2])
    assert unet[-1].field.varies and unet[-1].field.method == "derived from cells"


# -- the same numbers from the module exported to ONNX --------------------------------------

WINDOWS_AND_MERGES = {"Conv2d", "ConvTranspose2d", "MaxPool2d", "add", "cat", "iadd",
                      "conv2d", "conv_transpose2d", "max_pool2d", "avg_pool2d", "pad",
                      "conv1d", "conv_transpose1d", "max_pool1d"}  # fmt: skip
ONNX_WINDOWS_AND_MERGES = {"Conv", "ConvTranspose", "MaxPool", "AveragePool", "Pad", "Add",
                           "Concat"}  # fmt: skip


def export_onnx(model: Any, shape: tuple[int, ...], path: Path) -> Path:
    """The TorchScript exporter (``dynamo=False``): the default one needs onnxscript."""
    import warnings

    import torch

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # its deprecation notice
        torch.onnx.export(model, (torch.zeros((1, *shape)),), str(path), dynamo=False)
    return path


def numbers(rows: Any, ops: set[str]) -> list[tuple[Any, ...]]:
    return [
        (row.field.sizes, row.field.stride, row.field.start, row.output_size, row.clipped)
        for row in rows
        if row.op in ops
    ]


@pytest.mark.parametrize("name", ALL_MODELS)
def test_an_onnx_export_gives_the_same_numbers(models: Any, name: str, tmp_path: Path) -> None:
    pytest.importorskip("onnx")
    from convanim.model_fields import onnx_fields, receptive_fields

    model, shape, _ = models[name]
    if name == "vgg16":  # its AdaptiveAvgPool2d((7, 7)) exports only from a 7 x 7 pool5
        shape = (3, 224, 224)
    path = export_onnx(model, shape, tmp_path / f"{name}.onnx")
    from_torch = receptive_fields(model, shape)
    from_onnx = onnx_fields(path)  # the file fixes the input's shape
    onnx_rows = numbers(from_onnx, ONNX_WINDOWS_AND_MERGES)
    torch_rows = numbers(from_torch, WINDOWS_AND_MERGES)
    # VGG's AdaptiveAvgPool2d((7, 7)) of a 7 x 7 input exports as a 1 x 1 AveragePool: a row
    # past the head where the PyTorch analysis ends.
    assert onnx_rows[: len(torch_rows)] == torch_rows and len(torch_rows) > 5
    assert len(onnx_rows) == len(torch_rows) or from_torch.ended
    assert from_onnx.ended.startswith("the analysis ends") == from_torch.ended.startswith(
        "the analysis ends"
    )


# -- the command line ---------------------------------------------------------------------


def test_rf_torch_json_keeps_rf_keys_and_adds_name_and_op(model_file: Path) -> None:
    import json

    from click.testing import CliRunner

    from convanim.cli import main

    runner = CliRunner()
    stack = runner.invoke(main, ["rf", "-k", "3", "--json"])
    result = runner.invoke(
        main, ["rf", "--torch", "my_models:build", "--input-shape", "1,9,9", "--json"]
    )
    assert result.exit_code == 0, result.output
    facts = json.loads(result.output)
    row = facts["layers"][0]
    assert set(json.loads(stack.output)["layers"][0]) <= set(row)
    assert (row["name"], row["op"], row["field"], row["start"]) == ("0", "Conv2d", [3, 3], [0, 0])
    assert row["output_size"] == [7, 7] and facts["layers"][1]["kernel"] is None
    text = runner.invoke(main, ["rf", "--torch", "my_models:build", "--input-shape", "1,9,9",
                                "--info"])  # fmt: skip
    assert text.output.splitlines()[1].split()[:5] == ["1", "0", "Conv2d", "7", "3"]


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--torch", "my_models:nothing", "--input-shape", "1,9,9"], "--torch: got"),
        (["--torch", "my_models:not_a_module", "--input-shape", "1,9,9"], "returned int"),
        (["--torch", "my_models:build", "--input-shape", "3,9,9"], "--input-shape: the model"),
        (["--torch", "my_models:build"], "--input-shape: --torch needs"),
        (["--torch", "my_models:build", "--input-shape", "1,9,9", "-k", "3"], "--kernel"),
        (["--onnx", "missing.onnx"], "--onnx: got 'missing.onnx'; no such file"),
        (
            ["--torch", "my_models:build", "--input-shape", "1,9,9", "-o", "x.png", "--frame", "1"],
            "--frame: got 1; expected 0 to 0",
        ),
    ],
)
def test_rf_model_mistakes_are_one_line_exit_2_no_file(
    model_file: Path, args: list[str], words: str
) -> None:
    from click.testing import CliRunner

    from convanim.cli import main

    result = CliRunner().invoke(main, ["rf", *args, *([] if "-o" in args else ["--info"])])
    assert result.exit_code == 2, result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error")]
    assert len(errors) == 1 and words in errors[0]
    assert not (model_file.parent / "x.png").exists()


def test_rf_unsupported_op_names_the_op_and_the_layer(tmp_path: Path) -> None:
    """An ONNX graph made with onnx.helper alone (no torch): a Resize ends the analysis."""
    onnx = pytest.importorskip("onnx")
    from click.testing import CliRunner

    from convanim.cli import main
    from convanim.model_fields import onnx_fields

    h = onnx.helper
    weight = h.make_tensor("w", onnx.TensorProto.FLOAT, [1, 1, 3, 3], [1.0] * 9)
    graph = h.make_graph(
        [
            h.make_node("Conv", ["x", "w"], ["a"], name="conv", pads=[1, 1, 1, 1], strides=[2, 2]),
            h.make_node(
                "MaxPool",
                ["a"],
                ["b"],
                name="pool",
                kernel_shape=[3, 3],
                strides=[2, 2],
                ceil_mode=1,
            ),
            h.make_node(
                "Conv", ["b", "w"], ["c"], name="same", auto_pad="SAME_UPPER", dilations=[2, 2]
            ),
            h.make_node("Resize", ["c"], ["d"], name="up"),
        ],
        "g",
        [h.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1, 1, 32, 32])],
        [h.make_tensor_value_info("d", onnx.TensorProto.FLOAT, None)],
        [weight],
    )
    path = tmp_path / "m.onnx"
    onnx.save(h.make_model(graph), str(path))
    result = CliRunner().invoke(main, ["rf", "--onnx", str(path), "--info"])
    assert result.exit_code == 2
    assert "--onnx: layer 'up' (Resize): op Resize is not supported" in result.stderr
    truncated = graph
    del truncated.node[-1]
    onnx.save(h.make_model(truncated), str(path))
    rows = onnx_fields(path)
    assert [row.output_size for row in rows] == [(16, 16), (8, 8), (8, 8)]
    assert [row.field.size for row in rows] == [(3, 3), (7, 7), (23, 23)]
    assert rows[2].padding == ((2, 2), (2, 2))


def test_forward_hooks_read_what_fx_cannot_trace(models: Any) -> None:
    """Control flow on a value stops torch.fx; hooks and a function mode see the same graph."""
    import torch
    import torch.nn as nn

    from convanim.model_fields import receptive_fields

    class Branchy(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv1 = nn.Conv2d(1, 1, 3, padding=1)
            self.conv2 = nn.Conv2d(1, 1, 3, stride=2, padding=1)
            self.conv3 = nn.Conv2d(1, 1, 3, padding=2, dilation=2)

        def forward(self, x: Any) -> Any:
            y = self.conv1(x)
            if float(y.sum()) >= -1e9:  # a value decides: fx cannot trace this
                y = torch.relu(y)
            z = self.conv2(y)
            return self.conv3(z) + z

    with pytest.raises(Exception):  # noqa: B017 - whatever fx raises
        torch.fx.symbolic_trace(Branchy())
    rows = receptive_fields(Branchy(), (1, 32, 32))
    assert [(row.name, row.op) for row in rows] == [
        ("conv1", "Conv2d"), ("relu", "relu"), ("conv2", "Conv2d"), ("conv3", "Conv2d"),
        ("add", "add"),
    ]  # fmt: skip
    assert rows[-1].branch == ("conv3", "conv2")
    assert rows[-1].field.size == (13, 13) and rows[-1].field.stride == (2, 2)


def test_functional_calls_read_the_same_through_hooks(models: Any) -> None:
    """F.conv2d, F.max_pool2d, F.pad, torch.cat... where fx cannot trace: the same rows."""
    from convanim.model_fields import receptive_fields

    model, shape, _ = models["functional"]

    class Untraceable(type(model)):  # type: ignore[misc]
        def forward(self, x: Any) -> Any:
            if float(x.sum()) > -1e30:  # a value decides: fx cannot trace this
                return super().forward(x)
            return x

    untraceable = Untraceable()
    untraceable.load_state_dict(model.state_dict())
    traced = receptive_fields(model, shape)
    hooked = receptive_fields(untraceable, shape)
    assert [row.op for row in traced][:4] == ["conv2d", "relu", "max_pool2d", "conv2d"]
    assert [(r.name, r.op, r.field, r.output_size) for r in hooked] == [
        (r.name, r.op, r.field, r.output_size) for r in traced
    ]


def test_an_unsupported_function_ends_the_analysis_naming_it(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    from click.testing import CliRunner

    from convanim.cli import main

    (tmp_path / "fmodels.py").write_text(
        "import torch\nimport torch.nn.functional as F\n\n"
        "class Up(torch.nn.Module):\n"
        "    def __init__(self, mode):\n"
        "        super().__init__()\n"
        "        self.w, self.mode = torch.nn.Parameter(torch.ones(1, 1, 3, 3)), mode\n"
        "    def forward(self, x):\n"
        "        x = F.conv2d(x, self.w, padding=1)\n"
        "        if self.mode == 'slice':\n"
        "            return x[:, :, 1:]\n"
        "        if self.mode == 'reflect':\n"
        "            return F.pad(x, (1, 1, 1, 1), mode='reflect')\n"
        "        return F.interpolate(x, scale_factor=2)\n\n"
        "def up():\n    return Up('up')\n\n"
        "def sliced():\n    return Up('slice')\n\n"
        "def reflect():\n    return Up('reflect')\n",
        encoding="utf-8",
    )
    cases = {
        "up": "--torch: layer 'interpolate' (interpolate): op interpolate is not supported;",
        "sliced": "layer 'getitem' (getitem): op getitem is not supported (it indexes the "
        "spatial axes)",
        "reflect": "layer 'pad' (pad): op pad is not supported (mode 'reflect')",
    }
    for callable_name, words in cases.items():
        result = CliRunner().invoke(
            main,
            ["rf", "--torch", f"{tmp_path / 'fmodels.py'}:{callable_name}", "--input-shape",
             "1,16,16", "--info"],
        )  # fmt: skip
        assert result.exit_code == 2, result.output
        errors = [line for line in result.stderr.splitlines() if line.strip()]
        assert len(errors) == 1 and words in errors[0], errors
