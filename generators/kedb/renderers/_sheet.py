"""The register's sheets as they print and read: one table per sheet, its header frozen, filtered,
repeated on every printed page, A4 landscape fitted to the page width, named fonts in every cell.

Every value is written by the renderer's own ``write`` (``xlsx.text_cell``, which keeps record text
inert); only the formulas the renderer writes itself (:class:`Formula`) are formulas.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..core.present import TONE
from ._md import clean

if TYPE_CHECKING:
    from openpyxl.worksheet.worksheet import Worksheet

FONT = "Calibri"
SIZE = 10
HEADER_FILL = "1F4E79"
BREACH_FILL = "F8CBAD"
WARN_FILL = "FFE699"
OK_FILL = "C6EFCE"
LINE_HEIGHT = 13.0  # points per line of 10-point text (DejaVu Sans, which LibreOffice draws Calibri with, is 11.6 pt high)


Write = Callable[["Worksheet", int, int, Any], Any]  # writes one value into one cell and returns the cell


@dataclass(frozen=True)
class Formula:
    """A formula the renderer writes on purpose (record text never becomes one)."""

    text: str
    number_format: str | None = None


def fonts() -> tuple[Any, Any, Any]:
    """(body, bold, header) fonts, each with its name and size."""
    from openpyxl.styles import Font

    return Font(name=FONT, size=SIZE), Font(name=FONT, size=SIZE, bold=True), Font(name=FONT, size=SIZE, bold=True, color="FFFFFF")


def fill(color: str) -> Any:
    from openpyxl.styles import PatternFill

    return PatternFill("solid", start_color=color, end_color=color, fgColor=color, bgColor=color)


def _border() -> Any:
    from openpyxl.styles import Border, Side

    thin = Side(style="thin", color="BFBFBF")
    return Border(left=thin, right=thin, top=thin, bottom=thin)


def _style(ws: Worksheet, font: Any, alignment: Any) -> Any:
    """A registered style array: setting fonts and alignments cell by cell hashes them into the
    workbook's lists every time (most of the time of a 10,000-row sheet); copying is cheap."""
    from openpyxl.styles.cell_style import StyleArray

    wb = ws.parent
    style = StyleArray()
    style.fontId = wb._fonts.add(font)
    style.alignmentId = wb._alignments.add(alignment)
    style.borderId = wb._borders.add(_border())
    return style


def table(ws: Worksheet, write: Write, header: Sequence[str], widths: Sequence[float], rows: Sequence[Sequence[Any]], *,
          dates: Sequence[int] = (), freeze: str = "B2", title: str = "") -> int:  # fmt: skip
    """Header in row 1 (frozen, filtered, printed on every page), data below; returns the last row.
    Text wraps in every cell; ``dates``: 1-based columns shown as dates."""
    from openpyxl.styles import Alignment
    from openpyxl.styles.cell_style import StyleArray
    from openpyxl.utils import get_column_letter

    body, _, head = fonts()
    hfill = fill(HEADER_FILL)
    for c, name in enumerate(header, start=1):
        cell = ws.cell(row=1, column=c, value=name)
        cell.font, cell.fill, cell.border = head, hfill, _border()
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    top_wrap = _style(ws, body, Alignment(wrap_text=True, vertical="top"))
    day = _style(ws, body, Alignment(vertical="top", horizontal="left"))
    dated = set(dates)
    texts = []  # the text of each cell as written; "" for a number, a date or a formula
    for r, row in enumerate(rows, start=2):
        shown = []
        for c, value in enumerate(row, start=1):
            cell = write(ws, r, c, value)
            quote = cell._style is not None and cell._style.quotePrefix  # the quote prefix write gives inert text
            cell._style = StyleArray(day if c in dated else top_wrap)  # every text wraps: a cell's text is never cut off at its border
            if isinstance(value, Formula) and value.number_format:
                cell.number_format = value.number_format
            elif c in dated and value is not None:
                cell.number_format = "yyyy-mm-dd"
            if quote:
                cell.quotePrefix = True
            shown.append(cell.value if isinstance(value, str) else "")
        texts.append(shown)
    widths = fit_widths(header, widths, texts)
    for c, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(c)].width = width
    ws.row_dimensions[1].height = LINE_HEIGHT * max(1, max(_lines(h, w) for h, w in zip(header, widths, strict=True))) + 4
    for r, shown in enumerate(texts, start=2):
        _height(ws, r, max((_lines(t, widths[c]) for c, t in enumerate(shown) if c + 1 not in dated), default=1))
    last = max(1, len(rows) + 1)
    ws.freeze_panes = freeze
    ws.auto_filter.ref = f"A1:{get_column_letter(len(header))}{last}"
    printable(ws, title or ws.title)
    ws.print_area = f"A1:{get_column_letter(len(header))}{last}"
    return last


