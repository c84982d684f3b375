"""A layer as written in a model's source: ``nn.Conv2d(3, 64, 7, stride=2, padding=3)``,
``layers.Conv2D(64, 3, strides=2, padding="same")``, ``nn.Conv(64, (3, 3), strides=2)``.

The line is read as data with ``ast`` and never executed: a constructor's name (a name or an
attribute chain like ``torch.nn.Conv2d``) and literal arguments (numbers, strings, True, False,
None, tuples and lists of them, a unary minus). Anything else is a ``ParameterError`` naming
``layer``, what was not understood and what is accepted. ``self.conv = nn.Conv2d(...)``,
``x = layers.Conv2D(...)(x)`` and a trailing comma (a ``Sequential`` line) are taken too: the
assignment's target and the call's input are not read.

``describe(line, input)`` maps the constructor's signature (positional order and defaults as
the library documents them) to a framework-neutral ``Description``: the convanim kind that
draws it (``conv``, ``pool``, ``separable``) and that kind's options, the arguments that do not
change the picture (accepted, named), the channel counts, the layer's output size by the
framework's own rule, and that rule in words with the numbers filled in.

The standard library only (the core).
"""

from __future__ import annotations

import ast
import difflib
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from convanim.errors import ParameterError
from convanim.params import shown

__all__ = [
    "ACCEPTED",
    "CONSTRUCTORS",
    "Call",
    "Description",
    "describe",
    "parse_call",
    "split_input",
]

ACCEPTED = (
    "a layer constructor (nn.Conv2d, layers.Conv2D, flax.linen.Conv, ...) with literal "
    "arguments: numbers, strings, True/False/None, tuples and lists of them"
)
REQUIRED = object()  # a signature's marker for an argument without a default
TIMES = "\u00d7"


def _error(message: str) -> ParameterError:
    return ParameterError("layer", message)


# -- reading the line ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    """A constructor call as written: ``path`` (``("nn", "Conv2d")``), its literal arguments."""

    path: tuple[str, ...]
    args: tuple[Any, ...]
    kwargs: Mapping[str, Any]
    text: str  # the call's own source (without an assignment or an applied input)

    @property
    def name(self) -> str:
        return self.path[-1]

    @property
    def written(self) -> str:
        return ".".join(self.path)


def _segment(source: str, node: ast.AST) -> str:
    text = ast.get_source_segment(source, node) or type(node).__name__
    return text if len(text) <= 40 else text[:37] + "..."


def _literal(source: str, node: ast.expr) -> Any:
    """A literal argument's value: tuples for tuples and lists; a ParameterError otherwise."""
    if isinstance(node, ast.Constant):
        value = node.value
        if value is None or isinstance(value, (bool, int, float, str)):
            return value
        raise _error(f"{_segment(source, node)!s} is not understood; expected {ACCEPTED}")
    if isinstance(node, (ast.Tuple, ast.List)):
        return tuple(_literal(source, item) for item in node.elts)
    if (
        isinstance(node, ast.UnaryOp)
        and isinstance(node.op, (ast.USub, ast.UAdd))
        and isinstance(node.operand, ast.Constant)
        and type(node.operand.value) in (int, float)
    ):
        number = node.operand.value
        assert isinstance(number, (int, float))
        return -number if isinstance(node.op, ast.USub) else number
    text = _segment(source, node)
    if isinstance(node, ast.Name):
        what = f"the variable '{text}' (its value is not in the line)"
    elif isinstance(node, ast.Call):
        what = f"a call inside the arguments ({text})"
    elif isinstance(node, ast.Attribute):
        what = f"the name '{text}' (its value is not in the line)"
    elif isinstance(node, ast.Starred):
        what = f"an unpacked argument ({text})"
    else:
        what = f"the expression {text}"
    raise _error(f"{what} is not understood: nothing in the line is run; expected {ACCEPTED}")


