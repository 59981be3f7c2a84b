"""Every page of the site as Markdown, rendered from the Jinja templates in ``templates/site/``.

:func:`build` reads the build context and returns a :class:`Site`: the generated pages (their
docs-folder path and Markdown), the other generated files (feeds, CSS, JS), the navigation and
which record each page shows (for its search entry). MkDocs is not imported here; the plugin
(:mod:`kedb.mkdocs_plugin`) hands these to MkDocs.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from ..context import BuildContext
from ..kb import Record
from ..models import PROBLEM_ORDER, RECORD_ORDER
from . import feed, kpis, search, urls, views
from .downloads import Artefact, artefacts
from .env import environment, template_dirs
from .text import BodyRenderer, md_inline

CHANGELOG_ENTRIES = 50
HOME_CHANGES = 10
KNOWN_SECTIONS = {
    "known-error": ("symptoms", "cause", "workaround", "permanent fix", "reply to customer"),
    "workaround": ("steps", "rollback"),
    "problem": ("problem statement",),
}


@dataclass(frozen=True)
class Page:
    src: str  # path in the docs folder, e.g. known-errors/KE-0001.md
    markdown: str
    in_nav: bool = True


@dataclass
class Site:
    pages: list[Page] = field(default_factory=list)
    files: dict[str, bytes] = field(default_factory=dict)  # src -> content (feeds, assets)
    records: dict[str, Record] = field(default_factory=dict)  # page src -> record shown
    nav: list[Any] = field(default_factory=list)
    artefacts: list[Artefact] = field(default_factory=list)


@dataclass(frozen=True)
class Options:
    use_directory_urls: bool = True
    site_url: str | None = None
    site_name: str = "Known-error database"
    downloads_dir: Path | None = None


def front_matter(meta: dict[str, Any]) -> str:
    """YAML front-matter as JSON (valid YAML, and every string is quoted)."""
    return "---\n" + json.dumps(meta, ensure_ascii=False, sort_keys=True) + "\n---\n\n"


class Builder:
    def __init__(self, ctx: BuildContext, opts: Options) -> None:
        self.ctx = ctx
        self.opts = opts
        self.url = urls.Urls(opts.use_directory_urls)
        self.bodies = BodyRenderer()
        self.env = environment(template_dirs(ctx.kb.root, "site"), self._globals())

    # ------------------------------------------------------------ template helpers
    def _globals(self) -> dict[str, Any]:
        ctx = self.ctx

        @jinja2.pass_context
        def link(jc: jinja2.runtime.Context, target: Record | str | None, label: str | None = None) -> Markup:
            """Markdown link to a record of this edition; plain text for one filtered out."""
            if target is None:
                return Markup("")
            rid = target if isinstance(target, str) else target.id
            text = md_inline(label if label is not None else rid)
            if ctx.record(rid) is None:
                return text
            return Markup(f"[{text}]({urls.md_link(jc['page_src'], urls.record_src(rid))})")

        @jinja2.pass_context
        def href(jc: jinja2.runtime.Context, src: str, anchor: str = "") -> Markup:
            return Markup(urls.md_link(jc["page_src"], src, anchor))

        @jinja2.pass_context
        def body(jc: jinja2.runtime.Context, rec: Record, section: str, css: str = "") -> Markup:
            return self.bodies.render(rec.section(section), self._link_for(jc["page_src"]), css)

        @jinja2.pass_context
        def other_sections(jc: jinja2.runtime.Context, rec: Record) -> list[tuple[str, Markup]]:
            known = KNOWN_SECTIONS.get(rec.kind, ())
            link_for = self._link_for(jc["page_src"])
            return [(s.title, self.bodies.render(s.text, link_for)) for key, s in rec.source.sections.items() if key not in known and s.text]

        def status(value: str) -> Markup:
            v = md_inline(value)
            return Markup(f'<span class="kedb-status kedb-status--{value if value.replace("-", "").isalnum() else "x"}">{v}</span>')

        return {
            "ctx": ctx,
            "kb": ctx.kb,
            "info": ctx.info,
            "program": ctx.kb.program,
            "site_name": self.opts.site_name,
            "today": views.build_date(ctx),
            "urls": urls,
            "link": link,
            "href": href,
            "body": body,
            "other_sections": other_sections,
            "status": status,
            "person": lambda h: views.person(ctx, h),
            "service_name": lambda s: views.service_name(ctx, s),
            "role_name": lambda r: views.role_name(ctx, r),
            "revisions": lambda rid: views.revisions(ctx, rid),
            "version_label": lambda rid: views.version_label(ctx, rid),
            "history_notice": lambda rid: views.history_notice(ctx, rid),
            "related": lambda rec: views.related(ctx, rec),
            "reply_approvers": lambda ke: views.reply_approvers(ctx, ke),
            "risk_handling": lambda ke: views.risk_handling(ctx, ke),
            "days_to_root_cause": views.days_to_root_cause,
            "days_open": lambda p: views.days_open(ctx, p),
            "record": ctx.record,
            "search_title": search.title,
            "RECORD_ORDER": RECORD_ORDER,
            "PROBLEM_ORDER": PROBLEM_ORDER,
        }

    def _link_for(self, page_src: str) -> Callable[[str], str | None]:
        def link_for(rid: str) -> str | None:
            if self.ctx.record(rid) is None:
                return None
            return self.url.html_link(page_src, urls.record_src(rid))

        return link_for

    def render(self, template: str, src: str, meta: dict[str, Any], **values: Any) -> str:
        text = self.env.get_template(template).render(page_src=src, **values)
        return front_matter(meta) + text

    # ------------------------------------------------------------ pages
    def record_page(self, rec: Record) -> Page:
        src = urls.record_src(rec.id)
        meta: dict[str, Any] = {
            "title": md_title(search.title(rec)),
            "tags": search.tags(self.ctx, rec),
            "kedb": {"id": rec.id, "kind": rec.kind, "status": str(rec.meta.status)},
        }
        md = self.render(f"{rec.kind}.md.j2", src, meta, rec=rec, m=rec.meta)
        return Page(src, md, in_nav=False)

    def build(self) -> Site:
        ctx, site = self.ctx, Site()
        kb = ctx.kb
        for rec in kb.records.values():
            page = self.record_page(rec)
            site.pages.append(page)
            site.records[page.src] = rec
        changes = views.recent_changes(ctx, CHANGELOG_ENTRIES)
        overdue, upcoming = views.due_for_review(ctx)
        site.artefacts = artefacts(self.opts.downloads_dir)
        common = {"search": {"exclude": True}}
        plain_pages: list[tuple[str, str, str, dict[str, Any]]] = [
            (urls.HOME, "home.md.j2", self.opts.site_name, {
                "counts": views.counts(ctx), "changes": changes[:HOME_CHANGES], "overdue": overdue, "upcoming": upcoming,
            }),
            (urls.KE_INDEX, "known-errors.md.j2", "Known errors", {"records": kb.known_errors}),
            (urls.WA_INDEX, "workarounds.md.j2", "Workarounds", {"records": kb.workarounds}),
            (urls.PRB_INDEX, "problems.md.j2", "Problems and root causes", {
                "records": kb.problems, "mttrc": views.mean_time_to_root_cause(kb.problems),
            }),
            (urls.PLAYBOOK_INDEX, "playbooks.md.j2", "Playbooks", {"playbooks": [(urls.playbook_src(p), p) for p in kb.playbooks]}),
            (urls.KPIS, "kpis.md.j2", "KPIs", {"k": kpis.view(ctx)}),
            (urls.CHANGELOG, "changelog.md.j2", "Changelog", {"changes": changes}),
            (urls.DOWNLOADS, "downloads.md.j2", "Downloads", {"artefacts": site.artefacts}),
            (urls.TAGS, "tags.md.j2", "Tags", {}),
        ]
        for src, template, title, values in plain_pages:
            meta = {"title": md_title(title), **({} if src == urls.KPIS or src.startswith("playbooks/") else common)}
            site.pages.append(Page(src, self.render(template, src, meta, **values)))
        for pb in kb.playbooks:
            src = urls.playbook_src(pb)
            body = _without_title(pb.source.body)
            site.pages.append(Page(src, self.render("playbook.md.j2", src, {"title": md_title(pb.meta.title)}, p=pb, m=pb.meta, body=Markup(body))))
        site.files[urls.ATOM] = feed.atom(ctx, changes, self._record_url, self.opts.site_url, self.opts.site_name)
        site.files[urls.RSS] = feed.rss(ctx, changes, self._record_url, self.opts.site_url, self.opts.site_name)
        site.nav = self.nav()
        return site

    def _record_url(self, rid: str) -> str:
        return self.url.url(urls.record_src(rid))

    def nav(self) -> list[Any]:
        playbooks = [{md_title(p.meta.title): urls.playbook_src(p)} for p in self.ctx.kb.playbooks]
        return [
            {"Home": urls.HOME},
            {"Known errors": urls.KE_INDEX},
            {"Workarounds": urls.WA_INDEX},
            {"Problems": urls.PRB_INDEX},
            {"Playbooks": [urls.PLAYBOOK_INDEX, *playbooks]},
            {"KPIs": urls.KPIS},
            {"Changelog": urls.CHANGELOG},
            {"Downloads": urls.DOWNLOADS},
            {"Tags": urls.TAGS},
        ]


def _without_title(body: str) -> str:
    """A playbook body without its leading ``# Title`` (the template writes the title)."""
    lines = body.lstrip("\n").split("\n")
    return "\n".join(lines[1:]).lstrip("\n") if lines and lines[0].startswith("# ") else body


def md_title(text: str) -> str:
    """A page title as Material puts it into HTML unescaped (``<title>``, header): HTML-escaped text."""
    import html

    return html.escape(" ".join(str(text).split()), quote=False)


def build(ctx: BuildContext, opts: Options) -> Site:
    return Builder(ctx, opts).build()
