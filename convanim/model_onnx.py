"""An ONNX file as ``convanim.graph_fields`` nodes, with the ``onnx`` package (no torch).

Nodes are read in the file's order (ONNX stores them topologically sorted). Inputs that are
initializers or ``Constant`` outputs are weights, not levels, and are left out.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from convanim.errors import ParameterError
from convanim.graph_fields import INPUT, Node

__all__ = ["onnx_input_shape", "onnx_nodes", "read_onnx"]

POINTWISE = {
    "Relu", "LeakyRelu", "PRelu", "Elu", "Selu", "Celu", "Gelu", "Sigmoid", "HardSigmoid",
    "HardSwish", "Tanh", "Softplus", "Mish", "Clip", "BatchNormalization", "Dropout",
    "Identity", "Cast", "Neg", "Abs", "Exp", "Sqrt", "Erf", "Pow", "Reciprocal",
}  # fmt: skip
MERGES = {"Add", "Sub", "Mul", "Div", "Sum", "Max", "Min", "Mean", "Concat"}
HEADS = {"GlobalAveragePool", "GlobalMaxPool", "Flatten", "Reshape", "Gemm", "MatMul",
         "ReduceMean", "ReduceMax", "ReduceSum", "Squeeze"}  # fmt: skip
WINDOWS = {"Conv", "ConvTranspose", "MaxPool", "AveragePool", "Pad"}


def read_onnx(path: str | Path) -> Any:
    """The ``onnx.ModelProto`` in ``path``; a ParameterError naming ``onnx`` if it is none."""
    try:
        import onnx
    except ImportError:
        raise ParameterError(
            "onnx", "reading an ONNX file needs the onnx extra: pip install 'convanim[onnx]'"
        ) from None
    file = Path(path)
    if not file.is_file():
        raise ParameterError("onnx", f"got '{path}'; no such file")
    try:
        model = onnx.load(str(file), load_external_data=False)
    except Exception as error:
        raise ParameterError(
            "onnx", f"'{path}' is not an ONNX model ({type(error).__name__}: {error})"
        ) from None
    if not model.graph.node:
        raise ParameterError("onnx", f"'{path}' holds no graph")
    return model


def _weights(graph: Any) -> set[str]:
    names = {init.name for init in graph.initializer}
    names.update(out for node in graph.node if node.op_type == "Constant" for out in node.output)
    return names


def _input(graph: Any) -> Any:
    weights = _weights(graph)
    for value in graph.input:
        if value.name not in weights:
            return value
    raise ParameterError("onnx", "the graph has no input besides its weights")


def onnx_input_shape(model: Any) -> tuple[int, ...] | None:
    """The input's shape without the batch axis, if the file fixes every size."""
    dims = _input(model.graph).type.tensor_type.shape.dim
    sizes = [d.dim_value if d.HasField("dim_value") else 0 for d in dims][1:]
    return tuple(sizes) if sizes and all(n > 0 for n in sizes) else None


def _attributes(node: Any) -> dict[str, Any]:
    import onnx

    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _constant(model: Any, name: str) -> Any:
    """The value of tensor ``name`` if it is computed from weights and constants alone (a
    Pad's pads that an exporter folds through Concat, Reshape, Slice...), evaluated with
    onnx's own reference evaluator; None if it depends on the graph's input."""
    import onnx
    import onnx.numpy_helper
    from onnx.reference import ReferenceEvaluator

    graph = model.graph
    initializers = {i.name: i for i in graph.initializer}
    if name in initializers:
        return onnx.numpy_helper.to_array(initializers[name])
    producers = {out: node for node in graph.node for out in node.output}
    needed: list[Any] = []
    wanted, seen = [name], set()
    while wanted:
        tensor = wanted.pop()
        if tensor in seen or tensor in initializers or not tensor:
            continue
        seen.add(tensor)
        node = producers.get(tensor)
        if node is None:  # the graph's input
            return None
        needed.append(node)
        wanted.extend(node.input)
    order = [node for node in graph.node if any(node is n for n in needed)]
    used = {i for node in order for i in node.input}
    sub = onnx.helper.make_graph(
        order, "constant", [], [onnx.helper.make_tensor_value_info(name, 0, None)],
        [init for init in graph.initializer if init.name in used],
    )  # fmt: skip
    folded = onnx.helper.make_model(sub, opset_imports=list(model.opset_import))
    try:
        outputs: Any = ReferenceEvaluator(folded).run(None, {})
        return outputs[0]
    except Exception:  # an op the evaluator lacks: the value stays unknown
        return None


