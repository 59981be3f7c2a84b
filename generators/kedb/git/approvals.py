"""The approval gate on the main branch, and the approval trail every output shows.

Every change that landed on main is judged **against the policy in force just before it**: the
approvers, maintainers, people, high-impact rules, ``approvals_since``, evidence mode and the
roles that approve a tagged reply, read from ``content/roles.yml``, ``content/kedb.yml`` and
``content/triage.yml`` in the change's first parent (the base of the merge), never from today's
files. A merge request that appoints its own approver, or moves
the gate date, is judged by the policy it tries to change; an approver who leaves later does
not turn their past approvals into violations.

- **Records.** A version needs an approval when the record was live and high-impact before or
  after it (:mod:`kedb.core.gate` holds that rule): from an approver of every service it had,
  who did not write the change.
- **Customer replies.** A version that changes the reply a reader can send of a P1 or
  risk-tagged known error (before or after it) needs, besides, a holder of each role that
  approves the reply (:func:`kedb.core.gate.reply_approvers`), read from ``content/roles.yml``
  and the risk tags of ``content/triage.yml`` in force before it; one approver may cover several
  roles and services, an author covers none. When that is all a version still lacks, the verdict
  is ``reply-unapproved`` (KE819); a self-approval or a missing signature keeps its own verdict. Deleting or renaming a record keeps its versions in the trail.
  A version kedb cannot read (git cannot return the blob, the front-matter does not parse, the
  file is a symlink) is a violation: the gate never passes what it could not judge.
- **Everything else.** A main-line commit that changed any path that is not a record (content,
  generators, templates, CI, build files) needs a maintainer's approval (KE814).
- **The gate date.** ``approvals_since`` may be at most a day after the commit that sets it
  (time zones) and never moves later once set (KE815).
- **Evidence.** In ``trailers`` mode an ``Approved-by:`` trailer is the evidence, which proves
  an approval only when main accepts merges through the platform alone. In ``signed`` mode the
  commit carrying the trailer must also carry a good signature (git's own verification, see
  :mod:`kedb.git.signatures`) by a key in ``content/allowed_signers`` (or ``.asc``): a
  ``platform_signers`` key counts for every approver its trailers name, any other key only for
  its own holder.
"""

from __future__ import annotations

import bisect
import contextlib
import hashlib
import marshal
import shutil
import subprocess
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..core import forkpool, gate
from ..core.kb import KB, Program
from ..core.load import frontmatter
from ..core.load.cache import CACHE_DIR, read_kept, read_sealed, source_digest, write_kept, write_sealed
from ..core.load.cache import enabled as cache_enabled
from ..core.load.yamlstrict import parse_simple
from ..core.program import RiskTagDef, RolesFile, SettingsFile
from ..core.trail import (
    Approval,
    ApprovalReport,
    ChangeApproval,
    History,
    Landing,
    PolicyRef,
    Status,
    Version,
    VersionState,
)
from . import signatures as signing

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when PyYAML has it: same data, faster
_GATE_FIELDS = ("status", "service", "impact", "priority", "risk_tags", "applies_to")
_STORED = (*_GATE_FIELDS, gate.REPLY_FIELD)  # what is kept of each version: its gate fields and its reply's digest
SYMLINK_MODE = "120000"


class Unreadable(str):
    """Why a version could not be read (a ``str`` subclass, so it travels where fields would)."""


Fields = Mapping[str, Any] | Unreadable


# ---------------------------------------------------------------- reading versions and policies
def _fields(text: str) -> Fields:
    """The front-matter fields the gate needs, and the digest of its customer reply, from one
    version's text.

    The strict reader's fast path answers the common shapes exactly as libyaml would (three
    times faster, and a 10,000-record history has tens of thousands of old versions); anything
    else goes to libyaml."""
    sp = frontmatter.split(text)
    if sp.issue:
        return Unreadable(f"its front-matter cannot be read ({sp.issue[2]})")
    front = sp.front if sp.front.endswith("\n") else sp.front + "\n"
    simple = parse_simple(front)
    if simple is not None:
        data = simple.data
    else:
        try:
            data = yaml.load(sp.front, Loader=_LOADER)
        except yaml.YAMLError as exc:
            return Unreadable(f"its front-matter is not valid YAML ({str(exc).splitlines()[0]})")
    if not isinstance(data, dict):
        return Unreadable("its front-matter is not a mapping of fields")
    return {**{k: _plain(data.get(k)) for k in _GATE_FIELDS}, gate.REPLY_FIELD: gate.reply_digest(sp.body)}


