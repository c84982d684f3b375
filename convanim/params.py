"""Parameters, declared once: what every front-end (command line, manifest, Sphinx, ``info``,
``Figure.command()``) knows of an option comes from its ``Param``.

A value arrives as text (the command line, a Sphinx option) or as TOML gives it (an int, a
list, a bool); ``Param.parse`` turns either into one JSON-ready spelling (lists, not tuples),
which is what a figure stores and fingerprints, and ``Param.format`` spells it back as the
command line takes it. Errors are ``ParameterError`` naming the option's key, with the same
words whichever front-end the value came through.

The standard library only: the command line builds its options from these before it imports
numpy.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from convanim.errors import ParameterError
from convanim.theme import THEMES

__all__ = [
    "DRAWING",
    "LAYER_STACK",
    "MODEL",
    "OUTPUT",
    "POSTER",
    "TRUE_WORDS",
    "VALUES",
    "VALUE_FILES",
    "Param",
    "at_least",
    "boolean",
    "cell",
    "check_frame_or_columns",
    "choice",
    "integer",
    "ints",
    "is_int",
    "layer_flags",
    "layer_list",
    "layer_padding",
    "number",
    "padding",
    "padding_3d",
    "plain",
    "shown",
    "size",
    "size_3d",
    "target",
    "text",
    "values",
]

Parser = Callable[[str, Any], Any]

TRUE_WORDS = ("", "true", "yes", "on", "1")  # "" : a Sphinx flag given without a value
FALSE_WORDS = ("false", "no", "off", "0")
PADDING_MODES = ("valid", "same", "full", "causal")


# -- what every parser shares, a kind's own parsers too -------------------------------------------


def shown(value: Any) -> str:
    """A value as a message shows it: a string in quotes, anything else its repr."""
    return f"'{value}'" if isinstance(value, str) else repr(value)


def _got(value: Any) -> str:
    """The value as the user wrote it, kept short: a size of a thousand digits is not echoed."""
    text = shown(value)
    return text if len(text) <= 40 else text[:37] + "..."


def is_int(value: Any) -> bool:
    """An int, not a bool."""
    return isinstance(value, int) and not isinstance(value, bool)


def ints(text: str) -> list[int] | None:
    """``"5,7"`` as [5, 7]; None when any part is not an integer (or is absurdly long)."""
    try:
        return [int(part) for part in text.split(",")] if len(text) < 1000 else None
    except ValueError:
        return None


def plain(value: Any) -> Any:
    """Tuples as lists, all the way down (a dict's values too): the JSON-ready spelling figures
    store."""
    if isinstance(value, (tuple, list)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value


# -- parsers: (key, raw value) -> normalised value ----------------------------------------------


def size(key: str, value: Any) -> Any:
    """``5``, ``"5"``, ``"5,7"`` or ``[5, 7]``; the numbers are checked by the model (ConvSpec)."""
    if isinstance(value, str):
        numbers = ints(value)
        if numbers is None or not 1 <= len(numbers) <= 2:
            raise ParameterError(
                key, f"got {_got(value)}; expected an integer like 5 or rows,cols like 5,7"
            )
        return numbers[0] if len(numbers) == 1 else numbers
    return plain(value)


def size_3d(key: str, value: Any) -> Any:
    """``size``, or three numbers: ``"4,5,5"`` (depth,rows,cols) or ``[4, 5, 5]``."""
    if isinstance(value, str):
        numbers = ints(value)
        if numbers is None or not 1 <= len(numbers) <= 3:
            raise ParameterError(
                key,
                f"got {_got(value)}; expected an integer like 5, rows,cols like 5,7 or "
                "depth,rows,cols like 4,5,5",
            )
        return numbers[0] if len(numbers) == 1 else numbers
    return plain(value)


def padding_3d(key: str, value: Any) -> Any:
    """``padding``, or 3-D: ``depth,rows,cols`` or ``front,back,top,bottom,left,right``."""
    if isinstance(value, str) and value not in PADDING_MODES:
        numbers = ints(value)
        if numbers is None or len(numbers) not in (1, 2, 3, 4, 6):
            raise ParameterError(
                key,
                f"got {_got(value)}; expected 1, rows,cols like 1,2, top,bottom,left,right like "
                "0,1,0,1, depth,rows,cols like 1,1,1, front,back,top,bottom,left,right like "
                "0,1,0,1,0,1, or valid|same|full",
            )
        value = numbers[0] if len(numbers) == 1 else numbers
    if isinstance(value, (list, tuple)) and len(value) == 6 and all(map(is_int, value)):
        return [[value[0], value[1]], [value[2], value[3]], [value[4], value[5]]]
    return padding(key, value)


def padding(key: str, value: Any) -> Any:
    """An int, ``rows,cols``, ``top,bottom,left,right``, a mode name, or lists of those."""
    if isinstance(value, str) and value in PADDING_MODES:
        return value
    if isinstance(value, str):
        numbers = ints(value)
        if numbers is None or len(numbers) == 3 or len(numbers) > 4:
            raise ParameterError(
                key,
                f"got {_got(value)}; expected 1, rows,cols like 1,2, top,bottom,left,right like "
                "0,1,0,1, or valid|same|full",
            )
        value = numbers[0] if len(numbers) == 1 else numbers
    if isinstance(value, (list, tuple)) and len(value) == 4 and all(map(is_int, value)):
        return [[value[0], value[1]], [value[2], value[3]]]
    return plain(value)


def cell(key: str, value: Any) -> Any:
    """A cell, 0-based: ``2`` (1-D), ``"1,2"`` or ``[1, 2]`` (row,col), ``"0,1,2"`` (3-D), or
    None (not given); whether it lies inside the output is the kind's to check."""
    if value is None:
        return None
    numbers = ints(value) if isinstance(value, str) else None
    if isinstance(value, (list, tuple)) and all(map(is_int, value)):
        numbers = list(value)
    elif is_int(value):
        numbers = [value]
    if numbers is None or not 1 <= len(numbers) <= 3 or min(numbers) < 0:
        raise ParameterError(
            key,
            f"got {_got(value)}; expected a cell, 0-based: row,col like 1,2 (2-D), a cell like "
            "3 (1-D) or depth,row,col (3-D)",
        )
    return numbers[0] if len(numbers) == 1 else numbers


def boolean(key: str, value: Any) -> bool:
    """True or false; as text, a Sphinx flag's empty value or true/false, yes/no, on/off, 1/0."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in (*TRUE_WORDS, *FALSE_WORDS):
        return value.strip().lower() in TRUE_WORDS
    raise ParameterError(key, f"got {_got(value)}; expected true or false")


def integer(key: str, value: Any) -> int | None:
    """A whole number, or None (not given)."""
    if value is None or is_int(value):
        return value  # type: ignore[no-any-return]
    if isinstance(value, str) and re.fullmatch(r"\s*-?[0-9]{1,999}\s*", value):
        return int(value)
    raise ParameterError(key, f"got {_got(value)}; expected an integer")


def at_least(minimum: int) -> Parser:
    """A whole number >= ``minimum``, or None (not given)."""

    def parse(key: str, value: Any) -> int | None:
        found = integer(key, value)
        if found is not None and found < minimum:
            raise ParameterError(key, f"got {found}; expected an integer >= {minimum}")
        return found

    return parse


def number(key: str, value: Any) -> float:
    """A number: an int is taken as a float."""
    if is_int(value):
        return float(value)
    if isinstance(value, float):
        return value
    if isinstance(value, str) and len(value) < 100:
        try:
            return float(value)
        except ValueError:
            pass
    raise ParameterError(key, f"got {_got(value)}; expected a number")


def choice(*choices: Any) -> Parser:
    """One of ``choices``; text is matched against their spelling (``"1"`` for 1)."""

    def parse(key: str, value: Any) -> Any:
        for option in choices:
            if value == option or (isinstance(value, str) and value == str(option)):
                return option
        names = ", ".join(str(c) for c in choices)
        raise ParameterError(key, f"got {_got(value)}; expected one of {names}")

    parse.choices = choices  # type: ignore[attr-defined]
    return parse


def values(key: str, value: Any) -> Any:
    """A value file's name, or the values themselves as rows (``[[1, 2], [3, 4]]``, also as
    JSON text, which is how the command line and Sphinx give them inline)."""
    if value is None:
        return value
    if isinstance(value, str) and value.lstrip().startswith("["):
        try:
            rows = json.loads(value)
        except ValueError:
            rows = None
        if isinstance(rows, list):
            return values(key, rows)
        raise ParameterError(
            key, f"got {_got(value)}; expected a file name, or rows like [[1, 2], [3, 4]]"
        )
    if isinstance(value, list):
        flat = list(_flatten(value))
        if not all(_is_number(v) for v in flat):
            raise ParameterError(key, "expected rows of numbers, like [[1, 2], [3, 4]]")
        if not all(math.isfinite(v) for v in flat):
            bad = next(v for v in flat if not math.isfinite(v))
            raise ParameterError(
                key, f"holds {bad}; expected finite numbers (as a value file must hold)"
            )
        return value
    if isinstance(value, str):
        return value
    raise ParameterError(key, f"got {_got(value)}; expected a file name, or the values as rows")


def _flatten(value: Any) -> Any:
    for item in value:
        if isinstance(item, list):
            yield from _flatten(item)
        else:
            yield item


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def layer_list(key: str, value: Any) -> list[Any]:
    """One integer per layer: ``1,2,4``, ``[1, 2, 4]``, or one value for every layer."""
    if isinstance(value, str):
        numbers = ints(value)
        if numbers is None:
            raise ParameterError(
                key, f"got {_got(value)}; expected integers, one per layer, like 1,2,4"
            )
        return numbers
    if isinstance(value, (list, tuple)):
        return list(value)
    if is_int(value):
        return [value]
    raise ParameterError(key, f"got {_got(value)}; expected one value or a list, one per layer")


def layer_padding(key: str, value: Any) -> list[Any]:
    """Padding per layer: ``1,0,2``, or valid|same|full|causal (per layer, comma-separated)."""
    if isinstance(value, str):
        parts = value.split(",")
        if all(part in PADDING_MODES for part in parts):
            return parts
        numbers = ints(value)
        if numbers is None:
            raise ParameterError(
                key,
                f"got {_got(value)}; expected integers per layer like 1,2,4, or one of "
                "valid|same|full|causal (per layer, comma-separated)",
            )
        return numbers
    if isinstance(value, (list, tuple)):
        return list(value)
    if is_int(value):
        return [value]
    raise ParameterError(key, f"got {_got(value)}; expected one value or a list, one per layer")


def layer_flags(key: str, value: Any) -> list[int]:
    """Per layer, 1 if it is transposed and 0 if not: ``0,1``, ``[false, true]``, or one value
    for every layer (``true``; as a bare Sphinx flag, ``""``)."""
    words = {"0": 0, "1": 1, "false": 0, "true": 1, "no": 0, "yes": 1}
    if value == "":  # a Sphinx option given without a value, as a flag is: every layer
        return [1]
    if isinstance(value, str):
        parts = [part.strip().lower() for part in value.split(",")] if len(value) < 1000 else []
        if parts and all(part in words for part in parts):
            return [words[part] for part in parts]
    else:
        items = value if isinstance(value, (list, tuple)) else [value]
        if items and all(isinstance(v, bool) or v in (0, 1) for v in items):
            return [int(v) for v in items]
    raise ParameterError(
        key,
        f"got {_got(value)}; expected 0 or 1 per layer (1: transposed), like 0,1, or true/false",
    )


def text(key: str, value: Any) -> str | None:
    """A non-empty string, or None when not given."""
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ParameterError(key, f"got {value!r}; expected a non-empty string")
    return value.strip()


def target(key: str, value: Any) -> str | None:
    """MODULE:CALLABLE, or None when not given."""
    found = text(key, value)
    module, _, attribute = (found or "").rpartition(":")
    if found is not None and not (module and attribute):
        raise ParameterError(
            key, f"got '{found}'; expected MODULE:CALLABLE (a module importable from the "
            "current directory, or file.py:callable)",
        )  # fmt: skip
    return found


# -- the declaration ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Param:
    """One option of a figure kind, declared once.

    ``key`` is the long option without ``--``, the manifest key and the Sphinx option
    (``output-padding``; ``output_padding`` is taken too); ``api`` is the library's name for it
    (``ConvSpec``'s, PyTorch's), which errors raised by the core carry. ``default`` is given
    raw, as a user would; ``parse`` normalises it like any given value.
    """

    key: str
    parse: Parser
    default: Any
    help: str
    api: str = ""
    short: str | None = None
    metavar: str = "VALUE"
    flag: bool = False
    # A parameter added after a kind's first release is left out of the fingerprint while it is
    # at its default, so that the figures made before it stay current (and byte-identical).
    stamped_at_default: bool = True
    # Also the command's first argument, without its option name (``convanim layer 'LINE'``).
    positional: bool = False

    def __post_init__(self) -> None:
        if not self.api:
            object.__setattr__(self, "api", self.key.replace("-", "_"))

    @property
    def normal_default(self) -> Any:
        return self.parse(self.key, self.default)

    @property
    def choices(self) -> Sequence[Any] | None:
        return getattr(self.parse, "choices", None)

    def format(self, value: Any) -> str:
        """``value`` (normalised) as the command line spells it after the option."""
        if isinstance(value, list) and self.parse is values:  # rows, or one row (1-D, a bias)
            return json.dumps(value, separators=(",", ":"))
        if isinstance(value, list) and value and all(isinstance(v, list) for v in value):
            return ",".join(str(v) for row in value for v in row)  # top,bottom,left,right
        if isinstance(value, list):
            return ",".join(str(v) for v in value)
        if isinstance(value, float) and value.is_integer() and math.isfinite(value):
            return str(value)
        return str(value)

    def words(self, value: Any) -> list[str]:
        """The command-line words that give this value (``["--stride", "2"]``, ``["--labels"]``)."""
        if self.flag:
            return [f"--{self.key}" if value else f"--no-{self.key}"]
        if self.positional:
            return [self.format(value)]
        return [f"-{self.short}" if self.short else f"--{self.key}", self.format(value)]

    def help_text(self) -> str:
        """The option's help, with its default (or its choices) as the command line shows it."""
        text = self.help
        if self.choices is not None and "|" not in text:
            text += f" One of {', '.join(str(c) for c in self.choices)}."
        if self.default is not None and not self.flag and "[default:" not in text:
            text += f"  [default: {self.format(self.normal_default)}]"
        return text


