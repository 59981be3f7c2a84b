"""``kedb tickets import``: read an export into the local store, all or nothing.

One streaming pass reads the export (DuckDB ``read_csv``; rows it cannot split are kept in
its rejects table with their row numbers), turns the mapped columns into typed values and
marks every cell it cannot read. Any such row stops the import with a list of
``file: row N: …`` messages and nothing is written. Otherwise rows are ordered per ticket
(``updated_at``, then ``seq``, then file order), collapsed to each ticket's latest state, and
the store is written to a temporary file that replaces ``.kedb/tickets.duckdb``: an import that
fails or is interrupted (Ctrl-C) leaves the store as it was. One import runs at a time.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from ..core.errors import FindingsError, UsageError
from . import sqlexpr as S
from .fields import FIELDS
from .mapping import Resolved, TicketMapping, apply, resolve
from .reader import Input, open_export
from .store import SCHEMA_VERSION, STORE_DIR, STORE_NAME, connect, import_lock, store_path

MAX_LISTED = 20
_SQL_TYPE = {
    "timestamp": "TIMESTAMP",
    "integer": "BIGINT",
    "number": "DOUBLE",
    "boolean": "BOOLEAN",
    "text": "VARCHAR",
    "freetext": "VARCHAR",
}
_PROBLEM = {
    "integer": "not a whole number of 0 or more",
    "number": "not a number of 0 or more",
}


@dataclass(frozen=True)
class ImportResult:
    store: Path
    file: str
    source: str
    rows: int
    tickets: int
    event_log: bool
    first: date | None
    last: date | None
    columns: dict[str, tuple[str, ...]]
    absent: tuple[str, ...]
    store_tickets: int


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 22), b""):
            h.update(block)
    return h.hexdigest()


def scan_sql(inp: Input, missing: list[str] | None = None) -> str:
    """DuckDB's reader over the export: every column text, the mapping's missing markers read as NULL."""
    cols = "{" + ", ".join(f"{S.lit(h)}: 'VARCHAR'" for h in inp.header) + "}"
    nulls = f", nullstr = {S.lits(missing)}" if missing else ""
    return (
        f"read_csv({S.lit(str(inp.path))}, header = true, skip = {inp.skip}, delim = {S.lit(inp.delimiter)}, quote = '\"', "
        f"escape = '\"', strict_mode = true, store_rejects = true, auto_detect = false, encoding = {S.lit(inp.encoding)}{nulls}, "
        f"columns = {cols})"
    )


# Fields read on every row (they order an event log, or must be checked on every row); the
# others are descriptive and only their latest value is kept, so they are cleaned per ticket.
PER_ROW = ("id", "opened_at", "updated_at", "seq", "status", "assignment_group", "updated_by")
CHECKED = tuple(n for n, (k, _) in FIELDS.items() if k in ("timestamp", "integer", "number", "boolean"))
BITS = {name: 1 << i for i, name in enumerate(("id", "status", *CHECKED))}


def _per_row(res: Resolved) -> tuple[list[str], list[str]]:
    """(columns of ``ev``, bit expressions flagging a cell that cannot be read)."""
    m = res.mapping
    cols, bad = ["_ord"], []
    for name, (kind, _) in FIELDS.items():
        cols_of = res.columns.get(name)
        if kind == "text" and name not in PER_ROW:
            if cols_of:
                cols.append(f"{S.ident(cols_of[0])} AS r_{name}")
            else:
                cols.append(f"CAST(NULL AS VARCHAR) AS r_{name}")
            continue
        if kind == "freetext":
            text = f"nullif(concat_ws(' ', {', '.join(S.ident(c) for c in cols_of)}), '')" if cols_of else "CAST(NULL AS VARCHAR)"
            cols.append(f"{text} AS r_text")
            continue
        if not cols_of:
            out = {"status": ["status", "class"], "updated_by": ["updated_by_key"]}.get(name, [name])
            cols += [f"CAST(NULL AS {'VARCHAR' if kind == 'text' else _SQL_TYPE[kind]}) AS {o}" for o in out]
            continue
        raw = f"nullif(trim({S.ident(cols_of[0])}), '')"  # a cell of spaces is empty (the markers are DuckDB's `nullstr`)
        spec = m.fields[name]
        v = S.translated(raw, spec)
        if name == "status":
            cols += [f"{v} AS status", f"{S.status_class(v, m)} AS class"]
            if m.statuses:
                bad.append(f"CASE WHEN {raw} IS NOT NULL AND {S.status_class(v, m)} IS NULL THEN {BITS['status']} ELSE 0 END")
            continue
        if name == "updated_by":
            cols.append(f"{S.hashed(raw, res.salt)} AS updated_by_key")
            continue
        if kind == "text":  # id, assignment_group
            cols.append(f"{v} AS {name}")
            if name == "id":
                bad.append(f"CASE WHEN {v} IS NULL THEN {BITS['id']} ELSE 0 END")
            continue
        if kind == "timestamp":
            expr = S.timestamp(v, m)
        elif kind == "integer":
            expr = S.integer(v, spec.subtract)
        elif kind == "number":
            expr = S.number(v)
        else:
            expr = S.boolean(v, m, spec.negate)
        cols.append(f"{expr} AS {name}")
        bad.append(f"CASE WHEN {raw} IS NOT NULL AND ({expr}) IS NULL THEN {BITS[name]} ELSE 0 END")
    if "opened_at" in res.columns:
        bad.append(f"CASE WHEN nullif(trim({S.ident(res.columns['opened_at'][0])}), '') IS NULL THEN {BITS['opened_at']} ELSE 0 END")
    return cols, bad


def _load(con: Any, inp: Input, res: Resolved) -> int:
    """Create temp table ``ev`` (one typed row per export row); raise on any unreadable row."""
    cols, bad = _per_row(res)
    sql = (
        f"CREATE TEMP TABLE ev AS SELECT {', '.join(cols)}, {' + '.join(bad) or '0'} AS _bad FROM ("
        f"SELECT row_number() OVER () AS _ord, * FROM {scan_sql(inp, res.mapping.missing)})"
    )
    import duckdb

    try:
        con.execute(sql)
    except duckdb.Error as exc:
        first = str(exc).strip().splitlines()[0]
        raise FindingsError(f"{inp.display}: the export cannot be read: {first}") from None
    _rejects(con, inp)
    _bad_values(con, inp, res)
    return int(con.execute("SELECT count(*) FROM ev").fetchone()[0])


def _rejects(con: Any, inp: Input) -> None:
    n = con.execute("SELECT count(*) FROM reject_errors").fetchone()[0]
    if not n:
        return
    rows = con.execute(
        f"SELECT line, error_type, column_name, error_message FROM reject_errors ORDER BY line LIMIT {MAX_LISTED}"
    ).fetchall()
    lines = []
    for line, etype, column, msg in rows:
        what = str(etype).lower().replace("_", " ")
        col = f" (column '{column}')" if column and "COLUMNS" not in str(etype) else ""
        detail = str(msg).splitlines()[0] if msg else ""
        lines.append(f"{inp.display}: {inp.unit} {line}: {what}{col}: {detail}")
    if n > MAX_LISTED:
        lines.append(f"… and {n - MAX_LISTED} more rows that cannot be read")
    raise FindingsError("\n".join([*lines, f"nothing was imported: fix these {n} rows (or the --map settings) and import again"]))


def _bad_values(con: Any, inp: Input, res: Resolved) -> None:
    m = res.mapping
    lines: list[str] = []
    total = 0
    sbit = BITS["status"]
    if m.statuses and "status" in res.columns:
        st = con.execute(f"SELECT status, min(_ord), count(*) FROM ev WHERE _bad & {sbit} <> 0 GROUP BY status ORDER BY 2").fetchall()
        rows_of = inp.ordinal_rows(o for _, o, _ in st[:MAX_LISTED])
        for status, first, count in st[:MAX_LISTED]:
            lines.append(
                f"{inp.place(rows_of[first])}: status '{status}' ({count} row{'s' if count != 1 else ''}) is not in the mapping; add it under `statuses:` "
                "in a --map file as new, open, pending, resolved, closed or cancelled"
            )
        total += sum(c for _, _, c in st)
    others = sum(BITS.values()) & ~sbit
    n = con.execute(f"SELECT count(*) FROM ev WHERE _bad & {others} <> 0").fetchone()[0]
    total += n
    if n:
        bad = con.execute(f"SELECT _ord, _bad FROM ev WHERE _bad & {others} <> 0 ORDER BY _ord LIMIT {MAX_LISTED}").fetchall()
        ords = [o for o, _ in bad]
        cols = {f: res.columns[f][0] for f in BITS if f in res.columns and f != "status"}
        sel = ", ".join(f"{S.ident(c)} AS {S.ident(f)}" for f, c in cols.items())
        raw = {
            r[0]: dict(zip(cols, r[1:], strict=False))
            for r in con.execute(
                f"SELECT * FROM (SELECT row_number() OVER () AS _ord, {sel} FROM {scan_sql(inp)}) WHERE _ord IN ({', '.join(map(str, ords))})"
            ).fetchall()
        }
        rows_of = inp.ordinal_rows(ords)
        for o, mask in bad:
            place = inp.place(rows_of[o])
            for f, bit in BITS.items():
                if not mask & bit or f == "status":
                    continue
                value = raw.get(o, {}).get(f)
                if f in ("id", "opened_at") and not (value or "").strip():
                    lines.append(
                        f"{place}: the {f} (column '{res.columns[f][0]}') is empty; every row needs a ticket id and an opened date"
                    )
                    continue
                shown = str(value) if len(str(value)) <= 60 else str(value)[:57] + "…"
                kind = FIELDS[f][0]
                if kind == "timestamp":
                    problem = f"not a date in the form the mapping reads ({S.DATE_HINT[m.dates]}; set `dates:` or `date_formats:` in a --map file)"
                elif kind == "boolean":
                    problem = f"neither true ({', '.join(m.true_values)}) nor false ({', '.join(m.false_values)})"
                else:
                    problem = _PROBLEM.get(kind, "not readable")
                lines.append(f"{place}: {f} (column '{res.columns[f][0]}'): '{shown}' is {problem}")
        if n > MAX_LISTED:
            lines.append(f"… and {n - MAX_LISTED} more rows with values that cannot be read")
    if lines:
        raise FindingsError("\n".join([*lines, f"nothing was imported: {total} rows cannot be read"]))


def _old_salt(old: Path | None) -> str | None:
    if old is None:
        return None
    con = connect(old, read_only=True)
    try:
        row = con.execute("SELECT value FROM meta WHERE key = 'salt'").fetchone()
        return row[0] if row else None
    finally:
        con.close()


def _append_old(con: Any, old: Path, source: str) -> None:
    con.execute(f"ATTACH {S.lit(str(old))} AS old (READ_ONLY)")
    version = con.execute("SELECT value FROM old.meta WHERE key = 'schema_version'").fetchone()
    if not version or version[0] != SCHEMA_VERSION:
        raise UsageError("the existing store was written by another kedb version; import without --append")
    systems = {r[0] for r in con.execute("SELECT source FROM old.imports").fetchall()}
    if systems != {source}:
        raise UsageError(
            f"the store holds a {', '.join(sorted(systems))} export; --append needs the same --source (or import without --append)"
        )
    con.execute("CREATE TEMP TABLE new_ids AS SELECT id FROM tickets")
    con.execute("INSERT INTO tickets SELECT * FROM old.tickets WHERE id NOT IN (SELECT id FROM new_ids)")
    con.execute("INSERT INTO events SELECT * FROM old.events WHERE id NOT IN (SELECT id FROM new_ids)")
    con.execute("UPDATE imports SET no = no + (SELECT max(no) FROM old.imports)")
    con.execute("INSERT INTO imports SELECT * FROM old.imports")
    con.execute("DETACH old")


def import_export(root: Path, file: Path, source: str, map_file: Path | None = None, *, append: bool = False) -> ImportResult:
    """Import ``file`` into ``root/.kedb/tickets.duckdb`` (replacing it, or adding to it with ``append``)."""
    if not file.is_file():
        raise UsageError(f"{file} does not exist or is not a file")
    mapping = resolve(source, map_file)
    kdir = Path(root) / STORE_DIR
    kdir.mkdir(parents=True, exist_ok=True)
    with import_lock(root):  # held from reading the old store (--append) to replacing it
        return _import(root, kdir, file, source, mapping, append)


def _import(root: Path, kdir: Path, file: Path, source: str, mapping: TicketMapping, append: bool) -> ImportResult:
    target = store_path(root)
    old = target if append and target.is_file() else None
    new = kdir / f"{STORE_NAME}.new"
    inp = open_export(file, mapping, kdir / "tmp")
    try:
        res = apply(mapping, inp.header, inp.display, _old_salt(old) or secrets.token_hex(8))
        for p in (new, Path(f"{new}.wal")):
            p.unlink(missing_ok=True)
        with ThreadPoolExecutor(max_workers=1) as pool:
            digest = pool.submit(_sha256, file)
            con = connect(new)
            try:
                rows = _load(con, inp, res)
                event_log = bool(con.execute("SELECT count(*) > count(DISTINCT id) FROM ev").fetchone()[0])
                from .collapse import build

                build(con, res, event_log)
                n, first, last = con.execute("SELECT count(*), min(opened_at)::DATE, max(opened_at)::DATE FROM tickets").fetchone()
                con.execute(
                    "CREATE TABLE imports (no INTEGER, source VARCHAR, file VARCHAR, sha256 VARCHAR, rows BIGINT, tickets BIGINT, "
                    "event_log BOOLEAN, first_opened DATE, last_opened DATE, columns VARCHAR)"
                )
                con.execute(
                    "INSERT INTO imports VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        source,
                        file.name,
                        digest.result(),
                        rows,
                        n,
                        event_log,
                        first,
                        last,
                        json.dumps({k: list(v) for k, v in res.columns.items()}),
                    ],
                )
                con.execute("CREATE TABLE meta (key VARCHAR, value VARCHAR)")
                con.execute("INSERT INTO meta VALUES ('schema_version', ?), ('salt', ?)", [SCHEMA_VERSION, res.salt])
                if old is not None:
                    _append_old(con, old, source)
                total = con.execute("SELECT count(*) FROM tickets").fetchone()[0]
                con.execute("CHECKPOINT")
            finally:
                con.close()
        os.replace(new, target)
    finally:
        for p in (new, Path(f"{new}.wal")):
            p.unlink(missing_ok=True)
        if inp.temporary:
            inp.path.unlink(missing_ok=True)
    return ImportResult(target, file.name, source, rows, n, event_log, first, last, res.columns, res.absent, total)
