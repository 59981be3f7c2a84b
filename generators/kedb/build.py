"""``kedb build``: check everything, then render every output from the one KB.

Read everything, then write everything: if the check has an error, nothing is rendered.
The renderers (site, docx, xlsx, pptx, pdf) arrive with their issues; until a renderer is
registered, ``build`` reports what it would build from the checked KB.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from . import check
from .errors import UsageError

OUTPUTS: dict[str, str] = {
    "site": "site/ (the MkDocs-Material knowledge base)",
    "docx": "site/downloads/implementation-runbook.docx",
    "xlsx": "site/downloads/kpi-and-risk-register.xlsx",
    "pptx": "site/downloads/exec-brief.pptx",
    "pdf": "site/downloads/proof-brief.pdf",
}


@dataclass(frozen=True)
class Plan:
    report: check.Report
    outputs: tuple[str, ...]
    audience: str
    tenant: str | None

    def describe(self) -> list[str]:
        kb = self.report.kb
        kinds = {"known errors": kb.known_errors, "workarounds": kb.workarounds, "problems": kb.problems}
        counts = ", ".join(f"{len(v)} {k}" for k, v in kinds.items())
        lines = [
            f"KB: {counts}, {len(kb.playbooks)} playbook pages (audience {self.audience}"
            + (f", tenant {self.tenant})" if self.tenant else ")")
        ]
        for name in self.outputs:
            lines.append(f"would build {name}: {OUTPUTS[name]} (renderer not available yet)")
        return lines


def parse_only(only: str | None) -> tuple[str, ...]:
    if not only:
        return tuple(OUTPUTS)
    names = tuple(x.strip() for x in only.split(",") if x.strip())
    unknown = [n for n in names if n not in OUTPUTS]
    if unknown:
        raise UsageError(f"unknown output(s) {', '.join(unknown)}; choose from {', '.join(OUTPUTS)}")
    return names


def plan(root: Path, only: str | None, audience: str, tenant: str | None, as_of: date | None = None) -> Plan:
    outputs = parse_only(only)
    report = check.run(root, as_of)
    return Plan(report, outputs, audience, tenant)