# -- the groups every kind of figure shares ----------------------------------------------------

DRAWING = (
    Param(
        "view",
        choice("oblique", "flat"),
        "oblique",
        "oblique: conv_arithmetic's look; flat: side by side.",
        metavar="VIEW",
    ),
    Param(
        "theme",
        choice(*THEMES),
        "solarized",
        "Colours; dark is for dark pages, okabe-ito is safe for colour-blind readers.",
        metavar="THEME",
    ),
    Param("labels", boolean, False, "Write 'input' and 'output' beside the grids.", flag=True),
    Param("scale", number, 1.0, "Pixel size multiplier, from 0.1 to 10.", metavar="X"),
)
# Added after the kinds' first release: left out of fingerprints at their defaults.
POSTER = (
    Param(
        "poster",
        boolean,
        False,
        "Write one still image of the whole animation (.png, .svg or .pdf): every output "
        "filled, and the footprint of one output cell (--poster-cell).",
        flag=True,
        stamped_at_default=False,
    ),
    Param(
        "poster-cell",
        cell,
        None,
        "The output cell whose footprint a --poster shows, 0-based: row,col; 1-D: a cell; "
        "3-D: depth,row,col  [default: the middle one].",
        metavar="CELL",
        stamped_at_default=False,
    ),
)


