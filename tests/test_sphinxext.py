"""Tests for ``convanim.sphinxext``: real Sphinx builds of examples/sphinx, run in this process.

Each build reads a copy of the example project in a temporary folder; what is checked is what a
reader gets: the files in the output, the ``<img>`` tags of the page, and Sphinx's warnings.
"""

from __future__ import annotations

import io
import shutil
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, NamedTuple

import pytest

pytest.importorskip("sphinx")

from sphinx.application import Sphinx
from sphinx.util.docutils import docutils_namespace, patch_docutils

from convanim import sphinxext
from convanim.figures import Figure, parse_figure
from convanim.geometry import ConvSpecError
from convanim.sphinxext import description
from convanim.writers import read_stamp

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "sphinx"
PADDING_STRIDES = (
    "Convolution of a 5×5 input with a 3×3 kernel, stride 2, padding 1, giving a 3×3 output."
)


class Build(NamedTuple):
    status: int
    warnings: str
    out: Path


class Page(HTMLParser):
    """The ``<img>`` tags and figure captions of an HTML page."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.images: list[dict[str, str]] = []
        self.captions: list[str] = []
        self._caption = False
        self.feed(path.read_text(encoding="utf-8"))

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


def sphinx(project: Path, builder: str = "html", fresh: bool = False) -> Build:
    """Build ``project/src`` into ``project/<builder>``, its doctrees in ``project/doctrees``,
    as ``sphinx-build`` does; an exception (a crash) is raised, not reported."""
    warnings = io.StringIO()
    src, out = project / "src", project / builder
    with patch_docutils(src), docutils_namespace():
        app = Sphinx(
            src,
            src,
            out,
            project / "doctrees",
            builder,
            status=None,
            warning=warnings,
            freshenv=fresh,
        )
        app.build()
    return Build(app.statuscode, warnings.getvalue(), out)


def example(folder: Path) -> Path:
    """A copy of the example project (its sources in ``src``)."""
    shutil.copytree(EXAMPLE, folder / "src", ignore=shutil.ignore_patterns("_build"))
    return folder


def count_renders(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The fingerprints of the figures rendered from now on."""
    rendered: list[str] = []
    render = Figure.render

    def counting(self: Figure, path: str | Path, stamp: bool = True) -> Path:
        rendered.append(self.fingerprint())
        return render(self, path, stamp)

    monkeypatch.setattr(Figure, "render", counting)
    return rendered


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Build:
    """The example project, built as HTML once."""
    return sphinx(example(tmp_path_factory.mktemp("example")))


def test_the_example_builds_with_its_images_and_alt_text(built: Build) -> None:
    assert (built.status, built.warnings) == (0, "")
    page = Page(built.out / "index.html")
    assert len(page.images) == 3
    assert page.images[0]["alt"] == PADDING_STRIDES
    assert page.images[1]["alt"].startswith(
        "Transposed convolution of a 2×2 input with a 3×3 kernel, stride 2, padding 0, "
        "giving a 5×5 output"
    )
    assert page.images[2]["alt"].startswith("Receptive field of the centre unit of a stack of 3")
    [caption] = page.captions
    assert "Dilations 1, 2 and 4 grow the receptive field exponentially." in caption
    for image in page.images:
        path = built.out / image["src"]
        assert path.parent == built.out / "_images"
        assert path.read_bytes().startswith(b"GIF89a")
    assert len({image["src"] for image in page.images}) == 3
    # Named by its fingerprint: the figure the command line draws with the same options.
    figure = parse_figure("padding_strides", {"input": 5, "kernel": 3, "stride": 2, "padding": 1})
    assert page.images[0]["src"] == f"_images/{figure.fingerprint()}.gif"
    assert read_stamp(built.out / page.images[0]["src"]) == figure.fingerprint()


