"""The ``kedb`` MkDocs plugin: a thin adapter that wires the kedb site into MkDocs events.

- ``on_config`` loads and checks the KB (:func:`kedb.build.context.make`; a check error fails the
  build with every finding; under ``mkdocs serve`` the preview goes on with the records that
  loaded and every page carries a banner with the errors until they are fixed), renders every page from the templates (:mod:`kedb.site`), adds the
  theme overrides, CSS/JS, the navigation, the search settings, and watches ``known_errors/``
  and ``templates/`` so ``mkdocs serve`` reloads when a record changes.
- ``on_files`` drops every file MkDocs found in ``docs_dir`` (``content/``): only what kedb renders
  is published. It adds the generated pages (record pages stay out of the navigation), the feeds,
  the files of ``content/assets/`` that those pages show or link (:mod:`kedb.site.pages`), and
  this edition's artefacts: ``kedb build`` hands over its own; ``mkdocs build`` takes
  ``.kedb/downloads/<edition>/`` only when its manifest names this edition, commit and sources
  (:func:`kedb.build.context.matching_downloads`), else the downloads page lists none and says
  how to build them: never another edition's files.
- Pages kedb renders itself (records, indexes, playbooks) are :class:`RenderedPage` objects, set on their
  files in ``on_files`` (MkDocs' way for a plugin to own a page): MkDocs takes their
  front-matter and finished HTML as they are, without parsing YAML or running Markdown over an
  empty body for each of thousands of record pages. Every page event still runs.
- ``on_env`` gives the theme overrides (``templates/overrides/``) two helpers: a cache for
  the navigation, which is the same on every record page, and the search worker that answers
  Material's search box from kedb's record index (:mod:`kedb.site.searchindex`). For a large
  KB it then has the record pages put through the theme by two worker processes
  (:mod:`kedb.site.chrome`); ``on_page_context`` and ``on_post_page`` hand MkDocs those pages.
  Record pages that the page cache (:mod:`kedb.site.cache`) holds are handed over the same way;
  those it does not hold are kept there when rendered (in the workers or in MkDocs' own loop).
- When the site's plugins are kedb, search and tags alone (:func:`kedb.site.chrome.owns_records`),
  record pages never enter MkDocs' page loop, which costs about a millisecond a page even for a
  page that comes finished from the cache: they are not in MkDocs' files; ``on_nav`` runs MkDocs'
  own reading steps for them (every plugin's page events up to ``on_page_content``), ``on_env``
  writes them, and ``on_template_context`` lists them in the sitemap where MkDocs would. The site
  is the same file for file (``tests/test_site.py`` builds it both ways).
- With those plugins alone, the search index (:mod:`kedb.site.searchindex`) is made in a forked process from the end
  of ``on_config`` (:class:`kedb.core.forkpool.Later`) while MkDocs reads the pages, and ``on_env`` adds its files
  (not under ``mkdocs serve``, whose process keeps what the next build reuses).
- ``on_post_page`` finishes every other page (generator tag out, white space compacted).
- Under ``mkdocs serve``, ``on_pre_build`` moves the record pages' folders aside before MkDocs empties the site
  folder for a rebuild, and ``on_env`` moves them back and writes only the pages whose cache entry (or the check
  banner) changed: deleting and writing again 10,000 unchanged pages cost 12 s of each rebuild. The page store
  remembers the record entries of the last rebuild in the process (:meth:`kedb.site.cache.Store.open`), as the
  history and approval caches remember theirs (:func:`kedb.core.load.cache.read_kept`), and the record files, page
  keys, listing rows and search postings theirs.
- Under ``mkdocs serve``, a saved record is served without MkDocs' whole build when only record pages, pages kept out
  of search, the Tags page and kedb's own files change (:mod:`kedb.site.serving`, ``on_serve``); ``known_errors/`` is
  watched with the system's file events rather than polled.

``kedb build`` runs the same plugin through :func:`kedb.site.render.render`, handing it the
context it already made, so ``mkdocs build``, ``mkdocs serve`` and ``kedb build`` produce the
same site.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import html
import json
import logging
import os
import posixpath
import re
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2.utils import htmlsafe_json_dumps
from markupsafe import Markup
from mkdocs.config import config_options as c
from mkdocs.config.base import Config
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin, event_priority
from mkdocs.structure.files import File, Files, InclusionLevel
from mkdocs.structure.nav import Navigation
from mkdocs.structure.pages import Page
from mkdocs.structure.toc import get_toc
from mkdocs.utils import write_file
from mkdocs.utils.meta import get_data

from ..build.context import AUDIENCES, BuildContext, make, matching_downloads
from ..core import collector, forkpool
from ..core.errors import KedbError
from ..core.resources import find_template, template_dirs
from . import cache as sitecache
from . import chrome, pages, search, serving, trees, urls
from .compact import compact
from .env import SealedBytecodeCache
from .urls import ASSETS, SEARCH_WORKER, WORKER_ONLY

try:  # MkDocs' own reading steps for one page, run for the record pages kedb writes itself (chrome.owns_records)
    from mkdocs.commands.build import _populate_page
except ImportError:  # pragma: no cover - another MkDocs: its loop reads and writes every page
    _populate_page = None  # type: ignore[assignment]
try:  # what Material's tags plugin renders its listings and writes its tags file with (KedbPlugin._retag)
    from material.plugins.tags.renderer import Renderer as TagsRenderer
    from material.plugins.tags.structure.mapping import storage as tags_storage
except ImportError:  # pragma: no cover - another Material: a record's new title or tags take MkDocs' whole build
    TagsRenderer = tags_storage = None  # type: ignore[assignment,misc]

log = logging.getLogger("mkdocs.plugins.kedb")
REQUIRED_EXTENSIONS = ("tables", "admonition", "attr_list", "md_in_html", "toc")
# Material's icon settings -> the symbol of assets/kedb/icons.svg that draws them
THEME_ICONS = {"search": "magnify", "previous": "arrow-left", "close": "close", "menu": "menu", "logo": "library"}


class KedbPluginConfig(Config):
    root = c.Optional(c.Type(str))  # KB root, relative to mkdocs.yml (default: the folder of mkdocs.yml)
    audience = c.Choice(AUDIENCES, default="internal")
    tenant = c.Optional(c.Type(str))
    allow_shallow = c.Type(bool, default=False)
    offline = c.Type(bool, default=True)  # no web fonts: the site must work without the internet


@dataclass
class _Served:
    """What the last build under ``mkdocs serve`` left for a record edit to be served from (:mod:`kedb.site.serving`)."""

    config: MkDocsConfig
    env: Any
    files: Files
    doc_files: Sequence[File]
    chrome_base: str | None  # the page cache's digest of the theme around record pages (sitecache.chrome_digest)
    opts: pages.Options
    watched: list[str]
    stamps: dict[str, serving.Stamp]  # the watched files as the build read them


class KedbPlugin(BasePlugin[KedbPluginConfig]):
    unkeyed_options = ("root",)  # settings no page shows (kedb.site.cache: not in the page cache's keys)

    def __init__(self) -> None:
        super().__init__()
        self.preset: BuildContext | None = None  # set by kedb.site.render.render
        self.ctx: BuildContext | None = None
        self.site: pages.Site | None = None
        self.root: Path = Path(".")
        self.nav: Navigation | None = None
        self.prebuilt: dict[str, str] = {}  # page src -> finished page (kedb.site.chrome)
        self.finished: set[str] = set()
        self.capture: dict[str, str] = {}  # record page src -> its key in the page cache, kept when MkDocs renders it
        self.chrome_cache: sitecache.Store | None = None
        self.serving = False  # under `mkdocs serve` (see on_startup)
        self.banner = ""  # the check's errors, shown on every served page while the KB fails its check
        self.own: dict[str, RenderedPage] = {}  # record pages kedb reads, renders and writes itself (chrome.owns_records)
        self.order: list[str] = []  # every page's source in the order MkDocs would have them (the sitemap's order)
        # Under `mkdocs serve`: each record page the last build wrote (its path in the site) -> what it was written from;
        # and where its folders wait while MkDocs cleans the site folder (see on_pre_build).
        self.served: dict[str, str] = {}
        self.stash: Path | None = None
        self.collecting: tuple[int, ...] | None = None  # the collector's thresholds before `mkdocs build` or `serve` began
        # Under `mkdocs serve`: the files the build under way reads (from on_config), what the last build left for a
        # record edit (kedb.site.serving), and a context and site made for files that MkDocs' whole build then takes.
        self.watching: tuple[list[str], dict[str, serving.Stamp]] | None = None
        self.last: _Served | None = None
        self.ahead: tuple[dict[str, serving.Stamp], BuildContext, pages.Site, pages.Options] | None = None
        self.opts: pages.Options | None = None
        self.chrome_base: str | None = None
        self.observer: Any = None  # what watches known_errors/ under `mkdocs serve` (kedb.site.serving.watch_records)

    def _root(self, config: MkDocsConfig) -> Path:
        base = Path(config.config_file_path).parent if config.config_file_path else Path.cwd()
        return (base / self.config.root).resolve() if self.config.root else base.resolve()

    def on_startup(self, *, command: str, dirty: bool) -> None:
        # Defining this event also keeps one plugin instance across the rebuilds of `mkdocs serve`.
        self.serving = command == "serve"
        self.collecting = collector.start()  # rare cyclic collections while MkDocs runs (kedb.core.collector)

    def on_shutdown(self) -> None:
        if self.observer is not None:
            self.observer.stop()
            self.observer = None
        if self.collecting is not None:
            collector.stop(self.collecting)
            self.collecting = None

    @event_priority(100)  # before the search plugin reads its separator and fields
    def on_config(self, config: MkDocsConfig) -> MkDocsConfig:
        self.last, ahead, self.ahead = None, self.ahead, None
        try:
            if self.serving:  # before anything is read: a file saved during the build is seen by the next one
                watched = self._watched(config)
                self.watching = (watched, serving.stamps(watched))
            if self.preset is not None:
                self.ctx = self.preset
            elif ahead is not None and self.watching is not None and ahead[0] == self.watching[1]:
                self.ctx = ahead[1]  # made from these very files by a record edit that needed the whole build
            else:
                self.ctx = self._make(self._root(config))
            self.banner = check_banner(self.ctx.report) if self.serving else ""
            if self.banner:
                # info, not warning: a strict mkdocs.yml would abort the preview that shows these findings
                log.info("kedb: the KB fails its check; the served pages show the findings until they are fixed:")
                for f in self.ctx.report.findings:
                    if f.severity.value == "error":
                        log.info("  %s", f.format())
            self.root = self.ctx.kb.root
            opts = self.opts = self._options(config, self.ctx)
            if self.site is not None:
                self.site.abandon()  # an earlier build's that never reached on_env
            if ahead is not None and self.ctx is ahead[1] and opts == ahead[3]:
                self.site = ahead[2]
            else:
                # With only the plugins kedb knows, the search index is made in another process while MkDocs goes on,
                # and joins the other files in on_env; with any other plugin, in on_files as every file (it might read
                # them).
                # Under `mkdocs serve` all in this process, the first build too: what a record edit reuses is kept here.
                later = chrome.owns_records(config) and not self.serving
                self.site = pages.build(self.ctx, opts, later=later, remember=self.serving)
            settings = self.ctx.kb.program.settings
            if settings is not None:
                config.site_name = pages.page_title(opts.site_name)
        except KedbError as e:
            raise PluginError(f"kedb: {e}") from e
        self._theme(config)
        if config.nav is None:
            config.nav = self.site.nav
        for css in (a for a in ASSETS if a.endswith(".css")):
            if css not in config.extra_css:
                config.extra_css.append(css)
        for js in (a for a in ASSETS if a.endswith(".js") and a not in WORKER_ONLY):
            if js not in [str(x) for x in config.extra_javascript]:
                config.extra_javascript.append(js)  # type: ignore[arg-type]
        for ext in REQUIRED_EXTENSIONS:
            if ext not in config.markdown_extensions:
                config.markdown_extensions.append(ext)
        self._search(config)
        for path in (self.root / "known_errors", self.root / "content", self.root / "templates"):
            if path.is_dir() and str(path) not in config.watch:
                config.watch.append(str(path))
        return config

    def _make(self, root: Path) -> BuildContext:
        return make(
            root,
            audience=self.config.audience,
            tenant=self.config.tenant,
            allow_shallow=self.config.allow_shallow,
            preview=self.serving,
            remember=self.serving,
        )

    def _options(self, config: MkDocsConfig, ctx: BuildContext) -> pages.Options:
        downloads = ctx.downloads_dir if self.preset is not None else matching_downloads(ctx.kb.root, ctx.info)
        # The KB's name is in content/kedb.yml, as the artefacts have it; mkdocs.yml's site_name is
        # the fallback. kedb's pages and feeds escape it themselves; Material writes it into HTML as it
        # is, so it gets the name escaped (program data is text, never markup).
        settings = ctx.kb.program.settings
        name = settings.name if settings is not None else config.site_name
        return pages.Options(config.use_directory_urls, config.site_url or None, name, downloads)

    def _watched(self, config: MkDocsConfig) -> list[str]:
        """The files a record edit under ``mkdocs serve`` must find unchanged but for records (kedb.site.serving)."""
        root = self._root(config)
        paths = [str(root / d) for d in ("known_errors", "content", "templates")] + [config.docs_dir]
        if config.config_file_path:
            paths.append(config.config_file_path)
        return list(dict.fromkeys(os.path.abspath(p) for p in paths))

    def _theme(self, config: MkDocsConfig) -> None:
        dirs = [str(d) for d in template_dirs(self.root, "overrides")]
        at = 1 if config.theme.custom_dir else 0
        for d in reversed(dirs):
            if d not in config.theme.dirs:
                config.theme.dirs.insert(at, d)
        if self.config.offline:
            config.theme["font"] = False
        # Every page repeats the header and search icons: drawn from one cached sprite
        # (assets/kedb/icons.svg, templates/overrides/.icons/kedb/) instead of inline paths.
        icons = config.theme.get("icon") or {}
        for name in THEME_ICONS:
            icons.setdefault(name, f"kedb/{THEME_ICONS[name]}")
        config.theme["icon"] = icons
        # Light and dark schemes with Material's toggle, unless mkdocs.yml chooses its own palette.
        if not config.theme.get("palette"):
            config.theme["palette"] = chrome.palette("kedb")
        if self.site is not None and self.site.logo and not config.theme.get("logo"):
            config.theme["logo"] = self.site.logo

    def _search(self, config: MkDocsConfig) -> None:
        """Search settings for agents (see kedb.site.search), unless mkdocs.yml sets its own."""
        for plugin in config.plugins.values():
            cfg = getattr(plugin, "config", None)
            if type(plugin).__name__ != "SearchPlugin" or cfg is None:
                continue
            if not cfg.get("separator"):
                cfg["separator"] = search.SEPARATOR
            if cfg.get("pipeline") is None:
                cfg["pipeline"] = list(search.PIPELINE)
            fields = cfg.get("fields")
            if isinstance(fields, dict):
                for name, spec in search.FIELDS.items():
                    fields.setdefault(name, dict(spec))

    def on_files(self, files: Files, *, config: MkDocsConfig) -> Files:
        assert self.site is not None
        # Nothing of content/ is published as it is: not a page kedb did not render (raw HTML, a
        # playbook of another edition), not program data, not a stray file or a link's target.
        docs = os.path.realpath(config.docs_dir)
        dropped = [f for f in files if f.generated_by is None and f.src_dir and os.path.realpath(f.src_dir) == docs]
        for f in dropped:
            files.remove(f)
        if any(_theme_has(config, f.src_uri) for f in dropped):  # MkDocs left out theme files a content/ file shadowed
            files.add_files_from_theme(config.theme.get_env(), config)
        own = chrome.owns_records(config) and _populate_page is not None
        self.own, self.order = {}, []
        for p in self.site.pages:
            inclusion = InclusionLevel.INCLUDED if p.in_nav else InclusionLevel.NOT_IN_NAV
            file = File.generated(config, p.src, content=p.markdown, inclusion=inclusion)
            self.order.append(p.src)
            if own and p.src in self.site.records and p.html is not None and not p.in_nav:
                self.own[p.src] = RenderedPage(file, config, p)  # not in MkDocs' files: see on_nav and on_env
                continue
            files.append(file)
            if p.html is not None:
                RenderedPage(file, config, p)
        for src, data in self.site.files.items():  # explicitly included: exclude_docs may say *.json
            files.append(File.generated(config, src, content=data, inclusion=InclusionLevel.INCLUDED))
        for asset, template in ASSETS.items():
            files.append(
                File.generated(
                    config, asset, abs_src_path=str(find_template(self.root, f"site/{template}")), inclusion=InclusionLevel.INCLUDED
                )
            )
        for a in self.site.artefacts:
            if a.path is not None:
                files.append(File.generated(config, a.src, abs_src_path=str(a.path), inclusion=InclusionLevel.INCLUDED))
        for src, path in self.site.assets.items():  # content/assets/ files a page shows or links; never a link
            if (theirs := files.get_file_from_path(src)) is not None:  # a theme file of the same name: the author's wins
                files.remove(theirs)
            files.append(File.generated(config, src, abs_src_path=str(path), inclusion=InclusionLevel.INCLUDED))
        return files

    def on_pre_build(self, *, config: MkDocsConfig) -> None:
        """Before MkDocs empties the site folder: the folders of the record pages already there that the build may keep
        are moved aside (one rename each), and ``on_env`` moves them back and rewrites only the pages that changed.
        Under ``mkdocs serve`` those are the pages the last rebuild wrote; otherwise those the tree's manifest lists
        (:mod:`kedb.site.trees`: ``kedb build`` stages each site in the tree it replaced two builds before). Deleting
        and writing again 10,000 unchanged pages cost 12 s of a rebuild."""
        self._drop_stash()
        if not self.serving:
            self.served = trees.kept(self.root, config.site_dir, self.ctx.info.edition) if self.ctx is not None else {}
        if not self.served:
            return
        site = config.site_dir
        folders = {trees.inside(dest, site).split(os.sep, 1)[0] for dest in self.served}
        stash = Path(f"{site}.kedb-pages-{os.getpid()}")
        try:
            stash.mkdir()
            for folder in folders:
                if folder not in ("", ".", "..") and os.path.isdir(os.path.join(site, folder)):
                    os.rename(os.path.join(site, folder), stash / folder)
        except OSError:  # another file system, say: the pages are written again
            shutil.rmtree(stash, ignore_errors=True)
            self.served = {}
            return
        self.stash = stash

    def _unstash(self, config: MkDocsConfig, keep: set[str]) -> set[str]:
        """The stashed folders back into the site folder, with nothing in them but the pages of ``keep``: those found
        there are returned (the others are to be written)."""
        stash, self.stash = self.stash, None
        if stash is None:
            return set()
        site, found = config.site_dir, set()
        try:
            for folder in os.listdir(stash):
                target = os.path.join(site, folder)
                if os.path.lexists(target):
                    continue
                os.rename(stash / folder, target)
                _prune(target, keep, found)
        except OSError:
            found.clear()  # what is left is written again
        finally:
            shutil.rmtree(stash, ignore_errors=True)
        return found

    def _drop_stash(self) -> None:
        if self.stash is not None:
            shutil.rmtree(self.stash, ignore_errors=True)
            self.stash = None

    def on_build_error(self, *, error: Exception) -> None:
        self.last = None
        if self.site is not None:
            self.site.abandon()
        self._drop_stash()
        self.served = {}

    def on_pre_page(self, page: Page, *, config: MkDocsConfig, files: Files) -> Page:
        # The sitemap's dates (and the mtime inside sitemap.xml.gz) come from the build date, not the clock.
        if self.ctx is not None:
            page.update_date = self.ctx.info.date.date().isoformat()
        return page

    def on_nav(self, nav: Navigation, *, config: MkDocsConfig, files: Files) -> Navigation:
        self.nav = nav
        # MkDocs' own reading steps for the record pages kedb writes itself, before its loop reads the other pages:
        # every plugin's on_pre_page, on_page_markdown and on_page_content see them (Material's tags plugin collects
        # their tags there, and only record pages have tags, so its listing has the order MkDocs' loop gives it).
        assert _populate_page is not None or not self.own
        for page in self.own.values():
            _populate_page(page, config, files)
        return nav

    def on_template_context(self, context: Any, *, template_name: str, config: MkDocsConfig) -> Any:
        """The sitemap lists the record pages kedb writes itself where MkDocs would have listed them."""
        if template_name == "sitemap.xml" and self.own and isinstance(context.get("pages"), list):
            theirs = {f.src_uri: f for f in context["pages"]}
            listed = [self.own[src].file if src in self.own else theirs.pop(src) for src in self.order if src in self.own or src in theirs]
            context["pages"] = listed + list(theirs.values())
        return context

    @event_priority(-100)  # last: record pages rendered here see the environment every plugin set up
    def on_env(self, env: Any, *, config: MkDocsConfig, files: Files) -> Any:
        if env.bytecode_cache is None:  # the theme's templates, compiled once rather than on every build
            env.bytecode_cache = SealedBytecodeCache(self.root)
        env.globals["kedb_cache"] = FragmentCache()
        env.globals["kedb_search_worker"] = search_worker
        self.prebuilt, self.finished, self.capture, self.chrome_cache = {}, set(), {}, None
        if self.site is None or self.nav is None:
            return env
        try:  # the search index, made in another process since on_config (pages.build's ``later``)
            made = self.site.settle()
        except forkpool.WorkerFailed as e:
            raise PluginError(f"kedb: the search index could not be made: {e}") from e
        for src, data in made.items():  # written with the other files, after this event
            files.append(File.generated(config, src, content=data, inclusion=InclusionLevel.INCLUDED))
        doc_files = files.documentation_pages(inclusion=InclusionLevel.is_included)
        store = None
        if self.site.keys and self.ctx is not None and chrome.only_ours(config, self.on_post_page):
            store = sitecache.Store.open(self.root, self.ctx.info.edition, sitecache.CHROME)
        keys: dict[str, str] = {}
        self.chrome_base = None
        if store is not None:
            self.chrome_cache = store
            self.chrome_base = sitecache.chrome_digest(config, self.nav, doc_files)
            keys = sitecache.chrome_keys(self.site.keys, self.chrome_base)
        if self.own:
            self._write_own(store, keys, config=config, env=env, doc_files=doc_files)
            if self.serving and self.watching is not None and self.opts is not None:  # kept when the build is done
                self.last = _Served(config, env, files, doc_files, self.chrome_base, self.opts, *self.watching)
            return env
        self._drop_stash()  # MkDocs' loop writes every record page
        self.served = {}
        record_pages = [f.page for src in self.site.records if (f := files.get_file_from_path(src)) and f.page is not None]
        if store is None:
            if chrome.wanted(config, len(record_pages), self.on_post_page):
                self.prebuilt = chrome.render(record_pages, config=config, nav=self.nav, doc_files=doc_files, env=env, finish=_finish)
            return env
        # The page cache (kedb.site.cache): pages found there are written out as they are; the others are
        # rendered in workers (many) or by MkDocs' own loop (few), and kept.
        missing = []
        for page in record_pages:
            src = page.file.src_uri
            data = store.get(keys[src]) if src in keys else None
            if data is None:
                missing.append(page)
                continue
            self.prebuilt[src] = data.decode("utf-8")
            page.meta["template"] = chrome.TEMPLATE
        if chrome.wanted(config, len(missing), self.on_post_page):
            done = chrome.render(missing, config=config, nav=self.nav, doc_files=doc_files, env=env, finish=_finish)
            for src, text in done.items():
                store.put(keys[src], text.encode("utf-8"))
            self.prebuilt.update(done)
        else:
            self.capture = {p.file.src_uri: keys[p.file.src_uri] for p in missing if p.file.src_uri in keys}
        return env

    def _write_own(
        self, store: sitecache.Store | None, keys: dict[str, str], *, config: MkDocsConfig, env: Any, doc_files: Sequence[File]
    ) -> None:
        """Write the record pages kedb took out of MkDocs' loop, as that loop would. Those the page cache holds are
        copied from it; the others are put through the theme (in the workers when many) and kept there. Each is
        finished as ``on_post_page`` finishes a page, with the check banner under ``mkdocs serve``."""
        served = self._with_banner if self.banner else None
        mark = sitecache.digest(self.banner)
        # Under `mkdocs serve`: pages the last build wrote from the same cache entry, with the same banner, stay.
        wanted = {page.file.abs_dest_path: f"{keys[src]} {mark}" for src, page in self.own.items() if src in keys}
        kept = self._unstash(config, {dest for dest, what in self.served.items() if wanted.get(dest) == what})
        self.served = dict(wanted)  # every page is kept, copied or rendered below; without serve, the tree's manifest
        written = {src for src, page in self.own.items() if page.file.abs_dest_path in kept}
        if store is not None:
            store.used.update(keys[src] for src in written)  # kept in the site: the cache keeps them too
            held = {src: (keys[src], page.file.abs_dest_path) for src, page in self.own.items() if src in keys and src not in written}
            written |= chrome.copy_cached(store, held, served)
        missing = [p for src, p in self.own.items() if src not in written]
        if not missing:
            return
        assert self.nav is not None
        here = not chrome.wanted(config, len(missing), self.on_post_page)

        def keep(src: str, output: str) -> None:  # where the page was rendered: a worker, or here
            if store is not None and src in keys:
                store.put(keys[src], output.encode("utf-8"))
            chrome.write_page(served(output) if served else output, self.own[src].file.abs_dest_path)

        chrome.render(missing, config=config, nav=self.nav, doc_files=doc_files, env=env, finish=_finish, here=here, keep=keep)
        if store is not None:  # a worker's writes are not counted in this process
            store.used.update(keys[p.file.src_uri] for p in missing if p.file.src_uri in keys)

    # ------------------------------------------------------------ a record edit under `mkdocs serve` (kedb.site.serving)
    def _rebuild(self) -> bool:
        """Serve the files saved since the last build without MkDocs' whole build, when they are records alone and what
        changed can be written from what that build left (:mod:`kedb.site.serving`); False when MkDocs' build is to run."""
        last, self.last = self.last, None  # taken: if anything below fails, MkDocs' whole build runs and leaves another
        if last is None or not self.own or self.site is None or self.ctx is None or self.nav is None:
            return False
        started = time.perf_counter()
        now = serving.stamps(last.watched)
        edits = serving.record_edits(last.stamps, now, str(self.root / "known_errors"))
        if edits is None:
            return False
        try:
            written = self._patch(last, now)
        except Exception as e:  # MkDocs' whole build runs next, and reports what is wrong
            log.info("kedb: a record edit could not be served on its own (%s: %s); building the whole site", type(e).__name__, e)
            self.served = {}  # the record pages on disk may be neither the old nor the new ones: all written again
            return False
        if written is None:
            return False
        self.last = dataclasses.replace(last, stamps=now)
        names = ", ".join(sorted(os.path.relpath(p, self.root) for p in edits))
        log.info("kedb: %s saved: %d pages and %d files written in %.2f s", names, *written, time.perf_counter() - started)
        return True

    def _patch(self, last: _Served, now: dict[str, serving.Stamp]) -> tuple[int, int] | None:
        """Make the site again, and write into the served folder what differs from the last build; None (nothing
        written) when that takes MkDocs' whole build. Returns how many pages and files were written."""
        assert self.site is not None and self.ctx is not None and self.nav is not None and _populate_page is not None
        config = last.config
        ctx = self._make(self.root)
        opts = self._options(config, ctx)
        site = pages.build(ctx, opts, remember=True)
        tags = self._tags_plugin(config)
        todo = serving.plan(self.site, site, self.own, urls.TAGS)
        if (
            todo is None
            or opts != last.opts
            or (ctx.info.commit, ctx.info.date) != (self.ctx.info.commit, self.ctx.info.date)  # every page's sitemap date
            or check_banner(ctx.report) != self.banner
            or (todo.retag and tags is not None and not self._can_retag(tags, last.files))
        ):
            self.ahead = (now, ctx, site, opts)  # what MkDocs' whole build, next, reads
            return None
        changed: list[Page] = []
        for p in todo.pages:
            page = self.own[p.src] if p.src in self.own else last.files.get_file_from_path(p.src).page  # type: ignore[union-attr]
            assert isinstance(page, RenderedPage)
            page.rendered = p
            _populate_page(page, config, last.files)  # every plugin's reading steps, as in on_nav or MkDocs' loop
            changed.append(page)
        if todo.retag and tags is not None:
            changed.append(self._retag(tags, config, last.files, last.env))
        done = chrome.render(changed, config=config, nav=self.nav, doc_files=last.doc_files, env=last.env, finish=_finish, here=True)
        # What each record page written now is written from (on_env's ``served``), so the next whole build keeps it.
        # The page cache is not given it: its key is this served site's alone, and a later build renders it if needed.
        mine = {p.file.src_uri: site.keys[p.file.src_uri] for p in changed if p.file.src_uri in self.own and p.file.src_uri in site.keys}
        keys = sitecache.chrome_keys(mine, last.chrome_base) if last.chrome_base else {}
        mark = sitecache.digest(self.banner)
        self.ctx, self.site = ctx, site
        for page in changed:
            src, dest, output = page.file.src_uri, page.file.abs_dest_path, done[page.file.src_uri]
            self.served.pop(dest, None)
            chrome.write_page(self._with_banner(output) if self.banner else output, dest)
            if src in keys:
                self.served[dest] = f"{keys[src]} {mark}"
        for src, data in todo.write.items():
            write_file(data, os.path.join(config.site_dir, src))
        for src in todo.delete:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(os.path.join(config.site_dir, src))
        return len(changed), len(todo.write) + len(todo.delete)

    @staticmethod
    def _tags_plugin(config: MkDocsConfig) -> Any:
        """Material's tags plugin when it is on and fills the Tags page (None: the Tags page is Markdown as it is)."""
        for plugin in config.plugins.values():
            if type(plugin).__name__ == "TagsPlugin" and getattr(plugin, "config", {}).get("enabled", True):
                return plugin
        return None

    @staticmethod
    def _can_retag(tags: Any, files: Files) -> bool:
        """Whether the Tags page can be filled again on its own: the tags plugin is the one this was written for and
        lists tags on the Tags page alone."""
        page = getattr(files.get_file_from_path(urls.TAGS), "page", None)
        listings = getattr(tags, "listings", None)
        return (
            TagsRenderer is not None
            and callable(getattr(tags_storage, "_mapping_to_json", None))
            and page is not None
            and isinstance(getattr(listings, "data", None), set)
            and hasattr(listings, "populate")
            and hasattr(tags, "mappings")
            and all(getattr(listing, "page", None) is page for listing in listings.data)
        )

    @staticmethod
    def _retag(tags: Any, config: MkDocsConfig, files: Files, env: Any) -> Page:
        """The Tags page read again and filled from the tags plugin's mappings (a record page's title or tags changed),
        as MkDocs' loop reads it and the plugin's ``on_env`` fills it; its tags file (``export``) written again."""
        page = files.get_file_from_path(urls.TAGS).page  # type: ignore[union-attr]
        assert page is not None and _populate_page is not None
        tags.listings.data = set()  # the page's listings, read again below (_can_retag: it has them all)
        _populate_page(page, config, files)
        renderer = TagsRenderer(env, config)
        for listing in list(tags.listings.data):
            tags.listings.populate(listing, tags.mappings, renderer)
        if tags.config.get("export", False):  # the bytes of the plugin's MappingStorage.save, through the C encoder
            path = os.path.normpath(os.path.join(config.site_dir, tags.config.export_file))
            data = [tags_storage._mapping_to_json(m) for m in tags.mappings]
            write_file(json.dumps({"mappings": data}).encode("utf-8"), path)
        return page

    def _with_banner(self, output: str) -> str:
        """A served page with the check's errors at the top of its body (see :func:`check_banner`)."""
        return _BODY.sub(lambda m: m.group(0) + self.banner, output, count=1)

    @event_priority(-100)
    def on_page_context(self, context: Any, *, page: Page, config: MkDocsConfig, nav: Navigation) -> Any:
        text = self.prebuilt.pop(page.file.src_uri, None)
        if text is not None:
            context[chrome.VARIABLE] = Markup(text)
            self.finished.add(page.file.src_uri)
        return context

    def on_serve(self, server: Any, *, config: MkDocsConfig, builder: Any) -> Any:
        """A saved record file is served without MkDocs' whole build when it can be (:meth:`_rebuild`); ``known_errors/``
        is watched with the system's file events rather than MkDocs' polling (:func:`kedb.site.serving.watch_records`)."""
        whole = server.builder

        def rebuild() -> None:
            if not self._rebuild():
                whole()

        server.builder = rebuild
        records = str(self.root / "known_errors")
        if records in config.watch and os.path.isdir(records):
            self.observer = serving.watch_records(server, records)
            if self.observer is not None:
                config.watch.remove(records)  # not polled as well: MkDocs watches what is left in the list next
                log.info("kedb: watching %s for saved records (file events)", os.path.relpath(records))
        return server

    def on_post_build(self, *, config: MkDocsConfig) -> None:
        if self.chrome_cache is not None:
            self.chrome_cache.prune()
            self.chrome_cache = None
        if not self.serving and self.ctx is not None:  # what the next build into this tree may keep (kedb.site.trees)
            trees.record(self.root, config.site_dir, self.ctx.info.edition, self.served)
            self.served = {}

    @event_priority(-100)  # after every other plugin has changed the page
    def on_post_page(self, output: str, *, page: Page, config: MkDocsConfig) -> str:
        if page.file.src_uri in self.finished:  # rendered and finished by a worker (kedb.site.chrome) or cached
            self.finished.discard(page.file.src_uri)
        else:
            output = _finish(output)
            key = self.capture.pop(page.file.src_uri, None)
            if key is not None and self.chrome_cache is not None:
                self.chrome_cache.put(key, output.encode("utf-8"))
        return self._with_banner(output) if self.banner else output


