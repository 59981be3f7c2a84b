"""Golden text dumps of the four artefacts.

The KB is tests/fixtures/base with the records of tests/fixtures/unicode laid over it,
committed with a fixed author and date, so the commit id, the build date and therefore every
artefact are the same on every run. Each artefact is dumped to text (paragraphs with their
style, table rows, sheet cells with formulas as written, slide texts and chart series, PDF
page text) and compared with ``tests/fixtures/unicode/golden/<file>.txt``.

After an intended change to a renderer or to the fixture, refresh the dumps with

    KEDB_UPDATE_GOLDEN=1 .venv/bin/python -m pytest -q tests/test_artefacts_golden.py

and review the diff of the golden files like any other change.
"""

from __future__ import annotations

import os
import shutil
from datetime import date
from pathlib import Path

import pytest

from kbtest import AS_OF, FIXTURES, copy_kb, git
from kedb.build import context
from kedb.renderers import ARTEFACTS, get

GOLDEN = FIXTURES / "unicode" / "golden"
UPDATE = os.environ.get("KEDB_UPDATE_GOLDEN") == "1"
WHEN = "2026-11-02T09:30:00+00:00"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = copy_kb(FIXTURES / "base", tmp_path_factory.mktemp("golden") / "kb")
    shutil.copytree(FIXTURES / "unicode" / "known_errors", root / "known_errors", dirs_exist_ok=True)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "Golden KB", env={"GIT_AUTHOR_DATE": WHEN, "GIT_COMMITTER_DATE": WHEN})
    ctx = context.make(root, as_of=date.fromisoformat(AS_OF))
    return {name: get(name)(ctx, root / "out") for name in ARTEFACTS}


def dump_docx(path: Path) -> str:
    from docx import Document
    from docx.oxml.ns import qn
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    doc = Document(str(path))
    out = []
    for el in doc.element.body.iterchildren():
        if el.tag == qn("w:p"):
            p = Paragraph(el, doc._body)
            num = " #" if el.pPr is not None and el.pPr.numPr is not None else ""
            out.append(f"[{p.style.name}{num}] {p.text}".rstrip())
        elif el.tag == qn("w:tbl"):
            for row in Table(el, doc._body).rows:
                out.append("| " + " | ".join(c.text.replace("\n", " / ") for c in row.cells) + " |")
    return "\n".join(out)


def dump_xlsx(path: Path) -> str:
    from openpyxl import load_workbook

    wb = load_workbook(path)
    out = []
    for ws in wb.worksheets:
        out.append(f"# {ws.title} (freeze {ws.freeze_panes}, filter {ws.auto_filter.ref}, charts {len(ws._charts)})")
        out += [f"validation {dv.sqref}: {dv.formula1}" for dv in ws.data_validations.dataValidation]
        out += [f"format {rng.sqref}: {[r.formula for r in rules]}" for rng, rules in ws.conditional_formatting._cf_rules.items()]
        for row in ws.iter_rows():
            cells = ["" if c.value is None else str(c.value).replace("\n", " / ") for c in row]
            if any(cells):
                out.append(" | ".join(cells))
    return "\n".join(out)


def dump_pptx(path: Path) -> str:
    from pptx import Presentation

    prs = Presentation(str(path))
    out = []
    for n, slide in enumerate(prs.slides, start=1):
        out.append(f"## slide {n} ({slide.slide_layout.name})")
        for sh in slide.shapes:
            if sh.has_chart:
                chart = sh.chart
                out.append(f"chart {chart.chart_type}: {list(chart.plots[0].categories)}")
                out += [f"  {s.name}: {list(s.values)}" for s in chart.plots[0].series]
            elif sh.has_table:
                out += ["| " + " | ".join(c.text for c in row.cells) + " |" for row in sh.table.rows]
            elif sh.has_text_frame and sh.text_frame.text.strip():
                out.append(sh.text_frame.text)
    return "\n".join(out)


def dump_pdf(path: Path) -> str:
    from pypdf import PdfReader

    pages = PdfReader(str(path)).pages
    return "\n".join(f"--- page {i}\n" + "\n".join(ln.strip() for ln in p.extract_text().splitlines()) for i, p in enumerate(pages, 1))


def _spaces(dump):  # type: ignore[no-untyped-def]
    """A dump with each no-break space (between a number and its unit, see renderers/_fit.glue) as a space."""

    def run(path: Path) -> str:
        return dump(path).replace("\u00a0", " ")

    return run


dump_docx, dump_xlsx, dump_pptx, dump_pdf = (_spaces(d) for d in (dump_docx, dump_xlsx, dump_pptx, dump_pdf))
DUMPS = {"docx": dump_docx, "xlsx": dump_xlsx, "pptx": dump_pptx, "pdf": dump_pdf}


@pytest.mark.parametrize("name", ARTEFACTS)
def test_artefact_matches_golden_dump(built: dict[str, Path], name: str) -> None:
    text = DUMPS[name](built[name]) + "\n"
    golden = GOLDEN / f"{built[name].name}.txt"
    if UPDATE:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(text, encoding="utf-8")
        return
    assert golden.is_file(), f"{golden} is missing: run KEDB_UPDATE_GOLDEN=1 pytest tests/test_artefacts_golden.py"
    expected = golden.read_text(encoding="utf-8")
    assert text == expected, (
        f"{built[name].name} differs from {golden}; if intended, refresh with KEDB_UPDATE_GOLDEN=1 (see module docstring)"
    )
