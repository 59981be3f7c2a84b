"""Record text in every script renders, and stays inert, in all four artefacts.

The KB is tests/fixtures/base with tests/fixtures/unicode laid over it: a known error and its
workaround whose title, symptoms and steps hold accented Latin, Greek, Cyrillic, Chinese,
Japanese, Korean, Hebrew and Arabic text, formula-like text (`=`, `+`, `-`, `@`) and
markup-like text (`<b>`, `&`). It is committed on 2027-02-10, so the known error's review
(2027-03-01) falls in the "next 30 days" of the build and its title reaches the deck too.
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
import yaml

from kbtest import AS_OF, FIXTURES, copy_kb, git
from kedb.build import context
from kedb.renderers import ARTEFACTS, get

TITLE_BITS = ("=1+1 Outlook fragt erneut", "Café Zürich", "日本語", "<b>x</b> & y")
HEBREW, ARABIC = "שלום עולם", "مرحبا بالعالم"
KE_FILE = FIXTURES / "unicode" / "known_errors" / "KE-0001-outlook-prompts.md"
TITLE = yaml.safe_load(KE_FILE.read_text(encoding="utf-8").split("---\n")[1])["title"]
COMMITTED = "2027-02-10T09:00:00+00:00"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = copy_kb(FIXTURES / "base", tmp_path_factory.mktemp("unicode") / "kb")
    shutil.copytree(FIXTURES / "unicode" / "known_errors", root / "known_errors", dirs_exist_ok=True)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "Initial KB", env={"GIT_AUTHOR_DATE": COMMITTED, "GIT_COMMITTER_DATE": COMMITTED})
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
    """reportlab draws glyphs left to right, so the proof brief stores right-to-left text in the
    order it is seen (python-bidi), with Arabic letters in their joined forms (arabic-reshaper)."""
    from pypdf import PdfReader

    # In the order the page draws them (poppler's -raw), the title's right-to-left words come last
    # word first; poppler turns each word's letters back, so the words read in logical order.
    stream = _norm(subprocess.run(["pdftotext", "-raw", str(built["pdf"]), "-"], capture_output=True, text=True, check=True).stdout)
    drawn = " ".join(reversed(f"{HEBREW} {ARABIC}".split()))
    assert f"日本語 {drawn} <b>x</b> & y" in stream
    # pypdf reads the whole run back into logical order; the Arabic is there only in joined forms.
    raw = "".join(p.extract_text() for p in PdfReader(str(built["pdf"])).pages)
    assert f"{HEBREW} {ARABIC}" in _norm(raw)
    assert ARABIC.split()[0] not in raw and HEBREW[::-1] not in _norm(raw)


def test_docx_keeps_text_literal_and_links_nothing(built: dict[str, Path]) -> None:
    from docx import Document
    from docx.oxml.ns import qn

    doc = Document(str(built["docx"]))
    text = "\n".join(p.text for p in doc.paragraphs)
    for s in ('=HYPERLINK("http://evil.example","click me")', "<b>not bold</b> & <i>not italic</i> stay literal", "登录失败",
              "שגיאת התחברות", "خطأ في تسجيل", "Überprüfung fehlgeschlagen – Ошибка входа – Σφάλμα", "=SUM(A1:A3) is not a formula"):  # fmt: skip
        assert s in text, s
    # The only links are the contents' links to the runbook's own headings (bookmarks), none to an address.
    links = list(doc.element.body.iter(qn("w:hyperlink")))
    marks = {b.get(qn("w:name")) for b in doc.element.body.iter(qn("w:bookmarkStart"))}
    assert links and all(h.get(qn("r:id")) is None and h.get(qn("w:anchor")) in marks for h in links)
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
    # only the KPI tracker and the risk register have formulas: ours, for movement against baseline and
    # standing, and for a risk's score and next review; none holds record text (sheetN is the N-th sheet)
    tracker, risks = (f"xl/worksheets/sheet{wb.sheetnames.index(n) + 1}.xml" for n in ("KPI tracker", "Risks"))
    assert formulas.pop(tracker) > 0 and formulas.pop(risks) > 0
    assert set(formulas.values()) == {0}, formulas
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if c.data_type == "f":
                    assert re.fullmatch(r"=[A-Z(][A-Za-z0-9(),.:<>=*/+\-\"\s$%{}]*", c.value) and "Outlook" not in c.value, c.value


def test_pptx_opens_with_unicode_records(built: dict[str, Path]) -> None:
    from pptx import Presentation

    prs = Presentation(str(built["pptx"]))
    assert len(prs.slides) == 10  # no audit stored, and every KPI lower-is-better: one trend slide
    text = " ".join(sh.text_frame.text for s in prs.slides for sh in s.shapes if sh.has_text_frame)
    assert "Test KB" in text
    # The deck names a known error where its review falls due: the whole title, every script in
    # it, as literal text (no markup read, no formula), on the slide of the next 30 days.
    due = next(s for s in prs.slides if s.shapes.title is not None and s.shapes.title.text.startswith("The next 30 days"))
    rows = [[c.text for c in row.cells] for sh in due.shapes if sh.has_table for row in sh.table.rows]
    assert ["2027-03-01", f"review KE-0001 {TITLE}", "Ann Owner"] in rows
    assert all(bit in TITLE for bit in (*TITLE_BITS, HEBREW, ARABIC))
    # Nothing in the deck links anywhere.
    with zipfile.ZipFile(built["pptx"]) as z:
        slides = [n for n in z.namelist() if n.startswith("ppt/slides/")]
        assert not [n for n in slides if b"hlinkClick" in z.read(n) or b'TargetMode="External"' in z.read(n)]


@pytest.mark.parametrize("bit", TITLE_BITS)
def test_title_reaches_the_register(built: dict[str, Path], bit: str) -> None:
    from openpyxl import load_workbook

    assert bit in load_workbook(built["xlsx"])["Known errors"]["B2"].value
