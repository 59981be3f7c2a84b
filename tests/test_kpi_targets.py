"""KPI targets, absolute or relative to the baseline, and where a KPI stands (issue #20, item 1),
volume and backlog beside the KPIs, and the control frameworks every mapping names (item 8).

One rule (:mod:`kedb.core.standing`) judges each KPI on track, at risk or missed; the tests below
pin the rule down case by case, then build one small KB with a KPI in each state and read the
standing back from every output that shows it: the KPI page, the deck, the proof brief, the
register (its formulas as LibreOffice computes them) and the lines of ``kedb kpi``. ``kedb
check`` must refuse targets that cannot be judged, with a rule code and the line.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import replace
from datetime import date
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from conftest import MakeKB
from kbtest import AS_OF, kedb, require_tool
from kedb.build import context, facts
from kedb.core import standing
from kedb.core.program import Checkpoints, Kpi, KpisFile
from kedb.core.snapshots import KpiSnapshot

CP = Checkpoints(baseline="2026-08", week4=date(2026, 9, 28), week8=date(2026, 10, 26))


def kpi(target: dict, direction: str = "lower-is-better", baseline: float | None = 20.0, unit: str = "percent") -> Kpi:
    return Kpi.model_validate({
        "id": "repeat_ticket_rate", "name": "Repeat ticket rate", "definition": "Repeats.", "formula": "a / b", "unit": unit,
        "direction": direction, "baseline": baseline, "target": target, "source": "tickets",
    })  # fmt: skip


RELATIVE = {"improve": {"min_percent": 10, "max_percent": 25, "within_days": 60}}


# ---------------------------------------------------------------- the rule
@pytest.mark.parametrize(
    ("target", "direction", "baseline", "value", "period", "word"),
    [
        # relative, lower is better: 10-25 % below a baseline of 20, due 2026-10-30
        (RELATIVE, "lower-is-better", 20, 18, "2026-09", "on track"),  # exactly 10 % better
        (RELATIVE, "lower-is-better", 20, 12, "2026-10", "on track"),  # 40 %: beyond the range is still on track
        (RELATIVE, "lower-is-better", 20, 18.5, "2026-09", "at risk"),  # better, short, time left
        (RELATIVE, "lower-is-better", 20, 22, "2026-09", "at risk"),  # worse, time left
        (RELATIVE, "lower-is-better", 20, 18.5, "2026-10", "missed"),  # the month holding the deadline ends after it
        (RELATIVE, "lower-is-better", 20, 22, "2026-11", "missed"),
        (RELATIVE, "lower-is-better", 20.04, 20.04 * 0.9, "2026-10", "on track"),  # 10 % in floating point
        # relative, higher is better
        (RELATIVE, "higher-is-better", 50, 55, "2026-10", "on track"),
        (RELATIVE, "higher-is-better", 50, 54, "2026-09", "at risk"),
        (RELATIVE, "higher-is-better", 50, 45, "2026-10", "missed"),
        # a relative target needs a baseline that is not zero
        (RELATIVE, "lower-is-better", None, 10, "2026-10", "not measured"),
        (RELATIVE, "lower-is-better", 0, 0, "2026-10", "not measured"),
        # absolute, due by the week-8 checkpoint (2026-10-26)
        ({"max": 12}, "lower-is-better", 20, 12, "2026-09", "on track"),  # inclusive
        ({"max": 12}, "lower-is-better", 20, 12.5, "2026-09", "at risk"),
        ({"max": 12}, "lower-is-better", 20, 12.5, "2026-10", "missed"),
        ({"min": 80, "max": 95}, "higher-is-better", 70, 97, "2026-10", "missed"),  # an absolute range is a limit
        ({"min": 85}, "higher-is-better", None, 90, "2026-10", "on track"),  # no baseline needed
        # nothing to judge
        (RELATIVE, "lower-is-better", 20, None, "2026-10", "not measured"),
        ({}, "lower-is-better", 20, 10, "2026-10", "no target"),
    ],
)
def test_where_a_kpi_stands(target: dict, direction: str, baseline: float | None, value: float | None, period: str, word: str) -> None:
    k = kpi(target, direction, baseline)
    assert standing.judge(k, CP, baseline, value, period).word == word


def test_deadlines_count_from_the_end_of_the_baseline_month() -> None:
    assert standing.due(kpi(RELATIVE), CP) == date(2026, 10, 30)
    assert standing.due(kpi({"max": 1}), CP) == CP.week8
    assert standing.due(kpi({}), CP) is None
    leap = CP.model_copy(update={"baseline": "2028-02"})
    assert standing.period_end("2028-02") == date(2028, 2, 29) and standing.due(kpi(RELATIVE), leap) == date(2028, 4, 29)
    # a deadline after the month's end: the month's figure is still before it
    late = kpi({"improve": {"min_percent": 10, "within_days": 62}})  # 2026-11-01
    assert standing.judge(late, CP, 20, 19, "2026-10").word == "at risk"
    assert standing.judge(late, CP, 20, 19, "2026-11").word == "missed"
    # a weekly figure (kedb kpi --week) is judged as of its Sunday
    assert standing.period_end("2026-W43") == date(2026, 10, 25)
    assert standing.judge(kpi(RELATIVE), CP, 20, 19, "2026-W43").word == "at risk"  # ends 2026-10-25, before 2026-10-30
    assert standing.judge(kpi(RELATIVE), CP, 20, 19, "2026-W44").word == "missed"  # ends 2026-11-01


def test_a_relative_target_reads_as_values_and_words() -> None:
    low, high = standing.band(kpi(RELATIVE), 20)
    assert (round(low, 6), round(high, 6)) == (15, 18)  # 25 % and 10 % lower
    low, high = standing.band(kpi(RELATIVE, "higher-is-better"), 50)
    assert (round(low, 6), round(high, 6)) == (55, 62.5)
    assert standing.band(kpi({"improve": {"min_percent": 20, "within_days": 60}}), 10) == (None, 8.0)  # no top of ambition
    assert standing.threshold(kpi(RELATIVE), 20) == pytest.approx(18) and standing.threshold(kpi({"min": 85}, "higher-is-better"), 1) == 85
    assert standing.band(kpi(RELATIVE), None) == (None, None)
    assert standing.target_text(kpi(RELATIVE), CP) == "10 – 25 % lower by 2026-10-30"
    assert (
        standing.target_text(kpi({"improve": {"min_percent": 5, "within_days": 30}}, "higher-is-better"), CP)
        == "≥ 5 % higher by 2026-09-30"
    )
    assert standing.target_text(kpi({"min": 80, "max": 95}), CP) == "80 % – 95 % by 2026-10-26"
    assert standing.target_text(kpi({"max": 12}), None) == "≤ 12 %" and standing.target_text(kpi({}), CP) == "no target set"
    assert standing.summary(["missed", "on track", "on track", "not measured"]) == "2 on track, 1 missed, 1 not measured"


def test_old_absolute_targets_still_read() -> None:
    """A kpis.yml from before relative targets loads unchanged."""
    text = (Path(__file__).parent / "fixtures" / "base" / "content" / "kpis.yml").read_text(encoding="utf-8")
    f = KpisFile.model_validate(yaml.safe_load(text))
    assert all(k.target.absolute and not k.target.relative for k in f.kpis)


# ---------------------------------------------------------------- kedb check refuses what cannot be judged
def _kpis_with(target: str, baseline: str = "baseline: 20") -> str:
    text = (Path(__file__).parent / "fixtures" / "base" / "content" / "kpis.yml").read_text(encoding="utf-8")
    first = text.index("    baseline: 20\n    target: {max: 10}\n")
    return text[:first] + f"    {baseline}\n    target: {target}\n" + text[first + len("    baseline: 20\n    target: {max: 10}\n") :]


SNAP_NO_FIGURE = """period: "2026-08"
window_days: 30
source: {system: csv, tickets: 10}
values:
  - id: repeat_ticket_rate
    value: null
    unit: percent
    basis: "n/a: no incident resolved in 2026-08"
