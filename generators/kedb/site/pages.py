"""Every page of the site, rendered from the Jinja templates in ``templates/site/``.

:func:`build` reads the build context and returns a :class:`Site`: the generated pages, the
other generated files (feeds), the assets the pages show, the navigation and which record each
page shows (for its search entry). Pages from ``*.html.j2`` templates carry their finished HTML
and table of contents; MkDocs gets only their front-matter and puts the HTML in its theme. The
one ``*.md.j2`` page (tags) is Markdown for MkDocs to render. MkDocs is not imported here; the
plugin (:mod:`kedb.site.plugin`) hands these to MkDocs.

Hand-written text (record sections and playbooks alike) goes through one path,
:meth:`Builder.render_text`: CommonMark with raw HTML off and the whitelist sanitiser
(:class:`kedb.site.text.BodyRenderer`). A relative link to a record or playbook of this edition
becomes a link to its page, and one to a file of ``content/assets/`` a link to that file (an
image of it is shown); those assets, and only those, are published with the site. Every other
relative link and image is left as its text, and an image on another host as a link to it: no
page makes a reader's browser fetch from elsewhere.
"""

from __future__ import annotations

import html
import json
import os
import re
import secrets
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from ..build.context import BuildContext
from ..core import forkpool, memo, present
from ..core.kb import Record
from ..core.load.files import CONTENT_DIR, IMAGE_TYPES, content_files, local_target
from ..core.records import PROBLEM_ORDER, RECORD_ORDER, review_overdue
from ..core.resources import template_dirs
from ..core.trail import APPROVAL_LABEL
from . import audit, catalogue, feed, kpis, search, searchindex, toc, urls, views, writing
from . import cache as sitecache
from .downloads import Artefact, artefacts
from .env import SealedBytecodeCache, html_environment, md_environment
from .text import BodyRenderer, html_text, md_inline, plain

CHANGELOG_ENTRIES = 50  # commits (each lists every record it changed)
CHANGELOG_OPEN = 10  # a commit that changed more records lists them folded
HOME_CHANGES = 5  # commits under "Recently changed"
HOME_RECORDS = 8  # records named per commit there; the changelog names the rest
HOME_NOTE_CHARS = 240
# The KB's logo, when content/assets/ has one: the site shows it in the header instead of the book icon.
LOGO_FILES = tuple(f"{CONTENT_DIR}/assets/logo{ext}" for ext in (".png", ".webp", ".jpg", ".jpeg", ".gif"))
KNOWN_SECTIONS = {
    "known-error": ("symptoms", "cause", "workaround", "permanent fix", "reply to customer"),
    "workaround": ("steps", "rollback"),
    "problem": ("problem statement",),
}


@dataclass(frozen=True)
class Page:
    src: str  # path in the docs folder, e.g. known-errors/KE-0001.md
    markdown: str  # what MkDocs reads: front-matter only for HTML pages
    html: str | None = None  # finished content (from a *.html.j2 template)
    toc: list[dict[str, Any]] = field(default_factory=list)  # toc tokens of ``html``
    in_nav: bool = True
    meta: dict[str, Any] = field(default_factory=dict)  # the front-matter of ``markdown``, as data
    assets: tuple[str, ...] = ()  # files of content/assets/ the page shows or links (paths in the KB)


Rendered = tuple[Page, search.Doc, str]  # a record's page, search document and catalogue entry (JSON)


