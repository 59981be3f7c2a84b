"""The real ServiceNow event log in ../shared/data: kedb's figures equal a plain-Python count over the CSV.

The expected values are computed here with the `csv` module only, in the most direct way: group
the rows by incident, take each incident's latest row (latest `sys_updated_at`, then highest
`sys_mod_count`, then the later row), and count.
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import yaml

from conftest import overlay
from kbtest import REPO, kedb, require_file
from kedb.core.load.loader import load
from servicenow_log import SAMPLE, SAMPLE_HOW, history
from servicenow_log import when as _when


@pytest.fixture(autouse=True, scope="module")
def _real_data() -> None:
    require_file(SAMPLE, "kedb's KPIs and candidates from the real ServiceNow event log against a plain count over the CSV", SAMPLE_HOW)


def latest() -> dict[str, dict[str, str]]:
    return {n: rows[-1] for n, rows in history().items()}


def first_responses() -> list[tuple[datetime, float]]:
    """(time, minutes after opening) of each incident's first update that left the New state."""
    out = []
    for rows in history().values():
        opened = _when(rows[0]["opened_at"])
        for r in rows:
            at = _when(r["sys_updated_at"])
            if r["incident_state"] != "New" and at >= opened:  # type: ignore[operator]
                out.append((at, (at - opened).total_seconds() / 60))  # type: ignore[operator]
                break
    return out


DONE_STATES = ("Resolved", "Closed", "Canceled")


def resolutions() -> dict[str, datetime | None]:
    """When each incident was resolved, if its last row is resolved or closed: `resolved_at`, else the last time the
    log shows it entering resolved or closed (after any reopen), else `closed_at`."""
    out: dict[str, datetime | None] = {}
    for n, rows in history().items():
        last = rows[-1]
        if last["incident_state"] not in DONE_STATES:
            out[n] = None
            continue
        entries = [
            _when(r["sys_updated_at"])
            for before, r in zip([None, *rows], rows, strict=False)
            if r["incident_state"] in DONE_STATES and (before is None or before["incident_state"] not in DONE_STATES)
        ]
        out[n] = _when(last["resolved_at"]) or (max(entries) if entries else None) or _when(last["closed_at"])  # type: ignore[type-var]
    return out


def pct(num: int, den: int) -> float:
    return round(100 * num / den, 2)


@pytest.fixture(scope="module")
def kb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("real") / "kb"
    import shutil

    shutil.copytree(REPO / "tests" / "fixtures" / "base", root)
    overlay(
        root,
        {
            "content/recurrence.yml": (
                "signature_fields: [category, subcategory, symptom]\n"
                "repeat_window_days: 30\n"
                "rules:\n"
                "  - {id: eight-in-30d-4-callers, name: Eight in 30 days from four callers, min_tickets: 8, window_days: 30,"
                " min_distinct: 4, distinct_by: callers}\n"
            )
        },
    )
    res = kedb("--root", str(root), "tickets", "import", str(SAMPLE), "--source", "servicenow")
    assert res.exit_code == 0, res.output
    assert "imported 890 tickets" in res.output and "5,998 rows: an event log" in res.output
    return root


