"""The little Markdown that record sections use, read into blocks every artefact can lay out.

Records are written for the site, so their sections hold paragraphs, numbered and bulleted
lists (with indented continuation lines and fenced code inside items) and fenced code. The
artefacts need the same structure in Word lists, slide text and PDF paragraphs, never the
Markdown markers. Inline, only code spans and bold are kept as styles; a Markdown link keeps
its text and shows its address in brackets, so nothing becomes a live link by accident.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

_OL = re.compile(r"^(\s{0,3})(\d{1,4})[.)]\s+(.*)$")
_UL = re.compile(r"^(\s{0,3})[-*+]\s+(.*)$")
_FENCE = re.compile(r"^\s*(```|~~~)")
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$")
_INLINE = re.compile(r"`([^`]+)`|\*\*(.+?)\*\*|__(.+?)__|\[([^\]]+)\]\(([^)\s]+)\)")
# Characters XML 1.0 cannot carry: ``kedb check`` reports them (KE108); this keeps a library
# exception out of the build if one ever slips through a field the check does not cover.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_MARKS = re.compile(r"[`*_\[]")  # a character that may start an inline marker

Style = Literal["", "code", "bold"]
Span = tuple[str, Style]


def clean(text: object) -> str:
    """Text safe for any XML-based format (control characters dropped)."""
    return _XML_ILLEGAL.sub("", "" if text is None else str(text))


@dataclass
class Block:
    kind: Literal["p", "ol", "ul", "code", "h"]
    text: str = ""  # paragraph, heading or code text
    items: list[Item] = field(default_factory=list)  # ol / ul


@dataclass
class Item:
    text: str
    children: list[Block] = field(default_factory=list)  # code blocks or paragraphs inside the item


def spans(text: str) -> list[Span]:
    """Inline runs of ``text``: plain, ``code`` and bold."""
    out: list[Span] = []
    pos = 0
    for m in _INLINE.finditer(text):
        if m.start() > pos:
            out.append((text[pos : m.start()], ""))
        if m.group(1) is not None:
            out.append((m.group(1), "code"))
        elif m.group(2) is not None or m.group(3) is not None:
            out.append((m.group(2) or m.group(3), "bold"))
        else:
            out.append((f"{m.group(4)} ({m.group(5)})", ""))
        pos = m.end()
    if pos < len(text):
        out.append((text[pos:], ""))
    return [(clean(t), s) for t, s in out if t]


def plain(text: str) -> str:
    """``text`` without inline markers."""
    if not _MARKS.search(text):
        return clean(text)  # nothing to take out: most cells of a long table
    return "".join(t for t, _ in spans(text))


def clean_plain(text: object) -> str:
    """``plain(clean(text))``, cleaning once: text that is already clean stays as it is."""
    text = clean(text)
    return "".join(t for t, _ in spans(text)) if _MARKS.search(text) else text


def blocks(markdown: str) -> list[Block]:
    """Split a section's Markdown into paragraphs, lists and code blocks."""
    lines = clean(markdown).split("\n")
    out: list[Block] = []
    para: list[str] = []
    lst: Block | None = None
    blank_in_item = False

    def flush_para() -> None:
        nonlocal para
        if para:
            out.append(Block("p", " ".join(s.strip() for s in para)))
            para = []

    i = 0
    while i < len(lines):
        line = lines[i]
        if _FENCE.match(line):
            indent = len(line) - len(line.lstrip())
            fence = line.strip()[:3]
            code: list[str] = []
            i += 1
            while i < len(lines) and not lines[i].strip().startswith(fence):
                code.append(lines[i][indent:] if lines[i][:indent].strip() == "" else lines[i].lstrip())
                i += 1
            i += 1
            block = Block("code", "\n".join(code).rstrip())
            if lst is not None and lst.items and indent >= 2:
                lst.items[-1].children.append(block)
            else:
                flush_para()
                lst = None
                out.append(block)
            continue
        if not line.strip():
            flush_para()
            blank_in_item = lst is not None
            i += 1
            continue
        m_ol, m_ul = _OL.match(line), _UL.match(line)
        kind = "ol" if m_ol else "ul" if m_ul else None
        if kind:
            flush_para()
            text = (m_ol.group(3) if m_ol else m_ul.group(2)) if (m_ol or m_ul) else ""  # type: ignore[union-attr]
            if lst is None or lst.kind != kind:
                lst = Block(kind)  # type: ignore[arg-type]
                out.append(lst)
            lst.items.append(Item(text.strip()))
            blank_in_item = False
        elif lst is not None and lst.items and line.startswith(("  ", "\t")):
            item = lst.items[-1]
            if blank_in_item:
                item.children.append(Block("p", line.strip()))
                blank_in_item = False
            elif item.children and item.children[-1].kind == "p":
                item.children[-1].text += " " + line.strip()
            else:
                item.text += " " + line.strip()
        elif m_h := _HEADING.match(line):
            flush_para()
            lst = None
            out.append(Block("h", m_h.group(1)))
        else:
            if lst is not None and not blank_in_item and not para:
                lst.items[-1].text += " " + line.strip()  # lazy continuation
            else:
                lst = None
                para.append(line)
        i += 1
    flush_para()
    return out
