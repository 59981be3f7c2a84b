"""One ranking, two engines: the browser's search worker and kedb.search.engine must agree.

The built example site is served on localhost and headless Chromium loads
``assets/kedb/search-worker.js`` into a page (with its stemmer, outside a worker so its
functions can be called). Then, for the whole query set of the findability benchmark
(``benchmarks/findability_queries.yml``), the worker's first three records and its count must
be Python's; for every word of the example records and their usual endings, the browser's
Snowball stemmer must give Python's stem; and text in many scripts must split into the same
terms. The browser also answers every query with the expected record in its first three.
"""

from __future__ import annotations

import re

import pytest
import yaml

from kbtest import REPO
from kedb.search import rules
from kedb.search.engine import Engine
from test_site_browser import browser, served  # noqa: F401 - the built example site and Chromium, as fixtures

QUERIES = yaml.safe_load((REPO / "benchmarks" / "findability_queries.yml").read_text(encoding="utf-8"))
ALL = [(kind, item["q"], item["id"]) for kind, items in QUERIES.items() for item in items]

# The worker's source in a function: its internals are returned instead of a worker being started.
LOAD_WORKER = """async () => {
  const stemmer = await (await fetch('assets/kedb/porter2.js')).text();
  (0, eval)(stemmer);  // global: defines porter2, as importScripts() does in the worker
  const src = await (await fetch('assets/kedb/search-worker.js')).text();
  const make = new Function('self', 'addEventListener', 'postMessage', 'importScripts',
    src + '; return {handle: handle, search: search, namesOf: namesOf, analyse: analyse, stem: stem, displayTitle: displayTitle,' +
    ' highlight: highlight, meta: function () { return meta; }};');
  const self = {location: {href: new URL('assets/kedb/search-worker.js', location.href).href}};
  window.kedbWorker = make(self, () => {}, () => {}, () => {});
  await window.kedbWorker.handle({type: 0, data: {docs: []}});
}"""
SEARCH = """async (queries) => {
  const w = window.kedbWorker, out = [];
  for (const q of queries) {
    const found = await w.search(q);
    const ids = [];
    for (const h of found.hits.filter(h => h.kind === 'record').slice(0, 3)) {
      const rows = await w.namesOf(Math.floor(h.doc / w.meta().names));
      ids.push(rows[h.doc % w.meta().names][1]);
    }
    out.push({ids: ids, total: found.total});
  }
  return out;
}"""
STEMS = "(words) => words.map(w => window.kedbWorker.stem(w))"
ANALYSE = "(texts) => texts.map(t => window.kedbWorker.analyse(t).map(x => [x.key, x.surface, x.code]))"


@pytest.fixture(scope="module")
def page(served: str, browser: object):  # type: ignore[no-untyped-def]  # noqa: F811
    p = browser.new_page()  # type: ignore[attr-defined]
    p.goto(served)
    p.evaluate(LOAD_WORKER)
    yield p
    p.close()


@pytest.fixture(scope="module")
def engine(served: str) -> Engine:  # noqa: F811
    from test_site_browser import SITES

    return Engine.from_site(SITES[served])


def test_browser_and_python_rank_the_query_set_alike(page: object, engine: Engine) -> None:
    texts = [q for _, q, _ in ALL]
    js = page.evaluate(SEARCH, texts)  # type: ignore[attr-defined]
    differ, misses = [], []
    for (kind, text, expected), got in zip(ALL, js, strict=True):
        hits, total = engine.search(text, 3)
        py = [h.id for h in hits]
        if got["ids"] != py or got["total"] != total:
            differ.append(f"{text!r}: browser {got['ids']} of {got['total']}, python {py} of {total}")
        if expected not in got["ids"]:
            misses.append(f"{kind}: {text!r} -> {got['ids']} (want {expected})")
    assert len(ALL) >= 80
    assert differ == []
    assert misses == []


def test_the_browser_stems_as_python_does(page: object) -> None:
    text = " ".join(p.read_text(encoding="utf-8") for p in sorted((REPO / "known_errors").glob("*.md")))
    words = sorted({w for w in re.findall(r"[a-z]+", text.lower()) if len(w) > 1})
    variants = sorted({w + end for w in words for end in ("", "s", "es", "ed", "ing", "er", "ly", "ness", "ation", "ies")})
    assert len(variants) > 10_000
    assert page.evaluate(STEMS, variants) == [rules.stem(w) for w in variants]  # type: ignore[attr-defined]


def test_titles_from_the_name_files_are_shown_as_text(page: object) -> None:
    """The first answer lists titles from n-*.json, which hold the titles as data (kedb search
    prints them): the worker escapes them before Material renders them as HTML."""
    shown = page.evaluate(  # type: ignore[attr-defined]
        """() => { const w = window.kedbWorker;
          return w.highlight(w.displayTitle(['u/', 'KE-0001', 'retired', '<img src=x onerror=alert(1)> & "x"', 'KE-0002']), ['img']); }"""
    )
    assert "<img" not in shown and "&lt;<mark>img</mark> src=x onerror=alert(1)&gt; &amp; &quot;x&quot;" in shown
    assert shown.startswith("[Retired] KE-0001 ") and shown.endswith("→ use KE-0002")


