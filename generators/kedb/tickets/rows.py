"""How the export's cells are read: DuckDB's scan of the file, each row's number, and each field's value in its type.

Shared by the first pass (:mod:`kedb.tickets.importer`) and the second (:mod:`kedb.tickets.collapse`),
so a value reads the same in both.
"""

from __future__ import annotations

from . import sqlexpr as S
from .fields import FIELDS
from .mapping import Resolved
from .reader import Input


def scan_sql(inp: Input, missing: list[str] | None = None) -> str:
    """DuckDB's reader over the export: every column text, the mapping's missing markers read as NULL."""
    cols = "{" + ", ".join(f"{S.lit(h)}: 'VARCHAR'" for h in inp.header) + "}"
    nulls = f", nullstr = {S.lits(missing)}" if missing else ""
    return (
        f"read_csv({S.lit(str(inp.path))}, header = true, skip = {inp.skip}, delim = {S.lit(inp.delimiter)}, quote = '\"', "
        f"escape = '\"', strict_mode = true, store_rejects = true, auto_detect = false, encoding = {S.lit(inp.encoding)}{nulls}, "
        f"columns = {cols})"
    )


def peek_sql(inp: Input, column: str, rows: int) -> str:
    """The first ``rows`` values of ``column``, read leniently (a guess about the file's shape, never a finding)."""
    cols = "{" + ", ".join(f"{S.lit(h)}: 'VARCHAR'" for h in inp.header) + "}"
    scan = (
        f"read_csv({S.lit(str(inp.path))}, header = true, skip = {inp.skip}, delim = {S.lit(inp.delimiter)}, quote = '\"', "
        f"escape = '\"', ignore_errors = true, auto_detect = false, encoding = {S.lit(inp.encoding)}, columns = {cols})"
    )
    return f"SELECT nullif(trim({S.ident(column)}), '') AS v FROM {scan} LIMIT {rows}"


def numbered(inp: Input, missing: list[str] | None = None) -> str:
    """The export's rows with ``_ord``: 1 for the first data row, in file order.

    DuckDB numbers them in one thread (a streaming window), so everything computed above it runs in
    one thread too; :func:`unnumbered` is the parallel way, for a table that numbers its rows itself."""
    return f"(SELECT row_number() OVER () AS _ord, * FROM {scan_sql(inp, missing)})"


def unnumbered(inp: Input, res: Resolved, missing: list[str] | None = None) -> str:
    """The export's rows for a parallel scan: ``_ord`` is a placeholder (0) and ``_k`` is :func:`row_key`.

    A table made from it by a plan that keeps file order (a scan, projections and filters: DuckDB's
    "order preservation") holds the rows in file order, so its row id + 1 is the row's ``_ord``
    (:func:`kedb.tickets.importer.in_file_order` checks the plan before that is relied on)."""
    return f"(SELECT 0 AS _ord, {row_key(res)} AS _k, * FROM {scan_sql(inp, missing)})"


def row_key(res: Resolved) -> str:
    """A 64-bit hash of the row's per-row cells as read (ticket, times, sequence, status, group, who).

    The second pass finds each ticket's latest row by this key instead of by its number, in parallel,
    when no other row of the export has the same key (:mod:`kedb.tickets.collapse` checks)."""
    cols = dict.fromkeys(res.columns[name][0] for name in PER_ROW if name in res.columns)
    return f"hash({', '.join(S.ident(c) for c in cols)})"


# Fields read on every row (they order an event log, or are kept per row in `events`); the others
# are descriptive: only each ticket's latest row is kept, and only its cells are read.
PER_ROW = ("id", "opened_at", "updated_at", "seq", "status", "assignment_group", "updated_by")
CHECKED = tuple(n for n, (k, _) in FIELDS.items() if k in ("timestamp", "integer", "number", "boolean", "score"))
ROW_CHECKED = tuple(n for n in CHECKED if n in PER_ROW)  # checked on every row by the first pass
LATEST_CHECKED = tuple(n for n in CHECKED if n not in PER_ROW)  # checked on each ticket's latest row (``_dbad``)
BITS = {name: 1 << i for i, name in enumerate(("id", "status", *CHECKED))}


def raw(res: Resolved, name: str) -> str:
    """The field's cell as read (a cell of spaces is empty; the markers are DuckDB's `nullstr`)."""
    return S.stripped(S.ident(res.columns[name][0]))


def given(res: Resolved, name: str) -> str:
    """The field's cell with the mapping's ``values:`` applied: a value they turn into a missing marker
    (Zendesk's `offered` → `-`: asked, not rated) is no value, not a cell that cannot be read."""
    spec = res.mapping.fields[name]
    return S.cleaned(S.translated(raw(res, name), spec), res.mapping.missing) if spec.values else raw(res, name)


def typed(res: Resolved, name: str) -> str:
    """The field's value in its type, or NULL when the cell is empty or cannot be read."""
    m = res.mapping
    kind = FIELDS[name][0]
    spec = m.fields[name]
    v = given(res, name)
    if kind == "timestamp":
        return S.timestamp(v, m)
    if kind == "integer":
        return S.integer(v, spec.subtract)
    if kind == "number":
        return S.number(v)
    if kind == "boolean":
        return S.boolean(v, m, spec.negate)
    if kind == "score":
        return S.score(v)
    return v


def latest_bad(res: Resolved) -> str:
    """The bits (:data:`BITS`) of a row's descriptive cells that hold a value that cannot be read in its type.

    Only each ticket's latest row is judged by them (:mod:`kedb.tickets.collapse`): the descriptive cells of the rows
    it supersedes are never read into the store, so an unreadable one there does not stop the import."""
    terms = [
        f"CASE WHEN {given(res, n)} IS NOT NULL AND {typed(res, n)} IS NULL THEN {BITS[n]} ELSE 0 END"
        for n in LATEST_CHECKED
        if n in res.columns
    ]
    return f"CAST({' + '.join(terms) or '0'} AS INTEGER)"


_SQL_TYPE = {"timestamp": "TIMESTAMP", "integer": "BIGINT", "number": "DOUBLE", "boolean": "BOOLEAN", "score": "DOUBLE"}


def latest_columns(res: Resolved) -> list[str]:
    """The descriptive columns kept from each ticket's latest row: typed values, raw text (``r_…``, cleaned per ticket
    later), and ``_dbad``: the :data:`BITS` of the typed cells that cannot be read (:func:`latest_bad`)."""
    cols = [f"{latest_bad(res)} AS _dbad"]
    for name, (kind, _) in FIELDS.items():
        if name in PER_ROW:
            continue
        has = name in res.columns
        if kind == "freetext":
            text = f"nullif(concat_ws(' ', {', '.join(S.ident(c) for c in res.columns[name])}), '')" if has else "NULL"
            cols.append(f"CAST({text} AS VARCHAR) AS r_text")
        elif kind == "text":
            cols.append(f"CAST({S.ident(res.columns[name][0]) if has else 'NULL'} AS VARCHAR) AS r_{name}")
        else:
            cols.append(f"{typed(res, name) if has else 'NULL'}::{_SQL_TYPE[kind]} AS {name}")
    return cols


def alias(column: str) -> str:
    """The name a ``… AS name`` column is known by."""
    return column.rsplit(" AS ", 1)[1]
