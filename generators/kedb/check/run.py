"""``kedb check``: load the KB, run every rule, and report."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from ..core.errors import EnvironmentProblem
from ..core.findings import Finding, Severity
from ..core.kb import KB
from ..core.load.files import CONTENT_DIR, RECORD_DIR
from ..core.load.loader import load
from ..core.trail import ApprovalReport
from .engine import engine_findings
from .rules import check_kb


@dataclass(frozen=True)
class Report:
    kb: KB
    findings: tuple[Finding, ...]

    def count(self, severity: Severity) -> int:
        return sum(1 for f in self.findings if f.severity is severity)

    def failed(self, strict: bool = False) -> bool:
        """Errors fail; with ``strict``, warnings fail too."""
        return any(f.severity is Severity.ERROR or strict for f in self.findings)


def today() -> date:
    """The date rules such as staleness are judged on: ``SOURCE_DATE_EPOCH`` if set, else today."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.isdigit():
        return datetime.fromtimestamp(int(epoch), tz=UTC).date()
    return date.today()


def ensure_kb(root: Path) -> Path:
    root = Path(root)
    if not (root / RECORD_DIR).is_dir() and not (root / CONTENT_DIR).is_dir():
        raise EnvironmentProblem(
            f"{root.resolve()} is not a kedb repository (no {RECORD_DIR}/ or {CONTENT_DIR}/); run from the KB root or pass --root"
        )
    return root


def run(
    root: Path,
    as_of: date | None = None,
    *,
    base: str | None = None,
    approvals: bool = False,
    allow_shallow: bool = False,
    use_cache: bool = True,
    remember: bool = False,
) -> Report:
    """Load and check the KB at ``root``; ``base`` adds the rules that compare with a base
    revision, ``approvals`` verifies the approval trail of the checked-out history; ``remember`` keeps what each
    record file gave in this process for the next run (:func:`kedb.core.load.loader.load`)."""
    kb, findings = load(ensure_kb(root), use_cache=use_cache, remember=remember)
    findings.extend(check_kb(kb, as_of or today()))
    findings.extend(engine_findings(kb.root))
    if base:
        from ..git.basediff import base_findings, compare

        findings.extend(base_findings(compare(kb, base), kb))
    if approvals:
        findings.extend(approval_findings(kb, allow_shallow))
    return Report(kb, tuple(sorted(set(findings))))


_APPROVAL_CODES = {
    "missing": "KE810",
    "unauthorised": "KE811",
    "self-approved": "KE812",
    "unreadable": "KE813",
    "unsigned": "KE817",
    "reply-unapproved": "KE819",
}

# A maintainer change's verdicts: a missing, unauthorised or self-granted approval is KE814.
_CHANGE_CODES = {"gate-moved": "KE815", "unsigned": "KE817", "unreadable": "KE813"}


def approval_findings(kb: KB, allow_shallow: bool = False) -> list[Finding]:
    from ..git import history
    from ..git.approvals import verify

    hist = history.read(kb.root, allow_shallow=allow_shallow)
    if hist is None:
        raise EnvironmentProblem(f"--approvals reads git history, and {kb.root} is not a git repository")
    return findings_of(kb, verify(kb, hist))


def findings_of(kb: KB, report: ApprovalReport) -> list[Finding]:
    """The approval report as findings: each violation, and a warning for each author kedb cannot
    identify, and for a gate that has not started."""
    out = []
    settings = kb.program.sources.get("kedb.yml")
    if report.gate_since is None and settings is not None:
        out.append(
            Finding(
                settings.path,
                1,
                "KE818",
                "no approvals_since: the approval gate has not started, so no change is judged; set the day it starts "
                "(today at the latest) in content/kedb.yml",
            )
        )
    for a in report.items:
        if not a.violation and not (a.notes and a.status == "approved"):
            continue
        rec = kb.records.get(a.record)
        v = a.version
        # A deleted record keeps its trail: its findings point at the path it had.
        path, line = (rec.source.path, rec.source.line_of("status")) if rec is not None else (v.path, 1)
        head = f"{a.record} version {v.number} (commit {v.short}, {v.date.date()}, '{v.subject}')"
        if a.violation:
            out.append(Finding(path, line, _APPROVAL_CODES[a.status], f"{head}: {a.message}"))
            continue
        out.extend(Finding(path, line, "KE816", f"{head}: {note}") for note in a.notes)
    for c in report.changes:
        if not c.violation and not (c.notes and c.status == "approved"):
            continue
        x = c.landing
        files = ", ".join(x.paths[:3]) + (f" and {len(x.paths) - 3} more" if len(x.paths) > 3 else "")
        head = f"commit {x.short} ({x.date.date()}, '{x.subject}') changed {files}"
        where = "content/kedb.yml" if c.status == "gate-moved" else x.paths[0]
        if c.violation:
            out.append(Finding(where, 1, _CHANGE_CODES.get(c.status, "KE814"), f"{head}: {c.message}"))
            continue
        out.extend(Finding(where, 1, "KE816", f"{head}: {note}") for note in c.notes)
    return out


def summary(report: Report) -> str:
    n = len(report.kb.records)
    e, w = report.count(Severity.ERROR), report.count(Severity.WARNING)
    return f"{n} records checked: {e} error{'s' * (e != 1)}, {w} warning{'s' * (w != 1)}"


def format_text(report: Report) -> str:
    lines = [f.format() for f in report.findings]
    lines.append(summary(report))
    return "\n".join(lines)


def format_json(report: Report) -> str:
    return json.dumps(
        {
            "records": len(report.kb.records),
            "errors": report.count(Severity.ERROR),
            "warnings": report.count(Severity.WARNING),
            "findings": [
                {"path": f.path, "line": f.line, "code": f.code, "rule": f.rule.name, "severity": f.severity.value, "message": f.message}
                for f in report.findings
            ],
        },
        indent=2,
        ensure_ascii=False,
    )


def format_gitlab(report: Report) -> str:
    """GitLab code-quality report (artifacts:reports:codequality), so MRs show findings inline."""
    items = []
    for f in report.findings:
        fp = hashlib.sha256(f"{f.path}:{f.code}:{f.message}".encode()).hexdigest()
        items.append(
            {
                "description": f"{f.code} {f.rule.name}: {f.message}",
                "check_name": f.code,
                "fingerprint": fp,
                "severity": "major" if f.severity is Severity.ERROR else "minor",
                "location": {"path": f.path, "lines": {"begin": f.line}},
            }
        )
    return json.dumps(items, indent=2, ensure_ascii=False)


FORMATS = {"text": format_text, "json": format_json, "gitlab": format_gitlab}
