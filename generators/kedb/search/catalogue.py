"""The records of one edition as data: what ``api/records.json`` publishes and ``kedb mcp`` answers.

One :class:`Entry` per record, built by :func:`entry` and nowhere else: the site's catalogue
(:mod:`kedb.site.catalogue`) lists them, and the MCP server's ``get_record`` returns one. An entry
holds what an agent or an assistant needs to recognise a known error and act on it: the title,
status and service, the symptoms and error codes agents paste, the steps of its workarounds
(a workaround's own steps and rollback), the successor of a retired record, the page URL and
every ``## `` section of the body as Markdown.

Only the edition's records are listed (the build context holds no other), and no entry names a
record the edition does not show: links are filtered (:meth:`BuildContext.shown`), and the build
context has already withheld a hidden record's id from every record's words
(:func:`kedb.build.context.select`). A relative link in a body points into the repository, not
the site (and its file name may carry a hidden record's title words), so it keeps only its text.

The catalogue's bytes depend only on the commit built (its date comes from
``SOURCE_DATE_EPOCH`` or git, :func:`kedb.build.context.build_date`), and every string is
JSON-escaped by the serializer, never by hand.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from ..build.context import BuildContext
from ..build.facts import service_name
from ..core.kb import Record
from ..core.records import KnownError, Problem, Workaround

SCHEMA_VERSION = 1
PATH = "api/records.json"  # where a site publishes its catalogue (kedb.site.catalogue writes it, ``kedb mcp --site`` reads it)
Kind = Literal["known-error", "workaround", "problem"]


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Service(_Frozen):
    id: str = Field(description="Service id from the KB's taxonomy (content/services.yml).")
    name: str = Field(description="The service's display name.")


class Section(_Frozen):
    title: str = Field(description="The heading of a `## ` section of the record's body.")
    text: str = Field(description="The section's Markdown (relative links reduced to their text).")


class WorkaroundSteps(_Frozen):
    """A workaround as a known error's entry lists it."""

    id: str
    title: str
    status: str
    risk: str = Field(description="Risk of applying it: low, medium or high.")
    url: str = Field(description="The workaround's page.")
    steps: list[str] = Field(description="Its steps, one Markdown string each, in order.")
    rollback: list[str] = Field(description="How to undo it, one Markdown string per step (empty when it has no rollback section).")


class Entry(_Frozen):
    """One record of the edition."""

    id: str = Field(description="KE-…, WA-… or PRB-….")
    kind: Kind
    title: str
    status: str = Field(description="draft, in-review, published or retired (problems: candidate … closed).")
    service: Service
    url: str = Field(description="The record's page: absolute when the site has a site_url, else relative to the site root.")
    priority: str | None = Field(default=None, description="P1–P3 (known errors).")
    tags: list[str] = Field(default_factory=list)
    symptoms: list[str] = Field(default_factory=list, description="What agents see or are told, error strings included (known errors).")
    error_codes: list[str] = Field(default_factory=list, description="The error codes as written (known errors).")
    workarounds: list[WorkaroundSteps] = Field(default_factory=list, description="A known error's workarounds with their steps.")
    no_workaround_reason: str | None = Field(default=None, description="Why a known error has no workaround.")
    fix_status: str | None = Field(default=None, description="Status of the permanent fix (known errors).")
    problem: str | None = Field(default=None, description="The problem record investigating a known error.")
    steps: list[str] = Field(default_factory=list, description="A workaround's own steps, one Markdown string each.")
    rollback: list[str] = Field(default_factory=list, description="A workaround's rollback steps.")
    risk: str | None = Field(default=None, description="A workaround's risk.")
    applies_to: list[str] = Field(default_factory=list, description="The known errors a workaround serves.")
    known_errors: list[str] = Field(default_factory=list, description="The known errors a problem explains.")
    root_cause: str | None = Field(default=None, description="A problem's root cause.")
    successor: str | None = Field(default=None, description="The record that replaces a retired one: use it instead.")
    retired_reason: str | None = None
    sections: list[Section] = Field(default_factory=list, description="The body, section by section.")


