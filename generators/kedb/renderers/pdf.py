"""``proof-brief.pdf``: the portable evidence summary for governance and commercial review.

The commit and date the build came from; KPI baseline and movement (table and chart); the
aged-ticket audit when one is stored (first against latest, how each figure was computed); the
controls in place; the approval trail of each published record (versions, commits, authors,
approvers, dates); and the SHA-256 of each source record and program file, so a reviewer can
check a record against the repository. Fonts are embedded (see ``_pdftext``); the file's
dates are the build date, so the same commit gives the same bytes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reportlab.pdfbase.pdfmetrics import stringWidth

from ..build import facts as D
from ..core import present as P
from ..core.gate import EVIDENCE_NOTE, RULE_SUMMARY
from ..core.trail import APPROVAL_LABEL
from . import _audit as A
from . import file_name
from ._md import clean
from ._pdfcharts import bars, hbars
from ._pdftext import BOLD, MONO, SANS, has_cjk, has_rtl, para, register

if TYPE_CHECKING:
    from ..build.context import BuildContext

FILE_NAME = file_name("pdf")
CHUNK = 60  # rows per table: long reportlab tables split slowly, so they are cut into page-sized pieces


def render(ctx: BuildContext, out_dir: Path) -> Path:
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import cm
    from reportlab.platypus import BaseDocTemplate, Frame, PageTemplate

    register()
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / FILE_NAME
    title = f"{D.title_of(ctx)}: proof brief"
    doc = BaseDocTemplate(
        str(path), pagesize=A4, leftMargin=1.8 * cm, rightMargin=1.8 * cm, topMargin=2 * cm, bottomMargin=1.8 * cm,
        title=title, author="kedb", subject=D.edition(ctx), creator="kedb", producer="kedb (reportlab)",
        keywords=f"commit {ctx.info.commit or 'none'}", invariant=1,
    )  # fmt: skip
    frame = Frame(doc.leftMargin, doc.bottomMargin, doc.width, doc.height, id="body")
    doc.addPageTemplates([PageTemplate("page", [frame], onPage=_page_decor(ctx, title))])
    s = _styles()
    w = doc.width
    story: list[Any] = []
    _cover(ctx, story, s, w)
    _kpis(ctx, story, s, w)
    audits = A.view(ctx)
    if audits is not None:
        _audit(audits, story, s, w)
    _controls(ctx, story, s, w)
    _approvals(ctx, story, s, w)
    _sources(ctx, story, s, w)
    doc.build(story, canvasmaker=_canvas_at(ctx.info.date))
    return path


# ---------------------------------------------------------------- set-up
def _canvas_at(when: datetime) -> Any:
    """A canvas class whose document dates are ``when`` (reportlab would use the clock or 2000-01-01)."""
    from reportlab.pdfgen.canvas import Canvas

    lt = when.astimezone(UTC).timetuple()

    class _Canvas(Canvas):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs["initialFontName"] = SANS  # otherwise Helvetica, which is not embedded
            super().__init__(*args, **kwargs)
            ts = self._doc._timeStamp
            ts.t, ts.lt, ts.YMDhms, ts.dhh, ts.dmm, ts.tzname = when.timestamp(), tuple(lt), tuple(lt)[:6], 0, 0, "UTC"

    return _Canvas


def _page_decor(ctx: BuildContext, title: str) -> Any:
    def draw(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(SANS, 7.5)
        canvas.setFillColorRGB(0.35, 0.35, 0.35)
        top = doc.pagesize[1] - 1.2 * 28.35
        canvas.drawString(doc.leftMargin, top, title[:110])
        canvas.drawRightString(doc.leftMargin + doc.width, top, f"commit {ctx.info.short} · {ctx.info.date.date().isoformat()}")
        canvas.drawRightString(doc.leftMargin + doc.width, 0.9 * 28.35, f"Page {doc.page}")
        canvas.drawString(doc.leftMargin, 0.9 * 28.35, D.edition(ctx)[:120])
        canvas.restoreState()

    return draw


def _styles() -> dict[str, Any]:
    from reportlab.lib.styles import ParagraphStyle

    base = ParagraphStyle("kedb-body", fontName=SANS, fontSize=9, leading=11.5, spaceAfter=4)
    heads = {"keepWithNext": 1}
    return {
        "body": base,
        "title": ParagraphStyle("kedb-title", parent=base, fontName=BOLD, fontSize=20, leading=24, spaceAfter=8, textColor="#1F4E79"),
        "h1": ParagraphStyle(
            "kedb-h1", parent=base, **heads, fontName=BOLD, fontSize=14, leading=18, spaceBefore=10, spaceAfter=6, textColor="#1F4E79"
        ),
        "h2": ParagraphStyle("kedb-h2", parent=base, fontName=BOLD, fontSize=10.5, leading=13, spaceBefore=6, spaceAfter=3),
        "cell": ParagraphStyle("kedb-cell", parent=base, fontSize=7.5, leading=9, spaceAfter=0),
        "h2cell": ParagraphStyle("kedb-h2cell", parent=base, fontName=BOLD, fontSize=7.5, leading=9, spaceAfter=0),
        "head": ParagraphStyle("kedb-head", parent=base, fontName=BOLD, fontSize=7.5, leading=9, spaceAfter=0, textColor="#FFFFFF"),
        "mono": ParagraphStyle("kedb-mono", parent=base, fontName=MONO, fontSize=6, leading=9, spaceAfter=0),
        "note": ParagraphStyle("kedb-note", parent=base, fontSize=8, leading=10, textColor="#595959"),
    }


def _tables(header: Sequence[str], rows: Sequence[Sequence[Any]], widths: Sequence[float], s: dict[str, Any],
            spans: Sequence[int] = (), mono: Sequence[int] = ()) -> list[Any]:  # fmt: skip
    """Tables of at most CHUNK rows, header repeated; cells are literal text (str) or flowables.

    ``spans`` are indexes of rows that are group headings spanning the whole width; ``mono``
    are columns in the monospaced font. Text that fits on one line is drawn as a plain table
    string (reportlab does not parse it); only longer or non-Latin text becomes a Paragraph,
    which is what makes long tables slow."""
    from reportlab.platypus import Table, TableStyle

    head = [para(h, s["head"], wd - 6) for h, wd in zip(header, widths, strict=True)]
    span_set, mono_set = set(spans), set(mono)
    full = sum(widths) - 6
    cells = [
        [_cell(row[0], full, s, False, s["h2cell"]), *([""] * (len(widths) - 1))] if i in span_set
        else [_cell(c, wd - 6, s, c_i in mono_set) for c_i, (c, wd) in enumerate(zip(row, widths, strict=True))]
        for i, row in enumerate(rows)
    ]  # fmt: skip
    out = []
    for start in range(0, max(1, len(cells)), CHUNK):
        chunk = cells[start : start + CHUNK]
        cmds: list[tuple[Any, ...]] = [
            ("FONTNAME", (0, 0), (-1, -1), SANS),
            ("FONTSIZE", (0, 0), (-1, -1), s["cell"].fontSize),
            ("LEADING", (0, 0), (-1, -1), s["cell"].leading),
            ("BACKGROUND", (0, 0), (-1, 0), "#1F4E79"),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("GRID", (0, 0), (-1, -1), 0.25, "#BFBFBF"),
            ("LEFTPADDING", (0, 0), (-1, -1), 3),
            ("RIGHTPADDING", (0, 0), (-1, -1), 3),
            ("TOPPADDING", (0, 0), (-1, -1), 2),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
        ]
        for c in mono_set:
            cmds += [("FONTNAME", (c, 1), (c, -1), MONO), ("FONTSIZE", (c, 1), (c, -1), s["mono"].fontSize)]
        for i in range(len(chunk)):
            if start + i in span_set:
                cmds += [
                    ("SPAN", (0, i + 1), (-1, i + 1)),
                    ("BACKGROUND", (0, i + 1), (-1, i + 1), "#DDEBF7"),
                    ("FONTNAME", (0, i + 1), (-1, i + 1), BOLD),
                ]
        out.append(Table([head, *chunk], colWidths=list(widths), repeatRows=1, style=TableStyle(cmds), hAlign="LEFT"))
    return out


def _cell(value: Any, width: float, s: dict[str, Any], mono: bool, style: Any = None) -> Any:
    if not isinstance(value, str):
        return value
    text = clean(value)
    style = style or (s["mono"] if mono else s["cell"])
    if "\n" not in text and not has_rtl(text) and not has_cjk(text) and stringWidth(text, style.fontName, style.fontSize) <= width:
        return text
    return para(text, style, width)


# ---------------------------------------------------------------- sections
def _cover(ctx: BuildContext, story: list[Any], s: dict[str, Any], w: float) -> None:
    from reportlab.platypus import Paragraph

    i = ctx.info
    story.append(para(f"{D.title_of(ctx)}", s["title"]))
    story.append(Paragraph("Proof brief: governance evidence", s["h2"]))
    story.append(para(D.organisation(ctx), s["body"]))
    snaps = ", ".join(x.period for x in ctx.kb.kpi_snapshots) or "none yet"
    facts = [
        ["Built from commit", i.commit or "not built from a git commit"],
        ["Build date", f"{i.date.isoformat()} (the commit's date, or SOURCE_DATE_EPOCH; never the clock)"],
        ["Edition", D.edition(ctx)],
        [
            "Records in this edition",
            ", ".join(
                P.count(len(x), n)
                for x, n in ((ctx.kb.known_errors, "known error"), (ctx.kb.workarounds, "workaround"), (ctx.kb.problems, "problem"))
            ),
        ],
        ["KPI snapshots", snaps],
        ["History", i.history_note or "full git history of known_errors/"],
        ["Generator", f"kedb {i.kedb_version}"],
    ]
    story += _tables(["Fact", "Value"], facts, [0.25 * w, 0.75 * w], s)
    story.append(para(
        "This brief is generated from the repository. Each record's SHA-256 (last section) is of the file at this commit: "
        "`sha256sum known_errors/<file>` in a checkout of the commit gives the same value.", s["note"]))  # fmt: skip


def _kpis(ctx: BuildContext, story: list[Any], s: dict[str, Any], w: float) -> None:
    story.append(para("KPI baseline and movement", s["h1"]))
    rows = D.kpi_rows(ctx)
    if not rows:
        story.append(para("content/kpis.yml could not be read: no KPIs.", s["note"]))
        return
    periods = D.checkpoint_periods(ctx)
    if periods:
        story.append(
            para(f"Baseline {periods[0]}; week 4 is the snapshot of {periods[1]}, week 8 of {periods[2]} (content/kpi/).", s["body"])
        )
    body = []
    for r in rows:
        u = r.kpi.unit
        move = P.change(r.movement, u)
        body.append([r.kpi.name, P.quantity(r.baseline, u), P.quantity(r.week4, u), P.quantity(r.week8, u), r.target_text, move, r.status])
    story += _tables(["KPI", "Baseline", "Week 4", "Week 8", "Target", "Latest vs baseline", "Status"], body,
                     [0.27 * w, 0.11 * w, 0.11 * w, 0.11 * w, 0.13 * w, 0.13 * w, 0.14 * w], s)  # fmt: skip
    for n in D.missing_measurements(rows):
        story.append(para(f"Missing: {n}", s["note"]))
    story.append(bars([r.kpi.name for r in rows],
                      [("Baseline (= 100)", [100 if r.baseline else None for r in rows]), ("Week 4", [r.index4 for r in rows]),
                       ("Week 8", [r.index8 for r in rows])], w, value_label="index"))  # fmt: skip
    story.append(para("Each KPI as an index of its baseline (baseline = 100); a missing bar is a value not measured yet.", s["note"]))


def _audit(v: A.AuditView, story: list[Any], s: dict[str, Any], w: float) -> None:
    story.append(para("Aged-ticket audit", s["h1"]))
    a, b = v.first, v.latest
    story.append(para(
        f"Flow audits stored in content/audits/ ({', '.join(str(x.as_of) for x in v.audits)}), computed by `kedb tickets audit` from "
        f"the imported tickets; each judges the {b.window_days} days up to its date against content/progression.yml. "
        f"{'First against latest.' if a is not b else 'One audit so far: no movement yet.'}", s["body"]))  # fmt: skip
    body = [
        [m.name, P.quantity(m.before, m.unit), P.quantity(m.after, m.unit), A.change(m), m.verdict, f"{m.tickets[1]:,}"]
        for m in v.movements
    ]
    story += _tables(["Figure", str(a.as_of), str(b.as_of), "Change", "Verdict", "Tickets"], body,
                     [0.38 * w, 0.11 * w, 0.11 * w, 0.12 * w, 0.16 * w, 0.12 * w], s)  # fmt: skip
    if v.stage_movements:
        story.append(para("Progression by stage: share of status periods that moved on within the stage's threshold.", s["h2"]))
        thresholds = {r.key: r.threshold or "" for r in b.by_stage}
        rows = [
            [m.id, thresholds.get(m.id, ""), P.quantity(m.before, "percent"), P.quantity(m.after, "percent"), A.change(m)]
            for m in v.stage_movements
        ]
        story += _tables(
            ["Stage", "Threshold", str(a.as_of), str(b.as_of), "Change"], rows, [0.3 * w, 0.2 * w, 0.17 * w, 0.17 * w, 0.16 * w], s
        )
    story.append(para(f"How each figure as of {b.as_of} was computed", s["h2"]))
    story += _tables(["Figure", "Basis"], [[A.name(f.id), f.basis] for f in b.figures], [0.3 * w, 0.7 * w], s)
    story.append(para(f"{b.at_risk_total} open tickets were at risk of breaching the SLA as of {b.as_of}; "
                      "their ids are in the internal register, not in this brief.", s["note"]))  # fmt: skip


def _controls(ctx: BuildContext, story: list[Any], s: dict[str, Any], w: float) -> None:
    story.append(para("Controls in place", s["h1"]))
    risks = ctx.kb.program.risks
    if risks is None:
        story.append(para("content/risks.yml could not be read.", s["note"]))
        return
    rows, statuses = [], Counter[str]()
    for risk in risks.risks:
        for c in risk.controls:
            statuses[c.status] += 1
            maps = "\n".join(f"{m.framework} {m.ref}" for m in c.mappings) or "—"
            rows.append([f"{c.id}\n{c.type}\n{c.status}", f"{risk.id} {risk.title}",
                         f"{c.description}\nRuns: {c.frequency}; operated by {D.person(ctx, c.owner)}.\nEvidence: {c.evidence}", maps])  # fmt: skip
    story.append(hbars(sorted(statuses), [statuses[k] for k in sorted(statuses)], w * 0.7, "Controls by status"))
    story += _tables(["Control", "Treats risk", "What it does, how often, evidence", "Framework mapping"], rows,
                     [0.13 * w, 0.22 * w, 0.43 * w, 0.22 * w], s)  # fmt: skip


def _approvals(ctx: BuildContext, story: list[Any], s: dict[str, Any], w: float) -> None:
    story.append(para("Approval trail of each published record", s["h1"]))
    if ctx.history is None or ctx.approvals is None:
        story.append(para(ctx.info.history_note or "No git history: the approval trail is not available.", s["note"]))
        return
    rep = ctx.approvals
    if ctx.info.history_note:
        story.append(para(ctx.info.history_note, s["note"]))
    gate = (
        f"The approval gate started on {rep.gate_since}; earlier versions are listed as before the gate."
        if rep.gate_since
        else ("No gate start date (approvals_since in content/kedb.yml): the approval gate has not started, so no change is judged.")
    )
    judged = [c for c in rep.changes if c.status not in ("before-gate", "gate-moved")]
    story.append(para(
        f"{RULE_SUMMARY} {gate} Record versions in this edition that break the rule: {len(rep.violations)}. "
        f"Changes to other files after the gate: {len(judged)}, of which {len(rep.change_violations)} "
        "landed without a maintainer's approval (kedb check --approvals lists them).", s["body"]))  # fmt: skip
    story.append(para(f"Evidence: {EVIDENCE_NOTE[rep.evidence].split(': ', 1)[1]}", s["note"]))
    counts = Counter(APPROVAL_LABEL[a.status] for a in rep.items)
    labels = sorted(counts)
    story.append(hbars(labels, [counts[k] for k in labels], w * 0.7, "Versions by approval status"))
    pub = [r for r in ctx.kb.records.values() if getattr(r.meta, "status", "") == "published"]
    rows: list[list[Any]] = []
    spans: list[int] = []
    trails = D.trails(ctx)
    for rec in pub:
        hi = "high-impact" if ctx.kb.program.is_high_impact(rec.meta) else "not high-impact"
        spans.append(len(rows))
        rows.append([f"{rec.id} {rec.meta.title} ({rec.meta.service}, {hi})", "", "", "", "", ""])
        versions = trails.get(rec.id, [])
        if not versions:
            rows.append(["—", "not committed", "", "", "", ""])
        for v, a in versions:
            approvers = ", ".join(v.approved_by) or "—"
            rows.append([f"v{v.number} {v.change}", v.date.astimezone(UTC).strftime("%Y-%m-%d %H:%M"), v.commit, ", ".join(p.name for p in v.authors),
                         approvers, D.approval_text(a, v)])  # fmt: skip
    story += _tables(["Version", "Landed (UTC)", "Commit", "Authors", "Approved-by", "Judgement"], rows,
                     [0.09 * w, 0.155 * w, 0.31 * w, 0.14 * w, 0.13 * w, 0.175 * w], s, spans, mono=[2])  # fmt: skip


def _sources(ctx: BuildContext, story: list[Any], s: dict[str, Any], w: float) -> None:
    story.append(para("Source records and their SHA-256", s["h1"]))
    story.append(para("SHA-256 of each file's bytes as read for this build.", s["body"]))
    rows = [[r.id, r.source.path, r.source.sha256] for r in ctx.kb.records.values()]
    rows += [[f"program: {name}", src.path, src.sha256] for name, src in sorted(ctx.kb.program.sources.items())]
    rows += [[f"playbook {pb.meta.order}", pb.source.path, pb.source.sha256] for pb in ctx.kb.playbooks]
    story += _tables(["Record", "Path", "SHA-256"], rows, [0.12 * w, 0.37 * w, 0.51 * w], s, mono=[2])
