"""``kedb tickets import``/``audit``, ``kedb candidates`` and ``kedb kpi``: thin commands over :mod:`kedb.tickets`.

Like ``cli/main.py``, only the ``cli`` package prints and picks exit codes (0 fine, 1 bad input, 2 usage or
environment problems); the work is done by one function each.
"""

from __future__ import annotations

import textwrap
from datetime import date
from pathlib import Path
from typing import Any

import click

from ..core import present
from ..core.errors import FindingsError
from ..core.sources import SOURCES
from .errors import handle_errors as _handle_errors


def _rel(root: Path, path: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)


def _checked_report(root: Path, writing: bool) -> Any:
    """The check report; before writing into the KB, it must pass `kedb check` (errors only)."""
    from ..check import run as check_mod
    from ..core.findings import Severity

    report = check_mod.run(root)
    if writing and report.failed():
        n = report.count(Severity.ERROR)
        raise FindingsError(f"kedb check finds {n} error{'s' * (n != 1)} in the KB; fix them first (run `kedb check`): nothing was written")
    return report


def _checked_kb(root: Path, writing: bool) -> Any:
    """The KB; before writing into it, it must pass `kedb check` (errors only)."""
    return _checked_report(root, writing).kb


@click.group()
def tickets() -> None:
    """Ticket exports: import them into the local store (.kedb/, never committed)."""


@tickets.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--source", required=True, type=click.Choice(SOURCES), help="Tool the export comes from (csv: kedb's own column names or --map)."
)
@click.option("--map", "map_file", type=click.Path(dir_okay=False, path_type=Path), help="Mapping file: columns, statuses, date style.")
@click.option("--append", is_flag=True, help="Add to the store instead of replacing it (same source; newer rows win per ticket).")
@click.pass_obj
@_handle_errors(interrupted="interrupted; nothing was imported, the ticket store is as it was")
def import_(root: Path, file: Path, source: str, map_file: Path | None, append: bool) -> None:
    """Read a CSV or JSON export into .kedb/tickets.duckdb; unreadable rows are listed and nothing is written."""
    from ..check.run import ensure_kb
    from ..tickets.importer import import_export

    r = import_export(ensure_kb(root), file, source, map_file, append=append)
    shape = "an event log, collapsed to each ticket's latest state" if r.event_log else "one row per ticket"
    click.echo(f"imported {r.tickets:,} tickets from {r.file} ({r.source}, {r.rows:,} rows: {shape})")
    click.echo(f"opened {r.first} to {r.last}; store {_rel(root, r.store)} holds {r.store_tickets:,} tickets")
    click.echo("columns: " + ", ".join(f"{f}←{'+'.join(c)}" for f, c in r.columns.items()))
    if r.absent:
        click.echo("not in this export: " + ", ".join(r.absent))


@tickets.command("audit")
@click.option("--as-of", "as_of", metavar="DATE", help="Audit the tickets as they were at the end of this day (default: the latest event).")
@click.option("--write", is_flag=True, help="Store the aggregates as content/audits/YYYY-MM-DD.yml.")
@click.option("--compare", nargs=2, metavar="A B", help="Show the movement from stored audit A to B (dates in content/audits/ or paths).")
@click.pass_obj
@_handle_errors
def audit(root: Path, as_of: str | None, write: bool, compare: tuple[str, str] | None) -> None:
    """Flow audit: open-ticket ages, SLA at risk, progression per status and group, bounces, chases, stalls, reopens."""
    from ..check.run import ensure_kb
    from ..core.audits import compare as compare_audits
    from ..core.load.stored import read_audit as read
    from ..core.load.stored import write_audit
    from ..tickets.audit import compute
    from ..tickets.audit_report import comparison, report
    from ..tickets.store import open_store

    if compare:
        if as_of or write:
            raise click.UsageError("--compare reads two stored audits: it takes no --as-of or --write")
        root = ensure_kb(root)
        for line in comparison(compare_audits(read(root, compare[0]), read(root, compare[1]))):
            click.echo(line)
        return
    try:
        day = date.fromisoformat(as_of) if as_of else None
    except ValueError:
        raise click.BadParameter(f"'{as_of}' is not a date (YYYY-MM-DD)", param_hint="--as-of") from None
    checked = _checked_report(ensure_kb(root), write)
    kb = checked.kb
    if kb.program.progression is None and (kb.root / "content" / "progression.yml").is_file():
        bad = [f.format() for f in checked.findings if f.path == "content/progression.yml"]
        raise FindingsError("\n".join([*bad, "content/progression.yml cannot be used: fix it first (nothing was audited)"]))
    with open_store(kb.root) as (con, info):
        result = compute(con, kb, info, day)
    for line in report(result):
        click.echo(line)
    if write:
        command = f"kedb tickets audit --as-of {result.as_of} --write"
        path = write_audit(kb.root, result, command)
        click.echo(f"wrote {_rel(kb.root, path)}")


