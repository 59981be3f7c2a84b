"""The ``kedb`` command line. Thin: each command calls one function; only this package
(``main``, ``tickets``, ``errors``, ``historyfmt``) prints and chooses exit codes (0 fine, 1 findings at error
level, 2 usage or environment problems)."""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable, Iterator, MutableMapping
from datetime import date
from pathlib import Path

import click

from .. import __version__
from ..core.audiences import AUDIENCES
from . import leave
from .errors import handle_errors as _handle_errors
from .helptext import document, document_one


def _as_of(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"'{value}' is not a date (YYYY-MM-DD)", param_hint="--as-of") from None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--root", type=click.Path(file_okay=False, path_type=Path), default=Path("."), show_default=True, help="Root of the KB repository."
)
@click.version_option(__version__, prog_name="kedb")
@click.pass_context
def main(ctx: click.Context, root: Path) -> None:
    """kedb — a known-error knowledge base kept as code."""
    # GitPython with GIT_PYTHON_REFRESH=quiet (or warn) imports without git, and the commands then
    # fail inside code that reads a failed git call as "no history" (check --approvals passed).
    # kedb imports GitPython only where it needs git, so a missing git must stop there:
    # `import git` then raises, and cli/errors.py says so.
    os.environ["GIT_PYTHON_REFRESH"] = "raise"
    ctx.obj = root


@main.command()
@click.option("--strict", is_flag=True, help="Warnings fail the check too.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "gitlab"]),
    default="text",
    show_default=True,
    help="text for people, json for tools, gitlab for the GitLab code-quality report.",
)
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), help="Write the report to a file.")
@click.option("--as-of", "as_of", metavar="DATE", help="Judge staleness on this date (default: today).")
@click.option(
    "--base", metavar="REF", help="Also compare with this revision: id collisions, deleted published records, status transitions."
)
@click.option(
    "--approvals",
    is_flag=True,
    help="Also verify the approval trail of main: every change to a live high-impact record, and every change to other files, landed with the approval the policy before it required.",
)
@click.option("--allow-shallow", is_flag=True, help="Go on in a shallow clone (approvals are then judged on partial history).")
@click.option("--no-cache", is_flag=True, help="Read every file afresh and write no cache (same as KEDB_NO_CACHE=1).")
@click.pass_obj
@_handle_errors
def check(
    root: Path,
    strict: bool,
    fmt: str,
    output: Path | None,
    as_of: str | None,
    base: str | None,
    approvals: bool,
    allow_shallow: bool,
    no_cache: bool,
) -> None:
    """Validate every record and program file; list all findings."""
    from ..check import run as check_mod

    report = check_mod.run(root, _as_of(as_of), base=base, approvals=approvals, allow_shallow=allow_shallow, use_cache=not no_cache)
    if approvals and fmt == "text":  # a machine format stays one document
        from ..core.gate import EVIDENCE_NOTE

        settings = report.kb.program.settings
        click.echo(f"kedb: note: {EVIDENCE_NOTE[settings.approval_evidence if settings else 'trailers']}", err=True)
    if report.failed() and fmt == "text":
        from ..authoring.upgrade import stale_note

        note = stale_note(report)
        if note:
            click.echo(f"kedb: note: {note}", err=True)
    text = check_mod.FORMATS[fmt](report)
    if output:
        output.write_text(text + "\n", encoding="utf-8")
        click.echo(check_mod.summary(report), err=True)
    else:
        click.echo(text)
    leave.quickly()  # 10,000 records: 0.1-0.2 s of a 2 s check went on freeing them (cli/leave.py)
    sys.exit(1 if report.failed(strict) else 0)


class _NewCommand(click.Command):
    """``kedb new --help`` also lists the services of the KB it runs in (what ``--service`` takes)."""

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        from .helptext import services_help

        root = ctx.find_root().params.get("root") or Path(".")
        with formatter.section("Services (--service)"):
            formatter.write(services_help(Path(root)) + "\n")
        super().format_epilog(ctx, formatter)


