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

from ..core.present import TONE
from . import _fit
from ._md import Block, Span, clean, plain, spans

W_P, W_R, W_T, W_PPR, W_RPR = qn("w:p"), qn("w:r"), qn("w:t"), qn("w:pPr"), qn("w:rPr")
XML_SPACE = "{http://www.w3.org/XML/1998/namespace}space"
TEXT_WIDTH_TWIPS = 9638  # A4 with 2 cm margins: 17 cm
MONO = "Consolas"
TABLE_SIZE = 9.0  # points: the size of the KEDB Table style
CELL_MARGIN = 80  # twips, left and right of every cell (4 pt)
CELL_SLACK = 9.0  # points a cell loses besides its margins: the style's borders, and LibreOffice rounding
KEEP_ROWS = 12  # a table this short (and no taller than KEEP_HEIGHT points) is kept on one page
KEEP_HEIGHT = 260.0

TOC_LEVELS = 2
Cell = str | Sequence[Span] | tuple[str, str]  # text, runs, or (text, judgement word: bold in its colour, see present.TONE)


@cache
def _q(tag: str) -> str:
    return str(qn(tag))


def _sub(parent: Any, tag: str, **attrs: str) -> Any:
    return etree.SubElement(parent, _q(tag), {_q("w:" + k): v for k, v in attrs.items()})


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
        self.headings: list[tuple[int, str, str]] = []  # (level, text, bookmark) of every heading the contents list
        self._numbering = doc.part.numbering_part.element
        ids = [int(n.get(qn("w:numId"))) for n in self._numbering.findall(qn("w:num"))]
        self._next_num = max(ids, default=0) + 1
        self._ol_abstract = self._abstract_for("ListNumber")
        self._pending: list[str] = []  # body paragraphs written as text, not yet parsed (_flush)

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
    def p(self, content: Cell = "", style: str | None = None, *, parent: Any = None, num_id: str | None = None, bold: bool = False,
          keep: bool = False, size: str | None = None) -> Any:  # fmt: skip
        """A paragraph; ``keep`` keeps it on the page of the next one (a heading's intro with its table);
        ``size`` (half-points) goes on each of its runs."""
        self._flush()
        p = etree.SubElement(self.body if parent is None else parent, W_P)
        sid = self.styles.get(style) if style else None
        if sid or num_id or keep:
            ppr = etree.SubElement(p, W_PPR)
            if sid:
                _sub(ppr, "w:pStyle", val=sid)
            if keep:
                _sub(ppr, "w:keepNext")
            if num_id:
                numpr = _sub(ppr, "w:numPr")
                _sub(numpr, "w:ilvl", val="0")
                _sub(numpr, "w:numId", val=num_id)
        for text, run_bold, mono, color in _runs(content, bold):
            self.run(p, text, bold=run_bold, mono=mono, color=color, size=size)
        return p

    @staticmethod
    def run(p: Any, text: str, *, bold: bool = False, mono: bool = False, color: str | None = None, size: str | None = None) -> Any:
        r = etree.SubElement(p, W_R)
        if bold or mono or color or size:
            rpr = etree.SubElement(r, W_RPR)
            if mono:
                _sub(rpr, "w:rFonts", ascii=MONO, hAnsi=MONO, cs=MONO)
            if bold:
                _sub(rpr, "w:b")
            if color:
                _sub(rpr, "w:color", val=color)
            if size:
                _sub(rpr, "w:sz", val=size)
        for i, line in enumerate(text.split("\n")):
            if i:
                etree.SubElement(r, qn("w:br"))
            t = etree.SubElement(r, W_T)
            t.text = line
            t.set(XML_SPACE, "preserve")
        return r

    def heading(self, text: str, level: int) -> None:
        """A heading; those the contents list are bookmarked, so each entry links to it and shows its page."""
        text = plain(clean(text))
        sid = self.styles.get(f"Heading {level}")
        ppr = f'<w:pPr><w:pStyle w:val="{sid}"/></w:pPr>' if sid else ""
        empty, run = _run_xml("", False, False, None, None), _run_xml(text, False, False, None, None)
        if level <= TOC_LEVELS:
            mark = f"_Toc{len(self.headings):06d}"
            self.headings.append((level, text, mark))
            n = len(self.headings)
            run = f'<w:bookmarkStart w:id="{n}" w:name="{mark}"/>{run}<w:bookmarkEnd w:id="{n}"/>'
        self._pending.append(f"<w:p>{ppr}{empty}{run}</w:p>")

    def _para(self, content: Cell = "", style: str | None = None, *, num_id: str | None = None) -> None:
        """:meth:`p` of a body paragraph, written as text (:func:`_p_xml`)."""
        self._pending.append(_p_xml(content, self.styles.get(style) if style else None, num_id=num_id))

    def _flush(self) -> None:
        """Parse the paragraphs written as text and append them to the body: before anything else is."""
        if self._pending:
            _append_xml(self.body, self._pending)
            self._pending = []

    def md(self, text: str) -> None:
        """A paragraph of Markdown inline text (code spans and bold kept)."""
        self._para(spans(text))

    def numbered(self, items: Iterable[Cell]) -> None:
        num = self.new_numbering()
        for item in items:
            self._para(item, "List Number", num_id=num)

    def bullets(self, items: Iterable[Cell]) -> None:
        for item in items:
            self._para(item, "List Bullet")

    def code(self, text: str) -> None:
        self._para(clean(text), "Code Block")

    def blocks(self, blocks: list[Block]) -> None:
        """Markdown blocks: numbered lists restart at 1, code stays monospace."""
        for b in blocks:
            if b.kind == "p":
                self.md(b.text)
            elif b.kind == "h":
                self._pending.append(_p_xml(spans(b.text), None, bold=True))
            elif b.kind == "code":
                self.code(b.text)
            else:
                num = self.new_numbering() if b.kind == "ol" else None
                for item in b.items:
                    self._para(spans(item.text), "List Number" if num else "List Bullet", num_id=num)
                    for child in item.children:
                        if child.kind == "code":
                            self.code(child.text)
                        else:
                            self._para(spans(child.text), "List Bullet" if not num else None)

    # ------------------------------------------------------------ tables
    def table(self, header: Sequence[str], rows: Iterable[Sequence[Cell]], weights: Sequence[float] | None = None, *,
              keep: bool | None = None) -> Any:  # fmt: skip
        """A table whose first row is a header row repeated on every page. Its columns are at least as
        wide as their longest word (:mod:`._fit`), so Word and LibreOffice break no word; a short
        table is kept on one page (``keep``, by default for up to :data:`KEEP_ROWS` rows in a third
        of a page). The header row is always kept with the first row, and so with the heading or
        the paragraph before the table when that one asks to be kept with what follows."""
        self._flush()
        rows = [[_glued(c) for c in row] for row in rows]
        n = len(header)
        weights = weights or [1.0] * n
        texts = [list(header), *([_cell_text(c) for c in row] for row in rows)]
        faces = ["bold" if any(isinstance(r[c], tuple) for r in rows) else "sans" for c in range(n)]
        lay = _fit.layout(texts, TEXT_WIDTH_TWIPS / 20, weights=weights, sizes=(TABLE_SIZE, 8.5, 8, 7.5, 7), pad=2 * CELL_MARGIN / 20 + CELL_SLACK,
                          faces=faces, heights=False)  # fmt: skip
        widths = [str(int(w * 20)) for w in lay.widths]
        tbl = _sub(self.body, "w:tbl")
        pr = _sub(tbl, "w:tblPr")
        if self.styles["Table"]:
            _sub(pr, "w:tblStyle", val=self.styles["Table"])
        _sub(pr, "w:tblW", w=str(sum(int(w) for w in widths)), type="dxa")
        _sub(pr, "w:tblLayout", type="fixed")
        mar = _sub(pr, "w:tblCellMar")
        _sub(mar, "w:left", w=str(CELL_MARGIN), type="dxa")
        _sub(mar, "w:right", w=str(CELL_MARGIN), type="dxa")
        _sub(pr, "w:tblLook", val="04A0", firstRow="1", lastRow="0", firstColumn="0", lastColumn="0", noHBand="0", noVBand="1")
        grid = _sub(tbl, "w:tblGrid")
        for w in widths:
            _sub(grid, "w:gridCol", w=w)
        if keep is None:
            keep = (
                len(rows) <= KEEP_ROWS
                and sum(_fit.row_heights(texts, lay.widths, lay.size, 2 * CELL_MARGIN / 20, 4, 1.2, faces)) <= KEEP_HEIGHT
            )
        # The size goes on every run: the Normal paragraph style would otherwise win over the table style's.
        size = str(round(lay.size * 2))
        xml = [_row_xml([_glued(h) for h in header], widths, header=True, keep=True, size=size)]
        xml += [_row_xml(row, widths, keep=keep and i < len(rows) - 1, size=size) for i, row in enumerate(rows)]
        _append_xml(tbl, xml)
        self.p("")  # Word needs a paragraph between two tables, and it reads better
        return tbl

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

    def toc(self, anchor: Any) -> None:
        """The contents after ``anchor``: one entry per heading of the first two levels, each a link
        to the heading with its page number as a PAGEREF field (with a dotted leader).

        There is no TOC field around the entries and no "update fields" setting, so Word opens the
        file without asking to update anything. LibreOffice works the page numbers out when it lays
        the document out; Word shows them once the entries are selected and updated (F9), as the
        note below the contents says."""
        self._flush()
        entries = self.headings or [(1, "(no headings)", "")]
        paras = []
        for lvl, text, mark in entries:
            p = etree.Element(W_P)
            ppr = etree.SubElement(p, W_PPR)
            sid = self.styles.get(f"TOC {lvl}")
            if sid:
                _sub(ppr, "w:pStyle", val=sid)
            _sub(_sub(ppr, "w:tabs"), "w:tab", val="right", leader="dot", pos=str(TEXT_WIDTH_TWIPS))
            link = _sub(p, "w:hyperlink", anchor=mark, history="1") if mark else p
            self.run(link, text)
            if mark:
                etree.SubElement(etree.SubElement(link, W_R), qn("w:tab"))
                r = etree.SubElement(link, W_R)
                _sub(r, "w:fldChar", fldCharType="begin")
                instr = etree.SubElement(r, qn("w:instrText"))
                instr.text = f" PAGEREF {mark} \\h "
                instr.set(XML_SPACE, "preserve")
                _sub(r, "w:fldChar", fldCharType="separate")
                _sub(etree.SubElement(link, W_R), "w:fldChar", fldCharType="end")
            paras.append(p)
        for p in reversed(paras):
            anchor.addnext(p)
        settings = self.doc.settings.element
        for old in settings.findall(qn("w:updateFields")):
            settings.remove(old)

    def page_numbers(self) -> None:
        """Make sure the footer shows page numbers (the reference document normally has them)."""
        footer = self.doc.sections[0].footer
        if any("PAGE" in (t.text or "") for t in footer._element.iter(qn("w:instrText"))):
            return
        p = footer.paragraphs[0]._p if footer.paragraphs else etree.SubElement(footer._element, W_P)
        self.run(p, "Page ")
        self.field_runs(p, "PAGE", "1")

    def finish(self) -> None:
        self._flush()
        if self.sect_pr is not None:
            self.body.append(self.sect_pr)