def _dotted(source: str, node: ast.expr) -> tuple[str, ...]:
    """``torch.nn.Conv2d`` as ("torch", "nn", "Conv2d"); a ParameterError for anything else."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        raise _error(
            f"the constructor {_segment(source, node)} is not understood; expected a name like "
            "nn.Conv2d or layers.Conv2D"
        )
    parts.append(node.id)
    return tuple(reversed(parts))


def parse_call(line: object) -> Call:
    """The constructor call in ``line``, read as data (nothing is evaluated)."""
    if not isinstance(line, str) or not line.strip():
        raise _error(
            f"got {line!r}; expected the layer as written in the model, like "
            "'nn.Conv2d(3, 64, kernel_size=7, stride=2, padding=3)'"
        )
    source = line.strip()
    if len(source) > 2000:
        raise _error("got a line of more than 2,000 characters; expected one layer's constructor")
    try:
        tree = ast.parse(source, mode="exec")
    except SyntaxError as error:
        raise _error(
            f"is not a Python line ({error.msg}); expected the layer as written, like "
            "nn.Conv2d(3, 64, 3)"
        ) from None
    if len(tree.body) != 1:
        raise _error(f"holds {len(tree.body)} statements; expected one layer's constructor")
    statement = tree.body[0]
    if isinstance(statement, (ast.Assign, ast.AnnAssign)) and statement.value is not None:
        node: ast.expr = statement.value  # self.conv1 = nn.Conv2d(...): the target is not read
    elif isinstance(statement, ast.Expr):
        node = statement.value
    else:
        raise _error(
            f"'{_segment(source, statement)}' is not a layer's constructor; expected {ACCEPTED}"
        )
    if isinstance(node, ast.Tuple) and len(node.elts) == 1:
        node = node.elts[0]  # a line of nn.Sequential(...): "nn.Conv2d(3, 8, 3),"
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Call)
        and all(isinstance(a, ast.Name) for a in node.args)
        and not node.keywords
    ):
        node = node.func  # layers.Conv2D(...)(x), nn.Conv(...)(x): the input is not read
    if not isinstance(node, ast.Call):
        raise _error(
            f"'{_segment(source, node)}' is not a call; expected {ACCEPTED}, like "
            "nn.Conv2d(3, 64, 3)"
        )
    path = _dotted(source, node.func)
    _constructor_of(path)  # an unknown layer is named before its arguments are read
    args = tuple(_literal(source, arg) for arg in node.args)
    kwargs: dict[str, Any] = {}
    for keyword in node.keywords:
        if keyword.arg is None:
            raise _error(
                f"**{_segment(source, keyword.value)} is not understood: nothing in the line "
                f"is run; expected {ACCEPTED}"
            )
        kwargs[keyword.arg] = _literal(source, keyword.value)
    return Call(path, args, kwargs, ast.get_source_segment(source, node) or source)


# -- signatures ---------------------------------------------------------------------------------

Check = Callable[[str, Any], Any]


@dataclass(frozen=True)
class Arg:
    """One argument of a constructor's signature: its name, default, check, and whether it
    changes the picture (``drawn``); ``keyword_only`` arguments cannot be given by position."""

    name: str
    default: Any = REQUIRED
    check: Check | None = None
    drawn: bool = True
    keyword_only: bool = False


@dataclass(frozen=True)
class Constructor:
    """A layer constructor: its framework, how it may be spelt, its signature, its mapping."""

    name: str
    framework: str
    prefixes: tuple[tuple[str, ...], ...]
    signature: tuple[Arg, ...]
    dims: int
    build: Callable[[Constructor, dict[str, Any], Sizes], Description]
    extra_keywords: tuple[str, ...] = ()  # **kwargs a library takes that do not change the layer

    @property
    def spellings(self) -> list[str]:
        return [".".join((*prefix, self.name)) for prefix in self.prefixes]


@dataclass(frozen=True)
class Sizes:
    """The input as ``-i`` gives it: spatial ``size`` and, from a shape, its channels."""

    size: tuple[int, ...]
    channels: int | None = None
    shape: tuple[int, ...] | None = None  # as given, batch and channels included


@dataclass(frozen=True)
class Description:
    """A layer line, understood: what convanim draws for it and what the framework says."""

    framework: str  # "PyTorch", "Keras", "Flax"
    constructor: str  # "Conv2d"
    kind: str  # the convanim kind that draws it: conv, pool, separable
    options: Mapping[str, Any]  # that kind's options (JSON-ready), the input size included
    arguments: Mapping[str, Any]  # every argument of the signature, defaults filled in
    given: tuple[str, ...]  # the arguments the line writes
    ignored: Mapping[str, Any]  # arguments accepted that do not change the picture, as given
    in_channels: int | None  # None: not in the line (Keras and Flax infer it from the input)
    out_channels: int | None
    groups: int
    output_size: tuple[int, ...]  # by the framework's own rule
    meaning: str  # the framework's rule, numbers filled in
    notes: tuple[str, ...] = field(default=())  # what else a reader should know
    text: str = ""  # the call as written

    @property
    def name(self) -> str:
        return f"{self.framework} {self.constructor}"


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _ints(dims: int, minimum: int = 1) -> Check:
    """An int or a tuple of ``dims`` ints, each >= ``minimum``: a tuple of ``dims`` ints."""

    def check(name: str, value: Any) -> tuple[int, ...]:
        valid = f"an integer >= {minimum}" + (
            f" or a tuple of {dims} of them" if dims > 1 else " or a 1-tuple of one"
        )
        if _is_int(value):
            items: tuple[Any, ...] = (value,) * dims
        elif isinstance(value, tuple) and len(value) == dims:
            items = value
        else:
            raise _error(f"{name}={shown(value)}: expected {valid}")
        if not all(_is_int(v) and v >= minimum for v in items):
            raise _error(f"{name}={shown(value)}: expected {valid}")
        return tuple(items)

    return check


def _int(minimum: int) -> Check:
    def check(name: str, value: Any) -> int:
        if not _is_int(value) or value < minimum:
            raise _error(f"{name}={shown(value)}: expected an integer >= {minimum}")
        return int(value)

    return check


def _flag(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise _error(f"{name}={shown(value)}: expected True or False")
    return value


def _optional(check: Check) -> Check:
    def optional(name: str, value: Any) -> Any:
        return None if value is None else check(name, value)

    return optional


def _one_of(*choices: str, fold: bool = False) -> Check:
    def check(name: str, value: Any) -> str:
        found = value.lower() if fold and isinstance(value, str) else value
        if found not in choices:
            names = ", ".join(f"'{c}'" for c in choices)
            raise _error(f"{name}={shown(value)}: expected one of {names}")
        return str(found)

    return check


def _data_format(name: str, value: Any) -> Any:
    """Keras's data_format: channels_last (the default) or channels_first; only the meaning
    of a shape given to ``-i`` depends on it."""
    return _optional(_one_of("channels_last", "channels_first"))(name, value)


def bind(constructor: Constructor, call: Call) -> tuple[dict[str, Any], tuple[str, ...]]:
    """The call's arguments by name, as the signature orders them, defaults filled in."""
    signature = constructor.signature
    positional = [arg for arg in signature if not arg.keyword_only]
    shown = f"{constructor.name}()"
    if len(call.args) > len(positional):
        raise _error(
            f"{shown} takes at most {len(positional)} positional arguments "
            f"({', '.join(a.name for a in positional)}); got {len(call.args)}"
        )
    values: dict[str, Any] = {}
    for arg, value in zip(positional, call.args, strict=False):
        values[arg.name] = value
    names = [arg.name for arg in signature]
    for name, value in call.kwargs.items():
        if name in values:
            raise _error(f"{shown} got {name} twice (by position and by keyword)")
        if name not in names and name not in constructor.extra_keywords:
            close = difflib.get_close_matches(name, names, n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            raise _error(
                f"{shown} has no argument {name}{hint}; its arguments are {', '.join(names)}"
            )
        values[name] = value
    given = tuple(values)
    missing = [a.name for a in signature if a.default is REQUIRED and a.name not in values]
    if missing:
        raise _error(
            f"{shown} needs {', '.join(missing)} (its signature: "
            f"{constructor.name}({', '.join(_spelt(a) for a in signature[:4])}, ...))"
        )
    bound: dict[str, Any] = {}
    for arg in signature:
        value = values.get(arg.name, arg.default)
        bound[arg.name] = arg.check(arg.name, value) if arg.check and value is not None else value
    for name in constructor.extra_keywords:
        if name in values:
            bound[name] = values[name]
    return bound, given


def _spelt(arg: Arg) -> str:
    return arg.name if arg.default is REQUIRED else f"{arg.name}={shown(arg.default)}"


# -- the input ----------------------------------------------------------------------------------


def split_input(value: Any, dims: int, channels_last: bool) -> Sizes:
    """``-i``: a spatial size (5, or one number per axis), or a tensor shape with channels
    (and a batch): ``1,3,32,32`` is (N, C, H, W), or (N, H, W, C) where the framework puts
    channels last (Keras, Flax)."""
    numbers = list(value) if isinstance(value, (list, tuple)) else [value]
    if not all(_is_int(n) and n >= 1 for n in numbers):
        raise ParameterError("input", f"got {value!r}; expected positive integers")
    if len(numbers) == 1:
        return Sizes(tuple(numbers) * dims)
    if len(numbers) == dims:
        return Sizes(tuple(numbers))
    order = "(N, spatial..., C)" if channels_last else "(N, C, spatial...)"
    if len(numbers) not in (dims + 1, dims + 2):
        raise ParameterError(
            "input",
            f"got {len(numbers)} numbers {tuple(numbers)}; a {dims}-D layer takes 1 or {dims} "
            f"(the spatial size), or a shape of {dims + 1} or {dims + 2} numbers {order}",
        )
    shape = tuple(numbers)
    body = numbers[1:] if len(numbers) == dims + 2 else numbers
    channels, spatial = (body[-1], body[:-1]) if channels_last else (body[0], body[1:])
    return Sizes(tuple(spatial), channels, shape)


# -- the frameworks' arithmetic -----------------------------------------------------------------


def _tf_same(size: int, kernel: int, stride: int, dilation: int) -> tuple[int, int]:
    """TensorFlow's (and XLA's) 'SAME': total max((ceil(n/s) - 1)*s + (k-1)*d + 1 - n, 0),
    the odd one after (bottom/right)."""
    footprint = (kernel - 1) * dilation + 1
    total = max((math.ceil(size / stride) - 1) * stride + footprint - size, 0)
    return total // 2, total - total // 2


def _conv_out(size: int, pads: tuple[int, int], kernel: int, stride: int, dilation: int) -> int:
    return (size + pads[0] + pads[1] - dilation * (kernel - 1) - 1) // stride + 1


AXES = {1: ("length",), 2: ("rows", "cols"), 3: ("depth", "rows", "cols")}


def _each(texts: Any) -> str:
    """One text per axis, as a sentence says them: once when the axes agree."""
    found = list(texts)
    if len(set(found)) == 1:
        return str(found[0]) + (" on each axis" if len(found) > 1 else "")
    return "; ".join(f"{axis} {text}" for axis, text in zip(AXES[len(found)], found, strict=True))


def _compact(value: Any) -> Any:
    """A per-axis list as the command line spells it shortest: 3 for [3, 3]."""
    if not isinstance(value, list) or not value:
        return value
    if all(_is_int(v) for v in value) and len(set(value)) == 1:
        return value[0]
    pairs = all(isinstance(v, list) for v in value)
    if pairs and all(v == value[0] for v in value) and len(set(value[0])) == 1:
        return value[0][0]
    return value


def _axis_words(values: Sequence[int]) -> str:
    return str(values[0]) if len(set(values)) == 1 else TIMES.join(str(v) for v in values)


# -- PyTorch ------------------------------------------------------------------------------------

TORCH = ((), ("nn",), ("torch", "nn"))
TORCH_IGNORED = ("bias", "device", "dtype")


def _torch_padding(dims: int) -> Check:
    ints = _ints(dims, 0)

    def check(name: str, value: Any) -> Any:
        if isinstance(value, str):
            if value not in ("same", "valid"):
                raise _error(
                    f"padding={shown(value)}: expected 'same', 'valid', an integer >= 0 or a "
                    f"tuple of {dims}"
                )
            return value
        return ints(name, value)

    return check


def _torch_conv_signature(dims: int, transposed: bool) -> tuple[Arg, ...]:
    ints = _ints(dims)
    head = (
        Arg("in_channels", check=_int(1)),
        Arg("out_channels", check=_int(1)),
        Arg("kernel_size", check=ints),
        Arg("stride", 1, ints),
    )
    if transposed:
        return (
            *head,
            Arg("padding", 0, _ints(dims, 0)),
            Arg("output_padding", 0, _ints(dims, 0)),
            Arg("groups", 1, _int(1)),
            Arg("bias", True, _flag, drawn=False),
            Arg("dilation", 1, ints),
            Arg("padding_mode", "zeros", _one_of("zeros", "reflect", "replicate", "circular")),
            Arg("device", None, drawn=False),
            Arg("dtype", None, drawn=False),
        )
    return (
        *head,
        Arg("padding", 0, _torch_padding(dims)),
        Arg("dilation", 1, ints),
        Arg("groups", 1, _int(1)),
        Arg("bias", True, _flag, drawn=False),
        Arg("padding_mode", "zeros", _one_of("zeros", "reflect", "replicate", "circular")),
        Arg("device", None, drawn=False),
        Arg("dtype", None, drawn=False),
    )


def _channels_check(name: str, a: Mapping[str, Any]) -> None:
    groups = a["groups"]
    for key in ("in_channels", "out_channels"):
        if a[key] % groups:
            raise _error(
                f"{name}(): {key}={a[key]} is not divisible by groups={groups}; PyTorch "
                "requires both channel counts to be multiples of groups"
            )


def _input_channels(d: Constructor, sizes: Sizes, expected: int | None) -> int | None:
    if sizes.channels is not None and expected is not None and sizes.channels != expected:
        raise ParameterError(
            "input",
            f"the shape {sizes.shape} has {sizes.channels} "
            f"channel{'s' if sizes.channels != 1 else ''}; {d.name}() expects "
            f"{expected} (in_channels)",
        )
    return expected if expected is not None else sizes.channels


def _torch_conv(d: Constructor, a: dict[str, Any], sizes: Sizes) -> Description:
    transposed = "output_padding" in a
    _channels_check(d.name, a)
    _input_channels(d, sizes, a["in_channels"])
    k, s, dil = a["kernel_size"], a["stride"], a["dilation"]
    options: dict[str, Any] = {
        "input": list(sizes.size),
        "kernel": list(k),
        "stride": list(s),
        "dilation": list(dil),
        "dims": d.dims,
    }
    padding = a["padding"]
    if padding == "same" and any(v != 1 for v in s):
        raise _error(
            f"{d.name}(padding='same') with stride {_axis_words(s)}: PyTorch refuses it "
            "(padding='same' is not supported for strided convolutions); give padding as numbers"
        )
    if isinstance(padding, str):
        options["padding"] = padding
        if padding == "same":
            pads = [
                ((dd * (kk - 1)) // 2, dd * (kk - 1) - (dd * (kk - 1)) // 2)
                for kk, dd in zip(k, dil, strict=True)
            ]
            rule = (
                "PyTorch's padding='same': total dilation*(kernel-1) per axis, the odd one "
                "after (bottom/right)"
            )
        else:
            pads = [(0, 0)] * d.dims
            rule = "padding='valid': no padding"
    else:
        options["padding"] = list(padding)
        pads = [(p, p) for p in padding]
        rule = ""
    if transposed:
        options["transposed"] = True
        options["output-padding"] = list(a["output_padding"])
        out = tuple(
            (n - 1) * ss - 2 * p + dd * (kk - 1) + op + 1
            for n, ss, (p, _), dd, kk, op in zip(
                sizes.size, s, pads, dil, k, a["output_padding"], strict=True
            )
        )
        formula = _each(
            f"({n} - 1)*{ss} - 2*{p} + {dd}*({kk} - 1) + {op} + 1 = {o}"
            for n, ss, (p, _), dd, kk, op, o in zip(
                sizes.size, s, pads, dil, k, a["output_padding"], out, strict=True
            )
        )
        meaning = (
            f"PyTorch {d.name}: output (n - 1)*stride - 2*padding + dilation*(kernel - 1) + "
            f"output_padding + 1: {formula}"
        )
    else:
        out = tuple(
            _conv_out(n, pp, kk, ss, dd)
            for n, pp, kk, ss, dd in zip(sizes.size, pads, k, s, dil, strict=True)
        )
        formula = _each(
            f"floor(({n} + {lo} + {hi} - {dd}*({kk} - 1) - 1) / {ss}) + 1 = {o}"
            for n, (lo, hi), kk, ss, dd, o in zip(sizes.size, pads, k, s, dil, out, strict=True)
        )
        meaning = f"PyTorch {d.name}" + (f" with {rule}" if rule else "") + f": output {formula}"
    if a["padding_mode"] != "zeros":
        options["padding-mode"] = a["padding_mode"]
        meaning += f"; the padding holds {a['padding_mode']} copies of the input"
    return _made(
        d, a, "conv", options, out, meaning, a["in_channels"], a["out_channels"], a["groups"]
    )


def _torch_pool_signature(dims: int, mode: str) -> tuple[Arg, ...]:
    ints = _ints(dims)
    head = (
        Arg("kernel_size", check=ints),
        Arg("stride", None, ints),
        Arg("padding", 0, _ints(dims, 0)),
    )
    if mode == "max":
        return (
            *head,
            Arg("dilation", 1, ints),
            Arg("return_indices", False, _flag, drawn=False),
            Arg("ceil_mode", False, _flag),
        )
    tail = (Arg("divisor_override", None, _int(1)),) if dims > 1 else ()
    return (
        *head,
        Arg("ceil_mode", False, _flag),
        Arg("count_include_pad", True, _flag),
        *tail,
    )


def _torch_pool(d: Constructor, a: dict[str, Any], sizes: Sizes) -> Description:
    mode = "max" if d.name.startswith("Max") else "avg"
    k = a["kernel_size"]
    s = a["stride"] if a["stride"] is not None else k
    options: dict[str, Any] = {
        "mode": mode,
        "input": list(sizes.size),
        "kernel": list(k),
        "stride": list(s),
        "padding": list(a["padding"]),
        "dims": d.dims,
    }
    dil = a.get("dilation", (1,) * d.dims)
    if mode == "max":
        options["dilation"] = list(dil)
    if a["ceil_mode"]:
        options["ceil-mode"] = True
    if mode == "avg":
        options["count-include-pad"] = a["count_include_pad"]
        if a.get("divisor_override") is not None:
            options["divisor-override"] = a["divisor_override"]
    out = []
    texts = []
    rule = "ceil" if a["ceil_mode"] else "floor"
    for n, kk, ss, p, dd in zip(sizes.size, k, s, a["padding"], dil, strict=True):
        reach = n + 2 * p - dd * (kk - 1) - 1
        count = (-(-reach // ss) if a["ceil_mode"] else reach // ss) + 1
        text = f"{rule}(({n} + 2*{p} - {dd}*({kk} - 1) - 1) / {ss}) + 1 = {count}"
        if a["ceil_mode"] and (count - 1) * ss >= n + p:
            count -= 1
            text += f", the last window starting in the right padding dropped: {count}"
        out.append(count)
        texts.append(text)
    stride_words = " (stride defaults to kernel_size)" if a["stride"] is None else ""
    meaning = f"PyTorch {d.name}{stride_words}: output {_each(texts)}"
    channels = sizes.channels
    return _made(d, a, "pool", options, tuple(out), meaning, channels, channels, 1)


# -- Keras --------------------------------------------------------------------------------------

KERAS = ((), ("layers",), ("keras", "layers"), ("tf", "keras", "layers"))
# The **kwargs every Keras layer takes (keras.layers.Layer's), none of which changes the picture.
KERAS_KEYWORDS = (
    "name",
    "dtype",
    "trainable",
    "autocast",
    "input_shape",
    "batch_input_shape",
    "batch_size",
    "input_dim",
)
# What a Keras layer takes that does not change the picture, with Keras 3's defaults.
_KERAS_TAIL = (
    ("activation", None),
    ("use_bias", True),
    ("kernel_initializer", "glorot_uniform"),
    ("bias_initializer", "zeros"),
    ("kernel_regularizer", None),
    ("bias_regularizer", None),
    ("activity_regularizer", None),
    ("kernel_constraint", None),
    ("bias_constraint", None),
)


def _keras_padding(causal: bool) -> Check:
    choices = ("valid", "same", "causal") if causal else ("valid", "same")
    return _one_of(*choices, fold=True)


def _ignored(*names: tuple[str, Any]) -> tuple[Arg, ...]:
    return tuple(Arg(name, default, drawn=False) for name, default in names)


def _keras_conv_signature(dims: int, kind: str) -> tuple[Arg, ...]:
    """Keras 3's signatures, in their order (keras.layers.Conv2D and the others, whose
    positional order differs: Conv3DTranspose puts data_format before output_padding)."""
    ints = _ints(dims)
    filters = Arg("filters", check=_int(1))
    kernel = Arg("kernel_size", check=ints)
    strides = Arg("strides", 1, ints)
    padding = Arg("padding", "valid", _keras_padding(dims == 1 and kind == "conv"))
    data_format = Arg("data_format", None, _data_format)
    dilation = Arg("dilation_rate", 1, ints)
    multiplier = Arg("depth_multiplier", 1, _int(1))
    if kind == "conv":
        head = (filters, kernel, strides, padding, data_format, dilation, Arg("groups", 1, _int(1)))
        return (*head, *_ignored(*_KERAS_TAIL))
    if kind == "transpose":
        extra = Arg("output_padding", None, _ints(dims, 0))
        middle = (data_format, extra) if dims == 3 else (extra, data_format)
        return (filters, kernel, strides, padding, *middle, dilation, *_ignored(*_KERAS_TAIL))
    if kind == "depthwise":
        tail = [(n.replace("kernel", "depthwise"), v) for n, v in _KERAS_TAIL]
        return (kernel, strides, padding, multiplier, data_format, dilation, *_ignored(*tail))
    return (  # separable
        filters,
        kernel,
        strides,
        padding,
        data_format,
        dilation,
        multiplier,
        *_ignored(
            ("activation", None),
            ("use_bias", True),
            ("depthwise_initializer", "glorot_uniform"),
            ("pointwise_initializer", "glorot_uniform"),
            ("bias_initializer", "zeros"),
            ("depthwise_regularizer", None),
            ("pointwise_regularizer", None),
            ("bias_regularizer", None),
            ("activity_regularizer", None),
            ("depthwise_constraint", None),
            ("pointwise_constraint", None),
            ("bias_constraint", None),
        ),
    )


def _keras_strided_dilation(d: Constructor, s: Sequence[int], dil: Sequence[int]) -> None:
    if any(v != 1 for v in s) and any(v != 1 for v in dil):
        raise _error(
            f"{d.name}() with strides {_axis_words(s)} and dilation_rate {_axis_words(dil)}: "
            "Keras refuses strides > 1 together with dilation_rate > 1"
        )


def _keras_pads(
    d: Constructor, a: Mapping[str, Any], sizes: Sizes
) -> tuple[Any, list[tuple[int, int]], str]:
    """Keras's padding as the conv kind's option, the pads per axis, and its rule in words."""
    k, s, dil, padding = a["kernel_size"], a["strides"], a["dilation_rate"], a["padding"]
    if padding in ("valid", "causal"):
        total = dil[0] * (k[0] - 1)
        pads = [(0, 0)] * d.dims if padding == "valid" else [(total, 0)]
        outs = _each(
            f"floor(({n} + {lo} + {hi} - {dd}*({kk} - 1) - 1) / {ss}) + 1 = "
            f"{_conv_out(n, (lo, hi), kk, ss, dd)}"
            for n, (lo, hi), kk, ss, dd in zip(sizes.size, pads, k, s, dil, strict=True)
        )
        if padding == "valid":
            return "valid", pads, f"padding='valid' (none): output {outs}"
        return (
            [total, 0],
            pads,
            f"padding='causal': dilation_rate*(kernel_size-1) = {total} cells before the input, "
            f"output {outs}",
        )
    pads = [_tf_same(n, kk, ss, dd) for n, kk, ss, dd in zip(sizes.size, k, s, dil, strict=True)]
    outs = _each(
        f"ceil({n}/{ss}) = {math.ceil(n / ss)}" for n, ss in zip(sizes.size, s, strict=True)
    )
    rule = (
        f"padding='same' and strides {_axis_words(s)}: TensorFlow's rule, output {outs}, "
        "the odd padding cell after (bottom/right)"
    )
    return "same", pads, rule


def _keras_conv(d: Constructor, a: dict[str, Any], sizes: Sizes) -> Description:
    k, s, dil = a["kernel_size"], a["strides"], a["dilation_rate"]
    _keras_strided_dilation(d, s, dil)
    padding, pads, rule = _keras_pads(d, a, sizes)
    groups = a.get("groups", 1)
    ins = sizes.channels
    if ins is not None and ins % groups:
        raise _error(
            f"{d.name}(groups={groups}): the input's {ins} channels are not divisible by it"
        )
    if a["filters"] % groups:
        raise _error(
            f"{d.name}(filters={a['filters']}, groups={groups}): Keras requires filters to be "
            "divisible by groups"
        )
    options: dict[str, Any] = {
        "input": list(sizes.size),
        "kernel": list(k),
        "stride": list(s),
        "padding": padding,  # convanim's 'same' is TensorFlow's rule at every stride
        "dilation": list(dil),
        "dims": d.dims,
    }
    out = tuple(
        _conv_out(n, pp, kk, ss, dd)
        for n, pp, kk, ss, dd in zip(sizes.size, pads, k, s, dil, strict=True)
    )
    meaning = f"Keras {d.name} with {rule}"
    return _made(d, a, "conv", options, out, meaning, ins, a["filters"], groups)


def _keras_transpose_pads(
    size: int, kernel: int, stride: int, dilation: int, padding: str, output_padding: int | None
) -> tuple[int, int, int]:
    """Keras 3's Conv*DTranspose as (crop before, crop after, output size): the pads of the
    equivalent convolution over the zero-inserted input are those of keras.src.backend.common.
    backend_utils._convert_conv_transpose_padding_args_from_keras_to_jax; a crop is
    footprint - 1 - that pad (negative: extra cells)."""
    footprint = (kernel - 1) * dilation + 1
    if padding == "valid":
        extra = max(footprint, stride) - footprint if output_padding is None else output_padding
        left, right = footprint - 1, footprint - 1 + extra
    else:
        if output_padding is None:
            pad_len = stride + footprint - 2
        else:
            pad_len = footprint + footprint % 2 - 2 + output_padding
        left = min(pad_len // 2 + pad_len % 2, footprint - 1)
        right = pad_len - left
    before, after = footprint - 1 - left, footprint - 1 - right
    return before, after, (size - 1) * stride + footprint - before - after


def _keras_transpose(d: Constructor, a: dict[str, Any], sizes: Sizes) -> Description:
    k, s, dil = a["kernel_size"], a["strides"], a["dilation_rate"]
    _keras_strided_dilation(d, s, dil)
    extra = a["output_padding"]
    if extra is not None:
        for e, ss in zip(extra, s, strict=True):
            if e >= ss:
                raise _error(
                    f"{d.name}(output_padding={_axis_words(extra)}, strides={_axis_words(s)}): "
                    "Keras requires output_padding smaller than strides"
                )
    axes = [
        _keras_transpose_pads(n, kk, ss, dd, a["padding"], None if extra is None else e)
        for n, kk, ss, dd, e in zip(
            sizes.size, k, s, dil, extra if extra is not None else (None,) * d.dims, strict=True
        )
    ]
    return _transposed(
        d,
        a,
        sizes,
        k,
        s,
        dil,
        axes,
        f"Keras {d.name} with padding='{a['padding']}'"
        + ("" if extra is None else f" and output_padding {_axis_words(extra)}")
        + " ("
        + (
            "Keras's rule: input*strides"
            if a["padding"] == "same" and extra is None
            else "Keras's rule: (input-1)*strides + max(footprint, strides)"
            if extra is None
            else "Keras's rule: (input-1)*strides + footprint - 2*(footprint//2) + output_padding"
            if a["padding"] == "same"
            else "Keras's rule: (input-1)*strides + footprint + output_padding"
        )
        + ")",
        sizes.channels,
        a["filters"],
        1,
    )


def _transposed(
    d: Constructor,
    a: dict[str, Any],
    sizes: Sizes,
    k: Sequence[int],
    s: Sequence[int],
    dil: Sequence[int],
    axes: Sequence[tuple[int, int, int]],
    head: str,
    ins: int | None,
    outs: int | None,
    groups: int,
    notes: Sequence[str] = (),
) -> Description:
    """A transposed layer from its crops per axis (before, after, output): the conv kind's
    transposed spec, with PyTorch's padding where the crops agree, else (before, after)."""
    dims = len(k)
    padding: list[Any] = []
    output_padding: list[int] = []
    for (before, after, _), ss, dd in zip(axes, s, dil, strict=True):
        if before < 0:
            raise _error(
                f"{d.name}(): the layer adds {-before} cell{'s' if -before > 1 else ''} before "
                "its output, which no "
                "transposed convolution of PyTorch's form does; not drawn"
            )
        if after >= 0:
            padding.append([before, after] if before != after else before)
            output_padding.append(0)
        else:
            if -after >= max(ss, dd):
                raise _error(
                    f"{d.name}(): {-after} extra output cells after the input's last, as many "
                    "as the stride or more; PyTorch's output_padding must be smaller"
                )
            padding.append([before, 0] if before else 0)
            output_padding.append(-after)
    out = tuple(o for _, _, o in axes)
    options: dict[str, Any] = {
        "input": list(sizes.size),
        "kernel": list(k),
        "stride": list(s),
        "padding": _padding_option(padding, dims),
        "dilation": list(dil),
        "transposed": True,
        "output-padding": output_padding,
        "dims": dims,
    }
    crops = _each(
        f"{before} before, {after} after" if after >= 0 else f"{before} before, +{-after} after"
        for before, after, _ in axes
    )
    full = _each(
        f"({n} - 1)*{ss} + {(kk - 1) * dd + 1} = {(n - 1) * ss + (kk - 1) * dd + 1}"
        for n, ss, kk, dd in zip(sizes.size, s, k, dil, strict=True)
    )
    meaning = (
        f"{head}, output {_axis_words(out)}: the full transposed output (input - 1)*stride + "
        f"footprint, {full}, cropped {crops}"
    )
    return _made(d, a, "conv", options, out, meaning, ins, outs, groups, notes)


def _padding_option(per_axis: Sequence[Any], dims: int) -> Any:
    """Per-axis paddings (a number or [before, after]) as the conv kind's padding option."""
    if all(_is_int(p) for p in per_axis):
        return list(per_axis)
    pairs = [p if isinstance(p, list) else [p, p] for p in per_axis]
    return pairs[0] if dims == 1 else pairs


def _keras_depthwise(d: Constructor, a: dict[str, Any], sizes: Sizes) -> Description:
    k, s, dil = a["kernel_size"], a["strides"], a["dilation_rate"]
    _keras_strided_dilation(d, s, dil)
    padding, pads, rule = _keras_pads(d, a, sizes)
    ins = sizes.channels
    multiplier = a["depth_multiplier"]
    options: dict[str, Any] = {
        "input": list(sizes.size),
        "kernel": list(k),
        "stride": list(s),
        "padding": padding,
        "dilation": list(dil),
        "dims": d.dims,
    }
    out = tuple(
        _conv_out(n, pp, kk, ss, dd)
        for n, pp, kk, ss, dd in zip(sizes.size, pads, k, s, dil, strict=True)
    )
    outs = None if ins is None else ins * multiplier
    meaning = (
        f"Keras {d.name} with {rule}: each input channel its own {multiplier} kernel"
        + ("s" if multiplier > 1 else "")
        + " (PyTorch's groups = in_channels)"
    )
    description = _made(d, a, "conv", options, out, meaning, ins, outs, ins or 1)
    return description


def _keras_separable(d: Constructor, a: dict[str, Any], sizes: Sizes) -> Description:
    k, s, dil = a["kernel_size"], a["strides"], a["dilation_rate"]
    _keras_strided_dilation(d, s, dil)
    padding, pads, rule = _keras_pads(d, a, sizes)
    ins = sizes.channels
    options: dict[str, Any] = {
        "input": list(sizes.size),
        "kernel": list(k),
        "stride": list(s),
        "padding": padding,
        "dilation": list(dil),
        "multiplier": a["depth_multiplier"],
        "out-channels": a["filters"],
    }
    out = tuple(
        _conv_out(n, pp, kk, ss, dd)
        for n, pp, kk, ss, dd in zip(sizes.size, pads, k, s, dil, strict=True)
    )
    meaning = (
        f"Keras {d.name} with {rule}: a depthwise convolution (depth_multiplier "
        f"{a['depth_multiplier']}), then a pointwise 1{TIMES}1 one to {a['filters']} filters"
    )
    return _made(d, a, "separable", options, out, meaning, ins, a["filters"], ins or 1)


def _keras_pool_signature(dims: int, mode: str) -> tuple[Arg, ...]:
    """MaxPooling*D's pool_size defaults to 2 per axis; AveragePooling*D's has no default
    (Keras 3)."""
    ints = _ints(dims)
    return (
        Arg("pool_size", 2 if mode == "max" else REQUIRED, ints),
        Arg("strides", None, ints),
        Arg("padding", "valid", _keras_padding(False)),
        Arg("data_format", None, _data_format),
        Arg("name", None, drawn=False),
    )


def _keras_pool(d: Constructor, a: dict[str, Any], sizes: Sizes) -> Description:
    mode = "max" if d.name.startswith("Max") else "avg"
    k = a["pool_size"]
    s = a["strides"] if a["strides"] is not None else k
    if a["padding"] == "same":
        out = tuple(math.ceil(n / ss) for n, ss in zip(sizes.size, s, strict=True))
        outs = _each(f"ceil({n}/{ss}) = {o}" for n, ss, o in zip(sizes.size, s, out, strict=True))
        rule = f"padding='same': TensorFlow's rule, output {outs}, the odd padding cell after"
        if mode == "avg":
            rule += "; the average counts only input cells (count_include_pad=False)"
        padding: Any = "same"  # convanim's 'same' is TensorFlow's rule
    else:
        out = tuple(
            _conv_out(n, (0, 0), kk, ss, 1) for n, kk, ss in zip(sizes.size, k, s, strict=True)
        )
        rule = f"padding='valid': output floor((n - pool_size) / strides) + 1 = {_axis_words(out)}"
        padding = "valid"
    options: dict[str, Any] = {
        "mode": mode,
        "input": list(sizes.size),
        "kernel": list(k),
        "stride": list(s),
        "padding": padding,
        "dims": d.dims,
    }
    if mode == "avg":
        options["count-include-pad"] = False
    stride_words = " (strides default to pool_size)" if a["strides"] is None else ""
    meaning = f"Keras {d.name}{stride_words} with {rule}"
    return _made(d, a, "pool", options, out, meaning, sizes.channels, sizes.channels, 1)


# -- Flax ---------------------------------------------------------------------------------------

FLAX = (("nn",), ("flax", "linen"), ("linen",))
FLAX_KEYWORDS = ("name", "parent")


def _flax_padding(name: str, value: Any) -> Any:
    """Flax's padding: a string, an int, a sequence of ints or of (low, high) pairs."""
    if isinstance(value, str):
        upper = value.upper()
        if upper in ("SAME", "VALID", "SAME_LOWER"):
            return upper
        if value in ("CIRCULAR", "CAUSAL"):
            return value
        raise _error(
            f"padding={shown(value)}: expected 'SAME', 'VALID', 'SAME_LOWER', 'CIRCULAR', "
            "'CAUSAL', an integer, or (low, high) pairs"
        )
    if _is_int(value) and value >= 0:
        return value
    if isinstance(value, tuple) and value:
        pairs = []
        for item in value:
            if _is_int(item) and item >= 0:
                pairs.append((item, item))
            elif (
                isinstance(item, tuple)
                and len(item) == 2
                and all(_is_int(v) and v >= 0 for v in item)
            ):
                pairs.append((int(item[0]), int(item[1])))
            else:
                raise _error(
                    f"padding={shown(value)}: expected integers >= 0 or (low, high) pairs of "
                    "them (negative padding is not drawn)"
                )
        return tuple(pairs)
    raise _error(
        f"padding={shown(value)}: expected 'SAME', 'VALID', 'CIRCULAR', an integer >= 0, or "
        "(low, high) pairs"
    )


def _flax_kernel(name: str, value: Any) -> tuple[int, ...]:
    """Flax's kernel_size: a sequence of ints (its length is the layer's dimensions), or an int
    (a 1-D kernel)."""
    items = (value,) if _is_int(value) else value
    if not isinstance(items, tuple) or not 1 <= len(items) <= 3:
        raise _error(
            f"{name}={shown(value)}: expected a tuple of 1 to 3 integers >= 1 (its length is "
            "the convolution's dimensions)"
        )
    if not all(_is_int(v) and v >= 1 for v in items):
        raise _error(f"{name}={shown(value)}: expected integers >= 1")
    return tuple(items)


def _flax_ints(name: str, value: Any) -> Any:
    """strides and dilations: an int or a sequence (checked against the kernel's length)."""
    if _is_int(value) and value >= 1:
        return value
    if isinstance(value, tuple) and value and all(_is_int(v) and v >= 1 for v in value):
        return value
    raise _error(f"{name}={shown(value)}: expected an integer >= 1 or a tuple of them")


def _flax_signature(transposed: bool) -> tuple[Arg, ...]:
    head = (
        Arg("features", check=_int(1)),
        Arg("kernel_size", check=_flax_kernel),
    )
    tail = (
        Arg("use_bias", True, _flag, drawn=False),
        Arg("mask", None, drawn=False),
        Arg("dtype", None, drawn=False),
        Arg("param_dtype", None, drawn=False),
        Arg("precision", None, drawn=False),
        Arg("kernel_init", None, drawn=False),
        Arg("bias_init", None, drawn=False),
    )
    if transposed:
        return (
            *head,
            Arg("strides", None, _flax_ints),
            Arg("padding", "SAME", _flax_padding),
            Arg("kernel_dilation", None, _flax_ints),
            *tail,
            Arg("transpose_kernel", False, _flag),
        )
    return (
        *head,
        Arg("strides", 1, _flax_ints),
        Arg("padding", "SAME", _flax_padding),
        Arg("input_dilation", 1, _flax_ints),
        Arg("kernel_dilation", 1, _flax_ints),
        Arg("feature_group_count", 1, _int(1)),
        *tail,
        Arg("conv_general_dilated", None, drawn=False),  # deprecated in Flax
        Arg("conv_general_dilated_cls", None, drawn=False),
    )


def _per_axis(name: str, value: Any, dims: int) -> tuple[int, ...]:
    if value is None:
        return (1,) * dims
    if _is_int(value):
        return (value,) * dims
    if len(value) != dims:
        raise _error(
            f"{name}={shown(value)}: the kernel has {dims} dimensions; expected {dims} numbers"
        )
    return tuple(value)


def _flax_pads(
    d: Constructor,
    padding: Any,
    sizes: Sizes,
    k: Sequence[int],
    s: Sequence[int],
    dil: Sequence[int],
) -> tuple[list[tuple[int, int]], str, str]:
    """Flax's nn.Conv padding as (pads per axis, padding_mode, rule in words)."""
    dims = len(k)
    footprints = [(kk - 1) * dd + 1 for kk, dd in zip(k, dil, strict=True)]
    if padding == "VALID":
        return [(0, 0)] * dims, "zeros", "padding='VALID': no padding"
    if padding in ("SAME", "SAME_LOWER"):
        pads = [
            _tf_same(n, kk, ss, dd) for n, kk, ss, dd in zip(sizes.size, k, s, dil, strict=True)
        ]
        if padding == "SAME_LOWER":
            pads = [(hi, lo) for lo, hi in pads]
        outs = _each(
            f"ceil({n}/{ss}) = {math.ceil(n / ss)}" for n, ss in zip(sizes.size, s, strict=True)
        )
        side = "before (top/left)" if padding == "SAME_LOWER" else "after (bottom/right)"
        return (
            pads,
            "zeros",
            f"padding='{padding}': XLA's rule, output {outs}, the odd padding cell {side}",
        )
    if padding == "CIRCULAR":
        pads = [((f - 1) // 2, f // 2) for f in footprints]
        return (
            pads,
            "circular",
            "padding='CIRCULAR': ((footprint-1)//2, footprint//2) cells per axis, wrapped "
            "around (jnp.pad mode 'wrap'), at any stride",
        )
    if padding == "CAUSAL":
        if dims != 1:
            raise _error(f"{d.name}(padding='CAUSAL'): Flax allows CAUSAL for 1-D kernels only")
        return (
            [(footprints[0] - 1, 0)],
            "zeros",
            (f"padding='CAUSAL': {footprints[0] - 1} cells before the input"),
        )
    if _is_int(padding):
        return [(padding, padding)] * dims, "zeros", f"padding {padding} on every side"
    if len(padding) != dims:
        raise _error(
            f"{d.name}(padding={shown(padding)}): the kernel has {dims} dimensions; expected "
            f"{dims} (low, high) pairs"
        )
    return list(padding), "zeros", "explicit (low, high) padding"


def _flax_conv(d: Constructor, a: dict[str, Any], sizes: Sizes) -> Description:
    k = a["kernel_size"]
    dims = len(k)
    s = _per_axis("strides", a["strides"], dims)
    dil = _per_axis("kernel_dilation", a["kernel_dilation"], dims)
    lhs = _per_axis("input_dilation", a["input_dilation"], dims)
    groups = a["feature_group_count"]
    if a["features"] % groups:
        raise _error(
            f"{d.name}(features={a['features']}, feature_group_count={groups}): features must "
            "be divisible by feature_group_count"
        )
    if sizes.channels is not None and sizes.channels % groups:
        raise _error(
            f"{d.name}(feature_group_count={groups}): the input's {sizes.channels} channels are "
            "not divisible by it"
        )
    if any(v != 1 for v in lhs):
        return _flax_input_dilated(d, a, sizes, k, s, dil, lhs, groups)
    pads, mode, rule = _flax_pads(d, a["padding"], sizes, k, s, dil)
    out = tuple(
        _conv_out(n, pp, kk, ss, dd)
        for n, pp, kk, ss, dd in zip(sizes.size, pads, k, s, dil, strict=True)
    )
    options: dict[str, Any] = {
        "input": list(sizes.size),
        "kernel": list(k),
        "stride": list(s),
        "padding": {"SAME": "same", "VALID": "valid"}.get(
            str(a["padding"]),
            _padding_option([list(p) if p[0] != p[1] else p[0] for p in pads], dims),
        ),
        "dilation": list(dil),
        "dims": dims,
    }
    if mode != "zeros":
        options["padding-mode"] = mode
    meaning = (
        f"Flax {d.name} ({dims}-D: its kernel_size has {dims} number{'s' if dims > 1 else ''}) "
        f"with {rule}: output {_axis_words(out)}"
    )
    return _made(d, a, "conv", options, out, meaning, sizes.channels, a["features"], groups)


def _flax_input_dilated(
    d: Constructor,
    a: dict[str, Any],
    sizes: Sizes,
    k: Sequence[int],
    s: Sequence[int],
    dil: Sequence[int],
    lhs: Sequence[int],
    groups: int,
) -> Description:
    """nn.Conv with input_dilation e: lax.conv_general_dilated's lhs_dilation, a stride-1
    convolution over the input with e-1 zeros inserted between cells and its (numeric)
    padding around that: a transposed convolution of stride e, whose crops are
    footprint - 1 - those pads."""
    padding = a["padding"]
    dilation = shown(a["input_dilation"])
    if any(v != 1 for v in s):
        raise _error(
            f"{d.name}(input_dilation={dilation}) with strides {_axis_words(s)}: a strided "
            "convolution over a zero-inserted input is no transposed convolution; not drawn"
        )
    if isinstance(padding, str):
        raise _error(
            f"{d.name}(input_dilation={dilation}, padding='{padding}'): jax.lax refuses string "
            "padding with an input dilation (lhs_dilation); expected an integer or (low, high) "
            "pairs"
        )
    dims = len(k)
    dilated = [(n - 1) * e + 1 for n, e in zip(sizes.size, lhs, strict=True)]
    if _is_int(padding):
        pads = [(padding, padding)] * dims
    else:
        if len(padding) != dims:
            raise _error(
                f"{d.name}(padding={shown(padding)}): the kernel has {dims} dimensions; "
                f"expected {dims} (low, high) pairs"
            )
        pads = list(padding)
    axes = []
    for n, (lo, hi), kk, dd in zip(dilated, pads, k, dil, strict=True):
        footprint = (kk - 1) * dd + 1
        axes.append((footprint - 1 - lo, footprint - 1 - hi, n + lo + hi - footprint + 1))
    head = (
        f"Flax {d.name} ({dims}-D) with input_dilation {_axis_words(lhs)} and "
        f"padding={shown(padding)} (lax's lhs_dilation: a stride-1 convolution over the input "
        f"with input_dilation-1 zeros inserted, a transposed convolution of stride "
        f"{_axis_words(lhs)})"
    )
    notes = [
        "Flax's Conv slides its kernel unflipped over the zero-inserted input; PyTorch's "
        "transposed convolution is that with the kernel flipped: the figure's weights are "
        "PyTorch's"
    ]
    return _transposed(
        d, a, sizes, k, lhs, dil, axes, head, sizes.channels, a["features"], groups, notes
    )


def _lax_transpose_pads(
    size: int, kernel: int, stride: int, dilation: int, padding: Any
) -> tuple[int, int, int]:
    """jax.lax.conv_transpose's padding as (crop before, crop after, output): its
    _conv_transpose_padding for 'SAME'/'VALID' (pads of the convolution over the
    zero-inserted input), explicit (low, high) pads used as they are."""
    footprint = (kernel - 1) * dilation + 1
    if padding == "SAME":
        pad_len = footprint + stride - 2
        low = footprint - 1 if stride > footprint - 1 else math.ceil(pad_len / 2)
        high = pad_len - low
    elif padding == "VALID":
        pad_len = footprint + stride - 2 + max(footprint - stride, 0)
        low = footprint - 1
        high = pad_len - low
    else:
        low, high = padding
    before, after = footprint - 1 - low, footprint - 1 - high
    return before, after, (size - 1) * stride + footprint - before - after


def _flax_transpose(d: Constructor, a: dict[str, Any], sizes: Sizes) -> Description:
    k = a["kernel_size"]
    dims = len(k)
    s = _per_axis("strides", a["strides"], dims)
    dil = _per_axis("kernel_dilation", a["kernel_dilation"], dims)
    padding = a["padding"]
    if padding in ("CIRCULAR", "CAUSAL", "SAME_LOWER"):
        raise _error(
            f"{d.name}(padding='{padding}') is not drawn (Flax wraps a CIRCULAR transposed "
            "output around itself); expected 'SAME', 'VALID', an integer or (low, high) pairs"
        )
    if _is_int(padding):
        per_axis: list[Any] = [(padding, padding)] * dims
    elif isinstance(padding, tuple):
        if len(padding) != dims:
            raise _error(
                f"{d.name}(padding={shown(padding)}): the kernel has {dims} dimensions; "
                f"expected {dims} (low, high) pairs"
            )
        per_axis = list(padding)
    else:
        per_axis = [padding] * dims
    axes = [
        _lax_transpose_pads(n, kk, ss, dd, p)
        for n, kk, ss, dd, p in zip(sizes.size, k, s, dil, per_axis, strict=True)
    ]
    notes = []
    if not a["transpose_kernel"]:
        notes.append(
            "Flax's ConvTranspose (transpose_kernel=False) slides its kernel unflipped over the "
            "zero-inserted input; PyTorch's transposed convolution is that with the kernel "
            "flipped: the figure's weights are PyTorch's"
        )
    head = (
        f"Flax {d.name} ({dims}-D) with padding={shown(padding)} (jax.lax.conv_transpose: a "
        "stride-1 convolution over the input with strides-1 zeros inserted)"
    )
    return _transposed(d, a, sizes, k, s, dil, axes, head, sizes.channels, a["features"], 1, notes)


# -- the table ----------------------------------------------------------------------------------


def _made(
    d: Constructor,
    a: Mapping[str, Any],
    kind: str,
    options: dict[str, Any],
    out: tuple[int, ...],
    meaning: str,
    ins: int | None,
    outs: int | None,
    groups: int,
    notes: Sequence[str] = (),
) -> Description:
    drawn = {arg.name for arg in d.signature if arg.drawn}
    ignored = {
        name: value
        for name, value in a.items()
        if name not in drawn and value is not None and not _at_default(d, name, value)
    }
    return Description(
        framework=d.framework,
        constructor=d.name,
        kind=kind,
        options={key: _compact(value) for key, value in options.items()},
        arguments=dict(a),
        given=(),
        ignored=ignored,
        in_channels=ins,
        out_channels=outs,
        groups=groups,
        output_size=out,
        meaning=meaning,
        notes=tuple(notes),
    )


def _at_default(d: Constructor, name: str, value: Any) -> bool:
    for arg in d.signature:
        if arg.name == name:
            return bool(arg.default is not REQUIRED and arg.default == value)
    return False


def _table() -> dict[str, Constructor]:
    found: dict[str, Constructor] = {}

    def add(constructor: Constructor) -> None:
        found[constructor.name] = constructor

    for dims in (1, 2, 3):
        add(
            Constructor(
                f"Conv{dims}d",
                "PyTorch",
                TORCH,
                _torch_conv_signature(dims, False),
                dims,
                _torch_conv,
            )
        )
        add(
            Constructor(
                f"ConvTranspose{dims}d",
                "PyTorch",
                TORCH,
                _torch_conv_signature(dims, True),
                dims,
                _torch_conv,
            )
        )
        add(
            Constructor(
                f"MaxPool{dims}d",
                "PyTorch",
                TORCH,
                _torch_pool_signature(dims, "max"),
                dims,
                _torch_pool,
            )
        )
        add(
            Constructor(
                f"AvgPool{dims}d",
                "PyTorch",
                TORCH,
                _torch_pool_signature(dims, "avg"),
                dims,
                _torch_pool,
            )
        )
        add(
            Constructor(
                f"Conv{dims}D",
                "Keras",
                KERAS,
                _keras_conv_signature(dims, "conv"),
                dims,
                _keras_conv,
                KERAS_KEYWORDS,
            )
        )
        add(
            Constructor(
                f"Conv{dims}DTranspose",
                "Keras",
                KERAS,
                _keras_conv_signature(dims, "transpose"),
                dims,
                _keras_transpose,
                KERAS_KEYWORDS,
            )
        )
        add(
            Constructor(
                f"MaxPooling{dims}D",
                "Keras",
                KERAS,
                _keras_pool_signature(dims, "max"),
                dims,
                _keras_pool,
                KERAS_KEYWORDS,
            )
        )
        add(
            Constructor(
                f"AveragePooling{dims}D",
                "Keras",
                KERAS,
                _keras_pool_signature(dims, "avg"),
                dims,
                _keras_pool,
                KERAS_KEYWORDS,
            )
        )
    add(
        Constructor(
            "DepthwiseConv2D",
            "Keras",
            KERAS,
            _keras_conv_signature(2, "depthwise"),
            2,
            _keras_depthwise,
            KERAS_KEYWORDS,
        )
    )
    add(
        Constructor(
            "SeparableConv2D",
            "Keras",
            KERAS,
            _keras_conv_signature(2, "separable"),
            2,
            _keras_separable,
            KERAS_KEYWORDS,
        )
    )
    add(Constructor("Conv", "Flax", FLAX, _flax_signature(False), 0, _flax_conv, FLAX_KEYWORDS))
    add(
        Constructor(
            "ConvTranspose", "Flax", FLAX, _flax_signature(True), 0, _flax_transpose, FLAX_KEYWORDS
        )
    )
    return found


CONSTRUCTORS: Mapping[str, Constructor] = _table()


def _constructor(call: Call) -> Constructor:
    return _constructor_of(call.path)


def _constructor_of(path: tuple[str, ...]) -> Constructor:
    call = Call(path, (), {}, "")
    found = CONSTRUCTORS.get(call.name)
    if found is None:
        close = difflib.get_close_matches(call.name, list(CONSTRUCTORS), n=1, cutoff=0.7)
        hint = f" (did you mean {close[0]}?)" if close else ""
        if call.path[:2] in (("jax", "lax"), ("lax",)) or call.name == "conv_general_dilated":
            hint = (
                ": jax.lax's functions take the arrays themselves, whose kernel size a line "
                "cannot tell; write the layer as flax.linen.Conv(features, kernel_size, "
                "strides, padding) with the same padding spelling"
            )
        raise _error(
            f"{call.written} is not a layer convanim knows{hint}; it knows PyTorch's "
            "Conv1d/2d/3d, ConvTranspose1d/2d/3d, MaxPool1d/2d/3d and AvgPool1d/2d/3d, Keras's "
            "Conv1D/2D/3D, Conv1D/2D/3DTranspose, DepthwiseConv2D, SeparableConv2D, "
            "MaxPooling1D/2D/3D and AveragePooling1D/2D/3D, and Flax's Conv and ConvTranspose"
        )
    prefix = call.path[:-1]
    if prefix not in found.prefixes:
        raise _error(
            f"{call.written}: {found.name} is {found.framework}'s; expected it spelt "
            f"{' or '.join(found.spellings)}"
        )
    return found


def describe(line: object, input_value: Any) -> Description:
    """The layer in ``line`` over an input of ``input_value`` (``-i``'s value: a size, or a
    shape with channels, NCHW for PyTorch and NHWC for Keras and Flax)."""
    call = parse_call(line)
    constructor = _constructor(call)
    arguments, given = bind(constructor, call)
    dims = constructor.dims or len(arguments["kernel_size"])
    channels_last = constructor.framework != "PyTorch" and (
        arguments.get("data_format") != "channels_first"
    )
    sizes = split_input(input_value, dims, channels_last)
    description = constructor.build(constructor, arguments, sizes)
    from dataclasses import replace

    return replace(description, given=given, text=call.text)
