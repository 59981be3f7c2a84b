"""`kedb tickets audit`: the SLA timers against their thresholds, chases by update interval, intake completeness.

Three kinds of evidence. A small event log whose every position is counted by hand below. The
example KB's synthetic export and the real ServiceNow sample in ../shared/data, where the
expected figures are computed here with the `csv` module and PyYAML only: each ticket's rows in
time order, its time on hold summed event by event, its first response read from the first row
out of New. And hostile input: policies that cannot be used, and audits stored before these
figures existed.
"""

from __future__ import annotations

import csv
import re
import shutil
from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import MakeKB
from kbtest import REPO, git, import_example_export, kedb, require_file, write_csv
from kedb.core.audits import Audit, compare
from kedb.core.load.loader import load
from servicenow_log import SAMPLE, SAMPLE_HOW

POLICY = """\
window_days: 28
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
"""
SD, NET = "Service Desk", "Network Team"
HEADER = ["id", "opened_at", "updated_at", "status", "assignment_group", "caller", "updated_by", "priority", "customer", "category"]


def t(tid: str, opened: str, caller: str, prio: str, customer: str, category: str, *events: tuple[str, str, str, str]) -> list[list[str]]:
    return [[tid, opened, at, status, group, caller, by, prio, customer, category] for at, status, group, by in events]


# The audit is as of Friday 2026-03-13: its moment is Saturday 00:00, on the calendar clock. Timers (base triage.yml):
# P1 response 15 min, resolution 4 h; P2 30 min, 8 h; P3 4 h, 40 h. The first update out of `new` is the response.
ROWS = [
    # A (P1): still new. Response running 150 of 15 min (1000 %): every threshold. Resolution 150 of 240 (62.5 %): 50.
    *t("A", "2026-03-13 21:30", "Ann", "P1", "ACME", "mail", ("2026-03-13 21:30", "new", SD, "Ann")),
    # B (P1): answered after 12 min (80 %, stopped below the limit: no threshold). Resolution 120 of 240: exactly 50 %.
    # The caller chases at 22:20 and is answered at 23:00: 40 min, later than P1's update interval of 30 min.
    *t("B", "2026-03-13 22:00", "Bo", "P1", "ACME", "mail", ("2026-03-13 22:00", "new", SD, "Bo"),
       ("2026-03-13 22:12", "open", SD, "Xavi"), ("2026-03-13 22:20", "open", SD, "Bo"), ("2026-03-13 23:00", "open", SD, "Xavi")),
    # C (P2): answered after 45 min (150 %, stopped past the limit: every threshold). Six hours awaiting the user are
    # paused: resolution 480 - 360 = 120 of 480 min (25 %). First group Network Team, then Service Desk. No customer.
    *t("C", "2026-03-13 16:00", "Cy", "P2", "", "network", ("2026-03-13 16:00", "new", NET, "Cy"),
       ("2026-03-13 16:45", "open", NET, "Xavi"), ("2026-03-13 17:00", "pending", NET, "Xavi"),
       ("2026-03-13 23:00", "open", NET, "Cy"), ("2026-03-13 23:30", "open", SD, "Xavi")),
    # D (P3): answered after 30 min (12.5 %). Resolution 87 h of 40 (217.5 %): every threshold. Category '?': missing.
    # The caller chases on Wednesday 10:00 and is answered at 11:00, within P3's update interval of 8 h.
    *t("D", "2026-03-10 09:00", "Di", "P3", "ACME", "?", ("2026-03-10 09:00", "new", SD, "Di"),
       ("2026-03-10 09:30", "open", SD, "Xavi"), ("2026-03-11 10:00", "open", SD, "Di"), ("2026-03-11 11:00", "open", SD, "Xavi")),
    # E (P3): answered after 5 h (125 %, stopped past the limit). Resolution 37 h of 40 (92.5 %): 50, 80, 90. At risk.
    *t("E", "2026-03-12 11:00", "Ed", "P3", "GLOBEX", "printing", ("2026-03-12 11:00", "new", SD, "Ed"),
       ("2026-03-12 16:00", "open", SD, "Xavi")),
    # F (P2): still new. Response 240 of 30 min (800 %); resolution 240 of 480: exactly 50 %. No category.
    *t("F", "2026-03-13 20:00", "Fa", "P2", "GLOBEX", "", ("2026-03-13 20:00", "new", SD, "Fa")),
    # G: no priority: open, but on no timer. Intake: priority missing.
    *t("G", "2026-03-13 10:00", "Gil", "", "GLOBEX", "mail", ("2026-03-13 10:00", "new", SD, "Gil"), ("2026-03-13 10:05", "open", SD, "Xavi")),
    # H (P3): closed before the moment: on no timer; logged in the window, so it counts for intake.
    *t("H", "2026-03-02 09:00", "Hu", "P3", "ACME", "mail", ("2026-03-02 09:00", "new", SD, "Hu"), ("2026-03-02 09:10", "open", SD, "Xavi"),
       ("2026-03-02 10:00", "resolved", SD, "Xavi"), ("2026-03-03 10:00", "closed", SD, "Xavi")),
    # I (P3): still new. Response 360 of 240 (150 %, running): every threshold. Resolution 15 %. No customer.
    *t("I", "2026-03-13 18:00", "Ivy", "P3", "", "mail", ("2026-03-13 18:00", "new", SD, "Ivy")),
    # J (P2): still new. Response 25 of 30 min (83.3 %): 50, 80.
    *t("J", "2026-03-13 23:35", "Jo", "P2", "ACME", "vpn", ("2026-03-13 23:35", "new", SD, "Jo")),
    # K (P3): still new, no caller. Response 150 of 240 (62.5 %): 50.
    *t("K", "2026-03-13 21:30", "", "P3", "ACME", "mail", ("2026-03-13 21:30", "new", SD, "")),
    # L: opened before the window: not in the intake figures.
    *t("L", "2026-01-05 09:00", "Lu", "P3", "ACME", "", ("2026-01-05 09:00", "new", SD, "Lu"), ("2026-01-05 10:00", "resolved", SD, "Xavi"),
       ("2026-01-06 10:00", "closed", SD, "Xavi")),
]  # fmt: skip


