"""A fast, small writer for Word bodies on top of python-docx's document model.

python-docx's ``add_paragraph`` inserts every new element before the section properties with
a linear search of the body, and resolves styles by name, so a runbook of thousands of
records grows quadratically. This writer appends WordprocessingML elements to the body
directly (the section properties are moved back to the end when done), resolves each style id
once, and creates numbering instances itself, so a long runbook stays linear. The result is
an ordinary python-docx ``Document``: tests and users read it with python-docx as usual.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import cache
from typing import Any

from docx.oxml.ns import qn
from lxml import etree

from ._md import Block, Span, clean, spans

W_P, W_R, W_T, W_PPR, W_RPR = qn("w:p"), qn("w:r"), qn("w:t"), qn("w:pPr"), qn("w:rPr")
XML_SPACE = "{http://www.w3.org/XML/1998/namespace}space"
TEXT_WIDTH_TWIPS = 9638  # A4 with 2 cm margins: 17 cm
MONO = "Consolas"

Cell = str | Sequence[Span]


@cache
def _q(tag: str) -> str:
    return str(qn(tag))


def _sub(parent: Any, tag: str, **attrs: str) -> Any:
    el = etree.SubElement(parent, _q(tag))
    for k, v in attrs.items():
        el.set(_q("w:" + k), v)
    return el


class BodyWriter:
    """Appends paragraphs, lists and tables to a document whose body has been emptied."""

    def __init__(self, doc: Any) -> None:
        self.doc = doc
        body = doc.element.body
        self.sect_pr = body.find(qn("w:sectPr"))
        for child in list(body):
            body.remove(child)
        self.body = body
        self.styles = self._style_ids(doc)
        self.headings: list[tuple[int, str]] = []
        self._numbering = doc.part.numbering_part.element
        ids = [int(n.get(qn("w:numId"))) for n in self._numbering.findall(qn("w:num"))]
        self._next_num = max(ids, default=0) + 1
        self._ol_abstract = self._abstract_for("ListNumber")

    # ------------------------------------------------------------ set-up
    @staticmethod
    def _style_ids(doc: Any) -> dict[str, str | None]:
        """Style name -> id in this reference document, with fallbacks for a reference that lacks one."""
        by_name = {s.name: s.style_id for s in doc.styles}
        want = {
            "Title": ["Title"],
            "Subtitle": ["Subtitle"],
            "Heading 1": ["Heading 1"],
            "Heading 2": ["Heading 2"],
            "Heading 3": ["Heading 3"],
            "List Number": ["List Number", "List Paragraph"],
            "List Bullet": ["List Bullet", "List Paragraph"],
            "Code Block": ["Code Block", "macro", "No Spacing"],
            "Note": ["Note", "Quote"],
            "TOC Heading": ["TOC Heading", "Heading 1"],
            "TOC 1": ["TOC 1", "toc 1"],
            "TOC 2": ["TOC 2", "toc 2"],
            "Table": ["KEDB Table", "Light Grid Accent 1", "Table Grid"],
        }
        return {k: next((by_name[c] for c in cands if c in by_name), None) for k, cands in want.items()}

    def _abstract_for(self, style_id: str) -> str | None:
        style = self.doc.styles.element.find(f"{qn('w:style')}[@{qn('w:styleId')}='{style_id}']")
        num_id = style.find(f"{qn('w:pPr')}/{qn('w:numPr')}/{qn('w:numId')}") if style is not None else None
        if num_id is None:
            return None
        for num in self._numbering.findall(qn("w:num")):
            if num.get(qn("w:numId")) == num_id.get(qn("w:val")):
                return str(num.find(qn("w:abstractNumId")).get(qn("w:val")))
        return None

    def new_numbering(self) -> str | None:
        """A fresh numbering instance of the List Number style, so each list starts at 1."""
        if self._ol_abstract is None:
            return None
        num_id = str(self._next_num)
        self._next_num += 1
        num = _sub(self._numbering, "w:num", numId=num_id)
        _sub(num, "w:abstractNumId", val=self._ol_abstract)
        over = _sub(num, "w:lvlOverride", ilvl="0")
        _sub(over, "w:startOverride", val="1")
        return num_id

    # ------------------------------------------------------------ paragraphs
    def p(self, content: Cell = "", style: str | None = None, *, parent: Any = None, num_id: str | None = None, bold: bool = False) -> Any:
        p = etree.SubElement(self.body if parent is None else parent, W_P)
        sid = self.styles.get(style) if style else None
        if sid or num_id:
            ppr = etree.SubElement(p, W_PPR)
            if sid:
                _sub(ppr, "w:pStyle", val=sid)
            if num_id:
                numpr = _sub(ppr, "w:numPr")
                _sub(numpr, "w:ilvl", val="0")
                _sub(numpr, "w:numId", val=num_id)
        runs = [(clean(content), "")] if isinstance(content, str) else content
        for text, kind in runs:
            self.run(p, text, bold=bold or kind == "bold", mono=kind == "code")
        return p

    @staticmethod
    def run(p: Any, text: str, *, bold: bool = False, mono: bool = False) -> Any:
        r = etree.SubElement(p, W_R)
        if bold or mono:
            rpr = etree.SubElement(r, W_RPR)
            if mono:
                _sub(rpr, "w:rFonts", ascii=MONO, hAnsi=MONO, cs=MONO)
            if bold:
                _sub(rpr, "w:b")
        for i, line in enumerate(text.split("\n")):
            if i:
                etree.SubElement(r, qn("w:br"))
            t = etree.SubElement(r, W_T)
            t.text = line
            t.set(XML_SPACE, "preserve")
        return r

    def heading(self, text: str, level: int) -> Any:
        text = clean(text)
        self.headings.append((level, text))
        return self.p(text, f"Heading {level}")

    def md(self, text: str) -> Any:
        """A paragraph of Markdown inline text (code spans and bold kept)."""
        return self.p(spans(text))

    def numbered(self, items: Iterable[Cell]) -> None:
        num = self.new_numbering()
        for item in items:
            self.p(item, "List Number", num_id=num)

    def bullets(self, items: Iterable[Cell]) -> None:
        for item in items:
            self.p(item, "List Bullet")

    def code(self, text: str) -> None:
        self.p(clean(text), "Code Block")

    def blocks(self, blocks: list[Block]) -> None:
        """Markdown blocks: numbered lists restart at 1, code stays monospace."""
        for b in blocks:
            if b.kind == "p":
                self.md(b.text)
            elif b.kind == "h":
                self.p(spans(b.text), bold=True)
            elif b.kind == "code":
                self.code(b.text)
            else:
                num = self.new_numbering() if b.kind == "ol" else None
                for item in b.items:
                    self.p(spans(item.text), "List Number" if num else "List Bullet", num_id=num)
                    for child in item.children:
                        if child.kind == "code":
                            self.code(child.text)
                        else:
                            self.p(spans(child.text), "List Bullet" if not num else None)

    # ------------------------------------------------------------ tables
    def table(self, header: Sequence[str], rows: Iterable[Sequence[Cell]], weights: Sequence[float] | None = None) -> Any:
        """A table whose first row is a header row repeated on every page."""
        n = len(header)
        weights = weights or [1.0] * n
        total = sum(weights)
        widths = [str(int(TEXT_WIDTH_TWIPS * w / total)) for w in weights]
        tbl = _sub(self.body, "w:tbl")
        pr = _sub(tbl, "w:tblPr")
        if self.styles["Table"]:
            _sub(pr, "w:tblStyle", val=self.styles["Table"])
        _sub(pr, "w:tblW", w="5000", type="pct")
        _sub(pr, "w:tblLook", val="04A0", firstRow="1", lastRow="0", firstColumn="0", lastColumn="0", noHBand="0", noVBand="1")
        grid = _sub(tbl, "w:tblGrid")
        for w in widths:
            _sub(grid, "w:gridCol", w=w)
        self._row(tbl, header, widths, header=True)
        for row in rows:
            self._row(tbl, row, widths)
        self.p("")  # Word needs a paragraph between two tables, and it reads better
        return tbl

    def _row(self, tbl: Any, cells: Sequence[Cell], widths: list[str], *, header: bool = False) -> None:
        tr = _sub(tbl, "w:tr")
        trpr = _sub(tr, "w:trPr")
        _sub(trpr, "w:cantSplit")
        if header:
            _sub(trpr, "w:tblHeader")
        for cell, w in zip(cells, widths, strict=True):
            tc = _sub(tr, "w:tc")
            _sub(_sub(tc, "w:tcPr"), "w:tcW", w=w, type="dxa")
            self.p(cell, parent=tc, bold=header)

    # ------------------------------------------------------------ fields
    def field_runs(self, p: Any, instruction: str, shown: str) -> None:
        r = etree.SubElement(p, W_R)
        _sub(r, "w:fldChar", fldCharType="begin")
        instr = etree.SubElement(r, qn("w:instrText"))
        instr.text = f" {instruction} "
        instr.set(XML_SPACE, "preserve")
        _sub(r, "w:fldChar", fldCharType="separate")
        self.run(p, shown)
        _sub(etree.SubElement(p, W_R), "w:fldChar", fldCharType="end")

    def toc(self, anchor: Any, levels: int = 2) -> None:
        """Put a TOC field after ``anchor``; its shown result lists the headings written so far.

        Word refreshes the field (with page numbers) when the document is opened, since the
        settings ask it to update fields; LibreOffice and viewers show the listed headings."""
        entries = [(lvl, text) for lvl, text in self.headings if lvl <= levels] or [(1, "(no headings)")]
        paras = []
        for lvl, text in entries:
            p = etree.Element(W_P)
            ppr = etree.SubElement(p, W_PPR)
            sid = self.styles.get(f"TOC {lvl}")
            if sid:
                _sub(ppr, "w:pStyle", val=sid)
            paras.append((p, text))
        first = paras[0][0]
        r = etree.SubElement(first, W_R)
        _sub(r, "w:fldChar", fldCharType="begin")
        instr = etree.SubElement(r, qn("w:instrText"))
        instr.text = f' TOC \\o "1-{levels}" \\h \\z \\u '
        instr.set(XML_SPACE, "preserve")
        _sub(r, "w:fldChar", fldCharType="separate")
        for p, text in paras:
            self.run(p, text)
        _sub(etree.SubElement(paras[-1][0], W_R), "w:fldChar", fldCharType="end")
        for p, _ in reversed(paras):
            anchor.addnext(p)
        settings = self.doc.settings.element
        if settings.find(qn("w:updateFields")) is None:
            upd = _sub(settings, "w:updateFields", val="true")
            # schema order: updateFields sits near the start of w:settings, after the zoom / view options
            settings.remove(upd)
            zoom = settings.find(qn("w:zoom"))
            (zoom.addnext(upd) if zoom is not None else settings.insert(0, upd))

    def page_numbers(self) -> None:
        """Make sure the footer shows page numbers (the reference document normally has them)."""
        footer = self.doc.sections[0].footer
        if any("PAGE" in (t.text or "") for t in footer._element.iter(qn("w:instrText"))):
            return
        p = footer.paragraphs[0]._p if footer.paragraphs else etree.SubElement(footer._element, W_P)
        self.run(p, "Page ")
        self.field_runs(p, "PAGE", "1")

    def finish(self) -> None:
        if self.sect_pr is not None:
            self.body.append(self.sect_pr)
