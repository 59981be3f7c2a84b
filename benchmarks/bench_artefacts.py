"""The four artefacts at 1,000 and 10,000 records: seconds and size of each, from one context.

``make bench`` runs it (or ``.venv/bin/python benchmarks/bench_artefacts.py 1000 10000``).
Target (issues #6 and #18, 2-core machine): all four for 10,000 records in under 30 s, as `kedb build`
renders them (kedb.build.run.render_artefacts: three in two forked workers, the proof brief beside
them). Each renderer is also timed alone, one after another, with its CPU seconds beside its wall
seconds and the load average before and after: on a shared machine the wall time says as much about
the neighbours as about kedb.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path

from kedb import renderers
from kedb.build.context import make
from kedb.build.run import render_artefacts
from synth import bench_kb

WORK = Path(__file__).resolve().parent / "_work"
TARGET_S = 30.0  # issue #18: the four at 10,000 records


def bench_artefacts(sizes: tuple[int, ...] = (1_000, 10_000)) -> None:
    print("the four artefacts (one context each size; wall / CPU seconds per renderer)")
    for n in sizes:
        kb = bench_kb(n)  # a git repository with history and approvals (benchmarks/synth.py)
        t = time.perf_counter()
        ctx = make(kb, as_of=None)
        load = time.perf_counter() - t
        out = WORK / f"artefacts-{n}"
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir(parents=True)
        parts, total, total_cpu, before = [], 0.0, 0.0, os.getloadavg()[0]
        for name in renderers.ARTEFACTS:
            t, c = time.perf_counter(), time.process_time()
            path = renderers.get(name)(ctx, out)
            secs, cpu = time.perf_counter() - t, time.process_time() - c
            total, total_cpu = total + secs, total_cpu + cpu
            parts.append(f"{name} {secs:4.1f} / {cpu:4.1f} s ({path.stat().st_size / 1e6:.1f} MB)")
        print(f"  N={n:>6,}: context {load:4.1f} s; one after another: " + ", ".join(parts) + f"; all four {total:5.1f} / {total_cpu:5.1f} s; "
              f"load {before:.1f} -> {os.getloadavg()[0]:.1f}")  # fmt: skip
        together = out / "build"
        together.mkdir()
        ctx = make(kb, as_of=None)  # a fresh context: nothing rendered from it yet
        before = os.getloadavg()[0]
        t = time.perf_counter()
        render_artefacts(ctx, list(renderers.ARTEFACTS), together)
        secs = time.perf_counter() - t
        target = f" (target < {TARGET_S:g} s: {'met' if secs < TARGET_S else 'NOT met'})" if n >= 10_000 else ""
        print(f"  N={n:>6,}: as kedb build renders them (beside each other on {os.cpu_count()} cores): {secs:5.1f} s{target}; "
              f"load {before:.1f} -> {os.getloadavg()[0]:.1f}")  # fmt: skip


if __name__ == "__main__":
    bench_artefacts(tuple(int(a) for a in sys.argv[1:]) or (1_000, 10_000))
