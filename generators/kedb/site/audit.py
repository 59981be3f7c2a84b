"""The aged-ticket audit page: the latest flow audit (``content/audits/``) and its movement since the first.

Internal edition only: the page describes how the desk itself works, and lists the tickets at
risk of breaching their SLA (those ids only in the all-tenant edition, as in the register).
Every figure is one ``kedb tickets audit --write`` stored; the page computes nothing from tickets.
"""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup

from ..build.context import BuildContext, shows_ticket_ids
from ..core.audits import Audit, Comparison, compare
from . import charts


@dataclass(frozen=True)
class AuditPage:
    audits: tuple[Audit, ...]
    cmp: Comparison  # first → latest
    ids_shown: bool
    chart: Markup | None

    @property
    def latest(self) -> Audit:
        return self.audits[-1]

    @property
    def first(self) -> Audit:
        return self.audits[0]

    @property
    def moved(self) -> bool:
        return len(self.audits) > 1


def shown(ctx: BuildContext) -> bool:
    return ctx.info.audience == "internal" and bool(ctx.kb.audits)


def view(ctx: BuildContext) -> AuditPage | None:
    if not shown(ctx):
        return None
    audits = tuple(ctx.kb.audits)
    latest = audits[-1]
    rows = [(r.key, r.value) for r in latest.by_stage]
    chart = charts.bars(rows, f"Status periods moved on in time, per stage, as of {latest.as_of}", "percent") if rows else None
    return AuditPage(audits, compare(audits[0], latest), shows_ticket_ids(ctx), chart)
