"""The KPI page: definitions, baselines and targets from ``content/kpis.yml``, the measured
figures from the stored snapshots (``content/kpi/YYYY-MM.yml``), and charts of both; each KPI's
standing (on track, at risk or missed) from the rows the artefacts read too
(:func:`kedb.build.facts.kpi_rows`, judged by :mod:`kedb.core.standing`); volume and backlog.

Figures are never made up: without snapshots the page says so and how to produce them. The
charts "from the records" are counts the KB itself holds (records per service and status, days
to root cause of each problem), not ticket KPIs.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta

from markupsafe import Markup

from ..build import facts
from ..build.context import BuildContext
from ..core import decisions, present, standing
from ..core.program import Kpi
from ..core.records import RECORD_ORDER
from ..core.snapshots import KpiSnapshot, period_bounds, week_of
from . import charts, views

MARKS: dict[str, str] = {standing.ON_TRACK: "ok", standing.AT_RISK: "warn", standing.MISSED: "off"}  # standing -> CSS modifier


@dataclass(frozen=True)
class KpiRow:
    fact: facts.KpiRow  # baseline, checkpoints, latest figure and its standing: what the artefacts show too
    points: list[tuple[str, float | None]]
    chart: Markup | None

    @property
    def kpi(self) -> Kpi:
        return self.fact.kpi

    @property
    def latest(self) -> float | None:
        return self.fact.latest

    @property
    def latest_period(self) -> str | None:
        return self.fact.latest_period

    @property
    def week4(self) -> float | None:
        return self.fact.week4

    @property
    def week8(self) -> float | None:
        return self.fact.week8

    @property
    def baseline(self) -> float | None:
        return self.fact.baseline

    @property
    def standing(self) -> str:
        return self.fact.standing

    @property
    def mark(self) -> str:
        """The CSS modifier of the standing mark: ``ok`` on track, ``warn`` at risk, ``off`` missed, else none."""
        return MARKS.get(self.standing, "")

    @property
    def since_baseline(self) -> str:
        """``-38 % (better)``: the latest figure against the baseline, in percent of it and in words."""
        f = self.fact
        pct = present.relative(f.baseline, f.latest)
        return pct if pct == present.NONE else f"{pct} ({f.verdict})"

    def fmt(self, value: float | None) -> str:
        return present.quantity(value, self.kpi.unit)

    @property
    def direction(self) -> str:
        return present.better_word(self.kpi.lower_is_better)


@dataclass(frozen=True)
class VolumeView:
    names: list[str]
    months: list[facts.VolumeMonth]
    chart: Markup | None

    def fmt(self, value: float | None) -> str:
        return present.quantity(value, "count")


@dataclass(frozen=True)
class KpiView:
    rows: list[KpiRow]
    snapshots: list[KpiSnapshot]
    baseline: str | None
    week4: date | None
    week8: date | None
    kb_charts: list[tuple[str, Markup]] = field(default_factory=list)
    volume: VolumeView | None = None
    rule: str = standing.RULE
    weekly: WeeklyView | None = None  # None without a weekly snapshot

    @property
    def measured(self) -> bool:
        return bool(self.snapshots)

    @property
    def summary(self) -> str:
        return standing.summary(r.standing for r in self.rows)


def view(ctx: BuildContext) -> KpiView:
    kb = ctx.kb
    snaps = sorted(kb.kpi_snapshots, key=lambda s: s.period)
    defs = kb.program.kpis
    cp = defs.checkpoints if defs else None
    rows: list[KpiRow] = []
    for f in facts.kpi_rows(ctx):
        k = f.kpi
        points = [(s.period, v.value if (v := s.value(k.id)) else None) for s in snaps]
        low, high = f.band
        chart = charts.trend(points, f"{k.name} by month", k.unit, f.baseline, low, high) if f.latest is not None else None
        rows.append(KpiRow(f, points, chart))
    return KpiView(
        rows,
        snaps,
        cp.baseline if cp else None,
        cp.week4 if cp else None,
        cp.week8 if cp else None,
        kb_charts(ctx),
        volume_view(ctx),
        weekly=weekly_view(ctx),
    )


def volume_view(ctx: BuildContext) -> VolumeView | None:
    """Tickets opened, resolved and the backlog of every snapshot, with a chart of the backlog (whether the desk
    keeps up); None without a snapshot that holds them."""
    months = facts.volume(ctx)
    if not months:
        return None
    names = [name for _, name in facts.VOLUME]
    backlog = [(m.period, m.values[-1]) for m in months]
    chart = charts.trend(backlog, "Backlog at month end", "count") if any(v is not None for _, v in backlog) else None
    return VolumeView(names, months, chart)


# ---------------------------------------------------------------- weekly movement (content/kpi/weeks/)
WEEKS_SHOWN = 8  # the latest ISO weeks a KPI's weekly table shows: two months of movement


@dataclass(frozen=True)
class WeekRow:
    """One ISO week of one KPI: its figure, how it moved since the week before and where it stands."""

    period: str  # YYYY-Www
    value: str
    change: str  # ``-1.5 pp (better)``, ``no change``, or an em dash when the week before has no figure
    standing: str  # core/standing.judge, as of the week's last day
    mark: str  # CSS modifier of the standing (MARKS), else empty
    coverage: str  # how much of the week the export covers, when not all of it


@dataclass(frozen=True)
class WeeklyKpi:
    kpi: Kpi
    weeks: list[WeekRow]  # oldest first (a table only: the monthly charts above already draw each KPI's trend)


@dataclass(frozen=True)
class WeeklyView:
    """The KPI page's "Weekly movement": every KPI with a figure in the stored weeks of the edition."""

    kpis: list[WeeklyKpi]
    first: str
    last: str
    stored: int  # weekly snapshots of the edition
    shown: int = WEEKS_SHOWN


