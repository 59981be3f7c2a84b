"""Bounded memories of a process that builds again (``mkdocs serve``): what the last build made, given to the next.

Each memory is a plain dict, newest last: :func:`keep` puts a value in as the newest and forgets the oldest beyond a
bound (a test process reads many KBs one after another; a serve process one or two). What a memory holds and when it
may be given again is its owner's rule, next to it (the loader's record files, the page store, page keys, listing
rows, the kept history and approval report).
"""

from __future__ import annotations

from typing import TypeVar

K = TypeVar("K")
V = TypeVar("V")


def keep(memory: dict[K, V], key: K, value: V, at_most: int) -> V:
    """Put ``value`` under ``key`` in ``memory`` as its newest item, and forget the oldest past ``at_most``."""
    memory.pop(key, None)
    memory[key] = value
    while len(memory) > at_most:
        del memory[next(iter(memory))]
    return value
