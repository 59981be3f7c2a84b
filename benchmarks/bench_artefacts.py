"""The four artefacts at 1,000 and 10,000 records: seconds and size of each, from one context.

``make bench`` runs it (or ``.venv/bin/python benchmarks/bench_artefacts.py 1000 10000``).
Target (issue #6, 2-core machine): all four for 10,000 records in under 30 s.
"""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path

from kedb import renderers
from kedb.build.context import make
from synth import bench_kb

WORK = Path(__file__).resolve().parent / "_work"


def bench_artefacts(sizes: tuple[int, ...] = (1_000, 10_000)) -> None:
    print("the four artefacts (one context each size; wall seconds per renderer)")
    for n in sizes:
        kb = bench_kb(n)  # a git repository with history and approvals (benchmarks/synth.py)
        t = time.perf_counter()
        ctx = make(kb, as_of=None)
        load = time.perf_counter() - t
        out = WORK / f"artefacts-{n}"
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir(parents=True)
        parts, total = [], 0.0
        for name in renderers.ARTEFACTS:
            t = time.perf_counter()
            path = renderers.get(name)(ctx, out)
            secs = time.perf_counter() - t
            total += secs
            parts.append(f"{name} {secs:4.1f} s ({path.stat().st_size / 1e6:.1f} MB)")
        target = "  (target < 30 s)" if n >= 10_000 else ""
        print(f"  N={n:>6,}: context {load:4.1f} s; " + ", ".join(parts) + f"; all four {total:5.1f} s{target}")


if __name__ == "__main__":
    bench_artefacts(tuple(int(a) for a in sys.argv[1:]) or (1_000, 10_000))
