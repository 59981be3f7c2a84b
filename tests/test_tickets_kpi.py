"""`kedb kpi`: each figure on small exports whose answer can be counted by hand, and the snapshot file."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest

from conftest import MakeKB, overlay
from kbtest import kedb
from kedb.core.load.loader import load
from kedb.core.snapshots import KpiSnapshot

COLUMNS = ["id", "opened_at", "status", "type", "priority", "customer", "service", "category", "symptom", "text", "resolved_at"]
COLUMNS += ["first_response_at", "reopen_count", "reassignment_count", "sla_breached"]


def export(path: Path, tickets: list[dict[str, str]]) -> Path:
    """A CSV with kedb's own column names; a column no ticket fills is left out of the export."""
    rows = [{"status": "resolved", "type": "incident", **t} for t in tickets]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, [c for c in COLUMNS if any(r.get(c) for r in rows)], lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    for r in rows:
        writer.writerow(r)
    path.write_text(buf.getvalue(), encoding="utf-8")
    return path


def ticket(tid: str, opened: str, resolved: str = "", **kw: str) -> dict[str, str]:
    return {"id": tid, "opened_at": opened, "resolved_at": resolved or opened, "reopen_count": "0", "reassignment_count": "0", **kw}


def problem(pid: str, opened: str, rci: str, fixed: str, signature: str) -> str:
    return f"""---
id: {pid}
title: A problem fixed on {fixed}
status: fix-approved
service: printing
owner: ann.owner
created: {opened}
review_by: 2027-06-01
opened: {opened}
root_cause_identified: {rci}
fixed_on: {fixed}
trigger: {{rule: same-signature-5-in-30d, signature: "{signature}", tickets: 5, window_days: 30}}
root_cause: A cause.
fix_proposal: A fix.
impact: medium
---

## Problem statement

It kept happening.
"""


def kpis(root: Path, period: str) -> dict[str, object]:
    res = kedb("--root", str(root), "kpi", "--period", period, "--write")
    assert res.exit_code == 0, res.output
    snap = next(s for s in load(root)[0].kpi_snapshots if s.period == period)
    return {v.id: v for v in snap.values}


def test_problem_figures_come_from_the_records(make_kb: MakeKB, tmp_path: Path) -> None:
    root = make_kb(
        {
            "known_errors/PRB-0002-a.md": problem("PRB-0002", "2026-03-01", "2026-03-05", "2026-03-10", "printing:spooler:event-id-7031"),
            "known_errors/PRB-0003-b.md": problem("PRB-0003", "2026-03-02", "2026-03-12", "2026-03-15", "m365-mail:outlook:size-limit"),
            "known_errors/PRB-0004-c.md": problem("PRB-0004", "2026-03-03", "2026-03-20", "2026-03-25", "printing:queue"),
            "content/recurrence.yml": "signature_fields: [service, category, subcategory, symptom, error_codes]\n"
            "rules: [{id: same-signature-5-in-30d, name: Five in 30 days, min_tickets: 5, window_days: 30}]\n",
        }
    )
    rows = [
        ticket("T1", "2026-02-01 09:00", service="Printing", category="Spooler", text="Event ID 7031 again"),
        ticket(
            "T2", "2026-03-20 09:00", service="printing", category="spooler", text="spooler died, EventID: 7031"
        ),  # after PRB-0002's fix
        ticket("T3", "2026-03-14 09:00", service="m365-mail", category="Outlook", symptom="Size limit"),  # before PRB-0003's fix
        ticket("T4", "2026-04-20 09:00", service="printing", category="queue", symptom="stuck"),
    ]
    assert kedb("--root", str(root), "tickets", "import", str(export(tmp_path / "t.csv", rows)), "--source", "csv").exit_code == 0
    march = kpis(root, "2026-03")
    m = march["mean_time_to_root_cause"]
    assert (m.value, m.numerator, m.denominator) == (10.33, 31.0, 3.0)  # PRB-0002 4 d, PRB-0003 10 d, PRB-0004 17 d
    assert "PRB-0002 4 d, PRB-0003 10 d, PRB-0004 17 d" in m.basis
    april = kpis(root, "2026-04")
    f = april["problem_fix_success_rate"]
    # PRB-0002 failed (T2 matches its signature, even spelt differently), PRB-0003 held; PRB-0004's
    # 30 days after the fix end after the last imported ticket, so it cannot be judged
    assert (f.value, f.numerator, f.denominator) == (50.0, 1.0, 2.0)
    assert "PRB-0004 left out" in f.basis and "PRB-0002" in f.basis


