"""``kpi-and-risk-register.xlsx``: KPI baseline tracker, risk and control register, known-error
register, the changes by commit and the flow audit.

One table per sheet, each with its header frozen, filtered and printed on every page, A4
landscape fitted to the page width, named fonts throughout (:mod:`._sheet`). The tracker computes
movement, better or worse, and where each KPI stands with formulas, and charts each direction on
its own; the risk register scores likelihood × impact and dates the next review with formulas.
KPI values come from ``content/kpis.yml`` (baseline) and the KPI snapshots (week 4, week 8); a
value that has not been measured is left empty and the Notes column says how to produce it.
Record text is always stored as text (:func:`text_cell`): a value starting with ``=``, ``+``,
``-``, ``@`` or a tab is written as a string cell with Excel's quote prefix, never as a formula.
Only the formulas the renderer writes itself (:class:`._sheet.Formula`) are formulas.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..build import facts as D
from ..core import present as P
from ..core import standing as S
from . import _audit as A
from . import _evidence as E
from . import file_name
from ._md import clean_plain
from ._sheet import BREACH_FILL, WARN_FILL, Formula, facts, fill, judged, validation
from ._sheet import table as _table
from ._zip import normalise

if TYPE_CHECKING:
    from openpyxl.worksheet.worksheet import Worksheet

    from ..build.context import BuildContext

FILE_NAME = file_name("xlsx")
FORMULA_LIKE = ("=", "+", "-", "@", "\t", "\r", "\n")
IDS_PER_COMMIT = 200  # records listed in one commit's row; a cell holds at most 32,767 characters
LEVELS = '{"low","medium","high"}'


def text_cell(ws: Worksheet, row: int, col: int, value: Any) -> Any:
    """Write a value; strings are always inert text (never a formula, never a link)."""
    if isinstance(value, Formula):
        cell = ws.cell(row=row, column=col, value=value.text)
        if value.number_format:
            cell.number_format = value.number_format
        return cell
    if isinstance(value, str):
        value = clean_plain(value)
        # openpyxl's own setter, though it looks again for the control characters clean took out
        # (a tenth of the sheet's time): this is a guard, and the library's check stays in it.
        cell = ws.cell(row=row, column=col, value=value)
        if value.startswith(FORMULA_LIKE):
            cell.data_type = "s"
            cell.quotePrefix = True
        return cell
    return ws.cell(row=row, column=col, value=value)


def table(ws: Worksheet, header: list[str], widths: list[float], rows: list[list[Any]], **kw: Any) -> int:
    """One table on its sheet (see :func:`._sheet.table`), every value written by :func:`text_cell`."""
    return _table(ws, text_cell, header, widths, rows, **kw)


def render(ctx: BuildContext, out_dir: Path) -> Path:
    from openpyxl import Workbook

    out_dir.mkdir(parents=True, exist_ok=True)
    wb = Workbook()
    rows = sorted(D.kpi_rows(ctx), key=lambda r: not r.kpi.lower_is_better)  # lower-is-better first: one chart per direction
    _kpi_sheet(ctx, wb.active, rows)
    _kpi_definitions(ctx, wb.create_sheet("KPI definitions"), rows)
    _snapshots_sheet(ctx, wb.create_sheet("KPI snapshots"))
    tenants = D.tenant_kpis(ctx)
    if tenants:
        _tenant_sheet(tenants, wb.create_sheet("KPIs by tenant"))
    _volume_sheet(ctx, wb.create_sheet("Volume and backlog"))
    _risk_sheet(ctx, wb.create_sheet("Risks"))
    _actions_sheet(ctx, wb.create_sheet("Risk actions"))
    runs = _control_sheet(ctx, wb.create_sheet("Controls"))
    _frameworks_sheet(ctx, wb.create_sheet("Framework mapping"), runs)
    _runs_sheet(ctx, wb.create_sheet("Control runs"), runs)
    _ke_sheet(ctx, wb.create_sheet("Known errors"))
    _commits_sheet(ctx, wb.create_sheet("Changes by commit"))
    audits = A.view(ctx)
    if audits is not None:
        _audit_sheets(wb, audits)
    _about_sheet(ctx, wb.create_sheet("About"), rows)
    p = wb.properties
    p.title = f"{D.title_of(ctx)}: KPI and risk register"
    p.subject = D.edition(ctx)
    p.creator = p.lastModifiedBy = "kedb"
    p.created = p.modified = ctx.info.date.replace(tzinfo=None)
    path = out_dir / FILE_NAME
    wb.save(path)
    return normalise(path, ctx.info.date)


# ---------------------------------------------------------------- KPI tracker
KPI_HEADER = [
    "KPI", "Unit", "Better", "Baseline", "Week 4", "Week 8", "Latest", "Latest as of", "Target", "Target due", "Week 4 vs baseline",
    "Week 8 vs baseline", "Latest vs baseline %", "Since baseline", "Standing", "Owner", "Notes",
    "Improve at least % (relative target)", "Target min (absolute)", "Target max (absolute)",
    "Week 4 index (baseline = 100)", "Week 8 index (baseline = 100)",
]  # fmt: skip
KPI_PRINTED = "Q"  # the target's parameters and the index columns after it feed the formulas and charts; they are not printed
INDEX_COLUMNS = (21, 22)
ROW_CM = 0.45  # height of a default row as LibreOffice and Excel draw it (12.75 pt), to place the next chart below the last
JUDGED = ["better", "worse", "no change", *S.WORDS]  # S.WORDS holds "not measured"


def standing_formula(i: int) -> str:
    """Row ``i``'s standing as a formula: the rule of :func:`kedb.core.standing.judge`, read from the
    row's cells (D baseline, G latest, H the last day of its month, C direction, J the deadline, R the
    least improvement in percent of a relative target, S/T an absolute target's bounds)."""
    gain = f'IF(C{i}="lower",D{i}-G{i},G{i}-D{i})/ABS(D{i})*100'
    relative, absolute = f"ISNUMBER(R{i})", f"OR(ISNUMBER(S{i}),ISNUMBER(T{i}))"
    inside = f"AND(OR(NOT(ISNUMBER(S{i})),G{i}>=S{i}),OR(NOT(ISNUMBER(T{i})),G{i}<=T{i}))"
    short = f'IF(AND(ISNUMBER(H{i}),ISNUMBER(J{i}),H{i}>=J{i}),"missed","at risk")'
    return (
        f'=IF(AND(NOT({relative}),NOT({absolute})),"no target",IF(NOT(ISNUMBER(G{i})),"not measured",'
        f'IF({relative},IF(OR(NOT(ISNUMBER(D{i})),D{i}=0),"not measured",IF(ROUND({gain},9)>=R{i},"on track",{short})),'
        f'IF({inside},"on track",{short}))))'
    )


