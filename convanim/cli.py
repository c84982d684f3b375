"""The command line: generated from the figure kinds' declarations, and the one place where the
library's errors become messages and exit codes.

Every kind in ``convanim.kinds`` is a command (``convanim conv``, ``pool``, ``rf``...) whose
options are its parameters, and ``convanim info KIND`` describes one without rendering. Values
go through ``parse_figure`` as text, exactly as a manifest's or a Sphinx directive's do, so
each option means the same and fails with the same words everywhere. Every user mistake ends as
one line on stderr, ``Error: --option: what was wrong; what would be valid``, exit status 2,
and nothing written.

Heavy imports (numpy, matplotlib) happen inside commands, so that ``convanim --help`` is quick.
"""

from __future__ import annotations

import contextlib
import json
import re
import signal
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, NoReturn, TextIO

import click

from convanim import __version__, kinds
from convanim.errors import ParameterError
from convanim.kinds import Kind
from convanim.params import Param

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
FORMATS = ".gif (animation), .png, .svg or .pdf (strip of every frame, or one frame)"


class OneLineErrors(click.Group):
    """A group whose errors are one line, ``Error: ...``, with Click's exit codes."""

    def main(  # type: ignore[override]
        self, args: Sequence[str] | None = None, prog_name: str | None = None, **extra: Any
    ) -> NoReturn:
        extra.pop("standalone_mode", None)
        try:
            with stop_on_signals():
                result = super().main(args, prog_name, standalone_mode=False, **extra)
        except Stopped as stopped:  # raised outside Click's own handling
            sys.exit(128 + stopped.signum)
        except click.ClickException as error:
            no_args = getattr(click.exceptions, "NoArgsIsHelpError", ())
            if isinstance(error, no_args) and isinstance(error, click.UsageError) and error.ctx:
                click.echo(error.ctx.get_help())  # Click >= 8.2: no arguments means help
                sys.exit(0)
            click.echo(f"Error: {one_line(error)}", err=True)
            sys.exit(error.exit_code)
        except click.Abort as abort:
            cause = abort.__cause__
            if isinstance(cause, Stopped) and cause.signum != signal.SIGINT:
                sys.exit(128 + cause.signum)  # SIGTERM or SIGHUP: quietly, as kill expects
            click.echo("Aborted!", err=True)
            sys.exit(130)  # Ctrl-C: 128 + SIGINT, as shells expect
        sys.exit(result if isinstance(result, int) else 0)


class Stopped(KeyboardInterrupt):
    """SIGTERM or SIGHUP, raised where the program is, so that every ``finally`` and every
    atomic write's cleanup runs (no temporary is left, no worker outlives the build)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


@contextlib.contextmanager
def stop_on_signals() -> Iterator[None]:
    """While a command runs, SIGTERM and SIGHUP stop it as Ctrl-C does (``Stopped``)."""

    def stop(signum: int, frame: Any) -> None:
        raise Stopped(signum)

    wanted = [getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name)]
    try:
        previous = {signum: signal.signal(signum, stop) for signum in wanted}
    except ValueError:  # not the main thread: leave signals alone
        previous = {}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def one_line(error: click.ClickException) -> str:
    """Click's own errors in the library's style: ``--option: what; what would be valid``."""
    if isinstance(error, click.NoSuchOption):
        close = sorted(error.possibilities or ())
        hint = f" (did you mean {close[0]}?)" if close else ""
        return f"{error.option_name}: no such option{hint}; see --help for the options"
    message = " ".join(error.format_message().split())
    if isinstance(error, click.BadOptionUsage) and "requires an argument" in message:
        return f"{error.option_name}: needs a value; see --help for what it takes"
    if isinstance(error, click.BadOptionUsage) and "does not take a value" in message:
        return f"{error.option_name}: takes no value (it is a flag: --name or --no-name)"
    if isinstance(error, click.BadOptionUsage):
        return f"{error.option_name}: {message}"
    extra = re.fullmatch(r"Got unexpected extra arguments? \((.*)\)", message)
    if extra:
        return (
            f"{extra.group(1)}: unexpected argument; options are written --name value (see --help)"
        )
    return message


def fail(error: ParameterError, kind: Kind | None = None) -> NoReturn:
    """A library error as a usage error naming the option (exit status 2)."""
    key = getattr(error, "param", "") or ""
    if kind is not None and not hasattr(error, "figure"):
        key = kind.key_for(key)
    option = "/".join(f"--{name}" for name in key.split("/"))
    raise click.UsageError(f"{option}: {error.detail}")


# -- commands generated from the kinds -------------------------------------------------------


def _option(param: Param, required: bool) -> click.Option:
    """A Click option for a parameter: text in, parsed by ``parse_figure`` like any front-end's.

    Click checks nothing itself (no types, no required options): every check, and so every
    message, is the declaration's.
    """
    names = [f"-{param.short}"] if param.short else []
    dest = param.key.replace("-", "_")
    text = param.help_text() + ("  [required]" if required else "")
    if param.flag:
        flags = [f"--{param.key}/--no-{param.key}", *names, dest]
        return click.Option(flags, default=None, help=text)  # None: not given
    choices = [str(choice) for choice in param.choices or ()]

    def complete(ctx: click.Context, option: click.Parameter, incomplete: str) -> list[str]:
        return [choice for choice in choices if choice.startswith(incomplete)]

    return click.Option(
        [*names, f"--{param.key}", dest],
        metavar=param.metavar,
        help=text,
        shell_complete=complete if choices else None,
    )


def _arguments(kind: Kind) -> list[click.Argument]:
    """The kind's positional parameters, as optional arguments (their options work too)."""
    return [
        click.Argument(
            [f"{param.key.replace('-', '_')}_argument"], required=False, metavar=param.metavar
        )
        for param in kind.params
        if param.positional
    ]


