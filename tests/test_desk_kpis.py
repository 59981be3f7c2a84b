"""The desk's everyday KPIs (issue #20, items 3, 4 and 10): first contact resolution, resolution time per
priority, CSAT and the KB-assisted share, per tenant and per ISO week.

Expected values are computed here from the CSV with the ``csv`` and ``statistics`` modules only (latest row
per ticket by update time, then update counter, then file order), never with kedb's code: on the real
ServiceNow event log in ../shared/data, on the example's synthetic export, and on small exports counted by
hand. Hostile input (a misspelt header, text in the rating column, a week that does not exist) gets a clear
message and the exit code the README gives.
"""

from __future__ import annotations

import csv
import shutil
import statistics
from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from conftest import MakeKB
from kbtest import REPO, import_example_export, kedb, require_file, write_csv
from kedb.build.context import select
from kedb.core.load.loader import load
from kedb.core.snapshots import KpiSnapshot, KpiValue, for_edition
from servicenow_log import SAMPLE, SAMPLE_HOW, history, when

DONE = ("Resolved", "Closed")  # ServiceNow states that end a ticket (Canceled is left out of every figure but volume)
PRIORITY = {"1 - Critical": "P1", "2 - High": "P2", "3 - Moderate": "P3", "4 - Low": "P3", "5 - Planning": "P3"}


def p90(xs: list[float]) -> float:
    """The 90th percentile, linear between ranks."""
    return xs[0] if len(xs) == 1 else statistics.quantiles(xs, n=10, method="inclusive")[8]


def hours(minutes: float) -> float:
    return round(minutes / 60, 2)


def pct(num: int, den: int) -> float | None:
    return round(100 * num / den, 2) if den else None


def bounds(period: str) -> tuple[datetime, datetime]:
    if "-W" in period:
        y, w = period.split("-W")
        start = datetime.combine(date.fromisocalendar(int(y), int(w), 1), datetime.min.time())
        return start, start + timedelta(days=7)
    start = datetime.strptime(period + "-01", "%Y-%m-%d")
    return start, (start + timedelta(days=32)).replace(day=1)


def done_at(rows: list[dict[str, str]]) -> datetime | None:
    """When a ServiceNow ticket was resolved, from its rows in time order: `resolved_at`, else the last time the log shows it
    entering Resolved/Closed, else `closed_at`; None while open or cancelled."""
    last = rows[-1]
    if last["incident_state"] not in DONE:
        return None
    entries = [
        when(r["sys_updated_at"])
        for before, r in zip([None, *rows], rows, strict=False)
        if r["incident_state"] in (*DONE, "Canceled") and (before is None or before["incident_state"] not in (*DONE, "Canceled"))
    ]
    return when(last["resolved_at"]) or (max(e for e in entries if e) if entries else None) or when(last["closed_at"])


def expected_desk(hist: dict[str, list[dict[str, str]]], period: str, rating: str | None = None) -> dict[str, float | None]:
    """The desk's figures for ``period`` over the tickets of ``hist`` (each ticket's rows in time order)."""
    start, end = bounds(period)
    resolved = []
    for rows in hist.values():
        d = done_at(rows)
        if d is not None and start <= d < end:
            resolved.append((rows[-1], d))
    out: dict[str, float | None] = {
        "tickets_resolved": len(resolved),
        "ticket_volume": sum(start <= when(rows[-1]["opened_at"]) < end for rows in hist.values()),  # type: ignore[operator]
        "first_contact_resolution": pct(
            sum(r["reassignment_count"] == "0" and r["reopen_count"] == "0" for r, _ in resolved), len(resolved)
        ),
        "kb_assisted_resolution": pct(sum(r["knowledge"] == "TRUE" for r, _ in resolved), len(resolved)),
    }
    minutes: dict[str, list[float]] = defaultdict(list)
    for r, d in resolved:
        p = PRIORITY.get(r["priority"])
        m = (d - when(r["opened_at"])).total_seconds() / 60  # type: ignore[operator]
        if p and m >= 0:
            minutes[p].append(m)
    for p in ("P1", "P2", "P3"):
        xs = sorted(minutes[p])
        out[f"resolution_time_median_{p.lower()}"] = hours(statistics.median(xs)) if xs else None
        out[f"resolution_time_p90_{p.lower()}"] = hours(p90(xs)) if xs else None
    if rating:
        rated = [int(r[rating]) for r, _ in resolved if r[rating] != "?"]
        out["csat"] = pct(sum(x >= 4 for x in rated), len(rated))
    return out