def _kpi_sheet(ctx: BuildContext, ws: Worksheet, rows: list[D.KpiRow]) -> None:
    from openpyxl.chart import BarChart, Reference
    from openpyxl.chart.series import SeriesLabel
    from openpyxl.worksheet.pagebreak import Break

    ws.title = "KPI tracker"
    data = []
    for i, r in enumerate(rows, start=2):
        k, t = r.kpi, r.kpi.target
        as_of = S.period_end(r.latest_period) if r.latest_period else None
        data.append([
            k.name, k.unit, P.better_word(k.lower_is_better), r.baseline, r.week4, r.week8, r.latest, as_of,
            S.target_text(k, None), r.judgement.due,
            Formula(f'=IF(AND(ISNUMBER(E{i}),ISNUMBER(D{i})),E{i}-D{i},"")'),
            Formula(f'=IF(AND(ISNUMBER(F{i}),ISNUMBER(D{i})),F{i}-D{i},"")'),
            Formula(f'=IF(AND(ISNUMBER(G{i}),ISNUMBER(D{i}),D{i}<>0),(G{i}-D{i})/ABS(D{i}),"")', "0.0%"),
            Formula(f'=IF(OR(NOT(ISNUMBER(G{i})),NOT(ISNUMBER(D{i}))),"not measured",IF(G{i}=D{i},"no change",'
                    f'IF((G{i}<D{i})=(C{i}="lower"),"better","worse")))'),
            Formula(standing_formula(i)),
            D.person(ctx, k.owner), " ".join(g.split(": ", 1)[1] for g in D.kpi_gaps([r])),
            t.improve.min_percent if t.improve else None, None if t.improve else t.min, None if t.improve else t.max,
            Formula(f"=IF(AND(ISNUMBER(E{i}),ISNUMBER(D{i}),D{i}<>0),ROUND(E{i}/D{i}*100,1),NA())"),
            Formula(f"=IF(AND(ISNUMBER(F{i}),ISNUMBER(D{i}),D{i}<>0),ROUND(F{i}/D{i}*100,1),NA())"),
        ])  # fmt: skip
    widths = [24, 8, 7, 9, 9, 9, 9, 10, 14, 10, 9, 9, 9, 11, 11, 14, 32, 11, 10, 10, 11, 11]
    last = table(ws, KPI_HEADER, widths, data, freeze="B2", dates=(8, 10))
    if not data:
        return
    judged(ws, f"N2:O{last}", JUDGED)
    validation(ws, "C", last, ["lower", "higher"], "better when")
    notes = ["Standing of the latest figure, as of the last day of its month (Latest as of), against the target due on Target due.",
             *S.RULES, "The formulas read the target from columns R to T. Each chart below holds the KPIs of one direction only."]  # fmt: skip
    for n, line in enumerate(notes, start=last + 2):
        text_cell(ws, n, 1, line)
    anchor = last + 3 + len(notes)
    for lower in (True, False):
        idx = [n for n, r in enumerate(rows, start=2) if r.kpi.lower_is_better == lower and r.baseline]
        if not idx:
            continue
        chart = BarChart()
        chart.type = "bar"
        chart.title = f"{P.better(lower).capitalize()}: index of the baseline (baseline = 100)"
        chart.y_axis.title = "index"
        chart.add_data(Reference(ws, min_col=INDEX_COLUMNS[0], max_col=INDEX_COLUMNS[1], min_row=idx[0], max_row=idx[-1]),
                       titles_from_data=False)  # fmt: skip
        chart.set_categories(Reference(ws, min_col=1, min_row=idx[0], max_row=idx[-1]))
        chart.y_axis.scaling.min = 0  # an index axis starting above zero exaggerates every bar
        for series, name, colour in zip(chart.series, ("Week 4", "Week 8"), ("9DC3E6", "1F4E79"), strict=False):
            series.tx = SeriesLabel(v=name)
            series.graphicalProperties.solidFill = colour  # checkpoints light to dark: no colour reads as good or bad
            series.graphicalProperties.line.solidFill = colour
        chart.height, chart.width = 3.5 + 1.5 * len(idx), 26
        # Each chart starts a page, a row below the break: a chart cut by a page break, or whose frame touches the
        # page above, is drawn (clipped) on both pages.
        ws.row_breaks.append(Break(id=anchor - 1))
        ws.add_chart(chart, f"A{anchor + 1}")
        anchor += math.ceil(chart.height / ROW_CM) + 3
    ws.print_area = f"A1:{KPI_PRINTED}{anchor}"


