"""The pages agents read, in a real browser (issue 17): headless Debian Chromium driven by
Playwright opens every page type of the built example site on a 1280×900 screen and a 390×844
phone, in Material's light and dark schemes, and checks what a reader would notice:

- no JavaScript error on the page, on a full load or after Material's instant navigation;
- no page scrolls sideways; a table wider than its column scrolls inside its container, with a
  shadow on the side where columns are hidden;
- table cells keep Material's border and padding after kedb.js made the tables sortable, and ids
  and dates in tables stay on one line;
- every text of a chart lies inside the chart's view box;
- a known-error page shows its answer (status, the first workaround's steps or why there is
  none, the fix status, the "Copy reply" action) in the first screen;
- axe-core (axe-playwright-python) finds no serious or critical accessibility violation.

Screenshots go to tests/_output/site/pages/ (first screen and whole page).
"""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kbtest import not_available, require_tool
from kedb.build.context import make
from kedb.site.render import render
from test_site import example_repo
from test_site_browser import ARGS, CHROMIUM, playwright

try:
    from axe_playwright_python.sync_playwright import Axe
except ImportError:  # the test extra is not installed: the fixture says what goes unchecked
    Axe = None  # type: ignore[assignment,misc]

UNCHECKED = "the example site's pages in headless Chromium (layout, console errors, charts, the answer block, axe-core)"
OUTPUT = Path(__file__).resolve().parent / "_output" / "site" / "pages"
PAGES = {
    "home": "",
    "known-errors": "known-errors/",
    "ke-p1-security": "known-errors/KE-0009/",  # P1, risk tag security, no workaround
    "ke-with-workaround": "known-errors/KE-0001/",
    "problem": "problems/PRB-0001/",
    "workaround": "workarounds/WA-0001/",
    "playbook": "playbooks/triage-and-escalation/",
    "kpis": "kpis/",
    "changelog": "changelog/",
    "downloads": "downloads/",
    # the other page types
    "workarounds": "workarounds/",
    "problems": "problems/",
    "playbooks": "playbooks/",
    "audit": "audit/",
    "tags": "tags/",
    "writing": "writing/",
    "writing-fields": "writing/fields/",
    "writing-rules": "writing/rules/",
}
VIEWPORTS = {"desktop": (1280, 900), "phone": (390, 844)}
SCHEMES = ("light", "dark")
BLOCKING = ("serious", "critical")
FIRST_LINE = 16  # px of the first step that must show in the first screen

