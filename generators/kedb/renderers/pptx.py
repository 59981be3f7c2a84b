"""``exec-brief.pptx``: the executive deck for internal or client briefings.

Slides: title; the problem in one slide; KPI movement (native, editable chart); KPI baseline
and targets; the aged-ticket audit when one is stored (first against latest, native chart); top
recurring problems and their fix status (native chart and table); approvals pending and risks;
the next 30 days; where the figures come from. Built on the layouts of
``templates/master.pptx`` (see ``templates/make_master.py``). A KPI value that has not been
measured is left out of the chart and named on the slide; nothing is estimated.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..build import facts as D
from ..core import present as P
from ..core.resources import find_template
from . import _audit as A
from . import file_name
from ._md import clean
from ._zip import normalise

if TYPE_CHECKING:
    from ..build.context import BuildContext

FILE_NAME = file_name("pptx")
LEVEL = {"low": 1, "medium": 2, "high": 3}


def render(ctx: BuildContext, out_dir: Path) -> Path:
    from pptx import Presentation

    out_dir.mkdir(parents=True, exist_ok=True)
    prs = Presentation(str(find_template(ctx.kb.root, "master.pptx")))
    deck = _Deck(prs)
    rows = D.kpi_rows(ctx)
    _title(ctx, deck)
    _problem(ctx, deck, rows)
    _kpi_chart(ctx, deck, rows)
    _kpi_table(deck, rows)
    audits = A.view(ctx)
    if audits is not None:
        _audit(deck, audits)
    _recurring(ctx, deck)
    _approvals_risks(ctx, deck)
    _next_30(ctx, deck)
    _source(ctx, deck)
    D.set_core_properties(prs.core_properties, ctx, "executive brief")
    path = out_dir / FILE_NAME
    prs.save(str(path))
    return normalise(path, ctx.info.date)


class _Deck:
    """Slides on the master's layouts, with the few shapes the brief needs."""

    def __init__(self, prs: Any) -> None:
        from pptx.util import Emu

        self.prs = prs
        self.layouts = {layout.name: layout for layout in prs.slide_layouts}
        self.w, self.h = prs.slide_width, prs.slide_height
        self.margin = Emu(int(self.w * 0.05))
        self.top = Emu(int(self.h * 0.22))

    def slide(self, title: str, layout: str = "Title Only") -> Any:
        lay = self.layouts.get(layout) or self.prs.slide_layouts[5 if layout == "Title Only" else 1]
        s = self.prs.slides.add_slide(lay)
        if s.shapes.title is not None:
            s.shapes.title.text = clean(title)
        return s

    def text(self, slide: Any, lines: Sequence[str | tuple[str, int]], left: int, top: int, width: int, height: int, size: int = 16) -> Any:
        """A text box; a line given as (text, level) is indented to that level."""
        from pptx.util import Pt

        box = slide.shapes.add_textbox(left, top, width, height)
        tf = box.text_frame
        tf.word_wrap = True
        for i, line in enumerate(lines):
            text, level = (line, 0) if isinstance(line, str) else line
            p = tf.paragraphs[0] if i == 0 else tf.add_paragraph()
            p.text = {-1: "", 0: "• "}.get(level, "– ") + clean(text)
            p.level = max(level, 0)
            for r in p.runs:
                r.font.size = Pt(size - 2 * max(level, 0))
        return box

    def table(self, slide: Any, header: Sequence[str], rows: Sequence[Sequence[str]], left: int, top: int, width: int,
              weights: Sequence[float], size: int = 11) -> Any:  # fmt: skip
        from pptx.util import Emu, Pt

        shape = slide.shapes.add_table(len(rows) + 1, len(header), left, top, width, Emu(int(Pt(size * 2.2)) * (len(rows) + 1)))
        table = shape.table
        total = sum(weights)
        for c, wgt in enumerate(weights):
            table.columns[c].width = Emu(int(width * wgt / total))
        for r, row in enumerate([list(header), *rows]):
            for c, value in enumerate(row):
                cell = table.cell(r, c)
                cell.text = clean(value)
                for p in cell.text_frame.paragraphs:
                    for run in p.runs:
                        run.font.size = Pt(size)
                        run.font.bold = r == 0
        return table

    def note(self, slide: Any, text: str) -> None:
        from pptx.util import Emu

        self.text(slide, [(text, -1)], self.margin, Emu(int(self.h * 0.9)), self.w - 2 * self.margin, Emu(int(self.h * 0.07)), size=11)


