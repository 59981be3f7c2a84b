"""Program data: the typed YAML files in ``content/`` that run the known-error program.

One model per file; ``PROGRAM_FILES`` maps each file name to its model. Like the record
models, these are the schema (``kedb schema`` exports them) and refuse unknown keys.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StringConstraints

from .decisions import DecisionsFile
from .progression import ProgressionFile
from .records import Bool, Date, Handle, Level, Priority, RiskTag, Sensitivity, ShortText, Slug, Strict_, TenantId, Text, Title

KPI_IDS: tuple[str, ...] = (
    "repeat_ticket_rate",
    "mean_time_to_root_cause",
    "problem_fix_success_rate",
    "first_response_time",
    "sla_breach_rate",
    "reopen_rate",
    "escalation_accuracy",
)
TIER_IDS = Literal["tier-1", "tier-2", "sme", "vendor", "third-party", "client-it"]
Month = Annotated[str, StringConstraints(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")]


# ---------------------------------------------------------------- services.yml
class Service(Strict_):
    id: Slug = Field(description="Service id used in records' `service` field.")
    name: ShortText = Field(description="Display name.")
    description: Text = Field(description="What the service covers.")
    category: ShortText = Field(description="Group in the service catalogue (e.g. `Identity`, `End-user computing`).")
    vendor: ShortText | None = Field(default=None, description="Main vendor, if any.")


class ServicesFile(Strict_):
    """`content/services.yml`: the service taxonomy."""

    services: Annotated[list[Service], Field(min_length=1)] = Field(description="Every service records may name.")


# ---------------------------------------------------------------- roles.yml
class RoleDef(Strict_):
    id: Slug = Field(description="Role id (e.g. `primary-owner`, `approver`, `support-owner`, `incident-lead`).")
    name: ShortText = Field(description="Display name.")
    responsibilities: list[ShortText] = Field(description="What the role does in the program.")


class Person(Strict_):
    handle: Handle = Field(description="Handle used in records (`owner`, `verified_by`).")
    name: ShortText = Field(description="Full name as it appears in git commits and `Approved-by:` trailers.")
    email: ShortText | None = Field(default=None, description="Work e-mail as used in git commits.")
    username: ShortText | None = Field(default=None, description="GitLab/GitHub username for CODEOWNERS (without `@`).")
    roles: list[Slug] = Field(default_factory=list, description="Role ids this person holds.")


class Assignment(Strict_):
    service: Slug = Field(description="Service id.")
    primary_owner: Handle = Field(description="Accountable for the service's records.")
    approvers: list[Handle] = Field(description="Problem managers who approve high-impact records of this service.")
    support_owner: Handle = Field(description="Runs day-to-day support for the service.")


class RolesFile(Strict_):
    """`content/roles.yml`: roles, people, maintainers and who owns and approves each service."""

    roles: list[RoleDef] = Field(description="Role definitions.")
    people: list[Person] = Field(description="Everyone named anywhere in the KB.")
    maintainers: Annotated[list[Handle], Field(min_length=1)] = Field(
        description="Own every path that is not a record file: `content/`, `generators/`, templates, CI and build files, CODEOWNERS."
    )
    assignments: list[Assignment] = Field(description="Per-service primary owner, approvers and support owner.")


# ---------------------------------------------------------------- recurrence.yml
class RecurrenceRule(Strict_):
    id: Slug = Field(description="Rule id, quoted in problem triggers.")
    name: ShortText = Field(description="Display name.")
    min_tickets: Annotated[int, Field(ge=2)] = Field(description="At least this many tickets with one signature...")
    window_days: Annotated[int, Field(ge=1, le=366)] = Field(description="...within this many days...")
    min_distinct: Annotated[int, Field(ge=1)] = Field(default=1, description="...across at least this many distinct...")
    distinct_by: Literal["customers", "assets", "services", "callers"] = Field(
        default="customers", description="...customers, assets, services or callers."
    )
    description: ShortText | None = Field(default=None, description="Why this rule exists.")


class RecurrenceFile(Strict_):
    """`content/recurrence.yml`: when recurring tickets become a problem candidate."""

    signature_fields: list[Literal["service", "category", "subcategory", "symptom", "ci", "error_codes"]] = Field(
        default_factory=lambda: ["category", "subcategory", "symptom", "error_codes"],
        description="Ticket fields that make up a symptom signature, in order.",
    )
    repeat_window_days: Annotated[int, Field(ge=1, le=366)] = Field(
        default=30, description="A ticket is a repeat when its signature was seen this many days before."
    )
    rules: Annotated[list[RecurrenceRule], Field(min_length=1)] = Field(description="Thresholds; any rule met proposes a candidate.")


# ---------------------------------------------------------------- kpis.yml
class Improvement(Strict_):
    """A target relative to the baseline: how much better than the baseline, in percent of it, and by when."""

    min_percent: Annotated[float, Field(ge=0)] = Field(
        description="The least improvement that meets the target, in percent of the baseline value (not percentage points), "
        "in the KPI's `direction`: 10 on a lower-is-better KPI with a baseline of 20 % means 18 % or lower."
    )
    max_percent: Annotated[float, Field(ge=0)] | None = Field(
        default=None,
        description="The top of the range of ambition, in percent of the baseline. Improving beyond it is still on track: "
        "it says how far the program aims, not a limit.",
    )
    within_days: Annotated[int, Field(ge=1, le=3660)] = Field(
        description="Days after the last day of the baseline period (`checkpoints.baseline`) by which the improvement is due: "
        "a figure short of it before then is at risk, at or after then missed."
    )


class Target(Strict_):
    min: float | None = Field(
        default=None,
        description="Lowest acceptable value (inclusive), in the KPI's unit; an absolute target is due by the week-8 checkpoint.",
    )
    max: float | None = Field(
        default=None,
        description="Highest acceptable value (inclusive), in the KPI's unit; an absolute target is due by the week-8 checkpoint.",
    )
    improve: Improvement | None = Field(
        default=None,
        description="A target relative to the baseline instead of `min`/`max`: an improvement range in percent of the baseline "
        "within some days, e.g. `{min_percent: 10, max_percent: 25, within_days: 60}`. It needs a baseline: `baseline` here, "
        "or the figure of the baseline month's snapshot.",
    )

    @property
    def relative(self) -> bool:
        return self.improve is not None

    @property
    def absolute(self) -> bool:
        return self.min is not None or self.max is not None


class Kpi(Strict_):
    id: Slug = Field(description="KPI id (e.g. `repeat_ticket_rate`).")
    name: ShortText = Field(description="Display name.")
    definition: Text = Field(description="What is measured, in words a service-desk lead agrees with.")
    formula: ShortText = Field(description="How it is computed, numerator / denominator.")
    unit: Literal["percent", "hours", "days", "minutes", "count"] = Field(description="Unit of the value.")
    direction: Literal["lower-is-better", "higher-is-better"] = Field(description="Which way is improvement.")
    baseline: float | None = Field(default=None, description="Value at the program baseline.")
    target: Target = Field(
        description="Absolute (`min`, `max`) or relative to the baseline (`improve`), never both; each output judges the KPI on "
        "track, at risk or missed against it (README, 'KPI targets and where a KPI stands')."
    )
    source: Literal["tickets", "problems", "audit", "manual"] = Field(description="Where the figure comes from.")
    owner: Handle | None = Field(default=None, description="Who reports it.")

    @property
    def lower_is_better(self) -> bool:
        return self.direction == "lower-is-better"


class Checkpoints(Strict_):
    baseline: Month = Field(description="Baseline period (YYYY-MM).")
    week4: Date = Field(description="Date of the week-4 checkpoint.")
    week8: Date = Field(description="Date of the week-8 checkpoint: an absolute target (`min`, `max`) is due by it.")


class RepeatCost(Strict_):
    per_ticket: Annotated[float, Field(gt=0)] = Field(
        description="What handling one incident ticket costs the desk, in `currency` (loaded cost: time worked times the hourly rate)."
    )
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")] = Field(description="ISO 4217 currency code, e.g. `GBP`.")
    basis: ShortText = Field(description="Where the figure comes from (finance model, time tracking), so a reader can check it.")


class KpisFile(Strict_):
    """`content/kpis.yml`: KPI definitions, baselines and targets."""

    checkpoints: Checkpoints = Field(description="Baseline, week-4 and week-8 checkpoints.")
    kpis: Annotated[list[Kpi], Field(min_length=1)] = Field(description="Every KPI the program is judged by.")
    repeat_cost: RepeatCost | None = Field(
        default=None,
        description="Cost of one repeat ticket: with the repeat counts of the KPI snapshots it gives the cost of repeat work "
        "and the saving at target that the executive brief shows. Without it the brief counts tickets, not money.",
    )


# ---------------------------------------------------------------- risks.yml
class Mapping_(Strict_):
    framework: ShortText = Field(
        description="Framework name, any framework the program maps to (e.g. `ISO/IEC 20000-1:2018`, `ITIL 4`, "
        "`ISO/IEC 27001:2022`, `SOC 2`, `PSF`, `PAI-8`); every output lists each mapping as written."
    )
    ref: ShortText = Field(description="Clause or control reference in that framework.")

    @property
    def text(self) -> str:
        """``PSF: D2 Output validation``: how every output lists a mapping."""
        return f"{self.framework}: {self.ref}"


EvidenceKind = Literal[
    "approvals", "review-dates", "verification", "content-scan", "record-rules", "kpi-snapshots", "flow-audits", "prevention-actions"
]


class Action(Strict_):
    action: ShortText = Field(description="What will be done, as an instruction.")
    owner: Handle = Field(description="Who does it.")
    due: Date = Field(description="By when.")
    status: Literal["open", "done"] = Field(default="open", description="`open` or `done`.")


class Remediation(Strict_):
    action: ShortText = Field(description="What will make the control operate.")
    owner: Handle = Field(description="Who does it.")
    due: Date = Field(description="By when.")


class Control(Strict_):
    id: Annotated[str, StringConstraints(pattern=r"^C-\d{2,}$")] = Field(description="Control id, `C-NN`.")
    description: Text = Field(description="What the control does.")
    type: Literal["preventive", "detective", "corrective"] = Field(description="Control type.")
    owner: Handle = Field(description="Who operates it.")
    frequency: ShortText = Field(description="How often it runs (e.g. `every merge request`, `weekly`).")
    evidence: ShortText = Field(description="What proves it ran.")
    status: Literal["planned", "operating", "needs-improvement"] = Field(description="Control status.")
    mappings: list[Mapping_] = Field(default_factory=list, description="Framework mappings.")
    kedb_evidence: EvidenceKind | None = Field(
        default=None,
        description="The test kedb runs at every build as this control's evidence (its last run and result are in the proof "
        "brief): `approvals` (the approval gate on main), `review-dates` (records past review_by), `verification` (published "
        "workarounds verified), `content-scan` (secrets, contact details, unsafe Markdown, stray files), `record-rules` (every "
        "error rule of kedb check), `kpi-snapshots` (a snapshot for every month since the baseline), `flow-audits` (an audit in "
        "the last 35 days), `prevention-actions` (no prevention action overdue). Leave it out when the evidence is kept "
        "outside the repository.",
    )
    remediation: Remediation | None = Field(
        default=None,
        description="For a `planned` or `needs-improvement` control: what will make it operate, who does it and by when "
        "(the proof brief lists it under exceptions).",
    )


class Risk(Strict_):
    id: Annotated[str, StringConstraints(pattern=r"^R-\d{2,}$")] = Field(description="Risk id, `R-NN`.")
    title: Title = Field(description="The risk in one line.")
    failure_mode: Text = Field(description="How it fails in practice.")
    likelihood: Level = Field(description="`low`, `medium`, `high`.")
    impact: Level = Field(description="`low`, `medium`, `high`.")
    owner: Handle = Field(description="Risk owner.")
    review_cadence: Literal["monthly", "quarterly", "half-yearly", "yearly"] = Field(description="How often it is reviewed.")
    reviewed: Date | None = Field(default=None, description="Day of the last review; the next is due one `review_cadence` later.")
    status: Literal["open", "mitigating", "accepted", "closed"] = Field(description="Risk status.")
    controls: list[Control] = Field(default_factory=list, description="Controls that treat it.")
    actions: list[Action] = Field(default_factory=list, description="What is being done about it, by whom and by when.")


class RisksFile(Strict_):
    """`content/risks.yml`: the risk and control register."""

    risks: Annotated[list[Risk], Field(min_length=1)] = Field(description="Risks with their controls.")


# ---------------------------------------------------------------- triage.yml
class PriorityClass(Strict_):
    id: Priority = Field(description="`P1`, `P2` or `P3`.")
    name: ShortText = Field(description="Display name (e.g. `Critical`).")
    definition: Text = Field(description="When a ticket is this priority.")
    response_minutes: Annotated[int, Field(ge=1)] = Field(description="First-response SLA timer, minutes.")
    update_minutes: Annotated[int, Field(ge=1)] = Field(description="Customer update interval, minutes.")
    resolution_hours: Annotated[float, Field(gt=0)] = Field(description="Resolution SLA timer, hours.")
    examples: list[ShortText] = Field(default_factory=list, description="Typical tickets of this class.")


class RiskTagDef(Strict_):
    id: RiskTag = Field(description="`security`, `billing` or `legal`.")
    description: Text = Field(description="When to apply the tag.")
    handling: Text = Field(description="What changes when it is applied.")
    approver_role: Slug = Field(description="Role that must approve customer replies on tagged records.")


# Ticket fields kedb keeps for every ticket that the agent who logs it fills in (tickets/fields.py names them all; free
# text is not kept, so it cannot be measured): what `intake_fields` may name.
IntakeField = Literal["priority", "customer", "caller", "service", "category", "subcategory", "symptom", "ci", "assignment_group"]
# The triage playbook's intake: the priority read from the matrix, who is affected (the customer and the caller), what is
# affected (the service) and the symptom, classified (category).
INTAKE_FIELDS: tuple[IntakeField, ...] = ("priority", "customer", "caller", "service", "category", "symptom")


def _once(fields: list[IntakeField]) -> list[IntakeField]:
    twice = sorted({f for f in fields if fields.count(f) > 1})
    if twice:
        raise ValueError(f"intake field named more than once: {', '.join(twice)}")
    return fields


class TriageFile(Strict_):
    """`content/triage.yml`: priority classes, SLA timers, the impact × urgency matrix, risk tags and mandatory intake fields."""

    priorities: Annotated[list[PriorityClass], Field(min_length=3, max_length=3)] = Field(description="P1, P2, P3.")
    matrix: dict[Level, dict[Level, Priority]] = Field(description="`impact → urgency → priority`.")
    risk_tags: list[RiskTagDef] = Field(description="Risk tags and their handling.")
    intake_fields: Annotated[list[IntakeField], Field(min_length=1), AfterValidator(_once)] = Field(
        default_factory=lambda: list(INTAKE_FIELDS),
        description="Ticket fields every ticket must have filled when it is logged (`priority`, `customer`, `caller`, "
        "`service`, `category`, `subcategory`, `symptom`, `ci`, `assignment_group`): `kedb tickets audit` measures the "
        "share filled, overall and per assignment group. Default: priority, customer, caller, service, category, symptom.",
    )


# ---------------------------------------------------------------- escalation.yml
class Tier(Strict_):
    id: TIER_IDS = Field(description="`tier-1`, `tier-2`, `sme`, `vendor`, `third-party`, `client-it`.")
    name: ShortText = Field(description="Display name.")
    owns: Text = Field(description="What this tier is responsible for.")
    role: Slug | None = Field(default=None, description="Role that staffs it, if ours.")
    target_minutes: Annotated[int, Field(ge=1)] | None = Field(default=None, description="Time to pick up a hand-off.")


class EscalationPath(Strict_):
    source: TIER_IDS = Field(alias="from", description="Tier that escalates.")
    to: TIER_IDS = Field(description="Tier that receives.")
    when: list[ShortText] = Field(description="Conditions that trigger it.")
    handoff: list[ShortText] = Field(description="What must be in the ticket at hand-off.")


class EscalationFile(Strict_):
    """`content/escalation.yml`: tiers and the paths between them."""

    tiers: Annotated[list[Tier], Field(min_length=2)] = Field(description="Tier 1 → tier 2 → SME / vendor / third party / client IT.")
    paths: list[EscalationPath] = Field(description="Escalation paths.")


# ---------------------------------------------------------------- rhythm.yml
class Phase(Strict_):
    name: ShortText = Field(description="Phase name.")
    start_day: Annotated[int, Field(ge=1, le=30)] = Field(description="First day (1–30).")
    end_day: Annotated[int, Field(ge=1, le=30)] = Field(description="Last day (1–30).")
    owner: Slug = Field(description="Role that leads it.")
    activities: Annotated[list[ShortText], Field(min_length=1)] = Field(description="What happens.")
    outputs: list[ShortText] = Field(default_factory=list, description="What it produces.")
    gate: ShortText | None = Field(default=None, description="What must be true to move on.")


class RhythmFile(Strict_):
    """`content/rhythm.yml`: the 30-day implementation rhythm."""

    phases: Annotated[list[Phase], Field(min_length=1)] = Field(description="Phases in order, covering days 1–30.")


# ---------------------------------------------------------------- kedb.yml
class Tenant(Strict_):
    id: TenantId = Field(description="Tenant id used in records' `tenants`.")
    name: ShortText = Field(description="Customer name.")


class Allowlist(Strict_):
    emails: list[ShortText] = Field(default_factory=list, description="Addresses (or `*@domain` patterns) allowed in records.")
    phones: list[ShortText] = Field(default_factory=list, description="Phone numbers allowed in records (e.g. the service desk line).")


class Limits(Strict_):
    max_file_kb: Annotated[int, Field(ge=1)] = Field(default=64, description="Largest record file, KiB.")
    max_line_chars: Annotated[int, Field(ge=40)] = Field(default=600, description="Longest line, characters.")


class HighImpact(Strict_):
    impacts: list[Level] = Field(default_factory=lambda: ["high"], description="Impacts that make a record high-impact.")
    priorities: list[Priority] = Field(default_factory=lambda: ["P1"], description="Priorities that make a record high-impact.")
    any_risk_tag: Bool = Field(default=True, description="Any risk tag makes a record high-impact.")


class SettingsFile(Strict_):
    """`content/kedb.yml`: the KB's own settings."""

    name: ShortText = Field(description="Name of the knowledge base.")
    organisation: ShortText = Field(description="Who runs it.")
    default_audience: Sensitivity = Field(default="internal", description="Audience of `kedb build` when none is given.")
    tenants: list[Tenant] = Field(default_factory=list, description="Customers records may be scoped to.")
    allowlist: Allowlist = Field(default_factory=Allowlist, description="Contact details allowed in records.")
    limits: Limits = Field(default_factory=Limits, description="Size limits.")
    high_impact: HighImpact = Field(default_factory=HighImpact, description="What makes a record high-impact.")
    approvals_since: Date | None = Field(
        default=None,
        description="Day the merge-request approval gate started. Changes that landed earlier are listed as "
        "`before the gate` in the approval trail instead of as violations (history imported from before kedb). "
        "It may not be later than the day it is set, and never moves later once set.",
    )
    approval_evidence: Literal["trailers", "signed"] = Field(
        default="trailers",
        description="What proves an approval on main: `trailers` (an `Approved-by:` trailer; proof only when main accepts "
        "merges through the platform alone) or `signed` (the commit carrying the trailer is signed by a key in "
        "`content/allowed_signers` or `content/allowed_signers.asc`: the platform's merge key or the approver's own).",
    )
    platform_signers: list[ShortText] = Field(
        default_factory=list,
        description="In `signed` mode, the signers (allowed-signers principals, or GPG user ids) that are the platform's own "
        "merge key: a merge it signed counts for the approvers its `Approved-by:` trailers name. Any other allowed key "
        "counts only for its own holder.",
    )
    kedb_version: Annotated[str, StringConstraints(pattern=r"^\d+\.\d+\.\d+$")] | None = Field(
        default=None,
        description="The kedb version the KB's files were last written or upgraded for (`kedb init` and `kedb upgrade --write` "
        "set it). When a later kedb meets a file it no longer reads, `kedb check` names this version and `kedb upgrade` "
        "rewrites what changed since.",
    )


