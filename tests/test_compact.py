"""Whitespace compaction of built pages (:mod:`kedb.site.compact`) gives the same bytes as the plain regular
expressions it replaced, which say what it does in one line each: kept here as the reference."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from kedb.site import compact as c

_RUNS = re.compile(r"[ \t\r\f\v]*\n\s*")  # every run of white space with a line break in it
_SPANS = re.compile(r'\n?(<span class="md-ellipsis">)\s*([^<]*?)\s*(</span>)\n?')


def reference(html: str) -> str:
    parts = c._KEEP.split(html)
    out = []
    for i in range(0, len(parts), 3):
        text = _SPANS.sub(r"\1\2\3", _RUNS.sub("\n", parts[i]))
        out.append(c._BREAK_AFTER_BLOCK.sub(r"\1", c._BREAK_BEFORE_BLOCK.sub("", text)))
        if i + 1 < len(parts):
            out.append(parts[i + 1])
    return "".join(out)


# Pieces that meet at the edges the rules care about: line breaks, white space of every kind (a no-break space and a
# line separator are white space to \s), block and inline tags, tags over two lines, kept elements, ellipsis spans
# whole, broken and nested.
PIECES = [
    "\n",
    " ",
    "\t",
    "\r",
    "\x0b",
    "\x0c",
    "\xa0",
    "\u2028",
    "\x1c",
    "a",
    "word",
    "<div>",
    "</div>",
    '<div class="x">',
    "<div\nclass='y'>",
    "<li>",
    "</p>",
    "<span>",
    "</span>",
    "<a href='#'>",
    "<pre>",
    "</pre>",
    "<script>",
    "</script>",
    "<STYLE>",
    "</style >",
    "<textarea>",
    '<span class="md-ellipsis">',
    '<span class="md-ellipsis"> Title </span>',
    '<span class="md-ellipsis">\n x\n</span>',
    '<span class="md-ellipsis"><b>x</b></span>',
    "<",
]


@settings(max_examples=3000, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=40))
def test_compact_is_the_reference(pieces: list[str]) -> None:
    html = "".join(pieces)
    assert c.compact(html) == reference(html)


def test_compact_examples() -> None:
    assert c.compact("a  \n\n   b") == "a\nb"
    assert c.compact("a\xa0 \n \xa0b") == "a\xa0\nb", "a no-break space before the break stays; after it, it goes"
    assert c.compact("<div>\n  <p>x</p>\n</div>") == "<div><p>x</p></div>"
    assert c.compact("<pre>  a\n\n  b</pre>") == "<pre>  a\n\n  b</pre>"
    assert c.compact('x\n<span class="md-ellipsis">\n  Title\n</span>\ny') == 'x<span class="md-ellipsis">Title</span>y'
    assert c.compact('x\n<span class="md-ellipsis"><b>t</b></span>') == 'x\n<span class="md-ellipsis"><b>t</b></span>'
