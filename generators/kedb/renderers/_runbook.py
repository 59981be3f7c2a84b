"""The runbook's program sections: document control, scope, RACI, contacts, the go-live checklist,
the next 30 days and the glossary, all from ``content/`` and the build context.

People are shown by name (a role by its name and the names of those who hold it); nothing here is
written by hand except the few terms of the glossary that are kedb's own.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from ..build import facts as D
from ..core import present as P
from ._docx import BodyWriter

if TYPE_CHECKING:
    from ..build.context import BuildContext

CHECK = "☐"


def role_name(ctx: BuildContext, role: str | None) -> str:
    """``Tier 2 engineer (Tom Becker, Sam Adeyemi)``: a role by its name, with the people holding it."""
    if not role:
        return P.NONE
    roles = ctx.kb.program.roles
    title = next((r.name for r in roles.roles if r.id == role), role) if roles else role
    names = [p.name for p in roles.people if role in p.roles] if roles else []
    return f"{title} ({', '.join(names)})" if names else title


def document_control(ctx: BuildContext, w: BodyWriter) -> None:
    i = ctx.info
    roles = ctx.kb.program.roles
    readers = [r.name for r in roles.roles] if roles else []
    playbook_reviews = [pb.meta.review_by for pb in ctx.kb.playbooks]
    w.p([("Document control", "bold")], keep=True)
    w.table(
        ["Item", "Value"],
        [
            ["Document", f"{D.title_of(ctx)}: implementation runbook"],
            ["Version", f"Issue of {P.day(i.date)}, built from commit {i.short}" + (" with uncommitted record changes" if i.dirty else "")],
            ["Status", "Issued: generated from the knowledge base on main; the copy built from the latest commit is the current one"],
            ["Owner", D.maintainers(ctx) + " (KB maintainers)" if D.maintainers(ctx) else P.NONE],
            ["Approver", role_name(ctx, "problem-manager")],
            [
                "Distribution",
                (", ".join(readers) or "the service desk") + f"; {i.audience} edition" + (f" for {i.tenant}" if i.tenant else ""),
            ],
            ["Classification", {"internal": "Internal: not for customers", "public": "Public"}.get(i.audience, i.audience)],
            ["Next review", min(playbook_reviews).isoformat() + " (the earliest playbook review date)" if playbook_reviews else P.NONE],
            ["Source", f"commit {i.commit or 'none'}; kedb {i.kedb_version}"],
        ],
        [1, 3.4],
    )


def scope(ctx: BuildContext, w: BodyWriter) -> None:
    kb = ctx.kb
    w.heading("Scope", 1)
    s = kb.program.settings
    tenants = [t.name for t in s.tenants] if s else []
    # Which customers the MSP serves is named only in the internal edition for all of them.
    if ctx.info.tenant:
        customers = f"customer {ctx.info.tenant} only"
    elif tenants and ctx.info.audience == "internal":
        customers = ", ".join(tenants) + " and every other customer"
    else:
        customers = "every customer"
    status = Counter(str(r.meta.status) for r in kb.records.values())
    services = kb.program.services
    w.p("This runbook is for the people who run the known-error program day to day: the service desk, tier 2, the problem "
        "managers and the KB maintainers. It covers:", keep=True)  # fmt: skip
    w.table(
        ["In scope", "What"],
        [
            ["Services", ", ".join(f"{x.name}" for x in services.services) if services else P.NONE],
            ["Customers", customers],
            [
                "Records",
                f"{P.count(len(kb.known_errors), 'known error')}, {P.count(len(kb.workarounds), 'workaround')}, "
                f"{P.count(len(kb.problems), 'problem')}; by status: " + ", ".join(f"{n} {k}" for k, n in sorted(status.items())),
            ],
            ["Published known errors", "each with its symptoms, workaround steps, rollback and reply to the customer"],
            ["Program", "roles and owners, triggers, playbooks, the go-live checklist, escalation paths, the change notes"],
            [
                "Not in scope",
                "confidential records (kept in the repository, never rendered)"
                + ("; records that are not published, and records scoped to one customer" if ctx.info.audience == "public" else ""),
            ],
        ],
        [1, 3.4],
    )


def raci(ctx: BuildContext, w: BodyWriter) -> None:
    """Two RACIs from content/: per service (roles.yml) and per playbook (the roles of its steps)."""
    roles = ctx.kb.program.roles
    if roles is None:
        return
    w.heading("RACI per service", 2)
    w.p("R responsible (runs day-to-day support), A accountable (primary owner), C consulted (approves high-impact records), "
        "I informed (the service desk, which applies the published workarounds). From content/roles.yml.", keep=True)  # fmt: skip
    desk = ", ".join(p.name for p in roles.people if "service-desk-agent" in p.roles) or "Service desk"
    w.table(
        ["Service", "R", "A", "C", "I"],
        [
            [
                D.service_name(ctx, a.service),
                D.person(ctx, a.support_owner),
                D.person(ctx, a.primary_owner),
                ", ".join(D.person(ctx, h) for h in a.approvers) or "none named",
                desk,
            ]
            for a in roles.assignments
        ],
        [1.6, 1, 1, 1.4, 1],
    )
    if not ctx.kb.playbooks:
        return
    w.heading("RACI per playbook", 2)
    w.p("A: the role that owns the playbook; R: the roles that carry out its steps; C: the roles whose only part is to sign off one "
        "of its gates (approval, verification).", keep=True)  # fmt: skip
    used = [r for r in roles.roles if any(r.id in {pb.meta.owner, *(s.role for s in pb.meta.steps)} for pb in ctx.kb.playbooks)]
    rows = []
    for pb in ctx.kb.playbooks:
        doers = {s.role for s in pb.meta.steps if not s.gate}
        gates = {s.role for s in pb.meta.steps if s.gate}
        row = [pb.meta.title]
        for r in used:
            letters = ("A" if r.id == pb.meta.owner else "") + ("R" if r.id in doers else "") + ("C" if r.id in gates - doers else "")
            row.append("/".join(letters) if letters else "")
        rows.append(row)
    w.table(["Playbook", *(r.name for r in used)], rows, [2.2, *([1] * len(used))])


def contacts(ctx: BuildContext, w: BodyWriter) -> None:
    roles = ctx.kb.program.roles
    s = ctx.kb.program.settings
    w.heading("Contacts", 1)
    desk = [*(s.allowlist.emails if s else []), *(s.allowlist.phones if s else [])]
    if desk:
        w.p(f"Service desk: {', '.join(x for x in desk if not x.startswith('*'))}.")
    if roles is None:
        w.p("content/roles.yml could not be read.", "Note")
        return
    names = {r.id: r.name for r in roles.roles}
    rows = []
    for p in roles.people:
        owns = [D.service_name(ctx, a.service) for a in roles.assignments if a.primary_owner == p.handle]
        approves = [D.service_name(ctx, a.service) for a in roles.assignments if p.handle in a.approvers]
        parts = ([f"owns {', '.join(owns)}"] if owns else []) + ([f"approves {', '.join(approves)}"] if approves else [])
        rows.append([p.name, ", ".join(names.get(r, r) for r in p.roles), p.email or P.NONE, "; ".join(parts) or P.NONE])
    w.p("Everyone named in the knowledge base, with the roles they hold and the services they own or approve.", keep=True)
    w.table(["Name", "Roles", "E-mail", "Services"], rows, [1.2, 1.6, 1.8, 2.4], keep=False)


def checklist(ctx: BuildContext, w: BodyWriter) -> None:
    """The 30-day rhythm as a checklist: each phase's activities, outputs and gate, dated and owned."""
    w.heading("Go-live checklist", 1)
    phases = D.rhythm_dates(ctx)
    if not phases:
        w.p("content/rhythm.yml could not be read.", "Note")
        return
    start = D.program_start(ctx)
    w.p(f"The 30-day implementation rhythm (content/rhythm.yml), dated from day 1 on {start}, four weeks before the week-4 "
        "checkpoint. Tick each line when it is done; a phase is complete when its gate holds.", keep=True)  # fmt: skip
    rows: list[list[object]] = []
    today = D.build_day(ctx)
    for first, last, ph in phases:
        when = f"{first} – {last}"
        who = role_name(ctx, ph.owner)
        rows.append([CHECK, [(f"Days {ph.start_day}–{ph.end_day}: {ph.name}", "bold")], when, who])
        rows += [[CHECK, a, "", ""] for a in ph.activities]
        rows += [[CHECK, f"Output: {o}", "", ""] for o in ph.outputs]
        if ph.gate:
            due = (last.isoformat(), "overdue") if last < today else last.isoformat()
            rows.append([CHECK, [("Gate: ", "bold"), (ph.gate, "")], due, who])
    w.table(["Done", "Check", "When", "Owner"], rows, [0.4, 4, 1.3, 1.6], keep=False)  # type: ignore[arg-type]


