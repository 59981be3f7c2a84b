"""The KPI page's weekly movement (issue #20, item 10): with weekly snapshots in
``content/kpi/weeks/`` the page shows each KPI's latest weeks with the change from the week
before, judged by the KPI's direction, and each week's standing from :mod:`kedb.core.standing`;
without a weekly snapshot the section is not there.

The fixture KB's KPIs are lower-is-better with a baseline of 20 and an absolute target of at most
10, due on the week-8 checkpoint (2026-10-26): a week ending before it and above 10 is at risk,
one ending after it is missed.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from conftest import MakeKB
from kbtest import AS_OF
from kedb.build import context
from kedb.site import kpis, pages, urls

WEEK = """period: "{period}"
window_days: 30
source: {{system: csv, tickets: 400}}
values:
{values}"""
VALUE = """  - id: {id}
    value: {value}
    unit: percent
    basis: {id} in week {period}
"""
# week: (repeat_ticket_rate, reopen_rate, sla_breach_rate); 2026-W42 is not stored
WEEKS = {
    "2026-W40": (12, 18, None),
    "2026-W41": (9.5, 18.01, None),
    "2026-W43": (11, None, None),
    "2026-W44": (12.5, None, None),
}


def _week(period: str, figures: dict[str, float | None]) -> str:
    body = "".join(VALUE.format(id=k, value="null" if v is None else v, period=period) for k, v in figures.items())
    return WEEK.format(period=period, values=body)


def _files(weeks: dict[str, tuple[float | None, ...]]) -> dict[str, str]:
    ids = ("repeat_ticket_rate", "reopen_rate", "sla_breach_rate")
    return {f"content/kpi/weeks/{p}.yml": _week(p, dict(zip(ids, v, strict=True))) for p, v in weeks.items()}


def _page(root: Path) -> str:
    ctx = context.make(root, as_of=date.fromisoformat(AS_OF))
    built = pages.build(ctx, pages.Options())
    page = next(p for p in built.pages if p.src == urls.KPIS)
    return page.html


def _rows(html: str, kpi_id: str) -> list[list[str]]:
    """The cells (tags removed) of the weekly table of one KPI."""
    section = html.split(f'id="{kpi_id}-weekly"', 1)[1].split("<h3", 1)[0].split("<h2", 1)[0]
    table = section.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [[re.sub(r"<[^>]+>", "", cell) for cell in re.findall(r"<td>(.*?)</td>", row)] for row in re.findall(r"<tr>(.*?)</tr>", table)]


def test_weekly_movement_shows_values_changes_and_standings(make_kb: MakeKB) -> None:
    html = _page(make_kb(_files(WEEKS)))
    assert 'id="weekly-movement"' in html
    assert "from 4 weekly snapshots in <code>content/kpi/weeks/</code> (2026-W40 to 2026-W44)" in html
    assert _rows(html, "repeat_ticket_rate") == [
        ["2026-W40", "12 %", "—", "! at risk"],  # no 2026-W39 to compare with
        ["2026-W41", "9.5 %", "-2.5 pp (better)", "✓ on track"],
        ["2026-W43", "11 %", "—", "! at risk"],  # 2026-W42 is not stored: no change is made up across the gap
        ["2026-W44", "12.5 %", "+1.5 pp (worse)", "✗ missed"],  # ends 2026-11-01, after the target's deadline
    ]
    # a figure that reads the same at the precision shown has not moved; a week without a figure is not measured
    assert _rows(html, "reopen_rate") == [
        ["2026-W40", "18 %", "—", "! at risk"],
        ["2026-W41", "18 %", "no change", "! at risk"],
        ["2026-W43", "—", "—", "not measured"],
        ["2026-W44", "—", "—", "not measured"],
    ]
    assert 'kedb-mark kedb-mark--off">✗ missed' in html
    assert 'id="sla_breach_rate-weekly"' not in html  # stored, but never with a figure
    assert 'id="first_response_time-weekly"' not in html  # in no weekly snapshot
    assert "by week</title>" not in html  # tables only: the monthly charts draw the trend


def test_no_weekly_snapshot_no_weekly_section(make_kb: MakeKB) -> None:
    html = _page(make_kb())
    assert "Weekly movement" not in html and "-weekly" not in html


def test_the_latest_eight_weeks_are_shown(make_kb: MakeKB) -> None:
    weeks = {f"2026-W{n:02d}": (10.0 + n / 10, None, None) for n in range(30, 40)}
    ctx = context.make(make_kb(_files(weeks)), as_of=date.fromisoformat(AS_OF))
    view = kpis.weekly_view(ctx)
    assert view is not None and (view.first, view.last, view.stored) == ("2026-W30", "2026-W39", 10)
    (only,) = view.kpis
    assert [r.period for r in only.weeks] == [f"2026-W{n}" for n in range(32, 40)]
    assert only.weeks[0].change == "+0.1 pp (worse)"  # from 2026-W31, stored though not shown


def test_kpi_names_stay_text_in_the_weekly_section(make_kb: MakeKB) -> None:
    text = (Path(__file__).parent / "fixtures" / "base" / "content" / "kpis.yml").read_text(encoding="utf-8")
    hostile = text.replace("name: repeat_ticket_rate", 'name: "Repeat <script>alert(1)</script>"', 1)
    html = _page(make_kb({**_files(WEEKS), "content/kpis.yml": hostile}))
    section = html.split('id="weekly-movement"', 1)[1]
    assert "<script>alert" not in section and "Repeat &lt;script&gt;alert(1)&lt;/script&gt; by week" in section


def test_week_before_crosses_the_year() -> None:
    assert kpis.week_before("2026-W01") == "2025-W52"
    assert kpis.week_before("2021-W01") == "2020-W53"
