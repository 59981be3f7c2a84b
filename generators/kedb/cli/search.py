"""``kedb search``: the site's search, in a terminal and for scripts.

The text to search is the arguments, or standard input with ``-`` (a pasted log can be long).
Without ``--site`` the records are read from the KB (loaded and checked as for ``kedb build``,
without git history: search needs none), so the answer is never older than the files; with
``--site DIR`` it comes from the index a build wrote there, which is faster on a large KB. Both
rank with :mod:`kedb.search.engine`, as the site's search box does.

Exit codes, as ``grep``'s: 0 when a record matched, 1 when none did, 2 for a usage or environment
problem. An agent searching must not be stopped by one broken record: a KB whose check has
errors is searched all the same (a file that fails to load holds no record, so nothing of it can
show), and the files with errors are named on stderr.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ..core.errors import UsageError
from ..core.findings import shown
from ..search.rules import STATUS_MARK
from .errors import handle_errors

if TYPE_CHECKING:
    from ..build.context import BuildContext
    from ..search.engine import Engine

MAX_QUERY_CHARS = 100_000  # a pasted log of a few pages; beyond that, paste the part that matters


@click.command()
@click.argument("text", nargs=-1)
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True, help="text for people, json for scripts."
)
@click.option(
    "--audience",
    type=click.Choice(["public", "internal"]),
    help="The edition to search (default: internal, or the one --site was built for).",
)
@click.option("--tenant", help="Search the edition of this tenant (its records and those for all tenants).")
@click.option(
    "--site", "site_dir", type=click.Path(file_okay=False, path_type=Path), help="Answer from the index a build wrote here (e.g. site/)."
)
@click.option("--limit", type=click.IntRange(1, 100), default=10, show_default=True, help="How many results to list.")
@click.pass_obj
@handle_errors
def search(
    root: Path, text: tuple[str, ...], fmt: str, audience: str | None, tenant: str | None, site_dir: Path | None, limit: int
) -> None:
    """Find the known errors that match pasted text (an error message, a log line, a symptom); use - to read standard input."""
    query = _query(text)
    engine = _engine(root, audience, tenant, site_dir)
    hits, total = engine.search(query, limit)
    edition = engine.edition
    if fmt == "json":
        data = {
            "query": query,
            "edition": edition,
            "total": total,
            "results": [
                {
                    "id": h.id,
                    "title": h.title,
                    "status": h.status,
                    "kind": h.kind,
                    "url": h.url,
                    "score": h.score,
                    "matched": list(h.matched),
                    "successor": h.successor,
                }
                for h in hits
            ],
        }
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        sys.exit(0 if hits else 1)
    if not hits:
        click.echo("no matching records")
        sys.exit(1)
    for h in hits:
        mark = STATUS_MARK.get(h.status, "")
        successor = f"  → use {h.successor}" if h.successor else ""
        click.echo(shown(f"{h.id}  {mark}{h.title}{successor}"))
        details = [h.status, h.kind, h.url]
        if h.matched:
            details.append("matched: " + ", ".join(h.matched))
        click.echo(shown("    " + " · ".join(details)))
    click.echo(f"{len(hits)} of {total} matching records" if total > len(hits) else f"{total} matching record{'s' if total != 1 else ''}")


def _query(text: tuple[str, ...]) -> str:
    if text == ("-",):
        if sys.stdin is None or sys.stdin.isatty():
            raise UsageError("kedb search -: paste the text on standard input (e.g. `pbpaste | kedb search -`)")
        query = sys.stdin.read(MAX_QUERY_CHARS + 1)
    else:
        query = " ".join(text)
    if not query.strip():
        raise UsageError('nothing to search: give the text, e.g. kedb search "0x80070005", or - to read standard input')
    if len(query) > MAX_QUERY_CHARS:
        raise UsageError(f"the text to search is longer than {MAX_QUERY_CHARS:,} characters; paste the lines that carry the error")
    return query


def _engine(root: Path, audience: str | None, tenant: str | None, site_dir: Path | None) -> Engine:
    from ..search.engine import Engine

    if site_dir is not None:
        engine = Engine.from_site(site_dir if site_dir.is_absolute() else root / site_dir)
        built = engine.edition
        asked = {"audience": audience or built.get("audience"), "tenant": tenant if tenant is not None else built.get("tenant")}
        if built and (asked["audience"], asked["tenant"]) != (built.get("audience"), built.get("tenant")):
            raise UsageError(
                f"{site_dir} was built for the {_edition(built)} edition, not the {_edition(asked)} one; "
                "build that edition, or search the KB without --site"
            )
        return engine
    return Engine.from_context(_context(root, audience or "internal", tenant))


def _edition(e: dict[str, str | None]) -> str:
    return f"{e.get('audience')}{' ' + str(e['tenant']) if e.get('tenant') else ''}"


def _context(root: Path, audience: str, tenant: str | None) -> BuildContext:
    """The edition's records as the loader reads them (the whole-KB rules and git history are
    not needed to search); files that fail to load are named on stderr."""
    from ..build.context import BuildContext, BuildInfo, build_date, check_edition, fingerprint, select
    from ..check.run import Report, ensure_kb
    from ..core.load.loader import load

    kb, findings = load(ensure_kb(root))
    broken = sorted({f.path for f in findings if f.severity.value == "error"})
    if broken:
        listed = ", ".join(broken[:5]) + (f" and {len(broken) - 5} more" if len(broken) > 5 else "")
        click.echo(shown(f"kedb: note: {len(broken)} file(s) have errors and are not searched ({listed}); run kedb check"), err=True)
    check_edition(kb, audience, tenant)
    info = BuildInfo(
        commit=None,
        date=build_date(kb, None),
        dirty=False,
        audience=audience,
        tenant=tenant,
        partial_history=False,
        fingerprint=fingerprint(kb),
    )
    return BuildContext(select(kb, audience, tenant), Report(kb, tuple(findings)), None, None, info)
