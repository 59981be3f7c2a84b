"""``kedb tickets import``: read an export into the local store, all or nothing.

One streaming pass reads the export (DuckDB ``read_csv``; rows it cannot split are kept in
its rejects table with their row numbers), turns the mapped columns into typed values and
marks every cell it cannot read. Any such row stops the import with a list of
``file: row N: …`` messages and nothing is written. Otherwise rows are ordered per ticket
(``updated_at``, then ``seq``, then file order), collapsed to each ticket's latest state, and
the store is written to a temporary file that replaces ``.kedb/tickets.duckdb``.
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

from ..errors import FindingsError, UsageError
from . import sqlexpr as S
from .fields import FIELDS
from .mapping import Resolved, apply, resolve
from .reader import Input, open_export
from .store import SCHEMA_VERSION, STORE_DIR, STORE_NAME, connect, store_path

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


def scan_sql(inp: Input) -> str:
    cols = "{" + ", ".join(f"{S.lit(h)}: 'VARCHAR'" for h in inp.header) + "}"
    return (
        f"read_csv({S.lit(str(inp.path))}, header = true, skip = {inp.skip}, delim = {S.lit(inp.delimiter)}, quote = '\"', "
        f"escape = '\"', strict_mode = true, store_rejects = true, auto_detect = false, encoding = {S.lit(inp.encoding)}, columns = {cols})"
    )


def _raw_select(res: Resolved) -> list[str]:
    m = res.mapping
    out = []
    for name, cols in res.columns.items():
        if FIELDS[name][0] == "freetext":
            out.append(f"{S.cleaned(cols, m.missing, sep=' ')} AS v_{name}")
        else:
            out.append(f"{S.translated(S.cleaned(cols, m.missing), m.fields[name])} AS v_{name}")
    return out


def _typed(res: Resolved, salt: str) -> tuple[list[str], list[str]]:
    """(typed columns of ``ev``, checks naming each field whose raw value could not be read)."""
    m = res.mapping
    cols, checks = ["_ord"], []
    for name, (kind, _) in FIELDS.items():
        if name not in res.columns:
            if name == "caller":
                cols.append("CAST(NULL AS VARCHAR) AS caller_key")
            elif name == "updated_by":
                cols.append("CAST(NULL AS VARCHAR) AS updated_by_key")
            elif name == "type":
                cols += ["CAST(NULL AS VARCHAR) AS type", "false AS is_request"]
            elif name == "status":
                cols += ["CAST(NULL AS VARCHAR) AS status", "CAST(NULL AS VARCHAR) AS class"]
            else:
                cols.append(f"CAST(NULL AS {_SQL_TYPE[kind]}) AS {name}")
            continue
        v, spec = f"v_{name}", m.fields[name]
        if kind == "timestamp":
            expr = S.timestamp(v, m)
        elif kind == "integer":
            expr = S.integer(v, spec.subtract)
        elif kind == "number":
            expr = S.number(v)
        elif kind == "boolean":
            expr = S.boolean(v, m, spec.negate)
        else:
            expr = v
        if kind in ("timestamp", "integer", "number", "boolean"):
            checks.append(f"CASE WHEN {v} IS NOT NULL AND {name} IS NULL THEN '{name}' END")
        if name == "caller":
            cols.append(f"{S.hashed(v, salt)} AS caller_key")
        elif name == "updated_by":
            cols.append(f"{S.hashed(v, salt)} AS updated_by_key")
        elif name == "type":
            cols += [f"{v} AS type", f"{S.in_list(v, m.request_types)} AS is_request"]
        elif name == "status":
            cols += [f"{v} AS status", f"{S.status_class(v, m)} AS class"]
            if m.statuses:
                checks.append(f"CASE WHEN {v} IS NOT NULL AND class IS NULL THEN 'status' END")
        else:
            cols.append(f"{expr} AS {name}")
    checks += ["CASE WHEN id IS NULL THEN 'id' END", "CASE WHEN v_opened_at IS NULL THEN 'opened_at' END"]
    return cols, checks


def _load(con: Any, inp: Input, res: Resolved, salt: str) -> int:
    """Create temp table ``ev`` (one typed row per export row); raise on any unreadable row."""
    cols, checks = _typed(res, salt)
    keep = ", ".join(c.split(" AS ")[-1] if " AS " in c else c for c in cols)
    raw = ", ".join(_raw_select(res))
    typed = ", ".join(cols)
    # Inner: one pass over the file; middle: typed values next to the raw text; outer: the checks.
    sql = (
        f"CREATE TEMP TABLE ev AS SELECT {keep}, text, list_filter([{', '.join(checks)}], lambda x: x IS NOT NULL) AS _bad FROM ("
        f"SELECT {typed}, {'v_text' if 'text' in res.columns else 'CAST(NULL AS VARCHAR)'} AS text, "
        f"{', '.join('v_' + n for n in res.columns if n != 'text')} FROM ("
        f"SELECT row_number() OVER () AS _ord, {raw} FROM {scan_sql(inp)}))"
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
    if m.statuses and "status" in res.columns:
        st = con.execute(
            "SELECT status, min(_ord), count(*) FROM ev WHERE list_contains(_bad, 'status') GROUP BY status ORDER BY 2"
        ).fetchall()
        rows_of = inp.ordinal_rows(o for _, o, _ in st[:MAX_LISTED])
        for status, first, count in st[:MAX_LISTED]:
            lines.append(
                f"{inp.place(rows_of[first])}: status '{status}' ({count} rows) is not in the mapping; add it under `statuses:` "
                "in a --map file as new, open, pending, resolved, closed or cancelled"
            )
        total += sum(c for _, _, c in st)
    where = "len(list_filter(_bad, lambda x: x <> 'status')) > 0"
    n = con.execute(f"SELECT count(*) FROM ev WHERE {where}").fetchone()[0]
    total += n
    if n:
        bad = con.execute(f"SELECT _ord, _bad FROM ev WHERE {where} ORDER BY _ord LIMIT {MAX_LISTED}").fetchall()
        ords = [o for o, _ in bad]
        names = sorted({f for _, fs in bad for f in fs if f != "status"})
        cols = {f: res.columns[f][0] for f in names if f in res.columns}
        sel = ", ".join(f"{S.ident(c)} AS {S.ident(f)}" for f, c in cols.items()) or "1 AS _none"
        raw = {
            r[0]: dict(zip(cols, r[1:], strict=False))
            for r in con.execute(
                f"SELECT * FROM (SELECT row_number() OVER () AS _ord, {sel} FROM {scan_sql(inp)}) WHERE _ord IN ({', '.join(map(str, ords))})"
            ).fetchall()
        }
        rows_of = inp.ordinal_rows(ords)
        for o, fields in bad:
            for f in fields:
                if f == "status":
                    continue
                place = inp.place(rows_of[o])
                if f in ("id", "opened_at") and not raw.get(o, {}).get(f):
                    col = res.columns[f][0]
                    lines.append(f"{place}: the {f} (column '{col}') is empty; every row needs a ticket id and an opened date")
                    continue
                value = str(raw.get(o, {}).get(f, ""))
                shown = value if len(value) <= 60 else value[:57] + "…"
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
    target = store_path(root)
    old = target if append and target.is_file() else None
    new = kdir / f"{STORE_NAME}.new"
    inp = open_export(file, mapping, kdir / "tmp")
    try:
        res = apply(mapping, inp.header, inp.display)
        salt = _old_salt(old) or secrets.token_hex(8)
        for p in (new, Path(f"{new}.wal")):
            p.unlink(missing_ok=True)
        with ThreadPoolExecutor(max_workers=1) as pool:
            digest = pool.submit(_sha256, file)
            con = connect(new)
            try:
                rows = _load(con, inp, res, salt)
                event_log = bool(con.execute("SELECT count(*) > count(DISTINCT id) FROM ev").fetchone()[0])
                from .collapse import build

                build(con, event_log, "assignment_group" in res.columns)
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
                con.execute("INSERT INTO meta VALUES ('schema_version', ?), ('salt', ?)", [SCHEMA_VERSION, salt])
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
