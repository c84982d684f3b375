"""Worker processes for builds: the standard library only, so that importing this costs nothing."""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import sys
from concurrent.futures import ProcessPoolExecutor

__all__ = ["start_workers", "stop_workers"]

PR_SET_PDEATHSIG = 1  # prctl(2): the signal a process gets when its parent dies


def _die_with(parent: int) -> None:
    """Linux: this worker gets SIGKILL when its parent dies, however the parent dies, so that
    no worker goes on writing figures after a build was stopped."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


def _init_worker(parent: int) -> None:
    """A worker leaves stopping to its parent: Ctrl-C reaches the whole process group, and the
    parent, which handles it, stops the workers. A worker forked from the command line must
    not keep its handlers either: SIGTERM ends a worker at once."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for name in ("SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), signal.SIG_DFL)
    _die_with(parent)


def _warm() -> None:
    """Load the renderer (matplotlib, its fonts) in a worker before figures arrive."""
    import convanim.render  # noqa: F401


def start_workers(jobs: int | None) -> ProcessPoolExecutor | None:
    """Worker processes for a build, already loading the renderer; None for one job.

    Start them after the parent's own imports (numpy, Pillow: forked workers inherit them,
    instead of each importing them again on a shared core) and before the manifest is read:
    the workers spend the third of a second matplotlib takes to import while the parent
    validates. That is most of a small build's time.
    """
    count = jobs or os.cpu_count() or 1
    if count <= 1:
        return None
    # fork starts a worker in milliseconds; elsewhere the platform's default start method.
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else None)
    pool = ProcessPoolExecutor(
        max_workers=count, mp_context=context, initializer=_init_worker, initargs=(os.getpid(),)
    )
    for _ in range(count):
        pool.submit(_warm)
    return pool


def stop_workers(pool: ProcessPoolExecutor) -> None:
    """Stop a build's workers now: queued figures are dropped, running ones killed (their
    files are written atomically, so nothing partial is left and nothing earlier is lost)."""
    terminate = getattr(pool, "terminate_workers", None)  # Python 3.14
    if terminate is not None:
        terminate()
        return
    processes = list(getattr(pool, "_processes", {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        with contextlib.suppress(OSError, AttributeError):
            process.kill()
    for process in processes:
        with contextlib.suppress(OSError, AttributeError, ValueError):
            process.join(timeout=5)
