"""Batch builds: every figure of a manifest, rendered only when its description changed.

A manifest is a TOML file with one table per figure: its ``output`` path (relative to the
manifest's folder) and the options of ``convanim.figures`` (``kind = "conv"``, ``input = 5``,
``kernel = 3``, ...). Every file convanim writes carries its figure's fingerprint, so a figure is
current exactly when its file exists and carries the fingerprint of its description now.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from convanim.figures import Figure, FigureError, parse_figure

if TYPE_CHECKING:  # processes are imported only when there is something to render
    from concurrent.futures import ProcessPoolExecutor

__all__ = [
    "Entry",
    "ManifestError",
    "Report",
    "build",
    "load_manifest",
    "plan",
]


class ManifestError(ValueError):
    """The manifest itself is wrong (unreadable, unknown keys, no output): nothing renders."""


@dataclass(frozen=True)
class Entry:
    """One figure of a manifest: its output file and either the figure or why it is invalid."""

    name: str
    output: Path
    figure: Figure | None
    error: str | None = None
    checked: bool = True  # False: the figure's options are read, its model not yet validated


@dataclass
class Report:
    """What a build did, by figure name."""

    rendered: list[str]
    skipped: list[str]
    failed: dict[str, str]  # name: reason
    stale: list[str]  # --check: out of date or missing
    seconds: float
    outputs: dict[str, Path] = field(default_factory=dict)  # name: the figure's file

    def summary(self) -> str:
        parts = [
            f"rendered {len(self.rendered)}",
            f"skipped {len(self.skipped)}",
            f"failed {len(self.failed)}",
        ]
        return ", ".join(parts) + f" in {self.seconds:.2f} s"


def _read_toml(path: Path) -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib
    try:
        with path.open("rb") as stream:
            return tomllib.load(stream)
    except OSError as error:
        raise ManifestError(f"{path}: cannot be read: {error.strerror}") from None
    except UnicodeDecodeError as error:
        raise ManifestError(
            f"{path}: not UTF-8 text (byte 0x{error.object[error.start]:02x} at offset "
            f"{error.start}); TOML files are UTF-8"
        ) from None
    except tomllib.TOMLDecodeError as error:
        raise ManifestError(f"{path}: not valid TOML: {error}") from None
    except ValueError as error:  # a number beyond Python's int-to-text limit, say
        raise ManifestError(f"{path}: cannot be read: {str(error).split(';')[0]}") from None


def load_manifest(path: str | os.PathLike[str], *, lazy: bool = False) -> list[Entry]:
    """Read and validate a manifest; a ManifestError if it cannot be used at all.

    Unknown keys and missing outputs stop the whole manifest (nothing renders). A figure whose
    values are invalid (a kernel larger than its padded input, say) becomes an Entry with an
    error: it fails, and the others still render. ``lazy`` leaves each figure's model to be
    validated by ``plan``, and only where its file is not current.
    """
    manifest = Path(path)
    data = _read_toml(manifest)
    return entries_from(data, manifest.parent, str(manifest), lazy=lazy)


def entries_from(
    data: Mapping[str, Any], base: Path, source: str = "manifest", *, lazy: bool = False
) -> list[Entry]:
    """Validated entries from a manifest's tables; outputs relative to ``base`` (``lazy``:
    see ``load_manifest``)."""
    from convanim.formats import WRITERS

    if not data:
        raise ManifestError(f"{source}: no figures; add a table per figure, like [my_figure]")
    entries: list[Entry] = []
    outputs: dict[Path, str] = {}
    for name, table in data.items():
        if not isinstance(table, Mapping):
            raise ManifestError(
                f"{source}: '{name}' is not a table; write each figure as [{name}] with its keys"
            )
        if "output" not in table:
            raise ManifestError(
                f"figure '{name}': output: missing; give a file like \"{name}.gif\""
            )
        if not isinstance(table["output"], str) or not table["output"]:
            raise ManifestError(
                f"figure '{name}': output: got {table['output']!r}; expected a file name like "
                f'"{name}.gif"'
            )
        output = (base / table["output"]).resolve()
        if output in outputs:
            raise ManifestError(
                f"figure '{name}': output: '{table['output']}' is also figure "
                f"'{outputs[output]}''s output; give each figure its own file"
            )
        outputs[output] = name
        try:
            figure = parse_figure(name, table, base, check=False)
        except FigureError as error:
            if error.detail.startswith("unknown key"):
                raise ManifestError(str(error)) from None
            entries.append(Entry(name, output, None, _reason(error)))
            continue
        if output.suffix.lower() not in WRITERS:
            reason = f"output: supported extensions are {', '.join(WRITERS)}"
            entries.append(Entry(name, output, None, reason))
            continue
        entry = Entry(name, output, figure, checked=False)
        entries.append(entry if lazy else _checked(entry))
    return entries


def _checked(entry: Entry) -> Entry:
    """The entry with its figure validated for its output, or invalid with the reason."""
    if entry.checked or entry.figure is None:
        return entry
    try:
        entry.figure.check()
        entry.figure.check_output(entry.output)
    except FigureError as error:
        return Entry(entry.name, entry.output, None, _reason(error))
    return replace(entry, checked=True)


def plan(entries: Iterable[Entry]) -> tuple[list[Entry], list[Entry], list[Entry]]:
    """(to render, current, invalid): a figure is current when its file carries its fingerprint.

    A current file was written from exactly these options by this output version, so its
    figure is not validated again; any other is (``load_manifest``'s ``lazy``).
    """
    from convanim.formats import read_stamp

    render: list[Entry] = []
    current: list[Entry] = []
    invalid: list[Entry] = []
    for entry in entries:
        if entry.figure is not None and read_stamp(entry.output) == entry.figure.fingerprint():
            current.append(entry)
            continue
        entry = _checked(entry)
        (invalid if entry.figure is None else render).append(entry)
    return render, current, invalid


def _render_one(entry: Entry) -> tuple[str, float, str | None]:
    """Render one figure (in a worker process): (name, seconds, error or None)."""
    start = time.perf_counter()
    assert entry.figure is not None
    try:
        entry.output.parent.mkdir(parents=True, exist_ok=True)
        entry.figure.render(entry.output)
    except FigureError as error:
        return entry.name, time.perf_counter() - start, _reason(error)
    except OSError as error:
        reason = f"cannot write {entry.output}: {error.strerror or error}"
        return entry.name, time.perf_counter() - start, reason
    return entry.name, time.perf_counter() - start, None


def _reason(error: FigureError) -> str:
    """Why a figure failed, without its name (the report names it): ``kernel: got 0; ...``."""
    return f"{error.param}: {error.detail}"


ProgressCallback = Callable[[int, str, float, "str | None"], None]
"""Told of each figure a build finishes: (figures to render, name, seconds, error or None)."""


def build(
    entries: Sequence[Entry],
    jobs: int | None = None,
    check: bool = False,
    force: bool = False,
    pool: ProcessPoolExecutor | None = None,
    progress: ProgressCallback | None = None,
) -> Report:
    """Render what is missing or stale (all of it with ``force``); with ``check``, write
    nothing and report what would render. ``pool``: workers from ``start_workers``, which
    the build shuts down. ``progress`` is told of each figure as it is done."""
    start = time.perf_counter()
    todo, current, invalid = plan(entries)
    if force:
        todo, current = todo + current, []
    failed = {entry.name: entry.error or "invalid" for entry in invalid}
    report = Report([], [e.name for e in current], failed, [], 0.0)
    report.outputs = {entry.name: entry.output for entry in entries}
    if check or not todo:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
        report.stale = [entry.name for entry in todo]
        report.seconds = time.perf_counter() - start
        return report
    # Longest first, so that no worker is left with a long figure at the end.
    todo.sort(key=_cost, reverse=True)
    from concurrent.futures import as_completed

    from convanim.workers import start_workers, stop_workers

    if pool is None and len(todo) > 1:
        pool = start_workers(jobs)
    told = _told(len(todo), progress)
    if pool is None:
        _collect(map(_render_one, todo), report, told)
    else:
        try:
            futures = [pool.submit(_render_one, entry) for entry in todo]
            _collect((f.result() for f in as_completed(futures)), report, told)
        except BaseException:  # Ctrl-C, SIGTERM: the build stops, and so do its workers
            stop_workers(pool)
            raise
        pool.shutdown()
    order = {entry.name: index for index, entry in enumerate(entries)}
    report.rendered.sort(key=order.__getitem__)
    report.seconds = time.perf_counter() - start
    return report


def _told(
    total: int, progress: ProgressCallback | None
) -> Callable[[str, float, str | None], None]:
    def tell(name: str, seconds: float, error: str | None) -> None:
        if progress is not None:
            progress(total, name, seconds, error)

    return tell


def _cost(entry: Entry) -> float:
    """A rough rendering cost (see ``Kind.cost``)."""
    figure = entry.figure
    assert figure is not None
    from convanim.formats import writer_for

    return figure.declaration.cost(figure, writer_for(entry.output).animates)


def _collect(
    results: Iterable[tuple[str, float, str | None]],
    report: Report,
    tell: Callable[[str, float, str | None], None],
) -> None:
    for name, seconds, error in results:
        if error is None:
            report.rendered.append(name)
        else:
            report.failed[name] = error
        tell(name, seconds, error)
