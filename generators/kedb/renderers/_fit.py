"""Table layout that never breaks a word: column widths from the longest word of each column.

Word, LibreOffice, PowerPoint and reportlab all break a word in two when it is wider than its
column ("mitigatin/g", "CHG003020/7"). Every table of the four artefacts is therefore laid out
here first: each column is at least as wide as its longest word (the text between two spaces)
plus the cell's padding, the remaining width is shared by weight, and when the longest words do
not fit side by side at a font size the next smaller size is tried. Text is measured with the
metrics of DejaVu Sans, which is what the PDF embeds and what LibreOffice draws Calibri with on a
machine without it; Calibri is narrower, so Word and PowerPoint have room to spare.

:func:`wrap` repeats the line breaking (greedy, at spaces) so a renderer can tell how tall a table
will be before it places it, and cut it over several slides instead of letting it run off one.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

from ._pdftext import BOLD, MONO, SANS, has_cjk, register

FONTS = {"sans": SANS, "bold": BOLD, "mono": MONO}


@lru_cache(maxsize=1 << 18)  # the distinct words of the longest tables, at a few sizes
def width(text: str, size: float, face: str = "sans") -> float:
    """Width of ``text`` in points at ``size``; CJK characters count one em each."""
    font = _font(face)
    if has_cjk(text):
        return sum(size if has_cjk(ch) else font.stringWidth(ch, size) for ch in text)
    return float(font.stringWidth(text, size))


@cache
def _font(face: str) -> Any:
    from reportlab.pdfbase.pdfmetrics import getFont

    register()
    return getFont(FONTS[face])


_SPACES = re.compile(r"[ \t\n]+")  # where a line may break: not at a no-break space
_UNIT = re.compile(r"(?<=\d) (?=(?:%|pp|min|h|days?|GBP|EUR|USD)\b|%)|(?<=[≤≥]) (?=[\d£€$-])")


def words(text: str) -> list[str]:
    """The words of ``text``: what lies between two places a line may break."""
    return [w for w in _SPACES.split(text) if w]


def glue(text: str) -> str:
    """``text`` with a no-break space between a number and its unit (``31.7 min``) and after a
    bound (``≤ 30``), so a narrow column moves both to the next line rather than leaving one alone."""
    return _UNIT.sub("\u00a0", text)


def candidates(text: str) -> list[str]:
    """The words of ``text`` that may be its widest: only the three longest are kept. A word with
    fewer letters than the third longest is not wider unless its letters are very broad, and
    measuring every word of a 10,000-row table is most of its time."""
    return _longest(words(text))


def _longest(ws: list[str]) -> list[str]:
    return sorted(ws, key=len, reverse=True)[:3] if len(ws) > 3 else ws


def longest_word(text: str, size: float, face: str = "sans") -> float:
    """The width of the widest word of ``text`` (of its :func:`candidates`)."""
    return max((width(w, size, face) for w in candidates(text)), default=0.0)


def widest(ws: Collection[str], sizes: Sequence[float], face: str = "sans") -> list[float]:
    """The width of the widest of ``ws`` at each of ``sizes``, measuring as few words as it can.
    Words are measured longest first, at the first size, until no word left can be wider than the
    widest so far: a word is at most its length times the widest letter of all the words. A width
    scales with the size, so only the words within a hair of the widest can be the widest at
    another size, and only those are measured again."""
    if not ws:
        return [0.0] * len(sizes)
    size = sizes[0]
    letter = max(width(ch, size, face) for ch in set().union(*ws))
    top, near = 0.0, []
    for w in sorted(ws, key=len, reverse=True):
        if len(w) * letter < top * (1 - 1e-9):
            break
        x = width(w, size, face)
        if x > top:
            top, near = x, [(w, x), *((v, y) for v, y in near if y >= x * (1 - 1e-9))]
        elif x >= top * (1 - 1e-9):
            near.append((w, x))
    return [top, *(max(width(w, other, face) for w, _ in near) for other in sizes[1:])]


def one_line(text: str, size: float, room: float, face: str = "sans") -> bool:
    """True when :func:`wrap` would surely give ``text`` one line, measuring it once; False when it
    cannot tell. Its words joined by single spaces are no wider than the text itself, so a text
    without tabs or line breaks that fits (by a hair more than rounding) is one line."""
    if "\n" in text or "\t" in text or has_cjk(text):
        return False
    return float(_font(face).stringWidth(text, size)) <= room * (1 - 1e-9)


def wrap(text: str, size: float, room: float, face: str = "sans") -> list[str]:
    """The lines ``text`` breaks into in ``room`` points, at spaces (and at its own line breaks)."""
    return _wrap([words(para) for para in text.split("\n")], size, room, face)


def wrap_fitting(text: str, size: float, room: float, face: str = "sans") -> list[str] | None:
    """:func:`wrap`, or None when the widest word of ``text`` (:func:`longest_word`) is wider than
    ``room``; the text is split into words once for both. A text that is one line and its own words
    joined by single spaces is its own only line, found with one measure (most cells of a long table)."""
    if "  " not in text and text[:1] != " " and text[-1:] != " " and one_line(text, size, room, face):
        return [text]
    paras = [words(para) for para in text.split("\n")]
    longest = _longest([w for para in paras for w in para])  # candidates(text): a line break is a space
    if max((width(w, size, face) for w in longest), default=0.0) > room:
        return None
    return _wrap(paras, size, room, face)


def _wrap(paras: list[list[str]], size: float, room: float, face: str) -> list[str]:
    lines: list[str] = []
    space = width(" ", size, face)
    for para in paras:
        line, used = "", 0.0
        for w in para:
            ww = width(w, size, face)
            if line and used + space + ww > room:
                lines.append(line)
                line, used = w, ww
            else:
                line, used = (f"{line} {w}", used + space + ww) if line else (w, ww)
        lines.append(line)
    return lines


@dataclass(frozen=True)
class Layout:
    size: float  # font size, points
    widths: tuple[float, ...]  # column widths, points (they add up to the table width)
    heights: tuple[float, ...]  # row heights, points, header first


def layout(
    rows: Sequence[Sequence[str]],
    total: float,
    *,
    weights: Sequence[float] | None = None,
    sizes: Sequence[float] = (11, 10, 9, 8, 7),
    pad: float = 10.0,
    vpad: float = 6.0,
    leading: float = 1.2,
    faces: Sequence[str] | None = None,
    header_face: str = "bold",
    heights: bool = True,
) -> Layout:
    """Column widths for ``rows`` (the header first) in ``total`` points, at the largest of ``sizes``
    where every column holds its longest word; ``pad`` is a cell's left plus right padding, ``vpad``
    its top plus bottom; ``heights=False`` skips the row heights (reportlab works them out itself).
    At the smallest size the widths are the best there is (a word wider than
    the whole table cannot be helped)."""
    n = len(rows[0]) if rows else 0
    weights = list(weights or [1.0] * n)
    faces = list(faces or ["sans"] * n)
    wide = column_widest(rows, sizes, faces, header_face)
    for k, size in enumerate(sizes):
        need = [wide[c][k] + pad for c in range(n)]
        if sum(need) <= total or size == sizes[-1]:
            widths = share(total, need, weights)
            rows_h = row_heights(rows, widths, size, pad, vpad, leading, faces, header_face) if heights else []
            return Layout(size, tuple(widths), tuple(rows_h))
    raise AssertionError("unreachable")


def column_widest(
    rows: Sequence[Sequence[str]], sizes: Sequence[float], faces: Sequence[str], header_face: str = "bold"
) -> list[list[float]]:
    """For each column, the width of its widest word at each of ``sizes`` (the header row in
    ``header_face``): each cell is split into words once, and a word repeated down a column is
    measured once."""
    if not rows:
        return []
    body: list[set[str]] = [set() for _ in rows[0]]
    for row in rows[1:]:
        for c, cell in enumerate(row):
            body[c].update(candidates(str(cell)))
    return [
        [max(h, b) for h, b in zip(widest(candidates(str(head)), sizes, header_face), widest(body[c], sizes, faces[c]), strict=True)]
        for c, head in enumerate(rows[0])
    ]


def share(total: float, need: Sequence[float], weights: Sequence[float]) -> list[float]:
    """Widths of at least ``need`` each that add up to ``total``, the rest shared by ``weights``."""
    n = len(need)
    if sum(need) >= total:
        # Not every longest word fits: the narrow columns keep theirs and only the widest give way,
        # all cut to one width (the one that makes the columns add up), so the fewest words break.
        if not sum(need):
            return [total / n] * n
        ordered = sorted(need)
        rest, cap = total, 0.0
        for k, x in enumerate(ordered):
            cap = rest / (n - k)
            if x > cap:
                break
            rest -= x
        return [min(x, cap) for x in need]
    wsum = sum(weights)
    widths = [max(need[i], total * weights[i] / wsum) for i in range(n)]
    # Columns that got more than their share of the weight push the rest below it: take the
    # excess back from the columns above their need, in proportion to how far above they are.
    excess = sum(widths) - total
    while excess > 1e-6:
        slack = [widths[i] - need[i] for i in range(n)]
        room = sum(slack)
        if room <= 0:
            break
        widths = [widths[i] - excess * slack[i] / room for i in range(n)]
        excess = sum(widths) - total
    return widths


def row_heights(rows: Sequence[Sequence[str]], widths: Sequence[float], size: float, pad: float, vpad: float, leading: float,
                faces: Sequence[str], header_face: str = "bold") -> list[float]:  # fmt: skip
    out = []
    for r, row in enumerate(rows):
        lines = max(len(wrap(str(cell), size, widths[c] - pad, header_face if r == 0 else faces[c])) for c, cell in enumerate(row))
        out.append(lines * size * leading + vpad)
    return out
