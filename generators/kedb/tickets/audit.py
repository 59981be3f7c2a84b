"""``kedb tickets audit``: the flow audit of the imported tickets at the end of one day.

The audit's *moment* is the end of ``--as-of`` (default: the last day the export covers, see
:mod:`kedb.tickets.coverage`: not the wall clock, so an export audited later does not make every
ticket look older than it was, and not the latest event, which may be a lone straggler). Only
events before that moment are read: the audit shows the desk as it was then. Judgements that
take time (did a status period move on within its threshold? was a chase answered in time?)
are made for the periods and chases whose *deadline* fell in the window of
``window_days`` up to the moment: each of those is decided, so recent fast moves and recent
slow ones count alike. Every figure carries its numerator, denominator, the number of tickets
it comes from and a ``basis`` sentence; a figure the export cannot give is ``null`` with the
reason. The SLA timers are :mod:`kedb.tickets.audit_sla`, intake completeness
:mod:`kedb.tickets.audit_intake`. The README ("Flow audit") lists every definition.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from ..core.audits import AgeBucket, Audit, AuditFigure, ProgressionRow
from ..core.errors import UsageError
from ..core.kb import KB
from . import audit_flow as F
from . import audit_sla as S
from . import audit_sql as Q
from .audit_intake import intake
from .coverage import Span, open_at, span
from .store import StoreInfo


@dataclass(frozen=True)
class Listed:
    """An open ticket on one of the audit's lists (ids are for the desk: never stored but the at-risk list, never published)."""

    id: str
    priority: str | None
    stage: str | None
    group: str | None
    age_hours: float
    sla_used: float | None = None  # percent of the resolution timer used
    idle_hours: float | None = None  # hours since the last update (stalled tickets)


@dataclass(frozen=True)
class AuditRun:
    """The audit, how its date was chosen, and its lists in full (for ``--all``)."""

    audit: Audit
    notes: tuple[str, ...]
    at_risk: tuple[Listed, ...]
    breached: tuple[Listed, ...]
    stalled: tuple[Listed, ...]
    on_thresholds: tuple[S.Placed, ...] = ()  # at or past a threshold of some SLA timer, the highest threshold first
    thresholds: tuple[float, ...] = ()  # sla_thresholds of the policy


def resolve_as_of(found: Span | None, info: StoreInfo, as_of: date | None) -> tuple[date, list[str]]:
    """The audit's day and what to say about it: the default is the last day the export covers (see
    :mod:`kedb.tickets.coverage`); a day after it is allowed and warned about."""
    if found is None or info.first is None or found.latest_event is None:
        raise UsageError("the ticket store holds no tickets: import an export first")
    last = found.latest_event
    notes = []
    if as_of is None:
        day = found.last
        notes.append(f"as of {day}, the last day the export covers ({found.rule()}); --as-of DATE audits another day")
        later = [f"{found.after:,} ticket{'s' * (found.after != 1)} opened later (to {found.opened_last})"] if found.after else []
        if last > day:
            later.append(f"events go on to {last}")
        if later:
            notes.append(f"after {day}: " + " and ".join(later) + "; the export misses most tickets opened then")
        return day, notes
    if as_of > last:
        raise UsageError(
            f"--as-of {as_of} is after the latest event in the store ({last}): the export cannot say what happened since; "
            "import a newer export or choose an earlier date"
        )
    if as_of < info.first:
        raise UsageError(f"--as-of {as_of} is before the first ticket in the store was opened ({info.first})")
    if as_of > found.last:
        notes.append(
            f"{as_of} is after the last day the export covers ({found.last}: {found.rule()}): tickets opened after it are "
            "mostly not in the export, so open tickets and ages are too low"
        )
    return as_of, notes


def compute(con: Any, kb: KB, info: StoreInfo, as_of: date | None = None) -> AuditRun:
    """The audit at the end of ``as_of`` (default: the last day the export covers)."""
    policy = kb.program.progression
    if policy is None:
        raise UsageError("content/progression.yml is missing or invalid: the audit needs a progression policy (run `kedb check`)")
    found = span(con)
    day, notes = resolve_as_of(found, info, as_of)
    instant = datetime.combine(day + timedelta(days=1), datetime.min.time())
    c = F.Ctx(con, kb, info, policy, day, instant, instant - timedelta(days=policy.window_days))
    covered = found.covers(c.start.date(), instant.date()) if found else None
    Q.policy_tables(con, policy, info.system)
    if info.event_log:
        Q.event_tables(con, policy, instant, c.start, Q.chase_limit(policy, kb.program.triage))
        open_sql = _open_from_events(c)
    else:
        open_sql = _open_from_tickets()
    con.execute(f"CREATE OR REPLACE TEMP TABLE op AS {open_sql}", [instant])
    placed = S.place(c)
    figures = [*_open_figures(c), *S.figures(c, placed)]
    by_stage: list[ProgressionRow] = []
    by_group: list[ProgressionRow] = []
    if info.event_log:
        prog, by_stage, by_group = F.progression(c)
        figures += [prog, F.stalls(c), *F.bounces(c), *F.chases(c), F.reopens(c)]
    else:
        why = "The export has one row per ticket: it holds no status history, so periods, stalls, bounces and chases cannot be seen."
        figures += [F.fig(f, None, u, 0, why) for f, u in (("progression_sla", "percent"), ("stalled", "count"), ("bounce_rate", "percent"),
                                                          ("bounces", "count"), ("chases", "count"), ("chases_answered", "percent"))]  # fmt: skip
        figures.append(F.reopens_from_tickets(c))
    at_risk, total = S.stored_at_risk(c, placed)
    said = f"{covered.text[0].upper()}{covered.text[1:]} of the window. " if covered is not None else ""
    if covered is not None:
        figures = [f.model_copy(update={"basis": f"{said}{f.basis}"[:400]}) for f in figures]
    completeness = intake(c)
    if completeness is not None and said:
        completeness = completeness.model_copy(update={"basis": f"{said}{completeness.basis}"[:400]})
    triage_src = kb.program.sources.get("triage.yml") if kb.program.triage is not None else None
    audit = Audit(
        as_of=day,
        window_days=policy.window_days,
        source=info.snapshot_source(),
        coverage=covered,
        policy_sha256=kb.program.sources["progression.yml"].sha256,
        figures=figures,
        age_profile=_ages(c),
        by_stage=by_stage,
        by_group=by_group,
        at_risk=at_risk,
        at_risk_total=total,
        triage_sha256=triage_src.sha256 if triage_src else None,
        sla_timers=S.timers(c, placed),
        intake=completeness,
    )
    return AuditRun(audit, tuple(notes), *_lists(c, placed), S.on_thresholds(c, placed), tuple(policy.sla_thresholds))


