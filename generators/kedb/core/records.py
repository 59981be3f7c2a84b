"""The record model: known errors, workarounds and problem/RCA records.

These pydantic models *are* the schema. The JSON Schema for editors (``kedb schema``) and
the field reference in the README are generated from them; every field has a description.
Models are frozen and refuse unknown fields, so a typo is a finding, never silently ignored.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, ClassVar, Literal, Protocol

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, Strict, StringConstraints
from pydantic_core import PydanticCustomError

# ---------------------------------------------------------------- shared types
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _iso_date(value: object) -> object:
    """Only YYYY-MM-DD text (or a date) is a date: pydantic alone would take 0 or a timestamp."""
    if isinstance(value, date) or (isinstance(value, str) and _ISO_DATE.match(value)):
        return value
    raise PydanticCustomError("date_parsing", "not a date in YYYY-MM-DD form")


Date = Annotated[date, BeforeValidator(_iso_date)]
Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9._-]*$", max_length=64)]
Handle = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9._-]*$", max_length=64)]
TenantId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]*$", max_length=40)]
TicketId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.#:-]*$", max_length=40)]
Title = Annotated[str, StringConstraints(min_length=5, max_length=160)]
Text = Annotated[str, StringConstraints(min_length=1, max_length=4000)]
ShortText = Annotated[str, StringConstraints(min_length=1, max_length=400)]
Bool = Annotated[bool, Strict()]
Signature = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z0-9][a-z0-9._-]*(:[a-z0-9][a-z0-9._-]*)*$", max_length=200),
]
KEId = Annotated[str, StringConstraints(pattern=r"^KE-\d{4,}$")]
WAId = Annotated[str, StringConstraints(pattern=r"^WA-\d{4,}$")]
PRBId = Annotated[str, StringConstraints(pattern=r"^PRB-\d{4,}$")]
RecordId = Annotated[str, StringConstraints(pattern=r"^(KE|WA|PRB)-\d{4,}$")]
Level = Literal["low", "medium", "high"]
Priority = Literal["P1", "P2", "P3"]
RiskTag = Literal["security", "billing", "legal"]
Sensitivity = Literal["public", "internal", "confidential"]
RecordStatus = Literal["draft", "in-review", "published", "retired"]
ProblemStatus = Literal["candidate", "investigating", "root-cause-identified", "fix-proposed", "fix-approved", "closed"]

PROBLEM_ORDER: tuple[str, ...] = (
    "candidate",
    "investigating",
    "root-cause-identified",
    "fix-proposed",
    "fix-approved",
    "closed",
)
RECORD_ORDER: tuple[str, ...] = ("draft", "in-review", "published", "retired")


class Strict_(BaseModel):
    """Base for every model: frozen, unknown keys refused."""

    model_config = ConfigDict(extra="forbid", frozen=True)


# ---------------------------------------------------------------- common record fields
class RecordBase(Strict_):
    """Fields shared by the three record kinds."""

    kind: ClassVar[str] = ""
    prefix: ClassVar[str] = ""
    sections: ClassVar[tuple[str, ...]] = ()

    id: str = Field(description="Record id: `KE-NNNN`, `WA-NNNN` or `PRB-NNNN`; the file name starts with it.")
    title: Title = Field(description="One line an agent recognises, as they would describe it.")
    service: Slug = Field(description="Service id from the taxonomy in `content/services.yml`.")
    owner: Handle = Field(description="Handle of the owning person in `content/roles.yml`.")
    created: Date = Field(description="Date the record was first written (YYYY-MM-DD).")
    review_by: Date = Field(description="Date by which the record must be reviewed; stale after it.")
    tags: list[Slug] = Field(default_factory=list, description="Free tags (lower-case slugs) for search and grouping.")
    data_sensitivity: Sensitivity = Field(
        default="internal",
        description="Who may read it: `public` (client-facing builds), `internal` (staff), `confidential` (named roles).",
    )
    tenants: list[TenantId] = Field(
        default_factory=list, description="Customers (tenant ids in `content/kedb.yml`) it applies to; empty = all."
    )
    retired_reason: ShortText | None = Field(default=None, description="Why the record was retired (required when retired).")
    superseded_by: RecordId | None = Field(default=None, description="The record that replaces this one, if any.")


# ---------------------------------------------------------------- the review policy (one home)
# A record is reviewed by its `review_by` date until it is done with: a retired record (any
# kind) and a closed problem need no more review, so they are never "overdue" anywhere (KE305,
# the record pages, the home page, the runbook's and the deck's "next 30 days").
DONE_STATUSES = frozenset({"retired", "closed"})


class Reviewed(Protocol):
    """Anything with a review date: the three record kinds and playbooks."""

    @property
    def review_by(self) -> date: ...


def needs_review(meta: Reviewed) -> bool:
    """Whether the record (or playbook, which has no status) is still reviewed by its date."""
    return getattr(meta, "status", None) not in DONE_STATUSES


def review_overdue(meta: Reviewed, as_of: date) -> bool:
    """Past its ``review_by`` on ``as_of`` and still needing review."""
    return needs_review(meta) and meta.review_by < as_of


def review_due(meta: Reviewed, start: date, end: date) -> bool:
    """Needs review and its ``review_by`` falls between ``start`` and ``end`` (both included)."""
    return needs_review(meta) and start <= meta.review_by <= end


class Affected(Strict_):
    """What the known error affects."""

    products: list[ShortText] = Field(default_factory=list, description="Products or applications affected.")
    versions: list[ShortText] = Field(default_factory=list, description="Versions or builds affected (text, e.g. `2308`).")
    cis: list[ShortText] = Field(default_factory=list, description="Configuration items or asset classes affected.")


class Fix(Strict_):
    """The permanent fix and where it stands."""

    status: Literal["none", "proposed", "approved", "deployed", "verified"] = Field(
        default="none", description="`none` → `proposed` → `approved` → `deployed` → `verified`."
    )
    change_ref: ShortText | None = Field(default=None, description="Change request reference (e.g. `CHG0031337`).")
    summary: ShortText | None = Field(default=None, description="One line describing the fix.")
    proposed_on: Date | None = Field(default=None, description="Date the fix was proposed.")
    approved_on: Date | None = Field(default=None, description="Date the change was approved.")
    deployed_on: Date | None = Field(default=None, description="Date the fix was deployed.")
    verified_on: Date | None = Field(default=None, description="Date the fix was verified (no recurrence).")


class KnownError(RecordBase):
    """A known error: what agents search for, with its workaround and fix status."""

    kind: ClassVar[str] = "known-error"
    prefix: ClassVar[str] = "KE"
    sections: ClassVar[tuple[str, ...]] = ("Symptoms", "Cause", "Workaround", "Permanent fix", "Reply to customer")

    id: KEId = Field(description="`KE-` and at least four digits, e.g. `KE-0042`.")
    status: RecordStatus = Field(description="`draft` → `in-review` → `published` → `retired`.")
    symptoms: Annotated[list[ShortText], Field(min_length=1)] = Field(
        description="The phrasings and exact error strings agents will paste into search."
    )
    error_codes: list[Annotated[str, StringConstraints(min_length=2, max_length=80)]] = Field(
        default_factory=list,
        description="Exact error codes and ids (`0x80070005`, `AADSTS50076`, `KB5034441`, `Event ID 7031`).",
    )
    symptom_signature: Signature = Field(description="Normalised key matched against ticket signatures: `:`-separated lower-case parts.")
    affected: Affected = Field(default_factory=Affected, description="Products, versions and CIs affected.")
    impact: Level = Field(description="Business impact when it happens: `low`, `medium`, `high`.")
    urgency: Level = Field(description="How fast it must be handled: `low`, `medium`, `high`.")
    priority: Priority = Field(description="`P1`–`P3`, normally from the triage matrix (impact × urgency).")
    risk_tags: list[RiskTag] = Field(default_factory=list, description="`security`, `billing`, `legal`: makes the record high-impact.")
    problem: PRBId | None = Field(default=None, description="The problem/RCA record investigating the cause.")
    workarounds: list[WAId] = Field(default_factory=list, description="Workarounds that apply (each lists this record in `applies_to`).")
    no_workaround_reason: ShortText | None = Field(
        default=None, description="Why no workaround exists (required when published without a verified workaround)."
    )
    fix: Fix = Field(default_factory=Fix, description="The permanent fix and its status.")
    tickets: list[TicketId] = Field(
        default_factory=list, description="Ticket ids linked to this known error (ids only, never ticket text)."
    )


class Workaround(RecordBase):
    """Steps an agent can follow to restore service while the cause is fixed."""

    kind: ClassVar[str] = "workaround"
    prefix: ClassVar[str] = "WA"
    sections: ClassVar[tuple[str, ...]] = ("Steps",)

    id: WAId = Field(description="`WA-` and at least four digits, e.g. `WA-0011`.")
    status: RecordStatus = Field(description="`draft` → `in-review` → `published` → `retired`.")
    applies_to: Annotated[list[KEId], Field(min_length=1)] = Field(
        description="Known errors this workaround applies to (each lists it in `workarounds`)."
    )
    risk: Level = Field(description="Risk of applying it: `low`, `medium`, `high` (medium/high need a `## Rollback`).")
    verified_by: Handle | None = Field(default=None, description="Who verified that the steps work.")
    verified_on: Date | None = Field(default=None, description="When the steps were last verified.")
    success_rate: Annotated[float, Field(ge=0, le=1)] | None = Field(
        default=None, description="Share of tickets where it restored service (0–1)."
    )
    estimated_minutes: Annotated[int, Field(ge=1, le=1440)] | None = Field(default=None, description="Typical time to apply, in minutes.")
    requires: list[ShortText] = Field(default_factory=list, description="Access or tools needed (e.g. `local admin`).")


class PreventionAction(Strict_):
    action: ShortText = Field(description="What will be done to stop recurrence.")
    owner: Handle = Field(description="Who does it.")
    due: Date = Field(description="When it is due.")
    status: Literal["open", "done", "dropped"] = Field(default="open", description="`open`, `done` or `dropped`.")


class Trigger(Strict_):
    """The recurrence figures that opened the problem."""

    rule: Slug | None = Field(default=None, description="Recurrence rule id from `content/recurrence.yml`.")
    signature: Signature | None = Field(default=None, description="Ticket signature that recurred.")
    tickets: Annotated[int, Field(ge=0)] = Field(description="Number of tickets in the window.")
    window_days: Annotated[int, Field(ge=1)] = Field(description="Length of the window in days.")
    distinct_customers: Annotated[int, Field(ge=0)] | None = Field(default=None, description="Distinct customers affected.")
    distinct_assets: Annotated[int, Field(ge=0)] | None = Field(default=None, description="Distinct assets/CIs affected.")
    first_seen: Date | None = Field(default=None, description="First ticket in the window.")
    last_seen: Date | None = Field(default=None, description="Last ticket in the window.")


class Problem(RecordBase):
    """A problem / root-cause analysis record."""

    kind: ClassVar[str] = "problem"
    prefix: ClassVar[str] = "PRB"
    sections: ClassVar[tuple[str, ...]] = ("Problem statement",)

    id: PRBId = Field(description="`PRB-` and at least four digits, e.g. `PRB-0007`.")
    status: ProblemStatus = Field(
        description="`candidate` → `investigating` → `root-cause-identified` → `fix-proposed` → `fix-approved` → `closed`."
    )
    opened: Date = Field(description="Date the problem was opened (start of mean time to root cause).")
    root_cause_identified: Date | None = Field(default=None, description="Date the root cause was identified.")
    fixed_on: Date | None = Field(default=None, description="Date the permanent fix was in place (fix success is measured after it).")
    closed_on: Date | None = Field(default=None, description="Date the problem was closed.")
    trigger: Trigger | None = Field(default=None, description="Recurrence figures that opened it.")
    evidence: list[ShortText] = Field(default_factory=list, description="Evidence gathered (logs, tickets, vendor cases), as references.")
    method: list[Literal["5-whys", "fishbone", "timeline", "fault-tree", "kepner-tregoe", "change-analysis"]] = Field(
        default_factory=list, description="Analysis methods used."
    )
    root_cause: Text | None = Field(default=None, description="The root cause, in plain words.")
    contributing_factors: list[ShortText] = Field(default_factory=list, description="Factors that made it happen or worse.")
    fix_proposal: Text | None = Field(default=None, description="The proposed permanent fix.")
    change_ref: ShortText | None = Field(default=None, description="Change request for the fix.")
    prevention_actions: list[PreventionAction] = Field(default_factory=list, description="Actions to stop recurrence (owner, due).")
    impact: Level = Field(description="Business impact of the problem: `low`, `medium`, `high`.")
    known_errors: list[KEId] = Field(default_factory=list, description="Known errors this problem explains (each names it in `problem`).")
    tickets: list[TicketId] = Field(default_factory=list, description="Ticket ids behind the problem (ids only).")


RECORD_MODELS: dict[str, type[RecordBase]] = {"KE": KnownError, "WA": Workaround, "PRB": Problem}
AnyRecord = KnownError | Workaround | Problem
