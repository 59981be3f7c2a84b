"""``kedb upgrade``: rewrite a KB written for an earlier kedb so the current one reads it.

A KB says which kedb its files were last written for (``kedb_version`` in ``content/kedb.yml``,
set by ``kedb init`` and by ``kedb upgrade --write``). Each change of a file format or of what a
KB must hold is a :class:`Migration` in :data:`MIGRATIONS`, named with the kedb version that
brought it; ``kedb upgrade`` lists the ones a KB still needs (a dry run: nothing is written) and,
with ``--write``, applies them in order and records the current version. A migration is applied
only where it is needed (its ``needed`` test looks at the KB, not only at the version), so a KB
without a version, or one edited by hand, is upgraded by what it actually lacks.

Every migration writes through a temporary file and is checked again by ``kedb check`` afterwards
(the CLI runs it); a KB that then fails is reported, not hidden.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import __version__
from ..core.errors import UsageError
from .init import example_dir

SETTINGS = "content/kedb.yml"
_VERSION_LINE = re.compile(r'(?m)^kedb_version:[ \t]*["\']?([^"\'\s#]*)["\']?[ \t]*(#.*)?$')


def parse_version(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(p) for p in text.split("."))
    except ValueError:
        raise UsageError(f"'{text}' is not a kedb version (like 0.1.0)") from None


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.kedb-upgrade")
    tmp.write_text(text, encoding="utf-8", newline="\n")
    os.replace(tmp, path)


def _example_file(rel: str) -> str:
    return (example_dir() / rel).read_text(encoding="utf-8")


@dataclass(frozen=True)
class Migration:
    version: str  # the kedb version that brought the change
    title: str  # what changed, for the problem owner
    needed: Callable[[Path], bool]  # does this KB still need it?
    apply: Callable[[Path], list[str]]  # do it; the paths written


def _add_progression(root: Path) -> list[str]:
    rel = "content/progression.yml"
    _write(root / rel, _example_file(rel))
    return [rel]


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        "0.1.0",
        "content/progression.yml: the flow audit's progression policy (stages, thresholds, working hours), which "
        "`kedb tickets audit` needs; KBs written before the flow audit get the example's policy to adapt",
        lambda root: not (root / "content" / "progression.yml").exists(),
        _add_progression,
    ),
)


def recorded_version(root: Path) -> str | None:
    """``kedb_version`` of ``content/kedb.yml`` as written, or None."""
    path = root / SETTINGS
    if not path.is_file():
        return None
    m = _VERSION_LINE.search(path.read_text(encoding="utf-8"))
    return m.group(1) if m else None


@dataclass(frozen=True)
class Plan:
    root: Path
    since: str | None  # the version the KB was written for
    steps: tuple[Migration, ...]  # what it still needs, in order

    @property
    def up_to_date(self) -> bool:
        return not self.steps and self.since == __version__


def plan(root: Path) -> Plan:
    since = recorded_version(root)
    if since is not None and parse_version(since) > parse_version(__version__):
        raise UsageError(
            f"this KB was written for kedb {since}, newer than this kedb ({__version__}): install kedb {since} "
            "(requirements.txt pins it) rather than downgrading the KB"
        )
    floor = parse_version(since) if since else (0,)
    steps = tuple(m for m in MIGRATIONS if (parse_version(m.version) > floor or since is None) and m.needed(root))
    return Plan(root, since, steps)


def apply(p: Plan) -> list[str]:
    """Apply the plan's migrations in order and record this kedb's version; the paths written."""
    written: list[str] = []
    for m in p.steps:
        written += m.apply(p.root)
    path = p.root / SETTINGS
    text = path.read_text(encoding="utf-8")
    line = f"kedb_version: {__version__}"
    text = _VERSION_LINE.sub(line, text, count=1) if _VERSION_LINE.search(text) else text.rstrip("\n") + f"\n{line}\n"
    _write(path, text)
    written.append(SETTINGS)
    return sorted(set(written))


# The findings of a file kedb cannot read as it is: a format that changed shows as these.
FORMAT_CODES = frozenset({"KE010", "KE013", "KE101", "KE102", "KE103", "KE104", "KE106"})


def stale_note(report: Any) -> str | None:
    """For ``kedb check``: when files fail to read as this kedb expects and the KB was written for
    an earlier one (or names none), the version it was written for and what to run."""
    if not any(f.code in FORMAT_CODES for f in report.findings):
        return None
    since = recorded_version(report.kb.root)
    if since == __version__:
        return None
    try:
        if since is not None and parse_version(since) > parse_version(__version__):
            return f"the KB was written for kedb {since}, newer than this one ({__version__}): install the version requirements.txt pins"
    except UsageError:
        return None
    written = f"kedb {since}" if since else "a kedb version it does not record"
    return f"the KB was last upgraded for {written}; this is kedb {__version__}: `kedb upgrade` lists what changed since"