PARALLEL_AT = 2000  # versions or records to read; below this, starting the workers costs more than they save
_RAW: dict[str, bytes] = {}  # the blobs a forked worker reads (_fields_of)


def _fields_of(shas: list[str], raw: Mapping[str, bytes] | None = None) -> list[tuple[str, Fields]]:
    blobs = _RAW if raw is None else raw
    return [(sha, _fields(frontmatter.decode(blobs[sha])[0])) for sha in shas]


def _parsed(raw: dict[str, bytes]) -> dict[str, Fields]:
    """The gate's fields of each blob's bytes, by blob id; read by the two forked workers when there are many (the
    14,000 old versions of a 10,000-record history took 0.65 s on one core while the other waited, 0.43 s on two)."""
    global _RAW
    shas = list(raw)
    if len(shas) < PARALLEL_AT or not forkpool.can_fork():
        return dict(_fields_of(shas, raw))
    _RAW = raw
    try:
        return dict(forkpool.chunked_map(_fields_of, shas))
    finally:
        _RAW = {}


def _plain(value: Any) -> Any:
    """A value as the gate compares it, in types the field cache can store (a date becomes text)."""
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return str(value)


_HEX = frozenset("0123456789abcdef")


def _read_blobs(root: Path, blobs: Iterable[str]) -> dict[str, bytes | None]:
    """The bytes of each blob, from one ``git cat-file --batch``; None when git cannot return it."""
    want = list(dict.fromkeys(blobs))
    out: dict[str, bytes | None] = {b: None for b in want}
    ask = [b for b in want if len(b) in (40, 64) and set(b) <= _HEX]
    if not ask:
        return out
    proc = subprocess.run(
        ["git", "cat-file", "--batch"], cwd=root, input="".join(f"{b}\n" for b in ask).encode(), capture_output=True, check=False
    )
    raw, pos = proc.stdout, 0
    for sha in ask:
        end = raw.find(b"\n", pos)
        if end < 0:
            break
        head = raw[pos:end].split()
        pos = end + 1
        if not head or head[0] != sha.encode():  # out of step with what was asked: trust nothing after it
            break
        if len(head) == 3 and head[1] == b"blob":
            size = int(head[2])
            out[sha] = raw[pos : pos + size]
            pos += size + 1  # the object, then a newline
        elif len(head) == 3:  # another kind of object under that id: skip it
            pos += int(head[2]) + 1
    return out


_KB: KB | None = None  # the KB a forked worker reads (_blob_fields)


def _loaded_fields(kb: KB, ids: Iterable[str]) -> dict[str, Fields]:
    """The gate's fields of each record as loaded and checked, by the git blob id of its file's bytes.

    Most versions the gate judges are the records' current ones: their blob is the file on disk,
    already parsed, so it is not read from git and parsed again (10,000 records: 4 s -> 0.5 s).
    A file whose bytes differ from every blob (uncommitted, or changed by git's filters) simply
    matches nothing, and its versions are read from git. Many records are read by the two forked workers."""
    present = [rid for rid in ids if rid in kb.records]
    if len(present) < PARALLEL_AT or not forkpool.can_fork():
        return dict(_blob_fields(present, kb))
    global _KB
    _KB = kb
    try:
        return dict(forkpool.chunked_map(_blob_fields, present))
    finally:
        _KB = None