def _kpi_definitions(ctx: BuildContext, ws: Worksheet, rows: list[D.KpiRow]) -> None:
    data = [[r.kpi.id, r.kpi.name, r.kpi.definition, r.kpi.formula, r.kpi.unit, P.better(r.kpi.lower_is_better), r.target_text,
             r.kpi.source, D.person(ctx, r.kpi.owner)] for r in rows]  # fmt: skip
    table(ws, ["KPI id", "KPI", "Definition", "Formula", "Unit", "Better", "Target", "Source", "Owner"], [20, 22, 48, 34, 8, 14, 16, 9, 13],
          data)  # fmt: skip


def _snapshots_sheet(ctx: BuildContext, ws: Worksheet) -> None:
    """Every KPI in every stored snapshot: the trend behind the checkpoints."""
    k = ctx.kb.program.kpis
    snaps = sorted(ctx.kb.kpi_snapshots, key=lambda s: s.period)
    periods = [s.period for s in snaps]
    data = []
    for kpi in k.kpis if k else ():
        trend = dict(D.kpi_trend(ctx, kpi))
        data.append([kpi.id, kpi.name, kpi.unit, P.better_word(kpi.lower_is_better), *(trend.get(p) for p in periods)])
    last = table(ws, ["KPI id", "KPI", "Unit", "Better", *periods], [22, 26, 9, 8, *([11] * len(periods))], data, freeze="C2")
    for row in ws.iter_rows(min_row=2, max_row=last, min_col=5, max_col=4 + len(periods)):
        for cell in row:
            cell.number_format = "#,##0.0#"


