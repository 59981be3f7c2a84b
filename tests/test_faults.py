"""Faults a user meets get one line on stderr and a known exit code, never a traceback or a hang.

Each test runs ``kedb`` as a real process, as a user would: without git on PATH, with Ctrl-C sent
to its process group (what a terminal does), two imports at once, a FIFO where a cache file was.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb
import pytest

from kbtest import FIXTURES, init_repo, kedb

SMALL_EXPORT = FIXTURES / "tickets" / "servicenow-semicolon.csv"
GIT_MISSING = re.compile(r"kedb: git is not installed \(or not on PATH\): [^\n]+; install git[^\n]*\n")
INTERRUPTED = "kedb: interrupted; nothing was imported, the ticket store is as it was\n"


def run(root: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kedb.cli.main", "--root", str(root), *args],
        env=env or user_env(root.parent),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


Start = Callable[..., subprocess.Popen[str]]


@pytest.fixture
def start() -> Iterator[Start]:
    """``start(root, *args)``: ``kedb`` in its own process group, so Ctrl-C can go to all its
    processes as from a terminal. What is left of the group when the test ends is killed."""
    started: list[subprocess.Popen[str]] = []

    def run_kedb(root: Path, *args: str) -> subprocess.Popen[str]:
        proc = subprocess.Popen(
            [sys.executable, "-m", "kedb.cli.main", "--root", str(root), *args],
            env=user_env(root.parent),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
            # as from a terminal: a runner started in the background by a shell without job
            # control ignores SIGINT, and a child would inherit that and never see the Ctrl-C
            preexec_fn=_default_sigint,
        )
        started.append(proc)
        return proc

    yield run_kedb
    for proc in started:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def user_env(home: Path, path: str | None = None) -> dict[str, str]:
    return {"PATH": path or os.environ["PATH"], "HOME": str(home), "XDG_CACHE_HOME": str(home / "xdg"), "LANG": "C.UTF-8"}


def wait_for(what: str, ok: Callable[[], bool], proc: subprocess.Popen[str] | None = None, timeout: float = 60) -> None:
    end = time.monotonic() + timeout
    while not ok():
        if proc is not None and proc.poll() is not None:
            pytest.fail(f"kedb ended (exit {proc.returncode}) before {what}: {proc.communicate()}")
        if time.monotonic() > end:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.02)


# ---------------------------------------------------------------- git missing


@pytest.fixture
def no_git_path(tmp_path: Path) -> str:
    """A PATH with python and no git."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "python3").symlink_to(sys.executable)
    assert shutil.which("git", path=str(bindir)) is None
    return str(bindir)


@pytest.fixture
def repo_kb(tmp_path: Path) -> Path:
    return init_repo(shutil.copytree(FIXTURES / "base", tmp_path / "kb"))


@pytest.mark.parametrize("refresh", [None, "quiet"], ids=["default", "GIT_PYTHON_REFRESH=quiet"])
@pytest.mark.parametrize(
    "args",
    [
        ["check", "--approvals"],
        ["check", "--base", "main"],
        ["history", "KE-0001"],
        ["review", "--base", "main"],
        ["build", "--only", "xlsx"],
    ],
    ids=lambda a: " ".join(a),
)
def test_git_missing_is_one_line_and_exit_2(repo_kb: Path, no_git_path: str, args: list[str], refresh: str | None) -> None:
    """With GIT_PYTHON_REFRESH=quiet, GitPython used to import without git and `check --approvals`
    passed on an empty history; it must stop the same way as without the setting."""
    env = user_env(repo_kb.parent, no_git_path) | ({"GIT_PYTHON_REFRESH": refresh} if refresh else {})
    res = run(repo_kb, *args, env=env)
    assert res.returncode == 2, res
    assert GIT_MISSING.fullmatch(res.stderr), res.stderr
    assert not (repo_kb / "site").exists()


def test_what_needs_no_git_runs_without_it(repo_kb: Path, tmp_path: Path, no_git_path: str) -> None:
    env = user_env(tmp_path, no_git_path)
    res = run(repo_kb, "check", env=env)
    assert (res.returncode, res.stderr) == (0, ""), res
    plain = shutil.copytree(FIXTURES / "base", tmp_path / "plain")  # not a git repository
    res = run(plain, "build", "--only", "xlsx", env=env)
    assert res.returncode == 0, res
    assert "No git history" in res.stdout and (plain / "site" / "downloads" / "kpi-and-risk-register.xlsx").is_file()


# ---------------------------------------------------------------- ticket imports: Ctrl-C and two at once

SERVICENOW = (
    "number,incident_state,active,reassignment_count,reopen_count,sys_mod_count,made_sla,caller_id,opened_at,"
    "sys_updated_by,sys_updated_at,company,business_service,category,subcategory,u_symptom,cmdb_ci,priority,"
    "assignment_group,short_description,problem_id,resolved_at,closed_at"
)


