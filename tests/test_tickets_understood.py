"""Issue 19: an import says what it understood, figures say what they rest on, and the desk lead can act on them.

Most tests use the real ServiceNow event log in ../shared/data (copied, its header changed the way
real exports misspell it); the rest use small exports whose answer is plain to see.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import duckdb
import pytest

from conftest import MakeKB
from kbtest import REPO, kedb, require_file, write_csv
from kedb.core.load.loader import load
from kedb.core.load.yamlstrict import parse
from kedb.tickets.mapping import TicketMapping
from servicenow_log import SAMPLE, SAMPLE_HOW


def flat(text: str) -> str:
    """Output with its line wrapping undone."""
    return " ".join(text.split())


def imp(root: Path, file: Path, source: str = "servicenow", *extra: str) -> object:
    return kedb("--root", str(root), "tickets", "import", str(file), "--source", source, *extra)


@pytest.fixture(scope="module")
def sample() -> Path:
    return require_file(SAMPLE, "what an import of the real ServiceNow event log says it understood", SAMPLE_HOW)


def renamed(sample: Path, tmp: Path, old: str, new: str) -> Path:
    """A copy of the sample whose header says ``new`` where it said ``old``."""
    lines = sample.read_text(encoding="utf-8").split("\n", 1)
    header = ",".join(new if h == old else h for h in lines[0].split(","))
    out = tmp / f"renamed-{new}.csv"
    out.write_text(header + "\n" + lines[1], encoding="utf-8")
    return out


@pytest.fixture
def kb(make_kb: MakeKB) -> Path:
    """The base KB with the example's KPI definitions and progression policy."""
    kpis = re.sub(r"(?m)^ +owner: .*\n", "", (REPO / "content" / "kpis.yml").read_text(encoding="utf-8"))  # no such people here
    return make_kb(
        {
            "content/kpis.yml": kpis,
            "content/progression.yml": (REPO / "content" / "progression.yml").read_text(encoding="utf-8"),
        }
    )


def store(root: Path) -> Path:
    return root / ".kedb" / "tickets.duckdb"


# ---------------------------------------------------------------- 1. what the import understood
def test_a_misspelt_status_header_is_named_with_a_near_miss_and_strict_refuses_it(kb: Path, sample: Path, tmp_path: Path) -> None:
    export = renamed(sample, tmp_path, "incident_state", "ident_state")
    res = imp(kb, export)
    assert res.exit_code == 0, res.output
    out = flat(res.stdout)
    assert "status: not found (looked for `incident_state`, `state`); did you mean `ident_state`?" in out
    assert "--map example: a file holding `fields: {status: ident_state}`" in out
    assert "columns not read (17): ident_state, active" in out  # `knowledge` is read (the KB-assisted share)
    # the figures lost, with what would bring them back, and what is less exact
    assert "first_response_time (First response time) (KPI; a KPI of content/kpis.yml): needs first_response_minutes, " in out
    assert "progression_sla, stalled (audit): need status in an event log" in out
    assert "without status: resolution, the backlog and open tickets come from resolved_at/closed_at alone" in out
    assert "kedb tickets import --strict would refuse this export" in out
    before = store(kb).read_bytes()
    strict = imp(kb, export, "servicenow", "--strict")
    assert strict.exit_code == 1
    err = flat(strict.stderr)
    assert "first_response_time (First response time) cannot be computed" in err and "did you mean `ident_state`?" in err
    assert "--strict: nothing was imported" in err and "Traceback" not in strict.output
    assert store(kb).read_bytes() == before and not list((kb / ".kedb").glob("tickets.duckdb.new*"))
    # the suggested --map file is all it takes
    mapping = tmp_path / "map.yml"
    mapping.write_text("fields: {status: ident_state}\n", encoding="utf-8")
    fixed = imp(kb, export, "servicenow", "--map", str(mapping), "--strict")
    assert fixed.exit_code == 0, fixed.output
    assert "status ← ident_state" in fixed.stdout and "did you mean" not in fixed.stdout