"""


@pytest.mark.parametrize(
    ("target", "baseline", "snapshot", "code", "words"),
    [
        ("{min: 12, max: 5}", "baseline: 20", False, "KE106", "target min 12 is above max 5"),
        ("{max: 12, improve: {min_percent: 10, within_days: 60}}", "baseline: 20", False, "KE106", "both absolute (min/max) and relative"),
        (
            "{improve: {min_percent: 30, max_percent: 20, within_days: 60}}",
            "baseline: 20",
            False,
            "KE106",
            "min_percent 30 is above max_percent 20",
        ),
        ("{improve: {min_percent: -5, within_days: 60}}", "baseline: 20", False, "KE106", "it must be at least 0"),
        ("{improve: {min_percent: 10, within_days: 0}}", "baseline: 20", False, "KE106", "it must be at least 1"),
        ("{improve: {min_percent: 120, within_days: 60}}", "baseline: 20", False, "KE106", "below zero"),
        ("{improve: {min_percent: 10, within_days: 60}}", "baseline: 0", False, "KE704", "its baseline is 0"),
        ("{improve: {min_percent: 10, within_days: 60}}", "owner: null", True, "KE704", "no baseline: content/kpis.yml sets none"),
        ("{improve: {min_percent: ten, within_days: 60}}", "baseline: 20", False, "KE104", "must be a number"),
        ("{improve: {min_percent: 10, within_days: 60, by: 2026-10-01}}", "baseline: 20", False, "KE102", "unknown field"),
    ],
)
def test_check_refuses_targets_that_cannot_be_judged(
    make_kb: MakeKB, target: str, baseline: str, snapshot: bool, code: str, words: str
) -> None:
    files = {"content/kpis.yml": _kpis_with(target, baseline)}
    if snapshot:
        files["content/kpi/2026-08.yml"] = SNAP_NO_FIGURE
    root = make_kb(files)
    res = kedb("--root", str(root), "check")
    assert res.exit_code == 1, res.output
    found = [ln for ln in res.output.splitlines() if f" {code} " in ln and words in ln]
    assert found, res.output
    line = int(found[0].split(":")[1])
    assert 6 <= line <= 12, found[0]  # on the first KPI's target, not the file's first line
    assert "Traceback" not in res.output


def test_a_relative_target_waits_for_its_baseline_month(make_kb: MakeKB) -> None:
    """A new KB (``kedb init`` leaves baselines out) passes until the baseline month's snapshot is written."""
    root = make_kb({"content/kpis.yml": _kpis_with("{improve: {min_percent: 10, within_days: 60}}", "owner: null")})
    res = kedb("--root", str(root), "check", "--strict")
    assert res.exit_code == 0, res.output


