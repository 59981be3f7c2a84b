"""Intake completeness in ``kedb tickets audit``: how many tickets were logged with each mandatory field filled.

The mandatory fields are ``intake_fields`` of ``content/triage.yml``. The tickets are those
opened in the audit's window (so two audits measure different tickets and compare like with
like), read as the store keeps them: each ticket's latest row, after the mapping's missing
markers (``?``, ``N/A``, …) became empty. The export keeps no history of descriptive fields, so a
field filled later in the ticket's life counts as filled. A field the export does not carry at
all is not 0 % but ``n/a: the export has no <field>`` (:meth:`kedb.core.audits.IntakeShare.reads`).

Per assignment group: the first group the ticket was assigned to (the team that took it in),
the 25 groups with most tickets by name, the rest together as ``(other groups)``.
"""

from __future__ import annotations

from ..core.audits import NO_GROUP, Intake, IntakeGroup, IntakeShare, percent
from . import audit_flow as F
from .sqlexpr import lit

# Intake field -> the column of the store's ``tickets`` table that keeps it (signature parts normalised,
# the caller as a one-way hash: filled or not is the same question).
COLUMNS: dict[str, str] = {
    "priority": "priority",
    "customer": "customer",
    "caller": "caller_key",
    "service": "service_n",
    "category": "category_n",
    "subcategory": "subcategory_n",
    "symptom": "symptom_n",
    "ci": "ci_n",
    "assignment_group": "assignment_group",
}


def intake(c: F.Ctx) -> Intake | None:
    """Completeness of the mandatory intake fields over the tickets opened in the window (None without ``content/triage.yml``)."""
    triage = c.kb.program.triage
    if triage is None:
        return None
    names = list(triage.intake_fields)
    carried = [f for f in names if f in c.info.columns]
    counts = ", ".join(f"count({COLUMNS[f]})" for f in carried)
    rows = c.con.execute(
        f"""WITH w AS (SELECT * FROM tickets WHERE opened_at >= $1 AND opened_at < $2),
                 g AS (SELECT id, arg_min(assignment_group, step) FILTER (WHERE assignment_group IS NOT NULL) AS grp
                       FROM events WHERE id IN (SELECT id FROM w) GROUP BY id)
            SELECT coalesce(g.grp, {lit(NO_GROUP)}) AS k, count(*){", " + counts if counts else ""}
            FROM w LEFT JOIN g USING (id) GROUP BY k""",
        [c.start, c.instant],
    ).fetchall()
    groups = sorted(((k, n, dict(zip(carried, filled, strict=True))) for k, n, *filled in rows), key=lambda r: (-r[1], r[0]))
    total = sum(n for _, n, _ in groups)
    fields = []
    for f in names:
        filled = sum(g[f] for _, _, g in groups) if f in carried else None
        fields.append(IntakeShare(field=f, filled=filled, value=None if filled is None else percent(filled, total)))  # type: ignore[arg-type]
    by_group = [IntakeGroup(key=k[:400], tickets=n, filled=g) for k, n, g in groups[: F.MAX_GROUPS]]  # type: ignore[arg-type]
    rest = groups[F.MAX_GROUPS :]
    if rest:
        merged = {f: sum(g[f] for _, _, g in rest) for f in carried}
        by_group.append(IntakeGroup(key=F.OTHER_GROUPS, tickets=sum(n for _, n, _ in rest), filled=merged))  # type: ignore[arg-type]
    lacking = [f for f in names if f not in carried]
    basis = (
        f"{total} tickets opened in {c.span}, as the export's latest row of each holds them (a field filled later in the "
        "ticket's life counts as filled); filled: not empty and not a missing marker of the mapping. Per group: the first "
        "assignment group each ticket had."
    )
    if lacking:
        basis += f" The export has no {', '.join(lacking)}: n/a, not 0 %."
    if "assignment_group" not in c.info.columns:
        basis += " The export has no assignment_group, so every ticket is in one row (no group)."
    return Intake(tickets=total, basis=basis[:400], fields=fields, by_group=by_group)
