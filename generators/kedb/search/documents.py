"""What search knows about a record: one entry per record, its fields in the words agents use.

An agent pastes an error string or describes a symptom. Each record is one entry with the fields
that answer that (their weights are in :data:`kedb.search.rules.FIELDS`): its id and error codes,
the symptoms, the title, the service and tags, a summary section (a known error's Symptoms, a
workaround's Steps, a problem's statement and root cause) and, at a low weight, the rest of the
body (cause, workaround, permanent fix, rollback). The customer reply is left out: it is
written to reassure, not to describe the fault.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from ..build.context import BuildContext
from ..build.facts import service_name
from ..core.kb import Record
from ..core.records import KnownError, Problem, Workaround
from . import rules

BODY_SECTIONS: dict[str, tuple[str, ...]] = {
    "known-error": ("Cause", "Workaround", "Permanent fix"),
    "workaround": ("Rollback",),
    "problem": (),
}


@dataclass(frozen=True)
class Entry:
    """One record as search sees it: what a result shows, and the text of each field."""

    id: str
    kind: str
    status: str
    title: str
    url: str
    successor: str | None = None  # a retired record's replacement, when this edition shows it
    fields: dict[str, str] = field(default_factory=dict)

    @functools.cached_property
    def terms(self) -> dict[str, dict[str, int]]:
        """Each field's index terms and how often they occur (:func:`kedb.search.rules.keys`): the
        analysis the index ranks by. Computed once per entry and kept with it, so a site build
        analyses a record where its page is rendered (in a worker) and a page-cache entry brings
        it back (kedb.site.cache); nobody may change the counts. Plain dicts, not Counters: a
        Counter is rebuilt through Python code when unpickled, which cost a warm build at 10,000
        records about a second."""
        return {name: dict(Counter(rules.keys(text))) for name, text in self.fields.items() if text}

    @property
    def display_title(self) -> str:
        """The title a result shows: status mark, id, title and, when retired, its successor."""
        return display_title(self.id, self.status, self.title, self.successor)


def display_title(rid: str, status: str, title: str, successor: str | None) -> str:
    text = rules.STATUS_MARK.get(status, "") + f"{rid} {title}"
    return text + (f"{rules.SUCCESSOR_MARK}{successor}" if successor else "")


def record_url(rec: Record) -> str:
    """Where the site puts a record's page (directory URLs, relative to the site root)."""
    return f"{rec.kind}s/{rec.id}/"


def entry(ctx: BuildContext, rec: Record, url: str) -> Entry:
    """The search entry of a record of this edition."""
    m = rec.meta
    codes: list[str] = [rec.id]
    symptoms: list[str] = []
    summary: list[str] = []
    tags = [service_name(ctx, m.service), *(t.replace("-", " ") for t in m.tags)]
    if isinstance(m, KnownError):
        codes += m.error_codes
        symptoms += m.symptoms
        summary.append(rec.section("Symptoms"))
        tags += [*m.affected.products, *m.risk_tags]
    elif isinstance(m, Workaround):
        symptoms.append(m.title)
        summary.append(rec.section("Steps"))
    elif isinstance(m, Problem):
        summary += [rec.section("Problem statement"), m.root_cause or ""]
    body = [rec.section(s) for s in BODY_SECTIONS.get(rec.kind, ())]
    if isinstance(m, Problem):
        body += [*m.contributing_factors, m.fix_proposal or ""]
    # A code of several tokens is also indexed joined, as a query that writes it so is joined.
    codes += [c for c in (rules.compact(code) for code in codes[1:]) if c]
    codes.append(rules.compact(rec.id) or "")
    successor = getattr(m, "superseded_by", None)
    return Entry(
        id=rec.id,
        kind=rec.kind,
        status=str(m.status),
        title=str(m.title),
        url=url,
        successor=successor if str(m.status) == "retired" and successor and ctx.record(successor) else None,
        fields={
            "codes": "\n".join(codes),
            "symptoms": "\n".join(symptoms),
            "title": str(m.title),
            "tags": "\n".join(tags),
            "summary": "\n".join(summary),
            "body": "\n".join(body),
        },
    )


def entries(ctx: BuildContext, url_of: Callable[[Record], str] = record_url) -> list[Entry]:
    """Every record of the edition, in record order."""
    return [entry(ctx, rec, url_of(rec)) for rec in ctx.kb.records.values()]
