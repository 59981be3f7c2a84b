"""``mkdocs serve`` shows the check's errors in the browser (issue #17, item 8): a record broken
while the server runs puts a banner with its findings on every served page; fixing it brings the
page back and the banner goes. ``mkdocs build`` and ``kedb build`` still refuse to build."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from kbtest import REPO
from kedb.check.run import Report
from kedb.core.findings import Finding
from kedb.core.kb import KB, Program
from kedb.site.plugin import BANNER_LIMIT, check_banner

KE = "known_errors/KE-0001-outlook-prompts.md"
TITLE = "Outlook prompts for credentials again and again"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.status, r.read().decode("utf-8")
    except urllib.error.HTTPError as e:
        return e.code, ""


def _until(what: str, test: Callable[[], bool], seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if test():
                return
        except OSError:
            pass
        time.sleep(0.4)
    pytest.fail(f"mkdocs serve: {what}")


@pytest.fixture
def served(base_kb: Path) -> Iterator[tuple[Path, str]]:
    shutil.copy(REPO / "mkdocs.yml", base_kb / "mkdocs.yml")
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "mkdocs", "serve", "-a", f"127.0.0.1:{port}", "--livereload"],
        cwd=base_kb,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield base_kb, f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_a_broken_record_shows_a_banner_until_it_is_fixed(served: tuple[Path, str]) -> None:
    root, base = served
    page = f"{base}/known-errors/KE-0001/"
    _until("the first build", lambda: TITLE in _get(page)[1])
    assert "kedb-check-banner" not in _get(base + "/")[1]
    time.sleep(1.5)  # let the watcher settle before the change
    ke = root / KE
    good = ke.read_text(encoding="utf-8")
    ke.write_text(good.replace("status: published", "status: publishd <b>bold</b>"), encoding="utf-8")
    _until("no banner after a record broke", lambda: "kedb-check-banner" in _get(base + "/")[1])
    home = _get(base + "/")[1]
    banner = home.split('class="kedb-check-banner"', 1)[1].split("</div>", 1)[0]
    assert "kedb check: 1 error." in banner
    assert f"{KE}:" in banner and "KE103" in banner, banner
    assert "&lt;b&gt;bold&lt;/b&gt;" in banner and "<b>bold" not in banner  # the author's text is escaped
    assert _get(page)[0] == 404, "the broken record is left out of the preview"
    ke.write_text(good, encoding="utf-8")
    _until("the page did not come back after the fix", lambda: TITLE in _get(page)[1])
    assert "kedb-check-banner" not in _get(page)[1] and "kedb-check-banner" not in _get(base + "/")[1]


def test_mkdocs_build_still_refuses_a_broken_kb(base_kb: Path) -> None:
    shutil.copy(REPO / "mkdocs.yml", base_kb / "mkdocs.yml")
    ke = base_kb / KE
    ke.write_text(ke.read_text(encoding="utf-8").replace("status: published", "status: publishd"), encoding="utf-8")
    res = subprocess.run([sys.executable, "-m", "mkdocs", "build", "-q"], cwd=base_kb, capture_output=True, text=True, timeout=300)
    assert res.returncode != 0 and "KE103" in res.stderr
    assert not (base_kb / "site" / "index.html").exists()


def test_the_banner_lists_at_most_its_limit_and_says_how_many_more() -> None:
    findings = [Finding(f"known_errors/KE-{n:04d}-x.md", 3, "KE103", "'x' is not allowed") for n in range(BANNER_LIMIT + 5)]
    banner = check_banner(Report(KB(Path("."), {}, Program()), tuple(findings)))
    assert banner.count("<li>") == BANNER_LIMIT and "… and 5 more" in banner
    assert f"kedb check: {BANNER_LIMIT + 5} errors." in banner
    assert check_banner(Report(KB(Path("."), {}, Program()), ())) == ""
