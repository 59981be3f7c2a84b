"""What every KPI figure of :mod:`kedb.tickets.kpi` and :mod:`kedb.tickets.kpi_desk` is computed with:
the period, the store, what the export gives, and how a figure and its basis are made."""

from __future__ import annotations

from typing import Any

from ..core.kb import KB
from ..core.snapshots import KpiValue, is_week, period_bounds
from . import needs
from .candidates import DEFAULT_RECURRENCE
from .coverage import Span, span
from .store import StoreInfo

NOT_CANCELLED = "class IS DISTINCT FROM 'cancelled'"


def ratio(kid: str, num: float, den: float, basis: str, unit: str = "percent") -> KpiValue:
    """``num / den`` (a percentage, or a mean in ``unit``); None when there is nothing to divide by."""
    value = None if not den else round((100.0 * num / den) if unit == "percent" else num / den, 2)
    return KpiValue(id=kid, value=value, unit=unit, numerator=round(num, 2), denominator=den, basis=basis[:400])  # type: ignore[arg-type]


def unavailable(kid: str, unit: str, basis: str) -> KpiValue:
    return KpiValue(id=kid, value=None, unit=unit, basis=basis[:400])  # type: ignore[arg-type]


def col(info: StoreInfo, field: str) -> str | None:
    """The export column behind ``field``, if the export had one."""
    cols = info.columns.get(field)
    return cols[0] if cols else None


class Ctx:
    """One period's computation: ``$1`` and ``$2`` in every query are its first moment and the first moment after it."""

    def __init__(self, con: Any, kb: KB, info: StoreInfo, period: str, tenant: str | None = None) -> None:
        self.con, self.kb, self.info, self.period, self.tenant = con, kb, info, period, tenant
        self.start, self.end = period_bounds(period)
        self.recurrence = kb.program.recurrence or DEFAULT_RECURRENCE
        self.window = self.recurrence.repeat_window_days
        self.params = [self.start, self.end]
        self.have = needs.available(info.columns, event_log=info.event_log, triage=kb.program.triage is not None)
        self.span: Span | None = span(con)

    @property
    def label(self) -> str:
        """The period in a sentence: ``2026-10`` or ``week 2026-W43``."""
        return f"week {self.period}" if is_week(self.period) else self.period

    def one(self, sql: str) -> tuple[Any, ...]:
        return tuple(self.con.execute(sql, self.params).fetchone())

    @property
    def done(self) -> str:
        """Tickets resolved (else closed) in the period, not cancelled."""
        return f"done_at >= $1 AND done_at < $2 AND {NOT_CANCELLED}"
