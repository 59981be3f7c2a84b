"""``kedb kpi --period YYYY-MM`` (or ``--week YYYY-Www``, and ``--tenant ID``): a period's KPI figures, from the
ticket store and the problem records.

Each figure carries its numerator, denominator and a ``basis`` sentence (what was counted,
from how many tickets or problems, and what the export could not tell). A figure that cannot
be computed is ``null`` and its basis starts with ``n/a:`` and the reason (what the export lacks,
from :mod:`kedb.tickets.needs`, or nothing to count), never a guess. Ticket figures use the
ticket's *done* time: resolved (in an event log without ``resolved_at``, when the log shows it
resolved), else closed (see :mod:`kedb.tickets.collapse`); cancelled tickets count only in
volume and backlog. The backlog counts open tickets as the audit does
(:func:`kedb.tickets.coverage.open_at`). A month the export covers only in part is marked: the
snapshot's ``coverage``, and the first sentence of every ticket figure's basis. Definitions, in
the words a desk lead uses, are in ``content/kpis.yml``; the README lists how each is computed.
The desk's everyday figures (first contact resolution, resolution time per priority, CSAT, the
KB-assisted share) are :mod:`kedb.tickets.kpi_desk`. A week is an ISO week, computed as a month
is; one tenant's figures count only its tickets (:func:`kedb.tickets.tenants.scoped`), and its
problem figures only the problems of all tenants and those naming it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from ..core.kb import KB
from ..core.load.stored import write_data_file
from ..core.records import KnownError, Problem
from ..core.snapshots import Coverage, KpiSnapshot, KpiValue, dump, period_bounds
from . import needs
from .candidates import create_signature_view, signature_fields_used
from .coverage import open_at
from .kpi_ctx import Ctx, col, ratio, unavailable
from .kpi_desk import desk_figures
from .store import StoreInfo
from .tenants import Scope, scoped

__all__ = ["checkpoint_periods", "compute", "period_bounds", "write"]


def _volume(c: Ctx) -> list[KpiValue]:
    opened, resolved = c.one(
        f"SELECT count(*) FILTER (WHERE opened_at >= $1 AND opened_at < $2), count(*) FILTER (WHERE {c.done}) FROM tickets"
    )
    backlog = c.con.execute(f"SELECT count(*) FROM ({open_at(c.info.event_log, '$1')})", [c.end]).fetchone()[0]
    p = c.label
    return [
        KpiValue(id="ticket_volume", value=opened, unit="count", basis=f"Tickets opened in {p} (every type)."),
        KpiValue(id="tickets_resolved", value=resolved, unit="count", basis=f"Tickets resolved (else closed) in {p}, not cancelled."),
        KpiValue(
            id="backlog",
            value=backlog,
            unit="count",
            basis=f"Tickets opened before the end of {p} and not resolved, closed or cancelled then"
            + (" (by their last event before then, as `kedb tickets audit` counts open tickets)." if c.info.event_log else "."),
        ),
    ]


def _repeat(c: Ctx) -> KpiValue:
    create_signature_view(c.con, c.recurrence, c.info.columns)
    repeats, total, unsigned = c.one(
        f"""
        WITH s AS (SELECT id, opened_at, shown, lag(opened_at) OVER (PARTITION BY shown ORDER BY opened_at, id) AS prev
                   FROM sig WHERE shown IS NOT NULL)
        SELECT count(*) FILTER (WHERE s.prev IS NOT NULL AND s.opened_at - s.prev <= INTERVAL {c.window} DAYS),
               count(*) FILTER (WHERE s.id IS NOT NULL), count(*) FILTER (WHERE s.id IS NULL)
        FROM tickets t LEFT JOIN s USING (id)
        WHERE t.done_at >= $1 AND t.done_at < $2 AND t.class IS DISTINCT FROM 'cancelled' AND NOT coalesce(t.is_request, false)
        """
    )
    used, unused = signature_fields_used(c.recurrence.signature_fields, c.info.columns)
    fields = ", ".join(used) or "none of its fields"
    basis = (
        f"{total} incidents resolved in {c.label} with a signature (from {fields}"
        + (f"; not in the export: {', '.join(unused)}" if unused else "")
        + f"); a repeat had the same signature on another ticket opened up to {c.window} days before it."
    )
    if unsigned:
        basis += f" {unsigned} without any signature part left out."
    if c.info.first and c.info.first > (c.start - timedelta(days=c.window)).date():
        basis += f" Tickets start {c.info.first}: earlier repeats are not seen."
    return ratio("repeat_ticket_rate", repeats, total, basis)


def _first_response(c: Ctx) -> KpiValue:
    minutes_col, at_col = col(c.info, "first_response_minutes"), col(c.info, "first_response_at")
    if minutes_col:
        how = f"minutes as the export measured them ('{minutes_col}')"
    elif at_col:
        how = f"calendar minutes from opened to '{at_col}'"
    elif c.info.event_log:
        how = "calendar minutes from opened to the first update that left a new status (event log)"
    else:
        return unavailable("first_response_time", "minutes", "The export has no first-response time and is not an event log.")
    if not needs.computable("first_response_time", c.have):
        return unavailable("first_response_time", "minutes", "The event log has no status column, so no update can be seen leaving new.")
    total, n, negative = c.one(
        """
        WITH r AS (SELECT coalesce(first_response_minutes, epoch(first_response_at - opened_at) / 60.0) AS m
                   FROM tickets WHERE first_response_at >= $1 AND first_response_at < $2)
        SELECT coalesce(sum(m) FILTER (WHERE m >= 0), 0), count(*) FILTER (WHERE m >= 0), count(*) FILTER (WHERE m < 0) FROM r
        """
    )
    basis = f"Mean over {n} tickets first answered in {c.label}: {how}; support hours are not applied unless the tool did."
    if negative:
        basis += f" {negative} answered before being opened left out."
    return ratio("first_response_time", total, n, basis, unit="minutes")


def _sla(c: Ctx) -> KpiValue:
    flags = [f for f in ("sla_breached", "response_breached", "resolution_breached") if f in c.info.columns]
    if flags:
        breached, known, total = c.one(
            f"SELECT count(*) FILTER (WHERE sla_breached), count(sla_breached), count(*) FROM tickets WHERE {c.done}"
        )
        cols = ", ".join(f"'{col(c.info, f)}'" for f in flags)
        basis = f"{known} tickets resolved in {c.label} with an SLA result in the export ({cols}); breached if any timer was missed."
        if total > known:
            basis += f" {total - known} without one left out."
        return ratio("sla_breach_rate", breached, known, basis)
    triage = c.kb.program.triage
    if triage is None:
        return unavailable("sla_breach_rate", "percent", "The export has no SLA result and content/triage.yml has no timers.")
    resp = " ".join(f"WHEN '{p.id.lower()}' THEN {p.response_minutes}" for p in triage.priorities)
    resol = " ".join(f"WHEN '{p.id.lower()}' THEN {p.resolution_hours * 60}" for p in triage.priorities)
    breached, known, total = c.one(
        f"""
        WITH r AS (SELECT CASE lower(priority) {resp} END AS resp_limit, CASE lower(priority) {resol} END AS resol_limit,
                          coalesce(first_response_minutes, epoch(first_response_at - opened_at) / 60.0) AS resp,
                          coalesce(resolution_minutes, epoch(done_at - opened_at) / 60.0) AS resol
                   FROM tickets WHERE {c.done})
        SELECT count(*) FILTER (WHERE resp_limit IS NOT NULL AND (resp > resp_limit OR resol > resol_limit)),
               count(*) FILTER (WHERE resp_limit IS NOT NULL), count(*) FROM r
        """
    )
    basis = (
        f"{known} tickets resolved in {c.label} with a priority P1–P3, judged against the timers in content/triage.yml "
        "(the export has no SLA result; time on hold is not excluded)."
    )
    if total > known:
        basis += f" {total - known} without such a priority left out."
    return ratio("sla_breach_rate", breached, known, basis)


def _counts(c: Ctx) -> list[KpiValue]:
    out: list[KpiValue] = []
    reopened, known = c.one(f"SELECT count(*) FILTER (WHERE reopen_count > 0), count(reopen_count) FROM tickets WHERE {c.done}")
    src = f"'{col(c.info, 'reopen_count')}'" if "reopen_count" in c.info.columns else "the event log's moves back from resolved"
    if known or "reopen_count" in c.info.columns or c.info.event_log:
        basis = (
            f"{known} tickets resolved in {c.label}; reopened at least once per {src} (the export does not say when, so any reopen counts)."
        )
        out.append(ratio("reopen_rate", reopened, known, basis))
    else:
        out.append(unavailable("reopen_rate", "percent", "The export has no reopen count and is not an event log."))
    moved, once, known = c.one(
        "SELECT count(*) FILTER (WHERE reassignment_count > 0), count(*) FILTER (WHERE reassignment_count = 1), "
        f"count(reassignment_count) FROM tickets WHERE {c.done}"
    )
    if known:
        src = (
            f"'{col(c.info, 'reassignment_count')}'"
            if "reassignment_count" in c.info.columns
            else "assignment-group changes in the event log"
        )
        out.append(ratio("reassignment_rate", moved, known, f"{known} tickets resolved in {c.label}; reassigned at least once per {src}."))
        out.append(
            ratio(
                "escalation_accuracy",
                once,
                moved,
                f"Proxy from {moved} reassigned tickets resolved in {c.label}: share reassigned exactly once; a further "
                "reassignment means the hand-off was sent back or re-routed.",
            )
        )
    else:
        why = "The export has no reassignment count or assignment-group history."
        out += [unavailable("reassignment_rate", "percent", why), unavailable("escalation_accuracy", "percent", why)]
    if "problem_id" in c.info.columns:
        linked, problems = c.one(
            "SELECT count(*) FILTER (WHERE problem_id IS NOT NULL), count(DISTINCT problem_id) FROM tickets WHERE opened_at >= $1 AND opened_at < $2"
        )
        basis = f"Tickets opened in {c.label} linked to a problem in the tool ('{col(c.info, 'problem_id')}'), per distinct problem."
        out.append(ratio("tickets_per_problem", linked, problems, basis, unit="count"))
    else:
        out.append(unavailable("tickets_per_problem", "count", "The export has no problem link (problem_id)."))
    return out


def _problems(c: Ctx) -> list[KpiValue]:
    # one tenant's figures: the problems of every tenant and those naming it, as its edition shows them
    probs = [
        r.meta for r in c.kb.problems if isinstance(r.meta, Problem) and (not c.tenant or not r.meta.tenants or c.tenant in r.meta.tenants)
    ]
    start, end = c.start.date(), c.end.date()
    rc = sorted((p for p in probs if p.root_cause_identified and start <= p.root_cause_identified < end), key=lambda p: p.id)
    days = [(p.root_cause_identified - p.opened).days for p in rc if p.root_cause_identified]
    names = ", ".join(f"{p.id} {d} d" for p, d in zip(rc, days, strict=True))
    mttrc = ratio(
        "mean_time_to_root_cause",
        sum(days),
        len(days),
        f"{len(days)} problem record{'s' * (len(days) != 1)} reached root cause in {c.label}"
        + (f": {names}." if len(rc) <= 6 and rc else "."),
        unit="days",
    )
    w = c.window
    due = sorted((p for p in probs if p.fixed_on and start <= p.fixed_on + timedelta(days=w) < end), key=lambda p: p.id)
    ok: list[str] = []
    failed: list[str] = []
    unknown: list[str] = []
    for p in due:
        assert p.fixed_on is not None
        sigs = {p.trigger.signature} if p.trigger and p.trigger.signature else set()
        sigs |= {k.meta.symptom_signature for ke in p.known_errors if (k := c.kb.records.get(ke)) and isinstance(k.meta, KnownError)}
        stop = p.fixed_on + timedelta(days=w)
        if not sigs or c.info.first is None or c.info.last is None or c.info.first > p.fixed_on or c.info.last < stop:
            unknown.append(p.id)
            continue
        cond = " OR ".join("(signature = ? OR starts_with(signature, ?))" for _ in sigs)
        args: list[Any] = [x for s in sorted(sigs) for x in (s, s + ":")]
        n = c.con.execute(
            f"SELECT count(*) FROM sig WHERE ({cond}) AND opened_at >= ? AND opened_at < ?",
            [
                *args,
                datetime.combine(p.fixed_on + timedelta(days=1), datetime.min.time()),
                datetime.combine(stop + timedelta(days=1), datetime.min.time()),
            ],
        ).fetchone()[0]
        (failed if n else ok).append(p.id)
    n = len(ok) + len(failed)
    basis = f"{n} problem fix{'es' * (n != 1)} whose {w}-day check ended in {c.label}"
    basis += f" ({', '.join(ok + failed)})" if ok or failed else ""
    basis += f"; a fix failed when a ticket with its signature was opened in the {w} days after fixed_on."
    if unknown:
        basis += f" {', '.join(unknown)} left out: the imported tickets do not cover the {w} days after the fix."
    return [mttrc, ratio("problem_fix_success_rate", len(ok), len(ok) + len(failed), basis)]


# Figures that come from the problem records, not from the tickets of the month.
FROM_RECORDS = ("mean_time_to_root_cause", "problem_fix_success_rate")


def _explained(c: Ctx, v: KpiValue, coverage: Coverage | None) -> KpiValue:
    """``v`` with its basis saying why it is n/a, and that the month is partial, where that is so."""
    basis = v.basis
    if v.value is None and not basis.startswith("n/a"):
        why = needs.needs_text(v.id) if not needs.computable(v.id, c.have) else None
        if why:
            basis = f"n/a: the export has no {why}. {basis}"
        elif v.id not in FROM_RECORDS:
            basis = f"n/a: nothing to count in {c.label}. {basis}"
        else:
            basis = f"n/a: {basis}"
    if coverage is not None and v.id not in FROM_RECORDS:
        basis = f"{coverage.text[0].upper()}{coverage.text[1:]}. {basis}"
    return v.model_copy(update={"basis": basis[:400]}) if basis != v.basis else v


def coverage_of(c: Ctx) -> Coverage | None:
    """How much of the period the export covers (None: all of it)."""
    if c.span is None:
        return Coverage(first=None, last=None, days=0, of_days=(c.end - c.start).days)
    return c.span.covers(c.start.date(), c.end.date())


def compute(con: Any, kb: KB, info: StoreInfo, period: str, tenant: str | None = None) -> tuple[KpiSnapshot, Scope | None]:
    """The snapshot for ``period`` (a month ``YYYY-MM`` or an ISO week ``YYYY-Www``), of the whole desk or of ``tenant``'s
    tickets only (:mod:`kedb.tickets.tenants`), in the order of ``content/kpis.yml`` then the other figures; and the
    tenant's scope (None for the desk)."""
    period_bounds(period)
    with scoped(con, kb, info.columns, tenant) as scope:
        c = Ctx(con, kb, info, period, tenant)
        coverage = coverage_of(c)
        values = [_repeat(c), *_problems(c), _first_response(c), _sla(c), *_counts(c), *desk_figures(c), *_volume(c)]
    values = [_explained(c, v, coverage) for v in values]
    order = [k.id for k in kb.program.kpis.kpis] if kb.program.kpis else []
    values.sort(key=lambda v: (order.index(v.id) if v.id in order else len(order), 0))
    snap = KpiSnapshot(period=period, tenant=tenant, window_days=c.window, source=info.snapshot_source(), coverage=coverage, values=values)
    return snap, scope


def checkpoint_periods(kb: KB) -> list[str]:
    """Baseline, week-4 and week-8 months of ``content/kpis.yml``."""
    if kb.program.kpis is None:
        return []
    cp = kb.program.kpis.checkpoints
    return list(dict.fromkeys([cp.baseline, cp.week4.strftime("%Y-%m"), cp.week8.strftime("%Y-%m")]))


def write(kb: KB, snap: KpiSnapshot, command: str) -> Path:
    """Write the snapshot where :func:`kedb.core.snapshots.snapshot_path` keeps it (``content/kpi/2026-10.yml``,
    ``content/kpi/weeks/2026-W43.yml``, ``content/kpi/tenants/ACME/…``) through a temporary file, after reading it
    back as kedb will."""
    whose = f" of tenant {snap.tenant}" if snap.tenant else ""
    return write_data_file(kb.root, snap.path, dump(snap, command), snap, f"snapshot for {snap.period}{whose}")
