"""Tests for ``convanim.cli`` through Click's ``CliRunner``: exit codes, messages, files on disk.

stdout and stderr are read apart: Click 8.2+ always keeps them apart, Click 8.1 does with
``mix_stderr=False``.
"""

from __future__ import annotations

import inspect
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result
from PIL import Image

import convanim
from convanim.cli import main
from convanim.geometry import ConvSpec

REPO = Path(convanim.__file__).resolve().parent.parent


def child_env() -> dict[str, str]:
    """The environment for a child Python that imports this checkout of convanim."""
    path = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    return {**os.environ, "PYTHONPATH": path}


@pytest.fixture
def runner() -> CliRunner:
    if "mix_stderr" in inspect.signature(CliRunner.__init__).parameters:  # Click 8.1
        return CliRunner(mix_stderr=False)  # type: ignore[call-arg]
    return CliRunner()


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working folder."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def files_in(folder: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def run(runner: CliRunner, *args: str) -> Result:
    result = runner.invoke(main, list(args))
    # Only a clean exit: any other exception is a crash the user would see as a traceback.
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def assert_usage_error(result: Result, option: str) -> None:
    """Exit status 2 and one line on stderr, ``Error: ...``, naming ``option``."""
    assert result.exit_code == 2, (result.exit_code, result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error:"), lines[0]
    assert option in lines[0], lines[0]
    assert "Traceback" not in result.stderr + result.stdout
    assert result.stdout == ""


# -- conv: what it writes ---------------------------------------------------------------------


def test_conv_writes_a_gif(runner: CliRunner, folder: Path) -> None:
    result = run(runner, "conv", "-i", "5", "-k", "3", "-s", "2", "-p", "1", "-o", "x.gif")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    assert "x.gif" in result.stderr
    assert list(files_in(folder)) == ["x.gif"]
    with Image.open(folder / "x.gif") as image:
        assert image.format == "GIF"
        assert image.n_frames == 9


def test_conv_writes_a_png_strip(runner: CliRunner, folder: Path) -> None:
    """Output 2x3: by default 2 rows of 3 frames, 8 px apart; --columns 6 makes one row."""
    result = run(runner, "conv", "-i", "4,5", "-k", "3", "--view", "flat", "-o", "strip.png")
    assert result.exit_code == 0, result.stderr
    result = run(runner, "conv", "-i", "4,5", "--view", "flat", "--columns", "6", "-o", "row.png")
    assert result.exit_code == 0, result.stderr
    with Image.open(folder / "strip.png") as strip, Image.open(folder / "row.png") as row:
        assert strip.format == row.format == "PNG"
        width, height = strip.size
        frame_width, frame_height = (width - 2 * 8) / 3, (height - 8) / 2
        assert row.size == (6 * frame_width + 5 * 8, frame_height)


def test_conv_writes_one_frame(runner: CliRunner, folder: Path) -> None:
    result = run(runner, "conv", "-i", "5", "-s", "2", "-p", "1", "-o", "f.png", "--frame", "8")
    assert result.exit_code == 0, result.stderr
    with Image.open(folder / "f.png") as image:
        assert image.format == "PNG"
        assert getattr(image, "n_frames", 1) == 1


def test_conv_replaces_an_existing_file(runner: CliRunner, folder: Path) -> None:
    (folder / "x.gif").write_bytes(b"old")
    result = run(runner, "conv", "-i", "4", "-o", "x.gif")
    assert result.exit_code == 0, result.stderr
    assert list(files_in(folder)) == ["x.gif"]
    with Image.open(folder / "x.gif") as image:
        assert image.n_frames == 4


def test_conv_twice_gives_the_same_bytes(runner: CliRunner, folder: Path) -> None:
    for name in ("a.gif", "b.gif"):
        assert run(runner, "conv", "-i", "4", "-d", "1", "-o", name).exit_code == 0
    assert (folder / "a.gif").read_bytes() == (folder / "b.gif").read_bytes()


# -- conv: every mistake is one line, exit 2, nothing written -----------------------------------

SPEC = ["-i", "5", "-k", "3", "-s", "2", "-p", "1"]  # output 3x3: 9 frames, 0 to 8
BAD = {
    # name: (arguments after "conv", option named, output file)
    "stride 0": (["-i", "5", "-s", "0"], "--stride", "x.gif"),
    "stride 0,1": (["-i", "5", "-s", "0,1"], "--stride", "x.gif"),
    "dilation 0": (["-i", "5", "-d", "0"], "--dilation", "x.gif"),
    "kernel 0": (["-i", "5", "-k", "0"], "--kernel", "x.gif"),
    "input 0": (["-i", "0"], "--input", "x.gif"),
    "negative padding": (["-i", "5", "-p", "-1"], "--padding", "x.gif"),
    "negative padding =": (["-i", "5", "--padding=-1"], "--padding", "x.gif"),
    "negative padding side": (["-i", "5", "-p", "1,2,3,-1"], "--padding", "x.gif"),
    "padding 1,2,3": (["-i", "5", "-p", "1,2,3"], "--padding", "x.gif"),
    "padding foo": (["-i", "5", "-p", "foo"], "--padding", "x.gif"),
    "input 2.5": (["-i", "2.5"], "--input", "x.gif"),
    "input a": (["-i", "a"], "--input", "x.gif"),
    "input 5,5,5,5": (["-i", "5,5,5,5"], "--input", "x.gif"),
    "input 5,5,5 in 2-D": (["-i", "5,5,5", "--dims", "2"], "--input", "x.gif"),
    "3-D kernel pair": (["-i", "4,4,4", "-k", "3,3"], "--kernel", "x.gif"),
    "3-D too deep": (["-i", "12,4,4"], "--input", "x.gif"),
    "3-D slices too large": (["-i", "3,20,4"], "--input", "x.gif"),
    "3-D output padding": (
        ["-i", "4,4,4", "--output-padding", "1,0,0"],
        "--output-padding",
        "x.gif",
    ),
    "kernel 2.5": (["-i", "5", "-k", "2.5"], "--kernel", "x.gif"),
    "stride a": (["-i", "5", "-s", "a"], "--stride", "x.gif"),
    "output padding too large": (
        ["-i", "3", "-s", "2", "--transposed", "--output-padding", "2"],
        "--output-padding",
        "x.gif",
    ),
    "output padding not transposed": (
        ["-i", "5", "-s", "2", "--output-padding", "1"],
        "--output-padding",
        "x.gif",
    ),
    "named padding transposed": (["-i", "5", "-p", "same", "--transposed"], "--padding", "x.gif"),
    "kernel too big": (["-i", "3", "-k", "5"], "--kernel", "x.gif"),
    "dilated kernel too big": (["-i", "4", "-k", "3", "-d", "2"], "--dilation", "x.gif"),
    "unknown extension": ([*SPEC], "--output", "x.bmp"),
    "no extension": ([*SPEC], "--output", "x"),
    "missing folder": ([*SPEC], "--output", "missing/x.gif"),
    "frame too large": ([*SPEC, "--frame", "9"], "--frame", "x.png"),
    "frame negative": ([*SPEC, "--frame", "-1"], "--frame", "x.png"),
    "frame with gif": ([*SPEC, "--frame", "0"], "--frame", "x.gif"),
    "frame-ms 15": ([*SPEC, "--frame-ms", "15"], "--frame-ms", "x.gif"),
    "frame-ms 0": ([*SPEC, "--frame-ms", "0"], "--frame-ms", "x.gif"),
    "frame-ms abc": ([*SPEC, "--frame-ms", "abc"], "--frame-ms", "x.gif"),
    "scale 100": ([*SPEC, "--scale", "100"], "--scale", "x.gif"),
    "scale 0": ([*SPEC, "--scale", "0"], "--scale", "x.gif"),
    "scale nan": ([*SPEC, "--scale", "nan"], "--scale", "x.gif"),
    "view": ([*SPEC, "--view", "side"], "--view", "x.gif"),
    "theme": ([*SPEC, "--theme", "neon"], "--theme", "x.gif"),
    "columns 0": ([*SPEC, "--columns", "0"], "--columns", "x.png"),
    "columns 0 gif": ([*SPEC, "--columns", "0"], "--columns", "x.gif"),
    "max-frames 8": ([*SPEC, "--max-frames", "8"], "--max-frames", "x.gif"),
    "max-frames 0": ([*SPEC, "--max-frames", "0"], "--max-frames", "x.png"),
    "max-frames abc": ([*SPEC, "--max-frames", "abc"], "--max-frames", "x.gif"),
    "frame too large to draw": (["-i", "100", "--scale", "10", "--frame", "0"], "--scale", "x.png"),
}


@pytest.mark.parametrize("existing", [False, True], ids=["new", "existing"])
@pytest.mark.parametrize("case", list(BAD))
def test_conv_refuses(runner: CliRunner, folder: Path, case: str, existing: bool) -> None:
    args, option, output = BAD[case]
    if existing and (folder / output).parent.is_dir():
        (folder / output).write_bytes(b"an earlier animation")
    before = files_in(folder)
    result = run(runner, "conv", *args, "-o", output)
    assert_usage_error(result, option)
    assert files_in(folder) == before


def test_conv_without_output(runner: CliRunner, folder: Path) -> None:
    assert_usage_error(run(runner, "conv", "-i", "5"), "--output")
    assert_usage_error(run(runner, "conv", "-o", "x.gif"), "--input")
    assert files_in(folder) == {}


def test_conv_output_is_a_folder(runner: CliRunner, folder: Path) -> None:
    (folder / "d.gif").mkdir()
    assert_usage_error(run(runner, "conv", *SPEC, "-o", "d.gif"), "--output")
    assert files_in(folder) == {}


def test_huge_input_is_refused_at_once(runner: CliRunner, folder: Path) -> None:
    """A sanity bound, not a benchmark: refused from the numbers, nothing built or rendered."""
    import convanim.render  # noqa: F401  (import cost is not what is measured)

    start = time.perf_counter()
    result = run(runner, "conv", "-i", "10000", "-o", "x.gif")
    elapsed = time.perf_counter() - start
    assert_usage_error(result, "--max-frames")
    frames = ConvSpec(10000).frame_count  # 9998 * 9998
    assert str(frames) in result.stderr.replace(",", "")
    assert elapsed < 2.0, f"{elapsed:.2f} s"
    assert files_in(folder) == {}


def test_huge_input_with_more_frames_allowed_is_refused_by_grid(
    runner: CliRunner, folder: Path
) -> None:
    result = run(runner, "conv", "-i", "10000", "--max-frames", "1000000000", "-o", "x.gif")
    assert_usage_error(result, "--input")
    assert files_in(folder) == {}


def test_one_frame_of_a_huge_grid_is_refused_at_once(
    runner: CliRunner, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--frame needs no frame limit, but one frame of a 300x300 grid still takes seconds.

    A small scale keeps the frame under the pixel limit, so only the grid limit stops it.
    """
    import convanim.render

    class Unbuildable:
        def __init__(self, *args: object, **kwargs: object) -> None:
            raise AssertionError("a figure was built for a grid over the limit")

    monkeypatch.setattr(convanim.render, "Animation", Unbuildable)
    args = ["-i", "300", "--view", "flat", "--scale", "0.1", "--frame", "0", "-o", "x.png"]
    assert_usage_error(run(runner, "conv", *args), "--input")
    assert files_in(folder) == {}


# -- info -------------------------------------------------------------------------------------


def test_info(runner: CliRunner) -> None:
    result = run(runner, "info", "-i", "5", "-k", "3", "-s", "2", "-p", "1")
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert re.search(r"^output: 3x3$", out, re.MULTILINE), out
    assert re.search(r"^frames: 9$", out, re.MULTILINE), out
    rows, cols = ConvSpec(5, 3, 2, 1).formula()
    assert rows in out and cols in out
    assert "(5 + 1 + 1 - 1 * (3 - 1) - 1) / 2" in rows and rows.endswith("= 3")
    assert result.stderr == ""


def test_info_transposed(runner: CliRunner) -> None:
    args = ["-i", "3", "-k", "3", "-s", "2", "-p", "1", "--transposed", "--output-padding", "1"]
    result = run(runner, "info", *args)
    assert result.exit_code == 0, result.stderr
    assert re.search(r"^output: 6x6$", result.stdout, re.MULTILINE), result.stdout
    assert re.search(r"^frames: 36$", result.stdout, re.MULTILINE), result.stdout
    assert "(3 - 1) * 2 - 2 * 1 + 1 * (3 - 1) + 1 + 1 = 6" in result.stdout


def test_info_non_square(runner: CliRunner) -> None:
    result = run(runner, "info", "-i", "5,9", "-k", "3", "-p", "same")
    assert result.exit_code == 0, result.stderr
    assert re.search(r"^output: 5x9$", result.stdout, re.MULTILINE), result.stdout
    assert re.search(r"^frames: 45$", result.stdout, re.MULTILINE), result.stdout


def test_info_json(runner: CliRunner) -> None:
    result = run(runner, "info", "-i", "5", "-k", "3", "-s", "2", "-p", "1", "--json")
    assert result.exit_code == 0, result.stderr
    facts = json.loads(result.stdout)
    assert facts["output_size"] == [3, 3]
    assert facts["frames"] == 9
    rows, cols = ConvSpec(5, 3, 2, 1).formula()
    assert facts["formula"] == {"rows": rows, "cols": cols}


def test_info_json_huge_input(runner: CliRunner) -> None:
    """info renders nothing, so it has no frame limit."""
    result = run(runner, "info", "-i", "10000", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["frames"] == 9998 * 9998


@pytest.mark.parametrize("case", ["stride 0", "padding foo", "input 2.5", "kernel too big"])
def test_info_refuses(runner: CliRunner, case: str) -> None:
    args, option, _ = BAD[case]
    assert_usage_error(run(runner, "info", *args), option)


# -- help, version, documentation -------------------------------------------------------------


def test_version(runner: CliRunner) -> None:
    result = run(runner, "--version")
    assert result.exit_code == 0
    assert convanim.__version__ in result.stdout
    assert "convanim" in result.stdout


@pytest.mark.parametrize("command", [[], *[[name] for name in sorted(main.commands)]])
def test_help(runner: CliRunner, command: list[str]) -> None:
    for flag in ("--help", "-h"):
        result = run(runner, *command, flag)
        assert result.exit_code == 0, result.stderr
        assert "Examples" in result.stdout
        assert "Usage:" in result.stdout


def test_no_arguments_shows_the_help(runner: CliRunner) -> None:
    """The help, as Click shows it (exit 0 in Click 8.1, 2 since 8.2), not as an error."""
    result = run(runner)
    assert result.exit_code in (0, 2)
    shown = result.stdout + result.stderr
    assert "Usage:" in shown and "Examples" in shown
    assert not shown.startswith("Error"), shown.splitlines()[0]


def test_unknown_command(runner: CliRunner) -> None:
    result = run(runner, "animate", "-i", "5")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [result.stderr.strip()]
    assert result.stderr.startswith("Error:") and "animate" in result.stderr


def test_every_command_is_documented_with_an_example() -> None:
    assert set(main.commands) >= {"conv", "info"}
    for name, command in main.commands.items():
        assert command.help, f"{name} has no docstring"
        assert "Examples:" in command.help, name
        assert f"convanim {name} " in command.help, f"{name} has no example of itself"
        for param in command.params:
            if isinstance(param, click.Option):
                for option in param.opts:
                    assert re.fullmatch(r"-[a-zA-Z]|--[a-z][a-z0-9-]*", option), (name, option)
                assert param.help, (name, param.opts)


@pytest.mark.parametrize(
    "args",
    [["--help"], ["conv", "--help"], ["info", "--help"], ["--version"]],
    ids=["help", "conv-help", "info-help", "version"],
)
def test_help_imports_neither_numpy_nor_matplotlib(args: list[str]) -> None:
    code = (
        "import sys\n"
        "from convanim.cli import main\n"
        "try:\n"
        f"    main({args!r}, standalone_mode=True)\n"
        "except SystemExit as exit:\n"
        "    code = exit.code\n"
        "else:\n"
        "    code = 'no exit'\n"
        "heavy = sorted(m for m in ('matplotlib', 'numpy') if m in sys.modules)\n"
        "print('RESULT', code, ','.join(heavy) or '-')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=child_env(), timeout=60
    )
    assert done.returncode == 0, done.stderr
    last = done.stdout.strip().splitlines()[-1]
    assert last == "RESULT 0 -", last


def test_python_dash_m(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "convanim", "conv", "-i", "5", "-s", "0", "-o", "x.gif"],
        capture_output=True,
        text=True,
        env=child_env(),
        cwd=tmp_path,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.splitlines() == [done.stderr.strip()]
    assert done.stderr.startswith("Error: --stride")
    assert list(tmp_path.iterdir()) == []


# -- one message style for every mistake, Click's own included ------------------------------


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (
            ["conv", "-i", "5", "--kernal", "3"],
            "Error: --kernal: no such option (did you mean --kernel?)",
        ),
        (["conv", "-i", "5", "-k"], "Error: -k: needs a value"),
        (["conv", "-i", "5", "--labels=yes"], "Error: --labels: takes no value"),
        (["conv", "-i", "5", "extra"], "Error: extra: unexpected argument"),
        (["conv", "-i", "5", "--seed", "3"], "Error: --seed: got 3; it picks the random numbers"),
        (["conv", "-i", "5", "--columns", "3"], "Error: --columns: got 3; an animation has no"),
        (
            ["conv", "-i", "5", "--columns", "3", "--frame", "0"],
            "Error: --columns: got 3; a single",
        ),
        (["rf", "-k", "3", "-d", "1,2", "--unit", "1"], "Error: --unit: got 1; a 2-D stack takes"),
        (
            ["rf", "--dims", "1", "-k", "2", "--columns", "2"],
            "Error: --columns: got 2; expected none",
        ),
        (["rf", "-k", "3", "-d", "1,2", "--frame", "2"], "Error: --frame: got 2; expected 0 to 1"),
        (["rf", "-k", "3,3", "-d", "1,2,4"], "Error: --kernel/--stride/--dilation/--padding: "),
        (["pool", "-i", "5", "--transposed"], "Error: --transposed: no such option"),
        (["info", "rf", "-k", "0"], "Error: --kernel: "),
    ],
)
def test_every_mistake_is_one_line_naming_the_option(
    runner: CliRunner, folder: Path, args: list[str], line: str
) -> None:
    output = [] if args[0] == "info" else ["-o", "x.png" if "--frame" in args else "x.gif"]
    result = run(runner, args[0], *output, *args[1:])
    assert result.exit_code == 2, result.stderr
    assert result.stderr.count("\n") == 1 and result.stderr.startswith(line), result.stderr
    assert files_in(folder) == {}


def test_rf_takes_a_non_square_input_and_a_2d_unit(runner: CliRunner, folder: Path) -> None:
    args = ["rf", "-k", "3", "-d", "1,2", "-i", "9,15", "--unit", "4,7", "-o", "f.png"]
    assert run(runner, *args).exit_code == 0
    assert run(runner, *args[:-2], "--frame", "1", "-o", "one.png").exit_code == 0
    with Image.open(folder / "f.png") as strip, Image.open(folder / "one.png") as one:
        assert strip.width > 2 * one.width and strip.height == one.height


def test_info_describes_every_kind(runner: CliRunner) -> None:
    pool = run(runner, "info", "pool", "--mode", "avg", "-i", "5", "-k", "3", "--json")
    assert pool.exit_code == 0, pool.stderr
    facts = json.loads(pool.stdout)
    assert facts["layer"] == "AvgPool2d" and facts["output_size"] == [3, 3]
    rf = run(runner, "info", "rf", "-k", "3", "-d", "1,2,4", "--json")
    assert [row["field"] for row in json.loads(rf.stdout)["layers"]] == [[3, 3], [7, 7], [15, 15]]
    same = run(runner, "rf", "-k", "3", "-d", "1,2,4", "--json")
    assert same.stdout == rf.stdout


def test_build_check_names_the_output_file(runner: CliRunner, folder: Path) -> None:
    (folder / "figures.toml").write_text('[a]\noutput = "img/a.gif"\ninput = 4\n')
    result = run(runner, "build", "figures.toml", "--check")
    assert result.exit_code == 1
    assert f"stale or missing: a ({folder / 'img' / 'a.gif'})" in result.stderr
