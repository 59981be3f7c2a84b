"""``kedb tickets import``: read an export into the local store, all or nothing.

A first streaming pass (DuckDB ``read_csv``; rows it cannot split are kept in its rejects table
with their row numbers) reads the narrow per-row columns (ticket, times, status, group, who),
marks every one of those cells it cannot read and puts each ticket's rows in time order
(``updated_at``, then ``seq``, then file order) as the ``events`` table. A second pass reads the
descriptive columns (counts, dates, flags, rating, text) of each ticket's latest row only
(:mod:`kedb.tickets.collapse`) and marks those cells it cannot read. Any unreadable cell stops the
import with a list of ``file: row N: …`` messages and nothing is written; those of the first pass
stop it before the second pass, and are listed with the descriptive cells of each ticket's latest
row as far as the first pass can tell which row that is.

A descriptive cell of a row that a later row of the same ticket supersedes is never read into the
store, so it is not checked either: a rating of ``n/a`` on an event log's third of five updates
does not stop the import (before, typing those cells on every row cost a tenth of the import's CPU).

Both passes use both cores. File order needs a row number, and DuckDB numbers rows in one thread
(``row_number() OVER ()``), which made everything above it single-threaded: the first pass instead
writes its rows into a table whose plan keeps file order (checked on the plan, :func:`in_file_order`),
and takes each row's number from the table's row id; the second pass finds the latest rows by a key
of their per-row cells when each such key is unique (:mod:`kedb.tickets.collapse`). Where either is
not possible, the rows are numbered in one thread as before: the store is the same either way
(``tests/test_tickets_import.py`` builds it every way and compares). The store is written to a
temporary file that replaces ``.kedb/tickets.duckdb``: an import that fails or is interrupted
(Ctrl-C) leaves the store as it was. One import runs at a time.

What the import understood of the header (:mod:`kedb.tickets.header`) and which figures the
export cannot give (:mod:`kedb.tickets.needs`) come back in the result; with ``strict`` a KPI of
``content/kpis.yml`` that the export cannot give stops the import.
"""

from __future__ import annotations

import csv
import io
import json
import os
import secrets
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import duckdb

from ..core.errors import FindingsError, UsageError
from ..core.load.datafile import read_data_file
from ..core.present import count
from ..core.program import KpisFile, SettingsFile, Tenant, TriageFile
from . import needs
from . import sqlexpr as S
from .collapse import build, forget_copies, history_flags
from .fields import FIELDS, SCORE_MAX, SCORE_MIN
from .header import Header, understand
from .lines import Scan, read_records, records, scan
from .mapping import Resolved, TicketMapping, apply, resolve
from .progress import QUIET, Progress, phase
from .reader import Input, any_field_size, open_export
from .rows import BITS, ROW_CHECKED, alias, given, latest_bad, latest_columns, numbered, peek_sql, raw, typed, unnumbered
from .statuses import unknown_statuses
from .store import SCHEMA_VERSION, STORE_DIR, STORE_NAME, connect, import_lock, store_path
from .tenants import counts as tenant_counts

MAX_LISTED = 20
_PROBLEM = {
    "integer": "not a whole number of 0 or more",
    "number": "not a number of 0 or more",
    "score": f"not a rating from {SCORE_MIN} to {SCORE_MAX} (map another scale or words onto it with `values:` in a --map file)",
}


@dataclass(frozen=True)
class Configured:
    """What the KB asks of an export: the KPIs of ``content/kpis.yml`` and whether ``content/triage.yml`` has timers."""

    kpis: tuple[str, ...] = ()
    names: dict[str, str] = field(default_factory=dict)  # KPI id -> its name
    triage: bool = False
    problems: tuple[str, ...] = ()  # program files that could not be read
    tenants: tuple[Tenant, ...] = ()  # content/kedb.yml's, for the tickets-per-tenant count


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
    header: Header
    lost: tuple[str, ...]  # figures the store cannot give (see kedb.tickets.needs)
    configured: Configured
    tenants: tuple[tuple[str, int], ...] = ()  # tickets per tenant of the store (kedb.tickets.tenants.counts); () without a tenant column


