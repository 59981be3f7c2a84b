"""Whitespace compaction of built pages.

Material's templates indent deeply and leave many blank lines: about half of a record page's
bytes are whitespace. Collapsing every run of whitespace that contains a line break into one
line break changes nothing a browser renders (whitespace between words stays whitespace),
except inside ``<pre>``, ``<textarea>``, ``<script>`` and ``<style>``, which are kept as they are.
"""

from __future__ import annotations

import re

_KEEP = re.compile(r"(<(pre|textarea|script|style)\b.*?</\2\s*>)", re.S | re.I)
_BREAKS = re.compile(r"[ \t\r\f\v]*\n\s*")


def compact(html: str) -> str:
    parts = _KEEP.split(html)
    out: list[str] = []
    # split() with two groups yields: text, whole-match, tag-name, text, ...
    for i in range(0, len(parts), 3):
        out.append(_BREAKS.sub("\n", parts[i]))
        if i + 1 < len(parts):
            out.append(parts[i + 1])
    return "".join(out)