@dataclass
class Site:
    pages: list[Page] = field(default_factory=list)
    files: dict[str, bytes] = field(default_factory=dict)  # src -> content (search index, feeds, api/records.json, llms.txt)
    records: dict[str, Record] = field(default_factory=dict)  # page src -> record shown
    nav: list[Any] = field(default_factory=list)
    artefacts: list[Artefact] = field(default_factory=list)
    assets: dict[str, Path] = field(default_factory=dict)  # src -> file of content/assets/ that a page shows or links
    logo: str | None = None  # src of the KB's logo (content/assets/logo.*), shown in the header
    keys: dict[str, str] = field(default_factory=dict)  # record page src -> its page key (kedb.site.cache)
    pending: forkpool.Later[dict[str, bytes]] | None = None  # files still being made in another process (build's ``later``)

    def page(self, src: str) -> Page | None:
        return next((p for p in self.pages if p.src == src), None)

    def settle(self) -> dict[str, bytes]:
        """The files :attr:`pending` was making, once they are made (added to :attr:`files` too); {} when none."""
        if self.pending is None:
            return {}
        pending, self.pending = self.pending, None
        made = pending.result()
        self.files.update(made)
        return made

    def abandon(self) -> None:
        """Stop making the pending files (a build that failed does not wait for them)."""
        if self.pending is not None:
            self.pending.close()
            self.pending = None


@dataclass(frozen=True)
class Options:
    use_directory_urls: bool = True
    site_url: str | None = None
    site_name: str = "Known-error database"
    downloads_dir: Path | None = None
    source_links: bool = False  # links between source files, for an engine that rewrites them (kedb.site.urls.Urls)


def front_matter(meta: dict[str, Any]) -> str:
    """YAML front-matter as JSON (valid YAML, and every string is quoted)."""
    return "---\n" + json.dumps(meta, ensure_ascii=False, sort_keys=True) + "\n---\n\n"


def page_title(text: str) -> str:
    """Text kedb hands to Material, which puts it into HTML unescaped (a page title in ``<title>``
    and the header, a tag name in the tag list, the Tags page and attributes): HTML-escaped,
    quotes too, on one line. Program data (a service's display name) reaches Material this way."""
    return html.escape(" ".join(str(text).split()), quote=True)


