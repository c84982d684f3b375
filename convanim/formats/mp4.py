"""MP4: an H.264 video, one frame per index; the stamp is the file's comment.

FFmpeg encodes, from the binary the ``imageio-ffmpeg`` package ships (the ``video`` extra:
``pip install 'convanim[video]'``); imageio itself is not needed, nor used. Frames are piped to
it as raw RGB, ``1000 / frame_ms`` frames a second (a rational rate: 30 ms frames are 100/3
fps, every frame lasting exactly its time), and converted to yuv420p, the pixel format every
player decodes, with BT.709 colours (tagged as such). yuv420p needs an even width and height:
an odd one gets a column on the right or a row at the bottom of the background colour.

FFmpeg writes to an unnamed temporary file (seekable, so that the index can go first for
playback while downloading, ``+faststart``), which is then copied to the stream. It dies with
this process (Linux), and is killed on any error or signal Python sees: nothing is left behind,
neither a file nor a process. The comment is ``convanim:<stamp>``; ``read_stamp`` finds it in
the ``moov`` box without FFmpeg. Same drawing, same FFmpeg: same bytes (one encoding thread,
no encoder version or creation time written).
"""

from __future__ import annotations

import contextlib
import os
import struct
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from fractions import Fraction
from typing import TYPE_CHECKING, BinaryIO

from convanim.drawing import fill
from convanim.errors import ConvSpecError
from convanim.formats import STAMP_KEY, find_stamp

if TYPE_CHECKING:
    from convanim.drawing import Drawing
    from convanim.formats import Writer

__all__ = ["EXTRA_MESSAGE", "WRITER", "Mp4Writer", "ffmpeg", "frame_rate"]

EXTRA_MESSAGE = ".mp4 needs the video extra: pip install 'convanim[video]'"
CRF = 18  # x264's constant quality: flat colours and thin lines stay sharp
PR_SET_PDEATHSIG = 1  # prctl(2): the signal a process gets when its parent dies
COPY_BYTES = 1 << 20
# What the frames' colours are, for the encoder to write into the stream for players.
TAGS = "setparams=color_primaries=bt709:color_trc=bt709:colorspace=bt709:range=tv"


class Mp4Writer:
    """Writes every frame asked for as a frame of an H.264 video."""

    suffix = ".mp4"
    mime_type = "video/mp4"
    animates = True
    vector = False
    what = "video (H.264), with the video extra"

    def check_installed(self) -> None:
        """Refuse, naming the extra to install, where FFmpeg cannot be found."""
        ffmpeg()

    def write(
        self,
        stream: BinaryIO,
        drawing: Drawing,
        indices: Sequence[int],
        columns: int,
        frame_ms: int,
        stamp: str | None,
    ) -> None:
        """Each index a frame of ``frame_ms`` ms; ``columns`` does not apply."""
        if not indices:
            raise ConvSpecError("frames", "no frames to write; expected at least one")
        executable = ffmpeg()
        with tempfile.TemporaryFile() as video, tempfile.TemporaryFile() as log:
            command = _command(executable, drawing.size, frame_ms, stamp, video.fileno())
            with _encoder(command, video.fileno(), log) as process:
                assert process.stdin is not None
                try:
                    for pixels in _frames(drawing, indices):
                        process.stdin.write(pixels)
                    process.stdin.close()
                except BrokenPipeError:  # FFmpeg stopped early: its log says why
                    pass
                status = process.wait()
            if status:
                log.seek(0)
                lines = log.read().decode(errors="replace").strip().splitlines()
                raise OSError(f"ffmpeg failed (exit status {status}): {' '.join(lines[-3:])}")
            video.seek(0)
            while chunk := video.read(COPY_BYTES):
                stream.write(chunk)

    def read_stamp(self, path: str | os.PathLike[str]) -> str | None:
        """The stamp in the file's comment, inside its ``moov`` box; the frames are skipped."""
        try:
            with open(path, "rb") as stream:
                while True:
                    header = stream.read(8)
                    if len(header) < 8:
                        return None
                    size, kind = struct.unpack(">I4s", header)
                    skip = size - 8
                    if size == 1:  # a 64-bit size follows
                        large = stream.read(8)
                        if len(large) < 8:
                            return None
                        skip = struct.unpack(">Q", large)[0] - 16
                    elif size == 0:  # the box runs to the end of the file
                        return find_stamp(stream.read()) if kind == b"moov" else None
                    if skip < 0:
                        return None
                    if kind == b"moov":
                        return find_stamp(stream.read(skip))
                    stream.seek(skip, os.SEEK_CUR)
        except OSError:
            return None