def week_before(period: str) -> str:
    """The ISO week before ``period`` (``2026-W01`` -> ``2025-W53`` in a year that has one)."""
    return week_of(period_bounds(period)[0].date() - timedelta(days=7))


def _moved(kpi: Kpi, before: float | None, after: float | None) -> str:
    """``-1.5 pp (better)``: the change in the KPI's unit and which way it went by its ``direction``."""
    if before is None or after is None:
        return present.NONE
    if present.number(abs(after - before)) == "0":
        return "no change"  # judged at the precision shown: "+0 pp (worse)" would read as a contradiction
    return f"{present.change(after - before, kpi.unit)} ({present.verdict(before, after, kpi.lower_is_better)})"


def weekly_view(ctx: BuildContext) -> WeeklyView | None:
    """The latest :data:`WEEKS_SHOWN` weeks of each KPI from the edition's weekly snapshots, each judged
    by :func:`kedb.core.standing.judge` against the same baseline and target as the months; the change
    is from the ISO week just before (none when that week is not stored or has no figure). None
    without a weekly snapshot, or when no snapshot has a figure for a KPI of ``content/kpis.yml``."""
    weeks = sorted(ctx.kb.kpi_weeks, key=lambda s: s.period)
    if not weeks:
        return None
    by_period = {s.period: s for s in weeks}
    out: list[WeeklyKpi] = []
    for f in facts.kpi_rows(ctx):
        k = f.kpi
        figures = [(s, v.value) for s in weeks if (v := s.value(k.id)) is not None][-WEEKS_SHOWN:]
        if all(value is None for _, value in figures):
            continue
        rows: list[WeekRow] = []
        for s, value in figures:
            prev = by_period.get(week_before(s.period))
            before = pv.value if prev is not None and (pv := prev.value(k.id)) is not None else None
            moved = _moved(k, before, value)
            judged = standing.judge(k, f.checkpoints, f.baseline, value, s.period).word
            cover = s.coverage.text if s.coverage is not None else ""
            rows.append(WeekRow(s.period, present.quantity(value, k.unit), moved, judged, MARKS.get(judged, ""), cover))
        out.append(WeeklyKpi(k, rows))
    if not out:
        return None
    return WeeklyView(out, weeks[0].period, weeks[-1].period, len(weeks))


def kb_charts(ctx: BuildContext) -> list[tuple[str, Markup]]:
    kb = ctx.kb
    out: list[tuple[str, Markup]] = []
    per_service: dict[str, Counter[str]] = {}
    for r in kb.known_errors:
        per_service.setdefault(views.service_name(ctx, r.meta.service), Counter())[str(r.meta.status)] += 1
    if per_service:
        rows = [(name, dict(c)) for name, c in sorted(per_service.items())]
        out.append(("Known errors per service, by status", charts.stacked(rows, RECORD_ORDER, "Known errors per service, by status")))
    ttrc = [(r.id, d) for r in kb.problems if (d := views.days_to_root_cause(r.meta)) is not None]
    if ttrc:
        out.append(("Days from opening to root cause, per problem", charts.bars(ttrc, "Days from opening to root cause", "days")))
    return out


# ---------------------------------------------------------------- candidate decisions (content/decisions.yml)
@dataclass(frozen=True)
class DecisionView:
    """The KPI page's last section: the false-positive rate of problem candidates and the decision log."""

    summary: decisions.Summary
    rows: list[facts.LoggedDecision]

    @property
    def rate(self) -> str:
        return present.quantity(self.summary.total.rate, "percent")

    @property
    def months(self) -> list[tuple[str, int, int, str]]:
        """(month, candidates decided, rejected, false-positive rate), oldest first."""
        return [(m.period, m.proposed, m.rejected, present.quantity(m.rate, "percent")) for m in self.summary.months]

    @property
    def factor(self) -> str:
        return present.number(self.summary.regrowth_factor)


def decision_view(ctx: BuildContext) -> DecisionView | None:
    """None when the KB keeps no decision log, and in public editions (:func:`kedb.build.facts.candidate_decisions`)."""
    found = facts.candidate_decisions(ctx)
    return DecisionView(*found) if found else None