def _tenant_sheet(tenants: list[D.TenantKpis], ws: Worksheet) -> None:
    """Each tenant's months and where it stands against its own baseline (:func:`kedb.build.facts.tenant_kpis`)."""
    periods = sorted({p for t in tenants for p in t.periods})
    data = []
    for t in tenants:
        for r in t.rows:
            data.append([t.tenant, r.kpi.name, r.kpi.unit, P.better_word(r.kpi.lower_is_better), r.baseline,
                         *(t.figures[r.kpi.id].get(p) for p in periods), r.latest_period or P.NONE, r.target_range, r.standing,
                         r.baseline_note])  # fmt: skip
    header = ["Tenant", "KPI", "Unit", "Better", "Own baseline", *periods, "Latest as of", "Target", "Standing", "Notes"]
    last = table(ws, header, [10, 26, 9, 8, 11, *([11] * len(periods)), 11, 18, 12, 30], data, freeze="C2")
    for row in ws.iter_rows(min_row=2, max_row=last, min_col=5, max_col=5 + len(periods)):
        for cell in row:
            cell.number_format = "#,##0.0#"


def _volume_sheet(ctx: BuildContext, ws: Worksheet) -> None:
    """Tickets opened, resolved and open at each month's end, from every snapshot (:func:`kedb.build.facts.volume`)."""
    months = D.volume(ctx)
    names = [name for _, name in D.VOLUME]
    data = [[m.period, *m.values, m.coverage or "the whole month"] for m in months]
    last = table(ws, ["Month", *names, "Export covers"], [10, 14, 14, 16, 44], data, freeze="B2")
    for row in ws.iter_rows(min_row=2, max_row=last, min_col=2, max_col=1 + len(names)):
        for cell in row:
            cell.number_format = "#,##0"
    if not data:
        text_cell(ws, 3, 1, "No KPI snapshot holds volume figures yet: run kedb kpi --period YYYY-MM --write.")


# ---------------------------------------------------------------- risks, actions, controls
def _risk_sheet(ctx: BuildContext, ws: Worksheet) -> None:
    from openpyxl.formatting.rule import CellIsRule, FormulaRule

    risks = ctx.kb.program.risks
    data: list[list[Any]] = []
    for i, r in enumerate(risks.risks if risks else (), start=2):
        action = min((a for a in r.actions if a.status == "open"), key=lambda a: a.due, default=None)
        months = D.CADENCE_MONTHS[r.review_cadence]
        data.append([
            r.id, f"{r.title}\n{r.failure_mode}", r.likelihood, r.impact, Formula(f"=MATCH(C{i},{LEVELS},0)*MATCH(D{i},{LEVELS},0)"),
            D.person(ctx, r.owner), r.review_cadence, r.reviewed, Formula(f'=IF(ISNUMBER(H{i}),EDATE(H{i},{months}),"")', "yyyy-mm-dd"),
            r.status, action.action if action else "no open action", D.person(ctx, action.owner) if action else "", action.due if action else None,
        ])  # fmt: skip
    header = ["Risk id", "Risk and how it fails", "Likelihood", "Impact", "Score (L × I)", "Owner", "Review cadence", "Last reviewed",
              "Next review", "Status", "Next action", "Action owner", "Due"]  # fmt: skip
    last = table(ws, header, [7, 56, 9, 8, 7, 13, 9, 10, 10, 10, 30, 13, 10], data, dates=(8, 13))
    if not data:
        return
    validation(ws, "J", last, ["open", "mitigating", "accepted", "closed"], "risk status")
    validation(ws, "C", last, ["low", "medium", "high"], "likelihood")
    validation(ws, "D", last, ["low", "medium", "high"], "impact")
    ws.conditional_formatting.add(f"E2:E{last}", CellIsRule(operator="greaterThanOrEqual", formula=["6"], fill=fill(BREACH_FILL)))
    ws.conditional_formatting.add(f"E2:E{last}", CellIsRule(operator="between", formula=["3", "5"], fill=fill(WARN_FILL)))
    for col in ("I", "M"):
        ws.conditional_formatting.add(f"{col}2:{col}{last}", FormulaRule(formula=[f'AND(ISNUMBER({col}2),{col}2<TODAY(),$J2<>"closed")'],
                                                                          fill=fill(BREACH_FILL)))  # fmt: skip


