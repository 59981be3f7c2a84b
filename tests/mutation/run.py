"""``make mutation``: mutation testing of the code that decides trust, with mutmut.

mutmut changes one thing at a time in a function (an operator, a constant, a condition, a
returned value) and runs the tests that reach that function; a change the tests do not notice
"survives". A guard whose mutants survive is a guard the suite would let break. This script

1. copies the tracked files of the repository to ``.kedb/mutation/`` with ``generators/`` renamed
   ``src/`` (mutmut finds a package under ``src/`` by itself, and the working tree is never
   touched),
2. writes mutmut's settings there: the guard modules of :data:`GUARDS`, and the tests of
   :data:`TESTS` (in-process tests only: a mutant is only seen by code running in the test's
   own process),
3. runs ``mutmut run`` on the mutants of the guard functions, two at a time,
4. prints the kill rate per guard and every survivor that ``tests/mutation/equivalent.txt``
   does not explain, and exits 1 when a guard is under :data:`TARGET` or a survivor is
   unexplained.

mutmut mutates function and method bodies; module-level tables (the secret patterns, the
spreadsheet's formula-like prefixes, the search separator) are not mutated by it, so
``tests/test_guards.py`` checks each entry of those tables on its own.

Usage: ``.venv/bin/python tests/mutation/run.py [GUARD ...]`` (default: all). After adding tests
for survivors, ``--survivors`` reruns only the previous run's survivors (minutes, not the half
hour of a full run).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
WORK = REPO / ".kedb" / "mutation"
EQUIVALENT = Path(__file__).with_name("equivalent.txt")
TARGET = 0.90
KILLED = frozenset({"killed", "timeout", "segfault", "caught by type check"})
SEP = "\u01c1"  # mutmut writes a method as  module.xǁClassǁmethod__mutmut_N


@dataclass(frozen=True)
class Guard:
    name: str
    module: str  # dotted, below kedb
    functions: tuple[str, ...] = ("*",)  # function or Class.method names (globs); "*" = the whole module
    tests: tuple[str, ...] = ()  # the tests it is measured by (default: TESTS)

    def patterns(self) -> list[str]:
        """mutmut's names of this guard's mutants, as globs for ``mutmut run``."""
        base = f"kedb.{self.module}.x"
        out = []
        for f in self.functions:
            if f == "*":
                out.append(base + "*")
            elif "." in f:
                cls, meth = f.split(".", 1)
                out.append(f"{base}{SEP}{cls}{SEP}{meth}__mutmut_*")
            else:
                out.append(f"{base}_{f}__mutmut_*")
        return out

    def matches(self, key: str) -> bool:
        prefix = f"kedb.{self.module}.x"
        if not key.startswith(prefix):
            return False
        func = key[len(prefix) :].rsplit("__mutmut_", 1)[0]
        func = func.strip(SEP).replace(SEP, ".") if func.startswith(SEP) else func.removeprefix("_")
        return any(fnmatchcase(func, f) for f in self.functions)


GUARDS: tuple[Guard, ...] = (
    Guard("approval gate", "git.approvals", tests=("GATE",)),
    Guard("approval rules", "core.gate", tests=("GATE",)),
    Guard("signature check", "git.signatures", tests=("SIGNATURES",)),
    Guard("edition filter", "build.context", ("visible", "select", "shows_ticket_ids")),
    Guard("secret and unsafe-content scan", "core.load.scan", tests=("READER",)),
    Guard("HTML sanitiser", "site.text", ("safe_href", "sanitise", "html_text", "_attribute", "_relative", "_finish", "_text", "_image")),
    Guard("spreadsheet neutralisation", "renderers.xlsx", ("text_cell",)),
    Guard("spreadsheet text cleaning", "renderers._md", ("clean",)),
    Guard("strict YAML reader", "core.load.yamlstrict", tests=("READER",)),
    Guard(
        "site swap",
        "build.run",
        ("_replace_tree", "_discard", "_install_file", "_exchange", "_renameat2", "_stale", "_clear", "_repair"),  # not core.background: a mutant of a fork would run on inside the test process
        tests=("SWAP",),
    ),
)
# In-process tests that reach the guards and run in seconds: a mutant is run against every
# selected test that reaches its function, so a slow site build here would be paid thousands of
# times. The site and artefact suites check the same guards end to end in `make test`.
# Code that every KB load runs (the reader and the scans) is reached by nearly every test; it is
# measured by the suites about reading alone, or each surviving mutant would run them all.
# The gate is measured by its own unit tests and real-git scenarios (the other suites build sites).
GATE_TESTS = ("tests/test_gate_units.py", "tests/test_gate_bypasses.py")
SWAP_TESTS = ("tests/test_build_atomic.py", "tests/test_guards.py")
SIGNATURE_TESTS = ("tests/test_signatures.py", "tests/test_gate_bypasses.py")
READER_TESTS = (
    "tests/test_guards_units.py",
    "tests/test_yamlstrict.py",
    "tests/test_rules.py",
    "tests/test_perf_equivalence.py",
    "tests/test_silent_loss.py",
)
TESTS = (
    "tests/test_guards.py",
    "tests/test_guards_units.py",
    "tests/test_gitgate.py",
    "tests/test_rules.py",
    "tests/test_yamlstrict.py",
    "tests/test_perf_equivalence.py",
)

# Named test selections a guard may ask for, each run in its own work folder.
SELECTIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "READER": ("reader", READER_TESTS),
    "GATE": ("gate", GATE_TESTS),
    "SIGNATURES": ("signatures", SIGNATURE_TESTS),
    "SWAP": ("swap", SWAP_TESTS),
}


def _copy_tree(work: Path) -> None:
    """The tracked files, as they are in the working tree, with generators/ as src/."""
    files = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True).stdout.decode().split("\0")
    files += (
        subprocess.run(["git", "ls-files", "-z", "-o", "--exclude-standard"], cwd=REPO, capture_output=True, check=True)
        .stdout.decode()
        .split("\0")
    )
    keep_results = (work / "mutants").is_dir()
    for rel in filter(None, files):
        src = REPO / rel
        if not src.is_file() or src.is_symlink():
            continue
        dst = work / ("src" + rel[len("generators") :] if rel.startswith("generators/") else rel)
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dst)
    if not keep_results:
        (work / "mutants" / "src").mkdir(parents=True, exist_ok=True)


def _settings(work: Path, guards: tuple[Guard, ...], tests: tuple[str, ...]) -> None:
    only = sorted({"src/kedb/" + g.module.replace(".", "/") + ".py" for g in guards})
    text = (work / "pyproject.toml").read_text(encoding="utf-8")
    text = text.split("\n[tool.mutmut]")[0].rstrip() + "\n\n[tool.mutmut]\n"
    text += f"source_paths = {json.dumps(['src'])}\n"
    text += f"only_mutate = {json.dumps(only)}\n"
    text += f"also_copy = {json.dumps(['content', 'known_errors', 'templates', 'mkdocs.yml', 'tests', 'benchmarks'])}\n"
    text += f"pytest_add_cli_args_test_selection = {json.dumps([t for t in tests if (work / t).is_file()])}\n"
    text += 'pytest_add_cli_args = ["-p", "no:cacheprovider"]\n'
    (work / "pyproject.toml").write_text(text, encoding="utf-8")


def _results() -> dict[str, int | None]:
    out: dict[str, int | None] = {}
    for meta in WORK.glob("*/mutants/**/*.meta"):
        out.update(json.loads(meta.read_text(encoding="utf-8")).get("exit_code_by_key", {}))
    return out


def _results_in(work: Path) -> set[str]:
    return {
        k for meta in (work / "mutants").rglob("*.meta") for k in json.loads(meta.read_text(encoding="utf-8")).get("exit_code_by_key", {})
    }


def _equivalent() -> dict[str, str]:
    """``mutant name: reason`` lines of equivalent.txt (a reason is required)."""
    out = {}
    for line in EQUIVALENT.read_text(encoding="utf-8").splitlines() if EQUIVALENT.is_file() else []:
        if line.strip() and not line.startswith("#"):
            key, _, reason = line.partition(":")
            out[key.strip()] = reason.strip()
    return out


def _show(key: str) -> str:
    work = next((w for w in sorted(WORK.iterdir()) if (w / "mutants").is_dir() and key in _results_in(w)), WORK)
    proc = subprocess.run([sys.executable, "-m", "mutmut", "show", key], cwd=work, capture_output=True, text=True)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith(("+", "-")) and not ln.startswith(("+++", "---"))]
    return "\n".join(f"      {ln}" for ln in lines[:6])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("guards", nargs="*", help="guard names (default: all): " + ", ".join(g.name for g in GUARDS))
    ap.add_argument("--keep", action="store_true", help="keep the results of the previous run (mutmut reruns every named mutant)")
    ap.add_argument("--survivors", action="store_true", help="rerun only the previous run's survivors, with today's tests (implies --keep)")
    ap.add_argument("--max-children", type=int, default=os.cpu_count() or 2)
    args = ap.parse_args(argv)
    guards = tuple(g for g in GUARDS if not args.guards or g.name in args.guards)
    if not guards:
        ap.error(f"no guard named {args.guards}")
    before = _results()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "KEDB_REQUIRE_ALL", "CI")}
    groups: dict[tuple[str, ...], list[Guard]] = {}
    for g in guards:
        groups.setdefault(SELECTIONS[g.tests[0]][1] if g.tests and g.tests[0] in SELECTIONS else g.tests or TESTS, []).append(g)
    for tests, members in sorted(groups.items()):
        # one folder per test selection, whatever guards are chosen
        work = WORK / next((folder for folder, sel in SELECTIONS.values() if sel == tests), "guards")
        if not (args.keep or args.survivors):  # only this selection's folder: another run may be using the others
            shutil.rmtree(work, ignore_errors=True)
        _copy_tree(work)
        if args.survivors:  # mutmut maps tests to functions once: without this, tests added since are never run
            (work / "mutants" / "mutmut-stats.json").unlink(missing_ok=True)
        _settings(work, tuple(members), tests)
        patterns = [p for g in members for p in g.patterns()]
        if args.survivors:
            patterns = sorted(k for k, code in before.items() if code == 0 and any(g.matches(k) for g in members))
            if not patterns:
                continue
        print(f"mutating {', '.join(g.name for g in members)} (tests: {', '.join(Path(t).stem for t in tests)})", flush=True)
        cmd = [sys.executable, "-m", "mutmut", "run", "--max-children", str(args.max_children), *patterns]
        proc = subprocess.run(cmd, cwd=work, env=env)
        if proc.returncode not in (0, 1):
            print(f"mutmut run stopped with exit code {proc.returncode}", file=sys.stderr)
            return 2
    return _report(guards)


def _report(guards: tuple[Guard, ...]) -> int:
    from mutmut.stats import status_by_exit_code

    results = _results()
    known = _equivalent()
    failing = False
    print(f"\n{'guard':<34} {'mutants':>8} {'killed':>7} {'survived':>9} {'equivalent':>11} {'not run':>8} {'killed %':>9}")
    unexplained: list[tuple[str, str]] = []
    for g in guards:
        mine = {k: v for k, v in results.items() if g.matches(k)}
        c: Counter[str] = Counter()
        for k, code in mine.items():
            status = status_by_exit_code[code]
            if status in KILLED:
                c["killed"] += 1
            elif status == "survived" and k in known:
                c["equivalent"] += 1
            elif status == "not checked":
                c["not run"] += 1
            else:  # survived, no test reaches it, suspicious
                c["no test" if status == "no tests" else "survived"] += 1
                unexplained.append((g.name, k + ("" if status == "survived" else f"  ({status})")))
        judged = c["killed"] + c["survived"] + c["no test"]
        rate = c["killed"] / judged if judged else 1.0
        failing |= rate < TARGET or c["not run"] > 0 or not mine
        print(
            f"{g.name:<34} {len(mine):>8} {c['killed']:>7} {c['survived'] + c['no test']:>9} {c['equivalent']:>11} "
            f"{c['not run']:>8} {f'{rate:.1%}' if judged else '—':>9}"
        )
    if unexplained:
        print("\nsurvivors not explained in tests/mutation/equivalent.txt:")
        for name, key in unexplained:
            print(f"  [{name}] {key}")
            print(_show(key.split()[0]))
    # only the chosen guards' lines: another guard's mutants are not in this run's results
    stale = [k for k in known if k not in results and any(g.matches(k) for g in guards)]
    if stale:
        print("\nequivalent.txt names mutants that no longer exist: " + ", ".join(stale))
    ok = not failing and not unexplained
    print(f"\n{'every guard is at or above' if ok else 'NOT every guard reaches'} {TARGET:.0%} killed with every survivor explained")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
