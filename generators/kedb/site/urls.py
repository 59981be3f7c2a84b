"""Where every generated page lives, and relative links between them.

Pages are addressed by their source path in the docs folder (``known-errors/KE-0001.md``);
Markdown links use those (MkDocs checks and rewrites them), while HTML made by kedb (record
bodies, charts) needs the final URL, which depends on ``use_directory_urls``.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from urllib.parse import urljoin

from ..core.kb import Record

KIND_DIRS = {"known-error": "known-errors", "workaround": "workarounds", "problem": "problems"}
HOME = "index.md"
KE_INDEX = "known-errors/index.md"
WA_INDEX = "workarounds/index.md"
PRB_INDEX = "problems/index.md"
PLAYBOOK_INDEX = "playbooks/index.md"
KPIS = "kpis.md"
AUDIT = "audit.md"  # internal edition, when content/audits/ holds an audit
CHANGELOG = "changelog.md"
DOWNLOADS = "downloads.md"
TAGS = "tags.md"
WRITING = "writing/index.md"  # internal editions: how to write records, and the field and rule reference
WRITING_FIELDS = "writing/fields.md"
WRITING_RULES = "writing/rules.md"
ATOM = "feed.xml"
RSS = "rss.xml"
# site path -> path under templates/site
ASSETS = {
    "assets/kedb/kedb.css": "assets/kedb.css",
    "assets/kedb/kedb.js": "assets/kedb.js",
    "assets/kedb/search-worker.js": "assets/search-worker.js",
    "assets/kedb/porter2.js": "assets/porter2.js",  # the worker's stemmer (kedb.search.rules)
    "assets/kedb/icons.svg": "assets/icons.svg",  # the theme's header and search icons (see kedb.site.plugin)
}
SEARCH_WORKER = "assets/kedb/search-worker.js"
WORKER_ONLY = {SEARCH_WORKER, "assets/kedb/porter2.js"}  # loaded by the search worker, not by pages


def record_src(record_id: str) -> str:
    prefix = record_id.split("-", 1)[0]
    folder = {"KE": "known-errors", "WA": "workarounds", "PRB": "problems"}[prefix]
    return f"{folder}/{record_id}.md"


def playbook_src(rec: Record) -> str:
    """A playbook keeps its place: ``content/playbooks/x.md`` is the page ``playbooks/x.md``."""
    return "playbooks/" + posixpath.basename(rec.source.path)


def absolute(site_url: str | None, path: str) -> str:
    """``path`` (relative to the site root) as an absolute URL when mkdocs.yml sets ``site_url``; as it is otherwise."""
    return urljoin(site_url if site_url.endswith("/") else site_url + "/", path) if site_url else path


def relpath(path: str, start: str) -> str:
    """``posixpath.relpath(path, start)`` for two paths inside the site, computed from the strings alone.

    ``posixpath.relpath`` makes both paths absolute first, which asks the system for the working directory twice per
    call: 7.8 µs a link against 2 µs here, for about 16,600 links on the listing pages of 10,000 records and more on
    the record pages. Paths it would resolve against that directory (absolute, or climbing out with ``..``) are still
    given to it, so the answer is the same for every input (``tests/test_perf_equivalence.py`` compares the two)."""
    to = [p for p in posixpath.normpath(path).split("/") if p != "."]
    at = [p for p in posixpath.normpath(start).split("/") if p != "."]
    if not path or not start or path.startswith("/") or start.startswith("/") or ".." in to or ".." in at:
        return posixpath.relpath(path, start)
    common = 0
    while common < len(to) and common < len(at) and to[common] == at[common]:
        common += 1
    return "/".join([".."] * (len(at) - common) + to[common:]) or "."


def md_link(from_src: str, to_src: str, anchor: str = "") -> str:
    """Relative link between two source paths, for Markdown (MkDocs resolves and checks it)."""
    rel = relpath(to_src, posixpath.dirname(from_src) or ".")
    return rel + (f"#{anchor}" if anchor else "")


@dataclass(frozen=True)
class Urls:
    use_directory_urls: bool = True
    # Links in kedb's HTML between source paths (``../workarounds/WA-0001.md``) instead of final
    # URLs: Zensical resolves every relative link of a page's HTML from its source file and
    # rewrites it to the target's URL itself (see kedb.site.zensical).
    source_links: bool = False

    def url(self, src: str) -> str:
        """The URL MkDocs gives ``src`` (relative to the site root)."""
        stem = src[: -len(".md")] if src.endswith(".md") else src
        if not src.endswith(".md"):
            return src
        if not self.use_directory_urls:
            return stem + ".html"
        if stem == "index" or stem.endswith("/index"):
            return stem[: -len("index")]
        return stem + "/"

    def html_link(self, from_src: str, to_src: str) -> str:
        """Relative URL from the page built from ``from_src`` to ``to_src``, for HTML made by kedb."""
        if self.source_links:
            return md_link(from_src, to_src)
        here = self.url(from_src)
        base = here if here.endswith("/") or here == "" else posixpath.dirname(here) + "/"
        target = self.url(to_src)
        rel = relpath(target or ".", base.rstrip("/") or ".")
        if target.endswith("/") or target == "":
            rel = rel.rstrip("/") + "/" if rel != "." else "./"
        return rel