@click.command()
@click.option("--write", is_flag=True, help="Write a draft PRB record (status candidate) for each proposed candidate.")
@click.option("--since", metavar="DATE", help="Only windows that end on or after this date (YYYY-MM-DD).")
@click.option("--service", help="Service for drafts whose tickets name no service from content/services.yml.")
@click.pass_obj
@_handle_errors
def candidates(root: Path, write: bool, since: str | None, service: str | None) -> None:
    """List problem candidates: recurring signatures that meet a rule of content/recurrence.yml."""
    from ..check.run import ensure_kb, today
    from ..tickets.candidates import find
    from ..tickets.drafts import write as write_drafts
    from ..tickets.store import open_store

    try:
        since_day = date.fromisoformat(since) if since else None
    except ValueError:
        raise click.BadParameter(f"'{since}' is not a date (YYYY-MM-DD)", param_hint="--since") from None
    kb = _checked_kb(ensure_kb(root), write)
    with open_store(kb.root) as (con, info):
        rep = find(con, kb, since_day)
    click.echo(
        f"{rep.tickets:,} tickets, {rep.signatures:,} signatures ({':'.join(rep.fields)}); "
        f"{rep.without_signature:,} tickets without any signature part"
    )
    click.echo(f"proposed problem candidates: {len(rep.proposed)}")
    for c in rep.proposed:
        w = c.trigger
        click.echo(
            f"  {c.signature}\n    rule {w.rule}: {w.tickets} tickets in {w.window_days} days ({w.first_seen} to {w.last_seen}), "
            f"{w.distinct} {w.distinct_by}; {c.total} with this signature in all"
        )
    click.echo(f"attached to existing records: {len(rep.attached)}")
    for c in rep.attached:
        w = c.trigger
        click.echo(
            f"  {c.signature} → {', '.join(c.covered_by)}: {w.tickets} tickets in {w.window_days} days to {w.last_seen} (rule {w.rule})"
        )
    if write and rep.proposed:
        for path in write_drafts(kb, rep.proposed, info, today(), service):
            click.echo(f"wrote {_rel(kb.root, path)}")


@click.command()
@click.option("--period", required=True, metavar="YYYY-MM", help="The month to compute.")
@click.option("--write", is_flag=True, help="Store the figures as content/kpi/YYYY-MM.yml.")
@click.pass_obj
@_handle_errors
def kpi(root: Path, period: str, write: bool) -> None:
    """Compute the KPIs of a month from the imported tickets and the problem records."""
    from ..check.run import ensure_kb
    from ..tickets.kpi import compute, period_bounds
    from ..tickets.kpi import write as write_snapshot
    from ..tickets.store import open_store

    period_bounds(period)
    kb = _checked_kb(ensure_kb(root), write)
    with open_store(kb.root) as (con, info):
        snap = compute(con, kb, info, period)
    click.echo(f"{period}: {info.tickets:,} tickets in the store ({info.system}, opened {info.first} to {info.last})")
    for v in snap.values:
        shown = present.quantity(v.value, v.unit, decimals=2, none="n/a")
        frac = f" ({present.number(v.numerator, decimals=2)} / {present.number(v.denominator, decimals=2)})" if v.denominator else ""
        click.echo(f"  {v.id:<26} {shown}{frac}")
        click.echo(textwrap.fill(v.basis, 110, initial_indent=" " * 4, subsequent_indent=" " * 4))
    if write:
        path = write_snapshot(kb, snap, f"kedb kpi --period {period} --write")
        click.echo(f"wrote {_rel(kb.root, path)}")
