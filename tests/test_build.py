"""Figure descriptions, manifests (build, --check, --jobs), vector output and alt text."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from convanim.build import ManifestError, build, load_manifest
from convanim.cli import main
from convanim.figures import FigureError, parse_figure
from convanim.writers import read_stamp

ROOT = Path(__file__).resolve().parents[1]

MANIFEST = """
[padding_strides]
output = "img/padding_strides.gif"
kind = "conv"
input = 5
kernel = 3
stride = 2
padding = 1

[strip]
output = "img/strip.png"
input = [5, 7]
kernel = 3
padding = "same"
view = "flat"

[average]
output = "img/average.gif"
kind = "pool"
mode = "avg"
input = 4
kernel = 2
stride = 2
values = true
"""


def write_manifest(folder: Path, text: str = MANIFEST) -> Path:
    path = folder / "figures.toml"
    path.write_text(textwrap.dedent(text))
    return path


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def test_build_renders_then_skips_then_rebuilds_what_changed(tmp_path: Path) -> None:
    manifest = write_manifest(tmp_path)
    code, output = run("build", str(manifest), "--jobs", "1")
    assert code == 0, output
    assert "rendered 3, skipped 0, failed 0" in output
    files = sorted((tmp_path / "img").iterdir())
    assert [f.name for f in files] == ["average.gif", "padding_strides.gif", "strip.png"]
    before = {f.name: f.stat().st_mtime_ns for f in files}

    code, output = run("build", str(manifest))
    assert code == 0 and "rendered 0, skipped 3" in output
    assert {f.name: f.stat().st_mtime_ns for f in files} == before

    manifest.write_text(manifest.read_text().replace("stride = 2\npadding = 1", "stride = 1"))
    code, output = run("build", str(manifest), "--check")
    assert code == 1 and "stale or missing: padding_strides" in output
    code, output = run("build", str(manifest))
    assert code == 0 and "rendered 1, skipped 2" in output
    code, output = run("build", str(manifest), "--check")
    assert code == 0 and "3 current, 0 stale or missing" in output


def test_check_writes_nothing_and_reports_missing(tmp_path: Path) -> None:
    manifest = write_manifest(tmp_path)
    code, output = run("build", str(manifest), "--check")
    assert code == 1
    assert output.count("stale or missing:") == 3
    assert not (tmp_path / "img").exists()


def test_a_broken_figure_fails_alone(tmp_path: Path) -> None:
    broken = MANIFEST + '\n[broken]\noutput = "img/broken.gif"\ninput = 5\nkernel = 9\n'
    manifest = write_manifest(tmp_path, broken)
    code, output = run("build", str(manifest))
    assert code == 1
    assert "rendered 3, skipped 0, failed 1" in output
    assert "failed: broken" in output and "kernel" in output
    assert not (tmp_path / "img" / "broken.gif").exists()
    assert not [p for p in (tmp_path / "img").iterdir() if p.name.startswith(".")]


def test_unknown_key_stops_everything_and_suggests(tmp_path: Path) -> None:
    manifest = write_manifest(
        tmp_path, MANIFEST + '\n[typo]\noutput = "t.gif"\ninput = 5\nkernal = 3\n'
    )
    code, output = run("build", str(manifest))
    assert code == 2
    assert output.count("\n") == 1
    assert "figure 'typo'" in output and "kernal" in output and "did you mean 'kernel'" in output
    assert not (tmp_path / "img").exists()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[a]\ninput = 5\n", "output: missing"),
        ('[a]\noutput = "a.gif"\ninput = 5\n[b]\noutput = "a.gif"\ninput = 4\n', "own file"),
        ("not toml [", "not valid TOML"),
        ("", "no figures"),
        ("a = 1\n", "not a table"),
    ],
)
def test_broken_manifests_are_refused(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ManifestError, match=message):
        load_manifest(write_manifest(tmp_path, text))


def test_jobs_two_gives_the_same_bytes_as_jobs_one(tmp_path: Path) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    for folder, jobs in ((one, "1"), (two, "2")):
        folder.mkdir()
        code, output = run("build", str(write_manifest(folder)), "--jobs", jobs)
        assert code == 0, output
    for name in ("padding_strides.gif", "strip.png", "average.gif"):
        assert (one / "img" / name).read_bytes() == (two / "img" / name).read_bytes()


def test_same_bytes_across_processes(tmp_path: Path) -> None:
    script = (
        "import sys; from convanim.figures import parse_figure;"
        "f = parse_figure('x', {'input': 6, 'kernel': 3, 'stride': 2, 'padding': 1, "
        "'values': True, 'view': 'flat'});"
        "[f.render(sys.argv[1] + ext) for ext in ('.gif', '.png', '.svg', '.pdf')]"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONHASHSEED": "random"}
    for run_name in ("a", "b"):
        subprocess.run(
            [sys.executable, "-c", script, str(tmp_path / run_name)], check=True, env=env
        )
    for ext in (".gif", ".png", ".svg", ".pdf"):
        assert (tmp_path / f"a{ext}").read_bytes() == (tmp_path / f"b{ext}").read_bytes(), ext


@pytest.mark.parametrize("ext", [".gif", ".png", ".svg", ".pdf"])
def test_files_carry_their_fingerprint(tmp_path: Path, ext: str) -> None:
    figure = parse_figure("x", {"input": 5, "kernel": 3, "stride": 2, "padding": 1})
    path = figure.render(tmp_path / f"x{ext}")
    assert read_stamp(path) == figure.fingerprint()
    other = parse_figure("x", {"input": 5, "kernel": 3, "stride": 2, "padding": 0})
    assert other.fingerprint() != figure.fingerprint()


def test_value_file_content_is_part_of_the_fingerprint(tmp_path: Path) -> None:
    values = tmp_path / "x.csv"
    values.write_text("1,2\n3,4\n")
    figure = parse_figure("x", {"input": 2, "kernel": 1, "input-values": "x.csv"}, tmp_path)
    before = figure.fingerprint()
    values.write_text("1,2\n3,5\n")
    assert figure.fingerprint() != before


def test_vector_strip_and_frame(tmp_path: Path) -> None:
    code, output = run(
        "conv", "-i", "5", "-k", "3", "-s", "2", "-p", "1", "-o", str(tmp_path / "s.svg")
    )
    assert code == 0, output
    svg = (tmp_path / "s.svg").read_text()
    assert svg.startswith("<?xml")
    # One tile per frame, each clipped to its own rectangle.
    tiles = set(re.findall(r'<clipPath id="[^"]+">\s*<rect ([^/]+)/>', svg))
    assert len(tiles) == 9
    code, output = run("conv", "-i", "5", "-o", str(tmp_path / "f.pdf"), "--frame", "2")
    assert code == 0, output
    assert (tmp_path / "f.pdf").read_bytes().startswith(b"%PDF")
    code, output = run("conv", "-i", "14", "-k", "3", "-o", str(tmp_path / "big.svg"))
    assert code == 2 and "vector strip of 144 frames" in output
    assert not (tmp_path / "big.svg").exists()


@pytest.mark.parametrize(
    ("description", "alt"),
    [
        (
            {"input": 5, "kernel": 3, "stride": 2, "padding": 1},
            "Convolution of a 5×5 input with a 3×3 kernel, stride 2, padding 1, "
            "giving a 3×3 output.",
        ),
        (
            {
                "input": 3,
                "kernel": 3,
                "stride": 2,
                "padding": 1,
                "transposed": True,
                "output-padding": 1,
            },
            "Transposed convolution of a 3×3 input with a 3×3 kernel, stride 2, padding 1, "
            "output padding 1, giving a 6×6 output.",
        ),
        (
            {"input": [5, 7], "kernel": 3, "padding": "same", "dilation": 2},
            "Convolution of a 5×7 input with a 3×3 kernel, stride 1, 'same' padding 2, "
            "dilation 2, giving a 5×7 output.",
        ),
        (
            {"kind": "pool", "mode": "max", "input": 4, "kernel": 2, "stride": 2},
            "Max pooling of a 4×4 input with a 2×2 window, stride 2, padding 0, "
            "giving a 2×2 output.",
        ),
    ],
)
def test_alt_text(description: dict[str, object], alt: str) -> None:
    assert parse_figure("x", description).alt_text() == alt


def test_figure_errors_name_the_key() -> None:
    with pytest.raises(FigureError, match="figure 'x': stride: got 0"):
        parse_figure("x", {"input": 5, "stride": 0})
    with pytest.raises(FigureError, match="mode"):
        parse_figure("x", {"kind": "pool", "input": 5, "mode": "median"})
    with pytest.raises(FigureError, match="transposed"):
        parse_figure("x", {"kind": "pool", "input": 5, "transposed": True})
    with pytest.raises(FigureError, match="input: missing"):
        parse_figure("x", {"kernel": 3})


def test_build_api_reports(tmp_path: Path) -> None:
    entries = load_manifest(write_manifest(tmp_path))
    report = build(entries, jobs=1)
    assert report.rendered == ["padding_strides", "strip", "average"]
    assert build(entries, check=True).stale == []
    assert build(entries, jobs=1, force=True).rendered == report.rendered


def test_a_current_figure_is_not_validated_again_a_stale_one_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``build`` reads each figure's options, and validates its model only where its file is
    not current: a current file was rendered from exactly these options."""
    from convanim.figures import Figure

    manifest = write_manifest(tmp_path)
    assert run("build", str(manifest), "-q")[0] == 0
    checked: list[str] = []
    original = Figure.check

    def counting(self: Figure, limits: bool = True) -> None:
        checked.append(self.name)
        original(self, limits)

    monkeypatch.setattr(Figure, "check", counting)
    assert run("build", str(manifest), "--check") == (
        0,
        "3 current, 0 stale or missing, 0 invalid\n",
    )
    assert checked == []
    (tmp_path / "img" / "strip.png").unlink()
    code, output = run("build", str(manifest), "--check")
    assert (code, checked) == (1, ["strip"])
    assert "1 stale or missing" in output
    # load_manifest without lazy still validates every figure, as the API always did.
    checked.clear()
    assert all(entry.figure is not None for entry in load_manifest(manifest))
    assert sorted(checked) == ["average", "padding_strides", "strip"]


