"""The four artefacts as their readers see them: converted by LibreOffice headless to PDF (the
proof brief is one already) and read back word by word with positions (pdfplumber).

Built from the bundled example with its demonstration history (examples/example_history.py:
merge requests approved after the gate). Checked: every word of every table cell comes out whole
(no "mitigatin/g", no "CHG003020/7"), no character lies outside its page or slide, page and slide
counts stay within bounds, no Markdown syntax leaks, and the first pages are written as PNG to
tests/_output/artefacts/ to be looked at.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from kbtest import REPO, require_tool
from kedb.build import context
from kedb.renderers import ARTEFACTS, file_name, get

OUTPUT = Path(__file__).resolve().parent / "_output" / "artefacts"
# Pages (slides) each artefact of the example may take: a change that pushes one out of its range
# is a layout change to look at (the PNGs show the first pages).
BOUNDS = {"docx": (25, 60), "xlsx": (8, 30), "pptx": (10, 14), "pdf": (6, 20)}
PNG_PAGES = {"docx": 3, "xlsx": 2, "pptx": 12, "pdf": 3}


def example_history() -> object:
    spec = importlib.util.spec_from_file_location("example_history", REPO / "examples" / "example_history.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["example_history"] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """The example's four artefacts, the table cells each renderer wrote, and their PDFs."""
    from kedb.renderers import pdf as pdf_renderer

    unchecked = "the artefacts' layout as LibreOffice prints them"
    soffice = require_tool("soffice", unchecked, "libreoffice-writer-nogui libreoffice-calc-nogui libreoffice-impress-nogui")
    pdftoppm = require_tool("pdftoppm", unchecked, "poppler-utils")
    base = tmp_path_factory.mktemp("layout")
    root = example_history().build(base / "kb")  # type: ignore[attr-defined]
    ctx = context.make(root)
    cells: list[list[str]] = []
    original = pdf_renderer._tables

    def recording(header, rows, weights, w, **kw):  # type: ignore[no-untyped-def]
        cells.append([pdf_renderer._text(h) for h in header or []])
        cells.extend([pdf_renderer._text(c) for c in row] for row in rows)
        return original(header, rows, weights, w, **kw)

    pdf_renderer._tables = recording
    try:
        paths = {name: get(name)(ctx, base / "out") for name in ARTEFACTS}
    finally:
        pdf_renderer._tables = original
    out = base / "pdf"
    profile = (base / "lo-profile").as_uri()
    subprocess.run([soffice, f"-env:UserInstallation={profile}", "--headless", "--convert-to", "pdf", "--outdir", str(out),
                    *(str(paths[n]) for n in ("docx", "xlsx", "pptx"))], check=True, capture_output=True, timeout=600)  # fmt: skip
    pdfs = {n: out / (paths[n].stem + ".pdf") for n in ("docx", "xlsx", "pptx")} | {"pdf": paths["pdf"]}
    OUTPUT.mkdir(parents=True, exist_ok=True)
    for old in OUTPUT.glob("*.png"):
        old.unlink()
    for name, pdf in pdfs.items():
        subprocess.run([pdftoppm, "-png", "-r", "60", "-f", "1", "-l", str(PNG_PAGES[name]), str(pdf), str(OUTPUT / Path(file_name(name)).stem)],
                       check=True)  # fmt: skip
    return {"ctx": ctx, "paths": paths, "pdfs": pdfs, "pdf_cells": cells, "root": root}


def table_cells(name: str, path: Path, pdf_cells: list[list[str]]) -> list[str]:
    """The text of every table cell of an artefact, as its renderer wrote it."""
    if name == "docx":
        from docx import Document

        return [c.text for t in Document(str(path)).tables for row in t.rows for c in row.cells]
    if name == "pptx":
        from pptx import Presentation

        return [
            c.text for s in Presentation(str(path)).slides for sh in s.shapes if sh.has_table for row in sh.table.rows for c in row.cells
        ]
    if name == "xlsx":
        from openpyxl import load_workbook
        from openpyxl.utils import column_index_from_string

        out = []
        for ws in load_workbook(path).worksheets:
            area = ws.print_area if isinstance(ws.print_area, str) else ",".join(ws.print_area or [])
            found = re.search(r"\$?([A-Z]+)\$?\d+$", area or "")
            last = column_index_from_string(found.group(1)) if found else ws.max_column
            out += [c.value for row in ws.iter_rows(max_col=last) for c in row if isinstance(c.value, str) and not c.value.startswith("=")]
        return out
    return [c for row in pdf_cells for c in row]


def pdf_words(pdf: Path) -> list[list[str]]:
    import pdfplumber

    with pdfplumber.open(str(pdf)) as doc:
        return [[w["text"] for w in page.extract_words(x_tolerance=1.5, keep_blank_chars=False)] for page in doc.pages]


SHORT = 4  # a cell of this many words or fewer is a value (an id, a date, a name): each of its words stays whole


def words(text: str) -> list[str]:
    """The words of a cell as a line may break them: at spaces, and in prose (a cell of more than
    :data:`SHORT` words) also after a hyphen ("line-of-" / "business", "2026-10-" / "26"), the break
    Unicode line breaking allows and every word processor makes. Values (ids, dates, names, figures)
    must come out whole."""
    tokens = text.split()
    if len(tokens) <= SHORT:
        return tokens
    return [p for w in tokens for p in re.split(r"(?<=-)(?=[^-])", w) if p]


