"""The table of contents of a page kedb rendered to HTML, in the token form MkDocs uses.

Headings come from the ``h()`` macro of the templates (``<hN id="...">text<a class="headerlink"``),
so a regular expression over our own output is enough.
"""

from __future__ import annotations

import html
import re
from typing import Any

_HEADING = re.compile(r'<h([1-6]) id="([^"]+)">(.*?)<a class="headerlink"', re.S)
_TAGS = re.compile(r"<[^>]+>")
TOC_DEPTH = 3


def tokens(page_html: str, depth: int = TOC_DEPTH) -> list[dict[str, Any]]:
    """Nested ``{level, id, name, children}`` dicts, as Python-Markdown's toc extension gives
    them, for headings down to level ``depth``."""
    root: list[dict[str, Any]] = []
    stack: list[dict[str, Any]] = []
    for m in _HEADING.finditer(page_html):
        level = int(m.group(1))
        if level > depth:
            continue
        name = html.escape(html.unescape(_TAGS.sub("", m.group(3))).strip(), quote=False)
        tok: dict[str, Any] = {"level": level, "id": html.unescape(m.group(2)), "name": name, "children": []}
        while stack and stack[-1]["level"] >= level:
            stack.pop()
        (stack[-1]["children"] if stack else root).append(tok)
        stack.append(tok)
    return root
