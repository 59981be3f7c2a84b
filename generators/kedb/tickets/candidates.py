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
general). Covered signatures are attached to their records; the others are proposed, unless
``content/decisions.yml`` rejected them (:mod:`kedb.core.decisions`): a rejected signature is
held back until the latest window of the rule it was rejected under holds ``regrowth_factor``
times the tickets it held then, and it is then proposed again with its rejection shown.

``until`` (``--as-of``) reads the store as it was at the end of that day: only tickets opened
by then count, so a decision records the volume the desk saw when it decided.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from ..core.decisions import Decision, DecisionsFile
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
DISTINCT_FIELDS = {"customers": "customer", "assets": "ci", "services": "service", "callers": "caller"}


def distinct_sql(distinct_by: str, columns: Mapping[str, object]) -> str:
    """What ``distinct_by`` counts: its column, or one value for every ticket when the export lacks the field
    (an export without customers is read as one customer, not as none)."""
    return DISTINCT_COLUMNS[distinct_by] if DISTINCT_FIELDS[distinct_by] in columns else "'(one)'"


DEFAULT_RECURRENCE = RecurrenceFile(rules=[RecurrenceRule(id="default", name="default", min_tickets=5, window_days=30)])


# The ticket field each signature part comes from (error codes are found in the free text).
PART_FIELDS = {
    "service": "service",
    "category": "category",
    "subcategory": "subcategory",
    "symptom": "symptom",
    "ci": "ci",
    "error_codes": "text",
}
NONE = "(none)"  # an empty signature part, as shown


def signature_sql(fields: list[str] | tuple[str, ...]) -> str:
    return S.signature(PART_COLUMNS[f] for f in fields)


def signature_fields_used(fields: list[str] | tuple[str, ...], columns: Mapping[str, object]) -> tuple[list[str], list[str]]:
    """(the configured signature fields the export has, those it lacks): a lacking field is empty on every ticket."""
    used = [f for f in fields if PART_FIELDS[f] in columns]
    return used, [f for f in fields if f not in used]


def shown_sql(used: list[str]) -> str:
    """The signature as shown: every part the export has, an empty one as ``(none)``, so that
    ``a:(none):b`` and ``a:b:(none)`` stay two signatures (the stored key would write both ``a:b``)."""
    if not used:
        return "CAST(NULL AS VARCHAR)"
    cols = [PART_COLUMNS[f] for f in used]
    parts = ", ".join(f"coalesce({c}, {S.lit(NONE)})" for c in cols)
    return f"CASE WHEN {' OR '.join(f'{c} IS NOT NULL' for c in cols)} THEN concat_ws(':', {parts}) END"


def create_signature_view(con: Any, recurrence: RecurrenceFile, columns: Mapping[str, object], until: date | None = None) -> None:
    """Temp table ``sig``: the tickets that can recur, with their signature from the configured fields
    (``signature``, the key records carry) and as shown (``shown``, empty parts kept); with ``until``,
    only those opened by the end of that day."""
    used, _ = signature_fields_used(recurrence.signature_fields, columns)
    upto = f" AND opened_at < DATE {S.lit((until + timedelta(days=1)).isoformat())}" if until else ""
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE sig AS SELECT id, opened_at, customer, ci_n, service_n, caller_key, "
        f"{signature_sql(recurrence.signature_fields)} AS signature, {shown_sql(used)} AS shown FROM tickets "
        f"WHERE NOT coalesce(is_request, false) AND class IS DISTINCT FROM 'cancelled'{upto}"
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
class Rejection:
    """A standing rejection of a candidate's signature in ``content/decisions.yml``, measured now."""

    decision: Decision
    now: int | None  # tickets in the latest window of the rule it was rejected under; None: it does not meet that rule now
    again_at: int  # tickets in that window that propose it again (regrowth factor × volume then)

    @property
    def proposed_again(self) -> bool:
        return self.now is not None and self.now >= self.again_at


@dataclass(frozen=True)
class Candidate:
    shown: str  # the signature with empty parts as (none): what a candidate is
    signature: str  # the key a record carries (empty parts left out)
    trigger: Window  # the first rule (in content order) it meets, at its latest window
    rules: tuple[str, ...]  # every rule it meets
    total: int  # tickets with this signature in the store
    first: date
    last: date
    covered_by: tuple[str, ...]  # known errors / open problems that cover it; empty: proposed
    windows: tuple[Window, ...] = ()  # the latest window of every rule it meets, in content order
    rejected: Rejection | None = None  # its standing rejection, if content/decisions.yml has one

    @property
    def held_back(self) -> bool:
        """Rejected and not grown enough since: neither proposed nor attached."""
        return not self.covered_by and self.rejected is not None and not self.rejected.proposed_again

    def service(self, known: set[str]) -> str | None:
        """The service most of the window's tickets name, if it is in the taxonomy."""
        counts = Counter(s for s in self.trigger.services if s in known)
        return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[0][0] if counts else None


@dataclass(frozen=True)
class Report:
    fields: tuple[str, ...]  # signature fields the export has
    lacking: tuple[str, ...]  # configured signature fields it lacks (empty on every ticket)
    tickets: int  # tickets considered (no requests, not cancelled)
    without_signature: int
    signatures: int
    candidates: tuple[Candidate, ...]

    @property
    def proposed(self) -> list[Candidate]:
        return [c for c in self.candidates if not c.covered_by and not c.held_back]

    @property
    def held_back(self) -> list[Candidate]:
        """Rejected before, and held back until their volume grows past the regrowth factor."""
        return [c for c in self.candidates if c.held_back]

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


