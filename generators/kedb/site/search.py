"""What search knows about a record, designed for agents: one document per record, not one per heading.

An agent pastes an error string or describes a symptom. Each record is one search document
with the fields that answer that: the title, the error codes, the symptoms (the phrasings
agents use), the service and a short summary. Field boosts make titles, codes and symptoms
weigh more than body text; known errors weigh more than workarounds and problems, and retired
records less (their title says ``[Retired]``). Body text stays out: it costs bytes in every
agent's browser and drowns exact codes in prose. :mod:`.searchindex` turns these documents
into the static index the search box reads.

The separator keeps error strings whole: ``0x80070005``, ``AADSTS50076``, ``KB5034441`` and
``ERR_SSL_PROTOCOL_ERROR`` are single tokens (no split on ``_`` or ``.`` inside a word), so a
pasted code matches exactly and a partial code matches by prefix. ``Event ID 7031`` becomes
``event``, ``id``, ``7031``, all of which the right record has in its boosted ``codes`` field.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from ..build.context import BuildContext
from ..core.kb import Record
from ..core.records import KnownError, Problem, Workaround
from . import views
from .text import plain

# JavaScript regular expression (Material applies it to the index and to queries).
SEPARATOR = r"""[\s\-,;:!?=\[\]()"'/\\|{}<>]+|\.(?!\w)|&(?:[lg]t|amp|quot|#39);"""
FIELDS: dict[str, dict[str, float]] = {
    "title": {"boost": 1000.0},
    "codes": {"boost": 500.0},
    "symptoms": {"boost": 100.0},
    "tags": {"boost": 50.0},
    "text": {"boost": 1.0},
}
PIPELINE: list[str] = ["stopWordFilter"]  # no stemmer: Material queries by prefix, unstemmed
BOOST = {"known-error": 2.0, "workaround": 1.0, "problem": 1.0}
RETIRED_BOOST = 0.5
SUMMARY_CHARS = 300
SYMPTOM_CHARS = 900
STATUS_MARK = {"retired": "[Retired] ", "draft": "[Draft] ", "in-review": "[In review] "}


def title(rec: Record) -> str:
    """Title as search results show it: the status mark, the id and the title."""
    status = str(rec.meta.status)
    return STATUS_MARK.get(status, "") + f"{rec.id} {rec.meta.title}"


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
    """One search document: what results show (HTML-escaped) and the plain text of each field."""

    location: str
    title: str
    text: str
    tags: list[str]
    fields: dict[str, str]
    boost: float = 1.0


def document(ctx: BuildContext, rec: Record, location: str) -> Doc:
    """The search document of a record page."""
    m = rec.meta
    codes: list[str] = []
    symptoms: list[str] = []
    if isinstance(m, KnownError):
        codes = list(m.error_codes)
        symptoms = list(m.symptoms)
    elif isinstance(m, Workaround):
        symptoms = [m.title]
    symptoms += [t.replace("-", " ") for t in m.tags]
    boost = BOOST.get(rec.kind, 1.0) * (RETIRED_BOOST if m.status == "retired" else 1.0)
    shown_tags = tags(ctx, rec)
    summary = _summary(ctx, rec)
    return Doc(
        location=location,
        title=_esc(title(rec)),
        text=_esc(summary),
        tags=[_esc(t) for t in shown_tags],
        fields={
            "title": title(rec),
            "codes": " ".join([rec.id, *codes]),
            "symptoms": plain(" · ".join(symptoms), SYMPTOM_CHARS),
            "tags": " ".join(shown_tags),
            "text": summary,
        },
        boost=boost,
    )


def _esc(text: str) -> str:
    return html.escape(text, quote=False)