def figures(root: Path, *args: str) -> dict[str, KpiValue]:
    """``kedb kpi ARGS --write`` and the stored snapshot's values, read back by the loader."""
    res = kedb("--root", str(root), "kpi", *args, "--write")
    assert res.exit_code == 0, res.output
    path = res.stdout.strip().splitlines()[-1].removeprefix("wrote ")
    snap = KpiSnapshot.model_validate(yaml.safe_load((root / path).read_text(encoding="utf-8")))
    kb, findings = load(root)
    assert not [f for f in findings if f.code == "KE705"]
    assert snap in (*kb.kpi_snapshots, *kb.kpi_weeks, *kb.kpi_tenants)
    return {v.id: v for v in snap.values}


def got(values: dict[str, KpiValue], ids: Iterable[str]) -> dict[str, float | None]:
    return {k: values[k].value for k in ids}


def assert_equal(found: dict[str, float | None], expected: dict[str, float | None]) -> None:
    """Equal figures; a percentile may differ by one in its last decimal, because a value that is exactly half a
    hundredth of an hour rounds either way depending on the order of the floating-point steps that interpolate it."""
    exact = {k: v for k, v in expected.items() if "_p90_" not in k}
    assert {k: found[k] for k in exact} == exact
    for k in expected.keys() - exact.keys():
        assert (found[k] is None) == (expected[k] is None) and (found[k] is None or abs(found[k] - expected[k]) <= 0.0100001), k  # type: ignore[operator]


# ---------------------------------------------------------------- the real ServiceNow event log
@pytest.fixture(scope="module")
def real_kb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    require_file(SAMPLE, "the desk KPIs on the real ServiceNow event log against a plain count over the CSV", SAMPLE_HOW)
    root = tmp_path_factory.mktemp("real") / "kb"
    shutil.copytree(REPO / "tests" / "fixtures" / "base", root)
    res = kedb("--root", str(root), "tickets", "import", str(SAMPLE), "--source", "servicenow")
    assert res.exit_code == 0, res.output
    assert "knowledge ← knowledge" in res.output and "satisfaction: not found (looked for `u_satisfaction`, `u_csat`)" in res.output
    return root


@pytest.mark.parametrize("period", ["2016-02", "2016-03", "2016-W10"])
def test_real_servicenow_log_desk_kpis_equal_a_plain_count(real_kb: Path, period: str) -> None:
    expected = expected_desk(history(), period)
    flag = "--week" if "-W" in period else "--period"
    values = figures(real_kb, flag, period)
    assert_equal(got(values, expected), expected)
    assert expected["tickets_resolved"] and expected["resolution_time_median_p3"] is not None  # the sample has them to count
    fcr = values["first_contact_resolution"]
    assert fcr.denominator == expected["tickets_resolved"] and "never reassigned" in fcr.basis
    assert values["resolution_time_p90_p3"].numerator is None and values["resolution_time_p90_p3"].unit == "hours"
    # the incident export carries no satisfaction rating: n/a, stored as null with the reason, never 0
    csat = values["csat"]
    assert csat.value is None and csat.numerator is None and "n/a: the export has no satisfaction." in csat.basis
    where = f"weeks/{period}" if "-W" in period else period
    text = (real_kb / "content" / "kpi" / f"{where}.yml").read_text(encoding="utf-8")
    block = text.split("  - id: csat\n", 1)[1].split("  - id:", 1)[0]
    assert block.startswith("    value: null\n") and "numerator" not in block
    assert "Caller" not in text and "Symptom" not in text and "Group " not in text  # aggregates only


def test_real_servicenow_log_has_no_tenant_column(real_kb: Path) -> None:
    res = kedb("--root", str(real_kb), "kpi", "--period", "2016-03", "--tenant", "ACME")
    assert res.exit_code == 2 and "has no tenant column" in res.output and "Traceback" not in res.output
    res = kedb("--root", str(real_kb), "tickets", "audit", "--tenant", "ACME")
    assert res.exit_code == 2 and "has no tenant column" in res.output


# ---------------------------------------------------------------- the example's synthetic export
@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    tmp = tmp_path_factory.mktemp("example")
    root = tmp / "kb"
    for part in ("content", "known_errors", "templates"):
        shutil.copytree(REPO / part, root / part)
    import_example_export(root, tmp)
    return root, tmp / "example-export.csv"


