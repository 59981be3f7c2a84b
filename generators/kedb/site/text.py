"""Making record text inert: escaping for generated Markdown, and record bodies rendered to safe HTML.

Record text is data, never markup. Two paths:

- **Fields** (titles, symptoms, names) go into the generated Markdown pages through the Jinja
  environment (:mod:`kedb.site.env`), which escapes every value with :func:`md_inline` unless
  it is :class:`~markupsafe.Markup` made by kedb itself.
- **Bodies** (the ``## `` sections) are rendered here with a locked-down Markdown parser (no
  raw HTML, no attribute lists, no includes) and then passed through an allow-list sanitiser,
  so even a body that slipped past ``kedb check`` cannot add a tag, an ``on*=`` attribute or
  a ``javascript:`` link. Record ids in the text become links to the records of this edition.

The sanitiser is nh3, the Python binding of Ammonia (issue #15), configured to the allow-list the
hand-written one kept: the tags of ``_ALLOWED``; ``href`` and ``title`` on links, a ``language-…``
class on code, ``text-align`` on table cells and nothing else (Ammonia's default ``lang`` and
``title`` on every tag are switched off); http, https and mailto links and in-page anchors, each
also passed through :func:`safe_href`; the content of script, style, svg, math, iframe and the like
dropped with them; comments dropped; ``rel="noopener noreferrer"`` on links. Ammonia parses as a
browser does (html5ever), so what it keeps is the tree a browser would build: a ``<tbody>`` in a
table, ``<li>`` closed by the next, a cell outside a table and ``/>`` on a non-void element
ignored; and it puts ``rel`` on every link of a body, in-page ones too. What Ammonia cannot do is a
small step on its output (:func:`_finish`, which runs only when the output has something for it):
headings below the page's own, ``b``/``i`` as ``strong``/``em``, an image as a link to it (no
remote image is ever loaded), ``align`` as ``text-align``, and record ids in text linked. A link
keeps its URL as written (the hand-written sanitiser decoded entities twice, so a link's
``?a=1&copy=2`` became ``?a=1©=2``).

Measured on the 10,000-record synthetic KB (``benchmarks/synth.py``, ``bench_kb(10000)``: 36,500
body sections, 13 MB of markdown-it HTML): CPU seconds for ``sanitise`` over every section, best
of 7, three runs on a busy two-core machine. Hand-written 0.60-0.64 s, nh3 0.49-0.54 s; with a
record id added to every paragraph (the post-step then runs on every section) hand-written
0.64-0.77 s, nh3 0.77-1.20 s. Both gave the same output for all 73,000 sections; markdown-it
takes about 1.9 s of the 2.7 s the bodies cost. The cost is a wash, so the well-kept sanitiser
wins: its parser is the browser's, and the HTML edge cases are maintained upstream, not here.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from functools import cache

from markupsafe import Markup

# Characters Python-Markdown (with the tables extension) accepts as backslash escapes.
_MD_ESCAPE = re.compile(r"([\\`*_{}\[\]()#+\-.!|])")
_HTML_ESCAPE = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}
_HTML_CHARS = re.compile(r'[&<>"]')
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
RECORD_ID = re.compile(r"\b((?:KE|WA|PRB)-\d{4,})\b")


def md_inline(value: object) -> Markup:
    """Text as inert inline Markdown: HTML characters become entities, Markdown syntax is escaped,
    line breaks become spaces (a value can never start a block of its own)."""
    text = _CONTROL.sub("", str(value)).replace("\r", " ").replace("\n", " ")
    text = _HTML_CHARS.sub(lambda m: _HTML_ESCAPE[m.group()], text)
    return Markup(_MD_ESCAPE.sub(r"\\\1", text))


def md_block(value: object) -> Markup:
    """Multi-paragraph text (e.g. a root cause) as inert Markdown paragraphs."""
    paras = [p.strip() for p in re.split(r"\n\s*\n", str(value).replace("\r\n", "\n")) if p.strip()]
    return Markup("\n\n".join(md_inline(p) for p in paras))


def code_spans(value: object) -> Markup:
    """Text written by kedb's own models (field descriptions, rule summaries) as HTML: escaped,
    with its Markdown code spans (`` `value` ``) as ``<code>`` and nothing else interpreted."""
    parts = str(value).split("`")
    if len(parts) % 2 == 0:  # an unmatched backtick stays a backtick
        parts[-2:] = ["`".join(parts[-2:])]
    return Markup("").join(html_text(p) if i % 2 == 0 else Markup("<code>") + html_text(p) + Markup("</code>") for i, p in enumerate(parts))


def html_text(value: object) -> Markup:
    """Text for an HTML context (attributes included)."""
    return Markup(html.escape(_CONTROL.sub("", str(value)), quote=True))


_MD_SYNTAX = re.compile(r"`+|\*\*|(?<!\w)[*_](?=\S)|(?<=\S)[*_](?!\w)|^#+\s|^\s*(?:[-+*]|\d+\.)\s+", re.M)
_MD_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")


def plain(value: object, limit: int | None = None) -> str:
    """One line of plain text (Markdown syntax removed), shortened at a word boundary to ``limit`` characters."""
    text = _MD_SYNTAX.sub("", _MD_LINK.sub(r"\1", _CONTROL.sub("", str(value))))
    text = " ".join(text.split())
    if limit and len(text) > limit:
        cut = text[: limit - 1].rsplit(" ", 1)[0]
        text = cut.rstrip(" ,;:.") + "…"
    return text


# ---------------------------------------------------------------- record bodies
_SAFE_SCHEMES = ("http:", "https:", "mailto:")
_BLOCK_TAGS = {"p", "ul", "ol", "li", "blockquote", "pre", "table", "thead", "tbody", "tr", "th", "td", "hr", "br", "h3", "h4", "h5", "h6"}
_INLINE_TAGS = {"a", "code", "em", "strong", "del", "sub", "sup", "kbd"}
_ALLOWED = _BLOCK_TAGS | _INLINE_TAGS
_RENAME = {"h1": "h3", "h2": "h3", "b": "strong", "i": "em"}  # renamed after nh3, which keeps them for that
_ALIGN = re.compile(r"^text-align:\s*(left|right|center);?$")
_LANG = re.compile(r"^language-[\w#.+-]{1,30}$")
_DROP_WITH_CONTENT = {"script", "style", "iframe", "object", "embed", "template", "noscript", "svg", "math"}
# What nh3 keeps. "*" is there to empty ammonia's default attributes for every tag (lang, title).
_ATTRIBUTES: dict[str, set[str]] = {
    "*": set(),
    "a": {"href", "title"},
    "img": {"src", "alt"},
    "code": {"class"},
    "th": {"style", "align"},
    "td": {"style", "align"},
}
_EXTERNAL_REL = "noopener noreferrer"


def safe_href(url: str) -> str | None:
    """``url`` when it is an http(s) or mailto link or an in-page anchor, else None."""
    u = _CONTROL.sub("", html.unescape(url)).strip()
    low = re.sub(r"\s+", "", u).lower()
    if low.startswith("#") or low.startswith(_SAFE_SCHEMES):
        return u
    return None


def _attribute(tag: str, name: str, value: str) -> str | None:
    """nh3's last word on each attribute it kept (None drops it): a link or an image source only
    through :func:`safe_href`, a code span's class only when it names a language, a cell's
    alignment only as ``text-align``."""
    if name in ("href", "src"):
        return value.strip() if safe_href(value) is not None else None
    if name == "class":
        return value if _LANG.match(value) else None
    if name == "style":
        return f"text-align: {m.group(1)}" if (m := _ALIGN.match(value.strip())) else None
    if name == "align":
        return value if value in ("left", "right", "center") else None
    return value  # a link's title, an image's alt text, the rel nh3 adds to links


def _relative(url: str) -> str | None:
    """The only relative URL kept is an in-page anchor (not ``page.html``, not ``//host/x``)."""
    return url if url.strip().startswith("#") else None


# nh3's settings: a table (mutation testing does not change module-level tables, so
# tests/test_guards_units.py checks each entry through sanitise).
_NH3: dict[str, object] = {
    "tags": _ALLOWED | set(_RENAME) | {"img"},
    "clean_content_tags": _DROP_WITH_CONTENT,
    "attributes": _ATTRIBUTES,
    "attribute_filter": _attribute,
    "url_schemes": {"http", "https", "mailto"},
    "url_relative": _relative,
    "link_rel": _EXTERNAL_REL,
    "strip_comments": True,
}


@cache
def _cleaner() -> Callable[[str], str]:
    import nh3  # imported on first use: kedb check never renders a body

    return nh3.Cleaner(**_NH3).clean  # type: ignore[arg-type]


# nh3's output is serialised HTML: text has every "<" escaped and every attribute value is quoted
# with its '"' escaped, so a tag is exactly this pattern and everything between two tags is text.
_TAG = re.compile(r'<(/?)([a-z][a-z0-9]*)((?:\s+[^\s"\'<>/=]+="[^"]*")*)\s*/?>')
_ATTR = re.compile(r'([^\s"\'<>/=]+)="([^"]*)"')
_CELL_ALIGN = re.compile(r' align="(left|right|center)"')
_TOUCH = re.compile(r'<(?:img[\s>]|h[12]>|[bi]>)|\salign="|\b(?:KE|WA|PRB)-\d{4,}\b')
_NO_LINKS = {"a", "code", "pre"}


def sanitise(fragment: str, link_for: Callable[[str], str | None] = lambda _id: None) -> str:
    """``fragment`` with only the allow-listed tags and attributes left (see module docstring)."""
    out = _cleaner()(_CONTROL.sub("", fragment))
    return _finish(out, link_for) if _TOUCH.search(out) else out


def _finish(out: str, link_for: Callable[[str], str | None]) -> str:
    """What nh3 cannot do, done on its output: headings below the page's own, ``b``/``i`` as
    ``strong``/``em``, images as links to them, ``align`` as ``text-align``, and record ids in text
    (not in a link or code) as links."""
    parts: list[str] = []
    plain = links = 0  # depth inside a, code or pre (text never linked there), and inside a
    pos = 0
    for m in _TAG.finditer(out):
        if m.start() > pos:
            parts.append(_text(out[pos : m.start()], link_for, plain))
        pos = m.end()
        end, tag, attrs = m.groups()
        if tag in _NO_LINKS:
            plain += -1 if end else 1
            links += (-1 if end else 1) if tag == "a" else 0
        elif tag in _RENAME:
            parts.append(f"<{end}{_RENAME[tag]}>")
            continue
        elif tag == "img":  # no images: offline, no tracking pixels; the alt text and a link instead
            parts.append(_image(attrs, links > 0))
            continue
        elif " align=" in attrs:
            attrs = _CELL_ALIGN.sub("", attrs) if ' style="' in attrs else _CELL_ALIGN.sub(r' style="text-align: \1"', attrs)
            parts.append(f"<{tag}{attrs}>")
            continue
        parts.append(m.group())
    parts.append(_text(out[pos:], link_for, plain))
    return "".join(parts)


def _text(text: str, link_for: Callable[[str], str | None], plain: int) -> str:
    # A "<" here would be a tag the pattern missed: it stays text, never markup kedb adds to.
    text = text.replace("<", "&lt;")
    if plain or "-" not in text:
        return text
    return RECORD_ID.sub(lambda m: f'<a href="{html.escape(url)}">{m.group(1)}</a>' if (url := link_for(m.group(1))) else m.group(1), text)


def _image(attrs: str, in_link: bool) -> str:
    a = dict(_ATTR.findall(attrs))
    alt = html.escape(html.unescape(a.get("alt") or "") or "image")
    src = a.get("src")  # as nh3 wrote it: checked, quoted and escaped
    return f'<a href="{src}" rel="{_EXTERNAL_REL}">[{alt}]</a>' if src and not in_link else f"[{alt}]"


_INCLUDE_LINE = re.compile(r"^\s*(?:-{2,}8<-{2,}|\{%\s*include\b).*$", re.M)


class BodyRenderer:
    """Record body Markdown → inert HTML, with CommonMark (markdown-it-py, as GitLab and GitHub
    preview it in the merge request) and raw HTML off; then the allow-list sanitiser (nh3)."""

    def __init__(self) -> None:
        from markdown_it import MarkdownIt

        self.md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable(["table", "strikethrough"])

    def render(self, body: str, link_for: Callable[[str], str | None] = lambda _id: None, css: str = "") -> Markup:
        """The body as one ``<div>`` for a page; record ids in the text link to their pages."""
        if not body.strip():
            return Markup("")
        text = _INCLUDE_LINE.sub("", body)
        out = sanitise(self.md.render(text), link_for)
        cls = " ".join(["kedb-text", *css.split()])
        return Markup(f'\n<div class="{html.escape(cls)}">\n{out}\n</div>\n')
