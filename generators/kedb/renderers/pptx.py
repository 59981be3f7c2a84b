"""``exec-brief.pptx``: the executive deck for internal or client briefings.

Slides: the title; the verdict (each KPI on track, at risk or missed against its own target,
absolute or relative to the baseline, by :mod:`kedb.core.standing`, and the decisions asked of
the reader); the problem and the cost of repeat work with the saving at target; KPI trends
over every snapshot, one chart per KPI and one slide per direction (lower is better, higher is
better), so no chart mixes them; KPI baseline, checkpoints and targets; ticket volume and
backlog by month; the aged-ticket audit when one is stored; the top recurring problems; the top risks with their actions, owners and
dates; approvals waiting and the gate on main; the next 30 days on the real calendar; where the
figures come from. Every slide but the first is numbered and carries speaker notes naming the
files and commands behind its figures.

Built on the layouts of ``templates/master.pptx`` (see ``templates/make_master.py``). A KPI value
that has not been measured is left out of the charts and named on the slide; nothing is estimated.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ..build import facts as D
from ..core import present as P
from ..core import standing as S
from ..core.resources import find_template
from ..core.trail import APPROVAL_LABEL
from . import _audit as A
from . import file_name
from ._deck import Deck, Line
from ._md import clean
from ._zip import normalise

if TYPE_CHECKING:
    from ..build.context import BuildContext

FILE_NAME = file_name("pptx")
NEXT_DAYS = 30
NEXT_ROWS = 12  # the most pressing (overdue and soonest) of the next 30 days; the runbook lists all


def render(ctx: BuildContext, out_dir: Path) -> Path:
    from pptx import Presentation

    out_dir.mkdir(parents=True, exist_ok=True)
    prs = Presentation(str(find_template(ctx.kb.root, "master.pptx")))
    deck = Deck(prs)
    rows = D.kpi_rows(ctx)
    _title(ctx, deck)
    _verdict(ctx, deck, rows)
    _problem(ctx, deck)
    _trends(ctx, deck, rows)
    _kpi_table(ctx, deck, rows)
    _volume(ctx, deck)
    audits = A.view(ctx)
    if audits is not None:
        _audit(deck, audits)
    _recurring(ctx, deck)
    _risks(ctx, deck)
    _approvals(ctx, deck)
    _next_30(ctx, deck)
    _sources(ctx, deck)
    deck.finish()
    D.set_core_properties(prs.core_properties, ctx, "executive brief")
    path = out_dir / FILE_NAME
    prs.save(str(path))
    return normalise(path, ctx.info.date)


def _snapshot_files(ctx: BuildContext) -> str:
    return ", ".join(f"content/kpi/{s.period}.yml" for s in ctx.kb.kpi_snapshots) or "no snapshot in content/kpi/ yet"


def _title(ctx: BuildContext, deck: Deck) -> None:
    from pptx.dml.color import RGBColor
    from pptx.util import Pt

    i = ctx.info
    s = deck.slide(D.title_of(ctx), f"Built by kedb {i.kedb_version} from commit {i.commit or 'none'} ({D.edition(ctx)}).",
                   "Title Slide", size=36)  # fmt: skip
    sub = [ph for ph in s.placeholders if ph.placeholder_format.idx == 1]
    if not sub:
        return
    tf = sub[0].text_frame
    tf.text = clean(f"Implementation brief · {D.organisation(ctx)}")
    edition = f"{i.audience.capitalize()} edition" + (f" for {i.tenant}" if i.tenant else "") + f" · {P.day(i.date)}"
    p = tf.add_paragraph()
    p.text = clean(edition)
    for k, para in enumerate(tf.paragraphs):
        for r in para.runs:
            r.font.size = Pt(20 if k == 0 else 14)
            r.font.color.rgb = RGBColor.from_string("404040" if k == 0 else "7F7F7F")


# ---------------------------------------------------------------- verdict and asks
def _overall(rows: list[D.KpiRow]) -> str:
    """The verdict in a few words: how many of the judged KPIs are on track, and how many missed."""
    judged = [r.standing for r in rows if r.standing in (S.ON_TRACK, S.AT_RISK, S.MISSED)]
    if not judged:
        return "no KPI measured yet"
    text = f"{judged.count(S.ON_TRACK)} of {len(judged)} measured KPIs on track"
    return text + (f", {judged.count(S.MISSED)} missed" if S.MISSED in judged else "")


def asks(ctx: BuildContext, rows: list[D.KpiRow], n: int = 3) -> list[str]:
    """The decisions the deck asks of its reader, most pressing first, each from the data: KPIs that
    missed their target or are at risk, permanent fixes waiting for change approval, controls that do not operate yet, records
    waiting for an approver, changes on main without a valid approval."""
    out: list[str] = []
    for r in sorted(rows, key=lambda r: r.standing != S.MISSED):  # missed first, then at risk
        if r.judgement.short:
            owner = f"; owner {D.person(ctx, r.kpi.owner)}" if r.kpi.owner else ""
            out.append(f"Agree a recovery plan for {r.kpi.name}: {P.quantity(r.latest, r.kpi.unit)} against a target of "
                       f"{r.target_text} ({r.standing}{owner}).")  # fmt: skip
    for p in ctx.kb.problems:
        if p.meta.status == "fix-proposed":
            out.append(f"Approve the permanent fix for {p.id} {p.meta.title} through change"
                       + (f" ({p.meta.change_ref})." if p.meta.change_ref else "."))  # fmt: skip
    risks = ctx.kb.program.risks
    for risk in risks.risks if risks else ():
        for c in risk.controls:
            if c.status != "operating" and c.remediation is not None:
                m = c.remediation
                out.append(
                    f"Confirm that control {c.id} operates by {m.due.isoformat()}: {m.action.rstrip('.')} ({D.person(ctx, m.owner)})."
                )
    waiting = [p for p in D.awaiting_approval(ctx) if p.reason != "any reviewer"]
    if waiting:
        names = sorted({n for p in waiting for n in p.reason.split(", ")})
        out.append(f"Ask {', '.join(names)} to decide the {P.count(len(waiting), 'high-impact record')} waiting for approval.")
    if ctx.approvals is not None and ctx.approvals.violations:
        out.append(f"Decide how to remedy {P.count(len(ctx.approvals.violations), 'record version')} on main without a valid approval.")
    return out[:n]


def _verdict(ctx: BuildContext, deck: Deck, rows: list[D.KpiRow]) -> None:
    summary = S.summary(r.standing for r in rows)
    s = deck.slide(f"Verdict: {_overall(rows)}", "Standing of each KPI: its latest snapshot against its own target in "
                   f"content/kpis.yml, absolute or relative to the baseline, as of the last day of the month measured. {S.RULE} "
                   "Latest values from " + _snapshot_files(ctx) + ". The decisions are drawn from the data: KPIs missed or "
                   "at risk, fixes waiting for change approval, controls not yet operating (content/risks.yml), records "
                   "waiting for an approver.")  # fmt: skip
    left_w = deck.body_w * 0.6
    deck.text(s, [(f"{len(rows)} KPIs: {summary}.", -1)], deck.margin, deck.top, left_w, 30, size=16)
    body = [
        [r.kpi.name, P.quantity(r.latest, r.kpi.unit), r.target_range, r.due_text, (r.movement_text, r.verdict), (r.standing, r.standing)]
        for r in rows
    ]  # a date in its own column: a slide's table would break it at a hyphen
    shown = deck.table(s, ["KPI", "Latest", "Target", "Due", "Since baseline", "Standing"], body, deck.margin, deck.top + 36, left_w,
                       deck.body_h - 36, [2.6, 1, 1.1, 1.1, 1.8, 1.2], sizes=(16, 15, 14, 13, 12, 11, 10))  # fmt: skip
    if shown < len(body):
        deck.text(
            s, [(f"and {len(body) - shown} more KPIs: the next slides show each.", -1)], deck.margin, deck.bottom - 20, left_w, 20, size=11
        )
    right = deck.margin + left_w + 24
    width = deck.w - deck.margin - right
    wanted = asks(ctx, rows)
    lines: list[Line] = [("Decisions asked of you", -1)]
    lines += [(f"{k}. {a}", -1) for k, a in enumerate(wanted, start=1)] or [("No decision is needed this period.", -1)]
    deck.text(s, lines, right, deck.top, width, deck.body_h, size=16, bold_first=True)


# ---------------------------------------------------------------- the problem and its cost
def _problem(ctx: BuildContext, deck: Deck) -> None:
    from pptx.chart.data import CategoryChartData
    from pptx.dml.color import RGBColor
    from pptx.enum.chart import XL_CHART_TYPE

    kb = ctx.kb
    kes = kb.known_errors
    tickets = sum(len(k.meta.tickets) for k in kes)
    services = len({k.meta.service for k in kes})
    open_probs = [p for p in kb.problems if p.meta.status != "closed"]
    fixed = [k for k in kes if k.meta.fix.status in ("deployed", "verified")]
    work = D.repeat_work(ctx)
    s = deck.slide("The problem: the same faults come back", "Tickets, known errors and problems from known_errors/ in this edition. "
                   "Repeat tickets per month: the numerator of the repeat ticket rate in " + _snapshot_files(ctx) + " (kedb kpi)."
                   + (f" Cost per repeat ticket: {work.money(work.per_ticket)} (content/kpis.yml repeat_cost: {work.basis})"
                      if work and work.per_ticket else " No cost per ticket is set (repeat_cost in content/kpis.yml), so tickets are "
                      "counted, not costed.")
                   + " Saving at target: the baseline month's repeat cost less the latest month's incidents at the target repeat rate.")  # fmt: skip
    lines: list[Line] = [
        f"{P.count(tickets, 'ticket')} linked to {P.count(len(kes), 'known error')} across {P.count(services, 'service')}.",
        f"{P.count(len(open_probs), 'problem')} open, {len([p for p in open_probs if p.meta.root_cause])} with a root cause; "
        f"{P.count(len(fixed), 'known error')} with a permanent fix deployed.",
    ]
    top = D.top_problems(ctx, 1)
    if top and top[0].meta.trigger:
        t = top[0].meta.trigger
        cust = f" at {P.count(t.distinct_customers, 'customer')}" if t.distinct_customers else ""
        lines.append(f"Largest recurrence: {top[0].id}, {P.count(t.tickets, 'ticket')} in {P.days(t.window_days)}{cust}.")
    half = deck.body_w * 0.46
    used = deck.text(s, lines, deck.margin, deck.top, half, deck.body_h * 0.5, size=17)
    if work is None:
        deck.text(s, ["No KPI snapshot counts repeat tickets yet: run kedb kpi --period YYYY-MM --write."], deck.margin + half + 24,
                  deck.top, deck.body_w - half - 24, 80, size=16)  # fmt: skip
        return
    base_p, base_n, _ = work.baseline
    last_p, last_n, _ = work.latest
    right = deck.margin + half + 24
    tile_w = (deck.w - deck.margin - right - 24) / 3
    year = f"; {work.money((work.saving_at_target or 0) * 12)} a year" if work.saving_at_target is not None else ""
    target = f"{P.quantity(work.target_rate, 'percent')} repeat rate" if work.target_rate is not None else "target"
    tiles = [
        (work.money(work.cost(base_n)) if work.per_ticket else P.number(base_n), f"repeat work in {base_p} (baseline): "
         f"{P.count(round(base_n), 'repeat ticket')}", "worse"),
        (work.money(work.cost(last_n)) if work.per_ticket else P.number(last_n), f"in {last_p}: {P.count(round(last_n), 'repeat ticket')}",
         P.verdict(base_n, last_n, True)),
        (work.money(work.saving_at_target) if work.per_ticket else P.number(base_n - (work.target_repeats or base_n)),
         f"saved a month at the {target}{year}", "better"),
    ]  # fmt: skip
    for k, (figure, label, word) in enumerate(tiles):
        deck.tile(s, figure, label, right + k * (tile_w + 12), deck.top, tile_w, 110, word)
    data = CategoryChartData(number_format="0")
    data.categories = [p for p, _, _ in work.months]
    data.add_series("Repeat tickets", [round(n) for _, n, _ in work.months])
    if work.target_rate is not None:
        data.add_series(
            f"At the target rate ({P.quantity(work.target_rate, 'percent')})",
            [round(t * work.target_rate / 100) for _, _, t in work.months],
        )
    top_chart = deck.top + max(used, 130) + 8
    chart = deck.chart(s, XL_CHART_TYPE.COLUMN_CLUSTERED, data, deck.margin, top_chart, deck.body_w, deck.bottom - top_chart,
                       title="Repeat tickets per month (lower is better)")  # fmt: skip
    chart.value_axis.has_major_gridlines = True
    chart.plots[0].has_data_labels = True
    for series, colour in zip(chart.plots[0].series, ("1F4E79", "A6A6A6"), strict=False):  # the count, then the target level in grey
        series.format.fill.solid()
        series.format.fill.fore_color.rgb = RGBColor.from_string(colour)


# ---------------------------------------------------------------- KPIs
def _trends(ctx: BuildContext, deck: Deck, rows: list[D.KpiRow]) -> None:
    """One slide per direction, one line chart per KPI over every snapshot, with its target."""
    from pptx.chart.data import CategoryChartData
    from pptx.enum.chart import XL_CHART_TYPE

    for lower in (True, False):
        group = [r for r in rows if r.kpi.lower_is_better == lower]
        if not group:
            continue
        s = deck.slide(f"KPI trends: {P.better(lower)}", "Every monthly snapshot in content/kpi/ (" + _snapshot_files(ctx) + "), computed "
                       "by kedb kpi from the ticket export; the dashed series is the value that just meets the target in "
                       "content/kpis.yml (for a target relative to the baseline, worked out from the baseline). A month "
                       "without a point could not be computed (its basis is in the snapshot file). One chart per KPI: "
                       "lower-is-better and higher-is-better KPIs are never drawn on one scale.")  # fmt: skip
        cols = 3 if len(group) >= 5 else 2 if len(group) >= 2 else 1
        rows_n = -(-len(group) // cols)
        gap = 14.0
        cw = (deck.body_w - gap * (cols - 1)) / cols
        ch = (deck.body_h - gap * (rows_n - 1)) / rows_n
        for k, r in enumerate(group):
            points = D.kpi_trend(ctx, r.kpi)
            left = deck.margin + (k % cols) * (cw + gap)
            top = deck.top + (k // cols) * (ch + gap)
            if all(v is None for _, v in points):
                why = next((g for g in D.kpi_gaps([r])), f"{r.kpi.name}: no snapshot has a figure for it yet.")
                deck.text(s, [(f"{r.kpi.name}: not measured", -1), (why.split(": ", 1)[1], -1)], left, top + 10, cw, ch - 10, size=14,
                          bold_first=True)  # fmt: skip
                continue
            data = CategoryChartData(number_format="0.0")
            data.categories = [p for p, _ in points] or ["—"]
            data.add_series(r.kpi.name, [None if v is None else round(v, 1) for _, v in points] or [None])  # as the slides write it
            bound = r.threshold
            if bound is not None:
                data.add_series("Target", [bound] * max(1, len(points)))
            unit = P.SUFFIX.get(r.kpi.unit, "").strip() or r.kpi.unit
            chart = deck.chart(s, XL_CHART_TYPE.LINE_MARKERS, data, left, top, cw, ch, title=f"{r.kpi.name} ({unit}): {r.standing}",
                               legend=False, size=9)  # fmt: skip
            chart.value_axis.has_major_gridlines = True
            _style_trend(chart, r.standing)


def _style_trend(chart: object, standing: str) -> None:
    from pptx.dml.color import RGBColor
    from pptx.enum.dml import MSO_LINE_DASH_STYLE
    from pptx.util import Pt

    series = list(chart.plots[0].series)  # type: ignore[attr-defined]
    main = series[0]
    main.format.line.color.rgb = RGBColor.from_string(P.TONE.get(standing, "1F4E79") if standing != "not measured" else "1F4E79")
    main.format.line.width = Pt(2.25)
    main.smooth = False
    if len(series) > 1:
        t = series[1]
        t.format.line.color.rgb = RGBColor.from_string("7F7F7F")
        t.format.line.dash_style = MSO_LINE_DASH_STYLE.DASH
        t.format.line.width = Pt(1.25)
        t.smooth = False
        from pptx.enum.chart import XL_MARKER_STYLE

        t.marker.style = XL_MARKER_STYLE.NONE


def _kpi_table(ctx: BuildContext, deck: Deck, rows: list[D.KpiRow]) -> None:
    gaps = D.kpi_gaps(rows)
    s = deck.slide("KPI baseline, checkpoints and targets", "Baseline and targets: content/kpis.yml. Week 4 and week 8: the snapshot of "
                   "the month holding each checkpoint (" + _snapshot_files(ctx) + "). A target is absolute (due by the week-8 "
                   "checkpoint) or an improvement range in percent of the baseline (due the given days after the baseline "
                   "month). Since baseline compares the latest value with the baseline, judged by the KPI's direction; standing "
                   "judges the latest value against the target." + (" Missing figures: " + " ".join(gaps) if gaps else ""))  # fmt: skip
    body = [
        [r.kpi.name, P.better_word(r.kpi.lower_is_better), P.quantity(r.baseline, r.kpi.unit), P.quantity(r.week4, r.kpi.unit),
         P.quantity(r.week8, r.kpi.unit), r.target_range, r.due_text, (r.movement_text, r.verdict), (r.standing, r.standing)]
        for r in rows
    ]  # fmt: skip
    height = deck.body_h - (18 * min(len(gaps), 3) + 12 if gaps else 0)
    deck.table(s, ["KPI", "Better", "Baseline", "Week 4", "Week 8", "Target", "Due", "Since baseline", "Standing"], body, deck.margin,
               deck.top, deck.body_w, height, [2.6, 0.9, 1, 1, 1, 1.1, 1, 1.6, 1.2], sizes=(13, 12, 11, 10))  # fmt: skip
    if gaps:
        deck.text(
            s,
            [(g, -1) for g in gaps[:3]],
            deck.margin,
            deck.top + height + 4,
            deck.body_w,
            deck.bottom - deck.top - height - 4,
            size=11,
            min_size=8,
        )


def _volume(ctx: BuildContext, deck: Deck) -> None:
    """Tickets opened and resolved per month as columns, the backlog at each month's end beside them."""
    from pptx.chart.data import CategoryChartData
    from pptx.dml.color import RGBColor
    from pptx.enum.chart import XL_CHART_TYPE

    months = D.volume(ctx)
    if not months:
        return
    names = [name for _, name in D.VOLUME]
    partial = [f"{m.period}: {m.coverage}" for m in months if m.coverage]
    s = deck.slide("Ticket volume and backlog by month", "Tickets opened and resolved in each month, and the backlog (tickets "
                   "opened before the month's end and still open then), from the KPI snapshots (" + _snapshot_files(ctx) + "), "
                   "computed by kedb kpi from the ticket export." + (" Months covered in part: " + "; ".join(partial) if partial
                   else ""))  # fmt: skip
    width = deck.body_w * 0.62
    data = CategoryChartData(number_format="#,##0")
    data.categories = [m.period for m in months]
    for k, name in enumerate(names):
        data.add_series(name, [m.values[k] for m in months])
    chart = deck.chart(s, XL_CHART_TYPE.COLUMN_CLUSTERED, data, deck.margin, deck.top, width, deck.body_h,
                       title="Tickets per month (opened, resolved, open at month end)", size=10)  # fmt: skip
    chart.value_axis.has_major_gridlines = True
    for series, colour in zip(chart.plots[0].series, ("9DC3E6", "1F4E79", "A6A6A6"), strict=False):  # no colour reads as good or bad
        series.format.fill.solid()
        series.format.fill.fore_color.rgb = RGBColor.from_string(colour)
    body = [[m.period, *(P.quantity(v, "count") for v in m.values)] for m in months]
    left = deck.margin + width + 16
    deck.table(s, ["Month", "Opened", "Resolved", "Backlog"], body, left, deck.top, deck.w - deck.margin - left, deck.body_h,
               [1.1, 1, 1, 1], sizes=(13, 12, 11, 10))  # fmt: skip


