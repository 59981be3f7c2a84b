"""How every ``kedb`` command ends on an error: a clear message and an exit code, never a traceback.

Shared by ``cli/main.py`` and ``cli/tickets.py``: kedb's own errors carry their exit code (1 bad input,
2 usage or environment); a file the system refuses, and the ticket store's engine failing (disk
full, a store locked by another import, a damaged file), are environment problems (2). Anything
else is a bug in kedb and is raised as it is.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import click

from ..core.errors import KedbError

F = TypeVar("F", bound=Callable[..., Any])


def handle_errors(fn: F) -> F:
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
        except Exception as exc:
            if not type(exc).__module__.startswith(("duckdb", "_duckdb")):
                raise
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            click.echo(f"kedb: the ticket store (.kedb/tickets.duckdb) failed: {first}", err=True)
            sys.exit(2)

    return wrapper  # type: ignore[return-value]
