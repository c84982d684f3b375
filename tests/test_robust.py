"""Mistakes, tried as a new user and as a hostile one would, in every front-end: each is one
line naming the parameter and what is valid, exit status 2 (1 for the file system), no
traceback, no file created or changed, no temporary left, within a few seconds.

Faults that happen to the process (signals, full disks) are in ``test_faults.py``.
"""

from __future__ import annotations

import contextlib
import inspect
import math
import os
import struct
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from convanim import ConvSpec, ConvSpecError, Output, RenderOptions
from convanim.build import ManifestError, entries_from, load_manifest
from convanim.cli import main
from convanim.figures import FigureError, parse_figure
from convanim.sphinxext import description
from convanim.values import load_values

HUGE = "1" * 5000  # beyond Python's 4300-digit int-to-text limit


@pytest.fixture
def runner() -> CliRunner:
    if "mix_stderr" in inspect.signature(CliRunner.__init__).parameters:  # Click 8.1
        return CliRunner(mix_stderr=False)  # type: ignore[call-arg]
    return CliRunner()


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "old.gif").write_bytes(b"an earlier animation")
    return tmp_path


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def one_line(result: Result, code: int, *words: str) -> str:
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == code, (result.exit_code, result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    for word in words:
        assert word in lines[0], (word, lines[0])
    assert "Traceback" not in result.stderr + result.stdout
    return lines[0]


def huge_npy(path: Path) -> Path:
    """An .npy whose header claims 10**6 x 10**6 float64 (8 TB), with 16 bytes of data."""
    header = "{'descr': '<f8', 'fortran_order': False, 'shape': (1000000, 1000000), }"
    header += " " * (63 - (10 + len(header)) % 64) + "\n"
    path.write_bytes(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode())
    with path.open("ab") as stream:
        stream.write(b"\x00" * 16)
    return path


# -- the command line: every mistake, one line, nothing written --------------------------------

CLI_MISTAKES: dict[str, tuple[list[str], str]] = {
    # name: (arguments, option the line names)
    "input of 5000 digits": (["conv", "-i", HUGE, "-o", "old.gif"], "--input"),
    "kernel of 5000 digits": (["conv", "-i", "5", "-k", HUGE, "-o", "old.gif"], "--kernel"),
    "info input of 5000 digits": (["info", "-i", HUGE], "--input"),
    "info --json input of 5000 digits": (["info", "-i", HUGE, "--json"], "--input"),
    "rf dilation of 5000 digits": (["rf", "-d", HUGE, "-o", "old.png"], "--dilation"),
    "input beyond 10**9": (["conv", "-i", "10000000000", "-o", "old.gif"], "--input"),
    "rf 1-D unit -1": (
        ["rf", "--dims", "1", "-k", "2", "-d", "1,2", "--causal", "--unit", "-1", "-o", "old.png"],
        "--unit",
    ),
    "rf 2-D unit -1,0": (
        ["rf", "-k", "3", "-d", "1,2", "--unit", "-1,0", "-o", "old.png"],
        "--unit",
    ),
    "max-frames -1": (["conv", "-i", "5", "--max-frames", "-1", "-o", "old.gif"], "--max-frames"),
    "max-frames 0": (["conv", "-i", "5", "--max-frames", "0", "-o", "old.gif"], "--max-frames"),
    "columns beyond the frames": (
        ["conv", "-i", "5", "--columns", "100", "-o", "s.png"],
        "--columns",
    ),
    "rf columns beyond the panels": (
        ["rf", "-k", "3", "-d", "1,2", "--columns", "3", "-o", "s.png"],
        "--columns",
    ),
    "seed -1": (["conv", "-i", "5", "--values", "--seed", "-1", "-o", "old.gif"], "--seed"),
    "NaN inline": (
        ["conv", "-i", "2", "-k", "1", "--input-values", "[[NaN, 1], [2, 3]]", "-o", "old.gif"],
        "--input-values",
    ),
    "Infinity inline": (
        ["conv", "-i", "2", "-k", "1", "--kernel-values", "[[Infinity]]", "-o", "old.gif"],
        "--kernel-values",
    ),
    "inline values not numbers": (
        ["conv", "-i", "1", "-k", "1", "--input-values", '[["a"]]', "-o", "old.gif"],
        "--input-values",
    ),
    "a file where a folder should be": (["conv", "-i", "5", "-o", "old.gif/x.gif"], "--output"),
    "-o - without --format": (["conv", "-i", "5", "-o", "-"], "--format"),
    "--format jpg": (["conv", "-i", "5", "-o", "-", "--format", "jpg"], "--format"),
    "--format against the suffix": (
        ["conv", "-i", "5", "-o", "x.gif", "--format", "png"],
        "--format",
    ),
    "--format without -o": (["conv", "-i", "5", "--format", "png", "--info"], "--format"),
    "--seed without values": (["conv", "-i", "5", "--seed", "4", "-o", "old.gif"], "--seed"),
}


@pytest.mark.parametrize("case", list(CLI_MISTAKES))
def test_cli_mistakes(runner: CliRunner, folder: Path, case: str) -> None:
    args, option = CLI_MISTAKES[case]
    before = snapshot(folder)
    start = time.perf_counter()
    result = runner.invoke(main, args)
    assert time.perf_counter() - start < 5
    line = one_line(result, 2, option)
    assert len(line) < 400, line  # a huge value is not echoed
    assert snapshot(folder) == before


def test_a_huge_npy_header_is_refused_without_allocating(runner: CliRunner, folder: Path) -> None:
    huge_npy(folder / "x.npy")
    before = snapshot(folder)
    result = runner.invoke(main, ["conv", "-i", "5", "--input-values", "x.npy", "-o", "old.gif"])
    one_line(result, 2, "--input-values", "(1000000, 1000000)", "expected (5, 5)")
    assert snapshot(folder) == before
    with pytest.raises(ConvSpecError, match="1000000"):
        load_values(folder / "x.npy", (5, 5), "input_values")


def test_a_long_file_name_is_written(runner: CliRunner, folder: Path) -> None:
    """250 characters is a legal name: the temporary file's name must not make it too long."""
    name = "n" * 246 + ".gif"
    result = runner.invoke(main, ["conv", "-i", "4", "-o", name])
    assert result.exit_code == 0, result.stderr
    assert (folder / name).stat().st_size > 0
    assert [p.name for p in folder.iterdir() if p.name.startswith(".")] == []


def test_wrote_says_what_and_how_big(runner: CliRunner, folder: Path) -> None:
    result = runner.invoke(
        main, ["conv", "-i", "5", "-k", "3", "-s", "2", "-p", "1", "-o", "p.gif"]
    )
    assert result.exit_code == 0
    size = (folder / "p.gif").stat().st_size
    assert result.stderr.strip() == f"wrote p.gif (3x3 output, 9 frames, {size / 1000:.0f} KB)"
    quiet = runner.invoke(main, ["conv", "-i", "5", "-o", "q.gif", "-q"])
    assert quiet.exit_code == 0 and quiet.stderr == "" and quiet.stdout == ""


def test_dash_o_writes_standard_output(runner: CliRunner, folder: Path) -> None:
    result = runner.invoke(main, ["conv", "-i", "4", "-o", "-", "--format", "png", "--frame", "1"])
    assert result.exit_code == 0, result.stderr
    assert result.stdout_bytes.startswith(b"\x89PNG")
    runner.invoke(main, ["conv", "-i", "4", "-o", "f.png", "--frame", "1"])
    assert result.stdout_bytes == (folder / "f.png").read_bytes()
    assert "standard output" in result.stderr


# -- manifests ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b'[a]\noutput = "a.gif"\ninput = 5 # \xff\n', ["not UTF-8", "0xff"]),
        (b"\xff\xfe\x00garbage", ["not UTF-8"]),
        (b'[a]\noutput = "a.gif"\ninput = ' + HUGE.encode() + b"\n", ["cannot be read"]),
        (b"[a]\noutput = 5\ninput = 5\n", ["output: got 5; expected a file name"]),
        (b'[a]\noutput = ""\ninput = 5\n', ["output: got ''"]),
        (b"[a]\ninput = 5\n", ["output: missing"]),
        (b'[a]\noutput = "a.gif"\nkernal = 3\ninput = 5\n', ["did you mean 'kernel'"]),
    ],
)
def test_manifest_mistakes(
    runner: CliRunner, folder: Path, content: bytes, words: list[str]
) -> None:
    (folder / "m.toml").write_bytes(content)
    before = snapshot(folder)
    one_line(runner.invoke(main, ["build", "m.toml"]), 2, *words)
    one_line(runner.invoke(main, ["build", "m.toml", "--check"]), 2, *words)
    with pytest.raises(ManifestError):
        load_manifest(folder / "m.toml")
    assert snapshot(folder) == before


