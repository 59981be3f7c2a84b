"""The four artefacts on the downloads page: which exist for this build, and how to build the others."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from ..renderers import RENDERERS

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
    for name, info in RENDERERS.items():
        fname, title, desc = info.file, info.title, info.description
        path = folder / fname if folder is not None else None
        if path is not None and path.is_file():
            data = path.read_bytes()
            out.append(Artefact(name, fname, title, desc, path, len(data), hashlib.sha256(data).hexdigest()))
        else:
            out.append(Artefact(name, fname, title, desc, None))
    return out
