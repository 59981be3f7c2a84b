"""The site through Zensical: ``kedb build --engine zensical`` (issue #22).

Zensical reads ``mkdocs.yml`` but runs no MkDocs plugin, so on its own it builds a KB's
playbooks and nothing else, and says "No issues found". Here kedb does before Zensical what its
plugin does inside MkDocs, and Zensical only puts the pages in its theme:

1. kedb renders every page of the edition (:func:`kedb.site.pages.build`, the same call the
   plugin makes: records, indexes, problems, workarounds, KPIs, changelog, audit, downloads, tags,
   playbooks, feeds, the search index, ``api/records.json``, ``llms.txt``) and writes them into a
   staging source folder beside the output: each HTML page as a Markdown file that
   :mod:`kedb.site.zensical_md` hands to Zensical whole, with its table of contents; kedb's
   assets, this build's artefacts and the files of ``content/assets/`` the pages show. Nothing
   of ``content/`` is given to Zensical as it is.
2. kedb writes the configuration Zensical reads (``mkdocs.yml`` in that folder) from the KB's
   own ``mkdocs.yml``: the site's name, URL, ``use_directory_urls``, copyright, theme features
   and palette, ``extra``; the classic variant (Material's look); kedb's navigation; its CSS and
   scripts; and the theme overrides of ``templates/zensical/overrides/``.
3. It runs ``zensical build`` (a separate process, the Python kedb runs on), with ``--strict``
   when the KB's ``mkdocs.yml`` says ``strict: true``.
4. It checks the output: every page and file kedb generated must be there (a record page with
   its id), or the build fails naming what is missing, and ``site/`` is left as it was. A site
   that silently lacks records is never published.

Links. Zensical resolves every relative link in a page's HTML from the page's *source file* and
rewrites it to the target's URL (MkDocs leaves kedb's HTML alone), so kedb's pages for Zensical
link source paths (``../workarounds/WA-0001.md``; :class:`kedb.site.urls.Urls` ``source_links``)
and Zensical checks every link and anchor as it rewrites it.

Search. kedb's search answers, not Zensical's. Zensical's search box is a new engine with its
own index format (one ``search.json`` of every page: with 10,000 records the whole KB, fetched
at once) and an internal worker protocol. Record pages stay out of it (``search: exclude`` in
their front-matter, which Zensical honours, as Material's index does); Zensical still indexes the
pages kedb leaves in search (playbooks, KPIs), which is what Material's index holds under MkDocs.
The theme's search partial is replaced by kedb's box (``templates/zensical/overrides/partials/
search.html``, ``templates/zensical/assets/search-box.js``): it starts kedb's worker
(``assets/kedb/search-worker.js``, the same file and index as under MkDocs), hands it
``search.json``'s pages as Material hands it its own index, and lists its answers with
Material's class names, so ``kedb.js`` (the honest count, the home page's search form) works the
same on both sites.

Tags. Zensical's tags module is left off: its memory grows with the square of the pages (see
:class:`Tags`), so kedb writes the tags of each page and the Tags page's listing itself, as
Material's tags plugin shows them under MkDocs.

Zensical keeps a cache in its project folder; that folder is staged and removed with each build
(nothing outside ``site/`` is written), so Zensical puts every page through its theme on each
build (kedb's page cache, :mod:`kedb.site.cache`, still spares rendering the record pages: their
key holds the site options, links to source paths among them, so they are kept apart from the
MkDocs site's).
"""

from __future__ import annotations

import copy
import html
import importlib.metadata
import importlib.util
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from ..build.context import BuildContext
from ..core.errors import EnvironmentProblem, KedbError
from ..core.resources import find_template, template_dirs
from . import chrome, pages, urls, zensical_md
from .render import load
from .text import md_inline

