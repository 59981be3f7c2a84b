"""The site's SVG charts (kedb.site.charts): round ticks with units, every label inside the view
box (long ones cut, with the whole text in a tooltip), colours people with colour-vision
deficiencies tell apart. The browser test (test_site_pages_browser.py) measures the drawn text
boxes on the example's KPI page; these check the geometry on hostile inputs without a browser."""

from __future__ import annotations

import itertools
import math
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from kedb.site import charts

SVG = "{http://www.w3.org/2000/svg}"
CSS = Path(__file__).resolve().parents[1] / "templates" / "site" / "assets" / "kedb.css"
OKABE_ITO = {"#e69f00", "#56b4e9", "#009e73", "#f0e442", "#0072b2", "#d55e00", "#cc79a7", "#000000"}


def _texts(svg: str) -> tuple[tuple[float, float], list[tuple[float, float, str]]]:
    """The view box's size, and (left, right, text) of every text as wide as charts.text_width says."""
    root = ET.fromstring(svg)
    _, _, w, h = (float(v) for v in root.get("viewBox", "").split())
    out = []
    for t in root.iter(f"{SVG}text"):
        text = "".join(t.itertext()) if t.find(f"{SVG}title") is None else (t.find(f"{SVG}title").tail or "")  # type: ignore[union-attr]
        width = charts.text_width(text)
        x = float(t.get("x", "0"))
        anchor = t.get("text-anchor", "start")
        left = {"start": x, "middle": x - width / 2, "end": x - width}[anchor]
        out.append((left, left + width, text))
        assert 0 <= float(t.get("y", "0")) <= h, text
    return (w, h), out


@pytest.mark.parametrize(
    ("hi", "expected"),
    [
        (23.05 * 1.05, [0, 5, 10, 15, 20, 25]),
        (0.9, [0, 0.2, 0.4, 0.6, 0.8, 1]),
        (1000, [0, 200, 400, 600, 800, 1000]),
        (7, [0, 2, 4, 6, 8]),
    ],
)
def test_ticks_are_round_values_from_zero(hi: float, expected: list[float]) -> None:
    ticks = charts.nice_ticks(hi)
    assert ticks == expected and ticks[-1] >= hi
    step = ticks[1]
    mantissa = step / 10 ** math.floor(math.log10(step))
    assert round(mantissa, 6) in (1, 2, 2.5, 5)


def test_a_trend_labels_its_axis_in_the_kpis_unit_and_keeps_every_label_inside() -> None:
    months = [
        (f"2026-{m:02d}", v) for m, v in zip(range(1, 13), [23.05, 17.28, 19.9, None, 12.5, 11, 9.5, 10, 8.25, 7.5, 6.1, 5.9], strict=True)
    ]
    svg = str(charts.trend(months, "Repeat ticket rate", "percent", baseline=20, target_max=12))
    (w, _), texts = _texts(svg)
    axis = [t for _, _, t in texts if t.endswith(" %")]
    assert axis == ["0 %", "5 %", "10 %", "15 %", "20 %", "25 %"]  # round, with the unit
    assert "2026-12" in [t for _, _, t in texts]  # the latest month is always named
    assert all(left >= 0 and right <= w for left, right, _ in texts), [t for t in texts if t[0] < 0 or t[1] > w]
    months_shown = [(left, right) for left, right, t in texts if t.startswith("2026-")]
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(months_shown))  # month labels never touch


def test_long_service_names_stand_above_their_bars_cut_with_a_tooltip() -> None:
    long = "Line-of-business applications hosted for customers in the private cloud"
    rows = [(long, {"draft": 1, "published": 4}), ("Printing", {"published": 2, "retired": 1})]
    svg = str(charts.stacked(rows, ("draft", "in-review", "published", "retired"), "Known errors per service"))
    (w, _), texts = _texts(svg)
    assert all(left >= 0 and right <= w for left, right, _ in texts), texts
    root = ET.fromstring(svg)
    label = next(t for t in root.iter(f"{SVG}text") if t.find(f"{SVG}title") is not None)
    assert label.find(f"{SVG}title").text == long  # type: ignore[union-attr]
    assert (label.find(f"{SVG}title").tail or "").endswith("…") and len(label.find(f"{SVG}title").tail or "") <= charts.MAX_LABEL  # type: ignore[union-attr]
    # Each series is named in the legend with its total: no colour has to be told apart.
    legend = [t for _, _, t in texts if "(" in t]
    assert legend == ["draft (1)", "in-review (0)", "published (6)", "retired (1)"]
    assert w <= 460  # narrow enough for a phone


def test_short_labels_stand_left_of_their_bars() -> None:
    svg = str(charts.bars([("PRB-0001", 7), ("PRB-0002", 14), ("PRB-0003", None)], "Days to root cause", "days"))
    (w, h), texts = _texts(svg)
    assert all(left >= 0 and right <= w for left, right, _ in texts), texts
    assert h <= 3 * charts.ROW + 8 and "14 days" in [t for _, _, t in texts] and "—" in [t for _, _, t in texts]


def test_status_colours_are_the_okabe_ito_set_and_distinct() -> None:
    css = CSS.read_text(encoding="utf-8")
    fills = {i: re.search(rf"\.kedb-chart__s{i} \{{ fill: (#[0-9a-f]{{6}}); \}}", css) for i in range(4)}
    colours = [m.group(1) for m in fills.values() if m]
    assert len(colours) == 4 and len(set(colours)) == 4
    assert set(colours[:3]) <= OKABE_ITO  # draft, in-review, published; retired is grey
