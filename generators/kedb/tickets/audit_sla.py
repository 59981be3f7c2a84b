"""The SLA timers of ``kedb tickets audit``: where every open ticket stands on its response and resolution timer.

The timers are those of ``content/triage.yml`` for the ticket's priority (P1–P3), counted on the
policy's ``sla_clock`` (calendar or working hours), with the time in stages that pause the SLA
left out (event logs only: a one-row export shows no stages). The *resolution* timer runs from
opening until the ticket is resolved, so it runs for every open ticket. The *response* timer
runs from opening to the first response (the export's first-response time, or in an event log
the first update out of ``new``) and then stops; a first response after the audit's moment has
not happened yet then.

A timer is *at or past* a threshold of ``sla_thresholds`` (:func:`passed`): a running one once
it has used that share of its limit, a stopped one only when it stopped past its whole limit.
A breach stays with the ticket (the playbook keeps it in the daily review until it closes);
the lower thresholds are warnings for a clock that no longer runs. The at-risk figure and list
(the resolution timer from ``sla_at_risk_percent`` up to its limit) and the breached figure are
read from the same positions with the same rule.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from ..core.audits import TIMERS, AtRisk, AuditFigure, SlaTimer, ThresholdCount
from . import audit_flow as F
from . import audit_sql as Q
from . import needs
from .sqlexpr import lit

MAX_AT_RISK = 200
PRIORITIES = ("P1", "P2", "P3")
_TICKET_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.#:-]*$")
RESPONSE = "response_timer"  # its entry in kedb.tickets.needs


def shown_id(tid: str) -> bool:
    """An id that can be listed safely (the stored list's own pattern): others are counted, never listed."""
    return bool(_TICKET_ID.match(tid)) and len(tid) <= 40


def passed(used: float, limit: float, running: bool, pct: float) -> bool:
    """True when a timer that has used ``used`` of ``limit`` minutes is at or past ``pct`` percent of it. A stopped
    timer counts only once it stopped past its whole limit (a breach); see the module docstring."""
    if not running:
        pct = max(pct, 100.0)
    return used >= limit * (pct / 100)


@dataclass(frozen=True)
class Placed:
    """An open ticket with a priority P1–P3 on its two timers, in minutes of the SLA clock."""

    id: str
    priority: str
    stage: str | None
    group: str | None
    age_hours: float  # calendar hours since opening
    response_used: float | None  # None: the export cannot tell when the first response came
    response_limit: float
    responded: bool  # the response timer has stopped
    resolution_used: float
    resolution_limit: float

    def timer(self, name: str) -> tuple[float, float, bool] | None:
        """(used, limit, running) of ``response`` or ``resolution``; None when the export cannot place the ticket on it."""
        if name == "response":
            return None if self.response_used is None else (self.response_used, self.response_limit, not self.responded)
        return self.resolution_used, self.resolution_limit, True

    def used_percent(self, name: str) -> float | None:
        t = self.timer(name)
        return None if t is None else 100.0 * t[0] / t[1]

    def past(self, name: str, pct: float) -> bool:
        t = self.timer(name)
        return t is not None and passed(*t, pct)

    def highest(self, thresholds: tuple[float, ...]) -> float | None:
        """The highest threshold the ticket is at or past on any timer (None: below every one)."""
        hit = [p for p in thresholds if any(self.past(name, p) for name in TIMERS)]
        return max(hit) if hit else None


def response_known(c: F.Ctx) -> bool:
    have = needs.available(c.info.columns, event_log=c.info.event_log, triage=c.kb.program.triage is not None)
    return needs.computable(RESPONSE, have)


def _paused(c: F.Ctx, end: str) -> str:
    """SLA minutes spent in stages that pause the SLA between opening and ``end`` (event logs only)."""
    if not c.info.event_log:
        return "0"
    clock = c.policy.sla_clock
    lo = Q.clock_of(clock, "greatest(pe.t0, op.opened_at)")
    hi = Q.clock_of(clock, f"least(coalesce(pe.t1, $1), {end})")
    return f"coalesce((SELECT sum(greatest(0, {hi} - {lo})) FROM pe WHERE pe.id = op.id AND pe.pauses), 0)"


def place(c: F.Ctx) -> list[Placed]:
    """Every open ticket with a priority P1–P3 on its timers (empty without ``content/triage.yml``)."""
    triage = c.kb.program.triage
    if triage is None:
        return []
    clock = c.policy.sla_clock

    def limit(minutes: dict[str, float]) -> str:
        cases = " ".join(f"WHEN {lit(k.lower())} THEN {v!r}" for k, v in minutes.items())
        return f"CAST(CASE lower(priority) {cases} END AS DOUBLE)"

    res = limit({p.id: p.resolution_hours * 60 for p in triage.priorities})
    resp = limit({p.id: float(p.response_minutes) for p in triage.priorities})
    answered = "least(coalesce(op.fr, $1), $1)"  # the first response, or the moment while none came before it
    opened = Q.clock_of(clock, "op.opened_at")
    rows = c.con.execute(
        f"""SELECT id, upper(priority), stage, grp, epoch($1 - opened_at) / 3600,
                   {res}, {c.now(clock)} - {opened} - {_paused(c, "$1")},
                   {resp}, {Q.clock_of(clock, answered)} - {opened} - {_paused(c, answered)}, coalesce(op.fr < $1, false)
            FROM op WHERE lower(priority) IN ('p1', 'p2', 'p3')""",
        [c.instant],
    ).fetchall()
    known = response_known(c)
    return [
        Placed(i, p, s, g[:400] if g else None, h, ru if known else None, rl, bool(done), used, lim)
        for i, p, s, g, h, lim, used, rl, ru, done in rows
    ]


def _counts(placed: list[Placed], name: str, pct: float) -> ThresholdCount:
    hit = [p for p in placed if p.past(name, pct)]
    return ThresholdCount(percent=pct, tickets=len(hit), by_priority={k: sum(1 for p in hit if p.priority == k) for k in PRIORITIES})


def _scope(c: F.Ctx, known: int, timer: str) -> str:
    clock = "calendar time" if c.policy.sla_clock == "calendar" else "working hours"
    paused = [s.id for s in c.policy.stages if s.pauses_sla]
    pause = f", time in {', '.join(paused)} left out" if paused and c.info.event_log else ""
    if paused and not c.info.event_log:
        pause = "; pauses cannot be seen in a one-row export"
    return f"{known} open tickets with a priority P1–P3 judged against the {timer} timers of content/triage.yml ({clock}{pause})"


def _left(c: F.Ctx, known: int) -> str:
    total = c.one("SELECT count(*) FROM op")[0]
    return f"; {total - known} without such a priority left out." if total > known else "."


def timers(c: F.Ctx, placed: list[Placed]) -> list[SlaTimer]:
    """Each timer with the open tickets at or past each threshold, overall and per priority."""
    if c.kb.program.triage is None:
        why = "n/a: content/triage.yml is missing, so there are no SLA timers."
        return [SlaTimer(timer=t, tickets=None, running=None, basis=why) for t in TIMERS]  # type: ignore[arg-type]
    n = len(placed)
    left = _left(c, n)
    rule = "; at or past a threshold once it has used that share of its limit"
    out = []
    if response_known(c):
        given = {"first_response_at", "first_response_minutes"} & set(c.info.columns)
        how = "the export's first-response time" if given else "the first update out of new in the event log"
        running = sum(1 for p in placed if not p.responded)
        basis = (
            f"{_scope(c, n, 'response')}: a timer runs from opening to the first response ({how}) and stops there{rule}; a "
            f"stopped one only when it stopped past its limit. {running} still running{left}"
        )
        out.append(SlaTimer(timer="response", tickets=n, running=running, basis=basis[:400],
                            thresholds=[_counts(placed, "response", x) for x in c.policy.sla_thresholds]))  # fmt: skip
    else:
        why = f"n/a: the export cannot say when the first response came (it needs {needs.needs_text(RESPONSE)})."
        out.append(SlaTimer(timer="response", tickets=None, running=None, basis=why[:400]))
    basis = f"{_scope(c, n, 'resolution')}: a timer runs from opening until the ticket is resolved, so every one still runs{rule}{left}"
    out.append(SlaTimer(timer="resolution", tickets=n, running=n, basis=basis[:400],
                        thresholds=[_counts(placed, "resolution", x) for x in c.policy.sla_thresholds]))  # fmt: skip
    return out


def at_risk_of(c: F.Ctx, p: Placed) -> bool:
    """At risk: the resolution timer at or past ``sla_at_risk_percent`` and not yet past its limit."""
    return p.past("resolution", c.policy.sla_at_risk_percent) and not p.past("resolution", 100.0)


def figures(c: F.Ctx, placed: list[Placed]) -> list[AuditFigure]:
    """``sla_at_risk`` and ``sla_breached``: the resolution timer, as the audit has always judged it."""
    if c.kb.program.triage is None:
        why = "content/triage.yml has no resolution timers."
        return [F.fig("sla_at_risk", None, "count", 0, why), F.fig("sla_breached", None, "count", 0, why)]
    known = len(placed)
    risk = sum(1 for p in placed if at_risk_of(c, p))
    breached = sum(1 for p in placed if p.past("resolution", 100.0))
    base, left = _scope(c, known, "resolution"), _left(c, known)
    margin = c.policy.sla_at_risk_percent
    return [
        F.fig("sla_at_risk", risk, "count", known, f"{base}: at risk when {margin:g} % or more of the timer is used but not all{left}",
              risk, known),
        F.fig("sla_breached", breached, "count", known, f"{base}: past the whole timer and still open{left}", breached, known),
    ]  # fmt: skip


def most_urgent(placed: list[Placed]) -> list[Placed]:
    """Most of the resolution timer used first, then by id."""
    return sorted(placed, key=lambda p: (-(p.resolution_used / p.resolution_limit), p.id))


def stored_at_risk(c: F.Ctx, placed: list[Placed]) -> tuple[list[AtRisk], int]:
    """The stored at-risk list (at most :data:`MAX_AT_RISK`, ids that can be shown) and how many are at risk in all."""
    risky = [p for p in most_urgent(placed) if at_risk_of(c, p)]
    out = [
        AtRisk(id=p.id, priority=p.priority, stage=p.stage, group=p.group, age_hours=round(p.age_hours, 1),  # type: ignore[arg-type]
               sla_used=round(100.0 * p.resolution_used / p.resolution_limit, 1))
        for p in risky if shown_id(p.id)
    ]  # fmt: skip
    return out[:MAX_AT_RISK], len(risky)


def on_thresholds(c: F.Ctx, placed: list[Placed]) -> tuple[Placed, ...]:
    """Every open ticket at or past the lowest threshold on some timer (ids that can be shown), the highest threshold
    first, then the most of either timer used."""
    thresholds = tuple(c.policy.sla_thresholds)

    def used(p: Placed) -> float:
        return max(u for u in (p.used_percent(t) for t in TIMERS) if u is not None)

    hit = [(p.highest(thresholds), p) for p in placed if shown_id(p.id)]
    return tuple(p for h, p in sorted(((h, p) for h, p in hit if h is not None), key=lambda hp: (-hp[0], -used(hp[1]), hp[1].id)))


def rows_of(placed: list[Placed], keep: Callable[[Placed], bool]) -> list[Placed]:
    """``placed`` most urgent first, those ``keep`` accepts and whose ids can be shown."""
    return [p for p in most_urgent(placed) if keep(p) and shown_id(p.id)]
