"""`kedb tickets import`: every source's export shape, event-log collapse, and bad input reported by row."""

from __future__ import annotations

import json
import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest

from kbtest import FIXTURES, kedb
from kedb.tickets.store import MEMORY_LIMIT, connect, default_memory_limit

TICKETS = FIXTURES / "tickets"


def store(root: Path) -> Path:
    return root / ".kedb" / "tickets.duckdb"


def rows(root: Path, sql: str) -> list[dict[str, Any]]:
    con = duckdb.connect(str(store(root)), read_only=True)
    try:
        cur = con.execute(sql)
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    finally:
        con.close()


def tickets(root: Path) -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in rows(root, "SELECT * FROM tickets")}


def imp(root: Path, file: Path, source: str, *extra: str) -> Any:
    return kedb("--root", str(root), "tickets", "import", str(file), "--source", source, *extra)


def test_servicenow_event_log_with_bom_semicolons_crlf_and_quoted_newlines(base_kb: Path) -> None:
    res = imp(base_kb, TICKETS / "servicenow-semicolon.csv", "servicenow")
    assert res.exit_code == 0, res.output
    assert "imported 3 tickets" in res.output and "9 rows: an event log" in res.output
    t = tickets(base_kb)
    assert set(t) == {"INC0001001", "INC0001002", "INC0001003"}
    a, b, c = t["INC0001001"], t["INC0001002"], t["INC0001003"]
    # latest state, day-first dates, derived first response (first row out of New)
    assert a["class"] == "resolved" and a["done_at"] == datetime(2026, 2, 3, 11, 0)
    assert a["first_response_at"] == datetime(2026, 2, 3, 9, 20)
    assert a["reassignment_count"] == 1 and a["sla_breached"] is False and a["events"] == 3
    assert a["codes"] == "event-id-7031" and a["customer"] == "ACME" and a["priority"] == "P3"
    # reopened once, resolved again: done at the last resolution, made_sla FALSE -> breached
    assert b["reopen_count"] == 1 and b["done_at"] == datetime(2026, 2, 6, 9, 30) and b["sla_breached"] is True
    assert b["first_response_at"] == datetime(2026, 2, 4, 10, 45) and b["codes"] is None
    # still new: open, no response yet, `?` read as missing, hex code lower-cased
    assert c["class"] == "new" and c["done_at"] is None and c["first_response_at"] is None and c["ci_n"] is None
    assert c["codes"] == "0x8004010f" and c["category_n"] == "outlook-profile"
    ev = rows(base_kb, "SELECT step, status, assignment_group FROM events WHERE id = 'INC0001002' ORDER BY step")
    assert [e["status"] for e in ev] == ["New", "Active", "Resolved", "Active", "Resolved"]
    # nothing but ids, dates, counts and normalised categories: no description, no caller name
    dump = json.dumps(rows(base_kb, "SELECT * FROM tickets") + rows(base_kb, "SELECT * FROM events"), default=str)
    assert "Caller" not in dump and "second line" not in dump and "Spooler stopped" not in dump


def test_zendesk_csv_metrics_and_request_types(base_kb: Path) -> None:
    res = imp(base_kb, TICKETS / "zendesk.csv", "zendesk")
    assert res.exit_code == 0, res.output
    t = tickets(base_kb)
    assert t["101"]["first_response_minutes"] == 35  # the business-hours column wins
    assert t["101"]["reassignment_count"] == 1 and t["102"]["reassignment_count"] == 2  # group stations - 1
    assert t["102"]["reopen_count"] == 1 and t["101"]["priority"] == "P1"
    assert t["102"]["opened_at"] == datetime(2026, 2, 3, 10, 0) and t["103"]["opened_at"] == datetime(2026, 2, 4, 7, 30)  # UTC
    assert t["101"]["done_at"] == datetime(2026, 2, 2, 12, 0) and t["103"]["done_at"] is None
    assert t["103"]["is_request"] is True and t["101"]["is_request"] is False
    assert t["101"]["codes"] == t["102"]["codes"] == "aadsts50076"


def test_zendesk_json_lines_with_metric_sets(base_kb: Path) -> None:
    res = imp(base_kb, TICKETS / "zendesk.ndjson", "zendesk")
    assert res.exit_code == 0, res.output
    t = tickets(base_kb)
    assert t["201"]["codes"] == "dns-probe-finished-nxdomain" and t["201"]["first_response_minutes"] == 15
    assert t["201"]["done_at"] == datetime(2026, 3, 1, 11, 0) and t["202"]["is_request"] is True
    assert not (base_kb / ".kedb" / "tmp" / "zendesk.flat.csv").exists()  # the flattened copy is removed


