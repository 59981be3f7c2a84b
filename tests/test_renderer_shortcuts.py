"""The shortcuts that keep the artefacts fast at 10,000 records give what the long way gives:
the widest word of a column measured from a few words, a cell's fit checked and its lines broken
from one split (or known to be one line from one measure), and table rows written as WordprocessingML text rather than element by element."""

from __future__ import annotations

import random

import pytest
from lxml import etree

from kedb.renderers import _docx, _fit

WORDS = ["a", "il", "WWW", "mmmm", "KE-0042\u00a0v3", "—", "汉字", "نص", "ÉÈ", "1.5\u00a0min", "x" * 30, "lilt", "MW"]


def test_widest_is_the_width_of_the_widest_word_at_every_size() -> None:
    rnd = random.Random(7)
    letters = "abcdefghijklmnopqrstuvwxyzWM—il1.,-汉字\u00a0"
    for _ in range(200):
        ws = {"".join(rnd.choice(letters) for _ in range(rnd.randint(1, 14))) for _ in range(rnd.randint(1, 40))}
        sizes = (9, 8.5, 8, 7.5, 7)
        for face in ("sans", "bold", "mono"):
            assert _fit.widest(ws, sizes, face) == [max(_fit.width(w, s, face) for w in ws) for s in sizes]


def test_column_widest_measures_the_header_bold_and_each_column_apart() -> None:
    rows = [["Id", "Title"], ["KE-0001", "WWW mmm"], ["KE-00001234", "il"]]
    got = _fit.column_widest(rows, (9, 8), ["sans", "sans"])
    for c in range(2):
        for k, size in enumerate((9, 8)):
            want = max(_fit.longest_word(rows[0][c], size, "bold"), *(_fit.longest_word(r[c], size, "sans") for r in rows[1:]))
            assert got[c][k] == want


@pytest.mark.parametrize("room", [5.0, 20.0, 40.0, 90.0, 400.0])
def test_wrap_fitting_is_wrap_when_the_longest_word_fits(room: float) -> None:
    rnd = random.Random(int(room))
    for _ in range(100):
        text = "\n".join(" ".join(rnd.choice(WORDS) for _ in range(rnd.randint(0, 8))) for _ in range(rnd.randint(1, 3)))
        fits = _fit.longest_word(text, 8, "sans") <= room
        assert _fit.wrap_fitting(text, 8, room, "sans") == (_fit.wrap(text, 8, room, "sans") if fits else None)


@pytest.mark.parametrize("room", [5.0, 20.0, 40.0, 90.0, 400.0])
def test_one_line_only_when_wrap_gives_one_line(room: float) -> None:
    rnd = random.Random(int(room) + 1)
    seps = [" ", " ", " ", "  ", "\t", "\n"]
    for _ in range(300):
        text = "".join(rnd.choice(WORDS) + rnd.choice(seps) for _ in range(rnd.randint(1, 6)))[: rnd.randint(1, 80)]
        lines = _fit.wrap(text, 10, room, "sans")
        if _fit.one_line(text, 10, room, "sans"):
            assert len(lines) == 1
        fits = _fit.longest_word(text, 10, "sans") <= room
        assert _fit.wrap_fitting(text, 10, room, "sans") == (lines if fits else None)
    exact = " ".join(["mmmm", "il", "MW"])  # a text exactly as wide as the room: wrap keeps it on one line
    assert _fit.one_line(exact, 10, _fit.width(exact, 10) * 1.001) and not _fit.one_line(exact, 10, _fit.width(exact, 10) * 0.99)


CELLS = [
    "plain text",
    "",
    "two\nlines\n\nand an empty one",
    "a & b < c > d\r",
    ("overdue 2026-01-02", "overdue"),
    ("pass", "pass"),
    [("Gate: ", "bold"), ("kedb check", "code"), (" then merge", "")],
]


