"""The peer a team would otherwise pick: the same records as plain Markdown pages in a stock
mkdocs-material site (Material's own search, lunr), built by ``mkdocs build``.

Each record is one page under ``docs/records/`` (its title, error codes, symptoms and body, as an
author would write it), kept out of the navigation (MkDocs' ``not_in_nav``), as a KB of
thousands of pages would be; ``docs/index.md`` is the only page in the navigation. Used by
``bench_site.py`` (build time, issue #23) and ``bench_findability.py`` (search quality, issue #16).
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

BIN = Path(sys.executable).parent
CONFIG = """site_name: Plain Material
theme:
  name: material
plugins:
  - search
nav:
  - index.md
not_in_nav: |
  /records/
"""


def write(kb: Path, out: Path) -> Path:
    """Write the peer's sources for the KB at ``kb`` into ``out`` (replaced); returns its ``mkdocs.yml``."""
    from kedb.core.load.loader import load

    shutil.rmtree(out, ignore_errors=True)
    docs = out / "docs"
    (docs / "records").mkdir(parents=True)
    loaded, _ = load(kb)
    (docs / "index.md").write_text("# Known errors\n", encoding="utf-8")
    for rec in loaded.records.values():
        m = rec.meta
        parts = [f"# {rec.id} {m.title}\n"]
        codes = getattr(m, "error_codes", [])
        if codes:
            parts.append("Error codes: " + ", ".join(f"`{c}`" for c in codes) + "\n")
        symptoms = getattr(m, "symptoms", [])
        if symptoms:
            parts.append("## Symptoms\n\n" + "\n".join(f"- {s}" for s in symptoms) + "\n")
        parts.append(rec.source.body)
        (docs / "records" / f"{rec.id}.md").write_text("\n".join(parts), encoding="utf-8")
    config = out / "mkdocs.yml"
    config.write_text(CONFIG, encoding="utf-8")
    return config


def command(config: Path) -> list[str]:
    """``mkdocs build`` of the peer, quiet (its site in ``site/`` beside the configuration)."""
    return [str(BIN / "mkdocs"), "build", "--quiet", "--config-file", str(config)]


ENV = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
