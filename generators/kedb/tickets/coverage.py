"""Which days an export covers, and which tickets are open at a moment: what the KPIs and the audit share.

**Coverage.** An export covers the days on which its tickets were logged at a normal rate. The
days with any ticket opened are split where more than 14 days pass without one, and the stretch
holding the most tickets is kept; it is then trimmed at both ends to the days on which at least a
tenth as many tickets were opened as on a median day of the stretch. A lone ticket logged a year
after the rest, or a few old tickets carried into a newer export, do not stretch it. A month or an audit window
that reaches past those days is *partial*: its figures count only the tickets the export holds,
and every output says so with the days covered. The audit's default date is the last covered day.
The days are always the whole export's, also when the figures are one tenant's
(:mod:`kedb.tickets.tenants`).

**Open at a moment.** A ticket is open at a moment when it was opened before it and, in an event
log, its last event before the moment is not resolved, closed or cancelled; in a one-row export
(or for a ticket without a status), when it was not resolved or closed before it. The KPIs'
backlog and the audit's open tickets are both counted by :func:`open_at`, so they agree on the
same date.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from ..core import present
from ..core.snapshots import Coverage
from .tenants import whole

FLOOR_SHARE = 0.1  # a day is covered when it has at least this share of a median day's tickets
MAX_GAP_DAYS = 14  # more days than this without a ticket opened split the export's days into stretches
DONE = "('resolved', 'closed', 'cancelled')"


@dataclass(frozen=True)
class Span:
    """The days the export covers, and how they were chosen."""

    first: date
    last: date
    median: float  # tickets opened on a median day
    opened_first: date  # the first and last day any ticket was opened
    opened_last: date
    before: int  # tickets opened before `first`
    after: int  # tickets opened after `last`
    latest_event: date | None

    @property
    def floor(self) -> float:
        return self.median * FLOOR_SHARE

    def rule(self) -> str:
        """How the span was chosen, in words."""
        return (
            f"days on which at least {present.number(self.floor)} tickets were opened, a tenth of the median day's "
            f"{present.number(self.median)}, with no gap of more than {MAX_GAP_DAYS} days: {self.first} to {self.last}"
        )

    def stragglers(self) -> str:
        """What lies outside the span, or ''."""
        out = []
        if self.before:
            out.append(f"{self.before:,} ticket{'s' * (self.before != 1)} opened earlier (from {self.opened_first})")
        if self.after:
            out.append(f"{self.after:,} ticket{'s' * (self.after != 1)} opened later (to {self.opened_last})")
        return "; ".join(out)

    def covers(self, start: date, end: date) -> Coverage | None:
        """The part of the days ``start`` to ``end`` (exclusive) the export covers; None when it covers all of them."""
        lo, hi = max(start, self.first), min(end - timedelta(days=1), self.last)
        total = (end - start).days
        days = max(0, (hi - lo).days + 1)
        if days == total:
            return None
        return Coverage(first=lo if days else None, last=hi if days else None, days=days, of_days=total)


def span(con: Any) -> Span | None:
    """The days the store's export covers (None for an empty store)."""
    tickets, events = whole(con, "tickets"), whole(con, "events")  # the export's days, also for one tenant's figures
    per_day = con.execute(
        f"SELECT opened_at::DATE AS d, count(*) FROM {tickets} WHERE opened_at IS NOT NULL GROUP BY d ORDER BY d"
    ).fetchall()
    if not per_day:
        return None
    stretches: list[list[tuple[date, int]]] = [[per_day[0]]]
    for day, n in per_day[1:]:
        if (day - stretches[-1][-1][0]).days > MAX_GAP_DAYS + 1:
            stretches.append([])
        stretches[-1].append((day, n))
    main = max(stretches, key=lambda s: sum(n for _, n in s))  # the first of equals
    median = float(statistics.median(n for _, n in main))
    normal = [d for d, n in main if n >= median * FLOOR_SHARE]
    first, last = normal[0], normal[-1]
    before = sum(n for d, n in per_day if d < first)
    after = sum(n for d, n in per_day if d > last)
    latest = con.execute(f"SELECT max(ts)::DATE FROM {events}").fetchone()[0]
    return Span(first, last, median, per_day[0][0], per_day[-1][0], before, after, latest)


def open_at(event_log: bool, moment: str) -> str:
    """A SELECT of the tickets (every column of ``tickets``) open at ``moment``, a SQL expression."""
    if not event_log:
        return f"SELECT t.* FROM tickets t WHERE t.opened_at < {moment} AND (t.done_at IS NULL OR t.done_at >= {moment})"
    cur = f"(SELECT id, arg_max(class, step) AS class FROM events WHERE ts < {moment} GROUP BY id)"
    return f"""
        SELECT t.* FROM tickets t LEFT JOIN {cur} cur USING (id)
        WHERE t.opened_at < {moment} AND CASE WHEN cur.class IS NOT NULL THEN cur.class NOT IN {DONE}
                                              ELSE t.done_at IS NULL OR t.done_at >= {moment} END
    """