def _description(params: dict[str, Any]) -> dict[str, Any]:
    """The options the user gave, as a figure description (a positional argument under its
    option's key)."""
    given = {}
    for key, value in params.items():
        if value is None:
            continue
        if key.endswith("_argument"):
            key = key.removesuffix("_argument")
            if params.get(key) is not None:
                option = key.replace("_", "-")
                raise click.UsageError(
                    f"--{option}: given twice, as the first argument and as --{option}; give "
                    "it once"
                )
        given[key] = value
    return given


def figure_of(kind: Kind, given: dict[str, Any], limits: bool = True) -> Any:
    """The command's options as a validated figure; a mistake exits 2, naming the option."""
    from convanim.figures import parse_figure

    try:
        return parse_figure(kind.name, {"kind": kind.name, **given}, limits=limits)
    except ParameterError as error:
        fail(error)


QUIET = click.Option(
    ["-q", "--quiet", "quiet"], is_flag=True, help="Print nothing but errors (no progress)."
)


def kind_command(kind: Kind) -> click.Command:
    """``convanim KIND``: draw the figure into ``--output``, or describe it (``--info``)."""

    def callback(
        output: str | None,
        output_format: str | None,
        show_info: bool,
        as_json: bool,
        quiet: bool,
        **params: Any,
    ) -> None:
        given = _description(params)
        if output is None and not (show_info or as_json):
            raise click.UsageError(
                f"--output: missing; give a file to write ({FORMATS}), - for standard output, "
                "or --info or --json"
            )
        path = _target(output, output_format)
        figure = figure_of(kind, given, limits=output is not None)
        describe(figure, show_info, as_json)
        if path is not None:
            render(figure, path, to_stdout=output == "-", quiet=quiet)

    return click.Command(
        kind.name,
        callback=callback,
        params=[
            *_arguments(kind),
            *(_option(param, param.key in kind.required) for param in kind.params),
            click.Option(
                ["-o", "--output", "output"],
                metavar="FILE",
                help=f"File to write: {FORMATS}; - writes to standard output (with --format).",
            ),
            click.Option(
                ["--format", "output_format"],
                metavar="FORMAT",
                help="The format of -o -: gif, png, svg or pdf.",
            ),
            click.Option(["--info", "show_info"], is_flag=True, help="Print what info prints."),
            click.Option(
                ["--json", "as_json"], is_flag=True, help="Print it as JSON, for scripts."
            ),
            QUIET,
        ],
        help=kind.help(),
        short_help=kind.summary,
        context_settings=CONTEXT,
    )


def _target(output: str | None, output_format: str | None) -> str | None:
    """The path whose suffix names the format; for ``-o -``, one named by ``--format``."""
    from convanim.formats import SUFFIXES

    names = ", ".join(suffix.lstrip(".") for suffix in SUFFIXES)
    if output_format is not None:
        suffix = "." + output_format.strip().lower().lstrip(".")
        if suffix not in SUFFIXES:
            raise click.UsageError(f"--format: got '{output_format}'; expected one of {names}")
        if output is None:
            raise click.UsageError("--format: it names the format of -o -; give -o - too")
        if output != "-" and Path(output).suffix.lower() != suffix:
            raise click.UsageError(
                f"--format: got '{output_format}', but -o {output} names its own format; "
                "give --format only with -o -"
            )
        return f"standard-output{suffix}" if output == "-" else output
    if output == "-":
        raise click.UsageError(f"--format: missing; -o - writes to standard output in {names}")
    return output


