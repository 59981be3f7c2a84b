"""Which tickets are a tenant's: ``kedb kpi --tenant`` and ``kedb tickets audit --tenant``.

**Matching.** The export's ``tenant`` field (ServiceNow ``company``, Zendesk ``Organization``,
Jira's organisation field, SuperOps ``Client``; in a generic CSV ``tenant``, ``customer`` or
``company``) is stored normalised, as a signature part is: accents removed, lower case, every
run of other characters one ``-`` (``ACME Logistics Ltd.`` is ``acme-logistics-ltd``). A ticket
is tenant T's when that value equals T's id or T's name in ``content/kedb.yml`` in the same form
(``acme``, ``Acme Logistics``); an export that spells a customer another way maps it with
``values:`` under ``tenant`` in a ``--map`` file (``values: {"Acme Logistics Ltd": ACME}``). The
match is made when the figures are computed, not at import, so a tenant added to
``content/kedb.yml`` needs no new import. Were two tenants to share a form, the first in
``content/kedb.yml`` takes the tickets.

**Scope.** :func:`scoped` puts two temporary views in front of the store's ``tickets`` and
``events`` tables, holding only the tenant's tickets and their rows. Every query of the KPIs and
of the flow audit reads ``tickets`` and ``events`` by those names, so each figure, with every
rule it applies, counts the tenant's tickets alone without a second copy of any query. Only
:func:`kedb.tickets.coverage.span` reads past the views (:func:`whole`): the days an export
covers are the export's, and a tenant that logged nothing for a fortnight was still covered.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from ..core.errors import EnvironmentProblem, UsageError
from ..core.kb import KB
from ..core.program import Tenant
from . import sqlexpr as S


def known(kb: KB, tenant: str) -> Tenant:
    """The tenant of ``content/kedb.yml`` with the id ``tenant``; otherwise a usage error listing them (ids are case-sensitive)."""
    tenants = list(kb.program.settings.tenants) if kb.program.settings else []
    found = next((t for t in tenants if t.id == tenant), None)
    if found is not None:
        return found
    close = [t.id for t in tenants if tenant.lower() in (t.id.lower(), t.name.lower())]
    hint = f" (did you mean '{close[0]}'? tenant ids are case-sensitive)" if close else ""
    listed = ", ".join(t.id for t in tenants) or "none: content/kedb.yml lists no tenants"
    raise UsageError(f"unknown tenant '{tenant}'{hint}; the tenants in content/kedb.yml are: {listed}")


def which(tenants: list[Tenant] | tuple[Tenant, ...], value: str = "tenant") -> str:
    """SQL: the tenant id whose id or name matches the stored (normalised) ``value``, else NULL."""
    if not tenants:
        return "CAST(NULL AS VARCHAR)"
    cases = " ".join(f"WHEN {value} IN ({S.norm(S.lit(t.id))}, {S.norm(S.lit(t.name))}) THEN {S.lit(t.id)}" for t in tenants)
    return f"(CASE {cases} END)"


def whole(con: Any, table: str) -> str:
    """The store's own ``table``, whatever views a :func:`scoped` block puts in front of it."""
    catalog = con.execute("SELECT current_database()").fetchone()[0]
    return f"{S.ident(catalog)}.main.{S.ident(table)}"


@dataclass(frozen=True)
class Scope:
    """The tenant a block of figures counts, and how many of the store's tickets are its."""

    tenant: Tenant
    tickets: int
    column: str  # the export column the tenant came from

    def text(self) -> str:
        return f"tenant {self.tenant.id} ({self.tenant.name}): {self.tickets:,} tickets whose '{self.column}' names it"


@contextmanager
def scoped(con: Any, kb: KB, columns: dict[str, list[str]], tenant: str | None) -> Iterator[Scope | None]:
    """Within the block, ``tickets`` and ``events`` hold only ``tenant``'s tickets (None: the block sees the whole store).

    An unknown tenant is a usage error; a store whose export had no tenant column is an environment
    problem (import an export that has one, or name the column in a ``--map`` file)."""
    if tenant is None:
        yield None
        return
    t = known(kb, tenant)
    if "tenant" not in columns:
        raise EnvironmentProblem(
            "the imported export has no tenant column (looked for the customer or company field of its source), so it cannot "
            "be split by tenant: import an export that has one, or name the column under `tenant` in a --map file"
        )
    tickets, events = whole(con, "tickets"), whole(con, "events")
    mine = which(kb.program.settings.tenants if kb.program.settings else [t], f"{tickets}.tenant")
    con.execute(f"CREATE OR REPLACE TEMP VIEW tickets AS SELECT * FROM {tickets} WHERE {mine} = {S.lit(t.id)}")
    con.execute(f"CREATE OR REPLACE TEMP VIEW events AS SELECT * FROM {events} WHERE id IN (SELECT id FROM tickets)")
    try:
        n = con.execute("SELECT count(*) FROM tickets").fetchone()[0]
        yield Scope(t, int(n), columns["tenant"][0])
    finally:
        con.execute("DROP VIEW IF EXISTS temp.main.events")
        con.execute("DROP VIEW IF EXISTS temp.main.tickets")


def counts(con: Any, tenants: list[Tenant] | tuple[Tenant, ...]) -> tuple[tuple[str, int], ...]:
    """Tickets per tenant id of ``tenants`` (in their order, those with none left out), then ``("", n)`` for the tickets with a
    tenant value that names no tenant and ``("-", n)`` for those without one (each only when n > 0)."""
    rows = dict(
        con.execute(
            f"SELECT CASE WHEN tenant IS NULL THEN '-' ELSE coalesce({which(tenants)}, '') END AS t, count(*) FROM tickets GROUP BY t"
        ).fetchall()
    )
    out = [(t.id, int(rows[t.id])) for t in tenants if rows.get(t.id)]
    out += [(k, int(rows[k])) for k in ("", "-") if rows.get(k)]
    return tuple(out)
