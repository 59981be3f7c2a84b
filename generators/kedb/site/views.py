"""What the page templates show, computed from the build context (no I/O, no clock)."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from ..build.context import BuildContext
from ..build.facts import person as person  # one definition for the site and the artefacts
from ..build.facts import service_name as service_name
from ..core.gate import reply_roles
from ..core.kb import Record
from ..core.records import PROBLEM_ORDER, RECORD_ORDER, KnownError, Problem, review_due, review_overdue
from ..core.trail import CommitChange, Version

DUE_SOON_DAYS = 30


@dataclass(frozen=True)
class Revision:
    """One version of a record as the revision-history table shows it."""

    number: int
    when: datetime  # when it landed (commit date, with its time zone)
    commit: str
    authors: tuple[str, ...]
    subject: str
    note: str
    merge_request: str | None
    approved_by: tuple[str, ...]  # names from the Approved-by: trailers (e-mail addresses left out)
    approval: str | None  # approved / missing / ... from the approval trail (None: not judged)
    approval_message: str

    @property
    def day(self) -> date:
        return self.when.date()


@dataclass(frozen=True)
class Change:
    """A version in the changelog: which record, which version, what it says."""

    record: Record
    revision: Revision


@dataclass(frozen=True)
class CommitEntry:
    """One commit in the changelog, the feeds and the home page: its words once, and every record
    of this edition it changed (:meth:`kedb.core.trail.History.by_commit`)."""

    commit: CommitChange
    changes: tuple[Change, ...]  # one per record, by record id

    @property
    def when(self) -> datetime:
        return self.commit.date

    @property
    def day(self) -> date:
        return self.commit.date.date()

    @property
    def subject(self) -> str:
        return self.commit.subject

    @property
    def note(self) -> str:
        return self.commit.note

    @property
    def anchor(self) -> str:
        """The entry's anchor on the changelog page."""
        return "c-" + self.commit.short

    @property
    def authors(self) -> tuple[str, ...]:
        return self.changes[0].revision.authors

    @property
    def approved_by(self) -> tuple[str, ...]:
        return self.changes[0].revision.approved_by  # the trailers of the commit: the same for each record

    @property
    def approval(self) -> str | None:
        """The one judgement every judged record of the commit got; None when there is none or they differ
        (then each record shows its own)."""
        found = {c.revision.approval for c in self.changes if c.revision.approval}
        return found.pop() if len(found) == 1 and all(c.revision.approval for c in self.changes) else None


def build_date(ctx: BuildContext) -> date:
    return ctx.info.date.date()


def status_counts(records: list[Record], order: tuple[str, ...]) -> list[tuple[str, int]]:
    c = Counter(str(r.meta.status) for r in records)
    return [(s, c.get(s, 0)) for s in order]


def counts(ctx: BuildContext) -> dict[str, list[tuple[str, int]]]:
    kb = ctx.kb
    return {
        "known errors": status_counts(kb.known_errors, RECORD_ORDER),
        "workarounds": status_counts(kb.workarounds, RECORD_ORDER),
        "problems": status_counts(kb.problems, PROBLEM_ORDER),
    }


def role_name(ctx: BuildContext, role: str) -> str:
    roles = ctx.kb.program.roles
    for r in roles.roles if roles else ():
        if r.id == role:
            return r.name
    return role.replace("-", " ").capitalize()


def reply_approvers(ctx: BuildContext, ke: KnownError) -> list[str]:
    """Roles that must approve a customer reply, by name: the gate's own rule
    (:func:`kedb.core.gate.reply_roles`: the incident lead for P1, each risk tag's ``approver_role``)."""
    triage = ctx.kb.program.triage
    return [role_name(ctx, r) for r in reply_roles(ke.priority, ke.risk_tags, triage.risk_tags if triage else ())]


def risk_handling(ctx: BuildContext, ke: KnownError) -> list[tuple[str, str]]:
    triage = ctx.kb.program.triage
    defs = {d.id: d for d in triage.risk_tags} if triage else {}
    return [(t, defs[t].handling) for t in ke.risk_tags if t in defs]


def revisions(ctx: BuildContext, record_id: str) -> list[Revision]:
    """Versions of a record, newest first, with the approval trail's verdict on each."""
    if ctx.history is None:
        return []
    trail = {a.version.commit: a for a in ctx.approvals.trail(record_id)} if ctx.approvals else {}
    out = []
    for v in reversed(ctx.history.of(record_id).versions):
        a = trail.get(v.commit)
        out.append(_revision(v, a.status if a else None, a.message if a else ""))
    return out