MEASURE_JS = """() => {
  const out = {};
  const de = document.documentElement;
  out.scheme = document.body.getAttribute('data-md-color-scheme');
  out.overflow = de.scrollWidth - de.clientWidth;
  const tables = [...document.querySelectorAll('article table')];
  out.tables = tables.length;
  out.classed = tables.filter(t => t.hasAttribute('class')).length;
  out.sortable = tables.filter(t => t.hasAttribute('data-kedb-sort')).length;
  out.panels = tables.filter(t => t.closest('.kedb-meta')).length;
  out.unwrapped = tables.filter(t => !t.closest('.md-typeset__scrollwrap')).length;
  out.bare = [...document.querySelectorAll('article table td')].filter(td => {
    const cs = getComputedStyle(td);
    return !(parseFloat(cs.borderTopWidth) > 0 && cs.borderTopStyle === 'solid' && parseFloat(cs.paddingLeft) >= 8 && parseFloat(cs.paddingTop) >= 4);
  }).map(td => td.textContent.trim().slice(0, 40)).slice(0, 5);
  out.cells = document.querySelectorAll('article table td').length;
  out.wrapped = [...document.querySelectorAll('article table .kedb-nowrap')]
    .filter(e => e.getClientRects().length > 1).map(e => e.textContent).slice(0, 5);
  out.scrollers = [...document.querySelectorAll('article .md-typeset__scrollwrap, article .kedb-figure')]
    .filter(w => w.scrollWidth > w.clientWidth + 1)
    .map(w => ({overflowX: getComputedStyle(w).overflowX, cue: getComputedStyle(w).backgroundImage.includes('gradient')}));
  out.charts = document.querySelectorAll('svg.kedb-chart').length;
  out.outside = [];
  document.querySelectorAll('svg.kedb-chart').forEach(svg => {
    const vb = svg.viewBox.baseVal;
    svg.querySelectorAll('text').forEach(t => {
      const b = t.getBBox();
      if (b.x < vb.x - 0.5 || b.y < vb.y - 0.5 || b.x + b.width > vb.x + vb.width + 0.5 || b.y + b.height > vb.y + vb.height + 0.5)
        out.outside.push(t.textContent + ' @ ' + [b.x, b.y, b.width, b.height].map(Math.round).join(','));
    });
  });
  const answer = document.querySelector('.kedb-answer');
  if (answer) {
    const top = e => e ? e.getBoundingClientRect().top + scrollY : null;
    const bottom = e => e ? e.getBoundingClientRect().bottom + scrollY : null;
    const copy = answer.querySelector('[data-kedb-copy=reply]');
    out.answer = {
      top: top(answer),
      facts: bottom(answer.querySelector('.kedb-answer__facts')),
      status: !!answer.querySelector('.kedb-answer__facts .kedb-status'),
      fix: (answer.querySelector('.kedb-answer__facts').textContent || '').includes('Permanent fix'),
      copy: copy && !copy.hidden ? bottom(copy) : null,
      step: top(answer.querySelector('.kedb-steps li, .kedb-answer__none')),
      retired: !!answer.querySelector('.kedb-answer__facts .kedb-status--retired'),
      height: innerHeight,
    };
  }
  return out;
}"""


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Any]]:
    """The example site served on localhost. mkdocs.yml gets the server's address as ``site_url``:
    Material's instant navigation swaps only pages its sitemap lists, and the sitemap needs it."""
    if playwright is None:
        not_available("the Python package playwright is not installed: pip install -e '.[test]', or run make test", UNCHECKED)
    if Axe is None:
        not_available("the Python package axe-playwright-python is not installed: pip install -e '.[test]', or run make test", UNCHECKED)
    require_tool(CHROMIUM, UNCHECKED, "chromium")
    base = tmp_path_factory.mktemp("pages")
    root, out = example_repo(base / "kb"), base / "site"
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(out)))
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    with (root / "mkdocs.yml").open("a", encoding="utf-8") as f:
        f.write(f"site_url: {url}\n")
    ctx = make(root)
    render(ctx, out)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield url, ctx
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def browser(site: tuple[str, Any]) -> Iterator[Any]:
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield b
        finally:
            b.close()