def _actions_sheet(ctx: BuildContext, ws: Worksheet) -> None:
    from openpyxl.formatting.rule import FormulaRule

    risks = ctx.kb.program.risks
    data = [[r.id, r.title, a.action, D.person(ctx, a.owner), a.due, a.status] for r in (risks.risks if risks else ()) for a in r.actions]
    last = table(ws, ["Risk id", "Risk", "Action", "Owner", "Due", "Status"], [8, 40, 56, 16, 11, 9], data, dates=(5,))
    if data:
        validation(ws, "F", last, ["open", "done"], "action status")
        ws.conditional_formatting.add(
            f"E2:E{last}", FormulaRule(formula=['AND(ISNUMBER(E2),E2<TODAY(),$F2="open")'], fill=fill(BREACH_FILL))
        )
        judged(ws, f"F2:F{last}", ["done"])


def _control_sheet(ctx: BuildContext, ws: Worksheet) -> list[E.ControlRun]:
    from openpyxl.formatting.rule import CellIsRule

    runs = E.runs(ctx)
    data = []
    for run in runs:
        c = run.control
        mapping = "\n".join(x.text for x in c.mappings)
        data.append([c.id, run.risk.id, c.description, c.type, D.person(ctx, c.owner), c.frequency, c.status, mapping])
    header = ["Control id", "Risk id", "What it does", "Type", "Owner", "Frequency", "Status", "Framework mapping"]
    last = table(ws, header, [8, 7, 56, 10, 13, 18, 12, 30], data)
    if data:
        validation(ws, "G", last, ["planned", "operating", "needs-improvement"], "control status")
        validation(ws, "D", last, ["preventive", "detective", "corrective"], "control type")
        ws.conditional_formatting.add(f"G2:G{last}", CellIsRule(operator="equal", formula=['"needs-improvement"'], fill=fill(BREACH_FILL)))
        ws.conditional_formatting.add(f"G2:G{last}", CellIsRule(operator="equal", formula=['"planned"'], fill=fill(WARN_FILL)))
    return runs


def _frameworks_sheet(ctx: BuildContext, ws: Worksheet, runs: list[E.ControlRun]) -> None:
    """One row per framework reference and control that maps to it (:func:`kedb.build.facts.framework_refs`),
    with the control's status and last result, so a reviewer filters one framework and sees its evidence."""
    by_id = {run.control.id: run for run in runs}
    data = []
    for f in D.framework_refs(ctx):
        for cid in f.controls:
            run = by_id.get(cid)
            data.append([f.framework, f.ref, cid, run.risk.id if run else "", run.control.status if run else "",
                         run.result if run else ""])  # fmt: skip
    last = table(ws, ["Framework", "Reference", "Control id", "Risk id", "Control status", "Last result"], [20, 40, 9, 8, 14, 10], data)
    if data:
        judged(ws, f"F2:F{last}", ["pass", "fail", "not run"])
    else:
        text_cell(ws, 3, 1, "No control in content/risks.yml carries a framework mapping.")


def _runs_sheet(ctx: BuildContext, ws: Worksheet, runs: list[E.ControlRun]) -> None:
    """Each control's evidence, its last run and result as of the build date, and its remediation."""
    data = []
    for run in runs:
        m = run.control.remediation
        data.append([run.control.id, run.source, run.last_run, run.reference, run.result, run.detail, m.action if m else "",
                     D.person(ctx, m.owner) if m else "", m.due if m else None])  # fmt: skip
    header = ["Control id", "Evidence source", "Last run", "Run reference", "Result", "Finding", "Remediation", "Remediation owner", "Due"]
    last = table(ws, header, [8, 32, 10, 24, 8, 28, 30, 13, 10], data, dates=(9,))
    if data:
        judged(ws, f"E2:E{last}", ["pass", "fail", "not run"])


# ---------------------------------------------------------------- known errors and their changes
KE_HEADER = [
    "Id", "Title", "Status", "Service", "Priority", "Risk tags", "Owner", "Review by", "Problem", "Fix", "Workarounds",
    "Tickets linked", "Recurrence", "Last changed",
]  # fmt: skip