def _rows_sql(inp: Input, res: Resolved, extra: list[str], source: str, hash_who: bool = True) -> str:
    """Every row of the export (``source``: :func:`~kedb.tickets.rows.numbered` or
    :func:`~kedb.tickets.rows.unnumbered`), typed, with ``_bad``: the bits of the cells that cannot be read
    (and the ``extra`` columns, ``expression AS name``, passed through). ``updated_by_key`` is the one-way hash
    of who made the update, or with ``hash_who`` false their name as read, for :func:`_who` to hash.

    Three steps, so that each cell is parsed once: the cells are typed (and it is noted whether
    each was empty), then statuses get their class, then the bits are set."""
    m = res.mapping
    has = res.columns
    names = "".join(", " + alias(c) for c in extra)
    cells = ["_ord", f"{typed(res, 'id')} AS id" if "id" in has else "CAST(NULL AS VARCHAR) AS id", *extra]
    for name in ROW_CHECKED:
        if name in has:
            cells += [f"{typed(res, name)} AS t_{name}", f"{given(res, name)} IS NOT NULL AS p_{name}"]
        else:  # opened_at, updated_at and seq order the rows: NULL when the export lacks them
            cells.append(f"CAST(NULL AS {'BIGINT' if name == 'seq' else 'TIMESTAMP'}) AS t_{name}")
    status = S.translated(raw(res, "status"), m.fields["status"]) if "status" in has else "CAST(NULL AS VARCHAR)"
    group = S.translated(raw(res, "assignment_group"), m.fields["assignment_group"]) if "assignment_group" in has else None
    who = raw(res, "updated_by") if "updated_by" in has else "CAST(NULL AS VARCHAR)"
    if hash_who and "updated_by" in has:
        who = S.hashed(who, res.salt)
    cells += [f"{status} AS status", f"{group or 'CAST(NULL AS VARCHAR)'} AS assignment_group", f"{who} AS updated_by_key"]
    flags = [f"p_{n}, t_{n}" for n in ROW_CHECKED if n in has]
    classed = (
        "SELECT _ord, id, t_opened_at AS opened_at, coalesce(t_updated_at, t_opened_at) AS ts, t_seq AS seq, status, "
        f"{S.status_class('status', m)} AS class, assignment_group, updated_by_key{''.join(', ' + f for f in flags)}{names} "
        f"FROM (SELECT {', '.join(cells)} FROM {source})"
    )
    bad = [f"CASE WHEN id IS NULL THEN {BITS['id']} ELSE 0 END"] if "id" in has else []
    if "status" in has and m.statuses:
        bad.append(f"CASE WHEN status IS NOT NULL AND class IS NULL THEN {BITS['status']} ELSE 0 END")
    bad += [f"CASE WHEN p_{n} AND t_{n} IS NULL THEN {BITS[n]} ELSE 0 END" for n in ROW_CHECKED if n in has]
    if "opened_at" in has:
        bad.append(f"CASE WHEN NOT p_opened_at THEN {BITS['opened_at']} ELSE 0 END")
    return (
        f"SELECT _ord, id, opened_at, ts, seq, status, class, assignment_group, updated_by_key{names}, "
        f"{' + '.join(bad) or '0'} AS _bad FROM ({classed})"
    )


PEEK_ROWS = 50_000


def looks_one_row(con: Any, inp: Input, res: Resolved) -> bool:
    """True when the first rows name each ticket once: the export is likely one row per ticket, and the first
    pass can keep every row's descriptive columns rather than read the file twice. Only a guess about cost:
    an event log read this way gives the same store, more slowly."""
    if "id" not in res.columns:
        return False
    try:
        n, distinct = con.execute(f"SELECT count(v), count(DISTINCT v) FROM ({peek_sql(inp, res.columns['id'][0], PEEK_ROWS)})").fetchone()
    except duckdb.Error:
        return False  # the first pass reads it strictly and says what is wrong
    return bool(n) and n == distinct


# What a plan may hold for its table to keep the rows in file order: a scan, projections, filters, and the
# insert DuckDB uses when it keeps the order of its input (BATCH_…; plain CREATE_TABLE_AS does not).
ORDERED = frozenset({"BATCH_CREATE_TABLE_AS", "PROJECTION", "FILTER", "READ_CSV"})


def in_file_order(con: Any, sql: str) -> bool:
    """True when DuckDB's physical plan for ``sql`` (a ``CREATE TABLE … AS``) only scans, projects and filters, so
    the table holds the rows in the order of the file (DuckDB's "order preservation") and numbers them by row id.

    Any other operator (a join that DuckDB made of a long ``IN`` list, say) gives up that order: the caller then
    numbers the rows in one thread (:func:`~kedb.tickets.rows.numbered`), slower and as correct."""
    try:
        plan = json.loads(con.execute(f"EXPLAIN (FORMAT json) {sql}").fetchall()[0][1])
    except (duckdb.Error, IndexError, ValueError):
        return False
    names: set[str] = set()
    todo = list(plan if isinstance(plan, list) else [plan])
    while todo:
        node = todo.pop()
        if isinstance(node, dict):
            names.add(str(node.get("name", "")).strip())
            todo.extend(node.get("children", []))
    return bool(names) and names <= ORDERED


