"""The record index of a CSV export (``kedb.tickets.lines``) and the second pass that reads the latest rows from it.

The index is only a faster way to find each ticket's latest row: whatever it gets wrong must send the import back
to reading the export again, with the same store as a result."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kbtest import kedb
from kedb.tickets import collapse, lines

# Cells as exports write them: commas, doubled quotes, line breaks of both kinds, non-ASCII text.
CELL = st.text(alphabet=st.sampled_from(list('ab ,;"\n\r\té€')), max_size=12)


def _written(rows: list[list[str]], terminator: str) -> tuple[bytes, list[int]]:
    """The CSV bytes of ``rows`` and where each record starts, measured while writing (not by parsing)."""
    out = io.BytesIO()
    starts = []
    for row in rows:
        starts.append(out.tell())
        text = io.StringIO()
        csv.writer(text, lineterminator=terminator, quoting=csv.QUOTE_MINIMAL).writerow(row)
        out.write(text.getvalue().encode("utf-8"))
    return out.getvalue(), starts


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=st.lists(st.lists(CELL, min_size=1, max_size=4), min_size=1, max_size=12),
    terminator=st.sampled_from(["\n", "\r\n"]),
    last_newline=st.booleans(),
    block=st.sampled_from([1, 2, 3, 7, 64]),
)
def test_the_index_finds_every_record_start_whatever_the_quoting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rows: list[list[str]], terminator: str, last_newline: bool, block: int
) -> None:
    """Quoted line breaks and doubled quotes, CRLF, no line break at the end, and blocks of the file that end
    inside a quoted field or between the two bytes of a CRLF."""
    monkeypatch.setattr(lines, "BLOCK", block)
    data, starts = _written(rows, terminator)
    if not last_newline:
        data = data.removesuffix(terminator.encode())
    path = tmp_path / "x.csv"
    path.write_bytes(data)
    found = lines.scan(path, index=True)
    assert found.starts is not None
    assert found.starts.tolist() == [*starts, len(data)]
    assert lines.records(found) == len(rows)
    assert found.sha256 == __import__("hashlib").sha256(data).hexdigest()


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=st.lists(st.lists(CELL, min_size=2, max_size=2), min_size=2, max_size=30),
    data=st.data(),
    window=st.sampled_from([1, 5, 64, 1 << 20]),
)
def test_the_copied_rows_are_the_rows_asked_for_each_with_its_number(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rows: list[list[str]], data: Any, window: int
) -> None:
    """Rows longer than the copy window, one row per window, or all in one: the copy parses back (Python's csv) to
    the rows asked for, in order, each behind its number."""
    monkeypatch.setattr(lines, "WINDOW", window)
    header = [["h1", "h2"]]
    raw, _ = _written(header + rows, "\r\n")
    path = tmp_path / "x.csv"
    path.write_bytes(b"\xef\xbb\xbf" + raw)  # a BOM: kept out of the copy's header
    found = lines.scan(path, index=True)
    wanted = sorted(data.draw(st.sets(st.integers(1, len(rows)), min_size=1)))
    out = tmp_path / "latest.csv"
    out.unlink(missing_ok=True)  # hypothesis runs every example in the same folder
    lines.write_rows(path, found, 0, np.array(wanted), out, ",", "_n")
    got = list(csv.reader(io.StringIO(out.read_bytes().decode("utf-8"), newline="")))
    assert got[0] == ["_n", "h1", "h2"]
    assert got[1:] == [[str(n), *rows[n - 1]] for n in wanted]


def test_without_an_index_the_file_is_only_hashed(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_bytes(b"a,b\n1,2\n")
    found = lines.scan(path, index=False)
    assert found.starts is None and lines.records(found) == -1 and len(found.sha256) == 64


# ---------------------------------------------------------------- the import's second pass


def _store(root: Path) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    con = duckdb.connect(str(root / ".kedb" / "tickets.duckdb"), read_only=True)
    try:
        return (
            con.execute("SELECT * EXCLUDE (caller_key) FROM tickets ORDER BY id").fetchall(),
            con.execute("SELECT * EXCLUDE (updated_by_key) FROM events ORDER BY id, step").fetchall(),
        )
    finally:
        con.close()


def _import(root: Path, file: Path, *extra: str) -> Any:
    res = kedb("--root", str(root), "tickets", "import", str(file), "--source", "csv", *extra)
    assert res.exit_code == 0, res.output
    return res


@pytest.fixture
def spied(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[Any]]:
    """What the second pass did: whether the copy of the latest rows was started, and whether it was used."""
    seen: dict[str, list[Any]] = {"copy": [], "used": []}
    real_copy, real_use = collapse._copy_latest, collapse._latest_by_lines
    monkeypatch.setattr(collapse, "_copy_latest", lambda *a: seen["copy"].append(real_copy(*a)) or seen["copy"][-1])
    monkeypatch.setattr(collapse, "_latest_by_lines", lambda *a: seen["used"].append(real_use(*a)) or seen["used"][-1])
    return seen


LOG = (
    "id,opened_at,updated_at,status,category,text\r\n"
    'T1,2026-01-05 09:00,2026-01-05 09:00,new,printer,"paper jam\r\nsecond line, with ""quotes"""\r\n'
    "T2,2026-01-06 09:00,2026-01-06 09:00,new,vpn,tunnel down\r\n"
    'T1,2026-01-05 09:00,2026-01-05 12:00,resolved,spooler,"fixed: 0x8004010F\nby restart"\r\n'
    "T2,2026-01-06 09:00,2026-01-06 11:00,open,tunnel,\r\n"
    "T1,2026-01-05 09:00,2026-01-05 10:00,open,printer,older than the row above\r\n"
)