@pytest.fixture
def kb(make_kb: MakeKB, tmp_path: Path) -> Path:
    root = make_kb({"content/progression.yml": POLICY})
    res = kedb("--root", str(root), "tickets", "import", str(write_csv(tmp_path / "export.csv", HEADER, ROWS)), "--source", "csv")
    assert res.exit_code == 0, res.output
    return root


def audit_of(root: Path, day: str, *args: str) -> tuple[Audit, str]:
    res = kedb("--root", str(root), "tickets", "audit", "--as-of", day, "--write", *args)
    assert res.exit_code == 0, res.output
    return next(a for a in load(root)[0].audits if a.as_of.isoformat() == day), res.stdout


def counts(a: Audit, timer: str) -> dict[float, tuple[int, int, int, int]]:
    tm = a.timer(timer)
    assert tm is not None
    return {c.percent: (c.tickets, c.by_priority["P1"], c.by_priority["P2"], c.by_priority["P3"]) for c in tm.thresholds}


def test_every_position_equals_the_hand_count(kb: Path) -> None:
    a, out = audit_of(kb, "2026-03-13")
    response, resolution = a.timer("response"), a.timer("resolution")
    assert response is not None and resolution is not None
    assert (response.tickets, response.running) == (9, 5)  # G has no priority; B, C, D, E were answered
    assert counts(a, "response") == {50: (7, 1, 3, 3), 80: (6, 1, 3, 2), 90: (5, 1, 2, 2), 100: (5, 1, 2, 2)}
    assert (resolution.tickets, resolution.running) == (9, 9)
    assert counts(a, "resolution") == {50: (5, 2, 1, 2), 80: (2, 0, 0, 2), 90: (2, 0, 0, 2), 100: (1, 0, 0, 1)}
    assert "1 without such a priority left out" in resolution.basis and "awaiting-user left out" in resolution.basis
    f = {x.id: x for x in a.figures}
    assert (f["sla_at_risk"].value, f["sla_breached"].value) == (1, 1)  # E, D: the same positions, the same rule
    assert [(r.id, r.sla_used) for r in a.at_risk] == [("E", 92.5)]
    # P1's update interval is 30 minutes: B's chase answered after 40 is late; D's (P3, 8 h) after 60 is in time.
    assert (f["chases"].value, f["chases_answered"].numerator, f["chases_answered"].denominator) == (2, 1, 2)
    assert "update interval of the ticket's priority" in f["chases_answered"].basis
    # The terminal lists every ticket under the highest threshold it reached on either timer.
    sections = re.split(r"\n(?=\S)", out)
    listed = {s.split(" % ")[0].removeprefix("at or past "): [ln.split()[0] for ln in s.splitlines()[1:]]
              for s in sections if s.startswith("at or past ")}  # fmt: skip
    # Most of either timer used first: A 1000 %, F 800 %, D 217.5 %, C and I 150 % (by id), E 125 %.
    assert listed == {"100": ["A", "F", "D", "C", "I", "E"], "80": ["J"], "50": ["B", "K"]}