def test_jira_csv_month_names_and_duplicate_headers(base_kb: Path) -> None:
    res = imp(base_kb, TICKETS / "jira.csv", "jira")
    assert res.exit_code == 0, res.output
    t = tickets(base_kb)
    assert t["HELP-7"]["opened_at"] == datetime(2026, 2, 2, 9, 5) and t["HELP-7"]["done_at"] == datetime(2026, 2, 3, 16, 0)
    assert t["HELP-7"]["category_n"] == "clickonce" and t["HELP-7"]["customer"] == "INITECH"
    assert t["HELP-8"]["is_request"] is True and t["HELP-8"]["class"] == "new"


def test_superops_graphql_json(base_kb: Path) -> None:
    res = imp(base_kb, TICKETS / "superops.json", "superops")
    assert res.exit_code == 0, res.output
    t = tickets(base_kb)
    one, two = t["260201-0001"], t["260202-0001"]
    assert one["customer"] == "ACME" and one["sla_breached"] is True and one["codes"] == "0x800423f4"
    assert one["first_response_at"] == datetime(2026, 2, 1, 6, 30) and one["done_at"] == datetime(2026, 2, 1, 9, 0)
    assert two["class"] == "pending" and two["sla_breached"] is False and two["subcategory_n"] is None


def test_custom_export_with_a_mapping_file(base_kb: Path) -> None:
    res = imp(base_kb, TICKETS / "custom.csv", "csv", "--map", str(TICKETS / "custom-map.yml"))
    assert res.exit_code == 0, res.output
    t = tickets(base_kb)
    assert t["C-1"]["done_at"] == datetime(2026, 2, 1, 10, 0) and t["C-1"]["sla_breached"] is False
    assert t["C-2"]["sla_breached"] is True and t["C-2"]["done_at"] is None and t["C-2"]["symptom_n"] == "mailbox-full"
    assert "not in this export" not in res.output  # every mapped column was found


def test_a_mapping_file_can_adjust_a_builtin_one(base_kb: Path, tmp_path: Path) -> None:
    export = tmp_path / "us.csv"
    export.write_text("number,opened_at,incident_state,u_tier\nINC1,02/03/2026 09:00,Triage,T2\n", encoding="utf-8")
    mapping = tmp_path / "map.yml"
    mapping.write_text("extends: servicenow\ndates: month-first\nstatuses:\n  Triage: new\nfields:\n  category: u_tier\n", encoding="utf-8")
    res = imp(base_kb, export, "servicenow", "--map", str(mapping))
    assert res.exit_code == 0, res.output
    t = tickets(base_kb)["INC1"]
    assert t["opened_at"] == datetime(2026, 2, 3, 9, 0) and t["class"] == "new" and t["category_n"] == "t2"


def test_append_replaces_tickets_present_in_the_new_export(base_kb: Path, tmp_path: Path) -> None:
    first = tmp_path / "a.csv"
    first.write_text("id,opened_at,status\nT1,2026-01-01 09:00,open\nT2,2026-01-02 09:00,open\n", encoding="utf-8")
    second = tmp_path / "b.csv"
    second.write_text("id,opened_at,status,resolved_at\nT2,2026-01-02 09:00,resolved,2026-01-03 09:00\nT3,2026-01-04 09:00,new,\n")
    assert imp(base_kb, first, "csv").exit_code == 0
    res = imp(base_kb, second, "csv", "--append")
    assert res.exit_code == 0, res.output
    assert "store .kedb/tickets.duckdb holds 3 tickets" in res.output
    t = tickets(base_kb)
    assert sorted(t) == ["T1", "T2", "T3"] and t["T2"]["class"] == "resolved" and t["T1"]["class"] == "open"
    assert [r["file"] for r in rows(base_kb, "SELECT file FROM imports ORDER BY no")] == ["a.csv", "b.csv"]
    other = imp(base_kb, TICKETS / "zendesk.csv", "zendesk", "--append")
    assert other.exit_code == 2 and "same --source" in other.output


# ---------------------------------------------------------------- bad input: row numbers, nothing written
def _broken(tmp_path: Path, text: str | bytes, name: str = "bad.csv") -> Path:
    p = tmp_path / name
    if isinstance(text, bytes):
        p.write_bytes(text)
    else:
        p.write_text(text, encoding="utf-8", newline="")
    return p


@pytest.fixture
def imported(base_kb: Path) -> Path:
    """A KB whose store already holds the ServiceNow fixture: failed imports must leave it as it is."""
    assert imp(base_kb, TICKETS / "servicenow-semicolon.csv", "servicenow").exit_code == 0
    return base_kb


def _unchanged(root: Path, before: bytes) -> None:
    assert store(root).read_bytes() == before
    assert not list((root / ".kedb").glob("tickets.duckdb.new*"))


