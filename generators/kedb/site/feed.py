"""The changelog as Atom and RSS 2.0 feeds agents can subscribe to: one entry per commit, with its
change note once and the records it changed (:func:`kedb.site.views.recent_changes`).

Built with ElementTree, so record text is always escaped and the XML is well formed; dates
are the commit dates from git, so the same commit gives the same bytes. Links are absolute
when ``site_url`` is set in mkdocs.yml (feed readers need that) and relative otherwise.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from email.utils import format_datetime
from urllib.parse import urlsplit

from ..build.context import BuildContext
from .urls import absolute
from .views import CommitEntry

ATOM_NS = "http://www.w3.org/2005/Atom"


def _title(e: CommitEntry) -> str:
    """A commit that changed one record is named by it; one that changed several by its subject."""
    if len(e.changes) == 1:
        c = e.changes[0]
        return f"{c.record.id} v{c.revision.number}: {c.record.meta.title}"
    ids = [c.record.id for c in e.changes]
    shown = ", ".join(ids[:3]) + (f" and {len(ids) - 3} more" if len(ids) > 3 else "")
    return f"{e.subject.strip()} ({len(ids)} records: {shown})"


def _entry_text(e: CommitEntry) -> str:
    parts = [e.subject.strip()]
    if e.note.strip():
        parts.append(e.note.strip())
    if len(e.changes) > 1:
        parts.append("Records: " + ", ".join(f"{c.record.id} v{c.revision.number} {c.record.meta.title}" for c in e.changes))
    if e.approved_by:
        parts.append("Approved by " + ", ".join(e.approved_by))
    return "\n\n".join(p for p in parts if p)


def _link(e: CommitEntry, url_of: Callable[[str], str], site_url: str | None) -> str:
    """The record's page for a one-record commit, the commit's changelog entry otherwise."""
    if len(e.changes) == 1:
        return absolute(site_url, url_of(e.changes[0].record.id))
    return absolute(site_url, f"changelog/#{e.anchor}")


def _tag_id(site_url: str | None, e: CommitEntry) -> str:
    host = urlsplit(site_url).hostname if site_url else None
    return f"tag:{host or 'kedb.invalid'},{e.day.isoformat()}:commit/{e.commit.commit[:12]}"


def _updated(ctx: BuildContext, changes: Sequence[CommitEntry], history_date: Callable[[CommitEntry], datetime]) -> datetime:
    return max((history_date(c) for c in changes), default=ctx.info.date)


def atom(ctx: BuildContext, changes: Sequence[CommitEntry], url_of: Callable[[str], str], site_url: str | None, title: str) -> bytes:
    """``url_of(record_id)`` gives the record page's URL relative to the site root."""
    ET.register_namespace("", ATOM_NS)
    feed = ET.Element(f"{{{ATOM_NS}}}feed")

    def sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
        el = ET.SubElement(parent, f"{{{ATOM_NS}}}{tag}", attrs)
        if text is not None:
            el.text = text
        return el

    sub(feed, "title", f"{title}: changes")
    sub(feed, "id", absolute(site_url, "feed.xml") if site_url else f"tag:kedb.invalid,{ctx.info.date.date().isoformat()}:{title}")
    sub(feed, "updated", _updated(ctx, changes, _dt).isoformat())
    sub(feed, "link", rel="self", href=absolute(site_url, "feed.xml"))
    sub(feed, "link", rel="alternate", href=absolute(site_url, "changelog/"))
    sub(feed, "generator", f"kedb {ctx.info.kedb_version}")
    for c in changes:
        e = sub(feed, "entry")
        sub(e, "title", _title(c))
        sub(e, "id", _tag_id(site_url, c))
        sub(e, "updated", _dt(c).isoformat())
        sub(e, "link", rel="alternate", href=_link(c, url_of, site_url))
        for name in c.authors:
            sub(sub(e, "author"), "name", name)
        for status in dict.fromkeys(str(x.record.meta.status) for x in c.changes):
            sub(e, "category", term=status)
        sub(e, "summary", _entry_text(c), type="text")
    ET.indent(feed)
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True) + b"\n"


def rss(ctx: BuildContext, changes: Sequence[CommitEntry], url_of: Callable[[str], str], site_url: str | None, title: str) -> bytes:
    root = ET.Element("rss", version="2.0")
    ch = ET.SubElement(root, "channel")
    ET.SubElement(ch, "title").text = f"{title}: changes"
    ET.SubElement(ch, "link").text = absolute(site_url, "changelog/")
    ET.SubElement(ch, "description").text = "Recent changes to known errors, workarounds and problems, with their change notes."
    ET.SubElement(ch, "lastBuildDate").text = format_datetime(_updated(ctx, changes, _dt).astimezone(UTC))
    ET.SubElement(ch, "generator").text = f"kedb {ctx.info.kedb_version}"
    for c in changes:
        it = ET.SubElement(ch, "item")
        ET.SubElement(it, "title").text = _title(c)
        ET.SubElement(it, "link").text = _link(c, url_of, site_url)
        ET.SubElement(it, "guid", isPermaLink="false").text = _tag_id(site_url, c)
        ET.SubElement(it, "pubDate").text = format_datetime(_dt(c).astimezone(UTC))
        for status in dict.fromkeys(str(x.record.meta.status) for x in c.changes):
            ET.SubElement(it, "category").text = status
        ET.SubElement(it, "description").text = _entry_text(c)
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


def _dt(c: CommitEntry) -> datetime:
    return c.when
