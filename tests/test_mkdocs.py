"""Tests for ``convanim.mkdocs_plugin``: real ``mkdocs build`` runs of examples/mkdocs.

Each build runs ``python -m mkdocs build`` on a copy of the example site in a temporary folder,
as a documentation project would; what is checked is what a reader gets (the files in the site,
the ``<img>`` tags and captions of its pages) and what the author sees (MkDocs' log, the exit
status with and without ``--strict``).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, NamedTuple

import pytest

pytest.importorskip("mkdocs")

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

from convanim.figures import parse_figure
from convanim.mkdocs_plugin import ConvanimPlugin, blocks
from convanim.writers import read_stamp

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "mkdocs"
PADDING_STRIDES = (
    "Convolution of a 5×5 input with a 3×3 kernel, stride 2, padding 1, giving a 3×3 output."
)
TRANSPOSED = (
    "Transposed convolution of a 3×3 input with a 3×3 kernel, stride 2, padding 1, giving a "
    "5×5 output."
)
RF_ALT = "Three dilated layers: each unit of the third sees 15×15 input cells."


class Build(NamedTuple):
    status: int
    log: str
    site: Path


def build(project: Path, strict: bool = True) -> Build:
    site = project / "site"
    command = [sys.executable, "-m", "mkdocs", "build", "-d", str(site)]
    done = subprocess.run(
        [*command, "--strict"] if strict else command,
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return Build(done.returncode, done.stdout + done.stderr, site)


class Page(HTMLParser):
    """The ``<img>`` tags and figure captions of an HTML page."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.images: list[dict[str, str]] = []
        self.captions: list[str] = []
        self._caption = False
        self.text = path.read_text(encoding="utf-8")
        self.feed(self.text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "img":
            self.images.append({key: value or "" for key, value in attrs})
        elif tag == "figcaption":
            self._caption = True
            self.captions.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "figcaption":
            self._caption = False

    def handle_data(self, data: str) -> None:
        if self._caption:
            self.captions[-1] += data


def figures(page: Path) -> list[tuple[str, Path]]:
    """The convanim images of a page: alt text and the file in the site its src names."""
    return [
        (image["alt"], (page.parent / image["src"]).resolve())
        for image in Page(page).images
        if "assets/convanim/" in image.get("src", "")
    ]


def counts(log: str) -> tuple[int, int]:
    found = re.search(r"convanim: (\d+) figures drawn, (\d+) reused", log)
    assert found, log
    return int(found[1]), int(found[2])


@pytest.fixture
def project(tmp_path: Path) -> Path:
    shutil.copytree(EXAMPLE, tmp_path / "site-source", ignore=shutil.ignore_patterns(".cache"))
    return tmp_path / "site-source"


def test_the_example_builds_and_rebuilds(project: Path) -> None:
    first = build(project)
    assert first.status == 0, first.log
    assert "WARNING" not in first.log
    assert counts(first.log) == (3, 0)

    index = first.site / "index.html"
    shown = figures(index)
    assert [alt for alt, _ in shown] == [PADDING_STRIDES, TRANSPOSED]
    assert Page(index).captions == ["The transposed convolution upsamples 3×3 to 5×5."]
    assert "<figure" in Page(index).text
    ((alt, png),) = figures(first.site / "guide" / "receptive" / "index.html")  # ../../assets
    assert alt == RF_ALT
    for _, path in [*shown, (alt, png)]:
        assert path.is_file()
        assert path.name == f"{read_stamp(path)}{path.suffix}"  # named by its fingerprint
    expected = parse_figure("x", {"input": 5, "kernel": 3, "stride": 2, "padding": 1})
    assert shown[0][1].name == f"{expected.fingerprint()}.gif"
    assert png.suffix == ".png"
    # The block shown inside another fence is code, not a figure.
    assert "```convanim\nkind = &quot;pool&quot;" in Page(index).text.replace("\r", "")

    cache = project / ".cache" / "convanim"
    before = {path.name: path.stat().st_mtime_ns for path in cache.iterdir()}
    assert sorted(before) == sorted(path.name for _, path in [*shown, (alt, png)])

    # Unchanged: nothing drawn again. One block changed: only it is drawn.
    again = build(project)
    assert again.status == 0, again.log
    assert counts(again.log) == (0, 3)
    page = project / "docs" / "index.md"
    page.write_text(
        page.read_text(encoding="utf-8").replace(
            "padding = 1\n```", 'padding = 1\nformat = "html"\n```', 1
        ),
        encoding="utf-8",
    )
    changed = build(project)
    assert changed.status == 0, changed.log
    assert counts(changed.log) == (1, 2)
    assert {
        path.name: path.stat().st_mtime_ns for path in cache.iterdir() if path.name in before
    } == before
    html = Page(changed.site / "index.html")
    assert [alt for alt, _ in figures(changed.site / "index.html")] == [TRANSPOSED]
    assert "<!-- convanim player -->" in html.text  # the player, in the page itself
    assert f'aria-label="{PADDING_STRIDES}"' in html.text


BAD_PAGE = """# Mistakes

```convanim
input = 5
kernel = 3
stride = 0
```

```convanim
kind = "pool"
kernal = 2
```

```convanim
input = 5
format = "pdf"
```

```convanim
input = = 5
```
"""
MESSAGES = [
    "convanim: figure 'index.md:3': stride: got 0; expected an integer >= 1",
    "convanim: figure 'index.md:9': kernal: unknown key for kind 'pool' (did you mean 'kernel'?)",
    "convanim: figure 'index.md:14': format: got 'pdf'; expected one of gif, png, svg",
    "convanim: figure 'index.md:19': block: not TOML:",
]


@pytest.mark.parametrize("strict", [False, True], ids=["warns", "strict fails"])
def test_a_bad_block_names_the_key(tmp_path: Path, strict: bool) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "index.md").write_text(BAD_PAGE, encoding="utf-8")
    (tmp_path / "mkdocs.yml").write_text("site_name: bad\nplugins:\n  - convanim\n")
    done = build(tmp_path, strict)
    for message in MESSAGES:
        assert f"WARNING -  {message}" in done.log, done.log
    if strict:
        assert done.status == 1
        assert "Aborted with 4 warnings in strict mode" in done.log
    else:
        assert done.status == 0, done.log
        page = (done.site / "index.html").read_text(encoding="utf-8")
        assert page.count('class="language-convanim"') == 4  # left in the page, as code
    assert not (tmp_path / ".cache").exists()  # nothing was drawn


