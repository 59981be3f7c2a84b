"""The decision log, ``content/decisions.yml``: what people decided about problem candidates.

``kedb candidates`` proposes a problem wherever a recurrence rule fires. The weekly problem
review accepts a candidate (it becomes a problem record) or rejects it; the 30-day rhythm asks
that false positives, false negatives and every manual override be logged. This file is that
log, reviewed through merge requests like every other file under ``content/``:

- ``rejected``: a false positive. The candidate is not a problem, so no problem record is made
  (a draft written by ``kedb candidates --write`` is withdrawn, and the rejection names it). The
  signature is not proposed again until the tickets in the latest window of the rule it was
  rejected under reach ``regrowth_factor`` times the ``volume`` it had then
  (:meth:`DecisionsFile.again_at`).
- ``reinstated``: a manual override of a standing rejection; the signature is proposed again
  at once, whatever its volume.
- ``missed``: a false negative, a problem raised by hand that the recurrence rules did not
  propose; it names the problem.

Entries are kept in the order they were made (the last one for a signature decides).

**Rejections never count into mean time to root cause.** A rejected candidate has no problem
record. A problem closed as "not a problem" is named by its rejection (``problem``); it then
needs no root cause, and ``kedb check`` refuses it a ``root_cause_identified`` date (KE713), so
no computation of mean time to root cause, which all count problems by that date, can include it.

The false-positive rate and the log's editions are computed here once (:func:`summary`) for
the KPI page and the proof brief.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from .records import Date, Handle, PRBId, Problem, Slug, Strict_, TenantId, Text

DECISIONS_FILE = "content/decisions.yml"
DEFAULT_REGROWTH = 2.0
NO_PART = "(none)"  # an empty signature part as `kedb candidates` shows it
# A signature as `kedb candidates` shows it: normalised parts separated by ':', an empty part as (none).
ShownSignature = Annotated[
    str,
    StringConstraints(pattern=r"^([a-z0-9][a-z0-9._-]*|\(none\))(:([a-z0-9][a-z0-9._-]*|\(none\)))*$", max_length=1000),
]
DecisionKind = Literal["rejected", "reinstated", "missed"]
KIND_WORDS: dict[str, str] = {
    "rejected": "rejected (false positive)",
    "reinstated": "reinstated (manual override)",
    "missed": "missed (false negative)",
}
# The fields each kind must have; the model leaves them optional so that one table documents them all.
REQUIRED: dict[str, tuple[str, ...]] = {
    "rejected": ("signature", "rule", "volume", "window_days"),
    "reinstated": ("signature",),
    "missed": ("problem",),
}


class Decision(Strict_):
    kind: DecisionKind = Field(
        description="`rejected` (a false positive: not a problem), `reinstated` (a manual override: a rejected signature is "
        "proposed again before its volume grows) or `missed` (a false negative: a problem raised by hand that no rule proposed)."
    )
    signature: ShownSignature | None = Field(
        default=None,
        description="The candidate's signature as `kedb candidates` shows it (an empty part as `(none)`). Needed by "
        "`rejected` and `reinstated`.",
    )
    decided_on: Date = Field(description="The day of the decision (`--as-of`, or `SOURCE_DATE_EPOCH`); never before the entry above it.")
    by: Handle = Field(description="Who decided: a person in `content/roles.yml`.")
    reason: Text = Field(description="Why, in words the next problem review understands.")
    rule: Slug | None = Field(
        default=None, description="`rejected`: the recurrence rule the candidate met (its first in `content/recurrence.yml`)."
    )
    volume: Annotated[int, Field(ge=1)] | None = Field(
        default=None,
        description="`rejected`: tickets in that rule's latest window when it was rejected; the signature is proposed again "
        "once that window holds `regrowth_factor` times as many.",
    )
    window_days: Annotated[int, Field(ge=1, le=366)] | None = Field(default=None, description="`rejected`: the rule's window, days.")
    problem: PRBId | None = Field(
        default=None,
        description="`missed`: the problem raised by hand. `rejected`: the problem record the rejection ends, if one was "
        "made: a withdrawn draft, or a problem closed as not a problem (closed, without a root cause).",
    )
    tenants: list[TenantId] = Field(
        default_factory=list,
        description="Tenants the decision concerns (set when every customer of the candidate's window is a tenant); empty: "
        "all. A tenant's edition shows only its own and those for all.",
    )

    def shown_in(self, tenant: str | None) -> bool:
        """Whether an edition for ``tenant`` (None: every tenant) shows this decision."""
        return tenant is None or not self.tenants or tenant in self.tenants


class DecisionsFile(Strict_):
    """`content/decisions.yml`: the decision log of problem candidates (rejections, overrides, misses)."""

    regrowth_factor: Annotated[float, Field(gt=1, le=100)] = Field(
        default=DEFAULT_REGROWTH,
        description="A rejected signature is proposed again when the tickets in the latest window of the rule it was "
        "rejected under reach this many times its `volume` (2: twice as many).",
    )
    decisions: list[Decision] = Field(default_factory=list, description="The decisions, oldest first; add new ones at the end.")

    def again_at(self, volume: int) -> int:
        """Tickets in the rule's window that propose a signature rejected at ``volume`` again."""
        return math.ceil(round(self.regrowth_factor * volume, 6))

    def standing(self, signature: str, upto: int | None = None) -> Decision | None:
        """The rejection of ``signature`` that stands (after the first ``upto`` entries): its last
        ``rejected`` entry, unless a ``reinstated`` one follows it."""
        last: Decision | None = None
        for d in self.decisions[:upto]:
            if d.signature == signature and d.kind in ("rejected", "reinstated"):
                last = d
        return last if last is not None and last.kind == "rejected" else None

    @property
    def rejected_problems(self) -> frozenset[str]:
        """Problem records that a rejection ends: they need no root cause and may never get one."""
        return frozenset(d.problem for d in self.decisions if d.kind == "rejected" and d.problem)