def test_strict_judges_after_reading_when_only_the_shape_loses_a_kpi(kb: Path, tmp_path: Path) -> None:
    """The header has what an event log would need, but the export has one row per ticket: first response, reopens and
    reassignments cannot be computed, and that is only known once it has been read."""
    header = ["id", "opened_at", "status", "category", "priority", "assignment_group"]
    export = write_csv(tmp_path / "one.csv", header, [["T1", "2026-03-02 09:00", "open", "Printer", "P3", "Service Desk"]])
    res = imp(kb, export, "csv", "--strict")
    err = flat(res.stderr)
    assert res.exit_code == 1 and "first_response_time (First response time) cannot be computed" in err
    assert "reopen_rate (Reopen rate) cannot be computed: it needs reopen_count or status in an event log" in err
    assert "repeat_ticket_rate" not in err and "sla_breach_rate" not in err
    assert not store(kb).exists()
    assert imp(kb, export, "csv").exit_code == 0  # without --strict it imports, and says so
    assert store(kb).exists()


def test_a_repeated_column_says_which_copy_was_read(kb: Path, sample: Path, tmp_path: Path) -> None:
    export = renamed(sample, tmp_path, "subcategory", "category")  # `category` twice, as the full log has it
    res = imp(kb, export)
    assert res.exit_code == 0, res.output
    out = flat(res.stdout)
    assert "category ← category (the header repeats it: `category (2)` not read)" in out
    assert "subcategory: not found (looked for `subcategory`)" in out
    assert "columns not read (17): active," in out and "location, category (2), impact" in out


def test_unknown_statuses_are_all_listed_with_a_block_to_paste(kb: Path, tmp_path: Path) -> None:
    rows = [["T1", "2026-03-02 09:00", "open"], ["T2", "2026-03-02 09:00", "Parked"], ["T3", "2026-03-02 09:00", "-100"]]
    rows += [["T4", "2026-03-02 09:00", "-100"], ["T5", "2026-03-02 09:00", "Waiting on vendor"], ["T6", "2026-03-02 09:00", "Done"]]
    export = write_csv(tmp_path / "st.csv", ["id", "opened_at", "status"], rows)
    res = imp(kb, export, "csv")
    assert res.exit_code == 1
    err = res.stderr
    assert "st.csv: row 3: status 'Parked' (1 row) is not in the mapping" in err
    assert "st.csv: row 4: status '-100' (2 rows) is not in the mapping" in err
    assert "row 6: status 'Waiting on vendor'" in err and "row 7: status 'Done'" in err
    assert "has 4 values the mapping does not know (5 rows)" in flat(err)
    block = err[err.index("  statuses:") :].split("\nnothing was imported")[0]
    lines = [ln[2:] for ln in block.splitlines()]
    assert lines[0] == "statuses:" and "guessed from the name: check it" in block
    assert re.search(r'"-100": +open +# 2 rows; the name says nothing: choose its class', block)
    assert re.search(r"Waiting on vendor: +pending", block) and re.search(r"Done: +closed", block)
    mapping = tmp_path / "statuses.yml"
    mapping.write_text("extends: csv\n" + "\n".join(lines) + "\n", encoding="utf-8")
    parsed = parse(mapping.read_text(encoding="utf-8"))
    assert parsed.issues == [] and TicketMapping.model_validate(parsed.data).statuses["-100"] == "open"
    assert imp(kb, export, "csv", "--map", str(mapping)).exit_code == 0


# ---------------------------------------------------------------- 2. explanations say what was used
def test_explanations_name_the_fields_used_and_why_a_figure_is_na(kb: Path, sample: Path, tmp_path: Path) -> None:
    assert imp(kb, renamed(sample, tmp_path, "incident_state", "ident_state")).exit_code == 0
    res = kedb("--root", str(kb), "kpi", "--period", "2016-03")
    assert res.exit_code == 0, res.output
    out = flat(res.stdout)
    assert "with a signature (from category, subcategory, symptom; not in the export: error_codes)" in out
    assert "First response time n/a" in out
    assert "n/a: the export has no first_response_minutes, first_response_at or status in an event log." in out
    cands = flat(kedb("--root", str(kb), "candidates").stdout)
    assert "signatures from category, subcategory, symptom (not in this export, so empty on every ticket: error_codes)" in cands


