"""The flow figures of ``kedb tickets audit`` over the event tables of :mod:`kedb.tickets.audit_sql`.

Progression SLA per stage and group, stalls, bounces, chases and reopens; also the audit's
context (:class:`Ctx`) and the figure helpers the other part (:mod:`kedb.tickets.audit`) uses.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from ..core.audits import AuditFigure, ProgressionRow, percent
from ..core.kb import KB
from ..core.progression import ProgressionFile, clock_minutes
from . import audit_sql as Q
from .store import StoreInfo

MAX_GROUPS = 25
OTHER_GROUPS = "(other groups)"
pct = percent  # every share of the audit rounds the same way (kedb.core.audits.percent)


def fig(
    fid: str, value: float | None, unit: str, tickets: int, basis: str, num: float | None = None, den: float | None = None
) -> AuditFigure:
    return AuditFigure(id=fid, value=value, unit=unit, numerator=num, denominator=den, tickets=tickets, basis=basis[:400])  # type: ignore[arg-type]


@dataclass
class Ctx:
    con: Any
    kb: KB
    info: StoreInfo
    policy: ProgressionFile
    as_of: date
    instant: datetime  # the end of as_of: events before it are seen
    start: datetime  # start of the window

    def one(self, sql: str, params: list[Any] | None = None) -> tuple[Any, ...]:
        return tuple(self.con.execute(sql, params or []).fetchone())

    def now(self, clock: str) -> float:
        return clock_minutes(self.instant, clock, self.policy.working_hours)  # type: ignore[arg-type]

    def window_sql(self, deadline: str, clock_col: str) -> str:
        """``deadline`` (minutes on the clock in ``clock_col``) falls in the window."""
        wh = self.policy.working_hours
        lo = {c: clock_minutes(self.start, c, wh) for c in ("calendar", "working")}  # type: ignore[arg-type]
        hi = {c: self.now(c) for c in ("calendar", "working")}
        pick = "CASE WHEN {col} = 'calendar' THEN {c} ELSE {w} END"
        return (
            f"({deadline} > {pick.format(col=clock_col, c=lo['calendar'], w=lo['working'])} "
            f"AND {deadline} <= {pick.format(col=clock_col, c=hi['calendar'], w=hi['working'])})"
        )

    @property
    def span(self) -> str:
        return f"the {self.policy.window_days} days to {self.as_of}"


# ---------------------------------------------------------------- progression
# periods judged, moved on in time, tickets, median calendar hours in status of those that ended
_ROW = (
    "count(*), count(*) FILTER (WHERE c1 IS NOT NULL AND c1 - c0 <= thr), count(DISTINCT id), "
    "median(epoch(t1 - t0) / 3600) FILTER (WHERE t1 IS NOT NULL)"
)


def _row(key: str, threshold: str | None, n: int, within: int, tickets: int, med: float | None) -> ProgressionRow:
    return ProgressionRow(
        key=key[:400], threshold=threshold, periods=n, within=within, value=pct(within, n), tickets=tickets,
        median_hours=None if med is None else round(med, 2),
    )  # fmt: skip


def progression(c: Ctx) -> tuple[AuditFigure, list[ProgressionRow], list[ProgressionRow]]:
    c.con.execute(f"CREATE OR REPLACE TEMP TABLE pd AS SELECT * FROM pe WHERE {c.window_sql('c0 + thr', 'clock')}")
    n, within, tickets, _ = c.one(f"SELECT {_ROW} FROM pd")
    stages = {r[0]: r[1:] for r in c.con.execute(f"SELECT stage, {_ROW} FROM pd GROUP BY stage").fetchall()}
    by_stage = [_row(s.id, f"{s.threshold} {s.clock}", *stages[s.id]) for s in c.policy.stages if s.id in stages]
    groups = c.con.execute(f"SELECT coalesce(grp, '(no group)') AS g, {_ROW} FROM pd GROUP BY g ORDER BY 2 DESC, g").fetchall()
    by_group = [_row(g, None, *rest) for g, *rest in groups[:MAX_GROUPS]]
    if len(groups) > MAX_GROUPS:
        rest = [g for g, *_ in groups[MAX_GROUPS:]]
        c.con.execute("CREATE OR REPLACE TEMP TABLE rest AS SELECT unnest($1::VARCHAR[]) AS g", [rest])
        other = c.one(f"SELECT {_ROW} FROM pd WHERE coalesce(grp, '(no group)') IN (SELECT g FROM rest)")
        by_group.append(_row(OTHER_GROUPS, None, *other))
    unmapped = c.one("SELECT count(*) FROM ae WHERE class IS NULL")[0]
    basis = (
        f"{n} status periods of {tickets} tickets whose deadline (start + the stage's threshold in content/progression.yml) fell in "
        f"{c.span}; moved on in time when the stage or assignment group changed by the deadline."
    )
    if unmapped:
        basis += f" {unmapped} events without a status class left out."
    return fig("progression_sla", pct(within, n), "percent", tickets, basis, within, n), by_stage, by_group


def stalls(c: Ctx) -> AuditFigure:
    now_w, now_c = c.now("working"), c.now("calendar")
    stalled, known = c.one(
        f"""SELECT count(*) FILTER (WHERE CASE WHEN s.clock = 'calendar' THEN {now_c} ELSE {now_w} END - {Q.clocked("op.last_ts", "s.clock")} > s.thr),
                   count(*) FROM op JOIN pol_stage s USING (stage) WHERE op.last_ts IS NOT NULL"""
    )
    basis = (
        f"{known} open tickets at the end of {c.as_of}; stalled when their last update is older than the threshold of the stage "
        "they are in (any update counts, not only a change of status)."
    )
    return fig("stalled", stalled, "count", known, basis, stalled, known)


def bounces(c: Ctx) -> list[AuditFigure]:
    kinds = ", ".join(Q.lit(b) for b in Q.BOUNCES)
    first, forth, rejected, moved, bounced = c.one(
        f"""SELECT count(*) FILTER (WHERE handoff = 'first-line'), count(*) FILTER (WHERE handoff = 'back-and-forth'),
                   count(*) FILTER (WHERE handoff = 'rejected'), count(DISTINCT id), count(DISTINCT id) FILTER (WHERE handoff IN ({kinds}))
            FROM ae WHERE handoff IS NOT NULL AND ts >= $1""",
        [c.start],
    )
    total = first + forth + rejected
    fl = ", ".join(c.policy.bounces.first_line) or "none named"
    basis = (
        f"In {c.span}: {first} reassignments back to the first line ({fl}) from another group, {forth} back to a group the ticket "
        f"had before, {rejected} into a rejected status."
    )
    rate = (
        f"{moved} tickets handed off (reassigned or rejected) in {c.span}; bounced when at least one hand-off sent the ticket back "
        "(to the first line, to a group it had before, or a rejected status)."
    )
    return [
        fig("bounce_rate", pct(bounced, moved), "percent", moved, rate, bounced, moved),
        fig("bounces", total, "count", bounced, basis),
    ]


def chases(c: Ctx) -> list[AuditFigure]:
    if not ("caller" in c.info.columns and "updated_by" in c.info.columns):
        why = "The export does not say who made each update (updated_by) and who raised the ticket (caller), so chases cannot be seen."
        return [fig("chases", None, "count", 0, why), fig("chases_answered", None, "percent", 0, why)]
    limit = Q.chase_limit(c.policy, c.kb.program.triage)
    clock = limit.clock if limit else "calendar"
    thr = limit.sql("t.priority") if limit else "CAST(NULL AS DOUBLE)"
    c.con.execute(
        f"""CREATE OR REPLACE TEMP TABLE chase AS
        WITH x AS (
            SELECT a.id, a.step, a.ts, a.who, t.caller_key, {thr} AS thr, lag(a.stage) OVER w AS before_stage,
                   lag(a.class) OVER w AS before_class,
                   min(CASE WHEN a.who IS NOT NULL AND a.who <> t.caller_key THEN a.ts END)
                       OVER (PARTITION BY a.id ORDER BY a.step ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING) AS answer
            FROM ae a JOIN tickets t USING (id)
            WHERE a.id IN (SELECT e.id FROM ae e JOIN tickets k USING (id) WHERE e.who = k.caller_key AND e.step > 1)
            WINDOW w AS (PARTITION BY a.id ORDER BY a.step)
        )
        SELECT x.id, x.ts, x.answer, {Q.clock_of(clock, "x.ts")} AS c0,
               CASE WHEN x.answer IS NOT NULL THEN {Q.clock_of(clock, "x.answer")} END AS c1, x.thr
        FROM x JOIN pol_stage s ON s.stage = x.before_stage
        WHERE x.who = x.caller_key AND x.step > 1 AND s.waiting IN ('desk', 'third-party') AND x.before_class NOT IN {Q.DONE}"""
    )
    made, made_t, unjudged = c.one("SELECT count(*), count(DISTINCT id), count(*) FILTER (WHERE thr IS NULL) FROM chase WHERE ts >= $1",
                                    [c.start])  # fmt: skip
    what = "an update by the ticket's own caller (same one-way hash) after it was logged, while it waited on the desk or a third party"
    made_fig = fig("chases", made, "count", made_t, f"Chases made in {c.span}: {what}.")
    if limit is None:
        why = "No answer time: chases.answer_within is not set and content/triage.yml, which gives each priority's update interval, is missing."
        return [made_fig, fig("chases_answered", None, "percent", 0, why)]
    n, within, tickets = c.one(
        "SELECT count(*), count(*) FILTER (WHERE c1 IS NOT NULL AND c1 - c0 <= thr), count(DISTINCT id) FROM chase "
        f"WHERE thr IS NOT NULL AND {c.window_sql('c0 + thr', repr(clock))}"
    )
    basis = (
        f"{n} chases whose answer deadline ({limit.text}) fell in {c.span}; answered in time when someone other than the caller "
        "updated the ticket by then."
    )
    if unjudged:
        basis += f" {unjudged} chases made in the window on tickets without a priority P1–P3 have no deadline and are left out."
    return [made_fig, fig("chases_answered", pct(within, n), "percent", tickets, basis, within, n)]


def reopens(c: Ctx) -> AuditFigure:
    n, reopened = c.one(
        f"""WITH r AS (
                SELECT id, min(step) FILTER (WHERE class IN {Q.RESOLVED} AND (prev_class IS NULL OR prev_class NOT IN {Q.RESOLVED})
                                              AND ts >= $1) AS first_res,
                       max(step) FILTER (WHERE prev_class IN {Q.RESOLVED} AND class IN ('new', 'open', 'pending')) AS last_reopen
                FROM ae GROUP BY id)
            SELECT count(*), count(*) FILTER (WHERE last_reopen > first_res) FROM r WHERE first_res IS NOT NULL""",
        [c.start],
    )
    basis = (
        f"{n} tickets resolved (or closed) in {c.span}; reopened when a later event before the end of {c.as_of} moved them back to "
        "new, open or pending (tickets resolved late in the window have had less time to be reopened)."
    )
    return fig("reopen_rate", pct(reopened, n), "percent", n, basis, reopened, n)


def reopens_from_tickets(c: Ctx) -> AuditFigure:
    n, reopened = c.one(
        "SELECT count(reopen_count), count(*) FILTER (WHERE reopen_count > 0) FROM tickets WHERE done_at >= $1 AND done_at < $2 "
        "AND class IS DISTINCT FROM 'cancelled'",
        [c.start, c.instant],
    )
    basis = (
        f"{n} tickets resolved in {c.span} with a reopen count in the export (one row per ticket: it does not say when a reopen happened)."
    )
    return fig("reopen_rate", pct(reopened, n), "percent", n, basis, reopened, n)
