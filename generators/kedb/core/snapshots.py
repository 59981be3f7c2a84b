"""KPI snapshots: the aggregates ``kedb kpi --write`` stores as ``content/kpi/YYYY-MM.yml``.

Only figures, counts and how each was computed enter the repository: no ticket text, no
names. The site and the four artefacts read these files; they never read tickets.
A week-4 or week-8 checkpoint value (``content/kpis.yml``) is the value in the snapshot of the
month that contains the checkpoint date.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from .program import Month
from .records import Date, ShortText, Slug, Strict_
from .sources import Source

KPI_DIR = "content/kpi"


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
    """`content/kpi/YYYY-MM.yml`: one month's KPI figures, aggregates only."""

    period: Month = Field(description="The month the figures are for (YYYY-MM); the file is named after it.")
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


# Figures a snapshot carries besides the KPIs of `content/kpis.yml` (`kedb kpi` writes them all).
VOLUME_IDS: tuple[str, ...] = ("ticket_volume", "tickets_resolved", "backlog", "reassignment_rate", "tickets_per_problem")


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
