"""Worker processes for builds: the standard library only, so that importing this costs nothing."""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor

__all__ = ["start_workers"]


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
    pool = ProcessPoolExecutor(max_workers=count, mp_context=context)
    for _ in range(count):
        pool.submit(_warm)
    return pool
