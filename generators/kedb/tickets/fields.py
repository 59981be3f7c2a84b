"""The ticket fields kedb knows, whatever tool the export came from.

A mapping (built in per source, or a ``--map`` file) says which export column feeds each of
these fields. Only these fields are read; every other column of the export is ignored, and
free text (``text``) is read only to extract error codes: it is never stored.
"""

from __future__ import annotations

from typing import Literal

SCORE_MIN, SCORE_MAX = 1, 5  # the satisfaction scale
SATISFIED = 4  # a rating of at least this is a satisfied customer (CSAT)

FieldKind = Literal["text", "timestamp", "integer", "number", "boolean", "score", "freetext"]
StatusClass = Literal["new", "open", "pending", "resolved", "closed", "cancelled"]

# name -> (kind, meaning). The order is the order of the documentation.
FIELDS: dict[str, tuple[FieldKind, str]] = {
    "id": ("text", "Ticket number or key (required). Rows with the same id are one ticket's updates (an event log)."),
    "opened_at": ("timestamp", "When the ticket was logged (required)."),
    "updated_at": ("timestamp", "When this row's state was recorded; orders an event log's rows."),
    "seq": ("integer", "Update counter (ServiceNow `sys_mod_count`); breaks ties between rows with the same `updated_at`."),
    "status": ("text", "Status name as the tool shows it; `statuses` in the mapping gives its class."),
    "type": ("text", "Ticket type; values listed in `request_types` are service requests (left out of the repeat rate)."),
    "priority": ("text", "Priority; when it maps to `P1`–`P3` the SLA timers of `content/triage.yml` apply."),
    "customer": ("text", "Customer (company, organisation, client): `distinct_by: customers`."),
    "tenant": (
        "text",
        "Tenant of `content/kedb.yml` the ticket is for (`kedb kpi --tenant`, `kedb tickets audit --tenant`): the value matches a "
        "tenant's id or name, ignoring case, accents, spaces and punctuation; `values:` maps any other spelling to an id.",
    ),
    "caller": ("text", "Person who raised it: `distinct_by: callers`. Stored only as a one-way hash."),
    "updated_by": ("text", "Who made this update (event logs). Stored only as a one-way hash."),
    "service": ("text", "Service (business service, affected service): a signature part."),
    "category": ("text", "Category: a signature part."),
    "subcategory": ("text", "Subcategory: a signature part."),
    "symptom": ("text", "Symptom or problem type: a signature part."),
    "ci": ("text", "Configuration item or asset: a signature part and `distinct_by: assets`."),
    "assignment_group": ("text", "Team the ticket is assigned to; a change between rows counts as a reassignment."),
    "first_response_at": ("timestamp", "When a person first responded."),
    "first_response_minutes": ("number", "Minutes to the first response, as the tool measured them (e.g. Zendesk, business hours)."),
    "resolution_minutes": ("number", "Minutes to resolution, as the tool measured them."),
    "resolved_at": ("timestamp", "When the ticket was resolved."),
    "closed_at": ("timestamp", "When the ticket was closed."),
    "reopen_count": ("integer", "How often the ticket was reopened."),
    "reassignment_count": ("integer", "How often the ticket was reassigned to another team."),
    "sla_breached": ("boolean", "The ticket missed an SLA timer (ServiceNow `made_sla` is its negation)."),
    "response_breached": ("boolean", "The first-response timer was missed."),
    "resolution_breached": ("boolean", "The resolution timer was missed."),
    "problem_id": ("text", "Problem record the ticket is linked to in the tool (tickets per problem)."),
    "knowledge": ("boolean", "A knowledge article was used to resolve the ticket (ServiceNow `knowledge`): the KB-assisted share."),
    "satisfaction": (
        "score",
        "The customer's satisfaction rating, 1 (worst) to 5 (best); `values:` maps another scale or words onto it (Zendesk "
        "`good` → 5, `bad` → 1) and a word mapped to a missing marker (`offered` → `-`) means not rated. Any other value stops "
        "the import.",
    ),
    "text": ("freetext", "Subject and description: read only to extract error codes, never stored."),
}
REQUIRED = ("id", "opened_at")
SIGNATURE_PARTS = ("service", "category", "subcategory", "symptom", "ci")
STATUS_CLASSES: tuple[str, ...] = ("new", "open", "pending", "resolved", "closed", "cancelled")
DONE_CLASSES = ("resolved", "closed", "cancelled")