# ---------------------------------------------------------------- open tickets
def _open_from_events(c: F.Ctx) -> str:
    """Open tickets at the moment (:func:`kedb.tickets.coverage.open_at`, as the KPIs' backlog counts them), with
    the stage and group of their last event before it."""
    return f"""
        WITH cur AS (SELECT id, arg_max(stage, step) AS stage, arg_max(grp, step) AS grp, max(ts) AS last_ts FROM ae GROUP BY id)
        SELECT t.id, t.opened_at, t.priority, cur.stage, cur.grp, cur.last_ts, t.first_response_at AS fr
        FROM ({open_at(True, "$1")}) t LEFT JOIN cur USING (id)
    """


def _open_from_tickets() -> str:
    """One row per ticket: open at the moment when not resolved, closed or cancelled before it (the KPIs' backlog)."""
    return f"""
        SELECT id, opened_at, priority, CAST(NULL AS VARCHAR) AS stage, assignment_group AS grp, CAST(NULL AS TIMESTAMP) AS last_ts,
               first_response_at AS fr
        FROM ({open_at(False, "$1")})
    """


def _open_figures(c: F.Ctx) -> list[AuditFigure]:
    n, median = c.one("SELECT count(*), median(epoch($1 - opened_at) / 86400) FROM op", [c.instant])
    how = "their last event before then" if c.info.event_log else "their resolved/closed time (one row per ticket)"
    return [
        F.fig(
            "open_tickets",
            n,
            "count",
            n,
            f"Tickets opened before the end of {c.as_of} and not resolved, closed or cancelled then, by {how}.",
        ),
        F.fig(
            "open_age_median",
            None if median is None else round(median, 2),
            "days",
            n,
            f"Median calendar days from opening to the end of {c.as_of} over the {n} open tickets.",
            den=n,
        ),
    ]


def _ages(c: F.Ctx) -> list[AgeBucket]:
    bounds = [0, *c.policy.age_buckets_days]
    cases = " ".join(f"WHEN age < {b} THEN {i}" for i, b in enumerate(bounds[1:]))
    got = dict(
        c.con.execute(
            f"SELECT CASE {cases} ELSE {len(bounds) - 1} END AS k, count(*) FROM (SELECT epoch($1 - opened_at) / 86400 AS age FROM op) GROUP BY k",
            [c.instant],
        ).fetchall()
    )
    out = [AgeBucket(from_days=bounds[i], to_days=bounds[i + 1], tickets=got.get(i, 0)) for i in range(len(bounds) - 1)]
    return [*out, AgeBucket(from_days=bounds[-1], to_days=None, tickets=got.get(len(bounds) - 1, 0))]


def _lists(c: F.Ctx, placed: list[S.Placed]) -> tuple[tuple[Listed, ...], tuple[Listed, ...], tuple[Listed, ...]]:
    """Every at-risk, past-SLA and stalled ticket, most urgent first (ids that cannot be shown safely are left out)."""

    def listed(p: S.Placed) -> Listed:
        used = round(100.0 * p.resolution_used / p.resolution_limit, 1)
        return Listed(p.id, p.priority, p.stage, p.group, round(p.age_hours, 1), used)

    at_risk = tuple(listed(p) for p in S.rows_of(placed, lambda p: S.at_risk_of(c, p)))
    breached = tuple(listed(p) for p in S.rows_of(placed, lambda p: p.past("resolution", 100.0)))
    stalled: tuple[Listed, ...] = ()
    if c.info.event_log:
        now_w, now_c = c.now("working"), c.now("calendar")
        got = c.con.execute(
            f"""SELECT op.id, upper(op.priority), op.stage, op.grp, epoch($1 - op.opened_at) / 3600, epoch($1 - op.last_ts) / 3600
                FROM op JOIN pol_stage s USING (stage)
                WHERE op.last_ts IS NOT NULL
                  AND CASE WHEN s.clock = 'calendar' THEN {now_c} ELSE {now_w} END - {Q.clocked("op.last_ts", "s.clock")} > s.thr
                ORDER BY op.last_ts, op.id""",
            [c.instant],
        ).fetchall()
        stalled = tuple(
            Listed(i, p, st, (g[:400] if g else None), round(h, 1), None, round(idle, 1)) for i, p, st, g, h, idle in got if S.shown_id(i)
        )
    return at_risk, breached, stalled
