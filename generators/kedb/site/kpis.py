"""The KPI page: definitions, baselines and targets from ``content/kpis.yml``, the measured
figures from the stored snapshots (``content/kpi/YYYY-MM.yml``), and charts of both.

Figures are never made up: without snapshots the page says so and how to produce them. The
charts "from the records" are counts the KB itself holds (records per service and status, days
to root cause of each problem), not ticket KPIs.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date

from markupsafe import Markup

from ..build import facts
from ..build.context import BuildContext
from ..core import present
from ..core.program import Kpi
from ..core.records import RECORD_ORDER
from ..core.snapshots import KpiSnapshot
from . import charts, views


@dataclass(frozen=True)
class KpiRow:
    kpi: Kpi
    points: list[tuple[str, float | None]]
    latest: float | None
    latest_period: str | None
    week4: float | None
    week8: float | None
    on_target: bool | None
    chart: Markup | None

    def fmt(self, value: float | None) -> str:
        return present.quantity(value, self.kpi.unit)

    @property
    def target_label(self) -> str:
        return facts.target_text(self.kpi)

    @property
    def direction(self) -> str:
        return present.better_word(self.kpi.lower_is_better)


@dataclass(frozen=True)
class KpiView:
    rows: list[KpiRow]
    snapshots: list[KpiSnapshot]
    baseline: str | None
    week4: date | None
    week8: date | None
    kb_charts: list[tuple[str, Markup]] = field(default_factory=list)

    @property
    def measured(self) -> bool:
        return bool(self.snapshots)


def _at(snaps: list[KpiSnapshot], day: date | None, kpi_id: str) -> float | None:
    if day is None:
        return None
    period = f"{day.year:04d}-{day.month:02d}"
    for s in snaps:
        if s.period == period and (v := s.value(kpi_id)) is not None:
            return v.value
    return None


def _on_target(k: Kpi, value: float | None) -> bool | None:
    if value is None:
        return None
    return (k.target.min is None or value >= k.target.min) and (k.target.max is None or value <= k.target.max)


def view(ctx: BuildContext) -> KpiView:
    kb = ctx.kb
    snaps = sorted(kb.kpi_snapshots, key=lambda s: s.period)
    defs = kb.program.kpis
    cp = defs.checkpoints if defs else None
    rows: list[KpiRow] = []
    for k in defs.kpis if defs else []:
        points = [(s.period, v.value if (v := s.value(k.id)) else None) for s in snaps]
        measured = [(p, v) for p, v in points if v is not None]
        latest_period, latest = measured[-1] if measured else (None, None)
        chart = charts.trend(points, f"{k.name} by month", k.unit, k.baseline, k.target.min, k.target.max) if measured else None
        rows.append(
            KpiRow(
                k,
                points,
                latest,
                latest_period,
                _at(snaps, cp.week4 if cp else None, k.id),
                _at(snaps, cp.week8 if cp else None, k.id),
                _on_target(k, latest),
                chart,
            )
        )
    return KpiView(rows, snaps, cp.baseline if cp else None, cp.week4 if cp else None, cp.week8 if cp else None, kb_charts(ctx))


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
