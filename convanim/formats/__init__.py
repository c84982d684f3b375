"""File formats: one writer module per format, chosen by the output's suffix.

``_MODULES`` maps a suffix to the module of ``convanim.formats`` that writes it; a module is
imported the first time its format is used, and adding a format is adding a module and a line
here. Every module is light to import (numpy, Pillow and matplotlib are imported when a file is
written), so that listing the formats (``WRITERS``, ``MIME_TYPES``) costs nothing.

Every file convanim writes carries a fingerprint, its stamp (see ``convanim.figures``), as the
format allows: a GIF comment, a PNG or APNG text chunk, SVG or PDF metadata, a WebP's XMP
chunk, an MP4's comment, each the text ``convanim:<stamp>``. ``read_stamp`` reads it back.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import os
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Protocol

from convanim.errors import ConvSpecError

if TYPE_CHECKING:
    from convanim.drawing import Drawing

__all__ = [
    "MIME_TYPES",
    "STAMP_KEY",
    "SUFFIXES",
    "WRITERS",
    "Writer",
    "atomic_output",
    "check_installed",
    "find_stamp",
    "read_stamp",
    "write_drawing",
    "writer_for",
]

_MODULES = {
    ".gif": "gif",
    ".png": "png",
    ".svg": "svg",
    ".pdf": "pdf",
    ".webp": "webp",
    ".apng": "apng",
    ".mp4": "mp4",
    ".html": "html",
}
SUFFIXES = tuple(_MODULES)
STAMP_KEY = "convanim"  # the stamp is stored as "convanim:<stamp>"


class Writer(Protocol):
    """Writes a drawing's frames as one file format."""

    suffix: str  # ".gif"
    mime_type: str  # "image/gif"
    animates: bool  # writes every frame as a frame of an animation
    vector: bool  # writes matplotlib figures (``Drawing.vector``), not pixels
    what: str  # one line for help texts: "animation"

    def write(
        self,
        stream: BinaryIO,
        drawing: Drawing,
        indices: Sequence[int],
        columns: int,
        frame_ms: int,
        stamp: str | None,
    ) -> None:
        """Write frames ``indices`` of ``drawing`` to ``stream``.

        An animating writer writes each index as a frame, ``frame_ms`` milliseconds each; a
        still one tiles them ``columns`` to a row (one index and one column: that frame alone).
        ``stamp`` (hex digits) goes into the file where ``read_stamp`` finds it.
        """
        ...

    def read_stamp(self, path: str | os.PathLike[str]) -> str | None:
        """The stamp a file of this format carries, or None (no file, not ours, unreadable)."""
        ...


def writer_for(path_or_suffix: str | os.PathLike[str]) -> Writer:
    """The writer for a file name (or a bare suffix like '.gif'); otherwise a ConvSpecError."""
    name = os.fspath(path_or_suffix)
    suffix = name.lower() if name.lower() in _MODULES else Path(name).suffix.lower()
    module = _MODULES.get(suffix)
    if module is None:
        supported = ", ".join(_MODULES)
        raise ConvSpecError("output", f"got '{name}'; the supported extensions are {supported}")
    writer: Writer = importlib.import_module(f"{__name__}.{module}").WRITER
    return writer


def check_installed(writer: Writer) -> None:
    """Refuse a format whose optional library is missing: a ConvSpecError naming the extra.

    A writer that needs one (MP4: FFmpeg) has a ``check_installed()`` method; the others need
    nothing beyond convanim's dependencies, and have none.
    """
    check = getattr(writer, "check_installed", None)
    if check is not None:
        check()


def read_stamp(path: str | os.PathLike[str]) -> str | None:
    """The stamp a file convanim wrote carries, or None (no file, not ours, unreadable)."""
    suffix = Path(path).suffix.lower()
    if suffix not in _MODULES:
        return None
    return writer_for(suffix).read_stamp(path)