def test_the_example_passes_with_its_relative_targets(example_kb: Path) -> None:
    res = kedb("--root", str(example_kb), "check", "--strict")
    assert res.exit_code == 0, res.output
    k = yaml.safe_load((example_kb / "content" / "kpis.yml").read_text(encoding="utf-8"))
    relative = {x["id"] for x in k["kpis"] if "improve" in x["target"]}
    assert {"repeat_ticket_rate", "mean_time_to_root_cause", "first_response_time", "sla_breach_rate", "reopen_rate"} <= relative
    mttrc = next(x for x in k["kpis"] if x["id"] == "mean_time_to_root_cause")["target"]["improve"]
    assert (mttrc["min_percent"], mttrc["max_percent"], mttrc["within_days"]) == (20, 40, 60)


def test_the_example_at_week_8(example_kb: Path) -> None:
    """The improvements the issue lists (first response 24 %, SLA breach 34 %, repeat rate 38 %)
    are on track; escalation accuracy misses its absolute floor; fix success (PRB-0002's one
    checked fix, 100 %) meets its floor."""
    ctx = context.make(example_kb, as_of=date.fromisoformat(AS_OF))
    got = {r.kpi.id: (r.latest_period, r.standing, round(r.judgement.gain or 0)) for r in facts.kpi_rows(ctx)}
    assert got["first_response_time"] == ("2026-10", "on track", 24)
    assert got["sla_breach_rate"] == ("2026-10", "on track", 34)
    assert got["repeat_ticket_rate"] == ("2026-10", "on track", 38)
    assert got["escalation_accuracy"][:2] == ("2026-10", "missed")
    assert got["problem_fix_success_rate"][:2] == ("2026-10", "on track")
    program = ("repeat_ticket_rate", "mean_time_to_root_cause", "problem_fix_success_rate", "first_response_time", "sla_breach_rate",
               "reopen_rate", "escalation_accuracy")  # fmt: skip
    assert standing.summary(got[k][1] for k in program) == "6 on track, 1 missed"
    work = facts.repeat_work(ctx)
    assert work is not None and work.target_rate == pytest.approx(20.04 * 0.9)  # the repeat rate that just meets 10 % better