def _truth(root: Path, file: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The store as the import makes it by reading the export a second time."""
    with monkeypatch.context() as m:
        m.setattr(collapse, "_copy_latest", lambda *a: None)
        _import(root, file)
    return _store(root)


def test_an_event_log_reads_its_latest_rows_from_their_copied_lines(
    base_kb: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spied: dict[str, list[Any]]
) -> None:
    """Quoted line breaks (CRLF and LF) and doubled quotes in the text: one record per row all the same. The
    store is the one the second read of the file gives, and the copy is gone afterwards."""
    log = tmp_path / "log.csv"
    log.write_bytes(LOG.encode("utf-8"))
    truth = _truth(base_kb, log, monkeypatch)
    _import(base_kb, log)
    assert spied["used"] == [True]
    assert _store(base_kb) == truth
    t = {r[0]: r for r in truth[0]}
    assert set(t) == {"T1", "T2"}
    con = duckdb.connect(str(base_kb / ".kedb" / "tickets.duckdb"), read_only=True)
    try:
        got = dict(con.execute("SELECT id, category_n || '|' || coalesce(codes, '') FROM tickets").fetchall())
    finally:
        con.close()
    assert got == {"T1": "spooler|0x8004010f", "T2": "tunnel|"}
    assert not list((base_kb / ".kedb" / "tmp").glob("*.latest.csv"))


@pytest.mark.parametrize(
    "shape",
    ["blank line", "carriage returns", "utf-16"],
)
def test_an_export_the_index_cannot_count_is_read_again(
    base_kb: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spied: dict[str, list[Any]], shape: str
) -> None:
    """A blank line (DuckDB skips it), rows ended by CR alone (DuckDB reads them, the index counts line feeds), UTF-16
    (no index): the index does not hold one record per row, so the latest rows are not copied, and the store is right."""
    text = LOG
    if shape == "blank line":
        text = text.replace("T2,2026-01-06 09:00,2026-01-06 09:00", "\r\nT2,2026-01-06 09:00,2026-01-06 09:00")
    elif shape == "carriage returns":
        text = text.replace("\r\n", "\r")
    log = tmp_path / "log.csv"
    log.write_bytes(text.encode("utf-16") if shape == "utf-16" else text.encode("utf-8"))
    truth = _truth(base_kb, log, monkeypatch)
    _import(base_kb, log)
    assert spied["copy"] == [None] and spied["used"] == []
    assert _store(base_kb) == truth and truth[0]


@pytest.mark.parametrize("fault", ["shifted", "merged", "short read"])
def test_a_wrong_index_is_caught_and_the_export_read_again(
    base_kb: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spied: dict[str, list[Any]], fault: str
) -> None:
    """An index that counts right but points at the wrong rows (each copied row must have its latest row's number
    and key), or a copy that fails: the store is still the one the second read gives, and no copy is left."""
    log = tmp_path / "log.csv"
    log.write_bytes(LOG.encode("utf-8"))
    truth = _truth(base_kb, log, monkeypatch)
    real_scan = lines.scan

    def bad_scan(path: Path, index: bool) -> lines.Scan:
        found = real_scan(path, index)
        assert found.starts is not None
        starts = found.starts.copy()
        if fault == "shifted":  # every boundary one record late: the header and row 1 as one, the last row split
            starts[1:-2] = starts[2:-1]
            starts[-2] = (starts[-3] + starts[-1]) // 2
        elif fault == "merged":  # rows 1 and 2 as one record, the last row split in two: the count is still right
            starts = np.concatenate([starts[:2], starts[3:-1], [(starts[-2] + starts[-1]) // 2, starts[-1]]]).astype(np.int64)
        assert len(starts) == len(found.starts)
        return lines.Scan(found.sha256, starts)

    from kedb.tickets import importer

    monkeypatch.setattr(importer, "scan", bad_scan)
    if fault == "short read":

        def failing(*_a: Any) -> None:
            raise OSError("the export changed while it was read")

        monkeypatch.setattr(collapse, "write_rows", failing)
    _import(base_kb, log)
    assert spied["copy"][0] is not None and spied["used"] == [False]
    assert _store(base_kb) == truth
    assert not list((base_kb / ".kedb" / "tmp").glob("*.latest.csv"))


def test_a_column_named_like_the_copys_row_number_is_kept(
    base_kb: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spied: dict[str, list[Any]]
) -> None:
    log = tmp_path / "log.csv"
    log.write_bytes(LOG.replace("id,", "id,_KEDB_ROW,", 1).replace("\r\nT1,", "\r\nT1,x,").replace("\r\nT2,", "\r\nT2,y,").encode("utf-8"))
    truth = _truth(base_kb, log, monkeypatch)
    _import(base_kb, log)
    assert spied["used"] == [True] and _store(base_kb) == truth


def test_a_copy_left_by_a_killed_import_is_removed_by_the_next(base_kb: Path, tmp_path: Path) -> None:
    """A killed import cannot delete the copy of the latest rows it was writing; the next import does."""
    stale = base_kb / ".kedb" / "tmp" / f"old-export.csv.1{collapse.COPY}"  # the second part of a killed import's copy
    stale.parent.mkdir(parents=True, exist_ok=True)
    stale.write_bytes(b"x" * 1000)
    spill = base_kb / ".kedb" / "tmp" / "duckdb_temp_storage.tmp"  # DuckDB's own spill files are not ours to delete
    spill.write_bytes(b"")
    log = tmp_path / "log.csv"
    log.write_bytes(LOG.encode("utf-8"))
    _import(base_kb, log)
    assert not stale.exists() and spill.exists()


@pytest.mark.parametrize("part", [0, 1])
def test_a_folder_where_the_copy_goes_sends_the_import_back_to_the_export(
    base_kb: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spied: dict[str, list[Any]], part: int
) -> None:
    """A folder named like a part of the copy cannot be deleted nor written through: that part is not made, the parts
    already parsed are dropped, and the store is right. The log's two latest rows are copied in two parts (the third
    would be empty and is not made), so part 1 fails after part 0 was parsed into ``lt``."""
    log = tmp_path / "log.csv"
    log.write_bytes(LOG.encode("utf-8"))
    truth = _truth(base_kb, log, monkeypatch)
    (base_kb / ".kedb" / "tmp" / f"log.csv.{part}{collapse.COPY}").mkdir(parents=True)
    _import(base_kb, log)
    assert len(spied["copy"][0]) == 2
    assert spied["used"] == [False] and _store(base_kb) == truth
    assert [p.name for p in (base_kb / ".kedb" / "tmp").glob("*.latest.csv")] == [f"log.csv.{part}{collapse.COPY}"]