ENGINE = "zensical"
TESTED = "0.0.73"  # the Zensical release kedb's overrides and tests were made with (pyproject.toml's `zensical` extra)
SEARCH_BOX = 'class="kedb-search"'  # on the home page Zensical wrote, or its theme did not take kedb's search box
DOCS = "docs"  # the staging source folder, inside the staging project
OVERRIDES = "overrides"
# Zensical-only assets: site path -> path under templates/
OWN_ASSETS = {
    "assets/kedb/search-box.js": "zensical/assets/search-box.js",
    "assets/kedb/search-box.css": "zensical/assets/search-box.css",
}
MARKDOWN_EXTENSIONS: list[Any] = [
    "tables",
    "admonition",
    "attr_list",
    "md_in_html",
    {"toc": {"permalink": True}},
    "kedb.site.zensical_md",
]
# Features of Material's and Zensical's own search box; kedb's box replaces it.
SEARCH_FEATURES = ("search.highlight", "search.share", "search.suggest")
# Record pages are not in the navigation (issue #4); Zensical is told so, as MkDocs is by the plugin.
NOT_IN_NAV = "\n".join(f"/{folder}/*-*.md" for folder in urls.KIND_DIRS.values())
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def available() -> str | None:
    """The installed Zensical's version, or None when it is not installed."""
    if importlib.util.find_spec("zensical") is None:
        return None
    try:
        return importlib.metadata.version("zensical")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def render(ctx: BuildContext, out_dir: Path) -> Path:
    """The edition's site built by Zensical into ``out_dir`` (which must not exist yet)."""
    if available() is None:
        raise EnvironmentProblem(
            "`kedb build --engine zensical` needs Zensical in the Python kedb runs on: "
            f"`{Path(sys.executable).name} -m pip install 'kedb[zensical]'` (Zensical {TESTED}, the release kedb is tested with)"
        )
    root = ctx.kb.root
    cfg = load(root)
    settings = ctx.kb.program.settings
    name = settings.name if settings is not None else cfg.site_name
    # ctx.downloads_dir: the artefacts `kedb build` made for this edition (as the plugin takes them from it)
    opts = pages.Options(cfg.use_directory_urls, cfg.site_url or None, name, ctx.downloads_dir, source_links=True)
    site = pages.build(ctx, opts)
    out_dir = Path(out_dir)
    project = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.zensical-", dir=out_dir.parent))
    try:
        write_sources(ctx, site, project / DOCS)
        _overrides(root, project / OVERRIDES)
        config = project / "mkdocs.yml"
        config.write_text(json.dumps(zensical_config(cfg, site, name, _offline(cfg)), indent=1, default=str) + "\n", encoding="utf-8")
        _run(project, config, strict=bool(cfg.strict))
        verify(site, project / "site", urls.Urls(cfg.use_directory_urls))
        os.rename(project / "site", out_dir)
    finally:
        shutil.rmtree(project, ignore_errors=True)
    return out_dir


def zensical_config(cfg: Any, site: pages.Site, name: str, offline: bool) -> dict[str, Any]:
    """The configuration kedb writes for Zensical, from the KB's MkDocs configuration ``cfg``."""
    theme = cfg.theme
    features = [f for f in (theme.get("features") or []) if f not in SEARCH_FEATURES]
    out_theme: dict[str, Any] = {
        "name": "material",  # Zensical's own theme, which replaces Material's
        "variant": "classic",  # Material's look
        "custom_dir": OVERRIDES,
        "features": features,
        "palette": copy.deepcopy(theme.get("palette")) or chrome.palette("material"),
        "language": theme.get("language") or "en",
    }
    if offline:
        out_theme["font"] = False  # no web fonts: the site works without the internet
    if site.logo:
        out_theme["logo"] = site.logo
    out: dict[str, Any] = {
        "site_name": pages.page_title(name),
        "site_url": cfg.site_url or None,
        "site_description": cfg.site_description or None,
        "site_author": cfg.site_author or None,
        "copyright": cfg.copyright or None,
        "use_directory_urls": bool(cfg.use_directory_urls),
        "docs_dir": DOCS,
        "site_dir": "site",
        "theme": out_theme,
        "nav": cfg.nav if cfg.nav is not None else site.nav,
        "not_in_nav": NOT_IN_NAV,
        "extra": dict(cfg.extra or {}),
        "extra_css": [a for a in (*urls.ASSETS, *OWN_ASSETS) if a.endswith(".css")],
        "extra_javascript": [a for a in (*urls.ASSETS, *OWN_ASSETS) if a.endswith(".js") and a not in urls.WORKER_ONLY],
        "markdown_extensions": MARKDOWN_EXTENSIONS,
        "validation": _validation(cfg),
        # search: Zensical indexes the pages kedb leaves in search (records say `search: exclude`) and
        # kedb's box (templates/zensical/overrides/partials/search.html) hands them to kedb's worker.
        # No tags module: kedb shows the tags (Tags).
        "plugins": {"search": {}},
    }
    return {k: v for k, v in out.items() if v is not None}