def info_command(kind: Kind) -> click.Command:
    """``convanim info KIND``: the figure's numbers, nothing rendered."""

    def callback(as_json: bool, **params: Any) -> None:
        describe(figure_of(kind, _description(params), limits=False), not as_json, as_json)

    return click.Command(
        kind.name,
        callback=callback,
        params=[
            *_arguments(kind),
            *(_option(param, param.key in kind.required) for param in kind.params),
            click.Option(["--json", "as_json"], is_flag=True, help="Print JSON, for scripts."),
        ],
        help=f"Describe a {kind.name} figure without rendering it.\n\n\b\nExamples:\n"
        + "\n".join(f"  convanim info {line.split(' -o ')[0]}" for line in kind.examples[:3]),
        short_help=f"Describe a {kind.name} figure.",
        context_settings=CONTEXT,
    )


def describe(figure: Any, show_info: bool, as_json: bool) -> None:
    """Print ``info``'s text or JSON for a figure."""
    try:
        if as_json:
            click.echo(json.dumps(figure.facts(), indent=2))
        elif show_info:
            click.echo(figure.info())
    except ParameterError as error:
        fail(error, figure.declaration)


def render(figure: Any, output: str, to_stdout: bool = False, quiet: bool = False) -> None:
    """Render to ``output`` (or standard output); errors exit 2 (1 for the file system) with no
    file written. On a terminal, a progress line counts the frames."""
    import io

    live = not quiet and sys.stderr.isatty()

    def progress(done: int, total: int) -> None:
        if live and total > 1:
            click.echo(f"\r\x1b[Kdrawing frame {done}/{total}", nl=False, err=True)

    stream = io.BytesIO() if to_stdout else None
    try:
        if not to_stdout:
            figure.check_output(output)
        figure.render(output, stream=stream, progress=progress)
    except ParameterError as error:
        fail(error, figure.declaration)
    except OSError as error:
        raise click.ClickException(f"cannot write {output}: {error.strerror}") from None
    finally:
        if live:
            click.echo("\r\x1b[K", nl=False, err=True)
    if stream is not None:  # all or nothing: the bytes are written once complete
        sys.stdout.buffer.write(stream.getvalue())
        sys.stdout.buffer.flush()
        size = len(stream.getvalue())
    else:
        size = Path(output).stat().st_size
    if not quiet:
        where = "standard output" if to_stdout else output
        brief = figure.declaration.brief(figure)
        brief = f"poster of {brief}" if figure.poster else brief
        click.echo(f"wrote {where} ({brief}, {_bytes(size)})", err=True)


def _bytes(size: int) -> str:
    return (
        f"{size} bytes"
        if size < 1000
        else f"{size / 1000:.0f} KB"
        if size < 10**6
        else (f"{size / 10**6:.1f} MB")
    )


