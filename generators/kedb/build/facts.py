"""Facts the site and the four artefacts share, computed once from the build context.

Every figure here comes from the KB, its KPI snapshots or git. Where a figure does not exist
yet (no snapshot for a checkpoint month, no history outside git), the value is ``None`` and a
note says what is missing and how to produce it; renderers print the note, never a number.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from ..core import decisions, present, standing
from ..core.program import Checkpoints, Kpi
from ..core.records import KnownError, Problem, Workaround, review_due
from ..core.standing import Standing
from ..core.trail import APPROVAL_LABEL
from .context import withhold_ids

if TYPE_CHECKING:
    from ..build.context import BuildContext
    from ..core.kb import Record
    from ..core.trail import Approval, CommitChange, Version


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
    """One KPI at the baseline, the two checkpoints and its latest snapshot, judged by
    :mod:`kedb.core.standing` (the one rule every output uses)."""

    kpi: Kpi
    checkpoints: Checkpoints
    baseline: float | None
    baseline_note: str
    week4: float | None
    week4_note: str
    week8: float | None
    week8_note: str
    latest: float | None = None  # the figure of the latest snapshot that holds one
    latest_period: str | None = None

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
    def judgement(self) -> Standing:
        """The latest figure against the target, as of the end of its month."""
        return standing.judge(self.kpi, self.checkpoints, self.baseline, self.latest, self.latest_period)

    @property
    def standing(self) -> str:
        """``on track``, ``at risk``, ``missed``, ``not measured`` or ``no target`` (:func:`kedb.core.standing.judge`)."""
        return self.judgement.word

    @property
    def verdict(self) -> str:
        """The latest value against the baseline, judged by the KPI's direction (``better``, ``worse``, ...)."""
        return present.verdict(self.baseline, self.latest, self.kpi.lower_is_better)

    @property
    def movement_text(self) -> str:
        """``better by 7.5 pp`` (latest against baseline); an em dash when not measured."""
        return present.movement(self.baseline, self.latest, self.kpi.unit, self.kpi.lower_is_better)

    @property
    def target_text(self) -> str:
        """The target with the day it is due: ``10 – 25 % lower by 2026-10-30``."""
        return standing.target_text(self.kpi, self.checkpoints)

    @property
    def target_range(self) -> str:
        """The target without its day, for a table that gives the day its own column (:attr:`due_text`)."""
        return standing.target_text(self.kpi, None)

    @property
    def due_text(self) -> str:
        return present.day(standing.due(self.kpi, self.checkpoints), none=present.NONE)

    @property
    def band(self) -> tuple[float | None, float | None]:
        """The target as values in the KPI's unit (a relative one worked out from the baseline)."""
        return standing.band(self.kpi, self.baseline)

    @property
    def threshold(self) -> float | None:
        """The value that just meets the target on the side to improve."""
        return standing.threshold(self.kpi, self.baseline)

    @property
    def notes(self) -> list[str]:
        return [n for n in (self.baseline_note, self.week4_note, self.week8_note) if n]


def _index(value: float | None, baseline: float | None) -> float | None:
    if value is None or not baseline:
        return None
    return round(value / baseline * 100, 1)


def target_text(ctx: BuildContext, kpi: Kpi) -> str:
    """A KPI's target in words with its deadline (:func:`kedb.core.standing.target_text`)."""
    k = ctx.kb.program.kpis
    return standing.target_text(kpi, k.checkpoints if k else None)


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
        return None, f"{label}: not measured yet: run kedb kpi --period {period} --write"
    v = snap.value(kpi.id)
    if v is None:
        return None, f"{label}: the {period} snapshot has no figure for {kpi.id}"
    if v.value is None:
        return None, f"{label}: could not be computed for {period} ({v.basis.split('; ')[0]})"
    return v.value, ""


