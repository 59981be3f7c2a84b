"""Python's cyclic garbage collector while kedb builds a site.

CPython collects reference cycles after every 700 new container objects, and every tenth or
hundredth of those collections walks every object the process holds. A build of 10,000 records
holds some 800,000 (the KB, its history and approvals, the site model, MkDocs' pages), so the
collector walked them again and again: 3.4–5.5 s of CPU in a 12–14 s warm build here, while
it found about a thousand objects to free in all. :func:`rarely` makes collections a hundred
times rarer for the length of a build (the process's memory stayed at 585 MB either way);
nothing else changes, and the thresholds are put back after.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

THRESHOLDS = (100_000, 50, 100)  # young objects before a collection; young, then middle collections before an older one


def start() -> tuple[int, ...]:
    """Make collections rare; returns the thresholds to give :func:`stop`."""
    old = gc.get_threshold()
    gc.set_threshold(*(max(a, b) for a, b in zip(THRESHOLDS, old, strict=True)))
    return old


def stop(old: tuple[int, ...]) -> None:
    gc.set_threshold(*old)


@contextmanager
def rarely() -> Iterator[None]:
    """Rare collections inside the ``with`` block (see the module docstring)."""
    old = start()
    try:
        yield
    finally:
        stop(old)