def _validation(cfg: Any) -> dict[str, bool]:
    """Whether Zensical checks links and their anchors, as mkdocs.yml's ``validation.links`` says: on
    unless set to ``ignore`` (Zensical checks every link kedb wrote; at 10,000 records that is
    about a third of its time, see benchmarks/bench_site.py)."""
    links = cfg.validation.links
    return {"invalid_links": links.not_found > logging.DEBUG, "invalid_link_anchors": links.anchors > logging.DEBUG}


def write_sources(ctx: BuildContext, site: pages.Site, docs: Path) -> None:
    """Every page and file kedb generated for this edition, into the staging source folder ``docs``."""
    root = ctx.kb.root
    docs.mkdir(parents=True)
    made: set[Path] = set()

    def put(src: str) -> Path:
        path = docs / src
        if path.parent not in made:
            path.parent.mkdir(parents=True, exist_ok=True)
            made.add(path.parent)
        return path

    tags = Tags(site)
    for p in site.pages:
        if p.html is not None:
            meta = {k: v for k, v in p.meta.items() if k != "tags"}  # kedb draws them (Tags), linked
            text = pages.front_matter(meta) + zensical_md.marker(p.toc) + "\n" + tags.chips(p) + p.html
        elif p.src == urls.TAGS:
            text = tags.listing(p.markdown)
        else:
            text = p.markdown
        put(p.src).write_text(text, encoding="utf-8")
    for src, data in site.files.items():
        put(src).write_bytes(data)
    for asset, template in urls.ASSETS.items():
        shutil.copyfile(find_template(root, f"site/{template}"), put(asset))
    for asset, template in OWN_ASSETS.items():
        shutil.copyfile(find_template(root, template), put(asset))
    for a in site.artefacts:
        if a.path is not None:
            shutil.copyfile(a.path, put(a.src))
    for src, path in site.assets.items():  # files of content/assets/ a page shows or links
        shutil.copyfile(path, put(src))


class Tags:
    """The tags of the record pages, shown by kedb: Zensical's tags module is not used.

    It needs memory that grows with the square of the pages (2.7 GB for a KB of 2,000 records
    against 0.3 GB without it; at 10,000 records the build was killed at 23 GB, the machine's
    memory). So kedb writes what Material's tags plugin shows under MkDocs: the tags of a page
    above its text, each linking to its section of the Tags page, and that page's listing (a
    section per tag, its pages in the site's order) where ``tags.md.j2`` has ``<!-- material/tags -->``."""

    LISTING = "<!-- material/tags -->"

    def __init__(self, site: pages.Site) -> None:
        self.pages: dict[str, list[tuple[str, str]]] = {}  # tag as shown (HTML-escaped) -> (title, page src)
        for p in site.pages:
            for tag in p.meta.get("tags") or ():
                self.pages.setdefault(tag, []).append((p.meta.get("title") or p.src, p.src))
        self.ids: dict[str, str] = {}
        for tag in sorted(self.pages, key=lambda t: html.unescape(t).casefold()):
            base = "tag:" + (re.sub(r"[^\w]+", "-", html.unescape(tag).casefold()).strip("-") or "tag")
            anchor, n = base, 1
            while anchor in self.ids.values():
                n += 1
                anchor = f"{base}-{n}"
            self.ids[tag] = anchor

    def chips(self, page: pages.Page) -> str:
        shown = [t for t in page.meta.get("tags") or () if t in self.ids]
        if not shown:
            return ""
        links = "".join(f'<a href="{html.escape(urls.md_link(page.src, urls.TAGS, self.ids[t]))}" class="md-tag">{t}</a>' for t in shown)
        return f'<nav class="md-tags">{links}</nav>\n'

    def listing(self, markdown: str) -> str:
        """The Tags page's Markdown with the listing in place of the marker."""
        if self.LISTING not in markdown:
            return markdown
        parts = []
        for tag, anchor in self.ids.items():
            items = self.pages[tag]  # in the site's page order, as Material lists them
            parts.append(f'## <span class="md-tag">{tag}</span> {{: #{anchor} }}\n')
            parts.extend(f"- [{md_inline(html.unescape(title))}]({urls.md_link(urls.TAGS, src)})" for title, src in items)
            parts.append("")
        return markdown.replace(self.LISTING, "\n".join(parts), 1)