# ---------------------------------------------------------------- 3. resolution from the event log; backlog = open tickets
def test_resolution_comes_from_the_event_log_not_closed_at(kb: Path, tmp_path: Path) -> None:
    header = ["id", "opened_at", "updated_at", "status", "resolved_at", "closed_at"]
    rows = [
        ["R1", "2026-03-01 09:00", "2026-03-01 09:00", "new", "", "2026-03-09 10:00"],
        ["R1", "2026-03-01 09:00", "2026-03-02 10:00", "resolved", "", "2026-03-09 10:00"],
        ["R1", "2026-03-01 09:00", "2026-03-09 10:00", "closed", "", "2026-03-09 10:00"],
        # resolved, reopened, resolved again, closed: resolved at the last resolution
        ["R2", "2026-03-01 09:00", "2026-03-01 09:00", "new", "", ""],
        ["R2", "2026-03-01 09:00", "2026-03-02 09:00", "resolved", "", ""],
        ["R2", "2026-03-01 09:00", "2026-03-03 09:00", "open", "", ""],
        ["R2", "2026-03-01 09:00", "2026-03-04 09:00", "resolved", "", ""],
        ["R2", "2026-03-01 09:00", "2026-03-11 09:00", "closed", "", "2026-03-11 09:00"],
        # the export's own resolved_at wins where it has one
        ["R3", "2026-03-01 09:00", "2026-03-01 09:00", "new", "2026-03-05 12:00", "2026-03-12 09:00"],
        ["R3", "2026-03-01 09:00", "2026-03-05 11:00", "resolved", "2026-03-05 12:00", "2026-03-12 09:00"],
        ["R3", "2026-03-01 09:00", "2026-03-12 09:00", "closed", "2026-03-05 12:00", "2026-03-12 09:00"],
    ]
    assert imp(kb, write_csv(tmp_path / "log.csv", header, rows), "csv").exit_code == 0
    con = duckdb.connect(str(store(kb)), read_only=True)
    try:
        done = dict(con.execute("SELECT id, strftime(done_at, '%d %H:%M') FROM tickets").fetchall())
    finally:
        con.close()
    assert done == {"R1": "02 10:00", "R2": "04 09:00", "R3": "05 12:00"}


@pytest.mark.parametrize(("period", "day"), [("2016-02", "2016-02-29"), ("2016-03", "2016-03-31")])
def test_backlog_and_open_tickets_agree_on_the_same_day(kb: Path, sample: Path, period: str, day: str) -> None:
    """The KPIs' backlog at a month's end and the audit's open tickets at the end of its last day are one count."""
    assert imp(kb, sample).exit_code == 0
    res = kedb("--root", str(kb), "kpi", "--period", period, "--write")
    assert res.exit_code == 0, res.output
    snap = next(s for s in load(kb)[0].kpi_snapshots if s.period == period)
    audit = kedb("--root", str(kb), "tickets", "audit", "--as-of", day, "--write")
    assert audit.exit_code == 0, audit.output
    (a,) = [x for x in load(kb)[0].audits if x.as_of.isoformat() == day]
    backlog = snap.value("backlog").value  # type: ignore[union-attr]
    assert backlog == a.figure("open_tickets").value and backlog and backlog > 50  # type: ignore[union-attr]