def _title(ctx: BuildContext, deck: _Deck) -> None:
    s = deck.slide(D.title_of(ctx), "Title Slide")
    sub = [ph for ph in s.placeholders if ph.placeholder_format.idx == 1]
    if sub:
        sub[0].text = clean(f"Implementation brief · {D.organisation(ctx)}\n{D.edition(ctx)}")


def _problem(ctx: BuildContext, deck: _Deck, rows: list[D.KpiRow]) -> None:
    kb = ctx.kb
    kes = kb.known_errors
    pub = D.published(kes)
    tickets = sum(len(k.meta.tickets) for k in kes)
    services = len({k.meta.service for k in kes})
    probs = kb.problems
    open_probs = [p for p in probs if p.meta.status != "closed"]
    rooted = [p for p in open_probs if p.meta.root_cause]
    fixed = [k for k in kes if k.meta.fix.status in ("deployed", "verified")]
    lines: list[str | tuple[str, int]] = [
        f"{P.count(tickets, 'ticket')} linked to {P.count(len(kes), 'known error')} across {P.count(services, 'service')}; "
        f"{len(pub)} published.",
        f"{P.count(len(open_probs), 'problem')} open, {len(rooted)} with a root cause; "
        f"{P.count(len(fixed), 'known error')} with a permanent fix deployed.",
    ]
    top = D.top_problems(ctx, 1)
    if top and top[0].meta.trigger:
        t = top[0].meta.trigger
        cust = f" across {t.distinct_customers} customers" if t.distinct_customers else ""
        lines.append(f"Largest recurrence: {top[0].id} {top[0].meta.title}: {t.tickets} tickets in {t.window_days} days{cust}.")
    repeat = next((r for r in rows if r.kpi.id == "repeat_ticket_rate"), None)
    if repeat is not None:
        lines.append(
            f"Repeat ticket rate: {P.quantity(repeat.baseline, 'percent')} at baseline, target {repeat.target_text}; "
            + (f"latest {P.quantity(repeat.latest, 'percent')}." if repeat.latest is not None else "not measured since the baseline yet.")
        )
    lines.append("The same faults come back because fixes are not traced to a root cause; the program turns recurring tickets "
                 "into known errors, verified workarounds and permanent fixes through change.")  # fmt: skip
    s = deck.slide("The problem")
    deck.text(s, lines, deck.margin, deck.top, deck.w - 2 * deck.margin, int(deck.h * 0.65), size=20)


