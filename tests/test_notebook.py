"""Tests for ``convanim.notebook``: a real notebook executed by a real kernel (nbclient,
ipykernel), and what its cells' outputs hold; then the object itself, in this process.

What is checked is what a reader of the notebook gets: each output's mime types, the image in
its ``data:`` URI (decoded: the frames the figure has, the bytes a file would hold), the alt
text, and a mistake shown as one line without a traceback.
"""

from __future__ import annotations

import base64
import io
import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

from convanim import notebook
from convanim.figures import FigureError, parse_figure

PADDING_STRIDES = (
    "Convolution of a 5×5 input with a 3×3 kernel, stride 2, padding 1, giving a 3×3 output."
)
CELLS = [
    "import convanim\nf = convanim.figure('conv', input=5, kernel=3, stride=2, padding=1)\nf",
    "convanim.figure('conv', input=5, kernel=3, frame=0, theme='okabe-ito')",
    "f.player()",
    "print(f.alt_text)",
    "convanim.figure('conv', input=5, kernel=3, stride=0)",
    "convanim.figure('pool', input=4, kernal=2)",
]
KERNEL = "convanim-tests"
DATA_URI = re.compile(r'src="data:(image/[a-z+]+);base64,([A-Za-z0-9+/=]+)"')


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[list[Any], Path]]:
    """The outputs of each cell of a notebook run in a fresh kernel, and its folder."""
    with pytest.MonkeyPatch.context() as patch:
        # Jupyter's own folders, without its warning about moving them.
        patch.setenv("JUPYTER_PLATFORM_DIRS", "1")
        # A kernel of this very interpreter, whatever kernels the machine has installed.
        spec = tmp_path_factory.mktemp("jupyter")
        (spec / "kernels" / KERNEL).mkdir(parents=True)
        (spec / "kernels" / KERNEL / "kernel.json").write_text(
            json.dumps(
                {
                    "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                    "display_name": "convanim tests",
                    "language": "python",
                }
            ),
            encoding="utf-8",
        )
        patch.setenv("JUPYTER_PATH", str(spec))
        yield _execute(tmp_path_factory.mktemp("notebook"))


def _execute(folder: Path) -> tuple[list[Any], Path]:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    book = nbformat.v4.new_notebook()
    for source in CELLS:
        cell = nbformat.v4.new_code_cell(source)
        if "stride=0" in source or "kernal" in source:
            cell.metadata["tags"] = ["raises-exception"]
        book.cells.append(cell)
    client = nbclient.NotebookClient(
        book, timeout=60, kernel_name=KERNEL, resources={"metadata": {"path": str(folder)}}
    )
    client.execute()
    return [cell.outputs for cell in book.cells], folder


def _result(outputs: list[Any]) -> dict[str, Any]:
    (result,) = [out for out in outputs if out.output_type == "execute_result"]
    data: dict[str, Any] = result.data
    return data


def _images(html: str) -> list[tuple[str, bytes]]:
    return [(mime, base64.b64decode(data)) for mime, data in DATA_URI.findall(html)]


def test_a_figure_shows_as_an_animated_gif(executed: tuple[list[Any], Path]) -> None:
    data = _result(executed[0][0])
    assert set(data) == {"text/html", "text/plain"}
    ((mime, gif),) = _images(data["text/html"])
    assert mime == "image/gif"
    assert f'alt="{PADDING_STRIDES}"' in data["text/html"]
    image = Image.open(io.BytesIO(gif))
    assert image.format == "GIF" and image.n_frames == 9  # one frame per output cell
    # The bytes a file of the same figure holds, fingerprint and all.
    figure = parse_figure("conv", {"input": 5, "kernel": 3, "stride": 2, "padding": 1})
    stream = io.BytesIO()
    figure.render(Path("figure.gif"), stream=stream)
    assert gif == stream.getvalue()
    assert PADDING_STRIDES in data["text/plain"]


def test_a_single_frame_shows_as_a_png(executed: tuple[list[Any], Path]) -> None:
    data = _result(executed[0][1])
    assert set(data) == {"text/html", "text/plain", "image/png"}
    ((mime, png),) = _images(data["text/html"])
    assert mime == "image/png"
    assert png == base64.b64decode(data["image/png"])  # for exporters that take no HTML
    assert Image.open(io.BytesIO(png)).format == "PNG"


