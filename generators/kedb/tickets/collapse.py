"""From the ``events`` table of the first pass to each ticket's state: the store's ``tickets`` table.

The first pass (:mod:`kedb.tickets.importer`) put every ticket's rows in time order (``updated_at``,
else ``opened_at``; then ``seq``; then file order) and marked each ticket's latest row. Here the
events are aggregated per ticket, and a second pass reads the descriptive columns (category,
customer, dates, counts, …) of the latest rows only, so the wide text of earlier rows is never
kept: from a copy of their lines when the export's records were indexed
(:mod:`kedb.tickets.lines`), else from the export again, a bitmap filtering the scan (of the
latest rows' keys, a hash of their per-row cells, when every such key is unique; else of their
row numbers). Each distinct raw
signature value is normalised once. An event log (some ticket has more than one row) also gives
what a single-row export cannot:

* first response: the first row whose status class is no longer ``new``, unless the export
  has a first-response column;
* resolution: the last time the ticket entered ``resolved``/``closed``/``cancelled`` (after any
  reopen) when the export's ``resolved_at`` is empty; ``closed_at`` only when the log shows no
  such moment (a ticket closed days after it was resolved was resolved when the log says so);
* reopens: moves from ``resolved``/``closed`` back to an open class, unless the export has a
  reopen counter;
* reassignments: changes of ``assignment_group`` between rows, unless it has a counter.

The latest rows' descriptive cells are checked here too (``_dbad``, :func:`kedb.tickets.rows.latest_bad`): one
that cannot be read stops the import (:class:`Unreadable`); those of the rows they supersede are never read.

Free text is read from the latest row only, to extract error codes; it is not stored. Nor
are the raw category values: only their normalised forms (``service_n`` … ``ci_n``), and the
tenant's (``tenant``).
"""

from __future__ import annotations

import contextlib
import dataclasses
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import duckdb
import numpy as np

from . import sqlexpr as S
from .fields import DONE_CLASSES, SIGNATURE_PARTS
from .lines import Scan, records, write_rows
from .mapping import Resolved
from .reader import Input
from .rows import latest_columns, numbered, row_key, scan_sql

_DONE = "(" + ", ".join(S.lit(c) for c in DONE_CLASSES) + ")"
_SCRATCH = ("enters_done", "reopens", "regroups", "is_last", "opened_at", "_bad")  # columns of the first pass the store does not keep


def history_flags(prev_class: str, prev_group: str) -> str:
    """What a row's predecessor in its ticket's history (``prev_class``, ``prev_group``: ``lag`` over the first pass's
    window) says about the row, as three booleans for :func:`_aggregate`: the ticket entered a done class, was
    reopened, changed group. Booleans, not the predecessor's class and group: ``events`` is written to disk with
    these scratch columns, and two more text columns cost a second of CPU there at 4.5 million rows."""
    return (
        f"(class IN {_DONE} AND ({prev_class} IS NULL OR {prev_class} NOT IN {_DONE})) AS enters_done, "
        f"({prev_class} IN {_DONE} AND class NOT IN {_DONE}) AS reopens, "
        f"({prev_group} IS NOT NULL AND assignment_group IS NOT NULL AND assignment_group <> {prev_group}) AS regroups"
    )


def _clean(res: Resolved, name: str, v: str) -> str:
    """A descriptive value as kept: trimmed, missing markers → NULL, the mapping's `values` applied."""
    m = res.mapping
    clean = S.cleaned(v, m.missing)
    return S.translated(clean, m.fields[name]) if name in m.fields else clean


def _aggregate(con: Any, keyed: bool) -> None:
    """``agg``: per ticket of an event log, its latest row (and with ``keyed`` that row's key) and what its history shows."""
    last_k = " max(_k) FILTER (WHERE is_last) AS last_k," if keyed else ""
    con.execute(
        f"""
        CREATE TEMP TABLE agg AS
        SELECT id, max(export_row) FILTER (WHERE is_last) AS last_ord,{last_k} count(*) AS events,
            max(opened_at) FILTER (WHERE is_last) AS opened_at, max(ts) FILTER (WHERE is_last) AS updated_at,
            max(status) FILTER (WHERE is_last) AS status, max(class) FILTER (WHERE is_last) AS class,
            max(assignment_group) FILTER (WHERE is_last) AS assignment_group,
            min(ts) FILTER (WHERE class IS NOT NULL AND class <> 'new' AND ts >= opened_at) AS ev_response,
            max(ts) FILTER (WHERE enters_done) AS ev_done, count(*) FILTER (WHERE reopens) AS ev_reopens,
            count(*) FILTER (WHERE regroups) AS ev_reassign
        FROM events GROUP BY id
        """
    )


