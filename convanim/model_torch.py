"""A PyTorch module as ``convanim.graph_fields`` nodes: torch.fx, or forward hooks where it fails.

torch is imported inside the functions. The graph is traced with ``torch.fx.symbolic_trace``
and run once on a zero input of the given shape, which checks the shape and
tells tensors from other values. A module fx cannot trace (control flow on values, say) is
run instead with forward hooks on its leaf modules and a ``TorchFunctionMode`` that sees the
functions called between them (the ``+`` of a residual block), linked by the tensors passed.

A module's node is named as ``named_modules()`` names it; a module called again (one ReLU
used twice in a block) is ``name#2``, ``name#3``... Functions take fx's names (``add``,
``add_1``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from convanim.errors import ParameterError
from convanim.graph_fields import INPUT, Node

__all__ = ["torch_nodes", "torch_outputs"]

# Functions and tensor methods by name (fx's call_function targets and call_method names, and
# what a TorchFunctionMode sees), with a trailing or dunder underscore stripped.
POINTWISE = {
    "relu", "relu6", "leaky_relu", "elu", "selu", "celu", "gelu", "silu", "mish", "hardswish",
    "hardsigmoid", "hardtanh", "sigmoid", "tanh", "softplus", "dropout", "dropout2d",
    "contiguous", "clone", "float", "double", "half", "to", "type_as", "neg", "abs", "exp",
    "sqrt", "clamp", "clip", "pow", "detach", "identity",
}  # fmt: skip
MERGES = {"add", "iadd", "radd", "sub", "isub", "rsub", "mul", "imul", "rmul", "truediv",
          "div", "maximum", "minimum", "cat", "concat", "concatenate"}  # fmt: skip
HEADS = {"flatten", "view", "reshape", "adaptive_avg_pool1d", "adaptive_avg_pool2d",
         "adaptive_max_pool1d", "adaptive_max_pool2d", "mean", "sum", "amax", "linear",
         "squeeze"}  # fmt: skip
IGNORED = {"size", "dim", "numel", "getattr"}  # values, not levels


def _pair(value: Any, dims: int) -> tuple[int, ...]:
    if isinstance(value, (tuple, list)):
        return tuple(int(v) for v in value)
    return (int(value),) * dims


def _module_node(name: str, module: Any, inputs: tuple[str, ...], dims: int) -> Node:
    """One leaf module as a node."""
    import torch.nn as nn

    op = type(module).__name__

    def node(kind: Any, **window: Any) -> Node:
        return Node(name, op, kind, inputs, **window)

    convs = (nn.Conv1d, nn.Conv2d, nn.ConvTranspose1d, nn.ConvTranspose2d)
    if isinstance(module, convs) and len(module.kernel_size) == dims:
        if module.padding_mode != "zeros":
            return node("unsupported", note=f"padding_mode '{module.padding_mode}'")
        transposed = isinstance(module, (nn.ConvTranspose1d, nn.ConvTranspose2d))
        padding: Any = module.padding
        padding = padding if isinstance(padding, str) else tuple((int(p), int(p)) for p in padding)
        return node(
            "window",
            kernel_size=_pair(module.kernel_size, dims),
            stride=_pair(module.stride, dims),
            padding=padding,
            dilation=_pair(module.dilation, dims),
            transposed=transposed,
            output_padding=_pair(module.output_padding, dims) if transposed else (),
            weighted=True,
        )
    pools = (nn.MaxPool1d, nn.MaxPool2d, nn.AvgPool1d, nn.AvgPool2d)
    if isinstance(module, pools) and dims == (1 if "1d" in op else 2):
        kernel = _pair(module.kernel_size, dims)
        padding = tuple((p, p) for p in _pair(module.padding, dims))
        return node(
            "window",
            kernel_size=kernel,
            stride=_pair(module.stride, dims) if module.stride else kernel,
            padding=padding,
            dilation=_pair(getattr(module, "dilation", 1), dims),
            ceil_mode=bool(module.ceil_mode),
        )
    pads = (nn.ZeroPad1d, nn.ZeroPad2d, nn.ConstantPad1d, nn.ConstantPad2d)
    if isinstance(module, pads) and len(module.padding) == 2 * dims:
        flat = [int(p) for p in module.padding]  # (left, right[, top, bottom]): last axis first
        return node(
            "window",
            padding=tuple((flat[2 * i], flat[2 * i + 1]) for i in reversed(range(dims))),
        )
    pointwise = (
        nn.BatchNorm1d, nn.BatchNorm2d, nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.PReLU, nn.ELU,
        nn.SELU, nn.CELU, nn.GELU, nn.SiLU, nn.Mish, nn.Hardswish, nn.Hardsigmoid, nn.Hardtanh,
        nn.Sigmoid, nn.Tanh, nn.Softplus, nn.Dropout, nn.Dropout1d, nn.Dropout2d,
        nn.AlphaDropout, nn.Identity,
    )  # fmt: skip
    if isinstance(module, pointwise):
        return node("pointwise")
    heads = (
        nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool1d, nn.AdaptiveMaxPool2d,
        nn.Flatten,
    )  # fmt: skip
    if isinstance(module, heads):
        return node("head", note="it pools or flattens the spatial axes")
    if isinstance(module, (nn.GroupNorm, nn.InstanceNorm1d, nn.InstanceNorm2d, nn.LayerNorm)):
        return node("unsupported", note="it normalises over the spatial axes")
    return node("unsupported")


# Functions with a window, by name: their positional parameters after the input, in order
# (PyTorch's signatures); the weight of a convolution gives its kernel size.
_CONV = ("weight", "bias", "stride", "padding", "dilation", "groups")
_CONV_T = ("weight", "bias", "stride", "padding", "output_padding", "groups", "dilation")
_MAX = ("kernel_size", "stride", "padding", "dilation", "ceil_mode", "return_indices")
_AVG = ("kernel_size", "stride", "padding", "ceil_mode", "count_include_pad", "divisor_override")
WINDOW_FUNCTIONS: dict[str, tuple[str, ...]] = {
    "conv1d": _CONV, "conv2d": _CONV, "conv_transpose1d": _CONV_T, "conv_transpose2d": _CONV_T,
    "max_pool1d": _MAX, "max_pool2d": _MAX, "max_pool1d_with_indices": _MAX,
    "max_pool2d_with_indices": _MAX, "avg_pool1d": _AVG, "avg_pool2d": _AVG,
    "pad": ("pad", "mode", "value"),
}  # fmt: skip


def _arguments(word: str, args: Sequence[Any], kwargs: dict[str, Any]) -> dict[str, Any]:
    """A window function's arguments by name (the input left out)."""
    found = dict(zip(WINDOW_FUNCTIONS[word], args[1:], strict=False))
    found.update({key: value for key, value in kwargs.items() if key != "input"})
    return found


