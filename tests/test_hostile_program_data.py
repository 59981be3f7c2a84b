"""Program data is text, never markup (issue #15, "Script injection through program data").

A copy of the example KB has every free-text string of every program-data file
(``content/*.yml``) and of every playbook's front-matter made hostile: script tags, an
attribute break-out, ``javascript:`` links in text and in Markdown, a Jinja expression, a remote
image, a Markdown attribute list. Which strings are free text is read from the JSON Schema kedb
exports (:mod:`kedb.authoring.schema`): a string with a pattern, an enum or a format (ids,
handles, slugs, dates) stays as it is, so the KB stays valid and every display name,
description, title, definition and responsibility gets the payloads. Each playbook's text gets
the payloads ``kedb check`` lets into a body (the others it refuses; that is checked too).

``kedb build`` then builds the internal site, and one headless Chromium opens every page of it,
recording dialogs (an ``alert`` that ran), injected elements (a script that is not the site's
own, an element with an ``on*`` attribute, an image the page would fetch from elsewhere or that
the payload made, a ``javascript:`` URL) and every request, which must stay on localhost. The
payloads must be shown as text.
"""

from __future__ import annotations

import json
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from kbtest import REPO, init_repo, kedb, not_available, require_tool
from test_site_browser import ARGS, CHROMIUM, _results, playwright, serve

UNCHECKED = "hostile program data and playbooks in every page of the built site, in headless Chromium"
PAYLOADS = (
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(2)>',
    "javascript:alert(3)",
    "[x](javascript:alert(4))",
    "{{ 7*7 }}",
    "<img src=https://evil.example/x.png>",
    "{: onclick=alert(5)}",
)
# What kedb check lets into a Markdown body: the rest is refused (KE501-KE503), so it never builds.
BODY_PAYLOADS = ("{{ 7*7 }}", "![x](https://evil.example/y.png)", "<https://evil.example/z>")
# Typed into Material's search box: the results show the hostile names and descriptions.
SEARCHES = ("alert", "onerror", "evil.example", "javascript", "Microsoft 365 identity")
# Matchers, not text: allowlist entries must equal the contact details the example KB's pages use.
NOT_TEXT = {("kedb", "allowlist")}


# ---------------------------------------------------------------- making the KB hostile
class _Injector:
    """Walks one file's data beside its JSON Schema; appends payloads to every free-text string."""

    def __init__(self, schema: dict[str, Any], kind: str) -> None:
        self.defs = schema.get("$defs", {})
        self.kind = kind
        self.count = 0

    def _resolve(self, node: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in node:
            node = self.defs[node["$ref"].rsplit("/", 1)[-1]]
        return node

    def __call__(self, data: Any, node: dict[str, Any], path: tuple[str, ...] = ()) -> Any:
        node = self._resolve(node)
        for key in ("anyOf", "oneOf"):
            if key in node:  # the branch that fits the data (e.g. a string or null)
                kinds = {dict: "object", list: "array", str: "string"}
                fits = [s for s in map(self._resolve, node[key]) if s.get("type") == kinds.get(type(data))]
                return self(data, fits[0], path) if fits else data
        if (self.kind, *path[:1]) in NOT_TEXT:
            return data
        if isinstance(data, dict):
            props, extra = node.get("properties", {}), node.get("additionalProperties")
            return {k: self(v, props.get(k, extra if isinstance(extra, dict) else {}), (*path, k)) for k, v in data.items()}
        if isinstance(data, list):
            return [self(v, node.get("items", {}), path) for v in data]
        if isinstance(data, str) and node.get("type") == "string" and not {"pattern", "enum", "format", "const"} & node.keys():
            return self._hostile(data, node.get("maxLength", 4000))
        return data

    def _hostile(self, text: str, limit: int) -> str:
        """``text`` and as many payloads as fit, starting at a different one each time."""
        start, self.count = self.count, self.count + 1
        for i in range(len(PAYLOADS)):
            p = PAYLOADS[(start + i) % len(PAYLOADS)]
            if len(text) + 1 + len(p) <= limit:
                text += " " + p
        return text


def _dump(data: Any) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)


