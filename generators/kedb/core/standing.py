"""Where a KPI stands against its target: one rule for the site, the four artefacts, ``kedb kpi``
and ``kedb check``.

A target in ``content/kpis.yml`` is *absolute* (``min``/``max`` in the KPI's unit) or *relative*
to the baseline (``improve``: an improvement range in percent of the baseline value, due within
some days). The rule, decided once (README, 'KPI targets and where a KPI stands'):

- A figure **meets** an absolute target when it lies inside ``[min, max]``. It meets a relative
  target when it has improved on the baseline, in the KPI's direction, by at least
  ``min_percent`` of the baseline. Going beyond ``max_percent`` still meets it: the top of the
  range is how far the program aims, not a limit. Percent is of the baseline value, never
  percentage points: 10 % better than a 20 % repeat rate is 18 %.
- A target is **due** on its deadline: a relative target ``within_days`` after the last day of
  the baseline period; an absolute target on the week-8 checkpoint.
- A figure is judged as of the last day of the period it measures (a month, or an ISO week for
  ``kedb kpi --week``), not the day of the build, so one snapshot reads the same in every output
  and every build.
- **on track**: it meets the target. **at risk**: it falls short, in a month that ends before the
  deadline: there is still time, whichever way it moved (the movement since the baseline is
  shown beside it in words). **missed**: it falls short in a month that ends on or after the
  deadline. **not measured**: no figure, or a relative target without a baseline to measure
  against (none in ``content/kpis.yml`` and none in the baseline month's snapshot, or a baseline
  of zero). **no target**: the KPI sets neither kind.

The register (``renderers/xlsx.py``) writes the same rule as spreadsheet formulas, so its
figures can be changed by hand and the standing follows; a test has LibreOffice compute them and
compares each with :func:`judge`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from . import present
from .program import Checkpoints, Kpi
from .snapshots import KpiSnapshot, period_bounds

ON_TRACK = "on track"
AT_RISK = "at risk"
MISSED = "missed"
NOT_MEASURED = "not measured"
NO_TARGET = "no target"
WORDS: tuple[str, ...] = (ON_TRACK, AT_RISK, MISSED, NOT_MEASURED, NO_TARGET)  # also the order of a summary
RULES: tuple[str, ...] = (
    "On track: the figure meets its target (inside an absolute range; improved on the baseline by at least the lower "
    "bound of a relative range, and beyond its upper bound too).",
    "At risk: short of it in a month that ends before the target's deadline.",
    "Missed: short of it in a month that ends on or after the deadline (a relative target's within_days after the "
    "baseline month, an absolute target's week-8 checkpoint).",
)
RULE = " ".join(RULES)  # the rule in words, for every output that states it


@dataclass(frozen=True)
class Standing:
    """One figure judged against its KPI's target."""

    word: str  # one of WORDS
    due: date | None  # the target's deadline
    gain: float | None  # the improvement on the baseline in percent of it, positive when better

    @property
    def short(self) -> bool:
        """Judged and short of the target (at risk or missed)."""
        return self.word in (AT_RISK, MISSED)


def period_end(period: str) -> date:
    """The last day of a month (``YYYY-MM``) or an ISO week (``YYYY-Www``), as
    :func:`kedb.core.snapshots.period_bounds` reads them."""
    return (period_bounds(period)[1] - timedelta(days=1)).date()


def due(kpi: Kpi, checkpoints: Checkpoints) -> date | None:
    """The day the target is due: ``within_days`` after the baseline month for a relative target,
    the week-8 checkpoint for an absolute one, None without a target."""
    t = kpi.target
    if t.improve is not None:
        return period_end(checkpoints.baseline) + timedelta(days=t.improve.within_days)
    return checkpoints.week8 if t.absolute else None


def baseline_of(kpi: Kpi, checkpoints: Checkpoints, snapshots: Iterable[KpiSnapshot]) -> float | None:
    """The baseline a KPI is measured against: ``baseline`` in content/kpis.yml, else the figure of
    the baseline month's snapshot (None when neither has one)."""
    if kpi.baseline is not None:
        return kpi.baseline
    snap = next((s for s in snapshots if s.period == checkpoints.baseline), None)
    v = snap.value(kpi.id) if snap is not None else None
    return v.value if v is not None else None