def _rule_ends(con: Any, rules: list[RecurrenceRule], since: date | None, columns: Mapping[str, object]) -> None:
    """Temp table ``ends``: per signature, column ``e<i>`` = end of the latest window meeting rule i (one sort for all rules)."""
    low = min(r.min_tickets for r in rules)
    cols = []
    for i, r in enumerate(rules):
        frame = f"PARTITION BY shown ORDER BY opened_at RANGE BETWEEN INTERVAL {r.window_days} DAYS PRECEDING AND CURRENT ROW"
        cols.append(f"count(*) OVER ({frame}) AS n{i}, count(DISTINCT {distinct_sql(r.distinct_by, columns)}) OVER ({frame}) AS d{i}")
    since_sql = f" AND opened_at >= DATE {S.lit(since.isoformat())}" if since else ""
    ends = ", ".join(
        f"max(opened_at) FILTER (WHERE n{i} >= {r.min_tickets} AND d{i} >= {r.min_distinct}{since_sql}) AS e{i}"
        for i, r in enumerate(rules)
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE ends AS
        WITH s AS (
            SELECT * FROM sig WHERE shown IN (SELECT shown FROM sig WHERE shown IS NOT NULL GROUP BY shown HAVING count(*) >= {low})
        ), w AS (SELECT shown, opened_at, {", ".join(cols)} FROM s)
        SELECT * FROM (SELECT shown, {ends} FROM w GROUP BY shown) WHERE {" OR ".join(f"e{i} IS NOT NULL" for i in range(len(rules)))}
        """
    )


def _windows(con: Any, i: int, rule: RecurrenceRule, columns: Mapping[str, object]) -> dict[str, Window]:
    """The figures of rule i's latest window for each signature that meets it."""
    dim = distinct_sql(rule.distinct_by, columns)
    rows = con.execute(
        f"""
        SELECT t.shown, count(*), count(DISTINCT {dim if dim.startswith("'") else "t." + dim}), count(DISTINCT t.customer), count(DISTINCT t.ci_n),
            min(t.opened_at)::DATE, max(t.opened_at)::DATE, list(t.id ORDER BY t.opened_at, t.id),
            list(coalesce(t.service_n, '') ORDER BY t.opened_at, t.id), list(DISTINCT t.customer) FILTER (WHERE t.customer IS NOT NULL)
        FROM sig t JOIN ends e ON t.shown = e.shown AND e.e{i} IS NOT NULL
            AND t.opened_at >= e.e{i} - INTERVAL {rule.window_days} DAYS AND t.opened_at <= e.e{i}
        GROUP BY t.shown
        """
    ).fetchall()
    return {
        shown: Window(
            rule.id, n, rule.window_days, rule.distinct_by, d, dc, da, first, last, tuple(ids), tuple(svcs), tuple(sorted(custs or []))
        )
        for shown, n, d, dc, da, first, last, ids, svcs, custs in rows
    }


def rejection(log: DecisionsFile | None, shown: str, windows: tuple[Window, ...]) -> Rejection | None:
    """The standing rejection of ``shown``, with the tickets now in the window of the rule it was rejected under."""
    d = log.standing(shown) if log is not None else None
    if log is None or d is None:
        return None
    now = next((w.tickets for w in windows if w.rule == d.rule), None)
    return Rejection(d, now, log.again_at(d.volume or 1))


def find(con: Any, kb: KB, columns: Mapping[str, object], since: date | None = None, until: date | None = None) -> Report:
    """Apply every recurrence rule to the store (as of the end of ``until``); covered signatures
    are attached, rejected ones held back until they grow, the others proposed."""
    recurrence = kb.program.recurrence or DEFAULT_RECURRENCE
    used, lacking = signature_fields_used(recurrence.signature_fields, columns)
    create_signature_view(con, recurrence, columns, until)
    tickets, without, signatures = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE shown IS NULL), count(DISTINCT shown) FROM sig"
    ).fetchone()
    met: dict[str, list[Window]] = {}
    _rule_ends(con, list(recurrence.rules), since, columns)
    for i, rule in enumerate(recurrence.rules):
        for shown, win in _windows(con, i, rule, columns).items():
            met.setdefault(shown, []).append(win)
    totals: dict[str, tuple[str, int, date, date]] = {
        shown: (sig, n, first, last)
        for shown, sig, n, first, last in con.execute(
            "SELECT shown, any_value(signature), count(*), min(opened_at)::DATE, max(opened_at)::DATE FROM sig "
            "WHERE shown IN (SELECT shown FROM ends) GROUP BY shown"
        ).fetchall()
    }
    cover = coverage(kb)
    log = kb.program.decisions
    cands = []
    for shown, wins in met.items():
        sig, n, first, last = totals[shown]
        cands.append(
            Candidate(
                shown,
                sig,
                wins[0],
                tuple(w.rule for w in wins),
                n,
                first,
                last,
                covered_by(sig, cover),
                tuple(wins),
                rejection(log, shown, tuple(wins)),
            )
        )
    cands.sort(key=lambda c: (-c.trigger.tickets, c.shown))
    return Report(tuple(used), tuple(lacking), tickets, without, signatures, tuple(cands))
