"""The edition for machines: ``api/records.json`` and ``llms.txt`` at the root of every site.

- ``api/records.json`` is the catalogue of :mod:`kedb.search.catalogue`: every record of this
  edition with its symptoms, error codes, workaround steps and page URL, for scripts and for AI
  assistants (``kedb mcp --site`` answers from it too).
- ``llms.txt`` follows the llms.txt convention (https://llmstxt.org): an H1 with the KB's name, a
  blockquote saying what it holds, then sections of links to the catalogue and the main pages.

URLs are absolute when mkdocs.yml sets ``site_url`` and relative to the site root otherwise
(``llms.txt`` sits there, so its links work either way). Both files are built from the build
context only, so the same commit gives the same bytes, and they name nothing the edition hides.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from ..build.context import BuildContext
from ..core import present
from ..core.kb import Record
from ..search import catalogue
from . import urls

RECORDS = catalogue.PATH
LLMS = "llms.txt"


def files(ctx: BuildContext, url: urls.Urls, site_url: str | None, site_name: str, entries: list[str] | None = None) -> dict[str, bytes]:
    """The two files by their path in the site. ``entries``: every record's :func:`entry`, in record order, when the
    caller made them with its pages (in the workers, and kept in the page cache)."""

    def page(src: str) -> str:
        return urls.absolute(site_url, url.url(src))

    if entries is None:
        data = catalogue.dumps(catalogue.build(ctx, _record_url(url, site_url), site_name))
    else:
        data = catalogue.dumps(catalogue.build(ctx, _record_url(url, site_url), site_name, []), entries)
    return {RECORDS: data, LLMS: llms_txt(ctx, page, site_name).encode("utf-8")}


def entry(ctx: BuildContext, rec: Record, url: urls.Urls, site_url: str | None) -> str:
    """A record's entry in ``api/records.json`` as :func:`files` writes it (JSON: unpickling 10,000 models from the
    page cache cost more than making them)."""
    return catalogue.entry_json(catalogue.entry(ctx, rec, _record_url(url, site_url)))


def _record_url(url: urls.Urls, site_url: str | None) -> Callable[[str], str]:
    """Record id -> its page's URL in the catalogue: absolute when mkdocs.yml sets ``site_url``."""
    return lambda rid: urls.absolute(site_url, url.url(urls.record_src(rid)))


_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>#|])")


def _md(text: object) -> str:
    """Text for one line of Markdown: white space collapsed, characters that could start markup escaped."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(str(text).split()))


def llms_txt(ctx: BuildContext, page: Callable[[str], str], site_name: str) -> str:
    """``llms.txt`` for this edition (``page``: a page's source path -> its URL)."""
    kb, info = ctx.kb, ctx.info
    settings = kb.program.settings
    org = f" of {_md(settings.organisation)}" if settings and settings.organisation else ""
    tenant = ""
    if info.tenant:
        name = next((t.name for t in settings.tenants if t.id == info.tenant), info.tenant) if settings else info.tenant
        tenant = f" for {_md(name)}"
    built = f"commit {info.short}" if info.commit else "a folder without git history"
    counts = f"{present.count(len(kb.known_errors), 'known error')}, {present.count(len(kb.workarounds), 'workaround')} and {present.count(len(kb.problems), 'problem')}"
    lines = [
        f"# {_md(site_name)}",
        "",
        f"> The known-error database{org}: known errors with the symptoms and error codes service-desk agents see, "
        f"the workarounds to apply and the problem records behind them. This is the {info.audience} edition{tenant}: "
        f"{counts}, built from {built} on {present.day(info.date)}.",
        "",
        "Match a ticket by its error codes and symptoms. Prefer published records: a draft or a record in review is not "
        "approved yet, and a retired record names its successor (`successor` in the catalogue). Follow a known error's "
        "workaround steps in order; a medium- or high-risk workaround has rollback steps.",
        "",
        "## Data",
        "",
        f"- [Record catalogue]({page(RECORDS)}): every record of this edition as JSON: id, title, kind, status, service, "
        "symptoms, error codes, workaround steps, successor, page URL and the body section by section",
        f"- [Changes]({page(urls.ATOM)}): an Atom feed of recent changes with their change notes",
        "",
        "## Pages",
        "",
        f"- [Known errors]({page(urls.KE_INDEX)}): every known error by service, status and priority",
        f"- [Workarounds]({page(urls.WA_INDEX)}): the steps an agent follows, with their risk",
        f"- [Problems and root causes]({page(urls.PRB_INDEX)}): the investigations behind the known errors",
        f"- [Playbooks]({page(urls.PLAYBOOK_INDEX)}): how the service desk works with the knowledge base",
        "",
        "## Optional",
        "",
        f"- [KPIs]({page(urls.KPIS)}): the figures the program is measured by",
        f"- [Changelog]({page(urls.CHANGELOG)}): what changed, record by record",
        f"- [Downloads]({page(urls.DOWNLOADS)}): the runbook, the registers, the deck and the proof brief of this edition",
        "",
    ]
    return "\n".join(lines)