def sequence_problems(log: DecisionsFile) -> Iterator[tuple[int, str, str, str]]:
    """What is wrong with the order of the log, as (entry index, field, rule code, message): a
    field its kind needs (KE101), a decision dated before the one above it (KE712), a signature
    rejected again while its rejection stands and its volume has not grown enough, a reinstatement
    with no rejection to lift, a problem logged as missed twice (KE711).

    ``kedb check`` reports these, and ``kedb candidates`` refuses to write an entry that would add one."""
    missed: set[str] = set()
    for i, d in enumerate(log.decisions):
        for name in REQUIRED[d.kind]:
            if getattr(d, name) is None:
                yield i, name, "KE101", f"required field '{name}' is missing in 'decisions[{i + 1}]' (a {d.kind} decision needs it)"
        if i and d.decided_on < (before := log.decisions[i - 1].decided_on):
            yield (
                i,
                "decided_on",
                "KE712",
                f"decided on {d.decided_on}, before the decision above it ({before}): the log keeps decisions in the order "
                "they were made; add a new one at the end",
            )
        if d.kind == "missed" and d.problem:
            if d.problem in missed:
                yield i, "problem", "KE711", f"{d.problem} is already logged as missed above"
            missed.add(d.problem)
        if not d.signature or d.kind == "missed":
            continue
        stands = log.standing(d.signature, i)
        if d.kind == "reinstated" and stands is None:
            yield i, "signature", "KE711", f"'{d.signature}' has no standing rejection above to reinstate"
        elif d.kind == "rejected" and stands is not None and stands.volume and (d.volume or 0) < log.again_at(stands.volume):
            yield (
                i,
                "signature",
                "KE711",
                f"'{d.signature}' is already rejected ({stands.decided_on}, {stands.volume} tickets); it is rejected again only "
                f"once proposed again, at {log.again_at(stands.volume)} tickets or more, or after a reinstatement",
            )


# ---------------------------------------------------------------- what the KPI page and the proof brief show
@dataclass(frozen=True)
class Month:
    period: str  # YYYY-MM
    rejected: int
    proposed: int

    @property
    def rate(self) -> float | None:
        """Rejected / proposed, as a percentage."""
        return 100 * self.rejected / self.proposed if self.proposed else None


@dataclass(frozen=True)
class Summary:
    """The false-positive rate with its basis and the log, as one edition shows them."""

    months: tuple[Month, ...]  # oldest first, months with a candidate decided or drafted only
    total: Month  # over every month; ``period`` is the span
    raised: tuple[str, ...]  # problem records drafted from a candidate and not rejected
    log: tuple[Decision, ...]  # the edition's decisions, oldest first
    regrowth_factor: float

    @property
    def basis(self) -> str:
        t = self.total
        if not t.proposed:
            return "No candidate has been rejected or drafted as a problem yet."
        raised = ", ".join(self.raised) if len(self.raised) <= 12 else f"{', '.join(self.raised[:12])} and {len(self.raised) - 12} more"
        drafted = (
            f"{len(self.raised)} drafted as {'a problem record' if len(self.raised) == 1 else 'problem records'} ({raised})"
            if self.raised
            else "none drafted as a problem record"
        )
        return (
            f"{t.proposed} candidate{'s' * (t.proposed != 1)} decided from {t.period}: {t.rejected} rejected as "
            f"{'a false positive' if t.rejected == 1 else 'false positives'} in content/decisions.yml, {drafted}. A candidate "
            "counts in the month it was rejected or its problem record opened; one still only listed by kedb candidates is "
            "not counted."
        )

    def counts(self, kind: str) -> int:
        return sum(1 for d in self.log if d.kind == kind)


def summary(log: DecisionsFile | None, problems: Iterable[Problem], audience: str, tenant: str | None) -> Summary | None:
    """The false-positive rate (candidates rejected / candidates proposed, per month of decision)
    and the log, for one edition; ``problems`` are the problem records that edition shows.

    A candidate is *proposed* once it is decided: rejected here, or drafted as a problem record
    from a recurrence rule (a problem whose ``trigger`` names a ``rule``; its month is the month it
    opened). A problem a rejection ends is counted once, as the rejection. ``missed`` problems were
    never proposed and are not in the rate.

    None when the KB keeps no log (no ``content/decisions.yml``) and in a public edition: the rate
    rests on problem records a public edition does not show, and the log names people and
    customers' faults, so both are internal figures. An edition for one tenant shows the decisions
    for all tenants and its own, and counts its own problems."""
    if log is None or audience == "public":
        return None
    shown = tuple(d for d in log.decisions if d.shown_in(tenant))
    ended = log.rejected_problems
    raised = sorted((p for p in problems if p.trigger and p.trigger.rule and p.id not in ended), key=lambda p: p.id)
    months: dict[str, list[int]] = {}
    for d in shown:
        if d.kind == "rejected":
            m = months.setdefault(d.decided_on.isoformat()[:7], [0, 0])
            m[0] += 1
            m[1] += 1
    for p in raised:
        months.setdefault(p.opened.isoformat()[:7], [0, 0])[1] += 1
    rows = tuple(Month(k, r, n) for k, (r, n) in sorted(months.items()))
    span = f"{rows[0].period} to {rows[-1].period}" if len(rows) > 1 else rows[0].period if rows else ""
    total = Month(span, sum(m.rejected for m in rows), sum(m.proposed for m in rows))
    return Summary(rows, total, tuple(p.id for p in raised), shown, log.regrowth_factor)
