"""The command line: a thin layer that parses options, calls the library and maps its errors.

Heavy imports (numpy, matplotlib) happen inside commands, so that ``convanim --help`` is quick.
Every user mistake ends as one line on stderr and exit status 2; nothing is written.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from convanim import __version__

F = TypeVar("F", bound=Callable[..., Any])

# Parameters whose option is not simply "--" + the figure key (see convanim.figures).
OPTION_NAMES = {
    "input_size": "--input",
    "kernel_size": "--kernel",
    "output_size": "--input/--kernel/--padding/--dilation",
    "layers": "-k/--kernel, -s/--stride, -d/--dilation, -p/--padding",
    "op": "--mode",
}


class OneLineErrors(click.Group):
    """A group whose usage errors are one line, ``Error: ...``, with Click's exit codes."""

    def main(  # type: ignore[override]
        self, args: Sequence[str] | None = None, prog_name: str | None = None, **extra: Any
    ) -> NoReturn:
        extra.pop("standalone_mode", None)
        try:
            result = super().main(args, prog_name, standalone_mode=False, **extra)
        except click.ClickException as error:
            no_args = getattr(click.exceptions, "NoArgsIsHelpError", ())
            if isinstance(error, no_args) and isinstance(error, click.UsageError) and error.ctx:
                click.echo(error.ctx.get_help())  # Click >= 8.2: no arguments means help
                sys.exit(0)
            click.echo(f"Error: {error.format_message()}", err=True)
            sys.exit(error.exit_code)
        except click.Abort:
            click.echo("Aborted!", err=True)
            sys.exit(1)
        sys.exit(result if isinstance(result, int) else 0)


def fail(error: ValueError) -> NoReturn:
    """A library error as a usage error naming the option (exit status 2)."""
    param = getattr(error, "param", None) or ""
    detail = getattr(error, "detail", str(error))
    from convanim.figures import option_name

    option = OPTION_NAMES.get(param) or "/".join(
        f"--{key}" for key in option_name(param).split("/")
    )
    raise click.UsageError(f"{option}: {detail}")


class SizeType(click.ParamType):
    """``5`` or ``5,7`` (rows,cols), parsed as manifests parse it (convanim.figures)."""

    name = "size"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        from convanim.figures import parse_size
        from convanim.geometry import ConvSpecError

        try:
            return parse_size(self.name, value)
        except ConvSpecError as error:
            self.fail(error.detail, param, ctx)


class PaddingType(SizeType):
    """``1``, ``1,2`` (rows,cols), ``0,1,0,1`` (top,bottom,left,right) or a mode name."""

    name = "padding"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        from convanim.figures import parse_padding
        from convanim.geometry import ConvSpecError

        try:
            return parse_padding(self.name, value)
        except ConvSpecError as error:
            self.fail(error.detail, param, ctx)


SIZE, PADDING = SizeType(), PaddingType()


def spec_options(command: F, transposed: bool = True) -> F:
    """The convolution's parameters, shared by ``conv``, ``pool`` and ``info``."""
    decorators = [
        click.option(
            "-i",
            "--input",
            "input_size",
            type=SIZE,
            required=True,
            help="Input size: 5, or rows,cols like 5,7.",
        ),
        click.option(
            "-k",
            "--kernel",
            "kernel_size",
            type=SIZE,
            default=3,
            show_default=True,
            help="Kernel size: 3, or rows,cols.",
        ),
        click.option(
            "-s",
            "--stride",
            type=SIZE,
            default=1,
            show_default=True,
            help="Stride: 2, or rows,cols.",
        ),
        click.option(
            "-p",
            "--padding",
            type=PADDING,
            default="0",
            show_default=True,
            help="Padding: 1, rows,cols, top,bottom,left,right, or valid|same|full.",
        ),
        click.option(
            "-d",
            "--dilation",
            type=SIZE,
            default=1,
            show_default=True,
            help="Dilation: 2, or rows,cols.",
        ),
    ]
    if transposed:
        decorators += [
            click.option(
                "--transposed",
                is_flag=True,
                help="A transposed convolution (PyTorch's ConvTranspose2d).",
            ),
            click.option(
                "--output-padding",
                type=SIZE,
                default=0,
                show_default=True,
                help="Extra output rows/cols of a transposed convolution.",
            ),
        ]
    for decorator in reversed(decorators):
        command = decorator(command)
    return command


