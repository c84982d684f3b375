"""convanim's benchmarks: prints a table and writes it as JSON (benchmarks/results.json).

Run from the repository: ``python benchmarks/run.py`` (or ``make bench``). Everything is measured
in one run on one machine, so compare ratios, not absolute numbers across machines.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from convanim.animate import Output, save  # noqa: E402
from convanim.gallery import PUBLISHED  # noqa: E402
from convanim.geometry import ConvSpec  # noqa: E402
from convanim.render import Animation  # noqa: E402

# Figures timed per frame, with the reference pipeline's sizes for scale.
TIMED = {
    "same_padding_no_strides": {"input_size": 5, "kernel_size": 3, "padding": 1},
    "full_padding_no_strides": {"input_size": 5, "kernel_size": 3, "padding": 2},
    "padding_strides_odd_transposed": {
        "input_size": 3,
        "kernel_size": 3,
        "stride": 2,
        "padding": 1,
        "transposed": True,
        "output_padding": 1,
    },
}


# A process's own peak resident memory in KiB: VmHWM starts afresh at exec, where ru_maxrss
# (Linux) carries over the peak of the process that started it (this benchmark, hundreds of MB).
PEAK_KB = (
    "next(int(line.split()[1]) for line in open('/proc/self/status') if line.startswith('VmHWM'))"
)


def median_seconds(action, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def naive_gif(spec: ConvSpec, path: Path) -> None:
    """The baseline: a new matplotlib figure and savefig per frame, then one GIF of them all."""
    from PIL import Image

    images = []
    animation = Animation(spec)
    for frame in spec.frames():
        figure = animation.vector([frame], 1)  # a new figure of artists, everything drawn
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=figure.dpi)
        images.append(Image.open(buffer).convert("RGB"))
    first, *rest = (image.quantize(256) for image in images)
    first.save(path, save_all=True, append_images=rest, loop=0, duration=1000)


def per_frame(repeat: int, folder: Path) -> list[dict[str, object]]:
    rows = []
    for name, kwargs in TIMED.items():
        spec = ConvSpec(**kwargs)  # type: ignore[arg-type]
        path = folder / f"{name}.gif"
        save(spec, Output(path))  # warm up: imports, fonts
        fast = median_seconds(lambda spec=spec, path=path: save(spec, Output(path)), repeat)
        naive = median_seconds(
            lambda spec=spec: naive_gif(spec, folder / "naive.gif"), max(1, repeat // 3)
        )
        frames = spec.frame_count
        rows.append(
            {
                "figure": name,
                "frames": frames,
                "ms_per_frame": round(fast * 1000 / frames, 2),
                "naive_ms_per_frame": round(naive * 1000 / frames, 2),
                "speedup": round(naive / fast, 1),
            }
        )
    return rows


def gif_breakdown(repeat: int, folder: Path) -> list[dict[str, object]]:
    """Where a plain GIF frame's time goes, per frame (median of runs): making the animation
    (its static figure drawn once), drawing each frame, and the rest of the save (quantising,
    the changed rectangle, LZW, writing), timed inside one ``save``."""
    from convanim import drawing as drawing_module
    from convanim import render

    rows = []
    spent = {"setup": 0.0, "draw": 0.0}
    for name, kwargs in TIMED.items():
        spec = ConvSpec(**kwargs)  # type: ignore[arg-type]
        path = folder / f"{name}.gif"
        build, draw = render.Animation._build, drawing_module.AnimationDrawing.draw

        def timed_build(self: Any, build: Any = build) -> None:
            start = time.perf_counter()
            build(self)
            spent["setup"] += time.perf_counter() - start

        def timed_draw(self: Any, index: int, draw: Any = draw) -> Any:
            start = time.perf_counter()
            box = draw(self, index)
            spent["draw"] += time.perf_counter() - start
            return box

        samples: dict[str, list[float]] = {"setup": [], "draw": [], "rest": [], "total": []}
        render.Animation._build = timed_build  # type: ignore[method-assign]
        drawing_module.AnimationDrawing.draw = timed_draw  # type: ignore[method-assign]
        try:
            save(spec, Output(path))  # warm up
            for _ in range(repeat):
                spent.update(setup=0.0, draw=0.0)
                start = time.perf_counter()
                save(spec, Output(path))
                total = time.perf_counter() - start
                samples["setup"].append(spent["setup"])
                samples["draw"].append(spent["draw"])
                samples["rest"].append(total - spent["setup"] - spent["draw"])
                samples["total"].append(total)
        finally:
            render.Animation._build = build  # type: ignore[method-assign]
            drawing_module.AnimationDrawing.draw = draw  # type: ignore[method-assign]
        frames = spec.frame_count
        row: dict[str, object] = {"figure": name, "frames": frames}
        for part, values in samples.items():
            row[f"{part}_ms_per_frame"] = round(statistics.median(values) * 1000 / frames, 3)
        rows.append(row)
    return rows


def forget_figures() -> None:
    """Forget what the process kept of figures drawn before (a model's analysis, a stack's or
    a model's effective fields): a build draws each figure once. What figures share (text
    stamps, measured texts, quantisers, imports) is kept, as a build keeps it."""
    from convanim.kinds import erf, rf

    erf._ENTRIES.clear()
    erf._STACK_ENTRIES.clear()
    rf._LOADED.clear()


def erf_per_frame(repeat: int, folder: Path) -> dict[str, object]:
    """The effective receptive field's GIF: six 3x3 layers (the README's), one frame a layer."""
    from convanim.figures import parse_figure

    figure = parse_figure("erf", {"kind": "erf", "kernel": [3] * 6})
    path = folder / "erf.gif"
    figure.render(path)  # warm up: imports, fonts
    seconds = median_seconds(lambda: (forget_figures(), figure.render(path)), repeat)
    return {
        "figure": "erf six 3x3 layers",
        "frames": 6,
        "ms_per_frame": round(seconds * 1000 / 6, 2),
    }


def model_fields_50(repeat: int) -> dict[str, object]:
    """``receptive_fields`` of a 50-layer model (25 convolutions, 4 of them strided) at 224."""
    import torch.nn as nn

    from convanim.model_fields import receptive_fields

    layers: list[nn.Module] = []
    for i in range(25):
        stride = 2 if i in (4, 10, 16, 22) else 1
        layers += [nn.Conv2d(4, 4, 3, stride, 1), nn.ReLU()]
    model = nn.Sequential(*layers).eval()
    seconds = median_seconds(lambda: receptive_fields(model, (4, 224, 224)), repeat)
    return {"model": "50 layers (25 conv + 25 ReLU), 4x224x224", "seconds": round(seconds, 3)}


def png_strips(repeat: int, folder: Path) -> list[dict[str, object]]:
    """A PNG strip of every frame of an 8x8 input, 3x3 kernel, oblique and flat: convanim's
    writer against the way it wrote them before (each frame rendered whole and tiled, then
    Pillow's encoder with its adaptive row filters), in one run; both give the same pixels."""
    import numpy as np
    from PIL import Image

    from convanim.drawing import STRIP_GAP_PX, AnimationDrawing
    from convanim.formats.png import WRITER
    from convanim.options import RenderOptions
    from convanim.theme import hex_rgb

    def before(drawing: AnimationDrawing, path: Path, columns: int) -> None:
        width, height = drawing.size
        count = drawing.frame_count
        rows = -(-count // columns)
        gap = STRIP_GAP_PX
        pixels = np.empty(
            (rows * height + (rows - 1) * gap, columns * width + (columns - 1) * gap, 3),
            dtype=np.uint8,
        )
        pixels[:] = hex_rgb(drawing.background)
        for index in range(count):
            row, col = divmod(index, columns)
            top, left = row * (height + gap), col * (width + gap)
            pixels[top : top + height, left : left + width] = drawing.render(index)
        Image.fromarray(pixels).save(path, format="PNG", compress_level=6)

    def now(drawing: AnimationDrawing, path: Path, columns: int) -> None:
        with path.open("wb") as stream:
            WRITER.write(stream, drawing, range(drawing.frame_count), columns, 0, None)

    rows = []
    for view in ("oblique", "flat"):
        spec = ConvSpec(8, 3)
        drawing = AnimationDrawing(Animation(spec, RenderOptions(view=view)))
        columns = drawing.default_columns
        old, new = folder / "before.png", folder / "now.png"
        before(drawing, old, columns)
        now(drawing, new, columns)
        with Image.open(old) as a, Image.open(new) as b:
            same = bool(np.array_equal(np.asarray(a.convert("RGB")), np.asarray(b.convert("RGB"))))
        seconds_before = median_seconds(lambda d=drawing, c=columns, o=old: before(d, o, c), repeat)
        seconds_now = median_seconds(lambda d=drawing, c=columns, n=new: now(d, n, c), repeat)
        rows.append(
            {
                "figure": f"8x8 input, 3x3 kernel, {view}",
                "frames": drawing.frame_count,
                "megapixels": round(Image.open(new).size[0] * Image.open(new).size[1] / 1e6, 1),
                "before_s": round(seconds_before, 3),
                "now_s": round(seconds_now, 3),
                "speedup": round(seconds_before / seconds_now, 2),
                "before_bytes": old.stat().st_size,
                "now_bytes": new.stat().st_size,
                "same_pixels": same,
            }
        )
    return rows


@contextlib.contextmanager
def slow_paths() -> Iterator[None]:
    """The renderer as it drew before its fast paths: every text through matplotlib (no
    stamps), and every frame restoring the whole background (not the box the last one drew)."""
    from convanim.render import Animation
    from convanim.stamps import TextStamps

    stamp, restore = TextStamps.draw, Animation.restore

    def plain(self: TextStamps, text: Any) -> None:
        text.draw(self.renderer)

    def whole(self: Animation) -> None:
        self.dirty = None
        restore(self)

    TextStamps.draw, Animation.restore = plain, whole  # type: ignore[method-assign]
    try:
        yield
    finally:
        TextStamps.draw, Animation.restore = stamp, restore  # type: ignore[method-assign]


def frames_of(figure: Any, path: Path) -> int:
    """Render ``figure`` to ``path``; the number of frames drawn."""
    counted = [0]

    def progress(done: int, total: int) -> None:
        counted[0] = total

    figure.render(path, progress=progress)
    return counted[0]


def strip_pixels(figure: Any, path: Path) -> Any:
    """A PNG strip of every frame of ``figure``, as RGB pixels."""
    import numpy as np
    from PIL import Image

    figure.render(path)
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


def worked_numbers(repeat: int, folder: Path) -> list[dict[str, object]]:
    """Worked-number GIFs (5x5 input, 3x3 kernel, padding 1, seed 0), per frame: now, and with
    the fast paths off (``slow_paths``), side by side; the same pixels either way. Text stamps
    outlive a figure: ``first_figure`` is a process's first figure (no stamps yet),
    ``ms_per_frame`` one drawn after another figure (another seed), as in a build."""
    import numpy as np

    from convanim import stamps
    from convanim.figures import parse_figure

    rows = []
    for view in ("flat", "oblique"):
        table = {"kind": "conv", "input": 5, "kernel": 3, "padding": 1, "values": True}
        figure = parse_figure("worked", {**table, "view": view})
        path = folder / "worked.gif"
        frames = frames_of(figure, path)  # warm up
        # Another figure (another seed) drawn first: the stamps a build's earlier figures left.
        other = parse_figure("other", {**table, "view": view, "seed": 1})

        def after_other(f: Any = figure, p: Path = path, o: Any = other) -> float:
            stamps.clear()
            o.render(p)
            start = time.perf_counter()
            f.render(p)
            return time.perf_counter() - start

        fast = statistics.median(after_other() for _ in range(repeat))
        cold = median_seconds(lambda f=figure, p=path: (stamps.clear(), f.render(p)), repeat)
        fast_pixels = strip_pixels(figure, folder / "fast.png")
        with slow_paths():
            slow = median_seconds(lambda f=figure, p=path: f.render(p), repeat)
            slow_pixels = strip_pixels(figure, folder / "slow.png")
        rows.append(
            {
                "figure": f"5x5 input, 3x3 kernel, padding 1, values, {view}",
                "frames": frames,
                "before_ms_per_frame": round(slow * 1000 / frames, 2),
                "first_figure_ms_per_frame": round(cold * 1000 / frames, 2),
                "ms_per_frame": round(fast * 1000 / frames, 2),
                "speedup": round(slow / fast, 2),
                "same_pixels": bool(np.array_equal(fast_pixels, slow_pixels)),
            }
        )
    return rows


def oblique_scaling(repeat: int, folder: Path) -> dict[str, object]:
    """The oblique view's cost per frame at 5x5 and 32x32 inputs (3x3 kernel, padding 1):
    drawing alone (the renderer), and a whole GIF (drawing and encoding); drawing also with
    the whole background restored every frame, as before."""
    from convanim.drawing import AnimationDrawing

    def draw_all(drawing: AnimationDrawing) -> None:
        for index in range(drawing.frame_count):
            drawing.draw(index)

    result: dict[str, object] = {}
    for n in (5, 32):
        spec = ConvSpec(n, 3, padding=1)
        drawing = AnimationDrawing(Animation(spec))
        count = drawing.frame_count
        draw = median_seconds(lambda d=drawing: draw_all(d), repeat)
        with slow_paths():
            before = median_seconds(lambda d=drawing: draw_all(d), repeat)
        path = folder / f"oblique{n}.gif"
        save(spec, Output(path))
        gif = median_seconds(lambda s=spec, p=path: save(s, Output(p)), 1 if n > 8 else repeat)
        result[f"{n}x{n}"] = {
            "frames": count,
            "draw_ms_per_frame": round(draw * 1000 / count, 3),
            "before_draw_ms_per_frame": round(before * 1000 / count, 3),
            "gif_ms_per_frame": round(gif * 1000 / count, 3),
        }
    small, large = result["5x5"], result["32x32"]
    assert isinstance(small, dict) and isinstance(large, dict)
    for key in ("draw_ms_per_frame", "before_draw_ms_per_frame", "gif_ms_per_frame"):
        result[f"ratio_32_to_5_{key.removesuffix('_ms_per_frame')}"] = round(
            large[key] / small[key], 2
        )
    return result


# Gallery figures of every kind but plain conv animations, timed per frame.
KIND_FIGURES = (
    "matrix",
    "overlap_even",
    "channels_cs231n",
    "channels_grouped",
    "separable",
    "conv1d",
    "conv3d",
    "receptive_field_dilated",
    "wavenet",
    "erf",
    "max_pool",
    "padding_reflect",
)


def other_kinds(repeat: int, folder: Path) -> list[dict[str, object]]:
    """Every other kind of figure, per frame, in the gallery's format (examples/figures.toml),
    now and with the fast paths off."""
    import tomllib

    from convanim.figures import parse_figure

    manifest = ROOT / "examples" / "figures.toml"
    tables = tomllib.loads(manifest.read_text())
    rows = []
    for name in KIND_FIGURES:
        table = tables[name]
        figure = parse_figure(name, table, manifest.parent)
        path = folder / f"{name}{Path(table['output']).suffix}"
        frames = max(frames_of(figure, path), 1)  # warm up
        fast = median_seconds(lambda f=figure, p=path: (forget_figures(), f.render(p)), repeat)
        with slow_paths():
            slow = median_seconds(lambda f=figure, p=path: (forget_figures(), f.render(p)), repeat)
        rows.append(
            {
                "figure": name,
                "kind": figure.kind,
                "format": path.suffix[1:],
                "frames": frames,
                "before_ms_per_frame": round(slow * 1000 / frames, 2),
                "ms_per_frame": round(fast * 1000 / frames, 2),
            }
        )
    return rows


def sphinx_jobs(repeat: int, folder: Path) -> dict[str, object]:
    """``sphinx-build -b html`` of a project of 30 documents, one convanim directive each,
    fresh every time, with -j 1 and -j 2 in turns: wall time, and the CPU time of the build's
    processes (what -j 2 adds in forked readers' work)."""
    src = folder / "sphinx30" / "src"
    src.mkdir(parents=True)
    (src / "conf.py").write_text('extensions = ["convanim.sphinxext"]\n')
    names = [f"doc{i}" for i in range(30)]
    (src / "index.rst").write_text(
        "Index\n=====\n\n.. toctree::\n\n" + "".join(f"   {n}\n" for n in names)
    )
    for i, name in enumerate(names):
        values = "   :values:\n   :view: flat\n" if i % 3 == 0 else ""
        (src / f"{name}.rst").write_text(
            f"{name}\n{'=' * len(name)}\n\n.. convanim::\n   :input: {4 + i % 4}\n"
            f"   :kernel: {2 + i % 2}\n   :padding: {i % 2}\n   :stride: {1 + (i // 8) % 2}\n"
            + values
        )

    def build(jobs: str) -> tuple[float, float]:
        """Wall seconds, and CPU seconds of the build's processes (the readers -j forks)."""
        out = folder / "sphinx30" / "out"
        for path in (out, folder / "sphinx30" / "doctrees"):
            if path.exists():
                shutil.rmtree(path)
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                "-m",
                "sphinx",
                "-q",
                "-b",
                "html",
                "-j",
                jobs,
                "-d",
                str(folder / "sphinx30" / "doctrees"),
                str(src),
                str(out),
            ],
            check=True,
            capture_output=True,
        )
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        return wall, cpu

    # In turns, so that a busy spell slows both alike; the median of each.
    runs: dict[str, list[tuple[float, float]]] = {"1": [], "2": []}
    for _ in range(max(1, repeat // 2)):
        for jobs in runs:
            runs[jobs].append(build(jobs))
    (j1, c1), (j2, c2) = (
        (statistics.median(w for w, _ in runs[j]), statistics.median(c for _, c in runs[j]))
        for j in runs
    )
    return {
        "documents": 30,
        "runs": len(runs["1"]),
        "jobs_1_s": round(j1, 2),
        "jobs_2_s": round(j2, 2),
        "speedup": round(j1 / j2, 2),
        "jobs_1_cpu_s": round(c1, 2),
        "jobs_2_cpu_s": round(c2, 2),
    }


def model_erf_224(repeat: int, folder: Path) -> dict[str, object]:
    """``erf --torch examples/models.py:resnet18 --input-shape 3,224,224``: every drawn layer's
    heatmap, uniform weights (path counts through the graph) and the model's own (autograd),
    and ``rf --torch`` of the same model drawn as a GIF; the model's analysis included."""
    from convanim.figures import parse_figure
    from convanim.kinds import erf, rf

    target = str(ROOT / "examples" / "models.py") + ":resnet18"
    found: dict[str, object] = {"model": "ResNet-18 (examples/models.py), 3x224x224"}
    for weights in ("uniform", "model"):
        figure = parse_figure(
            "erf", {"kind": "erf", "torch": target, "input-shape": "3,224,224", "weights": weights}
        )

        def heatmaps(figure: object = figure) -> None:
            forget_figures()
            erf.KIND.entries(figure)

        found[f"erf_{weights}_seconds"] = round(median_seconds(heatmaps, min(repeat, 3)), 2)
    found["layers"] = len(erf.KIND.rows(figure))
    strip = parse_figure("rf", {"kind": "rf", "torch": target, "input-shape": "3,224,224"})
    path = folder / "resnet_fields.gif"
    strip.render(path)  # warm up; the analysis is cached by the process
    found["rf_gif_seconds"] = round(median_seconds(lambda: strip.render(path), min(repeat, 3)), 2)
    rf._LOADED.clear()
    return found


def manifest_300_text() -> str:
    """300 figures as a documentation build has them: a quarter each plain GIFs, PNG strips,
    worked-number GIFs and pooling GIFs, over inputs 4-8, kernels 2-3, strides 1-2."""
    import itertools

    tables = []
    combos = itertools.product((4, 5, 6, 7, 8), (2, 3), (1, 2), (0, 1), (1, 2))
    variants = ("gif", "png", "values", "pool")
    for number, ((n, k, s, p, copy), variant) in enumerate(
        itertools.product(combos, variants), start=1
    ):
        if number > 300:
            break
        head = f"[f{number}]\ninput = {n}\nkernel = {k}\nstride = {s}\n"
        extra = {
            "gif": f'output = "f{number}.gif"\npadding = {p}\nframe-ms = {400 + 10 * copy}\n',
            "png": f'output = "f{number}.png"\npadding = {p}\nview = "flat"\nseed = {copy}\n'
            "values = true\n"
            if copy == 2
            else f'output = "f{number}.png"\npadding = {p}\nview = "flat"\n',
            "values": f'output = "f{number}.gif"\npadding = {p}\nvalues = true\n'
            f'view = "flat"\nseed = {number}\n',
            "pool": f'kind = "pool"\noutput = "f{number}.gif"\nframe-ms = {400 + 10 * copy}\n',
        }[variant]
        tables.append(head + extra)
    return "\n".join(tables)


def manifest_300(repeat: int, folder: Path) -> dict[str, object]:
    """``build --check`` and a no-op rebuild of a 300-figure manifest, whole processes, after
    one full build; the check's peak memory, and whether it imported matplotlib (it should
    not: nothing is stale). Bytecode is cached, as in an installed package."""
    out = folder / "m300"
    out.mkdir()
    manifest = out / "figures.toml"
    manifest.write_text(manifest_300_text())
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}

    def run(*args: str, cores: set[int] | None = None) -> str:
        return subprocess.run(
            [sys.executable, *args],
            check=True,
            capture_output=True,
            text=True,
            cwd=ROOT,
            env=env,
            preexec_fn=None if cores is None else lambda: os.sched_setaffinity(0, cores),
        ).stdout

    def build(*extra: str, cores: set[int] | None = None) -> None:
        run("-m", "convanim", "build", str(manifest), "-q", *extra, cores=cores)

    def full_build(jobs: str, cores: set[int] | None = None) -> tuple[float, float]:
        """Wall seconds, and the CPU seconds of the build's processes."""
        for path in out.iterdir():
            if path != manifest:
                path.unlink()
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        build("--jobs", jobs, cores=cores)
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
        return wall, cpu

    # A full build with one job, then with two (a minute or more each), and between them the
    # machine's own ceiling. One job is not one core: a PNG strip is compressed on threads
    # (see convanim.formats.png). One job confined to one core is the serial baseline.
    jobs_1, jobs_1_cpu = full_build("1")
    ceiling = cpu_scaling()
    jobs_2, jobs_2_cpu = full_build("2")
    one_core = None
    if hasattr(os, "sched_setaffinity"):
        one_core, _ = full_build("1", cores={min(os.sched_getaffinity(0))})
    check = median_seconds(lambda: build("--check"), repeat)
    noop = median_seconds(build, repeat)
    python = median_seconds(lambda: run("-c", "pass"), repeat)
    probe = (
        "import sys; from convanim.cli import main\n"
        "try:\n    main(['build', sys.argv[1], '-q', '--check'])\n"
        "except SystemExit:\n    pass\n"
        f"print('matplotlib' in sys.modules, {PEAK_KB})"
    )
    imported, peak_kb = run("-c", probe, str(manifest)).split()
    return {
        "figures": 300,
        "full_build_jobs_1_s": round(jobs_1, 1),
        "full_build_jobs_2_s": round(jobs_2, 1),
        "jobs_2_speedup": round(jobs_1 / jobs_2, 2),
        "jobs_1_cores_busy": round(jobs_1_cpu / jobs_1, 2),
        "jobs_2_cores_busy": round(jobs_2_cpu / jobs_2, 2),
        "full_build_jobs_1_one_core_s": None if one_core is None else round(one_core, 1),
        "jobs_2_speedup_over_one_core": None if one_core is None else round(one_core / jobs_2, 2),
        "cpu_bound_speedup": round(ceiling, 2),
        "check_s": round(check, 3),
        "noop_rebuild_s": round(noop, 3),
        "python_c_pass_s": round(python, 3),
        "check_peak_mb": round(int(peak_kb) / 1024, 1),
        "check_imports_matplotlib": imported == "True",
    }


def startup(repeat: int) -> dict[str, float]:
    def run(*args: str) -> None:
        subprocess.run([sys.executable, *args], check=True, capture_output=True, cwd=ROOT)

    python = median_seconds(lambda: run("-c", "pass"), repeat)
    help_ = median_seconds(lambda: run("-m", "convanim", "--help"), repeat)
    return {
        "python_c_pass_s": round(python, 3),
        "convanim_help_s": round(help_, 3),
        "difference_s": round(help_ - python, 3),
    }


def peak_memory(folder: Path) -> dict[str, float]:
    """Peak resident memory of a process rendering a 32x32-input animation (1024 frames max)."""
    script = (
        "import sys; sys.path.insert(0, sys.argv[1]);"
        "from convanim.animate import Output, save; from convanim.geometry import ConvSpec;"
        "save(ConvSpec(32, 3, padding=1), Output(sys.argv[2]));"
        f"print({PEAK_KB})"
    )
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", script, str(ROOT), str(folder / "big.gif")],
        check=True,
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - start
    return {
        "frames": 1024,
        "peak_mb": round(int(result.stdout.strip()) / 1024, 1),
        "wall_s": round(seconds, 2),
        "bytes": (folder / "big.gif").stat().st_size,
    }


def spin(count: int) -> int:
    """Pure-Python arithmetic: work that needs nothing but a core."""
    total = 0
    for i in range(count):
        total += i * i % 7
    return total


def cpu_scaling(count: int = 6_000_000) -> float:
    """How much faster two processes do two equal parts of ``spin`` than one process does.

    No program's parallel part scales better than this, on this machine at this moment: the
    ceiling against which the gallery's job speed-up is read. Two vCPUs of a shared host give
    less than 2.
    """
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    context = multiprocessing.get_context("fork")
    seconds = []
    for workers in (1, 2):
        with ProcessPoolExecutor(workers, mp_context=context) as pool:
            start = time.perf_counter()
            list(pool.map(spin, [count, count]))
            seconds.append(time.perf_counter() - start)
    return seconds[0] / seconds[1]


def gallery(repeat: int, folder: Path) -> tuple[dict[str, object], list[dict[str, object]]]:
    """Wall time of `convanim gallery` (process start included), jobs 1 and default.

    The two are run in turns, so that a busy spell on the machine slows both alike, and each
    turn also measures the machine's own ceiling (``cpu_scaling``). The summary line's own
    time (rendering, after start-up and imports) shows how the parallel part scales; a fresh
    process importing the renderer shows the part no job count shortens.
    """
    import re
    import resource

    from PIL import Image

    def run(jobs: list[str]) -> tuple[float, float]:
        out = folder / "gallery"
        if out.exists():
            for item in out.iterdir():
                item.unlink()
        start = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "-m", "convanim", "gallery", str(out), *jobs],
            check=True,
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
        seconds = time.perf_counter() - start
        build = re.search(r"in ([0-9.]+) s", result.stderr.splitlines()[-1])
        assert build is not None, result.stderr
        return seconds, float(build.group(1))

    one, default, ceiling = [], [], []
    for _ in range(repeat):
        one.append(run(["--jobs", "1"]))
        default.append(run([]))
        ceiling.append(cpu_scaling())
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    wall_one, wall_default = (statistics.median(t[0] for t in runs) for runs in (one, default))
    build_one, build_default = (statistics.median(t[1] for t in runs) for runs in (one, default))
    imports = median_seconds(
        lambda: subprocess.run(
            [sys.executable, "-c", "import convanim.render"], check=True, cwd=ROOT
        ),
        repeat,
    )
    timing = {
        "jobs_1_s": round(wall_one, 2),
        "default_jobs_s": round(wall_default, 2),
        "cores": os.cpu_count(),
        "speedup": round(wall_one / wall_default, 2),
        "pair_speedups": sorted(round(a[0] / b[0], 2) for a, b in zip(one, default, strict=True)),
        "cpu_bound_speedup": round(statistics.median(ceiling), 2),
        "build_phase_jobs_1_s": round(build_one, 2),
        "build_phase_default_s": round(build_default, 2),
        "build_phase_speedup": round(build_one / build_default, 2),
        "python_and_renderer_import_s": round(imports, 2),
        "peak_mb_per_process": round(peak_mb, 1),
    }
    sizes = []
    for name, (frames, width, height, size) in PUBLISHED.items():
        path = folder / "gallery" / f"{name}.gif"
        with Image.open(path) as image:
            ours_w, ours_h = image.size
            ours_frames = image.n_frames
        ours = path.stat().st_size
        ratio = (ours / (ours_frames * ours_w * ours_h)) / (size / (frames * width * height))
        sizes.append(
            {
                "figure": name,
                "frames": ours_frames,
                "pixels": f"{ours_w}x{ours_h}",
                "bytes": ours,
                "reference_bytes": size,
                "bytes_per_frame": round(ours / ours_frames),
                "reference_per_frame": round(size / frames),
                "per_frame_ratio": round((ours / ours_frames) / (size / frames), 2),
                "per_frame_pixel_ratio": round(ratio, 2),
            }
        )
    return timing, sizes


