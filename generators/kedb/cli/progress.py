"""How the ticket commands show their progress on stderr (the work reports it through :class:`kedb.tickets.progress.Progress`).

On a terminal: a rich bar per phase (how far DuckDB is through it, time taken, and at the end
what it did: rows read, tickets made). In a pipe or CI (``CI`` set): exactly one plain line per
phase when it ends, ``kedb: tickets import: reading export.csv (1,123.7 MB): 4,547,096 rows (6.1 s)``,
with no control characters, so a CI log stays readable.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click

from ..core.findings import shown
from ..tickets.progress import Progress


def interactive() -> bool:
    """Bars only on a terminal outside CI."""
    return sys.stderr.isatty() and not os.environ.get("CI")


class Lines(Progress):
    """One line per phase, written when it ends."""

    def __init__(self, command: str) -> None:
        self.command = command
        self.name = ""
        self.started = 0.0

    def start(self, name: str) -> None:
        self.name, self.started = name, time.perf_counter()

    def end(self, detail: str = "") -> None:
        secs = time.perf_counter() - self.started
        text = f"kedb: {self.command}: {self.name}{': ' + detail if detail else ''} ({secs:.1f} s)"
        click.echo(shown(" ".join(text.split())), err=True)


class Bars(Progress):
    """A rich progress bar per phase."""

    def __init__(self, bars: Any) -> None:
        self.bars = bars
        self.task: Any = None
        self.name = ""

    def start(self, name: str) -> None:
        self.name = name
        self.task = self.bars.add_task(name, total=None)

    def update(self, fraction: float) -> None:
        if self.task is not None:
            self.bars.update(self.task, total=100, completed=round(fraction * 100, 1))

    def end(self, detail: str = "") -> None:
        if self.task is not None:
            self.bars.update(self.task, total=100, completed=100, description=f"{self.name}{': ' + detail if detail else ''}")
            self.task = None


@contextmanager
def progress(command: str) -> Iterator[Progress]:
    """The progress display for ``command`` (``tickets import``): bars on a terminal, lines elsewhere."""
    if not interactive():
        yield Lines(command)
        return
    from rich.console import Console
    from rich.progress import BarColumn, SpinnerColumn, TaskProgressColumn, TextColumn, TimeElapsedColumn
    from rich.progress import Progress as RichProgress

    bars = RichProgress(
        SpinnerColumn(finished_text="[green]✓[/green]"),
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
    )
    with bars:
        yield Bars(bars)