def _window_function(
    name: str, word: str, args: Sequence[Any], kwargs: dict[str, Any], inputs: tuple[str, ...],
    dims: int, shape_of: Callable[[Any], tuple[int, ...] | None],
) -> Node:  # fmt: skip
    """``F.conv2d``, ``F.max_pool2d``, ``F.pad``... called in a forward(), as a node."""
    a = _arguments(word, args, kwargs)

    def unsupported(note: str) -> Node:
        return Node(name, word, "unsupported", inputs, note=note)

    if word == "pad":
        pad, mode = a.get("pad"), a.get("mode", "constant")
        if mode != "constant":
            return unsupported(f"mode '{mode}'")
        if not isinstance(pad, (tuple, list)) or len(pad) != 2 * dims:
            return unsupported(f"it pads {pad!r}, not (before, after) of each spatial axis")
        flat = [int(p) for p in pad]  # last axis first, as nn.ZeroPad2d's
        if min(flat) < 0:
            return unsupported("a negative pad crops")
        return Node(
            name, word, "window", inputs,
            padding=tuple((flat[2 * i], flat[2 * i + 1]) for i in reversed(range(dims))),
        )  # fmt: skip
    spatial = int(re.search(r"([0-9])d", word).group(1))  # type: ignore[union-attr]
    if spatial != dims:
        return unsupported(f"a {spatial}-D window on a {dims}-D input")
    if word.startswith("conv"):
        shape = shape_of(a.get("weight"))
        if shape is None or len(shape) != dims + 2:
            return unsupported("its weight's shape is not known")
        kernel: tuple[int, ...] = tuple(int(k) for k in shape[2:])
    else:
        kernel = _pair(a.get("kernel_size"), dims)
    padding: Any = a.get("padding", 0)
    if not isinstance(padding, str):
        padding = tuple((p, p) for p in _pair(padding, dims))
    transposed = word.startswith("conv_transpose")
    stride = a.get("stride")
    return Node(
        name, word, "window", inputs,
        kernel_size=kernel,
        stride=_pair(stride, dims) if stride not in (None, [], ()) else
        (kernel if word.startswith(("max", "avg")) else (1,) * dims),
        padding=padding,
        dilation=_pair(a.get("dilation", 1), dims),
        transposed=transposed,
        output_padding=_pair(a.get("output_padding", 0), dims) if transposed else (),
        ceil_mode=bool(a.get("ceil_mode", False)),
        weighted=word.startswith("conv"),
    )  # fmt: skip