def test_the_player_is_inline_html(executed: tuple[list[Any], Path]) -> None:
    data = _result(executed[0][2])
    html = data["text/html"]
    assert html.startswith("<!-- convanim player -->")
    assert "<script" in html and "http" not in html.replace("http://www.w3.org", "")
    assert f'aria-label="{PADDING_STRIDES}"' in html
    assert {mime for mime, _ in _images(html)} <= {"image/png"}
    assert "data:image/png;base64," in html


def test_alt_text(executed: tuple[list[Any], Path]) -> None:
    (stream,) = executed[0][3]
    assert stream.text == PADDING_STRIDES + "\n"


@pytest.mark.parametrize(
    ("cell", "line"),
    [
        (4, "FigureError: figure 'conv': stride: got 0; expected an integer >= 1"),
        (5, "FigureError: figure 'pool': kernal: unknown key for kind 'pool' (did you mean"),
    ],
)
def test_a_mistake_is_one_line(executed: tuple[list[Any], Path], cell: int, line: str) -> None:
    (error,) = executed[0][cell]
    assert error.output_type == "error"
    assert len(error.traceback) == 1  # no traceback: the mistake is in the cell
    assert error.traceback[0].startswith(line)


def test_nothing_is_written(executed: tuple[list[Any], Path]) -> None:
    assert list(executed[1].iterdir()) == []


# -- the object, in this process ----------------------------------------------------------------


def test_formats_and_saving(tmp_path: Path) -> None:
    figure = notebook.figure("rf", kernel=3, dilation=[1, 2])
    assert figure.format == ".gif"  # a layer a frame
    svg = notebook.figure("rf", kernel=3, dilation=[1, 2], format="svg")
    bundle, _ = svg._repr_mimebundle_()
    assert bundle["image/svg+xml"].lstrip().startswith(("<?xml", "<svg"))
    assert "data:image/svg+xml;base64," in bundle["text/html"]
    conv = notebook.figure("conv", input=5, kernel=3, output_padding=0, alt="A kernel.")
    assert conv.alt_text == "A kernel." and 'alt="A kernel."' in conv._repr_html_()
    path = conv.save(tmp_path / "conv.gif")
    assert path.read_bytes() == conv.data()
    assert "output" in conv.info() and conv.command().startswith("convanim conv")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"format": "pdf"}, "figure 'conv': format: got 'pdf'; expected one of gif, png, svg, w"),
        ({"format": "bmp"}, "figure 'conv': format: got 'bmp'; expected one of gif, png"),
        ({"format": "gif", "frame": 1}, "figure 'conv': format: got 'gif'; a single frame is"),
        ({"theme": "pink"}, "figure 'conv': theme: got 'pink'; expected one of solarized"),
    ],
)
def test_mistakes_name_the_option(options: dict[str, Any], message: str) -> None:
    with pytest.raises(FigureError) as caught:
        notebook.figure("conv", input=5, kernel=3, **options)
    assert str(caught.value).startswith(message)


def test_a_kind_that_is_not() -> None:
    with pytest.raises(FigureError, match="kind: got 'convolution'; expected one of conv"):
        notebook.figure("convolution", input=5)


# -- every kind, from the case files (tests/cases/<kind>/) -------------------------------------


def load_cases() -> list[tuple[str, str, dict[str, Any]]]:
    found = []
    for path in sorted((Path(__file__).parent / "cases").glob("*/*.toml")):
        found.append((path.parent.name, path.stem, tomllib.loads(path.read_text("utf-8"))))
    return found


@pytest.mark.parametrize(
    ("kind", "name", "case"), load_cases(), ids=[f"{k}/{n}" for k, n, _ in load_cases()]
)
def test_every_case(kind: str, name: str, case: dict[str, Any]) -> None:
    """The manifest's keys, with underscores, make the manifest's figure."""
    keys = {key.replace("-", "_"): value for key, value in case["figure"].items()}
    given = case["expect"].get("output")  # a strip of columns is no GIF
    shown = notebook.figure(kind, **keys, format=given)
    expected = parse_figure("case", {"kind": kind, **case["figure"]})
    assert shown.figure.fingerprint() == expected.fingerprint()
    assert shown.alt_text == case["expect"]["alt_text"]
    assert shown.format == (f".{given}" if given else ".png" if expected.still() else ".gif")