def _ke_sheet(ctx: BuildContext, ws: Worksheet) -> None:
    from openpyxl.formatting.rule import CellIsRule, FormulaRule

    rows: list[list[Any]] = []
    for ke in ctx.kb.known_errors:
        m = ke.meta
        rec = D.recurrence(ctx, ke)
        prb = D.problem_of(ctx, ke)
        latest = ctx.history.of(ke.id).latest if ctx.history else None
        recurrence = f"{rec.trigger_tickets} in {P.days(rec.window_days)}" if rec.trigger_tickets is not None else ""
        if recurrence and rec.distinct_customers:
            recurrence += f", {P.count(rec.distinct_customers, 'customer')}"
        rows.append([
            ke.id, m.title, m.status, D.service_name(ctx, m.service), m.priority, ", ".join(m.risk_tags), D.person(ctx, m.owner),
            m.review_by, f"{prb.id} ({prb.meta.status})" if prb else "", m.fix.status + (f" ({m.fix.change_ref})" if m.fix.change_ref else ""),
            ", ".join(ctx.shown(m.workarounds)), rec.tickets_linked, recurrence, latest.date.date() if latest else None,
        ])  # fmt: skip
    widths = [9, 38, 10, 20, 7, 9, 13, 10, 16, 16, 12, 7, 15, 10]
    last = table(ws, KE_HEADER, widths, rows, dates=(8, 14))
    if rows:
        validation(ws, "C", last, ["draft", "in-review", "published", "retired"], "status")
        validation(ws, "E", last, ["P1", "P2", "P3"], "priority")
        ws.conditional_formatting.add(
            f"H2:H{last}", FormulaRule(formula=['AND(ISNUMBER($H2),$H2<TODAY(),$C2<>"retired")'], fill=fill(BREACH_FILL))
        )
        ws.conditional_formatting.add(f"E2:E{last}", CellIsRule(operator="equal", formula=['"P1"'], fill=fill(WARN_FILL)))


def _commits_sheet(ctx: BuildContext, ws: Worksheet) -> None:
    """The changes to records, one row per commit (newest first) with every record it changed."""
    data = []
    for ct in D.commit_trail(ctx):
        c = ct.change
        ids = [rid for rid, _, _ in ct.versions]
        shown = ", ".join(ids[:IDS_PER_COMMIT]) + (f" and {len(ids) - IDS_PER_COMMIT} more" if len(ids) > IDS_PER_COMMIT else "")
        judgements = "; ".join(f"{label}: {P.count(len(rids), 'version')}" for label, rids in ct.judgements.items())
        data.append([c.date.date(), c.short, ct.title, c.merge_request or "", ", ".join(p.name for p in c.authors), len(ids), shown,
                     ", ".join(ct.approvers) or P.NONE, judgements])  # fmt: skip
    header = ["Landed", "Commit", "Subject", "Merge request", "Authors", "Records", "Record ids", "Approved by", "Approval judgement"]
    last = table(ws, header, [10, 11, 34, 12, 18, 7, 30, 18, 26], data, dates=(1,), freeze="C2")
    if data:
        from openpyxl.formatting.rule import FormulaRule
        from openpyxl.styles import Font

        ws.conditional_formatting.add(f"I2:I{last}", FormulaRule(formula=['ISNUMBER(SEARCH("approved:",I2))'],
                                                                 font=Font(name="Calibri", size=10, bold=True, color=P.TONE["pass"])))  # fmt: skip
    if ctx.history is None:
        text_cell(ws, 3, 1, ctx.info.history_note or "No git history: changes are not shown.")


