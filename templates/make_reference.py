"""Write ``templates/reference.docx``: the styles of the implementation runbook.

The runbook renderer opens this document, empties its body and writes the runbook with the
styles defined here (Title, Heading 1-3, List Number, List Bullet, Code Block, the table style
"KEDB Table", TOC 1-3) and keeps its page set-up, header and footer. To brand the runbook,
open ``reference.docx`` in Word or LibreOffice, change those styles (fonts, colours, spacing)
and the footer, save, and commit it; no code changes are needed. Styles the renderer looks
for and does not find fall back to Word's built-in ones.

This script is how the committed file was made, so it can be rebuilt byte for byte:
``.venv/bin/python templates/make_reference.py``.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.style import WD_STYLE_TYPE
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "generators"))

from kedb.renderers._zip import normalise  # noqa: E402

BRAND = RGBColor(0x1F, 0x4E, 0x79)
STAMP = datetime(2026, 1, 1, tzinfo=UTC)


def _field(paragraph, instruction: str, shown: str) -> None:  # type: ignore[no-untyped-def]
    """A complex field (begin, instruction, separate, cached result, end) at the end of ``paragraph``."""
    run = paragraph.add_run()
    for tag, attrs, text in (
        ("w:fldChar", {"w:fldCharType": "begin"}, None),
        ("w:instrText", {"xml:space": "preserve"}, f" {instruction} "),
        ("w:fldChar", {"w:fldCharType": "separate"}, None),
    ):
        el = OxmlElement(tag)
        for k, v in attrs.items():
            el.set(qn(k), v)
        if text:
            el.text = text
        run._r.append(el)
    paragraph.add_run(shown)
    end = OxmlElement("w:fldChar")
    end.set(qn("w:fldCharType"), "end")
    paragraph.add_run()._r.append(end)


def _shade(style, fill: str) -> None:  # type: ignore[no-untyped-def]
    ppr = style.element.get_or_add_pPr()
    shd = OxmlElement("w:shd")
    shd.set(qn("w:val"), "clear")
    shd.set(qn("w:color"), "auto")
    shd.set(qn("w:fill"), fill)
    ppr.append(shd)


def build(out: Path) -> Path:
    doc = Document()
    styles = doc.styles
    normal = styles["Normal"]
    normal.font.name = "Calibri"
    normal.font.size = Pt(10.5)
    normal.paragraph_format.space_after = Pt(4)
    for name, size in (("Title", 26), ("Heading 1", 16), ("Heading 2", 13), ("Heading 3", 11)):
        st = styles[name]
        st.font.color.rgb = BRAND
        st.font.size = Pt(size)
        st.font.name = "Calibri"
        st.paragraph_format.keep_with_next = True
    styles["Heading 1"].paragraph_format.page_break_before = False
    styles["Heading 1"].paragraph_format.space_before = Pt(18)

    code = styles.add_style("Code Block", WD_STYLE_TYPE.PARAGRAPH)
    code.base_style = normal
    code.font.name = "Consolas"
    code.font.size = Pt(8.5)
    code.paragraph_format.left_indent = Cm(0.9)
    code.paragraph_format.space_after = Pt(2)
    _shade(code, "F2F2F2")

    note = styles.add_style("Note", WD_STYLE_TYPE.PARAGRAPH)
    note.base_style = normal
    note.font.italic = True
    note.font.size = Pt(9)
    note.font.color.rgb = RGBColor(0x59, 0x59, 0x59)

    for level in (1, 2, 3):
        toc = styles.add_style(f"TOC {level}", WD_STYLE_TYPE.PARAGRAPH)
        toc.base_style = normal
        toc.paragraph_format.left_indent = Cm(0.5 * (level - 1))
        toc.paragraph_format.space_after = Pt(1)

    table = styles.add_style("KEDB Table", WD_STYLE_TYPE.TABLE)
    table.base_style = styles["Light Grid Accent 1"]
    table.font.size = Pt(9)

    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Cm(2))
    footer = section.footer.paragraphs[0]
    footer.style = styles["Footer"]
    footer.add_run("Page ")
    _field(footer, "PAGE", "1")
    footer.add_run(" of ")
    _field(footer, "NUMPAGES", "1")

    core = doc.core_properties
    core.author = core.last_modified_by = "kedb"
    core.title = "Implementation runbook (reference styles)"
    core.revision = 1
    core.created = core.modified = STAMP.replace(tzinfo=None)
    doc.save(str(out))
    return normalise(out, STAMP)


if __name__ == "__main__":
    print(build(HERE / "reference.docx"))
