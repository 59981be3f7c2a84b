"""The ``kedb`` command line. Thin: each command calls one function; only this module prints
and chooses exit codes (0 fine, 1 findings at error level, 2 usage or environment problems)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import date
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click

from . import __version__
from .errors import KedbError

F = TypeVar("F", bound=Callable[..., Any])


def _handle_errors(fn: F) -> F:
    """Our exceptions become one clear line and an exit code, never a traceback."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except KedbError as exc:
            click.echo(f"kedb: {exc}", err=True)
            sys.exit(exc.exit_code)
        except OSError as exc:
            click.echo(f"kedb: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "), err=True)
            sys.exit(2)

    return wrapper  # type: ignore[return-value]


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
@click.pass_obj
@_handle_errors
def check(root: Path, strict: bool, fmt: str, output: Path | None, as_of: str | None) -> None:
    """Validate every record and program file; list all findings."""
    from . import check as check_mod

    report = check_mod.run(root, _as_of(as_of))
    text = check_mod.FORMATS[fmt](report)
    if output:
        output.write_text(text + "\n", encoding="utf-8")
        click.echo(check_mod.summary(report), err=True)
    else:
        click.echo(text)
    sys.exit(1 if report.failed(strict) else 0)


@main.command()
@click.argument("kind", type=click.Choice(["known-error", "workaround", "problem"]))
@click.option("--title", required=True, help="One-line title.")
@click.option("--service", required=True, help="Service id from content/services.yml.")
@click.option("--owner", help="Owner handle (default: the service's primary owner).")
@click.option("--for", "link_to", metavar="KE-ID", help="Link to this known error (and add the link back).")
@click.pass_obj
@_handle_errors
def new(root: Path, kind: str, title: str, service: str, owner: str | None, link_to: str | None) -> None:
    """Write a new record with the next free id and print its path."""
    from .check import ensure_kb, today
    from .loader import load
    from .scaffold import create

    kb, _ = load(ensure_kb(root))
    path, notes = create(kb, kind, title, service, owner, today(), link_to)
    for note in notes:
        click.echo(note, err=True)
    click.echo(path.relative_to(kb.root).as_posix())


@main.command()
@click.option("--only", help="Comma-separated outputs: site,docx,xlsx,pptx,pdf (default: all).")
@click.option("--audience", type=click.Choice(["public", "internal"]), default="internal", show_default=True)
@click.option("--tenant", help="Keep only records for this tenant (or for all tenants).")
@click.option("--allow-shallow", is_flag=True, help="Build from a shallow clone, saying that history is partial.")
@click.pass_obj
@_handle_errors
def build(root: Path, only: str | None, audience: str, tenant: str | None, allow_shallow: bool) -> None:
    """Check the KB, then build the site and the four artefacts."""
    from . import check as check_mod
    from .build import plan

    p = plan(root, only, audience, tenant)
    if p.report.failed():
        click.echo(check_mod.format_text(p.report), err=True)
        click.echo("kedb: nothing was built: fix the errors above first", err=True)
        sys.exit(1)
    for line in p.describe():
        click.echo(line)
    click.echo(check_mod.summary(p.report))


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
    from .schema import write

    target = out if out.is_absolute() else root / out
    for path in write(target):
        click.echo(path.as_posix())


# ---------------------------------------------------------------- commands defined in other modules
# Each module below defines click commands and is registered here, one line each.


if __name__ == "__main__":  # pragma: no cover
    main()
