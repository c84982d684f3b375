"""Faults that happen to the process: real signals sent to real processes, full disks and
read-only folders. Nothing earlier is lost, nothing partial is left, no process outlives its
build.

The file-system tests mount small tmpfs folders and are skipped where the test cannot (not
root, no mount, not Linux).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import convanim
from convanim.formats import TEMPORARY_PREFIX, atomic_output, sweep_temporaries

REPO = Path(convanim.__file__).resolve().parent.parent
# A figure that takes seconds to draw (still drawing when the signal comes at 2 s): numbers in
# every cell of a 28x28 output.
SLOW = ["conv", "-i", "30", "-k", "3", "--values", "--view", "flat"]

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")


def env() -> dict[str, str]:
    path = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    return {**os.environ, "PYTHONPATH": path}


def start(args: list[str], cwd: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "convanim", *args],
        cwd=cwd,
        env=env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        # Python leaves SIGINT as it finds it; a test runner's background jobs may ignore it.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            found += [int(c) for c in (task / "children").read_text().split()]
    return found


def gone(pid: int) -> bool:
    """Dead (a zombie, whose parent is gone, counts: it runs no code)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return True
    return "State:\tZ" in status or "State:\tX" in status


def wait_until(condition: object, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.05)
    return False


def drawing(pid: int) -> bool:
    """Whether process ``pid`` has loaded matplotlib's Agg renderer (Linux)."""
    try:
        return "_backend_agg" in Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return False


def files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


@pytest.mark.parametrize(
    ("signum", "code"),
    [(signal.SIGTERM, 143), (signal.SIGHUP, 129), (signal.SIGINT, 130)],
    ids=["TERM", "HUP", "INT"],
)
def test_a_signal_during_a_render_leaves_the_old_file_and_no_debris(
    tmp_path: Path, signum: int, code: int
) -> None:
    (tmp_path / "x.gif").write_bytes(b"the animation from yesterday")
    before = files(tmp_path)
    process = start([*SLOW, "-o", "x.gif"], tmp_path)
    # Drawing: matplotlib's Agg renderer is loaded, after the checks; the render has seconds
    # of frames to go (a fixed sleep raced it whenever rendering got faster).
    assert wait_until(lambda: drawing(process.pid), 20), "the render never started drawing"
    time.sleep(0.2)
    assert process.poll() is None, process.communicate()
    process.send_signal(signum)
    _, err = process.communicate(timeout=20)
    assert process.returncode == code, err
    assert b"Traceback" not in err
    assert files(tmp_path) == before  # the old file, and nothing else: no temporary


def test_a_killed_writer_s_temporary_is_swept_by_the_next_write(tmp_path: Path) -> None:
    """SIGKILL cannot be handled: where a named temporary was used, the next write of the same
    output removes it, once its process is gone (a live writer's is left alone)."""
    target = tmp_path / "x.gif"
    with atomic_output(target) as stream:  # learn the temporary names of this output
        stream.write(b"1")
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    stem = f"{TEMPORARY_PREFIX}"
    names = [n for n in os.listdir(tmp_path) if n.startswith(stem)]
    assert names == []
    from convanim.formats import _temporary_stem

    stale = tmp_path / f"{_temporary_stem(target)}{dead}-abc123.tmp"
    live = tmp_path / f"{_temporary_stem(target)}{os.getpid()}-def456.tmp"
    other = tmp_path / f"{_temporary_stem(tmp_path / 'y.gif')}{dead}-ghi789.tmp"
    for path in (stale, live, other):
        path.write_bytes(b"partial")
    sweep_temporaries(target)
    assert not stale.exists() and live.exists() and other.exists()
    with atomic_output(tmp_path / "y.gif") as stream:
        stream.write(b"2")
    assert not other.exists()


def test_without_o_tmpfile_a_named_temporary_is_cleaned_on_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delattr(os, "O_TMPFILE", raising=False)
    (tmp_path / "x.gif").write_bytes(b"old")
    with pytest.raises(KeyboardInterrupt), atomic_output(tmp_path / "x.gif") as stream:
        stream.write(b"half")
        assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".convanim-")]
        raise KeyboardInterrupt
    assert files(tmp_path) == {"x.gif": b"old"}
    with atomic_output(tmp_path / ("n" * 246 + ".gif")) as stream:  # a long name still fits
        stream.write(b"new")
    assert (tmp_path / ("n" * 246 + ".gif")).read_bytes() == b"new"


