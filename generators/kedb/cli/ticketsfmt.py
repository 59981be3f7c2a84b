"""How ``kedb kpi`` and ``kedb candidates`` read in a terminal: in the desk lead's terms.

Durations in minutes, hours or days as fits (:func:`kedb.core.present.duration`); each KPI beside
its target and baseline, on track, at risk or missed by the rule every other output uses
(:mod:`kedb.core.standing`, judged as of the month's last day); volume figures named as the site
and the artefacts name them (:data:`kedb.build.facts.VOLUME`); a partial month said first; candidates with their real date range,
up to ten ticket ids and the next step. Ticket ids appear only here, in the terminal of someone
who can read the store, never in a published edition.
"""

from __future__ import annotations

import textwrap
from typing import Any

from ..build.facts import VOLUME
from ..core import present, standing
from ..core.snapshots import KpiSnapshot, KpiValue
from ..tickets.candidates import NONE, Candidate, Report

WIDTH = 110
SHOWN_IDS = 10


def _wrap(text: str, indent: int) -> list[str]:
    return textwrap.wrap(text, WIDTH, initial_indent=" " * indent, subsequent_indent=" " * indent, break_on_hyphens=False)


def value_text(value: float | None, unit: str) -> str:
    """A figure as the terminal shows it: two decimals, durations in the unit that reads best, ``n/a`` when missing."""
    if unit in ("minutes", "hours"):
        return present.duration(value, unit, decimals=2, none="n/a")
    return present.quantity(value, unit, decimals=2, none="n/a")


def judged(v: KpiValue, kpi: Any, kb: Any, period: str) -> str:
    """``target 10 – 25 % lower by 2026-10-30: on track (-37.67 % on the baseline); baseline 20.04 %: better by
    7.55 pp`` (empty for a figure without a definition)."""
    defs = kb.program.kpis
    if kpi is None or defs is None or kpi.unit != v.unit:
        return ""
    cp = defs.checkpoints
    base = standing.baseline_of(kpi, cp, kb.kpi_snapshots)
    judgement = standing.judge(kpi, cp, base, v.value, period)
    head = f"target {standing.target_text(kpi, cp, decimals=2)}"
    if judgement.word == standing.NOT_MEASURED and v.value is not None:
        head += ": not judged (no baseline to improve on)"
    elif judgement.word != standing.NO_TARGET and v.value is not None:
        head += f": {judgement.word}"
        if kpi.target.relative:
            head += f" ({present.relative(base, v.value, decimals=2)} on the baseline)"
    parts = [head]
    if base is not None:
        text = f"baseline {value_text(base, kpi.unit)}"
        word = present.verdict(base, v.value, kpi.lower_is_better)
        if word in ("better", "worse") and v.value is not None:
            moved = abs(v.value - base)
            amount = present.change(moved, "percent", decimals=2).lstrip("+") if kpi.unit == "percent" else value_text(moved, kpi.unit)
            text += f": {word} by {amount}"
        elif word == "no change":
            text += ": no change"
        parts.append(text)
    return "; ".join(parts)


def kpi_lines(kb: Any, snap: KpiSnapshot, info: Any, scope: str | None = None) -> list[str]:
    """The snapshot as the terminal shows it; ``scope`` says whose tickets a tenant's figures count."""
    out = [f"{snap.period}: {info.tickets:,} tickets in the store ({info.system}, opened {info.first} to {info.last})"]
    if scope:
        out += _wrap(f"only {scope}", 2)
    if snap.coverage is not None:
        out += _wrap(
            f"{snap.coverage.text.upper()[:1]}{snap.coverage.text[1:]}: the {'week' if snap.weekly else 'month'}'s ticket figures "
            "count only those days "
            "(the stored basis of each says so too)",
            2,
        )
    said = f"{snap.coverage.text[0].upper()}{snap.coverage.text[1:]}. " if snap.coverage else None
    defs = {k.id: k for k in kb.program.kpis.kpis} if kb.program.kpis else {}
    names = dict(VOLUME)
    for v in snap.values:
        k = defs.get(v.id)
        name = k.name if k else names.get(v.id, v.id.replace("_", " ").capitalize())
        frac = ""
        if v.denominator and v.numerator is None:  # a median or percentile: over how many
            frac = f" (n = {present.number(v.denominator, decimals=2)})"
        elif v.denominator:
            frac = f" ({present.number(v.numerator, decimals=2)} / {present.number(v.denominator, decimals=2)})"
        out.append(f"  {name:<32} {value_text(v.value, v.unit)}{frac}")
        verdict = judged(v, k, kb, snap.period)
        if verdict:
            out += _wrap(verdict, 4)
        out += _wrap(v.basis.removeprefix(said) if said else v.basis, 4)  # the partial month is said once, above
    return out


