"""Whitespace compaction of built pages.

Material's templates indent deeply and leave many blank lines: about half of a record page's
bytes are whitespace. Collapsing every run of whitespace that contains a line break into one
line break changes nothing a browser renders (whitespace between words stays whitespace),
except inside ``<pre>``, ``<textarea>``, ``<script>`` and ``<style>``, which are kept as they are.
A line break next to the start or end tag of a block (``<div>``, ``<li>``, ``<td>``...) is
dropped too (white space there is not rendered), and so is white space around the text of
Material's ``md-ellipsis`` spans and around them; white space between inline elements (links,
icons, labels) stays.
"""

from __future__ import annotations

import re

_KEEP = re.compile(r"(<(pre|textarea|script|style)\b.*?</\2\s*>)", re.S | re.I)
_BREAKS = re.compile(r"[ \t\r\f\v]*\n\s*")
_BLOCK = r"(?:html|head|body|meta|link|script|title|div|nav|ul|ol|li|header|footer|main|article|form|table|thead|tbody|tr|td|th|h[1-6]|p)"
# Two passes, each starting with a literal: twice as fast as one alternation (10,000 pages).
_BREAK_BEFORE_BLOCK = re.compile(rf"\n(?=</?{_BLOCK}[\s>])")
_BREAK_AFTER_BLOCK = re.compile(rf"(</?{_BLOCK}(?:\s[^<>]*)?>)\n")
# Material's md-ellipsis spans sit in flex boxes (navigation links) or blocks (header topics),
# where white space around them is not rendered either.
_ELLIPSIS = re.compile(r'\n?(<span class="md-ellipsis">)\s*([^<]*?)\s*(</span>)\n?')


def compact(html: str) -> str:
    parts = _KEEP.split(html)
    out: list[str] = []
    # split() with two groups yields: text, whole-match, tag-name, text, ...
    for i in range(0, len(parts), 3):
        text = _ELLIPSIS.sub(r"\1\2\3", _BREAKS.sub("\n", parts[i]))
        out.append(_BREAK_AFTER_BLOCK.sub(r"\1", _BREAK_BEFORE_BLOCK.sub("", text)))
        if i + 1 < len(parts):
            out.append(parts[i + 1])
    return "".join(out)