def _audit(deck: Deck, v: A.AuditView) -> None:
    """The flow audit, first against latest: a table of the figures and a native chart of progression per stage."""
    from pptx.chart.data import CategoryChartData
    from pptx.dml.color import RGBColor
    from pptx.enum.chart import XL_CHART_TYPE

    a, b = v.first, v.latest
    s = deck.slide("Aged-ticket audit", f"Flow audits in content/audits/ ({', '.join(str(x.as_of) for x in v.audits)}), computed by kedb "
                   f"tickets audit from the imported tickets over {P.days(b.window_days)} each. Each figure's basis is in "
                   f"content/audits/{b.as_of}.yml. {b.at_risk_total} open tickets were at risk of breaching the SLA as of {b.as_of}; "
                   "the internal register lists them.")  # fmt: skip
    body = [[m.name, P.quantity(m.before, m.unit), P.quantity(m.after, m.unit), A.change(m), (m.verdict, m.verdict)] for m in v.movements]
    width = deck.body_w * 0.58
    deck.table(s, ["Figure", str(a.as_of), str(b.as_of), "Change", "Verdict"], body, deck.margin, deck.top, width, deck.body_h,
               [3.4, 1.1, 1.1, 1, 1.1], sizes=(11, 10, 9, 8))  # fmt: skip
    stages = [r.key for r in b.by_stage]
    if stages:
        data = CategoryChartData(number_format="0")
        data.categories = stages
        for audit in (a, b) if a is not b else (b,):
            shares = {r.key: r.value for r in audit.by_stage}
            data.add_series(f"As of {audit.as_of}", [shares.get(k) for k in stages])
        left = deck.margin + width + 16
        chart = deck.chart(s, XL_CHART_TYPE.BAR_CLUSTERED, data, left, deck.top, deck.w - deck.margin - left, deck.body_h,
                   title="Periods moved on in time, per stage (%; higher is better)", size=9)  # fmt: skip
        for series, colour in zip(chart.plots[0].series, ("9DC3E6", "1F4E79"), strict=False):  # first audit light, latest dark
            series.format.fill.solid()
            series.format.fill.fore_color.rgb = RGBColor.from_string(colour)


