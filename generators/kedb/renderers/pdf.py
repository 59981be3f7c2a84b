"""``proof-brief.pdf``: the evidence pack for governance and commercial review.

Scope and period, who produced the pack and a block for those who attest it; the results at a
glance; KPI baseline and movement (better or worse, in words and colour; on track, at risk or
missed against each KPI's own target; one chart per direction); the aged-ticket audit when one
is stored; the false-positive rate of problem candidates and the decision log (internal editions
of a KB with content/decisions.yml); each control with its evidence source, last run, run reference and result, and every
framework mapping it carries (any framework, as written); the exceptions with their remediation
owner and date; the approval trail of the published records, one entry per commit; and the
SHA-256 of the other three artefacts and of every source file, so a reviewer can check each
against the repository. Fonts are embedded (see ``_pdftext``); the file's dates are the build
date, so the same commit gives the same bytes. Pages read "Page N of M".
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..build import facts as D
from ..core import present as P
from ..core import standing as S
from ..core.gate import EVIDENCE_NOTE, RULE_SUMMARY
from ..core.trail import APPROVAL_LABEL, VIOLATIONS
from . import _audit as A
from . import _evidence as E
from . import _fit, built_hashes, file_name
from . import _pdftable as T
from ._pdfcharts import hbars, index_bars
from ._pdftable import Cell
from ._pdftext import BOLD, SANS, para

if TYPE_CHECKING:
    from ..build.context import BuildContext

FILE_NAME = file_name("pdf")
OTHERS = ("docx", "xlsx", "pptx")
# The tables (:mod:`._pdftable`), by the names tests replace to record their cells.
_tables, _text = T.tables, T.text


def render(ctx: BuildContext, out_dir: Path) -> Path:
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import cm
    from reportlab.platypus import BaseDocTemplate, Frame, PageTemplate

    from ._pdftext import register

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
    rows = D.kpi_rows(ctx)
    control_runs = E.runs(ctx)
    _glance(ctx, story, s, w, rows, control_runs)
    _kpis(ctx, story, s, w, rows)
    audits = A.view(ctx)
    if audits is not None:
        _audit(audits, story, s, w)
    _candidate_decisions(ctx, story, s, w)
    _controls(ctx, story, s, w, control_runs)
    _exceptions(ctx, story, s, w, control_runs)
    _approvals(ctx, story, s, w)
    _hashes(ctx, story, s, w)
    doc.build(_kept_with_intro(story), canvasmaker=_canvas_at(ctx.info.date, doc.leftMargin + doc.width, 0.9 * cm))
    return path


# ---------------------------------------------------------------- set-up
def _canvas_at(when: datetime, right: float, foot: float) -> Any:
    """A canvas whose document dates are ``when`` (reportlab would use the clock or 2000-01-01) and
    that writes "Page N of M" once it knows M (pages are kept until the document is saved)."""
    from reportlab.pdfgen.canvas import Canvas

    lt = when.astimezone(UTC).timetuple()

    class _Canvas(Canvas):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs["initialFontName"] = SANS  # otherwise Helvetica, which is not embedded
            super().__init__(*args, **kwargs)
            ts = self._doc._timeStamp
            ts.t, ts.lt, ts.YMDhms, ts.dhh, ts.dmm, ts.tzname = when.timestamp(), tuple(lt), tuple(lt)[:6], 0, 0, "UTC"
            self._kept: list[dict[str, Any]] = []

        def showPage(self) -> None:
            self._kept.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._kept)
            for state in self._kept:
                self.__dict__.update(state)
                self.setFont(SANS, 7.5)
                self.setFillColorRGB(0.35, 0.35, 0.35)
                self.drawRightString(right, foot, f"Page {self._pageNumber} of {total}")
                Canvas.showPage(self)
            Canvas.save(self)

    return _Canvas


def _kept_with_intro(story: list[Any]) -> list[Any]:
    """A short table kept on one page (a KeepTogether) that follows a heading or an intro kept with
    what follows is unwrapped: reportlab groups paragraphs kept with the next flowable, but not with
    a KeepTogether, so the heading would stay alone at a page foot while the table moved on."""
    from reportlab.platypus import KeepTogether

    out: list[Any] = []
    for f in story:
        inner = getattr(f, "_content", None)
        if isinstance(f, KeepTogether) and out and out[-1].getKeepWithNext() and inner and len(inner) == 1:
            out.append(inner[0])
        else:
            out.append(f)
    return out


def _page_decor(ctx: BuildContext, title: str) -> Any:
    def draw(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(SANS, 7.5)
        canvas.setFillColorRGB(0.35, 0.35, 0.35)
        top = doc.pagesize[1] - 1.2 * 28.35
        canvas.drawString(doc.leftMargin, top, title[:110])
        canvas.drawRightString(doc.leftMargin + doc.width, top, f"commit {ctx.info.short} · {P.day(ctx.info.date)}")
        canvas.drawString(doc.leftMargin, 0.9 * 28.35, D.edition(ctx)[:120])
        canvas.restoreState()

    return draw


def _styles() -> dict[str, Any]:
    from reportlab.lib.styles import ParagraphStyle

    base = ParagraphStyle("kedb-body", fontName=SANS, fontSize=9, leading=11.5, spaceAfter=4)
    heads = {"keepWithNext": 1}
    return {
        "body": base,
        "intro": ParagraphStyle("kedb-intro", parent=base, keepWithNext=1),  # a paragraph that leads into a table or chart
        "title": ParagraphStyle("kedb-title", parent=base, fontName=BOLD, fontSize=20, leading=24, spaceAfter=4, textColor="#1F4E79"),
        "h1": ParagraphStyle(
            "kedb-h1", parent=base, **heads, fontName=BOLD, fontSize=14, leading=18, spaceBefore=10, spaceAfter=6, textColor="#1F4E79"
        ),
        "h2": ParagraphStyle("kedb-h2", parent=base, **heads, fontName=BOLD, fontSize=10.5, leading=13, spaceBefore=6, spaceAfter=3),
        "note": ParagraphStyle("kedb-note", parent=base, fontSize=8, leading=10, textColor="#595959"),
    }


def _kv(rows: Sequence[tuple[str, str]], w: float) -> list[Any]:
    return _tables(None, [[k, v] for k, v in rows], [1, 3], w, sizes=(8.5, 8, 7.5))


# ---------------------------------------------------------------- the cover: scope, producer, attestation
def _cover(ctx: BuildContext, story: list[Any], s: dict[str, Any], w: float) -> None:
    i, kb = ctx.info, ctx.kb
    story.append(para(D.title_of(ctx), s["title"]))
    story.append(para("Proof brief: the evidence pack for governance review", s["h2"]))
    story.append(para(D.organisation(ctx), s["body"]))
    periods = D.checkpoint_periods(ctx)
    snaps = [x.period for x in kb.kpi_snapshots]
    first = min((v.date for rh in ctx.history.records.values() for v in rh.versions), default=None) if ctx.history else None
    gate = ctx.approvals.gate_since if ctx.approvals else None
    counts = ", ".join(
        P.count(len(x), n) for x, n in ((kb.known_errors, "known error"), (kb.workarounds, "workaround"), (kb.problems, "problem"))
    )
    story.append(para("Scope and period", s["h1"]))
    scope = [
        ("Organisation", D.organisation(ctx) or P.NONE),
        ("Knowledge base", D.title_of(ctx)),
        ("Edition", f"{i.audience}" + (f", customer {i.tenant}" if i.tenant else ", all customers")),
        ("Records in scope", counts),
        ("KPIs", f"baseline {periods[0]}; snapshots {', '.join(snaps) or 'none yet'}" if periods else "content/kpis.yml could not be read"),
        ("Flow audits", ", ".join(str(a.as_of) for a in kb.audits) or "none stored"),
        ("Approval trail", (f"every version from {P.day(first)} to {P.day(i.date)}" if first else "no committed versions")
         + (f"; the approval gate applies from {gate}" if gate else "; no approval gate date is set")),
        ("Commit", i.commit or "not built from a git commit"),
        ("Dated", f"{P.day(i.date)}: the date of that commit, so the same commit always gives the same pack"),
    ]  # fmt: skip
    if i.history_note:
        scope.append(("History", i.history_note))
    story += _kv(scope, w)
    story.append(para("Produced by", s["h1"]))
    story += _kv([
        ("Produced by", f"kedb {i.kedb_version}, from the repository of {D.organisation(ctx) or 'the organisation'}"),
        ("Maintained by", D.maintainers(ctx) or P.NONE),
        ("Problem managers", D.role_holders(ctx, "problem-manager")),
    ], w)  # fmt: skip
    story.append(para("Attestation", s["h1"]))
    story.append(para(
        f"The signatories confirm that this pack was produced from commit {i.short} of the repository, that the SHA-256 values "
        "in the last section match the files of that commit, and that the exceptions listed are known and owned.", s["intro"]))  # fmt: skip
    from reportlab.platypus import Table, TableStyle

    sign = [["Role", "Name", "Date", "Signature"], ["Prepared by (KB maintainer)", "", "", ""],
            ["Reviewed by (problem manager)", "", "", ""], ["Attested by (auditor)", "", "", ""]]  # fmt: skip
    story.append(Table(sign, colWidths=[0.3 * w, 0.3 * w, 0.15 * w, 0.25 * w], rowHeights=[14, 30, 30, 30], hAlign="LEFT", style=TableStyle([
        ("FONTNAME", (0, 0), (-1, -1), SANS), ("FONTNAME", (0, 0), (-1, 0), BOLD), ("FONTSIZE", (0, 0), (-1, -1), 8),
        ("GRID", (0, 0), (-1, -1), 0.5, "#7F7F7F"), ("VALIGN", (0, 0), (-1, -1), "TOP"), ("BACKGROUND", (0, 0), (-1, 0), "#DDEBF7"),
    ])))  # fmt: skip


def _glance(ctx: BuildContext, story: list[Any], s: dict[str, Any], w: float, rows: list[D.KpiRow], runs: list[E.ControlRun]) -> None:
    story.append(para("Results at a glance", s["h1"]))
    results = Counter(r.result for r in runs)
    rep = ctx.approvals
    lines = [
        ("KPIs", S.summary(r.standing for r in rows) or "none defined"),
        ("Controls", f"{len(runs)} controls: {results['pass']} passed their last run, {results['fail']} failed, "
                     f"{results['not run']} keep their evidence outside the repository"),
        ("Exceptions", f"{sum(1 for r in runs if r.exception)} (listed with their remediation owner and date)"),
    ]  # fmt: skip
    if rep is not None:
        bad = len(rep.violations) + len(rep.change_violations)
        ok = sum(1 for a in rep.items if a.status == "approved")
        lines.append(("Approvals", f"{P.count(ok, 'record version')} approved; {P.count(bad, 'change')} on main without a valid approval"))
    story += _kv(lines, w)


# ---------------------------------------------------------------- KPIs and the audit
def _kpis(ctx: BuildContext, story: list[Any], s: dict[str, Any], w: float, rows: list[D.KpiRow]) -> None:
    story.append(para("KPI baseline and movement", s["h1"]))
    if not rows:
        story.append(para("content/kpis.yml could not be read: no KPIs.", s["note"]))
        return
    periods = D.checkpoint_periods(ctx)
    if periods:
        story.append(para(f"Baseline {periods[0]}; week 4 is the snapshot of {periods[1]}, week 8 of {periods[2]} (content/kpi/). "
                          "Since baseline compares the latest value with the baseline, judged by the KPI's direction. Standing "
                          "judges the latest value against the KPI's own target, absolute or an improvement in percent of the "
                          f"baseline, as of the last day of its month. {S.RULE}", s["intro"]))  # fmt: skip
    body = []
    for r in rows:
        u = r.kpi.unit
        body.append([r.kpi.name, P.better_word(r.kpi.lower_is_better), P.quantity(r.baseline, u), P.quantity(r.week4, u),
                     P.quantity(r.week8, u), r.target_text, (r.movement_text, r.verdict), (r.standing, r.standing)])  # fmt: skip
    story += _tables(["KPI", "Better", "Baseline", "Week 4", "Week 8", "Target", "Since baseline", "Standing"], body,
                     [2.6, 0.8, 1, 1, 1, 1, 1.6, 1.1], w)  # fmt: skip
    for n in D.kpi_gaps(rows):
        story.append(para(f"Missing: {n}", s["note"]))
    for lower in (True, False):
        group = [r for r in rows if r.kpi.lower_is_better == lower and r.baseline]
        if group:
            story.append(index_bars([r.kpi.name for r in group], [("Week 4", [r.index4 for r in group]), ("Week 8", [r.index8 for r in group])],
                                    w, f"{P.better(lower).capitalize()}: each KPI as an index of its baseline (baseline = 100)"))  # fmt: skip
    story.append(para("A missing bar is a value not measured yet. Each chart holds KPIs of one direction only.", s["note"]))


def _audit(v: A.AuditView, story: list[Any], s: dict[str, Any], w: float) -> None:
    story.append(para("Aged-ticket audit", s["h1"]))
    a, b = v.first, v.latest
    story.append(para(
        f"Flow audits stored in content/audits/ ({', '.join(str(x.as_of) for x in v.audits)}), computed by kedb tickets audit from "
        f"the imported tickets; each judges the {b.window_days} days up to its date against content/progression.yml. "
        f"{'First against latest.' if a is not b else 'One audit so far: no movement yet.'}", s["intro"]))  # fmt: skip
    body = [[m.name, P.quantity(m.before, m.unit), P.quantity(m.after, m.unit), A.change(m), (m.verdict, m.verdict), f"{m.tickets[1]:,}"]
            for m in v.movements]  # fmt: skip
    story += _tables(["Figure", str(a.as_of), str(b.as_of), "Change", "Verdict", "Tickets"], body, [3.6, 1.1, 1.1, 1.1, 1.3, 1], w)
    if v.stage_movements:
        story.append(para("Progression by stage: share of status periods that moved on within the stage's threshold.", s["h2"]))
        thresholds = {r.key: r.threshold or "" for r in b.by_stage}
        rows = [[m.id, thresholds.get(m.id, ""), P.quantity(m.before, "percent"), P.quantity(m.after, "percent"), (A.change(m), m.verdict)]
                for m in v.stage_movements]  # fmt: skip
        story += _tables(["Stage", "Threshold", str(a.as_of), str(b.as_of), "Change"], rows, [2, 1.6, 1.1, 1.1, 1.1], w)
    story.append(para(f"How each figure as of {b.as_of} was computed", s["h2"]))
    story += _tables(["Figure", "Basis"], [[A.name(f.id), f.basis] for f in b.figures], [1, 2.6], w)
    story.append(para(f"{b.at_risk_total} open tickets were at risk of breaching the SLA as of {b.as_of}; "
                      "their ids are in the internal register, not in this brief.", s["note"]))  # fmt: skip


# ---------------------------------------------------------------- controls and exceptions
# ---------------------------------------------------------------- candidate decisions (content/decisions.yml)
def _candidate_decisions(ctx: BuildContext, story: list[Any], s: dict[str, Any], w: float) -> None:
    """The false-positive rate of problem candidates and the decision log, as on the KPI page; left out
    without content/decisions.yml and in public editions (:func:`kedb.build.facts.candidate_decisions`)."""
    found = D.candidate_decisions(ctx)
    if found is None:
        return
    summary, rows = found
    t = summary.total
    story.append(para("Problem candidates: false positives and overrides", s["h1"]))
    story.append(para(f"False-positive rate {P.quantity(t.rate, 'percent')} (candidates rejected / candidates decided). "
                      f"{summary.basis}", s["intro" if summary.months else "body"]))  # fmt: skip
    if summary.months:
        body = [[m.period, str(m.proposed), str(m.rejected), P.quantity(m.rate, "percent")] for m in summary.months]
        story += _tables(["Month", "Candidates decided", "Rejected", "False-positive rate"], body, [1, 1.4, 1, 1.4], w)
    story.append(para("Decision log", s["h2"]))
    if not rows:
        story.append(para("No decision is logged yet.", s["note"]))
        return
    story.append(para("Rejections, manual overrides and problems no rule proposed, oldest first, from content/decisions.yml; "
                      "each under its signature or problem and the volume when it was decided.", s["intro"]))  # fmt: skip
    body: list[list[Cell]] = []
    spans: list[int] = []
    for r in rows:
        if r.subject or r.volume:
            spans.append(len(body))
            body.append([" · ".join(x for x in (r.subject, r.volume) if x), "", "", ""])
        body.append([P.day(r.day), r.kind, r.by, r.reason])
    story += _tables(["Date", "Decision", "By", "Why"], body, [0.9, 1.3, 1.1, 4.5], w, spans=spans)
    story.append(para(f"A rejected signature is proposed again once the latest window of its rule holds "
                      f"{P.number(summary.regrowth_factor)} times the tickets it held when rejected. Rejections leave no problem "
                      "record and never count into mean time to root cause.", s["note"]))  # fmt: skip


def _controls(ctx: BuildContext, story: list[Any], s: dict[str, Any], w: float, runs: list[E.ControlRun]) -> None:
    story.append(para("Controls: evidence, last run and result", s["h1"]))
    if ctx.kb.program.risks is None:
        story.append(para("content/risks.yml could not be read.", s["note"]))
        return
    story.append(para(
        "Each control's evidence source; where kedb tests the control at every build (kedb_evidence in content/risks.yml), its last run, "
        "the run's reference and its result as of the build date. Controls whose evidence is kept outside the repository show where "
        "it is, and no result.", s["body"]))  # fmt: skip
    statuses = Counter(r.result for r in runs)
    story.append(hbars(sorted(statuses), [statuses[k] for k in sorted(statuses)], w * 0.7, "Controls by result of their last run"))
    body = [[f"{r.control.id} {r.control.type}, {r.control.status}", r.source, r.last_run, r.reference, (r.result, r.result), r.detail]
            for r in runs]  # fmt: skip
    story += _tables(
        ["Control", "Evidence source", "Last run", "Run reference", "Result", "Finding"], body, [1.3, 2.4, 0.9, 1.6, 0.8, 1.9], w
    )
    story.append(para("What each control does", s["h2"]))
    rows = []
    for r in runs:
        c = r.control
        maps = "\n".join(m.text for m in c.mappings) or P.NONE
        rows.append([c.id, f"{r.risk.id} {r.risk.title}", f"{c.description}\nRuns: {c.frequency}; operated by {D.person(ctx, c.owner)}.\n"
                     f"Evidence: {c.evidence}", maps])  # fmt: skip
    story += _tables(["Control", "Treats risk", "What it does, how often, evidence", "Framework mapping"], rows, [0.7, 2.2, 4.6, 2.2], w)
    refs = D.framework_refs(ctx)
    if refs:
        story.append(para("Controls by framework", s["h2"]))
        story.append(para("Every framework reference the controls map to (content/risks.yml), with the controls that answer it "
                          "and the result of each one's last run.", s["intro"]))  # fmt: skip
        result = {r.control.id: r.result for r in runs}
        body: list[list[Cell]] = []
        spans: list[int] = []
        for fw in dict.fromkeys(f.framework for f in refs):
            spans.append(len(body))
            body.append([fw, "", ""])
            for f in (x for x in refs if x.framework == fw):
                results = sorted({result.get(c, "not run") for c in f.controls})
                word = "fail" if "fail" in results else "pass" if results == ["pass"] else "not run"
                body.append([f.ref, ", ".join(f.controls), (", ".join(results), word)])
        story += _tables(["Reference", "Controls", "Last results"], body, [3.4, 1.4, 1.4], w, spans=spans)


def _exceptions(ctx: BuildContext, story: list[Any], s: dict[str, Any], w: float, runs: list[E.ControlRun]) -> None:
    story.append(para("Exceptions", s["h1"]))
    found = [r for r in runs if r.exception]
    if not found:
        story.append(para("None: every control operates and passed its last run.", s["body"]))
        return
    story.append(para("Controls that are planned or need improvement, and controls whose last run failed, with who remediates them "
                      "and by when (remediation in content/risks.yml).", s["intro"]))  # fmt: skip
    today = D.build_day(ctx)
    body = []
    for r in found:
        c, m = r.control, r.control.remediation
        issue = c.status if r.result != "fail" else f"last run failed: {r.detail}"
        due: Cell = (m.due.isoformat(), "overdue") if m and m.due < today else (m.due.isoformat() if m else ("none set", "fail"))
        body.append([c.id, f"{r.risk.id} {r.risk.title}", (issue, "fail" if r.result == "fail" else "at risk"),
                     m.action if m else ("no remediation set", "fail"), D.person(ctx, m.owner) if m else D.person(ctx, c.owner), due])  # fmt: skip
    story += _tables(["Control", "Risk", "Exception", "Remediation", "Owner", "Due"], body, [0.7, 2.2, 2, 2.6, 1.1, 0.9], w)


# ---------------------------------------------------------------- the approval trail
def _approvals(ctx: BuildContext, story: list[Any], s: dict[str, Any], w: float) -> None:
    story.append(para("Approval trail of the published records", s["h1"]))
    if ctx.history is None or ctx.approvals is None:
        story.append(para(ctx.info.history_note or "No git history: the approval trail is not available.", s["note"]))
        return
    rep = ctx.approvals
    if ctx.info.history_note:
        story.append(para(ctx.info.history_note, s["note"]))
    gate = (
        f"The approval gate started on {rep.gate_since}; earlier versions are listed as before the gate."
        if rep.gate_since
        else "No gate start date (approvals_since in content/kedb.yml): the approval gate has not started, so no change is judged."
    )
    judged = [c for c in rep.changes if c.status not in ("before-gate", "gate-moved")]
    story.append(para(
        f"{RULE_SUMMARY} {gate} Record versions in this edition that break the rule: {len(rep.violations)}. "
        f"Changes to other files after the gate: {len(judged)}, of which {len(rep.change_violations)} "
        "landed without a maintainer's approval (kedb check --approvals lists them).", s["body"]))  # fmt: skip
    story.append(para(f"Evidence: {EVIDENCE_NOTE[rep.evidence].split(': ', 1)[1]}", s["note"]))
    counts = Counter(APPROVAL_LABEL[a.status] for a in rep.items)
    labels = sorted(counts)
    story.append(hbars(labels, [counts[k] for k in labels], w * 0.7, "Record versions by approval judgement"))
    pub = [r.id for r in ctx.kb.records.values() if getattr(r.meta, "status", "") == "published"]
    titles = {rid: ctx.kb.records[rid].meta.title for rid in pub}
    rows: list[list[Cell]] = []
    spans: list[int] = []
    for ct in D.commit_trail(ctx, pub):
        c = ct.change
        spans.append(len(rows))
        mr = f" · {c.merge_request}" if c.merge_request else ""
        rows.append([f"{c.date.astimezone(UTC).strftime('%Y-%m-%d %H:%M')} UTC · commit {c.commit}{mr} · {ct.title}", "", "", "", ""])
        for rid, v, a in ct.versions:
            word = "" if a is None else "pass" if a.status == "approved" else "fail" if a.status in VIOLATIONS else "no change"
            rows.append([f"{rid} {titles.get(rid, '')}", f"v{v.number} {v.change}", ", ".join(p.name for p in v.authors),
                         ", ".join(v.approved_by) or P.NONE, (D.approval_text(a, v), word)])  # fmt: skip
    if not rows:
        story.append(para("No committed versions of published records yet.", s["note"]))
        return
    story.append(para("One entry per commit, newest first, with every version of a published record it made.", s["intro"]))
    story += _tables(["Record", "Version", "Authors", "Approved-by", "Judgement"], rows, [3.4, 1, 1.6, 1.8, 1.6], w, spans=spans)


# ---------------------------------------------------------------- hashes
def _made_when_reached(make: Callable[[], list[Any]]) -> Any:
    """A flowable that takes no room and, when reportlab reaches it, puts what ``make`` returns in
    its place (as reportlab's own DocIf does): the table of the other artefacts' hashes. `kedb build`
    renders those beside this file, and at 10,000 records reportlab lays out 14.7 s of this file's
    16.3 s before it needs them (kedb.build.run.render_artefacts)."""
    from reportlab.platypus.flowables import Flowable

    class MadeWhenReached(Flowable):
        def __init__(self) -> None:
            super().__init__()
            self.made = False

        def wrap(self, aw: float, ah: float) -> tuple[float, float]:
            if not self.made:
                self.made = True
                self._doctemplateAttr("frame").add_generated_content(*make())
            return 0, 0

        def draw(self) -> None:
            pass

    return MadeWhenReached()


def _hashes(ctx: BuildContext, story: list[Any], s: dict[str, Any], w: float) -> None:
    from . import RENDERERS

    def artefact_table() -> list[Any]:  # heading, intro and table together, so they stay together
        hashes = built_hashes(ctx, OTHERS)
        made = [
            para("SHA-256 of the artefacts and the source files", s["h1"]),
            para("The other three artefacts of this build, as kedb build writes them; this file's own SHA-256 is in manifest.json "
                 "beside it and on the downloads page (a file cannot hold its own hash).", s["intro"]),
            *_tables(["Artefact", "SHA-256"], [[RENDERERS[n].file, hashes[n]] for n in OTHERS], [1, 2.2], w, mono=[1]),
        ]  # fmt: skip
        return _kept_with_intro(made)

    story.append(_made_when_reached(artefact_table))
    story.append(para("Every file this build read, as committed: sha256sum <folder>/<file> in a checkout of the commit gives the same "
                      "value.", s["intro"]))  # fmt: skip
    files = [r.source for r in ctx.kb.records.values()] + list(ctx.kb.program.sources.values()) + [p.source for p in ctx.kb.playbooks]
    by_folder: dict[str, list[tuple[str, str]]] = {}
    for f in sorted(files, key=lambda f: f.path):
        folder, _, name = f.path.rpartition("/")
        by_folder.setdefault(folder + "/", []).append((name, f.sha256))
    rows: list[list[Cell]] = []
    spans: list[int] = []
    for folder, entries in by_folder.items():
        spans.append(len(rows))
        rows.append([folder, ""])
        rows += [[name, sha] for name, sha in entries]
    longest = max((_fit.width(r[0], 6.5) for i, r in enumerate(rows) if i not in spans), default=0.0)
    if longest + _fit.width("0" * 64, 5.5, "mono") + 20 <= w:
        story += _tables(["File", "SHA-256"], rows, [1.3, 2], w, spans=spans, mono=[1])
        return
    # Names too long to sit beside their hash: each file on two lines, its name above its hash.
    stacked = [[r[0]] if i in spans else [f"{r[0]}\n{r[1]}"] for i, r in enumerate(rows)]
    story += _tables(["File and its SHA-256"], stacked, [1], w, spans=spans)
