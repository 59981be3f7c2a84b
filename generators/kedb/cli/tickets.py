"""``kedb tickets import``/``audit``, ``kedb candidates`` and ``kedb kpi``: thin commands over :mod:`kedb.tickets`.

Like ``cli/main.py``, only the ``cli`` package prints and picks exit codes (0 fine, 1 bad input, 2 usage or
environment problems); the work is done by one function each.
"""

from __future__ import annotations

import os
import subprocess
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


def _listed(title: str, items: tuple[Any, ...], show_all: bool, what: str) -> list[str]:
    if not items:
        return []
    from ..tickets.audit_report import cut

    head, shown = cut(title, items, show_all)
    out = [head]
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
    "--all",
    "show_all",
    is_flag=True,
    help="List every at-risk, past-SLA, stalled ticket and every ticket at or past an SLA threshold (ids for the desk: never "
    "stored or published).",
)
@click.option("--tenant", metavar="ID", help="Audit only this tenant's tickets (a tenant id of content/kedb.yml); not with --write.")
@click.pass_obj
@_handle_errors
def audit(root: Path, as_of: str | None, write: bool, compare: tuple[str, str] | None, show_all: bool, tenant: str | None) -> None:
    """Flow audit: open-ticket ages, SLA timers against their thresholds, progression per status and group, bounces,
    chases, stalls, reopens and intake completeness."""
    from ..check.run import ensure_kb
    from ..core.audits import compare as compare_audits
    from ..core.load.stored import read_audit as read
    from ..core.load.stored import write_audit
    from ..tickets.audit import compute
    from ..tickets.audit_report import comparison, on_thresholds, report
    from ..tickets.store import open_store
    from ..tickets.tenants import scoped

    if tenant and write:
        raise click.UsageError("a stored audit is the whole desk's (content/audits/ has no tenant): --tenant prints only, without --write")
    if compare:
        if as_of or write or show_all:
            raise click.UsageError("--compare reads two stored audits: it takes no --as-of, --write or --all")
        if tenant:
            raise click.UsageError("--compare reads two stored audits, which are the whole desk's: it takes no --tenant")
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
        for path, policy in (("content/progression.yml", kb.program.progression), ("content/triage.yml", kb.program.triage)):
            if policy is None and (kb.root / path).is_file():  # a broken policy must not read as a missing one
                bad = [f.format() for f in checked.findings if f.path == path]
                raise FindingsError("\n".join([*bad, f"{path} cannot be used: fix it first (nothing was audited)"]))
        with open_store(kb.root) as (con, info), phase(shown, "auditing the flow", con) as ph:
            with scoped(con, kb, info.columns, tenant) as scope:  # only the tenant's tickets and their rows
                run = compute(con, kb, info, day)
            ph.detail = f"as of {run.audit.as_of}"
    if scope is not None:
        click.echo(f"{scope.text()}; the days covered are the whole export's")
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
    for line in on_thresholds(run.on_thresholds, run.thresholds, show_all):
        click.echo(line)
    if write:
        command = f"kedb tickets audit --as-of {run.audit.as_of} --write"
        path = write_audit(kb.root, run.audit, command)
        click.echo(f"wrote {_rel(kb.root, path)}")


def _day(value: str | None, option: str) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        raise click.BadParameter(f"'{value}' is not a date (YYYY-MM-DD)", param_hint=option) from None


def _decided_on(as_of: date | None) -> date:
    """The day of a decision: ``--as-of``, else ``SOURCE_DATE_EPOCH``; never the clock (the log is reviewed and replayed)."""
    from ..check.run import today

    if as_of is None and not os.environ.get("SOURCE_DATE_EPOCH", "").isdigit():
        raise click.UsageError("say the day of the decision: --as-of YYYY-MM-DD (or set SOURCE_DATE_EPOCH)")
    day = as_of or today()
    if day > today():
        raise click.BadParameter(f"{day} is after today ({today()}): a decision is dated the day it is made", param_hint="--as-of")
    return day


