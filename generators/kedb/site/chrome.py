"""The theme around record pages, rendered by two worker processes.

MkDocs renders every page through the theme (Material's ``main.html``: header, search box,
navigation, table of contents, footer) one page after another. With 10,000 record pages that
is most of a build on one core while the other waits. So, for a large KB, the kedb plugin
renders the record pages in two forked workers just before MkDocs' own page loop (its
``on_env`` runs last, when every plugin has set up the environment), exactly as MkDocs'
``_build_page`` does: the same context, every plugin's ``on_page_context``, the same template,
then kedb's finishing (``on_post_page``). MkDocs' loop then still runs every page event for
those pages (search, tags and any other plugin see them as usual) and writes the files, but its
template is ``kedb-prebuilt.html``, which writes out the page the worker made.

This is done only where it gives the same bytes as the plain loop:
- the process may fork (Linux, no other threads: ``mkdocs serve`` stays in one process);
- kedb is the only plugin with an ``on_post_page`` handler (another one must see the theme's
  output itself, in page order);
- the pages are record pages, which are not in the navigation (rendering them changes no
  state that another page shows).
``tests/test_site.py`` builds the example site both ways and compares every file.

Where the site's plugins are kedb, search and tags alone (:func:`owns_records`), record pages skip
MkDocs' loop altogether and the kedb plugin writes them (:func:`render` renders the few that neither
the workers nor the page cache made in this process).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mkdocs.commands.build import get_context
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File
from mkdocs.structure.nav import Navigation
from mkdocs.structure.pages import Page
from mkdocs.utils import write_file

from ..core import forkpool
from ..core.errors import EnvironmentProblem
from ..core.resources import shipped_templates
from .cache import Store, differs_from, own_theme_dirs

TEMPLATE = "kedb-prebuilt.html"  # templates/overrides/: writes out ``kedb_prebuilt``
VARIABLE = "kedb_prebuilt"
THRESHOLD = 1500  # record pages; below this, starting workers costs more than it saves


@dataclass
class _Job:
    pages: dict[str, Page]
    templates: dict[str, str]
    config: MkDocsConfig
    nav: Navigation
    doc_files: Sequence[File]
    env: Any
    finish: Callable[[str], str]
    keep: Callable[[str, str], None] | None = None
    frames: Frames | None = None


_JOB: _Job | None = None  # what a forked worker renders with


def only_ours(config: MkDocsConfig, own_post_page: Callable[..., Any]) -> bool:
    """Whether kedb is the only plugin with an ``on_post_page`` handler: then a page rendered
    before MkDocs' loop (here, or kept in :mod:`kedb.site.cache`) gives the loop's bytes."""
    handlers = config.plugins.events.get("post_page", [])
    return all(getattr(h, "__func__", h) is getattr(own_post_page, "__func__", own_post_page) for h in handlers)


# The plugins a site may have for kedb to take its record pages out of MkDocs' page loop (:func:`owns_records`).
KNOWN_PLUGINS = frozenset(
    {
        "kedb.site.plugin.KedbPlugin",
        "material.plugins.search.plugin.SearchPlugin",
        "material.plugins.tags.plugin.TagsPlugin",
        "mkdocs.contrib.search.SearchPlugin",
    }
)


def owns_records(config: MkDocsConfig) -> bool:
    """Whether kedb may take its record pages out of MkDocs' page loop and write them itself.

    MkDocs' loop costs about a millisecond per page even when the page comes finished from the page cache
    (its context, every plugin's ``on_page_context``, the template, ``on_post_page``): ten seconds at 10,000
    records. kedb runs MkDocs' own reading steps for those pages (every plugin's ``on_pre_page``,
    ``on_page_markdown`` and ``on_page_content``: Material's tags plugin collects their tags there), renders
    them through the theme as :func:`render` does, and writes them; the sitemap lists them where MkDocs would.
    Only where nothing else could tell: the site's plugins are kedb, search and tags alone (record pages are
    kept out of search's index and out of the navigation). Any other plugin, and MkDocs' loop sees every page."""
    names = {f"{type(p).__module__}.{type(p).__qualname__}" for p in config.plugins.values()}
    return names <= KNOWN_PLUGINS


_COPY: tuple[Store, Callable[[str], str] | None] | None = None  # what a forked worker copies with (copy_cached)


def copy_cached(store: Store, pages: dict[str, tuple[str, str]], served: Callable[[str], str] | None = None) -> set[str]:
    """Write each page the page cache holds to the site, as MkDocs' loop would have written it: ``pages`` maps a
    page's source to its key and destination. ``served`` changes each page first (the check banner of
    ``mkdocs serve``). With many pages, the two workers read and write them. Returns the sources written; the
    others are not in the cache."""
    global _COPY
    items = list(pages.items())
    if len(items) >= THRESHOLD and forkpool.can_fork():
        _COPY = (store, served)
        try:
            results = list(forkpool.chunked_map(_copy_chunk, items))
        finally:
            _COPY = None
    else:
        results = _copy_chunk(items, (store, served))
    written = {src for src, ok in results if ok}
    store.used.update(pages[src][0] for src in written)  # a worker's reads are not counted in this process
    return written


def _copy_chunk(
    items: list[tuple[str, tuple[str, str]]], job: tuple[Store, Callable[[str], str] | None] | None = None
) -> list[tuple[str, bool]]:
    job = job or _COPY
    assert job is not None
    store, served = job
    out = []
    for src, (key, dest) in items:
        data = store.get(key)
        if data is not None and served is not None:
            write_page(served(data.decode("utf-8")), dest)
        elif data is not None:
            write_file(data, dest)  # the bytes write_page wrote when the page was rendered and kept
        out.append((src, data is not None))
    return out


def write_page(output: str, dest: str) -> None:
    """Write a finished page to ``dest`` as MkDocs' loop writes one (an empty page is not written)."""
    if output.strip():
        write_file(output.encode("utf-8", errors="xmlcharrefreplace"), dest)