@pytest.mark.parametrize("period", ["2016-02", "2016-03"])
def test_kpis_equal_a_plain_count_over_the_csv(kb: Path, period: str) -> None:
    incidents = latest()
    assert len(incidents) == 890
    done = resolutions()
    start = datetime.strptime(period + "-01", "%Y-%m-%d")
    end = (start + timedelta(days=32)).replace(day=1)
    resolved = [r for n, r in incidents.items() if (d := done[n]) and start <= d < end]
    opened = [r for r in incidents.values() if start <= _when(r["opened_at"]) < end]  # type: ignore[operator]
    linked = [r for r in opened if r["problem_id"] != "?"]
    # open at the month's end: by the incident's last row before then (its state then), as the audit counts them
    state_then = {n: [r for r in rows if _when(r["sys_updated_at"]) < end] for n, rows in history().items()}  # type: ignore[operator]
    backlog = [
        n
        for n, r in incidents.items()
        if _when(r["opened_at"]) < end  # type: ignore[operator]
        and (state_then[n][-1]["incident_state"] not in DONE_STATES if state_then[n] else not ((d := done[n]) and d < end))
    ]
    parts = {n: (_norm(r["category"]), _norm(r["subcategory"]), _norm(r["u_symptom"])) for n, r in incidents.items()}
    sigs = {n: ":".join(p or "(none)" for p in ps) if any(ps) else "" for n, ps in parts.items()}  # an empty part is (none)
    seen: dict[str, list[tuple[datetime, str]]] = defaultdict(list)
    for n, r in incidents.items():
        if sigs[n]:
            seen[sigs[n]].append((_when(r["opened_at"]), n))  # type: ignore[arg-type]
    repeats = 0
    for n, r in incidents.items():
        d = done[n]
        if sigs[n] and d and start <= d < end:
            earlier = [t for t, m in sorted(seen[sigs[n]]) if (t, m) < (_when(r["opened_at"]), n)]
            repeats += bool(earlier) and _when(r["opened_at"]) - earlier[-1] <= timedelta(days=30)  # type: ignore[operator]
    with_sig = [r for n, r in incidents.items() if sigs[n] and r in resolved]
    responses = [m for at, m in first_responses() if start <= at < end]
    expected = {
        "repeat_ticket_rate": pct(repeats, len(with_sig)),
        "first_response_time": round(sum(responses) / len(responses), 2),
        "ticket_volume": len(opened),
        "tickets_resolved": len(resolved),
        "backlog": len(backlog),
        "reopen_rate": pct(sum(int(r["reopen_count"]) > 0 for r in resolved), len(resolved)),
        "sla_breach_rate": pct(sum(r["made_sla"] == "FALSE" for r in resolved), len(resolved)),
        "reassignment_rate": pct(sum(int(r["reassignment_count"]) > 0 for r in resolved), len(resolved)),
        "tickets_per_problem": round(len(linked) / len({r["problem_id"] for r in linked}), 2),
    }
    res = kedb("--root", str(kb), "kpi", "--period", period, "--write")
    assert res.exit_code == 0, res.output
    snap = next(s for s in load(kb)[0].kpi_snapshots if s.period == period)
    got = {k: snap.value(k).value for k in expected}  # type: ignore[union-attr]
    assert got == expected
    assert snap.source.tickets == 890 and snap.source.system == "servicenow"
    assert snap.value("reopen_rate").denominator == len(resolved)  # type: ignore[union-attr]
    text = (kb / "content" / "kpi" / f"{period}.yml").read_text(encoding="utf-8")
    assert "Caller" not in text and "Updated by" not in text and "Symptom" not in text
    check = kedb("--root", str(kb), "check", "--as-of", "2026-11-22")
    assert check.exit_code == 0, check.output


def _norm(text: str) -> str | None:
    if text == "?":
        return None
    return re.sub(r"[^a-z0-9.]+", "-", text.lower()).strip("-.") or None


def independent_candidates() -> dict[str, int]:
    """signature -> tickets in its latest window of 30 days holding >= 8 tickets from >= 4 callers."""
    by: dict[str, list[tuple[datetime, str]]] = defaultdict(list)
    for row in latest().values():
        parts = [_norm(row["category"]), _norm(row["subcategory"]), _norm(row["u_symptom"])]
        if any(parts):  # an empty part is shown as (none), so (a, -, b) and (a, b, -) stay apart
            by[":".join(p or "(none)" for p in parts)].append((_when(row["opened_at"]), row["caller_id"]))  # type: ignore[arg-type]
    out: dict[str, int] = {}
    for sig, tickets in by.items():
        tickets.sort()
        for end, _ in reversed(tickets):
            window = [(t, c) for t, c in tickets if end - timedelta(days=30) <= t <= end]
            if len(window) >= 8 and len({c for _, c in window}) >= 4:
                out[sig] = len(window)
                break
    return out


def test_candidates_equal_an_independent_sliding_window(kb: Path) -> None:
    expected = independent_candidates()
    assert len(expected) >= 5
    res = kedb("--root", str(kb), "candidates")
    assert res.exit_code == 0, res.output
    assert f"proposed problem candidates: {len(expected)}" in res.output
    found = dict(re.findall(r"^  (\S+)\n    rule eight-in-30d-4-callers: (\d+) tickets", res.output, re.M))
    assert {k: int(v) for k, v in found.items()} == expected


def test_candidate_drafts_pass_check_and_carry_only_ids(kb: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1795000000")  # 2026-11-18
    res = kedb("--root", str(kb), "candidates", "--write", "--service", "printing")
    assert res.exit_code == 0, res.output
    written = sorted((kb / "known_errors").glob("PRB-*-recurring-*.md"))
    assert len(written) == len(independent_candidates()) and written[0].name.startswith("PRB-0002-")
    numbers = set(latest())
    for path in written:
        text = path.read_text(encoding="utf-8")
        front = yaml.safe_load(text.split("---")[1])
        assert front["status"] == "candidate" and front["created"].isoformat() == "2026-11-18"
        assert set(front["tickets"]) <= numbers and front["trigger"]["tickets"] == len(front["tickets"])
        assert "Caller" not in text and "Updated by" not in text
    check = kedb("--root", str(kb), "check", "--as-of", "2026-11-22")
    assert check.exit_code == 0, check.output
    again = kedb("--root", str(kb), "candidates")
    assert "proposed problem candidates: 0" in again.output  # the drafts are open problems now: attached
    for path in written:
        path.unlink()
