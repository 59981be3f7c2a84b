"""Facts the site and the four artefacts share, computed once from the build context.

Every figure here comes from the KB, its KPI snapshots or git. Where a figure does not exist
yet (no snapshot for a checkpoint month, no history outside git), the value is ``None`` and a
note says what is missing and how to produce it; renderers print the note, never a number.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from ..core import present
from ..core.program import Kpi
from ..core.records import KnownError, Problem, Workaround, review_due
from ..core.trail import APPROVAL_LABEL

if TYPE_CHECKING:
    from ..build.context import BuildContext
    from ..core.kb import Record
    from ..core.trail import Approval, Version


def build_day(ctx: BuildContext) -> date:
    return ctx.info.date.date()


def title_of(ctx: BuildContext) -> str:
    s = ctx.kb.program.settings
    return s.name if s else "Known-error database"


def set_core_properties(core: Any, ctx: BuildContext, what: str) -> None:
    """The document properties of a DOCX or PPTX (python-docx and python-pptx share the model):
    title, edition, the build date from git (never the clock) and the commit built."""
    core.title = f"{title_of(ctx)}: {what}"
    core.subject = edition(ctx)
    core.author = core.last_modified_by = "kedb"
    core.revision = 1
    core.created = core.modified = ctx.info.date.replace(tzinfo=None)
    core.comments = f"Built from commit {ctx.info.commit}" if ctx.info.commit else "Not built from a git commit"


def organisation(ctx: BuildContext) -> str:
    s = ctx.kb.program.settings
    return s.organisation if s else ""


def person(ctx: BuildContext, handle: str | None) -> str:
    """Display name of a handle (the handle itself when it is not in roles.yml)."""
    if not handle:
        return ""
    p = ctx.kb.program.people.get(handle)
    return p.name if p else handle


def service_name(ctx: BuildContext, service: str) -> str:
    s = ctx.kb.program.services
    for svc in s.services if s else ():
        if svc.id == service:
            return svc.name
    return service


def published(records: list[Record]) -> list[Record]:
    return [r for r in records if r.meta.status == "published"]


def workarounds_of(ctx: BuildContext, ke: Record) -> list[Record]:
    """The workarounds of a known error that this edition shows."""
    out = []
    for wid in ke.meta.workarounds:
        wa = ctx.record(wid)
        if wa is not None and isinstance(wa.meta, Workaround):
            out.append(wa)
    return out


def problem_of(ctx: BuildContext, ke: Record) -> Record | None:
    pid = ke.meta.problem
    rec = ctx.record(pid) if pid else None
    return rec if rec is not None and isinstance(rec.meta, Problem) else None


def edition(ctx: BuildContext) -> str:
    """One line that says which edition this is and where it came from."""
    i = ctx.info
    parts = [f"{i.audience} edition"]
    if i.tenant:
        parts.append(f"tenant {i.tenant}")
    parts.append(f"commit {i.short}" if i.commit else "not built from a git commit")
    parts.append(f"built {i.date.date().isoformat()}")
    if i.dirty:
        parts.append("working tree had uncommitted record changes")
    return ", ".join(parts)


# ---------------------------------------------------------------- KPIs
@dataclass(frozen=True)
class KpiRow:
    kpi: Kpi
    baseline: float | None
    baseline_note: str
    week4: float | None
    week4_note: str
    week8: float | None
    week8_note: str

    @property
    def latest(self) -> float | None:
        return self.week8 if self.week8 is not None else self.week4

    @property
    def movement(self) -> float | None:
        if self.latest is None or self.baseline is None:
            return None
        return self.latest - self.baseline

    @property
    def index4(self) -> float | None:
        return _index(self.week4, self.baseline)

    @property
    def index8(self) -> float | None:
        return _index(self.week8, self.baseline)

    @property
    def on_target(self) -> bool | None:
        return None if self.latest is None else within(self.latest, self.kpi)

    @property
    def status(self) -> str:
        ok = self.on_target
        return "not measured" if ok is None else "on target" if ok else "breach"

    @property
    def target_text(self) -> str:
        return target_text(self.kpi)

    @property
    def notes(self) -> list[str]:
        return [n for n in (self.baseline_note, self.week4_note, self.week8_note) if n]


def _index(value: float | None, baseline: float | None) -> float | None:
    if value is None or not baseline:
        return None
    return round(value / baseline * 100, 1)


def within(value: float, kpi: Kpi) -> bool:
    t = kpi.target
    return (t.min is None or value >= t.min) and (t.max is None or value <= t.max)


def target_text(kpi: Kpi) -> str:
    return kpi.target.text(lambda v: present.quantity(v, kpi.unit), "no target set")


def checkpoint_periods(ctx: BuildContext) -> tuple[str, str, str] | None:
    k = ctx.kb.program.kpis
    if k is None:
        return None
    c = k.checkpoints
    return c.baseline, c.week4.strftime("%Y-%m"), c.week8.strftime("%Y-%m")


def _measured(ctx: BuildContext, kpi: Kpi, period: str, label: str, due: date | None) -> tuple[float | None, str]:
    snap = next((s for s in ctx.kb.kpi_snapshots if s.period == period), None)
    if snap is None:
        if due is not None and due > build_day(ctx):
            return None, f"{label}: not due yet (checkpoint {due.isoformat()})"
        return None, f"{label}: not measured yet: run `kedb kpi --period {period} --write`"
    v = snap.value(kpi.id)
    if v is None:
        return None, f"{label}: the {period} snapshot has no figure for {kpi.id}"
    if v.value is None:
        return None, f"{label}: could not be computed for {period} ({v.basis})"
    return v.value, ""


def kpi_rows(ctx: BuildContext) -> list[KpiRow]:
    """Baseline, week-4 and week-8 values of every KPI, from kpis.yml and the snapshots."""
    k = ctx.kb.program.kpis
    periods = checkpoint_periods(ctx)
    if k is None or periods is None:
        return []
    base_p, p4, p8 = periods
    rows = []
    for kpi in k.kpis:
        if kpi.baseline is not None:
            base, base_note = kpi.baseline, ""
        else:
            base, base_note = _measured(ctx, kpi, base_p, "baseline", None)
        w4, n4 = _measured(ctx, kpi, p4, "week 4", k.checkpoints.week4)
        w8, n8 = _measured(ctx, kpi, p8, "week 8", k.checkpoints.week8)
        rows.append(KpiRow(kpi, base, base_note, w4, n4, w8, n8))
    return rows


def missing_measurements(rows: list[KpiRow]) -> list[str]:
    """The distinct 'not measured yet' notes, for one line under a table or chart."""
    seen: dict[str, None] = {}
    for r in rows:
        for n in r.notes:
            seen.setdefault(n.split(": ", 1)[1] if ": " in n else n, None)
    return list(seen)


# ---------------------------------------------------------------- recurrence, problems, approvals
@dataclass(frozen=True)
class Recurrence:
    tickets_linked: int
    trigger_tickets: int | None
    window_days: int | None
    distinct_customers: int | None
    rule: str | None


def recurrence(ctx: BuildContext, ke: Record) -> Recurrence:
    prb = problem_of(ctx, ke)
    trig = prb.meta.trigger if prb is not None else None
    return Recurrence(
        len(ke.meta.tickets),
        trig.tickets if trig else None,
        trig.window_days if trig else None,
        trig.distinct_customers if trig else None,
        trig.rule if trig else None,
    )


def top_problems(ctx: BuildContext, n: int = 6) -> list[Record]:
    """Problems by the recurrence that opened them (tickets in the trigger window), most first."""
    probs = [p for p in ctx.kb.problems if p.meta.status != "closed" or p.meta.trigger]
    return sorted(probs, key=lambda p: (-(p.meta.trigger.tickets if p.meta.trigger else len(p.meta.tickets)), p.id))[:n]


def fix_status(ctx: BuildContext, prb: Record) -> str:
    """Where the fix of a problem stands: its own stage and the fix status of its known errors."""
    kes = [ke for kid in prb.meta.known_errors if (ke := ctx.record(kid)) is not None and isinstance(ke.meta, KnownError)]
    fixes = sorted({ke.meta.fix.status for ke in kes})
    return prb.meta.status + (f"; fix {', '.join(fixes)}" if fixes else "")


@dataclass(frozen=True)
class Pending:
    record: str
    title: str
    service: str
    reason: str


def pending_approvals(ctx: BuildContext) -> list[Pending]:
    """High-impact records waiting for an approval, and published versions that lack one."""
    out: list[Pending] = []
    program = ctx.kb.program
    for r in ctx.kb.records.values():
        if r.meta.status == "in-review" and program.is_high_impact(r.meta):
            names = ", ".join(person(ctx, h) for h in program.approvers(r.meta.service)) or "no approver named"
            out.append(Pending(r.id, r.meta.title, r.meta.service, f"in review, high-impact: needs approval by {names}"))
    if ctx.approvals is not None:
        for a in ctx.approvals.violations:
            r = ctx.record(a.record)
            if r is not None:
                out.append(Pending(a.record, r.meta.title, r.meta.service, f"version {a.version.number} ({a.version.short}): {a.message}"))
    return out


def trails(ctx: BuildContext) -> dict[str, list[tuple[Version, Approval | None]]]:
    """Each record's versions with their approval judgement (oldest first), for every record at once.

    ``ApprovalReport.trail`` filters all judgements per call; asking it record by record makes a
    10,000-record build quadratic, so the judgements are grouped here in one pass."""
    if ctx.history is None:
        return {}
    judged: dict[str, dict[str, Approval]] = {}
    for a in ctx.approvals.items if ctx.approvals else ():
        judged.setdefault(a.record, {})[a.version.commit] = a
    out: dict[str, list[tuple[Version, Approval | None]]] = {}
    for rid in ctx.kb.records:
        mine = judged.get(rid, {})
        out[rid] = [(v, mine.get(v.commit)) for v in ctx.history.of(rid).versions]
    return out


def approval_text(a: Approval | None, v: Version) -> str:
    if a is None:
        return ", ".join(v.approved_by) or present.NONE
    label = APPROVAL_LABEL[a.status]
    return f"{label}: {', '.join(a.approvers)}" if a.approvers else label


def due_within(ctx: BuildContext, days: int = 30) -> list[tuple[date, str, str]]:
    """(date, what, who) due in the next ``days`` from the build date: reviews and prevention actions."""
    start = build_day(ctx)
    end = start + timedelta(days=days)
    out: list[tuple[date, str, str]] = []
    for r in ctx.kb.records.values():
        if review_due(r.meta, start, end):
            out.append((r.meta.review_by, f"review {r.id} {r.meta.title}", person(ctx, r.meta.owner)))
        if isinstance(r.meta, Problem):
            for a in r.meta.prevention_actions:
                if a.status == "open" and a.due <= end:
                    when = "overdue: " if a.due < start else ""
                    out.append((a.due, f"{when}{r.id}: {a.action}", person(ctx, a.owner)))
    return sorted(out, key=lambda x: (x[0], x[1]))
