"""History benchmark: 10,000 records and 20,000 commits.

The repository is written with ``git fast-import`` (``gitfast.py``; seconds instead of minutes): one commit adds
every record, then 19,999 commits each change one record, a tenth of them renaming it and a
fifth carrying ``Approved-by:`` trailers. Prints the one-pass ``kedb.git.history.read`` time and,
for comparison, per-file ``git log --follow`` on a sample of 200 files scaled to all 10,000.

Target (2-core machine): the full history in under 3 s.

``bench_approvals`` times the gate as users run it: the whole ``kedb check --approvals`` process
on the benchmarks' 10,000-record KB (a git repository of about 20,000 commits: merge requests
with Approved-by: trailers, a quarter of the known errors high-impact, content/roles.yml changed
every few hundred merge requests, so versions are judged by several policies), cache cold and
warm apart, and the gate's two steps (history, verify) in-process.

Target (2-core machine): ``kedb check --approvals`` under 5 s.
"""

from __future__ import annotations

import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

import gitfast
from kedb.git import history
from runs import run_timed, spread
from synth import bench_kb, history_summary

WORK = Path(__file__).resolve().parent / "_work"
N_RECORDS = 10_000
N_COMMITS = 20_000
SAMPLE = 200
# A KB this size keeps its records in one folder per service (known_errors/<service>/); the
# loader reads subfolders. A single flat folder of 10,000 files makes every commit's tree
# 0.5 MB, which git must inflate twice per commit: see benchmarks/README.md for that figure.
SERVICES = 40


def _record(rid: str, rev: int) -> bytes:
    return (
        f"---\nid: {rid}\ntitle: Synthetic record {rid}\nstatus: published\nservice: printing\nowner: ann.owner\n"
        f"created: 2026-01-01\nreview_by: 2027-01-01\n---\n\n## Symptoms\n\nRevision {rev} of {rid}.\n"
    ).encode()


def make_repo(path: Path, seed: int = 7, flat: bool = False) -> Path:
    if (path / ".git").is_dir() and (path / ".complete").exists():
        return path
    subprocess.run(["rm", "-rf", str(path)], check=True)
    path.mkdir(parents=True)
    gitfast.init(path)
    rnd = random.Random(seed)
    ids = [f"KE-{i:05d}" for i in range(1, N_RECORDS + 1)]
    folder = {rid: "known_errors" if flat else f"known_errors/service-{i % SERVICES:02d}" for i, rid in enumerate(ids)}
    names = {rid: f"{folder[rid]}/{rid}-synthetic.md" for rid in ids}
    revs = dict.fromkeys(ids, 0)
    who = ("Ann Owner", "ann@example.com")
    t0 = 1_767_225_600  # 2026-01-01
    with gitfast.FastImport(path) as fi:
        changes = [gitfast.put(names[rid], fi.blob(_record(rid, 0))) for rid in ids]
        last = fi.commit("refs/heads/main", author=who, when=t0 + 60, message="Import 10,000 records\n", changes=changes)
        for n in range(2, N_COMMITS + 1):
            rid = rnd.choice(ids)
            revs[rid] += 1
            changes = []
            if n % 10 == 0:
                changes.append(gitfast.remove(names[rid]))
                names[rid] = f"{folder[rid]}/{rid}-renamed-{n}.md"
            changes.append(gitfast.put(names[rid], fi.blob(_record(rid, revs[rid]))))
            trailer = "\n\nApproved-by: Bob Approver <bob@example.com>" if n % 5 == 0 else ""
            message = f"{rid}: revision {revs[rid]}\n\nWhy this changed, in a sentence or two.{trailer}\n"
            last = fi.commit("refs/heads/main", author=who, when=t0 + n * 60, message=message, parents=[last], changes=changes)
    gitfast.check_out(path)
    (path / ".complete").touch()
    return path


def bench_history(flat: bool = False) -> None:
    repo = make_repo(WORK / ("history-repo-flat" if flat else "history-repo"), flat=flat)
    times = []
    for _ in range(3):
        t = time.perf_counter()
        h = history.read(repo)
        times.append(time.perf_counter() - t)
    assert h is not None
    versions = sum(len(r.versions) for r in h.records.values())
    one_pass = statistics.median(times)
    layout = "one flat folder" if flat else f"{SERVICES} service folders"
    print(f"kedb history, one pass ({N_RECORDS:,} records in {layout}, {N_COMMITS:,} commits; median of 3)")
    print(f"  one git log pass: {one_pass:6.2f} s   {len(h.records):,} records, {versions:,} versions  (target < 3 s)")
    files = sorted(p.relative_to(repo).as_posix() for p in (repo / "known_errors").rglob("*.md"))
    sample = random.Random(1).sample(files, SAMPLE)
    t = time.perf_counter()
    for f in sample:
        subprocess.run(["git", "log", "--follow", "--format=%H", "--", f], cwd=repo, capture_output=True, check=True)
    per_file = time.perf_counter() - t
    print(
        f"  per-file git log --follow: {per_file:6.2f} s for {SAMPLE} files -> {per_file * N_RECORDS / SAMPLE:7.1f} s scaled to {N_RECORDS:,}"
    )


def bench_approvals(n: int = 10_000) -> None:
    from kedb.core.load.loader import load
    from kedb.git.approvals import verify

    kb_root = bench_kb(n)
    facts = history_summary(kb_root)
    cmd = [sys.executable, "-m", "kedb.cli.main", "--root", str(kb_root), "check", "--approvals", "--format", "json"]
    cold, warm = [], []
    for _ in range(3):
        subprocess.run(["rm", "-rf", str(kb_root / ".kedb" / "cache")], check=True)
        cold.append(run_timed(cmd).seconds)
        warm.append(run_timed(cmd).seconds)
    kb, _ = load(kb_root)
    t = time.perf_counter()
    h = history.read(kb_root)
    read_s = time.perf_counter() - t
    assert h is not None
    os.environ["KEDB_NO_CACHE"] = "1"  # old versions read and parsed from git, as in a fresh CI clone
    t = time.perf_counter()
    verify(kb, h)
    verify_cold = time.perf_counter() - t
    del os.environ["KEDB_NO_CACHE"]
    t = time.perf_counter()
    report = verify(kb, h)
    verify_s = time.perf_counter() - t
    judged = [a for a in report.items if a.status not in ("not-required", "before-gate")]
    print(f"kedb check --approvals ({n:,} records, {facts['commits']:,} commits, {facts.get('policy_changes', 0)} policy changes; 3 runs)")
    print(f"  whole process, cache cold: {spread(cold)}   warm: {spread(warm)}   (target < 5 s)")
    print(
        f"  in-process: history.read {read_s:.2f} s; verify {verify_cold:.2f} s cold, {verify_s:.2f} s with the field cache "
        f"(target < 5 s); {len(report.items):,} versions, "
        f"{len(judged):,} judged after the gate ({sum(a.status == 'approved' for a in judged):,} approved, "
        f"{len(report.violations)} violations), {len(report.changes)} maintainer changes"
    )


if __name__ == "__main__":
    if "--approvals" in sys.argv:
        bench_approvals()
    else:
        bench_history(flat="--flat" in sys.argv)
