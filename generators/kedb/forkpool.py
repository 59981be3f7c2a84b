"""Work split over two forked worker processes that share the parent's data without copying it.

The site build hands its two biggest loops (record pages from their templates, and record
pages through the theme) to forked workers: a fork shares the build context, the MkDocs
configuration and the Jinja environment as they are, where a spawned worker would have to
rebuild or unpickle them. Before forking, the parent's objects are frozen out of the garbage
collector (``gc.freeze``): otherwise a collection in a worker walks, and so copies page by page,
the whole inherited heap.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")
WORKERS = 2  # the machines we build on have two cores; more workers only add forks


def can_fork() -> bool:
    """Fork only where it is safe: a platform that has it, at least two cores, and no other
    threads (``mkdocs serve`` runs a server thread, so its rebuilds stay in one process)."""
    return "fork" in multiprocessing.get_all_start_methods() and (os.cpu_count() or 1) >= 2 and threading.active_count() == 1


def chunked_map(fn: Callable[[list[T]], list[R]], items: Sequence[T], workers: int = WORKERS) -> Iterator[R]:
    """``fn`` over ``items`` in chunks, in forked workers; results in the order of ``items``.

    ``fn`` must be a module-level function; what it needs beyond its chunk it reads from module
    state the caller sets before calling (the fork copies it)."""
    size = max(1, len(items) // (workers * 8))
    chunks = [list(items[i : i + size]) for i in range(0, len(items), size)]
    gc.freeze()
    try:
        with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork")) as pool:
            for chunk in pool.map(fn, chunks):
                yield from chunk
    finally:
        gc.unfreeze()