def table(rows: list[dict[str, object]]) -> str:
    keys = list(rows[0])
    widths = [max(len(k), *(len(str(r[k])) for r in rows)) for k in keys]
    lines = [" | ".join(k.ljust(w) for k, w in zip(keys, widths, strict=True))]
    lines.append("-|-".join("-" * w for w in widths))
    lines += [
        " | ".join(str(r[k]).ljust(w) for k, w in zip(keys, widths, strict=True)) for r in rows
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=7, help="runs per measurement (median)")
    parser.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "results.json")
    args = parser.parse_args()
    results: dict[str, object] = {"python": sys.version.split()[0], "cores": os.cpu_count()}
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        rows = per_frame(args.repeat, folder)
        print("Render and encode, one process (median of runs):")
        print(table(rows), end="\n\n")
        results["per_frame"] = rows
        breakdown = gif_breakdown(args.repeat, folder)
        print("Where a plain GIF frame's time goes:")
        print(table(breakdown), end="\n\n")
        results["gif_breakdown"] = breakdown
        erf = erf_per_frame(args.repeat, folder)
        print("Effective receptive field, GIF:", erf, end="\n\n")
        results["erf_per_frame"] = erf
        fields = model_fields_50(args.repeat)
        print("Receptive fields of a model:", fields, end="\n\n")
        results["model_fields_50"] = fields
        drawn = model_erf_224(args.repeat, folder)
        print("A model's effective fields and field drawing:", drawn, end="\n\n")
        results["model_erf_224"] = drawn
        strips = png_strips(args.repeat, folder)
        print("PNG strips:")
        print(table(strips), end="\n\n")
        results["png_strips"] = strips
        worked = worked_numbers(args.repeat, folder)
        print("Worked numbers, GIF:")
        print(table(worked), end="\n\n")
        results["worked_numbers"] = worked
        oblique = oblique_scaling(args.repeat, folder)
        print("Oblique view, 5x5 and 32x32:", oblique, end="\n\n")
        results["oblique_scaling"] = oblique
        kinds = other_kinds(args.repeat, folder)
        print("Other kinds (gallery figures):")
        print(table(kinds), end="\n\n")
        results["other_kinds"] = kinds
        docs = sphinx_jobs(args.repeat, folder)
        print("Sphinx, 30 directives:", docs, end="\n\n")
        results["sphinx_jobs"] = docs
        m300 = manifest_300(args.repeat, folder)
        print("300-figure manifest:", m300, end="\n\n")
        results["manifest_300"] = m300
        start = startup(args.repeat)
        print("Start-up:", start, end="\n\n")
        results["startup"] = start
        memory = peak_memory(folder)
        print("32x32 input, 3x3 kernel, padding 1:", memory, end="\n\n")
        results["peak_memory_32x32"] = memory
        timing, sizes = gallery(args.repeat, folder)
        print("convanim gallery, end to end:", timing, end="\n\n")
        print("Gallery GIF bytes against the published ones (per frame-pixel):")
        print(table(sizes))
        results["gallery"] = timing
        results["gallery_bytes"] = sizes
    args.json.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nwrote {args.json.relative_to(ROOT) if args.json.is_relative_to(ROOT) else args.json}")


if __name__ == "__main__":
    main()
