"""``kedb review --base REF``: what an approver reads on a merge request.

For every record added, changed, renamed, retired or deleted since the merge base with REF:
the fields that changed (old → new) and the body sections that changed (as a diff); for an
added record every field, every section as text and the check findings it raises, since all of
it is being published. Then what the gate on ``main`` will require, asked of
:mod:`kedb.core.gate` (the one home of those rules, which the gate itself uses): which record
changes need an approver and of which services, every changed path that is not a record (a
maintainer change), and each risk with who must approve it.

People are named from ``content/roles.yml`` of the **target branch** as it is now (the policy in
force before the change: the gate judges a merge by its first parent), never of the merge
request's head: a merge request that appoints an approver does not choose its own. Only a
brand-new KB, whose target branch has no content yet, is named from its head.

A change to the customer reply of a P1 or risk-tagged known error is listed with the roles that
must approve it, decided by :func:`kedb.core.gate.reply_approvers` as the gate decides it (the
reply as the loader reads it, judged before and after, publishing and deleting included), with
the holders of each role named from the target branch's ``content/roles.yml`` and the risk
tags' roles from its ``content/triage.yml``.

Markdown output is meant to be posted as a merge-request comment as it is.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..core.findings import Finding
from ..core.gate import (
    RECORD_DIR,
    REPLY_FIELD,
    State,
    approving_services,
    gated,
    high_impact,
    maintainer_paths,
    needs_approval,
    reply_approvers,
    reply_digest,
    state_from_fields,
)
from ..core.kb import KB, Program, Record
from ..core.records import KnownError, Workaround
from .basediff import BaseComparison, RecordDiff

_LEVELS = {"public": 0, "internal": 1, "confidential": 2}
_RISK_LEVELS = {"low": 0, "medium": 1, "high": 2}
_IMPACT = {"low": 0, "medium": 1, "high": 2}
_PRIORITY = {"P3": 0, "P2": 1, "P1": 2}
_FIX = ("none", "proposed", "approved", "deployed", "verified")
NOT_GATED = "not gated (not live and high-impact before or after this change): the merge request's reviewer decides"


@dataclass(frozen=True)
class Risk:
    text: str
    who: str  # who must approve it, in words
    approvers: tuple[str, ...]  # display names of the people who may
    by_role: bool = False  # approved by a role's holders (customer replies), not by the service's approvers


@dataclass(frozen=True)
class NeededApproval:
    """What the gate requires of one record change."""

    needed: bool
    services: tuple[str, ...]  # the record's service before and after (two when it moved)
    approvers: tuple[tuple[str, tuple[str, ...]], ...]  # (service, display names of its approvers)

    @property
    def who(self) -> str:
        def one(names: tuple[str, ...], service: str) -> str:
            return f"one of {', '.join(names)}" if names else f"**nobody is named for {service}: add its approvers in content/roles.yml**"

        if len(self.approvers) == 1:
            return one(self.approvers[0][1], self.approvers[0][0])
        return " and ".join(f"an approver of {s} ({one(n, s)})" for s, n in self.approvers)


@dataclass(frozen=True)
class RecordReview:
    diff: RecordDiff
    high_impact: bool  # before or after the change
    approval: NeededApproval
    risks: tuple[Risk, ...]
    findings: tuple[Finding, ...]  # what the check says of the head version

    @property
    def record_service(self) -> str:
        s = self.approval.services
        return f"moved from {s[0]} to {s[1]}" if len(s) > 1 else str(self.diff.record.meta.service)


@dataclass(frozen=True)
class Review:
    cmp: BaseComparison
    records: tuple[RecordReview, ...]
    maintainer_files: tuple[tuple[str, str], ...]  # (status, path) of every changed path that is not a record
    maintainers: tuple[str, ...]
    policy_from_base: bool  # people named from the target branch's content/ (False: a brand-new KB, from its head)

    @property
    def needs_approval(self) -> bool:
        by_role = any(k.by_role for r in self.records for k in r.risks)
        return any(r.approval.needed for r in self.records) or bool(self.maintainer_files) or by_role


def policy_program(cmp: BaseComparison, head: KB) -> tuple[Program, bool]:
    """The program whose people approve and whose settings say what is high-impact: the target
    branch's as it is now (its tip will be the merge's first parent, whose policy the gate applies),
    unless it has no content at all (a brand-new KB)."""
    tip = cmp.tip
    if tip.program.sources or tip.seen_ids:
        return tip.program, True
    return head.program, False


def _name(program: Program, handle: str) -> str:
    p = program.people.get(handle)
    return f"{p.name} (@{p.username})" if p and p.username else (p.name if p else handle)


def _get(rec: Record | None, name: str, default: Any = None) -> Any:
    return getattr(rec.meta, name, default) if rec is not None else default


def _role_name(program: Program, role: str) -> str:
    for r in program.roles.roles if program.roles else ():
        if r.id == role:
            return r.name[:1].lower() + r.name[1:] if r.name[1:2].islower() else r.name
    return role.replace("-", " ")


def _reply_risk(program: Program, before: State | None, after: State | None) -> Risk | None:
    """The customer reply a reader can send changes on a P1 or risk-tagged record: who must approve it."""
    roles = reply_approvers(before, after, program.triage.risk_tags if program.triage else ())
    if not roles:
        return None
    sent_before, sent_after = (s is not None and s.live and s.reply is not None for s in (before, after))
    if sent_before and sent_after:
        what = "customer reply text changed"
    elif sent_after:
        what = "customer reply text of a new record" if before is None else "customer reply text published"
    else:
        what = "customer reply withdrawn (the record is deleted or no longer published)"
    return _role_risk(program, f"{what} on a P1 or risk-tagged record", roles)


def _role_risk(program: Program, text: str, roles: Iterable[str]) -> Risk:
    parts, names = [], []
    for role in roles:
        holders = [_name(program, p.handle) for p in (program.roles.people if program.roles else []) if role in p.roles]
        label = _role_name(program, role)
        names += holders
        parts.append(
            f"the {label}: {', '.join(holders)}"
            if holders
            else f"the {label}, and **nobody holds the {role} role: give it to someone in content/roles.yml (people[].roles) first**"
        )
    return Risk(text, "needs approval by " + "; and by ".join(parts), tuple(dict.fromkeys(names)), by_role=True)


def _downgrades(d: RecordDiff) -> list[str]:
    old, new = d.base, d.head
    if old is None or new is None:
        return []
    out = []
    po, pn = _get(old, "priority"), _get(new, "priority")
    if po in _PRIORITY and pn in _PRIORITY and _PRIORITY[pn] < _PRIORITY[po]:
        out.append(f"priority lowered from {po} to {pn}")
    io, in_ = _get(old, "impact"), _get(new, "impact")
    if io in _IMPACT and in_ in _IMPACT and _IMPACT[in_] < _IMPACT[io]:
        out.append(f"impact lowered from {io} to {in_}")
    removed = set(_get(old, "risk_tags", []) or []) - set(_get(new, "risk_tags", []) or [])
    if removed:
        out.append(f"risk tag(s) removed: {', '.join(sorted(removed))}")
    return out


def _why_it_leaves(d: RecordDiff) -> str:
    """What took a record out of the gate when no field was lowered: its status or its links."""
    a, b = _get(d.base, "status"), _get(d.head, "status")
    if a != b:
        return f"status goes from {a} to {b}"
    dropped = set(_get(d.base, "applies_to", []) or []) - set(_get(d.head, "applies_to", []) or [])
    return f"no longer applies to {', '.join(sorted(dropped))}" if dropped else "no longer high-impact"


def risks_of(
    d: RecordDiff, program: Program, before: State | None, after: State | None, ke_high: Callable[[str], bool], approval: NeededApproval
) -> list[Risk]:
    """Risks a change raises, in words an approver acts on, each with who must approve it."""
    approvers = tuple(n for _, names in approval.approvers for n in names)
    if not approval.needed:
        by_service = NOT_GATED
    elif len(approval.services) == 1:
        by_service = f"the approvers of {approval.services[0]} must agree ({approval.who})"
    else:
        by_service = f"{approval.who} must agree"
    out: list[str] = []
    old, new = d.base, d.head
    reply = _reply_risk(program, before, after)
    if d.change == "deleted" and old is not None:
        if _get(old, "status") == "published":
            out.append("a published record is deleted instead of retired: agents' bookmarks, links and ticket references break")
        if gated(before, ke_high):
            out.append("a record under the approval gate is deleted")
        return [Risk(t, by_service, approvers if approval.needed else ()) for t in out] + ([reply] if reply else [])
    assert new is not None
    so, sn = _get(old, "data_sensitivity"), _get(new, "data_sensitivity")
    if old is not None and _LEVELS.get(sn, 1) < _LEVELS.get(so, 1):
        out.append(
            f"sensitivity lowered from {so} to {sn}: the record reaches a wider audience"
            + (" (client-facing builds)" if sn == "public" else "")
        )
    to, tn = _get(old, "tenants", []), _get(new, "tenants", [])
    if old is not None and to and not tn:
        out.append(f"tenant scope removed (was {', '.join(to)}): the record is now shown to every tenant")
    elif old is not None and set(tn) - set(to) and to:
        out.append(f"tenant scope widened to {', '.join(sorted(set(tn) - set(to)))}")
    titles = {t.lower() for t, _, _ in d.sections}
    if isinstance(new.meta, Workaround):
        if new.meta.risk in ("medium", "high") and not new.section("Rollback").strip():
            out.append(f"{new.meta.risk}-risk workaround without rollback steps")
        if old is not None and _RISK_LEVELS[new.meta.risk] > _RISK_LEVELS[_get(old, "risk", "low")]:
            out.append(f"workaround risk raised from {_get(old, 'risk')} to {new.meta.risk}")
        if old is not None and "steps" in titles and new.meta.status == "published":
            out.append("steps of a published workaround changed: agents follow the new steps as soon as this merges; is it re-verified?")
    high_before = before is not None and high_impact(before, ke_high)
    high_after = after is not None and high_impact(after, ke_high)
    if high_after and not high_before and old is not None:
        out.append("record becomes high-impact: approvals from the service's approvers apply from now on")
    if isinstance(new.meta, KnownError):
        added_tags = set(new.meta.risk_tags) - set(_get(old, "risk_tags", []) or [])
        if added_tags:
            out.append(f"risk tag(s) added: {', '.join(sorted(added_tags))}")
        fo, fn = _get(old, "fix"), new.meta.fix
        if fo is not None and _FIX.index(fn.status) < _FIX.index(fo.status):
            out.append(f"permanent-fix status goes back from {fo.status} to {fn.status}")
    leaves = (
        ": the record leaves the approval gate"
        if gated(before, ke_high) and not gated(after, ke_high)
        else ": the record is no longer high-impact"
        if high_before and not high_after
        else ""
    )
    downs = _downgrades(d)
    out += [f"{t}{leaves}" for t in downs]
    if leaves and not downs:
        out.append(f"{_why_it_leaves(d)}{leaves}")
    if d.transition:
        out.append(d.transition[1])
    return [Risk(t, by_service, approvers if approval.needed else ()) for t in out] + ([reply] if reply else [])


def _record_dir_others(root: Path, commit: str) -> list[tuple[str, str]]:
    """Changed paths under known_errors/ (both sides of a rename); ``other_files`` leaves that folder out."""
    import git

    g = git.Repo(root).git(c="core.quotepath=off")
    out = []
    for line in g.diff("--name-status", "--find-renames", commit, "--", RECORD_DIR).splitlines():
        status, *paths = line.split("\t")
        out += [(status[0], p) for p in paths]
    out += [("A", p) for p in g.ls_files("--others", "--exclude-standard", "--", RECORD_DIR).splitlines() if p]
    return out


def make(cmp: BaseComparison, head: KB, findings: Iterable[Finding] = ()) -> Review:
    """The review of ``head`` against ``cmp``; ``findings`` are the check's findings on ``head``
    (``kedb.check.run.run``), shown beside the records they concern."""
    policy, from_base = policy_program(cmp, head)

    def ke_high(k: str) -> bool:
        rec = head.records.get(k) or cmp.base.records.get(k)
        return rec is not None and isinstance(rec.meta, KnownError) and policy.is_high_impact(rec.meta)

    def state(rec: Record | None) -> State | None:
        if rec is None:
            return None
        fields = {**rec.meta.model_dump(), REPLY_FIELD: reply_digest(rec.source.body)}
        return state_from_fields(rec.id, fields, policy.is_high_impact_fields)

    by_path: dict[str, list[Finding]] = {}
    for f in findings:
        by_path.setdefault(f.path, []).append(f)
    items = []
    for d in cmp.diffs:
        before, after = state(d.base), state(d.head)
        services = approving_services(before, after)
        approval = NeededApproval(
            needs_approval(before, after, ke_high),
            services,
            tuple((s, tuple(_name(policy, h) for h in policy.approvers(s))) for s in services),
        )
        high = any(s is not None and high_impact(s, ke_high) for s in (before, after))
        found = tuple(sorted(by_path.get(d.head.source.path, []))) if d.head else ()
        items.append(RecordReview(d, high, approval, tuple(risks_of(d, policy, before, after, ke_high, approval)), found))
    status = {p: s for s, p in [*cmp.other_files, *_record_dir_others(head.root, cmp.base_commit)]}
    maint_files = tuple((status[p], p) for p in maintainer_paths(status))
    maint = tuple(_name(policy, h) for h in (policy.roles.maintainers if policy.roles else []))
    return Review(cmp, tuple(items), maint_files, maint, from_base)


def _val(v: Any) -> str:
    if v is None or v == [] or v == "":
        return "—"
    if isinstance(v, (list, dict)):
        return json.dumps(v, ensure_ascii=False)
    return str(v)


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _fence(lines: list[str]) -> str:
    longest = max((len(m) for ln in lines for m in re.findall(r"`+", ln)), default=0)
    return "`" * max(3, longest + 1)


def _section_diff(title: str, old: str, new: str) -> list[str]:
    lines = list(difflib.unified_diff(old.splitlines(), new.splitlines(), f"{title} (before)", f"{title} (after)", lineterm="", n=2))
    fence = _fence(lines)
    return [f"<details><summary>{_md_cell(title)}</summary>", "", f"{fence}diff", *lines, fence, "", "</details>"]


def _section_text(title: str, text: str) -> list[str]:
    lines = text.splitlines()
    fence = _fence(lines)
    return [f"**{_md_cell(title)}**", "", f"{fence}text", *lines, fence]


def _fields_of(rec: Record) -> dict[str, Any]:
    return rec.meta.model_dump(mode="json", exclude_defaults=False)


def _approvals(rv: Review) -> list[str]:
    out = ["### Approvals this change needs", ""]
    for r in rv.records:
        if r.approval.needed:
            neither = "neither of them" if len(r.approval.approvers) > 1 else "who must not be"
            out.append(f"- **{r.diff.id}** ({r.record_service}): {r.approval.who}, {neither} an author of this change")
    if rv.maintainer_files:
        who = ", ".join(rv.maintainers) or "**nobody is named: add maintainers in content/roles.yml**"
        out.append(
            f"- **Maintainer changes** ({len(rv.maintainer_files)} file{'s' * (len(rv.maintainer_files) != 1)}, listed below): a maintainer: {who}"
        )
    for r in rv.records:
        for risk in r.risks:
            if risk.by_role:
                out.append(f"- **{r.diff.id}**, {risk.text}: {risk.who}")
    if not rv.needs_approval:
        out.append("- None: no live high-impact record and no file outside the records changes.")
    quiet = [r.diff.id for r in rv.records if not r.approval.needed]
    if quiet and rv.needs_approval:
        out.append(f"- Not gated (not live and high-impact before or after): {', '.join(quiet)}")
    out.append("")
    base = f"`{rv.cmp.ref}` at `{rv.cmp.tip_commit[:10]}` (the policy in force before this change)"
    source = base if rv.policy_from_base else f"this merge request (`{rv.cmp.ref}` has no content/ yet)"
    out.append(f"People are named from content/roles.yml of {source}.")
    if rv.policy_from_base and any(p == "content/roles.yml" for _, p in rv.maintainer_files):
        out.append("This merge request changes content/roles.yml: its approvers and maintainers count only after it merges.")
    out.append("On merge, the merge commit must carry an `Approved-by:` trailer for each approval (see README).")
    out.append("")
    return out


def _record(r: RecordReview) -> list[str]:
    d = r.diff
    rec = d.record
    out = [f"### {d.id} — {_md_cell(rec.meta.title)}", ""]
    where = f"`{rec.source.path}`"
    if d.base is not None and d.head is not None and d.base.source.path != d.head.source.path:
        where = f"`{d.base.source.path}` → `{d.head.source.path}`"
    out += [f"*{d.change}* {d.kind} · service `{rec.meta.service}` · status {_status_line(d)} · {where}", ""]
    if d.change == "added" and d.head is not None:
        out += ["| field | value |", "|---|---|"]
        out += [f"| `{k}` | {_md_cell(_val(v))} |" for k, v in _fields_of(d.head).items()]
        out.append("")
        for sec in d.head.source.sections.values():
            out += [*_section_text(sec.title, sec.text), ""]
    if d.fields:
        out += ["| field | before | after |", "|---|---|---|"]
        out += [f"| `{k}` | {_md_cell(_val(a))} | {_md_cell(_val(b))} |" for k, a, b in d.fields]
        out.append("")
    for title, a, b in d.sections:
        out += [*_section_diff(title, a, b), ""]
    if r.findings:
        out += ["Check findings:", ""]
        out += [f"- `{f.code}` {f.rule.name} ({f.severity.value}), line {f.line}: {_md_cell(f.message)}" for f in r.findings]
        out.append("")
    return out


def to_markdown(rv: Review) -> str:
    cmp = rv.cmp
    n = len(rv.records)
    gated_n = sum(r.approval.needed for r in rv.records)
    out = [
        "## kedb review",
        "",
        f"Compared with `{cmp.ref}` (merge base `{cmp.base_commit[:10]}`): **{n} record{'s' * (n != 1)} changed**"
        + (f", {sum(r.high_impact for r in rv.records)} high-impact, {gated_n} under the approval gate" if n else "")
        + ".",
        "",
        *_approvals(rv),
    ]
    risky = [r for r in rv.records if r.risks]
    if risky:
        out += ["### Risks", ""]
        out += [f"- **{r.diff.id}**: {risk.text} — {risk.who}" for r in risky for risk in r.risks]
        out.append("")
    for r in rv.records:
        out += _record(r)
    if rv.maintainer_files:
        out += ["### Maintainer changes (files outside the records)", ""]
        out += [f"- `{p}` ({s})" for s, p in rv.maintainer_files]
        out.append("")
    if not rv.records and not rv.maintainer_files:
        out.append("No records or other files changed.")
    return "\n".join(out).rstrip() + "\n"


def _status_line(d: RecordDiff) -> str:
    a = str(d.base.meta.status) if d.base else None
    b = str(d.head.meta.status) if d.head else None
    if a and b and a != b:
        return f"{a} → **{b}**"
    return b or f"{a} (deleted)"


def to_json(rv: Review) -> str:
    def rec(r: RecordReview) -> dict[str, Any]:
        d = r.diff
        added = d.change == "added" and d.head is not None
        if added and d.head is not None:
            fields = [{"field": k, "before": None, "after": v} for k, v in _fields_of(d.head).items()]
            sections = [{"title": s.title, "text": s.text} for s in d.head.source.sections.values()]
        else:
            fields = [{"field": k, "before": a, "after": b} for k, a, b in d.fields]
            sections = [
                {"title": t, "diff": "\n".join(difflib.unified_diff(a.splitlines(), b.splitlines(), lineterm="", n=2))}
                for t, a, b in d.sections
            ]
        return {
            "id": d.id,
            "change": d.change,
            "kind": d.kind,
            "path": d.record.source.path,
            "old_path": d.base.source.path if d.base else None,
            "status": {"before": str(d.base.meta.status) if d.base else None, "after": str(d.head.meta.status) if d.head else None},
            "fields": fields,
            "sections": sections,
            "transition": {"code": d.transition[0], "message": d.transition[1]} if d.transition else None,
            "high_impact": r.high_impact,
            "approval": {
                "needed": r.approval.needed,
                "services": list(r.approval.services),
                "approvers": {s: list(names) for s, names in r.approval.approvers},
            },
            "risks": [{"risk": k.text, "who": k.who, "approvers": list(k.approvers)} for k in r.risks],
            "findings": [{"code": f.code, "severity": f.severity.value, "line": f.line, "message": f.message} for f in r.findings],
        }

    return json.dumps(
        {
            "base": rv.cmp.ref,
            "merge_base": rv.cmp.base_commit,
            "people_from": "base" if rv.policy_from_base else "head",
            "records": [rec(r) for r in rv.records],
            "maintainer_files": [{"status": s, "path": p} for s, p in rv.maintainer_files],
            "maintainers": list(rv.maintainers),
        },
        indent=2,
        ensure_ascii=False,
    )


def _plain(text: str) -> str:
    """Markdown emphasis and code marks out, for the terminal."""
    return text.replace("**", "").replace("`", "")


def _text_approvals(rv: Review) -> list[str]:
    # The Markdown list, read without its marks: one home for what each line says.
    lines = [ln for ln in _approvals(rv)[2:] if ln]
    return ["Approvals this change needs", *(f"  {_plain(ln[2:])}" if ln.startswith("- ") else f"  {_plain(ln)}" for ln in lines)]


def _indent(lines: list[str], by: str = "    ") -> list[str]:
    return [by + ln if ln else "" for ln in lines]


def _text_record(r: RecordReview) -> list[str]:
    d = r.diff
    rec = d.record
    title = f"{d.id} — {rec.meta.title}"
    where = rec.source.path
    if d.base is not None and d.head is not None and d.base.source.path != d.head.source.path:
        where = f"{d.base.source.path} → {d.head.source.path}"
    out = [
        title,
        "=" * min(len(title), 100),
        f"{d.change} {d.kind} · service {rec.meta.service} · status {_plain(_status_line(d))}",
        where,
        "",
    ]
    if d.change == "added" and d.head is not None:
        fields = _fields_of(d.head)
        width = max(map(len, fields), default=0)
        out += ["  Fields", *(f"    {k:<{width}}  {_val(v)}" for k, v in fields.items()), ""]
        for sec in d.head.source.sections.values():
            out += [f"  {sec.title}", *_indent(sec.text.strip("\n").splitlines()), ""]
    if d.fields:
        width = max(len(k) for k, _, _ in d.fields)
        out += ["  Changed fields", *(f"    {k:<{width}}  {_val(a)} → {_val(b)}" for k, a, b in d.fields), ""]
    for sec_title, a, b in d.sections:
        diff = difflib.unified_diff(a.splitlines(), b.splitlines(), lineterm="", n=2)
        out += [f"  {sec_title} (changed)", *_indent([ln for ln in diff if not ln.startswith(("---", "+++"))]), ""]
    if r.findings:
        out += ["  Check findings"]
        out += [f"    line {f.line}: {f.code} {f.rule.name} ({f.severity.value}): {f.message}" for f in r.findings]
        out.append("")
    return out


def to_text(rv: Review) -> str:
    """The review for a problem owner's terminal: the same content as :func:`to_markdown`, without
    Markdown tables, fences or ``<details>`` blocks."""
    cmp = rv.cmp
    n = len(rv.records)
    gated_n = sum(r.approval.needed for r in rv.records)
    head = f"kedb review: compared with {cmp.ref} (merge base {cmp.base_commit[:10]})"
    out = [head, f"{n} record{'s' * (n != 1)} changed"]
    if n:
        out[-1] += f", {sum(r.high_impact for r in rv.records)} high-impact, {gated_n} under the approval gate"
    out[-1] += "."
    out += ["", *_text_approvals(rv), ""]
    risky = [(r, risk) for r in rv.records for risk in r.risks]
    if risky:
        out += ["Risks", *(f"  {r.diff.id}: {_plain(risk.text)} — {_plain(risk.who)}" for r, risk in risky), ""]
    for r in rv.records:
        out += _text_record(r)
    if rv.maintainer_files:
        out += ["Maintainer changes (files outside the records)", *(f"  {st}  {p}" for st, p in rv.maintainer_files), ""]
    if not rv.records and not rv.maintainer_files:
        out.append("No records or other files changed.")
    return "\n".join(out).rstrip() + "\n"


FORMATS = {"text": to_text, "markdown": to_markdown, "json": to_json}