def _blob_fields(ids: list[str], kb: KB | None = None) -> list[tuple[str, Fields]]:
    """Each record's blob id and gate fields (:func:`_loaded_fields`); a file that cannot be read is left out."""
    kb = kb or _KB
    assert kb is not None
    out: list[tuple[str, Fields]] = []
    for rid in ids:
        rec = kb.records[rid]
        try:
            data = (kb.root / rec.source.path).read_bytes()
        except OSError:
            continue
        m = rec.meta
        found = {k: getattr(m, k, None) for k in _GATE_FIELDS}
        out.append(
            (hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest(), {**found, gate.REPLY_FIELD: gate.reply_digest(rec.source.body)})
        )
    return out


class _FieldStore:
    """The gate's fields of old versions, kept in ``.kedb/cache/`` by blob id.

    A blob id names its bytes, so what was read from it never goes stale; the file is keyed by
    the fields the gate reads, and rewritten only when a run read new versions. It is sealed with
    this user's key like the loader's cache: a file put there by anyone else (committed with
    ``git add -f``, restored from a shared CI cache) could mark old versions as drafts, so it is
    never believed. Off with ``KEDB_NO_CACHE=1``."""

    NAME = "gate-fields-3.bin"

    def __init__(self, root: Path) -> None:
        self.path = Path(root) / CACHE_DIR / self.NAME
        self.known: dict[str, Fields] = {}
        self.new: dict[str, Any] = {}
        self.on = cache_enabled()
        payload = read_sealed(self.path, f"{CACHE_DIR}/{self.NAME}") if self.on else None
        if payload is not None:
            try:
                stored = marshal.loads(payload)
                if isinstance(stored, dict) and stored.get("fields") == list(_STORED):
                    self.known = {
                        k: (Unreadable(v) if isinstance(v, str) else dict(zip(_STORED, v, strict=True))) for k, v in stored["blobs"].items()
                    }
            except (ValueError, EOFError, TypeError):
                self.known = {}  # a damaged cache is read again from git

    def add(self, blob: str, found: Fields) -> Fields:
        self.new[blob] = str(found) if isinstance(found, Unreadable) else tuple(found[k] for k in _STORED)
        return found

    def save(self) -> None:
        if not self.on or not self.new:
            return
        blobs = {k: (str(v) if isinstance(v, Unreadable) else tuple(v[f] for f in _STORED)) for k, v in self.known.items()}
        blobs.update(self.new)
        with contextlib.suppress(OSError, ValueError):  # a cache that cannot be written only costs time
            write_sealed(self.path, marshal.dumps({"fields": list(_STORED), "blobs": blobs}))


@dataclass(frozen=True)
class Policy:
    """The policy in force before a change: ``program`` holds its roles and settings, ``risk_tags``
    the risk tags of ``content/triage.yml`` (none when the file is absent: every tag's reply then
    goes to the incident lead)."""

    program: Program | None  # None: not in force (no roles.yml or kedb.yml yet) or unreadable
    problem: str | None = None  # why it could not be read
    ssh_signers: str = ""
    gpg_keys: str = ""
    risk_tags: tuple[RiskTagDef, ...] = ()

    @property
    def settings(self) -> SettingsFile | None:
        return self.program.settings if self.program else None

    @property
    def gate_since(self) -> date | None:
        return self.settings.approvals_since if self.settings else None

    @property
    def signed(self) -> bool:
        return bool(self.settings and self.settings.approval_evidence == "signed")


class _TriageTags(BaseModel):
    """What the gate reads of ``content/triage.yml``: its risk tags, each validated as the loader
    validates it. The rest of the file (timers, matrix, intake) is not approval policy, so a
    triage file written for another kedb still gives the gate what it needs; a risk tag that does
    not validate makes the policy unreadable, like a broken roles.yml."""

    model_config = ConfigDict(extra="ignore")
    risk_tags: list[RiskTagDef] = Field(default_factory=list)


def _validate(model: type[BaseModel], raw: bytes | None, path: str) -> Any:
    if raw is None:
        raise _PolicyError(f"git cannot return {path}")
    text, _ = frontmatter.decode(raw)
    try:
        return model.model_validate(yaml.load(text, Loader=_LOADER))
    except yaml.YAMLError as exc:
        raise _PolicyError(f"{path} is not valid YAML ({str(exc).splitlines()[0]})") from exc
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(x) for x in err.get("loc", ()))
        raise _PolicyError(f"{path} does not validate ({where}: {err.get('msg')})") from exc