def pool_options(command: F) -> F:
    return spec_options(command, transposed=False)


def output_options(command: F) -> F:
    """Where and how to draw, shared by ``conv`` and ``pool``."""
    decorators = [
        click.option(
            "-o",
            "--output",
            type=click.Path(dir_okay=False),
            required=True,
            help="File to write: .gif (animation) or .png (strip of all frames).",
        ),
        click.option(
            "--view",
            type=click.Choice(["oblique", "flat"]),
            default="oblique",
            show_default=True,
            help="oblique: conv_arithmetic's look; flat: side by side.",
        ),
        click.option(
            "--theme",
            type=click.Choice(["solarized", "dark"]),
            default="solarized",
            show_default=True,
            help="Colours; dark is for dark pages.",
        ),
        click.option(
            "--labels/--no-labels",
            default=False,
            show_default=True,
            help="Write 'input' and 'output' beside the grids.",
        ),
        click.option(
            "--scale",
            type=float,
            default=1.0,
            show_default=True,
            help="Pixel size multiplier (0.1 to 10).",
        ),
        click.option(
            "--frame-ms",
            type=int,
            default=1000,
            show_default=True,
            help="Milliseconds per GIF frame (a multiple of 10).",
        ),
        click.option(
            "--columns",
            type=int,
            default=None,
            help="Frames per row of a .png strip [default: output columns].",
        ),
        click.option(
            "--frame",
            type=int,
            default=None,
            help="Write only this frame (0-based, row-major) as a .png.",
        ),
        click.option(
            "--max-frames",
            type=int,
            default=1024,
            show_default=True,
            help="Refuse animations with more frames than this.",
        ),
        click.option(
            "--values",
            "show_values",
            is_flag=True,
            help="Show the numbers: cell values, kernel weights, outputs and their sums.",
        ),
        click.option(
            "--seed",
            type=int,
            default=0,
            show_default=True,
            help="Seed of the small random integers --values shows.",
        ),
        click.option(
            "--input-values",
            type=click.Path(dir_okay=False),
            default=None,
            help="Input values from a .npy, .csv or .txt file (implies --values).",
        ),
    ]
    for decorator in reversed(decorators):
        command = decorator(command)
    return command


@click.group(cls=OneLineErrors, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="convanim")
def main() -> None:
    """Convolution arithmetic animations, from the parameters in your model.

    Parameters mean what they mean in PyTorch's Conv2d and ConvTranspose2d.

    \b
    Examples:
      convanim conv -i 5 -k 3 -s 2 -p 1 -o padding_strides.gif
      convanim conv -i 3 -k 3 -s 2 -p 1 --transposed --output-padding 1 -o up.gif
      convanim conv -i 5,7 -k 3 -d 2 --view flat -o dilated.png
      convanim conv -i 5 -k 3 --values --view flat -o numbers.gif
      convanim pool --mode max -i 4 -k 2 -s 2 --values -o max_pool.gif
      convanim rf -k 3 -d 1,2,4 -o receptive_field.png
      convanim info -i 32 -k 3 -s 2 -p same
      convanim build docs/figures.toml --check
      convanim gallery gallery/
    """


