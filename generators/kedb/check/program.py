"""Rules for the program data under ``content/`` (KE701–KE704, KE307 for rhythm phases, KE106 for
KPI targets that cannot be met or read, KE711–KE713 for the candidate decision log), one function per
file; ``content/progression.yml`` has its own module (:mod:`kedb.check.progression`).

Every reference to a person or a role is checked against ``content/roles.yml`` (KE701) only
when that file exists: without it there is nothing to check against, and KE013 already says
that it is missing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from functools import cached_property

from ..core.decisions import sequence_problems
from ..core.findings import Finding
from ..core.gate import GATE_DATE_TOLERANCE
from ..core.kb import KB, Program, Source
from ..core.program import KPI_IDS
from ..core.records import Problem
from ..core.standing import baseline_of
from .helpers import KeyPath, at, repeated_ids
from .progression import findings as progression_findings


@dataclass(frozen=True)
class _Refs:
    """Checks that a handle names a person, or an id names a role, in ``content/roles.yml``."""

    program: Program

    def person(self, src: Source, path: KeyPath, handle: str, what: str) -> Iterator[Finding]:
        if self.program.roles is not None and handle not in self.program.people:
            yield at(src, path, "KE701", f"{what} '{handle}' is not a person in content/roles.yml")

    @cached_property
    def role_ids(self) -> frozenset[str]:
        return frozenset(r.id for r in self.program.roles.roles) if self.program.roles else frozenset()

    def role(self, src: Source, path: KeyPath, rid: str, what: str) -> Iterator[Finding]:
        if self.program.roles is not None and rid not in self.role_ids:
            yield at(src, path, "KE701", f"{what} '{rid}' is not a role in content/roles.yml")


def program_findings(kb: KB, as_of: date | None = None) -> list[Finding]:
    p = kb.program
    refs = _Refs(p)
    out: list[Finding] = []
    for name, rules in FILE_RULES.items():
        src = p.sources.get(name)
        if src is not None:
            out.extend(rules(p, src, refs))
    if as_of is not None and (src := p.sources.get("kedb.yml")) is not None:
        out.extend(_gate_date(p, src, as_of))
    if (src := p.sources.get("kpis.yml")) is not None:
        out.extend(_kpi_targets(kb, src))
    out.extend(_playbooks(kb, refs))
    out.extend(progression_findings(p))
    if (src := p.sources.get("decisions.yml")) is not None:
        out.extend(_decisions(kb, src, refs, as_of))
    return out


def _services(p: Program, src: Source, refs: _Refs) -> Iterator[Finding]:
    if p.services:
        yield from repeated_ids(src, ((("services", i, "id"), s.id) for i, s in enumerate(p.services.services)), "service")


def _roles(p: Program, src: Source, refs: _Refs) -> Iterator[Finding]:
    r = p.roles
    if r is None:
        return
    yield from repeated_ids(src, ((("people", i, "handle"), x.handle) for i, x in enumerate(r.people)), "person")
    yield from repeated_ids(src, ((("roles", i, "id"), x.id) for i, x in enumerate(r.roles)), "role")
    yield from repeated_ids(
        src, ((("assignments", i, "service"), x.service) for i, x in enumerate(r.assignments)), "assignment for service"
    )
    for i, pr in enumerate(r.people):
        for j, rid in enumerate(pr.roles):
            yield from refs.role(src, ("people", i, "roles", j), rid, "role")
    for i, h in enumerate(r.maintainers):
        yield from refs.person(src, ("maintainers", i), h, "maintainer")
    for i, a in enumerate(r.assignments):
        if p.services is not None and a.service not in p.service_ids:
            yield at(src, ("assignments", i, "service"), "KE701", f"service '{a.service}' is not in content/services.yml")
        yield from refs.person(src, ("assignments", i, "primary_owner"), a.primary_owner, "primary owner")
        yield from refs.person(src, ("assignments", i, "support_owner"), a.support_owner, "support owner")
        for j, h in enumerate(a.approvers):
            yield from refs.person(src, ("assignments", i, "approvers", j), h, "approver")


def _kpis(p: Program, src: Source, refs: _Refs) -> Iterator[Finding]:
    if p.kpis is None:
        return
    ids = [k.id for k in p.kpis.kpis]
    yield from repeated_ids(src, ((("kpis", i, "id"), k) for i, k in enumerate(ids)), "KPI")
    for kid in KPI_IDS:
        if kid not in ids:
            yield Finding(src.path, src.line_of("kpis"), "KE702", f"KPI '{kid}' has no definition")
    for i, k in enumerate(p.kpis.kpis):
        if k.owner:
            yield from refs.person(src, ("kpis", i, "owner"), k.owner, "KPI owner")


def _kpi_targets(kb: KB, src: Source) -> Iterator[Finding]:
    """Targets that cannot be judged (:mod:`kedb.core.standing`): bounds in the wrong order, an
    absolute and a relative target at once, a relative target that would take a lower-is-better KPI
    below zero (KE106), and a relative target without a baseline to improve on (KE704). A negative
    percent never gets here: the model refuses it (KE106 from the schema).

    The baseline is missing when content/kpis.yml gives none *and* the baseline month's snapshot is
    stored without a figure for the KPI, or when it is zero. Before that snapshot is written (a new
    KB, whose baselines are its own first month) there is nothing to report yet."""
    kpis = kb.program.kpis
    if kpis is None:
        return
    base_p = kpis.checkpoints.baseline
    snap = next((s for s in kb.kpi_snapshots if s.period == base_p), None)
    for i, k in enumerate(kpis.kpis):
        t, path = k.target, ("kpis", i, "target")
        if t.min is not None and t.max is not None and t.min > t.max:
            yield at(src, (*path, "min"), "KE106", f"KPI '{k.id}': target min {t.min:g} is above max {t.max:g}, so no figure can meet it")
        if t.improve is None:
            continue
        imp = t.improve
        if t.absolute:
            yield at(
                src,
                (*path, "improve"),
                "KE106",
                f"KPI '{k.id}': the target is both absolute (min/max) and relative to the baseline (improve); keep one of them",
            )
        if imp.max_percent is not None and imp.min_percent > imp.max_percent:
            yield at(
                src,
                (*path, "improve", "min_percent"),
                "KE106",
                f"KPI '{k.id}': improve.min_percent {imp.min_percent:g} is above max_percent {imp.max_percent:g}",
            )
        over = [x for x in (imp.min_percent, imp.max_percent) if x is not None and x > 100]
        if k.lower_is_better and over:
            yield at(
                src,
                (*path, "improve"),
                "KE106",
                f"KPI '{k.id}' is lower-is-better: {max(over):g} % lower than its baseline would be below zero (at most 100)",
            )
        base = baseline_of(k, kpis.checkpoints, kb.kpi_snapshots)
        if base == 0:
            yield at(
                src,
                (*path, "improve"),
                "KE704",
                f"KPI '{k.id}' has a relative target but its baseline is 0: a change in percent of zero means nothing; "
                "give it an absolute target (min/max)",
            )
        elif base is None and snap is not None:
            v = snap.value(k.id)
            why = f"has no figure for it ({v.basis.split('; ')[0]})" if v is not None else "has no figure for it"
            yield at(
                src,
                (*path, "improve"),
                "KE704",
                f"KPI '{k.id}' has a relative target but no baseline: content/kpis.yml sets none and content/kpi/{base_p}.yml "
                f"{why}; set `baseline`, or give it an absolute target (min/max)",
            )


def _risks(p: Program, src: Source, refs: _Refs) -> Iterator[Finding]:
    if p.risks is None:
        return
    risks = p.risks.risks
    yield from repeated_ids(src, ((("risks", i, "id"), r.id) for i, r in enumerate(risks)), "risk")
    controls = ((("risks", i, "controls", j, "id"), c.id) for i, r in enumerate(risks) for j, c in enumerate(r.controls))
    yield from repeated_ids(src, controls, "control")
    for i, r in enumerate(risks):
        yield from refs.person(src, ("risks", i, "owner"), r.owner, "risk owner")
        for j, c in enumerate(r.controls):
            yield from refs.person(src, ("risks", i, "controls", j, "owner"), c.owner, "control owner")
            if c.remediation is not None:
                yield from refs.person(src, ("risks", i, "controls", j, "remediation", "owner"), c.remediation.owner, "remediation owner")
        for j, a in enumerate(r.actions):
            yield from refs.person(src, ("risks", i, "actions", j, "owner"), a.owner, "action owner")


def _triage(p: Program, src: Source, refs: _Refs) -> Iterator[Finding]:
    t = p.triage
    if t is None:
        return
    yield from repeated_ids(src, ((("priorities", i, "id"), x.id) for i, x in enumerate(t.priorities)), "priority")
    for imp in ("high", "medium", "low"):
        for urg in ("high", "medium", "low"):
            if urg not in t.matrix.get(imp, {}):  # type: ignore[call-overload]
                yield at(src, ("matrix",), "KE704", f"the matrix has no priority for impact {imp} × urgency {urg}")
    for i, tag in enumerate(t.risk_tags):
        yield from refs.role(src, ("risk_tags", i, "approver_role"), tag.approver_role, "approver role")


def _escalation(p: Program, src: Source, refs: _Refs) -> Iterator[Finding]:
    e = p.escalation
    if e is None:
        return
    tiers = {t.id for t in e.tiers}
    yield from repeated_ids(src, ((("tiers", i, "id"), t.id) for i, t in enumerate(e.tiers)), "tier")
    for i, t in enumerate(e.tiers):
        if t.role:
            yield from refs.role(src, ("tiers", i, "role"), t.role, "role")
    for i, path in enumerate(e.paths):
        for end, key in ((path.source, "from"), (path.to, "to")):
            if end not in tiers:
                yield at(src, ("paths", i, key), "KE701", f"tier '{end}' is not defined in 'tiers'")


def _rhythm(p: Program, src: Source, refs: _Refs) -> Iterator[Finding]:
    if p.rhythm is None:
        return
    covered: set[int] = set()
    for i, ph in enumerate(p.rhythm.phases):
        yield from refs.role(src, ("phases", i, "owner"), ph.owner, "phase owner")
        if ph.end_day < ph.start_day:
            msg = f"phase '{ph.name}' ends (day {ph.end_day}) before it starts (day {ph.start_day})"
            yield at(src, ("phases", i, "end_day"), "KE307", msg)
        covered.update(range(ph.start_day, ph.end_day + 1))
    gaps = sorted(set(range(1, 31)) - covered)
    if gaps:
        yield at(src, ("phases",), "KE704", f"days {', '.join(map(str, gaps))} of the 30-day rhythm belong to no phase")


def _settings(p: Program, src: Source, refs: _Refs) -> Iterator[Finding]:
    if p.settings:
        yield from repeated_ids(src, ((("tenants", i, "id"), t.id) for i, t in enumerate(p.settings.tenants)), "tenant")


def _gate_date(p: Program, src: Source, as_of: date) -> Iterator[Finding]:
    """A gate that starts in the future passes everything until then (the history check, KE815
    on main, judges the commit that set it the same way)."""
    since = p.settings.approvals_since if p.settings else None
    if since is not None and since > as_of + GATE_DATE_TOLERANCE:
        yield at(
            src,
            ("approvals_since",),
            "KE815",
            f"approvals_since {since} is in the future: every change until then would escape the approval gate; "
            "set the day the gate starts (today at the latest)",
        )


def _playbooks(kb: KB, refs: _Refs) -> Iterator[Finding]:
    for page in kb.playbooks:
        pb = page.meta
        yield from refs.role(page.source, ("owner",), pb.owner, "owner role")
        for i, st in enumerate(pb.steps):
            yield from refs.role(page.source, ("steps", i, "role"), st.role, "step role")


def _decisions(kb: KB, src: Source, refs: _Refs, as_of: date | None) -> Iterator[Finding]:
    """The candidate decision log (:mod:`kedb.core.decisions`): who decided is a person, its tenants,
    rule and missed problem exist (KE701); the fields each kind needs (KE101), repeated decisions
    (KE711) and dates out of order (KE712) by :func:`~kedb.core.decisions.sequence_problems`, the
    one rule ``kedb candidates`` writes by; a decision after the day of the check (KE712); and a
    problem a rejection ends must be closed without a root-cause date (KE713), which keeps it out
    of mean time to root cause."""
    log, p = kb.program.decisions, kb.program
    if log is None:
        return
    tenants = {t.id for t in p.settings.tenants} if p.settings else None
    rules = {r.id for r in p.recurrence.rules} if p.recurrence else None
    for i, d in enumerate(log.decisions):
        path = ("decisions", i)
        yield from refs.person(src, (*path, "by"), d.by, "decided by")
        for j, t in enumerate(d.tenants):
            if tenants is not None and t not in tenants:
                yield at(src, (*path, "tenants", j), "KE701", f"tenant '{t}' is not in content/kedb.yml")
        if d.rule and rules is not None and d.rule not in rules:
            yield at(src, (*path, "rule"), "KE701", f"rule '{d.rule}' is not in content/recurrence.yml")
        if as_of is not None and d.decided_on > as_of:
            yield at(
                src, (*path, "decided_on"), "KE712", f"decided on {d.decided_on}, after today ({as_of}): date a decision the day it is made"
            )
        rec = kb.records.get(d.problem) if d.problem else None
        if d.kind == "missed" and d.problem and (rec is None or not isinstance(rec.meta, Problem)):
            yield at(src, (*path, "problem"), "KE701", f"problem '{d.problem}' is not a record in known_errors/")
        if d.kind == "rejected" and rec is not None and isinstance(rec.meta, Problem):
            m = rec.meta
            if m.status != "closed":
                yield at(
                    src,
                    (*path, "problem"),
                    "KE713",
                    f"{m.id} is rejected here but still '{m.status}': delete the draft (git keeps it) or close it "
                    "(status closed, closed_on) without a root cause",
                )
            elif m.root_cause_identified is not None:
                yield at(
                    src,
                    (*path, "problem"),
                    "KE713",
                    f"{m.id} is rejected here but has root_cause_identified {m.root_cause_identified}: remove it (and "
                    "root_cause), or it counts into mean time to root cause",
                )
    for i, field, code, msg in sequence_problems(log):
        yield at(src, ("decisions", i, field), code, msg)


# content/<file> -> its rules, in the order findings are listed
FILE_RULES: dict[str, Callable[[Program, Source, _Refs], Iterator[Finding]]] = {
    "services.yml": _services,
    "roles.yml": _roles,
    "kpis.yml": _kpis,
    "risks.yml": _risks,
    "triage.yml": _triage,
    "escalation.yml": _escalation,
    "rhythm.yml": _rhythm,
    "kedb.yml": _settings,
}
