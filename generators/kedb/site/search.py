"""What a search result shows for a record, and Material's settings for the other pages.

What search *knows* about a record, and how it ranks, is :mod:`kedb.search` (the same engine
answers ``kedb search``); this module adds what the site's result list shows: the title with
the status mark (and a retired record's successor), a short summary and the tags.
:mod:`.searchindex` writes both into ``search/kedb/``.

Material's own search (lunr) still indexes the pages that are not records (playbooks, the KPI
page); the settings below keep error strings whole there too: ``0x80070005``, ``AADSTS50076``
and ``ERR_SSL_PROTOCOL_ERROR`` are single tokens (no split on ``_`` or ``.`` inside a word).
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from ..build.context import BuildContext
from ..core.kb import Record
from ..core.records import KnownError, Problem, Workaround
from ..search import documents
from ..search.rules import STATUS_MARK
from . import views
from .text import plain

# JavaScript regular expression (Material applies it to the index of the other pages and to queries).
SEPARATOR = r"""[\s\-,;:!?=\[\]()"'/\\|{}<>]+|\.(?!\w)|&(?:[lg]t|amp|quot|#39);"""
FIELDS: dict[str, dict[str, float]] = {
    "title": {"boost": 1000.0},
    "codes": {"boost": 500.0},
    "symptoms": {"boost": 100.0},
    "tags": {"boost": 50.0},
    "text": {"boost": 1.0},
}
PIPELINE: list[str] = ["stopWordFilter"]  # no stemmer: Material queries by prefix, unstemmed
SUMMARY_CHARS = 240


def title(rec: Record) -> str:
    """Title of a record page: the status mark, the id and the title."""
    return STATUS_MARK.get(str(rec.meta.status), "") + f"{rec.id} {rec.meta.title}"


def tags(ctx: BuildContext, rec: Record) -> list[str]:
    """Tags of a record page (Material tags plugin): its service, and for known errors priority and risk tags."""
    m = rec.meta
    out = [views.service_name(ctx, m.service)]
    if isinstance(m, KnownError):
        out += [m.priority, *m.risk_tags]
    return out


def _summary(ctx: BuildContext, rec: Record) -> str:
    m = rec.meta
    svc = views.service_name(ctx, m.service)
    if isinstance(m, KnownError):
        head = f"{m.priority} · {svc} · {m.status}"
        body = rec.section("Symptoms") or rec.section("Cause")
    elif isinstance(m, Workaround):
        head = f"Workaround for {', '.join(ctx.shown(m.applies_to))} · {svc} · risk {m.risk}"
        body = rec.section("Steps")
    elif isinstance(m, Problem):
        head = f"Problem · {svc} · {m.status}"
        body = m.root_cause or rec.section("Problem statement")
    else:
        head, body = svc, ""
    if m.status == "retired" and m.retired_reason:
        head += f" · retired: {m.retired_reason}"
    return plain(f"{head}. {plain(body)}", SUMMARY_CHARS)


@dataclass
class Doc:
    """A record's search entry (what ranks it) and what its result shows (HTML-escaped)."""

    entry: documents.Entry
    title: str
    text: str
    tags: list[str]

    @property
    def location(self) -> str:
        return self.entry.url


def document(ctx: BuildContext, rec: Record, location: str) -> Doc:
    """The search entry and result display of a record page."""
    entry = documents.entry(ctx, rec, location)
    return Doc(entry=entry, title=_esc(entry.display_title), text=_esc(_summary(ctx, rec)), tags=[_esc(t) for t in tags(ctx, rec)])


def _esc(text: str) -> str:
    return html.escape(text, quote=False)
