"""Helpers for tests: copies of fixture KBs in temp dirs, real git repos, the CLI in-process."""

from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

import pytest
from click.testing import CliRunner, Result

from kedb.cli.main import main

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
FIXTURES = TESTS / "fixtures"
AS_OF = "2026-11-22"


def copy_kb(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst, dirs_exist_ok=True)
    return dst


@pytest.fixture
def base_kb(tmp_path: Path) -> Path:
    """A copy of the minimal valid KB in tests/fixtures/base."""
    return copy_kb(FIXTURES / "base", tmp_path / "kb")


@pytest.fixture
def example_kb(tmp_path: Path) -> Path:
    """A copy of the bundled example KB (content/, known_errors/ and templates/ of this repository)."""
    dst = tmp_path / "example"
    for part in ("content", "known_errors", "templates"):
        shutil.copytree(REPO / part, dst / part)
    return dst


def git(cwd: Path, *args: str, env: dict[str, str] | None = None) -> str:
    base = {
        "GIT_AUTHOR_NAME": "Ann Owner",
        "GIT_AUTHOR_EMAIL": "ann.owner@example.com",
        "GIT_COMMITTER_NAME": "Ann Owner",
        "GIT_COMMITTER_EMAIL": "ann.owner@example.com",
        "GIT_CONFIG_NOSYSTEM": "1",
        "HOME": str(cwd),
        "PATH": "/usr/bin:/bin:/usr/local/bin",
    }
    return subprocess.run(["git", *args], cwd=cwd, env=base | (env or {}), check=True, capture_output=True, text=True).stdout


def init_repo(path: Path) -> Path:
    git(path, "init", "-q", "-b", "main")
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", "Initial KB")
    return path


def broken_docx_template(kb: Path) -> Path:
    """Put a ``templates/reference.docx`` that is not a Word file into the repository at ``kb``:
    the runbook's renderer then fails (a renderer's own error, as a user's bad template gives)."""
    init_repo(kb)
    (kb / "templates").mkdir()
    (kb / "templates" / "reference.docx").write_bytes(b"this is not a Word file")
    return kb


def kedb(*args: str) -> Result:
    """Run the CLI in-process (stdout and stderr kept apart)."""
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def shared_data(*parts: str) -> Path:
    """A file of the real data kept beside the repository (``../shared/data``), wherever the
    repository was cloned: ``KEDB_SHARED_DATA`` first, then ``../shared/data``, then
    ``/work/shared/data``. Returns the first candidate that exists (else the first candidate)."""
    roots = [Path(p) for p in (os.environ.get("KEDB_SHARED_DATA"),) if p]
    roots += [REPO.parent / "shared" / "data", Path("/work/shared/data")]
    candidates = [r.joinpath(*parts) for r in roots]
    return next((c for c in candidates if c.exists()), candidates[0])


# ---------------------------------------------------------------- what a machine must have
# Some tests need a program (Chromium, LibreOffice, poppler) or the real data beside the
# repository. On a developer's machine without them those tests skip, and the skip says what
# went unchecked. On CI (``CI=true``) and under ``make test`` (``KEDB_REQUIRE_ALL=1``; it
# installs the programs) they fail instead, so a green run there has checked everything.
# ``make test`` cannot install the real data: it must be in ``../shared/data`` next to the
# clone, or in the folder ``KEDB_SHARED_DATA`` names (see shared_data above).
REQUIRE_ALL = "KEDB_REQUIRE_ALL"


def everything_required() -> bool:
    """True where a missing program or data file must fail the run rather than skip tests."""
    return os.environ.get("CI", "").strip().lower() == "true" or os.environ.get(REQUIRE_ALL, "").strip() == "1"


def not_available(missing: str, unchecked: str) -> NoReturn:
    """Stop the test: fail where everything is required, else skip saying what went unchecked."""
    why = f"not checked: {unchecked} ({missing})"
    if everything_required():
        pytest.fail(f"{why}; CI=true or {REQUIRE_ALL}=1 requires it here", pytrace=False)
    pytest.skip(why)


def require_tool(name: str, unchecked: str, package: str) -> str:
    """The path of the program ``name`` (a name on PATH or an absolute path); ``unchecked`` says
    what the test checks with it, ``package`` which Debian package has it."""
    found = shutil.which(name)
    if found is None:
        not_available(f"{name} is not installed: apt-get install {package}, or run make test", unchecked)
    return found


def require_file(path: Path, unchecked: str, how: str) -> Path:
    """``path``, which must exist; ``how`` says how to get it."""
    if not path.is_file():
        not_available(f"{path} is not on this machine: {how}", unchecked)
    return path


def import_example_export(kb: Path, tmp: Path) -> None:
    """Import into ``kb``'s ticket store the seeded synthetic export that the example KPI
    snapshots and audits are computed from (``benchmarks/synth_tickets.py``, 12,000 tickets)."""
    import importlib.util
    import sys

    spec = importlib.util.spec_from_file_location("synth_tickets", REPO / "benchmarks" / "synth_tickets.py")
    assert spec and spec.loader
    synth = importlib.util.module_from_spec(spec)
    sys.modules["synth_tickets"] = synth
    spec.loader.exec_module(synth)
    export = synth.make_export(tmp / "example-export.csv", 12000, kb=kb)
    res = kedb("--root", str(kb), "tickets", "import", str(export), "--source", "servicenow")
    assert res.exit_code == 0, res.output


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    """A ticket export as a CSV file, the way the tests write them."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")
    return path


def settled(done: Callable[[], bool], timeout: float = 20.0, what: str = "") -> None:
    """Wait until ``done()`` (what a detached process is finishing, e.g. deleting), or fail."""
    import time

    end = time.monotonic() + timeout
    while not done():
        if time.monotonic() > end:
            raise AssertionError(f"not settled after {timeout:g} s{': ' + what if what else ''}")
        time.sleep(0.05)


def gone(folder: Path, pattern: str, timeout: float = 20.0) -> None:
    """Wait until nothing in ``folder`` matches ``pattern`` (what a detached process is deleting), or fail."""
    settled(lambda: not list(folder.glob(pattern)), timeout, f"{folder}: {pattern} still there")
