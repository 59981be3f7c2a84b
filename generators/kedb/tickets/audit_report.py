"""The flow audit as text lines for the terminal (``kedb tickets audit``): the CLI prints them.

Ticket ids appear here, in the terminal of someone who can read the store: the lists of tickets
at or past each threshold of an SLA timer are never stored or published (the stored audit keeps
their counts, and its at-risk list as before).
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from typing import TypeVar

from ..core import present
from ..core.audits import FIGURES, TIMERS, Audit, Comparison, Intake, Movement, SlaTimer
from .audit_sla import PRIORITIES, Placed

SHOWN_AT_RISK = 15
SHOWN_GROUPS = 12
SHOWN_LISTED = 15
T = TypeVar("T")


def num(value: float | None, unit: str = "count") -> str:
    """A figure as the terminal shows it: two decimals, ``n/a`` when missing (:mod:`kedb.core.present`)."""
    return present.quantity(value, unit, decimals=2, none="n/a")


def _wrap(text: str, indent: int = 4) -> list[str]:
    return textwrap.wrap(text, 110, initial_indent=" " * indent, subsequent_indent=" " * indent)


def report(a: Audit, shown_at_risk: int = SHOWN_AT_RISK) -> list[str]:
    """The audit's lines; ``shown_at_risk`` at-risk tickets are listed (0: the caller lists them)."""
    s = a.source
    out = [
        f"flow audit at the end of {a.as_of} (window: {a.window_days} days); {s.tickets:,} tickets in the store "
        f"({s.system}, opened {s.first} to {s.last})"
    ]
    if a.coverage is not None:
        out += _wrap(f"{a.coverage.text[0].upper()}{a.coverage.text[1:]} of the window: its figures count only those days", 2)
    said = f"{a.coverage.text[0].upper()}{a.coverage.text[1:]} of the window. " if a.coverage else None
    for f in a.figures:
        name = FIGURES.get(f.id, (f.id,))[0]
        frac = f" ({num(f.numerator)} / {num(f.denominator)})" if f.denominator is not None and f.numerator is not None else ""
        out.append(f"  {name:<52} {num(f.value, f.unit)}{frac}   [{f.tickets:,} tickets]")
        out += _wrap(f.basis.removeprefix(said) if said else f.basis)  # a partial window is said once, above
    out.append("open tickets by age: " + ", ".join(f"{b.label}: {b.tickets:,}" for b in a.age_profile))
    if a.by_stage:
        out.append("progression by stage (periods whose deadline fell in the window):")
        out.append(f"  {'stage':<24} {'threshold':<16} {'periods':>8} {'in time':>8} {'share':>8} {'median h':>9} {'tickets':>8}")
        for r in a.by_stage:
            out.append(
                f"  {r.key:<24} {r.threshold or '':<16} {r.periods:>8,} {r.within:>8,} {num(r.value, 'percent'):>8} "
                f"{num(r.median_hours):>9} {r.tickets:>8,}"
            )
    if a.by_group:
        out.append(f"progression by assignment group ({min(len(a.by_group), SHOWN_GROUPS)} of {len(a.by_group)} shown):")
        for r in a.by_group[:SHOWN_GROUPS]:
            out.append(f"  {r.key[:40]:<40} {r.periods:>8,} periods {num(r.value, 'percent'):>8} in time   [{r.tickets:,} tickets]")
    out += timers(a.sla_timers)
    if a.intake is not None:
        out += intake(a.intake, a.window_days, a.as_of.isoformat())
    if a.at_risk_total and shown_at_risk:
        out.append(f"at risk of breaching the SLA: {a.at_risk_total:,} (most urgent first, {min(shown_at_risk, len(a.at_risk))} shown)")
        for t in a.at_risk[:shown_at_risk]:
            out.append(
                f"  {t.id:<16} {t.priority}  {t.sla_used:5.1f} % used  {t.age_hours:8.1f} h open  {t.stage or '-'} / {t.group or '-'}"
            )
    return out


def timers(rows: list[SlaTimer]) -> list[str]:
    """Open tickets at or past each threshold of each SLA timer, overall and per priority."""
    if not rows:
        return []
    pcts = list(dict.fromkeys(c.percent for t in rows for c in t.thresholds))
    out = ["SLA timers (content/triage.yml): open tickets at or past each share of the timer used"]
    out.append(f"  {'timer':<12} {'tickets':>8} {'running':>8}" + "".join(f"{f'{x:g} %':>9}" for x in pcts))
    for t in rows:
        name = TIMERS[t.timer]
        if t.tickets is None:
            out += _wrap(f"{name}: {t.basis}", 2)
            continue
        counts = {c.percent: c for c in t.thresholds}
        out.append(f"  {name:<12} {t.tickets:>8,} {t.running or 0:>8,}" + "".join(f"{counts[x].tickets:>9,}" for x in pcts))
        for k in PRIORITIES:
            out.append(f"    {k:<10} {'':>8} {'':>8}" + "".join(f"{counts[x].by_priority.get(k, 0):>9,}" for x in pcts))  # type: ignore[call-overload]
        out += _wrap(t.basis)
    return out


