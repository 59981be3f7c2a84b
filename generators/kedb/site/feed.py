"""The changelog as Atom and RSS 2.0 feeds agents can subscribe to.

Built with ElementTree, so record text is always escaped and the XML is well formed; dates
are the commit dates from git, so the same commit gives the same bytes. Links are absolute
when ``site_url`` is set in mkdocs.yml (feed readers need that) and relative otherwise.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from email.utils import format_datetime
from urllib.parse import urljoin, urlsplit

from ..build.context import BuildContext
from .views import Change

ATOM_NS = "http://www.w3.org/2005/Atom"


def _abs(site_url: str | None, path: str) -> str:
    return urljoin(site_url if site_url.endswith("/") else site_url + "/", path) if site_url else path


def _entry_text(c: Change) -> str:
    r = c.revision
    parts = [r.subject.strip()]
    if r.note.strip():
        parts.append(r.note.strip())
    if r.approved_by:
        parts.append("Approved by " + ", ".join(r.approved_by))
    return "\n\n".join(p for p in parts if p)


def _tag_id(site_url: str | None, c: Change) -> str:
    host = urlsplit(site_url).hostname if site_url else None
    return f"tag:{host or 'kedb.invalid'},{c.revision.day.isoformat()}:{c.record.id}/v{c.revision.number}/{c.revision.commit[:12]}"


def _updated(ctx: BuildContext, changes: Sequence[Change], history_date: Callable[[Change], datetime]) -> datetime:
    return max((history_date(c) for c in changes), default=ctx.info.date)


def atom(ctx: BuildContext, changes: Sequence[Change], url_of: Callable[[str], str], site_url: str | None, title: str) -> bytes:
    """``url_of(record_id)`` gives the record page's URL relative to the site root."""
    ET.register_namespace("", ATOM_NS)
    feed = ET.Element(f"{{{ATOM_NS}}}feed")

    def sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
        el = ET.SubElement(parent, f"{{{ATOM_NS}}}{tag}", attrs)
        if text is not None:
            el.text = text
        return el

    sub(feed, "title", f"{title}: changes")
    sub(feed, "id", _abs(site_url, "feed.xml") if site_url else f"tag:kedb.invalid,{ctx.info.date.date().isoformat()}:{title}")
    sub(feed, "updated", _updated(ctx, changes, _dt).isoformat())
    sub(feed, "link", rel="self", href=_abs(site_url, "feed.xml"))
    sub(feed, "link", rel="alternate", href=_abs(site_url, "changelog/"))
    sub(feed, "generator", f"kedb {ctx.info.kedb_version}")
    for c in changes:
        e = sub(feed, "entry")
        sub(e, "title", f"{c.record.id} v{c.revision.number}: {c.record.meta.title}")
        sub(e, "id", _tag_id(site_url, c))
        sub(e, "updated", _dt(c).isoformat())
        sub(e, "link", rel="alternate", href=_abs(site_url, url_of(c.record.id)))
        for name in c.revision.authors:
            sub(sub(e, "author"), "name", name)
        sub(e, "category", term=str(c.record.meta.status))
        sub(e, "summary", _entry_text(c), type="text")
    ET.indent(feed)
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True) + b"\n"


def rss(ctx: BuildContext, changes: Sequence[Change], url_of: Callable[[str], str], site_url: str | None, title: str) -> bytes:
    root = ET.Element("rss", version="2.0")
    ch = ET.SubElement(root, "channel")
    ET.SubElement(ch, "title").text = f"{title}: changes"
    ET.SubElement(ch, "link").text = _abs(site_url, "changelog/")
    ET.SubElement(ch, "description").text = "Recent changes to known errors, workarounds and problems, with their change notes."
    ET.SubElement(ch, "lastBuildDate").text = format_datetime(_updated(ctx, changes, _dt).astimezone(UTC))
    ET.SubElement(ch, "generator").text = f"kedb {ctx.info.kedb_version}"
    for c in changes:
        it = ET.SubElement(ch, "item")
        ET.SubElement(it, "title").text = f"{c.record.id} v{c.revision.number}: {c.record.meta.title}"
        ET.SubElement(it, "link").text = _abs(site_url, url_of(c.record.id))
        ET.SubElement(it, "guid", isPermaLink="false").text = _tag_id(site_url, c)
        ET.SubElement(it, "pubDate").text = format_datetime(_dt(c).astimezone(UTC))
        ET.SubElement(it, "category").text = str(c.record.meta.status)
        ET.SubElement(it, "description").text = _entry_text(c)
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


def _dt(c: Change) -> datetime:
    return c.revision.when
