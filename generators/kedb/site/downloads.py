"""The four artefacts on the downloads page: which exist for this build, and how to build the others."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from ..renderers import ARTEFACTS, file_name

DESCRIPTIONS = {
    "docx": (
        "Implementation runbook",
        "Roles, triggers, playbook steps, every published known error with its workaround and rollback, escalation paths.",
    ),
    "xlsx": ("KPI and risk register", "KPI baseline tracker with formulas, risk and control register, known-error register."),
    "pptx": ("Executive brief", "The implementation deck: problem, KPIs with charts, top recurring problems, pending approvals, risks."),
    "pdf": ("Proof brief", "Governance evidence: KPI movement, controls, the approval trail of each published record, the commit built."),
}
DOWNLOADS = "downloads"


@dataclass(frozen=True)
class Artefact:
    name: str  # docx, xlsx, ...
    file: str  # implementation-runbook.docx
    title: str
    description: str
    path: Path | None  # None: not built
    size: int = 0
    sha256: str = ""

    @property
    def src(self) -> str:
        return f"{DOWNLOADS}/{self.file}"

    @property
    def size_label(self) -> str:
        return f"{self.size / 1024:,.0f} KiB" if self.size >= 1024 else f"{self.size} bytes"


def artefacts(folder: Path | None) -> list[Artefact]:
    out = []
    for name in ARTEFACTS:
        fname = file_name(name)
        title, desc = DESCRIPTIONS.get(name, (fname, ""))
        path = folder / fname if folder is not None else None
        if path is not None and path.is_file():
            data = path.read_bytes()
            out.append(Artefact(name, fname, title, desc, path, len(data), hashlib.sha256(data).hexdigest()))
        else:
            out.append(Artefact(name, fname, title, desc, None))
    return out
