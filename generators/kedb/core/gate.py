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
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

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
# ``approvals_since`` may be at most this long after the day it is set ("tomorrow" somewhere else
# on the planet); later, it is in the future and would let every change until then escape.
GATE_DATE_TOLERANCE = timedelta(days=1)
# The files whose version just before a change is the policy that change is judged by.
POLICY_FILES: tuple[str, ...] = (ROLES_FILE, SETTINGS_FILE, SSH_SIGNERS_FILE, GPG_SIGNERS_FILE)


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
    "service the record had, who did not write the change; a change to any other file needs a maintainer's. Each change "
    "is judged by the roles and settings in force just before it."
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
class State:
    """What the gate needs to know of one record in one version."""

    kind: str  # known-error, workaround, problem
    status: str | None
    service: str | None
    own_high_impact: bool  # by its own fields (a workaround: always False)
    applies_to: tuple[str, ...] = ()  # a workaround's known errors

    @property
    def live(self) -> bool:
        return self.status in LIVE_STATUSES.get(self.kind, frozenset())


def state_from_fields(
    record_id: str, data: Mapping[str, Any], is_high_impact: Callable[[object, object, Iterable[object] | None], bool]
) -> State:
    """The state of a version from its front-matter as plain data (an old version read from git).

    ``is_high_impact`` is the policy's test on impact, priority and risk tags
    (:meth:`kedb.core.kb.Program.is_high_impact_fields` of the policy in force)."""
    kind = kind_of(record_id)
    tags = data.get("risk_tags")
    tags = tags if isinstance(tags, list) else None
    if kind == "known-error":
        high = is_high_impact(data.get("impact"), data.get("priority"), tags)
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