def tenant_baseline(kpi: Kpi, checkpoints: Checkpoints, own: Iterable[KpiSnapshot]) -> float | None:
    """The baseline a tenant's figures are judged against: the tenant's own figure for the baseline
    month when its snapshot has one, else the desk's (:func:`baseline_of`).

    A relative target asks each customer to improve on where *it* started: a tenant whose repeat
    rate began at 30 % has not met "10 % better" at 25 % because the desk began at 20 %. An absolute
    target needs no baseline and reads the same for every tenant."""
    snap = next((s for s in own if s.period == checkpoints.baseline and not s.weekly), None)
    v = snap.value(kpi.id) if snap is not None else None
    if v is not None and v.value is not None:
        return v.value
    return baseline_of(kpi, checkpoints, ())


def gain(kpi: Kpi, baseline: float | None, value: float | None) -> float | None:
    """The change from the baseline in percent of the baseline, positive when better by the KPI's
    direction; None without both figures or from a baseline of zero."""
    if baseline is None or value is None or baseline == 0:
        return None
    moved = baseline - value if kpi.lower_is_better else value - baseline
    return moved / abs(baseline) * 100


def band(kpi: Kpi, baseline: float | None) -> tuple[float | None, float | None]:
    """The target as (low, high) values in the KPI's unit: an absolute target's own bounds; a
    relative target's range worked out from the baseline (its top of ambition may be open).
    (None, None) for a relative target without a usable baseline, or no target."""
    t = kpi.target
    if t.improve is None:
        return t.min, t.max
    if baseline is None or baseline == 0:
        return None, None
    step = abs(baseline) / 100 * (-1 if kpi.lower_is_better else 1)
    near = baseline + step * t.improve.min_percent
    far = None if t.improve.max_percent is None else baseline + step * t.improve.max_percent
    return (far, near) if kpi.lower_is_better else (near, far)


def threshold(kpi: Kpi, baseline: float | None) -> float | None:
    """The value that just meets the target on the side to improve (the highest acceptable value of
    a lower-is-better KPI, the lowest of a higher-is-better one)."""
    low, high = band(kpi, baseline)
    return high if kpi.lower_is_better else low


def meets(kpi: Kpi, baseline: float | None, value: float) -> bool | None:
    """Whether ``value`` meets the target (None when it cannot be judged)."""
    t = kpi.target
    if t.improve is not None:
        g = gain(kpi, baseline, value)
        return None if g is None else round(g, 9) >= t.improve.min_percent
    if not t.absolute:
        return None
    return (t.min is None or value >= t.min) and (t.max is None or value <= t.max)


def judge(kpi: Kpi, checkpoints: Checkpoints, baseline: float | None, value: float | None, period: str | None) -> Standing:
    """Where ``value``, the figure of month ``period``, stands against the KPI's target (see the module)."""
    deadline = due(kpi, checkpoints)
    g = gain(kpi, baseline, value)
    t = kpi.target
    if t.improve is None and not t.absolute:
        return Standing(NO_TARGET, None, g)
    if value is None:
        return Standing(NOT_MEASURED, deadline, g)
    ok = meets(kpi, baseline, value)
    if ok is None:
        return Standing(NOT_MEASURED, deadline, g)
    if ok:
        return Standing(ON_TRACK, deadline, g)
    late = deadline is not None and period is not None and period_end(period) >= deadline
    return Standing(MISSED if late else AT_RISK, deadline, g)


def target_text(kpi: Kpi, checkpoints: Checkpoints | None, *, decimals: int = 1, none: str = "no target set") -> str:
    """The target in words with its deadline: ``≤ 12 % by 2026-10-26``, ``80 % – 95 %``,
    ``10 – 25 % lower by 2026-10-30`` (a relative range, in percent of the baseline)."""
    t = kpi.target
    deadline = due(kpi, checkpoints) if checkpoints is not None else None
    by = f" by {present.day(deadline)}" if deadline is not None else ""
    if t.improve is not None:
        i = t.improve
        low = present.number(i.min_percent, decimals=decimals)
        span = f"{low} – {present.number(i.max_percent, decimals=decimals)} %" if i.max_percent is not None else f"≥ {low} %"
        return f"{span} {present.better_word(kpi.lower_is_better)}{by}"

    def q(v: float) -> str:
        return present.quantity(v, kpi.unit, decimals=decimals)

    if t.min is not None and t.max is not None:
        return f"{q(t.min)} – {q(t.max)}{by}"
    if t.max is not None:
        return f"≤ {q(t.max)}{by}"
    if t.min is not None:
        return f"≥ {q(t.min)}{by}"
    return none


def summary(words: Iterable[str]) -> str:
    """``5 on track, 1 missed, 1 not measured``: each standing with its count, in the order of :data:`WORDS`."""
    counts = {w: 0 for w in WORDS}
    for w in words:
        counts[w] += 1
    return ", ".join(f"{n} {w}" for w, n in counts.items() if n)
