"""The trail of a record: its versions in git and the approval each version needed and got.

These are the types only. :mod:`kedb.git.history` fills :class:`History` from one ``git log``
pass and :mod:`kedb.git.approvals` judges each version into an :class:`ApprovalReport`; the
renderers and the site read both without importing anything that runs git.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property
from typing import Literal

ChangeKind = Literal["added", "modified", "renamed", "deleted"]
Uncommitted = Literal["added", "modified", "deleted", "renamed"]


@dataclass(frozen=True)
class Person:
    name: str
    email: str

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>" if self.email else self.name


# The policy in force before a change: ((path, blob id), ...) of the policy files
# (kedb.core.gate.POLICY_FILES) that existed in the change's first parent, in that order.
PolicyRef = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Version:
    """One committed version of one record."""

    number: int
    commit: str
    date: datetime  # when it landed (committer date of the first-parent commit)
    author: Person  # author of the commit that landed it
    authors: tuple[Person, ...]  # everyone who wrote the change (merged side of a merge, co-authors)
    subject: str
    note: str  # the commit body without trailers: the change note
    approved_by: tuple[str, ...]
    reviewed_by: tuple[str, ...]
    merge_request: str | None
    change: ChangeKind
    path: str  # the record's path in this version
    old_path: str | None  # before a rename
    blob: str | None  # blob id of the file after the change (None when deleted)
    mode: str = "100644"  # git file mode after the change ("120000": a symlink, never judged as a record)
    policy: PolicyRef = ()  # the policy files as they were just before the change (see PolicyRef)
    seq: int = 0  # position of the commit on the line read (0 = oldest), to order versions of different records

    @property
    def short(self) -> str:
        return self.commit[:10]


@dataclass(frozen=True)
class Landing:
    """A commit on the main line that changed files other than records (a maintainer change)."""

    commit: str
    seq: int
    date: datetime
    author: Person
    authors: tuple[Person, ...]
    subject: str
    approved_by: tuple[str, ...]
    paths: tuple[str, ...]  # the paths it changed that are not record files
    policy: PolicyRef  # the policy in force before it
    changed_policy: PolicyRef  # the policy files as this commit left them (same order; deleted ones absent)

    @property
    def short(self) -> str:
        return self.commit[:10]


@dataclass(frozen=True)
class RecordHistory:
    id: str
    versions: tuple[Version, ...]  # oldest first
    uncommitted: Uncommitted | None = None  # the working tree differs from HEAD

    @property
    def latest(self) -> Version | None:
        return self.versions[-1] if self.versions else None

    @property
    def created(self) -> Version | None:
        return self.versions[0] if self.versions else None


@dataclass(frozen=True)
class History:
    ref: str
    head: str | None  # commit id the history was read at (None: no commits yet)
    head_date: datetime | None
    first_parent: bool
    partial: bool  # shallow clone read with --allow-shallow
    records: dict[str, RecordHistory] = field(default_factory=dict)
    commits: int = 0  # commits that touched records
    landings: tuple[Landing, ...] = ()  # main-line commits that changed non-record files (first-parent reads only)

    def of(self, record_id: str) -> RecordHistory:
        return self.records.get(record_id) or RecordHistory(record_id, ())

    def recent(self, limit: int = 20) -> list[tuple[str, Version]]:
        """The latest versions across all records, newest first (for changelogs)."""
        allv = [(rid, v) for rid, h in self.records.items() for v in h.versions]
        allv.sort(key=lambda x: (x[1].date, x[1].commit, x[0]), reverse=True)
        return allv[:limit]

    def by_commit(self, limit: int | None = None) -> list[CommitChange]:
        """The commits that changed records, newest first, each once with every version it made
        (records by id): what a changelog, a feed or an artefact lists, so one commit that touched
        45 records is one entry with its note, not 45 copies of it.

        The last answer is kept in the process with the versions it was made from, and given again while every record
        has the very same versions (``mkdocs serve`` reads the history again for each rebuild, with the same committed
        versions: grouping 20,000 of them took 0.07 s of each)."""
        ids, versions = tuple(self.records), tuple(h.versions for h in self.records.values())
        held = _BY_COMMIT[0] if _BY_COMMIT else None
        if (
            held is not None
            and held[0] == ids
            and len(held[1]) == len(versions)
            and all(a is b for a, b in zip(held[1], versions, strict=True))
        ):
            out = list(held[2])
        else:
            out = self._by_commit()
            _BY_COMMIT[:] = [(ids, versions, tuple(out))]
        return out if limit is None else out[:limit]

    def _by_commit(self) -> list[CommitChange]:
        grouped: dict[str, list[tuple[str, Version]]] = {}
        for rid, h in self.records.items():
            for v in h.versions:
                grouped.setdefault(v.commit, []).append((rid, v))
        out = []
        for commit, items in grouped.items():
            items.sort(key=lambda x: x[0])
            first = items[0][1]
            out.append(
                CommitChange(
                    commit=commit,
                    date=first.date,
                    author=first.author,
                    authors=first.authors,
                    subject=first.subject,
                    note=first.note,
                    merge_request=first.merge_request,
                    seq=first.seq,
                    versions=tuple(items),
                )
            )
        out.sort(key=lambda c: (c.date, c.seq, c.commit), reverse=True)
        return out


_BY_COMMIT: list[tuple[tuple[str, ...], tuple[tuple[Version, ...], ...], tuple[CommitChange, ...]]] = []  # by_commit's last


@dataclass(frozen=True)
class CommitChange:
    """One commit that changed records, with every version it made (see :meth:`History.by_commit`).
    Its words are those of its versions: in an edition that withholds them (``edition_trail``)
    the subject is the neutral one and the note empty."""

    commit: str
    date: datetime
    author: Person
    authors: tuple[Person, ...]
    subject: str
    note: str
    merge_request: str | None
    seq: int
    versions: tuple[tuple[str, Version], ...]  # (record id, version), by record id

    @property
    def short(self) -> str:
        return self.commit[:10]

    @property
    def record_ids(self) -> tuple[str, ...]:
        return tuple(rid for rid, _ in self.versions)


Status = Literal[
    "approved",
    "missing",
    "unauthorised",
    "self-approved",
    "unsigned",
    "unreadable",
    "gate-moved",
    "reply-unapproved",
    "not-required",
    "before-gate",
]
VIOLATIONS: frozenset[str] = frozenset(
    {"missing", "unauthorised", "self-approved", "unsigned", "unreadable", "gate-moved", "reply-unapproved"}
)
# How each judgement reads in the site, the runbook, the deck and the proof brief.
APPROVAL_LABEL: dict[str, str] = {
    "approved": "approved",
    "missing": "approval missing",
    "unauthorised": "approver not authorised",
    "self-approved": "self-approved",
    "unsigned": "approval not signed",
    "unreadable": "version unreadable",
    "gate-moved": "approval gate moved",
    "reply-unapproved": "customer reply not approved",
    "not-required": "no approval needed",
    "before-gate": "before the approval gate",
}


@dataclass(frozen=True)
class VersionState:
    """What the gate read of a record after one version (from its blob)."""

    status: str | None
    service: str | None
    high_impact: bool  # high-impact and live (published, retired; a problem from investigating on)


@dataclass(frozen=True)
class Approval:
    record: str
    version: Version
    state: VersionState
    approvers: tuple[str, ...]  # display names of the valid approvers (or the trailer text)
    status: Status
    message: str
    notes: tuple[str, ...] = ()  # warnings that do not change the verdict (an author kedb cannot identify)

    @property
    def violation(self) -> bool:
        return self.status in VIOLATIONS


@dataclass(frozen=True)
class ChangeApproval:
    """The verdict on a main-line commit that changed non-record files: a maintainer's approval."""

    landing: Landing
    approvers: tuple[str, ...]
    status: Status
    message: str
    notes: tuple[str, ...] = ()

    @property
    def violation(self) -> bool:
        return self.status in VIOLATIONS


@dataclass(frozen=True)
class ApprovalReport:
    items: tuple[Approval, ...]
    gate_since: date | None
    partial: bool
    changes: tuple[ChangeApproval, ...] = ()  # maintainer changes (non-record files), oldest first
    evidence: str = "trailers"  # what proves an approval: "trailers" or "signed" (content/kedb.yml)

    def trail(self, record_id: str) -> list[Approval]:
        return list(self._by_record.get(record_id, ()))

    @cached_property
    def _by_record(self) -> dict[str, list[Approval]]:
        """Items by record, made once: a site asks for the trail of every record."""
        found: dict[str, list[Approval]] = {}
        for a in self.items:
            found.setdefault(a.record, []).append(a)
        return found

    @property
    def violations(self) -> list[Approval]:
        return [a for a in self.items if a.violation]

    @property
    def change_violations(self) -> list[ChangeApproval]:
        return [c for c in self.changes if c.violation]

    @property
    def required(self) -> list[Approval]:
        return [a for a in self.items if a.status != "not-required"]
