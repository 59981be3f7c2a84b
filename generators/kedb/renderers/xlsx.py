"""``kpi-and-risk-register.xlsx``: KPI baseline tracker, risk and control register, known-error register.

Every sheet has a frozen header row and a filter; status columns carry validation lists;
conditional formats mark KPI breaches, stale records and weak controls; the tracker computes
movement against the baseline with formulas and charts it natively. KPI values come from
``content/kpis.yml`` (baseline) and the KPI snapshots (week 4, week 8); a value that has not
been measured is left empty and the Notes column says how to produce it.

Record text is always stored as text: a value starting with ``=``, ``+``, ``-``, ``@`` or a
tab is written as a string cell with Excel's quote prefix, never as a formula.
"""

from __future__ import annotations

from collections.abc import Sequence
from copy import copy
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..build import facts as D
from . import _audit as A
from . import file_name
from ._md import clean
from ._zip import normalise

if TYPE_CHECKING:
    from openpyxl.worksheet.worksheet import Worksheet

    from ..build.context import BuildContext

FILE_NAME = file_name("xlsx")
FORMULA_LIKE = ("=", "+", "-", "@", "\t", "\r", "\n")
HEADER_FILL = "1F4E79"
BREACH_FILL = "F8CBAD"
WARN_FILL = "FFE699"
OK_FILL = "C6EFCE"


def text_cell(ws: Worksheet, row: int, col: int, value: Any) -> Any:
    """Write a value; strings are always inert text (never a formula, never a link)."""
    if isinstance(value, str):
        value = clean(value)
        cell = ws.cell(row=row, column=col, value=value)
        if value.startswith(FORMULA_LIKE):
            cell.data_type = "s"
            cell.quotePrefix = True
        return cell
    return ws.cell(row=row, column=col, value=value)


def render(ctx: BuildContext, out_dir: Path) -> Path:
    from openpyxl import Workbook

    out_dir.mkdir(parents=True, exist_ok=True)
    wb = Workbook()
    kpis = wb.active
    kpis.title = "KPI tracker"
    rows = D.kpi_rows(ctx)
    _kpi_sheet(ctx, kpis, rows)
    _risk_sheet(ctx, wb.create_sheet("Risks and controls"))
    _ke_sheet(ctx, wb.create_sheet("Known errors"))
    audits = A.view(ctx)
    if audits is not None:
        _audit_sheet(wb.create_sheet("Aged-ticket audit"), audits)
    _about_sheet(ctx, wb.create_sheet("About"), rows)
    p = wb.properties
    p.title = f"{D.title_of(ctx)}: KPI and risk register"
    p.subject = D.edition(ctx)
    p.creator = p.lastModifiedBy = "kedb"
    p.created = p.modified = ctx.info.date.replace(tzinfo=None)
    path = out_dir / FILE_NAME
    wb.save(path)
    return normalise(path, ctx.info.date)


def _table(ws: Worksheet, header: Sequence[str], widths: Sequence[float], rows: Sequence[Sequence[Any]], wrap: Sequence[int] = ()) -> int:
    """Header in row 1 (frozen, filtered), data below; returns the last row written."""
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    bold = Font(bold=True, color="FFFFFF")
    fill = PatternFill("solid", fgColor=HEADER_FILL)
    for c, (name, width) in enumerate(zip(header, widths, strict=True), start=1):
        cell = ws.cell(row=1, column=c, value=name)
        cell.font, cell.fill = bold, fill
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        ws.column_dimensions[get_column_letter(c)].width = width
    ws.row_dimensions[1].height = 30
    # Setting ``cell.alignment`` hashes the Alignment into the workbook's list every time (most of
    # the time of a 10,000-row sheet); register each once and copy the style array instead.
    top_wrap = _style_array(ws, Alignment(wrap_text=True, vertical="top"))
    top = _style_array(ws, Alignment(vertical="top"))
    wrapped = set(wrap)
    for r, row in enumerate(rows, start=2):
        for c, value in enumerate(row, start=1):
            cell = text_cell(ws, r, c, value)
            quote = cell.quotePrefix
            cell._style = copy(top_wrap if c in wrapped else top)
            if quote:
                cell.quotePrefix = True
    last = max(1, len(rows) + 1)
    _heights(ws, widths, 2, last, wrap)
    ws.freeze_panes = "C2"
    ws.print_title_rows = "1:1"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.auto_filter.ref = f"A1:{get_column_letter(len(header))}{last}"
    ws.sheet_view.zoomScale = 100
    return last