def example_history(export: Path, tenant: str | None = None) -> dict[str, list[dict[str, str]]]:
    by: dict[str, list[tuple[int, dict[str, str]]]] = defaultdict(list)
    with open(export, encoding="utf-8", newline="") as fh:
        for i, row in enumerate(csv.DictReader(fh)):
            by[row["number"]].append((i, row))
    out = {
        n: [r for _, r in sorted(rs, key=lambda ir: (when(ir[1]["sys_updated_at"]), int(ir[1]["sys_mod_count"]), ir[0]))]
        for n, rs in by.items()
    }  # type: ignore[arg-type]
    return {n: rows for n, rows in out.items() if tenant is None or rows[-1]["company"] == tenant}


@pytest.mark.parametrize(
    ("args", "tenant"),
    [(("--period", "2026-10"), None), (("--period", "2026-08", "--tenant", "ACME"), "ACME"), (("--week", "2026-W40"), None),
     (("--week", "2026-W41", "--tenant", "GLOBEX"), "GLOBEX")],
)  # fmt: skip
def test_example_export_desk_kpis_equal_a_plain_count(example: tuple[Path, Path], args: tuple[str, ...], tenant: str | None) -> None:
    root, export = example
    expected = expected_desk(example_history(export, tenant), args[1], rating="u_satisfaction")
    values = figures(root, *args)
    assert_equal(got(values, expected), expected)
    assert all(v is not None for v in expected.values()), expected  # the example measures every one of them
    stored = load(root)[0]
    if tenant:
        assert (root / "content" / "kpi" / "tenants" / tenant).is_dir()
        assert any(s.tenant == tenant and s.period == args[1] for s in stored.kpi_tenants)


def test_example_tenants_add_up_to_the_desk(example: tuple[Path, Path]) -> None:
    root, _ = example
    desk = figures(root, "--period", "2026-09")
    per = [figures(root, "--period", "2026-09", "--tenant", t) for t in ("ACME", "GLOBEX", "INITECH")]
    for kid in ("ticket_volume", "tickets_resolved", "backlog"):
        assert sum(v[kid].value for v in per) == desk[kid].value  # type: ignore[misc]
    for kid in ("first_contact_resolution", "csat", "kb_assisted_resolution"):
        assert sum(v[kid].numerator for v in per) == desk[kid].numerator  # type: ignore[misc]
        assert sum(v[kid].denominator for v in per) == desk[kid].denominator  # type: ignore[misc]


def test_audit_of_one_tenant_counts_its_open_tickets(example: tuple[Path, Path]) -> None:
    root, export = example
    moment = datetime(2026, 10, 27)
    hist = example_history(export, "INITECH")
    still_open = 0
    for rows in hist.values():
        if when(rows[-1]["opened_at"]) >= moment:  # type: ignore[operator]
            continue
        before = [r for r in rows if when(r["sys_updated_at"]) < moment]  # type: ignore[operator]
        if before:  # its state then: its last row before the moment
            still_open += before[-1]["incident_state"] not in (*DONE, "Canceled")
        else:  # logged, but no row yet: open unless resolved before the moment
            still_open += (d := done_at(rows)) is None or d >= moment
    res = kedb("--root", str(root), "tickets", "audit", "--as-of", "2026-10-26", "--tenant", "INITECH")
    assert res.exit_code == 0, res.output
    assert res.stdout.startswith(f"tenant INITECH (Initech Insurance): {len(hist):,} tickets whose 'company' names it")
    line = next(ln for ln in res.stdout.splitlines() if ln.strip().startswith("Open tickets "))
    assert line.split()[2] == str(still_open), line
    whole = kedb("--root", str(root), "tickets", "audit", "--as-of", "2026-10-26")
    assert next(ln for ln in whole.stdout.splitlines() if ln.strip().startswith("Open tickets ")) != line
    refused = kedb("--root", str(root), "tickets", "audit", "--tenant", "INITECH", "--write")
    assert refused.exit_code == 2 and "--tenant prints only" in refused.output
    assert not (root / "content" / "audits" / "tenants").exists()


