"""`kedb tickets audit`: every figure on a small event log whose answer is counted by hand below.

The export (kedb's own column names) holds nine tickets around Friday 2026-03-13; the audit is
as of that day, so its moment is Saturday 00:00 and its 28-day window runs from 2026-02-14.
Working hours are Monday to Friday, 08:00-18:00. The comments next to each ticket say which
status periods it has, and whether each moved on within its threshold.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import yaml

from conftest import MakeKB
from kbtest import kedb, write_csv
from kedb.core.audits import Audit
from kedb.core.load.loader import load
from kedb.core.progression import WorkingHours, clock_minutes, clock_sql

POLICY = """\
window_days: 28
sla_at_risk_percent: 80
working_hours: {days: [mon, tue, wed, thu, fri], start: "08:00", end: "18:00"}
stages:
  - {id: new, name: New, class: new, threshold: 1h}
  - {id: active, name: Active, class: open, threshold: 2d}
  - {id: bounced, name: Bounced back, class: open, threshold: 30m}
  - {id: awaiting-user, name: Awaiting user, class: pending, threshold: 2d, waiting_on: user, pauses_sla: true}
  - {id: resolved-unconfirmed, name: Resolved, class: resolved, threshold: 7d, clock: calendar, waiting_on: user}
defaults: {new: new, open: active, pending: awaiting-user, resolved: resolved-unconfirmed}
statuses:
  csv: {pending: awaiting-user}