def _load(con: Any, inp: Input, res: Resolved, wide: bool) -> tuple[int, bool]:
    """Create ``events`` (each row typed and in time order per ticket, with the columns the collapse needs);
    raise on any row that cannot be read. With ``wide``, every row is first kept with its descriptive columns
    as ``pass1`` and only its narrow columns are sorted: cheaper than a second pass when most rows are latest.

    The rows are read in parallel into a table that numbers them (``pass0``, with ``pass1`` a view adding
    ``_ord``) when the plan keeps file order (:func:`in_file_order`), else numbered in one thread. Returns the
    number of rows and whether the first way was taken: then ``events`` has each row's key ``_k``
    (:func:`~kedb.tickets.rows.row_key`) for the second pass, and ``pass1`` is a view over ``pass0``."""
    extra = latest_columns(res) if wide else []
    window = f"""
        SELECT id, step, ts, status, class, assignment_group, updated_by_key, export_row,
               {history_flags("prev_class", "prev_group")}, is_last, opened_at, _bad{{key}}
        FROM (SELECT id, CAST(row_number() OVER w AS INTEGER) AS step, ts, status, class, assignment_group, updated_by_key,
                     _ord AS export_row, lag(class) OVER w AS prev_class, lag(assignment_group) OVER w AS prev_group,
                     lead(_ord) OVER w IS NULL AS is_last, opened_at, _bad{{key}}
              FROM {{rows}} WINDOW w AS (PARTITION BY id ORDER BY ts, coalesce(seq, -1), _ord))
    """
    parallel = f"CREATE TEMP TABLE pass0 AS {_rows_sql(inp, res, [*extra, '_k AS _k'], unnumbered(inp, res, res.mapping.missing), False)}"
    keyed = in_file_order(con, parallel)
    try:
        if keyed:
            con.execute(parallel)
            con.execute("CREATE TEMP VIEW pass1 AS SELECT rowid + 1 AS _ord, * EXCLUDE (_ord) FROM pass0")
            con.execute(f"CREATE TABLE events AS {window.format(rows=_who(con, res), key=', _k')}")
            con.execute("DROP TABLE who")
            if not wide:
                con.execute("DROP VIEW pass1")
                con.execute("DROP TABLE pass0")
        elif wide:
            con.execute(f"CREATE TEMP TABLE pass1 AS {_rows_sql(inp, res, extra, numbered(inp, res.mapping.missing))}")
            con.execute(f"CREATE TABLE events AS {window.format(rows='pass1', key='')}")
        else:
            rows = "(" + _rows_sql(inp, res, extra, numbered(inp, res.mapping.missing)) + ")"
            con.execute(f"CREATE TABLE events AS {window.format(rows=rows, key='')}")
    except duckdb.Error as exc:
        first = str(exc).strip().splitlines()[0]
        raise FindingsError(f"{inp.display}: the export cannot be read: {first}") from None
    return int(con.execute("SELECT count(*) FROM events").fetchone()[0]), keyed


def _who(con: Any, res: Resolved) -> str:
    """``pass1`` with ``updated_by_key`` hashed: each distinct name once (``who``, a few hundred in a log of
    millions of rows), joined to the rows, rather than an ``md5`` on every row. The rows keep their numbers
    (``_ord``), so their order in the window is the same."""
    con.execute(
        f"CREATE TEMP TABLE who AS SELECT v, {S.hashed('v', res.salt)} AS k "
        "FROM (SELECT DISTINCT updated_by_key AS v FROM pass0 WHERE updated_by_key IS NOT NULL)"
    )
    return "(SELECT p.* EXCLUDE (updated_by_key), w.k AS updated_by_key FROM pass1 p LEFT JOIN who w ON w.v = p.updated_by_key)"


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
        lines.append(f"… and {count(n - MAX_LISTED, 'more row')} that cannot be read")
    these = "this row" if n == 1 else f"these {n:,} rows"
    raise FindingsError("\n".join([*lines, f"nothing was imported: fix {these} (or the --map settings) and import again"]))