def find_stamp(data: bytes) -> str | None:
    """The hex digits after the first ``convanim:`` in ``data``, or None."""
    marker = f"{STAMP_KEY}:".encode()
    start = data.find(marker)
    if start < 0:
        return None
    start += len(marker)
    end = start
    while end < len(data) and data[end] in b"0123456789abcdef":
        end += 1
    return data[start:end].decode() or None


TEMPORARY_PREFIX = ".convanim-"  # ".convanim-<name hash>-<pid>-<random>.tmp", beside the output


def _temporary_stem(target: Path) -> str:
    """What every temporary of ``target`` starts with: short, whatever the name's length."""
    digest = hashlib.sha256(target.name.encode("utf-8", "surrogateescape")).hexdigest()[:12]
    return f"{TEMPORARY_PREFIX}{digest}-"


def sweep_temporaries(target: Path) -> None:
    """Remove the temporaries an earlier write of ``target`` left behind when it was killed
    (SIGKILL, a power cut): those whose process is gone. A live writer's are left alone."""
    stem = _temporary_stem(target)
    try:
        names = [n for n in os.listdir(target.parent) if n.startswith(stem) and n.endswith(".tmp")]
    except OSError:
        return
    for name in names:
        pid = name[len(stem) :].split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            with contextlib.suppress(OSError):
                os.unlink(target.parent / name)


def _link(fd: int, name: str) -> None:
    """Give the anonymous file ``fd`` a name: linkat(2) following /proc's link to it (a
    directory fd makes Python call linkat with AT_SYMLINK_FOLLOW, not link(2))."""
    root = os.open("/", os.O_RDONLY)
    try:
        os.link(f"/proc/self/fd/{fd}", name, src_dir_fd=root, follow_symlinks=True)
    finally:
        os.close(root)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike[str]) -> Iterator[BinaryIO]:
    """A binary file that replaces ``path`` only once it is completely written.

    Where the OS allows (Linux's O_TMPFILE), the file has no name while it is written, so a
    process killed on the way leaves nothing; it is given a name only to be renamed over
    ``path``. Elsewhere it is written under a short temporary name beside ``path``
    (``.convanim-<hash>-<pid>-<random>.tmp``), removed on any error or signal that Python
    sees, and swept by the next write of the same output if the process was killed.
    """
    target = Path(path)
    sweep_temporaries(target)
    stem = f"{_temporary_stem(target)}{os.getpid()}-"
    anonymous = getattr(os, "O_TMPFILE", 0)
    fd = -1
    if anonymous:
        try:
            fd = os.open(target.parent or ".", anonymous | os.O_WRONLY, 0o666)
        except OSError:
            fd = -1  # a file system without O_TMPFILE: a named temporary instead
    temporary = None
    if fd < 0:
        fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=stem, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as stream:
            yield stream
            stream.flush()
            if temporary is None:
                temporary = tempfile.mktemp(dir=target.parent, prefix=stem, suffix=".tmp")
                _link(stream.fileno(), temporary)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)
        os.replace(temporary, target)
    except BaseException:
        if temporary is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
        raise


def write_drawing(
    target: BinaryIO | str | os.PathLike[str],
    writer: Writer,
    drawing: Drawing,
    indices: Sequence[int],
    columns: int = 1,
    frame_ms: int = 1000,
    stamp: str | None = None,
) -> None:
    """Write with ``writer`` to a binary stream, or to a path atomically (no partial file)."""
    if isinstance(target, (str, os.PathLike)):
        with atomic_output(target) as stream:
            writer.write(stream, drawing, indices, columns, frame_ms, stamp)
    else:
        writer.write(target, drawing, indices, columns, frame_ms, stamp)


def __getattr__(name: str) -> Any:
    # The listings import every format module: built on first use, once.
    if name == "WRITERS":
        value: dict[str, str] = {suffix: writer_for(suffix).what for suffix in _MODULES}
    elif name == "MIME_TYPES":
        value = {suffix: writer_for(suffix).mime_type for suffix in _MODULES}
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


if TYPE_CHECKING:
    WRITERS: dict[str, str]  # suffix: what the format holds, for help texts
    MIME_TYPES: dict[str, str]  # suffix: MIME type