@pytest.mark.parametrize(
    ("table", "key"),
    [
        ({"input": 2, "kernel": 1, "input-values": [[math.nan, 1], [2, 3]]}, "input-values"),
        ({"input": 2, "kernel": 1, "kernel-values": [[math.inf]]}, "kernel-values"),
        ({"input": 5, "max-frames": -1}, "max-frames"),
        ({"input": 5, "columns": 100}, "columns"),
        ({"input": 10**5000}, "input"),
        ({"input": 5, "seed": 3}, "seed"),
        ({"kind": "rf", "dims": 1, "kernel": 2, "dilation": [1, 2], "unit": -1}, "unit"),
    ],
)
def test_figure_mistakes_fail_alone_in_a_manifest(
    runner: CliRunner, folder: Path, table: dict[str, Any], key: str
) -> None:
    """Parsed as a manifest and as Sphinx option text: the same key, the same words."""
    with pytest.raises(FigureError) as caught:
        parse_figure("a", table)
    assert caught.value.param == key
    assert len(str(caught.value)) < 400
    entries = entries_from(
        {"a": {"output": "a.png", **table}, "b": {"output": "b.gif", "input": 4}}, folder
    )
    assert entries[0].figure is None and key in (entries[0].error or "")
    assert entries[1].figure is not None
    if all(not isinstance(v, (list, float)) for v in table.values()) and key != "input":
        text = {k: str(v) for k, v in table.items()}
        with pytest.raises(FigureError) as directive:
            parse_figure("doc:1", description(text))
        assert directive.value.param == key