class Builder:
    def __init__(self, ctx: BuildContext, opts: Options, later: bool = False, remember: bool = False) -> None:
        self.ctx = ctx
        self.opts = opts
        self.later = later
        self.remember = remember
        self.url = urls.Urls(opts.use_directory_urls, opts.source_links)
        self.bodies = BodyRenderer()
        self._sections: dict[str, Any] = {}
        self.assets = publishable_assets(ctx.kb.root)
        self.page_of = {r.source.path: urls.record_src(rid) for rid, r in ctx.kb.records.items()}
        self.page_of.update({p.source.path: urls.playbook_src(p) for p in ctx.kb.playbooks})
        self._here: tuple[str, str] | None = None  # (file the text is from, page it is rendered for)
        self._held: dict[str, str] = {}  # placeholder -> HTML, for the text being rendered
        self._used: set[str] = set()  # assets of the page being rendered
        self.keys: dict[str, str] = {}  # record page src -> page key, when the page cache is on
        self._keep: tuple[sitecache.Store, dict[str, str]] | None = None  # where record_page_and_doc keeps what it renders
        # Listing rows kept from the last build of this KB in this process, and those of this build (remember; _kept_row)
        self._rows: tuple[dict[tuple[str, str, str], str], dict[tuple[str, str, str], str]] | None = None
        if remember:
            self._rows = (_ROWS.pop(str(ctx.kb.root), {}), {})
        self._mark = "kedb" + secrets.token_hex(8)  # placeholders no author can write (never in the output)
        self.bodies.md.core.ruler.push("kedb_local_links", self._local_links)
        dirs = template_dirs(ctx.kb.root, "site")
        common = self._common()
        compiled = SealedBytecodeCache(ctx.kb.root)
        self.html_env = html_environment(dirs, {**common, **self._html_helpers()}, compiled)
        self.html_env.filters["paras"] = _paras
        self.md_env = md_environment(dirs, {**common, **self._md_helpers()}, compiled)

    # ------------------------------------------------------------ template helpers
    def _common(self) -> dict[str, Any]:
        ctx = self.ctx
        replaced = views.supersedes(ctx)
        return {
            "ctx": ctx,
            "kb": ctx.kb,
            "info": ctx.info,
            "program": ctx.kb.program,
            "site_name": self.opts.site_name,
            "today": views.build_date(ctx),
            "review_overdue": lambda m: review_overdue(m, views.build_date(ctx)),
            "urls": urls,
            "person": lambda h: views.person(ctx, h),
            "service_name": lambda s: views.service_name(ctx, s),
            "role_name": lambda r: views.role_name(ctx, r),
            "revisions": lambda rid: views.revisions(ctx, rid),
            "version_label": lambda rid: views.version_label(ctx, rid),
            "history_notice": lambda rid: views.history_notice(ctx, rid),
            "related": lambda rec: views.related(ctx, rec, replaced),
            "reply_approvers": lambda ke: views.reply_approvers(ctx, ke),
            "risk_handling": lambda ke: views.risk_handling(ctx, ke),
            "days_to_root_cause": views.days_to_root_cause,
            "days_open": lambda p: views.days_open(ctx, p),
            "record": lambda rid: ctx.record(rid) if rid else None,
            "shown": ctx.shown,  # a record's links to records of this edition (the others are never named)
            "status": _status,
            "NONE": present.NONE,
            "approval_status": _approval,
            "RECORD_ORDER": RECORD_ORDER,
            "PROBLEM_ORDER": PROBLEM_ORDER,
        }

    def _html_helpers(self) -> dict[str, Any]:
        ctx = self.ctx

        @jinja2.pass_context
        def url(jc: jinja2.runtime.Context, src: str, anchor: str = "") -> Markup:
            return Markup(html.escape(self.url.html_link(jc["page_src"], src) + (f"#{anchor}" if anchor else "")))

        @jinja2.pass_context
        def link(jc: jinja2.runtime.Context, target: Record | str | None, label: str | None = None) -> Markup:
            """Link to a record of this edition; nothing for one filtered out (not even its id)."""
            if target is None:
                return Markup("")
            rid = target if isinstance(target, str) else target.id
            if ctx.record(rid) is None:
                return Markup("")
            text = html_text(label if label is not None else rid)
            nowrap = ' class="kedb-nowrap"' if label is None else ""  # an id never breaks at its hyphen
            return Markup(f'<a{nowrap} href="{html.escape(self.url.html_link(jc["page_src"], urls.record_src(rid)))}">{text}</a>')

        @jinja2.pass_context
        def body(jc: jinja2.runtime.Context, rec: Record, section: str, css: str = "") -> Markup:
            sec = self.sections(rec).get(section.lower())
            return self.render_text(sec.text if sec else "", rec.source.path, jc["page_src"], css)

        def has_section(rec: Record, section: str) -> bool:
            sec = self.sections(rec).get(section.lower())
            return bool(sec and sec.text)

        @jinja2.pass_context
        def other_sections(jc: jinja2.runtime.Context, rec: Record) -> list[tuple[str, Markup]]:
            known = KNOWN_SECTIONS.get(rec.kind, ())
            page_src = jc["page_src"]
            return [
                (s.title, self.render_text(s.text, rec.source.path, page_src))
                for key, s in self.sections(rec).items()
                if key not in known and s.text
            ]

        @jinja2.pass_context
        def kept(jc: jinja2.runtime.Context, rec: Record, name: str, caller: Callable[[], str]) -> str:
            """``{% call kept(record, "name") %}…{% endcall %}``: a block (a listing's row) that shows ``record`` and the
            records it links alone, rendered again only when its page key changed (:meth:`_kept_row`)."""
            return self._kept_row(rec, name, jc["page_src"], caller)

        helpers = {"url": url, "link": link, "body": body, "has_section": has_section, "other_sections": other_sections}
        return {**helpers, "kept": kept}

    def _kept_row(self, rec: Record, name: str, page_src: str, caller: Callable[[], str]) -> str:
        """A listing's row for ``rec`` on ``page_src``: under ``mkdocs serve`` (``remember``), kept in the process with the
        record's page key, which holds everything the row may show (the record, the records around it, the templates,
        the edition, the build's date), and given again while that key is the same: rendering the 10,000 rows of the
        listings again took a third of a rebuild after a one-record edit. Otherwise rendered as it is."""
        key = self.keys.get(urls.record_src(rec.id)) if self._rows is not None else None
        if key is None or self._rows is None:
            return caller()
        was, now = self._rows
        found = was.get((name, page_src, key))
        if found is None:
            found = caller()
        now[(name, page_src, key)] = found
        return found

    def sections(self, rec: Record) -> dict[str, Any]:
        """``## `` sections of a record, parsed once per build (a workaround shows on several pages)."""
        found = self._sections.get(rec.id)
        if found is None:
            found = self._sections[rec.id] = rec.source.sections
        return found

    def _md_helpers(self) -> dict[str, Any]:
        @jinja2.pass_context
        def href(jc: jinja2.runtime.Context, src: str, anchor: str = "") -> Markup:
            return Markup(urls.md_link(jc["page_src"], src, anchor))

        return {"href": href}

    # ------------------------------------------------------------ hand-written text
    def render_text(self, text: str, source: str, page_src: str, css: str = "") -> Markup:
        """Markdown from the file ``source`` as inert HTML for the page ``page_src`` (see the module docstring)."""
        self._here, self._held = (source, page_src), {}
        try:
            out = str(self.bodies.render(text, self._link_for(page_src), css))
        finally:
            self._here = None
        for mark, value in self._held.items():
            out = out.replace(mark, value)
        return Markup(out)

    def _local_links(self, state: Any) -> None:
        """A markdown-it core rule: relative links and images to what this edition publishes get placeholders,
        which pass the sanitiser as an in-page link or plain text and are replaced after it."""
        if self._here is None:
            return
        from markdown_it.token import Token

        source, page_src = self._here
        for block in state.tokens:
            for i, tok in enumerate(block.children or ()):
                if tok.type == "image":
                    url = self._local_url(source, page_src, str(tok.attrGet("src") or ""), image=True)
                    if url is not None:
                        alt = self.bodies.md.renderer.renderInlineAsText(tok.children or [], state.md.options, state.env)
                        mark = f"{self._mark}i{len(self._held)}x"
                        self._held[mark] = f'<img src="{html.escape(url)}" alt="{html.escape(alt)}" loading="lazy">'
                        block.children[i] = Token("text", "", 0, content=mark)
                elif tok.type == "link_open":
                    url = self._local_url(source, page_src, str(tok.attrGet("href") or ""))
                    if url is not None:
                        mark = f"{self._mark}a{len(self._held)}x"
                        self._held[f'href="#{mark}"'] = f'href="{html.escape(url)}"'
                        tok.attrSet("href", "#" + mark)

    def _local_url(self, source: str, page_src: str, url: str, image: bool = False) -> str | None:
        """The URL, from ``page_src``, of what a relative link in ``source`` points at, when this edition publishes it."""
        found = local_target(source, url)
        if found is None:
            return None
        path, fragment = found
        if path in self.assets:
            if image and not path.lower().endswith(IMAGE_TYPES):
                return None
            self._used.add(path)
            return self.url.html_link(page_src, asset_src(path))
        target = None if image else self.page_of.get(path)
        if target is None:
            return None
        return self.url.html_link(page_src, target) + (f"#{fragment}" if fragment else "")

    def _link_for(self, page_src: str) -> Callable[[str], str | None]:
        def link_for(rid: str) -> str | None:
            if self.ctx.record(rid) is None:
                return None
            return self.url.html_link(page_src, urls.record_src(rid))

        return link_for

    def html_page(
        self, template: str, src: str, meta: dict[str, Any], in_nav: bool = True, toc_depth: int = toc.TOC_DEPTH, **values: Any
    ) -> Page:
        text = self.html_env.get_template(template).render(page_src=src, **values)
        used, self._used = tuple(sorted(self._used)), set()
        return Page(src, front_matter(meta), text, toc.tokens(text, toc_depth), in_nav, meta, used)

    def md_page(self, template: str, src: str, meta: dict[str, Any], **values: Any) -> Page:
        text = self.md_env.get_template(template).render(page_src=src, **values)
        return Page(src, front_matter(meta) + text, meta=meta)

    # ------------------------------------------------------------ pages
    def record_page(self, rec: Record) -> Page:
        src = urls.record_src(rec.id)
        meta: dict[str, Any] = {
            "title": page_title(search.title(rec)),
            "tags": [page_title(t) for t in search.tags(self.ctx, rec)],
            "kedb": {"id": rec.id, "kind": rec.kind, "status": str(rec.meta.status)},
            "search": {"exclude": True},  # records are searched through kedb's own index (searchindex)
        }
        # The sidebar lists a record's sections only (its workarounds and root cause sit right under
        # theirs): every record page carries it, and a record page must stay small (issue #4).
        return self.html_page(f"{rec.kind}.html.j2", src, meta, in_nav=False, toc_depth=RECORD_TOC_DEPTH, rec=rec, m=rec.meta)

    def playbook_page(self, pb: Record) -> Page:
        """A playbook: its steps from the front-matter, then its text, one anchored heading per ``## `` section."""
        src = urls.playbook_src(pb)
        intro, parts = _split_sections(_without_title(pb.source.body))
        seen = {"playbook", "steps"}
        sections = [(plain(title), _anchor(title, seen), self.render_text(text, pb.source.path, src)) for title, text in parts]
        return self.html_page(
            "playbook.html.j2",
            src,
            {"title": page_title(pb.meta.title)},
            p=pb,
            m=pb.meta,
            intro=self.render_text(intro, pb.source.path, src),
            sections=sections,
        )

    def record_page_and_doc(self, rid: str) -> Rendered:
        """A record's page, search document and catalogue entry (``api/records.json``); kept in the page cache when
        :meth:`record_pages` asks for it (in the worker that rendered them: writing 10,000 entries one after another in
        the parent cost seconds). The page key covers what the entry shows: the record and its neighbourhood."""
        rec = self.ctx.kb.records[rid]
        p = self.record_page(rec)
        doc = search.document(self.ctx, rec, self.url.url(p.src))
        doc.entry.terms  # noqa: B018 - analysed here (in a worker for many records) and kept with the page in the cache
        item = (p, doc, catalogue.entry(self.ctx, rec, self.url, self.opts.site_url))
        if self._keep is not None:
            store, keys = self._keep
            store.save(keys[rid], item)
        return item

    def record_pages(self) -> Iterator[Rendered]:
        """Every record page and search document, in record order: from the page cache
        (:mod:`kedb.site.cache`) when its key is there, else rendered (and kept)."""
        ids = list(self.ctx.kb.records)
        store = sitecache.Store.open(self.ctx.kb.root, self.ctx.info.edition, sitecache.PAGE, remember=self.remember)
        if store is None:
            yield from self._render_records(ids)
            return
        keys = sitecache.page_keys(self.ctx, self.opts, self.assets, remember=self.remember)
        self.keys = {urls.record_src(rid): key for rid, key in keys.items()}
        found: dict[str, Rendered] = {}
        for rid in ids:
            item = store.load(keys[rid])
            if isinstance(item, tuple) and len(item) == 3 and isinstance(item[0], Page) and item[0].src == urls.record_src(rid):
                found[rid] = item
        self._keep = (store, keys)  # each page rendered now is kept by the process that rendered it
        try:
            fresh = self._render_records([rid for rid in ids if rid not in found])
            for rid in ids:
                if rid in found:
                    yield found[rid]
                    continue
                item = next(fresh)
                store.hold(keys[rid], item)  # kept on disk by the worker that rendered it; here too (remember)
                yield item
        finally:
            self._keep = None
        store.used.update(keys.values())  # a worker's writes are not counted in this process
        store.prune()

    def _render_records(self, ids: list[str]) -> Iterator[Rendered]:
        """The pages and search documents of ``ids``, in order; rendered by two forked worker
        processes for many (:mod:`kedb.core.forkpool`: they share the build context)."""
        if len(ids) < PARALLEL_THRESHOLD or not forkpool.can_fork():
            yield from (self.record_page_and_doc(rid) for rid in ids)
            return
        global _BUILDER
        _BUILDER = self
        try:
            yield from forkpool.chunked_map(_render_chunk, ids)
        finally:
            _BUILDER = None

    def build(self) -> Site:
        ctx, site = self.ctx, Site()
        # With ``later``, the other pages render in another process while the record pages are read here.
        rendering = forkpool.Later(self._other_pages) if self.later else None
        try:
            docs, entries = [], []
            for rec, (p, doc, entry) in zip(ctx.kb.records.values(), self.record_pages(), strict=True):
                site.pages.append(p)
                site.records[p.src] = rec
                docs.append(doc)
                entries.append(entry)
            others, changes, site.artefacts = rendering.result() if rendering is not None else self._other_pages()
        finally:
            if rendering is not None:
                rendering.close()
        site.keys = self.keys
        if self.later:  # made in another process while the caller goes on (Site.settle)
            site.pending = forkpool.Later(searchindex.build, docs, ctx.info)
        else:
            site.files.update(searchindex.build(docs, ctx.info, remember=self.remember))
        try:
            site.pages.extend(others)
            self._files(site, changes, entries)
        except BaseException:
            site.abandon()
            raise
        return site

    def _other_pages(self) -> tuple[list[Page], list[Any], list[Artefact]]:
        """The pages besides the records': indexes, KPIs, changelog, tags, playbooks (in the site's order, after the
        records); the changelog's entries; the downloads the downloads page lists."""
        ctx = self.ctx
        kb = ctx.kb
        changes = views.recent_changes(ctx, CHANGELOG_ENTRIES)
        overdue, upcoming = views.due_for_review(ctx)
        downloads = artefacts(self.opts.downloads_dir)
        hidden = {"search": {"exclude": True}}  # navigation pages: they would outrank the records they list
        audited = audit.view(ctx)  # internal edition with a stored audit only
        kes = kb.known_errors
        pages: list[tuple[str, str, str, dict[str, Any], dict[str, Any]]] = [
            (
                urls.HOME,
                "home.html.j2",
                "Home",  # the navigation's name for it; the header already shows the site's name
                hidden,
                {
                    "counts": views.counts(ctx),
                    "changes": changes[:HOME_CHANGES],
                    "HOME_RECORDS": HOME_RECORDS,
                    "HOME_NOTE_CHARS": HOME_NOTE_CHARS,
                    "overdue": overdue,
                    "upcoming": upcoming,
                },
            ),
            (
                urls.KE_INDEX,
                "known-errors.html.j2",
                "Known errors",
                hidden,
                {
                    "records": kes,
                    "by_priority": _by_priority(kes),
                    "by_service": _by_service(ctx, kes),
                },
            ),
            (urls.WA_INDEX, "workarounds.html.j2", "Workarounds", hidden, {"records": kb.workarounds}),
            (
                urls.PRB_INDEX,
                "problems.html.j2",
                "Problems and root causes",
                hidden,
                {
                    "records": kb.problems,
                    "mttrc": views.mean_time_to_root_cause(kb.problems),
                },
            ),
            (
                urls.PLAYBOOK_INDEX,
                "playbooks.html.j2",
                "Playbooks",
                hidden,
                {"playbooks": [(urls.playbook_src(p), p) for p in kb.playbooks]},
            ),
            (urls.KPIS, "kpis.html.j2", "KPIs", {}, {"k": kpis.view(ctx), "decided": kpis.decision_view(ctx)}),
            *(
                [
                    (
                        urls.AUDIT,
                        "audit.html.j2",
                        "Aged-ticket audit",
                        hidden,
                        {"a": audited, "fmt": present.quantity, "change": present.change},
                    )
                ]
                if audited
                else []
            ),
            (urls.CHANGELOG, "changelog.html.j2", "Changelog", hidden, {"changes": changes, "CHANGELOG_OPEN": CHANGELOG_OPEN}),
            (urls.DOWNLOADS, "downloads.html.j2", "Downloads", hidden, {"artefacts": downloads}),
            *((src, template, title, hidden, values) for src, template, title, values in writing.pages(ctx)),
        ]
        others = [
            self.html_page(template, src, {"title": page_title(title), **extra}, **values) for src, template, title, extra, values in pages
        ]
        if self._rows is not None:  # the rows this build used, for the next (a process that builds again)
            memo.keep(_ROWS, str(ctx.kb.root), self._rows[1], _ROWS_AT_MOST)
        others.append(self.md_page("tags.md.j2", urls.TAGS, {"title": "Tags", **hidden}))
        others.extend(self.playbook_page(pb) for pb in kb.playbooks)
        return others, changes, downloads

    def _files(self, site: Site, changes: list[Any], entries: list[str]) -> None:
        """The assets the pages show, the logo, the feeds, the catalogue and the navigation."""
        ctx = self.ctx
        site.assets = {asset_src(a): self.assets[a] for p in site.pages for a in p.assets}
        logo = next((a for a in LOGO_FILES if a in self.assets), None)
        if logo is not None:
            site.logo = asset_src(logo)
            site.assets[site.logo] = self.assets[logo]
        site.files[urls.ATOM] = feed.atom(ctx, changes, self._record_url, self.opts.site_url, self.opts.site_name)
        site.files[urls.RSS] = feed.rss(ctx, changes, self._record_url, self.opts.site_url, self.opts.site_name)
        site.files.update(catalogue.files(ctx, self.url, self.opts.site_url, self.opts.site_name, entries))  # api/records.json, llms.txt
        site.nav = self.nav()

    def _record_url(self, rid: str) -> str:
        return self.url.url(urls.record_src(rid))

    def nav(self) -> list[Any]:
        playbooks = [{page_title(p.meta.title): urls.playbook_src(p)} for p in self.ctx.kb.playbooks]
        return [
            {"Home": urls.HOME},
            {"Known errors": urls.KE_INDEX},
            {"Workarounds": urls.WA_INDEX},
            {"Problems": urls.PRB_INDEX},
            {"Playbooks": [urls.PLAYBOOK_INDEX, *playbooks]},
            {"KPIs": urls.KPIS},
            *([{"Aged-ticket audit": urls.AUDIT}] if audit.shown(self.ctx) else []),
            {"Changelog": urls.CHANGELOG},
            {"Downloads": urls.DOWNLOADS},
            {"Tags": urls.TAGS},
            *writing.nav(self.ctx),
        ]