def _overrides(root: Path, dest: Path) -> None:
    """The theme overrides for Zensical: kedb's, with the KB's own ``templates/zensical/overrides/`` on top."""
    dest.mkdir()
    for folder in reversed(template_dirs(root, "zensical/overrides")):
        shutil.copytree(folder, dest, dirs_exist_ok=True)


def _offline(cfg: Any) -> bool:
    from .plugin import KedbPlugin

    plugin = next((p for p in cfg.plugins.values() if isinstance(p, KedbPlugin)), None)
    return True if plugin is None else bool(plugin.config.offline)


def _run(project: Path, config: Path, *, strict: bool) -> None:
    cmd = [sys.executable, "-m", "zensical", "build", "--config-file", str(config)] + (["--strict"] if strict else [])
    env = {**os.environ, "NO_COLOR": "1"}
    try:
        proc = subprocess.run(cmd, cwd=project, env=env, capture_output=True, text=True, timeout=3600)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise EnvironmentProblem(f"could not run `zensical build` ({e}); nothing in site/ was changed") from e
    out = _ANSI.sub("", (proc.stdout or "") + (proc.stderr or "")).strip()
    if proc.returncode != 0 or not (project / "site" / "index.html").is_file():
        tail = "\n".join(out.splitlines()[-40:])
        why = ""
        if strict and "--strict" in out:
            why = " The KB's mkdocs.yml says strict: true, so Zensical's warnings above fail the build."
        elif proc.returncode < 0:
            why = f" Zensical was stopped by signal {-proc.returncode} (out of memory?)."
        raise KedbError(
            f"`zensical build` failed (exit {proc.returncode}); nothing in site/ was changed.{why}" + (f"\n{tail}" if tail else "")
        )


def verify(site: pages.Site, out: Path, url: urls.Urls) -> None:
    """Every page and file kedb generated is in Zensical's output (a record page with its id), or the build fails."""
    missing: list[str] = []
    for p in site.pages:
        target = url.url(p.src)
        path = out / (target + "index.html" if target == "" or target.endswith("/") else target)
        rid = site.records[p.src].id if p.src in site.records else None
        if not path.is_file() or (rid is not None and rid not in path.read_text(encoding="utf-8", errors="replace")):
            missing.append(p.src)
    for src, data in site.files.items():
        path = out / src
        if not path.is_file() or path.stat().st_size != len(data):
            missing.append(src)
    home = out / "index.html"
    if home.is_file() and SEARCH_BOX not in home.read_text(encoding="utf-8", errors="replace"):
        raise KedbError(
            "Zensical's theme did not take kedb's search box (templates/zensical/overrides/partials/search.html): its own box "
            f"searches no record, so the site was not published and site/ is as it was (kedb is tested with Zensical {TESTED})"
        )
    if missing:
        shown = ", ".join(missing[:10]) + (f" and {len(missing) - 10} more" if len(missing) > 10 else "")
        raise KedbError(
            f"Zensical's output lacks {len(missing)} of the {len(site.pages) + len(site.files)} pages and files kedb generated "
            f"({shown}); the site was not published and site/ is as it was"
        )


__all__ = ["ENGINE", "TESTED", "available", "render", "verify", "write_sources", "zensical_config"]