def make_hostile(dst: Path) -> dict[str, int]:
    """The example KB at ``dst`` with hostile program data and playbooks: strings made hostile, per file."""
    from kedb.core.load.yamlstrict import parse
    from kedb.core.reference import file_kinds

    for part in ("content", "known_errors", "templates"):
        shutil.copytree(REPO / part, dst / part, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "mkdocs.yml", dst / "mkdocs.yml")
    (dst / ".gitignore").write_text("/site/\n/.kedb/\n")
    kinds = file_kinds()
    changed: dict[str, int] = {}
    for f in sorted((dst / "content").glob("*.yml")):
        schema = kinds[f.stem].model_json_schema(by_alias=True)
        inject = _Injector(schema, f.stem)
        f.write_text(_dump(inject(parse(f.read_text(encoding="utf-8")).data, schema)), encoding="utf-8")
        changed[f.name] = inject.count
    playbook = kinds["playbook"].model_json_schema(by_alias=True)
    for f in sorted((dst / "content" / "playbooks").glob("*.md")):
        _, front, body = f.read_text(encoding="utf-8").split("---\n", 2)
        inject = _Injector(playbook, "playbook")
        data = inject(parse(front).data, playbook)
        paras = body.split("\n\n")
        body = "\n\n".join(p + (" " + " ".join(BODY_PAYLOADS) if p.strip() and p[0].isalpha() else "") for p in paras)
        f.write_text(f"---\n{_dump(data)}---\n{body}", encoding="utf-8")
        changed[f"playbooks/{f.name}"] = inject.count + body.count(BODY_PAYLOADS[0])
    return changed


# ---------------------------------------------------------------- building it
@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    root = tmp_path_factory.mktemp("hostile") / "kb"
    changed = make_hostile(root)
    init_repo(root)
    res = kedb("--root", str(root), "build", "--only", "site", "--audience", "internal")
    assert res.exit_code == 0, res.output
    return root / "site", changed


def test_every_program_file_and_playbook_was_made_hostile(hostile: tuple[Path, dict[str, int]]) -> None:
    _, changed = hostile
    program = {f.name for f in (REPO / "content").glob("*.yml")}
    playbooks = {f"playbooks/{f.name}" for f in (REPO / "content" / "playbooks").glob("*.md")}
    assert set(changed) == program | playbooks and len(program) >= 10 and playbooks
    assert not [name for name, n in changed.items() if n == 0], changed


def test_kedb_check_refuses_the_other_payloads_in_a_body(tmp_path: Path) -> None:
    """Script, raw HTML, javascript: links and attribute lists never reach a playbook page: the check
    refuses them, so the build renders nothing (the renderer neutralises them anyway: test_site)."""
    root = tmp_path / "kb"
    for part in ("content", "known_errors"):
        shutil.copytree(REPO / part, root / part)
    pb = next((root / "content" / "playbooks").glob("*.md"))
    text = pb.read_text(encoding="utf-8")
    lines = len(text.rstrip("\n").split("\n"))
    pb.write_text(text.rstrip("\n") + "\n\n" + "\n\n".join(PAYLOADS) + "\n", encoding="utf-8")
    res = kedb("--root", str(root), "check", "--format", "json")
    assert res.exit_code == 1
    found = {(f["line"], f["code"]) for f in json.loads(res.stdout)["findings"] if f["path"].endswith(pb.name)}
    at = {p: lines + 2 + 2 * i for i, p in enumerate(PAYLOADS)}
    refused = {p for p in PAYLOADS if any(line == at[p] for line, _ in found)}
    assert refused == set(PAYLOADS) - {"{{ 7*7 }}"}, sorted(found)


# ---------------------------------------------------------------- every page in the browser
# What a page holds that it should not: run in the page after it loaded.
FINDINGS_JS = r"""() => {
  const here = location.origin, found = [];
  const remote = (u) => { try { const x = new URL(u, location.href); return !['http:', 'https:'].includes(x.protocol) ? x.protocol === 'javascript:' : x.origin !== here; } catch (e) { return true; } };
  for (const s of document.querySelectorAll('script')) {
    if (s.src) { if (remote(s.src)) found.push('script from ' + s.src); }
    else if (!/json/.test(s.type) && /alert\(|evil\.example/.test(s.textContent)) found.push('inline script: ' + s.textContent.slice(0, 80));
  }
  for (const el of document.querySelectorAll('*')) {
    for (const a of el.attributes) {
      const v = a.value.replace(/[\s\u0000-\u001f]/g, '').toLowerCase();
      if (a.name.startsWith('on')) found.push(`<${el.localName} ${a.name}="${a.value}">`);
      if (v.startsWith('javascript:') || v.startsWith('data:text/html')) found.push(`<${el.localName} ${a.name}="${a.value}">`);
    }
  }
  for (const el of document.querySelectorAll('img, iframe, embed, object, video, audio, source, link[rel~=stylesheet], link[rel~=icon]')) {
    const u = el.getAttribute('src') || el.getAttribute('data') || el.getAttribute('href') || '';
    if (u === 'x' || (u && remote(u))) found.push(`<${el.localName} ${u}>`);
  }
  return {found, text: document.body.innerText, title: document.title};
}"""


