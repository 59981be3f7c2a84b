"""One thing computed in a forked process while the caller goes on (``kedb.core.forkpool.Later``): the site's search
index is made this way while MkDocs reads the pages. Its result, its failures (an exception there, a process killed
there), a result nobody wants any more, and a process that may not fork; then the site build around it: the same
site, and a search index that fails stops the build with a message and nothing published."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from kbtest import AS_OF, init_repo, kedb
from kedb.core import forkpool
from kedb.site import searchindex


def _pid_and(value: int) -> tuple[int, int]:
    return os.getpid(), value * 2


def _raises(message: str) -> None:
    raise ValueError(message)


def _killed() -> None:
    os.kill(os.getpid(), signal.SIGKILL)  # as the kernel's out-of-memory killer would


def _slow() -> int:
    time.sleep(60)
    return 1


def test_the_result_is_computed_in_another_process() -> None:
    assert forkpool.can_fork(), "this machine forks (Linux, two cores): the forked path is the one under test"
    later = forkpool.Later(_pid_and, 21)
    pid, value = later.result()
    assert value == 42 and pid != os.getpid()
    assert later.result() == (pid, 42), "asked again, the same answer"


def test_an_exception_there_is_a_failure_here_with_its_type_and_message() -> None:
    later = forkpool.Later(_raises, "no shard for 'vpn'")
    with pytest.raises(forkpool.WorkerFailed, match=r"ValueError: no shard for 'vpn'"):
        later.result()


def test_a_process_killed_there_is_a_failure_here() -> None:
    with pytest.raises(forkpool.WorkerFailed, match="ended without an answer"):
        forkpool.Later(_killed).result()


def test_closing_ends_a_process_whose_result_is_not_wanted() -> None:
    later = forkpool.Later(_slow)
    pid = later._pid
    assert pid is not None
    started = time.monotonic()
    later.close()
    assert time.monotonic() - started < 10, "close does not wait for the work"
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # reaped: no zombie left
    later.close()  # twice is harmless


def test_where_the_process_may_not_fork_it_is_computed_here(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(forkpool, "can_fork", lambda: False)
    assert forkpool.Later(_pid_and, 1).result() == (os.getpid(), 2)
    with pytest.raises(ValueError, match="here"):  # computed at once: the caller sees the exception itself
        forkpool.Later(_raises, "here")


def test_a_search_index_that_fails_stops_the_build_with_a_message(base_kb: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    init_repo(base_kb)
    monkeypatch.setattr(searchindex.index, "files", lambda *a, **k: _raises("a shard would not fit"))
    r = kedb("--root", str(base_kb), "build", "--only", "site", "--as-of", AS_OF)
    assert r.exit_code == 2, r.output
    assert "search index could not be made" in r.output + r.stderr and "a shard would not fit" in r.output + r.stderr
    assert "Traceback" not in r.output + r.stderr
    assert not (base_kb / "site" / "index.html").exists(), "nothing was published"
    assert not list(base_kb.glob(".site.staging-*"))