def _recurring(ctx: BuildContext, deck: Deck) -> None:
    from pptx.chart.data import CategoryChartData
    from pptx.enum.chart import XL_CHART_TYPE

    s = deck.slide("Top recurring problems and their fix status", "Problem records in known_errors/ (PRB-*.md): tickets in the "
                   "trigger window that opened each (trigger.tickets, from the recurrence rules in content/recurrence.yml), the "
                   "problem's stage and the fix status of its known errors.")  # fmt: skip
    top = D.top_problems(ctx, 6)
    if not top:
        deck.text(s, ["No problem records in this edition."], deck.margin, deck.top, deck.body_w / 2, 60)
        return
    data = CategoryChartData(number_format="0")
    data.categories = [p.id for p in reversed(top)]
    data.add_series(
        "Tickets in trigger window", [(p.meta.trigger.tickets if p.meta.trigger else len(p.meta.tickets)) for p in reversed(top)]
    )
    chart = deck.chart(s, XL_CHART_TYPE.BAR_CLUSTERED, data, deck.margin, deck.top, deck.body_w * 0.28, deck.body_h,
                       title="Tickets in the trigger window", legend=False)  # fmt: skip
    chart.plots[0].has_data_labels = True
    body = []
    for p in top:
        t = p.meta.trigger
        window = f"{t.tickets} in {P.days(t.window_days)}" if t else f"{len(p.meta.tickets)} linked"
        body.append([f"{p.id} {p.meta.title}", window, D.fix_status(ctx, p), p.meta.change_ref or P.NONE])
    left = deck.margin + deck.body_w * 0.3
    deck.table(s, ["Problem", "Tickets", "Stage and fix", "Change"], body, left, deck.top, deck.w - deck.margin - left, deck.body_h,
               [3.4, 1, 1.8, 1.2], sizes=(12, 11, 10, 9))  # fmt: skip