def kpi_rows(ctx: BuildContext) -> list[KpiRow]:
    """Baseline, week-4, week-8 and latest values of every KPI, from kpis.yml and the snapshots."""
    k = ctx.kb.program.kpis
    periods = checkpoint_periods(ctx)
    if k is None or periods is None:
        return []
    base_p, p4, p8 = periods
    snaps = sorted(ctx.kb.kpi_snapshots, key=lambda s: s.period)
    rows = []
    for kpi in k.kpis:
        if ctx.info.tenant and (base := standing.tenant_baseline(kpi, k.checkpoints, snaps)) is not None:
            base_note = ""  # a tenant's edition: its own baseline month (core/standing.tenant_baseline)
        elif kpi.baseline is not None:
            base, base_note = kpi.baseline, ""
        else:
            base, base_note = _measured(ctx, kpi, base_p, "baseline", None)
        w4, n4 = _measured(ctx, kpi, p4, "week 4", k.checkpoints.week4)
        w8, n8 = _measured(ctx, kpi, p8, "week 8", k.checkpoints.week8)
        measured = [(s.period, v.value) for s in snaps if (v := s.value(kpi.id)) is not None and v.value is not None]
        latest_p, latest = measured[-1] if measured else (None, None)
        rows.append(KpiRow(kpi, k.checkpoints, base, base_note, w4, n4, w8, n8, latest, latest_p))
    return rows


@dataclass(frozen=True)
class TenantKpis:
    """One tenant's KPI rows, each judged against the tenant's own baseline month."""

    tenant: str
    name: str
    periods: tuple[str, ...]  # the tenant's months, oldest first
    rows: list[KpiRow]
    figures: dict[str, dict[str, float | None]]  # KPI id -> period -> figure


def tenant_kpis(ctx: BuildContext) -> list[TenantKpis]:
    """Every tenant's monthly figures the edition shows (``kb.kpi_tenants``: every tenant's in the
    internal all-tenant edition, the tenant's own in its edition, none in the public one)."""
    k = ctx.kb.program.kpis
    periods = checkpoint_periods(ctx)
    if k is None or periods is None:
        return []
    names = {t.id: t.name for t in ctx.kb.program.settings.tenants} if ctx.kb.program.settings else {}
    out = []
    for tenant in sorted({s.tenant for s in ctx.kb.kpi_tenants if s.tenant}):
        snaps = sorted((s for s in ctx.kb.kpi_tenants if s.tenant == tenant and not s.weekly), key=lambda s: s.period)
        if not snaps:
            continue
        by_period = {s.period: s for s in snaps}
        rows, figures = [], {}
        for kpi in k.kpis:
            got = {s.period: (v.value if (v := s.value(kpi.id)) is not None else None) for s in snaps}
            figures[kpi.id] = got
            measured = [(p, x) for p, x in got.items() if x is not None]
            latest_p, latest = measured[-1] if measured else (None, None)
            base = standing.tenant_baseline(kpi, k.checkpoints, snaps)
            own = by_period.get(periods[0]) is not None and got.get(periods[0]) is not None
            note = "" if own else "baseline: the desk's (no figure of this tenant for the baseline month)"
            rows.append(KpiRow(kpi, k.checkpoints, base, note, got.get(periods[1]), "", got.get(periods[2]), "", latest, latest_p))
        out.append(TenantKpis(tenant, names.get(tenant, tenant), tuple(by_period), rows, figures))
    return out


def kpi_gaps(rows: list[KpiRow]) -> list[str]:
    """One sentence per KPI with a checkpoint value missing: which checkpoints, and why (the
    latest reason), e.g. "Problem fix success rate: no figure at baseline, week 4, week 8; could not be ..."."""
    out = []
    for r in rows:
        notes = [n for n in (r.baseline_note, r.week4_note, r.week8_note) if n]
        if not notes:
            continue
        labels = ", ".join(n.split(": ", 1)[0] for n in notes)
        why = notes[-1].split(": ", 1)[1]
        out.append(f"{r.kpi.name}: no figure at {labels}; {why}.")
    return out


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


def kpi_trend(ctx: BuildContext, kpi: Kpi) -> list[tuple[str, float | None]]:
    """(period, value) of ``kpi`` in every stored snapshot, oldest first; the baseline month from
    ``content/kpis.yml`` when no snapshot holds it. A month the figure could not be computed in is None."""
    points = {s.period: (v.value if (v := s.value(kpi.id)) else None) for s in ctx.kb.kpi_snapshots}
    periods = checkpoint_periods(ctx)
    if periods and kpi.baseline is not None and points.get(periods[0]) is None:
        points[periods[0]] = kpi.baseline
    return sorted(points.items())


