"""Record text in every script renders, and stays inert, in all four artefacts.

The KB is tests/fixtures/base with tests/fixtures/unicode laid over it: a known error and its
workaround whose title, symptoms and steps hold accented Latin, Greek, Cyrillic, Chinese,
Japanese, Korean, Hebrew and Arabic text, formula-like text (`=`, `+`, `-`, `@`) and
markup-like text (`<b>`, `&`).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import unicodedata
import zipfile
from datetime import date
from pathlib import Path

import pytest

from kbtest import AS_OF, FIXTURES, copy_kb, init_repo
from kedb.build import context
from kedb.renderers import ARTEFACTS, get

TITLE_BITS = ("=1+1 Outlook fragt erneut", "Café Zürich", "日本語", "<b>x</b> & y")
HEBREW, ARABIC = "שלום עולם", "مرحبا بالعالم"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = copy_kb(FIXTURES / "base", tmp_path_factory.mktemp("unicode") / "kb")
    shutil.copytree(FIXTURES / "unicode" / "known_errors", root / "known_errors", dirs_exist_ok=True)
    init_repo(root)
    ctx = context.make(root, as_of=date.fromisoformat(AS_OF))
    return {name: get(name)(ctx, root / "out") for name in ARTEFACTS}


def _norm(text: str) -> str:
    """Text as extracted, with presentation forms folded (Arabic joining forms -> letters) and no layout spaces."""
    text = re.sub("[\u200e\u200f\u202a-\u202e\u2066-\u2069]", "", text)  # direction marks poppler adds around RTL runs
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text))


def _has_rtl(text: str, phrase: str) -> bool:
    """Every word of a right-to-left phrase, in logical order or in the visual order a PDF stores it in."""
    return all(w in text or w[::-1] in text for w in phrase.split())


def test_pdf_embeds_every_font_and_renders_every_script(built: dict[str, Path]) -> None:
    pdf = built["pdf"]
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout.splitlines()[2:]
    assert all(line.split()[-5] == "yes" for line in fonts), fonts
    assert any("WenQuanYi" in line for line in fonts), "no CJK font embedded"
    text = _norm(subprocess.run(["pdftotext", "-raw", str(pdf), "-"], capture_output=True, text=True, check=True).stdout)
    for bit in ("Café", "Zürich", "日本語", "<b>x</b> & y", "=1+1"):
        assert bit in text, bit
    assert _has_rtl(text, HEBREW), "Hebrew title not rendered"
    assert _has_rtl(text, unicodedata.normalize("NFKC", ARABIC)), "Arabic title not rendered"


def test_pdf_reorders_right_to_left_text_for_display(built: dict[str, Path]) -> None:
    from pypdf import PdfReader

    raw = "".join(p.extract_text() for p in PdfReader(str(built["pdf"])).pages)
    # reportlab writes glyphs left to right: the display order of "שלום" starts with its last letter
    assert "םולש" in unicodedata.normalize("NFKC", raw) or "שלום" in raw


def test_docx_keeps_text_literal_and_links_nothing(built: dict[str, Path]) -> None:
    from docx import Document
    from docx.oxml.ns import qn

    doc = Document(str(built["docx"]))
    text = "\n".join(p.text for p in doc.paragraphs)
    for s in ('=HYPERLINK("http://evil.example","click me")', "<b>not bold</b> & <i>not italic</i> stay literal", "登录失败",
              "שגיאת התחברות", "خطأ في تسجيل", "Überprüfung fehlgeschlagen – Ошибка входа – Σφάλμα", "=SUM(A1:A3) is not a formula"):  # fmt: skip
        assert s in text, s
    assert not list(doc.element.body.iter(qn("w:hyperlink")))
    assert not [r for r in doc.part.rels.values() if r.reltype.endswith("/hyperlink")]


def test_xlsx_stores_formula_like_text_as_text(built: dict[str, Path]) -> None:
    from openpyxl import load_workbook

    wb = load_workbook(built["xlsx"])
    ws = wb["Known errors"]
    cell = ws["B2"]
    assert cell.value.startswith("=1+1 Outlook") and cell.data_type == "s" and cell.quotePrefix
    with zipfile.ZipFile(built["xlsx"]) as z:
        names = {n for n in z.namelist() if n.startswith("xl/worksheets/sheet")}
        formulas = {n: len(re.findall(rb"<f[ >]", z.read(n))) for n in names}
    # only the KPI tracker (sheet1) has formulas: ours, for movement against baseline
    assert formulas.pop("xl/worksheets/sheet1.xml") > 0
    assert set(formulas.values()) == {0}, formulas


def test_pptx_opens_with_unicode_records(built: dict[str, Path]) -> None:
    from pptx import Presentation

    prs = Presentation(str(built["pptx"]))
    assert len(prs.slides) == 8
    text = " ".join(sh.text_frame.text for s in prs.slides for sh in s.shapes if sh.has_text_frame)
    assert "Test KB" in text


@pytest.mark.parametrize("bit", TITLE_BITS)
def test_title_reaches_the_register(built: dict[str, Path], bit: str) -> None:
    from openpyxl import load_workbook

    assert bit in load_workbook(built["xlsx"])["Known errors"]["B2"].value
