"""Rules that need the whole KB: ids, links both ways, lifecycle requirements, policy, program data."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import date

from ..core.findings import Finding
from ..core.kb import KB, Program, Record, Source
from ..core.program import KPI_IDS
from ..core.records import PROBLEM_ORDER, KnownError, Problem, Workaround, review_overdue
from .helpers import at, repeated_ids
from .progression import findings as progression_findings


def check_kb(kb: KB, as_of: date) -> list[Finding]:
    """All whole-KB findings for records and program data."""
    out: list[Finding] = []
    out.extend(_duplicate_ids(kb))
    for rec in kb.records.values():
        out.extend(_references(kb, rec))
        out.extend(_links(kb, rec))
        out.extend(_lifecycle(kb, rec, as_of))
    out.extend(program_findings(kb))
    return out


def _duplicate_ids(kb: KB) -> Iterator[Finding]:
    for rid, places in kb.seen_ids.items():
        for path, line in places[1:]:
            yield Finding(path, line, "KE202", f"id '{rid}' is already used by {places[0][0]}; take the next free id (`kedb new` does)")


def _references(kb: KB, rec: Record) -> Iterator[Finding]:
    m, src, prog = rec.meta, rec.source, kb.program
    if prog.services is not None and m.service not in prog.service_ids:
        known = ", ".join(sorted(prog.service_ids))
        yield at(src, ("service",), "KE205", f"service '{m.service}' is not in content/services.yml; known services: {known}")
    people = prog.people
    if prog.roles is not None:
        if m.owner not in people:
            yield at(src, ("owner",), "KE206", f"owner '{m.owner}' is not a person in content/roles.yml")
        if isinstance(m, Workaround) and m.verified_by and m.verified_by not in people:
            yield at(src, ("verified_by",), "KE206", f"verified_by '{m.verified_by}' is not a person in content/roles.yml")
        if isinstance(m, Problem):
            for i, act in enumerate(m.prevention_actions):
                if act.owner not in people:
                    yield at(
                        src, ("prevention_actions", i, "owner"), "KE206", f"action owner '{act.owner}' is not a person in content/roles.yml"
                    )
    if prog.settings is not None:
        tenants = {t.id for t in prog.settings.tenants}
        for i, t in enumerate(m.tenants):
            if t not in tenants:
                yield at(src, ("tenants", i), "KE207", f"tenant '{t}' is not listed in content/kedb.yml")


def _target(kb: KB, rid: str, kind: type) -> tuple[Record | None, bool]:
    """(record, exists-at-all): a link to a file that exists but failed validation is not 'broken'."""
    rec = kb.records.get(rid)
    if rec is not None:
        return (rec if isinstance(rec.meta, kind) else None), True
    return None, rid in kb.seen_ids


def _links(kb: KB, rec: Record) -> Iterator[Finding]:
    m, src = rec.meta, rec.source
    live = m.status != "retired"

    pairs: list[tuple[tuple[str | int, ...], str, type, str]] = []
    if isinstance(m, KnownError):
        if m.problem:
            pairs.append((("problem",), m.problem, Problem, "known_errors"))
        pairs += [(("workarounds", i), w, Workaround, "applies_to") for i, w in enumerate(m.workarounds)]
    elif isinstance(m, Workaround):
        pairs += [(("applies_to", i), k, KnownError, "workarounds") for i, k in enumerate(m.applies_to)]
    elif isinstance(m, Problem):
        pairs += [(("known_errors", i), k, KnownError, "problem") for i, k in enumerate(m.known_errors)]
    if m.superseded_by:
        pairs.append((("superseded_by",), m.superseded_by, object, ""))

    for path, rid, kind, back in pairs:
        target, exists = _target(kb, rid, kind)
        if target is None and not exists:
            what = {"Problem": "problem", "Workaround": "workaround", "KnownError": "known error"}.get(kind.__name__, "record")
            yield at(src, path, "KE203", f"'{rid}' is not an existing {what}")
            continue
        if target is None:
            continue
        if back:
            theirs = getattr(target.meta, back)
            mirrored = rec.id == theirs if isinstance(theirs, str) or theirs is None else rec.id in theirs
            if not mirrored:
                yield at(src, path, "KE204", f"{rid} does not link back: add '{rec.id}' to its '{back}'")
        if live and target.meta.status == "retired" and path[0] != "superseded_by":
            yield at(src, path, "KE208", f"{rid} is retired; link its replacement instead")


def _lifecycle(kb: KB, rec: Record, as_of: date) -> Iterator[Finding]:
    m, src, prog = rec.meta, rec.source, kb.program
    if m.created > m.review_by:
        yield at(src, ("review_by",), "KE307", f"review_by {m.review_by} is before created {m.created}")
    if review_overdue(m, as_of):
        yield at(src, ("review_by",), "KE305", f"review was due on {m.review_by}; review the record and move review_by forward")
    if m.status == "retired" and not m.retired_reason:
        yield at(src, ("status",), "KE308", "a retired record needs 'retired_reason' (and 'superseded_by' when replaced)")
    if isinstance(m, KnownError):
        yield from _known_error(kb, rec, m)
    elif isinstance(m, Workaround):
        if m.risk in ("medium", "high") and not rec.section("Rollback"):
            yield at(src, ("risk",), "KE303", f"a {m.risk}-risk workaround needs a non-empty '## Rollback' section")
        if m.status == "published" and not (m.verified_by and m.verified_on):
            yield at(src, ("status",), "KE310", "published workaround has no verified_by/verified_on; verify it")
    elif isinstance(m, Problem):
        yield from _problem(rec, m)
    if prog.roles is not None and prog.is_high_impact(m) and not prog.approvers(m.service):
        yield at(src, ("service",), "KE304", f"high-impact record, but service '{m.service}' has no approvers in content/roles.yml")


def _known_error(kb: KB, rec: Record, m: KnownError) -> Iterator[Finding]:
    src = rec.source
    if m.status == "published" and not m.no_workaround_reason:
        usable = [
            w
            for w in m.workarounds
            if (t := kb.records.get(w)) is not None
            and isinstance(t.meta, Workaround)
            and t.meta.status == "published"
            and t.meta.verified_by
            and t.meta.verified_on
        ]
        if not usable:
            yield at(
                src,
                ("status",),
                "KE301",
                "published known error has no published, verified workaround; link one or set 'no_workaround_reason'",
            )
    tri = kb.program.triage
    if tri is not None:
        expected = tri.matrix.get(m.impact, {}).get(m.urgency)
        if expected and expected != m.priority:
            yield at(
                src,
                ("priority",),
                "KE306",
                f"impact {m.impact} × urgency {m.urgency} gives {expected} in content/triage.yml, not {m.priority}",
            )
    fx = m.fix
    need = {
        "proposed": ["proposed_on"],
        "approved": ["change_ref", "approved_on"],
        "deployed": ["change_ref", "approved_on", "deployed_on"],
        "verified": ["change_ref", "approved_on", "deployed_on", "verified_on"],
    }.get(fx.status, [])
    missing = [n for n in need if getattr(fx, n) is None]
    if missing:
        yield at(src, ("fix", "status"), "KE309", f"fix status '{fx.status}' needs {', '.join('fix.' + n for n in missing)}")
    dates = [(n, getattr(fx, n)) for n in ("proposed_on", "approved_on", "deployed_on", "verified_on") if getattr(fx, n)]
    for (a, da), (b, db) in itertools.pairwise(dates):
        if db < da:
            yield at(src, ("fix", b), "KE307", f"fix.{b} {db} is before fix.{a} {da}")


def _problem(rec: Record, m: Problem) -> Iterator[Finding]:
    src = rec.source
    stage = PROBLEM_ORDER.index(m.status)
    if stage >= PROBLEM_ORDER.index("root-cause-identified"):
        for name in ("root_cause", "root_cause_identified"):
            if getattr(m, name) is None:
                yield at(src, ("status",), "KE302", f"status '{m.status}' needs '{name}'")
    if stage >= PROBLEM_ORDER.index("fix-proposed") and not m.fix_proposal:
        yield at(src, ("status",), "KE302", f"status '{m.status}' needs 'fix_proposal'")
    if m.status == "closed" and m.closed_on is None:
        yield at(src, ("status",), "KE302", "status 'closed' needs 'closed_on'")
    chain = [(n, getattr(m, n)) for n in ("opened", "root_cause_identified", "fixed_on", "closed_on") if getattr(m, n)]
    for (a, da), (b, db) in itertools.pairwise(chain):
        if db < da:
            yield at(src, (b,), "KE307", f"{b} {db} is before {a} {da}")


# ---------------------------------------------------------------- program data
def program_findings(kb: KB) -> list[Finding]:
    p: Program = kb.program
    out: list[Finding] = []
    people = p.people
    role_ids = {r.id for r in p.roles.roles} if p.roles else set()

    def person(src: Source, path: tuple[str | int, ...], handle: str, what: str) -> None:
        if p.roles is not None and handle not in people:
            out.append(at(src, path, "KE701", f"{what} '{handle}' is not a person in content/roles.yml"))

    def role(src: Source, path: tuple[str | int, ...], rid: str, what: str) -> None:
        if p.roles is not None and rid not in role_ids:
            out.append(at(src, path, "KE701", f"{what} '{rid}' is not a role in content/roles.yml"))

    src = p.sources.get("services.yml")
    if p.services and src:
        out.extend(repeated_ids(src, ((("services", i, "id"), s.id) for i, s in enumerate(p.services.services)), "service"))
    src = p.sources.get("roles.yml")
    if p.roles and src:
        out.extend(repeated_ids(src, ((("people", i, "handle"), x.handle) for i, x in enumerate(p.roles.people)), "person"))
        out.extend(repeated_ids(src, ((("roles", i, "id"), x.id) for i, x in enumerate(p.roles.roles)), "role"))
        out.extend(
            repeated_ids(
                src, ((("assignments", i, "service"), x.service) for i, x in enumerate(p.roles.assignments)), "assignment for service"
            )
        )
        for i, pr in enumerate(p.roles.people):
            for j, r in enumerate(pr.roles):
                role(src, ("people", i, "roles", j), r, "role")
        for i, h in enumerate(p.roles.maintainers):
            person(src, ("maintainers", i), h, "maintainer")
        for i, a in enumerate(p.roles.assignments):
            if p.services is not None and a.service not in p.service_ids:
                out.append(at(src, ("assignments", i, "service"), "KE701", f"service '{a.service}' is not in content/services.yml"))
            person(src, ("assignments", i, "primary_owner"), a.primary_owner, "primary owner")
            person(src, ("assignments", i, "support_owner"), a.support_owner, "support owner")
            for j, h in enumerate(a.approvers):
                person(src, ("assignments", i, "approvers", j), h, "approver")
    src = p.sources.get("kpis.yml")
    if p.kpis and src:
        ids = [k.id for k in p.kpis.kpis]
        out.extend(repeated_ids(src, ((("kpis", i, "id"), k) for i, k in enumerate(ids)), "KPI"))
        for kid in KPI_IDS:
            if kid not in ids:
                out.append(Finding(src.path, src.line_of("kpis"), "KE702", f"KPI '{kid}' has no definition"))
        for i, k in enumerate(p.kpis.kpis):
            if k.owner:
                person(src, ("kpis", i, "owner"), k.owner, "KPI owner")
    src = p.sources.get("risks.yml")
    if p.risks and src:
        out.extend(repeated_ids(src, ((("risks", i, "id"), r.id) for i, r in enumerate(p.risks.risks)), "risk"))
        out.extend(
            repeated_ids(
                src,
                ((("risks", i, "controls", j, "id"), c.id) for i, r in enumerate(p.risks.risks) for j, c in enumerate(r.controls)),
                "control",
            )
        )
        for i, r in enumerate(p.risks.risks):
            person(src, ("risks", i, "owner"), r.owner, "risk owner")
            for j, c in enumerate(r.controls):
                person(src, ("risks", i, "controls", j, "owner"), c.owner, "control owner")
    src = p.sources.get("triage.yml")
    if p.triage and src:
        out.extend(repeated_ids(src, ((("priorities", i, "id"), x.id) for i, x in enumerate(p.triage.priorities)), "priority"))
        for imp in ("high", "medium", "low"):
            for urg in ("high", "medium", "low"):
                if urg not in p.triage.matrix.get(imp, {}):  # type: ignore[call-overload]
                    out.append(at(src, ("matrix",), "KE704", f"the matrix has no priority for impact {imp} × urgency {urg}"))
        for i, t in enumerate(p.triage.risk_tags):
            role(src, ("risk_tags", i, "approver_role"), t.approver_role, "approver role")
    src = p.sources.get("escalation.yml")
    if p.escalation and src:
        tiers = {t.id for t in p.escalation.tiers}
        out.extend(repeated_ids(src, ((("tiers", i, "id"), t.id) for i, t in enumerate(p.escalation.tiers)), "tier"))
        for i, t in enumerate(p.escalation.tiers):
            if t.role:
                role(src, ("tiers", i, "role"), t.role, "role")
        for i, path in enumerate(p.escalation.paths):
            for end, key in ((path.source, "from"), (path.to, "to")):
                if end not in tiers:
                    out.append(at(src, ("paths", i, key), "KE701", f"tier '{end}' is not defined in 'tiers'"))
    src = p.sources.get("rhythm.yml")
    if p.rhythm and src:
        covered: set[int] = set()
        for i, ph in enumerate(p.rhythm.phases):
            role(src, ("phases", i, "owner"), ph.owner, "phase owner")
            if ph.end_day < ph.start_day:
                out.append(
                    at(
                        src,
                        ("phases", i, "end_day"),
                        "KE307",
                        f"phase '{ph.name}' ends (day {ph.end_day}) before it starts (day {ph.start_day})",
                    )
                )
            covered.update(range(ph.start_day, ph.end_day + 1))
        gaps = sorted(set(range(1, 31)) - covered)
        if gaps:
            out.append(at(src, ("phases",), "KE704", f"days {', '.join(map(str, gaps))} of the 30-day rhythm belong to no phase"))
    src = p.sources.get("kedb.yml")
    if p.settings and src:
        out.extend(repeated_ids(src, ((("tenants", i, "id"), t.id) for i, t in enumerate(p.settings.tenants)), "tenant"))
    for page in kb.playbooks:
        pb = page.meta
        role(page.source, ("owner",), pb.owner, "owner role")
        for i, st in enumerate(pb.steps):
            role(page.source, ("steps", i, "role"), st.role, "step role")
    out.extend(progression_findings(p))
    return out
