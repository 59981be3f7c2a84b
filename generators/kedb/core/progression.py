"""The progression policy, ``content/progression.yml``: how long a ticket may stay in each status.

Support-flow practice judges a desk by whether each ticket keeps *moving*: a ticket bounced
back to the service desk must be picked up within half an hour, one awaiting the user's answer
must be followed up within two working days, and so on. The policy names those statuses
(*stages*), gives each a threshold, and says which status names of each ticketing tool belong
to which stage. It refines the importer's status classes (``new``, ``open``, ``pending``,
``resolved``; see ``generators/kedb/tickets/mappings/``) rather than repeating them: a status
the policy does not list takes the stage its class defaults to, and a status it lists must
keep the class the importer gives it (``kedb check`` verifies both, rules KE721–KE725).

Time is counted on one of two clocks per threshold. ``calendar``: every minute. ``working``:
only the minutes inside ``working_hours`` (the same days and hours every week, in the times of
the export; public holidays are not modelled), where a day (``d``) is one working day.
:func:`clock_minutes` is the clock, here and (as the same arithmetic) in the audit's SQL.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from .records import Bool, ShortText, Slug, Strict_
from .sources import Source, listed

Duration = Annotated[str, StringConstraints(pattern=r"^\d+(\.\d+)?[mhd]$")]
Clock = Literal["working", "calendar"]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
HHMM = Annotated[str, StringConstraints(pattern=r"^(([01]\d|2[0-3]):[0-5]\d|24:00)$")]
# Importer status classes a ticket can wait in (closed and cancelled end its flow).
OPEN_CLASSES: tuple[str, ...] = ("new", "open", "pending", "resolved")
StageClass = Literal["new", "open", "pending", "resolved"]
# The SLA breach prevention playbook's points on every timer: watch, at risk, critical, breached.
SLA_THRESHOLDS: tuple[float, ...] = (50, 80, 90, 100)


class WorkingHours(Strict_):
    days: Annotated[list[Weekday], Field(min_length=1)] = Field(
        default_factory=lambda: ["mon", "tue", "wed", "thu", "fri"], description="Working days (`mon` … `sun`)."
    )
    start: HHMM = Field(default="08:00", description="Start of the working day, `HH:MM`, in the times of the export.")
    end: HHMM = Field(
        default="18:00", description="End of the working day, `HH:MM` (after `start`); `d` on the working clock is end − start."
    )

    def minutes(self) -> tuple[int, int]:
        """(start, end) as minutes after midnight."""
        s, e = (int(x[:2]) * 60 + int(x[3:]) for x in (self.start, self.end))
        return s, e


class Stage(Strict_):
    id: Slug = Field(description="Stage id (e.g. `awaiting-user`), used in `defaults`, `statuses` and the audit.")
    name: ShortText = Field(description="Display name (e.g. `Awaiting user info`).")
    status_class: StageClass = Field(
        alias="class",
        description="The importer's status class this stage refines: `new`, `open`, `pending` or `resolved`. "
        "Every status mapped to the stage must have this class in the source's mapping.",
    )
    threshold: Duration = Field(
        description="How long a ticket may stay in this stage before it must move on: a number and `m` (minutes), `h` (hours) or "
        "`d` (days; a working day on the working clock), e.g. `30m`, `4h`, `2d`."
    )
    clock: Clock = Field(default="working", description="`working` (only working hours count) or `calendar` (every minute counts).")
    waiting_on: Literal["desk", "user", "third-party"] = Field(
        default="desk",
        description="Whose move it is. A caller's update while the ticket waits on the desk or a third party is a chase; "
        "while it waits on the user, it is the user's answer.",
    )
    pauses_sla: Bool = Field(
        default=False, description="Time in this stage does not count towards the resolution SLA (e.g. awaiting the user)."
    )
    description: ShortText | None = Field(default=None, description="What the stage means and what moving on looks like.")


class Bounces(Strict_):
    first_line: list[ShortText] = Field(
        default_factory=list,
        description="Assignment groups that are the first line (compared case-insensitively). A reassignment to one of them from "
        "another group is a ticket *rejected back to the first line*.",
    )
    stage: Slug | None = Field(
        default=None,
        description="Stage a bounced ticket enters (e.g. `bounced`) when its status is `new` or `open`; it lasts until the ticket's "
        "next update. Statuses mapped to this stage (a tool's `Rejected`) count as bounces too.",
    )


class Chases(Strict_):
    """When a caller's chase counts as answered in time.

    The playbook's rule is the update interval of the ticket's priority (`update_minutes` in
    `content/triage.yml`: 30 minutes for P1), on the SLA clock (`sla_clock`), like the other
    timers of that file. `answer_within` replaces it with one time for every priority."""

    answer_within: Duration | None = Field(
        default=None,
        description="Override: every chase must get an update from someone else within this time (e.g. `4h`), whatever the "
        "ticket's priority. Unset (the default): the update interval of the ticket's priority in `content/triage.yml`, "
        "on `sla_clock`; a chase of a ticket without a priority P1–P3 is then not judged.",
    )
    clock: Clock = Field(default="working", description="Clock of `answer_within` (only with the override).")


class ProgressionFile(Strict_):
    """`content/progression.yml`: stages, thresholds and status names for the flow audit (`kedb tickets audit`)."""

    window_days: Annotated[int, Field(ge=1, le=366)] = Field(
        default=28, description="The audit judges status periods, chases, bounces and reopens of this many days up to `--as-of`."
    )
    sla_at_risk_percent: Annotated[float, Field(gt=0, lt=100)] = Field(
        default=80,
        description="An open ticket is at risk when it has used this share of its resolution SLA (`content/triage.yml`) without "
        "breaching it: the audit's at-risk figure and its stored list of ticket ids.",
    )
    sla_thresholds: Annotated[list[Annotated[float, Field(gt=0, le=100)]], Field(min_length=1)] = Field(
        default_factory=lambda: list(SLA_THRESHOLDS),
        description="Points on every SLA timer (response and resolution, per priority, `content/triage.yml`) at which the desk "
        "acts, in percent of the timer used, increasing: the audit counts the open tickets at or past each. The SLA breach "
        "prevention playbook's are 50 (watch), 80 (at risk), 90 (critical) and 100 (breached).",
    )
    sla_clock: Clock = Field(
        default="calendar",
        description="Clock of the SLA timers of `content/triage.yml`: response, resolution and the update interval a chase is "
        "answered within (`calendar` runs around the clock, as `kedb kpi` counts them).",
    )
    working_hours: WorkingHours = Field(default_factory=WorkingHours, description="The working week of the working clock.")
    age_buckets_days: Annotated[list[Annotated[int, Field(ge=1)]], Field(min_length=1)] = Field(
        default_factory=lambda: [1, 3, 7, 14, 30, 90], description="Bounds of the open-ticket age profile in days, increasing."
    )
    stages: Annotated[list[Stage], Field(min_length=1)] = Field(description="Every stage a ticket can wait in, with its threshold.")
    defaults: dict[StageClass, Slug] = Field(
        description="Importer status class → stage, for every status a source list below does not name. "
        "All four open classes (`new`, `open`, `pending`, `resolved`) need one."
    )
    statuses: dict[Source, dict[str, Slug]] = Field(  # type: ignore[valid-type]
        default_factory=dict,
        description=f"Per source ({listed()}): status name (case-insensitive) → stage, "
        "for the statuses that refine their class (e.g. ServiceNow `Awaiting Vendor` → `awaiting-vendor`).",
    )
    bounces: Bounces = Field(default_factory=Bounces, description="What counts as a bounce.")
    chases: Chases = Field(
        default_factory=Chases,
        description="When a caller's chase counts as answered in time (default: within the update interval of its priority).",
    )

    def stage(self, stage_id: str) -> Stage | None:
        return next((s for s in self.stages if s.id == stage_id), None)


# ---------------------------------------------------------------- the clock
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)([mhd])$")
EPOCH = datetime(1970, 1, 1)  # a Thursday: day 0 is weekday 3 (Monday = 0)


def day_minutes(wh: WorkingHours) -> int:
    s, e = wh.minutes()
    return max(0, e - s)


def duration_minutes(text: str, clock: Clock, wh: WorkingHours) -> float:
    """``30m``, ``4h``, ``2d`` in minutes of ``clock`` (a working day is end − start of the working hours)."""
    m = _DURATION.match(text)
    if not m:
        raise ValueError(f"not a duration: {text!r}")
    n, unit = float(m.group(1)), m.group(2)
    per = {"m": 1.0, "h": 60.0, "d": float(day_minutes(wh)) if clock == "working" else 1440.0}[unit]
    return n * per


def week_table(wh: WorkingHours) -> tuple[list[int], list[int], int]:
    """(working minutes before each weekday, 1/0 working day per weekday, working minutes per week); Monday first."""
    length = day_minutes(wh)
    work = [1 if d in wh.days else 0 for d in WEEKDAYS]
    prefix = [length * sum(work[:i]) for i in range(7)]
    return prefix, work, length * sum(work)


def clock_minutes(when: datetime, clock: Clock, wh: WorkingHours) -> float:
    """Minutes of ``clock`` from 1970-01-01 to ``when`` (naive, in the times of the export).

    The time between two moments on a clock is the difference of their values. On the working
    clock, whole weeks count ``week`` minutes, the days before ``when`` in its week their working
    minutes, and the day of ``when`` the working minutes up to it."""
    m = (when - EPOCH).total_seconds() / 60
    if clock == "calendar":
        return m
    start, end = wh.minutes()
    prefix, work, week = week_table(wh)
    day = int(m // 1440)
    dow, weeks = (day + 3) % 7, (day + 3) // 7
    into = m - day * 1440
    return weeks * week + prefix[dow] + work[dow] * min(max(into - start, 0.0), float(max(0, end - start)))


def clock_sql(minutes_expr: str, clock: Clock, wh: WorkingHours) -> str:
    """:func:`clock_minutes` as a DuckDB expression over ``minutes_expr`` (minutes since 1970-01-01)."""
    if clock == "calendar":
        return f"({minutes_expr})"
    start, end = wh.minutes()
    prefix, work, week = week_table(wh)
    day = f"CAST(floor(({minutes_expr}) / 1440) AS BIGINT)"
    dow = f"(({day} + 3) % 7 + 1)"
    return (
        f"((({day} + 3) // 7) * {week} + {prefix}[{dow}] + "
        f"{work}[{dow}] * least(greatest(({minutes_expr}) - {day} * 1440 - {start}, 0), {max(0, end - start)}))"
    )