BANNER_LIMIT = 30  # findings listed in the banner; the terminal has them all


def check_banner(report: Any) -> str:
    """The banner ``mkdocs serve`` puts at the top of every page while the KB fails its check: the
    errors as ``path:line: CODE name: message``, escaped (a finding quotes what the author wrote)."""
    errors = [f for f in report.findings if f.severity.value == "error"]
    if not errors:
        return ""
    items = "".join(f"<li><code>{html.escape(f.format())}</code></li>" for f in errors[:BANNER_LIMIT])
    more = len(errors) - BANNER_LIMIT
    tail = f"<p>… and {more} more: see the terminal or run <code>kedb check</code>.</p>" if more > 0 else ""
    n = len(errors)
    return (
        '<div class="kedb-check-banner" role="alert" style="position:sticky;top:0;z-index:10;max-height:40vh;overflow:auto;'
        'margin:0;padding:.8rem 1.2rem;background:#fde7e9;color:#5c0011;border-bottom:3px solid #b3261e;font-size:.8rem">'
        f"<strong>kedb check: {n} error{'s' * (n != 1)}.</strong> Records with errors are left out of this preview; "
        f'the page updates when they are fixed.<ul style="margin:.4rem 0 0">{items}</ul>{tail}</div>'
    )


def _theme_has(config: MkDocsConfig, src_uri: str) -> bool:
    return any(os.path.isfile(os.path.join(d, src_uri)) for d in config.theme.dirs)