def wanted(config: MkDocsConfig, n_pages: int, own_post_page: Callable[..., Any]) -> bool:
    """Whether rendering ``n_pages`` record pages in workers is worth it and gives the same site."""
    return n_pages >= THRESHOLD and only_ours(config, own_post_page) and forkpool.can_fork()


def render(
    pages: list[Page],
    *,
    config: MkDocsConfig,
    nav: Navigation,
    doc_files: Sequence[File],
    env: Any,
    finish: Callable[[str], str],
    here: bool = False,
    keep: Callable[[str, str], None] | None = None,
) -> dict[str, str]:
    """Every page of ``pages`` as MkDocs would write it (``finish`` is kedb's ``on_post_page``),
    by page source; then each page's template is ``kedb-prebuilt.html``. In the workers, or with
    ``here`` in this process (a few pages, or where it may not fork).

    With ``keep``, each finished page goes to ``keep(source, page)`` in the process that rendered it (which writes
    it out and to the page cache) and is not returned (its text is ``""``): 10,000 pages sent back to this process
    and written one after another cost seconds."""
    global _JOB
    job = _Job(
        {p.file.src_uri: p for p in pages},
        {p.file.src_uri: p.meta.get("template", "main.html") for p in pages},
        config,
        nav,
        doc_files,
        env,
        finish,
        keep,
        Frames.for_theme(config, env),
    )
    if here:
        done = dict(_render_chunk(list(job.pages), job))
    else:
        _JOB = job
        try:
            done = dict(forkpool.chunked_map(_render_chunk, list(job.pages)))
        finally:
            _JOB = None
    for p in pages:
        p.meta["template"] = TEMPLATE
    return done


def _render_chunk(srcs: list[str], job: _Job | None = None) -> list[tuple[str, str]]:
    job = job or _JOB
    assert job is not None
    out = []
    for src in srcs:
        try:
            text = _render_one(job, src)
        except Exception as e:  # crosses the process boundary: a plain message naming the page
            raise RuntimeError(f"Error building page '{src}': {type(e).__name__}: {e}") from None
        if job.keep is not None:
            job.keep(src, text)
            text = ""
        out.append((src, text))
    return out


def _render_one(job: _Job, src: str) -> str:
    """MkDocs' ``_build_page`` up to the file write, for one page."""
    page, config = job.pages[src], job.config
    config._current_page = page
    page.active = True
    try:
        context = get_context(job.nav, job.doc_files, config, page)
        template = job.env.get_template(job.templates[src])
        context = config.plugins.on_page_context(context, page=page, config=config, nav=job.nav)
        header = job.frames.header(template, context, page) if job.frames is not None else None
        if header is None:
            return job.finish(template.render(context))
        return job.finish(_with_block(template, context, "header", lambda _: header))
    finally:
        page.active = False
        config._current_page = None


