"""``kedb review --base REF``: what an approver reads on a merge request.

For every record added, changed, renamed, retired or deleted since the merge base with REF:
the fields that changed (old → new), the body sections that changed (as a diff), illegal
status transitions, the approvals the change needs (from ``content/``) and the risks it
raises. Markdown output is meant to be posted as a merge-request comment as it is.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass
from typing import Any

from ..core.kb import KB, Program
from ..core.records import KnownError, Workaround
from .basediff import BaseComparison, RecordDiff

_LEVELS = {"public": 0, "internal": 1, "confidential": 2}
_RISK_LEVELS = {"low": 0, "medium": 1, "high": 2}
_FIX = ("none", "proposed", "approved", "deployed", "verified")
POLICY_PREFIXES = (
    "content/",
    "generators/",
    "templates/",
    ".gitlab-ci.yml",
    ".github/",
    "CODEOWNERS",
    ".gitlab/",
    "docs/CODEOWNERS",
    "mkdocs.yml",
)


@dataclass(frozen=True)
class RecordReview:
    diff: RecordDiff
    high_impact: bool
    approvers: tuple[str, ...]  # display names of who may approve (high-impact), empty otherwise
    risks: tuple[str, ...]

    @property
    def record_service(self) -> str:
        return str(self.diff.record.meta.service)


@dataclass(frozen=True)
class Review:
    cmp: BaseComparison
    records: tuple[RecordReview, ...]
    policy_files: tuple[tuple[str, str], ...]  # (status, path) of policy/validator files changed
    maintainers: tuple[str, ...]

    @property
    def needs_approval(self) -> bool:
        return any(r.high_impact for r in self.records) or bool(self.policy_files)


def _name(program: Program, handle: str) -> str:
    p = program.people.get(handle)
    return f"{p.name} (@{p.username})" if p and p.username else (p.name if p else handle)


def _get(rec: Any, name: str, default: Any = None) -> Any:
    return getattr(rec.meta, name, default) if rec is not None else default


def risks_of(d: RecordDiff, program: Program) -> list[str]:
    """Risks a change raises, in words an approver acts on."""
    out: list[str] = []
    old, new = d.base, d.head
    if d.change == "deleted" and old is not None:
        if _get(old, "status") == "published":
            out.append("a published record is deleted instead of retired: agents' bookmarks, links and ticket references break")
        return out
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
    if isinstance(new.meta, Workaround):
        rollback = new.section("Rollback").strip()
        if new.meta.risk in ("medium", "high") and not rollback:
            out.append(f"{new.meta.risk}-risk workaround without rollback steps")
        if old is not None and _RISK_LEVELS[new.meta.risk] > _RISK_LEVELS[_get(old, "risk", "low")]:
            out.append(f"workaround risk raised from {_get(old, 'risk')} to {new.meta.risk}")
        if old is not None and "Steps" in {t for t, _, _ in d.sections} and new.meta.status == "published":
            out.append("steps of a published workaround changed: agents follow the new steps as soon as this merges; is it re-verified?")
    if isinstance(new.meta, KnownError):
        if program.is_high_impact(new.meta) and (old is None or not program.is_high_impact(old.meta)):
            out.append(
                "record becomes high-impact (P1, high impact or a risk tag): approvals from the service's approvers apply from now on"
            )
        added_tags = set(new.meta.risk_tags) - set(_get(old, "risk_tags", []) or [])
        if added_tags:
            out.append(f"risk tag(s) added: {', '.join(sorted(added_tags))}")
        if (
            old is not None
            and "reply to customer" in {t.lower() for t, _, _ in d.sections}
            and (new.meta.risk_tags or new.meta.priority == "P1")
        ):
            out.append("customer reply text changed on a P1 or risk-tagged record: the incident lead approves replies before they are sent")
        fo, fn = _get(old, "fix"), new.meta.fix
        if fo is not None and _FIX.index(fn.status) < _FIX.index(fo.status):
            out.append(f"permanent-fix status goes back from {fo.status} to {fn.status}")
    if d.transition:
        out.append(d.transition[1])
    return out


def make(cmp: BaseComparison, head: KB) -> Review:
    prog = head.program
    items = []
    for d in cmp.diffs:
        metas = [r.meta for r in (d.base, d.head) if r is not None]
        high = any(prog.is_high_impact(m) for m in metas)
        service = metas[-1].service
        approvers = tuple(_name(prog, h) for h in prog.approvers(service)) if high else ()
        items.append(RecordReview(d, high, approvers, tuple(risks_of(d, prog))))
    policy = tuple((s, p) for s, p in cmp.other_files if p.startswith(POLICY_PREFIXES))
    maint = tuple(_name(prog, h) for h in (prog.roles.maintainers if prog.roles else []))
    return Review(cmp, tuple(items), policy, maint)


def _val(v: Any) -> str:
    if v is None or v == [] or v == "":
        return "—"
    if isinstance(v, (list, dict)):
        return json.dumps(v, ensure_ascii=False)
    return str(v)


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _section_diff(title: str, old: str, new: str) -> list[str]:
    lines = list(difflib.unified_diff(old.splitlines(), new.splitlines(), f"{title} (before)", f"{title} (after)", lineterm="", n=2))
    fence = "````" if any("```" in ln for ln in lines) else "```"
    return [f"<details><summary>{_md_cell(title)}</summary>", "", f"{fence}diff", *lines, fence, "", "</details>"]


def to_markdown(rv: Review) -> str:
    cmp = rv.cmp
    n = len(rv.records)
    out = [
        "## kedb review",
        "",
        f"Compared with `{cmp.ref}` (merge base `{cmp.base_commit[:10]}`): **{n} record{'s' * (n != 1)} changed**"
        + (f", {sum(r.high_impact for r in rv.records)} high-impact" if n else "")
        + ".",
        "",
    ]
    if rv.needs_approval:
        out.append("### Approvals this change needs")
        out.append("")
        for r in rv.records:
            if r.high_impact:
                who = ", ".join(r.approvers) or "**nobody is named: add approvers for this service in content/roles.yml**"
                out.append(f"- **{r.diff.id}** ({r.record_service}): one of {who}, who must not be an author of this change")
        if rv.policy_files:
            out.append(f"- **Policy, validator or CI files** ({len(rv.policy_files)}): a maintainer: {', '.join(rv.maintainers)}")
        out.append("")
        out.append("On merge, the merge commit must carry an `Approved-by:` trailer for each approval (see README).")
        out.append("")
    risky = [r for r in rv.records if r.risks]
    if risky:
        out += ["### Risks", ""]
        for r in risky:
            out += [f"- **{r.diff.id}**: {risk}" for risk in r.risks]
        out.append("")
    for r in rv.records:
        d = r.diff
        rec = d.record
        out.append(f"### {d.id} — {_md_cell(rec.meta.title)}")
        out.append("")
        where = f"`{rec.source.path}`"
        if d.base is not None and d.head is not None and d.base.source.path != d.head.source.path:
            where = f"`{d.base.source.path}` → `{d.head.source.path}`"
        out.append(f"*{d.change}* {d.kind} · service `{rec.meta.service}` · status {_status_line(d)} · {where}")
        out.append("")
        if d.fields:
            out += ["| field | before | after |", "|---|---|---|"]
            out += [f"| `{k}` | {_md_cell(_val(a))} | {_md_cell(_val(b))} |" for k, a, b in d.fields]
            out.append("")
        for title, a, b in d.sections:
            out += _section_diff(title, a, b)
            out.append("")
    if rv.policy_files:
        out += ["### Other files", ""]
        out += [f"- `{p}` ({s})" for s, p in rv.policy_files]
        out.append("")
    if not rv.records and not rv.policy_files:
        out.append("No records or policy files changed.")
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
        return {
            "id": d.id,
            "change": d.change,
            "kind": d.kind,
            "path": d.record.source.path,
            "old_path": d.base.source.path if d.base else None,
            "status": {"before": str(d.base.meta.status) if d.base else None, "after": str(d.head.meta.status) if d.head else None},
            "fields": [{"field": k, "before": a, "after": b} for k, a, b in d.fields],
            "sections": [
                {"title": t, "diff": "\n".join(difflib.unified_diff(a.splitlines(), b.splitlines(), lineterm="", n=2))}
                for t, a, b in d.sections
            ],
            "transition": {"code": d.transition[0], "message": d.transition[1]} if d.transition else None,
            "high_impact": r.high_impact,
            "approvers": list(r.approvers),
            "risks": list(r.risks),
        }

    return json.dumps(
        {
            "base": rv.cmp.ref,
            "merge_base": rv.cmp.base_commit,
            "records": [rec(r) for r in rv.records],
            "policy_files": [{"status": s, "path": p} for s, p in rv.policy_files],
            "maintainers": list(rv.maintainers),
        },
        indent=2,
        ensure_ascii=False,
    )


FORMATS = {"markdown": to_markdown, "json": to_json}
