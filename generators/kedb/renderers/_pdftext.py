"""Text for the proof PDF: embedded fonts, inert markup, CJK and right-to-left scripts.

reportlab's Paragraph reads a small XML markup, so record text is escaped before it goes in
(``<``, ``&`` and anything markup-like render literally). Fonts are TrueType files embedded as
subsets: DejaVu Sans covers Latin, Greek, Cyrillic, Hebrew and Arabic; WenQuanYi Micro Hei
covers Chinese, Japanese and Korean (Noto Sans CJK cannot be used: reportlab does not embed
CFF outlines). Runs of CJK characters are switched to the CJK font.

reportlab lays text out left to right. Right-to-left text (Hebrew, Arabic) is broken into
lines first, in logical order, and each line is then reordered for display with python-bidi
(the Unicode bidirectional algorithm); Arabic letters are first given their joined forms with
arabic-reshaper. Both are imported only when a text needs them.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from ._assets import find_font, require_font
from ._md import clean

SANS, BOLD, MONO, CJK = "KedbSans", "KedbSans-Bold", "KedbMono", "KedbCJK"
_RTL = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufefc]")
_ARABIC = re.compile("[\u0600-\u08ff]")
_CJK = re.compile(
    "[\u1100-\u11ff\u2e80-\u2fdf\u3000-\u303f\u3040-\u30ff\u3100-\u31ff\u3200-\u4dbf\u4e00-\u9fff"
    "\ua960-\ua97f\uac00-\ud7ff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef\U00020000-\U0003134f]+"
)


@cache
def register() -> bool:
    """Register the fonts once; returns whether a CJK font is available."""
    from reportlab.lib.fonts import addMapping
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    for name, role in ((SANS, "sans"), (BOLD, "sans-bold"), (MONO, "mono")):
        path, index = require_font(role)
        pdfmetrics.registerFont(TTFont(name, str(path), subfontIndex=index))
    for bold, italic, face in ((0, 0, SANS), (1, 0, BOLD), (0, 1, SANS), (1, 1, BOLD)):
        addMapping(SANS, bold, italic, face)
    # reportlab.graphics starts every drawing in Helvetica, a font it does not embed; the
    # charts set their fonts, but that initial state alone would put Helvetica in the file.
    from reportlab.graphics import shapes

    shapes.STATE_DEFAULTS["fontName"] = SANS
    cjk = find_font("cjk")
    if cjk is not None:
        pdfmetrics.registerFont(TTFont(CJK, str(cjk[0]), subfontIndex=cjk[1]))
        for bold, italic in ((0, 0), (1, 0), (0, 1), (1, 1)):
            addMapping(CJK, bold, italic, CJK)
    return cjk is not None


def has_rtl(text: str) -> bool:
    return bool(_RTL.search(text))


def has_cjk(text: str) -> bool:
    return bool(_CJK.search(text))


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _visual(line: str) -> str:
    """One line of logical-order text in display order."""
    try:
        from bidi import get_display

        if _ARABIC.search(line):
            import arabic_reshaper

            line = arabic_reshaper.reshape(line)
    except ImportError as exc:
        from ..core.errors import EnvironmentProblem

        raise EnvironmentProblem(
            f"a record contains right-to-left text and {exc.name} is not installed: pip install python-bidi arabic-reshaper"
        ) from exc
    return str(get_display(line))


def _lines(text: str, font: str, size: float, width: float) -> list[str]:
    from reportlab.lib.utils import simpleSplit

    out: list[str] = []
    for para in text.split("\n"):
        out.extend(simpleSplit(para, font, size, width) or [""])
    return out


def _fonts(escaped: str) -> str:
    if not has_cjk(escaped):
        return escaped
    if not register():
        from ..core.errors import EnvironmentProblem

        raise EnvironmentProblem("a record contains CJK text and no CJK TrueType font is installed: install fonts-wqy-microhei")
    return _CJK.sub(lambda m: f'<font face="{CJK}">{m.group(0)}</font>', escaped)


def markup(text: object, *, font: str = SANS, size: float = 9, width: float | None = None) -> str:
    """Paragraph markup that shows ``text`` literally, in display order, in fonts that have its glyphs."""
    raw = clean(text)
    if has_rtl(raw):
        lines = _lines(raw, font, size, width) if width else raw.split("\n")
        return "<br/>".join(_fonts(escape(_visual(ln))) for ln in lines)
    return _fonts(escape(raw)).replace("\n", "<br/>")


def para(text: object, style: Any, width: float | None = None) -> Any:
    """A Paragraph of literal text; right-aligned when it starts in a right-to-left script, CJK-wrapped when it has CJK."""
    from reportlab.lib.enums import TA_RIGHT
    from reportlab.platypus import Paragraph

    raw = clean(text)
    body = markup(raw, font=style.fontName, size=style.fontSize, width=width)
    if has_rtl(raw) and _first_strong_rtl(raw):
        style = _variant(style, alignment=TA_RIGHT)
    if has_cjk(raw):
        style = _variant(style, wordWrap="CJK")
    return Paragraph(body, style)


def _first_strong_rtl(text: str) -> bool:
    for ch in text:
        if _RTL.match(ch):
            return True
        if ch.isalpha():
            return False
    return False


_VARIANTS: dict[tuple[str, tuple[tuple[str, object], ...]], Any] = {}


def _variant(style: Any, **changes: object) -> Any:
    from reportlab.lib.styles import ParagraphStyle

    key = (style.name, tuple(sorted(changes.items())))
    if key not in _VARIANTS:
        _VARIANTS[key] = ParagraphStyle(f"{style.name}-{'-'.join(f'{k}{v}' for k, v in key[1])}", parent=style, **changes)
    return _VARIANTS[key]
