"""The flow audit's tables, built in DuckDB from the store's ``events`` (see :mod:`kedb.tickets.audit`).

``ae`` — every event before the audit's moment, with its *stage* (the progression policy's
status: the source's status name if the policy lists it, else the default of its importer
class) and its hand-off: a change of assignment group is ``first-line`` when it moves the ticket
back to a first-line group from another group, ``back-and-forth`` when it returns the ticket to
a group it had before, else ``handoff``; a status mapped to the bounce stage entered from
another stage is ``rejected``. A bounce (first-line, back-and-forth, rejected) of a ticket whose
status is ``new`` or ``open`` puts it in the bounce stage until its next update.

``pe`` — status periods: runs of consecutive events with the same stage and assignment group,
each with its start, its end (the next period's start; NULL while it lasts) and both on the
stage's clock (``c0``, ``c1``). Closed, cancelled and unmapped statuses have no stage and no
period. The time between two moments on a clock is the difference of their clock values
(:func:`kedb.core.progression.clock_minutes`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ..core import present
from ..core.program import TriageFile
from ..core.progression import Clock, ProgressionFile, clock_sql, duration_minutes
from .sqlexpr import lit

BOUNCES = ("first-line", "back-and-forth", "rejected")
DONE = "('resolved', 'closed', 'cancelled')"
RESOLVED = "('resolved', 'closed')"


def minutes(ts: str) -> str:
    return f"(epoch({ts}) / 60)"


def policy_tables(con: Any, policy: ProgressionFile, system: str) -> None:
    """``pol_stage`` (stage, thr, clock, waiting, pauses, cls, ord), ``pol_status`` and ``pol_default``; the ``wclk`` macro."""
    wh = policy.working_hours
    con.execute(f"CREATE OR REPLACE TEMP MACRO wclk(m) AS {clock_sql('m', 'working', wh)}")
    con.execute(
        "CREATE OR REPLACE TEMP TABLE pol_stage (stage VARCHAR, thr DOUBLE, clock VARCHAR, waiting VARCHAR, pauses BOOLEAN, "
        "cls VARCHAR, ord INTEGER)"
    )
    rows = [
        [s.id, duration_minutes(s.threshold, s.clock, wh), s.clock, s.waiting_on, s.pauses_sla, s.status_class, i]
        for i, s in enumerate(policy.stages)
    ]
    con.executemany("INSERT INTO pol_stage VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
    con.execute("CREATE OR REPLACE TEMP TABLE pol_status (s VARCHAR, stage VARCHAR)")
    named = {k.lower(): v for k, v in policy.statuses.get(system, {}).items()}  # type: ignore[call-overload]
    if named:
        con.executemany("INSERT INTO pol_status VALUES (?, ?)", [[k, v] for k, v in sorted(named.items())])
    con.execute("CREATE OR REPLACE TEMP TABLE pol_default (cls VARCHAR, stage VARCHAR)")
    con.executemany("INSERT INTO pol_default VALUES (?, ?)", [[k, v] for k, v in sorted(policy.defaults.items())])


def clocked(expr: str, clock_col: str) -> str:
    """``expr`` (a timestamp) on the clock named by the column ``clock_col``."""
    m = minutes(expr)
    return f"(CASE WHEN {clock_col} = 'calendar' THEN {m} ELSE wclk({m}) END)"


def clock_of(clock: str, expr: str) -> str:
    """``expr`` (a timestamp) on a clock known when the SQL is written."""
    m = minutes(expr)
    return m if clock == "calendar" else f"wclk({m})"


@dataclass(frozen=True)
class ChaseLimit:
    """How long a caller's chase may wait for an answer: the update interval of the ticket's priority
    (``content/triage.yml``, on ``sla_clock``), or one time for all when ``chases.answer_within`` is set."""

    minutes: dict[str, float]  # priority (P1–P3) -> minutes on ``clock``; empty with the override
    override: float | None  # minutes of ``chases.answer_within``
    clock: Clock
    text: str  # the deadline in words, for the basis

    def sql(self, priority: str) -> str:
        """The answer time of a chase in minutes of ``clock``; NULL for a ticket whose priority has no update interval."""
        if self.override is not None:
            return repr(self.override)
        return "CASE upper(" + priority + ") " + " ".join(f"WHEN {lit(k)} THEN {v!r}" for k, v in self.minutes.items()) + " END"

    @property
    def longest(self) -> float:
        return self.override if self.override is not None else max(self.minutes.values())


def chase_limit(policy: ProgressionFile, triage: TriageFile | None) -> ChaseLimit | None:
    """The chase answer time the policy sets (None: no override and no ``content/triage.yml`` to take intervals from)."""
    ch = policy.chases
    if ch.answer_within is not None:
        m = duration_minutes(ch.answer_within, ch.clock, policy.working_hours)
        return ChaseLimit({}, m, ch.clock, f"chases.answer_within, {ch.answer_within} of {ch.clock} time for every priority")
    if triage is None:
        return None
    each = ", ".join(f"{p.id} {present.duration(p.update_minutes, 'minutes', decimals=0)}" for p in triage.priorities)
    return ChaseLimit(
        {p.id: float(p.update_minutes) for p in triage.priorities},
        None,
        policy.sla_clock,
        f"the update interval of the ticket's priority in content/triage.yml, {each}, on {policy.sla_clock} time",
    )


def reach_days(policy: ProgressionFile, chase: ChaseLimit | None) -> int:
    """Calendar days (an upper bound) that the longest threshold can span: a status period or chase that
    started longer than this before the window cannot have its deadline in it."""
    wh = policy.working_hours
    start, end = wh.minutes()
    week = len(set(wh.days)) * max(1, end - start)
    spans = [(duration_minutes(s.threshold, s.clock, wh), s.clock) for s in policy.stages]
    if chase is not None:
        spans.append((chase.longest, chase.clock))
    longest = 0.0
    for m, clock in spans:
        longest = max(longest, m / 1440 if clock == "calendar" else 7 * (m // week + 1))
    return int(longest) + 2


def event_tables(con: Any, policy: ProgressionFile, instant: datetime, window_start: datetime, chase: ChaseLimit | None) -> None:
    """Create ``ae`` and ``pe`` (see the module docstring) for the events before ``instant``.

    Only tickets that can count are read: those with an event after the window's start less the
    longest threshold's reach, and those still open (in their final state, before that)."""
    first = [g.lower() for g in policy.bounces.first_line]
    bstage = policy.bounces.stage
    if first:
        in_first = f"lower(grp) IN ({', '.join(lit(g) for g in first)})"
        prev_in_first = f"lower(prev_grp) IN ({', '.join(lit(g) for g in first)})"
        first_line = f"WHEN {in_first} AND NOT {prev_in_first} THEN 'first-line'"
    else:
        first_line = ""
    rejected = f"WHEN raw_stage = {lit(bstage)} AND prev_raw IS DISTINCT FROM {lit(bstage)} AND step > 1 THEN 'rejected'" if bstage else ""
    bounced = f"handoff IN ({', '.join(lit(b) for b in BOUNCES)})"
    stage = f"CASE WHEN {bounced} AND class IN ('new', 'open') THEN {lit(bstage)} ELSE raw_stage END" if bstage else "raw_stage"
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE ae AS
        WITH m AS (
            SELECT e.id, e.step, e.ts, e.class, e.assignment_group AS grp, e.updated_by_key AS who,
                   coalesce(ps.stage, pd.stage) AS raw_stage
            FROM events e LEFT JOIN pol_status ps ON lower(e.status) = ps.s LEFT JOIN pol_default pd ON e.class = pd.cls
            WHERE e.ts < $1 AND e.id IN (SELECT id FROM tickets WHERE updated_at >= $2 OR class IS NULL OR class NOT IN {DONE})
        ), h AS (
            SELECT *, lag(class) OVER w AS prev_class, lag(grp) OVER w AS prev_grp, lag(raw_stage) OVER w AS prev_raw,
                   min(step) OVER (PARTITION BY id, grp) AS grp_first
            FROM m WINDOW w AS (PARTITION BY id ORDER BY step)
        ), k AS (
            SELECT id, step, ts, class, grp, who, prev_class, raw_stage,
                   CASE WHEN prev_grp IS NOT NULL AND grp IS NOT NULL AND grp <> prev_grp THEN
                            CASE {first_line} WHEN grp_first < step THEN 'back-and-forth' ELSE 'handoff' END
                        {rejected} END AS handoff
            FROM h
        )
        SELECT id, step, ts, class, grp, who, prev_class, handoff, {stage} AS stage FROM k
        """,
        [instant, window_start - timedelta(days=reach_days(policy, chase))],
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE pe AS
        WITH s AS (
            SELECT id, step, ts, stage, grp,
                   step = 1 OR stage IS DISTINCT FROM lag(stage) OVER w OR grp IS DISTINCT FROM lag(grp) OVER w OR {bounced} AS is_start
            FROM ae WINDOW w AS (PARTITION BY id ORDER BY step)
        ), p AS (
            SELECT id, step, ts AS t0, lead(ts) OVER (PARTITION BY id ORDER BY step) AS t1, stage, grp FROM s WHERE is_start
        )
        SELECT p.*, st.thr, st.clock, st.pauses, {clocked("p.t0", "st.clock")} AS c0,
               CASE WHEN p.t1 IS NOT NULL THEN {clocked("p.t1", "st.clock")} END AS c1
        FROM p JOIN pol_stage st USING (stage)
        """
    )