def _errors(page: Any) -> list[str]:
    """The console errors and uncaught exceptions of ``page`` from now on (the list grows)."""
    found: list[str] = []
    page.on("console", lambda m: found.append(f"console: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: found.append(f"exception: {e}"))
    return found


def _open(page: Any, url: str) -> None:
    page.goto(url)
    page.wait_for_load_state("load")
    page.wait_for_function("() => document.querySelector('article table') === null || document.querySelector('.md-typeset__scrollwrap')")


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("screen", list(VIEWPORTS))
def test_every_page_type_reads_well(site: tuple[str, Any], browser: Any, screen: str, scheme: str) -> None:
    url, _ = site
    width, height = VIEWPORTS[screen]
    OUTPUT.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": width, "height": height}, color_scheme=scheme)
    page = context.new_page()
    errors = _errors(page)
    axe = Axe()
    problems: list[str] = []
    for name, path in PAGES.items():
        errors.clear()
        _open(page, url + path)
        m = page.evaluate(MEASURE_JS)
        shot = OUTPUT / f"{name}-{screen}-{scheme}"
        page.screenshot(path=f"{shot}.png")
        page.screenshot(path=f"{shot}-full.png", full_page=True)
        where = f"{name} ({screen}, {scheme})"
        print(f"{where}: {m['tables']} tables, {len(m['scrollers'])} scrolling, {m['charts']} charts, answer {m.get('answer')}")
        if m["scheme"] != ("slate" if scheme == "dark" else "default"):
            problems.append(f"{where}: Material's scheme is {m['scheme']}")
        if errors:
            problems.append(f"{where}: {errors}")
        if m["overflow"] > 0:
            problems.append(f"{where}: the page scrolls sideways by {m['overflow']} px")
        if m["classed"] or m["unwrapped"]:
            problems.append(f"{where}: {m['classed']} tables with a class, {m['unwrapped']} outside Material's scroll wrapper")
        if m["sortable"] != m["tables"] - m["panels"]:
            problems.append(f"{where}: {m['sortable']} of {m['tables'] - m['panels']} tables sortable")
        if m["bare"]:
            problems.append(f"{where}: table cells without Material's border or padding: {m['bare']}")
        if m["wrapped"]:
            problems.append(f"{where}: ids or dates broken over two lines: {m['wrapped']}")
        if [s for s in m["scrollers"] if s["overflowX"] != "auto" or not s["cue"]]:
            problems.append(f"{where}: a wide table or chart without its own scrolling and shadow: {m['scrollers']}")
        if m["outside"]:
            problems.append(f"{where}: chart text outside the view box: {m['outside']}")
        answer = m.get("answer")
        if answer:
            _check_answer(where, screen, answer, problems)
        result = axe.run(page)
        for v in result.response["violations"]:
            if v["impact"] in BLOCKING:
                problems.append(f"{where}: axe {v['id']} ({v['impact']}): {[n['target'] for n in v['nodes'][:5]]}")
    context.close()
    assert problems == []
    if screen == "desktop":
        assert (OUTPUT / f"kpis-{screen}-{scheme}-full.png").stat().st_size > 10_000


def _check_answer(where: str, screen: str, a: dict[str, Any], problems: list[str]) -> None:
    """The answer block in the first screen: its top, the status and fix line, the Copy reply action
    and the start of the first step (or why there is no workaround), so that at least its first
    line shows. On a phone a retired known error may push its steps below: its banner, above
    them, names the record to use instead."""
    if not (a["status"] and a["fix"]):
        problems.append(f"{where}: the answer block lacks the status or the fix status")
    if a["copy"] is None:
        problems.append(f"{where}: no Copy reply action in the answer block")
    last = [a["top"], a["facts"], a["copy"] or 0]
    if screen == "desktop" or not a["retired"]:
        last.append((a["step"] or 0) + FIRST_LINE)
    if a["step"] is None or max(last) > a["height"]:
        problems.append(f"{where}: the answer is not in the first screen: {a}")


@pytest.mark.parametrize("screen", list(VIEWPORTS))
def test_every_known_error_opens_with_its_answer(site: tuple[str, Any], browser: Any, screen: str) -> None:
    url, ctx = site
    width, height = VIEWPORTS[screen]
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    errors = _errors(page)
    problems: list[str] = []
    tops = []
    for rec in ctx.kb.known_errors:
        _open(page, f"{url}known-errors/{rec.id}/")
        a = page.evaluate(MEASURE_JS).get("answer")
        if a is None:
            problems.append(f"{rec.id}: no answer block")
            continue
        _check_answer(f"{rec.id} ({screen})", screen, a, problems)
        tops.append(a["step"])
    print(f"{screen}: first step or no-workaround reason at y = {min(tops):.0f} to {max(tops):.0f} px")
    context.close()
    assert problems == [] and errors == []


def test_instant_navigation_keeps_pages_working(site: tuple[str, Any], browser: Any) -> None:
    """Material's instant navigation swaps the page without a reload: kedb.js runs again, the
    icon sprite causes no error, tables are sortable and keep their look."""
    url, _ = site
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors = _errors(page)
    _open(page, url)
    page.evaluate("() => { window.kedbNoReload = true; }")
    for label in ("Known errors", "Changelog", "KPIs"):
        page.locator(".md-sidebar--primary .md-nav__link", has_text=label).first.click()
        page.wait_for_function(
            "(t) => document.querySelector('article h1') && document.querySelector('article h1').textContent.includes(t)", arg=label
        )
        page.wait_for_timeout(200)
        assert page.evaluate("() => window.kedbNoReload === true"), f"{label}: the page was reloaded, not swapped"
    page.locator(".md-sidebar--primary .md-nav__link", has_text="Known errors").first.click()
    page.wait_for_function("() => document.querySelector('article table[data-kedb-sort]')")
    page.locator("article table a", has_text="KE-0001").first.click()
    page.wait_for_function("() => document.querySelector('.kedb-answer [data-kedb-copy]:not([hidden])')")
    assert page.evaluate("() => window.kedbNoReload === true")
    # Sorting a table keeps Material's look.
    page.locator(".md-sidebar--primary .md-nav__link", has_text="Known errors").first.click()
    page.wait_for_function("() => document.querySelector('article table[data-kedb-sort]')")
    th = page.locator("article table[data-kedb-sort]").nth(1).locator("th", has_text="ID")
    th.click()
    th.click()
    ids = page.evaluate(
        "() => [...document.querySelectorAll('article table[data-kedb-sort]')[1].tBodies[0].rows].map(r => r.cells[0].textContent.trim())"
    )
    assert ids == sorted(ids, reverse=True) and len(ids) > 1
    assert (
        page.evaluate("() => getComputedStyle(document.querySelectorAll('article table')[1].querySelector('td')).borderTopStyle") == "solid"
    )
    context.close()
    assert errors == []


def test_copy_reply_copies_the_reply_template(site: tuple[str, Any], browser: Any) -> None:
    url, _ = site
    context = browser.new_context(viewport={"width": 390, "height": 844})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=url.rstrip("/"))
    page = context.new_page()
    _open(page, url + "known-errors/KE-0001/")
    page.locator(".kedb-answer [data-kedb-copy=reply]").click()
    page.wait_for_function("() => document.querySelector('.kedb-answer [data-kedb-copy=reply]').textContent === 'Copied'")
    copied = page.evaluate("() => navigator.clipboard.readText()")
    assert copied.startswith("Thank you for reporting this.") and "Copy reply" not in copied
    shown = page.evaluate(
        "() => { const c = document.querySelector('.kedb-reply').cloneNode(true); c.querySelectorAll('button').forEach(b => b.remove()); return c.textContent; }"
    )
    assert " ".join(copied.split()) == " ".join(shown.split())
    context.close()


def test_print_leaves_out_buttons_and_expands_links(site: tuple[str, Any], browser: Any) -> None:
    url, _ = site
    page = browser.new_page()
    _open(page, url + "known-errors/KE-0001/")
    page.emulate_media(media="print")
    shown = page.evaluate(
        "() => [...document.querySelectorAll('.kedb-copy, .md-button')].filter(b => getComputedStyle(b).display !== 'none').length"
    )
    after = page.evaluate("() => getComputedStyle(document.querySelector('.kedb-answer__wa a'), '::after').content")
    page.close()
    assert shown == 0  # no Copy reply, no button on paper
    assert "attr(href)" in after or "WA-0001" in after  # the link's address printed after it


def test_palette_toggle_and_the_site_name_once(site: tuple[str, Any], browser: Any) -> None:
    """Material's palette toggle switches light and dark and remembers the choice; the KB's name is
    in the header, and nowhere else in the first screen."""
    url, ctx = site
    name = ctx.kb.program.settings.name
    for width, height in VIEWPORTS.values():
        context = browser.new_context(viewport={"width": width, "height": height}, color_scheme="light")
        page = context.new_page()
        _open(page, url)
        shown = page.evaluate(
            """(name) => [...document.querySelectorAll('body *')].filter(e =>
                 [...e.childNodes].some(n => n.nodeType === 3 && n.textContent.includes(name)) &&
                 e.checkVisibility({opacityProperty: true, visibilityProperty: true}) &&
                 ((r) => r.top < innerHeight && r.bottom > 0 && r.left < innerWidth && r.right > 0)(e.getBoundingClientRect())).length""",
            name,
        )
        assert shown == 1, f"the site name is shown {shown} times in the first screen at {width} px"
        assert page.evaluate("() => document.body.getAttribute('data-md-color-scheme')") == "default"
        page.locator("label[title='Switch to dark mode']").click()
        assert page.evaluate("() => document.body.getAttribute('data-md-color-scheme')") == "slate"
        page.reload()
        assert page.evaluate("() => document.body.getAttribute('data-md-color-scheme')") == "slate"
        context.close()