@main.command()
@spec_options
@output_options
@click.option(
    "--kernel-values",
    type=click.Path(dir_okay=False),
    default=None,
    help="Kernel weights from a .npy, .csv or .txt file (implies --values).",
)
def conv(**params: Any) -> None:
    """Animate a convolution: a GIF, a PNG strip of every frame, or one frame.

    \b
    Examples:
      convanim conv -i 5 -k 3 -o no_padding.gif
      convanim conv -i 5 -k 3 -s 2 -p 1 -o padding_strides.gif
      convanim conv -i 7 -k 3 -d 2 -o dilation.gif
      convanim conv -i 2 -k 3 -s 2 --transposed --labels -o transposed.gif
      convanim conv -i 5,7 -k 3 -p same --view flat -o strip.png --columns 7
      convanim conv -i 5 -k 3 -o frame.png --frame 4
      convanim conv -i 5 -k 3 --values --view flat --seed 1 -o numbers.gif
    """
    run_figure("conv", params)


@main.command()
@pool_options
@click.option(
    "--mode",
    type=click.Choice(["max", "avg"]),
    default="max",
    show_default=True,
    help="Max or average pooling (PyTorch's max_pool2d / avg_pool2d).",
)
@output_options
def pool(mode: str, **params: Any) -> None:
    """Animate max or average pooling, with PyTorch's semantics.

    Max pooling pads with -inf; average pooling counts padding in the divisor, as PyTorch's
    default (count_include_pad=True) does.

    \b
    Examples:
      convanim pool --mode max -i 5 -k 3 -o max_pool.gif
      convanim pool --mode avg -i 5 -k 3 --values --view flat -o avg_pool.gif
      convanim pool --mode max -i 6 -k 2 -s 2 --values --input-values x.csv -o pool.png
    """
    run_figure("pool", {**params, "mode": mode})


# Click's parameter names to figure description keys (convanim.figures.KEYS).
FIGURE_KEYS = {
    "input_size": "input",
    "kernel_size": "kernel",
    "output_padding": "output-padding",
    "frame_ms": "frame-ms",
    "max_frames": "max-frames",
    "show_values": "values",
    "input_values": "input-values",
    "kernel_values": "kernel-values",
}


def make_figure(kind: str, params: dict[str, Any], limits: bool = True) -> Any:
    """The command's options as a validated figure; a mistake exits 2, naming the option."""
    from convanim.figures import KEYS, FigureError, parse_figure

    description = {"kind": kind}
    for name, value in params.items():
        key = FIGURE_KEYS.get(name, name.replace("_", "-"))
        if key in KEYS[kind] and value is not None:
            description[key] = value
    try:
        return parse_figure(kind, description, limits=limits)
    except FigureError as error:
        fail(error)


def run_figure(kind: str, params: dict[str, Any]) -> None:
    """Check everything, then render the figure to ``--output``; errors exit 2 with no file."""
    from convanim.geometry import ConvSpecError

    figure = make_figure(kind, params)
    try:
        figure.render(params["output"], stamp=False)
    except ConvSpecError as error:
        fail(error)
    except OSError as error:
        raise click.ClickException(f"cannot write {params['output']}: {error.strerror}") from None
    click.echo(f"wrote {params['output']}", err=True)


