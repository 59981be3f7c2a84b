"""The evidence an auditor signs: each control's last run and result, the exceptions, and what
every control's evidence is.

A control names in ``content/risks.yml`` the test kedb runs for it at every build
(``kedb_evidence``); its last run is then this build (or the stored snapshot or audit it checks),
its reference the commit built or the file read, and its result pass or fail from the data of
this very build. A control without one keeps its evidence outside the repository: the pack says
so and never shows a result it did not see. Everything is judged as of the build date, never the
clock, so the same commit gives the same pack.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from ..build import facts as D
from ..core import present as P
from ..core.findings import Finding, Severity
from ..core.gate import RECORD_DIR
from ..core.program import Control, Risk
from ..core.records import Workaround, review_overdue

if TYPE_CHECKING:
    from ..build.context import BuildContext

# The rules of kedb check whose findings are the content scan (secrets, contact details, unsafe
# Markdown, files kedb neither reads nor publishes).
SCAN_RULES = frozenset({"KE012", "KE014", "KE015", "KE016", "KE401", "KE402", "KE403", "KE501", "KE502", "KE503", "KE504", "KE505",
                        "KE506", "KE507"})  # fmt: skip
AUDIT_FRESH_DAYS = 35  # a flow audit is current for four weeks and a week's grace

SOURCES = {
    "approvals": "git history of main: every Approved-by trailer judged against content/roles.yml and content/kedb.yml",
    "review-dates": "review_by of every record, as of the build date",
    "verification": "verified_by and verified_on of every published workaround",
    "content-scan": "kedb check: secrets, contact details, unsafe Markdown and stray files",
    "record-rules": "kedb check: every error rule over every record and program file",
    "kpi-snapshots": "content/kpi/: a snapshot for every month since the baseline",
    "flow-audits": "content/audits/: the latest flow audit",
    "prevention-actions": "prevention actions of every problem record, as of the build date",
}


@dataclass(frozen=True)
class ControlRun:
    risk: Risk
    control: Control
    source: str  # what the evidence is
    last_run: str  # a date, or a dash when kedb does not run it
    reference: str  # where to find the run: the commit built, the file read, or the control's own evidence
    result: str  # "pass", "fail" or "not run"
    detail: str  # the finding in words

    @property
    def exception(self) -> bool:
        return self.result == "fail" or self.control.status != "operating"


def runs(ctx: BuildContext) -> list[ControlRun]:
    risks = ctx.kb.program.risks
    return [_run(ctx, r, c) for r in (risks.risks if risks else ()) for c in r.controls]


def _run(ctx: BuildContext, risk: Risk, c: Control) -> ControlRun:
    kind = c.kedb_evidence
    built = P.day(ctx.info.date)
    at = f"kedb build of commit {ctx.info.short}"
    if kind is None:
        return ControlRun(risk, c, c.evidence, P.NONE, "kept outside the repository", "not run", "kedb does not run this control")
    result, detail, last, ref = _judge(ctx, kind, built, at)
    return ControlRun(risk, c, SOURCES[kind], last, ref, result, detail)


def _judge(ctx: BuildContext, kind: str, built: str, at: str) -> tuple[str, str, str, str]:
    """(result, detail, last run, reference) of one kind of evidence."""
    today = D.build_day(ctx)
    kb = ctx.kb
    if kind == "approvals":
        rep = ctx.approvals
        if rep is None:
            return "not run", ctx.info.history_note or "no git history", P.NONE, "no git history"
        bad, changes = len(rep.violations), len(rep.change_violations)
        ok = sum(1 for a in rep.items if a.status == "approved")
        detail = (
            f"{P.count(ok, 'version')} approved; {bad} without a valid approval; {changes} other changes without a maintainer's approval"
        )
        return ("pass" if bad + changes == 0 else "fail"), detail, built, at
    if kind == "review-dates":
        late = [r.id for r in kb.records.values() if review_overdue(r.meta, today)]
        return ("pass" if not late else "fail"), f"{P.count(len(late), 'record')} overdue for review", built, at
    if kind == "verification":
        pub = [r for r in kb.workarounds if r.meta.status == "published" and isinstance(r.meta, Workaround)]
        unverified = [r.id for r in pub if not (r.meta.verified_by and r.meta.verified_on)]  # type: ignore[union-attr]
        detail = f"{len(pub) - len(unverified)} of {P.count(len(pub), 'published workaround')} verified"
        return ("pass" if not unverified else "fail"), detail, built, at
    if kind == "content-scan":
        hits = [f for f in _findings(ctx) if f.code in SCAN_RULES]
        return ("pass" if not hits else "fail"), f"{P.count(len(hits), 'finding')}", built, at
    if kind == "record-rules":
        found = _findings(ctx)
        e = sum(1 for f in found if f.severity is Severity.ERROR)
        detail = f"{e} errors, {P.count(len(found) - e, 'warning')} over {P.count(len(kb.records), 'record')} and the program files"
        return ("pass" if e == 0 else "fail"), detail, built, at
    if kind == "kpi-snapshots":
        return _snapshots(ctx, today)
    if kind == "flow-audits":
        if not kb.audits:
            return "fail", "no flow audit stored", P.NONE, "content/audits/"
        last = kb.audits[-1].as_of
        age = (today - last).days
        return (
            ("pass" if age <= AUDIT_FRESH_DAYS else "fail"),
            f"latest {P.days(age)} before the build",
            str(last),
            f"content/audits/{last}.yml",
        )
    if kind == "prevention-actions":
        late = [(p.id, a) for p in kb.problems for a in getattr(p.meta, "prevention_actions", []) if a.status == "open" and a.due < today]
        return ("pass" if not late else "fail"), f"{P.count(len(late), 'prevention action')} overdue", built, at
    raise ValueError(kind)


def _findings(ctx: BuildContext) -> list[Finding]:
    """The findings of the build's check about this edition's records and the files that are not records."""
    shown = {r.source.path for r in ctx.kb.records.values()}
    return [f for f in ctx.report.findings if f.path in shown or not f.path.startswith(RECORD_DIR + "/")]


def _snapshots(ctx: BuildContext, today: date) -> tuple[str, str, str, str]:
    k = ctx.kb.program.kpis
    have = sorted(s.period for s in ctx.kb.kpi_snapshots)
    if k is None:
        return "not run", "content/kpis.yml could not be read", P.NONE, "content/kpis.yml"
    month = date.fromisoformat(k.checkpoints.baseline + "-01")
    missing = []
    while D.add_months(month, 1) <= today:
        if month.strftime("%Y-%m") not in have:
            missing.append(month.strftime("%Y-%m"))
        month = D.add_months(month, 1)
    last = have[-1] if have else P.NONE
    detail = f"{P.count(len(have), 'snapshot')}" + (f"; missing {', '.join(missing)}" if missing else "; none missing")
    return ("pass" if not missing else "fail"), detail, last, f"content/kpi/{last}.yml" if have else "content/kpi/"
