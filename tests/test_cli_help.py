"""Every command's help reads well in a terminal: a summary the command list does not cut, examples
that parse, and the exit codes (cli/helptext.py is the one table of them)."""

from __future__ import annotations

import shlex
from pathlib import Path

import click
import pytest

from kbtest import kedb
from kedb.cli.helptext import HELP, commands
from kedb.cli.main import main

VISIBLE = [path for path, _ in commands(main)]


def test_every_command_is_in_the_help_table() -> None:
    assert VISIBLE and not [p for p in VISIBLE if p not in HELP], "add the command to HELP in cli/helptext.py"


def test_the_command_lists_cut_no_summary() -> None:
    for group in ("", "tickets"):
        listing = kedb(*([group] if group else []), "--help").output.split("Commands:\n", 1)[1].split("\n\n", 1)[0]
        assert "..." not in listing, listing
        for line in filter(None, listing.splitlines()):
            name, summary = line.split(None, 1)
            assert summary == HELP[f"{group} {name}".strip()].summary, line


@pytest.mark.parametrize("path", VISIBLE)
def test_each_help_has_examples_that_parse_and_exit_codes(path: str) -> None:
    res = kedb(*path.split(), "--help")
    assert res.exit_code == 0
    text = res.output
    assert "Examples:" in text and "Exit codes:" in text, text
    assert "  0    " in text and "  2    usage or environment problem" in text and "  130  interrupted (Ctrl-C)" in text
    for example in HELP[path].examples:
        assert example in text  # laid out as written, not re-wrapped
        args = shlex.split(example, comments=True)
        assert args[0] == "kedb"
        cmd: click.Command = main
        rest = args[1:]
        while isinstance(cmd, click.Group):
            cmd = cmd.commands[rest.pop(0)]
        cmd.make_context(path, rest)  # raises on an unknown option or a bad value


def test_new_lists_the_services_of_the_kb(base_kb: Path) -> None:
    text = kedb("--root", str(base_kb), "new", "--help").output
    services = text.split("Services (--service):", 1)[1].split("Examples:", 1)[0]
    assert "m365-mail" in services and "Exchange Online" in services, services


def test_new_outside_a_kb_says_where_to_run(tmp_path: Path) -> None:
    text = kedb("--root", str(tmp_path), "new", "--help").output
    assert "(no content/services.yml under" in text


def test_history_says_the_order_it_prints() -> None:
    assert "newest first" in kedb("history", "--help").output


def test_a_command_imports_only_what_it_needs(tmp_path: Path) -> None:
    """`kedb search` in a terminal answers in a fraction of a second: the commands of other
    modules are imported when they are run or listed (cli/main.LazyCommands), so it does not load
    the webhook client, the MCP SDK or DuckDB; `kedb --help` still lists and documents them all."""
    import subprocess
    import sys

    probe = (
        "import sys\n"
        "from kedb.cli.main import main\n"
        "try:\n"
        "    main(sys.argv[1:])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(sorted(m for m in ('urllib.request', 'mcp', 'duckdb', 'kedb.cli.notify', 'kedb.cli.tickets') if m in sys.modules))\n"
    )

    def loaded(*args: str) -> str:
        out = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True, text=True, cwd=tmp_path, check=True).stdout
        return out.strip().splitlines()[-1]

    assert loaded("search", "--help") == "[]"
    assert loaded("check", "--help") == "[]"
    assert "kedb.cli.notify" in loaded("notify", "--help")
    listing = kedb("--help").output
    for name in ("tickets", "candidates", "kpi", "mcp", "search", "notify"):
        assert f"  {name} " in listing
    assert "Examples:" in kedb("notify", "--help").output