# ---------------------------------------------------------------- volume and backlog
# The volume figures every snapshot carries beside the KPIs (``kedb kpi`` writes them), with the
# names every output gives them (the README's KPI table says how each is counted).
VOLUME: tuple[tuple[str, str], ...] = (
    ("ticket_volume", "Tickets opened"),
    ("tickets_resolved", "Tickets resolved"),
    ("backlog", "Backlog (open at month end)"),
)


@dataclass(frozen=True)
class VolumeMonth:
    period: str
    values: tuple[float | None, ...]  # in the order of VOLUME; None where the snapshot has no such figure
    coverage: str  # "partial: the export covers ..." for a month the export covers in part, else ""


def volume(ctx: BuildContext) -> list[VolumeMonth]:
    """Tickets opened, resolved and open at the end of each month, oldest first, from every
    snapshot that holds at least one of them."""
    out = []
    for s in sorted(ctx.kb.kpi_snapshots, key=lambda x: x.period):
        values = tuple(v.value if (v := s.value(vid)) is not None else None for vid, _ in VOLUME)
        if any(v is not None for v in values):
            out.append(VolumeMonth(s.period, values, s.coverage.text if s.coverage else ""))
    return out


# ---------------------------------------------------------------- the cost of repeat work
@dataclass(frozen=True)
class RepeatWork:
    """Repeat tickets per snapshot and, with ``repeat_cost`` in content/kpis.yml, what they cost.

    The saving at target is the baseline month's cost less what the latest month's volume would
    cost at the target repeat rate: the monthly saving the program is expected to bring."""

    months: tuple[tuple[str, float, float], ...]  # (period, repeat tickets, incidents), oldest first
    target_rate: float | None  # percent, the highest repeat ticket rate that meets its target (a relative one from the baseline)
    per_ticket: float | None
    currency: str
    basis: str

    @property
    def baseline(self) -> tuple[str, float, float]:
        return self.months[0]

    @property
    def latest(self) -> tuple[str, float, float]:
        return self.months[-1]

    @property
    def target_repeats(self) -> float | None:
        """Repeat tickets the latest month's incidents would hold at the target rate."""
        return None if self.target_rate is None else self.latest[2] * self.target_rate / 100

    def cost(self, repeats: float | None) -> float | None:
        return None if repeats is None or self.per_ticket is None else repeats * self.per_ticket

    @property
    def saving_at_target(self) -> float | None:
        """Per month, against the baseline month."""
        base, target = self.cost(self.baseline[1]), self.cost(self.target_repeats)
        return None if base is None or target is None else max(0.0, base - target)

    @property
    def saved_so_far(self) -> float | None:
        """Per month: the baseline month's cost less the latest month's."""
        base, now = self.cost(self.baseline[1]), self.cost(self.latest[1])
        return None if base is None or now is None else base - now

    def money(self, amount: float | None) -> str:
        return present.money(amount, self.currency)


def repeat_work(ctx: BuildContext) -> RepeatWork | None:
    """The repeat tickets of every snapshot that counted them (numerator and denominator of the
    repeat ticket rate); None without such a snapshot."""
    months = []
    for s in sorted(ctx.kb.kpi_snapshots, key=lambda x: x.period):
        v = s.value("repeat_ticket_rate")
        if v is not None and v.numerator is not None and v.denominator:
            months.append((s.period, float(v.numerator), float(v.denominator)))
    if not months:
        return None
    k = ctx.kb.program.kpis
    rate = next((x for x in k.kpis if x.id == "repeat_ticket_rate"), None) if k else None
    cost = k.repeat_cost if k else None
    return RepeatWork(
        tuple(months),
        standing.threshold(rate, standing.baseline_of(rate, k.checkpoints, ctx.kb.kpi_snapshots)) if rate and k else None,
        cost.per_ticket if cost else None,
        cost.currency if cost else "",
        cost.basis if cost else "",
    )