# ---------------------------------------------------------------- playbooks/*.md front-matter
class Step(Strict_):
    title: ShortText = Field(description="The step, as an instruction.")
    role: Slug = Field(description="Role that does it.")
    gate: Literal["approval", "verification"] | None = Field(default=None, description="Gate this step is, if any.")
    detail: Text | None = Field(default=None, description="How, briefly.")


class Playbook(Strict_):
    """Front-matter of a playbook page in `content/playbooks/`."""

    title: Title = Field(description="Page title.")
    summary: ShortText = Field(description="One-line summary.")
    order: Annotated[int, Field(ge=1)] = Field(description="Position in the playbook list and the runbook.")
    owner: Slug = Field(description="Role that owns the playbook.")
    review_by: Date = Field(description="Next review date.")
    data_sensitivity: Sensitivity = Field(default="internal", description="Audience.")
    steps: list[Step] = Field(default_factory=list, description="The steps in order, with their gates.")


PROGRAM_FILES: dict[str, type[Strict_]] = {
    "services.yml": ServicesFile,
    "roles.yml": RolesFile,
    "recurrence.yml": RecurrenceFile,
    "kpis.yml": KpisFile,
    "risks.yml": RisksFile,
    "triage.yml": TriageFile,
    "escalation.yml": EscalationFile,
    "rhythm.yml": RhythmFile,
    "kedb.yml": SettingsFile,
    "progression.yml": ProgressionFile,
    "decisions.yml": DecisionsFile,
}
# Files a KB may leave out (older KBs predate them); the commands that need one say so.
OPTIONAL_PROGRAM_FILES: tuple[str, ...] = ("progression.yml", "decisions.yml")
REQUIRED_PROGRAM_FILES: tuple[str, ...] = tuple(n for n in PROGRAM_FILES if n not in OPTIONAL_PROGRAM_FILES)