@dataclass(frozen=True)
class _Where:
    """Where the rows of an error message are, by their number (1 for the first data row): from the record index of
    the hashing thread (:mod:`kedb.tickets.lines`) when it holds one record per row DuckDB read, else by reading the
    export again (Python's csv module for the spreadsheet row, DuckDB for the cells). On a 4.5-million-row export with
    one bad cell, those two reads took longer than the import up to the error."""

    inp: Input
    scanned: Scan
    rows: int

    @property
    def found(self) -> Scan | None:
        ok = self.inp.unit == "row" and records(self.scanned) == self.inp.skip + 1 + self.rows
        return self.scanned if ok else None

    def places(self, ords: Iterable[int]) -> dict[int, int]:
        """Spreadsheet row of each data row number."""
        if self.found is None:
            return self.inp.ordinal_rows(ords)
        return {k: self.inp.skip + 1 + k for k in ords}

    def cells(self, con: Any, ords: list[int], cols: dict[str, str]) -> dict[int, dict[str, str | None]]:
        """The text of the columns ``cols`` (field -> column) of each data row of ``ords``, as the export has it."""
        found = self.found
        if found is None:
            sel = ", ".join(f"{S.ident(c)} AS {S.ident(f)}" for f, c in cols.items())
            got = con.execute(f"SELECT _ord, {sel} FROM {numbered(self.inp)} WHERE _ord IN ({', '.join(map(str, ords))})").fetchall()
            return {r[0]: dict(zip(cols, r[1:], strict=True)) for r in got}
        at = {f: self.inp.header.index(c) for f, c in cols.items()}
        enc = "latin-1" if self.inp.encoding == "latin-1" else "utf-8"
        out = {}
        with any_field_size():
            for n, data in read_records(self.inp.path, found, (self.inp.skip + k for k in ords)).items():
                text = data.decode(enc, errors="replace")
                row = next(csv.reader(io.StringIO(text, newline=""), delimiter=self.inp.delimiter, quotechar='"', strict=False), [])
                out[n - self.inp.skip] = {f: row[i] if i < len(row) else None for f, i in at.items()}
        return out


def _latest_unreadable(con: Any, inp: Input, res: Resolved) -> str:
    """SQL of every data row's number (``_ord``) and its descriptive cells' unreadable bits (``_dbad``): from a parallel
    scan into a table that keeps file order where the plan allows (:func:`in_file_order`), else numbered in one thread."""
    parallel = f"CREATE TEMP TABLE descriptive AS SELECT {latest_bad(res)} AS _dbad FROM {unnumbered(inp, res, res.mapping.missing)}"
    if in_file_order(con, parallel):
        con.execute(parallel)
        return "SELECT rowid + 1 AS _ord, _dbad FROM descriptive"
    return f"SELECT _ord, {latest_bad(res)} AS _dbad FROM {numbered(inp, res.mapping.missing)}"


def _bad_values(con: Any, inp: Input, res: Resolved, where: Callable[[], _Where]) -> None:
    """Stop the import on the first pass's unreadable cells: statuses outside the mapping and per-row cells, listed with
    the unreadable descriptive cells of each ticket's latest row as far as the first pass can tell which that is (the
    second pass, which checks those, does not run then)."""
    lines: list[str] = []
    total = 0
    sbit = BITS["status"]
    if res.mapping.statuses and "status" in res.columns:
        found = unknown_statuses(con, inp, res, sbit, lambda ords: where().places(ords))  # the index only if a status is listed
        lines += found.lines
        total += found.rows
    others = sum(BITS.values()) & ~sbit
    if not lines and not con.execute(f"SELECT count(*) FROM events WHERE _bad & {others} <> 0").fetchone()[0]:
        return
    descriptive = _latest_unreadable(con, inp, res)
    con.execute(
        f"CREATE TEMP TABLE unreadable AS SELECT o, bit_or(b) AS b FROM ("
        f"SELECT export_row AS o, _bad & {others} AS b FROM events WHERE _bad & {others} <> 0 "
        f"UNION ALL SELECT _ord, _dbad FROM ({descriptive}) WHERE _dbad <> 0 AND _ord IN (SELECT export_row FROM events WHERE is_last)"
        ") GROUP BY o"
    )
    if n := con.execute("SELECT count(*) FROM unreadable").fetchone()[0]:
        total += n
        bad = con.execute(f"SELECT o, b FROM unreadable ORDER BY o LIMIT {MAX_LISTED}").fetchall()
        lines += _cell_lines(con, inp, res, bad, n, where())
    raise FindingsError("\n".join([*lines, _nothing_imported(total)]))