def test_a_tenant_edition_shows_only_its_own_snapshots() -> None:
    kb, _ = load(REPO)
    assert kb.kpi_snapshots and all(s.tenant is None and not s.weekly for s in kb.kpi_snapshots)
    assert kb.kpi_weeks and all(s.tenant is None and s.weekly for s in kb.kpi_weeks)
    assert {s.tenant for s in kb.kpi_tenants} == {"ACME", "GLOBEX", "INITECH"}
    for audience in ("internal", "public"):
        ed = select(kb, audience, "GLOBEX")
        assert [s.period for s in ed.kpi_snapshots] == ["2026-08", "2026-09", "2026-10"]
        assert {s.tenant for s in (*ed.kpi_snapshots, *ed.kpi_tenants)} == {"GLOBEX"} and ed.kpi_weeks == ()
        globex = next(s for s in kb.kpi_tenants if s.tenant == "GLOBEX" and s.period == "2026-10")
        assert ed.kpi_snapshots[-1].value("ticket_volume") == globex.value("ticket_volume")
        assert ed.kpi_snapshots[-1].value("ticket_volume") != kb.kpi_snapshots[-1].value("ticket_volume")
    internal, public = select(kb, "internal", None), select(kb, "public", None)
    assert [s.period for s in internal.kpi_snapshots] == ["2026-08", "2026-09", "2026-10"] and len(internal.kpi_tenants) == 9
    assert [s.tenant for s in internal.kpi_snapshots] == [None] * 3 and len(internal.kpi_weeks) == 9
    assert public.kpi_tenants == () and [s.tenant for s in public.kpi_snapshots] == [None] * 3
    assert for_edition((), (), kb.kpi_tenants, "internal", "NOBODY") == ((), (), ())  # none of its own: nothing, never the desk's


# ---------------------------------------------------------------- small exports counted by hand
HEADER = ["id", "opened_at", "status", "priority", "company", "resolved_at", "reassignment_count", "reopen_count"]
HEADER += ["knowledge", "satisfaction"]


def imported(root: Path, path: Path, *extra: str) -> str:
    res = kedb("--root", str(root), "tickets", "import", str(path), "--source", "csv", *extra)
    assert res.exit_code == 0, res.output
    return res.output


def test_resolution_times_per_priority_by_hand(make_kb: MakeKB, tmp_path: Path) -> None:
    root = make_kb()
    rows = [  # P1 in 60, 120, 180 and 600 minutes; one P3 in 90; one without a priority; P2 none
        ["T1", "2026-03-02 08:00", "resolved", "P1", "Acme", "2026-03-02 09:00", "0", "0", "true", "5"],
        ["T2", "2026-03-03 08:00", "resolved", "p1", "Acme", "2026-03-03 10:00", "1", "0", "false", "4"],
        ["T3", "2026-03-04 08:00", "resolved", "P1", "Acme", "2026-03-04 11:00", "0", "1", "false", "2"],
        ["T4", "2026-03-05 08:00", "resolved", "P1", "Acme", "2026-03-05 18:00", "0", "0", "", ""],
        ["T5", "2026-03-06 08:00", "resolved", "P3", "Acme", "2026-03-06 09:30", "0", "0", "true", ""],
        ["T6", "2026-03-06 08:00", "resolved", "", "Acme", "2026-03-06 09:00", "0", "0", "true", "3"],
        ["T7", "2026-03-06 08:00", "cancelled", "P1", "Acme", "2026-03-06 08:05", "0", "0", "true", "1"],
    ]
    imported(root, write_csv(tmp_path / "t.csv", HEADER, rows))
    v = figures(root, "--period", "2026-03")
    assert got(v, ["resolution_time_median_p1", "resolution_time_p90_p1"]) == {
        "resolution_time_median_p1": 2.5,  # (120 + 180) / 2 minutes
        "resolution_time_p90_p1": 7.9,  # 180 + 0.7 × (600 − 180) = 474 minutes
    }
    assert (v["resolution_time_median_p3"].value, v["resolution_time_p90_p3"].value) == (1.5, 1.5)
    assert v["resolution_time_median_p1"].denominator == 4 and "1 ticket resolved without a priority P1–P3 left out" in (
        v["resolution_time_median_p1"].basis
    )
    p2 = v["resolution_time_median_p2"]
    assert p2.value is None and "n/a: nothing to count in 2026-03." in p2.basis
    # first contact: T1, T4, T5, T6 of the six resolved (T7 is cancelled); CSAT: 5 and 4 of 5, 4, 2, 3
    assert (v["first_contact_resolution"].numerator, v["first_contact_resolution"].denominator) == (4, 6)
    assert (v["csat"].value, v["csat"].numerator, v["csat"].denominator) == (50.0, 2, 4)
    assert "2 tickets not rated left out" in v["csat"].basis
    assert (v["kb_assisted_resolution"].numerator, v["kb_assisted_resolution"].denominator) == (3, 5)


