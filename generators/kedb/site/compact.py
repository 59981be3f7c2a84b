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
_BLOCK = r"(?:html|head|body|meta|link|script|title|div|nav|ul|ol|li|header|footer|main|article|form|table|thead|tbody|tr|td|th|h[1-6]|p)"
# Two passes, each starting with a literal: twice as fast as one alternation (10,000 pages).
_BREAK_BEFORE_BLOCK = re.compile(rf"\n(?=</?{_BLOCK}[\s>])")
_BREAK_AFTER_BLOCK = re.compile(rf"(</?{_BLOCK}(?:\s[^<>]*)?>)\n")
# Material's md-ellipsis spans sit in flex boxes (navigation links) or blocks (header topics),
# where white space around them is not rendered either.
_ELLIPSIS_OPEN = '<span class="md-ellipsis">'
_ELLIPSIS = re.compile(r'<span class="md-ellipsis">\s*([^<]*?)\s*</span>(\n?)')
_SPACE = " \t\r\f\v"  # white space before a line break that the break takes with it (after it: any white space)


def compact(html: str) -> str:
    parts = _KEEP.split(html)
    out: list[str] = []
    # split() with two groups yields: text, whole-match, tag-name, text, ...
    for i in range(0, len(parts), 3):
        text = _ellipsis(_breaks(parts[i]))
        out.append(_BREAK_AFTER_BLOCK.sub(r"\1", _BREAK_BEFORE_BLOCK.sub("", text)))
        if i + 1 < len(parts):
            out.append(parts[i + 1])
    return "".join(out)


def _breaks(text: str) -> str:
    r"""Every run of white space that holds a line break, as one line break. Line by line: a regular expression for
    the runs (``[ \t\r\f\v]*\n\s*``) tried a match at every space of the page, three times as long."""
    if "\n" not in text:
        return text
    lines = text.split("\n")
    kept = [lines[0].rstrip(_SPACE)]
    for line in lines[1:-1]:
        line = line.lstrip()
        if line:  # a line of white space only is part of the run
            kept.append(line.rstrip(_SPACE))
    kept.append(lines[-1].lstrip())
    return "\n".join(kept)


def _ellipsis(text: str) -> str:
    """Each md-ellipsis span's text without the white space around it, and without a line break either side of it.
    Found by its opening tag: a pattern that begins with an optional line break was tried at every character."""
    at = text.find(_ELLIPSIS_OPEN)
    if at < 0:
        return text
    out: list[str] = []
    done = 0  # text before this is in ``out``
    while at >= 0:
        m = _ELLIPSIS.match(text, at)
        if m is None:
            at = text.find(_ELLIPSIS_OPEN, at + 1)
            continue
        start = at - 1 if at > done and text[at - 1] == "\n" else at
        out.append(text[done:start])
        out.append(f"{_ELLIPSIS_OPEN}{m.group(1)}</span>")
        done = m.end()
        at = text.find(_ELLIPSIS_OPEN, done)
    out.append(text[done:])
    return "".join(out)