def _keys_unique(con: Any) -> bool:
    """True when no latest row shares its key (:func:`~kedb.tickets.rows.row_key`) with another row of the export."""
    return not con.execute(
        "SELECT count(*) FROM events WHERE is_last AND _k IN (SELECT _k FROM events GROUP BY _k HAVING count(*) > 1)"
    ).fetchone()[0]


def bitmap_size(latest: int) -> int:
    """Bits of the latest keys' bitmap: about 16 per latest row (a power of two from 2**20 to 2**27), so about 6 %
    of the other rows pass it."""
    return 1 << max(20, min(27, (16 * max(latest, 1) - 1).bit_length()))


def _latest_by_key(con: Any, inp: Input, res: Resolved) -> None:
    """``lt`` from a parallel scan: the rows that pass a bitmap of the latest rows' keys' low bits, each with its
    key ``_k``. About 6 % of the other rows pass too; they are dropped by the join on ``agg.last_k``, which is
    exact because each latest key belongs to that row alone (:func:`_keys_unique`). A filter, not a join, so the
    descriptive columns of the 4.5 million rows of a large log are never carried into a hash table."""
    size = bitmap_size(con.execute("SELECT count(*) FROM events WHERE is_last").fetchone()[0])
    con.execute(f"SET VARIABLE kedb_latest = (SELECT bitstring_agg(CAST(_k % {size} AS INTEGER), 0, {size - 1}) FROM events WHERE is_last)")
    key = row_key(res)
    con.execute(
        f"CREATE TEMP TABLE lt AS SELECT {key} AS _k, {', '.join(latest_columns(res))} FROM {scan_sql(inp, res.mapping.missing)} "
        f"WHERE get_bit(getvariable('kedb_latest'), CAST({key} % {size} AS INTEGER)) = 1"
    )


@dataclasses.dataclass(frozen=True)
class Unreadable:
    """Latest rows whose descriptive cells cannot be read (``_dbad``, :func:`kedb.tickets.rows.latest_bad`): how many,
    and the first of them in file order as (row number, bits): the import stops and lists them."""

    rows: int
    first: list[tuple[int, int]]


COPY = ".latest.csv"  # the suffix of the latest rows' own CSV files, in .kedb/tmp
PARTS = 3  # the latest rows are copied in this many files, each parsed as soon as it is written
Copy = list[tuple[Input, "Future[None]"]]  # the latest rows' own CSV files in file order, each with the job writing it


def forget_copies(tmp: Path) -> None:
    """Delete the copies of latest rows that killed imports left in ``tmp`` (called under the import lock). One that
    cannot be deleted (a folder of that name) stays: the new copy is then not made, and the export is read again."""
    for path in tmp.glob(f"*{COPY}"):
        _drop(path)


def _drop(path: Path) -> None:
    """Delete a copy of latest rows if it is a file kedb can delete (a folder of that name is left alone)."""
    with contextlib.suppress(OSError):
        path.unlink(missing_ok=True)


def _copy_latest(con: Any, inp: Input, found: Scan | None, rows: int, tmp: Path, pool: ThreadPoolExecutor) -> Copy | None:
    """Start copying the latest rows' lines from the export into small CSV files of their own (:data:`PARTS`, in file
    order), each row prefixed by its row number (:func:`kedb.tickets.lines.write_rows`), in a thread beside the
    aggregation: DuckDB parses each file while the thread writes the next, rather than wait for the whole copy (which
    left a core idle for about a second on a 4.5-million-row log). None when ``found`` has no index, or not one record
    per row DuckDB read (a blank line, a lone carriage return): then the export is read again."""
    if found is None or records(found) != inp.skip + 1 + rows:
        return None
    taken = {h.lower() for h in inp.header}
    name = next(n for n in (f"_kedb_row{'_' * i}" for i in range(len(taken) + 1)) if n not in taken)
    latest = con.execute("SELECT export_row FROM events WHERE is_last ORDER BY export_row").fetchnumpy()["export_row"]
    try:
        tmp.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    copy: Copy = []
    for i, part in enumerate(p for p in np.array_split(latest, PARTS) if len(p)):
        sub = dataclasses.replace(inp, path=tmp / f"{inp.path.name}.{i}{COPY}", header=(name, *inp.header), skip=0, temporary=True)
        copy.append((sub, pool.submit(write_rows, inp.path, found, inp.skip, part, sub.path, inp.delimiter, name)))
    return copy


