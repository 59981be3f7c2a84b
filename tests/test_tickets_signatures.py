"""Symptom signatures: the same problem written differently gets one signature, and tickets meet their known errors."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import duckdb

from kbtest import REPO, kedb, write_csv
from kedb.core.load.loader import load
from kedb.core.records import KnownError
from kedb.tickets.candidates import signature_sql


def synth():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("synth_tickets", REPO / "benchmarks" / "synth_tickets.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules["synth_tickets"] = mod
    spec.loader.exec_module(mod)
    return mod


def signatures(root: Path, fields: list[str]) -> dict[str, str | None]:
    con = duckdb.connect(str(root / ".kedb" / "tickets.duckdb"), read_only=True)
    try:
        return dict(con.execute(f"SELECT id, {signature_sql(fields)} FROM tickets").fetchall())
    finally:
        con.close()


def test_spelling_case_accents_and_code_order_do_not_split_a_signature(base_kb: Path, tmp_path: Path) -> None:
    rows = [
        ["T1", "2026-01-05 09:00", "Printing", "Print Spooler", "", "KB5034441 failed with 0x80070643"],
        ["T2", "2026-01-05 09:00", "printing", "print-spooler", "?", "error 0X80070643 while installing kb5034441 (KB5034441)"],
        ["T3", "2026-01-05 09:00", " PRINTING ", "Print  spooler.", "", "Update KB5034441: 0x80070643"],
        ["T4", "2026-01-05 09:00", "Printing", "Print Spooler", "", "Event ID 7031 then EventID: 7031"],
        ["T5", "2026-01-05 09:00", "Printing", "Print Spooler", "", "event id 07031"],
        ["T6", "2026-01-05 09:00", "Imprimés", "Café/Réseau", "", "NET::ERR_CERT_DATE_INVALID"],
        ["T7", "2026-01-05 09:00", "imprimes", "cafe reseau", "", "ERR_CERT_DATE_INVALID and AADSTS50076"],
    ]
    export = write_csv(tmp_path / "t.csv", ["id", "opened_at", "service", "category", "symptom", "text"], rows)
    assert kedb("--root", str(base_kb), "tickets", "import", str(export), "--source", "csv").exit_code == 0
    s = signatures(base_kb, ["service", "category", "subcategory", "symptom", "error_codes"])
    assert s["T1"] == s["T2"] == s["T3"] == "printing:print-spooler:kb5034441:0x80070643"
    assert s["T4"] == s["T5"] == "printing:print-spooler:event-id-7031"
    assert s["T6"] == "imprimes:cafe-reseau:net-err-cert-date-invalid"
    assert s["T7"] == "imprimes:cafe-reseau:aadsts50076:net-err-cert-date-invalid"  # kinds in a fixed order
    assert signatures(base_kb, ["category"])["T1"] == "print-spooler"  # only the configured fields count


def test_every_example_known_error_is_met_by_its_tickets(example_kb: Path, tmp_path: Path) -> None:
    """Tickets written the way an agent would (display names, pasted codes) get the known error's signature."""
    mod = synth()
    kb = load(example_kb)[0]
    kes = [r.meta for r in kb.known_errors if isinstance(r.meta, KnownError) and r.meta.status != "retired"]
    header = ["number", "opened_at", "incident_state", "business_service", "category", "subcategory", "u_symptom", "short_description"]
    rows = []
    for i, ke in enumerate(kes):
        sig = mod.from_signature(ke.symptom_signature, 1.0)
        rows.append(
            [ke.id, f"0{1 + i % 9}-03-2026 09:00", "New", sig.service, sig.category, sig.subcategory or "?", sig.symptom or "?", sig.text]
        )
    export = write_csv(tmp_path / "agents.csv", header, rows)
    res = kedb("--root", str(example_kb), "tickets", "import", str(export), "--source", "servicenow")
    assert res.exit_code == 0, res.output
    fields = list(kb.program.recurrence.signature_fields)  # type: ignore[union-attr]
    got = signatures(example_kb, fields)
    assert {ke.id: got[ke.id] for ke in kes} == {ke.id: ke.symptom_signature for ke in kes}
    assert any(":" in r[-1] for r in rows) and any("NET::ERR_" in r[-1] for r in rows)