def _nothing_imported(rows: int) -> str:
    return f"nothing was imported: {count(rows, 'row')} cannot be read"


def _cell_lines(con: Any, inp: Input, res: Resolved, bad: list[tuple[int, int]], n: int, where: _Where) -> list[str]:
    """One line per unreadable cell of the rows ``bad`` (row number, :data:`~kedb.tickets.rows.BITS` of the cells; at
    most :data:`MAX_LISTED` of the ``n`` rows found), with the cell as the export has it (found by ``where``)."""
    m = res.mapping
    lines: list[str] = []
    ords = [o for o, _ in bad]
    cols = {f: res.columns[f][0] for f in BITS if f in res.columns and f != "status"}
    raw_of = where.cells(con, ords, cols)
    rows_of = where.places(ords)
    for o, mask in bad:
        place = inp.place(rows_of[o])
        for f, bit in BITS.items():
            if not mask & bit or f == "status":
                continue
            value = raw_of.get(o, {}).get(f)
            if f in ("id", "opened_at") and not (value or "").strip():
                lines.append(f"{place}: the {f} (column '{res.columns[f][0]}') is empty; every row needs a ticket id and an opened date")
                continue
            shown = str(value) if len(str(value)) <= 60 else str(value)[:57] + "…"
            kind = FIELDS[f][0]
            if kind == "timestamp":
                problem = (
                    f"not a date in the form the mapping reads ({S.DATE_HINT[m.dates]}; set `dates:` or `date_formats:` in a --map file)"
                )
            elif kind == "boolean":
                problem = f"neither true ({', '.join(m.true_values)}) nor false ({', '.join(m.false_values)})"
            else:
                problem = _PROBLEM.get(kind, "not readable")
            lines.append(f"{place}: {f} (column '{res.columns[f][0]}'): '{shown}' is {problem}")
    if n > len(bad):
        lines.append(f"… and {count(n - len(bad), 'more row')} with values that cannot be read")
    return lines


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


def configured(root: Path) -> Configured:
    """The KPIs of ``content/kpis.yml``, whether ``content/triage.yml`` has SLA timers and the tenants of
    ``content/kedb.yml`` (each file read strictly; only the first two can make ``--strict`` refuse)."""
    problems: list[str] = []
    kpis: tuple[str, ...] = ()
    names: dict[str, str] = {}
    triage = False
    tenants: tuple[Tenant, ...] = ()
    for rel, model in (("content/kpis.yml", KpisFile), ("content/triage.yml", TriageFile), ("content/kedb.yml", SettingsFile)):
        path = Path(root) / rel
        if not path.is_file():
            continue
        got = read_data_file(path, rel, model)
        if got.issues or got.model is None:
            if model is not SettingsFile:  # without its tenants the import only counts no ticket per tenant
                problems.append(rel)
        elif isinstance(got.model, KpisFile):
            kpis = tuple(k.id for k in got.model.kpis)
            names = {k.id: k.name for k in got.model.kpis}
        elif isinstance(got.model, TriageFile):
            triage = bool(got.model.priorities)
        elif isinstance(got.model, SettingsFile):
            tenants = tuple(got.model.tenants)
    return Configured(kpis, names, triage, tuple(problems), tenants)


def strict_problems(header: Header, cfg: Configured, event_log: bool) -> list[str]:
    """Why ``--strict`` refuses the export: each configured KPI it cannot give (CSAT and the KB-assisted share only when
    the export has their field: :data:`kedb.tickets.needs.OPTIONAL`), and the fields that would give it."""
    out = [f"{rel} cannot be read (run `kedb check`): --strict cannot tell which KPIs are needed" for rel in cfg.problems]
    have = needs.available(header.used, event_log=event_log, triage=cfg.triage)
    near = {m.field: m for m in header.missing}
    for kpi in needs.refused(cfg.kpis, have):
        name = f" ({cfg.names[kpi]})" if cfg.names.get(kpi, kpi) != kpi else ""
        out.append(f"{kpi}{name} cannot be computed: it needs {needs.needs_text(kpi)}")
        for way in needs.NEEDS[kpi][1]:
            for f in sorted(way - have):
                if f in near and near[f].near:
                    out.append(f"  {near[f].text()}")
    return list(dict.fromkeys(out))