class _PolicyError(Exception):
    pass


@dataclass
class Policies:
    """Each distinct policy read once: by the blob ids of its files, not once per version."""

    root: Path
    _blobs: dict[str, bytes | None] = field(default_factory=dict)
    _done: dict[PolicyRef, Policy] = field(default_factory=dict)

    def prefetch(self, refs: Iterable[PolicyRef]) -> None:
        want = {blob for ref in refs for _, blob in ref} - set(self._blobs)
        if want:
            self._blobs.update(_read_blobs(self.root, sorted(want)))

    def get(self, ref: PolicyRef) -> Policy:
        if ref not in self._done:
            self._done[ref] = self._make(ref)
        return self._done[ref]

    def _make(self, ref: PolicyRef) -> Policy:
        self.prefetch([ref])
        files = dict(ref)
        if gate.ROLES_FILE not in files or gate.SETTINGS_FILE not in files:
            return Policy(None)
        try:
            roles = _validate(RolesFile, self._blobs.get(files[gate.ROLES_FILE]), gate.ROLES_FILE)
            settings = _validate(SettingsFile, self._blobs.get(files[gate.SETTINGS_FILE]), gate.SETTINGS_FILE)
            triage = (
                _validate(_TriageTags, self._blobs.get(files[gate.TRIAGE_FILE]), gate.TRIAGE_FILE) if gate.TRIAGE_FILE in files else None
            )
        except _PolicyError as exc:
            return Policy(None, str(exc))

        def text(path: str) -> str:
            raw = self._blobs.get(files[path]) if path in files else None
            return frontmatter.decode(raw)[0] if raw else ""

        tags = tuple(triage.risk_tags) if triage is not None else ()
        program = Program(roles=roles, settings=settings)
        return Policy(program, None, text(gate.SSH_SIGNERS_FILE), text(gate.GPG_SIGNERS_FILE), tags)


# ---------------------------------------------------------------- judging
Signatures = Mapping[str, Any]  # commit -> kedb.git.signatures.Signature


def _names(program: Program, handles: Iterable[str]) -> str:
    return ", ".join(sorted(program.people[h].name if h in program.people else h for h in handles)) or "(nobody is named)"


@dataclass(frozen=True)
class Verdict:
    status: Status
    approvers: tuple[str, ...]
    message: str
    notes: tuple[str, ...] = ()
    lacking: tuple[str, ...] = ()  # the groups no valid approval covers (empty when approved)


