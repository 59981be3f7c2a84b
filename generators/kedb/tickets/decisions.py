"""``kedb candidates --reject / --reinstate / --missed``: one decision added to ``content/decisions.yml``.

What a decision means, and when a rejected signature comes back, is :mod:`kedb.core.decisions`.
Here each decision is made from what the desk sees, checked before anything is written, and
appended to the log:

- a rejection takes its figures from the candidate as ``kedb candidates`` finds it on the day
  of the decision (the rule it meets first, the tickets in that rule's latest window; for a
  signature proposed again, the rule it was rejected under, so that volumes compare) and its
  tenants from the customers of that window, as the drafts do; a signature that a known error
  or a problem past ``candidate`` covers is not a candidate and cannot be rejected. When the
  candidate was drafted (``--write``) and the draft is still a ``candidate``, the rejection
  names the draft and the draft is deleted (git keeps it): a false positive leaves no problem
  record behind, so it can never count into mean time to root cause;
- a reinstatement lifts a standing rejection (a manual override);
- a miss names a problem raised by hand that no rule proposed (a false negative).

The new entry is added at the end of the file, so the merge request shows exactly the lines
added (and the comments of the file stay); a log that cannot take an entry at its end (a
``decisions: []`` written by hand, a key after the list) is written out whole instead. Either
way the text is read back as ``kedb check`` reads it and must give the log plus the entry, and
it replaces the file in one rename: nothing half-written is ever left in place.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from ..core.decisions import DECISIONS_FILE, Decision, DecisionsFile, sequence_problems
from ..core.errors import EnvironmentProblem, FindingsError, UsageError
from ..core.findings import shown
from ..core.kb import KB, Record
from ..core.load.datafile import Issue, read_text, validate
from ..core.load.stored import write_data_file
from ..core.load.yamlstrict import parse
from ..core.records import Problem
from .candidates import Candidate, Report
from .drafts import tenants_of

HEADER = (
    "# Decisions on problem candidates, oldest first: false positives (rejected), manual overrides\n"
    "# (reinstated) and false negatives (missed). `kedb candidates --reject/--reinstate/--missed`\n"
    "# adds them; review them in the merge request like any change to content/ (README, Candidates).\n"
)
FIELDS = ("signature", "decided_on", "by", "reason", "rule", "volume", "window_days", "problem")
QUOTED = frozenset(("signature", "reason"))


@dataclass(frozen=True)
class Plan:
    """A decision ready to be written, and the candidate drafts it withdraws."""

    decision: Decision
    withdraw: tuple[Record, ...] = ()


def reason_text(text: str) -> str:
    """The reason as the log keeps it: one line (runs of spaces, tabs and line breaks become one space).
    Other control characters are refused: the log is read by people in a merge request and on the site."""
    one = " ".join(text.split())
    if not one:
        raise UsageError("the reason is empty: the log says why")
    if shown(one) != one:
        raise UsageError(f"the reason holds control characters ({shown(one)}): write it as plain text")
    return one


def _cited(c: Candidate) -> str:
    return f"'{c.shown}'"


def plan_rejection(kb: KB, rep: Report, signature: str, reason: str, by: str, day: date) -> Plan:
    """The rejection of the candidate ``signature`` (as shown, or the key records carry when only one candidate has it)."""
    cand = _candidate(rep, signature, day)
    drafts: list[Record] = []
    for rid in cand.covered_by:
        rec = kb.records.get(rid)
        if rec is None or not isinstance(rec.meta, Problem) or rec.meta.status != "candidate":
            what = f"a problem ({rec.meta.status})" if rec is not None and isinstance(rec.meta, Problem) else "a known error"
            raise UsageError(
                f"{_cited(cand)} is covered by {rid}, {what}: it is not a candidate to reject. A problem that turns out not to "
                "be one is closed without a root cause and named by a rejection written by hand (README, Candidates)"
            )
        drafts.append(rec)
    if len(drafts) > 1:
        raise UsageError(f"{_cited(cand)} has {len(drafts)} candidate drafts ({', '.join(r.id for r in drafts)}); delete all but one first")
    if cand.held_back and cand.rejected is not None:
        r = cand.rejected
        now = f"{r.now} now" if r.now is not None else "it does not meet that rule now"
        raise UsageError(
            f"{_cited(cand)} is already rejected ({r.decision.decided_on}, by {r.decision.by}); it is proposed again at "
            f"{r.again_at} tickets in the window of rule {r.decision.rule} ({now})"
        )
    for rec in drafts:
        linked = [other.id for other in kb.records.values() if other.id != rec.id and re.search(rf"\b{rec.id}\b", other.source.text)]
        if linked:
            raise UsageError(
                f"the candidate draft {rec.id} is named by {', '.join(linked)}: remove those links first, or close {rec.id} "
                "without a root cause and name it in a rejection written by hand"
            )
    w = cand.trigger
    if cand.rejected is not None:  # proposed again: measured, as before, in the window of the rule it was rejected under
        w = next(x for x in cand.windows if x.rule == cand.rejected.decision.rule)
    decision = Decision(
        kind="rejected",
        signature=cand.shown,
        decided_on=day,
        by=by,
        reason=reason_text(reason),
        rule=w.rule,
        volume=w.tickets,
        window_days=w.window_days,
        problem=drafts[0].id if drafts else None,
        tenants=tenants_of(kb, w.customers),
    )
    return Plan(decision, tuple(drafts))


def _candidate(rep: Report, signature: str, day: date) -> Candidate:
    exact = [c for c in rep.candidates if c.shown == signature]
    keyed = [c for c in rep.candidates if c.signature == signature]
    if exact or len(keyed) == 1:
        return (exact or keyed)[0]
    if len(keyed) > 1:
        raise UsageError(
            f"'{signature}' is the key of {len(keyed)} candidates; name one as kedb candidates shows it: "
            + ", ".join(c.shown for c in keyed)
        )
    listed = ", ".join(c.shown for c in [*rep.proposed, *rep.held_back][:5]) or "none"
    raise UsageError(
        f"'{signature}' is not a problem candidate as of {day} (no recurrence rule is met by its tickets opened by then); "
        f"candidates then: {listed}"
    )


def plan_reinstatement(kb: KB, signature: str, reason: str, by: str, day: date) -> Plan:
    log = kb.program.decisions
    if log is None or log.standing(signature) is None:
        raise UsageError(f"'{signature}' has no standing rejection in {DECISIONS_FILE} to reinstate")
    stands = log.standing(signature)
    tenants = list(stands.tenants) if stands else []
    return Plan(Decision(kind="reinstated", signature=signature, decided_on=day, by=by, reason=reason_text(reason), tenants=tenants))


def plan_miss(kb: KB, problem: str, reason: str, by: str, day: date) -> Plan:
    rec = kb.records.get(problem)
    if rec is None or not isinstance(rec.meta, Problem):
        raise UsageError(f"'{problem}' is not a problem record in known_errors/; raise the problem first (kedb new problem)")
    m = rec.meta
    if m.trigger and m.trigger.rule:
        raise UsageError(f"{m.id} was raised from the recurrence rule '{m.trigger.rule}' (its trigger): no rule missed it")
    return Plan(Decision(kind="missed", decided_on=day, by=by, reason=reason_text(reason), problem=m.id, tenants=list(m.tenants)))


def _value(name: str, value: object) -> str:
    if isinstance(value, date):
        return value.isoformat()
    if name in QUOTED:
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def entry_text(d: Decision) -> str:
    """One entry of the log as YAML, under ``decisions:``."""
    lines = [f"  - kind: {d.kind}"]
    lines += [f"    {name}: {_value(name, v)}" for name in FIELDS if (v := getattr(d, name)) is not None]
    if d.tenants:
        lines.append(f"    tenants: [{', '.join(d.tenants)}]")
    return "\n".join(lines) + "\n"


def whole_text(log: DecisionsFile) -> str:
    return HEADER + f"regrowth_factor: {log.regrowth_factor:g}\ndecisions:\n" + "".join(entry_text(d) for d in log.decisions)


def _reads_as(text: str, expected: DecisionsFile) -> bool:
    issues: list[Issue] = []
    parsed = parse(text)
    return not parsed.issues and validate(DecisionsFile, parsed, issues) == expected and not issues


def write(kb: KB, plan: Plan) -> Path:
    """Append ``plan.decision`` to content/decisions.yml, then delete the drafts it withdraws.

    Refused (nothing written) when the log would break a rule of :func:`sequence_problems`. If a
    draft cannot be deleted, the log is put back as it was."""
    path = kb.root / DECISIONS_FILE
    old = kb.program.decisions
    if path.exists() and old is None:
        raise FindingsError(f"{DECISIONS_FILE} cannot be read (run `kedb check`); fix it first: nothing was written")
    before = old or DecisionsFile()
    expected = before.model_copy(update={"decisions": [*before.decisions, plan.decision]})
    n = len(expected.decisions) - 1
    wrong = [f"{DECISIONS_FILE}: {code} {msg}" for i, _, code, msg in sequence_problems(expected) if i == n]
    if wrong:
        raise FindingsError("\n".join([*wrong, "nothing was written"]))
    old_text = read_text(path)[0] if path.exists() else None
    text = None
    if old_text is not None:
        appended = old_text.rstrip("\n") + "\n" + entry_text(plan.decision)
        text = appended if _reads_as(appended, expected) else None
    text = text or whole_text(expected)
    old_bytes = path.read_bytes() if path.exists() else None
    write_data_file(kb.root, DECISIONS_FILE, text, expected, "decision log")
    try:
        for rec in plan.withdraw:
            (kb.root / rec.source.path).unlink()
    except OSError as exc:
        if old_bytes is None:
            path.unlink(missing_ok=True)
        else:
            tmp = path.with_name(f".{path.name}.restore")
            tmp.write_bytes(old_bytes)
            os.replace(tmp, path)
        raise EnvironmentProblem(f"cannot delete the candidate draft ({exc.strerror}): {DECISIONS_FILE} is as it was") from exc
    return path
