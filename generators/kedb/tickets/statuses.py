"""Status values the mapping does not know: every one with its count and first row, and a
``statuses:`` block to paste into a ``--map`` file.

An unknown status stops the import (a ticket whose class is unknown cannot be counted as open or
resolved). Rather than make the desk lead read the export to find the others, the message lists
every distinct unknown value at once and proposes a class for each from its name, marked as a guess.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from . import sqlexpr as S

if TYPE_CHECKING:
    from .mapping import Resolved
    from .reader import Input

MAX_VALUES = 200  # a column with more distinct unknown values is not a status column
_GUESS = (
    ("cancelled", r"cancel|withdrawn|duplicate|rejected|void"),
    ("closed", r"clos|done|complete|finish|archiv"),
    ("resolved", r"resolv|solved|fixed"),
    ("pending", r"pend|hold|wait|await|suspend|defer|paused"),
    ("new", r"^new|open(ed)?$|unassigned|queued|logged|submitted"),
    ("open", r"activ|progress|assign|work|investig|open|triage|escalat"),
)


def guess(status: str) -> str | None:
    """A status class from the status name, or None when the name says nothing (``-100``)."""
    low = status.lower()
    for cls, pattern in _GUESS:
        if re.search(pattern, low):
            return cls
    return None


_PLAIN = re.compile(r"[A-Za-z][A-Za-z _-]*[A-Za-z]")
_WORDS = ("yes", "no", "true", "false", "null", "on", "off", "y", "n")


def _key(text: str) -> str:
    """A YAML key for ``text``: plain when it cannot be misread, else a JSON (double-quoted) string."""
    return text if _PLAIN.fullmatch(text) and text.lower() not in _WORDS else json.dumps(text, ensure_ascii=False)


@dataclass(frozen=True)
class Unknown:
    lines: list[str]
    rows: int


def block(values: list[tuple[str, int]]) -> list[str]:
    """The ``statuses:`` lines for ``values`` (name, rows), each with a guessed class and a comment saying so."""
    width = max(len(_key(v)) for v, _ in values) + 1
    out = ["statuses:"]
    for value, count in values:
        cls = guess(value)
        note = "guessed from the name: check it" if cls else "the name says nothing: choose its class"
        key = _key(value) + ":"
        out.append(f"  {key:<{width}} {cls or 'open':<9} # {count:,} row{'s' * (count != 1)}; {note}")
    return out


def unknown_statuses(
    con: Any, inp: Input, res: Resolved, bit: int, places: Callable[[Iterable[int]], dict[int, int]] | None = None
) -> Unknown:
    """Every status value (of the rows flagged with ``bit``) the mapping does not know; ``places`` gives the spreadsheet
    row of data rows by number (by default :meth:`~kedb.tickets.reader.Input.ordinal_rows`, which reads the export)."""
    found = con.execute(
        f"SELECT status, min(export_row), count(*) FROM events WHERE _bad & {bit} <> 0 GROUP BY status ORDER BY 2"
    ).fetchall()
    if not found:
        return Unknown([], 0)
    rows = sum(c for _, _, c in found)
    listed = found[:MAX_VALUES]
    rows_of = (places or inp.ordinal_rows)([o for _, o, _ in listed])
    column = res.columns["status"][0]
    lines = [
        f"{inp.place(rows_of[first])}: status '{status}' ({count:,} row{'s' * (count != 1)}) is not in the mapping"
        for status, first, count in listed
    ]
    if len(found) > MAX_VALUES:
        lines.append(f"… and {len(found) - MAX_VALUES:,} more values: is {S.ident(column)} the status column?")
    lines.append(
        f"the status column '{column}' has {len(found):,} value{'s' * (len(found) != 1)} the mapping does not know "
        f"({rows:,} rows). Give each a class (new, open, pending, resolved, closed or cancelled) in a --map file; "
        "these lines are ready to paste (a new --map file needs nothing else, but `extends: csv` for --source csv):"
    )
    lines += ["  " + ln for ln in block([(s, c) for s, _, c in listed])]
    return Unknown(lines, rows)