# ---------------------------------------------------------------- 4. default dates and partial periods
def test_partial_months_are_marked_with_their_coverage(kb: Path, sample: Path) -> None:
    assert imp(kb, sample).exit_code == 0
    res = kedb("--root", str(kb), "kpi", "--period", "2016-03", "--write")
    assert res.exit_code == 0, res.output
    assert "Partial: the export covers 2016-03-01 to 2016-03-02, 2 of 31 days" in flat(res.stdout)
    snap = next(s for s in load(kb)[0].kpi_snapshots if s.period == "2016-03")
    assert snap.coverage is not None and (snap.coverage.days, snap.coverage.of_days) == (2, 31)
    assert str(snap.coverage.first) == "2016-03-01" and str(snap.coverage.last) == "2016-03-02"
    stored = (kb / "content" / "kpi" / "2016-03.yml").read_text(encoding="utf-8")
    assert "coverage:\n  first: 2016-03-01\n  last: 2016-03-02\n  days: 2\n  of_days: 31\n" in stored
    for v in snap.values:  # every figure from tickets says so, wherever it is shown
        assert v.basis.startswith("Partial: the export covers 2016-03-01 to 2016-03-02, 2 of 31 days.") == (
            v.id not in ("mean_time_to_root_cause", "problem_fix_success_rate")
        ), v
    later = kedb("--root", str(kb), "kpi", "--period", "2016-06")
    assert "Not covered: the export holds no day of these 30" in flat(later.stdout)


def test_a_month_the_export_covers_in_full_is_not_marked(kb: Path, tmp_path: Path) -> None:
    rows = [[f"T{d}", f"2026-02-{d:02d} 09:00", "resolved", f"2026-02-{d:02d} 10:00"] for d in range(1, 29)]
    assert imp(kb, write_csv(tmp_path / "feb.csv", ["id", "opened_at", "status", "resolved_at"], rows), "csv").exit_code == 0
    res = kedb("--root", str(kb), "kpi", "--period", "2026-02", "--write")
    assert res.exit_code == 0 and "artial" not in res.stdout
    text = (kb / "content" / "kpi" / "2026-02.yml").read_text(encoding="utf-8")
    assert "coverage" not in text and "Partial" not in text


def test_the_default_audit_day_is_the_last_covered_day_not_a_straggler(kb: Path, sample: Path) -> None:
    assert imp(kb, sample).exit_code == 0
    res = kedb("--root", str(kb), "tickets", "audit")
    assert res.exit_code == 0, res.output
    out = flat(res.stdout)
    assert "note: as of 2016-03-02, the last day the export covers (days on which at least 31.5 tickets were opened, a tenth" in out
    assert "after 2016-03-02: events go on to 2017-02-04" in out
    assert "flow audit at the end of 2016-03-02" in out and "Open tickets 564" in out
    assert "Partial: the export covers 2016-02-29 to 2016-03-02, 3 of 28 days of the window" in out


def test_a_lone_ticket_long_after_the_rest_does_not_move_the_default(kb: Path, tmp_path: Path) -> None:
    rows = [[f"T{d}-{k}", f"2026-03-{d:02d} 09:0{k}", "open"] for d in range(2, 12) for k in range(3)]
    rows.append(["LATE", "2026-09-01 09:00", "open"])
    assert imp(kb, write_csv(tmp_path / "s.csv", ["id", "opened_at", "status"], rows), "csv").exit_code == 0
    out = flat(kedb("--root", str(kb), "tickets", "audit").stdout)
    assert "note: as of 2026-03-11, the last day the export covers" in out
    assert "after 2026-03-11: 1 ticket opened later (to 2026-09-01) and events go on to 2026-09-01" in out


# ---------------------------------------------------------------- 5. figures in the reader's terms
def test_kpis_stand_beside_their_target_and_baseline_in_days_and_hours(kb: Path, sample: Path) -> None:
    assert imp(kb, sample).exit_code == 0
    out = flat(kedb("--root", str(kb), "kpi", "--period", "2016-03").stdout)
    assert "First response time 43.26 h (" in out
    # judged as of the month's end (2016-03), long before the target's deadline: at risk, not missed
    assert re.search(
        r"target 10 – 25 % lower by 2026-10-30: at risk \(\+[\d,.]+ % on the baseline\); baseline [\d.]+ min: worse by [\d.]+ h", out
    ), out
    assert re.search(
        r"Repeat ticket rate [\d.]+ % \(\d+ / \d+\) target 10 – 25 % lower by 2026-10-30: at risk \(\+[\d,.]+ % on the baseline\); "
        r"baseline 20.04 %: worse by [\d.]+ pp",
        out,
    )
    assert " min (" not in out.split("First response time")[1][:30]  # not 2,595.39 min


