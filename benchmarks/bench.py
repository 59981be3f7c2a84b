"""`make bench`: time kedb on synthetic KBs and print the figures.

Targets (2-core machine): `kedb check` on 10,000 records in under 3 s.

Every timed run must exit with 0: the synthetic KBs are clean (no findings at all), and a
warning alone would still exit 0 (only errors, or warnings under `--strict`, exit 1), so any
other exit code means something broke and the benchmark stops instead of printing a time.
"""

from __future__ import annotations

import functools
import os
import shutil
import statistics
import sys
from collections.abc import Callable
from pathlib import Path

from runs import run_timed
from synth import bench_kb

KEDB = Path(sys.executable).parent / "kedb"


def timed(
    cmd: list[str], repeat: int = 3, env: dict[str, str] | None = None, before: Callable[[], None] | None = None
) -> tuple[list[float], str]:
    """Wall seconds of ``repeat`` runs (each must exit 0) and the last line the last one printed."""
    times, out = [], ""
    for _ in range(repeat):
        if before:
            before()
        run = run_timed(cmd, env=env)
        times.append(run.seconds)
        out = run.stdout.strip().splitlines()[-1] if run.stdout.strip() else run.stderr.strip()
    return times, out


TARGET_S = 3.0


def bench_check(repeat: int = 5, sizes: tuple[int, ...] = (1_000, 10_000)) -> None:
    """Cold, warm and cache-off runs of the whole `kedb check` process on 1,000 and 10,000 records."""
    print(
        f"kedb check: whole CLI process, median of {repeat} runs (min-max); load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    print("  cold = no cache (first run, or kedb or the settings changed): reads every file and writes .kedb/cache/")
    print("  warm = nothing changed since the last run: per-file results from .kedb/cache/, validation and rules as always")
    print("  off  = KEDB_NO_CACHE=1: reads every file, writes nothing (the OS file cache is warm in all three)")
    for n in sizes:
        kb = bench_kb(n)  # the same KB (a git repository with history) as the site bench
        cmd = [str(KEDB), "--root", str(kb), "check", "--as-of", "2026-11-22"]
        cache_dir = kb / ".kedb" / "cache"
        runs = {
            "cold": timed(cmd, repeat, before=functools.partial(shutil.rmtree, cache_dir, ignore_errors=True)),
            "warm": timed(cmd, repeat),  # the cache the last cold run wrote
            "off": timed(cmd, repeat, env={**os.environ, "KEDB_NO_CACHE": "1"}),
        }
        for mode, (times, last) in runs.items():
            med = statistics.median(times)
            verdict = ""
            if n == 10_000:
                verdict = f"  target < {TARGET_S:g} s: {'met' if med < TARGET_S else 'NOT met'}"
            print(f"  N={n:>6,} {mode:4s}: {med:5.2f} s ({min(times):.2f}-{max(times):.2f})   {last}{verdict}")


if __name__ == "__main__":
    bench_check()
    __import__("bench_tickets").main([])  # tickets import, candidates and kpi on 1,000,000 synthetic tickets
    __import__("bench_history").bench_history()  # one-pass history: 10,000 records, 20,000 commits
    __import__("bench_history").bench_approvals()  # kedb check --approvals on the 10,000-record KB with its history
    __import__("bench_site").bench_site()  # the site at 1,000 and 10,000 records, search in headless Chromium
    __import__("bench_artefacts").bench_artefacts()  # the four artefacts at 1,000 and 10,000 records
    __import__("bench_findability").bench_findability()  # search quality and speed: the query set, example KB and 10,000 records
