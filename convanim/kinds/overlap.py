"""The ``overlap`` kind: how many kernel taps reach each output cell, as a heatmap.

A direct convolution's counts fall at the borders; a transposed one with a stride that does
not divide the kernel overlaps unevenly, the checkerboard of Odena, Dumoulin & Olah
("Deconvolution and Checkerboard Artifacts", Distill 2016). A .gif stamps the input cells onto
the output one at a time (one frame per input cell, then the final map); a .png, .svg or .pdf
is the final map, or with ``--frame N`` the map after input cell N's stamp.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from convanim.errors import ParameterError
from convanim.kinds.conv import DIMS, GEOMETRY, TRANSPOSED, Conv
from convanim.kinds.matrix import output_for, pick
from convanim.params import DRAWING, OUTPUT, Param

if TYPE_CHECKING:
    from convanim.animate import Output, Request
    from convanim.figures import Figure
    from convanim.geometry import ConvSpec
    from convanim.kinds import Poster

__all__ = ["KIND", "MAX_SIDE", "Overlap"]

TIMES = "\u00d7"
MAX_SIDE = 64  # cells per side of the input and of the output


def _x(size: Sequence[int]) -> str:
    return "x".join(str(v) for v in size)


def _shape(size: Sequence[int]) -> str:
    return TIMES.join(str(v) for v in size)


class Overlap(Conv):
    """Tap counts per output cell; a GIF stamps one input cell per frame."""

    name = "overlap"
    summary = "Draw how many kernel taps reach each output cell: the overlap heatmap."
    description = (
        "Direct convolutions count fewer taps at the borders; transposed ones with a stride "
        "that does not divide the kernel overlap unevenly (the checkerboard). A .gif stamps the "
        "input cells onto the output one at a time, then shows the final map; a .png, .svg or "
        ".pdf is the final map, or with --frame N the map after input cell N."
    )
    examples: Sequence[str] = (
        "overlap -i 4 -k 3 -s 2 --transposed -o checkerboard.gif",
        "overlap -i 4 -k 4 -s 2 -p 1 --transposed -o even.png",
        "overlap -i 6 -k 3 -p 1 -o borders.png",
        "overlap -i 4 -k 3 -s 2 --transposed --info",
    )
    params: Sequence[Param] = (
        *GEOMETRY,
        *TRANSPOSED,
        DIMS,
        pick(DRAWING, "theme"),
        pick(DRAWING, "labels", help="Write 'input' and 'output' under the grids."),
        pick(DRAWING, "scale"),
        pick(OUTPUT, "frame-ms"),
        pick(
            OUTPUT,
            "frame",
            help="Write the map after input cell N's stamp (0-based, row-major) as a .png, "
            ".svg or .pdf  [default: the final map].",
        ),
        pick(OUTPUT, "max-frames"),
        pick(
            OUTPUT,
            "poster",
            help="Write one still image of the whole animation (.png, .svg or .pdf): the final "
            "map, every stamp counted.",
        ),
    )

    def complete(self, options: dict[str, Any], given: frozenset[str]) -> None:
        """Nothing to refuse in combination: no values, no columns."""

    # -- checks -----------------------------------------------------------------------------

    def check(self, figure: Figure, limits: bool) -> None:
        spec = self.model(figure)
        if not limits:
            return
        self._check_size(spec)
        o = figure.options
        suffix = ".png" if o["frame"] is not None else ".gif"
        if o["poster"]:
            self.check_target(figure, ".png")
        else:
            self._request(figure, output_for(figure, Path(f"figure{suffix}")))
        from convanim.options import RenderOptions

        RenderOptions(theme=o["theme"], labels=o["labels"], scale=o["scale"])

    def _check_size(self, spec: ConvSpec[Any, Any]) -> None:
        for name, size in (("input", spec.input_size), ("output", spec.output_size)):
            if max(size) > MAX_SIDE:
                shown = f"length {size[0]}" if len(size) == 1 else _x(size)
                verb = "is" if name == "input" else "would be"
                per = "cells" if len(size) == 1 else "cells per side"
                raise ParameterError(
                    "input_size",
                    f"the {name} {verb} {shown}, over the limit of {MAX_SIDE} {per} for an "
                    "overlap map; use a smaller input",
                )

    def check_output(self, figure: Figure, suffix: str) -> None:
        self._request(figure, output_for(figure, Path(f"figure{suffix}")))

    def _request(self, figure: Figure, output: Output) -> Request:
        from convanim.animate import check_output, check_request

        spec = self.model(figure)
        self._check_size(spec)
        cells = 1
        for n in spec.input_size:
            cells *= n
        writer = check_output(output)
        advice = "use a smaller --scale or input"
        note = "frame i: the map after input cell i, row-major"
        if writer.animates or output.frame is not None:
            request = check_request(output, cells, cells, frame_note=note, strip_advice=advice)
            if writer.animates:  # the stamps, then the final map
                request = replace(request, indices=(*request.indices, cells))
            return request
        # A still without a frame: the final map, the drawing's last frame.
        return check_request(
            replace(output, frame=cells), cells + 1, 1, frame_note=note, strip_advice=advice
        )

    def still(self, figure: Figure) -> bool:
        return figure.options["frame"] is not None

    # -- drawing ----------------------------------------------------------------------------

    def save(self, figure: Figure, output: Output) -> Path:
        from convanim.animate import save_drawing
        from convanim.options import RenderOptions
        from convanim.overlap_render import OverlapMap

        o = figure.options
        request = self._request(figure, output)
        options = RenderOptions(theme=o["theme"], labels=o["labels"], scale=o["scale"])
        spec = self.model(figure)
        return save_drawing(lambda: OverlapMap(spec, options), request)

    def poster(self, figure: Figure) -> Poster:
        """The final map: every input cell's stamp counted (the animation's last frame)."""
        from convanim.kinds import Poster
        from convanim.options import RenderOptions

        spec, o = self.model(figure), figure.options
        self._check_size(spec)
        options = RenderOptions(theme=o["theme"], labels=o["labels"], scale=o["scale"])

        def drawing() -> Any:
            from convanim.overlap_render import OverlapMap

            return OverlapMap(spec, options)

        cells = 1
        for n in spec.input_size:
            cells *= n
        return Poster(drawing, cells, "the final map, after the stamps of all input cells")

    def brief(self, figure: Figure) -> str:
        spec = self.model(figure)
        counts = self._counts(spec)
        size = f"length {spec.output_size[0]}" if spec.dims == 1 else _x(spec.output_size)
        return f"{size} output, {int(counts.min())} to {int(counts.max())} taps"

    def cost(self, figure: Figure, animated: bool) -> float:
        cells = 1
        for n in self.model(figure).input_size:
            cells *= n
        return 10.0 + (cells if animated else 1)

    # -- words ------------------------------------------------------------------------------

    def _counts(self, spec: ConvSpec[Any, Any]) -> Any:
        from convanim.matrix import overlap

        return overlap(spec)

    def alt_text(self, figure: Figure) -> str:
        from convanim.kinds.conv import _dims, layer_words

        spec = self.model(figure)
        counts = self._counts(spec)
        low, high = int(counts.min()), int(counts.max())
        one_d = _dims(spec) == 1
        words = layer_words(spec, "transposed convolution" if spec.transposed else "convolution")
        name, shape, parts = words.name, words.shape, words.settings
        out = f"{words.output} output"
        counted = (
            f"every cell {high} taps" if low == high else f"from {low} to {high} taps per cell"
        )
        text = (
            f"Overlap map of a {name} of {shape} ({', '.join(parts)}): the {out} as a heatmap "
            f"of how many kernel taps reach each cell, {counted}"
        )
        frame = figure.options["frame"]
        if frame is not None:
            if one_d:
                where = f"input cell {frame + 1}"
            else:
                row, col = divmod(frame, spec.input_size[1])
                where = f"input cell row {row + 1}, column {col + 1}"
            text += f" (the counts after the stamp of {where})"
        return text + "."

    def facts(self, figure: Figure) -> dict[str, Any]:
        spec = self.model(figure)
        facts = super().facts(figure)
        for key in ("drawn_size", "frames"):
            facts.pop(key, None)
        counts = self._counts(spec)
        values, times = _histogram(counts)
        cells = 1
        for n in spec.input_size:
            cells *= n
        facts["counts"] = counts.tolist()
        facts["min_count"] = int(counts.min())
        facts["max_count"] = int(counts.max())
        facts["histogram"] = {str(v): t for v, t in zip(values, times, strict=True)}
        facts["stamps"] = cells
        facts["alt_text"] = self.alt_text(figure)
        return facts

    def info(self, figure: Figure) -> str:
        facts = self.facts(figure)
        lines = [
            line
            for line in super().info(figure).splitlines()
            if not line.startswith(("drawn grid", "frames", "alt text"))
        ]
        counts = facts["counts"]
        rows = counts if isinstance(counts[0], list) else [counts]
        width = len(str(facts["max_count"]))
        lines.append(f"taps per output cell: {facts['min_count']} to {facts['max_count']}")
        lines += ["  " + " ".join(str(v).rjust(width) for v in row) for row in rows]
        histogram = ", ".join(f"{v}: {t}" for v, t in facts["histogram"].items())
        lines.append(f"cells per count: {histogram}")
        lines.append(f"stamps (input cells): {facts['stamps']}")
        lines.append(f"alt text: {facts['alt_text']}")
        return "\n".join(lines)


def _histogram(counts: Any) -> tuple[list[int], list[int]]:
    import numpy as np

    values, times = np.unique(counts, return_counts=True)
    return [int(v) for v in values], [int(t) for t in times]


KIND = Overlap()
