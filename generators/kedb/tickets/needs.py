"""Which ticket fields each KPI and audit figure needs: one table for the import report, ``--strict``
and the reasons a figure is n/a.

A figure can be computed in several ways (first response from a column of minutes, from a
first-response time, or from the event log's first update out of *new*); each way is a set of
what it needs. Besides ticket fields, a way can need ``EVENTS`` (the export is an event log: a
ticket on several rows) or ``TRIAGE`` (``content/triage.yml`` gives the SLA timers). A figure is
lost when no way is left.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..core.snapshots import DESK_IDS
from .fields import SIGNATURE_PARTS

EVENTS = "@events"
TRIAGE = "@triage"
CODES = "text"  # error codes come from the free text

Ways = tuple[frozenset[str], ...]


def _ways(*ways: Iterable[str]) -> Ways:
    return tuple(frozenset(w) for w in ways)


_SIGNATURE = _ways(*([p] for p in (*SIGNATURE_PARTS, CODES)))
_RESPONSE = _ways(["first_response_minutes"], ["first_response_at"], [EVENTS, "status"])
_REOPEN = _ways(["reopen_count"], [EVENTS, "status"])
_MOVES = _ways(["reassignment_count"], [EVENTS, "assignment_group"])
_FLOW = _ways([EVENTS, "status"])
# First contact resolution needs both a reassignment and a reopen count, each from its column or the event log.
_FIRST_CONTACT = tuple(frozenset(a | b) for a in _MOVES for b in _REOPEN)
# A resolution time per priority needs the priority (without any resolution time there is nothing resolved to count).
_RESOLVED = _ways(["priority"])

# figure id -> (what it is in words, the ways to compute it). KPIs of content/kpis.yml first,
# then the volume figures of a snapshot, then the flow audit's figures.
NEEDS: dict[str, tuple[str, Ways]] = {
    "repeat_ticket_rate": ("KPI", _SIGNATURE),
    "problem_fix_success_rate": ("KPI", _SIGNATURE),
    "first_response_time": ("KPI", _RESPONSE),
    "sla_breach_rate": ("KPI", _ways(["sla_breached"], ["response_breached"], ["resolution_breached"], ["priority", TRIAGE])),
    "reopen_rate": ("KPI and audit", _REOPEN),
    "escalation_accuracy": ("KPI", _MOVES),
    "reassignment_rate": ("KPI", _MOVES),
    "tickets_per_problem": ("KPI", _ways(["problem_id"])),
    "first_contact_resolution": ("KPI", _FIRST_CONTACT),
    **{k: ("KPI", _RESOLVED) for k in DESK_IDS if k.startswith("resolution_time_")},
    "csat": ("KPI", _ways(["satisfaction"])),
    "kb_assisted_resolution": ("KPI", _ways(["knowledge"])),
    "sla_at_risk": ("audit", _ways(["priority", TRIAGE])),
    "sla_breached": ("audit", _ways(["priority", TRIAGE])),
    "response_timer": ("audit", tuple(w | {"priority", TRIAGE} for w in _RESPONSE)),
    "progression_sla": ("audit", _FLOW),
    "stalled": ("audit", _FLOW),
    "bounce_rate": ("audit", _ways([EVENTS, "assignment_group"], [EVENTS, "status"])),
    "bounces": ("audit", _ways([EVENTS, "assignment_group"], [EVENTS, "status"])),
    "chases": ("audit", _ways([EVENTS, "status", "caller", "updated_by"])),
    "chases_answered": ("audit", _ways([EVENTS, "status", "caller", "updated_by"])),
}

# Figures that only some tools export what they need for (a satisfaction rating, a knowledge flag): n/a without it,
# like any figure, but never a reason for `kedb tickets import --strict` to refuse an export (ServiceNow's incident
# export has no rating, and a desk that defines CSAT would otherwise be refused every one of them).
OPTIONAL: frozenset[str] = frozenset({"csat", "kb_assisted_resolution"})

# What a missing field makes less exact without losing a figure.
WEAKER: dict[str, str] = {
    "status": "resolution, the backlog and open tickets come from resolved_at/closed_at alone (a reopened or still-open "
    "ticket cannot be told apart), and nothing is a service request or cancelled",
    "updated_at": "an event log's rows are ordered by file order only",
    "customer": "`distinct_by: customers` rules see one customer",
    "caller": "`distinct_by: callers` rules see one caller",
    "ci": "`distinct_by: assets` rules see one asset",
    "type": "service requests cannot be left out of the repeat rate",
}


def available(fields: Iterable[str], *, event_log: bool, triage: bool) -> frozenset[str]:
    """What the export and the KB give: the fields present, plus ``EVENTS`` and ``TRIAGE`` when true."""
    return frozenset([*fields, *([EVENTS] if event_log else []), *([TRIAGE] if triage else [])])


def computable(figure: str, have: frozenset[str]) -> bool:
    """True when some way to compute ``figure`` has everything it needs (figures not listed need no ticket field)."""
    if figure not in NEEDS:
        return True
    return any(way <= have for way in NEEDS[figure][1])


def lost(have: frozenset[str]) -> list[str]:
    """The figures that will be n/a with what is available, in table order."""
    return [f for f in NEEDS if not computable(f, have)]


def refused(kpis: Iterable[str], have: frozenset[str]) -> list[str]:
    """The KPIs among ``kpis`` that make ``--strict`` refuse the export: those it cannot give, except :data:`OPTIONAL` ones."""
    return [k for k in kpis if k not in OPTIONAL and not computable(k, have)]


def lost_by(field: str, have: frozenset[str]) -> list[str]:
    """The figures that are n/a and that ``field`` would bring back."""
    return [f for f in lost(have) if computable(f, have | {field})]


def way_text(way: frozenset[str]) -> str:
    """One way in words: ``status in an event log``, ``priority with the timers of content/triage.yml``."""
    fields = " and ".join(sorted(f for f in way if not f.startswith("@"))) or "nothing"
    if EVENTS in way:
        fields += " in an event log"
    if TRIAGE in way:
        fields += " with the timers of content/triage.yml"
    return fields


def needs_text(figure: str) -> str:
    """What ``figure`` needs, every way: ``first_response_minutes, first_response_at or status in an event log``."""
    ways = [way_text(w) for w in NEEDS[figure][1]] if figure in NEEDS else []
    if not ways:
        return "nothing from the export"
    return ways[0] if len(ways) == 1 else ", ".join(ways[:-1]) + " or " + ways[-1]
