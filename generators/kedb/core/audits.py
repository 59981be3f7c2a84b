"""Flow audits: the aggregates ``kedb tickets audit --write`` stores as ``content/audits/YYYY-MM-DD.yml``.

Like the KPI snapshots (:mod:`kedb.core.snapshots`), only figures, counts and how each was computed
enter the repository: no ticket text, no names. The one exception is ``at_risk``: the ids of
open tickets close to breaching their SLA, which the desk must act on. Those ids are internal:
renderers leave ``at_risk`` out of public and tenant editions (:func:`kedb.build.context.shows_ticket_ids`).
The position of the open tickets on each SLA timer (``sla_timers``) and the completeness of
intake (``intake``) are stored as counts only; audits written before kedb measured them load
without them.

This module also holds what every reader needs: the figure names and which way is better
(:data:`FIGURES`), how an intake share reads (:meth:`IntakeShare.reads`), and the before/after
comparison of two audits (:func:`compare`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from pydantic import Field

from . import present
from .program import IntakeField
from .records import Date, Priority, ShortText, Strict_, TicketId
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
Timer = Literal["response", "resolution"]
# The SLA timers of content/triage.yml, in the order of every output.
TIMERS: dict[Timer, str] = {"response": "Response", "resolution": "Resolution"}
NO_GROUP = "(no group)"


def timer_id(timer: str, pct: float) -> str:
    """The id of one timer at one threshold (``resolution_80``), as comparisons name it."""
    return f"{timer}_{pct:g}"


def percent(num: float, den: float) -> float | None:
    """``num / den`` in percent, two decimals; None without a denominator (every share the audit stores)."""
    return round(100.0 * num / den, 2) if den else None


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


class ThresholdCount(Strict_):
    percent: Annotated[float, Field(gt=0, le=100)] = Field(description="Share of the timer used, in percent (`sla_thresholds`).")
    tickets: Annotated[int, Field(ge=0)] = Field(
        description="Open tickets at or past it: a running timer once it has used that share, a stopped one (the response "
        "given) only when it stopped past its whole limit."
    )
    by_priority: dict[Priority, Annotated[int, Field(ge=0)]] = Field(description="The same count per priority.")


class SlaTimer(Strict_):
    timer: Timer = Field(description="`response` (opening to the first response) or `resolution` (opening to resolution).")
    tickets: Annotated[int, Field(ge=0)] | None = Field(
        description="Open tickets with a priority P1–P3 placed on the timer; null when the export cannot place them (see `basis`)."
    )
    running: Annotated[int, Field(ge=0)] | None = Field(description="Of them, those whose timer was still running at the moment.")
    basis: ShortText = Field(description="How the positions were computed, or why the export cannot give them.")
    thresholds: list[ThresholdCount] = Field(default_factory=list, description="Open tickets at or past each threshold.")

    def at(self, pct: float) -> ThresholdCount | None:
        return next((t for t in self.thresholds if t.percent == pct), None)


def _absent(name: str) -> str:
    return f"n/a: the export has no {name}"


class IntakeShare(Strict_):
    field: IntakeField = Field(description="A mandatory intake field (`intake_fields` in `content/triage.yml`).")
    filled: Annotated[int, Field(ge=0)] | None = Field(
        description="Tickets with the field filled; null when the export has no such field at all."
    )
    value: float | None = Field(description="filled / tickets, percent (null when the export has no such field or no tickets).")

    def reads(self, tickets: int, *, decimals: int = 1) -> str:
        """The share as every output shows it; ``n/a: the export has no <field>`` when the export does not carry it."""
        if self.filled is None:
            return _absent(self.field)
        if not tickets:
            return "n/a: no ticket was opened in the window"
        return present.quantity(self.value, "percent", decimals=decimals)


class IntakeGroup(Strict_):
    key: ShortText = Field(description="Assignment group the ticket was first assigned to (the team that took it in).")
    tickets: Annotated[int, Field(ge=0)] = Field(description="Tickets opened in the window first assigned to it.")
    filled: dict[IntakeField, Annotated[int, Field(ge=0)]] = Field(
        description="Per mandatory field the export carries: its tickets with the field filled."
    )

    def share(self, name: str) -> float | None:
        n = self.filled.get(name)  # type: ignore[call-overload]
        return None if n is None else percent(n, self.tickets)

    def reads(self, name: str, *, decimals: int = 1) -> str:
        if name not in self.filled:
            return _absent(name)
        return present.quantity(self.share(name), "percent", decimals=decimals)


class Intake(Strict_):
    tickets: Annotated[int, Field(ge=0)] = Field(description="Tickets opened in the audit window.")
    basis: ShortText = Field(description="How completeness was measured.")
    fields: list[IntakeShare] = Field(description="Each mandatory field: how many of those tickets have it filled.")
    by_group: list[IntakeGroup] = Field(
        default_factory=list, description="The same per assignment group (the 25 with most tickets, the rest together)."
    )

    @property
    def carried(self) -> list[str]:
        """The mandatory fields the export carries (the columns of the per-group table)."""
        return [f.field for f in self.fields if f.filled is not None]


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
    triage_sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")] | None = Field(
        default=None,
        description="SHA-256 of `content/triage.yml` as used (timers, update intervals, intake fields); null without one.",
    )
    sla_timers: list[SlaTimer] = Field(
        default_factory=list,
        description="The open tickets' position on each SLA timer against `sla_thresholds` (empty in audits written before).",
    )
    intake: Intake | None = Field(
        default=None,
        description="Completeness of the mandatory intake fields over the tickets opened in the window (null in audits "
        "written before, or without `content/triage.yml`).",
    )

    def figure(self, fid: str) -> AuditFigure | None:
        return next((f for f in self.figures if f.id == fid), None)

    def timer(self, name: str) -> SlaTimer | None:
        return next((t for t in self.sla_timers if t.timer == name), None)


# ---------------------------------------------------------------- writing
def dump(audit: Audit, command: str) -> str:
    """The audit as YAML, keys in model order, so the same figures give the same bytes."""
    a = audit
    lines = [
        f"# Written by `{command}`: aggregates only (no ticket text, no names).",
        "# at_risk lists ticket ids for the desk: kedb leaves them out of public and tenant editions.",
        "# Do not edit by hand: import a newer export or change content/progression.yml or content/triage.yml and run the command again.",
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
    lines.append(f"triage_sha256: {yaml_scalar(a.triage_sha256)}")
    lines += _block("sla_timers", [t.model_dump() for t in a.sla_timers], 0)
    lines += _block("intake", None if a.intake is None else a.intake.model_dump(), 0)
    return "\n".join(lines) + "\n"


def _block(key: str, value: Any, indent: int) -> list[str]:
    """``key: value`` as block YAML, nested mappings and lists of mappings included, keys in model order; a mapping of
    numbers (counts per priority or per field: plain keys) on one line."""
    pad = " " * indent
    if isinstance(value, dict) and value and all(isinstance(v, int | float) for v in value.values()):
        return [f"{pad}{key}: {{{', '.join(f'{k}: {yaml_scalar(v)}' for k, v in value.items())}}}"]
    if isinstance(value, dict) and value:
        return [f"{pad}{key}:", *(line for k, v in value.items() for line in _block(k, v, indent + 2))]
    if isinstance(value, list) and value:
        out = [f"{pad}{key}:"]
        for item in value:
            inner = [line for k, v in item.items() for line in _block(k, v, indent + 4)]
            out += [f"{pad}  - {inner[0].lstrip()}", *inner[1:]]
        return out
    if isinstance(value, dict | list):
        return [f"{pad}{key}: {'{}' if isinstance(value, dict) else '[]'}"]
    return [f"{pad}{key}: {yaml_scalar(value)}"]


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
    timers: list[Movement] = field(default_factory=list)  # open tickets at or past each threshold of each timer
    intake: list[Movement] = field(default_factory=list)  # share filled of each mandatory intake field


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


def _timers(before: Audit, after: Audit) -> list[Movement]:
    """Each timer × threshold of either audit; a side without it (an older audit, an export without the timer) is None."""

    def count(a: Audit, timer: str, pct: float) -> tuple[float | None, int]:
        t = a.timer(timer)
        c = t.at(pct) if t is not None else None
        return (None, 0) if c is None or t is None else (float(c.tickets), t.tickets or 0)

    keys = list(dict.fromkeys((t.timer, c.percent) for a in (after, before) for t in a.sla_timers for c in t.thresholds))
    keys.sort(key=lambda k: (list(TIMERS).index(k[0]), k[1]))
    out = []
    for timer, pct in keys:
        (x, nx), (y, ny) = count(before, timer, pct), count(after, timer, pct)
        name = f"{TIMERS[timer]} timer: at or past {pct:g} %"  # type: ignore[index]
        out.append(Movement(timer_id(timer, pct), name, "count", x, y, True, (nx, ny)))
    return out


def _intake(before: Audit, after: Audit) -> list[Movement]:
    def share(a: Audit, name: str) -> float | None:
        row = next((f for f in a.intake.fields if f.field == name), None) if a.intake else None
        return row.value if row else None

    names = list(dict.fromkeys(f.field for a in (after, before) if a.intake for f in a.intake.fields))
    tickets = (before.intake.tickets if before.intake else 0, after.intake.tickets if after.intake else 0)
    return [Movement(f"intake_{n}", f"Intake: {n} filled", "percent", share(before, n), share(after, n), False, tickets) for n in names]


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
    if before.triage_sha256 and after.triage_sha256 and before.triage_sha256 != after.triage_sha256:
        notes.append("content/triage.yml changed between the two audits: SLA timers or intake fields may differ.")
    if before.window_days != after.window_days:
        notes.append(f"The windows differ ({before.window_days} and {after.window_days} days).")
    if before.source.export_sha256 != after.source.export_sha256:
        notes.append("The audits were computed from different exports.")
    if after.as_of < before.as_of:
        notes.append("The 'after' audit is older than the 'before' one.")
    return Comparison(
        before,
        after,
        figs,
        _rows(before.by_stage, after.by_stage, "stage"),
        _rows(before.by_group, after.by_group, "group"),
        ages,
        notes,
        _timers(before, after),
        _intake(before, after),
    )
