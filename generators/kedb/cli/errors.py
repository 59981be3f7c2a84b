"""How every ``kedb`` command ends on an error: a clear message and an exit code, never a traceback.

Shared by ``cli/main.py`` and ``cli/tickets.py``: kedb's own errors carry their exit code (1 bad input,
2 usage or environment); a file the system refuses, git missing, and the ticket store's engine failing
(disk full, a damaged file), are environment problems (2); Ctrl-C ends a command with one line and
130, the shell's code for an interrupt. Anything else is a bug in kedb and is raised as it is.

Notes that the layers below log (``logging.getLogger("kedb…")``, warning level: a cache file that
was ignored) are shown here as ``kedb: note: …`` lines on stderr.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Any, TypeVar, overload

import click

from ..core.errors import KedbError
from ..core.findings import shown

F = TypeVar("F", bound=Callable[..., Any])

INTERRUPTED = 130  # 128 + SIGINT, what a shell reports for a command stopped by Ctrl-C
GIT_HELP = "install git, or put it on PATH"


@overload
def handle_errors(fn: F) -> F: ...
@overload
def handle_errors(*, interrupted: str) -> Callable[[F], F]: ...
def handle_errors(fn: F | None = None, *, interrupted: str = "interrupted") -> Any:
    """Decorate a command. ``interrupted`` is what Ctrl-C prints after ``kedb: `` (a command that
    writes all or nothing says so)."""

    def decorate(fn: F) -> F:
        @wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with _notes(), _watching_ctrl_c() as was_interrupted:
                try:
                    return fn(*args, **kwargs)
                except KeyboardInterrupt:
                    _stop_interrupted(interrupted)
                except Exception as exc:
                    # After Ctrl-C any failure is the interrupt: DuckDB, for one, turns it into
                    # its own RuntimeError("Query interrupted").
                    if was_interrupted():
                        _stop_interrupted(interrupted)
                    _stop(*_explain(exc))

        return wrapper  # type: ignore[return-value]

    return decorate(fn) if fn is not None else decorate


def _stop(message: str, code: int) -> None:
    # A message may quote a record or a ticket export: never let it send control sequences.
    click.echo("kedb: " + shown(message, keep="\n"), err=True)
    sys.exit(code)


def _stop_interrupted(message: str) -> None:
    """End on Ctrl-C, stopping any worker process left: a pool interrupted while it started its
    workers may not know one of them, which would then wait for work for ever after kedb ended."""
    mp = sys.modules.get("multiprocessing")
    for child in mp.active_children() if mp else ():
        child.terminate()
    _stop(message, INTERRUPTED)


def _explain(exc: Exception) -> tuple[str, int]:
    """(message, exit code) for an exception a command let through; re-raise a bug."""
    if isinstance(exc, KedbError):
        return str(exc), exc.exit_code
    missing = _git_missing(exc)
    if missing:
        return f"git is not installed (or not on PATH): {missing}; {GIT_HELP}", 2
    if isinstance(exc, OSError):
        return f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": "), 2
    if type(exc).__module__.startswith(("duckdb", "_duckdb")):
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        return f"the ticket store (.kedb/tickets.duckdb) failed: {first}", 2
    raise exc


def _git_missing(exc: Exception) -> str | None:
    """What needed git, when ``exc`` says the git program is missing; else None.

    GitPython fails at ``import git`` (an ImportError naming the git executable), or, with
    ``GIT_PYTHON_REFRESH=quiet``, at its first command (``GitCommandNotFound``); kedb's own
    ``subprocess`` calls fail with FileNotFoundError for ``git``."""
    if isinstance(exc, ImportError) and "git executable" in str(exc):
        return "this command reads the KB's git history"
    if type(exc).__name__ == "GitCommandNotFound" and type(exc).__module__.startswith("git"):
        return "this command reads the KB's git history"
    if isinstance(exc, FileNotFoundError) and exc.filename == "git":
        return "this command runs git"
    return None


@contextmanager
def _watching_ctrl_c() -> Iterator[Callable[[], bool]]:
    """Note whether Ctrl-C was pressed while the command ran (it still raises KeyboardInterrupt).

    A terminal sends Ctrl-C to every process of the command, worker processes forked by the loader
    and the site build too. A worker lets it pass and its parent, which has the same Ctrl-C, stops
    the pool and reports it. Python's default printed each worker's traceback, and a worker that
    dies while the pool still feeds it work can leave the parent waiting for ever (Python 3.11's
    pool writes to a full pipe nobody reads).
    Python drops an interrupt raised where it can only print it (in a hook run at a fork, in a
    ``__del__``); it is then sent again a moment later, when that code has returned."""
    seen: list[bool] = []
    if threading.current_thread() is not threading.main_thread() or signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        yield lambda: bool(seen)  # a caller that ignores Ctrl-C (a background job) keeps ignoring it
        return
    pid = os.getpid()

    def on_ctrl_c(signum: int, frame: Any) -> None:
        if os.getpid() != pid:
            return
        seen.append(True)
        raise KeyboardInterrupt

    def on_unraisable(info: Any) -> None:
        if not seen or os.getpid() != pid:
            previous_hook(info)
        elif isinstance(info.exc_value, KeyboardInterrupt):
            again = threading.Timer(0.05, signal.raise_signal, (signal.SIGINT,))
            again.daemon = True
            again.start()
        # else: after Ctrl-C, a failure Python can only print (a lock the interrupt left half
        # taken) is the interrupt's doing, and the command is ending

    def on_thread_error(args: Any) -> None:
        if not seen:  # after Ctrl-C, a failing thread (a worker pool's manager) is the interrupt's doing
            previous_thread_hook(args)

    previous = signal.signal(signal.SIGINT, on_ctrl_c)
    previous_hook, sys.unraisablehook = sys.unraisablehook, on_unraisable
    previous_thread_hook, threading.excepthook = threading.excepthook, on_thread_error
    try:
        yield lambda: bool(seen)
    finally:
        signal.signal(signal.SIGINT, previous)
        sys.unraisablehook = previous_hook
        threading.excepthook = previous_thread_hook


class _NoteHandler(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        click.echo("kedb: note: " + shown(record.getMessage(), keep="\n"), err=True)


@contextmanager
def _notes() -> Iterator[None]:
    """Show what the layers below log at warning level as one ``kedb: note:`` line each."""
    logger = logging.getLogger("kedb")
    handler = _NoteHandler(logging.WARNING)
    logger.addHandler(handler)
    propagate, logger.propagate = logger.propagate, False
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate
