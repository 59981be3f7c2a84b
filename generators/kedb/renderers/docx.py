"""``implementation-runbook.docx``: the operator runbook.

Document control and contents; scope; roles and owners with a RACI per service and per playbook;
contacts; the triggers (recurrence thresholds, triage classes with SLA timers, risk tags); the
playbook steps in order with their gates; the go-live checklist from the 30-day rhythm; the next
30 days on the real calendar; every published known error with its symptoms, workaround steps and
rollback steps; escalation paths; the change notes of the records it contains, one entry per
commit; a glossary. People are shown by name. Styles, page set-up and footer come from
``templates/reference.docx`` (see ``templates/make_reference.py``).

The contents list links each heading and shows its page through a PAGEREF field: LibreOffice
fills the numbers in as it lays the document out, Word when the list is updated (F9). There is no
TOC field and no "update fields" setting, so Word opens the file without a prompt.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ..build import facts as D
from ..core import present as P
from ..core.resources import find_template
from ..core.trail import VIOLATIONS
from . import _runbook as R
from . import file_name
from ._docx import BodyWriter
from ._md import blocks
from ._zip import normalise

if TYPE_CHECKING:
    from ..build.context import BuildContext
    from ..core.kb import Record

FILE_NAME = file_name("docx")


def render(ctx: BuildContext, out_dir: Path) -> Path:
    from docx import Document

    out_dir.mkdir(parents=True, exist_ok=True)
    doc = Document(str(find_template(ctx.kb.root, "reference.docx")))
    w = BodyWriter(doc)
    kes = D.published(ctx.kb.known_errors)

    w.p(f"{D.title_of(ctx)}: implementation runbook", "Title")
    w.p(" · ".join(x for x in (D.organisation(ctx), D.edition(ctx)) if x), "Subtitle")
    w.p(
        "Generated from the known-error database by kedb; change the records and program data in git, "
        "not this document. Every published known error is in it, with its workarounds and rollback steps.",
        "Note",
    )
    if ctx.info.history_note:
        w.p(ctx.info.history_note, "Note")
    R.document_control(ctx, w)
    toc_anchor = w.p("Contents", "TOC Heading")
    w.p("Page numbers: LibreOffice shows them on opening; in Word, select the contents and press F9.", "Note")

    R.scope(ctx, w)
    _roles(ctx, w)
    R.contacts(ctx, w)
    _triggers(ctx, w)
    _playbooks(ctx, w)
    R.checklist(ctx, w)
    R.next_30_days(ctx, w)
    _known_errors(ctx, w, kes)
    _escalation(ctx, w)
    _change_notes(ctx, w, kes)
    R.glossary(ctx, w)

    w.toc(toc_anchor)  # the entries go between the heading and the note
    w.finish()
    w.page_numbers()
    D.set_core_properties(doc.core_properties, ctx, "implementation runbook")
    path = out_dir / FILE_NAME
    doc.save(str(path))
    return normalise(path, ctx.info.date)


def _roles(ctx: BuildContext, w: BodyWriter) -> None:
    roles = ctx.kb.program.roles
    w.heading("Roles and owners", 1)
    if roles is None:
        w.p("content/roles.yml could not be read: no roles to show.", "Note")
        return
    w.heading("Roles", 2)
    holders = {r.id: [p.name for p in roles.people if r.id in p.roles] for r in roles.roles}
    w.table(
        ["Role", "Responsibilities", "People"],
        [[r.name, "\n".join(r.responsibilities), ", ".join(holders[r.id]) or "—"] for r in roles.roles],
        [1.2, 3, 1.6],
    )
    w.heading("Service owners and approvers", 2)
    w.table(
        ["Service", "Primary owner", "Approvers", "Support owner"],
        [
            [
                D.service_name(ctx, a.service),
                D.person(ctx, a.primary_owner),
                ", ".join(D.person(ctx, h) for h in a.approvers) or "none named",
                D.person(ctx, a.support_owner),
            ]
            for a in roles.assignments
        ],
        [1.6, 1.2, 1.6, 1.2],
    )
    R.raci(ctx, w)


def _triggers(ctx: BuildContext, w: BodyWriter) -> None:
    p = ctx.kb.program
    w.heading("Triggers", 1)
    if p.recurrence:
        w.heading("Recurrence thresholds", 2)
        w.p(
            f"A ticket is a repeat when its signature ({', '.join(p.recurrence.signature_fields)}) was seen in the previous "
            f"{p.recurrence.repeat_window_days} days. Any rule below that is met raises a problem candidate.",
            keep=True,
        )
        w.table(
            ["Rule", "Tickets", "Window", "Distinct", "Why"],
            [
                [
                    f"{r.name} ({r.id})",
                    str(r.min_tickets),
                    P.days(r.window_days),
                    f"{r.min_distinct} {r.distinct_by}",
                    r.description or "",
                ]
                for r in p.recurrence.rules
            ],
            [2, 0.9, 1, 1.1, 2.3],
        )
    if p.triage:
        w.heading("Triage classes and SLA timers", 2)
        w.table(
            ["Priority", "When", "First response", "Updates every", "Resolution"],
            [
                [
                    f"{c.id} {c.name}",
                    c.definition,
                    P.quantity(c.response_minutes, "minutes"),
                    P.quantity(c.update_minutes, "minutes"),
                    P.quantity(c.resolution_hours, "hours"),
                ]
                for c in p.triage.priorities
            ],
            [0.9, 3.2, 0.9, 0.9, 0.8],
        )
        w.heading("Impact × urgency", 2)
        levels = ["low", "medium", "high"]
        w.table(["Impact \\ urgency", *levels], [[i, *(p.triage.matrix.get(i, {}).get(u, "—") for u in levels)] for i in levels])  # type: ignore[call-overload]
        w.heading("Risk tags", 2)
        w.table(
            ["Tag", "When", "Handling", "Approves replies"],
            [[t.id, t.description, t.handling, R.role_name(ctx, t.approver_role)] for t in p.triage.risk_tags],
            [0.7, 2.2, 2.6, 1],
        )


def _playbooks(ctx: BuildContext, w: BodyWriter) -> None:
    w.heading("Playbooks", 1)
    if not ctx.kb.playbooks:
        w.p("No playbooks in content/playbooks/ for this edition.", "Note")
    for pb in ctx.kb.playbooks:
        m = pb.meta
        w.heading(m.title, 2)
        w.p(m.summary, keep=True)
        w.p(
            f"Owner: {R.role_name(ctx, m.owner)} · review by {m.review_by.isoformat()} · steps: {len(m.steps)}, "
            f"gates: {sum(1 for s in m.steps if s.gate)}",
            "Note",
            keep=True,
        )
        names = {r.id: r.name for r in ctx.kb.program.roles.roles} if ctx.kb.program.roles else {}
        items = []
        for s in m.steps:
            gate = f"[{s.gate} gate] " if s.gate else ""
            runs = [(gate, "bold"), (s.title, ""), (f" — {names.get(s.role, s.role)}.", "")]
            if s.detail:
                runs.append((" " + s.detail, ""))
            items.append([(t, k) for t, k in runs if t])
        w.numbered(items)  # type: ignore[arg-type]


def _known_errors(ctx: BuildContext, w: BodyWriter, kes: list[Record]) -> None:
    w.heading("Published known errors", 1)
    w.p(
        f"{P.count(len(kes), 'published known error')} in this edition, by id. Each lists the symptoms agents see, then the steps "
        "of each workaround and how to roll it back."
    )
    for ke in kes:
        m = ke.meta
        w.heading(f"{ke.id} {m.title}", 2)
        prb = D.problem_of(ctx, ke)
        fix = m.fix.status + (f" ({m.fix.change_ref})" if m.fix.change_ref else "")
        w.table(
            ["Service", "Priority", "Impact / urgency", "Risk tags", "Owner", "Review by", "Problem", "Fix"],
            [
                [
                    D.service_name(ctx, m.service),
                    m.priority,
                    f"{m.impact} / {m.urgency}",
                    ", ".join(m.risk_tags) or P.NONE,
                    D.person(ctx, m.owner),
                    m.review_by.isoformat(),
                    prb.id if prb else P.NONE,  # a problem this edition does not show is not named
                    fix,
                ]
            ],
        )
        w.heading("Symptoms", 3)
        w.bullets(m.symptoms)
        if m.error_codes:
            w.p([("Error codes: ", "bold"), *((c if i == 0 else ", " + c, "code") for i, c in enumerate(m.error_codes))])  # type: ignore[misc]
        was = D.workarounds_of(ctx, ke)
        if not was:
            w.heading("Workaround", 3)
            w.p(m.no_workaround_reason or "No workaround in this edition.")
            w.blocks(blocks(ke.section("Workaround")))
        for wa in was:
            _workaround(ctx, w, wa)
        reply = ke.section("Reply to customer")
        if reply:
            w.heading("Reply to customer", 3)
            w.blocks(blocks(reply))


def _workaround(ctx: BuildContext, w: BodyWriter, wa: Record) -> None:
    m = wa.meta
    w.heading(f"Workaround {wa.id}: {m.title}", 3)
    facts = [f"risk {m.risk}", f"status {m.status}"]
    if m.verified_by:
        facts.append(f"verified by {D.person(ctx, m.verified_by)}" + (f" on {m.verified_on.isoformat()}" if m.verified_on else ""))
    else:
        facts.append("not verified")
    if m.success_rate is not None:
        facts.append(f"success rate {m.success_rate:.0%}")
    if m.estimated_minutes:
        facts.append(f"about {P.quantity(m.estimated_minutes, 'minutes')}")
    if m.requires:
        facts.append("needs " + "; ".join(m.requires))
    w.p(" · ".join(facts), "Note")
    w.p([("Steps", "bold")])
    w.blocks(blocks(wa.section("Steps")))
    rollback = wa.section("Rollback")
    w.p([("Rollback", "bold")])
    if rollback:
        w.blocks(blocks(rollback))
    else:
        w.p(f"No rollback section: the workaround is {m.risk} risk.")
    check = wa.section("Verification")
    if check:
        w.p([("Verification", "bold")])
        w.blocks(blocks(check))


def _escalation(ctx: BuildContext, w: BodyWriter) -> None:
    e = ctx.kb.program.escalation
    w.heading("Escalation paths", 1)
    if e is None:
        w.p("content/escalation.yml could not be read.", "Note")
        return
    names = {t.id: t.name for t in e.tiers}
    w.heading("Tiers", 2)
    w.table(
        ["Tier", "Owns", "Staffed by", "Picks up within"],
        [
            [t.name, t.owns, R.role_name(ctx, t.role) if t.role else "outside our team", P.quantity(t.target_minutes or None, "minutes")]
            for t in e.tiers
        ],
        [1.3, 3.4, 1.1, 0.9],
    )
    w.heading("Paths", 2)
    w.table(
        ["From", "To", "When", "Hand-off must contain"],
        [[names.get(x.source, x.source), names.get(x.to, x.to), "\n".join(x.when), "\n".join(x.handoff)] for x in e.paths],
        [1, 1, 2.3, 2.3],
    )


def _change_notes(ctx: BuildContext, w: BodyWriter, kes: list[Record]) -> None:
    w.heading("Change notes", 1)
    if ctx.history is None:
        w.p(ctx.info.history_note or "No git history: change notes are not shown.", "Note")
        return
    if ctx.info.history_note:
        w.p(ctx.info.history_note, "Note")
    ids = list(dict.fromkeys([k.id for k in kes] + [wa.id for k in kes for wa in D.workarounds_of(ctx, k)]))
    trail = D.commit_trail(ctx, ids)
    if not trail:
        w.p("No committed versions yet.", "Note")
        return
    w.p(
        "Every commit that changed a record in this runbook, newest first, once with all the records it changed: the commit "
        "subject and body are the change note; approvals are those recorded in the merge commit and judged by the approval gate.",
        keep=True,
    )
    rows = []
    for ct in trail:
        c = ct.change
        note = ct.title + (f"\n{ct.note}" if ct.note else "") + (f"\nMerge request {c.merge_request}" if c.merge_request else "")
        records = "\n".join(f"{rid}\u00a0v{v.number}" for rid, v, _ in ct.versions)  # one per line: an id never breaks at its hyphen
        judged = [a for _, _, a in ct.versions if a is not None]
        word = "fail" if any(a.status in VIOLATIONS for a in judged) else "pass" if any(a.status == "approved" for a in judged) else ""
        verdicts = "; ".join(label if len(ct.versions) == 1 else f"{label} ({len(rids)})" for label, rids in ct.judgements.items())
        approval = (f"by {', '.join(ct.approvers)}: " if ct.approvers else "") + verdicts
        rows.append(
            [f"{P.day(c.date)}\n{c.short}", ", ".join(p.name for p in c.authors), note, records, (approval, word) if word else approval]
        )
    w.table(["Landed, commit", "Authors", "Change note", "Records", "Approval"], rows, [1, 1, 2.4, 2.2, 1.5], keep=False)