@main.command()
@spec_options
@click.option("--json", "as_json", is_flag=True, help="Print JSON, for scripts.")
def info(as_json: bool, **params: Any) -> None:
    """Print the output size, the formula with the numbers filled in, and the frame count.

    Nothing is rendered.

    \b
    Examples:
      convanim info -i 5 -k 3 -s 2 -p 1
      convanim info -i 3 -k 3 -s 2 -p 1 --transposed --output-padding 1 --json
    """
    figure = make_figure("conv", params, limits=False)
    spec = figure.spec
    (top, bottom), (left, right) = spec.pads
    rows_formula, cols_formula = spec.formula()
    facts = {
        "layer": "ConvTranspose2d" if spec.transposed else "Conv2d",
        "input_size": list(spec.input_size),
        "kernel_size": list(spec.kernel_size),
        "stride": list(spec.stride),
        "padding": [[top, bottom], [left, right]],
        "padding_mode": spec.padding if isinstance(spec.padding, str) else None,
        "dilation": list(spec.dilation),
        "transposed": spec.transposed,
        "output_padding": list(spec.output_padding),
        "output_size": list(spec.output_size),
        "frames": spec.frame_count,
        "drawn_size": list(spec.drawn_size),
        "formula": {"rows": rows_formula, "cols": cols_formula},
        "alt_text": figure.alt_text(),
    }
    if as_json:
        click.echo(json.dumps(facts, indent=2))
        return

    def size(pair: Sequence[int]) -> str:
        return f"{pair[0]}x{pair[1]}"

    mode = f" ({spec.padding})" if isinstance(spec.padding, str) else ""
    lines = [
        f"{facts['layer']}: input {size(spec.input_size)}, kernel {size(spec.kernel_size)}, "
        f"stride {size(spec.stride)}, padding top {top} bottom {bottom} left {left} "
        f"right {right}{mode}, dilation {size(spec.dilation)}"
        + (f", output_padding {size(spec.output_padding)}" if spec.transposed else ""),
        f"output: {size(spec.output_size)}",
        f"  rows: {rows_formula}",
        f"  cols: {cols_formula}",
        f"frames: {spec.frame_count}",
        f"drawn grid: {size(spec.drawn_size)}",
        f"alt text: {facts['alt_text']}",
    ]
    click.echo("\n".join(lines))


class LayerListType(click.ParamType):
    """One value per layer, comma-separated: ``3`` (every layer) or ``1,2,4``."""

    name = "list"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if not isinstance(value, str):
            return value
        try:
            return [int(part) for part in value.split(",")]
        except ValueError:
            self.fail(f"got '{value}'; expected integers, one per layer, like 1,2,4", param, ctx)


class LayerPaddingType(click.ParamType):
    """Padding per layer: ``1,0,2``, or one of valid|same|full|causal for every layer."""

    name = "list"
    modes = ("valid", "same", "full", "causal")

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if not isinstance(value, str):
            return value
        parts = value.split(",")
        if all(part in self.modes for part in parts):
            return parts
        try:
            return [int(part) for part in parts]
        except ValueError:
            self.fail(
                f"got '{value}'; expected integers per layer like 1,2,4, or one of "
                "valid|same|full|causal (per layer, comma-separated)",
                param,
                ctx,
            )


LAYER_LIST, LAYER_PADDING = LayerListType(), LayerPaddingType()


def describe_layers(
    layers: list[dict[str, Any]], stats: Sequence[Any], dims: int
) -> list[dict[str, Any]]:
    """The per-layer table of ``rf --info``: JSON-ready."""

    def plain(value: Any) -> Any:
        if isinstance(value, tuple):
            return [plain(v) for v in value]
        if hasattr(value, "denominator"):
            return int(value) if value.denominator == 1 else str(value)
        return value

    rows = []
    for layer, entry in zip(layers, stats, strict=True):
        rows.append(
            {
                "layer": entry.layer,
                "kernel": layer["kernel_size"],
                "stride": layer["stride"],
                "padding": layer["padding"],
                "dilation": layer["dilation"],
                "params": entry.params,
                "field": plain(entry.size),
                "effective_stride": plain(entry.stride),
                "start": plain(entry.start),
                "method": entry.method,
            }
        )
    return rows