def _decider(kb: Any, by: str | None) -> str:
    """Who decides: ``--by`` (a handle), else git's user.name and user.email; either must be a person in content/roles.yml."""
    people = kb.program.people
    if by is not None:
        if by not in people:
            raise click.BadParameter(
                f"'{by}' is not a person in content/roles.yml (handles: {', '.join(sorted(people)) or 'none'})", param_hint="--by"
            )
        return str(by)

    def get(key: str) -> str:
        try:
            out = subprocess.run(["git", "config", "--get", key], cwd=kb.root, capture_output=True, text=True, check=False)
        except OSError:
            return ""
        return out.stdout.strip()

    name, email = get("user.name"), get("user.email")
    person = kb.program.person_by_identity(f"{name} <{email}>") if name or email else None
    if person is None:
        who = (
            f"git's user ({name or '?'} <{email or '?'}>) is not a person in content/roles.yml" if name or email else "git has no user.name"
        )
        raise click.UsageError(f"{who}: pass --by HANDLE")
    return str(person.handle)


@click.command()
@click.option("--write", is_flag=True, help="Write a draft PRB record (status candidate) for each proposed candidate.")
@click.option("--since", metavar="DATE", help="Only windows that end on or after this date (YYYY-MM-DD).")
@click.option("--service", help="Service for drafts whose tickets name no service from content/services.yml.")
@click.option(
    "--as-of", "as_of", metavar="DATE", help="Read the tickets opened by the end of this day; the day of a decision (YYYY-MM-DD)."
)
@click.option("--reject", metavar="SIGNATURE", help="Log the candidate as a false positive in content/decisions.yml (needs --reason).")
@click.option("--reinstate", metavar="SIGNATURE", help="Lift a standing rejection: a manual override, logged (needs --reason).")
@click.option("--missed", metavar="PRB-ID", help="Log a problem raised by hand that no rule proposed: a false negative (needs --reason).")
@click.option("--reason", help="Why, for the decision log.")
@click.option("--by", metavar="HANDLE", help="Who decides (default: git's user.name and user.email, found in content/roles.yml).")
@click.pass_obj
@_handle_errors
def candidates(
    root: Path,
    write: bool,
    since: str | None,
    service: str | None,
    as_of: str | None,
    reject: str | None,
    reinstate: str | None,
    missed: str | None,
    reason: str | None,
    by: str | None,
) -> None:
    """List problem candidates: recurring signatures that meet a rule of content/recurrence.yml, with their
    figures, up to ten ticket ids and the next step; or log a decision on one in content/decisions.yml."""
    from ..authoring.scaffold import next_id
    from ..check.run import ensure_kb, today
    from ..tickets import decisions
    from ..tickets.candidates import find
    from ..tickets.drafts import write as write_drafts
    from ..tickets.store import open_store
    from .ticketsfmt import candidate_lines

    deciding = [o for o, v in (("--reject", reject), ("--reinstate", reinstate), ("--missed", missed)) if v]
    if len(deciding) > 1:
        raise click.UsageError(f"one decision at a time: {' and '.join(deciding)} were both given")
    if deciding and (write or since or service):
        raise click.UsageError(f"{deciding[0]} logs a decision: it takes no --write, --since or --service")
    if deciding and not (reason or "").strip():
        raise click.UsageError(f"{deciding[0]} needs --reason: the log says why")
    if not deciding and (reason or by):
        raise click.UsageError("--reason and --by go with --reject, --reinstate or --missed")
    since_day, day = _day(since, "--since"), _day(as_of, "--as-of")
    decided = _decided_on(day) if deciding else None
    why = (reason or "").strip()
    rep = plan = None
    with progress("candidates") as shown:
        with phase(shown, "checking the KB"):
            checked = _checked_report(ensure_kb(root), write or bool(deciding))
        kb = checked.kb
        if kb.program.decisions is None and (kb.root / "content" / "decisions.yml").is_file():
            bad = [f.format() for f in checked.findings if f.path == "content/decisions.yml"]
            raise FindingsError(
                "\n".join([*bad, "content/decisions.yml cannot be read: fix it first (rejected signatures would come back)"])
            )
        if decided is not None and reinstate:
            plan = decisions.plan_reinstatement(kb, reinstate, why, _decider(kb, by), decided)
        elif decided is not None and missed:
            plan = decisions.plan_miss(kb, missed, why, _decider(kb, by), decided)
        else:
            with open_store(kb.root) as (con, info), phase(shown, "finding recurring signatures", con) as ph:
                rep = find(con, kb, info.columns, since_day, decided or day)
                ph.detail = f"{len(rep.candidates):,} meet a rule"
            if decided is not None and reject:
                plan = decisions.plan_rejection(kb, rep, reject, why, _decider(kb, by), decided)
    if plan is not None:
        path = decisions.write(kb, plan)
        d = plan.decision
        click.echo(f"wrote {_rel(kb.root, path)}: {d.kind} {d.signature or d.problem} ({d.decided_on}, by {d.by})")
        for rec in plan.withdraw:
            click.echo(f"deleted the candidate draft {rec.source.path} (git keeps it): a rejected candidate leaves no problem record")
        click.echo("commit it and open a merge request: the decision is reviewed like any change to content/")
        return
    if rep is None:
        return
    first = int(next_id(kb.root, "PRB").split("-")[1])
    for line in candidate_lines(rep, [f"PRB-{first + i:04d}" for i in range(len(rep.proposed))]):
        click.echo(line)
    if write and rep.proposed:
        for path in write_drafts(kb, rep.proposed, info, day or today(), service):
            click.echo(f"wrote {_rel(kb.root, path)}")


