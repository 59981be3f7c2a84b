"""``kedb tickets import``/``audit``, ``kedb candidates`` and ``kedb kpi``: thin commands over :mod:`kedb.tickets`.

Like ``cli/main.py``, only the ``cli`` package prints and picks exit codes (0 fine, 1 bad input, 2 usage or
environment problems); the work is done by one function each.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import click

from ..core.errors import FindingsError
from ..core.sources import SOURCES
from ..tickets.progress import phase
from .errors import handle_errors as _handle_errors
from .progress import progress


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
@click.option(
    "--strict",
    is_flag=True,
    help="Refuse an export from which a KPI of content/kpis.yml cannot be computed (use it in CI and scheduled jobs).",
)
@click.pass_obj
@_handle_errors(interrupted="interrupted; nothing was imported, the ticket store is as it was")
def import_(root: Path, file: Path, source: str, map_file: Path | None, append: bool, strict: bool) -> None:
    """Read a CSV or JSON export into .kedb/tickets.duckdb and say what was understood: the column behind each
    field, the columns not read, near misses for missing fields and the figures that will be n/a.
    Unreadable rows are listed and nothing is written."""
    from ..check.run import ensure_kb
    from ..tickets.import_report import report
    from ..tickets.importer import import_export

    with progress("tickets import") as shown:
        r = import_export(ensure_kb(root), file, source, map_file, append=append, strict=strict, progress=shown)
    for line in report(r, _rel(root, r.store)):
        click.echo(line)


SHOWN_LISTED = 15


def _listed(title: str, items: tuple[Any, ...], show_all: bool, what: str) -> list[str]:
    if not items:
        return []
    shown = items if show_all else items[:SHOWN_LISTED]
    more = "" if len(shown) == len(items) else f", {len(shown)} shown: --all lists every one"
    out = [f"{title}: {len(items):,}{more}"]
    for t in shown:
        figure = f"{t.sla_used:6.1f} % of the SLA used" if what == "sla" else f"no update for {t.idle_hours:8.1f} h"
        out.append(f"  {t.id:<16} {t.priority or '-':<3} {figure}  {t.age_hours:8.1f} h open  {t.stage or '-'} / {t.group or '-'}")
    return out


@tickets.command("audit")
@click.option(
    "--as-of",
    "as_of",
    metavar="DATE",
    help="Audit the tickets as they were at the end of this day (default: the last day the export covers).",
)
@click.option("--write", is_flag=True, help="Store the aggregates as content/audits/YYYY-MM-DD.yml.")
@click.option("--compare", nargs=2, metavar="A B", help="Show the movement from stored audit A to B (dates in content/audits/ or paths).")
@click.option(
    "--all", "show_all", is_flag=True, help="List every at-risk, past-SLA and stalled ticket (ids for the desk: never stored or published)."
)
@click.pass_obj
@_handle_errors
def audit(root: Path, as_of: str | None, write: bool, compare: tuple[str, str] | None, show_all: bool) -> None:
    """Flow audit: open-ticket ages, SLA at risk, progression per status and group, bounces, chases, stalls, reopens."""
    from ..check.run import ensure_kb
    from ..core.audits import compare as compare_audits
    from ..core.load.stored import read_audit as read
    from ..core.load.stored import write_audit
    from ..tickets.audit import compute
    from ..tickets.audit_report import comparison, report
    from ..tickets.store import open_store

    if compare:
        if as_of or write or show_all:
            raise click.UsageError("--compare reads two stored audits: it takes no --as-of, --write or --all")
        root = ensure_kb(root)
        for line in comparison(compare_audits(read(root, compare[0]), read(root, compare[1]))):
            click.echo(line)
        return
    try:
        day = date.fromisoformat(as_of) if as_of else None
    except ValueError:
        raise click.BadParameter(f"'{as_of}' is not a date (YYYY-MM-DD)", param_hint="--as-of") from None
    with progress("tickets audit") as shown:
        with phase(shown, "checking the KB"):
            checked = _checked_report(ensure_kb(root), write)
        kb = checked.kb
        if kb.program.progression is None and (kb.root / "content" / "progression.yml").is_file():
            bad = [f.format() for f in checked.findings if f.path == "content/progression.yml"]
            raise FindingsError("\n".join([*bad, "content/progression.yml cannot be used: fix it first (nothing was audited)"]))
        with open_store(kb.root) as (con, info), phase(shown, "auditing the flow", con) as ph:
            run = compute(con, kb, info, day)
            ph.detail = f"as of {run.audit.as_of}"
    for note in run.notes:
        click.echo(f"note: {note}")
    for line in report(run.audit, shown_at_risk=0):
        click.echo(line)
    for line in _listed("at risk of breaching the SLA (most urgent first)", run.at_risk, show_all, "sla"):
        click.echo(line)
    for line in _listed("past their SLA and still open", run.breached, show_all, "sla"):
        click.echo(line)
    for line in _listed("stalled (longest without an update first)", run.stalled, show_all, "idle"):
        click.echo(line)
    if write:
        command = f"kedb tickets audit --as-of {run.audit.as_of} --write"
        path = write_audit(kb.root, run.audit, command)
        click.echo(f"wrote {_rel(kb.root, path)}")


@click.command()
@click.option("--write", is_flag=True, help="Write a draft PRB record (status candidate) for each proposed candidate.")
@click.option("--since", metavar="DATE", help="Only windows that end on or after this date (YYYY-MM-DD).")
@click.option("--service", help="Service for drafts whose tickets name no service from content/services.yml.")
@click.pass_obj
@_handle_errors
def candidates(root: Path, write: bool, since: str | None, service: str | None) -> None:
    """List problem candidates: recurring signatures that meet a rule of content/recurrence.yml, with their
    figures, up to ten ticket ids and the next step."""
    from ..authoring.scaffold import next_id
    from ..check.run import ensure_kb, today
    from ..tickets.candidates import find
    from ..tickets.drafts import write as write_drafts
    from ..tickets.store import open_store
    from .ticketsfmt import candidate_lines

    try:
        since_day = date.fromisoformat(since) if since else None
    except ValueError:
        raise click.BadParameter(f"'{since}' is not a date (YYYY-MM-DD)", param_hint="--since") from None
    with progress("candidates") as shown:
        with phase(shown, "checking the KB"):
            kb = _checked_kb(ensure_kb(root), write)
        with open_store(kb.root) as (con, info), phase(shown, "finding recurring signatures", con) as ph:
            rep = find(con, kb, info.columns, since_day)
            ph.detail = f"{len(rep.candidates):,} meet a rule"
    first = int(next_id(kb.root, "PRB").split("-")[1])
    for line in candidate_lines(rep, [f"PRB-{first + i:04d}" for i in range(len(rep.proposed))]):
        click.echo(line)
    if write and rep.proposed:
        for path in write_drafts(kb, rep.proposed, info, today(), service):
            click.echo(f"wrote {_rel(kb.root, path)}")


@click.command()
@click.option("--period", required=True, metavar="YYYY-MM", help="The month to compute.")
@click.option("--write", is_flag=True, help="Store the figures as content/kpi/YYYY-MM.yml.")
@click.pass_obj
@_handle_errors
def kpi(root: Path, period: str, write: bool) -> None:
    """Compute the KPIs of a month from the imported tickets and the problem records, each beside its target
    and baseline; a month the export covers only in part is marked partial."""
    from ..check.run import ensure_kb
    from ..tickets.kpi import compute, period_bounds
    from ..tickets.kpi import write as write_snapshot
    from ..tickets.store import open_store
    from .ticketsfmt import kpi_lines

    period_bounds(period)
    with progress("kpi") as shown:
        with phase(shown, "checking the KB"):
            kb = _checked_kb(ensure_kb(root), write)
        with open_store(kb.root) as (con, info), phase(shown, f"computing {period}", con) as ph:
            snap = compute(con, kb, info, period)
            ph.detail = snap.coverage.text if snap.coverage else "the whole month"
    for line in kpi_lines(kb, snap, info):
        click.echo(line)
    if write:
        path = write_snapshot(kb, snap, f"kedb kpi --period {period} --write")
        click.echo(f"wrote {_rel(kb.root, path)}")
