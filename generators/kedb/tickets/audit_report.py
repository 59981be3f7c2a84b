"""The flow audit as text lines for the terminal (``kedb tickets audit``): the CLI prints them."""

from __future__ import annotations

import textwrap

from ..core import present
from ..core.audits import FIGURES, Audit, Comparison, Movement

SHOWN_AT_RISK = 15
SHOWN_GROUPS = 12


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
    if a.at_risk_total and shown_at_risk:
        out.append(f"at risk of breaching the SLA: {a.at_risk_total:,} (most urgent first, {min(shown_at_risk, len(a.at_risk))} shown)")
        for t in a.at_risk[:shown_at_risk]:
            out.append(
                f"  {t.id:<16} {t.priority}  {t.sla_used:5.1f} % used  {t.age_hours:8.1f} h open  {t.stage or '-'} / {t.group or '-'}"
            )
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
    for n in cmp.notes:
        out.append(f"note: {n}")
    return out
