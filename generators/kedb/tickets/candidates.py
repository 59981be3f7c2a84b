"""``kedb candidates``: recurring signatures that meet a recurrence rule of ``content/recurrence.yml``.

For each rule (``min_tickets`` tickets with one signature within ``window_days`` days, across
at least ``min_distinct`` distinct ``distinct_by``), every ticket is taken as the end of a
window that reaches ``window_days`` back (inclusive); a signature meets the rule when some
window holds enough tickets and distinct values. The figures shown are those of its latest
such window. Service requests and cancelled tickets are left out; tickets without any
signature part cannot recur and are counted apart.

A signature is *covered* by a known error (not retired) or an open problem (not closed) when it
equals that record's signature (``symptom_signature``, a problem's ``trigger.signature`` or
its known errors' signatures) or starts with it followed by ``:`` (the record is more
general). Covered signatures are attached to their records; the others are proposed.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date
from typing import Any

from ..core.kb import KB
from ..core.program import RecurrenceFile, RecurrenceRule
from ..core.records import KnownError, Problem
from . import sqlexpr as S

PART_COLUMNS = {
    "service": "service_n",
    "category": "category_n",
    "subcategory": "subcategory_n",
    "symptom": "symptom_n",
    "ci": "ci_n",
    "error_codes": "codes",
}
DISTINCT_COLUMNS = {"customers": "customer", "assets": "ci_n", "services": "service_n", "callers": "caller_key"}
DEFAULT_RECURRENCE = RecurrenceFile(rules=[RecurrenceRule(id="default", name="default", min_tickets=5, window_days=30)])


def signature_sql(fields: list[str] | tuple[str, ...]) -> str:
    return S.signature(PART_COLUMNS[f] for f in fields)


def create_signature_view(con: Any, recurrence: RecurrenceFile) -> None:
    """Temp table ``sig``: the tickets that can recur, with their signature from the configured fields."""
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE sig AS SELECT id, opened_at, customer, ci_n, service_n, caller_key, "
        f"{signature_sql(recurrence.signature_fields)} AS signature FROM tickets "
        "WHERE NOT coalesce(is_request, false) AND class IS DISTINCT FROM 'cancelled'"
    )


@dataclass(frozen=True)
class Window:
    rule: str
    tickets: int
    window_days: int
    distinct_by: str
    distinct: int
    distinct_customers: int
    distinct_assets: int
    first_seen: date
    last_seen: date
    ticket_ids: tuple[str, ...]
    services: tuple[str, ...]  # normalised service of each ticket in the window
    customers: tuple[str, ...]  # distinct customers in the window


@dataclass(frozen=True)
class Candidate:
    signature: str
    trigger: Window  # the first rule (in content order) it meets, at its latest window
    rules: tuple[str, ...]  # every rule it meets
    total: int  # tickets with this signature in the store
    first: date
    last: date
    covered_by: tuple[str, ...]  # known errors / open problems that cover it; empty: proposed

    def service(self, known: set[str]) -> str | None:
        """The service most of the window's tickets name, if it is in the taxonomy."""
        counts = Counter(s for s in self.trigger.services if s in known)
        return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[0][0] if counts else None


@dataclass(frozen=True)
class Report:
    fields: tuple[str, ...]
    tickets: int  # tickets considered (no requests, not cancelled)
    without_signature: int
    signatures: int
    candidates: tuple[Candidate, ...]

    @property
    def proposed(self) -> list[Candidate]:
        return [c for c in self.candidates if not c.covered_by]

    @property
    def attached(self) -> list[Candidate]:
        return [c for c in self.candidates if c.covered_by]


def coverage(kb: KB) -> list[tuple[str, str]]:
    """(signature, record id) for every known error that is not retired and every open problem."""
    out: list[tuple[str, str]] = []
    for rec in kb.records.values():
        m = rec.meta
        if isinstance(m, KnownError) and m.status != "retired":
            out.append((m.symptom_signature, m.id))
        elif isinstance(m, Problem) and m.status != "closed":
            if m.trigger and m.trigger.signature:
                out.append((m.trigger.signature, m.id))
            for ke in m.known_errors:
                k = kb.records.get(ke)
                if k is not None and isinstance(k.meta, KnownError):
                    out.append((k.meta.symptom_signature, m.id))
    return out