# ---------------------------------------------------------------- risks, approvals, the next 30 days
def _risks(ctx: BuildContext, deck: Deck) -> None:
    today = D.build_day(ctx)
    s = deck.slide("Top risks: actions, owners and dates", "Risks from content/risks.yml ranked by likelihood × impact (low 1, medium 2, "
                   "high 3). The action shown is each risk's earliest open action; the next review is one review cadence after "
                   "the last (reviewed). Red dates are past.")  # fmt: skip
    body = []
    for r in D.top_risks(ctx, 5):
        action = min((a for a in r.actions if a.status == "open"), key=lambda a: a.due, default=None)
        nxt = D.next_review(r)
        due = (action.due.isoformat(), "overdue") if action and action.due < today else (action.due.isoformat() if action else P.NONE)
        review = (nxt.isoformat(), "overdue") if nxt and nxt < today else (nxt.isoformat() if nxt else "not reviewed yet")
        body.append([f"{r.id} {r.title}", f"{D.risk_score(r)} ({r.likelihood} × {r.impact})", D.person(ctx, r.owner),
                     action.action if action else "no open action", D.person(ctx, action.owner) if action else P.NONE, due, review])  # fmt: skip
    deck.table(s, ["Risk", "Score", "Owner", "Next action", "Action owner", "Due", "Next review"], body, deck.margin, deck.top,
               deck.body_w, deck.body_h, [3.2, 1.2, 1.1, 3.2, 1.1, 1, 1.1], sizes=(12, 11, 10, 9))  # fmt: skip