def test_the_plugin_is_registered() -> None:
    (found,) = entry_points(group="mkdocs.plugins", name="convanim")
    assert found.value == "convanim.mkdocs_plugin:ConvanimPlugin"


def test_blocks() -> None:
    text = "\n".join(
        [
            "# Page",  # 1
            "```convanim",  # 2
            "input = 5",
            "```",
            "~~~~ convanim",  # 5: tildes, more than three
            "kind = 'rf'",
            "```",  # not its closing fence
            "~~~~",
            "````markdown",  # 9: a block shown, not drawn
            "```convanim",
            "input = 3",
            "```",
            "````",
            "- item",
            "",
            "    ```convanim",  # 16: inside a list
            "    input = 7",
            "    ```",
            "```python",
            "x = 1",
            "```",
        ]
    )
    found = blocks(text)
    assert [(b.line, b.indent, b.text) for b in found] == [
        (2, "", "input = 5"),
        (5, "", "kind = 'rf'\n```"),
        (16, "    ", "input = 7"),
    ]
    lines = text.split("\n")
    assert [lines[b.start : b.end][-1].strip() for b in found] == ["```", "~~~~", "```"]


# -- every kind, from the case files (tests/cases/<kind>/) -------------------------------------


def load_cases() -> list[tuple[str, str, dict[str, Any]]]:
    found = []
    for path in sorted((Path(__file__).parent / "cases").glob("*/*.toml")):
        found.append((path.parent.name, path.stem, tomllib.loads(path.read_text("utf-8"))))
    return found


@pytest.mark.parametrize(
    ("kind", "name", "case"), load_cases(), ids=[f"{k}/{n}" for k, n, _ in load_cases()]
)
def test_every_case(tmp_path: Path, kind: str, name: str, case: dict[str, Any]) -> None:
    """A block of the manifest's keys makes the manifest's figure."""
    # JSON's numbers, strings, booleans and arrays are TOML's.
    text = "\n".join(f"{key} = {json.dumps(value)}" for key, value in case["figure"].items())
    given = case["expect"].get("output")  # a strip of columns is no GIF
    if given:
        text += f'\nformat = "{given}"'
    placed = ConvanimPlugin()._placed("page.md:1", f'kind = "{kind}"\n{text}', tmp_path)
    expected = parse_figure("case", {"kind": kind, **case["figure"]})
    assert placed.figure.fingerprint() == expected.fingerprint()
    assert placed.alt == case["expect"]["alt_text"]
    assert placed.ext == (f".{given}" if given else ".png" if expected.still() else ".gif")