@main.command()
@click.option(
    "-k",
    "--kernel",
    type=LAYER_LIST,
    default="3",
    show_default=True,
    help="Kernel size per layer: 3, or 3,3,5.",
)
@click.option(
    "-s",
    "--stride",
    type=LAYER_LIST,
    default="1",
    show_default=True,
    help="Stride per layer: 1, or 2,1,1.",
)
@click.option(
    "-d",
    "--dilation",
    type=LAYER_LIST,
    default="1",
    show_default=True,
    help="Dilation per layer: 1,2,4.",
)
@click.option(
    "-p",
    "--padding",
    type=LAYER_PADDING,
    default=None,
    help="Padding per layer: 1,2,4, or valid|same|full|causal [default: same].",
)
@click.option("--causal", is_flag=True, help="Pad dilation*(kernel-1) before the input only.")
@click.option(
    "--dims",
    type=click.Choice(["1", "2"]),
    default="2",
    show_default=True,
    help="2: grids; 1: sequences (the WaveNet picture).",
)
@click.option(
    "-i",
    "--input",
    "input_size",
    type=int,
    default=None,
    help="Input size per side [default: just large enough for the last field].",
)
@click.option(
    "--unit",
    type=int,
    default=None,
    help="1-D: the output unit whose tree a PNG shows (0-based) [default: the last].",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    default=None,
    help="File to write: .png (strip or one frame) or .gif (growth, or the walk along the output).",
)
@click.option(
    "--theme",
    type=click.Choice(["solarized", "dark"]),
    default="solarized",
    show_default=True,
    help="Colours; dark is for dark pages.",
)
@click.option("--scale", type=float, default=1.0, show_default=True, help="Pixel size multiplier.")
@click.option(
    "--frame-ms",
    type=int,
    default=1000,
    show_default=True,
    help="Milliseconds per GIF frame (a multiple of 10).",
)
@click.option("--info", "show_info", is_flag=True, help="Print the per-layer table.")
@click.option("--json", "as_json", is_flag=True, help="Print the per-layer table as JSON.")
def rf(**params: Any) -> None:
    """Draw how stacked (dilated) convolutions grow the receptive field.

    Each option takes one value per layer (comma-separated) or one value for every layer.

    \b
    Examples:
      convanim rf -k 3 -d 1,2,4 -o dilated.png
      convanim rf -k 3 -d 1,2,4 -o dilated.gif
      convanim rf --dims 1 -k 2 -d 1,2,4,8 --causal -o wavenet.gif
      convanim rf -k 7,3 -s 2,2 -p 3,1 --info
      convanim rf --dims 1 -k 2 -d 1,2,4,8 --causal --json
    """
    from convanim.geometry import ConvSpecError
    from convanim.receptive import receptive_field_stats

    if params["output"] is None and not (params["show_info"] or params["as_json"]):
        raise click.UsageError("--output: missing; give a .png or .gif file, or --info/--json")
    figure = make_figure("rf", params)
    dims, input_size = figure.options["dims"], figure.options["input"]
    layers = figure.layers
    try:
        if params["show_info"] or params["as_json"]:
            size = tuple(input_size) if isinstance(input_size, list) else input_size
            stats = receptive_field_stats(layers, size, dims=dims)
            rows = describe_layers(layers, stats, dims)
            if params["as_json"]:
                report = {"dims": dims, "input_size": input_size, "layers": rows}
                click.echo(json.dumps(report, indent=2))
            else:
                click.echo(info_table(rows))
        if params["output"] is not None:
            figure.render(params["output"], stamp=False)
            click.echo(f"wrote {params['output']}", err=True)
    except ConvSpecError as error:
        fail(error)
    except OSError as error:
        raise click.ClickException(f"cannot write {params['output']}: {error.strerror}") from None


def info_table(rows: list[dict[str, Any]]) -> str:
    """Rows of dicts as an aligned text table."""

    def cell(value: Any) -> str:
        if isinstance(value, list):
            return (
                "x".join(str(v) for v in value) if len(set(map(str, value))) > 1 else str(value[0])
            )
        return str(value)

    keys = [
        "layer",
        "kernel",
        "stride",
        "padding",
        "dilation",
        "params",
        "field",
        "effective_stride",
        "start",
    ]
    cells = [[cell(row[key]) for key in keys] for row in rows]
    widths = [max(len(key), *(len(c[i]) for c in cells)) for i, key in enumerate(keys)]
    lines = ["  ".join(key.ljust(w) for key, w in zip(keys, widths, strict=True)).rstrip()]
    lines += [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells
    ]
    if any(row["method"] != "closed form" for row in rows):
        lines.append("(rows below a transposed layer are derived from the exact cells)")
    return "\n".join(lines)