class Progress:
    """A build's progress: a bar on a terminal, one line per figure in logs (CI), or nothing
    (``quiet``). Failures are listed once, at the end (``finish``)."""

    def __init__(self, stream: TextIO, quiet: bool = False) -> None:
        self.stream, self.quiet, self.done = stream, quiet, 0
        self.live = stream.isatty()

    def __call__(self, total: int, name: str, seconds: float, error: str | None) -> None:
        self.done += 1
        if self.quiet:
            return
        if self.live:
            bar = "#" * (20 * self.done // total)
            end = "\r\x1b[K" if self.done == total else ""
            self.stream.write(f"\r\x1b[K[{bar:<20}] {self.done}/{total} {name}{end}")
        elif error is None:
            self.stream.write(f"rendered {name} ({seconds:.2f} s)\n")
        self.stream.flush()


class InfoGroup(click.Group):
    """``info KIND [OPTIONS]``; without a kind, ``conv`` (``convanim info -i 5 -k 3``)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        help_only = not args or args[0] in ("-h", "--help")
        if not help_only and args[0] not in self.commands:
            args = ["conv", *args]
        return super().parse_args(ctx, args)


# -- the group ---------------------------------------------------------------------------------


def _examples() -> str:
    lines = []
    for kind in kinds.kinds():
        lines += [f"  convanim {line}" for line in kind.examples[:3]]
    lines += [
        "  convanim info -i 32 -k 3 -s 2 -p same",
        "  convanim build docs/figures.toml --check",
        "  convanim gallery gallery/",
    ]
    return "\n".join(lines)


@click.group(cls=OneLineErrors, context_settings=CONTEXT)
@click.version_option(__version__, "-V", "--version", prog_name="convanim")
def main() -> None:
    """Convolution arithmetic animations, from the parameters in your model."""


main.help = (
    "Convolution arithmetic animations and receptive-field diagrams, from the parameters in "
    "your model.\n\nParameters mean what they mean in PyTorch's Conv1d/2d/3d, "
    "ConvTranspose1d/2d/3d and the pooling layers; `convanim layer` reads a layer as written "
    f"in PyTorch, Keras or Flax.\n\n\b\nExamples:\n{_examples()}"
)

info = InfoGroup(
    "info",
    help="Print a figure's numbers without rendering: output size, the formula with the numbers "
    "filled in, frame count, alt text (conv, pool); the per-layer table (rf).\n\n"
    "\b\nExamples:\n  convanim info -i 5 -k 3 -s 2 -p 1\n"
    "  convanim info -i 3 -k 3 -s 2 -p 1 --transposed --output-padding 1 --json\n"
    "  convanim info pool -i 4 -k 2 -s 2\n  convanim info rf -k 3 -d 1,2,4",
    short_help="Describe a figure without rendering it.",
    context_settings=CONTEXT,
)
for _kind in kinds.kinds():
    main.add_command(kind_command(_kind))
    info.add_command(info_command(_kind))
main.add_command(info)


@main.command(context_settings=CONTEXT)
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
@click.option("-q", "--quiet", is_flag=True, help="Print nothing but errors (no progress).")
def build(manifest: str, check: bool, jobs: int | None, force: bool, quiet: bool) -> None:
    """Render the figures a TOML manifest describes, only those that changed.

    One table per figure: its output file (relative to the manifest), its kind, and that
    kind's options, spelt as their long options. Each file carries a fingerprint of its
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

    # Lazily: a figure whose file is current is not validated again, and workers (which
    # import matplotlib) start only when something is to be rendered.
    try:
        entries = load_manifest(manifest, lazy=True)
    except ManifestError as error:
        raise click.UsageError(str(error)) from None
    progress = Progress(sys.stderr, quiet)
    report = run_build(entries, jobs=jobs, check=check, force=force, progress=progress)
    finish(report, check, quiet)


def finish(report: Any, check: bool, quiet: bool = False) -> None:
    """Print a build's outcome; exit 1 if anything failed or (with --check) is stale."""
    for name, reason in report.failed.items():
        click.echo(f"failed: {name}: {reason}", err=True)
    if check:
        for name in report.stale:
            click.echo(f"stale or missing: {name} ({report.outputs[name]})", err=True)
        counts = (len(report.skipped), len(report.stale), len(report.failed))
        if not quiet:
            click.echo("{} current, {} stale or missing, {} invalid".format(*counts), err=True)
        if report.stale or report.failed:
            sys.exit(1)
        return
    if not quiet:
        click.echo(report.summary(), err=True)
    if report.failed:
        sys.exit(1)


@main.command(context_settings=CONTEXT)
@click.argument("out_dir", type=click.Path(file_okay=False))
@click.option(
    "-j",
    "--jobs",
    type=click.IntRange(min=1),
    default=None,
    help="Figures rendered at once [default: the number of cores].",
)
@click.option("-q", "--quiet", is_flag=True, help="Print nothing but errors (no progress).")
def gallery(out_dir: str, jobs: int | None, quiet: bool) -> None:
    """Write conv_arithmetic's figures under their published names, and an index.md.

    The 15 animations (no_padding_no_strides.gif, ...), the four numerical figures, the
    dilated receptive-field figure and a WaveNet-style causal stack. Each line of index.md
    holds the command that draws that figure.

    \b
    Examples:
      convanim gallery gallery/
      convanim gallery docs/_static/conv --jobs 2
    """
    from convanim.build import build as run_build
    from convanim.formats import atomic_output
    from convanim.gallery import gallery_entries, gallery_index
    from convanim.workers import start_workers

    pool = start_workers(jobs)  # they load matplotlib while the figures are checked

    folder = Path(out_dir)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
        raise click.UsageError(f"OUT_DIR: cannot create '{out_dir}': {error.strerror}") from None
    entries = gallery_entries(folder)
    report = run_build(entries, jobs=jobs, pool=pool, progress=Progress(sys.stderr, quiet))
    try:
        with atomic_output(folder / "index.md") as stream:
            stream.write(gallery_index(entries).encode())
    except OSError as error:
        report.failed["index.md"] = f"cannot write {folder / 'index.md'}: {error.strerror}"
    finish(report, check=False, quiet=quiet)