@main.command(cls=_NewCommand)
@click.argument("kind", type=click.Choice(["known-error", "workaround", "problem"]))
@click.option("--title", required=True, help="One-line title.")
@click.option("--service", required=True, help="Service id from content/services.yml.")
@click.option("--owner", help="Owner handle (default: the service's primary owner).")
@click.option("--for", "link_to", metavar="KE-ID", help="Link to this known error (and add the link back).")
@click.pass_obj
@_handle_errors
def new(root: Path, kind: str, title: str, service: str, owner: str | None, link_to: str | None) -> None:
    """Write a new record with the next free id and print its path."""
    from ..authoring.codeowners import refresh as refresh_codeowners
    from ..authoring.scaffold import create
    from ..check.run import ensure_kb, today
    from ..core.load.loader import load

    kb, _ = load(ensure_kb(root))
    path, notes = create(kb, kind, title, service, owner, today(), link_to)
    for note in notes:
        click.echo(note, err=True)
    updated = refresh_codeowners(kb, load(kb.root)[0])
    if updated is not None:
        click.echo(f"kedb: {updated.relative_to(kb.root).as_posix()} updated: the new record's approvers added", err=True)
    click.echo(path.relative_to(kb.root).as_posix())


@main.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path), required=False)
@click.option("--platform", type=click.Choice(["gitlab", "github"]), default="gitlab", show_default=True, help="Whose CI file to write.")
@click.option("--example", is_flag=True, help="Start from the bundled example KB (records, playbooks, figures) instead of an empty one.")
@click.option("--name", help="The KB's name (default: from the folder name).")
@click.option("--organisation", help="Who runs it (default: the KB's name).")
@click.option("--maintainer", metavar="'NAME <EMAIL>'", help="The first maintainer and approver (default: git's user.name and user.email).")
@click.option("--service", metavar="ID", help="Id of the first service (default: service-desk).")
@click.option("--force", is_flag=True, help="Overwrite files that exist (they are listed first otherwise, and nothing is written).")
@click.pass_obj
@_handle_errors
def init(
    root: Path,
    directory: Path | None,
    platform: str,
    example: bool,
    name: str | None,
    organisation: str | None,
    maintainer: str | None,
    service: str | None,
    force: bool,
) -> None:
    """Start a team's own KB: program data, mkdocs.yml, CI, CODEOWNERS and a README.

    Writes a minimal KB that passes `kedb check --strict` and `kedb build` at once, into DIRECTORY
    (default: --root). kedb is pinned in requirements.txt, which CI installs (from the target
    branch's copy, so a merge request never changes the kedb that reviews it)."""
    from ..authoring import init as init_mod
    from ..check.run import run, today

    def strict_findings(kb_root: Path) -> list[str]:
        report = run(kb_root, None, use_cache=False)
        return [f.format() for f in report.findings] if report.failed(strict=True) else []

    target = (directory or root).resolve()
    team = init_mod.team_from(target, name, organisation, maintainer, service)
    plan = init_mod.plan(target, team, platform, example=example, today=today(), verify=strict_findings)
    for rel in init_mod.write(plan, force=force):
        click.echo(f"  wrote {rel}")
    click.echo(f"\n{team.name if not example else 'The example KB'} is ready in {target}. Next:")
    if not (target / ".git").exists():
        click.echo("  git init -b main")
    click.echo("  pip install -r requirements.txt && kedb check --strict && kedb build")
    click.echo('  git add -A && git commit -m "Start the KB"   # then read README.md: adding, reviewing, publishing')


@main.command()
@click.option("--write", is_flag=True, help="Apply the changes (default: a dry run that only lists them).")
@click.pass_obj
@_handle_errors
def upgrade(root: Path, write: bool) -> None:
    """Rewrite a KB written for an earlier kedb so this one reads it.

    Lists what changed since the kedb version content/kedb.yml names (kedb_version) and what this
    KB still lacks; --write applies it, records this version and checks the KB again."""
    from .. import __version__
    from ..authoring import upgrade as up
    from ..check.run import ensure_kb, run, summary

    p = up.plan(ensure_kb(root))
    since = f"kedb {p.since}" if p.since else "an unrecorded kedb version"
    if p.up_to_date:
        click.echo(f"The KB is written for kedb {__version__}, this version: nothing to upgrade.")
        return
    click.echo(f"The KB was written for {since}; this is kedb {__version__}.")
    for m in p.steps:
        click.echo(f"  {m.version}: {m.title}")
    if not p.steps:
        click.echo("  no file needs rewriting; only the recorded version changes")
    if not write:
        click.echo("Dry run: nothing was written. `kedb upgrade --write` applies it.")
        sys.exit(1)
    for rel in up.apply(p):
        click.echo(f"  wrote {rel}")
    report = run(root)
    click.echo(summary(report))
    sys.exit(1 if report.failed() else 0)


