"""The *Writing records* pages of internal editions: how to write a record, every field of every
file and every rule ``kedb check`` applies.

Problem owners read the reference where they work, in the KB's own site, and it is generated
from the models and the rule registry (:mod:`kedb.core.reference`) at each build, so it always
describes the kedb that built the site. Public and tenant-facing readers never need it: it is
built for the internal audience only.
"""

from __future__ import annotations

from typing import Any

from ..build.context import BuildContext
from ..core import reference
from . import urls

TITLE = "Writing records"


def shown(ctx: BuildContext) -> bool:
    return ctx.info.audience == "internal"


def pages(ctx: BuildContext) -> list[tuple[str, str, str, dict[str, Any]]]:
    """(page src, template, title, template values) of each page; none outside internal editions."""
    if not shown(ctx):
        return []
    services = ctx.kb.program.services.services if ctx.kb.program.services else []
    return [
        (
            urls.WRITING,
            "writing.html.j2",
            TITLE,
            {"kinds": reference.record_kinds(), "service": services[0].id if services else "SERVICE"},
        ),
        (urls.WRITING_FIELDS, "writing-fields.html.j2", "Fields", {"tables": reference.field_tables()}),
        (urls.WRITING_RULES, "writing-rules.html.j2", "Rules", {"families": reference.rule_families()}),
    ]


def nav(ctx: BuildContext) -> list[Any]:
    return [{TITLE: [urls.WRITING, urls.WRITING_FIELDS, urls.WRITING_RULES]}] if shown(ctx) else []
