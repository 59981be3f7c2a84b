"""`mkdocs serve` from a saved edit to the reloaded page, as a problem owner sees it (issue #23).

The KB's own ``mkdocs.yml`` is served by ``mkdocs serve`` (the kedb plugin, live reload on) in a
process group of its own. Headless Chromium (the browser tests' binary and flags) opens one known
error's page. Each timed edit rewrites that record's title with a new mark; the time is from the
moment the file is written to the ``load`` event of the page the browser reloads, and the reloaded
page must show the mark (a reload that shows the old title is not counted as the edit's reload).
The record is put back afterwards and the server stopped.

Run on its own: ``.venv/bin/python benchmarks/serve_reload.py 1000 [--repeat 3]``; ``bench_site``
runs it for each size and prints it beside the target (1 s at 10,000 records).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
sys.path.insert(0, str(REPO / "tests"))
from test_site_browser import ARGS, CHROMIUM  # noqa: E402 - the same browser and flags as the browser tests

TITLE = re.compile(r"^title: (.*)$", re.M)
START_TIMEOUT_S = 900.0  # the first build under `mkdocs serve` (page cache cold for the served site's URLs)
RELOAD_TIMEOUT_S = 300.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def served(kb: Path) -> Iterator[tuple[str, float]]:
    """``mkdocs serve`` of the KB: its base URL and the seconds until it first answered."""
    port = _free_port()
    log = open(kb.parent / f"serve-{kb.name}.log", "w", encoding="utf-8")  # noqa: SIM115 - closed below
    cmd = [str(BIN / "mkdocs"), "serve", "--config-file", str(kb / "mkdocs.yml"), "--dev-addr", f"127.0.0.1:{port}"]
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    t = time.perf_counter()
    try:
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"benchmark stopped: `mkdocs serve` exited with {proc.returncode}; see {log.name}")
            try:
                with urllib.request.urlopen(url, timeout=5) as r:
                    if r.status == 200:
                        break
            except (urllib.error.URLError, OSError):
                pass
            if time.perf_counter() - t > START_TIMEOUT_S:
                raise SystemExit(f"benchmark stopped: `mkdocs serve` did not answer within {START_TIMEOUT_S:g} s; see {log.name}")
            time.sleep(0.5)
        yield url, time.perf_counter() - t
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


def reload_times(kb: Path, repeat: int = 3) -> tuple[float, list[float]]:
    """Seconds to the first answer of `mkdocs serve`, and from each saved edit to the reloaded page showing it."""
    from playwright.sync_api import sync_playwright

    path = next(iter(sorted((kb / "known_errors").rglob("KE-*.md"))))
    rid = "-".join(path.stem.split("-")[:2])
    original = path.read_text(encoding="utf-8")
    title = TITLE.search(original)
    if title is None:
        raise SystemExit(f"benchmark stopped: {path} has no title line")
    times = []
    try:
        with served(kb) as (url, started), sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = browser.new_page()
            page.goto(f"{url}known-errors/{rid}/", wait_until="load")
            if title.group(1).strip("'\"")[:20] not in page.title():
                raise SystemExit(f"benchmark stopped: {url}known-errors/{rid}/ does not show {path.name}'s title: {page.title()!r}")
            for i in range(repeat):
                mark = f"serve edit {i + 1} {time.time_ns()}"
                edited = TITLE.sub(lambda m, mark=mark: f"title: {mark}", original, count=1)
                t = 0.0
                deadline = time.perf_counter() + RELOAD_TIMEOUT_S
                with page.expect_navigation(wait_until="load", timeout=RELOAD_TIMEOUT_S * 1000):
                    t = time.perf_counter()
                    path.write_text(edited, encoding="utf-8")
                while mark not in page.title():  # a reload of an earlier build: wait for the one that shows the edit
                    with page.expect_navigation(wait_until="load", timeout=max(1.0, deadline - time.perf_counter()) * 1000):
                        pass
                times.append(time.perf_counter() - t)
                time.sleep(1.0)  # the server settles before the next edit
            browser.close()
    finally:
        path.write_text(original, encoding="utf-8")
    return started, times


if __name__ == "__main__":
    from runs import spread
    from synth import bench_kb

    ap = argparse.ArgumentParser(description="`mkdocs serve`: a saved edit to the reloaded page (see the module's docstring)")
    ap.add_argument("sizes", nargs="*", type=int, default=[1_000], help="records in each synthetic KB")
    ap.add_argument("--repeat", type=int, default=3, help="timed edits (default 3)")
    args = ap.parse_args()
    for n in args.sizes:
        started, times = reload_times(bench_kb(n), args.repeat)
        print(f"N={n:,}: mkdocs serve answered after {started:.1f} s; edit saved to page reloaded: {spread(times)}")