def _style_array(ws: Worksheet, alignment: Any) -> Any:
    from openpyxl.styles.cell_style import StyleArray

    style = StyleArray()
    style.alignmentId = ws.parent._alignments.add(alignment)
    return style


def _heights(ws: Worksheet, widths: Sequence[float], first: int, last: int, wrap: Sequence[int]) -> None:
    """Row heights for wrapped text (not every reader fits them on open), estimated from text length."""
    if not wrap:
        return
    for r in range(first, last + 1):
        lines = 1
        for c in wrap:
            value = ws.cell(row=r, column=c).value
            if isinstance(value, str) and value:
                per_line = max(1.0, widths[c - 1] * 1.15)
                lines = max(lines, sum(-(-len(part) // int(per_line)) or 1 for part in value.split("\n")))
        if lines > 1:
            ws.row_dimensions[r].height = min(409, 15 * lines)


def _validation(ws: Worksheet, col: str, last: int, values: Sequence[str], what: str) -> None:
    from openpyxl.worksheet.datavalidation import DataValidation

    dv = DataValidation(type="list", formula1='"' + ",".join(values) + '"', allow_blank=True, showErrorMessage=True)
    dv.error, dv.errorTitle = f"Choose one of: {', '.join(values)}", f"Invalid {what}"
    dv.prompt, dv.promptTitle = ", ".join(values), what
    ws.add_data_validation(dv)
    dv.add(f"{col}2:{col}{max(last, 2)}")


def _fill(color: str) -> Any:
    from openpyxl.styles import PatternFill

    return PatternFill("solid", start_color=color, end_color=color, fgColor=color, bgColor=color)


# ---------------------------------------------------------------- KPI tracker
KPI_HEADER = [
    "KPI id", "KPI", "Definition", "Formula", "Unit", "Direction", "Baseline", "Week 4", "Week 8", "Target min", "Target max",
    "Week 4 vs baseline", "Week 8 vs baseline", "Latest vs baseline %", "Baseline index", "Week 4 index (baseline = 100)",
    "Week 8 index (baseline = 100)", "Status", "Notes", "Owner", "Source",
]  # fmt: skip


def _kpi_sheet(ctx: BuildContext, ws: Worksheet, rows: list[D.KpiRow]) -> None:
    from openpyxl.chart import BarChart, Reference
    from openpyxl.formatting.rule import CellIsRule, FormulaRule
    from openpyxl.styles import Alignment, Font

    data = []
    for i, r in enumerate(rows, start=2):
        k = r.kpi
        latest = f"IF(ISNUMBER(I{i}),I{i},H{i})"
        data.append([
            k.id, k.name, k.definition, k.formula, k.unit, k.direction, r.baseline, r.week4, r.week8, k.target.min, k.target.max,
            f'=IF(AND(ISNUMBER(H{i}),ISNUMBER(G{i})),H{i}-G{i},"")',
            f'=IF(AND(ISNUMBER(I{i}),ISNUMBER(G{i})),I{i}-G{i},"")',
            f'=IF(AND(ISNUMBER({latest}),ISNUMBER(G{i}),G{i}<>0),({latest}-G{i})/G{i},"")',
            f"=IF(ISNUMBER(G{i}),100,NA())",
            f"=IF(AND(ISNUMBER(H{i}),ISNUMBER(G{i}),G{i}<>0),ROUND(H{i}/G{i}*100,1),NA())",
            f"=IF(AND(ISNUMBER(I{i}),ISNUMBER(G{i}),G{i}<>0),ROUND(I{i}/G{i}*100,1),NA())",
            f'=IF(NOT(ISNUMBER({latest})),"not measured",IF(OR(AND(ISNUMBER(J{i}),{latest}<J{i}),AND(ISNUMBER(K{i}),{latest}>K{i})),'
            f'"breach","on target"))',
            "\n".join(r.notes), D.person(ctx, k.owner), k.source,
        ])  # fmt: skip
    widths = [22, 26, 48, 40, 9, 16, 10, 10, 10, 10, 10, 12, 12, 12, 10, 13, 13, 13, 46, 16, 10]
    last = _table(ws, KPI_HEADER, widths, [], wrap=(3, 4, 19))
    for r, row in enumerate(data, start=2):
        for c, value in enumerate(row, start=1):
            if isinstance(value, str) and value.startswith("=") and 12 <= c <= 18:
                ws.cell(row=r, column=c, value=value)  # our own formulas
            else:
                text_cell(ws, r, c, value)
    last = max(1, len(data) + 1)
    ws.auto_filter.ref = f"A1:U{last}"
    wrap = Alignment(wrap_text=True, vertical="top")
    for r in range(2, last + 1):
        ws.cell(row=r, column=14).number_format = "0.0%"
        for c in range(1, len(KPI_HEADER) + 1):
            ws.cell(row=r, column=c).alignment = wrap
    if len(data):
        band = f"H2:I{last}"
        ws.conditional_formatting.add(
            band,
            FormulaRule(formula=["AND(ISNUMBER(H2),OR(AND(ISNUMBER($J2),H2<$J2),AND(ISNUMBER($K2),H2>$K2)))"], fill=_fill(BREACH_FILL)),
        )
        ws.conditional_formatting.add(f"O2:Q{last}", FormulaRule(formula=["ISNA(O2)"], font=Font(color="A6A6A6")))
        for value, color in (("breach", BREACH_FILL), ("on target", OK_FILL), ("not measured", WARN_FILL)):
            ws.conditional_formatting.add(f"R2:R{last}", CellIsRule(operator="equal", formula=[f'"{value}"'], fill=_fill(color)))
        _validation(ws, "F", last, ["lower-is-better", "higher-is-better"], "direction")

        chart = BarChart()
        chart.type = "col"
        chart.title = "KPI movement against baseline (baseline = 100)"
        chart.y_axis.title = "index"
        chart.x_axis.title = "KPI"
        chart.add_data(Reference(ws, min_col=15, max_col=17, min_row=1, max_row=last), titles_from_data=True)
        chart.set_categories(Reference(ws, min_col=2, min_row=2, max_row=last))
        chart.height, chart.width = 9, 22
        ws.add_chart(chart, f"B{last + 4}")
    missing = D.missing_measurements(rows)
    note = (
        "Some checkpoint values are not measured yet: the Notes column says how to produce each."
        if missing
        else "All checkpoint values are measured."
    )
    text_cell(ws, last + 2, 2, note)
    _heights(ws, widths, 2, last, (3, 4, 19))


# ---------------------------------------------------------------- risks and controls
RISK_HEADER = [
    "Risk id", "Risk", "Failure mode", "Likelihood", "Impact", "Risk owner", "Review cadence", "Risk status",
    "Control id", "Control", "Control type", "Control owner", "Frequency", "Evidence", "Control status", "Framework mapping",
]  # fmt: skip


def _risk_sheet(ctx: BuildContext, ws: Worksheet) -> None:
    from openpyxl.formatting.rule import CellIsRule, FormulaRule

    risks = ctx.kb.program.risks
    rows: list[list[Any]] = []
    for risk in risks.risks if risks else ():
        head = [
            risk.id,
            risk.title,
            risk.failure_mode,
            risk.likelihood,
            risk.impact,
            D.person(ctx, risk.owner),
            risk.review_cadence,
            risk.status,
        ]
        for c in risk.controls or [None]:
            if c is None:
                rows.append([*head, "", "no control", "", "", "", "", "", ""])
                continue
            mapping = "\n".join(f"{m.framework}: {m.ref}" for m in c.mappings)
            rows.append([*head, c.id, c.description, c.type, D.person(ctx, c.owner), c.frequency, c.evidence, c.status, mapping])
    widths = [8, 34, 44, 11, 10, 16, 14, 12, 9, 48, 12, 16, 22, 34, 16, 40]
    last = _table(ws, RISK_HEADER, widths, rows, wrap=(2, 3, 10, 13, 14, 16))
    if rows:
        _validation(ws, "H", last, ["open", "mitigating", "accepted", "closed"], "risk status")
        _validation(ws, "O", last, ["planned", "operating", "needs-improvement"], "control status")
        _validation(ws, "D", last, ["low", "medium", "high"], "likelihood")
        _validation(ws, "E", last, ["low", "medium", "high"], "impact")
        _validation(ws, "K", last, ["preventive", "detective", "corrective"], "control type")
        ws.conditional_formatting.add(f"O2:O{last}", CellIsRule(operator="equal", formula=['"needs-improvement"'], fill=_fill(BREACH_FILL)))
        ws.conditional_formatting.add(f"O2:O{last}", CellIsRule(operator="equal", formula=['"planned"'], fill=_fill(WARN_FILL)))
        ws.conditional_formatting.add(
            f"A2:H{last}", FormulaRule(formula=['AND($D2="high",$E2="high",$H2<>"closed")'], fill=_fill(BREACH_FILL))
        )


# ---------------------------------------------------------------- known errors
KE_HEADER = [
    "Id", "Title", "Status", "Service", "Priority", "Impact", "Urgency", "Risk tags", "Owner", "Review by", "Problem",
    "Problem status", "Fix status", "Change ref", "Workarounds", "Tickets linked", "Trigger tickets", "Trigger window (days)",
    "Distinct customers", "Recurrence rule", "Last changed", "Last commit",
]  # fmt: skip


def _ke_sheet(ctx: BuildContext, ws: Worksheet) -> None:
    from openpyxl.formatting.rule import CellIsRule, FormulaRule

    rows: list[list[Any]] = []
    for ke in ctx.kb.known_errors:
        m = ke.meta
        rec = D.recurrence(ctx, ke)
        prb = D.problem_of(ctx, ke)
        latest = ctx.history.of(ke.id).latest if ctx.history else None
        rows.append([
            ke.id, m.title, m.status, D.service_name(ctx, m.service), m.priority, m.impact, m.urgency, ", ".join(m.risk_tags),
            D.person(ctx, m.owner), m.review_by, prb.id if prb else "", prb.meta.status if prb else "", m.fix.status, m.fix.change_ref or "",
            ", ".join(ctx.shown(m.workarounds)), rec.tickets_linked, rec.trigger_tickets, rec.window_days, rec.distinct_customers, rec.rule or "",
            latest.date.date() if latest else None, latest.short if latest else "",
        ])  # fmt: skip
    widths = [10, 50, 11, 24, 8, 8, 8, 12, 16, 11, 10, 18, 11, 13, 18, 9, 9, 10, 10, 26, 12, 12]
    last = _table(ws, KE_HEADER, widths, rows, wrap=(2,))
    for r in range(2, last + 1):
        ws.cell(row=r, column=10).number_format = "yyyy-mm-dd"
        ws.cell(row=r, column=21).number_format = "yyyy-mm-dd"
    if rows:
        _validation(ws, "C", last, ["draft", "in-review", "published", "retired"], "status")
        _validation(ws, "E", last, ["P1", "P2", "P3"], "priority")
        _validation(ws, "M", last, ["none", "proposed", "approved", "deployed", "verified"], "fix status")
        ws.conditional_formatting.add(
            f"J2:J{last}", FormulaRule(formula=['AND(ISNUMBER($J2),$J2<TODAY(),$C2<>"retired")'], fill=_fill(BREACH_FILL))
        )
        ws.conditional_formatting.add(f"E2:E{last}", CellIsRule(operator="equal", formula=['"P1"'], fill=_fill(WARN_FILL)))


# ---------------------------------------------------------------- aged-ticket audit
def _audit_sheet(ws: Worksheet, v: A.AuditView) -> None:
    """The stored flow audits side by side, movement and verdict as formulas; below, progression per
    stage, the age profile and (internal edition only) the tickets at risk of breaching."""
    from openpyxl.formatting.rule import CellIsRule
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter as col

    n = len(v.audits)
    first, last, move = col(5), col(4 + n), col(5 + n)
    header = ["Figure id", "Figure", "Unit", "Better when", *(f"As of {a.as_of}" for a in v.audits), "Movement (latest − first)",
              "Verdict", "Tickets (latest)", "How it was computed (latest)"]  # fmt: skip
    rows: list[list[Any]] = []
    for m in v.movements:
        latest = v.latest.figure(m.id)
        rows.append([m.id, m.name, m.unit, A.better_when(m.id), *((f.value if (f := a.figure(m.id)) else None) for a in v.audits),
                     "", "", latest.tickets if latest else None, latest.basis if latest else ""])  # fmt: skip
    widths = [18, 40, 9, 10, *([13] * n), 14, 13, 10, 70]
    end = _table(ws, header, widths, rows, wrap=(2, len(header)))
    for r in range(2, end + 1):  # our own formulas, after the inert text of _table
        ws.cell(row=r, column=5 + n, value=f'=IF(AND(ISNUMBER({last}{r}),ISNUMBER({first}{r})),{last}{r}-{first}{r},"")')
        ws.cell(row=r, column=6 + n, value=f'=IF(NOT(ISNUMBER({move}{r})),"not comparable",IF({move}{r}=0,"no change",'
                                          f'IF(({move}{r}<0)=(D{r}="lower"),"better","worse")))')  # fmt: skip
    if rows:
        verdict = f"{col(6 + n)}2:{col(6 + n)}{end}"
        ws.conditional_formatting.add(verdict, CellIsRule(operator="equal", formula=['"better"'], fill=_fill(OK_FILL)))
        ws.conditional_formatting.add(verdict, CellIsRule(operator="equal", formula=['"worse"'], fill=_fill(BREACH_FILL)))
    bold = Font(bold=True)
    r = end + 2
    text_cell(ws, r, 1, "Progression by stage: share of status periods that moved on within the threshold (%)").font = bold
    text_cell(ws, r + 1, 1, "Stage")
    text_cell(ws, r + 1, 2, "Threshold")
    for i, a in enumerate(v.audits):
        text_cell(ws, r + 1, 5 + i, f"As of {a.as_of}")
    stages = list(dict.fromkeys(row.key for a in v.audits for row in a.by_stage))
    for k, stage in enumerate(stages, start=r + 2):
        text_cell(ws, k, 1, stage)
        text_cell(ws, k, 2, next((x.threshold for x in v.latest.by_stage if x.key == stage), "") or "")
        for i, a in enumerate(v.audits):
            text_cell(ws, k, 5 + i, next((x.value for x in a.by_stage if x.key == stage), None))
    r += len(stages) + 3
    text_cell(ws, r, 1, "Open tickets by age").font = bold
    for i, b in enumerate(v.latest.age_profile, start=r + 1):
        text_cell(ws, i, 1, b.label)
        for j, a in enumerate(v.audits):
            text_cell(ws, i, 5 + j, next((x.tickets for x in a.age_profile if (x.from_days, x.to_days) == (b.from_days, b.to_days)), None))
    r += len(v.latest.age_profile) + 2
    text_cell(ws, r, 1, f"At risk of breaching the SLA, as of {v.latest.as_of}: {v.latest.at_risk_total}").font = bold
    if not v.ids_shown:
        text_cell(ws, r + 1, 1, "Ticket ids are left out of public and tenant editions.")
        return
    for j, h in enumerate(["Ticket", "Priority", "Stage", "Group", "Hours open", "% of SLA used"], start=1):
        text_cell(ws, r + 1, j, h).font = bold
    for i, t in enumerate(v.latest.at_risk, start=r + 2):
        for j, value in enumerate([t.id, t.priority, t.stage or "", t.group or "", t.age_hours, t.sla_used], start=1):
            text_cell(ws, i, j, value)


# ---------------------------------------------------------------- about
def _about_sheet(ctx: BuildContext, ws: Worksheet, rows: list[D.KpiRow]) -> None:
    from openpyxl.styles import Alignment, Font

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
        ("Not measured yet", "\n".join(D.missing_measurements(rows)) or "—"),
        ("KPI tracker", "Baseline from content/kpis.yml; week 4 and week 8 from the snapshot of the month holding each checkpoint. "
                        "Movement, index and status columns are formulas: change a value and they follow."),
        ("Risks and controls", "One row per control of each risk in content/risks.yml."),
        ("Known errors", "One row per known error in this edition; recurrence figures come from the trigger of its problem record."),
    ]  # fmt: skip
    ws.column_dimensions["A"].width = 22
    ws.column_dimensions["B"].width = 100
    for r, (k, v) in enumerate(lines, start=1):
        text_cell(ws, r, 1, k).font = Font(bold=True)
        cell = text_cell(ws, r, 2, v)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        if k == "Build date":
            cell.number_format = "yyyy-mm-dd"
