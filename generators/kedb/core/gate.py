"""The approval gate's rules, in one place: which change needs an approval, and from whom.

Two parts of kedb ask these questions and must answer them the same way: the gate on ``main``
(:mod:`kedb.git.approvals`, which judges every landed version with the policy in force just
before it) and the review posted on a merge request (:mod:`kedb.git.review`, which tells the
approver in advance what the gate will ask for).

- A record is **live** once readers rely on it: a known error or workaround that is
  ``published`` or ``retired`` (editions still show retired records, marked as such), a problem
  from ``investigating`` on (its root cause and fix proposal drive the fix).
- A record is **high-impact** by its own fields (a known error: impact, priority or risk tags as
  ``content/kedb.yml`` sets them; a problem: its impact) or, for a workaround, when any known
  error it applies to is high-impact.
- A change is **gated** when the record was live and high-impact *before or after* it: lowering
  the priority in the same change that rewrites the steps does not escape the gate, nor does a
  deletion.
- A gated change needs an approver of **every service the record had** before and after it (a
  move to another service needs an approver of the old one and of the new one), who is not an
  author of the change.
- ``approvals_since`` is never later than the day it is set (:data:`GATE_DATE_TOLERANCE`) and
  never moves later once set.
- Every change to a path that is not a record file (``content/``, the generators, templates, CI,
  build files, anything at the root) is a **maintainer change**.
- A change to the **customer reply** a reader can send (the ``## Reply to customer`` section of a
  live known error) needs a holder of each role that approves the reply, judged on the version
  before *and* after it: the incident lead for P1, each risk tag's ``approver_role`` in
  ``content/triage.yml`` (:func:`reply_roles`, which the record page's banner shows too).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from .load import frontmatter

if TYPE_CHECKING:
    from .program import RiskTagDef

RECORD_DIR = "known_errors"
_RECORD_PATH = re.compile(r"^known_errors/(?:[^/]+/)*((?:KE|WA|PRB)-\d{4,})(?:-[a-z0-9][a-z0-9-]*)?\.md$")
KINDS: dict[str, str] = {"KE": "known-error", "WA": "workaround", "PRB": "problem"}
LIVE_STATUSES: dict[str, frozenset[str]] = {
    "known-error": frozenset({"published", "retired"}),
    "workaround": frozenset({"published", "retired"}),
    "problem": frozenset({"investigating", "root-cause-identified", "fix-proposed", "fix-approved", "closed"}),
}
ROLES_FILE = "content/roles.yml"
SETTINGS_FILE = "content/kedb.yml"
# Signed evidence (``approval_evidence: signed``): the keys whose signature on a merge counts.
SSH_SIGNERS_FILE = "content/allowed_signers"  # OpenSSH allowed-signers format (what git reads)
GPG_SIGNERS_FILE = "content/allowed_signers.asc"  # ASCII-armoured GPG public keys (GitHub's web-flow key)
TRIAGE_FILE = "content/triage.yml"  # its risk tags name the role that approves a tagged record's customer reply
# ``approvals_since`` may be at most this long after the day it is set ("tomorrow" somewhere else
# on the planet); later, it is in the future and would let every change until then escape.
GATE_DATE_TOLERANCE = timedelta(days=1)
# The files whose version just before a change is the policy that change is judged by.
POLICY_FILES: tuple[str, ...] = (ROLES_FILE, SETTINGS_FILE, SSH_SIGNERS_FILE, GPG_SIGNERS_FILE, TRIAGE_FILE)
# A P1 known error's customer reply is approved by the incident lead, as is that of a risk tag
# the triage policy does not define (content/roles.yml names who holds the role).
P1_REPLY_ROLE = "incident-lead"
REPLY_SECTION = "Reply to customer"
# The key of a version's reply digest among the fields the gate reads (a front-matter key never
# has a space, so it cannot clash with one).
REPLY_FIELD = "reply to customer"


# What each evidence mode (``approval_evidence`` in content/kedb.yml) proves, said wherever the
# gate's verdicts are reported.
EVIDENCE_NOTE: dict[str, str] = {
    "trailers": "evidence is trailers: Approved-by: trailers prove an approval only if main accepts changes through the "
    "platform alone (a protected branch nobody pushes to, merges that need the required approvals); anyone who can "
    "push can write a trailer. See README, 'Approval evidence'.",
    "signed": "evidence is signed: an approval counts only on a commit signed by a key in content/allowed_signers "
    "(the platform's merge key or the approver's own), checked by git.",
}


# The rule in one sentence, for the reports that state it (the proof brief, the runbook).
RULE_SUMMARY = (
    "A change to a record that was live and high-impact before or after it needs the approval of an approver of each "
    "service the record had, who did not write the change; a change to the customer reply of a live P1 or risk-tagged "
    "known error also needs a holder of each role that approves the reply (the incident lead for P1, each risk tag's "
    "approver role); a change to any other file needs a maintainer's. Each change is judged by the roles, settings and "
    "triage policy in force just before it."
)


def kind_of(record_id: str) -> str:
    """``known-error``, ``workaround`` or ``problem`` from a record id's prefix."""
    return KINDS.get(record_id.split("-", 1)[0], "")