CHAR_PT = 5.25  # points per unit of column width: 7 px a digit of the default font, plus 5 px, at 96 dpi
MAX_WIDTH = 60.0


def fit_widths(header: Sequence[str], widths: Sequence[float], texts: Sequence[Sequence[str]]) -> list[float]:
    """``widths`` widened where a column's longest word would not fit: a wrapped cell breaks a word
    that is wider than its column in the middle, as Excel and LibreOffice both do. ``texts``: the
    text of each cell below the header, row by row."""
    from . import _fit

    longest = _fit.column_widest([[str(h) for h in header], *texts], (SIZE,), ["sans"] * len(header))
    # 12 %: a scaled print rounds glyphs up
    return [min(MAX_WIDTH, max(w, wide[0] * 1.12 / CHAR_PT + 2)) for w, wide in zip(widths, longest, strict=True)]


def printable(ws: Worksheet, title: str, rows: str = "1:1") -> None:
    """A4 landscape, fitted to the page width (as many pages down as needed), the header row on
    every page, the sheet's name and "Page N of M" in the footer."""
    from openpyxl.worksheet.page import PageMargins

    ws.print_title_rows = rows
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_margins = PageMargins(left=0.5, right=0.5, top=0.6, bottom=0.6, header=0.3, footer=0.3)
    ws.oddFooter.left.text = clean(title).replace("&", "&&")
    ws.oddFooter.left.size = 8
    ws.oddFooter.left.font = FONT
    ws.oddFooter.right.text = "Page &P of &N"
    ws.oddFooter.right.size = 8
    ws.oddFooter.right.font = FONT
    ws.sheet_view.zoomScale = 100


def _lines(text: object, width: float) -> int:
    """The lines ``text`` takes in a column ``width`` wide, as LibreOffice lays it out (see :mod:`._fit`)."""
    if not isinstance(text, str) or not text or text.startswith("="):  # a number, a date, or one of our formulas
        return 1
    room = width * CHAR_PT - 6
    if "\n" not in text and len(text) * SIZE <= room:  # no glyph is wider than an em: one line, nothing to measure
        return 1
    from . import _fit

    if _fit.one_line(text, SIZE, room):  # most of the cells wider than the quick test above
        return 1
    return len(_fit.wrap(text, SIZE, room))


def _height(ws: Worksheet, row: int, lines: int) -> None:
    """The height of a row of wrapped text ``lines`` high (not every reader fits rows on open)."""
    if lines > 1:
        ws.row_dimensions[row].height = min(409, LINE_HEIGHT * lines + 2)


def validation(ws: Worksheet, col: str, last: int, values: Sequence[str], what: str) -> None:
    from openpyxl.worksheet.datavalidation import DataValidation

    dv = DataValidation(type="list", formula1='"' + ",".join(values) + '"', allow_blank=True, showErrorMessage=True)
    dv.error, dv.errorTitle = f"Choose one of: {', '.join(values)}", f"Invalid {what}"
    dv.prompt, dv.promptTitle = ", ".join(values), what
    ws.add_data_validation(dv)
    dv.add(f"{col}2:{col}{max(last, 2)}")


def judged(ws: Worksheet, cells: str, words: Sequence[str]) -> None:
    """Colour each judgement word in ``cells`` as every output does (:data:`kedb.core.present.TONE`): bold, in its colour."""
    from openpyxl.formatting.rule import CellIsRule
    from openpyxl.styles import Font

    for word in words:
        ws.conditional_formatting.add(
            cells, CellIsRule(operator="equal", formula=[f'"{word}"'], font=Font(name=FONT, size=SIZE, bold=True, color=TONE[word]))
        )


def facts(ws: Worksheet, write: Write, lines: Sequence[tuple[str, Any]], widths: tuple[float, float] = (26, 110)) -> None:
    """A sheet of label and value pairs, one pair per row, printed with the label beside its value."""
    from openpyxl.styles import Alignment

    body, bold, head = fonts()
    ws.column_dimensions["A"].width, ws.column_dimensions["B"].width = widths
    for c, name in enumerate(("About", "Value"), start=1):
        cell = ws.cell(row=1, column=c, value=name)
        cell.font, cell.fill, cell.border = head, fill(HEADER_FILL), _border()
    for r, (k, v) in enumerate(lines, start=2):
        label = write(ws, r, 1, k)
        label.font, label.alignment, label.border = bold, Alignment(vertical="top", wrap_text=True), _border()
        cell = write(ws, r, 2, v)
        cell.font, cell.alignment, cell.border = body, Alignment(wrap_text=True, vertical="top", horizontal="left"), _border()
        if hasattr(v, "isoformat"):
            cell.number_format = "yyyy-mm-dd"
        ws.row_dimensions[r].height = LINE_HEIGHT * max(_lines(v, widths[1]), _lines(k, widths[0])) + 3
    ws.freeze_panes = "A2"
    printable(ws, ws.title)
