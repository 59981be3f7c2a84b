"""The site at scale: `kedb build --only site` as users run it, page and index sizes, and search
speed in headless Chromium.

``make bench`` runs it (or ``.venv/bin/python benchmarks/bench_site.py [--repeat R] [--no-peer] 1000 10000``).

The KBs come from ``benchmarks/synth.py`` (``bench_kb``) and are kept in ``benchmarks/_work/``:
git repositories with most of a year of history (merge requests with ``Approved-by:``
trailers, renames, high-impact records whose later versions the approval gate judges), so the
build reads history and judges approvals as it does on a real KB. The build is the whole
``kedb --root KB build --only site`` process (check, history, approvals, the site written to a
staging folder and swapped into ``KB/site/``). After one untimed build (so that each timed run
has an old ``site/`` to swap out, as a KB that was built before has), it is timed with the check
cache cold (``KB/.kedb/cache`` removed before each run) and then warm, as medians of
``--repeat`` runs; every run must exit 0, or the benchmark stops.
The same site built by ``mkdocs build`` (the KB's ``mkdocs.yml`` with the kedb plugin, cache
warm) is timed beside it. Page sizes and search are measured on the ``KB/site/`` the last
build wrote.

Then the same KB through each site engine (issue #22), in the same run and cache warm:
``properdocs build`` (MkDocs' fork, the same ``mkdocs.yml`` and plugin) and
``kedb build --only site --engine zensical`` (kedb renders the pages, Zensical builds the site;
its record pages are counted and weighed, and it leaves its site in ``KB/site/``). Zensical's
first build is timed on its own: its pages are kedb's pages with other links (source paths), so
the page cache starts cold for it; the others are warm, as for the rest. Each engine's CPU time
(its processes and theirs) is printed too: on a shared machine it moves less than the wall time.
An engine that is not installed is reported as such, never timed as zero.

Last, ``mkdocs serve`` of the KB is timed from a saved edit to the browser's reload
(:mod:`serve_reload`).

Targets (2-core machine, 10,000 records). Issue #4: build under 60 s, under 15 KB of HTML per
record page, first search results under 1 s after the page loads, each further query under 100 ms.
Issue #23: cold build <= 20 s and 1.6x faster than plain mkdocs-material, one edit <= 2 s, a saved
edit reloaded by ``mkdocs serve`` <= 1 s, a cold build's largest process <= 1.5 GB.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import sys
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
WORK = REPO / "benchmarks" / "_work"
BIN = Path(sys.executable).parent
sys.path.insert(0, str(REPO / "tests"))
import peer as plain  # noqa: E402 - the peer site (plain mkdocs-material)
from runs import Run, run_timed, serve_apart, spread  # noqa: E402
from serve_reload import reload_times  # noqa: E402 - mkdocs serve: a saved edit to the reloaded page
from synth import bench_kb, history_summary  # noqa: E402
from test_site_browser import ARGS, CHROMIUM  # noqa: E402 - the same browser and flags as the browser tests

# The first is timed from the page load; the others each once the previous results are complete.
QUERIES = [
    "0x800423f4",
    "printer queue",
    "KE-00042",
    "sign-in loop",
    "vpn tunnel offline",
    "0x8007",
    "outlook profile keeps prompting",
    "certificate expired",
    "WA-01234",
    "mailbox",
    "dns",
    "handshake policy rollback",
]


def _size(paths: list[Path]) -> int:
    return sum(p.stat().st_size for p in paths)


# Types a query the way Material's search box expects it (value + keyup) and resolves, in the
# page, when the result list is filled: no polling from outside, so the figures are the browser's.
# Each further query is typed once the page is quiet (no request pending, then 150 ms), as an
# agent reads results before the next search: typed sooner, the previous query's second answer
# (its result texts) could fill the list and be taken for this query's results.
TIMED_QUERY = """async (q) => {
  const input = document.querySelector('input.md-search__input');
  const list = document.querySelector('.md-search-result__list');
  const t0 = performance.now();
  return await new Promise(resolve => {
    const obs = new MutationObserver(() => {
      if (list.children.length) { obs.disconnect(); resolve({ms: performance.now() - t0, since_navigation: performance.now()}); }
    });
    obs.observe(list, {childList: true});
    input.value = q;
    input.dispatchEvent(new KeyboardEvent('keyup', {bubbles: true}));
  });
}"""
LOADED = "() => performance.getEntriesByType('navigation')[0].loadEventEnd"
OPEN_SEARCH = "() => { const t = document.querySelector('#__search'); t.checked = true; t.dispatchEvent(new Event('change')); }"


FRESH_LOADS = 3  # the first results are timed on this many page loads, each with an empty cache: the median


def first_results(browser: object, url: str, query: str, *, open_search: bool = False) -> tuple[float, float]:
    """Seconds from the start of a page load, and from its load event, to the first results of
    ``query`` typed at once: the median of FRESH_LOADS loads, each in a new browser context (an
    empty HTTP cache, as for an agent who opens the KB for the first time)."""
    runs = []
    for _ in range(FRESH_LOADS):
        context = browser.new_context()  # type: ignore[attr-defined]
        page = context.new_page()
        page.goto(url, wait_until="load")
        if open_search:
            page.evaluate(OPEN_SEARCH)
        first = page.evaluate(TIMED_QUERY, query)
        loaded = page.evaluate(LOADED)
        runs.append((first["since_navigation"] / 1000, (first["since_navigation"] - loaded) / 1000))
        context.close()
    return statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)


def search_times(site: Path, queries: list[str]) -> tuple[float, float, list[float]]:
    """Seconds from the start of the page load and from its load event to the first results
    (:func:`first_results`), and seconds from typing each further query to its results."""
    from playwright.sync_api import sync_playwright

    with serve_apart(site) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        from_start, from_load = first_results(browser, url, queries[0])
        page = browser.new_page()
        pending = watch_requests(page)
        page.goto(url, wait_until="load")
        page.evaluate(TIMED_QUERY, queries[0])
        further = []
        for q in queries[1:]:
            quiet(page, pending)
            further.append(page.evaluate(TIMED_QUERY, q)["ms"] / 1000)
        browser.close()
    return from_start, from_load, further


def watch_requests(page: object) -> set[object]:
    """The page's requests still pending (its worker's included), kept up to date."""
    pending: set[object] = set()
    page.on("request", lambda r: pending.add(r))  # type: ignore[attr-defined]
    page.on("requestfinished", lambda r: pending.discard(r))  # type: ignore[attr-defined]
    page.on("requestfailed", lambda r: pending.discard(r))  # type: ignore[attr-defined]
    return pending


def quiet(page: object, pending: set[object]) -> None:
    """Wait, as an agent reads results before the next search, until no request is pending and then 150 ms."""
    while pending:
        page.wait_for_timeout(20)  # type: ignore[attr-defined]
    page.wait_for_timeout(150)  # type: ignore[attr-defined]


# What `kedb build` prints about the approval trail, and (stderr, not a terminal) each step's time.
APPROVALS = re.compile(
    r"approvals: (?P<judged>\d+) record versions needed one: (?P<approved>\d+) approved, "
    r"(?P<before>\d+) before the gate[^,]*, (?P<violations>\d+) violations"
)
STEP = re.compile(r"^kedb: (?P<step>.+): done in (?P<secs>[0-9.]+) s$", re.M)
NO_HISTORY = "No git history"
REVISIONS = "<th>Approved by</th>"  # the head of a record page's table of versions


def _builds(cmd: list[str], repeat: int, cache: Path | None) -> list[Run]:
    """``repeat`` runs of ``cmd``; with ``cache``, that folder is removed before each run (cold)."""
    runs = []
    for _ in range(repeat):
        if cache is not None:
            shutil.rmtree(cache, ignore_errors=True)
        runs.append(run_timed(cmd))  # stderr is a pipe, so kedb writes one plain line per build step there
    return runs


def _steps(runs: list[Run]) -> dict[str, float]:
    """The median time of each build step, as `kedb build` reports it."""
    per: dict[str, list[float]] = {}
    for r in runs:
        for m in STEP.finditer(r.stderr):
            per.setdefault(m["step"], []).append(float(m["secs"]))
    return {step: statistics.median(v) for step, v in per.items()}


EDIT_MARK = "Edited by the benchmark"
# Issue #23, at 10,000 records: the cold build, its ratio to the peer (plain mkdocs-material, same run), one edit.
COLD_TARGET_S, PEER_RATIO, EDIT_TARGET_S, MEMORY_TARGET_GB, RELOAD_TARGET_S = 20.0, 1.6, 2.0, 1.5, 1.0


def _edited_builds(kb: Path, cmd: list[str], repeat: int) -> list[Run]:
    """``repeat`` builds, each after one edit of one known error's body (issue #23: edit one record,
    see it in a second); the record is put back afterwards (the next build renders it again)."""
    path = next(iter(sorted((kb / "known_errors").rglob("KE-*.md"))))
    original = path.read_bytes()
    runs = []
    try:
        for i in range(repeat):
            path.write_bytes(original + f"\n{EDIT_MARK} ({i + 1}).\n".encode())
            runs.append(run_timed(cmd))
    finally:
        path.write_bytes(original)
    return runs


@dataclass
class Figures:
    records: int
    history: dict[str, int]  # what benchmarks/synth.py wrote into the KB's git history
    approvals: dict[str, int]  # judged, approved, before (the gate), violations: what `kedb build` printed
    cold: list[float]  # seconds per build, cache removed before each
    warm: list[float]
    cpu_warm: list[float]  # CPU seconds of each warm build, its workers included
    steps_cold: dict[str, float]  # median seconds of each step `kedb build` reports
    steps_warm: dict[str, float]
    mkdocs: list[float] | None  # seconds per `mkdocs build` of the same KB (None: not timed)
    material: list[float] | None = None  # seconds per build of the peer: plain mkdocs-material, the records as out-of-nav pages
    properdocs: list[float] | None = None  # seconds per `properdocs build` of the same KB (None: not installed)
    zensical: list[float] | None = None  # seconds per `kedb build --only site --engine zensical` (None: not installed)
    zensical_cold: float = 0.0  # the first of them: page cache cold for Zensical's pages
    engine_cpu: dict[str, float] = field(default_factory=dict)  # engine -> median CPU seconds of its warm builds
    zensical_version: str = ""
    zensical_page_kb_mean: float = 0.0
    pages_with_versions: int = 0
    pages_without_history: int = 0
    site_mb: float = 0.0
    record_page_kb_mean: float = 0.0
    record_page_kb_max: float = 0.0
    record_pages_over_15kb: int = 0
    index_mb_total: float = 0.0
    index_kb_largest_file: int = 0
    first_results_s_from_navigation: float = 0.0
    first_results_s_after_load_event: float = 0.0
    further_query_ms_median: int = 0
    further_query_ms_max: int = 0
    edited: list[float] = field(default_factory=list)  # seconds per build after editing one record (page cache warm)
    steps_edited: dict[str, float] = field(default_factory=dict)
    load: dict[str, float] = field(default_factory=dict)  # 1-minute load average before each series
    cold_gb: list[float] = field(default_factory=list)  # peak resident memory of each cold build (its workers included)
    serve_started: float = 0.0  # seconds until `mkdocs serve` first answered
    serve_reload: list[float] = field(default_factory=list)  # seconds from each saved edit to the reloaded page showing it


def measure(n: int, repeat: int = 3, peer: bool = True) -> Figures:
    """Build the site of the ``n``-record KB with ``kedb build --only site`` and measure it."""
    kb = bench_kb(n)
    site = kb / "site"
    build = [str(BIN / "kedb"), "--root", str(kb), "build", "--only", "site"]
    # One untimed build first, so that every timed run finds a site/ to swap out and the KB's
    # files in the OS cache, as on a machine that has built this KB before.
    _builds(build, 1, None)
    load_cold = os.getloadavg()[0]
    cold = _builds(build, repeat, kb / ".kedb" / "cache")
    load_warm = os.getloadavg()[0]
    warm = _builds(build, repeat, None)
    load_edit = os.getloadavg()[0]
    edited = _edited_builds(kb, build, repeat)
    trail = APPROVALS.search(warm[-1].stdout)
    if trail is None:
        raise SystemExit(f"benchmark stopped: `kedb build` printed no approval summary:\n{warm[-1].stdout}")
    if int(trail["approved"]) == 0:
        raise SystemExit(f"benchmark stopped: no version was judged and approved, so approvals did no work:\n{trail[0]}")
    peer_times = None
    if peer:  # the same site through MkDocs' own command (after the warm runs, so its cache is warm too)
        out = WORK / f"mkdocs-site-{n}"
        mkdocs = [str(BIN / "mkdocs"), "build", "--quiet", "--config-file", str(kb / "mkdocs.yml"), "--site-dir", str(out)]
        peer_runs = _builds(mkdocs, repeat, None)
        peer_times = [r.seconds for r in peer_runs]
        shutil.rmtree(out, ignore_errors=True)
        config = plain.write(kb, WORK / f"material-{n}")  # issue #23's peer: what a team would build without kedb
        material_runs = [run_timed(plain.command(config), env=plain.ENV) for _ in range(repeat)]
        shutil.rmtree(config.parent, ignore_errors=True)
    f = Figures(
        records=n,
        history=history_summary(kb),
        approvals={k: int(v) for k, v in trail.groupdict().items()},
        cold=[r.seconds for r in cold],
        cold_gb=[r.max_rss_gb for r in cold],
        warm=[r.seconds for r in warm],
        cpu_warm=[r.cpu_seconds for r in warm],
        steps_cold=_steps(cold),
        steps_warm=_steps(warm),
        mkdocs=peer_times,
        material=[r.seconds for r in material_runs] if peer else None,
        engine_cpu={"kedb build": statistics.median(r.cpu_seconds for r in warm)}
        | ({"mkdocs build": statistics.median(r.cpu_seconds for r in peer_runs)} if peer else {}),
        edited=[r.seconds for r in edited],
        steps_edited=_steps(edited),
        load={"cold": load_cold, "warm": load_warm, "one edit": load_edit},
    )
    # The site the last `kedb build` wrote.
    records = [p for d in ("known-errors", "workarounds", "problems") for p in (site / d).glob("*/index.html")]
    if len(records) != n:
        raise SystemExit(f"benchmark stopped: {site} has {len(records)} record pages, not {n}")
    texts = [p.read_text(encoding="utf-8") for p in records]
    sizes = [p.stat().st_size for p in records]
    index = [*(site / "search" / "kedb").iterdir(), site / "search" / "search_index.json"]
    f.pages_with_versions = sum(REVISIONS in t for t in texts)
    f.pages_without_history = sum(NO_HISTORY in t for t in texts)
    f.site_mb = round(_size([p for p in site.rglob("*") if p.is_file()]) / 1e6, 1)
    f.record_page_kb_mean = round(sum(sizes) / len(sizes) / 1024, 1)
    f.record_page_kb_max = round(max(sizes) / 1024, 1)
    f.record_pages_over_15kb = sum(size > 15 * 1024 for size in sizes)
    f.index_mb_total = round(_size(index) / 1e6, 2)
    f.index_kb_largest_file = round(max(p.stat().st_size for p in index) / 1024)
    from_start, from_load, further = search_times(site, QUERIES)
    f.first_results_s_from_navigation = round(from_start, 2)
    f.first_results_s_after_load_event = round(from_load, 2)
    f.further_query_ms_median = round(sorted(further)[len(further) // 2] * 1000)
    f.further_query_ms_max = round(max(further) * 1000)
    if peer:
        engines(f, kb, repeat)
    # Last: the served site has other URLs (mkdocs serve sets site_url), so its pages replace this edition's cached ones.
    f.serve_started, f.serve_reload = reload_times(kb, repeat)
    return f


def engines(f: Figures, kb: Path, repeat: int) -> None:
    """The same KB through ProperDocs and through Zensical (after every other measure: the Zensical
    build leaves its site in ``KB/site/``)."""
    properdocs = BIN / "properdocs"
    if properdocs.exists():
        out = WORK / f"properdocs-site-{f.records}"
        cmd = [str(properdocs), "build", "--quiet", "--config-file", str(kb / "mkdocs.yml"), "--site-dir", str(out)]
        runs = _builds(cmd, repeat, None)
        f.properdocs = [r.seconds for r in runs]
        f.engine_cpu["properdocs build"] = statistics.median(r.cpu_seconds for r in runs)
        shutil.rmtree(out, ignore_errors=True)
    from kedb.site.zensical import available

    version = available()
    if version is None:
        return
    f.zensical_version = version
    first, *runs = _builds([str(BIN / "kedb"), "--root", str(kb), "build", "--only", "site", "--engine", "zensical"], repeat + 1, None)
    f.zensical_cold = first.seconds
    f.zensical = [r.seconds for r in runs]
    f.engine_cpu["zensical"] = statistics.median(r.cpu_seconds for r in runs)
    site = kb / "site"
    records = [p for d in ("known-errors", "workarounds", "problems") for p in (site / d).glob("*/index.html")]
    if len(records) != f.records:
        raise SystemExit(f"benchmark stopped: the Zensical build of {site} has {len(records)} record pages, not {f.records}")
    f.zensical_page_kb_mean = round(_size(records) / len(records) / 1024, 1)


def report(f: Figures) -> None:
    h, a, pad = f.history, f.approvals, " " * 11

    def steps(found: dict[str, float]) -> str:
        return "; ".join(f"{k} {v:.1f} s" for k, v in found.items())

    print(
        f"  N={f.records:>6,}: git history of {h['versions']:,} versions in {h['commits']:,} commits ({h['merge_requests']:,} merge requests, "
        f"{h['approved_merge_requests']:,} with Approved-by:; {h['renames']:,} renames; {h['high_impact_known_errors']:,} high-impact known errors)"
    )
    print(
        f"{pad}approvals judged: {a['judged']:,} record versions that needed one: {a['approved']:,} approved, "
        f"{a['before']:,} before the gate, {a['violations']:,} violations"
    )
    load = f.load
    print(f"{pad}kedb build --only site, cache cold: {spread(f.cold)}   [{steps(f.steps_cold)}; load {load.get('cold', 0):.1f}]")
    if f.cold_gb:
        gb = max(f.cold_gb)
        print(
            f"{pad}  largest process of a cold build: {gb:.2f} GB (target at 10,000: <= {MEMORY_TARGET_GB:g} GB: "
            f"{'met' if gb <= MEMORY_TARGET_GB else 'NOT met'})"
        )
    print(
        f"{pad}kedb build --only site, cache warm: {spread(f.warm)}   [{steps(f.steps_warm)}; CPU {statistics.median(f.cpu_warm):.1f} s; "
        f"load {load.get('warm', 0):.1f}]"
    )
    if f.edited:
        print(
            f"{pad}kedb build --only site after editing one record: {spread(f.edited)}   [{steps(f.steps_edited)}; "
            f"load {load.get('one edit', 0):.1f}]"
        )
    if f.mkdocs:
        ratio = statistics.median(f.warm) / statistics.median(f.mkdocs)
        print(
            f"{pad}mkdocs build (same KB, mkdocs.yml and plugin), cache warm: {spread(f.mkdocs)}; kedb build / mkdocs build = {ratio:.2f}"
        )
    if f.material:
        cold, plain = statistics.median(f.cold), statistics.median(f.material)
        verdict = "met" if cold <= COLD_TARGET_S and plain / cold >= PEER_RATIO else "NOT met"
        print(
            f"{pad}plain mkdocs-material (the same records as out-of-nav pages, its own search): {spread(f.material)}; "
            f"it takes {plain / cold:.2f}x as long as kedb build, cache cold (target at 10,000: kedb cold <= {COLD_TARGET_S:g} s "
            f"and >= {PEER_RATIO:g}x faster: {verdict if f.records >= 10_000 else 'n/a'})"
        )
        if f.edited:
            edit = statistics.median(f.edited)
            print(
                f"{pad}one edit: {edit:.2f} s (target at 10,000: <= {EDIT_TARGET_S:g} s: {'met' if edit <= EDIT_TARGET_S else 'NOT met'})"
            )
    if f.serve_reload:
        reload = statistics.median(f.serve_reload)
        verdict = "met" if reload <= RELOAD_TARGET_S else "NOT met"
        print(
            f"{pad}mkdocs serve: first answer after {f.serve_started:.1f} s; a saved edit to the reloaded page showing it "
            f"(headless Chromium): {spread(f.serve_reload)} (target at 10,000: <= {RELOAD_TARGET_S:g} s: "
            f"{verdict if f.records >= 10_000 else 'n/a'})"
        )
    print(
        f"{pad}record pages: {f.pages_with_versions:,} of {f.records:,} list their versions, {f.pages_without_history} say '{NO_HISTORY}'; "
        f"{f.record_page_kb_mean} KB mean / {f.record_page_kb_max} KB max ({f.record_pages_over_15kb:,} over 15 KB); site {f.site_mb} MB; "
        f"index {f.index_mb_total} MB (largest file {f.index_kb_largest_file} KB)"
    )
    print(
        f"{pad}search: first results {f.first_results_s_after_load_event} s after load (median of {FRESH_LOADS} fresh loads), further queries "
        f"{f.further_query_ms_median} ms median / {f.further_query_ms_max} ms max"
    )
    if f.mkdocs is not None:
        cpu = f.engine_cpu

        def with_cpu(times: list[float], key: str) -> str:
            return f"{spread(times)}, CPU {cpu[key]:.1f} s" if key in cpu else spread(times)

        print(f"{pad}site engines, same KB, cache warm (wall time; CPU of the build and its processes):")
        print(f"{pad}  MkDocs 1.6, kedb build:            {with_cpu(f.warm, 'kedb build')}")
        print(f"{pad}  MkDocs 1.6, mkdocs build:          {with_cpu(f.mkdocs, 'mkdocs build')}")
        if f.properdocs:
            print(f"{pad}  ProperDocs, properdocs build:      {with_cpu(f.properdocs, 'properdocs build')}")
        else:
            print(f"{pad}  ProperDocs: not installed, not timed")
        if f.zensical:
            print(
                f"{pad}  Zensical {f.zensical_version}, kedb build --engine zensical: {with_cpu(f.zensical, 'zensical')} "
                f"(first build, page cache cold: {f.zensical_cold:.2f} s); record page {f.zensical_page_kb_mean} KB mean"
            )
        else:
            print(f"{pad}  Zensical: not installed, not timed (pip install 'kedb[zensical]')")


def bench_site(sizes: tuple[int, ...] = (1_000, 10_000), repeat: int = 3, peer: bool = True) -> None:
    print(
        f"site: the whole `kedb build --only site` process, median of {repeat} runs (min-max); "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; search timed in headless Chromium"
    )
    print(
        "  after one untimed build: cold = KB/.kedb/cache removed before each run; warm = the cache the previous run wrote "
        "(the check's record cache and the page cache); one edit = warm, after appending a line to one known error"
    )
    print("  every run must exit 0; [step times] are the medians of what `kedb build` reports for its steps")
    for n in sizes:
        report(measure(n, repeat, peer))
    print("  targets at 10,000: build < 60 s, record page < 15 KB, first results < 1 s after load, further queries < 100 ms")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description="the site at scale (see the module's docstring)")
    ap.add_argument("sizes", nargs="*", type=int, default=[1_000, 10_000], help="records in each synthetic KB")
    ap.add_argument("--repeat", type=int, default=3, help="timed builds per cache state (default 3)")
    ap.add_argument("--no-peer", action="store_true", help="do not time `mkdocs build`, ProperDocs or Zensical on the same KB")
    args = ap.parse_args()
    bench_site(tuple(args.sizes), args.repeat, not args.no_peer)