# ---------------------------------------------------------------- every output, one standing
KPIS = """\
checkpoints: {baseline: 2026-08, week4: 2026-09-28, week8: 2026-10-26}
kpis:
"""
ROW = """\
  - id: {id}
    name: {name}
    definition: The {name} of the desk.
    formula: numerator / denominator
    unit: percent
    direction: {direction}
    baseline: {baseline}
    target: {target}
    source: tickets
"""
# id: (name, direction, baseline, target, value in 2026-10, standing)
CASES = {
    "repeat_ticket_rate": (
        "Repeat rate",
        "lower-is-better",
        20,
        "{improve: {min_percent: 10, max_percent: 25, within_days: 60}}",
        12,
        "on track",
    ),
    "first_response_time": ("Answer time", "lower-is-better", 40, "{improve: {min_percent: 20, within_days: 120}}", 35, "at risk"),
    "escalation_accuracy": ("Right first hand-off", "higher-is-better", 60, "{min: 88}", 81, "missed"),
    "reopen_rate": ("Reopens", "lower-is-better", 8, "{max: 4}", None, "not measured"),
}
OTHERS = ("mean_time_to_root_cause", "problem_fix_success_rate", "sla_breach_rate")
SNAPSHOT = """period: "{period}"
window_days: 30
source: {{system: csv, tickets: 4000}}
values:
{values}"""
VALUE = """  - id: {id}
    value: {value}
    unit: {unit}
    basis: {id} in {period}
"""


def _snapshot(period: str, values: dict[str, float | None], volume: tuple[int, int, int]) -> str:
    body = "".join(VALUE.format(id=k, value="null" if v is None else v, unit="percent", period=period) for k, v in values.items())
    body += "".join(
        VALUE.format(id=k, value=v, unit="count", period=period)
        for k, v in zip(("ticket_volume", "tickets_resolved", "backlog"), volume, strict=True)
    )
    return SNAPSHOT.format(period=period, values=body)