def is_record_path(path: str) -> bool:
    """A record file under ``known_errors/`` (every other path is a maintainer change)."""
    return _RECORD_PATH.match(path) is not None


def maintainer_paths(paths: Iterable[str]) -> list[str]:
    """The paths of a change that only a maintainer may approve: every one that is not a record."""
    return sorted({p for p in paths if not is_record_path(p)})


@dataclass(frozen=True)
class Reply:
    """What the reply rule needs of one version of a known error."""

    digest: str  # :func:`reply_digest` of its body
    priority: str | None
    risk_tags: tuple[str, ...]


@dataclass(frozen=True)
class State:
    """What the gate needs to know of one record in one version."""

    kind: str  # known-error, workaround, problem
    status: str | None
    service: str | None
    own_high_impact: bool  # by its own fields (a workaround: always False)
    applies_to: tuple[str, ...] = ()  # a workaround's known errors
    reply: Reply | None = None  # a known error's customer reply (None: another kind, or its body was not read)

    @property
    def live(self) -> bool:
        return self.status in LIVE_STATUSES.get(self.kind, frozenset())


def state_from_fields(
    record_id: str, data: Mapping[str, Any], is_high_impact: Callable[[object, object, Iterable[object] | None], bool]
) -> State:
    """The state of a version from its front-matter as plain data (an old version read from git).

    ``is_high_impact`` is the policy's test on impact, priority and risk tags
    (:meth:`kedb.core.kb.Program.is_high_impact_fields` of the policy in force). A known error's
    :class:`Reply` is read when ``data`` carries its digest under :data:`REPLY_FIELD`."""
    kind = kind_of(record_id)
    tags = data.get("risk_tags")
    tags = tags if isinstance(tags, list) else None
    priority = data.get("priority")
    reply = None
    if kind == "known-error" and REPLY_FIELD in data:
        reply = Reply(str(data[REPLY_FIELD]), None if priority is None else str(priority), tuple(str(t) for t in tags or ()))
    if kind == "known-error":
        high = is_high_impact(data.get("impact"), priority, tags)
    elif kind == "problem":
        high = is_high_impact(data.get("impact"), None, ())
    else:
        high = False
    applies = data.get("applies_to") if kind == "workaround" else None
    status, service = data.get("status"), data.get("service")
    return State(
        kind,
        str(status) if status is not None else None,
        str(service) if service is not None else None,
        high,
        tuple(str(k) for k in applies) if isinstance(applies, list) else (),
        reply,
    )


def high_impact(state: State, known_error_high: Callable[[str], bool]) -> bool:
    """High-impact by its own fields, or (a workaround) through any known error it applies to."""
    return state.own_high_impact or (state.kind == "workaround" and any(known_error_high(k) for k in state.applies_to))


def gated(state: State | None, known_error_high: Callable[[str], bool]) -> bool:
    """Live and high-impact: changing it (or away from it) needs an approval."""
    return state is not None and state.live and high_impact(state, known_error_high)