RECORD_TOC_DEPTH = 2
PARALLEL_THRESHOLD = 1500  # records; below this, starting workers costs more than it saves
_BUILDER: Builder | None = None  # the builder a forked worker renders with
_ROWS: dict[str, dict[tuple[str, str, str], str]] = {}  # KB root -> its listing rows by (block, page, page key): remember
_ROWS_AT_MOST = 2


def _render_chunk(ids: list[str]) -> list[Rendered]:
    assert _BUILDER is not None
    return [_BUILDER.record_page_and_doc(rid) for rid in ids]


def _status(value: str, label: str | None = None) -> Markup:
    v = html_text(value if label is None else label)
    cls = value if value.replace("-", "").isalnum() else "x"
    return Markup(f'<span class="kedb-status kedb-status--{cls}">{v}</span>')


def _approval(value: str) -> Markup:
    """An approval judgement as a status badge, in the words every output uses."""
    return _status(value, APPROVAL_LABEL.get(value, value))


def _paras(value: object) -> Markup:
    """Plain text with blank-line paragraphs as HTML paragraphs."""
    parts = [p.strip() for p in str(value).replace("\r\n", "\n").split("\n\n") if p.strip()]
    return Markup("\n".join(f"<p>{html_text(p)}</p>" for p in parts))