def _revision(v: Version, approval: str | None, message: str) -> Revision:
    return Revision(
        number=v.number,
        when=v.date,
        commit=v.commit,
        authors=tuple(dict.fromkeys(p.name for p in v.authors)) or (v.author.name,),
        subject=v.subject,
        note=v.note,
        merge_request=v.merge_request,
        approved_by=tuple(re.sub(r"\s*<[^>]*>\s*$", "", a).strip() or a for a in v.approved_by),
        approval=approval,
        approval_message=message,
    )


def version_label(ctx: BuildContext, record_id: str) -> str:
    """``3`` / ``3 + uncommitted changes`` / ``not committed`` / ``""`` without git."""
    if ctx.history is None:
        return ""
    h = ctx.history.of(record_id)
    n = len(h.versions)
    if h.uncommitted:
        return f"{n} + uncommitted changes" if n else "not committed yet"
    return str(n) if n else "not committed yet"


def history_notice(ctx: BuildContext, record_id: str) -> str:
    """What to say above (or instead of) the revision history."""
    if ctx.history is None or ctx.info.partial_history:
        return ctx.info.history_note
    h = ctx.history.of(record_id)
    if not h.versions:
        return "This record has no committed history yet: it is new in this working tree."
    if h.uncommitted:
        return "This page shows uncommitted changes to the record; the history lists committed versions only."
    return ""


def recent_changes(ctx: BuildContext, limit: int) -> list[CommitEntry]:
    """The latest ``limit`` commits that changed records of this edition, newest first, each once
    with the versions it made (a record deleted since is not listed)."""
    if ctx.history is None:
        return []
    out: list[CommitEntry] = []
    trail = {(a.record, a.version.commit): a for a in ctx.approvals.items} if ctx.approvals else {}
    for cc in ctx.history.by_commit():
        changes = []
        for rid, v in cc.versions:
            rec = ctx.record(rid)
            if rec is None or v.change == "deleted":
                continue
            a = trail.get((rid, v.commit))
            changes.append(Change(rec, _revision(v, a.status if a else None, a.message if a else "")))
        if changes:
            out.append(CommitEntry(cc, tuple(changes)))
            if len(out) >= limit:
                break
    return out


def due_for_review(ctx: BuildContext, within_days: int = DUE_SOON_DAYS) -> tuple[list[Record], list[Record]]:
    """(overdue, due within ``within_days``) on the build date (:func:`kedb.core.records.needs_review`)."""
    today = build_date(ctx)
    soon = today + timedelta(days=within_days)
    live = sorted(ctx.kb.records.values(), key=lambda r: (r.meta.review_by, r.id))
    overdue = [r for r in live if review_overdue(r.meta, today)]
    upcoming = [r for r in live if review_due(r.meta, today, soon)]
    return overdue, upcoming


def days_to_root_cause(p: Problem) -> int | None:
    if p.root_cause_identified is None:
        return None
    return (p.root_cause_identified - p.opened).days


def days_open(ctx: BuildContext, p: Problem) -> int:
    end = p.closed_on or build_date(ctx)
    return max(0, (end - p.opened).days)


def mean_time_to_root_cause(problems: list[Record]) -> float | None:
    days = [d for r in problems if (d := days_to_root_cause(r.meta)) is not None]
    return round(sum(days) / len(days), 1) if days else None


def supersedes(ctx: BuildContext) -> dict[str, list[str]]:
    """Record id -> the records it supersedes (computed once per build)."""
    out: dict[str, list[str]] = {}
    for r in ctx.kb.records.values():
        if r.meta.superseded_by:
            out.setdefault(r.meta.superseded_by, []).append(r.id)
    return out


def related(ctx: BuildContext, rec: Record, replaced: dict[str, list[str]] | None = None) -> list[tuple[str, str]]:
    """(relation, record id) pairs: links named in the record and the records that name it.
    ``replaced`` is :func:`supersedes` (pass it when calling for every record)."""
    m = rec.meta
    out: list[tuple[str, str]] = []
    if isinstance(m, KnownError):
        if m.problem:
            out.append(("problem", m.problem))
            prb = ctx.kb.records.get(m.problem)
            if prb is not None:
                out.extend(("same problem", k) for k in prb.meta.known_errors if k != m.id)
        out.extend(("workaround", w) for w in m.workarounds)
    elif isinstance(m, Problem):
        out.extend(("known error", k) for k in m.known_errors)
    else:
        out.extend(("applies to", k) for k in m.applies_to)
    if m.superseded_by:
        out.append(("superseded by", m.superseded_by))
    out.extend(("supersedes", rid) for rid in (supersedes(ctx) if replaced is None else replaced).get(m.id, ()))
    seen: set[str] = set()
    shown = [(k, i) for k, i in out if ctx.record(i) is not None]  # a hidden record is never named
    return [(k, i) for k, i in shown if not (i in seen or seen.add(i))]  # type: ignore[func-returns-value]
