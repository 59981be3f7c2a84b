"""The proof brief's charts, drawn with reportlab.graphics (vector, fonts embedded like the text)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ._pdftext import SANS

PALETTE = ("#1F4E79", "#C0504D", "#9BBB59", "#F79646", "#8064A2", "#4BACC6")
SERIES = ("#9DC3E6", "#1F4E79", "#7F7F7F")  # checkpoints in time order, light to dark: no colour that reads as good or bad


def index_bars(labels: Sequence[str], series: Sequence[tuple[str, Sequence[float | None]]], width: float, title: str) -> Any:
    """Grouped horizontal bars of index values (baseline = 100) with a line at 100; the labels are
    written in full (the label column is as wide as the longest), ``None`` values are left out."""
    from reportlab.graphics.charts.barcharts import HorizontalBarChart
    from reportlab.graphics.charts.legends import Legend
    from reportlab.graphics.shapes import Drawing, Line, String
    from reportlab.lib import colors
    from reportlab.pdfbase.pdfmetrics import stringWidth

    label_w = max((stringWidth(x, SANS, 8) for x in labels), default=40) + 10
    per = 12 * len(series) + 8
    height = 58 + per * max(1, len(labels))
    d = Drawing(width, height)
    chart = HorizontalBarChart()
    chart.x, chart.y = label_w, 30
    chart.width, chart.height = width - label_w - 40, height - 58
    # reportlab draws the first category at the bottom: reverse so the list reads top down.
    chart.data = [[(v if v is not None else 0) for v in reversed(values)] for _, values in series]
    top = max([v for _, values in series for v in values if v is not None] or [100])
    chart.valueAxis.valueMin = 0
    chart.valueAxis.valueMax = max(120, top * 1.15)
    chart.valueAxis.labels.fontName = SANS
    chart.valueAxis.labels.fontSize = 7
    chart.categoryAxis.categoryNames = list(reversed(labels))
    chart.categoryAxis.labels.fontName = SANS
    chart.categoryAxis.labels.fontSize = 8
    chart.barLabelFormat = lambda v: "" if not v else f"{v:g}"
    chart.barLabels.fontName = SANS
    chart.barLabels.fontSize = 6.5
    chart.barLabels.boxAnchor = "w"
    chart.barLabels.dx = 2
    chart.groupSpacing = 6
    chart.barSpacing = 1
    for i in range(len(series)):
        chart.bars[i].fillColor = colors.HexColor(SERIES[i % len(SERIES)])
        chart.bars[i].strokeColor = None
    d.add(chart)
    x100 = chart.x + chart.width * 100 / chart.valueAxis.valueMax
    d.add(
        Line(x100, chart.y, x100, chart.y + chart.height, strokeColor=colors.HexColor("#404040"), strokeDashArray=[3, 2], strokeWidth=0.8)
    )
    d.add(String(x100 + 2, chart.y + chart.height + 2, "baseline = 100", fontName=SANS, fontSize=6.5))
    legend = Legend()
    legend.x, legend.y = label_w, 12
    legend.fontName, legend.fontSize = SANS, 7
    legend.alignment = "right"
    legend.columnMaximum = 1
    legend.dxTextSpace = 4
    legend.deltax = 80
    legend.colorNamePairs = [(colors.HexColor(SERIES[i % len(SERIES)]), name) for i, (name, _) in enumerate(series)]
    d.add(legend)
    d.add(String(0, height - 12, title, fontName=SANS, fontSize=9))
    return d


def hbars(labels: Sequence[str], values: Sequence[int], width: float, title: str) -> Any:
    """A horizontal bar chart of counts, with the count at the end of each bar."""
    from reportlab.graphics.charts.barcharts import HorizontalBarChart
    from reportlab.graphics.shapes import Drawing, String
    from reportlab.lib import colors

    height = 50 + 18 * max(1, len(labels))
    d = Drawing(width, height)
    chart = HorizontalBarChart()
    chart.x, chart.y = 150, 20
    chart.width, chart.height = width - 190, height - 40
    chart.data = [list(values) or [0]]
    chart.valueAxis.valueMin = 0
    chart.valueAxis.valueMax = max([*values, 1]) * 1.2
    chart.valueAxis.labels.fontName = SANS
    chart.valueAxis.labels.fontSize = 7
    chart.categoryAxis.categoryNames = list(labels) or ["(none)"]
    chart.categoryAxis.labels.fontName = SANS
    chart.categoryAxis.labels.fontSize = 8
    chart.bars[0].fillColor = colors.HexColor(PALETTE[0])
    chart.bars[0].strokeColor = None
    chart.barLabelFormat = "%d"
    chart.barLabels.fontName = SANS
    chart.barLabels.fontSize = 7
    chart.barLabels.boxAnchor = "w"
    chart.barLabels.dx = 3
    d.add(chart)
    d.add(String(0, height - 12, title, fontName=SANS, fontSize=9))
    return d
