"""``kedb build`` renders the four artefacts two at a time in forked workers (build/run.py,
render_artefacts): the same bytes as one after another, and a renderer that fails or a worker that
dies stops the build with a message, never a traceback, with nothing written into site/."""

from __future__ import annotations

import hashlib
import os
import signal
from pathlib import Path

import pytest

from kbtest import AS_OF, broken_docx_template, init_repo, kedb
from kedb import renderers
from kedb.build.context import make
from kedb.build.run import RenderFailed, render_artefacts
from kedb.core import forkpool

NAMES = ["docx", "xlsx", "pptx", "pdf"]


def sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def test_two_at_a_time_gives_the_bytes_of_one_after_another(example_kb: Path, tmp_path: Path) -> None:
    init_repo(example_kb)
    ctx = make(example_kb)
    assert forkpool.can_fork(), "this machine forks (Linux, two cores): the parallel path is the one under test"
    started: list[str] = []
    (tmp_path / "a").mkdir()
    parallel = render_artefacts(ctx, NAMES, tmp_path / "a", lambda step, secs: started.append(step) if secs is None else None)
    assert started == ["docx, xlsx, pptx, pdf"], "one start for the four"
    assert [n for n, _ in parallel] == NAMES, "results in the order asked for"
    assert id(ctx) not in renderers._PENDING, "no wait for a worker is left behind"
    (tmp_path / "b").mkdir()
    serial = [render_artefacts(ctx, [n], tmp_path / "b")[0] for n in NAMES]
    for (name, a), (_, b) in zip(parallel, serial, strict=True):
        assert a.parent == tmp_path / "a" and b.parent == tmp_path / "b"
        assert sha(a) == sha(b), f"{name}: a worker wrote other bytes"


def test_a_failing_renderer_in_a_worker_is_a_clear_error(base_kb: Path) -> None:
    broken_docx_template(base_kb)
    r = kedb("--root", str(base_kb), "build", "--only", "docx,xlsx,pptx,pdf", "--as-of", AS_OF)
    assert r.exit_code == 2, r.output
    assert "building docx failed" in r.stderr and "Traceback" not in r.stderr
    assert not (base_kb / "site" / "downloads").exists(), "nothing of the build reached site/"
    assert not list(base_kb.glob(".site.staging-*"))


def test_a_worker_that_dies_stops_the_build_with_a_message(base_kb: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    init_repo(base_kb)
    real = renderers.get

    def dying(name: str):  # type: ignore[no-untyped-def]
        if name != "pptx":
            return real(name)
        return lambda ctx, out: os.kill(os.getpid(), signal.SIGKILL)  # as the kernel's out-of-memory killer would

    monkeypatch.setattr(renderers, "get", dying)
    r = kedb("--root", str(base_kb), "build", "--only", "docx,xlsx,pptx,pdf", "--as-of", AS_OF)
    assert r.exit_code == 2, r.output
    assert "stopped without a word" in r.stderr and "--only" in r.stderr and "Traceback" not in r.stderr
    assert not (base_kb / "site" / "downloads").exists()
    assert RenderFailed.exit_code == 2


def test_on_a_terminal_the_artefacts_still_render_beside_each_other(example_kb: Path) -> None:
    """The spinner on a terminal is redrawn per step, not by a thread of rich's: with a second thread,
    kedb does not fork (forkpool.can_fork), and a terminal build rendered everything in one process."""
    import pty
    import subprocess
    import sys

    init_repo(example_kb)
    leader, follower = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "GITHUB_ACTIONS", "GITLAB_CI")}
    kedb_bin = Path(sys.executable).with_name("kedb")
    proc = subprocess.Popen(
        [str(kedb_bin), "--root", str(example_kb), "build", "--only", "docx,xlsx,pptx,pdf", "--as-of", AS_OF],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=follower, env=env,
    )  # fmt: skip
    os.close(follower)
    shown = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the terminal closed: kedb has ended
            break
        if not chunk:
            break
        shown += chunk
    assert proc.wait(timeout=300) == 0
    os.close(leader)
    text = shown.decode("utf-8", "replace")
    assert "docx, xlsx, pptx, pdf…" in text, "one step for the four: they rendered beside each other"
    assert all(f"✓\x1b[0m {n} " in text or f"✓ {n} " in text for n in NAMES), text[-2000:]