bounces: {first_line: [Service Desk], stage: bounced}
chases: {answer_within: 4h}
"""
SD, DESK, NET, SRV = "Service Desk", "Desktop Support", "Network Team", "Server Team"
HEADER = ["id", "opened_at", "updated_at", "status", "assignment_group", "caller", "updated_by", "priority"]


def t(tid: str, opened: str, caller: str, prio: str, *events: tuple[str, str, str, str]) -> list[list[str]]:
    return [[tid, opened, at, status, group, caller, by, prio] for at, status, group, by in events]


ROWS = [
    # T1: new 30 min ok; active@SD 30 min ok; active@Desktop 1 h ok; back to the first line: bounced@SD 60 min > 30 min (late);
    # active@SD 1 h ok; resolved (deadline Mar 16: not yet judged). Hand-offs: SD→Desktop, Desktop→SD (first line).
    *t("T1", "2026-03-09 09:00", "Ann", "P3", ("2026-03-09 09:00", "new", SD, "Ann"), ("2026-03-09 09:30", "open", SD, "Xavi"),
       ("2026-03-09 10:00", "open", DESK, "Xavi"), ("2026-03-09 11:00", "open", SD, "Yuri"), ("2026-03-09 12:00", "open", SD, "Xavi"),
       ("2026-03-09 13:00", "resolved", SD, "Xavi"), ("2026-03-10 09:00", "closed", SD, "Xavi")),
    # T2 (open, P3): new 30 min ok; active Fri 16:30 → Mon 10:00 = 210 working min ok; awaiting-user since Mon 10:00, deadline
    # Wed 10:00: late. Stalled (last update Mon). SLA: 176 h since opening, 110 h paused → 66 h of 40: breached.
    *t("T2", "2026-03-06 16:00", "Bea", "P3", ("2026-03-06 16:00", "new", SD, "Bea"), ("2026-03-06 16:30", "open", SD, "Xavi"),
       ("2026-03-09 10:00", "pending", SD, "Xavi")),
    # T3 (open, P3): new 10 min ok; active since 09:10 (deadline Thu 08:10): late; stalled (last update Tue 15:00).
    # Chases by the caller at 11:00 (answered 14:00: 3 working hours, in time) and 15:00 (never answered: late).
    *t("T3", "2026-03-10 09:00", "Cem", "P3", ("2026-03-10 09:00", "new", SD, "Cem"), ("2026-03-10 09:10", "open", SD, "Xavi"),
       ("2026-03-10 11:00", "open", SD, "Cem"), ("2026-03-10 14:00", "open", SD, "Xavi"), ("2026-03-10 15:00", "open", SD, "Cem")),
    # T4: new, active, resolved 23 h, reopened (active 1 h), resolved 6 days, closed: five periods, all in time. Reopened.
    *t("T4", "2026-03-02 09:00", "Dan", "P3", ("2026-03-02 09:00", "new", SD, "Dan"), ("2026-03-02 09:20", "open", SD, "Xavi"),
       ("2026-03-02 10:00", "resolved", SD, "Xavi"), ("2026-03-03 09:00", "open", SD, "Dan"), ("2026-03-03 10:00", "resolved", SD, "Xavi"),
       ("2026-03-09 10:00", "closed", SD, "Xavi")),
    # T5: long before the window: nothing of it is judged.
    *t("T5", "2026-01-05 09:00", "Eve", "P3", ("2026-01-05 09:00", "new", SD, "Eve"), ("2026-01-05 10:00", "resolved", SD, "Xavi"),
       ("2026-01-06 10:00", "closed", SD, "Xavi")),
    # T6 (open, P1): logged Friday 20:30, 3.5 h of a 4 h timer used: at risk. Its new period's deadline is Monday: not judged.
    *t("T6", "2026-03-13 20:30", "Fay", "P1", ("2026-03-13 20:30", "new", SD, "Fay")),
    # T7: hand-offs SD→Network, Network→Server, Server→Network (back and forth: bounced@Network 10 min, in time). Five periods in time.
    *t("T7", "2026-03-11 09:00", "Gus", "P2", ("2026-03-11 09:00", "new", SD, "Gus"), ("2026-03-11 09:10", "open", NET, "Xavi"),
       ("2026-03-11 10:00", "open", SRV, "Zoe"), ("2026-03-11 11:00", "open", NET, "Zoe"), ("2026-03-11 11:10", "open", NET, "Yuri"),
       ("2026-03-11 12:00", "resolved", NET, "Yuri"), ("2026-03-11 13:00", "closed", NET, "Yuri")),
    # T8: one plain hand-off SD→Desktop; new in time; active's deadline (two working days: Monday 09:05) is after the moment.
    *t("T8", "2026-03-12 09:00", "Hal", "P3", ("2026-03-12 09:00", "new", SD, "Hal"), ("2026-03-12 09:05", "open", DESK, "Xavi"),
       ("2026-03-12 10:00", "resolved", DESK, "Xavi"), ("2026-03-12 11:00", "closed", DESK, "Xavi")),
    # T9: the caller answers while awaiting user info (not a chase); new, awaiting-user and active in time.
    *t("T9", "2026-03-11 09:00", "Ida", "P3", ("2026-03-11 09:00", "new", SD, "Ida"), ("2026-03-11 09:30", "pending", SD, "Xavi"),
       ("2026-03-11 11:00", "open", SD, "Ida"), ("2026-03-11 12:00", "resolved", SD, "Xavi"), ("2026-03-11 13:00", "closed", SD, "Xavi")),
]  # fmt: skip


@pytest.fixture
def kb(make_kb: MakeKB, tmp_path: Path) -> Path:
    root = make_kb({"content/progression.yml": POLICY})
    res = kedb("--root", str(root), "tickets", "import", str(write_csv(tmp_path / "export.csv", HEADER, ROWS)), "--source", "csv")
    assert res.exit_code == 0, res.output
    return root


def audit_of(root: Path, day: str) -> Audit:
    res = kedb("--root", str(root), "tickets", "audit", "--as-of", day, "--write")
    assert res.exit_code == 0, res.output
    return next(a for a in load(root)[0].audits if a.as_of.isoformat() == day)


def test_every_figure_equals_the_hand_count(kb: Path) -> None:
    a = audit_of(kb, "2026-03-13")
    f = {x.id: x for x in a.figures}
    assert (f["open_tickets"].value, f["open_tickets"].tickets) == (3, 3)  # T2, T3, T6
    assert f["open_age_median"].value == round(3.625, 2)  # T3: Tuesday 09:00 to Saturday 00:00
    assert (f["sla_at_risk"].value, f["sla_breached"].value, f["sla_breached"].denominator) == (1, 2, 3)
    assert [(r.id, r.priority, r.stage, r.group, r.age_hours, r.sla_used) for r in a.at_risk] == [("T6", "P1", "new", SD, 3.5, 87.5)]
    assert a.at_risk_total == 1
    p = f["progression_sla"]
    assert (p.numerator, p.denominator, p.value, p.tickets) == (21, 24, 87.5, 7)
    stages = {r.key: (r.periods, r.within) for r in a.by_stage}
    assert stages == {"new": (7, 7), "active": (11, 10), "bounced": (2, 1), "awaiting-user": (2, 1), "resolved-unconfirmed": (2, 2)}
    assert [r.key for r in a.by_stage] == ["new", "active", "bounced", "awaiting-user", "resolved-unconfirmed"]  # policy order
    groups = {r.key: (r.periods, r.within, r.tickets) for r in a.by_group}
    assert groups == {SD: (19, 16, 7), DESK: (1, 1, 1), NET: (3, 3, 1), SRV: (1, 1, 1)}
    assert next(r for r in a.by_stage if r.key == "bounced").median_hours == round((1 + 1 / 6) / 2, 2)
    assert (f["stalled"].value, f["stalled"].denominator) == (2, 3)  # T2 and T3; T6 was updated at 20:30
    assert (f["bounces"].value, f["bounces"].tickets) == (2, 2)  # T1 back to the first line, T7 back and forth
    assert (f["bounce_rate"].numerator, f["bounce_rate"].denominator, f["bounce_rate"].value) == (2, 3, 66.67)
    assert (f["chases"].value, f["chases"].tickets) == (2, 1)  # T3's two; T9's answer while awaiting the user is not one
    assert (f["chases_answered"].numerator, f["chases_answered"].denominator) == (1, 2)
    assert (f["reopen_rate"].numerator, f["reopen_rate"].denominator) == (1, 5)  # T4 of T1, T4, T7, T8, T9
    assert [(b.from_days, b.tickets) for b in a.age_profile] == [(0, 1), (1, 0), (3, 1), (7, 1), (14, 0), (30, 0), (90, 0)]
    for x in a.figures:
        assert x.basis and x.tickets >= 0


def test_the_file_holds_aggregates_and_at_risk_ids_only(kb: Path) -> None:
    audit_of(kb, "2026-03-13")
    path = kb / "content" / "audits" / "2026-03-13.yml"
    text = path.read_text(encoding="utf-8")
    for name in ("Ann", "Bea", "Cem", "Xavi", "Yuri", "Zoe"):
        assert name not in text
    data = yaml.safe_load(text)
    assert [r["id"] for r in data["at_risk"]] == ["T6"]
    assert "written by `kedb tickets audit --as-of 2026-03-13 --write`" in text.lower()
    check = kedb("--root", str(kb), "check", "--as-of", "2026-11-22")
    assert check.exit_code == 0, check.output
    again = kb / "content" / "audits" / "copy.yml"
    again.write_text(text, encoding="utf-8")
    bad = kedb("--root", str(kb), "check", "--as-of", "2026-11-22")
    assert bad.exit_code == 1 and "content/audits/copy.yml:4: KE705" in bad.output
    again.unlink()
    before = text
    audit_of(kb, "2026-03-13")
    assert path.read_text(encoding="utf-8") == before  # same store, same policy: same bytes


def test_the_audit_sees_only_what_happened_by_its_day(kb: Path) -> None:
    a = audit_of(kb, "2026-03-09")  # moment: Tuesday 00:00
    f = {x.id: x for x in a.figures}
    # T1 was resolved on Monday 13:00; T2 is awaiting the user; T4 was closed on Monday; T3 and later did not exist yet.
    assert f["open_tickets"].value == 1
    assert f["chases"].value == 0 and f["chases_answered"].value is None
    # Judged: periods whose deadline passed by Tuesday 00:00. T1: new and bounced (an active period's two working days run
    # into Tuesday); T2: new; T4: new, active, the first resolved (deadline Monday 10:00) and the active after the reopen.
    assert (f["progression_sla"].numerator, f["progression_sla"].denominator) == (1 + 1 + 4, 2 + 1 + 4)


def test_compare_shows_the_movement_of_each_figure(kb: Path) -> None:
    audit_of(kb, "2026-03-09")
    audit_of(kb, "2026-03-13")
    res = kedb("--root", str(kb), "tickets", "audit", "--compare", "2026-03-09", "2026-03-13")
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    assert lines[0].startswith("flow audit 2026-03-09 → 2026-03-13")
    opened = next(ln for ln in lines if ln.strip().startswith("Open tickets "))
    assert opened.split()[-4:] == ["→", "3", "+2", "worse"]
    progression = next(ln for ln in lines if "Progression SLA" in ln)
    assert "85.71 %" in progression and "87.5 %" in progression and progression.endswith("better")
    chases = next(ln for ln in lines if "Chases answered" in ln)
    assert chases.endswith("not comparable")
    assert any(ln.strip().startswith("stage awaiting-user") for ln in lines)
    by_path = kedb(
        "--root", str(kb), "tickets", "audit", "--compare", "content/audits/2026-03-09.yml", str(kb / "content/audits/2026-03-13.yml")
    )
    assert by_path.output == res.output


def test_bad_requests_are_refused_without_a_traceback(kb: Path, make_kb: MakeKB) -> None:
    late = kedb("--root", str(kb), "tickets", "audit", "--as-of", "2026-04-01")
    assert late.exit_code == 2 and "after the latest event in the store (2026-03-13)" in late.stderr
    early = kedb("--root", str(kb), "tickets", "audit", "--as-of", "2025-12-31")
    assert early.exit_code == 2 and "before the first ticket" in early.stderr
    assert kedb("--root", str(kb), "tickets", "audit", "--as-of", "13/03/2026").exit_code == 2
    mixed = kedb("--root", str(kb), "tickets", "audit", "--compare", "2026-03-09", "2026-03-13", "--write")
    assert mixed.exit_code == 2 and "takes no --as-of, --write or --all" in mixed.stderr
    missing = kedb("--root", str(kb), "tickets", "audit", "--compare", "2026-03-09", "2026-03-13")
    assert missing.exit_code == 2 and "no audit '2026-03-09'" in missing.stderr and "none" in missing.stderr
    audit_of(kb, "2026-03-13")
    broken = kb / "content" / "audits" / "2026-03-12.yml"
    broken.write_text((kb / "content/audits/2026-03-13.yml").read_text().replace("window_days: 28", "window_days: many"))
    bad = kedb("--root", str(kb), "tickets", "audit", "--compare", "2026-03-12", "2026-03-13")
    assert bad.exit_code == 1 and "content/audits/2026-03-12.yml:5: KE104" in bad.stderr
    blocked = kedb("--root", str(kb), "tickets", "audit", "--write")
    assert blocked.exit_code == 1 and "nothing was written" in blocked.stderr
    broken.unlink()
    policy = kb / "content" / "progression.yml"
    policy.write_text(POLICY.replace("threshold: 30m", "threshold: half an hour"), encoding="utf-8")
    badpolicy = kedb("--root", str(kb), "tickets", "audit")
    assert (
        badpolicy.exit_code == 1
        and "content/progression.yml:7: KE106" in badpolicy.stderr
        and "a duration like 30m" in badpolicy.stderr
        and "nothing was audited" in badpolicy.stderr
    )
    policy.unlink()
    nopolicy = kedb("--root", str(kb), "tickets", "audit")
    assert nopolicy.exit_code == 2 and "content/progression.yml is missing" in nopolicy.stderr
    fresh = make_kb()
    assert kedb("--root", str(fresh), "check", "--as-of", "2026-11-22").exit_code == 0  # a KB without the policy still loads


def test_no_store_is_an_environment_problem(make_kb: MakeKB) -> None:
    root = make_kb({"content/progression.yml": POLICY})
    res = kedb("--root", str(root), "tickets", "audit")
    assert res.exit_code == 2 and "no imported tickets" in res.stderr and "Traceback" not in res.output


def test_default_moment_is_the_last_covered_day_and_one_row_exports_say_what_they_lack(make_kb: MakeKB, tmp_path: Path) -> None:
    root = make_kb({"content/progression.yml": POLICY})
    rows = [["A1", "2026-03-01 09:00", "2026-03-02 10:00", "resolved", SD, "Ann", "Xavi", "P3"],
            ["A2", "2026-03-05 09:00", "2026-03-05 09:30", "open", SD, "Bea", "Xavi", "P2"]]  # fmt: skip
    assert (
        kedb("--root", str(root), "tickets", "import", str(write_csv(tmp_path / "one.csv", HEADER, rows)), "--source", "csv").exit_code == 0
    )
    res = kedb("--root", str(root), "tickets", "audit", "--write")
    assert res.exit_code == 0, res.output
    assert res.stdout.startswith("note: as of 2026-03-05, the last day the export covers")
    assert "\nflow audit at the end of 2026-03-05" in res.stdout
    (a,) = load(root)[0].audits
    f = {x.id: x for x in a.figures}
    assert f["open_tickets"].value == 1 and f["sla_breached"].value == 1  # A2: 15 h of 8
    assert f["progression_sla"].value is None and "one row per ticket" in f["progression_sla"].basis
    assert a.by_stage == [] and a.at_risk == []


def test_no_caller_or_updater_column_means_no_chases(make_kb: MakeKB, tmp_path: Path) -> None:
    root = make_kb({"content/progression.yml": POLICY})
    rows = [[r[0], r[1], r[2], r[3], r[4], r[7]] for r in ROWS]
    export = write_csv(tmp_path / "plain.csv", ["id", "opened_at", "updated_at", "status", "assignment_group", "priority"], rows)
    assert kedb("--root", str(root), "tickets", "import", str(export), "--source", "csv").exit_code == 0
    f = {x.id: x for x in audit_of(root, "2026-03-13").figures}
    assert f["chases"].value is None and "does not say who made each update" in f["chases"].basis
    assert f["progression_sla"].denominator == 24  # the rest does not need who


def test_working_clock_in_sql_equals_the_python_clock() -> None:
    import duckdb

    wh = WorkingHours(days=["mon", "tue", "wed", "thu", "sat"], start="07:30", end="16:45")
    rnd = random.Random(5)
    moments = [datetime(2025, 12, 1) + timedelta(seconds=rnd.randrange(0, 86400 * 400)) for _ in range(3000)]
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute("CREATE TABLE m (ts TIMESTAMP)")
    con.executemany("INSERT INTO m VALUES (?)", [[x] for x in moments])
    got = con.execute(f"SELECT ts, {clock_sql('epoch(ts) / 60', 'working', wh)} FROM m").fetchall()
    assert all(abs(v - clock_minutes(ts, "working", wh)) < 1e-6 for ts, v in got)
    # Friday 17:00 to Monday 09:00 on Monday-Friday 08:00-18:00: one hour on Friday, one on Monday.
    week = WorkingHours()
    assert clock_minutes(datetime(2026, 3, 16, 9), "working", week) - clock_minutes(datetime(2026, 3, 13, 17), "working", week) == 120
    assert clock_minutes(datetime(2026, 3, 15, 12), "working", week) == clock_minutes(datetime(2026, 3, 13, 18), "working", week)