def _slices_channels_only(index: Any) -> bool:
    """Whether ``x[index]`` keeps every spatial cell: slices or picks of the first two axes."""
    items = index if isinstance(index, tuple) else (index,)
    if any(item is None or item is Ellipsis for item in items):
        return False
    return all(item == slice(None) for item in items[2:])


def _word(target: Any) -> str:
    """A function's or method's name without the underscores of in-place and dunder forms."""
    name = target if isinstance(target, str) else getattr(target, "__name__", str(target))
    return name.strip("_")


def _function_node(
    name: str, target: Any, args: Sequence[Any], kwargs: dict[str, Any], inputs: tuple[str, ...],
    dims: int, shape_of: Callable[[Any], tuple[int, ...] | None],
) -> Node:  # fmt: skip
    """A function or tensor method called on levels, as a node. ``shape_of`` gives the shape
    of an argument (a convolution's weight): an fx node's, or a tensor's."""
    word = _word(target)
    op = word
    if word in WINDOW_FUNCTIONS:
        return _window_function(name, word, args, kwargs, inputs, dims, shape_of)
    if word == "getitem" and len(args) == 2:
        if _slices_channels_only(args[1]):
            return Node(name, op, "pointwise", inputs)
        return Node(name, op, "unsupported", inputs, note="it indexes the spatial axes")
    if word in ("cat", "concat", "concatenate"):
        dim = kwargs.get("dim", args[1] if len(args) > 1 else 0)
        if dim not in (1, -3) and dim != 1:
            return Node(name, op, "unsupported", inputs, note=f"it concatenates along dim {dim}")
        return Node(name, op, "merge" if len(inputs) > 1 else "pointwise", inputs)
    if word in MERGES:
        return Node(name, op, "merge" if len(inputs) > 1 else "pointwise", inputs)
    if word in POINTWISE:
        return Node(name, op, "pointwise", inputs)
    if word in HEADS:
        return Node(name, op, "head", inputs, note="it pools, flattens or reshapes")
    return Node(name, op, "unsupported", inputs)


def _spatial(shape: Sequence[int], dims: int) -> bool:
    return len(shape) == dims + 2


def torch_nodes(model: Any, input_shape: Sequence[int]) -> list[Node]:
    """The nodes of ``model`` run on a ``(1, *input_shape)`` input, in graph order."""
    import torch

    return _read(model, torch.zeros((1, *input_shape)), None)


def torch_outputs(model: Any, x: Any) -> tuple[list[Node], dict[str, Any]]:
    """The nodes of ``model`` run on ``x`` (one input with its batch axis, which may require
    grad), and each node's output tensor by the node's name, with autograd recording.

    In-place operations run out of place (modules' ``inplace``, ``+=``, ``relu_``), so that
    an output stays what its layer made of it when a later layer would overwrite it.
    """
    outputs: dict[str, Any] = {}
    return _read(model, x, outputs), outputs