def decide(
    program: Program,
    groups: Mapping[str, Iterable[str]],
    approved_by: Iterable[str],
    authors: Iterable[object],
    *,
    signature: Any = None,
    signed: bool = False,
    platform_signers: Iterable[str] = (),
) -> Verdict:
    """Did the change get one valid approval from each group (``what -> handles allowed``)?

    Valid: named in an ``Approved-by:`` trailer, in the group, not an author of the change; in
    signed mode, also backed by ``signature`` (a good signature by a platform key, or by the
    approver's own key). Notes (authors kedb cannot identify) come with an approval only: a
    violation is already an error."""
    author_list = [str(a) for a in authors]
    author_handles = {p.handle for a in author_list if (p := program.person_by_identity(a))}
    unknown_authors = [a for a in author_list if program.person_by_identity(a) is None]
    notes = tuple(f"cannot tell whether {a} is an approver or an author: {a} is not a person in content/roles.yml" for a in unknown_authors)
    trailers = [t for t in approved_by if t.strip()]
    everyone = {h for hs in groups.values() for h in hs}
    wanted = "; ".join(f"{what}: one of {_names(program, hs)}" for what, hs in groups.items())
    if not trailers:
        return Verdict("missing", (), f"no Approved-by: trailer; needs {wanted}", lacking=tuple(groups))
    platform = set(platform_signers)
    valid: dict[str, str] = {}  # handle -> display name
    self_approved: list[str] = []
    unsigned: list[str] = []
    unknown: list[str] = []
    for text in trailers:
        p = program.person_by_identity(text)
        if p is None or p.handle not in everyone:
            unknown.append(text)
        elif p.handle in author_handles:
            self_approved.append(p.name)
        elif signed and not _signed_for(program, p.handle, signature, platform):
            unsigned.append(p.name)
        else:
            valid[p.handle] = p.name
    missing_groups = [what for what, hs in groups.items() if not set(hs) & set(valid)]
    if not missing_groups:
        names = tuple(dict.fromkeys(valid.values()))
        return Verdict("approved", names, f"approved by {', '.join(names)}", notes)
    lacking = "; ".join(f"{what}: one of {_names(program, groups[what])}" for what in missing_groups)
    short = tuple(missing_groups)
    if unsigned:
        how = signature.describe() if signature is not None else "not signed"
        return Verdict(
            "unsigned",
            tuple(unsigned),
            f"Approved-by: {', '.join(unsigned)}, but the commit is {how}; in signed mode an approval counts only on a "
            f"commit signed by the platform's merge key or by the approver (needs {lacking})",
            lacking=short,
        )
    if self_approved:
        return Verdict(
            "self-approved",
            tuple(self_approved),
            f"approved only by an author of the change ({', '.join(self_approved)}); needs {lacking}",
            lacking=short,
        )
    if valid:  # some groups approved, others not
        return Verdict(
            "unauthorised", tuple(valid.values()), f"approved by {', '.join(valid.values())}, but still needs {lacking}", lacking=short
        )
    return Verdict("unauthorised", tuple(unknown), f"{', '.join(unknown)} may not approve this change; needs {lacking}", lacking=short)


def _signed_for(program: Program, handle: str, signature: Any, platform: set[str]) -> bool:
    if signature is None or not signature.good:
        return False
    if signature.signer in platform:
        return True
    p = program.person_by_identity(signature.signer)
    return p is not None and p.handle == handle


# ---------------------------------------------------------------- the trail
@dataclass(frozen=True)
class _Judged:
    """A version with its states read: what the gate decides from."""

    record: str
    version: Version
    before: gate.State | Unreadable | None
    after: gate.State | Unreadable | None
    policy: Policy


def _read_state(rid: str, v: Version | None, fields: Mapping[str, Fields], policy: Policy) -> gate.State | Unreadable | None:
    """The record as ``v`` left it (None: no version, or deleted)."""
    if v is None or v.blob is None:
        return None
    if v.mode == SYMLINK_MODE:
        return Unreadable("it is stored as a symlink, which kedb refuses as a record")
    found = fields.get(v.blob, Unreadable("git cannot return it (missing object)"))
    if isinstance(found, Unreadable):
        return found
    test = policy.program.is_high_impact_fields if policy.program else Program().is_high_impact_fields
    return gate.state_from_fields(rid, found, test)


class _KnownErrorLine:
    """Whether each known error was high-impact at a point of the main line (for workarounds)."""

    def __init__(self, judged: list[_Judged]) -> None:
        self._line: dict[str, tuple[list[int], list[bool]]] = {}
        for j in judged:
            if gate.kind_of(j.record) != "known-error":
                continue
            seqs, highs = self._line.setdefault(j.record, ([], []))
            seqs.append(j.version.seq)
            highs.append(isinstance(j.after, gate.State) and j.after.own_high_impact)

    def at(self, seq: int) -> Callable[[str], bool]:
        def high(ke: str) -> bool:
            seqs, highs = self._line.get(ke, ([], []))
            i = bisect.bisect_right(seqs, seq)
            return bool(i) and highs[i - 1]

        return high


def _version_state(j: _Judged, ke_high: Callable[[str], bool]) -> VersionState:
    s = j.after if isinstance(j.after, gate.State) else (j.before if isinstance(j.before, gate.State) else None)
    if s is None:
        return VersionState(None, None, False)
    return VersionState(s.status, s.service, gate.gated(s, ke_high))