def _slice(node: Any, name: str, inputs: tuple[str, ...], dims: int, model: Any) -> Node:
    """A Slice of the batch or channel axes keeps every cell's field; of a spatial one, not."""
    rank = dims + 2
    axes = _attributes(node).get("axes")  # opset < 10
    if axes is None and len(node.input) > 3 and node.input[3]:
        found = _constant(model, node.input[3])
        axes = None if found is None else [int(v) for v in found.reshape(-1)]
    elif axes is None:
        axes = list(range(rank))  # every axis: a spatial one too
    if axes is not None and all(int(axis) % rank in (0, 1) for axis in axes):
        return Node(name, node.op_type, "pointwise", inputs)
    return Node(name, node.op_type, "unsupported", inputs, note="it slices the spatial axes")


def _window(node: Any, name: str, inputs: tuple[str, ...], dims: int, model: Any) -> Node:
    graph = model.graph
    op = node.op_type
    a = _attributes(node)
    if op == "Pad":
        mode = _text(a.get("mode", "constant"))
        pads = a.get("pads")
        if pads is None and len(node.input) > 1:
            found = _constant(model, node.input[1])
            pads = None if found is None else [int(v) for v in found.reshape(-1)]
        if len(node.input) > 3 and node.input[3]:  # axes: the pads of only those axes
            return Node(name, op, "unsupported", inputs, note="pads given for some axes only")
        if mode != "constant" or pads is None or len(pads) != 2 * (dims + 2):
            return Node(name, op, "unsupported", inputs, note=f"mode {mode} or pads not constant")
        rank = dims + 2
        return Node(
            name, op, "window", inputs,
            padding=tuple((int(pads[2 + i]), int(pads[rank + 2 + i])) for i in range(dims)),
        )  # fmt: skip
    kernel = a.get("kernel_shape")
    if kernel is None and len(node.input) > 1:  # a Conv's kernel from its weights' shape
        init = {i.name: i for i in graph.initializer}
        weight = init.get(node.input[1])
        kernel = None if weight is None else list(weight.dims)[2:]
    if kernel is None or len(kernel) != dims:
        return Node(name, op, "unsupported", inputs, note="no kernel_shape for this input")
    auto = _text(a.get("auto_pad", "NOTSET"))
    padding: Any
    if auto in ("SAME_UPPER", "SAME_LOWER", "VALID"):
        padding = auto.lower()
    else:
        pads = a.get("pads", [0] * 2 * dims)
        padding = tuple((int(pads[i]), int(pads[dims + i])) for i in range(dims))
    transposed = op == "ConvTranspose"
    if transposed and "output_shape" in a:
        return Node(name, op, "unsupported", inputs, note="output_shape instead of pads")
    return Node(
        name, op, "window", inputs,
        kernel_size=tuple(int(k) for k in kernel),
        stride=tuple(int(s) for s in a.get("strides", [1] * dims)),
        padding=padding,
        dilation=tuple(int(d) for d in a.get("dilations", [1] * dims)),
        transposed=transposed,
        output_padding=tuple(int(p) for p in a.get("output_padding", [0] * dims))
        if transposed else (),
        ceil_mode=bool(a.get("ceil_mode", 0)),
        weighted=op in ("Conv", "ConvTranspose"),
    )  # fmt: skip


def onnx_nodes(model: Any, dims: int) -> list[Node]:
    """The nodes of an ``onnx.ModelProto`` with ``dims`` spatial axes, in the file's order."""
    graph = model.graph
    weights = _weights(graph)
    producers = {_input(graph).name: INPUT}
    found: list[Node] = []
    for index, node in enumerate(graph.node):
        op = node.op_type
        if op == "Constant":
            continue
        name = node.name or f"{op}_{index}"
        inputs = tuple(
            dict.fromkeys(producers[i] for i in node.input if i in producers and i not in weights)
        )
        if not inputs:
            continue  # it computes from weights only (a folded shape)
        if op in WINDOWS:
            made = _window(node, name, inputs, dims, model)
        elif op == "Slice":
            made = _slice(node, name, inputs, dims, model)
        elif op == "Concat":
            axis = int(_attributes(node).get("axis", 1))
            if axis not in (1, 1 - (dims + 2)):
                made = Node(name, op, "unsupported", inputs, note=f"along axis {axis}")
            else:
                made = Node(name, op, "merge" if len(inputs) > 1 else "pointwise", inputs)
        elif op in MERGES:
            made = Node(name, op, "merge" if len(inputs) > 1 else "pointwise", inputs)
        elif op in POINTWISE:
            made = Node(name, op, "pointwise", inputs)
        elif op in HEADS:
            made = Node(name, op, "head", inputs, note="it pools, flattens or reshapes")
        else:
            made = Node(name, op, "unsupported", inputs)
        found.append(made)
        if node.output:
            producers[node.output[0]] = name
    return found