def test_a_failed_figure_is_reported_once_without_temporary_paths(
    runner: CliRunner, folder: Path
) -> None:
    (folder / "m.toml").write_text(
        '[good]\noutput = "g.gif"\ninput = 4\n[bad]\noutput = "b.gif"\ninput = 3\nkernel = 5\n'
    )
    result = runner.invoke(main, ["build", "m.toml", "--jobs", "1"])
    assert result.exit_code == 1
    failures = [line for line in result.stderr.splitlines() if "bad" in line]
    assert len(failures) == 1, result.stderr
    assert failures[0].startswith("failed: bad: input/kernel/padding/dilation: would be -1")
    assert ".tmp" not in result.stderr and "figure 'bad'" not in result.stderr


# -- the Python API: type mistakes are ConvSpecErrors naming the parameter ----------------------


@pytest.mark.parametrize(
    ("make", "param"),
    [
        (lambda: Output("x.gif", frame_ms="fast"), "frame_ms"),
        (lambda: Output("x.gif", frame=1.5), "frame"),
        (lambda: Output("x.gif", columns="2"), "columns"),
        (lambda: Output("x.gif", max_frames=0), "max_frames"),
        (lambda: Output(5), "output"),  # type: ignore[arg-type]
        (lambda: RenderOptions(scale="2"), "scale"),  # type: ignore[arg-type]
        (lambda: RenderOptions(labels="no"), "labels"),  # type: ignore[arg-type]
        (lambda: RenderOptions(view=["flat"]), "view"),  # type: ignore[arg-type]
        (lambda: ConvSpec(10**5000), "input_size"),
        (lambda: ConvSpec(5, kernel_size=10**5000), "kernel_size"),
    ],
)
def test_api_type_mistakes(make: Any, param: str) -> None:
    with pytest.raises(ConvSpecError) as caught:
        make()
    assert caught.value.param == param
    assert len(str(caught.value)) < 300