def test_intake_completeness_per_field_and_first_group(kb: Path) -> None:
    a, out = audit_of(kb, "2026-03-13")
    i = a.intake
    assert i is not None and i.tickets == 11  # A to K; L was opened before the window
    got = {f.field: (f.filled, f.value, f.reads(i.tickets)) for f in i.fields}
    assert got == {
        "priority": (10, 90.91, "90.9 %"),  # G
        "customer": (9, 81.82, "81.8 %"),  # C, I
        "caller": (10, 90.91, "90.9 %"),  # K
        "service": (None, None, "n/a: the export has no service"),
        "category": (9, 81.82, "81.8 %"),  # D ('?'), F (empty)
        "symptom": (None, None, "n/a: the export has no symptom"),
    }
    groups = {g.key: (g.tickets, dict(g.filled)) for g in i.by_group}
    assert groups == {
        SD: (10, {"priority": 9, "customer": 9, "caller": 9, "category": 8}),
        NET: (1, {"priority": 1, "customer": 0, "caller": 1, "category": 1}),  # C's first group, not its last
    }
    assert [g.key for g in i.by_group] == [SD, NET]
    assert "service            n/a: the export has no service" in out and "90.91 % (10 / 11)" in out
    stored = (kb / "content" / "audits" / "2026-03-13.yml").read_text(encoding="utf-8")
    data = yaml.safe_load(stored)
    assert data["intake"]["fields"][3] == {"field": "service", "filled": None, "value": None}
    assert [t["timer"] for t in data["sla_timers"]] == ["response", "resolution"]
    for name in ("Ann", "Bo", "Cy", "Xavi", "ACME", "GLOBEX", "mail"):
        assert name not in stored  # counts only: no names, no values
    assert [r["id"] for r in data["at_risk"]] == ["E"]  # the only ids kept, as before


def test_the_override_sets_one_answer_time_and_the_mandatory_fields_are_the_policys(kb: Path) -> None:
    policy = kb / "content" / "progression.yml"
    policy.write_text(POLICY + "chases: {answer_within: 4h}\nsla_thresholds: [75, 100]\n", encoding="utf-8")
    triage = kb / "content" / "triage.yml"
    triage.write_text(triage.read_text(encoding="utf-8") + "intake_fields: [category, priority]\n", encoding="utf-8")
    a, _ = audit_of(kb, "2026-03-13")
    f = {x.id: x for x in a.figures}
    # 4 working hours: B's Friday 22:20 chase is due on Monday (after the moment, not judged yet); D's is in time.
    assert (f["chases_answered"].numerator, f["chases_answered"].denominator) == (1, 1)
    assert "chases.answer_within, 4h of working time" in f["chases_answered"].basis
    assert counts(a, "resolution") == {75: (2, 0, 0, 2), 100: (1, 0, 0, 1)}
    assert a.intake is not None and [x.field for x in a.intake.fields] == ["category", "priority"]


def test_one_row_export_without_a_response_time_says_so(make_kb: MakeKB, tmp_path: Path) -> None:
    root = make_kb({"content/progression.yml": POLICY})
    rows = [["A1", "2026-03-05 09:00", "2026-03-05 09:30", "open", SD, "Ann", "Xavi", "P2", "ACME", "mail"]]
    export = write_csv(tmp_path / "one.csv", HEADER, rows)
    assert kedb("--root", str(root), "tickets", "import", str(export), "--source", "csv").exit_code == 0
    a, out = audit_of(root, "2026-03-05")
    response = a.timer("response")
    assert response is not None and response.tickets is None and response.thresholds == []
    assert response.basis.startswith("n/a: the export cannot say when the first response came")
    assert counts(a, "resolution")[100] == (1, 0, 1, 0)  # 15 h of 8
    assert "Response: n/a: the export cannot say" in out


