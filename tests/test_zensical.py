"""The KB through Zensical: ``kedb build --engine zensical`` (issue #22, item 2).

The example KB is built twice in one tree, through MkDocs (the default) and through Zensical,
and the two sites are compared page by page: every page kedb renders is in both with the same
content (links compared by where they lead, since Zensical writes each as its own relative URL),
and the feeds, the catalogue and kedb's search index are the same bytes. Then what Zensical does
not do on its own: the record pages' table of contents, the tags, the search box answered by
kedb's worker (in headless Chromium: a pasted code finds its known error), and a build whose
output lacks a page is refused with ``site/`` left as it was.
"""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest

from kbtest import AS_OF, kedb, not_available, require_tool
from test_site import example_repo

try:
    from playwright import sync_api as playwright
except ImportError:  # the test extra is not installed: the browser fixture says what goes unchecked
    playwright = None  # type: ignore[assignment]

UNCHECKED = "the Zensical-built example site in headless Chromium (kedb's search box and worker)"
# What only one engine writes: MkDocs' search index, gzipped sitemap and tags export; Zensical's index of the pages.
ONLY_MKDOCS = {"search/search_index.json", "sitemap.xml.gz", "tags.json"}
ONLY_ZENSICAL = {"search.json"}
TAGS = re.compile(r'<nav class="md-tags"[^>]*>.*?</nav>', re.S)
HREF = re.compile(r'(href|src)="([^"]*)"')


def _zensical() -> None:
    from kedb.site.zensical import available

    if available() is None:
        pytest.fail("Zensical is not installed: `make test` installs it with kedb's test extras")


