"""The ticket sources kedb reads: one per mapping file shipped in ``kedb/tickets/mappings/``.

The list is read from that folder, so a new source (say Freshservice) is one file,
``tickets/mappings/freshservice.yml``, in the format of a ``--map`` file: ``kedb tickets import
--source freshservice`` accepts it, KPI snapshots and audits may name it as their ``system``, and
``content/progression.yml`` may list its statuses. No Python changes.

Order: by name, with ``csv`` (kedb's own column names, the generic case) last.
"""

from __future__ import annotations

from typing import Literal

from .resources import PACKAGE_DIR

MAPPINGS_DIR = PACKAGE_DIR / "tickets" / "mappings"
GENERIC = "csv"


def _names() -> tuple[str, ...]:
    names = sorted(p.stem for p in MAPPINGS_DIR.glob("*.yml") if not p.name.startswith("."))
    return tuple(n for n in names if n != GENERIC) + ((GENERIC,) if GENERIC in names else ())


SOURCES: tuple[str, ...] = _names()
if not SOURCES:  # pragma: no cover - an installation without its data files
    raise ImportError(f"kedb's ticket mappings are missing from {MAPPINGS_DIR}; reinstall kedb")

# A pydantic field of this type accepts exactly the shipped sources (and the JSON Schema lists them).
Source = Literal[SOURCES]  # type: ignore[valid-type]


def listed(quote: str = "`") -> str:
    """The sources for a sentence: ```servicenow`, `zendesk`, …``."""
    return ", ".join(f"{quote}{s}{quote}" for s in SOURCES)