def test_api_values_are_refused_when_not_finite() -> None:
    with pytest.raises(ConvSpecError, match="finite"):
        parse_figure("a", {"input": 2, "kernel": 1, "input-values": [[1, math.inf], [1, 1]]})


def test_sphinx_refuses_a_huge_npy_header(tmp_path: Path) -> None:
    """Through the directive: a warning at its line, no crash, the build goes on."""
    pytest.importorskip("sphinx")
    from test_sphinxext import EXAMPLE, sphinx  # type: ignore[import-not-found]

    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "conf.py").write_text((EXAMPLE / "conf.py").read_text())
    huge_npy(tmp_path / "src" / "x.npy")
    (tmp_path / "src" / "index.rst").write_text(
        "Huge\n====\n\n.. convanim::\n   :input: 5\n   :input-values: x.npy\n"
    )
    build = sphinx(tmp_path)
    assert build.status == 0
    assert ":input-values:" in build.warnings and "(1000000, 1000000)" in build.warnings


# -- what users see on the way -----------------------------------------------------------------


def _convanim(args: list[str], **kwargs: Any) -> subprocess.CompletedProcess[bytes]:
    repo = Path(__file__).resolve().parents[1]
    path = os.pathsep.join(filter(None, [str(repo), os.environ.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, "-m", "convanim", *args],
        env={**os.environ, "PYTHONPATH": path, **kwargs.pop("env", {})},
        timeout=60,
        check=False,
        **kwargs,
    )


def test_shell_completion_completes_commands_options_and_choices(tmp_path: Path) -> None:
    def complete(words: str) -> list[str]:
        done = _convanim(
            [],
            capture_output=True,
            env={
                "_CONVANIM_COMPLETE": "bash_complete",
                "COMP_WORDS": words,
                "COMP_CWORD": str(len(words.split()) - (0 if words.endswith(" ") else 1)),
            },
        )
        assert done.returncode == 0, done.stderr
        return [line.split(",", 1)[1] for line in done.stdout.decode().split()]

    assert "conv" in complete("convanim co")
    assert complete("convanim conv --vi") == ["--view"]
    assert complete("convanim conv --view ") == ["oblique", "flat"]
    assert complete("convanim pool --mode a") == ["avg"]


def test_a_terminal_sees_the_frames_counted(tmp_path: Path) -> None:
    """stderr a terminal: a progress line that counts the frames, cleared at the end."""
    import pty

    leader, follower = pty.openpty()
    try:
        done = _convanim(
            ["conv", "-i", "5", "-k", "3", "-o", "x.gif"],
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=follower,
        )
        os.close(follower)
        shown = b""
        with contextlib.suppress(OSError):
            while chunk := os.read(leader, 65536):
                shown += chunk
    finally:
        os.close(leader)
    assert done.returncode == 0
    text = shown.decode()
    assert "drawing frame 1/9" in text and "drawing frame 9/9" in text
    assert text.rstrip().endswith(
        "wrote x.gif (3x3 output, 9 frames, " + text.rsplit(", ", 1)[1].strip()
    )
    piped = _convanim(["conv", "-i", "5", "-o", "y.gif"], cwd=tmp_path, capture_output=True)
    assert b"drawing frame" not in piped.stderr  # not a terminal: no progress line


def test_receptive_fields_of_a_huge_input_are_refused_at_once() -> None:
    from convanim import receptive_field, receptive_field_stats

    start = time.perf_counter()
    for call in (
        lambda: receptive_field([{"kernel_size": 3}], input_size=10**7, output=(5, 5)),
        lambda: receptive_field([{"kernel_size": 3}], input_size=10**7, output=5, dims=1),
        lambda: receptive_field_stats([{"kernel_size": 3}], input_size=(5, 10**6)),
    ):
        with pytest.raises(ConvSpecError, match="over the limit of 10,000") as caught:
            call()
        assert caught.value.param == "input_size"
    assert time.perf_counter() - start < 2
