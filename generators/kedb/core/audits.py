"""Flow audits: the aggregates ``kedb tickets audit --write`` stores as ``content/audits/YYYY-MM-DD.yml``.

Like the KPI snapshots (:mod:`kedb.core.snapshots`), only figures, counts and how each was computed
enter the repository: no ticket text, no names. The one exception is ``at_risk``: the ids of
open tickets close to breaching their SLA, which the desk must act on. Those ids are internal:
renderers leave ``at_risk`` out of public and tenant editions (:func:`kedb.build.context.shows_ticket_ids`).

This module also holds what every reader needs: the figure names and which way is better
(:data:`FIGURES`), and the before/after comparison of two audits (:func:`compare`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import Field

from . import present
from .records import Date, ShortText, Strict_, TicketId
from .snapshots import Coverage, SnapshotSource, dump_coverage, yaml_scalar

AUDIT_DIR = "content/audits"
Unit = Literal["percent", "count", "days", "hours"]

# id -> (name, unit, better when lower?). The order is the order of every output.
FIGURES: dict[str, tuple[str, Unit, bool]] = {
    "open_tickets": ("Open tickets", "count", True),
    "open_age_median": ("Median age of open tickets", "days", True),
    "sla_at_risk": ("Open tickets at risk of breaching the SLA", "count", True),
    "sla_breached": ("Open tickets past their SLA", "count", True),
    "progression_sla": ("Progression SLA (status periods moved on in time)", "percent", False),
    "stalled": ("Stalled tickets (no update beyond threshold)", "count", True),
    "bounce_rate": ("Bounce rate (handed-off tickets bounced)", "percent", True),
    "bounces": ("Bounces", "count", True),
    "chases": ("Chases by callers", "count", True),
    "chases_answered": ("Chases answered in time", "percent", False),
    "reopen_rate": ("Reopen rate", "percent", True),
}


class AuditFigure(Strict_):
    id: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)] = Field(description="Figure id (see the README's flow audit).")
    value: float | None = Field(description="The figure, in `unit`; null when the export cannot give it (see `basis`).")
    unit: Unit = Field(description="Unit of `value`.")
    numerator: float | None = Field(default=None, description="Top of the fraction, when the figure is one.")
    denominator: float | None = Field(default=None, description="Bottom of the fraction (or the count a median is taken over).")
    tickets: Annotated[int, Field(ge=0)] = Field(description="How many tickets the figure was computed from.")
    basis: ShortText = Field(description="How the figure was computed and what the export could not tell.")


class AgeBucket(Strict_):
    from_days: Annotated[int, Field(ge=0)] = Field(description="Open for at least this many days…")
    to_days: Annotated[int, Field(ge=1)] | None = Field(description="…and fewer than this many (null: no upper bound).")
    tickets: Annotated[int, Field(ge=0)] = Field(description="Open tickets of that age at the audit's moment.")

    @property
    def label(self) -> str:
        return f"≥ {present.days(self.from_days)}" if self.to_days is None else f"{self.from_days}–{present.days(self.to_days)}"


class ProgressionRow(Strict_):
    key: ShortText = Field(description="Stage id, or assignment group name.")
    threshold: ShortText | None = Field(default=None, description="The stage's threshold and clock (stage rows only).")
    periods: Annotated[int, Field(ge=0)] = Field(description="Status periods whose deadline fell in the audit window.")
    within: Annotated[int, Field(ge=0)] = Field(description="Of those, periods that moved on within the threshold.")
    value: float | None = Field(description="within / periods, percent (null without periods).")
    tickets: Annotated[int, Field(ge=0)] = Field(description="Tickets those periods belong to.")
    median_hours: float | None = Field(default=None, description="Median calendar hours in status of the periods that moved on.")


class AtRisk(Strict_):
    id: TicketId = Field(description="Ticket id (internal: left out of public and tenant editions).")
    priority: Literal["P1", "P2", "P3"] = Field(description="Priority whose resolution timer applies.")
    stage: ShortText | None = Field(default=None, description="Stage at the audit's moment.")
    group: ShortText | None = Field(default=None, description="Assignment group at the audit's moment.")
    age_hours: float = Field(description="Calendar hours since the ticket was opened.")
    sla_used: float = Field(description="Percent of the resolution SLA used (paused stages left out).")


class Audit(Strict_):
    """`content/audits/YYYY-MM-DD.yml`: one flow audit, aggregates only (and the at-risk ticket ids)."""

    as_of: Date = Field(description="The audit describes the tickets at the end of this day (the file is named after it).")
    window_days: Annotated[int, Field(ge=1)] = Field(
        description="Days up to `as_of` whose periods, chases, bounces and reopens are judged."
    )
    source: SnapshotSource = Field(description="Where the tickets came from.")
    coverage: Coverage | None = Field(
        default=None,
        description="Set when the export covers only part of the window: its figures count only the tickets of the days covered.",
    )
    policy_sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")] = Field(
        description="SHA-256 of `content/progression.yml` as used, so a comparison can tell when the thresholds changed."
    )
    figures: list[AuditFigure] = Field(description="The headline figures, each with its basis.")
    age_profile: list[AgeBucket] = Field(default_factory=list, description="Open tickets by age.")
    by_stage: list[ProgressionRow] = Field(default_factory=list, description="Progression SLA per stage.")
    by_group: list[ProgressionRow] = Field(default_factory=list, description="Progression SLA per assignment group.")
    at_risk: list[AtRisk] = Field(default_factory=list, description="Open tickets at risk of breaching, most urgent first (internal).")
    at_risk_total: Annotated[int, Field(ge=0)] = Field(default=0, description="At-risk tickets in all (the list is cut at 200).")

    def figure(self, fid: str) -> AuditFigure | None:
        return next((f for f in self.figures if f.id == fid), None)


# ---------------------------------------------------------------- writing
def dump(audit: Audit, command: str) -> str:
    """The audit as YAML, keys in model order, so the same figures give the same bytes."""
    a = audit
    lines = [
        f"# Written by `{command}`: aggregates only (no ticket text, no names).",
        "# at_risk lists ticket ids for the desk: kedb leaves them out of public and tenant editions.",
        "# Do not edit by hand: import a newer export or change content/progression.yml and run the command again.",
        f"as_of: {a.as_of.isoformat()}",
        f"window_days: {a.window_days}",
        "source:",
    ]
    for key, value in a.source.model_dump().items():
        lines.append(f"  {key}: {value.isoformat() if hasattr(value, 'isoformat') else yaml_scalar(value)}")
    if a.coverage is not None:
        lines += dump_coverage(a.coverage)
    lines.append(f"policy_sha256: {yaml_scalar(a.policy_sha256)}")
    for name in ("figures", "age_profile", "by_stage", "by_group", "at_risk"):
        items = getattr(a, name)
        if not items:
            lines.append(f"{name}: []")
            continue
        lines.append(f"{name}:")
        for item in items:
            first = True
            for key, val in item.model_dump().items():
                if key in ("numerator", "denominator") and val is None:
                    continue
                shown = val if key == "unit" else yaml_scalar(val)
                lines.append(f"  {'- ' if first else '  '}{key}: {shown}")
                first = False
    lines.append(f"at_risk_total: {a.at_risk_total}")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- comparing
@dataclass(frozen=True)
class Movement:
    """One figure before and after."""

    id: str
    name: str
    unit: str
    before: float | None
    after: float | None
    lower_is_better: bool
    tickets: tuple[int, int]
    judged: bool = True  # False: a count with no better direction (an age bucket): up or down only

    @property
    def change(self) -> float | None:
        if self.before is None or self.after is None:
            return None
        return round(self.after - self.before, 2)

    @property
    def verdict(self) -> str:
        c = self.change
        if c is None:
            return "not comparable"
        if c == 0:
            return "no change"
        if not self.judged:
            return "up" if c > 0 else "down"
        return "better" if (c < 0) == self.lower_is_better else "worse"


@dataclass(frozen=True)
class Comparison:
    before: Audit
    after: Audit
    figures: list[Movement]
    stages: list[Movement]
    groups: list[Movement]
    ages: list[Movement]
    notes: list[str]


def _rows(a: list[ProgressionRow], b: list[ProgressionRow], what: str) -> list[Movement]:
    old, new = {r.key: r for r in a}, {r.key: r for r in b}
    keys = [r.key for r in b] + [k for k in old if k not in new]
    return [
        Movement(
            k,
            f"{what} {k}",
            "percent",
            old[k].value if k in old else None,
            new[k].value if k in new else None,
            False,
            (old[k].tickets if k in old else 0, new[k].tickets if k in new else 0),
        )
        for k in keys
    ]


def compare(before: Audit, after: Audit) -> Comparison:
    """The movement of each figure from ``before`` to ``after``, and what makes them hard to compare."""
    figs = []
    for fid, (name, unit, lower) in FIGURES.items():
        x, y = before.figure(fid), after.figure(fid)
        if x is None and y is None:
            continue
        figs.append(
            Movement(fid, name, unit, x.value if x else None, y.value if y else None, lower, (x.tickets if x else 0, y.tickets if y else 0))
        )
    ages = []
    old = {(b.from_days, b.to_days): b.tickets for b in before.age_profile}
    for b in after.age_profile:
        ages.append(Movement(b.label, f"Open {b.label}", "count", old.get((b.from_days, b.to_days)), b.tickets, True, (0, 0), False))
    notes = []
    if before.policy_sha256 != after.policy_sha256:
        notes.append(
            "content/progression.yml changed between the two audits: thresholds may differ, so progression figures compare unlike with unlike."
        )
    if before.window_days != after.window_days:
        notes.append(f"The windows differ ({before.window_days} and {after.window_days} days).")
    if before.source.export_sha256 != after.source.export_sha256:
        notes.append("The audits were computed from different exports.")
    if after.as_of < before.as_of:
        notes.append("The 'after' audit is older than the 'before' one.")
    return Comparison(
        before, after, figs, _rows(before.by_stage, after.by_stage, "stage"), _rows(before.by_group, after.by_group, "group"), ages, notes
    )