def _latest_by_lines(con: Any, res: Resolved, copy: Copy) -> bool:
    """``lt`` from the latest rows' own CSV files (:func:`_copy_latest`), each parsed in parallel as soon as it is
    written. True when every row of them has its ticket's latest row's number and key (``agg.last_k``) and there is one
    per ticket; else ``lt`` is dropped and the caller reads the export again."""
    try:
        for i, (sub, job) in enumerate(copy):
            job.result()
            rows = (
                f"SELECT TRY_CAST({S.ident(sub.header[0])} AS BIGINT) AS _ord, {row_key(res)} AS _k, "
                f"{', '.join(latest_columns(res))} FROM {scan_sql(sub, res.mapping.missing)}"
            )
            con.execute(f"INSERT INTO lt {rows}" if i else f"CREATE TEMP TABLE lt AS {rows}")
            _drop(sub.path)
        n, same, kept = con.execute(
            "SELECT (SELECT count(*) FROM agg), (SELECT count(*) FROM agg a JOIN lt e ON e._ord = a.last_ord AND e._k = a.last_k), "
            "(SELECT count(*) FROM lt)"
        ).fetchone()
    except (duckdb.Error, OSError):
        n, same, kept = 0, -1, -1
    if n == same == kept:
        return True
    con.execute("DROP TABLE IF EXISTS lt")
    return False


def build(
    con: Any,
    inp: Input,
    res: Resolved,
    event_log: bool,
    rows: int,
    wide: bool,
    keyed: bool = False,
    *,
    found: Scan | None = None,
    tmp: Path | None = None,
    listed: int = 20,
) -> Unreadable | None:
    """Create ``tickets`` from ``events`` and the export's latest rows; drop the first pass's scratch columns. When a
    latest row has a descriptive cell that cannot be read, return those rows instead (at most ``listed`` of them),
    and create nothing: the caller stops the import.

    ``wide``: the first pass kept every row's descriptive columns (``pass1``), as it does for an export that
    looked like one row per ticket; they are taken from there instead of a second pass over the file.
    ``keyed``: the first pass read in parallel (:func:`kedb.tickets.importer.in_file_order`): ``events`` has
    each row's key ``_k``, and ``pass1`` is a view over the table ``pass0``. The second pass of an event log
    then reads the latest rows alone from a copy of their lines when ``found`` indexes the export's records (written
    in ``tmp``); else finds them by their keys, in parallel, when those keys are unique; else by their numbers."""
    copy: Copy | None = None
    try:
        with ThreadPoolExecutor(max_workers=1) as pool:  # one thread: the parts are written in order
            if event_log and keyed and not wide and tmp is not None:
                copy = _copy_latest(con, inp, found, rows, tmp, pool)
            return _collapse(con, inp, res, event_log, rows, wide, keyed, copy, listed)
    finally:
        for sub, _ in copy or ():
            _drop(sub.path)