# ---------------------------------------------------------------- 6. progress
@pytest.mark.parametrize(
    ("args", "phases"),
    [
        (["kpi", "--period", "2016-03"], ["checking the KB", "computing 2016-03"]),
        (["candidates"], ["checking the KB", "finding recurring signatures"]),
        (["tickets", "audit"], ["checking the KB", "auditing the flow"]),
    ],
)
def test_progress_in_a_pipe_is_one_plain_line_per_phase(kb: Path, sample: Path, args: list[str], phases: list[str]) -> None:
    res = imp(kb, sample)
    assert res.exit_code == 0
    lines = res.stderr.splitlines()
    assert [ln.split(": ")[2] for ln in lines] == [
        "reading incident_event_log_sample.csv (2.0 MB)",
        "collapsing to tickets",
        "writing the store",
    ]
    assert all(ln.startswith("kedb: tickets import: ") and re.search(r"\(\d+\.\d s\)$", ln) for ln in lines), lines
    assert "5,998 rows" in lines[0] and "890 tickets" in lines[1]
    other = kedb("--root", str(kb), *args)
    assert other.exit_code == 0, other.output
    got = other.stderr.splitlines()
    assert [ln.split(": ")[2].split(" (")[0] for ln in got] == phases
    for text in (res.stderr, other.stderr):
        assert not re.search(r"[\x00-\x09\x0b-\x1f\x7f]", text)  # no escape, no carriage return: one clean line each


def test_progress_on_a_terminal_draws_bars(kb: Path, sample: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from kedb.cli import progress

    monkeypatch.setattr(progress, "interactive", lambda: True)
    res = imp(kb, sample)
    assert res.exit_code == 0, res.output
    assert "imported 890 tickets" in res.stdout and "kedb: tickets import:" not in res.stderr


# ---------------------------------------------------------------- 8. the audit's lists in full
def test_the_audit_lists_are_cut_at_fifteen_unless_all(kb: Path, sample: Path) -> None:
    assert imp(kb, sample).exit_code == 0
    short = kedb("--root", str(kb), "tickets", "audit").stdout
    assert "at risk of breaching the SLA (most urgent first): 105, 15 shown: --all lists every one" in short
    assert "stalled (longest without an update first): 271, 15 shown: --all lists every one" in short
    full = kedb("--root", str(kb), "tickets", "audit", "--all").stdout
    sections = re.split(r"\n(?=\S)", full)
    risk = next(s for s in sections if s.startswith("at risk of breaching"))
    past = next(s for s in sections if s.startswith("past their SLA"))
    stalled = next(s for s in sections if s.startswith("stalled"))
    assert len(risk.splitlines()) == 1 + 105 and len(past.splitlines()) == 1 + 74 and len(stalled.splitlines()) == 1 + 271
    assert "shown" not in risk.splitlines()[0]
    written = kedb("--root", str(kb), "tickets", "audit", "--all", "--write")
    assert written.exit_code == 0
    stored = (kb / "content" / "audits" / "2016-03-02.yml").read_text(encoding="utf-8")
    assert "stalled:" not in stored and stored.count('  - id: "INC') == 105  # only the at-risk ids are stored, as before


def test_an_import_of_a_copy_outside_the_kb_leaves_nothing_behind(kb: Path, sample: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy.csv"
    shutil.copyfile(sample, copy)
    assert imp(kb, copy).exit_code == 0
    assert sorted(p.name for p in (kb / ".kedb").iterdir() if p.is_file()) == ["import.lock", "tickets.duckdb"]