def _with_block(template: Any, context: dict[str, Any], name: str, block: Callable[[Any], str]) -> str:
    """``template`` rendered as :meth:`jinja2.Template.render` renders it, with the block ``name`` written by
    ``block(context)``: the template's root registers every parent's blocks after the one set here, and the block is
    always called as ``context.blocks[name][0]``. ``block`` may render the block itself (``context.blocks[name][1]``)."""
    ctx = template.new_context(context)
    ctx.blocks[name] = [lambda c: iter((block(c),))]
    return str(template.environment.concat(template.root_render_func(ctx)))


class Frames:
    """Material's page header, rendered once per folder of record pages and filled with each page's title.

    The header (logo, site name, page title, palette toggle, search box, repository link) was a third of the theme's
    time for a record page, and only the title differs between pages of one folder (its links are relative to the
    folder). So the header of the first page of a folder is rendered with a mark in place of the title; each page's
    header is that frame with its title in place of the mark. The first page of each folder is also rendered whole,
    as before, and its header compared with the filled frame; a frame that does not give those bytes is not used.

    Only where the header is Material's own (:meth:`for_theme`): no theme folder but Material's and kedb's overrides
    has a ``main.html``, ``base.html`` or ``partials/`` file that differs from kedb's, the page template does not
    override the block, and titles are written as they are (no autoescape: MkDocs' environment)."""

    def __init__(self) -> None:
        self.mark = "kedbtitle" + secrets.token_hex(8)
        self._frames: dict[tuple[str, str], str | None] = {}  # (base URL, folder) -> frame, None: not usable there

    @classmethod
    def for_theme(cls, config: MkDocsConfig, env: Any) -> Frames | None:
        if env.autoescape is not False or not _header_is_materials(config):
            return None
        return cls()

    def header(self, template: Any, context: dict[str, Any], page: Page) -> str | None:
        """The page's header from its folder's frame; None where it must be rendered as usual."""
        title = page.meta.get("title") if isinstance(page.meta, dict) else None
        if not isinstance(title, str) or not title or "header" in template.blocks or self.mark in title:
            return None
        key = (str(context.get("base_url")), page.url.rstrip("/").rpartition("/")[0])
        if key not in self._frames:
            self._frames[key] = self._frame(template, context, page)
        frame = self._frames[key]
        return frame.replace(self.mark, title) if frame is not None else None

    def _frame(self, template: Any, context: dict[str, Any], page: Page) -> str | None:
        real = self._rendered_header(template, context)
        meta = page.meta
        page.meta = {**meta, "title": self.mark}
        try:
            probe = self._rendered_header(template, context)
        finally:
            page.meta = meta
        if probe.count(self.mark) != 1 or probe.replace(self.mark, meta["title"]) != real:
            return None
        return probe

    @staticmethod
    def _rendered_header(template: Any, context: dict[str, Any]) -> str:
        seen: list[str] = []

        def capture(c: Any) -> str:
            seen.append(str(template.environment.concat(c.blocks["header"][1](c))))
            return seen[-1]

        _with_block(template, context, "header", capture)
        return seen[0]


def _header_is_materials(config: MkDocsConfig) -> bool:
    """Whether the theme's header comes from Material and kedb's own overrides alone (see :class:`Frames`)."""
    try:
        ours = shipped_templates() / "overrides"
    except EnvironmentProblem:
        return False
    return not any(differs_from(Path(d), ours, _shapes_header) for d in own_theme_dirs(config))


def _shapes_header(rel: str) -> bool:
    """The theme files that can change Material's header: its page templates and partials."""
    return rel in ("main.html", "base.html") or rel.startswith("partials/")


def palette(icons: str) -> list[dict[str, Any]]:
    """The light and dark schemes kedb sets when mkdocs.yml chooses no palette: the reader's system
    scheme first, and a toggle in the header. ``icons`` names the icon set of the toggle: ``kedb``
    (the sprite the MkDocs plugin serves) or ``material`` (Zensical's own). kedb.css styles kedb's
    parts for both schemes. One home for the MkDocs plugin and the Zensical engine."""
    schemes = (("light", "default", "brightness-7", "dark"), ("dark", "slate", "brightness-4", "light"))
    return [
        {
            "media": f"(prefers-color-scheme: {media})",
            "scheme": scheme,
            "primary": "indigo",
            "accent": "indigo",
            "toggle": {"icon": f"{icons}/{icon}", "name": f"Switch to {other} mode"},
        }
        for media, scheme, icon, other in schemes
    ]