@main.command()
@click.option("--only", help="Comma-separated outputs: site,docx,xlsx,pptx,pdf (default: all).")
@click.option("--audience", type=click.Choice(AUDIENCES), default="internal", show_default=True)
@click.option("--tenant", help="Keep only records for this tenant (or for all tenants).")
@click.option("--allow-shallow", is_flag=True, help="Build from a shallow clone, saying that history is partial.")
@click.option("--as-of", "as_of", metavar="DATE", help="Judge staleness on this date (default: today).")
@click.option(
    "--engine",
    type=click.Choice(("mkdocs", "zensical")),
    default="mkdocs",
    show_default=True,
    help="What builds the site: MkDocs with the kedb plugin, or Zensical given the pages kedb renders.",
)
@click.pass_obj
@_handle_errors
def build(root: Path, only: str | None, audience: str, tenant: str | None, allow_shallow: bool, as_of: str | None, engine: str) -> None:
    """Check the KB, verify approvals, then build the site and the four artefacts."""
    from ..build.run import approvals_summary
    from ..build.run import build as run_build
    from ..check import run as check_mod

    leave.collect_rarely_to_the_end()
    report, stop = _progress()
    try:
        result = run_build(root, only, audience, tenant, allow_shallow=allow_shallow, as_of=_as_of(as_of), progress=report, engine=engine)
    finally:
        stop()
    for line in result.describe():
        click.echo(line)
    for line in approvals_summary(result.ctx.approvals):
        click.echo(line)
    click.echo(check_mod.summary(result.ctx.report))
    leave.quickly()  # the KB, the site model and MkDocs' pages need not be freed one by one (cli/leave.py)


def _progress() -> tuple[Callable[[str, float | None], None], Callable[[], None]]:
    """Progress per output: a rich spinner and ticks on a terminal, one quiet line per step in CI or a pipe."""
    if sys.stderr.isatty() and not os.environ.get("CI"):
        from rich.console import Console
        from rich.live import Live
        from rich.spinner import Spinner

        console = Console(stderr=True)
        # Redrawn when a step starts, not by rich's refresh thread: with a second thread running,
        # kedb does not fork its workers (core/forkpool.can_fork), and a build on a terminal
        # rendered every record page and artefact in one process.
        live = Live(Spinner("dots", "building…"), console=console, auto_refresh=False, transient=True)
        live.start(refresh=True)

        def report(step: str, secs: float | None) -> None:
            if secs is None:
                live.update(Spinner("dots", f"{step}…"), refresh=True)
            else:
                console.print(f"[green]✓[/green] {step} [dim]({secs:.1f} s)[/dim]")

        return report, live.stop

    def log(step: str, secs: float | None) -> None:
        if secs is not None:
            click.echo(f"kedb: {step}: done in {secs:.1f} s", err=True)

    return log, lambda: None


@main.command()
@click.argument("record_id", metavar="ID")
@click.option("--ref", default="HEAD", show_default=True, help="Read history at this ref.")
@click.option("--all-commits", is_flag=True, help="Every commit, not only the first-parent line (merged merge requests as one version).")
@click.option("--allow-shallow", is_flag=True, help="Go on in a shallow clone, saying that history is partial.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.pass_obj
@_handle_errors
def history(root: Path, record_id: str, ref: str, all_commits: bool, allow_shallow: bool, fmt: str) -> None:
    """Print a record's versions, change notes and approvals: newest first (JSON: oldest first)."""
    from .historyfmt import FORMATS, show

    click.echo(FORMATS[fmt](show(root, record_id.upper(), ref, first_parent=not all_commits, allow_shallow=allow_shallow)))


@main.command()
@click.option("--base", required=True, metavar="REF", help="The target branch, e.g. origin/main.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "markdown", "json"]),
    help="text for a terminal, markdown for a merge-request note, json for tools. "
    "[default: text on a terminal, markdown into a file or pipe]",
)
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), help="Write the review to a file.")
@click.pass_obj
@_handle_errors
def review(root: Path, base: str, fmt: str | None, output: Path | None) -> None:
    """What an approver reads on a merge request: record diffs, approvals needed, risks.

    Compares the working tree with the merge base of BASE: every changed record with its fields
    and sections, who must approve it, and the risks of the change (downgrades, a customer reply
    changed on a P1, a service moved). Files outside the records need a maintainer."""
    from ..check.rules import check_kb
    from ..check.run import ensure_kb, today
    from ..core.load.loader import load
    from ..git.basediff import compare
    from ..git.review import FORMATS, make

    kb, findings = load(ensure_kb(root))
    if fmt is None:
        fmt = "text" if output is None and sys.stdout.isatty() else "markdown"
    text = FORMATS[fmt](make(compare(kb, base), kb, [*findings, *check_kb(kb, today())]))
    if output:
        output.write_text(text, encoding="utf-8")
    else:
        click.echo(text, nl=False)
    errors = sum(1 for f in findings if f.severity.value == "error")
    if errors:
        click.echo(f"kedb: note: the working tree has {errors} check error(s); records that fail to load are not in this review", err=True)