VALUE_FILES = ("input-values", "kernel-values")  # options naming files the figure reads


def check_frame_or_columns(options: Mapping[str, Any]) -> None:
    """Refuse ``columns`` beside ``frame`` (the output group's): a single frame has none."""
    if options.get("columns") is not None and options.get("frame") is not None:
        raise ParameterError(
            "columns",
            f"got {options['columns']}; a single frame has no columns: give frame or "
            "columns, not both",
        )


OUTPUT = (
    Param(
        "frame-ms",
        integer,
        1000,
        "Milliseconds per GIF frame: a multiple of 10, 20 to 655350.",
        metavar="MS",
    ),
    Param(
        "columns",
        at_least(1),
        None,
        "Frames per row of a .png, .svg or .pdf strip  [default: one row per output row].",
        metavar="N",
    ),
    Param(
        "frame",
        integer,
        None,
        "Write only this frame (0-based, row-major) as a .png, .svg or .pdf.",
        metavar="N",
    ),
    Param(
        "max-frames",
        at_least(1),
        1024,
        "Refuse animations with more frames than this.",
        metavar="N",
    ),
    *POSTER,
)
VALUES = (
    Param(
        "values",
        boolean,
        False,
        "Show the numbers: cell values, kernel weights, outputs and their sums.",
        flag=True,
    ),
    Param("seed", at_least(0), 0, "Seed of the small random integers --values shows.", metavar="N"),
    Param(
        "input-values",
        values,
        None,
        "Input values: a .npy, .csv or .txt file, or rows like [[1,2],[3,4]] (implies --values).",
        metavar="FILE",
    ),
)
# The layers of a stack, one value per layer or one for every layer (``rf``, ``erf``).
LAYER_STACK = (
    Param(
        "kernel",
        layer_list,
        3,
        "Kernel size per layer: 3, or 3,3,5.",
        api="kernel_size",
        short="k",
        metavar="LIST",
    ),
    Param("stride", layer_list, 1, "Stride per layer: 1, or 2,1,1.", short="s", metavar="LIST"),
    Param("dilation", layer_list, 1, "Dilation per layer: 1,2,4.", short="d", metavar="LIST"),
    Param(
        "padding",
        layer_padding,
        "same",
        "Padding per layer: 1,2,4, or valid|same|full|causal.",
        short="p",
        metavar="LIST",
    ),
    Param("causal", boolean, False, "Pad dilation*(kernel-1) before the input only.", flag=True),
    Param(
        "transposed",
        layer_flags,
        0,
        "1 per transposed layer (ConvTranspose), 0 per direct one: 0,1.",
        metavar="LIST",
        stamped_at_default=False,
    ),
    Param(
        "output-padding",
        layer_list,
        0,
        "Output padding per layer, of transposed layers only: 0,1.",
        metavar="LIST",
        stamped_at_default=False,
    ),
)
# The model a kind reads its layers from instead (``rf``, ``erf``).
MODEL = (
    Param(
        "torch",
        target,
        None,
        "A PyTorch model's layers instead: MODULE:CALLABLE (or file.py:callable) returning "
        "an nn.Module; give --input-shape.",
        metavar="MODULE:CALLABLE",
        stamped_at_default=False,
    ),
    Param(
        "onnx",
        text,
        None,
        "An ONNX file's layers instead (needs the onnx package, not torch).",
        metavar="FILE",
        stamped_at_default=False,
    ),
    Param(
        "input-shape",
        text,
        None,
        "The model's input without the batch axis: channels,rows,cols (3,224,224) or "
        "channels,length  [default for --onnx: the file's].",
        metavar="SHAPE",
        stamped_at_default=False,
    ),
)