# ---------------------------------------------------------------- hostile input
@pytest.mark.parametrize(
    ("path", "text", "expected"),
    [
        (
            "content/progression.yml",
            POLICY + "sla_thresholds: [80, 50]\n",
            "KE725 progression-range (error): SLA thresholds must increase: 50 follows 80",
        ),
        ("content/progression.yml", POLICY + "sla_thresholds: [0, 50]\n", "KE106 invalid-format (error): 'sla_thresholds[1]' is '0'"),
        ("content/progression.yml", POLICY + "sla_thresholds: [50, 120]\n", "'sla_thresholds[2]' is '120'; it must be at most 100"),
        ("content/progression.yml", POLICY + "chases: {answer_within: soon}\n", "'chases.answer_within' is 'soon'; it must be a duration"),
        ("content/triage.yml", None, "KE104 wrong-type (error): 'intake_fields': Value error, intake field named more than once: category"),
        ("content/triage.yml", "", "KE103 invalid-value (error): 'text' is not allowed for 'intake_fields[2]'"),
    ],
)
def test_a_policy_that_cannot_be_used_is_refused_with_its_place(kb: Path, path: str, text: str | None, expected: str) -> None:
    target = kb / path
    if path == "content/triage.yml":
        extra = "intake_fields: [category, priority, category]\n" if text is None else "intake_fields: [priority, text]\n"
        text = target.read_text(encoding="utf-8") + extra
    target.write_text(text, encoding="utf-8")
    check = kedb("--root", str(kb), "check", "--as-of", "2026-11-22")
    assert check.exit_code == 1 and path in check.output and expected in check.output, check.output
    res = kedb("--root", str(kb), "tickets", "audit", "--as-of", "2026-03-13")
    assert "Traceback" not in res.output
    if path == "content/triage.yml":  # a broken triage policy is not read as a missing one
        assert res.exit_code == 1 and "content/triage.yml cannot be used" in res.stderr


def test_audits_stored_before_load_compare_and_render(kb: Path, tmp_path: Path) -> None:
    new, _ = audit_of(kb, "2026-03-13")
    old_text = (REPO / "tests" / "fixtures" / "tickets" / "audit-before-timers.yml").read_text(encoding="utf-8")
    old_path = kb / "content" / "audits" / "2026-03-09.yml"
    old_path.write_text(old_text, encoding="utf-8")
    audits = load(kb)[0].audits
    assert [a.as_of.isoformat() for a in audits] == ["2026-03-09", "2026-03-13"]
    old = audits[0]
    assert old.sla_timers == [] and old.intake is None and old.triage_sha256 is None
    cmp = compare(old, new)
    timers = {m.id: m for m in cmp.timers}
    assert timers["resolution_100"].before is None and timers["resolution_100"].after == 1
    assert timers["resolution_100"].verdict == "not comparable"
    res = kedb("--root", str(kb), "tickets", "audit", "--compare", "2026-03-09", "2026-03-13")
    assert res.exit_code == 0 and "Resolution timer: at or past 90 %" in res.output and "Intake: priority filled" in res.output
    # The page of an edition whose latest audit is the old one says what it lacks; with the new one it shows both.
    new_path = kb / "content" / "audits" / "2026-03-13.yml"
    kept = new_path.read_text(encoding="utf-8")
    new_path.unlink()
    text = _audit_page(kb)
    assert "Not in the audit of 2026-03-09: it was stored before kedb placed the open tickets on each SLA timer" in text
    assert "Not in the audit of 2026-03-09: it was stored before kedb measured intake" in text
    new_path.write_text(kept, encoding="utf-8")
    text = _audit_page(kb)
    assert "n/a: the export has no service" in text and "90.9 %" in text
    assert re.search(r"Resolution 50 % \S+ 5 2 1 2", text) and "Network Team 1 100 % 0 % 100 % 100 %" in text
    assert "E" in [t.id for t in new.at_risk]
    tenant = _audit_page(kb, "--tenant", "ACME")
    assert "Ticket ids are left out of tenant editions" in tenant and "n/a: the export has no service" in tenant


def _audit_page(root: Path, *args: str) -> str:
    import html

    if not (root / ".git").exists():
        git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "--allow-empty", "-m", "audits")
    res = kedb("--root", str(root), "build", "--only", "site", "--as-of", "2026-11-22", *args)
    assert res.exit_code == 0, res.output
    body = (root / "site" / "audit" / "index.html").read_text(encoding="utf-8")
    article = re.sub(r"</?span[^>]*>", "", body[body.index("<article") : body.index("</article>")])
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", article)))


