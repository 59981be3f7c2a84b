"""The proof brief's tables: columns at least as wide as their longest word (:mod:`._fit`), the
header repeated, long tables cut into page-sized pieces.

Cells are drawn as plain text wherever they can be: reportlab draws a string without parsing it,
which is what keeps a 10,000-row table fast. Every cell of a table shares one of a few cell
styles, made once per look (font, size, colour), instead of reportlab making a style for each
cell and applying every style command to it.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

from ..core import present as P
from . import _fit
from ._md import clean, plain
from ._pdftext import BOLD, MONO, SANS, escape, has_cjk, has_rtl, para

CHUNK = 60  # rows per table: long reportlab tables split slowly, so they are cut into page-sized pieces
KEEP_ROWS = 20  # a table this short is not split over two pages
PAD = 3  # points left and right of a cell's text
VPAD = 2  # points above and below
HEAD_FILL, FACT_FILL, SPAN_FILL, GRID = "#1F4E79", "#F2F2F2", "#DDEBF7", "#BFBFBF"
Cell = Any  # str, (str, judgement word), or a flowable


def cell_styles(size: float) -> dict[str, Any]:
    """The paragraph styles of a table's cells at ``size`` points."""
    from reportlab.lib.styles import ParagraphStyle

    lead = round(size * 1.22, 1)
    return {
        "cell": ParagraphStyle(f"kedb-cell-{size}", fontName=SANS, fontSize=size, leading=lead),
        "span": ParagraphStyle(f"kedb-span-{size}", fontName=BOLD, fontSize=size, leading=lead),
        "head": ParagraphStyle(f"kedb-head-{size}", fontName=BOLD, fontSize=size, leading=lead, textColor="#FFFFFF"),
        "mono": ParagraphStyle(f"kedb-mono-{size}", fontName=MONO, fontSize=size - 1, leading=lead),
    }


def text(value: Cell) -> str:
    """A cell's text as it is drawn (units glued to their numbers), which is what the layout measures."""
    if isinstance(value, tuple):
        return _fit.glue(plain(clean(value[0])))
    return _fit.glue(plain(clean(value))) if isinstance(value, str) else ""


@cache
def _color(hex_colour: str) -> Any:
    from reportlab.lib.colors import toColor

    return toColor(hex_colour)


def _looks(size: float, mono_size: float, leading: float) -> Any:
    """A table's cell styles, one per look: every cell drawn in the same font, size and colour shares
    one (reportlab changes a style in place only through style commands, and tables get none that do)."""
    from reportlab.platypus.tables import CellStyle

    made: dict[tuple[str, bool, str | None], Any] = {}

    def look(font: str, mono: bool = False, colour: str | None = None) -> Any:
        key = (font, mono, colour)
        if key not in made:
            style = made[key] = CellStyle(f"kedb-{font}-{colour}")
            style.fontname, style.fontsize, style.leading, style.valign = font, mono_size if mono else size, leading, "TOP"
            style.leftPadding = style.rightPadding = PAD
            style.topPadding = style.bottomPadding = VPAD
            if colour:
                style.color = _color(colour)
        return made[key]

    return look


