"""KPI snapshots: the aggregates ``kedb kpi --write`` stores under ``content/kpi/``.

Only figures, counts and how each was computed enter the repository: no ticket text, no
names. The site and the four artefacts read these files; they never read tickets.
A week-4 or week-8 checkpoint value (``content/kpis.yml``) is the value in the snapshot of the
month that contains the checkpoint date.

A snapshot is for a calendar month (``YYYY-MM``) or an ISO week (``YYYY-Www``: Monday 00:00 to
the next Monday, in the export's clock), for the whole desk or for one tenant of
``content/kedb.yml``; :func:`snapshot_path` is the one place that says where each is kept
(``kedb kpi --write`` writes there, and ``kedb check`` reports a file anywhere else as KE705):

* ``content/kpi/2026-10.yml`` and ``content/kpi/weeks/2026-W43.yml``: the desk;
* ``content/kpi/tenants/ACME/2026-10.yml`` and ``content/kpi/tenants/ACME/weeks/2026-W43.yml``:
  tenant ``ACME`` only.

A folder per tenant rather than a tenant key in the file name keeps a tenant's figures
together (one folder to hand over or to withhold) and leaves the desk's own files where they
always were. :func:`for_edition` decides which of them an edition shows.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from .errors import UsageError
from .records import Date, ShortText, Slug, Strict_, TenantId
from .sources import Source

KPI_DIR = "content/kpi"
WEEKS_DIR = "weeks"  # under content/kpi/ and under each tenant's folder
TENANTS_DIR = "tenants"  # content/kpi/tenants/<tenant id>/

_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


def period_bounds(period: str) -> tuple[datetime, datetime]:
    """The first moment of ``period`` and the first moment after it: a month ``YYYY-MM`` or an ISO
    week ``YYYY-Www`` (Monday to Monday). Anything else is a usage error that says how to write it."""
    m = _MONTH.match(period)
    if m:
        y, mo = int(m.group(1)), int(m.group(2))
        return datetime(y, mo, 1), datetime(y + (mo == 12), mo % 12 + 1, 1)
    w = _WEEK.match(period)
    if w:
        try:
            monday = date.fromisocalendar(int(w.group(1)), int(w.group(2)), 1)
        except ValueError:
            raise UsageError(f"'{period}' is not a week of {w.group(1)}: ISO weeks run from W01 to W52 (W53 in some years)") from None
        start = datetime.combine(monday, datetime.min.time())
        return start, start + timedelta(days=7)
    raise UsageError(f"'{period}' is not a month or an ISO week; write it as YYYY-MM (e.g. 2026-08) or YYYY-Www (e.g. 2026-W35)")


def is_week(period: str) -> bool:
    return bool(_WEEK.match(period))


def week_of(day: date) -> str:
    """The ISO week holding ``day``, as ``YYYY-Www``."""
    y, w, _ = day.isocalendar()
    return f"{y}-W{w:02d}"


def _period(value: str) -> str:
    try:
        period_bounds(value)
    except UsageError as exc:
        raise ValueError(str(exc)) from None
    return value


Period = Annotated[str, AfterValidator(_period)]


def snapshot_path(period: str, tenant: str | None) -> str:
    """Where the snapshot of ``period`` (a month or a week) for ``tenant`` (None: the desk) is kept, relative to the KB root."""
    folder = KPI_DIR + (f"/{TENANTS_DIR}/{tenant}" if tenant else "") + (f"/{WEEKS_DIR}" if is_week(period) else "")
    return f"{folder}/{period}.yml"


class KpiValue(Strict_):
    id: Slug = Field(description="KPI id from `content/kpis.yml` (or a volume figure such as `ticket_volume`).")
    value: float | None = Field(description="The figure, in `unit`; null when it could not be computed (see `basis`).")
    unit: Literal["percent", "minutes", "hours", "days", "count"] = Field(description="Unit of `value`.")
    numerator: float | None = Field(default=None, description="Top of the fraction (or the sum averaged), when the figure is one.")
    denominator: float | None = Field(default=None, description="Bottom of the fraction (or the count averaged over).")
    basis: ShortText = Field(description="How the figure was computed and from how many tickets or problems.")


class SnapshotSource(Strict_):
    system: Source = Field(description="Ticketing tool of the export (one of the shipped ticket mappings).")  # type: ignore[valid-type]
    tickets: Annotated[int, Field(ge=0)] = Field(description="Tickets in the store when the snapshot was computed.")
    first: Date | None = Field(default=None, description="Earliest ticket opened date in the store.")
    last: Date | None = Field(default=None, description="Latest ticket opened date in the store.")
    export_sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")] | None = Field(
        default=None, description="SHA-256 of the export file(s) imported, so the figure can be traced."
    )


class Coverage(Strict_):
    """The part of a period that the imported export covers, when it does not cover all of it."""

    first: Date | None = Field(description="First day of the period the export covers (null: none).")
    last: Date | None = Field(description="Last day of the period the export covers (null: none).")
    days: Annotated[int, Field(ge=0)] = Field(description="Days of the period the export covers.")
    of_days: Annotated[int, Field(ge=1)] = Field(description="Days in the period.")

    @property
    def text(self) -> str:
        """``partial: the export covers 2016-03-01 to 2016-03-02, 2 of 31 days``."""
        if not self.days or self.first is None or self.last is None:
            return f"not covered: the export holds no day of these {self.of_days}"
        when = str(self.first) if self.first == self.last else f"{self.first} to {self.last}"
        return f"partial: the export covers {when}, {self.days} of {self.of_days} days"


class KpiSnapshot(Strict_):
    """`content/kpi/YYYY-MM.yml` (or a week's, or a tenant's): one period's KPI figures, aggregates only."""

    period: Period = Field(
        description="The month (YYYY-MM) or ISO week (YYYY-Www) the figures are for; the file is named after it, and a week's "
        "is kept under `weeks/`."
    )
    tenant: TenantId | None = Field(
        default=None,
        description="Set when the figures count only this tenant's tickets (`kedb kpi --tenant`): the file is kept under "
        "`content/kpi/tenants/<tenant>/`. Absent for the whole desk.",
    )
    window_days: Annotated[int, Field(ge=1)] = Field(description="Repeat window used (from `content/recurrence.yml`).")
    source: SnapshotSource = Field(description="Where the tickets came from.")
    coverage: Coverage | None = Field(
        default=None,
        description="Set when the export covers only part of the month (see the README's coverage rule): its figures "
        "count only the tickets of the days covered. Absent for a month the export covers in full.",
    )
    values: list[KpiValue] = Field(description="One entry per KPI and volume figure.")

    def value(self, kpi_id: str) -> KpiValue | None:
        return next((v for v in self.values if v.id == kpi_id), None)

    @property
    def weekly(self) -> bool:
        return is_week(self.period)

    @property
    def path(self) -> str:
        return snapshot_path(self.period, self.tenant)


