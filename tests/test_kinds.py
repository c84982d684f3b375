"""Every figure kind through every front-end, from the case files in ``tests/cases/<kind>/``.

One parametrised test per front-end runs each case: the Python API (``parse_figure``), the
command line (``convanim info KIND ... --json``, and the kind's own command writing a file), a
manifest, the Sphinx directive's option text, and ``Figure.command()``, whose printed command,
run, must write the same bytes as the manifest does. Facts are compared with the case's
expectations, worked out by hand; the front-ends are compared with each other.
"""

from __future__ import annotations

import inspect
import json
import shlex
import sys
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner

from convanim import kinds
from convanim.build import build, entries_from
from convanim.cli import main
from convanim.figures import Figure, FigureError, parse_figure
from convanim.sphinxext import description

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

CASES = Path(__file__).parent / "cases"


def load_cases() -> list[tuple[str, str, dict[str, Any]]]:
    found = []
    for path in sorted(CASES.glob("*/*.toml")):
        with path.open("rb") as stream:
            found.append((path.parent.name, path.stem, tomllib.load(stream)))
    return found


ALL = load_cases()
IDS = [f"{kind}/{name}" for kind, name, _ in ALL]


@pytest.fixture
def runner() -> CliRunner:
    if "mix_stderr" in inspect.signature(CliRunner.__init__).parameters:  # Click 8.1
        return CliRunner(mix_stderr=False)  # type: ignore[call-arg]
    return CliRunner()


def figure_of(kind: str, case: dict[str, Any]) -> Figure:
    return parse_figure(f"{kind}-case", {"kind": kind, **case["figure"]})


def suffix_of(case: dict[str, Any]) -> str:
    return "." + case["expect"].get("output", "gif")


def cli_words(kind: str, case: dict[str, Any]) -> list[str]:
    """The case as command-line words, through each option's own spelling."""
    declaration = kinds.get(kind)
    words = []
    for key, value in case["figure"].items():
        param = declaration.param(key)
        words += param.words(param.parse(key, value))
    return words


def check_facts(figure: Figure, expect: dict[str, Any]) -> None:
    facts = figure.facts()
    for key, value in expect.get("facts", {}).items():
        assert facts[key] == value, (key, facts[key], value)
    if "fields" in expect:
        assert [row["field"] for row in facts["layers"]] == expect["fields"]
    assert figure.alt_text() == expect["alt_text"]
    info = figure.info().splitlines()
    for line in expect.get("info", []):
        assert line in info, (line, info)


def test_every_kind_has_cases_and_every_case_a_kind() -> None:
    folders = {path.name for path in CASES.iterdir() if path.is_dir()}
    assert folders == set(kinds.KINDS)
    for name in kinds.KINDS:
        assert len(list((CASES / name).glob("*.toml"))) >= 3, name


def test_every_kind_is_on_every_front_end() -> None:
    from convanim.sphinxext import ConvanimDirective

    for kind in kinds.kinds():
        command = main.commands[kind.name]
        info = main.commands["info"]
        assert isinstance(info, click.Group) and kind.name in info.commands
        options = {opt for p in command.params for opt in p.opts}
        for param in kind.params:
            assert f"--{param.key}" in options, (kind.name, param.key)
            assert param.key in ConvanimDirective.option_spec, (kind.name, param.key)
            assert param.help, (kind.name, param.key)
        assert command.help and all(f"convanim {line}" in command.help for line in kind.examples)


@pytest.mark.parametrize(("kind", "name", "case"), ALL, ids=IDS)
def test_api(kind: str, name: str, case: dict[str, Any]) -> None:
    figure = figure_of(kind, case)
    check_facts(figure, case["expect"])
    figure.check_output(f"x{suffix_of(case)}")