def _by_priority(kes: list[Record]) -> list[tuple[str, list[int]]]:
    c = Counter((r.meta.priority, r.meta.status) for r in kes)
    return [(p, [c.get((p, s), 0) for s in RECORD_ORDER]) for p in ("P1", "P2", "P3")]


def _by_service(ctx: BuildContext, kes: list[Record]) -> list[tuple[Any, list[Record]]]:
    groups: dict[str, list[Record]] = {}
    for r in kes:
        groups.setdefault(r.meta.service, []).append(r)
    services = ctx.kb.program.services.services if ctx.kb.program.services else []
    return [(s, sorted(groups[s.id], key=lambda r: (r.meta.priority, r.id))) for s in services if s.id in groups]


_H2 = re.compile(r"^ {0,3}##[ \t]+(.+?)(?:[ \t]+#+)?[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")


def _split_sections(body: str) -> tuple[str, list[tuple[str, str]]]:
    """The text before the first ``## `` heading, and (heading, text) for each section (code blocks kept whole)."""
    intro: list[str] = []
    parts: list[tuple[str, list[str]]] = []
    fence = ""
    for line in body.split("\n"):
        m = _FENCE.match(line)
        if fence:
            if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence):
                fence = ""
        elif m:
            fence = m.group(1)
        elif h := _H2.match(line):
            parts.append((h.group(1), []))
            continue
        (parts[-1][1] if parts else intro).append(line)
    return "\n".join(intro).strip(), [(title, "\n".join(lines).strip()) for title, lines in parts]