def test_unchanged_figures_are_reused_not_rendered(
    built: Build, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "again"
    shutil.copytree(built.out.parent, project)
    shutil.rmtree(project / "html")
    rendered = count_renders(monkeypatch)
    again = sphinx(project, fresh=True)  # every document read and written anew
    assert (again.status, again.warnings) == (0, "")
    assert rendered == []
    images = Page(again.out / "index.html").images
    assert images == Page(built.out / "index.html").images
    assert all((again.out / image["src"]).is_file() for image in images)


def test_a_changed_option_renders_that_figure_alone(
    built: Build, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "changed"
    shutil.copytree(built.out.parent, project)
    index = project / "src" / "index.rst"
    index.write_text(index.read_text().replace(":stride: 2\n   :padding: 1", ":stride: 1\n"))
    rendered = count_renders(monkeypatch)
    changed = sphinx(project)
    assert (changed.status, changed.warnings) == (0, "")
    before, after = Page(built.out / "index.html").images, Page(changed.out / "index.html").images
    assert after[0]["alt"] == (
        "Convolution of a 5×5 input with a 3×3 kernel, stride 1, padding 0, giving a 3×3 output."
    )
    assert after[0]["src"] != before[0]["src"]
    assert rendered == [Path(after[0]["src"]).stem]
    assert after[1:] == before[1:]
    assert (changed.out / after[0]["src"]).is_file()


def test_figures_are_rendered_as_documents_are_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before the first document is written, every figure's file is there: rendering happens
    while reading, which ``sphinx-build -j`` runs in parallel (writing resolves documents in
    one process)."""
    there: list[set[str]] = []
    resolve = sphinxext.render_figures

    def first_write(app: Sphinx, doctree: Any, docname: str) -> None:
        if not there:
            there.append({path.stem for path in (Path(app.doctreedir) / "convanim").iterdir()})
        resolve(app, doctree, docname)

    monkeypatch.setattr(sphinxext, "render_figures", first_write)
    rendered = count_renders(monkeypatch)
    build = sphinx(example(tmp_path))
    assert (build.status, build.warnings) == (0, "")
    assert rendered and there == [set(rendered)]


def test_latex_which_shows_no_gif_gets_posters(tmp_path: Path) -> None:
    """A PDF would print a GIF's first frame: LaTeX gets each animation's poster, vector art."""
    build = sphinx(example(tmp_path), "latex")
    assert (build.status, build.warnings) == (0, "")
    pdfs = sorted(build.out.glob("*.pdf"))
    assert len(pdfs) == 3 and not list(build.out.glob("*.png"))
    tex = next(build.out.glob("*.tex")).read_text(encoding="utf-8")
    for pdf in pdfs:
        assert pdf.read_bytes().startswith(b"%PDF")
        assert f"\\sphinxincludegraphics{{{{{pdf.stem}}}.pdf}}" in tex
    poster = parse_figure(
        "padding_strides", {"input": 5, "kernel": 3, "stride": 2, "padding": 1, "poster": True}
    )
    assert read_stamp(build.out / f"{poster.fingerprint()}.pdf") == poster.fingerprint()


# Each bad directive, and what the error at its first line says.
BAD = [
    (
        ":input: 5\n   :kernal: 3",
        ":kernal: unknown option for kind 'conv' (did you mean ':kernel:'?)",
    ),
    (":input: 5\n   :stride: 0", ":stride: got 0; expected an integer >= 1"),
    (":input: 3\n   :kernel: 5", ":input:/:kernel:/:padding:/:dilation: would be -1"),
    (":input: 5\n   :causal:", ":causal: unknown option for kind 'conv'"),
    (":kind: rf\n   :mode: max", ":mode: unknown option for kind 'rf'"),
    (":kind: cnn\n   :input: 5", ":kind: got 'cnn'; expected one of conv, pool, rf"),
    (":input: 5\n   :labels: maybe", ":labels: got 'maybe'; expected true or false"),
    (":input: 5\n   :frame-ms: fast", ":frame-ms: got 'fast'; expected an integer"),
    (":input: 5\n   :format: jpg", ":format: got 'jpg'; expected one of gif, png"),
    (":input: 5\n   :frame: 2\n   :format: gif", ":format: got 'gif'; a single frame is one of"),
]


def test_a_bad_option_is_an_error_at_its_line_not_a_crash(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    shutil.copy(EXAMPLE / "conf.py", tmp_path / "src" / "conf.py")
    lines = ["Bad options", "===========", ""]
    expected = []
    for options, message in BAD:
        lines.append(".. convanim::")
        expected.append(f"index.rst:{len(lines)}: ERROR: convanim: {message}")
        lines += [*f"   {options}".splitlines(), ""]
    (tmp_path / "src" / "index.rst").write_text("\n".join(lines), encoding="utf-8")
    build = sphinx(tmp_path)
    assert build.status == 0  # reported, not raised: the build goes on
    reported = [line for line in build.warnings.splitlines() if "ERROR" in line]
    assert len(reported) == len(BAD), build.warnings
    for line, message in zip(reported, expected, strict=True):
        assert message in line
    assert "Traceback" not in build.warnings
    assert Page(build.out / "index.html").images == []


def test_value_files_are_read_beside_the_document_and_tracked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = tmp_path / "src"
    (src / "guide").mkdir(parents=True)
    shutil.copy(EXAMPLE / "conf.py", src / "conf.py")
    (src / "index.rst").write_text("Index\n=====\n\n.. toctree::\n\n   guide/page\n")
    (src / "guide" / "x.csv").write_text("1,2,3\n4,5,6\n7,8,9\n")
    (src / "guide" / "page.rst").write_text(
        "Page\n====\n\n.. convanim::\n   :input: 3\n   :kernel: 2\n   :view: flat\n"
        "   :input-values: x.csv\n   :width: 50%\n   :class: wide\n   :alt: Four sums.\n"
    )
    first = sphinx(tmp_path)
    assert (first.status, first.warnings) == (0, "")
    [image] = Page(first.out / "guide" / "page.html").images
    assert image["alt"] == "Four sums."
    assert image["src"].startswith("../_images/")
    assert "wide" in image["class"].split()
    assert "width: 50%" in image["style"] or image.get("width") == "50%"

    rendered = count_renders(monkeypatch)
    (src / "guide" / "x.csv").write_text("9,8,7\n6,5,4\n3,2,1\n")
    second = sphinx(tmp_path)  # not fresh: the changed file alone makes the page stale
    assert (second.status, second.warnings) == (0, "")
    [changed] = Page(second.out / "guide" / "page.html").images
    assert changed["src"] != image["src"]
    assert rendered == [Path(changed["src"]).stem]


def test_description_reads_option_text_as_the_command_line_does() -> None:
    """Directive text and TOML values make the same figure: one parser per option."""
    options = {
        "input": "5,7",
        "padding": " 1 ",
        "transposed": "",
        "labels": "false",
        "frame-ms": "200",
        "scale": "1.5",
        "kernel-values": "[[1, 0], [0, 1], [1, 1]]",
        "input_values": "x.csv",
    }
    typed = {
        "input": [5, 7],
        "padding": 1,
        "transposed": True,
        "labels": False,
        "frame-ms": 200,
        "scale": 1.5,
        "kernel-values": [[1, 0], [0, 1], [1, 1]],
        "input-values": "x.csv",
    }
    from_text = parse_figure("a", {"kind": "conv", **description(options)}, limits=False)
    from_toml = parse_figure("a", {"kind": "conv", **typed}, limits=False)
    assert from_text.options == from_toml.options
    assert from_text.fingerprint() == from_toml.fingerprint()


@pytest.mark.parametrize(
    ("options", "param"),
    [
        ({"seed": "one"}, "seed"),
        ({"scale": "big"}, "scale"),
        ({"values": "sometimes"}, "values"),
        ({"kernel-values": "[[1, 2]"}, "kernel-values"),
    ],
)
def test_description_names_the_option_it_cannot_read(options: dict[str, Any], param: str) -> None:
    with pytest.raises(ConvSpecError) as caught:
        parse_figure("a", {"kind": "conv", "input": "5", **description(options)})
    assert caught.value.param == param


@pytest.mark.parametrize(("parallel", "imported"), [(1, False), (2, True)])
def test_parallel_builds_import_the_renderer_before_forking(parallel: int, imported: bool) -> None:
    """With ``-j 2`` Sphinx forks readers; the renderer imported in the parent is imported once,
    not once in each reader. A serial build (or one without figures) does not import it."""
    import subprocess
    import sys

    code = (
        "import sys, types\n"
        "from convanim import sphinxext\n"
        f"sphinxext.import_before_forking(types.SimpleNamespace(parallel={parallel}))\n"
        "print('matplotlib.backends.backend_agg' in sys.modules, 'PIL.Image' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.split() == [str(imported)] * 2
