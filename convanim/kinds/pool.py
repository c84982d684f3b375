"""The ``pool`` kind: max or average pooling, 1-D, 2-D or 3-D, as PyTorch's ``MaxPool1d/2d/3d``
and ``AvgPool1d/2d/3d`` define it (``count_include_pad=True``): the convolution's picture with a
window in place of the kernel."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from convanim.kinds.conv import DIMS_3D, GEOMETRY_3D, Conv
from convanim.params import DRAWING, OUTPUT, VALUES, Param, choice

if TYPE_CHECKING:
    from convanim.figures import Figure
    from convanim.geometry import ConvSpec

__all__ = ["KIND", "Pool"]

MODE = Param(
    "mode",
    choice("max", "avg"),
    "max",
    "Max or average pooling (PyTorch's max_pool1d/2d/3d, avg_pool1d/2d/3d).",
    api="op",
    metavar="MODE",
)


class Pool(Conv):
    """Pooling: the convolution's picture without weights; the window takes a max or a mean."""

    name = "pool"
    summary = "Animate max or average pooling, with PyTorch's semantics."
    description = (
        "Max pooling pads with -inf; average pooling counts padding in the divisor, as "
        "PyTorch's default (count_include_pad=True) does."
    )
    examples = (
        "pool --mode max -i 5 -k 3 -o max_pool.gif",
        "pool --mode avg -i 5 -k 3 --values --view flat -o avg_pool.gif",
        "pool --mode max -i 6 -k 2 -s 2 --values --input-values x.csv -o pool.png",
        "pool --dims 1 --mode max -i 8 -k 2 -s 2 -o max_pool1d.gif",
        "pool --mode max -i 4,4,4 -k 2 -s 2 --values --view flat -o max_pool3d.gif",
        "pool -i 4 -k 2 -s 2 --info",
    )
    params = (MODE, *GEOMETRY_3D, DIMS_3D, *DRAWING, *OUTPUT, *VALUES)

    def model(self, figure: Figure) -> ConvSpec:
        from convanim.values import pool_spec_check

        spec = super().model(figure)
        pool_spec_check(spec, figure.options["mode"])
        return spec

    def op(self, options: Mapping[str, Any]) -> str:
        return str(options["mode"])

    def title(self, figure: Figure, spec: ConvSpec) -> tuple[str, str]:
        mode = figure.options["mode"]
        return ("Max pooling" if mode == "max" else "Average pooling"), "window"

    def layer_name(self, figure: Figure, spec: ConvSpec) -> str:
        mode = figure.options["mode"]
        return f"{'MaxPool' if mode == 'max' else 'AvgPool'}{getattr(spec, 'dims', 2)}d"


KIND = Pool()