def _collapse(
    con: Any, inp: Input, res: Resolved, event_log: bool, rows: int, wide: bool, keyed: bool, copy: Copy | None, listed: int
) -> Unreadable | None:
    m = res.mapping
    if not event_log:  # one row per ticket: each row is its ticket's state, with nothing to aggregate
        con.execute(
            "CREATE TEMP VIEW agg AS SELECT id, export_row AS last_ord, 1 AS events, opened_at, ts AS updated_at, status, class, "
            "assignment_group FROM events"
        )
    else:
        _aggregate(con, keyed)
    on = "e._ord = a.last_ord"
    if wide:  # every row's descriptive columns are in pass1; the join below on last_ord picks the latest
        latest, scratch = "pass1", (["VIEW pass1", "TABLE pass0"] if keyed else ["TABLE pass1"])
    elif copy is not None and _latest_by_lines(con, res, copy):
        latest, scratch = "lt", ["TABLE lt"]
    elif event_log and keyed and _keys_unique(con):
        latest, scratch, on = "lt", ["TABLE lt"], "e._k = a.last_k"
        _latest_by_key(con, inp, res)
    else:
        keep, latest, scratch = "", "lt", ["TABLE lt"]
        if event_log:  # only the latest rows: a bitmap of their row numbers, a constant the scan tests each row against
            con.execute(f"SET VARIABLE kedb_latest = (SELECT bitstring_agg(export_row, 1, {max(rows, 1)}) FROM events WHERE is_last)")
            keep = "WHERE get_bit(getvariable('kedb_latest'), CAST(_ord - 1 AS INTEGER)) = 1"
        con.execute(f"CREATE TEMP TABLE lt AS SELECT _ord, {', '.join(latest_columns(res))} FROM {numbered(inp, m.missing)} {keep}")
    bad = f"FROM agg a JOIN {latest} e ON {on} WHERE e._dbad <> 0"
    if n := con.execute(f"SELECT count(*) {bad}").fetchone()[0]:
        return Unreadable(
            n, [(int(o), int(b)) for o, b in con.execute(f"SELECT a.last_ord, e._dbad {bad} ORDER BY 1 LIMIT {listed}").fetchall()]
        )
    # Signature parts are normalised once per distinct raw value: there are far fewer values than tickets.
    # So is the tenant, which is matched to content/kedb.yml in the same normal form (kedb.tickets.tenants).
    normed = (*SIGNATURE_PARTS, "tenant")
    union = " UNION ".join(f"SELECT '{p}' AS f, r_{p} AS v FROM {latest}" for p in normed)
    cases = " ".join(f"WHEN '{p}' THEN {S.norm(_clean(res, p, 'v'))}" for p in normed)
    con.execute(f"CREATE TEMP TABLE norm AS SELECT f, v, CASE f {cases} END AS n FROM ({union}) WHERE v IS NOT NULL")
    joins = " ".join(f"LEFT JOIN norm n_{p} ON n_{p}.f = '{p}' AND n_{p}.v = e.r_{p}" for p in normed)
    parts = ", ".join(f"n_{p}.n AS {p}_n" for p in SIGNATURE_PARTS)
    d, has_group = event_log, "assignment_group" in res.columns
    caller = S.hashed(_clean(res, "caller", "e.r_caller"), res.salt)
    minutes = "to_microseconds(CAST(round(e.first_response_minutes * 60000000) AS BIGINT))"
    con.execute(
        f"""
        CREATE TABLE tickets AS
        SELECT a.id, a.opened_at, a.updated_at, a.status, a.class,
            {S.in_list(_clean(res, "type", "e.r_type"), m.request_types)} AS is_request,
            {_clean(res, "priority", "e.r_priority")} AS priority, {_clean(res, "customer", "e.r_customer")} AS customer,
            {caller} AS caller_key, a.assignment_group, {_clean(res, "problem_id", "e.r_problem_id")} AS problem_id,
            n_tenant.n AS tenant, e.knowledge, e.satisfaction,
            {parts}, {S.codes("e.r_text")} AS codes,
            coalesce(e.first_response_at, a.opened_at + {minutes}{", a.ev_response" if d else ""}) AS first_response_at,
            e.first_response_minutes, e.resolution_minutes, e.resolved_at, e.closed_at,
            CASE WHEN a.class IN {_DONE} THEN coalesce(e.resolved_at{", a.ev_done" if d else ""}, e.closed_at, a.updated_at)
                 WHEN a.class IS NULL THEN coalesce(e.resolved_at, e.closed_at) END AS done_at,
            coalesce(e.reopen_count{", a.ev_reopens" if d else ""}) AS reopen_count,
            coalesce(e.reassignment_count{", a.ev_reassign" if d and has_group else ""}) AS reassignment_count,
            CASE WHEN e.sla_breached IS NOT NULL THEN e.sla_breached
                 WHEN e.response_breached OR e.resolution_breached THEN true
                 WHEN e.response_breached IS NOT NULL OR e.resolution_breached IS NOT NULL THEN false END AS sla_breached,
            CAST(a.events AS INTEGER) AS events, a.last_ord AS last_row
        FROM agg a JOIN {latest} e ON {on} {joins}
        """
    )
    con.execute(f"DROP {'TABLE' if event_log else 'VIEW'} agg")
    for t in ("TABLE norm", *scratch):
        con.execute(f"DROP {t}")
    con.execute("RESET VARIABLE kedb_latest")
    for col in (*_SCRATCH, "_k") if keyed else _SCRATCH:
        con.execute(f"ALTER TABLE events DROP COLUMN {col}")
    return None
