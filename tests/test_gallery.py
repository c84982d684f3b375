"""The gallery command and the project's own figures."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image

from convanim.build import build, load_manifest
from convanim.cli import main
from convanim.gallery import PUBLISHED

ROOT = Path(__file__).resolve().parents[1]

REFERENCE_FRAMES = {name: row[0] for name, row in PUBLISHED.items()}
EXTRA = {
    "numerical_no_padding_no_strides.gif": 9,
    "numerical_padding_strides.gif": 9,
    "numerical_average_pooling.gif": 9,
    "numerical_max_pooling.gif": 9,
    "wavenet_causal.gif": 16,
    "receptive_field_dilated.png": 1,
    "matrix_no_padding_no_strides.gif": 4,
    "matrix_no_padding_no_strides_transposed.gif": 16,
    "overlap_kernel_3_stride_2_transposed.png": 1,
    "overlap_kernel_4_stride_2_transposed.png": 1,
}


@pytest.fixture(scope="module")
def gallery(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("gallery")
    result = CliRunner().invoke(main, ["gallery", str(folder)])
    assert result.exit_code == 0, result.output
    assert "rendered 25, skipped 0, failed 0" in result.output
    return folder


@pytest.mark.parametrize(("name", "frames"), sorted(REFERENCE_FRAMES.items()))
def test_gallery_has_each_reference_animation(gallery: Path, name: str, frames: int) -> None:
    with Image.open(gallery / f"{name}.gif") as gif:
        assert gif.n_frames == frames
        assert gif.info["loop"] == 0
        assert gif.info["duration"] == 1000


def test_published_numbers_are_the_reference_table() -> None:
    """The copy in convanim.gallery matches conv_arithmetic.tsv, where ../shared is present."""
    table = ROOT.parent / "shared" / "reference" / "conv_arithmetic.tsv"
    if not table.exists():
        pytest.skip("../shared/reference is not here")
    rows = [line.split("\t") for line in table.read_text().splitlines()]
    header, body = rows[0], rows[1:]
    column = {name: index for index, name in enumerate(header)}
    published = {
        row[column["name"]]: tuple(
            int(row[column[key]]) for key in ("frames", "width_px", "height_px", "bytes")
        )
        for row in body
    }
    assert published == PUBLISHED


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_gallery_gifs_are_at_most_half_the_reference_bytes(gallery: Path, name: str) -> None:
    """Bytes per frame-pixel: at most half of the published GIF's (issue 6)."""
    frames, width, height, size = PUBLISHED[name]
    path = gallery / f"{name}.gif"
    with Image.open(path) as gif:
        ours = path.stat().st_size / (gif.n_frames * gif.size[0] * gif.size[1])
    assert ours <= 0.5 * size / (frames * width * height)


@pytest.mark.parametrize(("name", "frames"), sorted(EXTRA.items()))
def test_gallery_extras(gallery: Path, name: str, frames: int) -> None:
    with Image.open(gallery / name) as image:
        assert getattr(image, "n_frames", 1) == frames


def test_gallery_index_shows_every_figure(gallery: Path) -> None:
    index = (gallery / "index.md").read_text()
    files = sorted(p.name for p in gallery.iterdir() if p.suffix in (".gif", ".png"))
    assert len(files) == 25
    for name in files:
        assert f"]({name})" in index
    assert "`convanim conv -i 5 -s 2 -p 1 -o padding_strides.gif`" in index


def test_gallery_index_commands_reproduce_their_files(gallery: Path, tmp_path: Path) -> None:
    """Every command index.md shows runs, and writes the gallery's bytes (fingerprint too)."""
    index = (gallery / "index.md").read_text()
    commands = re.findall(r"`(convanim [^`]+)`", index)
    assert len(commands) == 25
    runner = CliRunner()
    for command in commands:
        words = shlex.split(command)
        name = words[words.index("-o") + 1]
        words[words.index("-o") + 1] = str(tmp_path / name)
        result = runner.invoke(main, words[1:])
        assert result.exit_code == 0, (command, result.output)
        assert (tmp_path / name).read_bytes() == (gallery / name).read_bytes(), command


def test_gallery_again_skips_everything(gallery: Path) -> None:
    result = CliRunner().invoke(main, ["gallery", str(gallery), "--jobs", "1"])
    assert result.exit_code == 0
    assert "rendered 0, skipped 25" in result.output


def test_readme_figures_are_current() -> None:
    """examples/figures.toml renders every image in the README; the committed files match."""
    entries = load_manifest(ROOT / "examples" / "figures.toml")
    report = build(entries, check=True)
    assert report.failed == {} and report.stale == [], report
    readme = (ROOT / "README.md").read_text()
    for entry in entries:
        assert f"examples/images/{entry.output.name}" in readme, entry.name
