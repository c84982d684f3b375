"""The gallery: conv_arithmetic's figures under their published names, and more.

The 15 animations of Dumoulin & Visin's conv_arithmetic (in PyTorch's terms: a transposed
figure is ``ConvTranspose2d`` with that input), its four numerical figures with their published
numbers, the dilated receptive-field figure and a WaveNet-style causal stack, the paper's
convolution matrix and its transpose, and the overlap maps of kernel 3 and 4 at stride 2
(transposed), with an ``index.md`` that shows them all.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from convanim.build import Entry, entries_from
from convanim.values import NUMERICAL_FIGURE_INPUT, NUMERICAL_FIGURE_KERNEL

__all__ = ["CONV_ARITHMETIC", "PUBLISHED", "gallery_entries", "gallery_index"]

# name: (input, kernel, stride, padding, dilation, transposed, output_padding)
CONV_ARITHMETIC: dict[str, tuple[int, int, int, int, int, bool, int]] = {
    "no_padding_no_strides": (4, 3, 1, 0, 1, False, 0),
    "arbitrary_padding_no_strides": (5, 4, 1, 2, 1, False, 0),
    "same_padding_no_strides": (5, 3, 1, 1, 1, False, 0),
    "full_padding_no_strides": (5, 3, 1, 2, 1, False, 0),
    "no_padding_strides": (5, 3, 2, 0, 1, False, 0),
    "padding_strides": (5, 3, 2, 1, 1, False, 0),
    "padding_strides_odd": (6, 3, 2, 1, 1, False, 0),
    "dilation": (7, 3, 1, 0, 2, False, 0),
    "no_padding_no_strides_transposed": (2, 3, 1, 0, 1, True, 0),
    "arbitrary_padding_no_strides_transposed": (6, 4, 1, 2, 1, True, 0),
    "same_padding_no_strides_transposed": (5, 3, 1, 1, 1, True, 0),
    "full_padding_no_strides_transposed": (7, 3, 1, 2, 1, True, 0),
    "no_padding_strides_transposed": (2, 3, 2, 0, 1, True, 0),
    "padding_strides_transposed": (3, 3, 2, 1, 1, True, 0),
    "padding_strides_odd_transposed": (3, 3, 2, 1, 1, True, 1),
}

# The published GIFs (conv_arithmetic.tsv): frames, width and height in pixels, bytes. The
# benchmark and the tests hold convanim's own to these.
PUBLISHED: dict[str, tuple[int, int, int, int]] = {
    "no_padding_no_strides": (4, 244, 259, 37751),
    "arbitrary_padding_no_strides": (36, 495, 542, 476750),
    "same_padding_no_strides": (25, 395, 449, 276460),
    "full_padding_no_strides": (49, 495, 576, 435605),
    "no_padding_strides": (4, 294, 288, 44665),
    "padding_strides": (9, 395, 381, 118422),
    "padding_strides_odd": (9, 445, 411, 122211),
    "dilation": (9, 395, 381, 124951),
    "no_padding_no_strides_transposed": (16, 344, 386, 164355),
    "arbitrary_padding_no_strides_transposed": (25, 445, 479, 323062),
    "same_padding_no_strides_transposed": (25, 395, 449, 213333),
    "full_padding_no_strides_transposed": (25, 395, 449, 287001),
    "no_padding_strides_transposed": (25, 395, 449, 197717),
    "padding_strides_transposed": (25, 395, 449, 272498),
    "padding_strides_odd_transposed": (36, 445, 513, 303965),
}

_NUMERICAL: dict[str, dict[str, Any]] = {
    "numerical_no_padding_no_strides": {"kind": "conv", "padding": 0, "stride": 1},
    "numerical_padding_strides": {"kind": "conv", "padding": 1, "stride": 2},
    "numerical_average_pooling": {"kind": "pool", "mode": "avg"},
    "numerical_max_pooling": {"kind": "pool", "mode": "max"},
}


def gallery_tables() -> dict[str, dict[str, Any]]:
    """The gallery as manifest tables."""
    tables: dict[str, dict[str, Any]] = {}
    for name, row in CONV_ARITHMETIC.items():
        size, kernel, stride, padding, dilation, transposed, output_padding = row
        table: dict[str, Any] = {
            "output": f"{name}.gif",
            "kind": "conv",
            "input": size,
            "kernel": kernel,
            "stride": stride,
            "padding": padding,
            "dilation": dilation,
        }
        if transposed:
            table.update(transposed=True, output_padding=output_padding, labels=True)
        tables[name] = table
    x = [list(row) for row in NUMERICAL_FIGURE_INPUT]
    weight = [list(row) for row in NUMERICAL_FIGURE_KERNEL]
    for name, extra in _NUMERICAL.items():
        table = {"output": f"{name}.gif", "input": 5, "kernel": 3, "view": "flat", **extra}
        table["input-values"] = x
        if extra["kind"] == "conv":
            table["kernel-values"] = weight
        tables[name] = table
    tables["receptive_field_dilated"] = {
        "output": "receptive_field_dilated.png",
        "kind": "rf",
        "kernel": 3,
        "dilation": [1, 2, 4],
    }
    tables["wavenet_causal"] = {
        "output": "wavenet_causal.gif",
        "kind": "rf",
        "dims": 1,
        "kernel": 2,
        "dilation": [1, 2, 4, 8],
        "causal": True,
    }
    # Why "transposed": the paper's C (section 4.1) and its transpose; uneven and even overlap.
    tables["matrix_no_padding_no_strides"] = {
        "output": "matrix_no_padding_no_strides.gif",
        "kind": "matrix",
        "input": 4,
        "kernel": 3,
    }
    tables["matrix_no_padding_no_strides_transposed"] = {
        "output": "matrix_no_padding_no_strides_transposed.gif",
        "kind": "matrix",
        "input": 2,
        "kernel": 3,
        "transposed": True,
    }
    for size, more in ((3, 1), (4, 0)):  # output_padding 1 and 0: both 8x8
        name = f"overlap_kernel_{size}_stride_2_transposed"
        tables[name] = {
            "output": f"{name}.png",
            "kind": "overlap",
            "input": 4,
            "kernel": size,
            "stride": 2,
            "padding": 1,
            "transposed": True,
            "output-padding": more,
        }
    return tables


def gallery_entries(folder: Path) -> list[Entry]:
    """The gallery's figures, written into ``folder``."""
    return entries_from(gallery_tables(), folder, "gallery")


def gallery_index(entries: list[Entry]) -> str:
    """``index.md``: every figure with its parameters, as the command that draws it."""
    lines = [
        "# convanim gallery",
        "",
        "The conv_arithmetic figures (Dumoulin & Visin, arXiv:1603.07285) under their published",
        "names, drawn by convanim from PyTorch-style parameters, and two receptive-field figures.",
        "",
        "| figure | name | parameters |",
        "| --- | --- | --- |",
    ]
    for entry in entries:
        assert entry.figure is not None
        alt = entry.figure.alt_text().replace("|", "/")
        command = entry.figure.command(entry.output.name)
        lines.append(f"| ![{alt}]({entry.output.name}) | `{entry.name}` | `{command}`<br>{alt} |")
    return "\n".join(lines) + "\n"