# ---------------------------------------------------------------- computed independently from a CSV
MISSING = {"", "?", "NULL", "null", "N/A", "n/a", "-"}  # the mapping's missing markers (kedb's default)
# incident_state → status class, as ServiceNow's states are meant.
CLASS = {"New": "new", "Active": "open", "Awaiting User Info": "pending", "Awaiting Problem": "pending", "Awaiting Vendor": "pending",
         "Awaiting Evidence": "pending", "Awaiting Caller": "pending", "Resolved": "resolved", "Closed": "closed"}  # fmt: skip
PRIORITY = {"1 - Critical": "P1", "2 - High": "P2", "3 - Moderate": "P3", "4 - Low": "P3", "5 - Planning": "P3"}
# intake field → the ServiceNow column the built-in mapping reads it from (None: the sample has no such column)
COLUMN = {"priority": "priority", "customer": "company", "caller": "caller_id", "service": "business_service", "category": "category",
          "subcategory": "subcategory", "symptom": "u_symptom", "ci": "cmdb_ci", "assignment_group": "assignment_group"}  # fmt: skip
SIGNATURE = {"service", "category", "subcategory", "symptom", "ci"}  # kept normalised: nothing but punctuation is empty


def day_first(text: str) -> datetime | None:
    return None if text.strip() in MISSING else datetime.strptime(text, "%d-%m-%Y %H:%M")


def tickets_of(path: Path) -> dict[str, list[dict[str, str]]]:
    """Each incident's rows in time order (updated, then sys_mod_count, then file order)."""
    by: dict[str, list[tuple[int, dict[str, str]]]] = defaultdict(list)
    with open(path, encoding="utf-8", newline="") as fh:
        for i, row in enumerate(csv.DictReader(fh)):
            by[row["number"]].append((i, row))
    return {n: [r for _, r in sorted(rs, key=lambda ir: (day_first(ir[1]["sys_updated_at"]), int(ir[1]["sys_mod_count"]), ir[0]))]
            for n, rs in by.items()}  # type: ignore[arg-type]  # fmt: skip


def filled(field: str, value: str | None) -> bool:
    if value is None or value.strip() in MISSING:
        return False
    if field in SIGNATURE:
        return bool(re.sub(r"^[-.]+|[-.]+$", "", re.sub(r"[^a-z0-9.]+", "-", value.strip().lower())))
    return True


def expected(path: Path, as_of: str) -> dict[str, Any]:
    """Every open ticket's position on both timers and intake completeness at the end of ``as_of``, from the CSV."""
    pol = yaml.safe_load((REPO / "content" / "progression.yml").read_text(encoding="utf-8"))
    tri = yaml.safe_load((REPO / "content" / "triage.yml").read_text(encoding="utf-8"))
    assert pol["sla_clock"] == "calendar"  # minutes below are calendar minutes
    pausing = {s["id"] for s in pol["stages"] if s.get("pauses_sla")}
    named = {k.lower(): v for k, v in pol["statuses"]["servicenow"].items()}
    limits = {p["id"]: (p["response_minutes"], p["resolution_hours"] * 60) for p in tri["priorities"]}
    thresholds = pol["sla_thresholds"]
    now = datetime.fromisoformat(as_of) + timedelta(days=1)
    start = now - timedelta(days=pol["window_days"])
    with open(path, encoding="utf-8", newline="") as fh:
        header = next(csv.reader(fh))
    timers: dict[str, dict[float, list[str]]] = {"response": defaultdict(list), "resolution": defaultdict(list)}
    judged = running = 0
    intake_rows: list[tuple[str, dict[str, bool]]] = []
    for rows in tickets_of(path).values():
        last = rows[-1]
        opened = day_first(last["opened_at"])
        assert opened is not None
        if start <= opened < now:
            first_group = next((r["assignment_group"] for r in rows if r["assignment_group"].strip() not in MISSING), "(no group)")
            got = {f: filled(f, last[COLUMN[f]]) for f in tri["intake_fields"] if COLUMN[f] in header}
            intake_rows.append((first_group, got))
        seen = [(day_first(r["sys_updated_at"]), r) for r in rows]
        before = [(ts, r) for ts, r in seen if ts is not None and ts < now]
        if not before or opened >= now or CLASS[before[-1][1]["incident_state"]] in ("resolved", "closed", "cancelled"):
            continue
        prio = PRIORITY.get(last["priority"])
        if prio is None:
            continue
        answered = min((ts for ts, r in seen if ts is not None and CLASS[r["incident_state"]] != "new" and ts >= opened), default=None)
        holds = []  # (from, to) of each row on hold, to the next row or the moment
        for k, (ts, r) in enumerate(before):
            state = r["incident_state"]
            stage = named.get(state.lower()) or pol["defaults"][CLASS[state]]
            if stage in pausing:
                holds.append((ts, before[k + 1][0] if k + 1 < len(before) else now))

        def used(end: datetime) -> float:
            paused = sum(max(0.0, (min(b, end) - max(a, opened)).total_seconds() / 60) for a, b in holds)  # noqa: B023
            return (end - opened).total_seconds() / 60 - paused  # noqa: B023

        judged += 1
        stopped = answered is not None and answered < now
        running += not stopped
        resp_end = answered if stopped else now
        for pct in thresholds:
            if used(resp_end) >= limits[prio][0] * (max(pct, 100) / 100 if stopped else pct / 100):
                timers["response"][pct].append(prio)
            if used(now) >= limits[prio][1] * (pct / 100):
                timers["resolution"][pct].append(prio)
    return {"judged": judged, "running": running, "timers": timers, "intake": intake_rows, "fields": tri["intake_fields"],
            "carried": [f for f in tri["intake_fields"] if COLUMN[f] in header]}  # fmt: skip