@pytest.fixture(scope="module")
def big_export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A ServiceNow event log of 300,000 tickets (600,000 rows, 117 MB): an import of several seconds.

    Written directly (one second) rather than with benchmarks/synth_tickets.py (twenty): only its
    size matters here."""
    path = tmp_path_factory.mktemp("export") / "big-export.csv"
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(SERVICENOW + "\n")
        for i in range(300_000):
            d, n = f"{i % 28 + 1:02d}-{i % 12 + 1:02d}-2026", f"INC{i:08d}"
            common = f"Caller {i % 500},{d} 09:00,agent{i % 40}"
            what = f"CUST{i % 37},printing,Print spooler {i % 90},?,?,PRN-{i % 300},3 - Moderate"
            fh.write(f"{n},New,true,0,0,0,true,{common},{d} 09:00,{what},Service Desk,Spooler stopped {i % 1000},?,?,?\n")
            fh.write(f"{n},Resolved,false,1,0,1,true,{common},{d} 11:30,{what},Print Team,Spooler stopped {i % 1000},?,{d} 11:30,?\n")
    return path


@pytest.fixture
def kb_with_store(base_kb: Path) -> Path:
    res = kedb("--root", str(base_kb), "tickets", "import", str(SMALL_EXPORT), "--source", "servicenow")
    assert res.exit_code == 0, res.output
    return base_kb


def kedb_dir(root: Path) -> dict[str, bytes]:
    """The files of .kedb/ (the store and anything beside it), by name."""
    return {p.name: p.read_bytes() for p in sorted((root / ".kedb").iterdir()) if p.is_file() and p.name != "import.lock"}


def test_ctrl_c_during_an_import_leaves_the_store_as_it_was(kb_with_store: Path, big_export: Path, start: Start) -> None:
    before = kedb_dir(kb_with_store)
    proc = start(kb_with_store, "tickets", "import", str(big_export), "--source", "servicenow")
    new = kb_with_store / ".kedb" / "tickets.duckdb.new"
    wait_for("the import writes its new store", new.exists, proc)
    time.sleep(0.5)  # into the reading of the export
    assert proc.poll() is None, "the import ended before Ctrl-C: make the export bigger"
    t = time.monotonic()
    os.killpg(proc.pid, signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    took = time.monotonic() - t
    assert (proc.returncode, out, err) == (130, "", INTERRUPTED)
    assert took < 20, took
    assert kedb_dir(kb_with_store) == before  # byte for byte, and no .new or .wal left over
    with open(kb_with_store / ".kedb" / "import.lock", "rb") as fh:  # and the lock went with the process
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)


def test_a_second_import_while_one_runs_fails_at_once(kb_with_store: Path, big_export: Path, start: Start) -> None:
    lock = kb_with_store / ".kedb" / "import.lock"
    first = start(kb_with_store, "tickets", "import", str(big_export), "--source", "servicenow")
    wait_for("the first import to take the lock", lambda: lock.is_file() and lock.read_text().startswith(f"{first.pid} "), first)
    t = time.monotonic()
    second = run(kb_with_store, "tickets", "import", str(SMALL_EXPORT), "--source", "servicenow")
    took = time.monotonic() - t
    assert first.poll() is None, "the first import ended before the second started: make the export bigger"
    assert second.returncode == 2 and second.stdout == "", second
    assert re.fullmatch(
        rf"kedb: another import is running \(pid {first.pid} since \d\d:\d\d\); wait for it, or remove \S*import\.lock if it died\n",
        second.stderr,
    ), second.stderr
    assert took < 15, took  # at once, not after the first
    out, err = first.communicate(timeout=120)
    assert first.returncode == 0, err
    assert "imported 300,000 tickets from big-export.csv" in out and "holds 300,000 tickets" in out
    con = duckdb.connect(str(kb_with_store / ".kedb" / "tickets.duckdb"), read_only=True)
    try:
        assert con.execute("SELECT file FROM imports").fetchall() == [("big-export.csv",)]
        assert con.execute("SELECT count(*) FROM tickets").fetchone() == (300_000,)
    finally:
        con.close()


def test_a_lock_left_by_a_dead_import_does_not_block(kb_with_store: Path) -> None:
    """The lock is the system's (flock), not the file's existence: what a killed import leaves is no lock."""
    (kb_with_store / ".kedb" / "import.lock").write_text("999999 2026-01-01T09:00:00\n")
    res = kedb("--root", str(kb_with_store), "tickets", "import", str(SMALL_EXPORT), "--source", "servicenow")
    assert res.exit_code == 0, res.output


# ---------------------------------------------------------------- Ctrl-C with worker processes


def children(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []


def test_ctrl_c_while_workers_read_records_ends_at_once(base_kb: Path, start: Start) -> None:
    """`kedb check` reads 1,500 records or more in two forked workers. A terminal's Ctrl-C reaches
    them too; each printed a traceback, and the parent could wait on them for ever.

    The Ctrl-C comes once both workers run: one that lands while the pool forks them can leave a
    worker nobody tracks (core/forkpool.py would have to hold Ctrl-C back while it starts them)."""
    if not Path(f"/proc/{os.getpid()}/task/{os.getpid()}/children").exists():
        pytest.skip("needs Linux's /proc/PID/task/PID/children to see the workers start")
    wa = next((base_kb / "known_errors").glob("WA-0001-*.md"))
    text = wa.read_text(encoding="utf-8")
    for i in range(2, 3002):
        (wa.parent / f"WA-{i:04d}-copy.md").write_text(text.replace("id: WA-0001", f"id: WA-{i:04d}"), encoding="utf-8")
    proc = start(base_kb, "check", "--no-cache")
    wait_for("the workers to start", lambda: len(children(proc.pid)) == 2, proc)
    time.sleep(0.1)
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=60)  # a worker left behind would hold the pipes open: a timeout
    assert (proc.returncode, err) == (130, "kedb: interrupted\n"), err


# ---------------------------------------------------------------- a FIFO where a cache file was


def make_fifo(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    os.mkfifo(path)


@pytest.mark.parametrize("where", [".kedb/cache/records.bin", "xdg/kedb/cache.key"])
def test_a_fifo_in_place_of_a_cache_file_is_ignored(base_kb: Path, where: str) -> None:
    cold = run(base_kb, "check", "--format", "json")
    assert cold.returncode == 0 and (base_kb / ".kedb" / "cache" / "records.bin").is_file(), cold
    fifo = (base_kb.parent if where.startswith("xdg/") else base_kb) / where
    make_fifo(fifo)
    res = run(base_kb, "check", "--format", "json", timeout=60)  # it used to wait on the FIFO for ever
    assert (res.returncode, res.stdout) == (0, cold.stdout)
    shown = where if where.startswith(".kedb") else str(fifo)
    assert res.stderr == f"kedb: note: ignored {shown}: not a regular file\n"
    assert fifo.is_file(), "the cache is written again, a regular file in the FIFO's place"
    again = run(base_kb, "check", "--format", "json")
    assert (again.returncode, again.stdout, again.stderr) == (0, cold.stdout, "")


def test_a_fifo_in_place_of_the_gate_field_cache_is_ignored(repo_kb: Path) -> None:
    """git/approvals.py's cache of old versions' fields tests ``is_file()`` before reading."""
    cold = run(repo_kb, "check", "--approvals", "--format", "json")
    assert cold.returncode == 0, cold
    make_fifo(repo_kb / ".kedb" / "cache" / "gate-fields-1.marshal")
    res = run(repo_kb, "check", "--approvals", "--format", "json", timeout=60)
    assert (res.returncode, res.stdout) == (0, cold.stdout)


# ---------------------------------------------------------------- pipes and devices inside the KB


@pytest.mark.parametrize(
    "rel",
    [
        "known_errors/KE-0999-a-pipe.md",  # named like a record: listed by the walk, read by the loader
        "known_errors/.hidden/KE-0998-a-pipe.md",
        "content/kedb.yml",  # a program file the loader reads
        "content/playbooks/zz-pipe.md",
        "content/kpi/2026-01.yml",  # a stored aggregate
        "content/assets/pipe.png",  # an asset whose first bytes are checked
        "content/notes.txt",  # a stray file scanned for secrets
        "templates/site/pipe.html",
    ],
)
def test_a_named_pipe_in_the_kb_is_reported_and_never_opened(base_kb: Path, rel: str) -> None:
    make_fifo(base_kb / rel)
    res = run(base_kb, "check", "--format", "json", timeout=60)  # each of these used to wait on the pipe for ever
    assert res.returncode == 1, res
    assert "Traceback" not in res.stderr
    found = [f for f in json.loads(res.stdout)["findings"] if f["path"] == rel]
    assert [f["code"] for f in found] == ["KE016"], found
    assert "named pipe, device or socket" in found[0]["message"]


def test_a_record_swapped_for_a_pipe_after_the_walk_is_refused_when_read(base_kb: Path) -> None:
    """The walk lists the record; by the time it is opened it is a pipe: the read refuses it, never waits."""
    from kedb.core.load import loader, scan

    rel = next(p.relative_to(base_kb).as_posix() for p in sorted((base_kb / "known_errors").glob("KE-*.md")))
    make_fifo(base_kb / rel)
    sha, res = loader._scan_record((str(base_kb), rel, scan.Allow(), 10**6, 10**4))
    assert sha is None
    assert [(c, m.split(";")[0]) for c, _, m in res.issues] == [
        ("KE016", f"'{rel}' is not a regular file (a named pipe, device or socket)")
    ]