def _approvals(ctx: BuildContext, deck: Deck) -> None:
    rep = ctx.approvals
    s = deck.slide("Approvals: waiting, and the gate on main", "Waiting: records in review in this edition (status in-review in "
                   "known_errors/); high-impact ones need an approver of their service from content/roles.yml. The gate: every "
                   "version on main judged by kedb check --approvals from git history (Approved-by trailers) at commit "
                   f"{ctx.info.short}; the proof brief lists each version with its commit.")  # fmt: skip
    waiting = D.awaiting_approval(ctx)
    half = (deck.body_w - 24) / 2
    body = [[f"{p.record} {p.title}", p.reason] for p in waiting]
    if body:
        deck.text(
            s, [(f"{P.count(len(waiting), 'record')} waiting for approval", -1)], deck.margin, deck.top, half, 28, size=16, bold_first=True
        )
        n = deck.table(s, ["Record", "Needs"], body, deck.margin, deck.top + 32, half, deck.body_h - 60, [3, 1.4], sizes=(12, 11, 10))
        if n < len(body):
            deck.text(s, [(f"and {len(body) - n} more: see the register", -1)], deck.margin, deck.bottom - 24, half, 24, size=11)
    else:
        deck.text(s, [("No record is waiting for approval.", -1)], deck.margin, deck.top, half, 40, size=16)
    right = deck.margin + half + 24
    if rep is None:
        deck.text(s, [(ctx.info.history_note or "No git history: the gate could not be checked.", -1)], right, deck.top, half, 80, size=14)
        return
    counts = {label: sum(1 for a in rep.items if APPROVAL_LABEL[a.status] == label) for label in dict.fromkeys(APPROVAL_LABEL.values())}
    since = f"since {rep.gate_since}" if rep.gate_since else "not started (no approvals_since)"
    deck.text(s, [(f"Record versions on main, gate {since}", -1)], right, deck.top, half, 28, size=16, bold_first=True)
    fine = ("approved", "no approval needed", "before the approval gate")
    rows = [[label, (str(n), "fail") if n and label not in fine else str(n)] for label, n in counts.items() if n or label in fine[:1]]
    deck.table(s, ["Judgement", "Versions"], rows, right, deck.top + 32, half, deck.body_h - 32, [3, 1], sizes=(12, 11))