def assert_equal(a: Audit, exp: dict[str, Any]) -> None:
    response, resolution = a.timer("response"), a.timer("resolution")
    assert response is not None and resolution is not None
    assert (response.tickets, response.running, resolution.tickets) == (exp["judged"], exp["running"], exp["judged"])
    for name in ("response", "resolution"):
        want = {pct: (len(ps), ps.count("P1"), ps.count("P2"), ps.count("P3")) for pct, ps in exp["timers"][name].items()}
        got = {pct: c for pct, c in counts(a, name).items() if c[0]}
        assert got == want, name
    i = a.intake
    assert i is not None and i.tickets == len(exp["intake"])
    for f in i.fields:
        if f.field not in exp["carried"]:
            assert (f.filled, f.reads(i.tickets)) == (None, f"n/a: the export has no {f.field}")
            continue
        n = sum(g[f.field] for _, g in exp["intake"])
        assert (f.filled, f.value) == (n, round(100 * n / len(exp["intake"]), 2)), f.field
    per: dict[str, list[dict[str, bool]]] = defaultdict(list)
    for group, g in exp["intake"]:
        per[group].append(g)
    ranked = sorted(per, key=lambda k: (-len(per[k]), k))[:25]
    assert [(g.key, g.tickets) for g in i.by_group[:25]] == [(k, len(per[k])) for k in ranked]
    for g in i.by_group[:25]:
        assert g.filled == {f: sum(x[f] for x in per[g.key]) for f in exp["carried"]}, g.key


def test_the_example_export_equals_a_plain_reading_of_it(example_kb: Path, tmp_path: Path) -> None:
    import_example_export(example_kb, tmp_path)
    for day in ("2026-08-31", "2026-10-26"):
        exp = expected(tmp_path / "example-export.csv", day)
        assert exp["timers"]["resolution"][50] and len(exp["intake"]) > 1000  # a real test: tickets on timers, many logged
        a, _ = audit_of(example_kb, day)
        assert_equal(a, exp)
        assert a.intake is not None and all(f.filled is not None for f in a.intake.fields)  # the example carries every field


def test_the_real_servicenow_sample_equals_a_plain_reading_of_it(tmp_path: Path) -> None:
    require_file(SAMPLE, "SLA timers and intake completeness of the real ServiceNow event log against a plain reading", SAMPLE_HOW)
    root = tmp_path / "kb"
    shutil.copytree(REPO / "tests" / "fixtures" / "base", root)
    for name in ("progression.yml", "triage.yml"):
        shutil.copyfile(REPO / "content" / name, root / "content" / name)
    assert kedb("--root", str(root), "tickets", "import", str(SAMPLE), "--source", "servicenow").exit_code == 0
    for day in ("2016-03-02", "2016-03-15"):
        exp = expected(SAMPLE, day)
        a, _ = audit_of(root, day)
        assert_equal(a, exp)
    exp = expected(SAMPLE, "2016-03-02")
    assert exp["judged"] > 100 and exp["running"] > 0 and exp["timers"]["response"][100] and len(exp["intake"]) > 800
    a, _ = audit_of(root, "2016-03-02")
    assert a.intake is not None
    shown = {f.field: f.reads(a.intake.tickets) for f in a.intake.fields}
    assert shown["customer"] == "n/a: the export has no customer" and shown["service"] == "n/a: the export has no service"