@pytest.mark.parametrize("header", [False, True])
@pytest.mark.parametrize("keep", [False, True])
def test_table_rows_as_text_are_the_rows_body_writer_makes(header: bool, keep: bool) -> None:
    from docx import Document

    w = _docx.BodyWriter(Document())
    widths = [str(1000 + i) for i in range(len(CELLS))]
    by_elements = etree.SubElement(w.body, _docx.W_P)  # any parent: only its children are compared
    tr = _docx._sub(by_elements, "w:tr")
    trpr = _docx._sub(tr, "w:trPr")
    _docx._sub(trpr, "w:cantSplit")
    if header:
        _docx._sub(trpr, "w:tblHeader")
    for cell, width in zip(CELLS, widths, strict=True):
        tc = _docx._sub(tr, "w:tc")
        _docx._sub(_docx._sub(tc, "w:tcPr"), "w:tcW", w=width, type="dxa")
        w.p(cell, parent=tc, bold=header, keep=keep, size="17")  # type: ignore[arg-type]
    by_text = etree.SubElement(w.body, _docx.W_P)
    _docx._append_xml(by_text, [_docx._row_xml(CELLS, widths, header=header, keep=keep, size="17")])  # type: ignore[arg-type]
    assert etree.tostring(by_text[0]) == etree.tostring(by_elements[0])


@pytest.mark.parametrize(
    "text", ["plain", "", "=1+2", "=", "+x", "-", "@a", "\tx", "#N/A", "#REF!", "**bold** `code`", "a\x00b\x1f", "x" * 40_000]
)
def test_text_cell_is_what_setting_the_value_gives(text: str) -> None:
    from openpyxl import Workbook

    from kedb.renderers import _md, xlsx

    ws = Workbook().active
    got = xlsx.text_cell(ws, 2, 3, text)
    want = ws.cell(row=4, column=3, value=_md.plain(_md.clean(text)))
    if want.value.startswith(xlsx.FORMULA_LIKE):
        want.data_type, want.quotePrefix = "s", True
    assert (got.value, got.data_type, got.quotePrefix) == (want.value, want.data_type, want.quotePrefix)


@pytest.mark.parametrize("style", [None, "List Bullet", "Heading 3"])
@pytest.mark.parametrize("num_id", [None, "7"])
@pytest.mark.parametrize("bold", [False, True])
def test_paragraphs_as_text_are_the_paragraphs_body_writer_makes(style: str | None, num_id: str | None, bold: bool) -> None:
    from docx import Document

    w = _docx.BodyWriter(Document())
    by_elements = etree.SubElement(w.body, _docx.W_P)
    by_text = etree.SubElement(w.body, _docx.W_P)
    sid = w.styles.get(style) if style else None
    for cell in [*CELLS, []]:
        w.p(cell, style, parent=by_elements, num_id=num_id, bold=bold)  # type: ignore[arg-type]
        _docx._append_xml(by_text, [_docx._p_xml(cell, sid, num_id=num_id, bold=bold)])  # type: ignore[arg-type]
    assert [etree.tostring(p) for p in by_text] == [etree.tostring(p) for p in by_elements]


def test_headings_as_text_are_a_styled_paragraph_with_a_bookmarked_run() -> None:
    from docx import Document

    w = _docx.BodyWriter(Document())
    for level, text in [(1, "One & <two>"), (2, "KE-0001 **Title**"), (3, "Symptoms")]:
        w.heading(text, level)
    w.finish()
    got = [etree.tostring(p) for p in w.body.iterchildren(_docx.W_P)]
    want, scratch = [], etree.SubElement(w.body, _docx.W_P)
    for n, (level, text) in enumerate([(1, "One & <two>"), (2, "KE-0001 Title"), (3, "Symptoms")], start=1):
        p = w.p("", f"Heading {level}", parent=scratch)
        if level <= _docx.TOC_LEVELS:
            _docx._sub(p, "w:bookmarkStart", id=str(n), name=f"_Toc{n - 1:06d}")
            w.run(p, text)
            _docx._sub(p, "w:bookmarkEnd", id=str(n))
        else:
            w.run(p, text)
        want.append(etree.tostring(p))
    assert got == want
