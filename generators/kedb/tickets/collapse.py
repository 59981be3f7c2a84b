"""From typed export rows (temp table ``ev``) to the store's ``events`` and ``tickets`` tables.

Each ticket's rows are put in time order (``updated_at``, then ``seq``, then file order) and
its latest row gives its state. An event log (some ticket has more than one row) also gives
what a single-row export cannot:

* first response: the first row whose status class is no longer ``new``, unless the export
  has a first-response column;
* resolution: the last time the ticket entered ``resolved``/``closed`` (after any reopen),
  unless the export has ``resolved_at`` / ``closed_at``;
* reopens: moves from ``resolved``/``closed`` back to an open class, unless the export has a
  reopen counter;
* reassignments: changes of ``assignment_group`` between rows, unless it has a counter.
"""

from __future__ import annotations

from typing import Any

from . import sqlexpr as S
from .fields import DONE_CLASSES, SIGNATURE_PARTS

_DONE = "(" + ", ".join(S.lit(c) for c in DONE_CLASSES) + ")"


def build(con: Any, event_log: bool, has_group: bool) -> None:
    """Create ``events`` and ``tickets`` from ``ev`` (and drop ``ev``)."""
    con.execute(
        "CREATE TEMP TABLE ev2 AS SELECT *, "
        "lag(class) OVER w AS prev_class, lag(assignment_group) OVER w AS prev_group, "
        "row_number() OVER w AS step, count(*) OVER (PARTITION BY id) AS n_rows "
        "FROM (SELECT *, coalesce(updated_at, opened_at) AS ts FROM ev) "
        "WINDOW w AS (PARTITION BY id ORDER BY ts, coalesce(seq, -1), _ord)"
    )
    con.execute("DROP TABLE ev")
    con.execute(
        "CREATE TABLE events AS SELECT id, CAST(step AS INTEGER) AS step, ts, status, class, assignment_group, "
        "updated_by_key, _ord AS export_row FROM ev2"
    )
    derived = event_log
    parts = ", ".join(f"{S.norm('l.' + p)} AS {p}_n" for p in SIGNATURE_PARTS)
    minutes = "to_microseconds(CAST(round(l.first_response_minutes * 60000000) AS BIGINT))"
    con.execute(
        f"""
        CREATE TABLE tickets AS
        WITH agg AS (
            SELECT id, count(*) AS events, min(_ord) AS first_row,
                min(ts) FILTER (WHERE class IS NOT NULL AND class <> 'new' AND ts >= opened_at) AS ev_response,
                max(ts) FILTER (WHERE class IN {_DONE} AND (prev_class IS NULL OR prev_class NOT IN {_DONE})) AS ev_done,
                count(*) FILTER (WHERE prev_class IN {_DONE} AND class NOT IN {_DONE}) AS ev_reopens,
                count(*) FILTER (WHERE prev_group IS NOT NULL AND assignment_group IS NOT NULL AND assignment_group <> prev_group) AS ev_reassign,
                arg_max(text, step) FILTER (WHERE text IS NOT NULL) AS last_text
            FROM ev2 GROUP BY id
        ), l AS (SELECT * FROM ev2 WHERE step = n_rows)
        SELECT l.id, l.opened_at, l.ts AS updated_at, l.status, l.class, l.type, l.is_request, l.priority,
            l.customer, l.caller_key, l.ci, l.assignment_group, l.service, l.category, l.subcategory, l.symptom,
            l.problem_id, {parts}, {S.codes("a.last_text")} AS codes,
            coalesce(l.first_response_at, l.opened_at + {minutes}{", a.ev_response" if derived else ""}) AS first_response_at,
            l.first_response_minutes, l.resolution_minutes, l.resolved_at, l.closed_at,
            CASE WHEN l.class IN {_DONE} THEN coalesce(l.resolved_at, l.closed_at{", a.ev_done" if derived else ""}, l.ts)
                 WHEN l.class IS NULL THEN coalesce(l.resolved_at, l.closed_at) END AS done_at,
            coalesce(l.reopen_count{", a.ev_reopens" if derived else ""}) AS reopen_count,
            coalesce(l.reassignment_count{", a.ev_reassign" if derived and has_group else ""}) AS reassignment_count,
            CASE WHEN l.sla_breached IS NOT NULL THEN l.sla_breached
                 WHEN l.response_breached OR l.resolution_breached THEN true
                 WHEN l.response_breached IS NOT NULL OR l.resolution_breached IS NOT NULL THEN false END AS sla_breached,
            CAST(a.events AS INTEGER) AS events, a.first_row
        FROM l JOIN agg a USING (id)
        """
    )
    con.execute("DROP TABLE ev2")
