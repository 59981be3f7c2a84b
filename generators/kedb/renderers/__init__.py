"""One module per output, one signature, one registry.

Every renderer is ``render(ctx: BuildContext, out_dir: Path) -> Path``: it receives the checked
KB, its history and build information, writes one output under ``out_dir`` and returns its
path. Renderers never read files or git themselves. Modules are imported only when used, so
``kedb check`` does not pay for python-docx or reportlab.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..build.context import BuildContext

Renderer = Callable[["BuildContext", Path], Path]

# name -> (module, file name written under out_dir)
RENDERERS: dict[str, tuple[str, str]] = {
    "docx": ("kedb.renderers.docx", "implementation-runbook.docx"),
    "xlsx": ("kedb.renderers.xlsx", "kpi-and-risk-register.xlsx"),
    "pptx": ("kedb.renderers.pptx", "exec-brief.pptx"),
    "pdf": ("kedb.renderers.pdf", "proof-brief.pdf"),
}
ARTEFACTS: tuple[str, ...] = tuple(RENDERERS)


def get(name: str) -> Renderer:
    module, _ = RENDERERS[name]
    return importlib.import_module(module).render  # type: ignore[no-any-return]


def file_name(name: str) -> str:
    return RENDERERS[name][1]
