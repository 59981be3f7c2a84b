"""`make bench`: time kedb on synthetic KBs and print the figures.

Targets (2-core machine): `kedb check` on 10,000 records in under 3 s.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

from synth import make_kb

WORK = Path(__file__).resolve().parent / "_work"
KEDB = Path(sys.executable).parent / "kedb"


def timed(cmd: list[str], repeat: int = 3) -> tuple[float, str]:
    times, out = [], ""
    for _ in range(repeat):
        t = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True)
        times.append(time.perf_counter() - t)
        out = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else proc.stderr.strip()
    return statistics.median(times), out


def bench_check() -> None:
    print("kedb check (median of 3 runs, whole CLI process)")
    for n in (1_000, 10_000):
        kb = WORK / f"kb-{n}"
        if not (kb / "known_errors").is_dir() or len(list((kb / "known_errors").iterdir())) != n:
            make_kb(kb, n)
        secs, last = timed([str(KEDB), "--root", str(kb), "check", "--as-of", "2026-11-22"])
        target = "  (target < 3 s)" if n == 10_000 else ""
        print(f"  N={n:>6,}: {secs:6.2f} s   {last}{target}")


if __name__ == "__main__":
    bench_check()
    __import__("bench_tickets").main([])  # tickets import, candidates and kpi on 1,000,000 synthetic tickets