def _read(model: Any, example: Any, outputs: dict[str, Any] | None) -> list[Node]:
    import torch

    if not isinstance(model, torch.nn.Module):
        raise ParameterError("model", f"got {type(model).__name__}; expected a torch.nn.Module")
    dims = example.dim() - 2
    was_training = model.training
    in_place = [m for m in model.modules() if getattr(m, "inplace", False) is True]
    model.eval()
    if outputs is not None:
        for module in in_place:
            setattr(module, "inplace", False)  # noqa: B010 - typed as a Module attribute
    try:
        try:
            import torch.fx

            traced = torch.fx.symbolic_trace(model)
        except Exception:  # fx cannot trace it: hooks see what runs
            return _hooked(model, example, dims, outputs)
        return _fx(traced, example, dims, outputs)
    finally:
        model.train(was_training)
        for module in in_place:
            setattr(module, "inplace", True)  # noqa: B010


def _refused(example: Any, error: Exception) -> ParameterError:
    first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    shape = ",".join(str(n) for n in example.shape[1:])
    return ParameterError(
        "input_shape", f"the model cannot run on an input of shape {shape}: {first}"
    )


# In-place operators and their out-of-place forms, for ``torch_outputs``.
_OUT_OF_PLACE = {"iadd": "add", "isub": "sub", "imul": "mul", "itruediv": "truediv"}


def _fx(traced: Any, example: Any, dims: int, outputs: dict[str, Any] | None) -> list[Node]:
    import contextlib
    import operator

    import torch
    import torch.fx

    shapes: dict[Any, tuple[int, ...]] = {}  # the tensors' shapes, by fx node
    results: dict[Any, Any] = {}  # and the tensors themselves, when outputs are asked for

    class Shapes(torch.fx.Interpreter):  # fx's ShapeProp, without what it imports
        def run_node(self, n: Any) -> Any:
            result = super().run_node(n)
            if isinstance(result, torch.Tensor):
                shapes[n] = tuple(result.shape)
                if outputs is not None:
                    results[n] = result
            return result

        def call_function(self, target: Any, args: Any, kwargs: Any) -> Any:
            if outputs is not None:
                target = getattr(operator, _OUT_OF_PLACE.get(_word(target), ""), target)
                kwargs = {**kwargs, "inplace": False} if kwargs.get("inplace") else kwargs
            return super().call_function(target, args, kwargs)

        def call_method(self, target: Any, args: Any, kwargs: Any) -> Any:
            if outputs is not None and target.endswith("_") and not target.startswith("_"):
                target = target[:-1]  # x.relu_() as x.relu()
            return super().call_method(target, args, kwargs)

    try:
        with torch.no_grad() if outputs is None else contextlib.nullcontext():
            Shapes(traced).run(example)
    except Exception as error:
        raise _refused(example, error) from None
    modules = dict(traced.named_modules())
    names: dict[Any, str] = {}
    calls: dict[str, int] = {}
    found: list[Node] = []
    for fx_node in traced.graph.nodes:
        is_tensor = fx_node in shapes
        if fx_node.op == "placeholder":
            if not names:
                names[fx_node] = INPUT
            continue
        if fx_node.op in ("output", "get_attr") or not is_tensor:
            continue
        inputs = tuple(dict.fromkeys(names[arg] for arg in fx_node.all_input_nodes if arg in names))
        if not inputs:
            continue  # a constant
        name = fx_node.name
        if fx_node.op == "call_module":  # a module called again: its qualified name, #2...
            calls[fx_node.target] = calls.get(fx_node.target, 0) + 1
            count = calls[fx_node.target]
            name = str(fx_node.target) + (f"#{count}" if count > 1 else "")
        if fx_node.op == "call_module":
            node = _module_node(name, modules[fx_node.target], inputs, dims)
        else:
            node = _function_node(
                name, fx_node.target, fx_node.args, fx_node.kwargs, inputs, dims,
                lambda value: shapes.get(value) if isinstance(value, torch.fx.Node) else None,
            )  # fmt: skip
        if node.kind not in ("head", "unsupported") and not _spatial(shapes[fx_node], dims):
            node = Node(name, node.op, "head", inputs, note="its output has no spatial axes")
        names[fx_node] = name
        found.append(node)
        if outputs is not None:
            outputs[name] = results[fx_node]
    return found


