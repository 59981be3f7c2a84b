"""Timing a command the way users run it: the whole process, and only when it succeeded.

A run that exits with another code than expected stops the benchmark with the command, its exit
code and the end of its output: a failing build or check is never printed as a time.
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Run:
    seconds: float  # wall time of the process
    cpu_seconds: float  # user + system time of the process and the workers it waited for
    stdout: str
    stderr: str
    max_rss_gb: float = 0.0  # peak resident memory of the process or of a worker it waited for (``wait4``)


def run_timed(cmd: Sequence[str], *, env: dict[str, str] | None = None, cwd: str | None = None, expect: int = 0) -> Run:
    """Run ``cmd`` to its end and time it; stop the benchmark unless it exited with ``expect``."""
    with tempfile.TemporaryFile("w+", encoding="utf-8") as out, tempfile.TemporaryFile("w+", encoding="utf-8") as err:
        t = time.perf_counter()
        proc = subprocess.Popen(list(cmd), stdout=out, stderr=err, text=True, env=env, cwd=cwd)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - t
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if proc.returncode != expect:
        raise SystemExit(
            f"benchmark stopped: `{shlex.join(cmd)}` exited with {proc.returncode} (expected {expect}), so it is not timed.\n"
            f"--- end of its output ---\n{stdout[-3000:]}\n--- end of its error output ---\n{stderr[-3000:]}"
        )
    cpu = usage.ru_utime + usage.ru_stime
    return Run(seconds, cpu, stdout, stderr, usage.ru_maxrss / 1024 / 1024)


def spread(values: Sequence[float], unit: str = "s", digits: int = 2) -> str:
    """``median unit (min-max)``, the way every benchmark here prints a set of runs."""
    med = statistics.median(values)
    return f"{med:.{digits}f} {unit} ({min(values):.{digits}f}-{max(values):.{digits}f})"


@contextlib.contextmanager
def serve_apart(site: Path) -> Iterator[str]:
    """The built site over HTTP/1.1 on localhost, from a server process of its own.

    Browser timings are taken against this server, not one on a thread of the benchmark's own
    process: there every response waited on the interpreter lock the browser driver holds, and
    a file of 100 KB took 150-560 ms to arrive, which no web server a user reaches does."""
    cmd = [sys.executable, "-u", "-m", "http.server", "0", "--bind", "127.0.0.1", "--protocol", "HTTP/1.1", "--directory", str(site)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        port = re.search(r" port (\d+)", line)
        if port is None:
            raise SystemExit(f"benchmark stopped: `{shlex.join(cmd)}` did not say which port it serves on: {line!r}")
        yield f"http://127.0.0.1:{port[1]}/"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
