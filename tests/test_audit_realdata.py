"""The real ServiceNow event log in ../shared/data: the flow audit equals a plain-Python reading of the CSV.

Everything expected here is computed from the file with the `csv` module and the policy with
PyYAML, in the most direct way: each incident's rows in time order, its status periods walked
one by one, working time counted day by day (not with kedb's closed-form clock). The policy is
the example KB's `content/progression.yml`, with the group most incidents start in (`Group 70`)
as the first line, so that tickets rejected back to it are seen.
"""

from __future__ import annotations

import shutil
from collections import defaultdict
from datetime import datetime, time, timedelta
from pathlib import Path
from statistics import median
from typing import Any

import pytest
import yaml

from kbtest import REPO, kedb, require_file
from kedb.core.audits import Audit
from kedb.core.load.loader import load
from servicenow_log import SAMPLE, SAMPLE_HOW, history
from servicenow_log import when as _when

FIRST_LINE = "Group 70"
# incident_state → status class, as ServiceNow's states are meant (the README's mapping table).
CLASS = {"New": "new", "Active": "open", "Awaiting User Info": "pending", "Awaiting Problem": "pending", "Awaiting Vendor": "pending",
         "Awaiting Evidence": "pending", "Resolved": "resolved", "Closed": "closed"}  # fmt: skip
DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


@pytest.fixture(autouse=True, scope="module")
def _real_data() -> None:
    require_file(SAMPLE, "the flow audit of the real ServiceNow event log against a plain reading of the CSV", SAMPLE_HOW)


def policy() -> dict[str, Any]:
    text = (REPO / "content" / "progression.yml").read_text(encoding="utf-8")
    return yaml.safe_load(text.replace("first_line: [Service Desk]", f"first_line: [{FIRST_LINE}]"))


class Clock:
    """Minutes between two moments, calendar or working (walked day by day)."""

    def __init__(self, pol: dict[str, Any]) -> None:
        wh = pol["working_hours"]
        self.days = {DAYS.index(d) for d in wh["days"]}
        self.start, self.end = (time.fromisoformat(wh[k]) for k in ("start", "end"))
        self.day = (datetime.combine(datetime.min, self.end) - datetime.combine(datetime.min, self.start)).seconds / 60

    def between(self, a: datetime, b: datetime, clock: str) -> float:
        if clock == "calendar":
            return (b - a).total_seconds() / 60
        if b <= a:
            return -self.between(b, a, clock) if b < a else 0.0
        total, day = 0.0, a.date()
        while day <= b.date():
            if day.weekday() in self.days:
                s, e = max(a, datetime.combine(day, self.start)), min(b, datetime.combine(day, self.end))
                total += max(0.0, (e - s).total_seconds() / 60)
            day += timedelta(days=1)
        return total

    def threshold(self, text: str, clock: str) -> float:
        n, unit = float(text[:-1]), text[-1]
        return n * {"m": 1, "h": 60, "d": self.day if clock == "working" else 1440}[unit]


def expected(as_of: str) -> dict[str, Any]:
    """Periods, progression, open tickets, bounces and reopens at the end of ``as_of``, straight from the CSV."""
    pol = policy()
    clock = Clock(pol)
    stages = {s["id"]: s for s in pol["stages"]}
    named = {k.lower(): v for k, v in pol["statuses"]["servicenow"].items()}
    now = datetime.fromisoformat(as_of) + timedelta(days=1)
    start = now - timedelta(days=pol["window_days"])
    first = {g.lower() for g in pol["bounces"]["first_line"]}
    periods: list[tuple[str, str, str | None, datetime, datetime | None]] = []  # (ticket, stage, group, start, end)
    open_tickets, bounces, handed, bounced, resolved, reopened = 0, defaultdict(int), set(), set(), 0, 0
    for number, rows in history().items():
        rows = [r for r in rows if _when(r["sys_updated_at"]) < now]
        if not rows:
            continue
        runs: list[tuple[str | None, str | None, datetime]] = []
        seen: set[str] = set()
        prev: tuple[str, str | None, str | None] | None = None  # class, group, stage of the previous event
        first_res = last_reopen = None
        for step, r in enumerate(rows):
            cls = CLASS[r["incident_state"]]
            group = None if r["assignment_group"] == "?" else r["assignment_group"]
            raw = named.get(r["incident_state"].lower()) or pol["defaults"].get(cls)
            ts = _when(r["sys_updated_at"])
            kind = None
            if prev and prev[1] is not None and group is not None and group != prev[1]:
                if group.lower() in first and prev[1].lower() not in first:
                    kind = "first-line"
                elif group in seen:
                    kind = "back-and-forth"
                else:
                    kind = "handoff"
            stage = pol["bounces"]["stage"] if kind in ("first-line", "back-and-forth") and cls in ("new", "open") else raw
            if kind and ts >= start:
                handed.add(number)
                if kind != "handoff":
                    bounces[kind] += 1
                    bounced.add(number)
            if not runs or kind in ("first-line", "back-and-forth") or (stage, group) != (runs[-1][0], runs[-1][1]):
                runs.append((stage, group, ts))
            if (
                cls in ("resolved", "closed")
                and (prev is None or prev[0] not in ("resolved", "closed"))
                and ts >= start
                and first_res is None
            ):
                first_res = step
            if prev and prev[0] in ("resolved", "closed") and cls in ("new", "open", "pending"):
                last_reopen = step
            if group is not None:
                seen.add(group)
            prev = (cls, group, stage)
        for i, (stage, group, t0) in enumerate(runs):
            if stage is not None:
                periods.append((number, stage, group, t0, runs[i + 1][2] if i + 1 < len(runs) else None))
        assert prev is not None
        if _when(rows[0]["opened_at"]) < now and prev[0] not in ("resolved", "closed", "cancelled"):
            open_tickets += 1
        if first_res is not None:
            resolved += 1
            reopened += last_reopen is not None and last_reopen > first_res
    judged = []
    for number, stage, group, t0, t1 in periods:
        st = stages[stage]
        clk = st.get("clock", "working")
        thr = clock.threshold(st["threshold"], clk)
        due_after_start = thr > clock.between(t0, start, clk) if t0 < start else True
        if due_after_start and clock.between(t0, now, clk) >= thr:
            judged.append((number, stage, group, t0, t1, t1 is not None and clock.between(t0, t1, clk) <= thr))
    return {
        "judged": judged,
        "open": open_tickets,
        "bounces": dict(bounces),
        "bounce_rate": (len(bounced), len(handed)),
        "reopen": (reopened, resolved),
    }


