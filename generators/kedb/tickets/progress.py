"""What a long ticket command says while it works: phases, and how far DuckDB is through the current one.

The ticket layer never prints; it tells a :class:`Progress` that a phase starts and ends, and
:func:`phase` asks DuckDB how far its running query is (``query_progress``, from a helper thread)
so a terminal can show a bar. The CLI decides how it looks (``kedb.cli.progress``): bars on a
terminal, one line per phase in a pipe or CI. :data:`QUIET` shows nothing.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

POLL_SECONDS = 0.25


class Progress:
    """The receiver of progress reports; this base class ignores them (the CLI's subclasses show them)."""

    def start(self, name: str) -> None:
        """A phase starts."""

    def update(self, fraction: float) -> None:
        """The current phase is ``fraction`` (0–1) done (called from a helper thread)."""

    def end(self, detail: str = "") -> None:
        """The current phase ended; ``detail`` says what it did (``4,547,096 rows``)."""


QUIET = Progress()


class Phase:
    """The running phase: what it did can be said before it ends."""

    def __init__(self) -> None:
        self.detail = ""


def _watch(con: Any, progress: Progress, stop: threading.Event) -> None:
    while not stop.wait(POLL_SECONDS):
        try:
            done = con.query_progress()
        except Exception:  # a report of progress must never break the work it reports on
            return
        if done is not None and done >= 0:
            progress.update(min(done, 100.0) / 100.0)


@contextmanager
def phase(progress: Progress, name: str, con: Any = None) -> Iterator[Phase]:
    """Report ``name`` as the current phase; with ``con``, how far its DuckDB queries are."""
    progress.start(name)
    current = Phase()
    stop = threading.Event()
    watcher = None
    if con is not None and progress is not QUIET:
        con.execute("SET enable_progress_bar = true")
        con.execute("SET enable_progress_bar_print = false")
        watcher = threading.Thread(target=_watch, args=(con, progress, stop), daemon=True)
        watcher.start()
    try:
        yield current
    finally:
        stop.set()
        if watcher is not None:
            watcher.join()
    progress.end(current.detail)