def test_tenants_match_by_id_or_name_and_a_map_adds_spellings(make_kb: MakeKB, tmp_path: Path) -> None:
    root = make_kb()  # content/kedb.yml: tenant ACME, named "Acme"
    row = ["2026-03-02 08:00", "resolved", "P3", "", "2026-03-02 09:00", "0", "0", "", ""]
    names = ["ACME", "acme", " Acme. ", "Ácme", "Acme Corp Ltd", "Globex", "?"]
    rows = [[f"T{i}", *row[:3], name, *row[4:]] for i, name in enumerate(names)]
    out = imported(root, write_csv(tmp_path / "t.csv", HEADER, rows))
    assert "tenant ← company" in out
    assert "tickets per tenant of content/kedb.yml (kedb kpi --tenant): ACME 4; 2 name no tenant by its id or name" in " ".join(out.split())
    assert "1 have no tenant value" in out
    assert figures(root, "--period", "2026-03", "--tenant", "ACME")["ticket_volume"].value == 4
    assert (root / "content" / "kpi" / "tenants" / "ACME" / "2026-03.yml").is_file()
    mapping = tmp_path / "map.yml"
    mapping.write_text('extends: csv\nfields:\n  tenant: {columns: [company], values: {"acme corp ltd": ACME}}\n', encoding="utf-8")
    out = imported(root, tmp_path / "t.csv", "--map", str(mapping))
    assert "ACME 5; 1 name no tenant" in " ".join(out.split())
    snap = figures(root, "--period", "2026-03", "--tenant", "ACME")
    assert snap["ticket_volume"].value == 5 and snap["tickets_resolved"].value == 5
    wrong_case = kedb("--root", str(root), "kpi", "--period", "2026-03", "--tenant", "acme")
    assert wrong_case.exit_code == 2 and "did you mean 'ACME'? tenant ids are case-sensitive" in wrong_case.output
    unknown = kedb("--root", str(root), "kpi", "--period", "2026-03", "--tenant", "GLOBEX")
    assert unknown.exit_code == 2 and "the tenants in content/kedb.yml are: ACME" in unknown.output


def test_a_misspelt_header_is_named_and_its_figure_is_na(make_kb: MakeKB, tmp_path: Path) -> None:
    root = make_kb()
    header = ["id", "opened_at", "status", "priority", "compnay", "resolved_at", "reassignment_count", "reopen_count"]
    header += ["knowlege", "Satisfacton"]
    rows = [["T1", "2026-03-02 08:00", "resolved", "P1", "ACME", "2026-03-02 09:00", "0", "0", "true", "5"]]
    out = " ".join(imported(root, write_csv(tmp_path / "t.csv", header, rows)).split())
    for field, near in (("tenant", "compnay"), ("knowledge", "knowlege"), ("satisfaction", "Satisfacton")):
        assert f"{field}: not found" in out and f"did you mean `{near}`?" in out, field
    assert "csat (KPI): needs satisfaction" in out and "kb_assisted_resolution (KPI): needs knowledge" in out
    v = figures(root, "--period", "2026-03")
    assert v["csat"].value is None and v["csat"].basis.split(". ", 1)[-1].startswith("n/a: the export has no satisfaction.")
    assert v["kb_assisted_resolution"].value is None and v["kb_assisted_resolution"].basis.split(". ", 1)[-1].startswith(
        "n/a: the export has no knowledge."
    )
    assert v["first_contact_resolution"].value == 100.0
    res = kedb("--root", str(root), "kpi", "--period", "2026-03", "--tenant", "ACME")
    assert res.exit_code == 2 and "no tenant column" in res.output


@pytest.mark.parametrize(
    ("cell", "problem"),
    [("great", "'great' is not a rating from 1 to 5"), ("0", "'0' is not a rating from 1 to 5"), ("7", "'7' is not a rating")],
)
def test_text_or_an_other_scale_in_the_rating_column_stops_the_import(make_kb: MakeKB, tmp_path: Path, cell: str, problem: str) -> None:
    root = make_kb()
    rows = [
        ["T1", "2026-03-02 08:00", "resolved", "P1", "ACME", "2026-03-02 09:00", "0", "0", "true", "4"],
        ["T2", "2026-03-02 08:00", "resolved", "P1", "ACME", "2026-03-02 09:00", "0", "0", "true", cell],
    ]
    res = kedb("--root", str(root), "tickets", "import", str(write_csv(tmp_path / "t.csv", HEADER, rows)), "--source", "csv")
    assert res.exit_code == 1 and "Traceback" not in res.output
    assert f"t.csv: row 3: satisfaction (column 'satisfaction'): {problem}" in res.output
    assert "`values:`" in res.output and "nothing was imported" in res.output
    assert not (root / ".kedb" / "tickets.duckdb").exists()


