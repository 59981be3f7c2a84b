"""``kedb history ID``: a record's versions, change notes and approvals, for people or tools."""

from __future__ import annotations

import json
import textwrap
from dataclasses import dataclass
from pathlib import Path

from ..check.run import ensure_kb
from ..core.errors import EnvironmentProblem, UsageError
from ..core.load.loader import load
from ..core.trail import Approval, History, RecordHistory
from ..git import history as history_mod
from ..git.approvals import verify


@dataclass(frozen=True)
class Shown:
    record_id: str
    title: str | None
    history: History
    record: RecordHistory
    approvals: dict[str, Approval]  # commit -> judgement


def show(root: Path, record_id: str, ref: str = "HEAD", *, first_parent: bool = True, allow_shallow: bool = False) -> Shown:
    kb, _ = load(ensure_kb(root))
    hist = history_mod.read(kb.root, ref, first_parent=first_parent, allow_shallow=allow_shallow)
    if hist is None:
        raise EnvironmentProblem(f"{kb.root} is not a git repository, so there is no history to show")
    rh = hist.of(record_id)
    if not rh.versions and not rh.uncommitted:
        known = record_id in kb.records
        raise UsageError(
            f"{record_id} has no committed versions"
            + (" yet (it exists only in the working tree)" if known else f" at {ref}: no such record")
        )
    rec = kb.records.get(record_id)
    approvals = {}
    if rec is not None:
        approvals = {a.version.commit: a for a in verify(kb, hist, only=[record_id]).items}
    return Shown(record_id, rec.meta.title if rec else None, hist, rh, approvals)


def to_text(s: Shown) -> str:
    out = [f"{s.record_id}" + (f" — {s.title}" if s.title else " (no longer in the working tree)")]
    if s.history.partial:
        out.append("warning: shallow clone: history is partial; early versions, dates and approvals may be missing")
    if s.record.uncommitted:
        out.append(f"* uncommitted: the working tree has {s.record.uncommitted} changes not in any commit yet (not dated)")
    for v in reversed(s.record.versions):
        a = s.approvals.get(v.commit)
        head = f"v{v.number}  {v.date.date()}  {v.short}  {v.change}"
        if v.merge_request:
            head += f"  {v.merge_request}"
        out.append("")
        out.append(head)
        out.append(f"    {v.subject}")
        who = ", ".join(p.name for p in v.authors)
        out.append(f"    author{'s' * (len(v.authors) > 1)}: {who}")
        if v.approved_by:
            out.append(f"    approved-by: {'; '.join(v.approved_by)}")
        if v.reviewed_by:
            out.append(f"    reviewed-by: {'; '.join(v.reviewed_by)}")
        if a is not None and a.status != "not-required":
            out.append(f"    approval: {a.status}: {a.message}")
        if v.old_path:
            out.append(f"    renamed from {v.old_path}")
        if v.note:
            out.extend(textwrap.indent(v.note, "    | ").splitlines())
    return "\n".join(out)


def to_json(s: Shown) -> str:
    def ver(v: history_mod.Version) -> dict[str, object]:
        a = s.approvals.get(v.commit)
        return {
            "version": v.number,
            "commit": v.commit,
            "date": v.date.isoformat(),
            "change": v.change,
            "path": v.path,
            "old_path": v.old_path,
            "author": str(v.author),
            "authors": [str(p) for p in v.authors],
            "subject": v.subject,
            "note": v.note,
            "approved_by": list(v.approved_by),
            "reviewed_by": list(v.reviewed_by),
            "merge_request": v.merge_request,
            "approval": {"status": a.status, "message": a.message} if a else None,
        }

    return json.dumps(
        {
            "id": s.record_id,
            "title": s.title,
            "ref": s.history.ref,
            "partial": s.history.partial,
            "uncommitted": s.record.uncommitted,
            "versions": [ver(v) for v in s.record.versions],
        },
        indent=2,
        ensure_ascii=False,
    )


FORMATS = {"text": to_text, "json": to_json}
