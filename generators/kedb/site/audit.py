"""The aged-ticket audit page: the latest flow audit (``content/audits/``) and its movement since the first.

Internal edition only: the page describes how the desk itself works, and lists the tickets at
risk of breaching their SLA (those ids only in the all-tenant edition, as in the register).
The open tickets at or past each threshold of each SLA timer and intake completeness are
counts and shares, shown in every edition that shows the page; an audit stored before kedb
measured them says so instead. Every figure is one ``kedb tickets audit --write`` stored; the
page computes nothing from tickets.
"""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup

from ..build.context import BuildContext, shows_ticket_ids
from ..core.audits import TIMERS, Audit, Comparison, Movement, compare, timer_id
from . import charts


@dataclass(frozen=True)
class TimerLine:
    """One row of the SLA timers table: a timer at one threshold."""

    timer: str
    threshold: str
    tickets: int
    by_priority: dict[str, int]
    movement: Movement | None
    first: bool  # the timer's first row (its name spans its rows)
    rows: int  # how many rows the timer has


@dataclass(frozen=True)
class AuditPage:
    audits: tuple[Audit, ...]
    cmp: Comparison  # first → latest
    ids_shown: bool
    chart: Markup | None
    timer_lines: tuple[TimerLine, ...] = ()
    timers_missing: tuple[tuple[str, str], ...] = ()  # (timer, why) for a timer the export could not give

    @property
    def latest(self) -> Audit:
        return self.audits[-1]

    @property
    def first(self) -> Audit:
        return self.audits[0]

    @property
    def moved(self) -> bool:
        return len(self.audits) > 1


def shown(ctx: BuildContext) -> bool:
    return ctx.info.audience == "internal" and bool(ctx.kb.audits)


def view(ctx: BuildContext) -> AuditPage | None:
    if not shown(ctx):
        return None
    audits = tuple(ctx.kb.audits)
    latest = audits[-1]
    rows = [(r.key, r.value) for r in latest.by_stage]
    chart = charts.bars(rows, f"Status periods moved on in time, per stage, as of {latest.as_of}", "percent") if rows else None
    cmp = compare(audits[0], latest)
    moves = {m.id: m for m in cmp.timers}
    lines, missing = [], []
    for t in latest.sla_timers:
        if t.tickets is None:
            missing.append((TIMERS[t.timer], t.basis))
            continue
        for i, c in enumerate(t.thresholds):
            lines.append(TimerLine(TIMERS[t.timer], f"{c.percent:g} %", c.tickets, dict(c.by_priority), moves.get(timer_id(t.timer, c.percent)),
                                   i == 0, len(t.thresholds)))  # fmt: skip
    return AuditPage(audits, cmp, shows_ticket_ids(ctx), chart, tuple(lines), tuple(missing))