@pytest.mark.parametrize(("kind", "name", "case"), ALL, ids=IDS)
def test_cli_info(runner: CliRunner, kind: str, name: str, case: dict[str, Any]) -> None:
    words = cli_words(kind, case)
    result = runner.invoke(main, ["info", kind, *words, "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == figure_of(kind, case).facts()
    result = runner.invoke(main, [kind, *words, "--info"])
    assert result.exit_code == 0, result.output
    assert result.stdout.rstrip("\n") == figure_of(kind, case).info()


@pytest.mark.parametrize(("kind", "name", "case"), ALL, ids=IDS)
def test_manifest(tmp_path: Path, kind: str, name: str, case: dict[str, Any]) -> None:
    table = {"output": f"{name}{suffix_of(case)}", "kind": kind, **case["figure"]}
    (entry,) = entries_from({name: table}, tmp_path)
    assert entry.figure is not None, entry.error
    assert entry.figure.options == figure_of(kind, case).options
    assert entry.figure.fingerprint() == figure_of(kind, case).fingerprint()
    check_facts(entry.figure, case["expect"])


@pytest.mark.parametrize(("kind", "name", "case"), ALL, ids=IDS)
def test_sphinx_options(kind: str, name: str, case: dict[str, Any]) -> None:
    """The directive's option text (what the command line would print) makes the same figure."""
    declaration = kinds.get(kind)
    text = {}
    for key, value in case["figure"].items():
        param = declaration.param(key)
        normal = param.parse(key, value)
        text[key] = ("true" if normal else "false") if param.flag else param.format(normal)
    figure = parse_figure("doc:1", {"kind": kind, **description(text)})
    assert figure.fingerprint() == figure_of(kind, case).fingerprint()
    check_facts(figure, case["expect"])


@pytest.mark.parametrize(("kind", "name", "case"), ALL, ids=IDS)
def test_command_round_trip(
    runner: CliRunner, tmp_path: Path, kind: str, name: str, case: dict[str, Any]
) -> None:
    """``command()``, run, writes the bytes a manifest build writes."""
    built = tmp_path / f"built{suffix_of(case)}"
    (entry,) = entries_from(
        {name: {"output": built.name, "kind": kind, **case["figure"]}}, tmp_path
    )
    report = build([entry], jobs=1)
    assert report.rendered == [name], report.failed
    assert entry.figure is not None
    ran = tmp_path / f"ran{suffix_of(case)}"
    words = shlex.split(entry.figure.command(str(ran)))
    assert words[:2] == ["convanim", kind]
    result = runner.invoke(main, words[1:])
    assert result.exit_code == 0, result.output
    assert ran.read_bytes() == built.read_bytes()


# -- one meaning, one error text, whichever front-end -----------------------------------------

BAD_TEXT = "zz?"


@pytest.mark.parametrize(
    ("kind", "key"),
    [(kind.name, param.key) for kind in kinds.kinds() for param in kind.params if not param.flag],
)
def test_a_bad_value_is_the_same_error_everywhere(runner: CliRunner, kind: str, key: str) -> None:
    declaration = kinds.get(kind)
    examples = {"input": "5", "layer": "nn.Conv2d(1, 1, 3)"}
    base: dict[str, Any] = {k: v for k, v in examples.items() if k in declaration.required}
    base.pop(key, None)
    with pytest.raises(FigureError) as manifest:
        parse_figure("m", {"kind": kind, **base, key: BAD_TEXT})
    with pytest.raises(FigureError) as directive:
        parse_figure("m", {"kind": kind, **description({**base, key: BAD_TEXT})})
    cli_base = [word for k, v in base.items() for word in (f"--{k}", v)]
    result = runner.invoke(main, [kind, *cli_base, f"--{key}", BAD_TEXT, "-o", "x.gif"])
    assert result.exit_code == 2
    assert manifest.value.param == directive.value.param == key
    assert manifest.value.detail == directive.value.detail
    assert result.stderr.strip() == f"Error: --{key}: {manifest.value.detail}"


def test_readme_option_tables_are_the_declarations() -> None:
    """The README's table of each kind's options is what the declaration generates."""
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    for kind in kinds.kinds():
        start, end = f"<!-- options:{kind.name} -->\n", f"\n<!-- /options:{kind.name} -->"
        assert start in readme and end in readme, kind.name
        shown = readme.split(start, 1)[1].split(end, 1)[0]
        assert shown == kind.options_markdown(), f"README table of {kind.name}; expected:\n" + (
            kind.options_markdown()
        )


@pytest.mark.parametrize(
    ("kind", "example"),
    [(kind.name, line) for kind in kinds.kinds() for line in kind.examples],
)
def test_every_example_in_the_help_runs(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str, example: str
) -> None:
    """What ``convanim KIND --help`` shows works as shown (value files are made for it)."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "x.csv").write_text("\n".join(",".join(["1"] * 6) for _ in range(6)) + "\n")
    if "--torch" in example:  # its models file, as from the repository's root
        pytest.importorskip("torch")
        (tmp_path / "examples").mkdir()
        models = Path(__file__).resolve().parents[1] / "examples" / "models.py"
        (tmp_path / "examples" / "models.py").write_text(models.read_text(encoding="utf-8"))
    result = runner.invoke(main, shlex.split(example))
    assert result.exit_code == 0, (example, result.stderr)