def test_a_stale_invalid_figure_is_still_refused(tmp_path: Path) -> None:
    manifest = write_manifest(
        tmp_path, MANIFEST + '\n[big]\noutput = "big.gif"\ninput = 3\nkernel = 5\n'
    )
    code, output = run("build", str(manifest), "--check")
    assert code == 1
    assert "failed: big: input/kernel/padding/dilation: would be -1" in output
    assert "1 invalid" in output
    assert not (tmp_path / "big.gif").exists()


def test_a_no_op_build_imports_neither_matplotlib_nor_numpy_nor_starts_workers(
    tmp_path: Path,
) -> None:
    manifest = write_manifest(tmp_path)
    assert run("build", str(manifest), "-q")[0] == 0
    script = (
        "import sys\n"
        "from convanim.cli import main\n"
        "for extra in (['--check'], []):\n"
        "    try:\n"
        f"        main(['build', {str(manifest)!r}, '-q', *extra])\n"
        "    except SystemExit as stop:\n"
        "        assert stop.code in (0, None), stop.code\n"
        "loaded = sorted(m for m in ('matplotlib', 'numpy', 'PIL.Image', "
        "'concurrent.futures.process') if m in sys.modules)\n"
        "print(loaded)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert result.stdout.strip() == "[]", result.stderr


def test_png_stamps_are_read_without_decoding_the_image(tmp_path: Path) -> None:
    """The stamp's text chunk is found by walking the chunks: a PNG whose image data is
    garbage (which Pillow cannot decode) still gives its stamp; other files give none."""
    from convanim.formats.png import WRITER, read_text_chunk

    path = tmp_path / "x.png"
    assert run("conv", "-i", "4", "-k", "3", "-o", str(path), "-q")[0] == 0
    stamp = WRITER.read_stamp(path)
    assert stamp is not None and re.fullmatch(r"[0-9a-f]{32}", stamp)
    data = bytearray(path.read_bytes())
    start = data.index(b"IDAT") + 4
    data[start : start + 40] = bytes(40)  # the compressed image, destroyed
    path.write_bytes(bytes(data))
    assert WRITER.read_stamp(path) == stamp
    assert read_text_chunk(path, "Software") is None
    path.write_bytes(bytes(data[:30]))  # cut short before the text chunk
    assert WRITER.read_stamp(path) is None
    path.write_bytes(b"GIF89a" + bytes(40))
    assert WRITER.read_stamp(path) is None
    assert WRITER.read_stamp(tmp_path / "missing.png") is None
