"""How the ``kedb`` process ends: quickly after a command that built a large KB in memory.

When a Python process exits, it frees every object that is still reachable one by one. After
``kedb build`` at 10,000 records that is some 800,000 objects (the site model, MkDocs' pages and
config, Jinja's templates, caches), and freeing them took 2.5–3.2 s of a 22 s warm build: time
in which the build was finished and nothing else happened. The operating system takes the
memory back at once when the process ends, so a command that holds a large KB (``build``,
``check``) calls :func:`quickly`, and :func:`run` (the console script) then ends the process with ``os._exit``
once output is flushed and the exit handlers have run.

A build also leaves Python's cyclic collector rare until the process ends (:func:`collect_rarely_to_the_end`):
putting its thresholds back when the build is done made the next allocation walk every object the build left
(0.75 s after a warm build of 10,000 records), to free nothing the process still needed.

Only :func:`run` ends a process this way: a test that runs the CLI inside the test's own process
(``CliRunner``) goes on as before. And only when no other thread is still running: one that
has not finished must be waited for, as a normal exit does.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import sys
import threading
from typing import Any

from ..core import collector

_quick = False
_console = False  # run() is in charge of this process: it ends when the command is done


def quickly() -> None:
    """Let :func:`run` end the process without freeing its objects once this command is done."""
    global _quick
    _quick = True


def collect_rarely_to_the_end() -> None:
    """Under :func:`run`, keep cyclic collections rare (:mod:`kedb.core.collector`) until the process ends; in a
    process that goes on (a test's ``CliRunner``) nothing changes."""
    if _console:
        collector.start()


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe, a closed stream: nothing more can be said there
            stream.flush()


def run(main: Any) -> None:
    """Run the click group ``main`` as the console script does, then end the process."""
    global _console
    _console = True
    try:
        main()
    except SystemExit as exc:
        code = exc.code
        others = [t for t in threading.enumerate() if t is not threading.main_thread() and t.is_alive() and not t.daemon]
        if not _quick or others or not (code is None or isinstance(code, int)):
            raise
    else:  # pragma: no cover - click's standalone mode always ends with SystemExit
        code = 0
    _flush()
    atexit._run_exitfuncs()  # what a normal exit runs first (logging's flush, multiprocessing's finalizers, …)
    _flush()
    os._exit(code or 0)
