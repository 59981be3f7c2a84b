"""Making record text inert: escaping for generated Markdown, and record bodies rendered to safe HTML.

Record text is data, never markup. Two paths:

- **Fields** (titles, symptoms, names) go into the generated Markdown pages through the Jinja
  environment (:mod:`kedb.site.env`), which escapes every value with :func:`md_inline` unless
  it is :class:`~markupsafe.Markup` made by kedb itself.
- **Bodies** (the ``## `` sections) are rendered here with a locked-down Markdown parser (no
  raw HTML, no attribute lists, no includes) and then passed through a whitelist sanitiser,
  so even a body that slipped past ``kedb check`` cannot add a tag, an ``on*=`` attribute or
  a ``javascript:`` link. Record ids in the text become links to the records of this edition.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from html.parser import HTMLParser

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
_VOID = {"hr", "br"}
_RENAME = {"h1": "h3", "h2": "h3", "b": "strong", "i": "em"}
_ALIGN = re.compile(r"^text-align:\s*(left|right|center);?$")
_LANG = re.compile(r"^language-[\w#.+-]{1,30}$")
_DROP_WITH_CONTENT = {"script", "style", "iframe", "object", "embed", "template", "noscript", "svg", "math"}


def safe_href(url: str) -> str | None:
    """``url`` when it is an http(s) or mailto link or an in-page anchor, else None."""
    u = _CONTROL.sub("", html.unescape(url)).strip()
    low = re.sub(r"\s+", "", u).lower()
    if low.startswith("#") or low.startswith(_SAFE_SCHEMES):
        return u
    return None


class _Sanitiser(HTMLParser):
    """Rebuild HTML keeping only whitelisted tags and attributes; link record ids in text."""

    def __init__(self, link_for: Callable[[str], str | None]) -> None:
        super().__init__(convert_charrefs=True)
        self.link_for = link_for
        self.out: list[str] = []
        self.stack: list[str] = []
        self.dropping = 0  # depth inside a dropped element (script, style...)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        tag = _RENAME.get(tag, tag)
        if self.dropping or tag in _DROP_WITH_CONTENT:
            if tag not in _VOID:
                self.dropping += 1
            return
        if tag == "img":  # no images: offline, no tracking pixels; keep the alt text and a safe link
            a = dict(attrs)
            alt = a.get("alt") or "image"
            href = safe_href(a.get("src") or "")
            self.out.append(f'<a href="{html.escape(href)}">[{html.escape(alt)}]</a>' if href else f"[{html.escape(alt)}]")
            return
        if tag not in _ALLOWED:
            return
        keep: list[str] = []
        for name, value in attrs:
            value = value or ""
            if tag == "a" and name == "href":
                href = safe_href(value)
                if href is not None:
                    keep.append(f'href="{html.escape(href)}"')
                    if not href.startswith("#"):
                        keep.append('rel="noopener noreferrer"')
            elif (tag == "a" and name == "title") or (tag == "code" and name == "class" and _LANG.match(value)):
                keep.append(f'{name}="{html.escape(value)}"')
            elif tag in ("th", "td") and name == "style" and (m := _ALIGN.match(value.strip())):
                keep.append(f'style="text-align: {m.group(1)}"')
            elif tag in ("th", "td") and name == "align" and value in ("left", "right", "center"):
                keep.append(f'style="text-align: {value}"')
        self.out.append(f"<{tag}{''.join(' ' + k for k in keep)}>")
        if tag not in _VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        # A self-closed element has no content: inside dropped content, or when it is one that is
        # dropped with its content (`<svg/>`), there is nothing to keep and no depth to track.
        if self.dropping or _RENAME.get(tag, tag) in _DROP_WITH_CONTENT:
            return
        self.handle_starttag(tag, attrs)
        tag = _RENAME.get(tag, tag)
        if tag not in _VOID and self.stack and self.stack[-1] == tag:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        tag = _RENAME.get(tag, tag)
        if self.dropping:
            if tag not in _VOID:
                self.dropping -= 1
            return
        if tag in _VOID or tag not in self.stack:
            return
        while self.stack:
            top = self.stack.pop()
            self.out.append(f"</{top}>")
            if top == tag:
                break

    def handle_data(self, data: str) -> None:
        if self.dropping:
            return
        text = html.escape(_CONTROL.sub("", data), quote=False)
        if "a" in self.stack or "code" in self.stack or "pre" in self.stack or "-" not in text:
            self.out.append(text)
            return
        self.out.append(RECORD_ID.sub(self._link, text))

    def _link(self, m: re.Match[str]) -> str:
        url = self.link_for(m.group(1))
        return f'<a href="{html.escape(url)}">{m.group(1)}</a>' if url else m.group(1)

    def result(self) -> str:
        while self.stack:
            self.out.append(f"</{self.stack.pop()}>")
        return "".join(self.out)


def sanitise(fragment: str, link_for: Callable[[str], str | None] = lambda _id: None) -> str:
    """``fragment`` with only whitelisted tags and attributes left (see module docstring)."""
    p = _Sanitiser(link_for)
    p.feed(fragment)
    p.close()
    return p.result()


_INCLUDE_LINE = re.compile(r"^\s*(?:-{2,}8<-{2,}|\{%\s*include\b).*$", re.M)


class BodyRenderer:
    """Record body Markdown → inert HTML, with CommonMark (markdown-it-py, as GitLab and GitHub
    preview it in the merge request) and raw HTML off; then the whitelist sanitiser."""

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