def needs_approval(before: State | None, after: State | None, known_error_high: Callable[[str], bool]) -> bool:
    """A change is gated when the record was gated before it or is gated after it."""
    return gated(before, known_error_high) or gated(after, known_error_high)


def approving_services(before: State | None, after: State | None) -> tuple[str, ...]:
    """The services an approver is needed from: the record's service before and after the change
    (one when it did not move, two when it did)."""
    found = [s.service for s in (before, after) if s is not None and s.service]
    return tuple(dict.fromkeys(found))


# ---------------------------------------------------------------- customer replies
def reply_roles(priority: object, risk_tags: Iterable[object], tag_defs: Iterable[RiskTagDef]) -> tuple[str, ...]:
    """The roles that approve a known error's customer reply, in order and each once: the incident
    lead for P1, then each risk tag's ``approver_role`` from the triage policy (``tag_defs``; a tag
    it does not define goes to the incident lead). The record page's banner and the gate both ask
    this function."""
    defs = {d.id: d.approver_role for d in tag_defs}
    roles = [P1_REPLY_ROLE] if priority == "P1" else []
    roles += [defs.get(str(t), P1_REPLY_ROLE) for t in risk_tags]
    return tuple(dict.fromkeys(roles))


def _sendable(state: State | None) -> Reply | None:
    """The reply a reader can send: that of a live known error (a draft's reply reaches nobody)."""
    return state.reply if state is not None and state.live else None


def reply_approvers(before: State | None, after: State | None, tag_defs: Iterable[RiskTagDef]) -> tuple[str, ...]:
    """The roles that must approve a change because it changes the reply a reader can send.

    The reply changes when its digest differs, and when it starts or stops being sendable:
    publishing a record with a reply, deleting one, unpublishing it or removing its reply section
    all count (a reply written while the record was a draft is approved when it is published).
    The roles are judged on the version before *and* after, like high impact: lowering a P1 in
    the change that rewrites its reply still needs the incident lead, and so does raising a
    record to P1 in the change that rewrites it. A change elsewhere in the record needs none."""
    old, new = _sendable(before), _sendable(after)
    if (old.digest if old else None) == (new.digest if new else None):
        return ()
    roles = [r for x in (old, new) if x is not None for r in reply_roles(x.priority, x.risk_tags, tag_defs)]
    return tuple(dict.fromkeys(roles))


_NOT_LETTERS = re.compile(r"[^a-z]+")
_REPLY_WORDS = frozenset({"replytocustomer", "replytocustomers"})


def reply_digest(body: str) -> str:
    """A digest of the customer reply in a record's body (decoded, with ``\\n`` line ends).

    The reply is the ``## Reply to customer`` section exactly as the loader and every output read
    it (:func:`kedb.core.load.frontmatter.sections`: the heading in any letter case and with any
    trailing spaces or ``#``, the first of two such headings, none inside a code fence). A body
    without one digests differently from one with an empty section. Any *other* line that reads
    "Reply to customer" and nothing else (a heading of another level, underlined, quoted, listed,
    in bold, inside a code fence, a second reply heading) counts too, with everything after it:
    Markdown renderers do not all agree with the loader on where a fence ends, and a page that
    shows such a heading shows its text as a reply a reader could send."""
    sec = frontmatter.sections(body, 1).get(REPLY_SECTION.lower())
    own = sec.line - 1 if sec is not None else -1  # its heading's index among the body's lines
    parts = [sec.text if sec is not None else "\x00(no reply section)"]
    low = body.lower()
    at = low.find("customer")
    while at != -1:  # only the lines that hold the word are looked at: most bodies have one or two
        start = low.rfind("\n", 0, at) + 1
        end = low.find("\n", at)
        end = len(low) if end == -1 else end
        if _NOT_LETTERS.sub("", low[start:end]) in _REPLY_WORDS and low.count("\n", 0, start) != own:
            parts.append(body[start:])
        at = low.find("customer", end)
    return hashlib.sha256("\x00".join(parts).encode("utf-8")).hexdigest()[:32]