def test_bad_date_is_reported_with_its_spreadsheet_row(imported: Path, tmp_path: Path) -> None:
    before = store(imported).read_bytes()
    text = (TICKETS / "servicenow-semicolon.csv").read_bytes().replace(b"10-02-2026 14:00;10-02-2026", b"31-02-2026 14:00;10-02-2026")
    res = imp(imported, _broken(tmp_path, text), "servicenow")
    assert res.exit_code == 1
    # header = row 1; the multi-line records before it count one row each (row 10 is line 15 of the file)
    assert "bad.csv: row 10: opened_at (column 'opened_at'): '31-02-2026 14:00' is not a date" in res.output
    assert "Traceback" not in res.output and "nothing was imported" in res.output
    _unchanged(imported, before)


def test_ragged_rows_and_unterminated_quotes_are_listed(imported: Path, tmp_path: Path) -> None:
    before = store(imported).read_bytes()
    bad = _broken(
        tmp_path, "id,opened_at,status\nT1,2026-01-01 09:00,open\nT2,2026-01-02\nT3,2026-01-03 09:00,open,extra\nT4,2026-01-04 09:00,open\n"
    )
    res = imp(imported, bad, "csv")
    assert res.exit_code == 1
    assert "bad.csv: row 3: missing columns" in res.output and "bad.csv: row 4: too many columns" in res.output
    assert "T4" not in res.output
    _unchanged(imported, before)


def test_unknown_status_missing_id_and_bad_numbers(imported: Path, tmp_path: Path) -> None:
    before = store(imported).read_bytes()
    text = (
        "id,opened_at,status,reopen_count,sla_breached\n"
        "T1,2026-01-01 09:00,open,0,no\n"
        "T2,2026-01-01 09:00,Parked,0,no\n"
        ",2026-01-01 09:00,open,0,no\n"
        "T4,2026-01-01 09:00,open,two,no\n"
        "T5,2026-01-01 09:00,open,1,perhaps\n"
        "T6,,open,1,yes\n"
        "T7,2026-01-01 09:00,Parked,0,no\n"
    )
    res = imp(imported, _broken(tmp_path, text), "csv")
    assert res.exit_code == 1
    out = res.output
    assert "row 3: status 'Parked' (2 rows) is not in the mapping" in out
    assert "row 4: the id (column 'id') is empty" in out
    assert "row 5: reopen_count (column 'reopen_count'): 'two' is not a whole number" in out
    assert "row 6: sla_breached (column 'sla_breached'): 'perhaps' is neither true" in out
    assert "row 7: the opened_at (column 'opened_at') is empty" in out
    assert "nothing was imported: 6 rows cannot be read" in out
    _unchanged(imported, before)


def test_not_utf8_missing_columns_and_bad_json(base_kb: Path, tmp_path: Path) -> None:
    latin = _broken(tmp_path, "id,opened_at,category\nT1,2026-01-01 09:00,Imprimante\nT2,2026-01-01 09:00,Caf\xe9\n".encode("latin-1"))
    res = imp(base_kb, latin, "csv")
    assert res.exit_code == 1 and "row 3" in res.output and "encoding: latin-1" in res.output
    mapping = _broken(tmp_path, "extends: csv\nencoding: latin-1\n", "latin.yml")
    ok = imp(base_kb, latin, "csv", "--map", str(mapping))
    assert ok.exit_code == 0, ok.output
    assert tickets(base_kb)["T2"]["category_n"] == "cafe"
    nocol = imp(base_kb, _broken(tmp_path, "ticket,when\nT1,2026-01-01\n"), "zendesk")
    assert nocol.exit_code == 1 and "row 1: no column for the ticket id" in nocol.output and "does it need --map" in nocol.output
    js = imp(base_kb, _broken(tmp_path, '{"tickets": [{"id": 1, "created_at": "2026-01-01T00:00:00Z"}, 5]}', "x.json"), "zendesk")
    assert js.exit_code == 1 and "x.json: record 2: expected a ticket object" in js.output
    nd = imp(base_kb, _broken(tmp_path, '{"id": 1}\n{"id": 2,\n', "y.ndjson"), "zendesk")
    assert nd.exit_code == 1 and "y.ndjson: line 2: not JSON" in nd.output
    empty = imp(base_kb, _broken(tmp_path, ""), "csv")
    assert empty.exit_code == 1 and "empty" in empty.output


def test_bad_mapping_file_and_usage_errors(base_kb: Path, tmp_path: Path) -> None:
    mapping = _broken(tmp_path, "fields:\n  id: Ref\n  opened: Raised\nstatuses:\n  Done: finished\n", "m.yml")
    res = imp(base_kb, TICKETS / "custom.csv", "csv", "--map", str(mapping))
    assert res.exit_code == 1 and f"{mapping}:3:" in res.output and f"{mapping}:5:" in res.output
    missing = imp(base_kb, tmp_path / "nope.csv", "csv")
    assert missing.exit_code == 2 and "does not exist" in missing.output
    wrong = kedb("--root", str(base_kb), "tickets", "import", str(TICKETS / "custom.csv"), "--source", "remedy")
    assert wrong.exit_code == 2
    shutil.rmtree(base_kb / "content")
    shutil.rmtree(base_kb / "known_errors")
    notkb = imp(base_kb, TICKETS / "custom.csv", "csv")
    assert notkb.exit_code == 2 and "not a kedb repository" in notkb.output