def _out_of_place(func: Any) -> Any:
    """A tensor method's out-of-place form: ``__iadd__`` as ``__add__``, ``relu_`` as
    ``relu``; other functions as they are."""
    import torch

    name = getattr(func, "__name__", "")
    if name.startswith("__i") and name.endswith("__") and _word(name)[1:] in MERGES:
        return getattr(torch.Tensor, "__" + name[3:], func)
    if name.endswith("_") and not name.startswith("_") and name[:-1] in POINTWISE | MERGES:
        return getattr(torch.Tensor, name[:-1], func)
    return func


def _leaf(module: Any) -> bool:
    return not list(module.children())


def _hooked(model: Any, example: Any, dims: int, outputs: dict[str, Any] | None) -> list[Node]:
    """The nodes that running ``model`` shows to hooks and a TorchFunctionMode."""
    import contextlib

    import torch
    from torch.overrides import TorchFunctionMode

    producers: dict[int, str] = {id(example): INPUT}
    kept: list[Any] = [example]  # alive, so that no id is reused
    found: list[Node] = []
    depth = [0]
    counts: dict[str, int] = {}
    calls: dict[str, int] = {}

    def inputs_of(values: Sequence[Any]) -> tuple[str, ...]:
        flat: list[Any] = []
        for value in values:
            flat.extend(value if isinstance(value, (list, tuple)) else [value])
        known = [v for v in flat if isinstance(v, torch.Tensor) and id(v) in producers]
        return tuple(dict.fromkeys(producers[id(v)] for v in known))

    def record(node: Node, output: Any) -> None:
        # A value without spatial axes (a sum tested by an if, say) is no level: left out.
        if isinstance(output, torch.Tensor) and _spatial(output.shape, dims):
            producers[id(output)] = node.name
            kept.append(output)
            found.append(node)
            if outputs is not None:
                outputs[node.name] = output

    def before(module: Any, args: Any) -> None:
        depth[0] += 1

    def after(name: str) -> Callable[[Any, Any, Any], None]:
        def hook(module: Any, args: Any, output: Any) -> None:
            depth[0] -= 1
            inputs = inputs_of(args)
            if inputs and depth[0] == 0:
                calls[name] = calls.get(name, 0) + 1
                called = name + (f"#{calls[name]}" if calls[name] > 1 else "")
                record(_module_node(called, module, inputs, dims), output)

        return hook

    def shape_of(value: Any) -> tuple[int, ...] | None:
        return tuple(value.shape) if isinstance(value, torch.Tensor) else None

    class Functions(TorchFunctionMode):
        def __torch_function__(
            self, func: Any, types: Any, args: Any = (), kwargs: Any = None
        ) -> Any:
            kwargs = kwargs or {}
            run, given = func, kwargs  # named as called, run out of place for outputs
            if outputs is not None:  # in place, a later layer would change a kept output
                run = _out_of_place(func)
                given = {**kwargs, "inplace": False} if kwargs.get("inplace") else kwargs
            output = run(*args, **given)
            word = _word(func)
            if depth[0] == 0 and word not in IGNORED and isinstance(output, torch.Tensor):
                inputs = inputs_of([*args, *kwargs.values()])
                if inputs:
                    counts[word] = counts.get(word, 0) + 1
                    name = word if counts[word] == 1 else f"{word}_{counts[word] - 1}"
                    node = _function_node(name, func, args, kwargs, inputs, dims, shape_of)
                    record(node, output)
            return output

    handles = []
    for name, module in model.named_modules():
        if name and _leaf(module):
            handles.append(module.register_forward_pre_hook(before))
            handles.append(module.register_forward_hook(after(name)))
    try:
        with torch.no_grad() if outputs is None else contextlib.nullcontext(), Functions():
            model(example)
    except ParameterError:
        raise
    except Exception as error:
        raise _refused(example, error) from None
    finally:
        for handle in handles:
            handle.remove()
    return found