def test_zendesk_ratings_good_and_bad_offered_is_not_rated(make_kb: MakeKB, tmp_path: Path) -> None:
    root = make_kb()
    header = ["Id", "Created at", "Status", "Priority", "Organization", "Solved at", "Satisfaction Score"]
    rows = [
        ["1", "2026-03-02T08:00:00Z", "solved", "urgent", "Acme", "2026-03-02T09:00:00Z", "Good"],
        ["2", "2026-03-02T08:00:00Z", "closed", "normal", "Acme", "2026-03-02T10:00:00Z", "good"],
        ["3", "2026-03-02T08:00:00Z", "solved", "high", "Acme", "2026-03-02T11:00:00Z", "Bad"],
        ["4", "2026-03-02T08:00:00Z", "solved", "low", "Acme", "2026-03-02T12:00:00Z", "Offered"],
        ["5", "2026-03-02T08:00:00Z", "solved", "low", "Acme", "2026-03-02T12:00:00Z", "Not Offered"],
    ]
    res = kedb("--root", str(root), "tickets", "import", str(write_csv(tmp_path / "z.csv", header, rows)), "--source", "zendesk")
    assert res.exit_code == 0, res.output
    assert "satisfaction ← Satisfaction Score" in res.output and "ACME 5" in res.output
    v = figures(root, "--period", "2026-03", "--tenant", "ACME")
    assert (v["csat"].value, v["csat"].numerator, v["csat"].denominator) == (66.67, 2, 3)
    assert v["kb_assisted_resolution"].basis.split(". ", 1)[-1].startswith("n/a: the export has no knowledge.")


def test_weeks_are_iso_weeks_stored_apart_and_checked(make_kb: MakeKB, tmp_path: Path) -> None:
    root = make_kb()
    row = ["resolved", "P3", "ACME", "", "0", "0", "true", "5"]
    opened = ["2026-03-01 23:59", "2026-03-02 00:00", "2026-03-08 23:59", "2026-03-09 00:00"]  # Sun W09, Mon W10, Sun W10, Mon W11
    rows = [[f"T{i}", o, *row[:3], o, *row[4:]] for i, o in enumerate(opened)]
    imported(root, write_csv(tmp_path / "t.csv", HEADER, rows))
    v = figures(root, "--week", "2026-W10")
    assert (v["ticket_volume"].value, v["tickets_resolved"].value) == (2, 2)
    assert "in week 2026-W10" in v["ticket_volume"].basis
    stored = root / "content" / "kpi" / "weeks" / "2026-W10.yml"
    assert stored.read_text(encoding="utf-8").startswith("# Written by `kedb kpi --week 2026-W10 --write`")
    assert figures(root, "--week", "2026-W53")["ticket_volume"].value == 0  # 2026 has a week 53 (Thursday 31 December)
    shutil.copy(stored, root / "content" / "kpi" / "2026-W10.yml")
    check = kedb("--root", str(root), "check")
    assert check.exit_code == 1
    assert "content/kpi/2026-W10.yml:3: KE705" in check.output and "move it to content/kpi/weeks/2026-W10.yml" in check.output
    (root / "content" / "kpi" / "2026-W10.yml").unlink()
    for args, message in (
        (("--week", "2027-W53"), "'2027-W53' is not a week of 2027"),
        (("--week", "2026-W00"), "is not a week of 2026"),
        (("--week", "2026-10"), "'2026-10' is not an ISO week"),
        (("--period", "2026-W10"), "'2026-W10' is an ISO week: give it as --week 2026-W10"),
        (("--period", "2026-13"), "'2026-13' is not a month or an ISO week"),
        (("--period", "2026-03", "--week", "2026-W10"), "give one period"),
        ((), "give one period"),
    ):
        res = kedb("--root", str(root), "kpi", *args)
        assert res.exit_code == 2 and message in res.output and "Traceback" not in res.output, (args, res.output)