def _finish(output: str) -> str:
    """A page as the theme rendered it, made small: the generator meta tag (it only names the
    MkDocs and Material versions: 66 bytes on every page) goes and white space is compacted."""
    return compact(_GENERATOR.sub("", output, count=1))


def _prune(folder: str, keep: set[str], found: set[str]) -> None:
    """Delete everything under ``folder`` but the files of ``keep`` (added to ``found``): links and other files of any
    kind too, never followed (a tree kept from an earlier build must hold nothing kedb did not write there), and
    the folders left empty, ``folder`` among them."""
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                _prune(entry.path, keep, found)
            elif entry.path in keep and entry.is_file(follow_symlinks=False):
                found.add(entry.path)
            else:
                os.unlink(entry.path)
    with contextlib.suppress(OSError):
        os.rmdir(folder)  # only when empty: the folder of a page that is gone


class RenderedPage(Page):
    """A page whose HTML kedb rendered from a ``*.html.j2`` template (records, indexes).

    ``read_source`` takes the front-matter as data and ``render`` the finished HTML and table of
    contents. If another plugin supplies the page's source (``on_page_read_source``), MkDocs'
    own reading and rendering are used instead.
    """

    def __init__(self, file: File, config: MkDocsConfig, rendered: pages.Page) -> None:
        super().__init__(None, file, config)
        self.rendered = rendered
        self._own = True

    def read_source(self, config: MkDocsConfig) -> None:
        source = config.plugins.on_page_read_source(page=self, config=config)
        if source is not None:
            self._own = False
            self.markdown, self.meta = get_data(source)
            return
        self.markdown = ""
        self.meta = _copied(self.rendered.meta)

    def render(self, config: MkDocsConfig, files: Files) -> None:
        if not self._own:
            super().render(config, files)
            return
        self.content = self.rendered.html or ""
        self._toc = self._anchors = _UNMADE  # made when first read: a page the page cache holds finished needs neither
        self._title_from_render = None

    # The table of contents and the anchors of a page kedb rendered are made from it when something reads them (the
    # theme; MkDocs' check of links to anchors). MkDocs sets them as it sets any page's (its __init__, its render).
    _toc: Any = None
    _anchors: Any = None

    @property  # type: ignore[override]
    def toc(self) -> Any:
        if self._toc is _UNMADE:
            self._toc = get_toc(self.rendered.toc)
        return self._toc

    @toc.setter
    def toc(self, value: Any) -> None:
        self._toc = value

    @property  # type: ignore[override]
    def present_anchor_ids(self) -> set[str] | None:
        if self._anchors is _UNMADE:
            self._anchors = set(_ID.findall(self.rendered.html or ""))
        return self._anchors  # type: ignore[no-any-return]

    @present_anchor_ids.setter
    def present_anchor_ids(self, value: set[str] | None) -> None:
        self._anchors = value