# Figures a snapshot carries besides the KPIs of `content/kpis.yml` (`kedb kpi` writes them all).
VOLUME_IDS: tuple[str, ...] = ("ticket_volume", "tickets_resolved", "backlog", "reassignment_rate", "tickets_per_problem")
# The desk's everyday figures (issue #20): not required of every KB, defined in the example's content/kpis.yml.
RESOLUTION_PRIORITIES: tuple[str, ...] = ("P1", "P2", "P3")
DESK_IDS: tuple[str, ...] = (
    "first_contact_resolution",
    *(f"resolution_time_{stat}_{p.lower()}" for p in RESOLUTION_PRIORITIES for stat in ("median", "p90")),
    "csat",
    "kb_assisted_resolution",
)


def split(snapshots: tuple[KpiSnapshot, ...]) -> tuple[tuple[KpiSnapshot, ...], tuple[KpiSnapshot, ...], tuple[KpiSnapshot, ...]]:
    """The desk's months, the desk's weeks and every tenant's snapshots (months and weeks), each in period order."""
    ordered = sorted(snapshots, key=lambda s: (s.tenant or "", s.period))
    months = tuple(s for s in ordered if s.tenant is None and not s.weekly)
    weeks = tuple(s for s in ordered if s.tenant is None and s.weekly)
    return months, weeks, tuple(s for s in ordered if s.tenant is not None)


def for_edition(
    months: tuple[KpiSnapshot, ...], weeks: tuple[KpiSnapshot, ...], tenants: tuple[KpiSnapshot, ...], audience: str, tenant: str | None
) -> tuple[tuple[KpiSnapshot, ...], tuple[KpiSnapshot, ...], tuple[KpiSnapshot, ...]]:
    """The months, weeks and tenant snapshots an edition shows.

    A tenant's edition (``--tenant T``, either audience) shows T's own figures in place of the
    desk's, and nothing of another tenant: with no snapshot of T it shows none, never the desk's.
    The internal all-tenant edition keeps the desk's figures and every tenant's (for a per-tenant
    view); the public all-tenant edition shows the desk's only, since which customers an MSP
    serves is not public."""
    if tenant is not None:
        own = tuple(s for s in tenants if s.tenant == tenant)
        return tuple(s for s in own if not s.weekly), tuple(s for s in own if s.weekly), own
    return months, weeks, (tenants if audience == "internal" else ())


def yaml_scalar(value: object) -> str:
    import json

    if value is None:
        return "null"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(str(value), ensure_ascii=False)  # a JSON string is a valid double-quoted YAML scalar


def dump(snapshot: KpiSnapshot, command: str) -> str:
    """The snapshot as YAML, keys in model order, so the same figures give the same bytes."""
    s = snapshot
    lines = [
        f"# Written by `{command}`: aggregates only (no ticket text, no names).",
        "# Do not edit by hand: change the export or the records and run the command again.",
        f"period: {yaml_scalar(s.period)}",
        *([f"tenant: {yaml_scalar(s.tenant)}"] if s.tenant else []),
        f"window_days: {s.window_days}",
        "source:",
    ]
    for key, value in s.source.model_dump().items():
        lines.append(f"  {key}: {value.isoformat() if hasattr(value, 'isoformat') else yaml_scalar(value)}")
    if s.coverage is not None:
        lines += dump_coverage(s.coverage)
    lines.append("values:")
    for v in s.values:
        lines.append(f"  - id: {v.id}")
        for key in ("value", "unit", "numerator", "denominator", "basis"):
            val = getattr(v, key)
            if key in ("numerator", "denominator") and val is None:
                continue
            lines.append(f"    {key}: {val if key == 'unit' else yaml_scalar(val)}")
    return "\n".join(lines) + "\n"


def dump_coverage(c: Coverage) -> list[str]:
    """The ``coverage:`` lines of a stored snapshot or audit."""
    lines = ["coverage:"]
    for key, value in c.model_dump().items():
        lines.append(f"  {key}: {value.isoformat() if hasattr(value, 'isoformat') else yaml_scalar(value)}")
    return lines
