"""The executive brief's building blocks on the master's layouts: text that fits its box, tables
that break no word and never run off the slide, native charts, speaker notes, slide numbers.

Sizes are in points (a 16:9 slide is 960 × 540 pt); every shape is placed inside the body area
below the title and above the footer, and text is measured (:mod:`._fit`) before it is placed, so
the font shrinks, or a table is cut with a line saying where the rest is, instead of text running
off the slide.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

from ..core.present import TONE
from . import _fit
from ._md import clean, plain

EMU_PER_PT = 12700
CELL_PAD = 4.0  # points, each side of a table cell
CELL_VPAD = 2.5  # points, above and below
LEADING = 1.22  # line height as a share of the font size (DejaVu Sans draws at 1.164)
MAX_ROWS = 40  # no slide shows more rows than this; a longer list is cut with a line saying where the rest is

Line = str | tuple[str, int]  # a line, or (line, level): level -1 plain, 0 bullet, 1 indented dash
Cell = str | tuple[str, str]  # text, or (text, judgement word whose colour it takes: see present.TONE)


def emu(points: float) -> int:
    return round(points * EMU_PER_PT)


class Deck:
    """Slides on the master's layouts, with the few shapes the brief needs."""

    def __init__(self, prs: Any) -> None:
        self.prs = prs
        self.layouts = {layout.name: layout for layout in prs.slide_layouts}
        self.w = prs.slide_width / EMU_PER_PT
        self.h = prs.slide_height / EMU_PER_PT
        self.margin = round(self.w * 0.05)
        self.top = 112.0  # below the title placeholder
        self.bottom = self.h - 44.0  # above the footer line and the slide number
        self.numbered: list[Any] = []

    @property
    def body_w(self) -> float:
        return self.w - 2 * self.margin

    @property
    def body_h(self) -> float:
        return self.bottom - self.top

    # ------------------------------------------------------------ slides
    def slide(self, title: str, notes: str, layout: str = "Title Only", size: float = 28) -> Any:
        """A slide with its title (shrunk to one line) and speaker notes; numbered at :meth:`finish`."""
        from pptx.util import Pt

        lay = self.layouts.get(layout) or self.prs.slide_layouts[5 if layout == "Title Only" else 0]
        s = self.prs.slides.add_slide(lay)
        if s.shapes.title is not None:
            title = plain(clean(title))
            room = s.shapes.title.width / EMU_PER_PT - 20
            while size > 18 and _fit.width(title, size, "bold") > room:
                size -= 2
            s.shapes.title.text = title
            for p in s.shapes.title.text_frame.paragraphs:
                for r in p.runs:
                    r.font.size = Pt(size)
        s.notes_slide.notes_text_frame.text = clean(notes)
        if layout != "Title Slide":
            self.numbered.append(s)
        return s

    def finish(self) -> None:
        """Number every slide but the title slide: a copy of the layout's slide-number placeholder
        holding the slide-number field ("3 / 12"), so PowerPoint and Impress renumber a reordered deck."""
        from lxml import etree
        from pptx.oxml.ns import qn

        total = len(self.prs.slides)
        for s in self.numbered:
            number = self.prs.slides.index(s) + 1
            ph = next((p for p in s.slide_layout.placeholders if p.placeholder_format.idx == 12), None)
            if ph is None:
                continue
            el = copy.deepcopy(ph._element)
            el.find(qn("p:nvSpPr")).find(qn("p:cNvPr")).set("id", str(max(sh.shape_id for sh in s.shapes) + 1))
            body = el.find(qn("p:txBody"))
            for old in body.findall(qn("a:p")):
                body.remove(old)
            para = etree.SubElement(body, qn("a:p"))
            ppr = etree.SubElement(para, qn("a:pPr"))
            ppr.set("algn", "r")
            fld = etree.SubElement(para, qn("a:fld"), {"id": "{5C1D3F6A-0B7E-4C1B-9F2A-6E1D2B3C4A51}", "type": "slidenum"})
            etree.SubElement(fld, qn("a:rPr"), {"lang": "en-GB", "sz": "1100"})
            etree.SubElement(fld, qn("a:t")).text = str(number)
            run = etree.SubElement(para, qn("a:r"))
            etree.SubElement(run, qn("a:rPr"), {"lang": "en-GB", "sz": "1100"})
            etree.SubElement(run, qn("a:t")).text = f" / {total}"
            s.shapes._spTree.append(el)

    # ------------------------------------------------------------ text
    def text(self, slide: Any, lines: Sequence[Line], left: float, top: float, width: float, height: float,
             size: float = 18, min_size: float = 10, bold_first: bool = False) -> float:  # fmt: skip
        """A text box whose font shrinks until the lines fit; returns the height they take."""
        from pptx.util import Pt

        items = [(ln, 0) if isinstance(ln, str) else ln for ln in lines]
        texts = [{-1: "", 0: "• "}.get(level, "– ") + plain(clean(t)) for t, level in items]

        def needed(sz: float) -> float:
            total = 0.0
            for (_, level), t in zip(items, texts, strict=True):
                s = sz - 2 * max(level, 0)
                total += len(_fit.wrap(t, s, width - 16 - 18 * max(level, 0))) * s * LEADING + s * 0.3
            return total + 8

        while size > min_size and needed(size) > height:
            size -= 1
        box = slide.shapes.add_textbox(emu(left), emu(top), emu(width), emu(height))
        tf = box.text_frame
        tf.word_wrap = True
        for i, ((_, level), t) in enumerate(zip(items, texts, strict=True)):
            p = tf.paragraphs[0] if i == 0 else tf.add_paragraph()
            p.text = t
            p.level = max(level, 0)
            p.space_after = Pt(size * 0.3)
            for r in p.runs:
                r.font.size = Pt(size - 2 * max(level, 0))
                r.font.bold = bold_first and i == 0
        return min(needed(size), height)

    def tile(self, slide: Any, figure: str, label: str, left: float, top: float, width: float, height: float, word: str = "") -> None:
        """A figure in large type with its label below (the cost of repeat work)."""
        from pptx.dml.color import RGBColor
        from pptx.util import Pt

        size = 32.0
        while size > 16 and _fit.width(figure, size, "bold") > width - 16:
            size -= 2
        box = slide.shapes.add_textbox(emu(left), emu(top), emu(width), emu(height))
        tf = box.text_frame
        tf.word_wrap = True
        p = tf.paragraphs[0]
        p.text = clean(figure)
        for r in p.runs:
            r.font.size, r.font.bold = Pt(size), True
            r.font.color.rgb = RGBColor.from_string(TONE.get(word, "1F4E79"))
        label_size = 13.0
        while label_size > 9 and (size * LEADING + len(_fit.wrap(label, label_size, width - 16)) * label_size * LEADING + 12) > height:
            label_size -= 1
        q = tf.add_paragraph()
        q.text = plain(clean(label))
        for r in q.runs:
            r.font.size = Pt(label_size)

    # ------------------------------------------------------------ tables
    def fit_rows(self, header: Sequence[str], rows: Sequence[Sequence[Cell]], width: float, height: float,
                 weights: Sequence[float], sizes: Sequence[float] = (14, 13, 12, 11, 10, 9)) -> tuple[int, _fit.Layout]:  # fmt: skip
        """How many of ``rows`` fit in ``height`` (at least one, at most :data:`MAX_ROWS`) and their
        layout: the largest size that holds them all, else as many as fit at the smallest size."""
        texts = [list(header), *([_text(c) for c in row] for row in rows[:MAX_ROWS])]
        faces = ["bold" if any(isinstance(row[c], tuple) and row[c][1] for row in rows) else "sans" for c in range(len(header))]
        kw = {"weights": weights, "pad": 2 * CELL_PAD + 4, "vpad": 2 * CELL_VPAD + 2, "leading": LEADING, "faces": faces}
        n = len(texts) - 1
        for k, size in enumerate(sizes):
            lay = _fit.layout(texts, width, sizes=sizes[k:], **kw)  # type: ignore[arg-type]
            if lay.size != size and k + 1 < len(sizes):
                continue  # the longest words need a smaller size: the loop gets there
            if sum(lay.heights) <= height:
                return n, lay
        while n > 1:
            fits = 0
            total = lay.heights[0]
            for h in lay.heights[1:]:
                total += h
                if total > height:
                    break
                fits += 1
            if fits >= n:
                break
            n = max(1, fits)
            lay = _fit.layout(texts[: n + 1], width, sizes=sizes[-1:], **kw)  # type: ignore[arg-type]
        return n, lay

    def table(self, slide: Any, header: Sequence[str], rows: Sequence[Sequence[Cell]], left: float, top: float, width: float,
              height: float, weights: Sequence[float], sizes: Sequence[float] = (14, 13, 12, 11, 10, 9)) -> int:  # fmt: skip
        """A table of as many rows as fit in ``height``; returns how many were placed."""
        from pptx.dml.color import RGBColor
        from pptx.util import Pt

        n, lay = self.fit_rows(header, rows, width, height, weights, sizes)
        shape = slide.shapes.add_table(n + 1, len(header), emu(left), emu(top), emu(width), emu(sum(lay.heights)))
        table = shape.table
        for c, w in enumerate(lay.widths):
            table.columns[c].width = emu(w)
        for r, h in enumerate(lay.heights):
            table.rows[r].height = emu(h)
        for r, row in enumerate([list(header), *rows[:n]]):
            for c, value in enumerate(row):
                cell = table.cell(r, c)
                cell.margin_left = cell.margin_right = emu(CELL_PAD)
                cell.margin_top = cell.margin_bottom = emu(CELL_VPAD)
                cell.text = _text(value)
                word = value[1] if isinstance(value, tuple) else ""
                for p in cell.text_frame.paragraphs:
                    for run in p.runs:
                        run.font.size = Pt(lay.size)
                        run.font.bold = r == 0 or bool(word)
                        if word in TONE and r > 0:
                            run.font.color.rgb = RGBColor.from_string(TONE[word])
        return n

    # ------------------------------------------------------------ charts
    def chart(self, slide: Any, kind: Any, data: Any, left: float, top: float, width: float, height: float, title: str = "",
              legend: bool = True, size: float = 10) -> Any:  # fmt: skip
        from pptx.enum.chart import XL_LEGEND_POSITION
        from pptx.util import Pt

        chart = slide.shapes.add_chart(kind, emu(left), emu(top), emu(width), emu(height), data).chart
        chart.font.size = Pt(size)
        chart.font.name = "Calibri"
        chart.has_legend = legend
        if legend:
            chart.legend.position = XL_LEGEND_POSITION.BOTTOM
            chart.legend.include_in_layout = False
        if title:
            chart.has_title = True
            chart.chart_title.text_frame.text = clean(title)
            for p in chart.chart_title.text_frame.paragraphs:
                for r in p.runs:
                    r.font.size, r.font.bold = Pt(size + 1), True
        else:
            chart.has_title = False
        return chart


def _text(cell: Cell) -> str:
    return _fit.glue(plain(clean(cell[0] if isinstance(cell, tuple) else cell)))
