"""``kedb kpi --period YYYY-MM``: the month's KPI figures, from the ticket store and the problem records.

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
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from ..core.errors import UsageError
from ..core.kb import KB
from ..core.load.stored import write_data_file
from ..core.records import KnownError, Problem
from ..core.snapshots import KPI_DIR, Coverage, KpiSnapshot, KpiValue, dump
from . import needs
from .candidates import DEFAULT_RECURRENCE, create_signature_view, signature_fields_used
from .coverage import Span, open_at, span
from .store import StoreInfo

_PERIOD = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_NOT_CANCELLED = "class IS DISTINCT FROM 'cancelled'"


def period_bounds(period: str) -> tuple[datetime, datetime]:
    m = _PERIOD.match(period)
    if not m:
        raise UsageError(f"'{period}' is not a month; write it as YYYY-MM (e.g. 2026-08)")
    y, mo = int(m.group(1)), int(m.group(2))
    return datetime(y, mo, 1), datetime(y + (mo == 12), mo % 12 + 1, 1)


def _ratio(kid: str, num: float, den: float, basis: str, unit: str = "percent") -> KpiValue:
    value = None if not den else round((100.0 * num / den) if unit == "percent" else num / den, 2)
    return KpiValue(id=kid, value=value, unit=unit, numerator=round(num, 2), denominator=den, basis=basis[:400])  # type: ignore[arg-type]


def _none(kid: str, unit: str, basis: str) -> KpiValue:
    return KpiValue(id=kid, value=None, unit=unit, basis=basis[:400])  # type: ignore[arg-type]


def _col(info: StoreInfo, field: str) -> str | None:
    cols = info.columns.get(field)
    return cols[0] if cols else None


class _Ctx:
    def __init__(self, con: Any, kb: KB, info: StoreInfo, period: str) -> None:
        self.con, self.kb, self.info, self.period = con, kb, info, period
        self.start, self.end = period_bounds(period)
        self.recurrence = kb.program.recurrence or DEFAULT_RECURRENCE
        self.window = self.recurrence.repeat_window_days
        self.params = [self.start, self.end]
        self.have = needs.available(info.columns, event_log=info.event_log, triage=kb.program.triage is not None)
        self.span: Span | None = span(con)

    def one(self, sql: str) -> tuple[Any, ...]:
        return tuple(self.con.execute(sql, self.params).fetchone())

    @property
    def done(self) -> str:
        return f"done_at >= $1 AND done_at < $2 AND {_NOT_CANCELLED}"


def _volume(c: _Ctx) -> list[KpiValue]:
    opened, resolved = c.one(
        f"SELECT count(*) FILTER (WHERE opened_at >= $1 AND opened_at < $2), count(*) FILTER (WHERE {c.done}) FROM tickets"
    )
    backlog = c.con.execute(f"SELECT count(*) FROM ({open_at(c.info.event_log, '$1')})", [c.end]).fetchone()[0]
    p = c.period
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


def _repeat(c: _Ctx) -> KpiValue:
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
        f"{total} incidents resolved in {c.period} with a signature (from {fields}"
        + (f"; not in the export: {', '.join(unused)}" if unused else "")
        + f"); a repeat had the same signature on another ticket opened up to {c.window} days before it."
    )
    if unsigned:
        basis += f" {unsigned} without any signature part left out."
    if c.info.first and c.info.first > (c.start - timedelta(days=c.window)).date():
        basis += f" Tickets start {c.info.first}: earlier repeats are not seen."
    return _ratio("repeat_ticket_rate", repeats, total, basis)


def _first_response(c: _Ctx) -> KpiValue:
    minutes_col, at_col = _col(c.info, "first_response_minutes"), _col(c.info, "first_response_at")
    if minutes_col:
        how = f"minutes as the export measured them ('{minutes_col}')"
    elif at_col:
        how = f"calendar minutes from opened to '{at_col}'"
    elif c.info.event_log:
        how = "calendar minutes from opened to the first update that left a new status (event log)"
    else:
        return _none("first_response_time", "minutes", "The export has no first-response time and is not an event log.")
    if not needs.computable("first_response_time", c.have):
        return _none("first_response_time", "minutes", "The event log has no status column, so no update can be seen leaving new.")
    total, n, negative = c.one(
        """
        WITH r AS (SELECT coalesce(first_response_minutes, epoch(first_response_at - opened_at) / 60.0) AS m
                   FROM tickets WHERE first_response_at >= $1 AND first_response_at < $2)
        SELECT coalesce(sum(m) FILTER (WHERE m >= 0), 0), count(*) FILTER (WHERE m >= 0), count(*) FILTER (WHERE m < 0) FROM r
        """
    )
    basis = f"Mean over {n} tickets first answered in {c.period}: {how}; support hours are not applied unless the tool did."
    if negative:
        basis += f" {negative} answered before being opened left out."
    return _ratio("first_response_time", total, n, basis, unit="minutes")


def _sla(c: _Ctx) -> KpiValue:
    flags = [f for f in ("sla_breached", "response_breached", "resolution_breached") if f in c.info.columns]
    if flags:
        breached, known, total = c.one(
            f"SELECT count(*) FILTER (WHERE sla_breached), count(sla_breached), count(*) FROM tickets WHERE {c.done}"
        )
        cols = ", ".join(f"'{_col(c.info, f)}'" for f in flags)
        basis = f"{known} tickets resolved in {c.period} with an SLA result in the export ({cols}); breached if any timer was missed."
        if total > known:
            basis += f" {total - known} without one left out."
        return _ratio("sla_breach_rate", breached, known, basis)
    triage = c.kb.program.triage
    if triage is None:
        return _none("sla_breach_rate", "percent", "The export has no SLA result and content/triage.yml has no timers.")
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
        f"{known} tickets resolved in {c.period} with a priority P1–P3, judged against the timers in content/triage.yml "
        "(the export has no SLA result; time on hold is not excluded)."
    )
    if total > known:
        basis += f" {total - known} without such a priority left out."
    return _ratio("sla_breach_rate", breached, known, basis)


def _counts(c: _Ctx) -> list[KpiValue]:
    out: list[KpiValue] = []
    reopened, known = c.one(f"SELECT count(*) FILTER (WHERE reopen_count > 0), count(reopen_count) FROM tickets WHERE {c.done}")
    src = f"'{_col(c.info, 'reopen_count')}'" if "reopen_count" in c.info.columns else "the event log's moves back from resolved"
    if known or "reopen_count" in c.info.columns or c.info.event_log:
        basis = f"{known} tickets resolved in {c.period}; reopened at least once per {src} (the export does not say when, so any reopen counts)."
        out.append(_ratio("reopen_rate", reopened, known, basis))
    else:
        out.append(_none("reopen_rate", "percent", "The export has no reopen count and is not an event log."))
    moved, once, known = c.one(
        "SELECT count(*) FILTER (WHERE reassignment_count > 0), count(*) FILTER (WHERE reassignment_count = 1), "
        f"count(reassignment_count) FROM tickets WHERE {c.done}"
    )
    if known:
        src = (
            f"'{_col(c.info, 'reassignment_count')}'"
            if "reassignment_count" in c.info.columns
            else "assignment-group changes in the event log"
        )
        out.append(
            _ratio("reassignment_rate", moved, known, f"{known} tickets resolved in {c.period}; reassigned at least once per {src}.")
        )
        out.append(
            _ratio(
                "escalation_accuracy",
                once,
                moved,
                f"Proxy from {moved} reassigned tickets resolved in {c.period}: share reassigned exactly once; a further "
                "reassignment means the hand-off was sent back or re-routed.",
            )
        )
    else:
        why = "The export has no reassignment count or assignment-group history."
        out += [_none("reassignment_rate", "percent", why), _none("escalation_accuracy", "percent", why)]
    if "problem_id" in c.info.columns:
        linked, problems = c.one(
            "SELECT count(*) FILTER (WHERE problem_id IS NOT NULL), count(DISTINCT problem_id) FROM tickets WHERE opened_at >= $1 AND opened_at < $2"
        )
        basis = f"Tickets opened in {c.period} linked to a problem in the tool ('{_col(c.info, 'problem_id')}'), per distinct problem."
        out.append(_ratio("tickets_per_problem", linked, problems, basis, unit="count"))
    else:
        out.append(_none("tickets_per_problem", "count", "The export has no problem link (problem_id)."))
    return out


def _problems(c: _Ctx) -> list[KpiValue]:
    probs = [r.meta for r in c.kb.problems if isinstance(r.meta, Problem)]
    start, end = c.start.date(), c.end.date()
    rc = sorted((p for p in probs if p.root_cause_identified and start <= p.root_cause_identified < end), key=lambda p: p.id)
    days = [(p.root_cause_identified - p.opened).days for p in rc if p.root_cause_identified]
    names = ", ".join(f"{p.id} {d} d" for p, d in zip(rc, days, strict=True))
    mttrc = _ratio(
        "mean_time_to_root_cause",
        sum(days),
        len(days),
        f"{len(days)} problem record{'s' * (len(days) != 1)} reached root cause in {c.period}"
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
    basis = f"{n} problem fix{'es' * (n != 1)} whose {w}-day check ended in {c.period}"
    basis += f" ({', '.join(ok + failed)})" if ok or failed else ""
    basis += f"; a fix failed when a ticket with its signature was opened in the {w} days after fixed_on."
    if unknown:
        basis += f" {', '.join(unknown)} left out: the imported tickets do not cover the {w} days after the fix."
    return [mttrc, _ratio("problem_fix_success_rate", len(ok), len(ok) + len(failed), basis)]


# Figures that come from the problem records, not from the tickets of the month.
FROM_RECORDS = ("mean_time_to_root_cause", "problem_fix_success_rate")


def _explained(c: _Ctx, v: KpiValue, coverage: Coverage | None) -> KpiValue:
    """``v`` with its basis saying why it is n/a, and that the month is partial, where that is so."""
    basis = v.basis
    if v.value is None and not basis.startswith("n/a"):
        why = needs.needs_text(v.id) if not needs.computable(v.id, c.have) else None
        if why:
            basis = f"n/a: the export cannot give it (it needs {why}). {basis}"
        elif v.id not in FROM_RECORDS:
            basis = f"n/a: nothing to count in {c.period}. {basis}"
        else:
            basis = f"n/a: {basis}"
    if coverage is not None and v.id not in FROM_RECORDS:
        basis = f"{coverage.text[0].upper()}{coverage.text[1:]}. {basis}"
    return v.model_copy(update={"basis": basis[:400]}) if basis != v.basis else v


def coverage_of(c: _Ctx) -> Coverage | None:
    """How much of the month the export covers (None: all of it)."""
    if c.span is None:
        return Coverage(first=None, last=None, days=0, of_days=(c.end - c.start).days)
    return c.span.covers(c.start.date(), c.end.date())


def compute(con: Any, kb: KB, info: StoreInfo, period: str) -> KpiSnapshot:
    """The snapshot for ``period`` (YYYY-MM), in the order of ``content/kpis.yml`` then volume figures."""
    c = _Ctx(con, kb, info, period)
    coverage = coverage_of(c)
    values = [_repeat(c), *_problems(c), _first_response(c), _sla(c), *_counts(c), *_volume(c)]
    values = [_explained(c, v, coverage) for v in values]
    order = [k.id for k in kb.program.kpis.kpis] if kb.program.kpis else []
    values.sort(key=lambda v: (order.index(v.id) if v.id in order else len(order), 0))
    return KpiSnapshot(
        period=period,
        window_days=c.window,
        source=info.snapshot_source(),
        coverage=coverage,
        values=values,
    )


def checkpoint_periods(kb: KB) -> list[str]:
    """Baseline, week-4 and week-8 months of ``content/kpis.yml``."""
    if kb.program.kpis is None:
        return []
    cp = kb.program.kpis.checkpoints
    return list(dict.fromkeys([cp.baseline, cp.week4.strftime("%Y-%m"), cp.week8.strftime("%Y-%m")]))


def write(kb: KB, snap: KpiSnapshot, command: str) -> Path:
    """Write ``content/kpi/<period>.yml`` through a temporary file, after reading it back as kedb will."""
    return write_data_file(kb.root, f"{KPI_DIR}/{snap.period}.yml", dump(snap, command), snap, f"snapshot for {snap.period}")
