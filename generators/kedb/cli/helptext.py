"""What ``kedb … --help`` says beyond each command's own docstring: a one-line summary that fits
the command list, examples to copy, and the exit codes. One table for every command, so they
read alike and ``tests/test_cli_help.py`` can hold each new command to it.

:func:`document` applies the table to the command tree once, after every command is registered;
a command missing from the table is a test failure, not a silent gap.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import click

USAGE_EXIT = "2    usage or environment problem (unknown option, not a KB, git missing); nothing is written"
INTERRUPTED_EXIT = "130  interrupted (Ctrl-C)"


@dataclass(frozen=True)
class Help:
    summary: str  # the line in the command list: fits at 80 columns
    examples: tuple[str, ...]
    ok: str  # what exit 0 means
    findings: str | None = None  # what exit 1 means (None: the command has no findings exit)


HELP: dict[str, Help] = {
    "check": Help(
        "Check every record and program file; list all findings.",
        (
            "kedb check",
            "kedb check --strict --format json -o findings.json",
            "kedb check --base origin/main      # also compare with the target branch",
            "kedb check --approvals             # on main: verify the approval trail",
        ),
        "no error (with --strict: no warning either)",
        "findings at error level (with --strict: any finding)",
    ),
    "init": Help(
        "Start a team's own KB: program data, CI, CODEOWNERS, README.",
        (
            "kedb init our-kb --platform gitlab",
            'kedb init . --platform github --maintainer "Ann Owner <ann@example.org>" --service m365-mail',
            "kedb init demo --example      # the bundled example KB, to explore",
        ),
        "the KB was written",
    ),
    "new": Help(
        "Write a new record with the next free id; print its path.",
        (
            'kedb new known-error --service m365-mail --title "Outlook asks for the password again and again"',
            'kedb new workaround --service m365-mail --for KE-0001 --title "Clear the cached credentials"',
        ),
        "the record was written",
    ),
    "upgrade": Help(
        "Rewrite a KB written for an earlier kedb so this one reads it.",
        ("kedb upgrade            # a dry run: what changed, what this KB lacks", "kedb upgrade --write"),
        "the KB is up to date (with --write: upgraded, and it passes kedb check)",
        "a dry run found changes to make, or the upgraded KB fails kedb check",
    ),
    "build": Help(
        "Check, verify approvals, build the site and the four artefacts.",
        (
            "kedb build",
            "kedb build --only site --audience public",
            "kedb build --audience public --tenant ACME",
            "kedb build --engine zensical          # the same KB through Zensical (pip install 'kedb[zensical]')",
        ),
        "everything asked for was built",
        "the check found errors: nothing was built, the previous site/ is untouched",
    ),
    "history": Help(
        "Show a record's versions, change notes and approvals.",
        ("kedb history KE-0001", "kedb history KE-0001 --format json --all-commits"),
        "the history was printed (a record with no committed version, or no git history: exit 2)",
    ),
    "review": Help(
        "What an approver reads: record diffs, approvals needed, risks.",
        (
            "kedb review --base origin/main                # readable in a terminal",
            "kedb review --base origin/main --format markdown -o review.md   # for a merge-request note",
        ),
        "the review was written (it reports; it does not judge)",
    ),
    "codeowners": Help(
        "Write CODEOWNERS from content/: approvers and maintainers.",
        ("kedb codeowners --platform gitlab", "kedb codeowners --platform github --check"),
        "written (with --check: up to date)",
        "with --check: the file is missing or out of date",
    ),
    "schema": Help(
        "Write the JSON Schema of every file kind, for editors.",
        ("kedb schema", "kedb schema --out .vscode/kedb-schema"),
        "the schemas were written",
    ),
    "tickets": Help(
        "Import ticket exports into the local store and audit the flow.",
        ("kedb tickets import export.csv --source servicenow", "kedb tickets audit --as-of 2026-10-31 --write"),
        "the subcommand succeeded",
        "the export or the store has rows kedb cannot read (each named with its row)",
    ),
    "tickets import": Help(
        "Read a ticket export into .kedb/ (never committed).",
        (
            "kedb tickets import incidents.csv --source servicenow",
            "kedb tickets import zendesk.json --source zendesk --append",
            "kedb tickets import export.csv --source csv --map content/mappings/desk.yml",
            "kedb tickets import incidents.csv --source servicenow --strict   # in CI: refuse an export a KPI cannot use",
        ),
        "the export was imported (the store holds it, replacing or adding as asked); it says what it read and what it lacks",
        "rows or columns kedb cannot read, or (--strict) a KPI of content/kpis.yml the export cannot give: nothing was "
        "imported, the store is as it was",
    ),
    "tickets audit": Help(
        "Flow audit: ages, SLA thresholds, stalls, intake completeness.",
        (
            "kedb tickets audit                  # as of the last day the export covers",
            "kedb tickets audit --as-of 2026-10-31 --write",
            "kedb tickets audit --all            # every at-risk, past-SLA, stalled and past-threshold ticket",
            "kedb tickets audit --compare 2026-09-30 2026-10-31",
            "kedb tickets audit --tenant ACME      # only that tenant's tickets (printed, not stored)",
        ),
        "the audit was printed (and stored with --write)",
        "the store, a stored audit, content/progression.yml or content/triage.yml cannot be read",
    ),
    "candidates": Help(
        "List problem candidates; log rejections and overrides.",
        (
            "kedb candidates",
            "kedb candidates --since 2026-09-01 --write",
            'kedb candidates --reject "printing:scanner:(none):scan-to-email-fails:(none)" --as-of 2026-10-26 --reason "…"',
            'kedb candidates --reinstate "printing:scanner:(none):scan-to-email-fails:(none)" --as-of 2026-11-02 --reason "…"',
            'kedb candidates --missed PRB-0012 --as-of 2026-11-02 --by dana.okafor --reason "…"   # a false negative',
        ),
        "the candidates were listed (drafts written with --write; a decision added to content/decisions.yml)",
        "the KB or content/decisions.yml fails kedb check, or a decision would break the log's order; nothing was written",
    ),
    "kpi": Help(
        "Compute a month's or a week's KPIs from the tickets and records.",
        (
            "kedb kpi --period 2026-10",
            "kedb kpi --period 2026-10 --write      # content/kpi/2026-10.yml",
            "kedb kpi --week 2026-W43 --write       # content/kpi/weeks/2026-W43.yml",
            "kedb kpi --period 2026-10 --tenant ACME --write   # content/kpi/tenants/ACME/2026-10.yml",
        ),
        "the figures were printed (and stored with --write)",
        "the ticket store or the KPI definitions cannot be read, or the KB fails kedb check before --write",
    ),
    "notify": Help(
        "Escalation cards for new candidates and tickets near breach.",
        (
            "kedb notify                           # the new cards, in Markdown (KEDB_WEBHOOK_URL set: posted)",
            "kedb notify --format json --as-of 2026-10-31",
            "kedb notify --dry-run --all           # what a post to KEDB_WEBHOOK_URL would carry, sent before or not",
            "kedb notify --webhook https://127.0.0.1:8080/hook --threshold 100",
        ),
        "the cards were printed, or posted and recorded in .kedb/notified.json (none new: nothing posted)",
        "content/progression.yml, content/triage.yml or content/decisions.yml is there but fails kedb check; nothing was sent",
    ),
    "mcp": Help(
        "Serve the KB to AI assistants over MCP (stdin/stdout).",
        ("kedb mcp", "kedb mcp --audience public --tenant ACME", "kedb mcp --site site/   # a built site: no check or git at start"),
        "the client closed the connection",
        "the check found errors: the server did not start",
    ),
    "search": Help(
        "Find the records that answer a pasted error or symptom.",
        (
            'kedb search "0x80070005 access denied"',
            'kedb search "outlook keeps prompting for password" --format json --limit 5',
            "kedb search - < ticket.txt            # a long paste, from standard input",
            'kedb search --site site/ "aadsts 50076"   # from a built site: fast on a large KB',
        ),
        "at least one record matched",
        "no record matched (a KB with check errors is searched too: its broken files are named on stderr)",
    ),
}


def epilog(h: Help) -> str:
    """The examples and exit codes, laid out as written (``\\b`` stops click from re-wrapping them)."""
    lines = ["\b", "Examples:", *(f"  {e}" for e in h.examples), "", "\b", "Exit codes:", f"  0    {h.ok}"]
    if h.findings:
        lines.append(f"  1    {h.findings}")
    lines += [f"  {USAGE_EXIT}", f"  {INTERRUPTED_EXIT}"]
    return "\n".join(lines)


def _walk(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
    out = []
    for name, cmd in sorted(group.commands.items()):
        if cmd.hidden:
            continue
        path = f"{prefix}{name}"
        out.append((path, cmd))
        if isinstance(cmd, click.Group):
            out += _walk(cmd, path + " ")
    return out


def commands(group: click.Group) -> list[tuple[str, click.Command]]:
    """Every visible command below ``group``, by its path (``tickets import``)."""
    return _walk(group)


def document(group: click.Group) -> None:
    """Give every command in :data:`HELP` its summary and epilog."""
    for path, cmd in commands(group):
        _describe(path, cmd)


def document_one(path: str, cmd: click.Command) -> None:
    """The same for one command and, for a group, every command below it (``path``: its name)."""
    _describe(path, cmd)
    if isinstance(cmd, click.Group):
        for below, sub in _walk(cmd, path + " "):
            _describe(below, sub)


def _describe(path: str, cmd: click.Command) -> None:
    h = HELP.get(path)
    if h is not None:
        cmd.short_help = h.summary
        cmd.epilog = epilog(h)


def services_help(root: Path) -> str:
    """The services of the KB at ``root`` for ``kedb new --help``: the ids ``--service`` takes."""
    from ..core.load.datafile import read_data_file
    from ..core.program import ServicesFile

    path = root / "content" / "services.yml"
    if not path.is_file():
        return f"(no content/services.yml under {root}: run in a KB, or pass --root)"
    res = read_data_file(path, "content/services.yml", ServicesFile)
    model = res.model
    if not isinstance(model, ServicesFile) or not model.services:
        return "(content/services.yml cannot be read: run `kedb check`)"
    return "\n".join(f"  {s.id:<22} {s.name}" for s in model.services)