Run = tuple[str, bool, bool, str | None]  # text, bold, monospaced, colour


def _runs(content: Cell, bold: bool) -> list[Run]:
    """The runs of a paragraph of ``content``: a judgement word's text bold in its colour, else one
    run per span (all of them bold when ``bold``)."""
    if isinstance(content, tuple) and len(content) == 2 and all(isinstance(x, str) for x in content) and content[1] in TONE:
        return [(plain(clean(content[0])), True, False, TONE[content[1]])]  # type: ignore[arg-type]
    runs = [(clean(content), "")] if isinstance(content, str) else content
    return [(text, bold or kind == "bold", kind == "code", None) for text, kind in runs]  # type: ignore[misc]


# Table rows are written as WordprocessingML text and parsed once per table: making the elements
# one by one is most of the time of a long table. The markup is what BodyWriter.p and .run make
# (tests compare the two).
_W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True)


def _escape(text: str) -> str:
    """``text`` as XML character data that parses back to itself (a carriage return included)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")


def _run_xml(text: str, bold: bool, mono: bool, color: str | None, size: str | None) -> str:
    props = (
        (f'<w:rFonts w:ascii="{MONO}" w:hAnsi="{MONO}" w:cs="{MONO}"/>' if mono else "")
        + ("<w:b/>" if bold else "")
        + (f'<w:color w:val="{color}"/>' if color else "")
        + (f'<w:sz w:val="{size}"/>' if size else "")
    )
    lines = "<w:br/>".join(f'<w:t xml:space="preserve">{_escape(line)}</w:t>' for line in text.split("\n"))
    return f"<w:r><w:rPr>{props}</w:rPr>{lines}</w:r>" if props else f"<w:r>{lines}</w:r>"


def _row_xml(cells: Sequence[Cell], widths: Sequence[str], *, header: bool = False, keep: bool = False, size: str | None = None) -> str:
    """One table row of glued cells (:func:`_glued`), each cell one paragraph of :func:`_runs`."""
    ppr = "<w:pPr><w:keepNext/></w:pPr>" if keep else ""
    out = ["<w:tr><w:trPr><w:cantSplit/><w:tblHeader/></w:trPr>" if header else "<w:tr><w:trPr><w:cantSplit/></w:trPr>"]
    for cell, w in zip(cells, widths, strict=True):
        runs = "".join(_run_xml(text, run_bold, mono, color, size) for text, run_bold, mono, color in _runs(cell, header))
        out.append(f'<w:tc><w:tcPr><w:tcW w:w="{w}" w:type="dxa"/></w:tcPr><w:p>{ppr}{runs}</w:p></w:tc>')
    out.append("</w:tr>")
    return "".join(out)


def _p_xml(content: Cell, style_id: str | None, *, num_id: str | None = None, bold: bool = False) -> str:
    """The paragraph :meth:`BodyWriter.p` makes of ``content`` (with a style id, not a style name)."""
    props = (f'<w:pStyle w:val="{style_id}"/>' if style_id else "") + (
        f'<w:numPr><w:ilvl w:val="0"/><w:numId w:val="{num_id}"/></w:numPr>' if num_id else ""
    )
    runs = "".join(_run_xml(text, run_bold, mono, color, None) for text, run_bold, mono, color in _runs(content, bold))
    return f"<w:p><w:pPr>{props}</w:pPr>{runs}</w:p>" if props else f"<w:p>{runs}</w:p>"


def _append_xml(parent: Any, xml: list[str]) -> None:
    """Parse ``xml`` (WordprocessingML elements) and append what it holds to ``parent``."""
    frag = etree.fromstring(f'<w:tbl xmlns:w="{_W_NS}">{"".join(xml)}</w:tbl>', _PARSER)
    for t in frag.iterfind(f".//{W_T}"):
        if t.text is None:  # an empty line: run() writes <w:t></w:t>, which parses back as no text
            t.text = ""
    parent.extend(list(frag))


def _cell_text(cell: Cell) -> str:
    if isinstance(cell, tuple) and len(cell) == 2 and isinstance(cell[0], str) and isinstance(cell[1], str) and cell[1] in TONE:
        return plain(clean(cell[0]))
    if isinstance(cell, str):
        return clean(cell)
    return "".join(t for t, _ in cell)  # type: ignore[misc]


def _glued(cell: Cell) -> Cell:
    """A cell with a no-break space between each number and its unit (:func:`._fit.glue`)."""
    if isinstance(cell, tuple) and len(cell) == 2 and isinstance(cell[1], str) and cell[1] in TONE:
        return (_fit.glue(str(cell[0])), cell[1])
    if isinstance(cell, str):
        return _fit.glue(cell)
    return cell