# ---------------------------------------------------------------- the calendar: rhythm, cadence, what is due
CADENCE_MONTHS = {"monthly": 1, "quarterly": 3, "half-yearly": 6, "yearly": 12}


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later (the month's last day when it is shorter)."""
    y, m = divmod(day.month - 1 + months, 12)
    year, month = day.year + y, m + 1
    for d in (day.day, 30, 29, 28):
        try:
            return date(year, month, d)
        except ValueError:
            continue
    raise ValueError(day)


def program_start(ctx: BuildContext) -> date | None:
    """Day 1 of the 30-day rhythm: four weeks before the week-4 checkpoint."""
    k = ctx.kb.program.kpis
    return k.checkpoints.week4 - timedelta(days=28) if k else None


def role_holders(ctx: BuildContext, role: str) -> str:
    """The names of the people holding ``role`` (the role's name when nobody does)."""
    roles = ctx.kb.program.roles
    if roles is None:
        return role
    names = [p.name for p in roles.people if role in p.roles]
    title = next((r.name for r in roles.roles if r.id == role), role)
    return ", ".join(names) if names else title


def maintainers(ctx: BuildContext) -> str:
    roles = ctx.kb.program.roles
    return ", ".join(person(ctx, h) for h in roles.maintainers) if roles else ""


@dataclass(frozen=True)
class PlanItem:
    day: date  # when it is due (a phase: its first day)
    what: str
    who: str
    kind: str  # phase, checkpoint, snapshot, audit, review, action, risk review, risk action, remediation, approval
    end: date | None = None  # a phase's last day

    def overdue(self, today: date) -> bool:
        return (self.end or self.day) < today


def rhythm_dates(ctx: BuildContext) -> list[tuple[date, date, Any]]:
    """(first day, last day, phase) of every phase of the rhythm, dated from :func:`program_start`."""
    start, rhythm = program_start(ctx), ctx.kb.program.rhythm
    if start is None or rhythm is None:
        return []
    return [(start + timedelta(days=ph.start_day - 1), start + timedelta(days=ph.end_day - 1), ph) for ph in rhythm.phases]


def calendar(ctx: BuildContext, days: int = 30) -> list[PlanItem]:
    """What falls due from the build date to ``days`` later, on the real calendar, and what is
    already overdue: the phases of the rhythm that run in the window, the checkpoints, the
    monthly KPI snapshot and four-weekly flow audit the cadence asks for, record reviews,
    prevention actions, risk reviews and risk actions, control remediations, and the records
    waiting for an approval. Oldest first."""
    start = build_day(ctx)
    end = start + timedelta(days=days)
    out: list[PlanItem] = []
    for first, last, ph in rhythm_dates(ctx):
        if first <= end and last >= start:
            out.append(PlanItem(first, f"Days {ph.start_day}–{ph.end_day}: {ph.name}", role_holders(ctx, ph.owner), "phase", last))
    k = ctx.kb.program.kpis
    if k is not None:
        for label, day in (("Week-4 checkpoint", k.checkpoints.week4), ("Week-8 checkpoint", k.checkpoints.week8)):
            if start <= day <= end:
                out.append(PlanItem(day, label, role_holders(ctx, "incident-lead"), "checkpoint"))
        have = {s.period for s in ctx.kb.kpi_snapshots}
        month = date.fromisoformat(k.checkpoints.baseline + "-01")
        while (due := add_months(month, 1)) <= end:
            period = month.strftime("%Y-%m")
            if period not in have:
                out.append(PlanItem(due, f"KPI snapshot for {period}: kedb kpi --period {period} --write", maintainers(ctx), "snapshot"))
            month = due
    if ctx.kb.audits:
        due = ctx.kb.audits[-1].as_of + timedelta(days=28)
        if due <= end:
            out.append(PlanItem(due, f"Flow audit as of {due.isoformat()}: kedb tickets audit --as-of {due.isoformat()} --write",
                                maintainers(ctx), "audit"))  # fmt: skip
    for d, what, who in due_within(ctx, days):
        out.append(PlanItem(d, what.removeprefix("overdue: "), who, "review" if what.startswith("review ") else "action"))
    risks = ctx.kb.program.risks
    for r in risks.risks if risks else ():
        nxt = next_review(r)
        if r.status != "closed" and nxt is not None and nxt <= end:
            out.append(PlanItem(nxt, f"Review risk {r.id}: {r.title}", person(ctx, r.owner), "risk review"))
        for a in r.actions:
            if a.status == "open" and a.due <= end:
                out.append(PlanItem(a.due, f"{r.id}: {a.action}", person(ctx, a.owner), "risk action"))
        for c in r.controls:
            if c.remediation is not None and c.status != "operating" and c.remediation.due <= end:
                out.append(PlanItem(c.remediation.due, f"{c.id}: {c.remediation.action}", person(ctx, c.remediation.owner), "remediation"))
    for p in awaiting_approval(ctx):
        out.append(PlanItem(start, f"Approve {p.record} {p.title}", p.reason, "approval"))
    return sorted(out, key=lambda x: (x.day, x.kind, x.what))


def next_review(risk: Any) -> date | None:
    """The day a risk's next review is due: one cadence after its last review."""
    return add_months(risk.reviewed, CADENCE_MONTHS[risk.review_cadence]) if risk.reviewed else None


@dataclass(frozen=True)
class FrameworkRef:
    framework: str
    ref: str
    controls: tuple[str, ...]  # control ids, in the order of content/risks.yml


def framework_refs(ctx: BuildContext) -> list[FrameworkRef]:
    """Every framework reference the controls of content/risks.yml map to, with the controls that
    map to it: frameworks in the order they first appear, references in clause order within each. Any
    framework a team writes is listed; none is assumed."""
    risks = ctx.kb.program.risks
    found: dict[str, dict[str, list[str]]] = {}
    for r in risks.risks if risks else ():
        for c in r.controls:
            for m in c.mappings:
                ids = found.setdefault(m.framework, {}).setdefault(m.ref, [])
                if c.id not in ids:
                    ids.append(c.id)
    return [FrameworkRef(fw, ref, tuple(ids)) for fw, refs in found.items() for ref, ids in sorted(refs.items(), key=_clause_order)]


def _clause_order(item: tuple[str, list[str]]) -> list[tuple[int, int | str]]:
    """Clauses in number order: ``A.5.3`` before ``A.5.12``, ``9.1`` before ``10.2``."""
    return [(0, int(p)) if p.isdigit() else (1, p) for p in re.split(r"(\d+)", item[0]) if p]


LEVEL = {"low": 1, "medium": 2, "high": 3}


def risk_score(risk: Any) -> int:
    """Likelihood × impact, each low 1, medium 2, high 3: 1 to 9."""
    return LEVEL[risk.likelihood] * LEVEL[risk.impact]


def top_risks(ctx: BuildContext, n: int = 5) -> list[Any]:
    """Open risks by score, highest first (then by id)."""
    risks = ctx.kb.program.risks
    live = [r for r in (risks.risks if risks else []) if r.status != "closed"]
    return sorted(live, key=lambda r: (-risk_score(r), r.id))[:n]


def awaiting_approval(ctx: BuildContext) -> list[Pending]:
    """Records in review, which wait for an approval before they can be published: the open
    requests, named by who must approve (the service's approvers for a high-impact record)."""
    program = ctx.kb.program
    out = []
    for r in ctx.kb.records.values():
        if r.meta.status != "in-review":
            continue
        if program.is_high_impact(r.meta):
            who = ", ".join(person(ctx, h) for h in program.approvers(r.meta.service)) or "no approver named"
        else:
            who = "any reviewer"
        out.append(Pending(r.id, r.meta.title, r.meta.service, who))
    return sorted(out, key=lambda p: p.record)


# ---------------------------------------------------------------- the trail, one entry per commit
_MERGE_SUBJECT = re.compile(r"^Merge (branch|pull request|remote-tracking branch) ")
_MR_LINE = re.compile(r"^\s*See merge request \S+\s*$")


@dataclass(frozen=True)
class CommitTrail:
    change: CommitChange
    versions: tuple[tuple[str, Version, Approval | None], ...]  # (record id, version, judgement), by record id

    @property
    def title(self) -> str:
        """What the change was: a merge commit's subject ("Merge branch 'x' into 'main'") says nothing,
        so the merge request's title (the first line of its body) stands for it."""
        c = self.change
        if _MERGE_SUBJECT.match(c.subject) and c.note.strip():
            return c.note.strip().split("\n", 1)[0].strip()
        return c.subject

    @property
    def note(self) -> str:
        """The change note without the title and without the merge-request line (shown apart)."""
        c = self.change
        lines = c.note.strip().split("\n") if c.note.strip() else []
        if lines and _MERGE_SUBJECT.match(c.subject):
            lines = lines[1:]
        return "\n".join(ln for ln in lines if not _MR_LINE.match(ln)).strip()

    @property
    def approvers(self) -> list[str]:
        seen: dict[str, None] = {}
        for _, v, a in self.versions:
            for name in a.approvers if a is not None and a.status == "approved" else v.approved_by:
                seen.setdefault(name, None)
        return list(seen)

    @property
    def judgements(self) -> dict[str, list[str]]:
        """Approval label -> the record ids judged so in this commit."""
        out: dict[str, list[str]] = {}
        for rid, v, a in self.versions:
            label = APPROVAL_LABEL[a.status] if a is not None else ("recorded" if v.approved_by else present.NONE)
            out.setdefault(label, []).append(rid)
        return out


def commit_trail(ctx: BuildContext, records: Iterable[str] | None = None, limit: int | None = None) -> list[CommitTrail]:
    """The commits that changed records (only ``records`` when given), newest first, each once with
    every version it made and the approval judgement of each (:meth:`History.by_commit`)."""
    if ctx.history is None:
        return []
    keep = None if records is None else set(records)
    changes, judged = _grouped(ctx)
    out = []
    for c in changes:
        versions = tuple((rid, v, judged.get((rid, v.commit))) for rid, v in c.versions if keep is None or rid in keep)
        if versions:
            out.append(CommitTrail(c, versions))
            if limit is not None and len(out) >= limit:
                break
    return out


# The commits grouped once per build context (the runbook, the register and the brief each ask):
# by identity, with a weak reference so a context that is gone is never taken for a new one.
_GROUPED: dict[int, tuple[weakref.ref[BuildContext], list[CommitChange], dict[tuple[str, str], Approval]]] = {}


def _grouped(ctx: BuildContext) -> tuple[list[CommitChange], dict[tuple[str, str], Approval]]:
    entry = _GROUPED.get(id(ctx))
    if entry is not None and entry[0]() is ctx:
        return entry[1], entry[2]
    for key in [k for k, e in _GROUPED.items() if e[0]() is None]:
        del _GROUPED[key]
    assert ctx.history is not None
    judged = {(a.record, a.version.commit): a for a in (ctx.approvals.items if ctx.approvals else ())}
    changes = ctx.history.by_commit()
    _GROUPED[id(ctx)] = (weakref.ref(ctx), changes, judged)
    return changes, judged


# ---------------------------------------------------------------- the candidate decision log (content/decisions.yml)
@dataclass(frozen=True)
class LoggedDecision:
    """One decision of the log as an edition shows it."""

    day: date
    kind: str  # in words: "rejected (false positive)"
    subject: str  # the signature; or the problem id, empty when this edition does not show that problem
    volume: str  # "13 tickets in 30 days" for a rejection, else empty
    by: str  # the person's name
    reason: str  # with the id of every record this edition does not show withheld


def candidate_decisions(ctx: BuildContext) -> tuple[decisions.Summary, list[LoggedDecision]] | None:
    """The false-positive rate and the decision log for the KPI page and the proof brief
    (:func:`kedb.core.decisions.summary`: None without content/decisions.yml and in public
    editions), with names for handles and, as everywhere, no id of a record the edition hides."""
    s = decisions.summary(ctx.kb.program.decisions, (r.meta for r in ctx.kb.problems), ctx.info.audience, ctx.info.tenant)
    if s is None:
        return None
    hidden = set(ctx.report.kb.records) - set(ctx.kb.records)
    rows = []
    for d in s.log:
        subject = d.signature or ("" if d.problem in hidden else d.problem or "")
        volume = f"{d.volume:,} tickets in {d.window_days} days" if d.volume and d.window_days else ""
        reason = withhold_ids(d.reason, hidden)
        rows.append(LoggedDecision(d.decided_on, decisions.KIND_WORDS[d.kind], subject, volume, person(ctx, d.by), reason))
    return s, rows