def _window(c: Candidate) -> str:
    w = c.trigger
    when = f"all opened on {w.first_seen}" if w.first_seen == w.last_seen else f"opened {w.first_seen} to {w.last_seen}"
    return (
        f"rule {w.rule}: {w.tickets:,} tickets {when} (the rule looks {w.window_days} days back), {w.distinct:,} "
        f"{w.distinct_by}; {c.total:,} with this signature in all, {c.first} to {c.last}"
    )


def _ids(c: Candidate) -> str:
    ids = c.trigger.ticket_ids
    shown = ", ".join(ids[-SHOWN_IDS:])
    return f"tickets: {shown}" + (f" (the latest {SHOWN_IDS} of {len(ids):,})" if len(ids) > SHOWN_IDS else "")


def _rejected(c: Candidate, before: bool) -> str:
    """A candidate's standing rejection: who, when, why, and the volume that brings it back."""
    r = c.rejected
    if r is None:
        return ""
    d = r.decision
    now = f"{r.now:,} now" if r.now is not None else "it does not meet that rule now"
    head = f"rejected before, on {d.decided_on} by {d.by}" if before else f"rejected on {d.decided_on} by {d.by}"
    return (
        f"{head}: {d.reason} ({d.volume:,} tickets in the window of rule {d.rule} then, {now}; proposed again at "
        f"{r.again_at:,}{', reached' if r.proposed_again else ''})"
    )


def candidate_lines(rep: Report, next_ids: list[str]) -> list[str]:
    fields = ", ".join(rep.fields) or "no field of content/recurrence.yml"
    head = f"{rep.tickets:,} tickets, {rep.signatures:,} signatures from {fields}"
    if rep.lacking:
        head += f" (not in this export, so empty on every ticket: {', '.join(rep.lacking)})"
    head += f"; {rep.without_signature:,} tickets without any signature part. An empty part is shown as {NONE}."
    out = _wrap(head, 0)
    out.append(f"proposed problem candidates: {len(rep.proposed)}")
    for c in rep.proposed:
        out.append(f"  {c.shown}")
        out += _wrap(_window(c), 4)
        out += _wrap(_ids(c), 4)
        if c.rejected is not None:
            out += _wrap(_rejected(c, before=True), 4)
    if rep.proposed:
        span = next_ids[0] if len(next_ids) == 1 else f"{next_ids[0]} to {next_ids[-1]}"
        out += _wrap(
            f"next: `kedb candidates --write` drafts {span} (status candidate), one per proposed signature, with its figures and "
            "ticket ids; a problem owner confirms the cause, or logs a false positive with `kedb candidates --reject "
            "SIGNATURE --reason …` (content/decisions.yml)",
            0,
        )
    if rep.held_back:
        out.append(f"rejected in content/decisions.yml, not proposed again: {len(rep.held_back)}")
        for c in rep.held_back:
            out.append(f"  {c.shown}")
            out += _wrap(_rejected(c, before=False), 4)
    out.append(f"attached to existing records: {len(rep.attached)}")
    for c in rep.attached:
        w = c.trigger
        out.append(
            f"  {c.signature} → {', '.join(c.covered_by)}: {w.tickets} tickets in {w.window_days} days to {w.last_seen} (rule {w.rule})"
        )
    return out