def intake(i: Intake, window_days: int, as_of: str) -> list[str]:
    """Share of the tickets opened in the window with each mandatory intake field filled, overall and per first group."""
    out = [f"intake completeness: {i.tickets:,} tickets opened in the {window_days} days to {as_of} (content/triage.yml intake_fields)"]
    for f in i.fields:
        frac = f" ({f.filled:,} / {i.tickets:,})" if f.filled is not None and i.tickets else ""
        out.append(f"  {f.field:<18} {f.reads(i.tickets, decimals=2)}{frac}")
    out += _wrap(i.basis)
    cols = i.carried
    if i.by_group and cols:
        widths = [max(len(c), 8) for c in cols]
        out.append(f"intake by first assignment group ({min(len(i.by_group), SHOWN_GROUPS)} of {len(i.by_group)} shown):")
        out.append(f"  {'group':<32} {'tickets':>8}" + "".join(f" {c:>{w}}" for c, w in zip(cols, widths, strict=True)))
        for g in i.by_group[:SHOWN_GROUPS]:
            cells = "".join(f" {num(g.share(c), 'percent'):>{w}}" for c, w in zip(cols, widths, strict=True))
            out.append(f"  {g.key[:32]:<32} {g.tickets:>8,}{cells}")
    return out


def cut(title: str, items: Sequence[T], show_all: bool) -> tuple[str, Sequence[T]]:
    """A list's title line with its count, and the items shown: the first 15 unless ``show_all``."""
    shown = items if show_all else items[:SHOWN_LISTED]
    more = "" if len(shown) == len(items) else f", {len(shown)} shown: --all lists every one"
    return f"{title}: {len(items):,}{more}", shown


def _timer_cell(p: Placed, name: str) -> str:
    used = p.used_percent(name)
    if used is None:
        return f"{name} n/a"
    stopped = " answered" if name == "response" and p.responded else ""
    return f"{name} {used:6.1f} %{stopped}"


def on_thresholds(placed: Sequence[Placed], thresholds: Sequence[float], show_all: bool) -> list[str]:
    """The tickets at or past each threshold, each under the highest it reached on any timer, with both timers' use."""
    out: list[str] = []
    for pct in sorted(thresholds, reverse=True):
        items = [p for p in placed if p.highest(tuple(thresholds)) == pct]
        if not items:
            continue
        title, shown = cut(f"at or past {pct:g} % of an SLA timer (the highest threshold reached; most used first)", items, show_all)
        out.append(title)
        for p in shown:
            cells = "  ".join(_timer_cell(p, t) for t in TIMERS)
            out.append(f"  {p.id:<16} {p.priority:<3} {cells}  {p.age_hours:8.1f} h open  {p.stage or '-'} / {p.group or '-'}")
    return out


def _move(m: Movement, width: int = 52) -> str:
    change = present.change(m.change, m.unit, decimals=2, none="n/a")
    return f"  {m.name[:width]:<{width}} {num(m.before, m.unit):>10} → {num(m.after, m.unit):<10} {change:>10}  {m.verdict}"


def comparison(cmp: Comparison) -> list[str]:
    a, b = cmp.before, cmp.after
    out = [f"flow audit {a.as_of} → {b.as_of} (windows of {a.window_days} and {b.window_days} days)"]
    out += [_move(m) for m in cmp.figures]
    if cmp.stages:
        out.append("progression by stage (share of periods moved on in time):")
        out += [_move(m) for m in cmp.stages]
    if cmp.groups:
        out.append("progression by assignment group:")
        out += [_move(m) for m in cmp.groups[:SHOWN_GROUPS]]
    if cmp.ages:
        out.append("open tickets by age:")
        out += [_move(m) for m in cmp.ages]
    if cmp.timers:
        out.append("SLA timers (open tickets at or past each threshold):")
        out += [_move(m) for m in cmp.timers]
    if cmp.intake:
        out.append("intake completeness (share of the tickets opened in the window):")
        out += [_move(m) for m in cmp.intake]
    for n in cmp.notes:
        out.append(f"note: {n}")
    return out