def _next_30(ctx: BuildContext, deck: Deck) -> None:
    today = D.build_day(ctx)
    items = D.calendar(ctx, NEXT_DAYS)
    phases = D.rhythm_dates(ctx)
    rhythm = ""
    if phases:
        first, last = phases[0][0], phases[-1][1]
        rhythm = (f"The 30-day rhythm ran {first} – {last}; what follows is the running cadence." if last < today
                  else f"The 30-day rhythm runs {first} – {last}.")  # fmt: skip
    end = today.toordinal() + NEXT_DAYS
    s = deck.slide(f"The next 30 days: {today} – {type(today).fromordinal(end)}",
                   "Dated from the build date on the real calendar. Rhythm phases: content/rhythm.yml from day 1 "
                   f"({D.program_start(ctx)}, four weeks before the week-4 checkpoint). Cadence: a KPI snapshot after each month "
                   "(kedb kpi), a flow audit four weeks after the last (kedb tickets audit), risk reviews one cadence after the last "
                   "(content/risks.yml). Record reviews (review_by), prevention actions (known_errors/PRB-*.md), risk actions and "
                   "control remediations due, and records waiting for approval. Red: overdue.")  # fmt: skip
    top = deck.top
    if rhythm:
        deck.text(s, [(rhythm, -1)], deck.margin, top, deck.body_w, 26, size=14)
        top += 28
    body = [[(i.day.isoformat(), "overdue") if i.overdue(today) else i.day.isoformat(), i.what, i.who] for i in items]
    if not body:
        deck.text(s, [("Nothing falls due in the next 30 days.", -1)], deck.margin, top, deck.body_w, 40, size=16)
        return
    body = body[:NEXT_ROWS]
    n = deck.table(
        s, ["Due", "What", "Who"], body, deck.margin, top, deck.body_w, deck.bottom - top - 24, [1, 5.2, 1.8], sizes=(14, 13, 12)
    )
    n_all = len(items)
    if n < n_all:
        deck.text(s, [(f"and {n_all - n} more in the next 30 days: the runbook's calendar lists every one.", -1)],
                  deck.margin, deck.bottom - 22, deck.body_w, 22, size=11)  # fmt: skip


