"""One module per output, one signature, one registry.

Every renderer is ``render(ctx: BuildContext, out_dir: Path) -> Path``: it receives the checked
KB, its history and build information, writes one output under ``out_dir`` and returns its
path. Renderers never read files or git themselves. Modules are imported only when used, so
``kedb check`` does not pay for python-docx or reportlab.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..build.context import BuildContext

Renderer = Callable[["BuildContext", Path], Path]


@dataclass(frozen=True)
class Artefact:
    """One artefact as the registry declares it: the build, the downloads page and the renderer
    itself (its output file name) all read it from here."""

    name: str  # docx, xlsx, ...: the --only name
    module: str
    file: str  # written under out_dir
    title: str
    description: str


RENDERERS: dict[str, Artefact] = {
    a.name: a
    for a in (
        Artefact(
            "docx",
            "kedb.renderers.docx",
            "implementation-runbook.docx",
            "Implementation runbook",
            "Roles, triggers, playbook steps, every published known error with its workaround and rollback, escalation paths.",
        ),
        Artefact(
            "xlsx",
            "kedb.renderers.xlsx",
            "kpi-and-risk-register.xlsx",
            "KPI and risk register",
            "KPI baseline tracker with formulas, risk and control register, known-error register.",
        ),
        Artefact(
            "pptx",
            "kedb.renderers.pptx",
            "exec-brief.pptx",
            "Executive brief",
            "The implementation deck: problem, KPIs with charts, top recurring problems, pending approvals, risks.",
        ),
        Artefact(
            "pdf",
            "kedb.renderers.pdf",
            "proof-brief.pdf",
            "Proof brief",
            "Governance evidence: KPI movement, controls, the approval trail of each published record, the commit built.",
        ),
    )
}
ARTEFACTS: tuple[str, ...] = tuple(RENDERERS)


def get(name: str) -> Renderer:
    return importlib.import_module(RENDERERS[name].module).render  # type: ignore[no-any-return]


def file_name(name: str) -> str:
    return RENDERERS[name].file