def _copied(value: Any) -> Any:
    """What ``copy.deepcopy`` gives for a page's front-matter data (dicts, lists, text, numbers), at a fifth of its
    cost (0.3 s for the 10,000 record pages MkDocs reads); anything else is deep-copied as usual."""
    kind = type(value)
    if kind is dict:
        return {k: _copied(v) for k, v in value.items()}
    if kind is list:
        return [_copied(v) for v in value]
    if value is None or kind in (str, int, float, bool):
        return value
    return copy.deepcopy(value)


_UNMADE = object()
_ID = re.compile(r'\sid="([^"<>]+)"')
_BODY = re.compile(r"<body[^>]*>")
_GENERATOR = re.compile(r'<meta name="generator" content="[^"<>]*">\s*')
_CONFIG = re.compile(r'(<script id="__config" type="application/json">)(.*?)(</script>)', re.S)


def search_worker(block: str, base_url: str) -> Markup:
    """Material's ``config`` block with its search worker replaced by kedb's (search-worker.js)."""

    def swap(m: re.Match[str]) -> str:
        data = json.loads(m.group(2))
        data["search"] = posixpath.join(base_url, SEARCH_WORKER) if base_url not in ("", ".") else SEARCH_WORKER
        return m.group(1) + str(htmlsafe_json_dumps(data, sort_keys=False, separators=(",", ":"))) + m.group(3)

    return Markup(_CONFIG.sub(swap, str(block), count=1))


class FragmentCache:
    """Theme fragments that are the same on many pages (see templates/overrides/main.html)."""

    def __init__(self) -> None:
        self._items: dict[str, str] = {}

    def has(self, key: str) -> bool:
        return key in self._items

    def put(self, key: str, value: str) -> str:
        self._items[key] = value
        return ""

    def get(self, key: str) -> str:
        return self._items[key]
