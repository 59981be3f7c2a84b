"""The proof brief's charts, drawn with reportlab.graphics (vector, fonts embedded like the text)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ._pdftext import SANS

PALETTE = ("#1F4E79", "#C0504D", "#9BBB59", "#F79646", "#8064A2", "#4BACC6")


def bars(categories: Sequence[str], series: Sequence[tuple[str, Sequence[float | None]]], width: float, height: float = 190,
         value_label: str = "") -> Any:  # fmt: skip
    """A clustered column chart with a legend; ``None`` values are left out (not drawn as zero)."""
    from reportlab.graphics.charts.barcharts import VerticalBarChart
    from reportlab.graphics.charts.legends import Legend
    from reportlab.graphics.shapes import Drawing, String
    from reportlab.lib import colors

    d = Drawing(width, height)
    chart = VerticalBarChart()
    chart.x, chart.y = 40, 50
    chart.width, chart.height = width - 60, height - 80
    chart.data = [list(values) for _, values in series]
    top = max([v for _, values in series for v in values if v is not None] or [1])
    chart.valueAxis.valueMin = 0
    chart.valueAxis.valueMax = top * 1.15
    chart.valueAxis.labels.fontName = SANS
    chart.valueAxis.labels.fontSize = 7
    chart.categoryAxis.categoryNames = [c if len(c) <= 18 else c[:17] + "…" for c in categories]
    chart.categoryAxis.labels.fontName = SANS
    chart.categoryAxis.labels.fontSize = 6.5
    chart.categoryAxis.labels.angle = 20
    chart.categoryAxis.labels.boxAnchor = "ne"
    chart.groupSpacing = 8
    chart.barSpacing = 1
    for i in range(len(series)):
        chart.bars[i].fillColor = colors.HexColor(PALETTE[i % len(PALETTE)])
        chart.bars[i].strokeColor = None
    d.add(chart)
    legend = Legend()
    legend.x, legend.y = 40, height - 8
    legend.fontName, legend.fontSize = SANS, 7
    legend.alignment = "right"
    legend.columnMaximum = 1
    legend.dxTextSpace = 4
    legend.deltax = 110
    legend.colorNamePairs = [(colors.HexColor(PALETTE[i % len(PALETTE)]), name) for i, (name, _) in enumerate(series)]
    d.add(legend)
    if value_label:
        d.add(String(4, 50 + (height - 80) / 2, value_label, fontName=SANS, fontSize=7))
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
