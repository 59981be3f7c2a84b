"""Templates of the site: where they are, and a Jinja environment that escapes by default.

A KB restyles its site without code by adding ``templates/site/`` (page templates, CSS, JS)
and ``templates/overrides/`` (Material theme overrides) to its repository; any file it does
not provide comes from the templates kedb ships (the repository's ``templates/`` in a
checkout, ``kedb/templates/`` in an installed wheel).

MkDocs' Jinja does not autoescape, and our templates write Markdown, where HTML escaping is not
enough (``[x](javascript:...)`` has no ``<``). So every ``{{ value }}`` is escaped as inert
Markdown by ``finalize`` unless it is :class:`~markupsafe.Markup` made by kedb (links, record
bodies rendered by :class:`~kedb.site.text.BodyRenderer`, charts). In a raw-HTML part of a
template use ``{{ value | h }}``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from ..errors import EnvironmentProblem
from .text import html_text, md_block, md_inline


def shipped_templates() -> Path:
    """``templates/`` shipped with kedb (wheel: ``kedb/templates``; checkout: the repository's)."""
    here = Path(__file__).resolve().parent.parent
    for cand in (here / "templates", here.parents[1] / "templates"):
        if (cand / "site").is_dir():
            return cand
    raise EnvironmentProblem("no templates/site/ folder found in the kedb installation")


def template_dirs(root: Path, part: str) -> list[Path]:
    """``templates/<part>`` of the KB first (when it has one), then the shipped one."""
    dirs = [root / "templates" / part, shipped_templates() / part]
    out: list[Path] = []
    for d in dirs:
        if d.is_dir() and d.resolve() not in [o.resolve() for o in out]:
            out.append(d)
    return out


def find_file(root: Path, part: str, name: str) -> Path:
    for d in template_dirs(root, part):
        if (d / name).is_file():
            return d / name
    raise EnvironmentProblem(f"templates/{part}/{name} not found in the KB or in the kedb installation")


def _finalize(value: Any) -> Any:
    if value is None:
        return Markup("")
    if isinstance(value, Markup):
        return value
    if isinstance(value, datetime):
        return Markup(value.date().isoformat())
    return md_inline(value)


def _code(value: Any) -> Markup:
    return Markup("<code>") + html_text(value) + Markup("</code>")


def _iso(value: date | datetime | None) -> str:
    if value is None:
        return ""
    return value.date().isoformat() if isinstance(value, datetime) else value.isoformat()


def _days(n: int | None) -> str:
    return "" if n is None else f"{n} day" if n == 1 else f"{n} days"


def environment(dirs: list[Path], globals_: dict[str, Callable[..., Any] | Any] | None = None) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([str(d) for d in dirs]),
        autoescape=True,  # with finalize below: values are Markdown-escaped, template text is not
        finalize=_finalize,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(md=md_inline, mdblock=md_block, h=html_text, code=_code, iso=_iso, days=_days)
    env.globals.update(globals_ or {})
    return env
