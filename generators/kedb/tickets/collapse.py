"""From typed export rows (temp table ``ev``) to the store's ``events`` and ``tickets`` tables.

Each ticket's rows are put in time order (``updated_at``, else ``opened_at``; then ``seq``;
then file order) and its latest row gives its state. Only the narrow per-row columns are
sorted; the descriptive ones (category, customer, …) are taken from the latest row and
cleaned once per ticket. An event log (some ticket has more than one row) also gives what a
single-row export cannot:

* first response: the first row whose status class is no longer ``new``, unless the export
  has a first-response column;
* resolution: the last time the ticket entered ``resolved``/``closed`` (after any reopen),
  unless the export has ``resolved_at`` / ``closed_at``;
* reopens: moves from ``resolved``/``closed`` back to an open class, unless the export has a
  reopen counter;
* reassignments: changes of ``assignment_group`` between rows, unless it has a counter.

Free text is read from the latest row only, to extract error codes; it is not stored. Nor
are the raw category values: only their normalised forms (``service_n`` … ``ci_n``).
"""

from __future__ import annotations

from typing import Any

from . import sqlexpr as S
from .fields import DONE_CLASSES, SIGNATURE_PARTS
from .mapping import Resolved

_DONE = "(" + ", ".join(S.lit(c) for c in DONE_CLASSES) + ")"


def _clean(res: Resolved, name: str, v: str) -> str:
    """A descriptive value as kept: trimmed, missing markers → NULL, the mapping's `values` applied."""
    m = res.mapping
    clean = S.cleaned(v, m.missing)
    return S.translated(clean, m.fields[name]) if name in m.fields else clean


def build(con: Any, res: Resolved, event_log: bool) -> None:
    """Create ``events`` and ``tickets`` from ``ev`` (and drop it)."""
    m = res.mapping
    order = "ORDER BY coalesce(updated_at, opened_at), coalesce(seq, -1), _ord"
    if event_log:
        con.execute(
            "CREATE TEMP TABLE w AS SELECT id, _ord, coalesce(updated_at, opened_at) AS ts, opened_at, status, class, "
            "assignment_group, updated_by_key, lag(class) OVER win AS prev_class, lag(assignment_group) OVER win AS prev_group, "
            f"row_number() OVER win AS step, lead(_ord) OVER win IS NULL AS is_last FROM ev WINDOW win AS (PARTITION BY id {order})"
        )
        con.execute(
            "CREATE TABLE events AS SELECT id, CAST(step AS INTEGER) AS step, ts, status, class, assignment_group, updated_by_key, "
            "_ord AS export_row FROM w"
        )
        con.execute(
            f"""
            CREATE TEMP TABLE agg AS
            SELECT id, max(_ord) FILTER (WHERE is_last) AS last_ord, count(*) AS events,
                min(ts) FILTER (WHERE class IS NOT NULL AND class <> 'new' AND ts >= opened_at) AS ev_response,
                max(ts) FILTER (WHERE class IN {_DONE} AND (prev_class IS NULL OR prev_class NOT IN {_DONE})) AS ev_done,
                count(*) FILTER (WHERE prev_class IN {_DONE} AND class NOT IN {_DONE}) AS ev_reopens,
                count(*) FILTER (WHERE prev_group IS NOT NULL AND assignment_group IS NOT NULL AND assignment_group <> prev_group) AS ev_reassign
            FROM w GROUP BY id
            """
        )
        con.execute("DROP TABLE w")
        latest = "FROM ev e JOIN agg a ON e._ord = a.last_ord"
    else:
        con.execute(
            "CREATE TABLE events AS SELECT id, 1 AS step, coalesce(updated_at, opened_at) AS ts, status, class, assignment_group, "
            "updated_by_key, _ord AS export_row FROM ev"
        )
        latest = "FROM ev e"
    # Signature parts are normalised once per distinct raw value: there are far fewer values than tickets.
    union = " UNION ".join(f"SELECT '{p}' AS f, r_{p} AS v FROM ev" for p in SIGNATURE_PARTS)
    cases = " ".join(f"WHEN '{p}' THEN {S.norm(_clean(res, p, 'v'))}" for p in SIGNATURE_PARTS)
    con.execute(f"CREATE TEMP TABLE norm AS SELECT f, v, CASE f {cases} END AS n FROM ({union}) WHERE v IS NOT NULL")
    joins = " ".join(f"LEFT JOIN norm n_{p} ON n_{p}.f = '{p}' AND n_{p}.v = e.r_{p}" for p in SIGNATURE_PARTS)
    parts = ", ".join(f"n_{p}.n AS {p}_n" for p in SIGNATURE_PARTS)
    d, has_group = event_log, "assignment_group" in res.columns
    ts = "coalesce(e.updated_at, e.opened_at)"
    caller = S.hashed(_clean(res, "caller", "e.r_caller"), res.salt)
    minutes = "to_microseconds(CAST(round(e.first_response_minutes * 60000000) AS BIGINT))"
    con.execute(
        f"""
        CREATE TABLE tickets AS
        SELECT e.id, e.opened_at, {ts} AS updated_at, e.status, e.class,
            {S.in_list(_clean(res, "type", "e.r_type"), m.request_types)} AS is_request,
            {_clean(res, "priority", "e.r_priority")} AS priority, {_clean(res, "customer", "e.r_customer")} AS customer,
            {caller} AS caller_key, e.assignment_group, {_clean(res, "problem_id", "e.r_problem_id")} AS problem_id,
            {parts}, {S.codes("e.r_text")} AS codes,
            coalesce(e.first_response_at, e.opened_at + {minutes}{", a.ev_response" if d else ""}) AS first_response_at,
            e.first_response_minutes, e.resolution_minutes, e.resolved_at, e.closed_at,
            CASE WHEN e.class IN {_DONE} THEN coalesce(e.resolved_at, e.closed_at{", a.ev_done" if d else ""}, {ts})
                 WHEN e.class IS NULL THEN coalesce(e.resolved_at, e.closed_at) END AS done_at,
            coalesce(e.reopen_count{", a.ev_reopens" if d else ""}) AS reopen_count,
            coalesce(e.reassignment_count{", a.ev_reassign" if d and has_group else ""}) AS reassignment_count,
            CASE WHEN e.sla_breached IS NOT NULL THEN e.sla_breached
                 WHEN e.response_breached OR e.resolution_breached THEN true
                 WHEN e.response_breached IS NOT NULL OR e.resolution_breached IS NOT NULL THEN false END AS sla_breached,
            {"CAST(a.events AS INTEGER)" if d else "1"} AS events, e._ord AS last_row
        {latest} {joins}
        """
    )
    for t in ("ev", "norm", *(("agg",) if d else ())):
        con.execute(f"DROP TABLE {t}")
