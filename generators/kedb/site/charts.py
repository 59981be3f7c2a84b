"""Charts as inline SVG, drawn at build time: no JavaScript, no CDN, works offline and in print.

Colours come from CSS classes (``kedb-chart__…`` in ``templates/site/assets/kedb.css``), so a
team restyles charts without code. Every label is escaped; numbers are formatted the same way
on every build.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

from markupsafe import Markup

from ..core import present

ROW = 22  # px per bar
LABEL_W = 230
BAR_W = 360
W = LABEL_W + BAR_W + 70


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def fmt(value: float | None, unit: str = "") -> str:
    """A value on a chart, read as everywhere else (:func:`kedb.core.present.quantity`)."""
    return present.quantity(value, unit)


def _svg(width: int, height: int, title: str, body: list[str]) -> Markup:
    return Markup(
        f'<svg class="kedb-chart" role="img" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{_e(title)}</title>' + "".join(body) + "</svg>"
    )


def bars(rows: Sequence[tuple[str, float | None]], title: str, unit: str = "") -> Markup:
    """Horizontal bars, one per row, with the value at the end of each bar."""
    top = max([v for _, v in rows if v is not None] or [0]) or 1
    body: list[str] = []
    for i, (label, value) in enumerate(rows):
        y = i * ROW + 4
        body.append(f'<text class="kedb-chart__label" x="{LABEL_W - 8}" y="{y + 14}" text-anchor="end">{_e(label)}</text>')
        w = 0 if value is None else max(1, round(BAR_W * value / top))
        body.append(f'<rect class="kedb-chart__bar" x="{LABEL_W}" y="{y + 2}" width="{w}" height="{ROW - 6}"/>')
        body.append(f'<text class="kedb-chart__value" x="{LABEL_W + w + 6}" y="{y + 14}">{_e(fmt(value, unit))}</text>')
    return _svg(W, max(1, len(rows)) * ROW + 8, title, body)


def stacked(rows: Sequence[tuple[str, dict[str, int]]], series: Sequence[str], title: str) -> Markup:
    """Horizontal stacked bars (e.g. records per service, split by status) with a legend."""
    top = max([sum(v.values()) for _, v in rows] or [0]) or 1
    body: list[str] = []
    for i, (label, values) in enumerate(rows):
        y = i * ROW + 4
        body.append(f'<text class="kedb-chart__label" x="{LABEL_W - 8}" y="{y + 14}" text-anchor="end">{_e(label)}</text>')
        x = LABEL_W
        for s_i, s in enumerate(series):
            n = values.get(s, 0)
            if not n:
                continue
            w = max(1, round(BAR_W * n / top))
            body.append(
                f'<rect class="kedb-chart__bar kedb-chart__s{s_i}" x="{x}" y="{y + 2}" width="{w}" height="{ROW - 6}">'
                f"<title>{_e(s)}: {n}</title></rect>"
            )
            x += w
        body.append(f'<text class="kedb-chart__value" x="{x + 6}" y="{y + 14}">{sum(values.values())}</text>')
    ly = len(rows) * ROW + 14
    lx = LABEL_W
    for s_i, s in enumerate(series):
        body.append(f'<rect class="kedb-chart__bar kedb-chart__s{s_i}" x="{lx}" y="{ly}" width="12" height="12"/>')
        body.append(f'<text class="kedb-chart__legend" x="{lx + 16}" y="{ly + 11}">{_e(s)}</text>')
        lx += 24 + 7 * len(s)
    return _svg(W, ly + 22, title, body)


def trend(
    points: Sequence[tuple[str, float | None]],
    title: str,
    unit: str = "",
    baseline: float | None = None,
    target_min: float | None = None,
    target_max: float | None = None,
) -> Markup:
    """A KPI over the months: the target band, the baseline as a dashed line, one dot per month."""
    width, height, left, right, top_pad, bottom = 560, 220, 56, 16, 14, 34
    values = [v for _, v in points if v is not None]
    refs = [x for x in (baseline, target_min, target_max) if x is not None]
    hi = max(values + refs + [0.0]) * 1.15 or 1.0
    lo = 0.0
    plot_w, plot_h = width - left - right, height - top_pad - bottom

    def y(v: float) -> float:
        return round(top_pad + plot_h * (1 - (v - lo) / (hi - lo)), 1)

    def x(i: int) -> float:
        n = max(1, len(points) - 1)
        return round(left + (plot_w * i / n if len(points) > 1 else plot_w / 2), 1)

    body: list[str] = []
    if target_min is not None or target_max is not None:
        y1, y2 = y(min(target_max if target_max is not None else hi, hi)), y(target_min if target_min is not None else lo)
        body.append(
            f'<rect class="kedb-chart__target" x="{left}" y="{y1}" width="{plot_w}" height="{round(y2 - y1, 1)}"><title>target</title></rect>'
        )
    for k in range(5):
        v = lo + (hi - lo) * k / 4
        body.append(f'<line class="kedb-chart__grid" x1="{left}" x2="{width - right}" y1="{y(v)}" y2="{y(v)}"/>')
        body.append(f'<text class="kedb-chart__axis" x="{left - 6}" y="{y(v) + 4}" text-anchor="end">{_e(fmt(v))}</text>')
    if baseline is not None:
        body.append(
            f'<line class="kedb-chart__baseline" x1="{left}" x2="{width - right}" y1="{y(baseline)}" y2="{y(baseline)}">'
            f"<title>baseline {_e(fmt(baseline, unit))}</title></line>"
        )
    path = [f"{x(i)},{y(v)}" for i, (_, v) in enumerate(points) if v is not None]
    if len(path) > 1:
        body.append(f'<polyline class="kedb-chart__line" points="{" ".join(path)}"/>')
    for i, (label, v) in enumerate(points):
        body.append(f'<text class="kedb-chart__axis" x="{x(i)}" y="{height - 12}" text-anchor="middle">{_e(label)}</text>')
        if v is not None:
            body.append(
                f'<circle class="kedb-chart__dot" cx="{x(i)}" cy="{y(v)}" r="4"><title>{_e(label)}: {_e(fmt(v, unit))}</title></circle>'
            )
    return _svg(width, height, title, body)