@pytest.fixture(scope="module")
def pages(hostile: tuple[Path, dict[str, int]]) -> Iterator[dict[str, Any]]:
    """Every page of the site opened in one headless Chromium: what each holds and what ran."""
    if playwright is None:
        not_available("the Python package playwright is not installed: pip install -e '.[test]', or run make test", UNCHECKED)
    require_tool(CHROMIUM, UNCHECKED, "chromium")
    site, _ = hostile
    paths = sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html"))
    with serve(site) as base, playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            requests: list[tuple[str, str]] = []  # (page being opened, URL requested)
            opening = [""]
            dialogs: list[str] = []
            context.on("request", lambda r: requests.append((opening[0], r.url)))
            page = context.new_page()
            page.on("dialog", lambda d: (dialogs.append(f"{page.url}: {d.type} {d.message}"), d.dismiss()))
            seen: dict[str, Any] = {}
            start = time.perf_counter()
            for path in paths:
                opening[0] = path
                page.goto(base + path, wait_until="load")
                seen[path] = page.evaluate(FINDINGS_JS)
            # Material renders search results as HTML: search for the payloads and look again.
            opening[0] = "search"
            page.goto(base, wait_until="load")
            page.locator("input.md-search__input").click()
            for query in SEARCHES:
                found, _ = _results(page, query)
                seen[f"search: {query}"] = {**page.evaluate(FINDINGS_JS), "results": len(found)}
            page.wait_for_timeout(300)  # anything a page scheduled has had its chance to run
            print(f"{len(paths)} pages in {time.perf_counter() - start:.1f} s")
            yield {"base": base, "pages": seen, "requests": requests, "dialogs": dialogs}
        finally:
            browser.close()


def test_no_page_runs_or_loads_what_program_data_says(pages: dict[str, Any]) -> None:
    assert len(pages["pages"]) >= 60 + len(SEARCHES)
    assert [q for q in SEARCHES if pages["pages"][f"search: {q}"]["results"] == 0] == []
    assert pages["dialogs"] == []
    assert {path: v["found"] for path, v in pages["pages"].items() if v["found"]} == {}
    external = sorted(
        {(p, u) for p, u in pages["requests"] if urlsplit(u).scheme not in ("data", "blob") and urlsplit(u).hostname != "127.0.0.1"}
    )
    assert external == []


def test_the_payloads_are_shown_as_text(pages: dict[str, Any]) -> None:
    text = "\n".join(v["text"] for v in pages["pages"].values())
    for p in PAYLOADS:
        assert p in text, p
    by_path = pages["pages"]
    # Escaped once: a reader never sees an entity (text escaped twice shows "&lt;script&gt;").
    shown_twice = {
        k: v["text"][max(0, v["text"].find("&")) :][:80] for k, v in by_path.items() if re.search(r"&(?:lt|gt|quot|amp|#\d+);", v["text"])
    }
    assert shown_twice == {}
    # A service's display name, as each record page and the Tags page show it.
    assert "Microsoft 365 identity and sign-in <script>alert(1)</script>" in by_path["known-errors/KE-0001/index.html"]["text"]
    assert "<script>alert(1)</script>" in by_path["tags/index.html"]["text"]
    # A playbook's title, as its page title and the navigation show it.
    playbooks = {k: v for k, v in by_path.items() if k.startswith("playbooks/") and k != "playbooks/index.html"}
    assert len(playbooks) >= 5
    assert [k for k, v in playbooks.items() if "<script>alert(1)</script>" not in v["title"]] == []
    assert "Knowledge-base upkeep <script>alert(1)</script>" in by_path["playbooks/index.html"]["text"]
    # A playbook's text: the Jinja expression stays as written, the remote image is a link (never loaded).
    upkeep = by_path["playbooks/kb-upkeep/index.html"]["text"]
    assert "{{ 7*7 }} [x] https://evil.example/z" in upkeep


def test_the_feeds_and_the_sitemap_are_still_well_formed(hostile: tuple[Path, dict[str, int]]) -> None:
    from xml.etree import ElementTree as ET

    site, _ = hostile
    xml = sorted(site.glob("*.xml"))
    assert {"feed.xml", "rss.xml"} <= {f.name for f in xml}
    for f in xml:
        ET.parse(f)