@pytest.fixture(scope="module")
def kb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("real") / "kb"
    shutil.copytree(REPO / "tests" / "fixtures" / "base", root)
    (root / "content" / "progression.yml").write_text(yaml.safe_dump(policy(), sort_keys=False), encoding="utf-8")
    res = kedb("--root", str(root), "tickets", "import", str(SAMPLE), "--source", "servicenow")
    assert res.exit_code == 0, res.output
    return root


def audit(root: Path, as_of: str) -> Audit:
    res = kedb("--root", str(root), "tickets", "audit", "--as-of", as_of, "--write")
    assert res.exit_code == 0, res.output
    return next(a for a in load(root)[0].audits if a.as_of.isoformat() == as_of)


def _share(rows: list[tuple[Any, ...]]) -> tuple[int, int, int]:
    return len(rows), sum(1 for r in rows if r[-1]), len({r[0] for r in rows})


@pytest.mark.parametrize("as_of", ["2016-03-15", "2016-03-31"])
def test_time_in_status_and_progression_equal_a_plain_reading_of_the_csv(kb: Path, as_of: str) -> None:
    exp = expected(as_of)
    judged = exp["judged"]
    assert len(judged) > 500  # a real test: hundreds of periods are judged
    a = audit(kb, as_of)
    f = {x.id: x for x in a.figures}
    n, within, tickets = _share(judged)
    assert (f["progression_sla"].denominator, f["progression_sla"].numerator, f["progression_sla"].tickets) == (n, within, tickets)
    assert f["progression_sla"].value == round(100 * within / n, 2)
    by_stage = defaultdict(list)
    for row in judged:
        by_stage[row[1]].append(row)
    got = {r.key: (r.periods, r.within, r.tickets, r.median_hours) for r in a.by_stage}
    want = {}
    for stage, rows in by_stage.items():
        hours = [(t1 - t0).total_seconds() / 3600 for _, _, _, t0, t1, _ in rows if t1 is not None]
        want[stage] = (*_share(rows), round(median(hours), 2) if hours else None)
    assert got == want
    by_group = defaultdict(list)
    for row in judged:
        by_group[row[2] or "(no group)"].append(row)
    ranked = sorted(by_group, key=lambda g: (-len(by_group[g]), g))
    top = {g: _share(by_group[g]) for g in ranked[:25]}
    assert {r.key: (r.periods, r.within, r.tickets) for r in a.by_group[:25]} == top
    if len(ranked) > 25:
        rest = [row for g in ranked[25:] for row in by_group[g]]
        assert (a.by_group[25].key, a.by_group[25].periods, a.by_group[25].within) == (
            "(other groups)",
            len(rest),
            sum(r[-1] for r in rest),
        )
    assert f["open_tickets"].value == exp["open"]
    assert (f["bounce_rate"].numerator, f["bounce_rate"].denominator) == exp["bounce_rate"]
    assert f["bounces"].value == sum(exp["bounces"].values()) and exp["bounces"].get("first-line", 0) > 0
    assert (f["reopen_rate"].numerator, f["reopen_rate"].denominator) == exp["reopen"]
    assert f["chases"].value == 0  # callers and updaters are named in different ways in this export: no update is the caller's
    text = (kb / "content" / "audits" / f"{as_of}.yml").read_text(encoding="utf-8")
    assert "Caller" not in text and "Updated by" not in text and "Opened by" not in text