@pytest.fixture(scope="module")
def sites(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """(the KB, its site built through MkDocs, its site built through Zensical, in KB/site/)."""
    _zensical()
    base = tmp_path_factory.mktemp("zensical")
    kb = example_repo(base / "kb")
    r = kedb("--root", str(kb), "build", "--only", "site", "--as-of", AS_OF)
    assert r.exit_code == 0, r.output
    shutil.copytree(kb / "site", base / "site-mkdocs")
    r = kedb("--root", str(kb), "build", "--only", "site", "--as-of", AS_OF, "--engine", "zensical")
    assert r.exit_code == 0, r.output
    return kb, base / "site-mkdocs", kb / "site"


def _files(site: Path) -> set[str]:
    return {
        p.relative_to(site).as_posix() for p in site.rglob("*") if p.is_file() and not p.relative_to(site).as_posix().startswith("assets/")
    }


def _content(site: Path, rel: str) -> tuple[str, list[str]]:
    """A page's article with every link made absolute (from the page's URL) and white space
    normalised, and the names of its tags (Material shows them above the text, Zensical below)."""
    text = (site / rel).read_text(encoding="utf-8")
    m = re.search(r'<article class="md-content__inner md-typeset">(.*?)</article>', text, re.S)
    assert m, rel
    body = m.group(1)
    tags = sorted(re.sub(r"\s+", " ", t).strip() for t in re.findall(r'class="md-tag[^"]*"[^>]*>([^<]*)<', " ".join(TAGS.findall(body))))
    body = re.sub(r'<a id="__skip"[^>]*></a>', "", TAGS.sub("", body))
    here = "http://kb/" + rel

    def absolute(m: re.Match[str]) -> str:
        target = urljoin(here, m.group(2))
        return f'{m.group(1)}="{re.sub(r"/index.html(?=$|#)", "/", target)}"'

    body = HREF.sub(absolute, body)
    return re.sub(r"\s+", " ", re.sub(r"\s*(<[^>]+>)\s*", r"\1", body)).strip(), tags


def test_zensical_builds_every_page_kedb_renders_with_the_same_content(sites: tuple[Path, Path, Path]) -> None:
    _, mk, zs = sites
    a, b = _files(mk), _files(zs)
    assert a - b == ONLY_MKDOCS and b - a == ONLY_ZENSICAL
    pages = sorted(f for f in a & b if f.endswith(".html") and f != "404.html")
    records = [f for f in pages if re.match(r"(known-errors|workarounds|problems)/(KE|WA|PRB)-\d{4}/index.html$", f)]
    assert len(records) == 53 and "downloads/index.html" in pages and "tags/index.html" in pages
    differ = [f for f in pages if f != "tags/index.html" and _content(mk, f) != _content(zs, f)]
    assert differ == [], f"pages whose content differs between MkDocs and Zensical: {differ[:10]}"
    # The files kedb writes beside the pages are the same bytes: feeds, catalogue, kedb's search index.
    same = [f for f in a & b if not f.endswith(".html") and f != "sitemap.xml"]
    assert any(f.startswith("search/kedb/") for f in same) and "api/records.json" in same and "feed.xml" in same
    assert [f for f in same if (mk / f).read_bytes() != (zs / f).read_bytes()] == []


def test_the_tags_page_lists_what_materials_lists(sites: tuple[Path, Path, Path]) -> None:
    _, mk, zs = sites

    def listing(site: Path) -> dict[str, list[str]]:
        body, _ = _content(site, "tags/index.html")
        out: dict[str, list[str]] = {}
        for m in re.finditer(r'<h2 id="(tag:[^"]+)"[^>]*>(.*?)(?=<h2 |$)', body):
            out[m.group(1)] = sorted(re.findall(r'href="(http://kb/[^"#]+)"', m.group(2)))  # Material's order is its own
        return out

    z = listing(zs)
    assert z == listing(mk) and len(z) > 10
    # A record's tags above its text link to their sections of the Tags page.
    text = (zs / "known-errors" / "KE-0001" / "index.html").read_text(encoding="utf-8")
    chips = re.findall(r'<a href="([^"]+)" class="md-tag">([^<]+)</a>', TAGS.search(text).group(0))  # type: ignore[union-attr]
    assert [name for _, name in chips] == ["Microsoft 365 identity and sign-in", "P2"]
    assert all(href.startswith("../../tags/#tag:") and href.split("#")[1] in z for href, _ in chips)


def test_record_pages_keep_their_table_of_contents(sites: tuple[Path, Path, Path]) -> None:
    _, _, zs = sites
    text = (zs / "known-errors" / "KE-0001" / "index.html").read_text(encoding="utf-8")
    toc = text[text.index('data-md-type="toc"') :]
    links = re.findall(r'<a href="(#[^"]+)" class="md-nav__link">', toc[: toc.index("</nav>")])
    assert links[:3] == ["#workaround", "#symptoms", "#cause"] and "#reply-to-customer" in links


def test_the_search_box_is_kedbs_own(sites: tuple[Path, Path, Path]) -> None:
    _, _, zs = sites
    home = (zs / "index.html").read_text(encoding="utf-8")
    assert 'class="kedb-search"' in home and "assets/kedb/search-box.js" in home
    assert 'data-md-component="search"' not in home, "Zensical's own search interface is not started"
    # Zensical's index holds the pages kedb leaves in search (playbooks, KPIs), never a record.
    import json

    index = json.loads((zs / "search.json").read_text(encoding="utf-8"))
    locations = {i["location"].split("#")[0] for i in index["items"]}
    assert "kpis/" in locations and any(loc.startswith("playbooks/") for loc in locations)
    assert not [loc for loc in locations if re.match(r"(known-errors|workarounds|problems)/", loc)]


def test_a_zensical_output_without_a_record_is_never_published(sites: tuple[Path, Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    from kedb.site import zensical

    kb, _, zs = sites
    before = (zs / "known-errors" / "KE-0002" / "index.html").read_bytes()
    run = zensical._run

    def drops_a_record(project: Path, config: Path, *, strict: bool) -> None:
        run(project, config, strict=strict)
        shutil.rmtree(project / "site" / "known-errors" / "KE-0002")

    monkeypatch.setattr(zensical, "_run", drops_a_record)
    r = kedb("--root", str(kb), "build", "--only", "site", "--as-of", AS_OF, "--engine", "zensical")
    assert r.exit_code != 0
    assert "lacks 1 of the" in r.output and "known-errors/KE-0002.md" in r.output
    assert (zs / "known-errors" / "KE-0002" / "index.html").read_bytes() == before, "site/ is as it was"
    assert not [p.name for p in kb.iterdir() if ".staging-" in p.name or ".zensical-" in p.name], "nothing staged is left"


def test_without_zensical_the_build_says_how_to_install_it(sites: tuple[Path, Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    from kedb.site import zensical

    monkeypatch.setattr(zensical, "available", lambda: None)
    r = kedb("--root", str(sites[0]), "build", "--only", "site", "--engine", "zensical")
    assert r.exit_code == 2 and "pip install 'kedb[zensical]'" in r.output


# ---------------------------------------------------------------- in the browser
CHROMIUM = "/usr/bin/chromium"
RESULTS_JS = """() => [...document.querySelectorAll('.md-search-result__item')].map(li => {
  const a = li.querySelector('a');
  return {path: new URL(a.href).pathname, title: (li.querySelector('h1, h2') || a).textContent.trim()};
})"""
# (a pasted code or phrasing, the record that must come first)
PASTED = [
    ("AADSTS50076", "KE-0001"),
    ("0x80070005", "KE-0019"),
    ("KB5034441", "KE-0011"),
    ("NET::ERR_CERT_DATE_INVALID", "KE-0009"),
    ("Event ID 7031", "KE-0015"),
    ("printer queue stuck", "KE-0015"),
]


@pytest.fixture(scope="module")
def served(sites: tuple[Path, Path, Path]) -> Iterator[str]:
    if playwright is None:
        not_available("the Python package playwright is not installed: pip install -e '.[test]', or run make test", UNCHECKED)
    require_tool(CHROMIUM, UNCHECKED, "chromium")
    from test_site_browser import serve

    site = sites[2].parent / "served-zensical"  # a copy: other tests rebuild KB/site
    shutil.copytree(sites[2], site)
    with serve(site) as url:
        yield url


@pytest.fixture(scope="module")
def browser(served: str) -> Iterator[object]:
    from test_site_browser import ARGS

    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield b
        finally:
            b.close()


def _first(page: object, query: str) -> list[dict[str, str]]:
    box = page.locator("input.md-search__input")  # type: ignore[attr-defined]
    box.fill("")
    box.press_sequentially(query, delay=20)
    deadline, previous = time.monotonic() + 20, None
    while time.monotonic() < deadline:
        page.wait_for_timeout(100)  # type: ignore[attr-defined]
        current = page.evaluate(RESULTS_JS)  # type: ignore[attr-defined]
        if current and current == previous:
            return current
        previous = current
    return previous or []


def test_a_pasted_code_finds_its_known_error_on_the_zensical_site(served: str, browser: object) -> None:
    from test_site_browser import OUTPUT

    context = browser.new_context(viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
    requests: list[str] = []
    errors: list[str] = []
    context.on("request", lambda r: requests.append(r.url))
    page = context.new_page()
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(served)
    # The home page's own search form hands the pasted text to kedb's box.
    page.locator("#kedb-q").fill("AADSTS50076")
    page.locator("#kedb-q").press("Enter")
    page.wait_for_function("() => document.querySelector('.kedb-search .md-search-result__list li')", timeout=20_000)
    assert page.evaluate(RESULTS_JS)[0]["path"] == "/known-errors/KE-0001/"
    assert page.locator(".kedb-search").is_visible()
    misses = []
    for query, expected in PASTED:
        got = [r["path"].strip("/").split("/")[-1] for r in _first(page, query)[:3]]
        if got[:1] != [expected]:
            misses.append(f"{query!r}: {got} (want {expected} first)")
    assert misses == []
    # Pages Zensical indexed (the playbooks) are searched too, after the records they concern.
    assert any(r["path"].startswith("/playbooks/") for r in _first(page, "escalation path"))
    # The count line is kedb's: capped lists say of how many.
    _first(page, "outlook keeps prompting")
    page.wait_for_timeout(700)
    assert re.fullmatch(r"20 of \d+ matching documents", page.inner_text(".kedb-search .md-search-result__meta"))
    OUTPUT.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(OUTPUT / "zensical-search-1280.png"))
    page.keyboard.press("Escape")
    assert not page.locator(".kedb-search").is_visible()
    assert errors == []
    assert sorted({urlsplit(u).hostname for u in requests}) == ["127.0.0.1"], "the site works offline"
    context.close()


def test_on_a_phone_the_search_button_opens_the_box_and_enter_opens_the_result(served: str, browser: object) -> None:
    from test_site_browser import OUTPUT

    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)  # type: ignore[attr-defined]
    page = context.new_page()
    page.goto(served + "known-errors/KE-0005/")
    page.locator("label.md-header__button[for=__search]").click()
    box = page.locator("input.md-search__input")
    box.press_sequentially("0x8004010F", delay=40)
    page.wait_for_function("() => document.querySelectorAll('.kedb-search .md-search-result__item').length > 0")
    page.wait_for_timeout(300)
    OUTPUT.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(OUTPUT / "zensical-search-390.png"))
    box.press("ArrowDown")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/known-errors/KE-0004/$"))
    context.close()