def manifest(folder: Path, count: int) -> Path:
    path = folder / "m.toml"
    path.write_text(
        "".join(
            f'[f{n}]\noutput = "f{n}.gif"\ninput = {16 + n}\nvalues = true\nview = "flat"\n\n'
            for n in range(count)
        )
    )
    return path


@pytest.mark.parametrize(
    ("signum", "code"),
    [(signal.SIGTERM, 143), (signal.SIGINT, 130), (signal.SIGKILL, -9)],
    ids=["TERM", "INT", "KILL"],
)
def test_a_stopped_build_stops_its_workers_and_writes_nothing_more(
    tmp_path: Path, signum: int, code: int
) -> None:
    manifest(tmp_path, 4)
    process = start(["build", "m.toml", "--jobs", "2"], tmp_path)
    assert wait_until(lambda: len(children(process.pid)) >= 2, 10), "no workers started"
    time.sleep(1.5)  # the workers are drawing
    workers = children(process.pid)
    before = files(tmp_path)
    process.send_signal(signum)
    _, err = process.communicate(timeout=20)
    assert process.returncode == code, err
    assert b"Traceback" not in err
    assert wait_until(lambda: all(gone(pid) for pid in workers), 10), "a worker outlived it"
    time.sleep(1.0)  # had a worker survived, it would write now
    assert files(tmp_path) == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".convanim-")]


# -- full and read-only file systems ------------------------------------------------------------


@contextlib.contextmanager
def mounted(folder: Path, options: str) -> Iterator[Path]:
    folder.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True)


def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "convanim", *args],
        cwd=cwd,
        env=env(),
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.skipif(not sys.platform.startswith("linux") or os.geteuid() != 0, reason="root")
def test_gallery_and_build_into_a_full_disk_lose_nothing_and_leave_nothing(tmp_path: Path) -> None:
    with mounted(tmp_path / "full", "size=256k") as full:
        (full / "kept.gif").write_bytes(b"k" * 1000)
        (full / "m.toml").write_text(
            '[a]\noutput = "a.gif"\ninput = 24\n[b]\noutput = "kept.gif"\ninput = 20\n'
        )
        filler = full / "filler"
        with contextlib.suppress(OSError), filler.open("wb") as stream:
            while True:
                stream.write(b"\0" * 4096)
                stream.flush()
        before = files(full)
        for args in (["build", "m.toml", "--jobs", "1"], ["gallery", ".", "--jobs", "1"]):
            done = run(args, full)
            assert done.returncode == 1, done.stderr
            assert "Traceback" not in done.stderr
            assert "No space left on device" in done.stderr
            assert files(full) == before, args  # the old kept.gif survives; nothing partial
            assert not [p for p in full.iterdir() if p.name.startswith(".convanim-")]


@pytest.mark.skipif(not sys.platform.startswith("linux") or os.geteuid() != 0, reason="root")
def test_gallery_and_build_into_a_read_only_folder(tmp_path: Path) -> None:
    with mounted(tmp_path / "ro", "size=1m") as folder:
        (folder / "m.toml").write_text('[a]\noutput = "a.gif"\ninput = 4\n')
        (folder / "a.gif").write_bytes(b"old")
        remount = subprocess.run(["mount", "-o", "remount,ro", str(folder)], capture_output=True)
        if remount.returncode != 0:
            pytest.skip("cannot remount read-only")
        for args, code in (
            (["build", "m.toml"], 1),
            (["gallery", "."], 1),
            (["conv", "-i", "4", "-o", "a.gif"], 1),
        ):
            done = run(args, folder)
            assert done.returncode == code, (args, done.stderr)
            assert "Traceback" not in done.stderr
            assert "Read-only file system" in done.stderr, done.stderr
            assert files(folder) == {
                "m.toml": b'[a]\noutput = "a.gif"\ninput = 4\n',
                "a.gif": b"old",
            }