def _before(gate_since: date | None) -> str:
    if gate_since is None:
        return "the approval gate had not started (no approvals_since in content/kedb.yml)"
    return f"landed before the approval gate started ({gate_since})"


UNREADABLE_POLICY = "the approval policy in force before this change cannot be read: {}"
NO_POLICY = "no approval policy was in force yet (content/roles.yml and content/kedb.yml)"


def _decide_under(
    policy: Policy,
    groups: Mapping[str, Iterable[str]],
    approved_by: Iterable[str],
    authors: Iterable[object],
    commit: str,
    signatures: Signatures,
) -> Verdict:
    """:func:`decide` with what the policy in force says about evidence."""
    assert policy.program is not None
    settings = policy.settings
    return decide(
        policy.program,
        groups,
        approved_by,
        authors,
        signature=signatures.get(commit),
        signed=policy.signed,
        platform_signers=settings.platform_signers if settings else (),
    )


def judge_version(j: _Judged, ke_high: Callable[[str], bool], signatures: Signatures) -> Approval:
    """Decide one version of one record with the policy in force before it."""
    v, policy = j.version, j.policy
    state = _version_state(j, ke_high)

    def verdict(status: Status, message: str, approvers: tuple[str, ...] = (), notes: tuple[str, ...] = ()) -> Approval:
        return Approval(j.record, v, state, approvers, status, message, notes)

    if policy.problem:
        return verdict("unreadable", UNREADABLE_POLICY.format(policy.problem))
    gate_since = policy.gate_since
    before_gate = gate_since is None or v.date.date() < gate_since
    unreadable = [s for s in (j.before, j.after) if isinstance(s, Unreadable)]
    if unreadable and policy.program is not None:
        if before_gate:
            return verdict("before-gate", _before(gate_since))
        which = "this version" if isinstance(j.after, Unreadable) else "the version before it"
        return verdict("unreadable", f"kedb cannot read {which}: {unreadable[0]}; a version the gate cannot judge never passes")
    before = j.before if isinstance(j.before, gate.State) else None
    after = j.after if isinstance(j.after, gate.State) else None
    by_service = gate.needs_approval(before, after, ke_high)
    reply_roles = gate.reply_approvers(before, after, policy.risk_tags)
    if not unreadable and not by_service and not reply_roles:
        return verdict("not-required", "not a change to a live high-impact record")
    if policy.program is None:  # the KB's first policy is being set up (high-impact by kedb's defaults)
        return verdict("before-gate", NO_POLICY)
    if before_gate:
        return verdict("before-gate", _before(gate_since), tuple(v.approved_by))
    program = policy.program
    groups: dict[str, list[str]] = {}
    if by_service:
        services = gate.approving_services(before, after)
        groups = {f"approvers of {s}": program.approvers(s) for s in services} or {"approvers": []}
    for_reply = {reply_group(r): role_holders(program, r) for r in reply_roles}
    d = _decide_under(policy, groups | for_reply, v.approved_by, v.authors, v.commit, signatures)
    if d.status in ("missing", "unauthorised") and all(what in for_reply for what in d.lacking):
        return verdict("reply-unapproved", f"{REPLY_CHANGED}; {d.message}", d.approvers, d.notes)
    return verdict(d.status, d.message, d.approvers, d.notes)


REPLY_CHANGED = "its customer reply changed on a P1 or risk-tagged known error"


def reply_group(role: str) -> str:
    """How the approvers a reply needs are named in a verdict: by the role they must hold."""
    return f"the {role} role for the customer reply"


def role_holders(program: Program, role: str) -> list[str]:
    """Handles of the people who hold ``role`` in content/roles.yml (empty when nobody does)."""
    return [p.handle for p in program.roles.people if role in p.roles] if program.roles else []


