"""convanim: convolution arithmetic animations and receptive-field diagrams.

Names are loaded on first use, so that ``convanim --help`` starts without numpy or matplotlib.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "ConvSpec": "convanim.geometry",
    "ConvSpecError": "convanim.geometry",
    "Cell": "convanim.geometry",
    "DrawnGrid": "convanim.geometry",
    "Frame": "convanim.geometry",
    "RenderOptions": "convanim.options",
    "render_frames": "convanim.render",
    "THEMES": "convanim.theme",
    "Theme": "convanim.theme",
    "WRITERS": "convanim.formats",
    "Output": "convanim.animate",
    "Figure": "convanim.figures",
    "FigureError": "convanim.figures",
    "parse_figure": "convanim.figures",
    "figure": "convanim.notebook",
    "save": "convanim.animate",
    "receptive_field": "convanim.receptive",
    "receptive_field_stats": "convanim.receptive",
    "receptive_fields": "convanim.model_fields",
    "onnx_fields": "convanim.model_fields",
    "load_model": "convanim.model_fields",
    "dependency_tree": "convanim.receptive",
    "layer_sizes": "convanim.receptive",
    "LayerSpecError": "convanim.receptive",
    "effective_receptive_field": "convanim.erf",
    "erf_layers": "convanim.erf",
    "ErfLayer": "convanim.erf",
    "evaluate": "convanim.values",
    "conv_matrix": "convanim.matrix",
    "overlap": "convanim.matrix",
    "transpose_pair": "convanim.matrix",
    "worked": "convanim.values",
    "Worked": "convanim.values",
    "format_value": "convanim.values",
    "load_values": "convanim.values",
    "random_values": "convanim.values",
}

__all__ = [
    "THEMES",
    "WRITERS",
    "Cell",
    "ConvSpec",
    "ConvSpecError",
    "DrawnGrid",
    "ErfLayer",
    "Figure",
    "FigureError",
    "Frame",
    "LayerSpecError",
    "Output",
    "RenderOptions",
    "Theme",
    "Worked",
    "__version__",
    "conv_matrix",
    "dependency_tree",
    "effective_receptive_field",
    "erf_layers",
    "evaluate",
    "figure",
    "format_value",
    "layer_sizes",
    "load_model",
    "load_values",
    "onnx_fields",
    "overlap",
    "parse_figure",
    "random_values",
    "receptive_field",
    "receptive_field_stats",
    "receptive_fields",
    "render_frames",
    "save",
    "transpose_pair",
    "worked",
]

if TYPE_CHECKING:
    from convanim.animate import Output, save
    from convanim.erf import ErfLayer, effective_receptive_field, erf_layers
    from convanim.figures import Figure, FigureError, parse_figure
    from convanim.formats import WRITERS
    from convanim.geometry import Cell, ConvSpec, ConvSpecError, DrawnGrid, Frame
    from convanim.matrix import conv_matrix, overlap, transpose_pair
    from convanim.model_fields import load_model, onnx_fields, receptive_fields
    from convanim.notebook import figure
    from convanim.options import RenderOptions
    from convanim.receptive import (
        LayerSpecError,
        dependency_tree,
        layer_sizes,
        receptive_field,
        receptive_field_stats,
    )
    from convanim.render import render_frames
    from convanim.theme import THEMES, Theme
    from convanim.values import (
        Worked,
        evaluate,
        format_value,
        load_values,
        random_values,
        worked,
    )


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'convanim' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