def test_the_browser_splits_text_as_python_does(page: object) -> None:
    samples = [
        "Error 0x80070005: access denied… (Event ID 7031) hr=0X800423F4",
        "AADSTS50076, «MFA required»; KB 5034441 — ERR_SSL_PROTOCOL_ERROR! NET::ERR_CERT_DATE_INVALID",
        "printer… spooler© ‘quoted’ “words” ¿qué? naïve café 2024-01-05 v1.2.3 C:\\Windows\\System32 0x00000709",
        "the user can't sign in → loop ✓ ★ 100% done; a.b.c e-mail __init__ _x_ x__y",
        "Ελληνικά Кириллица עברית العربية 日本語のテキスト 한국어 देवनागरी İstanbul ǅ ß ﬁle Ⅻ ②",
    ]
    expected = [[[t.key, t.surface, t.code] for t in rules.analyse(s)] for s in samples]
    assert page.evaluate(ANALYSE, samples) == expected  # type: ignore[attr-defined]


# ---------------------------------------------------------------- the search box, as agents use it
# Every text the count line shows while a query is typed, in order.
WATCH_META = """() => {
  window.kedbMetaSeen = [];
  const meta = document.querySelector('.md-search-result__meta');
  new MutationObserver(() => window.kedbMetaSeen.push(meta.textContent)).observe(meta, {childList: true, characterData: true, subtree: true});
}"""
OUTPUT = REPO / "tests" / "_output" / "site"


def _open_search(context: object, served: str) -> object:  # noqa: F811
    page = context.new_page()  # type: ignore[attr-defined]
    page.goto(served)
    page.locator("input.md-search__input").click()
    page.evaluate(WATCH_META)
    return page


def test_typing_never_flashes_no_results_and_the_count_is_honest(served: str, browser: object, engine: Engine) -> None:  # noqa: F811
    context = browser.new_context(viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
    page = _open_search(context, served)
    box = page.locator("input.md-search__input")  # type: ignore[attr-defined]
    box.press_sequentially("outlook keeps prompting", delay=90)  # a quick typist: every keystroke is a query
    page.wait_for_function("() => document.querySelectorAll('.md-search-result__item').length > 0")  # type: ignore[attr-defined]
    page.wait_for_timeout(900)  # type: ignore[attr-defined]
    seen = page.evaluate("() => window.kedbMetaSeen")  # type: ignore[attr-defined]
    assert seen and "No matching documents" not in seen, seen
    # Capped at 20: the line says of how many.
    _, total = engine.search("outlook keeps prompting", 3)
    assert total > 20
    meta = page.inner_text(".md-search-result__meta")  # type: ignore[attr-defined]
    m = re.fullmatch(r"20 of (\d+) matching documents", meta)
    assert m and int(m.group(1)) >= total, meta
    assert len(page.locator(".md-search-result__item").all()) <= 20  # type: ignore[attr-defined]
    OUTPUT.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(OUTPUT / "search-count-1280.png"))  # type: ignore[attr-defined]
    # A query that matches nothing says so, once typing has stopped.
    box.fill("")
    box.press_sequentially("zqxwvj", delay=60)
    page.wait_for_function("() => document.querySelector('.md-search-result__meta').textContent === 'No matching documents'", timeout=5000)  # type: ignore[attr-defined]
    context.close()


def test_the_keyboard_opens_the_first_result(served: str, browser: object) -> None:  # noqa: F811
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)  # type: ignore[attr-defined]
    page = context.new_page()  # type: ignore[attr-defined]
    page.goto(served)
    page.locator("label.md-header__button[for=__search]").first.click()
    box = page.locator("input.md-search__input")
    box.press_sequentially("aadsts 50076", delay=40)
    page.wait_for_function("() => document.querySelectorAll('.md-search-result__item').length > 0")
    page.wait_for_timeout(400)
    first = page.locator(".md-search-result__item a").first.get_attribute("href")
    assert first and "KE-0001" in first
    OUTPUT.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(OUTPUT / "search-390.png"))
    box.press("ArrowDown")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/known-errors/KE-0001/(\?h=.*)?$"))  # Material adds the terms to highlight
    context.close()


def test_a_retired_result_points_to_its_successor(served: str, browser: object) -> None:  # noqa: F811
    context = browser.new_context(viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
    page = _open_search(context, served)
    page.locator("input.md-search__input").press_sequentially("EnableADAL", delay=30)  # type: ignore[attr-defined]
    page.wait_for_function("() => document.querySelectorAll('.md-search-result__item').length > 1")  # type: ignore[attr-defined]
    page.wait_for_timeout(400)  # type: ignore[attr-defined]
    titles = page.evaluate(
        "() => [...document.querySelectorAll('.md-search-result__item')].map(li => (li.querySelector('h1, h2') || li).textContent.trim())"
    )  # type: ignore[attr-defined]
    retired = [t for t in titles if t.startswith("[Retired] KE-0006")]
    assert retired and retired[0].endswith("→ use KE-0001"), titles
    ranked = [re.search(r"KE-\d{4}", t).group(0) for t in titles if re.search(r"KE-\d{4}", t)]  # type: ignore[union-attr]
    assert ranked.index("KE-0001") < ranked.index("KE-0006"), titles
    context.close()