def judge_landing(landing: Landing, policy: Policy, signatures: Signatures) -> ChangeApproval:
    """Decide one main-line commit that changed non-record files: a maintainer must approve it."""

    def verdict(status: Status, message: str, approvers: tuple[str, ...] = (), notes: tuple[str, ...] = ()) -> ChangeApproval:
        return ChangeApproval(landing, approvers, status, message, notes)

    if policy.program is None:
        return verdict("unreadable", UNREADABLE_POLICY.format(policy.problem)) if policy.problem else verdict("before-gate", NO_POLICY)
    gate_since = policy.gate_since
    if gate_since is None or landing.date.date() < gate_since:
        return verdict("before-gate", _before(gate_since))
    maintainers = list(policy.program.roles.maintainers) if policy.program.roles else []
    d = _decide_under(policy, {"maintainers": maintainers}, landing.approved_by, landing.authors, landing.commit, signatures)
    return verdict(d.status, d.message, d.approvers, d.notes)


def gate_moves(landing: Landing, before: Policy, after: Policy) -> ChangeApproval | None:
    """A gate date set in the future, moved later than it was or removed, or a policy that stops
    being readable: an error whoever approved it (each would let later changes escape)."""
    new, old = after.gate_since, before.gate_since
    if before.program is not None and after.program is None:
        why = after.problem or "content/roles.yml or content/kedb.yml was removed"
        return ChangeApproval(landing, (), "gate-moved", f"{why}: the approval gate stops")
    if new is None:
        if old is None:
            return None
        return ChangeApproval(landing, (), "gate-moved", f"approvals_since ({old}) removed: the approval gate stops")
    if new == old:  # another policy file changed; the date did not move
        return None
    if old is not None and new > old:
        return ChangeApproval(
            landing, (), "gate-moved", f"approvals_since moved later, from {old} to {new}: changes in between would escape the gate"
        )
    if new > landing.date.date() + gate.GATE_DATE_TOLERANCE:
        return ChangeApproval(
            landing,
            (),
            "gate-moved",
            f"approvals_since is set to {new}, after the day it was set ({landing.date.date()}): every change until then would escape the gate",
        )
    return None


def _may_count(policy: Policy, approved_by: tuple[str, ...], when: datetime) -> bool:
    """A signed-mode approval after the gate: its commit's signature decides."""
    since = policy.gate_since
    return policy.signed and bool(approved_by) and since is not None and when.date() >= since


def _signatures(root: Path, policies: Iterable[tuple[Policy, str]]) -> dict[str, Any]:
    """Verify the signatures of the commits whose approval counts only when signed, grouped by
    the allowed keys in force for each."""
    by_keys: dict[tuple[str, str], set[str]] = {}
    for policy, commit in policies:
        if policy.signed:
            by_keys.setdefault((policy.ssh_signers, policy.gpg_keys), set()).add(commit)
    out: dict[str, Any] = {}
    for (ssh, gpg), commits in by_keys.items():
        # The same commit can fall under two policies only in theory (it has one parent); keep the first.
        for sha, sig in signing.verify(root, sorted(commits), ssh or None, gpg or None).items():
            out.setdefault(sha, sig)
    return out


def verify(kb: KB, history: History, only: Iterable[str] | None = None) -> ApprovalReport:
    """Judge every version of every record (or of the records ``only`` names), present or deleted,
    and every main-line change to non-record files, each with the policy in force before it.

    The report on every record is kept per head (:class:`_ReportCache`): it is what the commits say."""
    if not history.first_parent:
        raise ValueError("approvals are judged on the main line: read the history with first_parent=True")
    if only is not None or not history.head:
        return _verify(kb, history, only)
    cache = _ReportCache(kb, history)
    report = cache.load()
    if report is None:
        report = _verify(kb, history, None)
        cache.save(report)
    return report


