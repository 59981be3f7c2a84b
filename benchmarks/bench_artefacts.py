"""The four artefacts at 1,000 and 10,000 records: seconds and size of each, from one context.

``make bench`` runs it (or ``.venv/bin/python benchmarks/bench_artefacts.py 1000 10000``).
Target (issues #6 and #18, 2-core machine): all four for 10,000 records in under 30 s. Each renderer's
CPU seconds are shown beside its wall seconds, with the load average before and after: on a shared
machine the wall time says as much about the neighbours as about kedb.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path

from kedb import renderers
from kedb.build.context import make
from synth import bench_kb

WORK = Path(__file__).resolve().parent / "_work"


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
        target = "  (target < 30 s)" if n >= 10_000 else ""
        print(f"  N={n:>6,}: context {load:4.1f} s; " + ", ".join(parts) + f"; all four {total:5.1f} / {total_cpu:5.1f} s{target}; "
              f"load {before:.1f} -> {os.getloadavg()[0]:.1f}")  # fmt: skip


if __name__ == "__main__":
    bench_artefacts(tuple(int(a) for a in sys.argv[1:]) or (1_000, 10_000))