def import_export(
    root: Path,
    file: Path,
    source: str,
    map_file: Path | None = None,
    *,
    append: bool = False,
    strict: bool = False,
    progress: Progress = QUIET,
) -> ImportResult:
    """Import ``file`` into ``root/.kedb/tickets.duckdb`` (replacing it, or adding to it with ``append``)."""
    if not file.is_file():
        raise UsageError(f"{file} does not exist or is not a file")
    mapping = resolve(source, map_file)
    kdir = Path(root) / STORE_DIR
    kdir.mkdir(parents=True, exist_ok=True)
    with import_lock(root):  # held from reading the old store (--append) to replacing it
        return _import(root, kdir, file, source, mapping, append, strict, progress)


def _refuse(file: Path, problems: list[str]) -> None:
    raise FindingsError(
        "\n".join([*(f"{file.name}: {p}" if not p.startswith("  ") else p for p in problems), "--strict: nothing was imported"])
    )


def _import(
    root: Path, kdir: Path, file: Path, source: str, mapping: TicketMapping, append: bool, strict: bool, progress: Progress
) -> ImportResult:
    target = store_path(root)
    old = target if append and target.is_file() else None
    new = kdir / f"{STORE_NAME}.new"
    cfg = configured(root)
    forget_copies(kdir / "tmp")
    inp = open_export(file, mapping, kdir / "tmp")
    try:
        res = apply(mapping, inp.header, inp.display, _old_salt(old) or secrets.token_hex(8))
        header = understand(res, inp.header)
        if strict and (problems := strict_problems(header, cfg, event_log=True)):
            _refuse(file, problems)  # lost even if the export is an event log: no need to read it
        for p in (new, Path(f"{new}.wal")):
            p.unlink(missing_ok=True)
        with ThreadPoolExecutor(max_workers=1) as pool:
            # The file's hash and, for a CSV export read in place, where its records start (the second pass of an
            # event log reads the latest rows from those alone: kedb.tickets.collapse), beside the first pass.
            digest = pool.submit(scan, file, inp.path == file and inp.encoding != "utf-16")
            con = connect(new)
            try:
                size = file.stat().st_size
                with phase(progress, f"reading {inp.display} ({size / 1e6:,.1f} MB)", con) as ph:
                    wide = looks_one_row(con, inp, res)
                    rows, keyed = _load(con, inp, res, wide)
                    _rejects(con, inp)
                    _bad_values(con, inp, res, lambda: _Where(inp, digest.result(), rows))
                    ph.detail = f"{rows:,} rows"
                event_log = bool(con.execute("SELECT count(*) > 0 FROM events WHERE step > 1").fetchone()[0])
                if strict and (problems := strict_problems(header, cfg, event_log)):
                    _refuse(file, problems)
                with phase(progress, "collapsing to tickets" if event_log else "typing tickets", con) as ph:
                    unreadable = build(
                        con, inp, res, event_log, rows, wide, keyed, found=digest.result(), tmp=kdir / "tmp", listed=MAX_LISTED
                    )
                    if unreadable is not None:
                        lines = _cell_lines(con, inp, res, unreadable.first, unreadable.rows, _Where(inp, digest.result(), rows))
                        raise FindingsError("\n".join([*lines, _nothing_imported(unreadable.rows)]))
                    n, first, last = con.execute("SELECT count(*), min(opened_at)::DATE, max(opened_at)::DATE FROM tickets").fetchone()
                    ph.detail = f"{n:,} tickets"
                with phase(progress, "writing the store") as ph:
                    con.execute(
                        "CREATE TABLE imports (no INTEGER, source VARCHAR, file VARCHAR, sha256 VARCHAR, rows BIGINT, tickets BIGINT, "
                        "event_log BOOLEAN, first_opened DATE, last_opened DATE, columns VARCHAR)"
                    )
                    con.execute(
                        "INSERT INTO imports VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        [
                            source,
                            file.name,
                            digest.result().sha256,
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
                    per_tenant = tenant_counts(con, cfg.tenants) if "tenant" in res.columns else ()
                    con.execute("CHECKPOINT")
                    ph.detail = f"{total:,} tickets in {target.name}"
            finally:
                con.close()
        os.replace(new, target)
    finally:
        for p in (new, Path(f"{new}.wal")):
            p.unlink(missing_ok=True)
        if inp.temporary:
            inp.path.unlink(missing_ok=True)
    have = needs.available(res.columns, event_log=event_log, triage=cfg.triage)
    return ImportResult(
        target, file.name, source, rows, n, event_log, first, last, res.columns, res.absent, total, header,
        tuple(needs.lost(have)), cfg, per_tenant,
    )  # fmt: skip