def _sources(ctx: BuildContext, deck: Deck) -> None:
    i = ctx.info
    s = deck.slide("Where these figures come from", "Everything in this deck is rebuilt from the repository by kedb build; the same "
                   "commit gives the same file. The proof brief carries the SHA-256 of every source file and of this deck.")  # fmt: skip
    audits = ", ".join(f"content/audits/{a.as_of}.yml" for a in ctx.kb.audits) or "none stored"
    rows = [
        ["KPI values and trends", _snapshot_files(ctx), "kedb kpi --period YYYY-MM --write, from the imported ticket export"],
        ["Baselines, targets, directions, cost per ticket", "content/kpis.yml", "written by the problem managers"],
        ["Known errors, problems, recurrence", "known_errors/", f"{P.count(len(ctx.kb.records), 'record')} in this edition"],
        ["Risks, controls, actions", "content/risks.yml", "reviewed by the risk owners"],
        ["Approvals", "git history of main", f"commit {i.short}; Approved-by trailers judged by kedb check --approvals"],
        ["Aged-ticket audit", audits, "kedb tickets audit --write"],
        ["This deck", f"commit {i.short}, {P.day(i.date)}", f"kedb {i.kedb_version}, {D.edition(ctx)}"],
    ]
    if i.history_note:
        rows.append(["History", i.history_note, ""])
    deck.table(s, ["Figures", "Source", "How it is produced"], rows, deck.margin, deck.top, deck.body_w, deck.body_h, [2.2, 2.6, 3.2],
               sizes=(13, 12, 11, 10))  # fmt: skip
