"""``kedb mcp``: a thin command over :mod:`kedb.search.assistant` (the Model Context Protocol server).

While the server runs, stdout carries the protocol only: this command writes its one line of
notice, like every error, to stderr.
"""

from __future__ import annotations

from pathlib import Path

import click

from ..core.audiences import AUDIENCES
from .errors import handle_errors as _handle_errors


@click.command()
@click.option(
    "--audience",
    type=click.Choice(AUDIENCES),
    help="The edition to answer for, as `kedb build` builds it. [default: internal; with --site: the site's]",
)
@click.option("--tenant", help="Answer for this tenant's edition: records for all tenants and for this one (an id from content/kedb.yml).")
@click.option(
    "--site",
    "site_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Answer from this built site (its api/records.json and search index) instead of the KB: no check or git at start.",
)
@click.option("--allow-shallow", is_flag=True, help="Go on in a shallow clone, saying that history is partial.")
@click.pass_obj
@_handle_errors
def mcp(root: Path, audience: str | None, tenant: str | None, site_dir: Path | None, allow_shallow: bool) -> None:
    """Serve the KB to AI assistants: a Model Context Protocol server on stdin/stdout.

    Tools: search (text -> ranked records), get_record (id -> the record with its workaround
    steps and text) and suggest_for_ticket (a ticket's text -> the known errors it may be, with
    the codes and terms that matched and the steps to follow). It answers for one edition, as
    the site shows it: records another edition hides are not found. An MCP client starts it,
    e.g. {"command": "kedb", "args": ["--root", "/path/to/kb", "mcp", "--audience", "internal"]}.
    """
    from ..search.assistant import Desk, serve

    if site_dir is not None:
        desk = Desk.from_site(site_dir, audience, tenant)
    else:
        from ..build.context import make
        from ..site.render import published

        ctx = make(root, audience=audience or "internal", tenant=tenant, allow_shallow=allow_shallow)
        site = published(ctx.kb.root)
        desk = Desk.from_context(ctx, site.record_url, site.name)
    c = desk.catalogue
    click.echo(f"kedb: MCP server for the {c.edition} edition of {c.kb} ({len(c.records)} records) on stdin/stdout", err=True)
    serve(desk)