@main.command()
@click.argument("manifest", type=click.Path(dir_okay=False))
@click.option(
    "--check", is_flag=True, help="Write nothing; exit 1 if a figure is stale or missing."
)
@click.option(
    "-j",
    "--jobs",
    type=click.IntRange(min=1),
    default=None,
    help="Figures rendered at once, in separate processes [default: the number of cores].",
)
@click.option("--force", is_flag=True, help="Render every figure, current or not.")
def build(manifest: str, check: bool, jobs: int | None, force: bool) -> None:
    """Render the figures a TOML manifest describes, only those that changed.

    One table per figure: its output file (relative to the manifest) and the options of
    conv, pool or rf, spelt as their long options. Each file carries a fingerprint of its
    description, so an unchanged figure is skipped, and --check tells CI whether the
    committed figures are current.

    \b
    Examples:
      convanim build examples/figures.toml
      convanim build examples/figures.toml --check
      convanim build docs/figures.toml --jobs 2

    \b
    A manifest:
      [padding_strides]
      output = "images/padding_strides.gif"
      kind = "conv"
      input = 5
      kernel = 3
      stride = 2
      padding = 1
    """
    from convanim.build import ManifestError, load_manifest
    from convanim.build import build as run_build
    from convanim.workers import start_workers

    # Workers start before the manifest is read, and load matplotlib meanwhile.
    pool = None if check else start_workers(jobs)
    try:
        entries = load_manifest(manifest)
    except ManifestError as error:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
        raise click.UsageError(str(error)) from None
    report = run_build(entries, jobs=jobs, check=check, force=force, pool=pool)
    finish(report, check)


def finish(report: Any, check: bool) -> None:
    """Print a build's outcome; exit 1 if anything failed or (with --check) is stale."""
    for name, reason in report.failed.items():
        click.echo(f"failed: {name}: {reason}", err=True)
    if check:
        for name in report.stale:
            click.echo(f"stale or missing: {name}", err=True)
        counts = (len(report.skipped), len(report.stale), len(report.failed))
        click.echo("{} current, {} stale or missing, {} invalid".format(*counts), err=True)
        if report.stale or report.failed:
            sys.exit(1)
        return
    click.echo(report.summary(), err=True)
    if report.failed:
        sys.exit(1)


@main.command()
@click.argument("out_dir", type=click.Path(file_okay=False))
@click.option(
    "-j",
    "--jobs",
    type=click.IntRange(min=1),
    default=None,
    help="Figures rendered at once [default: the number of cores].",
)
def gallery(out_dir: str, jobs: int | None) -> None:
    """Write conv_arithmetic's figures under their published names, and an index.md.

    The 15 animations (no_padding_no_strides.gif, ...), the four numerical figures, the
    dilated receptive-field figure and a WaveNet-style causal stack.

    \b
    Examples:
      convanim gallery gallery/
      convanim gallery docs/_static/conv --jobs 2
    """
    from convanim.build import build as run_build
    from convanim.gallery import gallery_entries, gallery_index
    from convanim.workers import start_workers
    from convanim.writers import atomic_output

    pool = start_workers(jobs)  # they load matplotlib while the figures are checked

    folder = Path(out_dir)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
        raise click.UsageError(f"OUT_DIR: cannot create '{out_dir}': {error.strerror}") from None
    entries = gallery_entries(folder)
    report = run_build(entries, jobs=jobs, pool=pool)
    with atomic_output(folder / "index.md") as stream:
        stream.write(gallery_index(entries).encode())
    finish(report, check=False)