def _kpi_chart(ctx: BuildContext, deck: _Deck, rows: list[D.KpiRow]) -> None:
    from pptx.chart.data import CategoryChartData
    from pptx.enum.chart import XL_CHART_TYPE, XL_LEGEND_POSITION
    from pptx.util import Pt

    s = deck.slide("KPI movement against baseline")
    if not rows:
        deck.text(s, ["content/kpis.yml could not be read: no KPIs to show."], deck.margin, deck.top, deck.w // 2, deck.h // 4)
        return
    data = CategoryChartData(number_format="0")
    data.categories = [clean(r.kpi.name) for r in rows]
    data.add_series("Baseline (= 100)", [100 if r.baseline else None for r in rows])
    data.add_series("Week 4", [r.index4 for r in rows])
    data.add_series("Week 8", [r.index8 for r in rows])
    gf = s.shapes.add_chart(XL_CHART_TYPE.COLUMN_CLUSTERED, deck.margin, deck.top, int(deck.w * 0.62), int(deck.h * 0.64), data)
    chart = gf.chart
    chart.has_legend = True
    chart.legend.position = XL_LEGEND_POSITION.BOTTOM
    chart.legend.include_in_layout = False
    chart.font.size = Pt(11)
    chart.value_axis.has_major_gridlines = True
    missing = D.missing_measurements(rows)
    side = ["Index: each KPI's value as a share of its baseline (baseline = 100)."]
    side += [f"{r.kpi.name}: {P.quantity(r.latest, r.kpi.unit)} ({r.status})" for r in rows if r.latest is not None]
    if missing:
        side.append("Missing figures: " + "; ".join(missing))
    deck.text(s, side, deck.margin + int(deck.w * 0.64), deck.top, int(deck.w * 0.26), int(deck.h * 0.64), size=12)


def _kpi_table(deck: _Deck, rows: list[D.KpiRow]) -> None:
    s = deck.slide("KPI baseline, checkpoints and targets")
    body = [
        [r.kpi.name, P.quantity(r.baseline, r.kpi.unit), P.quantity(r.week4, r.kpi.unit), P.quantity(r.week8, r.kpi.unit), r.target_text,
         P.better(r.kpi.lower_is_better), r.status]
        for r in rows
    ]  # fmt: skip
    deck.table(s, ["KPI", "Baseline", "Week 4", "Week 8", "Target", "Direction", "Status"], body, deck.margin, deck.top,
               deck.w - 2 * deck.margin, [2.4, 1, 1, 1, 1.1, 1.3, 1.2], size=12)  # fmt: skip
    deck.note(s, "— : not measured yet. Week-4 and week-8 values are the KPI snapshot of the month holding each checkpoint (content/kpi/).")


def _audit(deck: _Deck, v: A.AuditView) -> None:
    """The flow audit, first against latest: a table of the figures and a native chart of progression per stage."""
    from pptx.chart.data import CategoryChartData
    from pptx.enum.chart import XL_CHART_TYPE, XL_LEGEND_POSITION
    from pptx.util import Pt

    s = deck.slide("Aged-ticket audit")
    a, b = v.first, v.latest
    body = [[m.name, P.quantity(m.before, m.unit), P.quantity(m.after, m.unit), A.change(m), m.verdict] for m in v.movements]
    width = int(deck.w * 0.56)
    deck.table(s, ["Figure", str(a.as_of), str(b.as_of), "Change", "Verdict"], body, deck.margin, deck.top, width,
               [3.4, 1.1, 1.1, 1, 1.1], size=9)  # fmt: skip
    stages = [r.key for r in b.by_stage]
    if stages:
        data = CategoryChartData(number_format="0")
        data.categories = stages
        for audit in (a, b) if a is not b else (b,):
            shares = {r.key: r.value for r in audit.by_stage}
            data.add_series(f"As of {audit.as_of}", [shares.get(k) for k in stages])
        left = deck.margin + width + int(deck.w * 0.02)
        chart = s.shapes.add_chart(XL_CHART_TYPE.BAR_CLUSTERED, left, deck.top, deck.w - deck.margin - left, int(deck.h * 0.6), data).chart
        chart.has_title = True
        chart.chart_title.text_frame.text = "Periods moved on in time, per stage (%)"
        chart.has_legend = True
        chart.legend.position = XL_LEGEND_POSITION.BOTTOM
        chart.legend.include_in_layout = False
        chart.font.size = Pt(9)
    deck.note(s, f"{b.at_risk_total} open tickets at risk of breaching the SLA as of {b.as_of} (the register's internal edition lists them). "
                 f"Each figure's basis is in content/audits/{b.as_of}.yml; window {b.window_days} days.")  # fmt: skip


def _recurring(ctx: BuildContext, deck: _Deck) -> None:
    from pptx.chart.data import CategoryChartData
    from pptx.enum.chart import XL_CHART_TYPE
    from pptx.util import Pt

    s = deck.slide("Top recurring problems and their fix status")
    top = D.top_problems(ctx, 6)
    if not top:
        deck.text(s, ["No problem records in this edition."], deck.margin, deck.top, deck.w // 2, deck.h // 4)
        return
    data = CategoryChartData(number_format="0")
    data.categories = [p.id for p in reversed(top)]
    data.add_series(
        "Tickets in trigger window", [(p.meta.trigger.tickets if p.meta.trigger else len(p.meta.tickets)) for p in reversed(top)]
    )
    chart = s.shapes.add_chart(XL_CHART_TYPE.BAR_CLUSTERED, deck.margin, deck.top, int(deck.w * 0.3), int(deck.h * 0.64), data).chart
    chart.has_legend = False
    chart.font.size = Pt(10)
    plot = chart.plots[0]
    plot.has_data_labels = True
    body = []
    for p in top:
        t = p.meta.trigger
        window = f"{t.tickets} in {P.days(t.window_days)}" if t else f"{len(p.meta.tickets)} linked"
        body.append([f"{p.id} {p.meta.title}", window, D.fix_status(ctx, p), p.meta.change_ref or "—"])
    left = deck.margin + int(deck.w * 0.31)
    deck.table(
        s, ["Problem", "Tickets", "Stage and fix", "Change"], body, left, deck.top, deck.w - deck.margin - left, [3.2, 1, 1.8, 1], size=10
    )


def _approvals_risks(ctx: BuildContext, deck: _Deck) -> None:
    s = deck.slide("Approvals pending and risks")
    pending = D.pending_approvals(ctx)
    half = (deck.w - 3 * deck.margin) // 2
    lines: list[str | tuple[str, int]] = [f"{P.count(len(pending), 'approval')} pending or missing"]
    lines += [(f"{p.record}: {p.reason}", 1) for p in pending[:6]]
    if len(pending) > 6:
        lines.append((f"and {len(pending) - 6} more (see the proof brief)", 1))
    if ctx.approvals is None:
        lines.append(("No git history: the approval trail could not be checked.", 1))
    else:
        before = sum(1 for a in ctx.approvals.items if a.status == "before-gate")
        if before:
            lines.append(f"{P.count(before, 'record version')} landed before the approval gate started ({ctx.approvals.gate_since})")
        if ctx.approvals.gate_since is None:
            lines.append("No approval gate start date (approvals_since) is set in content/kedb.yml")
    deck.text(s, lines, deck.margin, deck.top, half, int(deck.h * 0.64), size=16)
    risks = ctx.kb.program.risks
    ranked = sorted(risks.risks if risks else [], key=lambda r: (-LEVEL[r.likelihood] * LEVEL[r.impact], r.id))
    live = [r for r in ranked if r.status != "closed"][:7]
    body = [[f"{r.id} {r.title}", f"{r.likelihood} / {r.impact}", r.status,
             f"{sum(1 for c in r.controls if c.status == 'operating')} of {len(r.controls)}"] for r in live]  # fmt: skip
    deck.table(s, ["Risk", "Likelihood / impact", "Status", "Controls operating"], body, 2 * deck.margin + half, deck.top, half,
               [3.2, 1.3, 1, 1], size=10)  # fmt: skip


def _next_30(ctx: BuildContext, deck: _Deck) -> None:
    s = deck.slide("The next 30 days")
    half = (deck.w - 3 * deck.margin) // 2
    rhythm = ctx.kb.program.rhythm
    lines: list[str | tuple[str, int]] = []
    for ph in rhythm.phases if rhythm else ():
        lines.append(f"Days {ph.start_day}–{ph.end_day}: {ph.name} ({ph.owner})")
        if ph.gate:
            lines.append((f"gate: {ph.gate}", 1))
    deck.text(s, lines or ["content/rhythm.yml could not be read."], deck.margin, deck.top, half, int(deck.h * 0.66), size=13)
    due = D.due_within(ctx, 30)
    body = [[d.isoformat(), what, who] for d, what, who in due[:8]]
    if body:
        deck.table(s, ["Due", "What", "Who"], body, 2 * deck.margin + half, deck.top, half, [1, 3.4, 1.2], size=10)
        if len(due) > 8:
            deck.note(s, f"{len(due) - 8} more reviews and actions fall due in the next 30 days (see the runbook and register).")
    else:
        deck.text(s, ["No record reviews or prevention actions fall due in the next 30 days."], 2 * deck.margin + half, deck.top, half,
                  deck.h // 4, size=13)  # fmt: skip


def _source(ctx: BuildContext, deck: _Deck) -> None:
    i = ctx.info
    s = deck.slide("Where these figures come from")
    snaps = ", ".join(x.period for x in ctx.kb.kpi_snapshots) or "none yet"
    lines: list[str | tuple[str, int]] = [
        f"Built from commit {i.commit}" if i.commit else "Not built from a git commit",
        f"Build date {i.date.date().isoformat()} (the commit's date, not the day it was run); {i.audience} edition",
        f"KPI snapshots in content/kpi/: {snaps}",
        f"{len(ctx.kb.records)} records in this edition; the proof brief lists each with its approval trail and SHA-256.",
    ]
    if i.history_note:
        lines.append(i.history_note)
    deck.text(s, lines, deck.margin, deck.top, deck.w - 2 * deck.margin, int(deck.h * 0.6), size=16)
