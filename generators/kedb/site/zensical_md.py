"""A Python-Markdown extension that hands Zensical the pages kedb rendered itself (issue #22).

Zensical renders every page's Markdown with Python-Markdown and the extensions its configuration
lists; it runs no MkDocs plugin. kedb renders its pages (records, indexes, playbooks) to finished
HTML from the ``*.html.j2`` templates, as under MkDocs (:mod:`kedb.site.pages`), and
:mod:`kedb.site.zensical` writes each into the staging source folder as a Markdown file whose
first line is a marker::

    <!-- kedb:page <base64 of the JSON table of contents> -->
    <h1 id="ke-0001">KE-0001 …

This extension, listed in the configuration kedb writes for Zensical, takes such a page whole:
its HTML goes out as it is, byte for byte (Markdown never runs over it, so nothing in it is
reinterpreted, not even a tab in a code block) and its table of contents is the one kedb computed (:func:`kedb.site.toc.tokens`), which Zensical
shows in the sidebar as MkDocs does. A page without the marker (the tags page) is ordinary
Markdown. Were the extension not loaded, the marker is an HTML comment and the page still shows
its HTML (Python-Markdown passes raw HTML blocks through); only the sidebar's table of contents
would be empty.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from markdown import Extension, Markdown
from markdown.postprocessors import Postprocessor
from markdown.preprocessors import Preprocessor

MARKER = "<!-- kedb:page "
END = " -->"


def marker(toc: list[dict[str, Any]]) -> str:
    """The first line of a kedb page's Markdown file: the marker with the page's table of contents."""
    data = base64.b64encode(json.dumps(toc, ensure_ascii=True, separators=(",", ":")).encode("ascii")).decode("ascii")
    return f"{MARKER}{data}{END}"


def _zensical_token(tok: dict[str, Any]) -> dict[str, Any]:
    """kedb's toc token in the shape Python-Markdown's toc extension gives (Zensical reads ``html`` and ``data-toc-label``)."""
    return {
        "level": tok["level"],
        "id": tok["id"],
        "name": tok["name"],
        "html": tok["name"],
        "data-toc-label": "",
        "children": [_zensical_token(c) for c in tok["children"]],
    }


class _Take(Preprocessor):
    """First of all preprocessors (before Python-Markdown normalises white space and tabs): a kedb
    page's HTML is taken aside as it is, and Markdown gets an empty document."""

    def __init__(self, md: Markdown, ext: KedbPageExtension) -> None:
        super().__init__(md)
        self.ext = ext

    def run(self, lines: list[str]) -> list[str]:
        self.ext.html, self.ext.toc = None, None
        first = next((i for i, line in enumerate(lines) if line.strip()), None)
        if first is None or not (lines[first].startswith(MARKER) and lines[first].rstrip().endswith(END)):
            return lines
        data = lines[first].rstrip()[len(MARKER) : -len(END)]
        self.ext.toc = [_zensical_token(t) for t in json.loads(base64.b64decode(data))]
        self.ext.html = "\n".join(lines[first + 1 :])
        return []


class _Give(Postprocessor):
    """Last of all postprocessors: the page's HTML as kedb rendered it, and its table of contents."""

    def __init__(self, md: Markdown, ext: KedbPageExtension) -> None:
        super().__init__(md)
        self.ext = ext

    def run(self, text: str) -> str:
        if self.ext.html is None:
            return text
        self.md.toc_tokens = self.ext.toc  # type: ignore[attr-defined]
        return self.ext.html


class KedbPageExtension(Extension):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.html: str | None = None
        self.toc: list[dict[str, Any]] | None = None

    def extendMarkdown(self, md: Markdown) -> None:  # Python-Markdown's name
        md.preprocessors.register(_Take(md, self), "kedb_page", 1000)
        md.postprocessors.register(_Give(md, self), "kedb_page", -1000)


def makeExtension(**kwargs: Any) -> KedbPageExtension:  # Python-Markdown's entry point
    return KedbPageExtension(**kwargs)