WRITER: Writer = Mp4Writer()


def ffmpeg() -> str:
    """The FFmpeg that imageio-ffmpeg provides; a ConvSpecError naming the extra otherwise."""
    try:
        import imageio_ffmpeg
    except ImportError:
        raise ConvSpecError("output", EXTRA_MESSAGE) from None
    try:
        executable: str = imageio_ffmpeg.get_ffmpeg_exe()
    except RuntimeError as error:  # a platform for which the package ships no binary
        raise ConvSpecError("output", f".mp4 needs FFmpeg, which was not found: {error}") from None
    return executable


def frame_rate(frame_ms: int) -> str:
    """Frames a second for ``frame_ms`` milliseconds a frame, as FFmpeg reads a rational."""
    rate = Fraction(1000, max(frame_ms, 1))
    return f"{rate.numerator}/{rate.denominator}"


def _command(
    executable: str, size: tuple[int, int], frame_ms: int, stamp: str | None, output: int
) -> list[str]:
    width, height = size
    metadata = ["-metadata", f"comment={STAMP_KEY}:{stamp}"] if stamp is not None else []
    return [
        executable,
        *("-hide_banner", "-nostdin", "-loglevel", "error", "-y"),
        # The input: raw RGB frames on standard input.
        *("-f", "rawvideo", "-pix_fmt", "rgb24"),
        *("-s", f"{width + width % 2}x{height + height % 2}"),
        *("-framerate", frame_rate(frame_ms), "-i", "pipe:0"),
        # The video: H.264, yuv420p with BT.709 colours, and the tags that say so.
        *("-vf", "scale=out_color_matrix=bt709:out_range=tv,format=yuv420p," + TAGS),
        *("-c:v", "libx264", "-preset", "medium", "-crf", str(CRF), "-tune", "animation"),
        *("-threads", "1"),  # x264's output depends on its thread count: one, on any machine
        # No encoder version or creation time: the same frames make the same file.
        *("-fflags", "+bitexact", "-flags:v", "+bitexact", "-map_metadata", "-1"),
        *metadata,
        *("-movflags", "+faststart", "-f", "mp4", f"file:/dev/fd/{output}"),
    ]


@contextlib.contextmanager
def _encoder(command: list[str], output: int, log: BinaryIO) -> Iterator[subprocess.Popen[bytes]]:
    """FFmpeg running ``command``, killed and reaped if the block does not finish."""
    process = subprocess.Popen(
        command,
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=log,
        pass_fds=(output,),
        preexec_fn=_die_with(os.getpid()) if sys.platform.startswith("linux") else None,
    )
    try:
        yield process
    except BaseException:
        process.kill()
        process.wait()
        raise
    finally:
        if process.stdin is not None:
            with contextlib.suppress(OSError):
                process.stdin.close()


def _die_with(parent: int) -> Callable[[], None]:
    """A child's first act: get SIGKILL when ``parent`` dies, however it dies (Linux)."""

    def arrange() -> None:
        import ctypes
        import signal

        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:  # the parent died before prctl took effect
            os._exit(1)

    return arrange


def _frames(drawing: Drawing, indices: Sequence[int]) -> Iterator[bytes]:
    """Each frame's RGB bytes, an odd width or height padded with the background."""
    import numpy as np

    from convanim.theme import hex_rgb

    width, height = drawing.size
    padded = np.empty((height + height % 2, width + width % 2, 3), dtype=np.uint8)
    fill(padded, hex_rgb(drawing.background))
    for index in indices:
        drawing.draw(index)
        padded[:height, :width] = drawing.rgba()[:, :, :3]
        yield padded.tobytes()