def next_30_days(ctx: BuildContext, w: BodyWriter, days: int = 30) -> None:
    today = D.build_day(ctx)
    items = D.calendar(ctx, days)
    w.heading("The next 30 days", 1)
    w.p(f"Everything due from {today} for {P.days(days)}, on the real calendar: rhythm phases, the monthly KPI snapshot and the "
        "flow audit, record reviews, prevention actions, risk reviews and actions, control remediations and records waiting for "
        "an approval. Dates in red are past.", keep=True)  # fmt: skip
    if not items:
        w.p("Nothing falls due.", "Note")
        return
    w.table(["Due", "What", "Who"], [[(i.day.isoformat(), "overdue") if i.overdue(today) else i.day.isoformat(), i.what, i.who] for i in items],
            [0.9, 4.6, 1.5], keep=False)  # fmt: skip


TERMS = {
    "Approval gate": "The rule that a change to a high-impact record is merged only with the approval of an approver of its service "
    "who did not write it; kedb judges every version on main against the policy in force before it.",
    "Approved-by trailer": "The line Approved-by: Name <e-mail> that the platform writes into a merge commit for each approval; it "
    "is the evidence the gate reads.",
    "Edition": "What one audience sees: the internal edition holds every record that is not confidential; the public edition only "
    "published public records; a customer edition only the records for that customer.",
    "High-impact record": "A known error of high impact, priority P1 or with a risk tag, a workaround of one, or a problem about one; "
    "it needs an approval to change.",
    "Known error": "A fault whose cause is understood well enough to recognise it and work round it, recorded with its symptoms, "
    "workaround and permanent fix.",
    "Merge request": "The proposal to change records on main; the platform asks the approvers CODEOWNERS names.",
    "Permanent fix": "The change that removes the root cause, raised through change management and verified when the signature stops recurring.",
    "Problem": "The investigation of the cause of one or more incidents; a problem record holds the evidence, method, root cause and fix.",
    "Repeat ticket": "An incident whose symptom signature was already seen on another ticket in the repeat window.",
    "Review date": "The day a record must be re-verified, updated or retired by (review_by).",
    "Symptom signature": "The normalised key of a ticket's fields (service, category, symptom, error codes) that matches repeats.",
    "Workaround": "Steps that restore service while the permanent fix is pending, with a rollback when they carry risk.",
}


def glossary(ctx: BuildContext, w: BodyWriter) -> None:
    p = ctx.kb.program
    terms = dict(TERMS)
    for k in p.kpis.kpis if p.kpis else ():
        terms[k.name] = f"{k.definition} ({P.better(k.lower_is_better)}; target {D.target_text(ctx, k)})"
    for c in p.triage.priorities if p.triage else ():
        terms[f"{c.id} {c.name}"] = f"{c.definition} First response within {P.quantity(c.response_minutes, 'minutes')}."
    for t in p.escalation.tiers if p.escalation else ():
        terms[t.name] = t.owns
    w.heading("Glossary", 1)
    w.table(["Term", "Meaning"], [[k, v] for k, v in sorted(terms.items(), key=lambda x: x[0].lower())], [1.2, 4], keep=False)