@pytest.mark.parametrize("parallel", [True, False])
def test_people_are_kept_only_as_comparable_one_way_hashes(
    base_kb: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, parallel: bool
) -> None:
    """A caller's hash equals the hash of the same person updating a row (how a chase is recognised), and no name is stored.
    Both ways of reading: the parallel one hashes each distinct name once and joins it to the rows."""
    from kedb.tickets import importer

    monkeypatch.setattr(importer, "in_file_order", lambda con, sql, real=importer.in_file_order: parallel and real(con, sql))
    export = tmp_path / "log.csv"
    export.write_text(
        "number,opened_at,sys_updated_at,incident_state,caller_id,sys_updated_by\n"
        "INC1,01-01-2026 09:00,01-01-2026 09:00,New,Ann Caller,Ann Caller\n"
        "INC1,01-01-2026 09:00,01-01-2026 10:00,Active,Ann Caller,Bob Agent\n"
        "INC1,01-01-2026 09:00,01-01-2026 11:00,Active,Ann Caller, Ann Caller \n",
        encoding="utf-8",
    )
    assert imp(base_kb, export, "servicenow").exit_code == 0
    same = rows(
        base_kb, "SELECT e.step, e.updated_by_key = t.caller_key AS by_caller FROM events e JOIN tickets t USING (id) ORDER BY step"
    )
    assert [r["by_caller"] for r in same] == [True, False, True]
    assert "Ann" not in store(base_kb).read_bytes().decode("latin-1") and "Bob" not in store(base_kb).read_bytes().decode("latin-1")


def test_excel_sep_line_and_utf16(base_kb: Path, tmp_path: Path) -> None:
    sep = _broken(tmp_path, "sep=;\r\nid;opened_at;status\r\nT1;2026-01-01 09:00;open\r\nT2;2026-01-32 09:00;open\r\n", "sep.csv")
    res = imp(base_kb, sep, "csv")
    assert res.exit_code == 1 and "sep.csv: row 4: opened_at" in res.output  # the sep= line is row 1, as in a spreadsheet
    u16 = tmp_path / "u16.csv"
    u16.write_bytes(b"\xff\xfe" + "id\topened_at\tcategory\nT1\t2026-01-01 09:00\tÉcran noir\n".encode("utf-16-le"))
    ok = imp(base_kb, u16, "csv")
    assert ok.exit_code == 0, ok.output
    assert tickets(base_kb)["T1"]["category_n"] == "ecran-noir"


