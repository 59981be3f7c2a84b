"""The desk's everyday figures in a KPI snapshot (issue #20): first contact resolution, resolution time per
priority, customer satisfaction and the share resolved with a knowledge article.

Each counts the tickets resolved (else closed) in the period and not cancelled, of every type, as the
reopen rate does, and says in its basis how many tickets it rests on and which column it read.

* **First contact resolution** (``first_contact_resolution``, %): exports record no contacts, so it is
  taken from what they do record. A ticket was resolved at first contact when it was **never
  reassigned** (so the group that first took it resolved it) **and never reopened**; the share is over
  the tickets with both counts, from the export's columns or from the event log (assignment-group
  changes, moves back from resolved). A call back that changed neither still counts as first contact:
  the basis says so.
* **Resolution time** (``resolution_time_median_p1`` … ``resolution_time_p90_p3``, hours): per priority
  P1–P3 (the priorities every built-in mapping maps onto, as the SLA timers of ``content/triage.yml``
  use them), the median and the 90th percentile of the time from opened to resolved; the tool's own
  minutes where the export has them (Zendesk's business minutes), else calendar time, time on hold
  included. Percentiles interpolate linearly between ranks (DuckDB's ``quantile_cont``, Python's
  ``statistics.quantiles(method="inclusive")``). The value's ``denominator`` is the number of tickets;
  a percentile has no numerator. A ticket resolved before it was opened is left out and counted.
* **CSAT** (``csat``, %): of the tickets rated (``satisfaction``, 1–5), the share rated 4 or 5; Zendesk's
  `good` is 5 and `bad` 1 in its built-in mapping. Tickets not rated are left out and counted.
* **KB-assisted resolution** (``kb_assisted_resolution``, %): of the tickets whose export says whether a
  knowledge article was used (ServiceNow's ``knowledge`` flag), the share where one was.

A figure the export cannot give is n/a with the field it lacks (:mod:`kedb.tickets.needs`), never 0.
"""

from __future__ import annotations

from ..core.snapshots import RESOLUTION_PRIORITIES, KpiValue
from . import needs
from .fields import SATISFIED, SCORE_MAX, SCORE_MIN
from .kpi_ctx import Ctx, col, ratio, unavailable


def _left_out(n: int, why: str) -> str:
    """`` 2 tickets without both counts left out.`` (nothing when none was)."""
    return f" {n} ticket{'s' * (n != 1)} {why} left out." if n else ""


def first_contact(c: Ctx) -> KpiValue:
    kid = "first_contact_resolution"
    if not needs.computable(kid, c.have):
        return unavailable(kid, "percent", "Resolved with no reassignment and no reopen / resolved with both counts.")
    first, known, total = c.one(
        "SELECT count(*) FILTER (WHERE reassignment_count = 0 AND reopen_count = 0), "
        f"count(*) FILTER (WHERE reassignment_count IS NOT NULL AND reopen_count IS NOT NULL), count(*) FROM tickets WHERE {c.done}"
    )
    moves = f"'{col(c.info, 'reassignment_count')}'" if "reassignment_count" in c.have else "assignment-group changes in the event log"
    reopens = f"'{col(c.info, 'reopen_count')}'" if "reopen_count" in c.have else "moves back from resolved in the event log"
    basis = (
        f"{known} tickets resolved in {c.label} with a reassignment and a reopen count ({moves}; {reopens}); first contact: "
        "never reassigned, so resolved by the group that first took it, and never reopened. Exports record no contacts: a call "
        "back that changed neither still counts."
    )
    return ratio(kid, first, known, basis + _left_out(total - known, "without both counts"))


def resolution_times(c: Ctx) -> list[KpiValue]:
    ids = [(p, stat, f"resolution_time_{stat}_{p.lower()}") for p in RESOLUTION_PRIORITIES for stat in ("median", "p90")]
    if not needs.computable(ids[0][2], c.have):
        return [unavailable(kid, "hours", f"The {stat} hours from opened to resolved of {p} tickets.") for p, stat, kid in ids]
    own = col(c.info, "resolution_minutes")
    how = f"the tool's own minutes ('{own}') where given, else calendar time" if own else "calendar time from opened to resolved"
    listed = ", ".join(f"'{p}'" for p in RESOLUTION_PRIORITIES)
    rows = c.con.execute(
        f"""
        WITH r AS (SELECT upper(trim(priority)) AS p, coalesce(resolution_minutes, epoch(done_at - opened_at) / 60.0) AS m
                   FROM tickets WHERE {c.done})
        SELECT p, quantile_cont(m, 0.5) FILTER (WHERE m >= 0), quantile_cont(m, 0.9) FILTER (WHERE m >= 0),
               count(*) FILTER (WHERE m >= 0), count(*) FILTER (WHERE m < 0)
        FROM r WHERE p IN ({listed}) GROUP BY p
        """,
        c.params,
    ).fetchall()
    got = {p: (med, p90, n, negative) for p, med, p90, n, negative in rows}
    (other,) = c.one(f"SELECT count(*) FROM tickets WHERE {c.done} AND coalesce(upper(trim(priority)) NOT IN ({listed}), true)")
    out = []
    for p, stat, kid in ids:
        med, p90, n, negative = got.get(p, (None, None, 0, 0))
        what = "Median" if stat == "median" else "90th percentile (linear between ranks; 9 in 10 were resolved within it)"
        basis = f"{what} of {n} {p} tickets resolved in {c.label}, in hours: {how}; time on hold included."
        basis += _left_out(negative, "resolved before being opened") + _left_out(other, "resolved without a priority P1–P3")
        figure = med if stat == "median" else p90
        value = None if figure is None else round(figure / 60.0, 2)
        out.append(KpiValue(id=kid, value=value, unit="hours", denominator=n, basis=basis[:400]))
    return out


def csat(c: Ctx) -> KpiValue:
    scale = f"rated {SATISFIED} or more on the {SCORE_MIN}–{SCORE_MAX} scale"
    if not needs.computable("csat", c.have):
        return unavailable("csat", "percent", f"Share of rated tickets {scale}.")
    happy, rated, total = c.one(
        f"SELECT count(*) FILTER (WHERE satisfaction >= {SATISFIED}), count(satisfaction), count(*) FROM tickets WHERE {c.done}"
    )
    basis = f"{rated} tickets resolved in {c.label} with a satisfaction rating ('{col(c.info, 'satisfaction')}'); satisfied: {scale}."
    return ratio("csat", happy, rated, basis + _left_out(total - rated, "not rated"))


def kb_assisted(c: Ctx) -> KpiValue:
    kid = "kb_assisted_resolution"
    if not needs.computable(kid, c.have):
        return unavailable(kid, "percent", "Share of resolved tickets whose export says a knowledge article was used.")
    used, known, total = c.one(f"SELECT count(*) FILTER (WHERE knowledge), count(knowledge), count(*) FROM tickets WHERE {c.done}")
    basis = f"{known} tickets resolved in {c.label} with the knowledge flag ('{col(c.info, 'knowledge')}'); share resolved with a knowledge article."
    return ratio(kid, used, known, basis + _left_out(total - known, "without the flag"))


def desk_figures(c: Ctx) -> list[KpiValue]:
    """The desk's everyday figures, in the order of :data:`kedb.core.snapshots.DESK_IDS`."""
    return [first_contact(c), *resolution_times(c), csat(c), kb_assisted(c)]