@pytest.fixture(scope="module")
def states(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """One KB with a KPI in each state, its site, deck, brief and register."""
    import shutil

    from kedb.renderers import get
    from kedb.site.render import render
    from test_artefacts_golden import dump_pdf, dump_pptx

    base = tmp_path_factory.mktemp("states")
    root = base / "kb"
    shutil.copytree(Path(__file__).parent / "fixtures" / "base", root)
    text = KPIS
    for kid, (name, direction, baseline, target, _, _) in CASES.items():
        text += ROW.format(id=kid, name=name, direction=direction, baseline=baseline, target=target)
    for kid in OTHERS:
        text += ROW.format(id=kid, name=kid, direction="lower-is-better", baseline=20, target="{max: 10}")
    (root / "content" / "kpis.yml").write_text(text, encoding="utf-8")
    kdir = root / "content" / "kpi"
    kdir.mkdir()
    (kdir / "2026-09.yml").write_text(
        _snapshot("2026-09", {k: None if c[4] is None else c[2] for k, c in CASES.items()}, (1900, 1850, 140)), encoding="utf-8"
    )
    (kdir / "2026-10.yml").write_text(_snapshot("2026-10", {k: c[4] for k, c in CASES.items()}, (2100, 2230, 10)), encoding="utf-8")
    ctx = context.make(root, as_of=date.fromisoformat(AS_OF))
    out = base / "out"
    site = render(replace(ctx, downloads_dir=None), base / "site")
    page = (site / "kpis" / "index.html").read_text(encoding="utf-8")
    page = page.split("<article", 1)[1].split("</article>", 1)[0]
    return {
        "root": root,
        "ctx": ctx,
        "site": page,
        "pptx": dump_pptx(get("pptx")(ctx, out)).replace("\u00a0", " "),
        "pdf": dump_pdf(get("pdf")(ctx, out)).replace("\u00a0", " "),
        "xlsx": get("xlsx")(ctx, out),
        "base": base,
    }


def test_facts_judge_each_state(states: dict) -> None:
    got = {r.kpi.id: r.standing for r in facts.kpi_rows(states["ctx"])}
    assert {k: got[k] for k in CASES} == {k: c[5] for k, c in CASES.items()}


def test_the_kpi_page_labels_each_kpi(states: dict) -> None:
    page = states["site"]
    rows = {m.group(1): m.group(0) for m in re.finditer(r'<tr><td><a href="#([a-z_]+)">.*?</tr>', page)}
    for kid, (*_, word) in CASES.items():
        assert f"{word}</span>" in rows[kid] or f"<td>{word}</td>" in rows[kid], rows[kid]
    assert 'kedb-mark--ok">✓ on track' in rows["repeat_ticket_rate"] and "-40 % (better)" in rows["repeat_ticket_rate"]
    assert 'kedb-mark--warn">! at risk' in rows["first_response_time"]
    assert 'kedb-mark--off">✗ missed' in rows["escalation_accuracy"]
    assert '10 – 25 % lower by <span class="kedb-nowrap">2026-10-30</span>' in rows["repeat_ticket_rate"]  # a date is never broken
    assert '≥ 88 % by <span class="kedb-nowrap">2026-10-26</span>' in rows["escalation_accuracy"]
    assert "1 on track, 1 at risk, 1 missed, 4 not measured" in page
    assert "off target" not in page and "on target" not in page
    # volume and backlog: a table and a chart
    vol = page.split('id="volume-and-backlog"', 1)[1]
    assert "<td>2026-10</td><td>2,100</td><td>2,230</td><td>10</td>" in vol and "Backlog at month end" in vol


@pytest.mark.parametrize("output", ["pptx", "pdf"])
def test_the_deck_and_the_brief_label_each_kpi(states: dict, output: str) -> None:
    text = states[output]
    flat = " ".join(text.split())
    for name, *_, word in CASES.values():
        if output == "pptx":
            row = next(ln for ln in text.splitlines() if ln.startswith(f"| {name} |"))
            assert row.endswith(f"| {word} |"), row
        else:
            assert re.search(rf"{re.escape(name)} .*?{word}", flat), (name, word)
    assert "1 on track, 1 at risk, 1 missed, 4 not measured" in flat
    assert "on target" not in flat and "off target" not in flat


def test_the_deck_asks_for_recovery_and_shows_volume(states: dict) -> None:
    deck = states["pptx"]
    assert "Verdict: 1 of 3 measured KPIs on track, 1 missed" in deck
    asks = deck.split("Decisions asked of you", 1)[1]
    assert asks.index("Right first hand-off") < asks.index("Answer time")  # missed before at risk
    assert "Repeat rate" not in asks.split("2 / ", 1)[0]
    slide = deck.split("Ticket volume and backlog by month", 1)[1].split("## slide", 1)[0]
    assert "Tickets opened: [1900.0, 2100.0]" in slide and "Backlog (open at month end): [140.0, 10.0]" in slide
    assert "| 2026-10 | 2,100 | 2,230 | 10 |" in slide
    trend = deck.split("KPI trends: lower is better", 1)[1].split("## slide", 1)[0]
    assert "Target: [18.0, 18.0, 18.0]" in trend  # the relative target as the value that just meets it (20 - 10 %)


def test_the_register_computes_the_same_standing(states: dict, tmp_path: Path) -> None:
    """LibreOffice computes the tracker's formulas; each standing equals the one rule's."""
    from openpyxl import load_workbook

    soffice = require_tool("soffice", "the register's standing formulas as LibreOffice computes them", "libreoffice-calc-nogui")
    subprocess.run([soffice, f"-env:UserInstallation={(tmp_path / 'lo').as_uri()}", "--headless", "--convert-to", "xlsx", "--outdir",
                    str(tmp_path / "calc"), str(states["xlsx"])], check=True, capture_output=True, timeout=300)  # fmt: skip
    wb = load_workbook(tmp_path / "calc" / states["xlsx"].name, data_only=True)
    ws = wb["KPI tracker"]
    head = [c.value for c in ws[1]]
    names = {c[0]: k for k, c in CASES.items()} | {k: k for k in OTHERS}
    computed = {names[r[0]]: r[head.index("Standing")] for r in ws.iter_rows(min_row=2, max_row=8, values_only=True)}
    expected = {r.kpi.id: r.standing for r in facts.kpi_rows(states["ctx"])}
    assert computed == expected
    vol = [r for r in wb["Volume and backlog"].iter_rows(min_row=2, values_only=True)]
    assert vol[-1][:4] == ("2026-10", 2100, 2230, 10)


def test_the_register_follows_a_changed_target(states: dict, tmp_path: Path) -> None:
    """Lower the least improvement of the at-risk KPI below what it reached: LibreOffice then says on track."""
    from openpyxl import load_workbook

    soffice = require_tool("soffice", "the register's standing formulas as LibreOffice computes them", "libreoffice-calc-nogui")
    wb = load_workbook(states["xlsx"])
    ws = wb["KPI tracker"]
    head = [c.value for c in ws[1]]
    row = next(r for r in ws.iter_rows(min_row=2) if r[0].value == "Answer time")
    assert row[head.index("Improve at least % (relative target)")].value == 20
    row[head.index("Improve at least % (relative target)")].value = 12  # it improved by 12.5 %
    edited = tmp_path / "edited.xlsx"
    wb.save(edited)
    subprocess.run([soffice, f"-env:UserInstallation={(tmp_path / 'lo').as_uri()}", "--headless", "--convert-to", "xlsx", "--outdir",
                    str(tmp_path / "calc"), str(edited)], check=True, capture_output=True, timeout=300)  # fmt: skip
    ws = load_workbook(tmp_path / "calc" / "edited.xlsx", data_only=True)["KPI tracker"]
    got = next(r for r in ws.iter_rows(min_row=2, values_only=True) if r[0] == "Answer time")
    assert got[head.index("Standing")] == "on track"


def test_kedb_kpi_lines_judge_by_the_same_rule(states: dict) -> None:
    from kedb.cli.ticketsfmt import kpi_lines

    ctx = states["ctx"]
    snap = next(s for s in ctx.kb.kpi_snapshots if s.period == "2026-10")
    info = SimpleNamespace(tickets=4000, system="csv", first="2026-08-01", last="2026-10-31")
    out = "\n".join(kpi_lines(ctx.kb, snap, info))
    assert "target 10 – 25 % lower by 2026-10-30: on track (-40 % on the baseline); baseline 20 %: better by 8 pp" in out
    assert "target ≥ 20 % lower by 2026-12-29: at risk (-12.5 % on the baseline)" in out
    assert "target ≥ 88 % by 2026-10-26: missed; baseline 60 %: better by 21 pp" in out
    assert "Tickets opened" in out and "Backlog (open at month end)" in out
    # the same figure in a month before its deadline is at risk, not missed
    early = KpiSnapshot.model_validate({**snap.model_dump(), "period": "2026-09"})
    assert "target ≥ 88 % by 2026-10-26: at risk" in "\n".join(kpi_lines(ctx.kb, early, info))


# ---------------------------------------------------------------- hostile input
def test_hostile_target_text_stays_text(make_kb: MakeKB) -> None:
    """A target written as markup is refused by the schema, not rendered."""
    root = make_kb({"content/kpis.yml": _kpis_with("{improve: {min_percent: '<script>', within_days: 60}}")})
    res = kedb("--root", str(root), "check")
    assert res.exit_code == 1 and "KE104" in res.output and "Traceback" not in res.output


def test_a_huge_within_days_is_refused(make_kb: MakeKB) -> None:
    """A deadline beyond any date Python can hold is a finding, not an OverflowError."""
    root = make_kb({"content/kpis.yml": _kpis_with("{improve: {min_percent: 10, within_days: 99999999999}}")})
    res = kedb("--root", str(root), "check")
    assert res.exit_code == 1 and "KE106" in res.output and "Traceback" not in res.output


# ---------------------------------------------------------------- control frameworks
def test_every_framework_mapping_reaches_the_register_and_the_brief(example_kb: Path, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    from kedb.renderers import get
    from test_artefacts_golden import dump_pdf

    ctx = context.make(example_kb, as_of=date.fromisoformat(AS_OF))
    risks = ctx.kb.program.risks
    assert risks is not None
    mappings = [(c.id, m) for r in risks.risks for c in r.controls for m in c.mappings]
    frameworks = {m.framework for _, m in mappings}
    assert {"PSF", "PAI-8", "ITIL 4", "ISO/IEC 20000-1:2018"} <= frameworks
    psf = {m.ref.split()[0] for _, m in mappings if m.framework == "PSF"}
    pai = {m.ref.split()[0] for _, m in mappings if m.framework == "PAI-8"}
    assert psf == {"D2", "D4", "D5", "D6"} and pai == {"C2", "C4", "C5", "C6"}
    wb = load_workbook(get("xlsx")(ctx, tmp_path))
    cells = {r[0]: r[-1] for r in wb["Controls"].iter_rows(min_row=2, values_only=True)}
    listed = {(r[0], r[1], r[2]) for r in wb["Framework mapping"].iter_rows(min_row=2, values_only=True)}
    brief = " ".join(dump_pdf(get("pdf")(ctx, tmp_path)).replace("\u00a0", " ").split())
    for cid, m in mappings:
        assert m.text in cells[cid].split("\n"), (cid, m.text)
        assert (m.framework, m.ref, cid) in listed
        assert m.framework in brief and m.ref in brief, m.text
    assert len(listed) == len({(m.framework, m.ref, cid) for cid, m in mappings})
