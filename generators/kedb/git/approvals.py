"""Approval verification on the main branch, and the approval trail every output shows.

Every version that left a record *published and high-impact* must have landed with an
``Approved-by:`` trailer naming a person who is an approver of that record's service in
``content/roles.yml`` and who did not write the change. The state of the record in each
version is read from the version's own blob (one ``git cat-file --batch`` process for all of
them), so a change that lowered the priority in the same commit is judged on what it left.

Approvers are those named in ``content/`` now: the trail answers "would today's approvers
accept this", which is what an auditor checks. ``approvals_since`` in ``content/kedb.yml``
marks when the gate started; earlier versions are listed as ``before-gate``, not hidden.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import date
from pathlib import Path

import yaml

from ..core.kb import KB, Program
from ..core.load import frontmatter
from ..core.trail import Approval, ApprovalReport, History, Version, VersionState

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when PyYAML has it: same data, faster
UNREADABLE = VersionState(None, None, False)  # a version whose text cannot be read or parsed


def _state(text: str, program: Program) -> VersionState:
    sp = frontmatter.split(text)
    if sp.issue:
        return UNREADABLE
    try:
        data = yaml.load(sp.front, Loader=_LOADER)
    except yaml.YAMLError:
        return UNREADABLE
    if not isinstance(data, dict):
        return UNREADABLE
    tags = data.get("risk_tags")
    high = program.is_high_impact_fields(data.get("impact"), data.get("priority"), tags if isinstance(tags, list) else None)
    return VersionState(str(data.get("status")) if data.get("status") else None, data.get("service"), high)


def _read_blobs(root: Path, blobs: list[str]) -> dict[str, str]:
    import git

    repo = git.Repo(root)
    out: dict[str, str] = {}
    for sha in blobs:
        try:
            raw = repo.odb.stream(bytes.fromhex(sha)).read()
        except Exception:
            continue
        text, _ = frontmatter.decode(raw)
        out[sha] = text
    return out


def judge(program: Program, record: str, v: Version, state: VersionState, gate_since: date | None) -> Approval:
    """Decide one version: was an approval needed, and did the right person give it?"""
    if state.status != "published" or not state.high_impact:
        return Approval(record, v, state, (), "not-required", "not a published high-impact version")
    if gate_since and v.date.date() < gate_since:
        return Approval(record, v, state, tuple(v.approved_by), "before-gate", f"landed before the approval gate started ({gate_since})")
    service = state.service or ""
    allowed = set(program.approvers(service))
    names = ", ".join(sorted(program.people[h].name if h in program.people else h for h in allowed)) or "(no approvers named)"
    authors = {p.handle for a in v.authors if (p := program.person_by_identity(str(a)))}
    if not v.approved_by:
        return Approval(record, v, state, (), "missing", f"no Approved-by: trailer; needs one of {names}")
    valid: list[str] = []
    self_approved: list[str] = []
    unknown: list[str] = []
    for text in v.approved_by:
        p = program.person_by_identity(text)
        if p is None or p.handle not in allowed:
            unknown.append(text)
        elif p.handle in authors:
            self_approved.append(p.name)
        else:
            valid.append(p.name)
    if valid:
        return Approval(record, v, state, tuple(valid), "approved", f"approved by {', '.join(valid)}")
    if self_approved:
        return Approval(
            record,
            v,
            state,
            tuple(self_approved),
            "self-approved",
            f"approved only by an author of the change ({', '.join(self_approved)})",
        )
    return Approval(
        record,
        v,
        state,
        tuple(unknown),
        "unauthorised",
        f"{', '.join(unknown)} is not an approver of service '{service}' (approvers: {names})",
    )


def _loaded_states(kb: KB, ids: Iterable[str]) -> dict[str, VersionState]:
    """The state of each record as loaded and checked, by the git blob id of its file's bytes.

    Most versions a build judges are the records' current ones: their blob is the file on disk,
    already parsed, so it is not read from git and parsed again (10,000 records: 4 s -> 0.5 s).
    A file whose bytes differ from every blob (uncommitted, or changed by git's filters) simply
    matches nothing, and its versions are read from git."""
    out: dict[str, VersionState] = {}
    for rid in ids:
        rec = kb.records.get(rid)
        if rec is None:
            continue
        try:
            data = (kb.root / rec.source.path).read_bytes()
        except OSError:
            continue
        m = rec.meta
        out[hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()] = VersionState(
            str(m.status), m.service, kb.program.is_high_impact(m)
        )
    return out


def verify(kb: KB, history: History, only: Iterable[str] | None = None) -> ApprovalReport:
    """Judge every version of every record in the KB (or of the records ``only`` names)."""
    settings = kb.program.settings
    gate = settings.approvals_since if settings else None
    ids = list(only) if only is not None else list(kb.records)
    versions = [(rid, v, v.blob) for rid in ids for v in history.of(rid).versions if v.blob]
    states = _loaded_states(kb, ids)
    texts = _read_blobs(kb.root, sorted({blob for _, _, blob in versions if blob not in states}))
    items = []
    for rid, v, blob in versions:
        state = states.get(blob)
        if state is None:
            text = texts.get(blob)
            state = _state(text, kb.program) if text is not None else UNREADABLE
        items.append(judge(kb.program, rid, v, state, gate))
    return ApprovalReport(tuple(items), gate, history.partial)
