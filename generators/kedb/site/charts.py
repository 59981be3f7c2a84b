"""Charts as inline SVG, drawn at build time: no JavaScript, no CDN, works offline and in print.

Colours come from CSS classes (``kedb-chart__…`` in ``templates/site/assets/kedb.css``), so a
team restyles charts without code; the shipped colours are the Okabe-Ito set, which people
with the common colour-vision deficiencies tell apart, and every series is also named in a
legend. Every label is escaped and fits the view box: the label column is as wide as the
longest label (a label longer than :data:`MAX_LABEL` characters is cut with an ellipsis and
given whole in a tooltip), and the axes have round ticks in the KPI's unit. Numbers read as
everywhere else (:mod:`kedb.core.present`) and are the same on every build.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence

from markupsafe import Markup

from ..core import present

ROW = 22  # px per bar
BAR_W = 280
CHAR_W = 7.5  # px per character at the charts' 12 px font, generous (DejaVu Sans, the widest common fallback)
MAX_LABEL = 36  # characters of a bar label before it is cut
PAD = 8
PHONE_W = 440  # px: a chart is never drawn narrower than this (kedb.css), a narrower one at its own size
ABOVE_FROM = 140  # px: labels wider than this stand above their bars


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def fmt(value: float | None, unit: str = "") -> str:
    """A value on a chart, read as everywhere else (:func:`kedb.core.present.quantity`)."""
    return present.quantity(value, unit)


def text_width(text: str) -> int:
    """How wide ``text`` is drawn, at most (see :data:`CHAR_W`)."""
    return math.ceil(len(text) * CHAR_W)


def _label(text: str) -> tuple[str, str]:
    """(what is drawn, the tooltip): a long label is cut, and the tooltip gives it whole."""
    text = " ".join(str(text).split())
    if len(text) <= MAX_LABEL:
        return text, ""
    return text[: MAX_LABEL - 1].rstrip() + "…", text


def _svg(width: int, height: int, title: str, body: list[str]) -> Markup:
    wide = " kedb-chart--wide" if width > PHONE_W else ""  # scrolls on a phone rather than shrink below PHONE_W
    return Markup(
        f'<svg class="kedb-chart{wide}" role="img" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{_e(title)}</title>' + "".join(body) + "</svg>"
    )


def _bar_label(x: int, y: int, text: str, anchor: str = "end") -> str:
    shown, full = _label(text)
    tip = f"<title>{_e(full)}</title>" if full else ""
    return f'<text class="kedb-chart__label" x="{x}" y="{y}" text-anchor="{anchor}">{tip}{_e(shown)}</text>'


class _Rows:
    """Where the bars of a bar chart go. Short labels stand left of their bars; long ones (a
    service's name) stand above them, so the chart stays narrow enough for a phone."""

    def __init__(self, labels: Sequence[str], value_w: int) -> None:
        longest = max([text_width(_label(r)[0]) for r in labels] or [0])
        self.above = longest > ABOVE_FROM
        self.x = 0 if self.above else longest + PAD  # where the bars start
        self.row = ROW + 14 if self.above else ROW
        self.width = max(longest, BAR_W + value_w) if self.above else self.x + BAR_W + value_w

    def label(self, i: int, text: str) -> str:
        y = i * self.row + 4
        return _bar_label(0, y + 11, text, "start") if self.above else _bar_label(self.x - PAD, y + 14, text)

    def bar_y(self, i: int) -> int:
        """The top of row ``i``'s bar; its value's baseline is 12 px lower."""
        return i * self.row + 4 + (16 if self.above else 2)


def nice_ticks(hi: float, most: int = 6) -> list[float]:
    """At most ``most`` round tick values from 0 to at least ``hi``: steps of 1, 2, 2.5 or 5 times a power of ten."""
    if hi <= 0:
        return [0.0, 1.0]
    raw = hi / (most - 1)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw - 1e-12)
    n = math.ceil(hi / step - 1e-9)
    return [round(step * k, 10) for k in range(n + 1)]


def bars(rows: Sequence[tuple[str, float | None]], title: str, unit: str = "") -> Markup:
    """Horizontal bars, one per row, with the value at the end of each bar."""
    top = max([v for _, v in rows if v is not None] or [0]) or 1
    lay = _Rows([r for r, _ in rows], max([text_width(fmt(v, unit)) for _, v in rows] or [0]) + 2 * PAD)
    body: list[str] = []
    for i, (label, value) in enumerate(rows):
        body.append(lay.label(i, label))
        w = 0 if value is None else max(1, round(BAR_W * value / top))
        y = lay.bar_y(i)
        body.append(f'<rect class="kedb-chart__bar" x="{lay.x}" y="{y}" width="{w}" height="{ROW - 6}"/>')
        body.append(f'<text class="kedb-chart__value" x="{lay.x + w + 6}" y="{y + 12}">{_e(fmt(value, unit))}</text>')
    return _svg(lay.width, max(1, len(rows)) * lay.row + 8, title, body)