class Catalogue(_Frozen):
    """``api/records.json``: one edition's records."""

    schema_version: int = Field(default=SCHEMA_VERSION, description="Changes when a field changes meaning or goes.")
    kb: str = Field(description="The knowledge base's name.")
    edition: str = Field(description="internal, public, internal-<tenant> or public-<tenant>.")
    audience: str
    tenant: str | None
    generated: str = Field(description="The build date (ISO 8601): SOURCE_DATE_EPOCH, else the commit's date.")
    commit: str | None = Field(description="The commit built (None outside git).")
    generator: str
    records: list[Entry]
    _by_id: dict[str, Entry] = PrivateAttr(default_factory=dict)

    def record(self, record_id: str) -> Entry | None:
        if not self._by_id:
            self._by_id.update((e.id, e) for e in self.records)
        return self._by_id.get(record_id)


UrlOf = Callable[[str], str]  # record id -> the URL of its page


def successor(ctx: BuildContext, rec: Record) -> str | None:
    """The record a retired record names as its replacement, when this edition shows it."""
    nxt = rec.meta.superseded_by if rec.meta.status == "retired" else None
    return nxt if nxt and ctx.record(nxt) is not None else None


def entry(ctx: BuildContext, rec: Record, url_of: UrlOf) -> Entry:
    """The catalogue entry of a record of this edition."""
    m = rec.meta
    fields: dict[str, object] = {}
    if isinstance(m, KnownError):
        fields = {
            "priority": m.priority,
            "symptoms": list(m.symptoms),
            "error_codes": list(m.error_codes),
            "workarounds": [_workaround(wa, url_of) for wid in ctx.shown(m.workarounds) if (wa := ctx.record(wid))],
            "no_workaround_reason": m.no_workaround_reason,
            "fix_status": m.fix.status,
            "problem": m.problem if m.problem and ctx.record(m.problem) is not None else None,
        }
    elif isinstance(m, Workaround):
        fields = {
            "steps": steps(rec.section("Steps")),
            "rollback": steps(rec.section("Rollback")),
            "risk": m.risk,
            "applies_to": ctx.shown(m.applies_to),
        }
    elif isinstance(m, Problem):
        fields = {"known_errors": ctx.shown(m.known_errors), "root_cause": m.root_cause}
    return Entry(
        id=rec.id,
        kind=rec.kind,  # type: ignore[arg-type]
        title=m.title,
        status=str(m.status),
        service=Service(id=m.service, name=service_name(ctx, m.service)),
        url=url_of(rec.id),
        tags=list(m.tags),
        successor=successor(ctx, rec),
        retired_reason=m.retired_reason if m.status == "retired" else None,
        sections=[Section(title=s.title, text=local_links_as_text(s.text)) for s in rec.source.sections.values()],
        **fields,  # type: ignore[arg-type]
    )


def _workaround(wa: Record, url_of: UrlOf) -> WorkaroundSteps:
    return WorkaroundSteps(
        id=wa.id,
        title=wa.meta.title,
        status=str(wa.meta.status),
        risk=wa.meta.risk,
        url=url_of(wa.id),
        steps=steps(wa.section("Steps")),
        rollback=steps(wa.section("Rollback")),
    )


def build(ctx: BuildContext, url_of: UrlOf, kb_name: str, entries: list[Entry] | None = None) -> Catalogue:
    """The catalogue of the build context's edition, records in the order the site lists them. ``entries``: each
    record's :func:`entry`, in that order, when the caller has them already."""
    info = ctx.info
    return Catalogue(
        kb=kb_name,
        edition=info.edition,
        audience=info.audience,
        tenant=info.tenant,
        generated=info.date.isoformat(),
        commit=info.commit,
        generator=f"kedb {info.kedb_version}",
        records=entries if entries is not None else [entry(ctx, rec, url_of) for rec in ctx.kb.records.values()],
    )


def dumps(catalogue: Catalogue, entries: list[str] | None = None) -> bytes:
    """The catalogue as compact UTF-8 JSON (the same catalogue gives the same bytes). ``entries``: its records already
    written (:func:`entry_json`, in order), when ``catalogue`` was built without them: the same bytes, without
    making 10,000 entries again (the site keeps each with its page)."""
    if entries is None:
        return catalogue.model_dump_json().encode("utf-8") + b"\n"  # pydantic's serializer: compact, UTF-8, ten times json.dumps' speed
    head = catalogue.model_dump_json()
    if catalogue.records or not head.endswith(',"records":[]}'):  # records is the last field, and empty here
        raise ValueError("dumps(catalogue, entries) takes a catalogue built without records")
    return (head[: -len("]}")] + ",".join(entries) + "]}").encode("utf-8") + b"\n"