@click.command()
@click.option("--period", metavar="YYYY-MM", help="The month to compute.")
@click.option("--week", metavar="YYYY-Www", help="The ISO week to compute (Monday to Monday), instead of a month.")
@click.option(
    "--tenant", metavar="ID", help="Only this tenant's tickets (a tenant id of content/kedb.yml, matched in the export's customer field)."
)
@click.option(
    "--write", is_flag=True, help="Store the figures (content/kpi/YYYY-MM.yml, weeks/YYYY-Www.yml, under tenants/ID/ for a tenant)."
)
@click.pass_obj
@_handle_errors
def kpi(root: Path, period: str | None, week: str | None, tenant: str | None, write: bool) -> None:
    """Compute the KPIs of a month or an ISO week from the imported tickets and the problem records, each beside its
    target and baseline, for the whole desk or one tenant; a period the export covers only in part is marked partial."""
    from ..check.run import ensure_kb
    from ..core.snapshots import is_week, period_bounds
    from ..tickets.kpi import compute
    from ..tickets.kpi import write as write_snapshot
    from ..tickets.store import open_store
    from .ticketsfmt import kpi_lines

    if (period is None) == (week is None):
        raise click.UsageError("give one period: --period YYYY-MM or --week YYYY-Www")
    if period is not None and is_week(period):
        raise click.BadParameter(f"'{period}' is an ISO week: give it as --week {period}", param_hint="--period")
    if week is not None and not is_week(week):
        raise click.BadParameter(f"'{week}' is not an ISO week; write it as YYYY-Www (e.g. 2026-W35)", param_hint="--week")
    when = period or week or ""
    period_bounds(when)
    with progress("kpi") as shown:
        with phase(shown, "checking the KB"):
            kb = _checked_kb(ensure_kb(root), write)
        with open_store(kb.root) as (con, info), phase(shown, f"computing {when}", con) as ph:
            snap, scope = compute(con, kb, info, when, tenant)
            ph.detail = snap.coverage.text if snap.coverage else "the whole week" if week else "the whole month"
    for line in kpi_lines(kb, snap, info, scope.text() if scope else None):
        click.echo(line)
    if write:
        flags = f"--week {week}" if week else f"--period {period}"
        path = write_snapshot(kb, snap, f"kedb kpi {flags}{f' --tenant {tenant}' if tenant else ''} --write")
        click.echo(f"wrote {_rel(kb.root, path)}")
