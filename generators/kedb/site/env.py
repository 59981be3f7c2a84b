"""Templates of the site: where they are, and Jinja environments that escape by default.

A KB restyles its site without code by adding ``templates/site/`` (page templates, CSS, JS)
and ``templates/overrides/`` (Material theme overrides) to its repository; any file it does
not provide comes from the templates kedb ships (the repository's ``templates/`` in a
checkout, ``kedb/templates/`` in an installed wheel).

Two kinds of page template, and the file name says which:

- ``*.html.j2`` write the page's HTML (records, indexes, changelog...). kedb renders them
  and hands MkDocs the finished content, so ten thousand record pages are not run through
  Markdown. Every ``{{ value }}`` is HTML-escaped (Jinja autoescape).
- ``*.md.j2`` write Markdown that MkDocs renders (only the tags page; playbooks are rendered
  like record bodies, by :class:`~kedb.site.text.BodyRenderer` into ``playbook.html.j2``). MkDocs' Jinja does not autoescape and HTML escaping is not
  enough in Markdown (``[x](javascript:...)`` has no ``<``), so every ``{{ value }}`` is escaped
  as inert Markdown by ``finalize``.

In both, :class:`~markupsafe.Markup` made by kedb (links, record bodies rendered by
:class:`~kedb.site.text.BodyRenderer`, charts) passes through unchanged.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import jinja2
import jinja2.bccache
from markupsafe import Markup

from ..core import present
from ..core.load.cache import CACHE_DIR, read_sealed, write_sealed
from ..core.load.cache import enabled as cache_enabled
from .text import code_spans, html_text, md_block, md_inline


def _md_finalize(value: Any) -> Any:
    if value is None:
        return Markup("")
    if isinstance(value, Markup):
        return value
    if isinstance(value, datetime):
        return Markup(value.date().isoformat())
    return md_inline(value)


def _html_finalize(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    return value


def _html_day(value: Any) -> Markup | str:
    """An ISO date that never breaks at its hyphens (a table column of dates stays readable on a phone)."""
    text = present.day(value)
    return Markup(f'<span class="kedb-nowrap">{html_text(text)}</span>') if text else ""  # one Markup, not three: 11,000 a build


def _code(value: Any) -> Markup:
    return Markup("<code>") + html_text(value) + Markup("</code>")


class SealedBytecodeCache(jinja2.BytecodeCache):
    """Templates compiled by Jinja, kept between builds in ``.kedb/cache/jinja/`` (a build compiles
    about 50, half a second of a one-record edit at 1,000 records; ``mkdocs serve`` compiles them
    on every rebuild). Jinja's own ``FileSystemBytecodeCache`` would run whatever code anyone who can
    write that folder put there; these files are sealed with this user's key like every kedb cache
    (:func:`kedb.core.load.cache.read_sealed`), and Jinja drops an entry whose template source changed."""

    def __init__(self, root: Path) -> None:
        self.dir = Path(root) / CACHE_DIR / "jinja"

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        if not cache_enabled():
            return
        data = read_sealed(self.dir / f"{bucket.key}.bin", f"{CACHE_DIR}/jinja/{bucket.key}.bin")
        if data is not None:
            bucket.bytecode_from_string(data)

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        if cache_enabled():
            with contextlib.suppress(OSError, ValueError):
                write_sealed(self.dir / f"{bucket.key}.bin", bucket.bytecode_to_string())


def _environment(
    dirs: list[Path], globals_: dict[str, Any] | None, finalize: Callable[[Any], Any], cache: jinja2.BytecodeCache | None
) -> jinja2.Environment:
    env = jinja2.Environment(
        bytecode_cache=cache,
        loader=jinja2.FileSystemLoader([str(d) for d in dirs]),
        autoescape=True,
        finalize=finalize,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(md=md_inline, mdblock=md_block, h=html_text, code=_code, iso=present.day, days=present.days, percent=present.share)
    env.globals.update(globals_ or {})
    return env


def md_environment(
    dirs: list[Path], globals_: dict[str, Any] | None = None, cache: jinja2.BytecodeCache | None = None
) -> jinja2.Environment:
    """For ``*.md.j2``: values escaped as inert Markdown."""
    return _environment(dirs, globals_, _md_finalize, cache)


def html_environment(
    dirs: list[Path], globals_: dict[str, Any] | None = None, cache: jinja2.BytecodeCache | None = None
) -> jinja2.Environment:
    """For ``*.html.j2``: values HTML-escaped."""
    env = _environment(dirs, globals_, _html_finalize, cache)
    env.filters["iso"] = _html_day
    env.filters["ticks"] = code_spans
    return env