# ---------------------------------------------------------------- aged-ticket audit
def _audit_sheets(wb: Any, v: A.AuditView) -> None:
    """The stored flow audits side by side, movement and verdict as formulas; then, each on its own
    sheet, progression per stage, the age profile and (internal edition only) the tickets at risk."""
    from openpyxl.utils import get_column_letter as col

    ws = wb.create_sheet("Aged-ticket audit")
    n = len(v.audits)
    first, last_col, move = col(5), col(4 + n), col(5 + n)
    header = ["Figure id", "Figure", "Unit", "Better when", *(f"As of {a.as_of}" for a in v.audits), "Movement (latest − first)",
              "Verdict", "Tickets (latest)", "How it was computed (latest)"]  # fmt: skip
    rows: list[list[Any]] = []
    for r, m in enumerate(v.movements, start=2):
        latest = v.latest.figure(m.id)
        verdict = Formula(
            f'=IF(NOT(ISNUMBER({move}{r})),"not comparable",IF({move}{r}=0,"no change",IF(({move}{r}<0)=(D{r}="lower"),"better","worse")))'
        )
        rows.append([m.id, m.name, m.unit, A.better_when(m.id), *((f.value if (f := a.figure(m.id)) else None) for a in v.audits),
                     Formula(f'=IF(AND(ISNUMBER({last_col}{r}),ISNUMBER({first}{r})),{last_col}{r}-{first}{r},"")'), verdict,
                     latest.tickets if latest else None, latest.basis if latest else ""])  # fmt: skip
    end = table(ws, header, [16, 30, 8, 8, *([11] * n), 11, 11, 8, 44], rows, freeze="C2")
    if rows:
        judged(ws, f"{col(6 + n)}2:{col(6 + n)}{end}", ["better", "worse", "no change"])
    stages = list(dict.fromkeys(row.key for a in v.audits for row in a.by_stage))
    table(wb.create_sheet("Audit by stage"), ["Stage", "Threshold", *(f"As of {a.as_of} (% moved on in time)" for a in v.audits)],
          [22, 16, *([16] * n)],
          [[stage, next((x.threshold for x in v.latest.by_stage if x.key == stage), "") or "",
            *(next((x.value for x in a.by_stage if x.key == stage), None) for a in v.audits)] for stage in stages])  # fmt: skip
    ages = [[b.label, *(next((x.tickets for x in a.age_profile if (x.from_days, x.to_days) == (b.from_days, b.to_days)), None) for a in v.audits)]
            for b in v.latest.age_profile]  # fmt: skip
    table(wb.create_sheet("Audit by age"), ["Open tickets by age", *(f"As of {a.as_of}" for a in v.audits)], [22, *([14] * n)], ages)
    risk = wb.create_sheet("Tickets at risk")
    if not v.ids_shown:
        table(risk, ["Tickets at risk of breaching the SLA"], [90],
              [[f"{v.latest.at_risk_total} as of {v.latest.as_of}. Ticket ids are left out of public and tenant editions."]])  # fmt: skip
        return
    table(risk, ["Ticket", "Priority", "Stage", "Group", "Hours open", "% of SLA used"], [16, 9, 18, 24, 11, 12],
          [[t.id, t.priority, t.stage or "", t.group or "", t.age_hours, t.sla_used] for t in v.latest.at_risk])  # fmt: skip


# ---------------------------------------------------------------- about
def _about_sheet(ctx: BuildContext, ws: Worksheet, rows: list[D.KpiRow]) -> None:
    i = ctx.info
    periods = D.checkpoint_periods(ctx)
    lines: list[tuple[str, Any]] = [
        ("Knowledge base", D.title_of(ctx)),
        ("Organisation", D.organisation(ctx)),
        ("Edition", D.edition(ctx)),
        ("Built from commit", i.commit or "not built from a git commit"),
        ("Build date", i.date.date()),
        ("History", i.history_note or "full git history"),
        ("Checkpoints", f"baseline {periods[0]}, week 4 in {periods[1]}, week 8 in {periods[2]}" if periods else "content/kpis.yml missing"),
        ("KPI snapshots", ", ".join(s.period for s in ctx.kb.kpi_snapshots) or "none yet (content/kpi/ is empty)"),
        ("Not measured yet", "\n".join(D.kpi_gaps(rows)) or P.NONE),
        ("KPI tracker", "Baseline from content/kpis.yml (else the baseline month's snapshot); week 4 and week 8 from the snapshot "
                        "of the month holding each checkpoint; latest from the newest snapshot with a figure. Movement, since "
                        "baseline, standing and index columns are formulas: change a value or a target and they follow."),
        ("KPI snapshots sheet", "Every KPI in every stored snapshot (content/kpi/): the trend behind the checkpoints."),
        ("Volume and backlog", "Tickets opened and resolved in each month and the backlog (open at the month's end), from the "
                               "same snapshots."),
        ("Risks", "One row per risk in content/risks.yml: score = likelihood × impact (low 1, medium 2, high 3); next review one "
                  "review cadence after the last; the earliest open action."),
        ("Risk actions", "Every action of every risk, with its owner and due date."),
        ("Controls", "One row per control: what it does, its owner, frequency, status and framework mappings (every framework, "
                     "as written in content/risks.yml)."),
        ("Framework mapping", "One row per framework reference and control mapped to it, with the control's status and the "
                              "result of its last run: filter a framework to see its evidence."),
        ("Control runs", "Each control's evidence source, its last run and result as of the build date, and its remediation."),
        ("Known errors", "One row per known error in this edition; recurrence figures come from the trigger of its problem record."),
        ("Changes by commit", "Every commit that changed a record of this edition, newest first, with the records it changed and "
                              "the approval judgement of each version."),
    ]  # fmt: skip
    facts(ws, text_cell, lines)