def covered_by(signature: str, cover: list[tuple[str, str]]) -> tuple[str, ...]:
    ids = {rid for sig, rid in cover if signature == sig or signature.startswith(sig + ":")}
    return tuple(sorted(ids))


def _rule_ends(con: Any, rules: list[RecurrenceRule], since: date | None) -> None:
    """Temp table ``ends``: per signature, column ``e<i>`` = end of the latest window meeting rule i (one sort for all rules)."""
    low = min(r.min_tickets for r in rules)
    cols = []
    for i, r in enumerate(rules):
        frame = f"PARTITION BY signature ORDER BY opened_at RANGE BETWEEN INTERVAL {r.window_days} DAYS PRECEDING AND CURRENT ROW"
        cols.append(f"count(*) OVER ({frame}) AS n{i}, count(DISTINCT {DISTINCT_COLUMNS[r.distinct_by]}) OVER ({frame}) AS d{i}")
    since_sql = f" AND opened_at >= DATE {S.lit(since.isoformat())}" if since else ""
    ends = ", ".join(
        f"max(opened_at) FILTER (WHERE n{i} >= {r.min_tickets} AND d{i} >= {r.min_distinct}{since_sql}) AS e{i}"
        for i, r in enumerate(rules)
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE ends AS
        WITH s AS (
            SELECT * FROM sig WHERE signature IN (SELECT signature FROM sig WHERE signature IS NOT NULL GROUP BY signature HAVING count(*) >= {low})
        ), w AS (SELECT signature, opened_at, {", ".join(cols)} FROM s)
        SELECT * FROM (SELECT signature, {ends} FROM w GROUP BY signature) WHERE {" OR ".join(f"e{i} IS NOT NULL" for i in range(len(rules)))}
        """
    )


def _windows(con: Any, i: int, rule: RecurrenceRule) -> dict[str, Window]:
    """The figures of rule i's latest window for each signature that meets it."""
    dim = DISTINCT_COLUMNS[rule.distinct_by]
    rows = con.execute(
        f"""
        SELECT t.signature, count(*), count(DISTINCT t.{dim}), count(DISTINCT t.customer), count(DISTINCT t.ci_n),
            min(t.opened_at)::DATE, max(t.opened_at)::DATE, list(t.id ORDER BY t.opened_at, t.id),
            list(coalesce(t.service_n, '') ORDER BY t.opened_at, t.id), list(DISTINCT t.customer) FILTER (WHERE t.customer IS NOT NULL)
        FROM sig t JOIN ends e ON t.signature = e.signature AND e.e{i} IS NOT NULL
            AND t.opened_at >= e.e{i} - INTERVAL {rule.window_days} DAYS AND t.opened_at <= e.e{i}
        GROUP BY t.signature
        """
    ).fetchall()
    return {
        sig: Window(
            rule.id, n, rule.window_days, rule.distinct_by, d, dc, da, first, last, tuple(ids), tuple(svcs), tuple(sorted(custs or []))
        )
        for sig, n, d, dc, da, first, last, ids, svcs, custs in rows
    }


def find(con: Any, kb: KB, since: date | None = None) -> Report:
    """Apply every recurrence rule to the store; covered signatures are attached, the others proposed."""
    recurrence = kb.program.recurrence or DEFAULT_RECURRENCE
    create_signature_view(con, recurrence)
    tickets, without, signatures = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE signature IS NULL), count(DISTINCT signature) FROM sig"
    ).fetchone()
    met: dict[str, list[Window]] = {}
    _rule_ends(con, list(recurrence.rules), since)
    for i, rule in enumerate(recurrence.rules):
        for sig, win in _windows(con, i, rule).items():
            met.setdefault(sig, []).append(win)
    totals: dict[str, tuple[int, date, date]] = {
        sig: (n, first, last)
        for sig, n, first, last in con.execute(
            "SELECT signature, count(*), min(opened_at)::DATE, max(opened_at)::DATE FROM sig "
            "WHERE signature IN (SELECT signature FROM ends) GROUP BY signature"
        ).fetchall()
    }
    cover = coverage(kb)
    cands = [
        Candidate(sig, wins[0], tuple(w.rule for w in wins), *totals[sig], covered_by(sig, cover))  # type: ignore[arg-type]
        for sig, wins in met.items()
    ]
    cands.sort(key=lambda c: (-c.trigger.tickets, c.signature))
    return Report(tuple(recurrence.signature_fields), tickets, without, signatures, tuple(cands))
