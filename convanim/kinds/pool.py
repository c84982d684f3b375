"""The ``pool`` kind: max or average pooling, 1-D, 2-D or 3-D, as PyTorch's ``MaxPool1d/2d/3d``
and ``AvgPool1d/2d/3d`` define it (``count_include_pad=True``): the convolution's picture with a
window in place of the kernel."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from convanim.kinds.conv import DIMS_3D, GEOMETRY_3D, Conv
from convanim.params import DRAWING, OUTPUT, VALUES, Param, boolean, choice, integer

if TYPE_CHECKING:
    from convanim.figures import Figure
    from convanim.geometry import ConvSpec

__all__ = ["KIND", "POOL_OPTIONS", "Pool"]

MODE = Param(
    "mode",
    choice("max", "avg"),
    "max",
    "Max or average pooling (PyTorch's max_pool1d/2d/3d, avg_pool1d/2d/3d).",
    api="op",
    metavar="MODE",
)

# Added after the kind's first release: left out of fingerprints at their defaults.
POOL_OPTIONS = (
    Param(
        "ceil-mode",
        boolean,
        False,
        "Round the output size up (PyTorch's ceil_mode): a last window that starts inside the "
        "input or the left padding is kept, hanging past the edge.",
        flag=True,
        stamped_at_default=False,
    ),
    Param(
        "count-include-pad",
        boolean,
        True,
        "Average pooling: count padding cells in the divisor (--no-count-include-pad: only "
        "input cells).",
        flag=True,
        stamped_at_default=False,
    ),
    Param(
        "divisor-override",
        integer,
        None,
        "Average pooling: divide every window's sum by N instead (not 0).",
        metavar="N",
        stamped_at_default=False,
    ),
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
        "pool --mode max -i 6 -k 3 -s 2 -p 1 --ceil-mode --values -o ceil_mode.gif",
        "pool --mode avg -i 5 -k 3 -s 2 -p 1 --no-count-include-pad --values -o avg.png",
        "pool --mode max -i 4,4,4 -k 2 -s 2 --values --view flat -o max_pool3d.gif",
        "pool -i 4 -k 2 -s 2 --info",
    )
    params = (MODE, *GEOMETRY_3D, *POOL_OPTIONS, DIMS_3D, *DRAWING, *OUTPUT, *VALUES)

    def model(self, figure: Figure) -> ConvSpec:
        from convanim.values import pool_spec_check

        spec = super().model(figure)
        pool_spec_check(spec, figure.options["mode"], **self.value_options(figure.options))
        return spec

    def with_channels(
        self, options: Mapping[str, Any], in_channels: int, out_channels: int, groups: int
    ) -> dict[str, Any] | None:
        """None: pooling takes each channel alone, so one is drawn."""
        return None

    def op(self, options: Mapping[str, Any]) -> str:
        return str(options["mode"])

    def value_options(self, options: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "count_include_pad": options["count-include-pad"],
            "divisor_override": options["divisor-override"],
        }

    def settings(self, figure: Figure, spec: ConvSpec) -> list[str]:
        o = figure.options
        words = []
        if o["ceil-mode"]:
            words.append("ceil_mode")
        if not o["count-include-pad"]:
            words.append("padding not counted in the divisor")
        if o["divisor-override"] is not None:
            words.append(f"every sum divided by {o['divisor-override']}")
        return words

    def facts(self, figure: Figure) -> dict[str, Any]:
        facts = super().facts(figure)
        o = figure.options
        facts["ceil_mode"] = o["ceil-mode"]
        if o["mode"] == "avg":
            facts["count_include_pad"] = o["count-include-pad"]
            facts["divisor_override"] = o["divisor-override"]
        return facts

    def info(self, figure: Figure) -> str:
        lines = super().info(figure).splitlines()
        o = figure.options
        extra = []
        if o["ceil-mode"]:
            extra.append(
                "ceil_mode: the output size is rounded up, and a last window that would start "
                "in the right padding (at or past input + left padding) is dropped"
            )
        if o["mode"] == "avg":
            if o["divisor-override"] is not None:
                rule = f"{o['divisor-override']} for every window (divisor_override)"
            elif o["count-include-pad"]:
                rule = "the window's cells inside the padded input (count_include_pad)"
            else:
                rule = "the window's input cells only (count_include_pad=False)"
            extra.append(f"divisor: {rule}")
        at = next(i for i, line in enumerate(lines) if line.startswith("frames:"))
        return "\n".join([*lines[:at], *extra, *lines[at:]])

    def title(self, figure: Figure, spec: ConvSpec) -> tuple[str, str]:
        mode = figure.options["mode"]
        return ("Max pooling" if mode == "max" else "Average pooling"), "window"

    def layer_name(self, figure: Figure, spec: ConvSpec) -> str:
        mode = figure.options["mode"]
        return f"{'MaxPool' if mode == 'max' else 'AvgPool'}{getattr(spec, 'dims', 2)}d"


KIND = Pool()