def _store_rows(root: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    return (
        rows(root, "SELECT * EXCLUDE (caller_key) FROM tickets ORDER BY id"),
        rows(root, "SELECT * EXCLUDE (updated_by_key) FROM events ORDER BY id, step"),
    )


@pytest.mark.parametrize("export", ["servicenow-semicolon.csv", "zendesk.csv", "jira.csv", "superops.json", "zendesk.ndjson"])
def test_every_way_of_reading_gives_the_same_store(base_kb: Path, monkeypatch: pytest.MonkeyPatch, export: str) -> None:
    """An export that looks like one row per ticket keeps every row's descriptive columns in the first pass; any
    other is read a second time for its latest rows: from a copy of their lines when the export's records were
    indexed, else by their keys or numbers. The first pass reads in parallel when DuckDB's plan keeps file
    order, else it numbers the rows in one thread. These choices only change the cost, never the store."""
    from kedb.tickets import collapse, importer

    source = {"servicenow": "servicenow", "zendesk": "zendesk", "jira": "jira", "superops": "superops"}[export.split("-")[0].split(".")[0]]
    taken: list[bool] = []
    real = importer.in_file_order
    real_copy = collapse._copy_latest
    assert imp(base_kb, TICKETS / export, source).exit_code == 0
    got = [_store_rows(base_kb)]
    for one_row in (True, False):
        for parallel in (True, False):
            for copy in (True, False):
                monkeypatch.setattr(importer, "looks_one_row", lambda *_a, one_row=one_row: one_row)
                monkeypatch.setattr(
                    importer, "in_file_order", lambda con, sql, p=parallel: taken.append(real(con, sql)) or (p and real(con, sql))
                )
                monkeypatch.setattr(collapse, "_copy_latest", lambda *a, c=copy: real_copy(*a) if c else None)
                assert imp(base_kb, TICKETS / export, source).exit_code == 0
                got.append(_store_rows(base_kb))
    assert all(g == got[0] for g in got) and got[0][0]
    assert all(taken), "the plan of the first pass no longer keeps file order: the import reads in one thread"


def _event_log(tmp_path: Path, lines: list[str]) -> Path:
    path = tmp_path / "log.csv"
    path.write_text("id,opened_at,updated_at,status,category,priority\n" + "".join(f"{ln}\n" for ln in lines), encoding="utf-8")
    return path


def test_an_event_log_with_tied_rows_keeps_the_last_in_file_order(base_kb: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Rows of one ticket with the same time and no sequence column are put in file order, whichever way the rows
    are read: the latest row is the last of them in the file, even when its per-row cells equal an earlier row's
    (then the second pass cannot tell them apart by key and numbers the rows instead)."""
    from kedb.tickets import collapse, importer

    log = _event_log(
        tmp_path,
        [
            "T1,2026-01-05 09:00,2026-01-05 09:00,new,printer,3",
            "T1,2026-01-05 09:00,2026-01-05 10:00,open,printer,3",
            "T1,2026-01-05 09:00,2026-01-05 10:00,open,spooler,2",  # same per-row cells as the row above: a tie
            "T2,2026-01-06 09:00,2026-01-06 09:00,new,vpn,4",
            "T2,2026-01-06 09:00,2026-01-06 11:00,resolved,vpn,4",
            "T2,2026-01-06 09:00,2026-01-06 11:00,open,tunnel,1",  # same time, other status: the later row wins
        ],
    )
    unique: list[bool] = []
    real_unique = collapse._keys_unique
    monkeypatch.setattr(collapse, "_keys_unique", lambda con: unique.append(real_unique(con)) or unique[-1])
    res = imp(base_kb, log, "csv")  # the latest rows copied from the export's lines: the ties do not matter there
    assert res.exit_code == 0, res.output
    copied = _store_rows(base_kb)
    assert unique == []
    monkeypatch.setattr(collapse, "_copy_latest", lambda *a: None)  # without that copy, keys or numbers
    results = []
    for parallel in (True, False):
        monkeypatch.setattr(importer, "in_file_order", lambda con, sql, p=parallel, real=importer.in_file_order: p and real(con, sql))
        res = imp(base_kb, log, "csv")
        assert res.exit_code == 0, res.output
        results.append(_store_rows(base_kb))
    assert unique == [False], "the tie must send the parallel path to numbered rows"
    assert results[0] == results[1] == copied
    t = {r["id"]: r for r in results[0][0]}
    assert (t["T1"]["category_n"], t["T1"]["priority"], t["T1"]["last_row"]) == ("spooler", "2", 3)
    assert (t["T2"]["category_n"], t["T2"]["class"], t["T2"]["last_row"]) == ("tunnel", "open", 6)


def test_an_event_log_without_ties_finds_its_latest_rows_by_key(base_kb: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from kedb.tickets import collapse

    log = _event_log(
        tmp_path,
        [
            "T2,2026-01-06 09:00,2026-01-06 09:00,new,vpn,4",
            "T1,2026-01-05 09:00,2026-01-05 09:00,new,printer,3",
            "T1,2026-01-05 09:00,2026-01-05 12:00,open,spooler,2",
            "T2,2026-01-06 09:00,2026-01-06 11:00,resolved,tunnel,1",
            "T1,2026-01-05 09:00,2026-01-05 10:00,open,printer,3",  # older than the row above, though later in the file
        ],
    )
    unique: list[bool] = []
    real_unique = collapse._keys_unique
    monkeypatch.setattr(collapse, "_keys_unique", lambda con: unique.append(real_unique(con)) or unique[-1])
    monkeypatch.setattr(collapse, "_copy_latest", lambda *a: None)  # the key path, not the copy of the latest lines
    assert imp(base_kb, log, "csv").exit_code == 0
    assert unique == [True]
    t = tickets(base_kb)
    assert (t["T1"]["category_n"], t["T1"]["last_row"], t["T2"]["category_n"], t["T2"]["last_row"]) == ("spooler", 3, "tunnel", 4)
    # A one-bit bitmap lets every row through the second pass's filter: the join on the latest keys still picks
    # the latest rows alone.
    monkeypatch.setattr(collapse, "bitmap_size", lambda latest: 1)
    assert imp(base_kb, log, "csv").exit_code == 0
    assert tickets(base_kb) == t and unique == [True, True]


WAYS = ["copy", "keys", "numbers", "wide"]


def _read_by(monkeypatch: pytest.MonkeyPatch, way: str) -> None:
    """Make the import find the latest rows ``way``: from the copy of their lines, by their keys, by their numbers (one
    thread), or from every row's descriptive columns kept by the first pass (the guess that each row is a ticket)."""
    from kedb.tickets import collapse, importer

    if way != "copy":
        monkeypatch.setattr(collapse, "_copy_latest", lambda *a: None)
    if way == "numbers":
        monkeypatch.setattr(importer, "in_file_order", lambda con, sql: False)
    if way == "wide":
        monkeypatch.setattr(importer, "looks_one_row", lambda *a: True)


@pytest.mark.parametrize("way", WAYS)
def test_descriptive_cells_are_checked_on_each_tickets_latest_row(
    base_kb: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, way: str
) -> None:
    """A count kedb keeps (the latest row's) that cannot be read stops the import with its row number, however the latest
    rows are found; the same kind of cell in a row a later row supersedes is never read, and does not stop it."""
    _read_by(monkeypatch, way)
    before = store(base_kb).read_bytes() if store(base_kb).exists() else None
    head = "id,opened_at,updated_at,status,reopen_count,sla_breached\n"
    rows = [
        "T1,2026-01-05 09:00,2026-01-05 09:00,new,0,no",
        "T1,2026-01-05 09:00,2026-01-05 10:00,open,two,perhaps",  # row 3: superseded by row 6
        "T2,2026-01-06 09:00,2026-01-06 11:00,open,x,no",  # row 4: T2's latest row (row 5 is older)
        "T2,2026-01-06 09:00,2026-01-06 09:00,new,0,no",
        "T1,2026-01-05 09:00,2026-01-05 11:00,resolved,1,yes",
    ]
    log = tmp_path / "log.csv"
    log.write_text(head + "\n".join(rows) + "\n", encoding="utf-8")
    res = imp(base_kb, log, "csv")
    assert res.exit_code == 1, res.output
    assert "log.csv: row 4: reopen_count (column 'reopen_count'): 'x' is not a whole number" in res.output
    assert "row 3" not in res.output and "nothing was imported: 1 row cannot be read" in res.output
    assert (store(base_kb).read_bytes() if store(base_kb).exists() else None) == before

    log.write_text(head + "\n".join(r.replace(",x,", ",2,") for r in rows) + "\n", encoding="utf-8")
    res = imp(base_kb, log, "csv")
    assert res.exit_code == 0, res.output
    t = tickets(base_kb)
    assert (t["T1"]["reopen_count"], t["T1"]["sla_breached"], t["T2"]["reopen_count"]) == (1, True, 2)


@pytest.mark.parametrize("sep_line", [False, True])
def test_error_rows_are_found_the_same_with_and_without_the_record_index(
    base_kb: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sep_line: bool
) -> None:
    """The error path finds the rows it lists (spreadsheet row, cells as written) from the hashing thread's record
    index; without one (a blank line, JSON, UTF-16) by reading the export again. Both give the same messages, with
    multi-line quoted cells and an Excel `sep=` line before the rows."""
    from kedb.tickets import importer

    text = ("sep=;\n" if sep_line else "") + (
        "id;opened_at;updated_at;status;reopen_count;text\n"
        'T1;2026-01-05 09:00;2026-01-05 09:00;new;0;"a note\nover ""two"" lines"\n'
        "T1;2026-01-05 09:00;2026-01-05 10:00;Parked;0;x\n"  # an unknown status
        "T2;2026-01-06 09:00;later;open;0;x\n"  # an unreadable time
        'T3;2026-01-07 09:00;2026-01-07 09:00;new;many;"semi;colon"\n'  # T3's latest row: an unreadable count
    )
    log = tmp_path / "log.csv"
    log.write_text(text, encoding="utf-8")
    indexed = imp(base_kb, log, "csv")
    monkeypatch.setattr(importer, "records", lambda found: -1)  # as if the index did not hold one record per row
    again = imp(base_kb, log, "csv")
    assert indexed.exit_code == again.exit_code == 1, indexed.output
    assert indexed.output == again.output
    first = 2 if sep_line else 1  # the header's row
    assert f"log.csv: row {first + 2}: status 'Parked' (1 row) is not in the mapping" in indexed.output
    assert f"log.csv: row {first + 3}: updated_at (column 'updated_at'): 'later' is not a date" in indexed.output
    assert f"log.csv: row {first + 4}: reopen_count (column 'reopen_count'): 'many' is not a whole number" in indexed.output


@pytest.mark.parametrize("indexed", [True, False])
def test_a_huge_cell_in_a_listed_row_is_no_traceback(base_kb: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, indexed: bool) -> None:
    """Python's csv module refuses a field over 128 KiB by default; a listed row with a 300 KB description is still
    listed, found by the record index or by reading the export again."""
    from kedb.tickets import importer

    if not indexed:
        monkeypatch.setattr(importer, "records", lambda found: -1)
    log = tmp_path / "log.csv"
    big = "x" * 300_000
    log.write_text(
        "id,opened_at,updated_at,status,reopen_count,text\n"
        f"T1,2026-01-05 09:00,2026-01-05 09:00,new,0,{big}\n"
        f'T1,2026-01-05 09:00,soon,open,many,"{big}"\n',
        encoding="utf-8",
    )
    res = imp(base_kb, log, "csv")
    assert res.exit_code == 1, res.output
    assert "Traceback" not in res.output
    assert "log.csv: row 3: updated_at (column 'updated_at'): 'soon' is not a date" in res.output
    assert "log.csv: row 3: reopen_count (column 'reopen_count'): 'many' is not a whole number" in res.output


@pytest.mark.parametrize("indexed", [True, False])
def test_a_listed_cell_cannot_send_control_sequences(base_kb: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, indexed: bool) -> None:
    """A listed cell is shown as the export has it, but never as terminal control sequences, whichever way the row
    was found (the record index gives Python's reading of the cell, the fallback DuckDB's)."""
    from kedb.tickets import importer

    if not indexed:
        monkeypatch.setattr(importer, "records", lambda found: -1)
    log = tmp_path / "log.csv"
    log.write_bytes(
        b"id,opened_at,updated_at,status,reopen_count\n"
        b"T1,2026-01-05 09:00,2026-01-05 09:00,new,0\n"
        b'T1,2026-01-05 09:00,2026-01-05 10:00,open,"\x1b[2J\x1b]0;owned\x07two"\n'
    )
    res = imp(base_kb, log, "csv")
    assert res.exit_code == 1, res.output
    assert "log.csv: row 3: reopen_count (column 'reopen_count'): '" in res.output
    assert "\x1b" not in res.output and "\x07" not in res.output and "two' is not a whole number" in res.output


def test_more_unreadable_latest_rows_than_are_listed_are_counted(base_kb: Path, tmp_path: Path) -> None:
    """Twenty rows are listed, and the rest counted in words a reader expects ("1 more row", not "1 more rows")."""
    log = tmp_path / "log.csv"
    rows = [f"T{i},2026-01-05 09:00,2026-01-05 09:00,new,0\nT{i},2026-01-05 09:00,2026-01-05 10:00,open,lots" for i in range(21)]
    log.write_text("id,opened_at,updated_at,status,reopen_count\n" + "\n".join(rows) + "\n", encoding="utf-8")
    res = imp(base_kb, log, "csv")
    assert res.exit_code == 1, res.output
    assert res.output.count("'lots' is not a whole number") == 20
    assert "… and 1 more row with values that cannot be read" in res.output
    assert "nothing was imported: 21 rows cannot be read" in res.output


@pytest.mark.parametrize("parallel", [True, False])
def test_the_first_pass_lists_the_latest_rows_descriptive_cells_too(
    base_kb: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, parallel: bool
) -> None:
    """When a per-row cell stops the import before the second pass, the unreadable descriptive cells of each ticket's
    latest row are listed with it (a row with one of each is one row with two lines), so one round of fixes is enough;
    a superseded row's are not."""
    from kedb.tickets import importer

    monkeypatch.setattr(importer, "in_file_order", lambda con, sql, p=parallel, real=importer.in_file_order: p and real(con, sql))
    before = store(base_kb).read_bytes() if store(base_kb).exists() else None
    log = tmp_path / "log.csv"
    log.write_text(
        "id,opened_at,updated_at,status,reopen_count\n"
        "T1,2026-01-05 09:00,2026-01-05 09:00,new,0\n"
        "T1,2026-01-05 09:00,2026-01-05 10:00,open,two\n"  # row 3: not T1's latest row
        "T2,2026-01-06 09:00,2026-01-06 09:00,new,0\n"
        "T2,2026-01-06 09:00,soon,open,x\n"  # row 5: an unreadable time (first pass) and count (T2's latest row)
        "T3,2026-01-07 09:00,2026-01-07 09:00,new,many\n"  # row 6: T3's only row
        "T1,2026-01-05 09:00,2026-01-05 11:00,resolved,0\n",
        encoding="utf-8",
    )
    res = imp(base_kb, log, "csv")
    assert res.exit_code == 1, res.output
    out = res.output
    assert "row 5: updated_at (column 'updated_at'): 'soon' is not a date" in out
    assert "row 5: reopen_count (column 'reopen_count'): 'x' is not a whole number" in out
    assert "row 6: reopen_count (column 'reopen_count'): 'many' is not a whole number" in out
    assert "row 3" not in out and "nothing was imported: 2 rows cannot be read" in out
    assert (store(base_kb).read_bytes() if store(base_kb).exists() else None) == before


def test_the_guess_about_the_shape_reads_the_first_rows_only(tmp_path: Path) -> None:
    from kedb.tickets import importer
    from kedb.tickets.mapping import apply, builtin
    from kedb.tickets.reader import open_csv
    from kedb.tickets.store import connect

    log = tmp_path / "log.csv"
    log.write_text("id,opened_at\n" + "".join(f"T{i},2026-01-01 09:00\n" for i in range(10)) + "T0,2026-01-01 10:00\n", encoding="utf-8")
    m = builtin("csv")
    inp = open_csv(log, m)
    res = apply(m, inp.header, inp.display)
    con = connect(tmp_path / "x.duckdb")
    importer.PEEK_ROWS, old = 10, importer.PEEK_ROWS
    try:
        assert importer.looks_one_row(con, inp, res)  # the repeat lies beyond the rows looked at (PEEK_ROWS)…
        importer.PEEK_ROWS = 11
        assert not importer.looks_one_row(con, inp, res)  # … and is seen when they reach it
    finally:
        importer.PEEK_ROWS = old
        con.close()


def test_columns_named_like_kedbs_own_are_read_as_the_exports(base_kb: Path, tmp_path: Path) -> None:
    """A header may use the names kedb's queries give their own columns (row number, row key, the latest row):
    they are the export's columns, read as '<name> (2)', and the import neither fails nor mixes them up."""
    log = tmp_path / "log.csv"
    log.write_text(
        "id,opened_at,updated_at,status,_ord,_K,export_row,category\n"
        "T1,2026-01-05 09:00,2026-01-05 09:00,new,9,9,9,printer\n"
        "T1,2026-01-05 09:00,2026-01-05 10:00,open,8,8,8,spooler\n"
        "T2,2026-01-06 09:00,2026-01-06 09:00,new,7,7,7,vpn\n",
        encoding="utf-8",
    )
    res = imp(base_kb, log, "csv")
    assert res.exit_code == 0, res.output
    t = tickets(base_kb)
    assert (t["T1"]["category_n"], t["T1"]["last_row"], t["T2"]["category_n"], t["T2"]["last_row"]) == ("spooler", 2, "vpn", 3)


def test_text_is_trimmed_as_duckdb_trims_it() -> None:
    """:func:`kedb.tickets.sqlexpr.stripped` skips ``trim`` for texts it cannot change: the same value as
    ``nullif(trim(v), '')`` for every ASCII character and every Unicode space at either end (a newer DuckDB whose
    ``trim`` removed more than the spaces it removes today fails here, not in a store)."""
    from kedb.tickets import sqlexpr as S

    chars = [chr(i) for i in range(1, 128)] + [
        chr(i) for i in (0x85, 0xA0, 0x1680, *range(0x2000, 0x200C), 0x2028, 0x202F, 0x205F, 0x3000, 0xFEFF, 0xE9)
    ]
    values = [None, "", "a", "ab cd", "é", "abcdefghijklmnopqrstu"]
    values += [w for c in chars for w in (c, c + "x", "x" + c, c + "x" + c, c + "abcdefghijklmnop", "abcdefghijklmnop" + c)]
    con = duckdb.connect()
    con.execute("CREATE TABLE t (v VARCHAR)")
    con.executemany("INSERT INTO t VALUES (?)", [[v] for v in values])
    missing = ["", "?", "-", "N/A"]
    old_cleaned = f"(CASE trim(v) {' '.join(f'WHEN {S.lit(x)} THEN NULL' for x in missing)} ELSE trim(v) END)"
    differ = con.execute(
        f"SELECT v FROM t WHERE nullif(trim(v), '') IS DISTINCT FROM {S.stripped('v')} "
        f"OR {old_cleaned} IS DISTINCT FROM {S.cleaned('v', missing)} OR nullif(trim(v), '') IS DISTINCT FROM {S.cleaned('v', [])}"
    ).fetchall()
    assert differ == []
    assert con.execute(f"SELECT {S.stripped(S.lit(chr(0x3000) + ' x' + chr(0xA0)))}, {S.stripped(S.lit(' '))}").fetchone() == ("x", None)


def test_the_memory_limit_is_a_quarter_of_the_machine_between_500_mb_and_1_5_gb(tmp_path: Path) -> None:
    assert default_memory_limit(24 * 2**30) == "1500MB"  # this machine: the limit the event-log bench was measured at
    assert default_memory_limit(4 * 10**9) == "1000MB"
    assert default_memory_limit(2 * 10**9) == "500MB"  # a small CI runner: the import spills rather than runs out
    assert default_memory_limit(None) == "1500MB"
    setting = "SELECT value FROM duckdb_settings() WHERE name = 'memory_limit'"
    plain = duckdb.connect()
    con = connect(tmp_path / "t.duckdb")
    try:
        duckdbs_own = plain.execute(setting).fetchone()
        plain.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
        assert con.execute(setting).fetchone() == plain.execute(setting).fetchone() != duckdbs_own  # kedb's store sets it
    finally:
        con.close()
        plain.close()
