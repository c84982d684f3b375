"""The pre-commit hook (.pre-commit-hooks.yaml): it parses, names a command convanim installs,
and that command, run as the hook runs it, passes on current figures and fails on stale ones.

pre-commit itself is not run (it would fetch from the network).
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from convanim.cli import main

yaml = pytest.importorskip("yaml")

ROOT = Path(__file__).resolve().parents[1]

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


def hook() -> dict[str, Any]:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    (found,) = [entry for entry in hooks if entry["id"] == "convanim-check"]
    return dict(found)


def test_the_hook_is_declared() -> None:
    found = hook()
    assert found["language"] == "python"
    assert found["pass_filenames"] is False
    assert found["args"] == ["docs/figures.toml"]
    program, *words = shlex.split(found["entry"])
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"][
        "scripts"
    ]
    assert scripts[program] == "convanim.cli:main"
    assert words == ["build", "--check"]


def test_the_hook_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The entry and its args, as pre-commit would run them in a docs repository."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "figures.toml").write_text(
        '[strided]\noutput = "images/strided.png"\ninput = 4\nkernel = 3\nframe = 0\n',
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    found = hook()
    command = [*shlex.split(found["entry"])[1:], *found["args"]]

    missing = CliRunner().invoke(main, command)
    assert missing.exit_code == 1
    assert "strided" in missing.output
    assert CliRunner().invoke(main, ["build", "docs/figures.toml"]).exit_code == 0
    current = CliRunner().invoke(main, command)
    assert current.exit_code == 0, current.output


def test_the_readme_shows_the_hook_and_a_ci_step() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "id: convanim-check" in readme
    assert "convanim build docs/figures.toml --check" in readme
