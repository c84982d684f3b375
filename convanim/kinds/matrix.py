"""The ``matrix`` kind: a convolution as multiplication by a sparse matrix C, and a transposed
convolution as multiplication by Cᵀ (Dumoulin & Visin, section 4), for the user's parameters.

Frame i follows output cell i: its row of the matrix, the input cells it reads, the products.
The geometry, values and output options are the ``conv`` kind's; the matrix is flat, so there
is no ``view``; it is readable up to 36 input and 36 output cells (a 6×6 grid).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from convanim.errors import ParameterError
from convanim.kinds.conv import DIMS, GEOMETRY, KERNEL_VALUES, TRANSPOSED, Conv
from convanim.params import DRAWING, OUTPUT, VALUES, Param

if TYPE_CHECKING:
    from convanim.animate import Output, Request
    from convanim.figures import Figure
    from convanim.geometry import ConvSpec
    from convanim.kinds import Poster

__all__ = ["KIND", "MAX_CELLS", "Matrix", "check_cells", "output_for", "pick"]

TIMES = "\u00d7"
MAX_CELLS = 36  # input and output cells: C is at most 36x36, a 6x6 grid each side


def pick(group: Sequence[Param], key: str, **changes: Any) -> Param:
    """A parameter of a shared group, with its help (say) changed for this kind."""
    param = next(p for p in group if p.key == key)
    return dataclasses.replace(param, **changes) if changes else param


def _shape(size: Sequence[int]) -> str:
    return TIMES.join(str(v) for v in size)


def _x(size: Sequence[int]) -> str:
    return "x".join(str(v) for v in size)


def check_cells(spec: ConvSpec[Any, Any], limit: int, what: str) -> None:
    """Refuse an input or output of more than ``limit`` cells, naming ``input``."""
    for name, size in (("input", spec.input_size), ("output", spec.output_size)):
        cells = 1
        for n in size:
            cells *= n
        if cells > limit:
            shown = f"length {size[0]}" if len(size) == 1 else _x(size)
            verb = "is" if name == "input" else "would be"
            raise ParameterError(
                "input_size",
                f"the {name} {verb} {shown}, {cells} cells, over the limit of {limit} "
                f"({what}); use a smaller input",
            )


class Matrix(Conv):
    """The convolution and its matrix, side by side; ``--transposed`` draws Cᵀ."""

    name = "matrix"
    summary = "Draw a convolution as a matrix multiplication: y = C x (transposed: y = Cᵀ x)."
    description = (
        "The input grid and its unrolled vector x, the sparse matrix C (kernel weights in its "
        "non-zero cells), y and the output grid; each frame follows one output cell, its row "
        "of C and the inputs it reads. --transposed draws Cᵀ: the transpose of the matrix of "
        "the direct convolution whose input is the transposed one's output. At most 36 input "
        "and 36 output cells (a 6x6 grid)."
    )
    examples: Sequence[str] = (
        "matrix -i 4 -k 3 -o matrix.gif",
        "matrix -i 2 -k 3 --transposed -o matrix_transposed.gif",
        "matrix -i 4 -k 3 --values --seed 1 -o numbers.png --frame 1",
        "matrix --dims 1 -i 8 -k 3 -s 2 -p 1 -o matrix1d.gif",
        "matrix -i 4 -k 3 --info",
    )
    params: Sequence[Param] = (
        *GEOMETRY,
        *TRANSPOSED,
        DIMS,
        pick(DRAWING, "theme"),
        pick(DRAWING, "labels", help="Write 'input' and 'output' under the grids."),
        pick(DRAWING, "scale"),
        pick(OUTPUT, "frame-ms"),
        *(pick(OUTPUT, key) for key in ("columns", "frame", "poster", "poster-cell")),
        *VALUES,
        KERNEL_VALUES,
    )

    # -- checks -----------------------------------------------------------------------------

    def check(self, figure: Figure, limits: bool) -> None:
        spec = self.model(figure)
        if not limits:
            return
        check_cells(spec, MAX_CELLS, "a readable matrix: a 6x6 grid")
        o = figure.options
        still = o["frame"] is not None or o["columns"] is not None
        if o["poster"]:
            self.check_target(figure, ".png")
        else:
            self._request(figure, output_for(figure, Path("figure.png" if still else "figure.gif")))
        from convanim.options import RenderOptions

        RenderOptions(theme=o["theme"], labels=o["labels"], scale=o["scale"])
        self.numbers(figure)

    def check_output(self, figure: Figure, suffix: str) -> None:
        self._request(figure, output_for(figure, Path(f"figure{suffix}")))

    def _request(self, figure: Figure, output: Output) -> Request:
        from convanim.animate import check_request

        spec = self.model(figure)
        check_cells(spec, MAX_CELLS, "a readable matrix: a 6x6 grid")
        cols = spec.as_2d().output_size[1]
        note = (
            "frame j: output cell j"
            if spec.dims == 1
            else f"the frame of output cell (row, col) is row * {cols} + col"
        )
        return check_request(
            output,
            spec.frame_count,
            cols,
            frame_note=note,
            strip_advice="write a .gif, one --frame, or use a smaller --scale",
        )

    def numbers(self, figure: Figure) -> tuple[Any, Any] | None:
        """(x, weight) to show, or None: the figure shows symbols."""
        worked = self.worked(figure)
        if worked is None:
            return None
        from convanim.values import random_values

        o = figure.options
        spec = self.model(figure)
        x: Any
        weight: Any
        x, weight = random_values(spec, o["seed"])
        if o["input-values"] is not None:
            x = _given(figure, "input-values", "input_values", spec.input_size)
        if o["kernel-values"] is not None:
            weight = _given(figure, "kernel-values", "kernel_values", spec.kernel_size)
        return x, weight

    # -- drawing ----------------------------------------------------------------------------

    def save(self, figure: Figure, output: Output) -> Path:
        from convanim.animate import save_drawing
        from convanim.matrix_render import MatrixFigure
        from convanim.options import RenderOptions

        o = figure.options
        request = self._request(figure, output)
        options = RenderOptions(theme=o["theme"], labels=o["labels"], scale=o["scale"])
        numbers = self.numbers(figure)
        x, weight = numbers if numbers is not None else (None, None)
        spec = self.model(figure)
        return save_drawing(lambda: MatrixFigure(spec, options, x, weight), request)

    def poster(self, figure: Figure) -> Poster:
        """The frame of the poster cell (default: the middle output cell): every input, weight
        and output is written in every frame, and this one shows the cell's row of the matrix
        and the inputs it reads."""
        from convanim.kinds import Poster
        from convanim.kinds.conv import cell_words, poster_cell, row_major
        from convanim.options import RenderOptions

        spec, o = self.model(figure), figure.options
        check_cells(spec, MAX_CELLS, "a readable matrix: a 6x6 grid")
        cell = poster_cell(tuple(spec.output_size), o["poster-cell"])
        options = RenderOptions(theme=o["theme"], labels=o["labels"], scale=o["scale"])

        def drawing() -> Any:
            from convanim.matrix_render import MatrixFigure

            numbers = self.numbers(figure)
            x, weight = numbers if numbers is not None else (None, None)
            return MatrixFigure(spec, options, x, weight)

        name = "Cᵀ" if spec.transposed else "C"
        words = f"every output, and the row of {name} and the inputs of {cell_words(cell)}"
        return Poster(drawing, row_major(cell, tuple(spec.output_size)), words)

    def brief(self, figure: Figure) -> str:
        spec = self.model(figure)
        (rows, cols), _ = self._matrix(spec)
        name = "Cᵀ" if spec.transposed else "C"
        return f"{name} {rows}x{cols}, {spec.frame_count} frames"

    def cost(self, figure: Figure, animated: bool) -> float:
        frames = self.model(figure).frame_count if figure.options["frame"] is None else 1
        return 10.0 + 2.0 * frames

    # -- words ------------------------------------------------------------------------------

    def _matrix(self, spec: ConvSpec[Any, Any]) -> tuple[tuple[int, int], int]:
        """The drawn matrix's (rows, cols), and its non-zeros."""
        from convanim.matrix import tap_inputs

        reached = tap_inputs(spec)
        rows = reached.shape[0]
        cols = 1
        for n in spec.input_size:
            cols *= n
        return (rows, cols), int((reached >= 0).sum())

    def alt_text(self, figure: Figure) -> str:
        from convanim.kinds.conv import _dims, layer_words

        spec = self.model(figure)
        (rows, cols), nonzero = self._matrix(spec)
        one_d = _dims(spec) == 1
        words = layer_words(spec, "Transposed convolution" if spec.transposed else "Convolution")
        name, shape, parts = words.name, words.shape, words.settings
        out = f"the {words.output} output"
        where = f" ({', '.join(parts)})"
        if spec.transposed:
            from convanim.matrix import transpose_pair

            direct = transpose_pair(spec)
            what = "a length" if one_d else "a"
            source = f"{what}-{direct.input_size[0]}" if one_d else f"a {_shape(direct.input_size)}"
            text = (
                f"{name} of {shape} as the {rows}{TIMES}{cols} matrix Cᵀ{where}, the transpose "
                f"of the {cols}{TIMES}{rows} matrix C of the convolution of {source} input: "
                f"one frame per cell of {out}, its row of Cᵀ (a column of C) highlighted"
            )
        else:
            text = (
                f"{name} of {shape} as a {rows}{TIMES}{cols} matrix C{where}: the input "
                f"unrolled into a vector of {cols}, C's {nonzero} non-zero weights, and one "
                f"frame per cell of {out}, its row of C highlighted"
            )
        if self.shows_values(figure.options):
            text += ", with the values of the input, the weights and the outputs"
        frame = figure.options["frame"]
        if frame is not None:
            if one_d:
                text += f" (the step for output cell {frame + 1})"
            else:
                row, col = divmod(frame, spec.output_size[1])
                text += f" (the step for output cell row {row + 1}, column {col + 1})"
        return text + "."

    def facts(self, figure: Figure) -> dict[str, Any]:
        spec = self.model(figure)
        facts = super().facts(figure)
        facts.pop("drawn_size", None)
        (rows, cols), nonzero = self._matrix(spec)
        facts["matrix"] = "Cᵀ" if spec.transposed else "C"
        facts["matrix_shape"] = [rows, cols]
        facts["c_shape"] = [cols, rows] if spec.transposed else [rows, cols]
        facts["nonzeros"] = nonzero
        if spec.transposed:
            from convanim.matrix import transpose_pair

            direct = transpose_pair(spec)
            facts["c_input_size"] = list(direct.input_size)
            facts["c_output_size"] = list(direct.output_size)
        facts["alt_text"] = self.alt_text(figure)
        return facts

    def info(self, figure: Figure) -> str:
        facts = self.facts(figure)
        lines = [line for line in super().info(figure).splitlines() if "drawn grid" not in line]
        rows, cols = facts["matrix_shape"]
        matrix = (
            f"matrix: C, {rows}x{cols} (a row per output cell, a column per input cell), "
            f"{facts['nonzeros']} non-zero"
        )
        if facts["matrix"] == "Cᵀ":
            matrix = (
                f"matrix: Cᵀ, {rows}x{cols}, the transpose of C ({cols}x{rows}, "
                f"{facts['nonzeros']} non-zero) of the convolution of a "
                f"{_x(facts['c_input_size'])} input to {_x(facts['c_output_size'])}"
            )
        lines.insert(-2, matrix)
        lines[-1] = f"alt text: {facts['alt_text']}"
        return "\n".join(lines)


def output_for(figure: Figure, path: Path) -> Output:
    """The figure's output options, to ``path`` (for checks before any file is named)."""
    from convanim.animate import Output

    o = figure.options
    output = Output(path, frame_ms=o["frame-ms"], columns=o.get("columns"), frame=o["frame"])
    if "max-frames" in o:
        output = dataclasses.replace(output, max_frames=o["max-frames"])
    return output


def _given(figure: Figure, key: str, param: str, shape: tuple[int, ...]) -> Any:
    from convanim.kinds.conv import _values

    return _values(figure, key, param, shape)


KIND = Matrix()