def tables(header: Sequence[str] | None, rows: Sequence[Sequence[Cell]], weights: Sequence[float], w: float, *,
           spans: Sequence[int] = (), mono: Sequence[int] = (), sizes: Sequence[float] = (8, 7.5, 7, 6.5)) -> list[Any]:  # fmt: skip
    """Tables of at most CHUNK rows, header repeated, columns at least as wide as their longest word
    (:mod:`._fit`), so no word is broken. Cells are text, (text, judgement word) drawn bold in the
    word's colour, or flowables. ``spans`` are rows that are group headings across the whole width;
    ``mono`` columns are in the monospaced font (one size smaller). Without a header the table is a
    list of facts (label, value), the labels bold. A short table is kept on one page."""
    from reportlab.platypus import KeepTogether, Table, TableStyle

    span_set, mono_set = set(spans), set(mono)
    n_cols = len(header) if header is not None else len(rows[0])
    drawn = [None if i in span_set else [text(c) for c in row] for i, row in enumerate(rows)]
    texts = [list(header or [""] * n_cols), *(d for d in drawn if d is not None)]
    faces = ["mono" if c in mono_set else "bold" if any(isinstance(r[c], tuple) for r in rows) else "sans" for c in range(n_cols)]
    lay = _fit.layout(texts, w, weights=weights, sizes=sizes, pad=2 * PAD + 1, faces=faces, heights=False)
    st = cell_styles(lay.size)
    widths = list(lay.widths)
    styles = _looks(lay.size, st["mono"].fontSize, st["cell"].leading)

    def look(c: int, font: str | None = None, colour: str | None = None) -> Any:
        """The style of a body cell in column ``c``: the column's font unless ``font`` is given."""
        if c in mono_set:
            return styles(font or MONO, True, colour)
        return styles(font or (BOLD if header is None and c == 0 else SANS), False, colour)

    head = [para(_fit.glue(h), st["head"], wd - 2 * PAD) for h, wd in zip(header, widths, strict=True)] if header is not None else None
    head_looks = [styles(SANS)] * n_cols
    cells, looks = [], []
    for i, row in enumerate(rows):
        if i in span_set:
            cells.append([_cell(text(row[0]), None, w - 2 * PAD, st, bold=True), *([""] * (n_cols - 1))])
            looks.append([look(c, BOLD) for c in range(n_cols)])
            continue
        out_row, out_looks = [], []
        for c, (value, shown, wd) in enumerate(zip(row, drawn[i], widths, strict=True)):  # type: ignore[arg-type]
            word = value[1] if isinstance(value, tuple) else None
            cell = _cell(shown, word, wd - 2 * PAD, st, mono=c in mono_set) if isinstance(value, str | tuple) else value
            toned = word in P.TONE and isinstance(cell, str)  # a word drawn as plain text takes its colour from the cell style
            out_row.append(cell)
            out_looks.append(look(c, BOLD, f"#{P.TONE[word]}") if toned else look(c))  # type: ignore[index]
        cells.append(out_row)
        looks.append(out_looks)
    out = []
    for start in range(0, max(1, len(cells)), CHUNK):
        chunk, chunk_looks = cells[start : start + CHUNK], looks[start : start + CHUNK]
        cmds: list[tuple[Any, ...]] = [
            ("BACKGROUND", (0, 0), (-1, 0), _color(HEAD_FILL if head is not None else FACT_FILL)),
            ("GRID", (0, 0), (-1, -1), 0.25, _color(GRID)),
        ]
        if head is None:
            cmds.append(("BACKGROUND", (0, 0), (0, -1), _color(FACT_FILL)))
        top = 1 if head is not None else 0
        for i in range(len(chunk)):
            if start + i in span_set:
                cmds += [("SPAN", (0, i + top), (-1, i + top)), ("BACKGROUND", (0, i + top), (-1, i + top), _color(SPAN_FILL))]
        data, styles = ([head, *chunk], [head_looks, *chunk_looks]) if head is not None else (chunk, chunk_looks)
        table = Table(data, colWidths=widths, repeatRows=top, style=TableStyle(cmds), hAlign="LEFT", cellStyles=styles)
        out.append(KeepTogether(table) if len(cells) <= KEEP_ROWS else table)
    return out


def _cell(shown: str, word: str | None, width: float, st: dict[str, Any], *, mono: bool = False, bold: bool = False) -> Any:
    """A cell as plain text where it can be (reportlab draws a string without parsing it): Latin
    text is broken into lines here, at spaces, with the metrics reportlab uses. ``shown`` is the
    cell's :func:`text`; ``word`` the judgement word of a (text, word) cell, None for a plain one,
    whose colour is set by the cell's style (see :func:`tables`). A word wider than the column,
    right-to-left or CJK text becomes a Paragraph."""
    face = ("mono" if mono else "bold" if bold else "sans") if word is None else "bold" if word in P.TONE else "sans"
    style = st["mono"] if mono else st["span"] if face == "bold" else st["cell"]
    lines = None if has_rtl(shown) or has_cjk(shown) else _fit.wrap_fitting(shown, style.fontSize, width, face)
    if lines is not None:
        return "\n".join(lines)
    if word in P.TONE:
        from reportlab.platypus import Paragraph

        return Paragraph(f'<font name="{BOLD}" color="#{P.TONE[word]}">{escape(shown)}</font>', st["cell"])
    return para(shown, style, width)