def entry_json(entry: Entry) -> str:
    """One record's entry as :func:`dumps` writes it inside the catalogue."""
    return entry.model_dump_json()


def loads(data: bytes | str) -> Catalogue:
    """A catalogue read back (``kedb mcp --site``); raises ``pydantic.ValidationError`` on anything else."""
    return Catalogue.model_validate_json(data)


# ---------------------------------------------------------------- body text
_ITEM = re.compile(r"^ {0,3}(?:\d{1,9}[.)]|[-*+])(?:[ \t]+|$)")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
# [text](target) and ![alt](target) with a relative target (no scheme, not an in-page anchor)
_LOCAL_LINK = re.compile(r"!?\[([^\]\n]*)\]\((?![a-zA-Z][a-zA-Z0-9+.-]*:|#)[^)\n]*\)")  # spaces too: a withheld id has them
# a reference definition ``[label]: target`` with a relative target
_LOCAL_DEFINITION = re.compile(r"^ {0,3}\[[^\]\n]+\]:[ \t]*<?(?![a-zA-Z][a-zA-Z0-9+.-]*:|#)\S*>?.*$", re.M)


def local_links_as_text(markdown: str) -> str:
    """Markdown with every relative link and image reduced to its text (code is left as written)."""
    if "](" not in markdown and "]:" not in markdown:
        return markdown
    parts = re.split(r"(^ {0,3}(?:`{3,}|~{3,})[^\n]*\n.*?^ {0,3}(?:`{3,}|~{3,})[ \t]*$|`[^`\n]+`)", markdown, flags=re.M | re.S)
    for i in range(0, len(parts), 2):  # the odd parts are code
        parts[i] = _LOCAL_DEFINITION.sub("", _LOCAL_LINK.sub(r"\1", parts[i]))
    return "".join(parts)


def steps(markdown: str) -> list[str]:
    """A section split into steps: each top-level list item is one (its marker removed, its
    continuation lines and code kept), and each paragraph or code block outside a list is one."""
    blocks: list[list[str]] = []
    current: list[str] | None = None
    in_item = False
    indent = 0  # column of an item's text
    fence = ""
    blank = False
    for raw in markdown.expandtabs(4).split("\n"):
        if fence:
            assert current is not None
            current.append(raw[indent:] if not raw[:indent].strip() else raw.lstrip())
            if (m := _FENCE.match(raw.lstrip())) and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence):
                fence = ""
            continue
        if not raw.strip():
            blank = True
            if current is not None and in_item:
                current.append("")
            elif current is not None:
                current = None
            continue
        lead = len(raw) - len(raw.lstrip(" "))
        item = _ITEM.match(raw)
        if current is not None and in_item and (lead >= indent or (not blank and not item)):
            current.append(raw[indent:] if not raw[:indent].strip() else raw.lstrip())
        elif item:
            current, in_item, indent = [raw[item.end() :]], True, item.end()
            blocks.append(current)
        elif current is not None and not blank and not in_item:
            current.append(raw)
        else:
            current, in_item, indent = [raw], False, 0
            blocks.append(current)
        if m := _FENCE.match(raw.lstrip()):
            fence = m.group(1)
        blank = False
    return [text for b in blocks if (text := _unwrap(b).strip())]


def _unwrap(lines: list[str]) -> str:
    """A block's lines with soft line breaks of prose joined (a step reads as one line); code,
    nested list items and blank lines keep theirs."""
    out: list[str] = []
    fence = ""
    joinable = False  # the last line is prose another prose line may continue
    for line in lines:
        m = _FENCE.match(line)
        if fence:
            out.append(line)
            if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence):
                fence, joinable = "", False
            continue
        if m:
            fence, joinable = m.group(1), False
            out.append(line)
        elif joinable and line.strip() and not _ITEM.match(line) and not line.lstrip().startswith(("#", ">", "|")):
            out[-1] += " " + line.strip()
        else:
            out.append(line)
            joinable = bool(line.strip()) and not line.lstrip().startswith(("#", "|"))
    return "\n".join(out)