def stacked(rows: Sequence[tuple[str, dict[str, int]]], series: Sequence[str], title: str) -> Markup:
    """Horizontal stacked bars (e.g. records per service, split by status) with a legend that
    names each series and its total, so no colour has to be told apart to read the chart."""
    top = max([sum(v.values()) for _, v in rows] or [0]) or 1
    lay = _Rows([r for r, _ in rows], max([text_width(str(sum(v.values()))) for _, v in rows] or [0]) + 2 * PAD)
    body: list[str] = []
    for i, (label, values) in enumerate(rows):
        body.append(lay.label(i, label))
        x, y = lay.x, lay.bar_y(i)
        for s_i, s in enumerate(series):
            n = values.get(s, 0)
            if not n:
                continue
            w = max(1, round(BAR_W * n / top))
            body.append(
                f'<rect class="kedb-chart__bar kedb-chart__s{s_i}" x="{x}" y="{y}" width="{w}" height="{ROW - 6}">'
                f"<title>{_e(label)}: {_e(s)} {n}</title></rect>"
            )
            x += w
        body.append(f'<text class="kedb-chart__value" x="{x + 6}" y="{y + 12}">{sum(values.values())}</text>')
    totals = {s: sum(v.get(s, 0) for _, v in rows) for s in series}
    ly = len(rows) * lay.row + 14
    lx = lay.x
    for s_i, s in enumerate(series):
        text = f"{s} ({totals[s]})"
        w = 16 + text_width(text) + 12
        if lx + w > lay.width and lx > lay.x:  # next legend row
            lx, ly = lay.x, ly + 20
        body.append(f'<rect class="kedb-chart__bar kedb-chart__s{s_i}" x="{lx}" y="{ly}" width="12" height="12"/>')
        body.append(f'<text class="kedb-chart__legend" x="{lx + 16}" y="{ly + 11}">{_e(text)}</text>')
        lx += w
    return _svg(lay.width, ly + 22, title, body)


def trend(
    points: Sequence[tuple[str, float | None]],
    title: str,
    unit: str = "",
    baseline: float | None = None,
    target_min: float | None = None,
    target_max: float | None = None,
) -> Markup:
    """A KPI over the months: the target band, the baseline as a dashed line, one dot per month.
    The value axis starts at zero and has round ticks in the KPI's unit."""
    values = [v for _, v in points if v is not None]
    refs = [x for x in (baseline, target_min, target_max) if x is not None]
    ticks = nice_ticks(max(values + refs + [0.0]) * 1.05)
    lo, hi = ticks[0], ticks[-1]
    tick_w = max(text_width(fmt(t, unit)) for t in ticks)
    month_w = max([text_width(str(label)) for label, _ in points] or [0])
    width, height = 480, 220
    left, right, top_pad, bottom = tick_w + 2 * PAD, month_w // 2 + PAD, 14, 34
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
    for v in ticks:
        body.append(f'<line class="kedb-chart__grid" x1="{left}" x2="{width - right}" y1="{y(v)}" y2="{y(v)}"/>')
        body.append(f'<text class="kedb-chart__axis" x="{left - 6}" y="{y(v) + 4}" text-anchor="end">{_e(fmt(v, unit))}</text>')
    if baseline is not None:
        body.append(
            f'<line class="kedb-chart__baseline" x1="{left}" x2="{width - right}" y1="{y(baseline)}" y2="{y(baseline)}">'
            f"<title>baseline {_e(fmt(baseline, unit))}</title></line>"
        )
    path = [f"{x(i)},{y(v)}" for i, (_, v) in enumerate(points) if v is not None]
    if len(path) > 1:
        body.append(f'<polyline class="kedb-chart__line" points="{" ".join(path)}"/>')
    every = max(1, math.ceil(len(points) * (month_w + PAD) / plot_w))  # label every n-th month where they would touch
    labelled = list(range(0, len(points), every))
    if labelled and labelled[-1] != len(points) - 1:
        labelled[-1] = len(points) - 1  # the latest month is always named
    for i, (label, v) in enumerate(points):
        if i in labelled:
            body.append(f'<text class="kedb-chart__axis" x="{x(i)}" y="{height - 12}" text-anchor="middle">{_e(label)}</text>')
        if v is not None:
            body.append(
                f'<circle class="kedb-chart__dot" cx="{x(i)}" cy="{y(v)}" r="4"><title>{_e(label)}: {_e(fmt(v, unit))}</title></circle>'
            )
    return _svg(width, height, title, body)