@main.command()
@click.option("--platform", type=click.Choice(["gitlab", "github"]), required=True)
@click.option("--output", "-o", metavar="PATH", help="Where to write it (default: the location the platform reads first).")
@click.option("--check", "check_only", is_flag=True, help="Write nothing; exit 1 when the file is missing or out of date.")
@click.pass_obj
@_handle_errors
def codeowners(root: Path, platform: str, output: str | None, check_only: bool) -> None:
    """Write CODEOWNERS from content/: records to their service's approvers, policy to maintainers."""
    from ..authoring.codeowners import write
    from ..check.run import ensure_kb
    from ..core.load.loader import load

    kb, _ = load(ensure_kb(root))
    res = write(kb, platform, output, check_only=check_only)
    for w in res.warnings:
        click.echo(f"kedb: warning: {w}", err=True)
    click.echo(f"{res.path.relative_to(kb.root).as_posix()} {'is up to date' if check_only else 'written'}")


@main.command()
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("site/schema"),
    show_default=True,
    help="Folder for the *.schema.json files.",
)
@click.pass_obj
@_handle_errors
def schema(root: Path, out: Path) -> None:
    """Write the JSON Schema of every file kind (for editors and other tools)."""
    from ..authoring.schema import write

    target = out if out.is_absolute() else root / out
    for path in write(target):
        click.echo(path.as_posix())


# ---------------------------------------------------------------- commands defined in other modules
# Each is named here, one line each, and imported when it is run or listed: `kedb search` in a
# terminal need not import the webhook client, DuckDB's wrappers and the MCP SDK (their imports
# took 0.15 s of a 0.23 s search).
class LazyCommands(MutableMapping[str, click.Command]):
    """A group's commands, those of other modules imported when first asked for (by name: click
    looks up the command it runs; ``--help`` asks for all) and documented then."""

    def __init__(self, loaded: MutableMapping[str, click.Command], lazy: dict[str, str]) -> None:
        self._loaded = dict(loaded)
        self._lazy = dict(lazy)  # name -> "module:attribute", relative to kedb.cli

    def __getitem__(self, name: str) -> click.Command:
        where = self._lazy.pop(name, None)
        if where is not None:
            module, attr = where.split(":")
            cmd = getattr(importlib.import_module(module, __package__), attr)
            document_one(name, cmd)
            self._loaded[name] = cmd
        return self._loaded[name]

    def __setitem__(self, name: str, cmd: click.Command) -> None:
        self._lazy.pop(name, None)
        self._loaded[name] = cmd

    def __delitem__(self, name: str) -> None:
        if self._lazy.pop(name, None) is None:
            del self._loaded[name]

    def __iter__(self) -> Iterator[str]:
        return iter([*self._loaded, *self._lazy])

    def __len__(self) -> int:
        return len(self._loaded) + len(self._lazy)


document(main)  # the commands defined above; LazyCommands documents the others as they are imported
main.commands = LazyCommands(
    main.commands,
    {
        "tickets": ".tickets:tickets",
        "candidates": ".tickets:candidates",
        "kpi": ".tickets:kpi",
        "mcp": ".assistant:mcp",
        "search": ".search:search",
        "notify": ".notify:notify",
    },
)


def run() -> None:
    """The ``kedb`` console script: :data:`main`, ending the process quickly after a large build (cli/leave.py)."""
    leave.run(main)


if __name__ == "__main__":  # pragma: no cover
    run()
