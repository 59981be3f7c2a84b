"""One way to write a value: the presentation rules of kedb.core.present, and the same KPI read
through every output that shows it (the site's KPI page, the executive deck, the proof brief)."""

from __future__ import annotations

import re
import shutil
from datetime import date, datetime

import pytest

from kbtest import AS_OF, FIXTURES, copy_kb, git
from kedb.core import present

WHEN = "2026-11-02T09:30:00+00:00"


@pytest.mark.parametrize(
    ("value", "unit", "expected"),
    [
        (10.333, "days", "10.3 days"),
        (1, "days", "1 day"),
        (1.0, "days", "1 day"),
        (2, "days", "2 days"),
        (87.5, "percent", "87.5 %"),
        (20.04, "percent", "20 %"),
        (4, "hours", "4 h"),
        (15, "minutes", "15 min"),
        (12345, "count", "12,345"),
        (-0.01, "count", "0"),
        (None, "days", "—"),
    ],
)
def test_quantity(value: float | None, unit: str, expected: str) -> None:
    assert present.quantity(value, unit) == expected


def test_changes_shares_dates_and_direction() -> None:
    assert present.change(2.5, "percent") == "+2.5 pp"
    assert present.change(-3, "days") == "-3 days"
    assert present.change(0, "count") == "0"
    assert present.change(None, "count", none="n/a") == "n/a"
    assert present.quantity(85.714, "percent", decimals=2) == "85.71 %"
    assert present.share(0.874) == "87 %" and present.share(None) == ""
    assert present.days(1) == "1 day" and present.days(30) == "30 days"
    assert present.day(date(2026, 3, 9)) == "2026-03-09" and present.day(datetime(2026, 3, 9, 23, 0)) == "2026-03-09"
    assert present.count(1, "known error") == "1 known error" and present.count(1200, "ticket") == "1,200 tickets"
    assert present.better(True) == "lower is better" and present.better_word(False) == "higher"


KPIS = """\
checkpoints: {baseline: 2026-08, week4: 2026-09-28, week8: 2026-10-26}
kpis:
"""
ROW = """\
  - id: {id}
    name: {name}
    definition: The {id} of the desk.
    formula: numerator / denominator
    unit: {unit}
    direction: lower-is-better
    baseline: {baseline}
    target: {{max: {target}}}
    source: tickets
"""


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The text of the KPI page, the deck and the proof brief of one small KB."""
    from dataclasses import replace

    from kedb.build import context
    from kedb.core.program import KPI_IDS
    from kedb.renderers import get
    from kedb.site.render import render
    from test_artefacts_golden import dump_pdf, dump_pptx

    base = tmp_path_factory.mktemp("present")
    root = copy_kb(FIXTURES / "base", base / "kb")
    rows = {
        "mean_time_to_root_cause": ("Time to root cause", "days", 10.333, 7.5),
        "repeat_ticket_rate": ("Repeat rate", "percent", 12.345, 10),
    }
    text = KPIS
    for kid in KPI_IDS:
        name, unit, baseline, target = rows.get(kid, (kid, "count", 20, 10))
        text += ROW.format(id=kid, name=name, unit=unit, baseline=baseline, target=target)
    (root / "content" / "kpis.yml").write_text(text, encoding="utf-8")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "KB", env={"GIT_AUTHOR_DATE": WHEN, "GIT_COMMITTER_DATE": WHEN})
    ctx = context.make(root, as_of=date.fromisoformat(AS_OF))
    out = base / "out"
    site = render(replace(ctx, downloads_dir=None), base / "site")
    kpi_page = (site / "kpis" / "index.html").read_text(encoding="utf-8")
    kpi_page = re.sub(r"<[^>]+>", " ", kpi_page.split("<article", 1)[1].split("</article>", 1)[0])
    shutil.rmtree(base / "site")
    return {
        "site": kpi_page,
        "pptx": dump_pptx(get("pptx")(ctx, out)),
        "pdf": dump_pdf(get("pdf")(ctx, out)),
    }


@pytest.mark.parametrize("output", ["site", "pptx", "pdf"])
@pytest.mark.parametrize("shown", ["10.3 days", "≤ 7.5 days", "12.3 %", "≤ 10 %"])
def test_a_kpi_reads_the_same_in_every_output(outputs: dict[str, str], output: str, shown: str) -> None:
    """Baselines and targets of a duration KPI and a percentage KPI, written the one way."""
    assert shown in outputs[output], f"{shown!r} is not in the {output} output"
    assert "10.33" not in outputs[output] and "12.35" not in outputs[output]
