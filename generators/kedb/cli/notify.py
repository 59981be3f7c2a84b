"""``kedb notify``: escalation cards for new problem candidates and tickets past the SLA card threshold.

The cards are built by :mod:`kedb.tickets.notify`, read by :mod:`kedb.cli.notifyfmt` and posted by
:mod:`kedb.cli.webhook`, which also keeps ``.kedb/notified.json``, the ids of the cards a webhook
accepted: a card is *new* until then, and ``--all`` takes every current card again.
"""

from __future__ import annotations

import json
import os
from datetime import date
from pathlib import Path
from typing import Any

import click

from ..core import present
from ..core.errors import EnvironmentProblem, FindingsError, UsageError
from ..tickets.progress import phase
from . import webhook as W
from .errors import handle_errors as _handle_errors
from .progress import progress
from .tickets import _checked_report


def _usable(checked: Any) -> None:
    """A policy file that is there but broken must not read as a missing one (no cards would be as wrong as false ones)."""
    kb = checked.kb
    for path, model in (
        ("content/progression.yml", kb.program.progression),
        ("content/triage.yml", kb.program.triage),
        ("content/decisions.yml", kb.program.decisions),
    ):
        if model is None and (kb.root / path).is_file():
            bad = [f.format() for f in checked.findings if f.path == path]
            raise FindingsError("\n".join([*bad, f"{path} cannot be used: fix it first (run `kedb check`); nothing was sent"]))


def _day(as_of: str | None) -> tuple[date | None, str]:
    """The day of the cards and where it came from: --as-of, else SOURCE_DATE_EPOCH, else the data (never the clock)."""
    from ..check.run import today

    if as_of:
        try:
            return date.fromisoformat(as_of), "--as-of"
        except ValueError:
            raise click.BadParameter(f"'{as_of}' is not a date (YYYY-MM-DD)", param_hint="--as-of") from None
    if os.environ.get("SOURCE_DATE_EPOCH", "").strip().isdigit():
        return today(), "SOURCE_DATE_EPOCH"
    return None, "the data"


@click.command()
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["markdown", "json"]),
    default="markdown",
    show_default=True,
    help="What is printed without a webhook, or with --dry-run.",
)
@click.option(
    "--as-of",
    "as_of",
    metavar="DATE",
    help="Build the cards as of the end of this day (default: SOURCE_DATE_EPOCH, else the last day the export covers).",
)
@click.option(
    "--webhook",
    metavar="URL",
    help=f"Post the new cards to this chat webhook (https://; default: ${W.ENV}, which keeps the URL out of logs).",
)
@click.option("--dry-run", is_flag=True, help="Print what would be posted; post nothing and record nothing.")
@click.option("--all", "resend", is_flag=True, help="Every current card, also those sent before.")
@click.option(
    "--threshold", metavar="PCT", type=float, default=90.0, show_default=True, help="Card tickets at or past this % of an SLA timer."
)
@click.option(
    "--timeout", metavar="SECONDS", type=click.FloatRange(0.1, 300), default=W.TIMEOUT, show_default=True, help="Seconds a post may take."
)
@click.pass_obj
@_handle_errors
def notify(
    root: Path, fmt: str, as_of: str | None, webhook: str | None, dry_run: bool, resend: bool, threshold: float, timeout: float
) -> None:
    """Escalation cards (what, owner, deadline, blast radius, next checkpoint) for new problem candidates and open
    tickets past 90 % of an SLA timer: printed, or posted to a chat webhook as JSON with a Markdown text."""
    from ..check.run import ensure_kb
    from ..tickets.notify import build
    from ..tickets.store import open_store
    from .notifyfmt import markdown, payload

    day, origin = _day(as_of)
    given = webhook if webhook is not None else os.environ.get(W.ENV, "")
    url = W.check_url(given, "--webhook" if webhook is not None else W.ENV) if given.strip() else None
    root = ensure_kb(root)
    sent = W.Sent.read(root)
    with progress("notify") as shown:
        with phase(shown, "checking the KB"):
            checked = _checked_report(root, False)
        _usable(checked)
        kb = checked.kb
        with open_store(kb.root) as (con, info), phase(shown, "building the cards", con) as ph:
            try:
                found = build(con, kb, info, day, threshold)
            except UsageError as exc:
                raise UsageError(f"{origin} sets the day to {day}: {exc}" if origin == "SOURCE_DATE_EPOCH" else str(exc)) from None
            ph.detail = f"{len(found.cards):,} as of {found.as_of}"
    for note in found.notes:
        click.echo(f"kedb: note: {note}", err=True)
    before = len([c for c in found.cards if c.id in sent.cards])
    new = list(found.cards) if resend else [c for c in found.cards if c.id not in sent.cards]
    skipped = 0 if resend else before
    batches = [new[i : i + W.BATCH] for i in range(0, len(new), W.BATCH)]

    def body(i: int, batch: list[Any]) -> dict[str, Any]:
        return payload(found.as_of, batch, found.threshold, skipped, (i + 1, len(batches)))

    if url is None or dry_run:
        if fmt == "json":
            shown_bodies = [body(i, b) for i, b in enumerate(batches)] if url else [payload(found.as_of, new, found.threshold, skipped)]
            for b in shown_bodies or [payload(found.as_of, [], found.threshold, skipped)]:
                click.echo(json.dumps(b, indent=2, ensure_ascii=False))
        else:
            click.echo(markdown(found.as_of, new, found.threshold, skipped), nl=False)
        if url is not None:
            click.echo(
                f"kedb: dry run: {present.count(len(new), 'card')} in {present.count(len(batches), 'post')} would go to {W.where(url)}; nothing was sent",
                err=True,
            )
        return
    sent.keep_current({c.id for c in found.cards}, found.kinds)
    done = 0
    for i, batch in enumerate(batches):
        try:
            W.post(url, body(i, batch), timeout)
        except EnvironmentProblem as exc:
            kept = (
                f"; the {done:,} cards posted before it are recorded in {W.STORE_DIR}/{W.SENT_FILE}, the other {len(new) - done:,} "
                "are sent next time"
                if done
                else "; nothing was recorded as sent"
            )
            raise EnvironmentProblem(f"{exc}{kept}") from None
        sent.record((c.id for c in batch), found.as_of)
        done += len(batch)
    if not batches:
        sent.write()
        click.echo(f"nothing new to post as of {found.as_of} ({present.count(before, 'card')} sent before; --all sends them again)")
        return
    click.echo(
        f"posted {present.count(done, 'card')} to {W.where(url)} in {len(batches)} {'post' if len(batches) == 1 else 'posts'} as of {found.as_of}"
    )
