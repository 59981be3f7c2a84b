"""``kedb tickets audit``: the flow audit of the imported tickets at the end of one day.

The audit's *moment* is the end of ``--as-of`` (default: the day of the latest event in the
store, so an export audited later does not make every ticket look older than it was). Only
events before that moment are read: the audit shows the desk as it was then. Judgements that
take time (did a status period move on within its threshold? was a chase answered in time?)
are made for the periods and chases whose *deadline* fell in the window of
``window_days`` up to the moment: each of those is decided, so recent fast moves and recent
slow ones count alike. Every figure carries its numerator, denominator, the number of tickets
it comes from and a ``basis`` sentence; a figure the export cannot give is ``null`` with the
reason. The README ("Flow audit") lists every definition.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from ..audits import AgeBucket, AtRisk, Audit, AuditFigure, ProgressionRow
from ..errors import UsageError
from ..kb import KB
from ..progression import ProgressionFile, clock_minutes
from ..snapshots import SnapshotSource
from . import audit_sql as Q
from .store import StoreInfo

MAX_AT_RISK = 200
MAX_GROUPS = 25
OTHER_GROUPS = "(other groups)"
_TICKET_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.#:-]*$")


def _pct(num: float, den: float) -> float | None:
    return round(100.0 * num / den, 2) if den else None


def _fig(
    fid: str, value: float | None, unit: str, tickets: int, basis: str, num: float | None = None, den: float | None = None
) -> AuditFigure:
    return AuditFigure(id=fid, value=value, unit=unit, numerator=num, denominator=den, tickets=tickets, basis=basis[:400])  # type: ignore[arg-type]


def latest_event_day(con: Any) -> date | None:
    day = con.execute("SELECT max(ts)::DATE FROM events").fetchone()[0]
    return day


@dataclass
class _Ctx:
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


def resolve_as_of(con: Any, info: StoreInfo, as_of: date | None) -> date:
    last = latest_event_day(con)
    if last is None or info.first is None:
        raise UsageError("the ticket store holds no tickets: import an export first")
    if as_of is None:
        return last
    if as_of > last:
        raise UsageError(
            f"--as-of {as_of} is after the latest event in the store ({last}): the export cannot say what happened since; "
            "import a newer export or choose an earlier date"
        )
    if as_of < info.first:
        raise UsageError(f"--as-of {as_of} is before the first ticket in the store was opened ({info.first})")
    return as_of


def compute(con: Any, kb: KB, info: StoreInfo, as_of: date | None = None) -> Audit:
    """The audit at the end of ``as_of`` (default: the day of the latest event in the store)."""
    policy = kb.program.progression
    if policy is None:
        raise UsageError("content/progression.yml is missing or invalid: the audit needs a progression policy (run `kedb check`)")
    day = resolve_as_of(con, info, as_of)
    instant = datetime.combine(day + timedelta(days=1), datetime.min.time())
    c = _Ctx(con, kb, info, policy, day, instant, instant - timedelta(days=policy.window_days))
    Q.policy_tables(con, policy, info.system)
    if info.event_log:
        Q.event_tables(con, policy, instant)
        open_sql = _open_from_events(c)
    else:
        open_sql = _open_from_tickets()
    con.execute(f"CREATE OR REPLACE TEMP TABLE op AS {open_sql}", [instant])
    figures = [*_open_figures(c), *_sla(c)]
    by_stage: list[ProgressionRow] = []
    by_group: list[ProgressionRow] = []
    if info.event_log:
        prog, by_stage, by_group = _progression(c)
        figures += [prog, _stalls(c), *_bounces(c), *_chases(c), _reopens(c)]
    else:
        why = "The export has one row per ticket: it holds no status history, so periods, stalls, bounces and chases cannot be seen."
        figures += [_fig(f, None, u, 0, why) for f, u in (("progression_sla", "percent"), ("stalled", "count"), ("bounce_rate", "percent"),
                                                          ("bounces", "count"), ("chases", "count"), ("chases_answered", "percent"))]  # fmt: skip
        figures.append(_reopens_from_tickets(c))
    at_risk, total = _at_risk(c)
    return Audit(
        as_of=day,
        window_days=policy.window_days,
        source=SnapshotSource(
            system=info.system,  # type: ignore[arg-type]
            tickets=info.tickets,
            first=info.first,
            last=info.last,
            export_sha256=info.export_sha256,
        ),
        policy_sha256=kb.program.sources["progression.yml"].sha256,
        figures=figures,
        age_profile=_ages(c),
        by_stage=by_stage,
        by_group=by_group,
        at_risk=at_risk,
        at_risk_total=total,
    )


# ---------------------------------------------------------------- open tickets
def _open_from_events(c: _Ctx) -> str:
    """Open tickets at the moment: their state is that of their last event before it (the export's
    final state when no event precedes it); resolved, closed and cancelled tickets are not open."""
    return f"""
        WITH cur AS (SELECT id, arg_max(class, step) AS class, arg_max(stage, step) AS stage, arg_max(grp, step) AS grp,
                            max(ts) AS last_ts FROM ae GROUP BY id)
        SELECT t.id, t.opened_at, t.priority, cur.stage, cur.grp, cur.last_ts
        FROM tickets t LEFT JOIN cur USING (id)
        WHERE t.opened_at < $1 AND CASE WHEN cur.class IS NOT NULL THEN cur.class NOT IN {Q.DONE}
                                       ELSE t.done_at IS NULL OR t.done_at >= $1 END
    """


def _open_from_tickets() -> str:
    return f"""
        SELECT id, opened_at, priority, CAST(NULL AS VARCHAR) AS stage, assignment_group AS grp, CAST(NULL AS TIMESTAMP) AS last_ts
        FROM tickets WHERE opened_at < $1 AND (done_at IS NULL OR done_at >= $1)
              AND (class IS NULL OR class NOT IN {Q.DONE} OR done_at >= $1)
    """


def _open_figures(c: _Ctx) -> list[AuditFigure]:
    n, median = c.one("SELECT count(*), median(epoch($1 - opened_at) / 86400) FROM op", [c.instant])
    how = "their last event before then" if c.info.event_log else "their resolved/closed time (one row per ticket)"
    return [
        _fig(
            "open_tickets",
            n,
            "count",
            n,
            f"Tickets opened before the end of {c.as_of} and not resolved, closed or cancelled then, by {how}.",
        ),
        _fig(
            "open_age_median",
            None if median is None else round(median, 2),
            "days",
            n,
            f"Median calendar days from opening to the end of {c.as_of} over the {n} open tickets.",
            den=n,
        ),
    ]


def _ages(c: _Ctx) -> list[AgeBucket]:
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


def _sla_table(c: _Ctx) -> str | None:
    """``sla``: open tickets with a P1–P3 priority, their limit and the SLA minutes used (paused stages left out)."""
    triage = c.kb.program.triage
    if triage is None:
        return None
    clock = c.policy.sla_clock
    limits = " ".join(f"WHEN {Q.lit(p.id.lower())} THEN {p.resolution_hours * 60}" for p in triage.priorities)
    paused = "0"
    if c.info.event_log:
        paused = f"""coalesce((SELECT sum({Q.clock_of(clock, "coalesce(pe.t1, $1)")} - {Q.clock_of(clock, "greatest(pe.t0, op.opened_at)")})
                               FROM pe WHERE pe.id = op.id AND pe.pauses), 0)"""
    return f"""
        SELECT id, upper(priority) AS priority, stage, grp, opened_at, CASE lower(priority) {limits} END AS lim,
               {c.now(clock)} - {Q.clock_of(clock, "opened_at")} - {paused} AS used
        FROM op WHERE lower(priority) IN ('p1', 'p2', 'p3')
    """


def _sla(c: _Ctx) -> list[AuditFigure]:
    sql = _sla_table(c)
    if sql is None:
        why = "content/triage.yml has no resolution timers."
        return [_fig("sla_at_risk", None, "count", 0, why), _fig("sla_breached", None, "count", 0, why)]
    c.con.execute(f"CREATE OR REPLACE TEMP TABLE sla AS {sql}", [c.instant])
    margin = c.policy.sla_at_risk_percent
    risk, breached, known, total = c.one(
        f"SELECT count(*) FILTER (WHERE used >= lim * {margin / 100} AND used < lim), count(*) FILTER (WHERE used >= lim), "
        "(SELECT count(*) FROM sla), (SELECT count(*) FROM op) FROM sla"
    )
    clock = "calendar time" if c.policy.sla_clock == "calendar" else "working hours"
    paused = [s.id for s in c.policy.stages if s.pauses_sla]
    pause = f", time in {', '.join(paused)} left out" if paused and c.info.event_log else ""
    if paused and not c.info.event_log:
        pause = "; pauses cannot be seen in a one-row export"
    base = f"{known} open tickets with a priority P1–P3 judged against the resolution timers of content/triage.yml ({clock}{pause})"
    left = f"; {total - known} without such a priority left out." if total > known else "."
    return [
        _fig(
            "sla_at_risk",
            risk,
            "count",
            known,
            f"{base}: at risk when {margin:g} % or more of the timer is used but not all{left}",
            risk,
            known,
        ),
        _fig("sla_breached", breached, "count", known, f"{base}: past the whole timer and still open{left}", breached, known),
    ]


def _at_risk(c: _Ctx) -> tuple[list[AtRisk], int]:
    if c.kb.program.triage is None:
        return [], 0
    margin = c.policy.sla_at_risk_percent / 100
    rows = c.con.execute(
        f"SELECT id, priority, stage, grp, epoch($1 - opened_at) / 3600, 100.0 * used / lim FROM sla "
        f"WHERE used >= lim * {margin} AND used < lim ORDER BY used / lim DESC, id",
        [c.instant],
    ).fetchall()
    out = [
        AtRisk(id=i, priority=p, stage=s, group=(g[:400] if g else None), age_hours=round(h, 1), sla_used=round(u, 1))
        for i, p, s, g, h, u in rows
        if _TICKET_ID.match(i) and len(i) <= 40
    ]
    return out[:MAX_AT_RISK], len(rows)


# ---------------------------------------------------------------- progression
_ROW = "count(*), count(*) FILTER (WHERE c1 IS NOT NULL AND c1 - c0 <= thr), count(DISTINCT id), median(epoch(t1 - t0) / 3600) FILTER (WHERE t1 IS NOT NULL)"


def _row(key: str, threshold: str | None, n: int, within: int, tickets: int, med: float | None) -> ProgressionRow:
    return ProgressionRow(
        key=key[:400], threshold=threshold, periods=n, within=within, value=_pct(within, n), tickets=tickets,
        median_hours=None if med is None else round(med, 2),
    )  # fmt: skip


def _progression(c: _Ctx) -> tuple[AuditFigure, list[ProgressionRow], list[ProgressionRow]]:
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
    fig = _fig("progression_sla", _pct(within, n), "percent", tickets, basis, within, n)
    return fig, by_stage, by_group


def _stalls(c: _Ctx) -> AuditFigure:
    now_w, now_c = c.now("working"), c.now("calendar")
    stalled, known = c.one(
        f"""SELECT count(*) FILTER (WHERE CASE WHEN s.clock = 'calendar' THEN {now_c} ELSE {now_w} END - {Q.clocked("op.last_ts", "s.clock")} > s.thr),
                   count(*) FROM op JOIN pol_stage s USING (stage) WHERE op.last_ts IS NOT NULL"""
    )
    basis = (
        f"{known} open tickets at the end of {c.as_of}; stalled when their last update is older than the threshold of the stage "
        "they are in (any update counts, not only a change of status)."
    )
    return _fig("stalled", stalled, "count", known, basis, stalled, known)


def _bounces(c: _Ctx) -> list[AuditFigure]:
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
        _fig("bounce_rate", _pct(bounced, moved), "percent", moved, rate, bounced, moved),
        _fig("bounces", total, "count", bounced, basis),
    ]


def _chases(c: _Ctx) -> list[AuditFigure]:
    if not ("caller" in c.info.columns and "updated_by" in c.info.columns):
        why = "The export does not say who made each update (updated_by) and who raised the ticket (caller), so chases cannot be seen."
        return [_fig("chases", None, "count", 0, why), _fig("chases_answered", None, "percent", 0, why)]
    ch = c.policy.chases
    from ..progression import duration_minutes

    thr = duration_minutes(ch.answer_within, ch.clock, c.policy.working_hours)
    c.con.execute(
        f"""CREATE OR REPLACE TEMP TABLE chase AS
        WITH x AS (
            SELECT a.id, a.step, a.ts, a.who, t.caller_key, lag(a.stage) OVER w AS before_stage, lag(a.class) OVER w AS before_class,
                   min(CASE WHEN a.who IS NOT NULL AND a.who <> t.caller_key THEN a.ts END)
                       OVER (PARTITION BY a.id ORDER BY a.step ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING) AS answer
            FROM ae a JOIN tickets t USING (id)
            WHERE a.id IN (SELECT e.id FROM ae e JOIN tickets k USING (id) WHERE e.who = k.caller_key AND e.step > 1)
            WINDOW w AS (PARTITION BY a.id ORDER BY a.step)
        )
        SELECT x.id, x.ts, x.answer, {Q.clock_of(ch.clock, "x.ts")} AS c0,
               CASE WHEN x.answer IS NOT NULL THEN {Q.clock_of(ch.clock, "x.answer")} END AS c1
        FROM x JOIN pol_stage s ON s.stage = x.before_stage
        WHERE x.who = x.caller_key AND x.step > 1 AND s.waiting IN ('desk', 'third-party') AND x.before_class NOT IN {Q.DONE}"""
    )
    made, made_t = c.one("SELECT count(*), count(DISTINCT id) FROM chase WHERE ts >= $1", [c.start])
    clock = f"'{ch.clock}'"
    n, within, tickets = c.one(
        f"SELECT count(*), count(*) FILTER (WHERE c1 IS NOT NULL AND c1 - c0 <= {thr}), count(DISTINCT id) FROM chase "
        f"WHERE {c.window_sql(f'c0 + {thr}', clock)}"
    )
    what = "an update by the ticket's own caller (same one-way hash) after it was logged, while it waited on the desk or a third party"
    return [
        _fig("chases", made, "count", made_t, f"Chases made in {c.span}: {what}."),
        _fig(
            "chases_answered",
            _pct(within, n),
            "percent",
            tickets,
            f"{n} chases whose answer deadline ({ch.answer_within} {ch.clock}) fell in {c.span}; answered in time when someone other "
            "than the caller updated the ticket by then.",
            within,
            n,
        ),
    ]


def _reopens(c: _Ctx) -> AuditFigure:
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
    return _fig("reopen_rate", _pct(reopened, n), "percent", n, basis, reopened, n)


def _reopens_from_tickets(c: _Ctx) -> AuditFigure:
    n, reopened = c.one(
        "SELECT count(reopen_count), count(*) FILTER (WHERE reopen_count > 0) FROM tickets WHERE done_at >= $1 AND done_at < $2 "
        "AND class IS DISTINCT FROM 'cancelled'",
        [c.start, c.instant],
    )
    basis = (
        f"{n} tickets resolved in {c.span} with a reopen count in the export (one row per ticket: it does not say when a reopen happened)."
    )
    return _fig("reopen_rate", _pct(reopened, n), "percent", n, basis, reopened, n)