def _anchor(title: str, seen: set[str]) -> str:
    """An id for a heading, unique on its page."""
    base = re.sub(r"[^a-z0-9]+", "-", plain(title).lower()).strip("-") or "section"
    anchor, n = base, 1
    while anchor in seen:
        n += 1
        anchor = f"{base}-{n}"
    seen.add(anchor)
    return anchor


def asset_src(path: str) -> str:
    """Where the file ``content/assets/…`` is in the site (the docs folder is ``content/``)."""
    return path[len(CONTENT_DIR) + 1 :]


def publishable_assets(root: Path) -> dict[str, Path]:
    """The files of ``content/assets/`` a page may show or link (:func:`kedb.core.load.files.content_files`: allowed
    types only, never a link), each checked again to be the real file at its own path."""
    real = os.path.realpath(root)
    out: dict[str, Path] = {}
    for rel in content_files(root).assets:
        path = root / rel
        if os.path.realpath(path) == os.path.join(real, *rel.split("/")):
            out[rel] = path
    return out


def _without_title(body: str) -> str:
    """A playbook body without its leading ``# Title`` (the template writes the title)."""
    lines = body.lstrip("\n").split("\n")
    return "\n".join(lines[1:]).lstrip("\n") if lines and lines[0].startswith("# ") else body


def build(ctx: BuildContext, opts: Options, later: bool = False, remember: bool = False) -> Site:
    """Every page and file of the site. With ``later``, the search index is made in another process while the caller
    goes on (where the process may fork): :meth:`Site.settle` waits for it, :meth:`Site.abandon` stops it. With
    ``remember`` (a process that builds again, ``mkdocs serve``), the record pages read from the page cache are kept in
    the process for the next build (:meth:`kedb.site.cache.Store.open`)."""
    return Builder(ctx, opts, later, remember).build()


__all__ = ["Options", "Page", "Site", "build", "md_inline"]