@pytest.mark.parametrize("name", ARTEFACTS)
def test_no_word_is_broken_in_any_table_cell(built: dict, name: str) -> None:
    """Each word of each table cell is found whole in the printed pages, at least as often as the
    tables hold it: a word broken over two lines ("mitigatin" / "g") is found neither way."""
    cells = table_cells(name, built["paths"][name], built["pdf_cells"])
    wanted = Counter(w for text in cells for w in words(text))
    assert len(wanted) > 50, name
    printed = "\n".join(" ".join(page) for page in pdf_words(built["pdfs"][name]))
    broken = {w: n for w, n in wanted.items() if printed.count(w) < n}
    assert broken == {}, f"{name}: words of table cells not printed whole (or fewer times than the tables hold them): {broken}"


@pytest.mark.parametrize("name", ARTEFACTS)
def test_no_text_outside_the_page_and_page_counts_in_bounds(built: dict, name: str) -> None:
    import pdfplumber

    with pdfplumber.open(str(built["pdfs"][name])) as doc:
        pages = len(doc.pages)
        outside = []
        for n, page in enumerate(doc.pages, start=1):
            for ch in page.chars:
                if ch["text"].strip() and (
                    ch["x0"] < 0 or ch["x1"] > page.width + 0.5 or ch["top"] < 0 or ch["bottom"] > page.height + 0.5
                ):
                    outside.append((n, ch["text"], round(ch["x0"]), round(ch["top"])))
    assert outside == [], f"{name}: characters outside the page: {outside[:10]}"
    low, high = BOUNDS[name]
    assert low <= pages <= high, f"{name}: {pages} pages, expected {low}–{high}"


def test_slides_keep_every_shape_and_its_text_inside(built: dict) -> None:
    """Every shape lies on its slide and above the footer; text boxes hold their text (measured as the deck measures it)."""
    from pptx import Presentation

    from kedb.renderers import _fit

    prs = Presentation(str(built["paths"]["pptx"]))
    w, h = prs.slide_width, prs.slide_height
    for n, slide in enumerate(prs.slides, start=1):
        for sh in slide.shapes:
            if sh.left is None:
                continue  # a placeholder placed by its layout
            assert sh.left >= 0 and sh.top >= 0 and sh.left + sh.width <= w and sh.top + sh.height <= h, (n, sh.name)
            if sh.has_text_frame and not sh.is_placeholder and sh.text_frame.text.strip():
                room = sh.width / 12700 - 16
                lines = 0.0
                for p in sh.text_frame.paragraphs:
                    size = max((r.font.size.pt for r in p.runs if r.font.size), default=18)
                    lines += len(_fit.wrap(p.text, size, room)) * size * 1.22 + size * 0.3
                assert lines <= sh.height / 12700 + 2, (n, sh.text_frame.text[:60], lines, sh.height / 12700)


@pytest.mark.parametrize("name", ARTEFACTS)
def test_no_markdown_syntax_in_any_artefact(built: dict, name: str) -> None:
    text = "\n".join(" ".join(p) for p in pdf_words(built["pdfs"][name]))
    for mark in ("`", "**", "__", "](", "SOURCE_DATE_EPOCH"):
        assert mark not in text, f"{name} prints {mark!r}"


def test_first_pages_are_written_for_review(built: dict) -> None:
    """The PNGs a reviewer looks at before accepting a layout change."""
    for name in ARTEFACTS:
        pngs = sorted(OUTPUT.glob(Path(file_name(name)).stem + "-*.png"))
        assert pngs and all(p.stat().st_size > 5_000 for p in pngs), name


def test_the_example_trail_shows_approved_versions(built: dict) -> None:
    """Item 8: the example's history holds approved merge requests, and the brief and runbook show them."""
    from docx import Document

    ctx = built["ctx"]
    approved = [a for a in ctx.approvals.items if a.status == "approved"]
    assert len(approved) >= 4 and {a.version.merge_request for a in approved} >= {"northwind/kedb!1"}
    roles = ctx.kb.program.roles
    approvers = {p.name for p in roles.people if {"approver", "incident-lead"} & set(p.roles)}  # the incident lead: P1 replies
    assert {n for a in approved for n in a.approvers} <= approvers
    assert not ctx.approvals.violations and not ctx.approvals.change_violations
    brief = " ".join(" ".join(p) for p in pdf_words(built["pdfs"]["pdf"]))
    assert brief.count("approved:") >= len(approved) and "Approved-by" in brief
    for a in approved:
        assert a.version.commit in brief.replace(" ", "")  # the merge commit, in full, heads its entry
    notes = next(t for t in Document(str(built["paths"]["docx"])).tables if t.rows[0].cells[0].text.startswith("Landed"))
    merges = [r.cells[2].text for r in notes.rows[1:] if "Merge request" in r.cells[2].text]
    assert len(merges) == len({m for m in merges}) >= 4  # one row per merge request, not one per record


def test_example_history_is_deterministic(tmp_path: Path) -> None:
    """The same files give the same commits, so the same commit of this repository gives the same artefacts."""
    history = example_history()
    src = tmp_path / "src"
    for part in ("content", "known_errors", "templates"):
        shutil.copytree(REPO / part, src / part)
    shutil.copy2(REPO / "mkdocs.yml", src / "mkdocs.yml")
    heads = []
    for name in ("a", "b"):
        root = history.build(tmp_path / name, src)  # type: ignore[attr-defined]
        heads.append(subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True).stdout)
    assert heads[0] == heads[1]