def test_ticket_figures_on_a_hand_counted_export(make_kb: MakeKB, tmp_path: Path) -> None:
    root = make_kb()
    rows = [
        ticket("A1", "2026-02-01 09:00", category="Mail", symptom="Bounce", priority="P1"),
        ticket("A2", "2026-02-20 09:00", "2026-03-02 09:00", category="mail", symptom="bounce", reopen_count="1", priority="P1"),
        ticket("A3", "2026-03-25 09:00", category="Mail", symptom="Bounce", reassignment_count="2", priority="P2"),  # 33 days after A2
        ticket("B1", "2026-03-05 09:00", category="Print", symptom="Jam", reassignment_count="1", priority="P3"),
        ticket("B2", "2026-03-06 09:00", category="Print", symptom="Jam", reassignment_count="0", priority="P3"),
        ticket("R1", "2026-03-06 10:00", category="Print", symptom="Jam", type="service request"),  # left out of repeats
        ticket("C1", "2026-03-30 09:00", status="open", resolved="", category="Disk", symptom="Full"),
    ]
    rows[-1]["resolved_at"] = ""
    # P1: 15 min response, 4 h resolution; P2: 30 min, 8 h; P3: 240 min, 40 h (the base KB's triage.yml)
    rows[1] |= {"first_response_at": "2026-02-20 09:20", "resolved_at": "2026-03-02 09:00"}  # response late -> breach
    rows[2] |= {"first_response_at": "2026-03-25 09:10", "resolved_at": "2026-03-25 12:00"}  # within -> no breach
    rows[3] |= {"first_response_at": "2026-03-05 09:30", "resolved_at": "2026-03-05 10:00"}
    rows[4] |= {"first_response_at": "2026-03-06 14:00", "resolved_at": "2026-03-06 15:00"}  # 300 min > 240 -> breach
    imp = kedb("--root", str(root), "tickets", "import", str(export(tmp_path / "t.csv", rows)), "--source", "csv")
    assert imp.exit_code == 0, imp.output
    v = kpis(root, "2026-03")
    # resolved in March: A2, A3, B1, B2, R1. Repeats (incidents only): A2 (A1 19 days earlier), B2 (B1); A3 is 33 days after A2
    assert (v["repeat_ticket_rate"].numerator, v["repeat_ticket_rate"].denominator) == (2.0, 4.0)
    assert v["reopen_rate"].value == 20.0 and v["reassignment_rate"].value == 40.0
    assert (v["escalation_accuracy"].numerator, v["escalation_accuracy"].denominator) == (1.0, 2.0)
    s = v["sla_breach_rate"]
    assert (s.numerator, s.denominator) == (2.0, 4.0) and "content/triage.yml" in s.basis  # R1 has no P1-P3 priority
    fr = v["first_response_time"]
    assert (fr.numerator, fr.denominator, fr.value) == (340.0, 3.0, 113.33)  # A3 10, B1 30, B2 300 (A2 answered in February)
    assert v["ticket_volume"].value == 5 and v["tickets_resolved"].value == 5 and v["backlog"].value == 1
    assert v["mean_time_to_root_cause"].value is None and "0 problem records" in v["mean_time_to_root_cause"].basis


def test_snapshot_is_deterministic_and_reads_back(make_kb: MakeKB, tmp_path: Path) -> None:
    root = make_kb()
    rows = [ticket(f"T{i}", f"2026-08-{i:02d} 09:00", category="Mail", symptom="Bounce", sla_breached="no") for i in range(1, 9)]
    assert kedb("--root", str(root), "tickets", "import", str(export(tmp_path / "t.csv", rows)), "--source", "csv").exit_code == 0
    first = kedb("--root", str(root), "kpi", "--period", "2026-08", "--write")
    assert first.exit_code == 0 and "wrote content/kpi/2026-08.yml" in first.output
    path = root / "content" / "kpi" / "2026-08.yml"
    text = path.read_bytes()
    assert kedb("--root", str(root), "kpi", "--period", "2026-08", "--write").exit_code == 0
    assert path.read_bytes() == text
    snap = load(root)[0].kpi_snapshots[0]
    assert isinstance(snap, KpiSnapshot) and snap.period == "2026-08" and snap.window_days == 30
    assert snap.value("repeat_ticket_rate").value == 87.5 and snap.value("sla_breach_rate").value == 0  # type: ignore[union-attr]
    assert snap.source.first.isoformat() == "2026-08-01" and len(snap.source.export_sha256 or "") == 64  # type: ignore[union-attr]
    assert not list(path.parent.glob(".*.tmp"))


def test_usage_and_environment_errors(make_kb: MakeKB, tmp_path: Path) -> None:
    root = make_kb()
    none = kedb("--root", str(root), "kpi", "--period", "2026-08")
    assert none.exit_code == 2 and "no imported tickets" in none.output and "kedb tickets import" in none.output
    cand = kedb("--root", str(root), "candidates")
    assert cand.exit_code == 2 and "no imported tickets" in cand.output
    rows = [ticket("T1", "2026-08-01 09:00", category="Mail")]
    assert kedb("--root", str(root), "tickets", "import", str(export(tmp_path / "t.csv", rows)), "--source", "csv").exit_code == 0
    bad = kedb("--root", str(root), "kpi", "--period", "2026-13")
    assert bad.exit_code == 2 and "is not a month" in bad.output
    overlay(root, {"known_errors/PRB-0009-broken.md": "---\nid: PRB-0009\n---\n"})
    refused = kedb("--root", str(root), "kpi", "--period", "2026-08", "--write")
    assert refused.exit_code == 1 and "fix them first" in refused.output
    assert not (root / "content" / "kpi" / "2026-08.yml").exists()
    shown = kedb("--root", str(root), "kpi", "--period", "2026-08")  # reading still works
    assert shown.exit_code == 0


@pytest.mark.parametrize("period", ["2026-08"])
def test_a_period_outside_the_store_is_explained(make_kb: MakeKB, tmp_path: Path, period: str) -> None:
    root = make_kb()
    rows = [ticket("T1", "2016-03-01 09:00", category="Mail")]
    assert kedb("--root", str(root), "tickets", "import", str(export(tmp_path / "t.csv", rows)), "--source", "csv").exit_code == 0
    res = kedb("--root", str(root), "kpi", "--period", period)
    assert res.exit_code == 0
    assert re.search(r"repeat_ticket_rate +n/a", res.output) and "0 incidents resolved in 2026-08" in res.output


def test_a_damaged_store_is_an_environment_problem(make_kb: MakeKB) -> None:
    root = make_kb()
    (root / ".kedb").mkdir()
    (root / ".kedb" / "tickets.duckdb").write_text("not a database", encoding="utf-8")
    res = kedb("--root", str(root), "kpi", "--period", "2026-08")
    assert res.exit_code == 2 and "the ticket store (.kedb/tickets.duckdb) failed" in res.output and "Traceback" not in res.output
