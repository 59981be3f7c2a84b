"""The flow audits (``content/audits/``) as the artefacts show them: first against latest.

Renderers show an audit only when one exists; the figures are desk-wide aggregates and appear
in every edition, while the at-risk ticket ids appear only in the internal, all-tenant edition
(:func:`kedb.build.context.shows_ticket_ids`). Nothing here is computed from tickets: the figures are
those ``kedb tickets audit --write`` stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..build.context import shows_ticket_ids
from ..core import present
from ..core.audits import FIGURES, Audit, Movement, compare

if TYPE_CHECKING:
    from ..build.context import BuildContext


@dataclass(frozen=True)
class AuditView:
    audits: tuple[Audit, ...]  # oldest first
    movements: list[Movement]  # first → latest (a single audit: against itself, so no movement)
    stage_movements: list[Movement]
    ids_shown: bool

    @property
    def first(self) -> Audit:
        return self.audits[0]

    @property
    def latest(self) -> Audit:
        return self.audits[-1]

    @property
    def span(self) -> str:
        a, b = self.first.as_of, self.latest.as_of
        return f"as of {b}" if a == b else f"{a} → {b}"


def view(ctx: BuildContext) -> AuditView | None:
    audits = ctx.kb.audits
    if not audits:
        return None
    cmp = compare(audits[0], audits[-1])
    return AuditView(tuple(audits), cmp.figures, cmp.stages, shows_ticket_ids(ctx))


def change(m: Movement) -> str:
    return present.change(m.change, m.unit)


def name(fid: str) -> str:
    return FIGURES.get(fid, (fid,))[0]


def better_when(fid: str) -> str:
    return present.better_word(FIGURES.get(fid, ("", "", True))[2])