class _ReportCache:
    """The approval report of a head, kept in ``.kedb/cache/approvals.bin`` between runs.

    Everything the judgement reads is named by the head or by git object ids (each version's
    fields and policy files, the allowed signing keys in force, the commits' signatures), except
    what the key adds: kedb's code, the gate's start and evidence mode of the working tree's
    ``content/kedb.yml``, the record ids of the KB (a record only in the working tree has no
    version to judge, but is listed), the signature tools this machine verifies with, and the day
    (a GPG key that expires turns a good signature into an expired one). So an
    edit of a record's text, which changes none of these, reuses the report of its head: 10,000
    records took 4.5 s to judge here. Sealed with this user's key like the other caches (a report
    kedb did not write itself is never believed); one entry; ``KEDB_NO_CACHE=1`` turns it off."""

    NAME = "approvals.bin"

    def __init__(self, kb: KB, history: History) -> None:
        settings = kb.program.settings
        ids = sorted(set(kb.records) | set(history.records))
        parts = (
            "kedb-approvals 1",
            source_digest(),
            str(history.head),
            str(history.partial),
            str(settings.approvals_since if settings else None),
            str(settings.approval_evidence if settings else None),
            hashlib.sha256("\n".join(ids).encode()).hexdigest(),
            str(shutil.which("ssh-keygen")),
            str(shutil.which("gpg")),
            date.today().isoformat(),  # a GPG signature or key can expire: a signature's verdict holds for the day
        )
        self.key = "\0".join(parts).encode()
        self.path = Path(kb.root) / CACHE_DIR / self.NAME

    def load(self) -> ApprovalReport | None:
        return read_kept(self.path, self.key, ApprovalReport, remember=True)

    def save(self, report: ApprovalReport) -> None:
        write_kept(self.path, self.key, report, remember=True)


def _verify(kb: KB, history: History, only: Iterable[str] | None) -> ApprovalReport:
    ids = list(only) if only is not None else sorted(set(kb.records) | set(history.records))
    policies = Policies(kb.root)
    per_record = [(rid, history.of(rid).versions) for rid in ids]
    policies.prefetch({v.policy for _, vs in per_record for v in vs} | {x.policy for x in history.landings})
    policies.prefetch({x.changed_policy for x in history.landings})
    loaded = _loaded_fields(kb, ids)
    store = _FieldStore(kb.root)
    fields: dict[str, Fields] = {**store.known, **loaded}
    blobs = sorted({v.blob for _, vs in per_record for v in vs if v.blob and v.blob not in fields})
    raws = _read_blobs(kb.root, blobs)
    parsed = _parsed({sha: raw for sha, raw in raws.items() if raw is not None})
    for sha, raw in raws.items():
        fields[sha] = Unreadable("git cannot return it (missing object)") if raw is None else store.add(sha, parsed[sha])
    store.save()

    judged: list[_Judged] = []
    for rid, versions in per_record:
        prev: Version | None = None
        prev_state: tuple[Policy, gate.State | Unreadable | None] | None = None
        for v in versions:
            policy = policies.get(v.policy)  # the state before is read with this change's policy too
            # Read once per version: the state a version left is the next one's state before,
            # unless a policy change between them changed what high-impact means.
            before = prev_state[1] if prev_state is not None and prev_state[0] is policy else _read_state(rid, prev, fields, policy)
            after = _read_state(rid, v, fields, policy)
            judged.append(_Judged(rid, v, before, after, policy))
            prev, prev_state = v, (policy, after)
    line = _KnownErrorLine(sorted(judged, key=lambda j: j.version.seq))
    # Only the commits whose approval could count are verified (git runs ssh-keygen or gpg for each).
    signatures = _signatures(
        kb.root,
        [(j.policy, j.version.commit) for j in judged if _may_count(j.policy, j.version.approved_by, j.version.date)]
        + [(p, x.commit) for x in history.landings if _may_count(p := policies.get(x.policy), x.approved_by, x.date)],
    )
    items = tuple(judge_version(j, line.at(j.version.seq), signatures) for j in judged)
    changes: list[ChangeApproval] = []
    for x in history.landings:
        before_policy = policies.get(x.policy)
        changes.append(judge_landing(x, before_policy, signatures))
        if x.changed_policy != x.policy:
            moved = gate_moves(x, before_policy, policies.get(x.changed_policy))
            if moved is not None:
                changes.append(moved)
    settings = kb.program.settings
    return ApprovalReport(
        items,
        settings.approvals_since if settings else None,
        history.partial,
        tuple(changes),
        settings.approval_evidence if settings else "trailers",
    )
