"""``kedb notify``: escalation cards for what needs a person now, from the imported tickets.

Two things escalate, each decided where it is decided for every other output:

- a **problem candidate**: a signature :func:`kedb.tickets.candidates.find` *proposes* (not
  covered by a record, not held back by a rejection in ``content/decisions.yml``);
- an **open ticket at or past the card threshold** (90 % by default, one of ``sla_thresholds``
  in ``content/progression.yml``) of its response or resolution timer, placed by the flow audit
  (:func:`kedb.tickets.audit.compute`, :mod:`kedb.tickets.audit_sla`) as of the same day.

Each card says what escalates, who owns it and who is told, the deadline, the blast radius and
the next checkpoint, from the program's own files:

- a candidate is owned by its service's primary owner (as the draft problem record would be) and
  told to the problem managers, who accept or reject it in the weekly problem review; the ticket-
  to-problem loop leaves nothing undecided for more than two reviews, so the deadline is
  :data:`DECIDE_WITHIN_REVIEWS` reviews of :data:`REVIEW_EVERY_DAYS` days after the day the
  candidate was *raised*: the first day one of its rules was met (for a signature proposed again
  after a rejection, the first day its window grew past the regrowth volume; after a
  reinstatement, no earlier than the reinstatement);
- a ticket is owned by its service's support owner (the ticket's service in the taxonomy), or
  else by the tier that keeps every ticket until it is handed on (``tier-1`` of
  ``content/escalation.yml``), and told to the incident leads, who decide at 90 % and run the
  daily aged-ticket review (the SLA breach prevention playbook). The deadline is the moment the
  timer reaches its limit if its clock runs on, on the policy's ``sla_clock``; the next checkpoint
  is the next working morning's aged-ticket review.

A card's **id** says what it escalates: ``candidate:SIGNATURE`` (with ``:again:DATE`` for a
signature proposed again after the rejection of DATE, ``:reinstated:DATE`` after a
reinstatement) and ``sla:TICKET:PERCENT``, the highest threshold the ticket reached (a ticket
past 90 % gets a card, and another once it breaches). Whoever sends cards remembers these ids.

Cards carry ids, counts, signatures, names from ``content/``, tenant ids and deadlines: never a
ticket's text, a caller, or a customer's name from the export (customers are counted; those that
are tenants of ``content/kedb.yml`` are named by their tenant id). How they read, escaped for
chat, is ``kedb.cli.notifyfmt``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from ..core import present
from ..core.errors import UsageError
from ..core.kb import KB
from ..core.progression import WEEKDAYS, Clock, ProgressionFile, WorkingHours, clock_minutes
from . import audit_sla as S
from .audit import compute, resolve_as_of
from .candidates import DEFAULT_RECURRENCE, Candidate, create_signature_view, distinct_sql, find
from .coverage import span
from .drafts import owner_of
from .store import StoreInfo
from .tenants import which

CARD_PERCENT = 90.0  # the playbook's "critical" point: the incident lead decides
REVIEW_EVERY_DAYS = 7  # the weekly problem review
DECIDE_WITHIN_REVIEWS = 2  # "nothing stays undecided for more than two reviews"
DECIDES_CANDIDATES = "problem-manager"
TOLD_ON_SLA = "incident-lead"
FALLBACK_TIER = "tier-1"
MAX_IDS = 10  # ticket ids on a candidate's card: the latest of its window, as `kedb candidates` lists them


@dataclass(frozen=True)
class Who:
    """A person (or, when no person is named, a role or tier) and why they are on the card."""

    name: str
    handle: str | None
    role: str  # e.g. "primary owner of printing", "problem manager"


@dataclass(frozen=True)
class When:
    at: date | datetime | None
    text: str


@dataclass(frozen=True)
class Blast:
    tickets: int
    customers: int | None  # None: the export has no customer field
    tenants: tuple[str, ...]  # tenant ids of content/kedb.yml among those customers
    services: tuple[str, ...]  # services of the taxonomy the tickets name
    window_days: int | None = None  # a candidate's rule window
    total: int | None = None  # every ticket with the signature


@dataclass(frozen=True)
class TimerUse:
    timer: str  # response / resolution
    used_percent: float
    running: bool


@dataclass(frozen=True)
class Card:
    id: str
    kind: str  # "candidate" or "sla"
    subject: str  # the signature, or the ticket id
    what: str  # plain words, built from ids and numbers only
    owner: Who
    told: tuple[Who, ...]
    deadline: When
    blast: Blast
    checkpoint: When
    action: str
    priority: str | None = None
    threshold: float | None = None  # sla: the highest threshold reached
    timers: tuple[TimerUse, ...] = ()
    rule: tuple[str, str] | None = None  # candidate: (rule id, rule name)
    raised: date | None = None
    ticket_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class Cards:
    as_of: date
    cards: tuple[Card, ...]
    kinds: tuple[str, ...]  # the kinds this run could compute (a missing policy leaves SLA cards out)
    notes: tuple[str, ...]
    threshold: float


# ---------------------------------------------------------------- building
def build(con: Any, kb: KB, info: StoreInfo, as_of: date | None = None, threshold: float = CARD_PERCENT) -> Cards:
    """Every card as of the end of ``as_of`` (default: the last day the export covers, as the audit's)."""
    day, notes = resolve_as_of(span(con), info, as_of)
    policy = kb.program.progression
    kinds = ["candidate"]
    cards = _candidate_cards(con, kb, info, day)
    if policy is None:
        notes.append("no SLA cards: content/progression.yml is missing, so there are no SLA thresholds")
    elif kb.program.triage is None:
        notes.append("no SLA cards: content/triage.yml is missing, so there are no SLA timers")
    else:
        if threshold not in policy.sla_thresholds:
            listed = ", ".join(f"{p:g}" for p in policy.sla_thresholds)
            raise UsageError(f"--threshold {threshold:g} is not one of the sla_thresholds of content/progression.yml ({listed})")
        run = compute(con, kb, info, day)
        cards += _sla_cards(con, kb, policy, day, run.on_thresholds, run.thresholds, threshold)
        kinds.append("sla")
    return Cards(day, tuple(cards), tuple(kinds), tuple(notes), threshold)


def role_holders(kb: KB, role: str) -> tuple[Who, ...]:
    roles = kb.program.roles
    people = [p for p in roles.people if role in p.roles] if roles else []
    word = role.replace("-", " ")
    return tuple(Who(p.name, p.handle, word) for p in people) or (Who(f"nobody: no person in content/roles.yml is a {word}", None, ""),)


def _tenants_and_services(con: Any, kb: KB, ids: tuple[str, ...]) -> dict[str, tuple[str | None, str | None]]:
    """ticket id -> (tenant id of content/kedb.yml, normalised service) for ``ids``."""
    tenants = list(kb.program.settings.tenants) if kb.program.settings else []
    rows = con.execute(
        f"SELECT id, {which(tenants)}, service_n FROM tickets WHERE id IN (SELECT unnest($1::VARCHAR[]))", [list(ids)]
    ).fetchall()
    return {i: (t, s) for i, t, s in rows}


def _service_name(kb: KB, service: str) -> str:
    svc = next((s for s in kb.program.services.services if s.id == service), None) if kb.program.services else None
    return f"{service} ({svc.name})" if svc else service


# ---------------------------------------------------------------- problem candidates
def _candidate_cards(con: Any, kb: KB, info: StoreInfo, day: date) -> list[Card]:
    rep = find(con, kb, info.columns, until=day)
    proposed = rep.proposed
    if not proposed:
        return []
    recurrence = kb.program.recurrence or DEFAULT_RECURRENCE  # as find() reads it
    create_signature_view(con, recurrence, info.columns, day)
    told = role_holders(kb, DECIDES_CANDIDATES)
    known = kb.program.service_ids
    out = []
    for c in proposed:
        key, raised = _raised(con, kb, info, c)
        w = c.trigger
        service = c.service(known)
        owner = (
            Who(*_person(kb, owner_of(kb, service)), f"primary owner of {_service_name(kb, service)}")
            if service and kb.program.roles
            else Who(told[0].name, told[0].handle, "problem manager (its tickets name no service of content/services.yml)")
        )
        where = _tenants_and_services(con, kb, w.ticket_ids)
        tenants = tuple(sorted({t for t, _ in where.values() if t}))
        services = tuple(sorted({s for s in w.services if s in known}))
        deadline = raised + timedelta(days=REVIEW_EVERY_DAYS * DECIDE_WITHIN_REVIEWS)
        rule = next((r for r in recurrence.rules if r.id == w.rule), None)
        again = c.rejected if c.rejected is not None and c.rejected.proposed_again else None
        what = f"{w.tickets} tickets with one signature in {w.window_days} days meet rule {w.rule} ({rule.name if rule else w.rule}); "
        what += f"raised on {raised}"
        if again:
            what += f", proposed again: rejected on {again.decision.decided_on} at {again.decision.volume} tickets, grown to {again.now}"
        what += "; not decided yet"
        out.append(
            Card(
                id=key,
                kind="candidate",
                subject=c.shown,
                what=what,
                owner=owner,
                told=told,
                deadline=When(deadline, _decide_text(deadline, day)),
                blast=Blast(
                    w.tickets,
                    w.distinct_customers if "customer" in info.columns else None,
                    tenants,
                    services,
                    w.window_days,
                    c.total,
                ),
                checkpoint=_review(raised, day),
                action="accept it as a problem record (kedb candidates --write, then an owner and a root-cause due date) or "
                "reject it with a reason (kedb candidates --reject)",
                rule=(w.rule, rule.name if rule else w.rule),
                raised=raised,
                ticket_ids=tuple(t for t in w.ticket_ids if S.shown_id(t))[-MAX_IDS:],
            )
        )
    return out


def _person(kb: KB, handle: str) -> tuple[str, str]:
    p = kb.program.people.get(handle)
    return (p.name if p else handle), handle


def _raised(con: Any, kb: KB, info: StoreInfo, c: Candidate) -> tuple[str, date]:
    """The card id of a proposed candidate and the day it was raised (see the module docstring)."""
    recurrence = kb.program.recurrence or DEFAULT_RECURRENCE
    log = kb.program.decisions
    again = c.rejected if c.rejected is not None and c.rejected.proposed_again else None
    if again is not None:
        d = again.decision
        rules = [(r, max(r.min_tickets, again.again_at)) for r in recurrence.rules if r.id == d.rule]
        first = _first_met(con, info, c.shown, rules, after=d.decided_on)
        return f"candidate:{c.shown}:again:{d.decided_on}", first or c.trigger.last_seen
    first = _first_met(con, info, c.shown, [(r, r.min_tickets) for r in recurrence.rules], after=None) or c.trigger.last_seen
    last = None
    for d in log.decisions if log else ():
        if d.signature == c.shown and d.kind in ("rejected", "reinstated"):
            last = d
    if last is not None and last.kind == "reinstated":
        return f"candidate:{c.shown}:reinstated:{last.decided_on}", max(first, last.decided_on)
    return f"candidate:{c.shown}", first


def _first_met(con: Any, info: StoreInfo, shown: str, rules: list[tuple[Any, int]], after: date | None) -> date | None:
    """The day of the first ticket (opened after the end of ``after``) whose window meets one of ``rules``, each with
    its own least number of tickets: the window of :mod:`kedb.tickets.candidates`, over its table ``sig``."""
    if not rules:
        return None
    cols, meets = [], []
    for i, (r, least) in enumerate(rules):
        frame = f"ORDER BY opened_at RANGE BETWEEN INTERVAL {int(r.window_days)} DAYS PRECEDING AND CURRENT ROW"
        cols.append(f"count(*) OVER ({frame}) AS n{i}, count(DISTINCT {distinct_sql(r.distinct_by, info.columns)}) OVER ({frame}) AS d{i}")
        meets.append(f"(n{i} >= {int(least)} AND d{i} >= {int(r.min_distinct)})")
    since = datetime.combine(after + timedelta(days=1), time()) if after else datetime(1, 1, 1)
    row = con.execute(
        f"SELECT min(opened_at)::DATE FROM (SELECT opened_at, {', '.join(cols)} FROM sig WHERE shown = $1) "
        f"WHERE ({' OR '.join(meets)}) AND opened_at >= $2",
        [shown, since],
    ).fetchone()
    return row[0] if row else None


def _decide_text(deadline: date, day: date) -> str:
    late = (day - deadline).days
    when = f"decide by {deadline} (within {DECIDE_WITHIN_REVIEWS} weekly problem reviews of being raised)"
    return f"{when}: overdue by {present.days(late)}" if late > 0 else when


def _review(raised: date, day: date) -> When:
    """The next weekly problem review that should decide it: a week after it was raised, then the deadline."""
    for k in range(1, DECIDE_WITHIN_REVIEWS + 1):
        at = raised + timedelta(days=REVIEW_EVERY_DAYS * k)
        if at >= day:
            return When(at, f"weekly problem review no. {k} since it was raised, by {at}")
    return When(None, "the next weekly problem review: every review it waits is past the deadline")


# ---------------------------------------------------------------- tickets past the threshold
def _sla_cards(
    con: Any, kb: KB, policy: ProgressionFile, day: date, placed: tuple[S.Placed, ...], thresholds: tuple[float, ...], threshold: float
) -> list[Card]:
    hit = [(p.highest(thresholds), p) for p in placed]
    hit = [(h, p) for h, p in hit if h is not None and h >= threshold]
    if not hit:
        return []
    instant = datetime.combine(day + timedelta(days=1), time())  # the audit's moment: the end of its day
    where = _tenants_and_services(con, kb, tuple(p.id for _, p in hit))
    known = kb.program.service_ids
    told = role_holders(kb, TOLD_ON_SLA)
    triage = kb.program.triage
    updates = {c.id: c.update_minutes for c in triage.priorities} if triage else {}
    review = _next_morning(instant, policy.working_hours)
    out = []
    for level, p in hit:
        tenant, service = where.get(p.id, (None, None))
        service = service if service in known else None
        uses = tuple(
            TimerUse(name, round(u, 1), bool(t[2]))
            for name in ("response", "resolution")
            if (t := p.timer(name)) is not None and (u := p.used_percent(name)) is not None
        )
        breached = level >= 100
        past = [u for u in uses if p.past(u.timer, threshold)]
        what = (
            f"{p.priority} ticket open {present.quantity(p.age_hours, 'hours')}; "
            + ", ".join(
                f"{u.timer} timer {present.quantity(u.used_percent, 'percent')} used{'' if u.running else ' (stopped)'}" for u in uses
            )
            + f": past {level:g} %"
        )
        update = updates.get(p.priority)
        action = (
            "the incident lead decides whether to add people or agree a new time with the customer"
            if not breached
            else "log the breach with its cause; the ticket stays in the daily aged-ticket review until it closes"
        )
        if update:
            action += f"; update the customer at least every {present.duration(update, 'minutes')} ({p.priority} update interval)"
        out.append(
            Card(
                id=f"sla:{p.id}:{level:g}",
                kind="sla",
                subject=p.id,
                what=what,
                owner=_ticket_owner(kb, service),
                told=told,
                deadline=_breach(p, past, instant, policy.sla_clock, policy.working_hours),
                blast=Blast(1, None, (tenant,) if tenant else (), (service,) if service else ()),
                checkpoint=When(review, f"daily aged-ticket review, {review:%Y-%m-%d %H:%M} (the next working morning)"),
                action=action,
                priority=p.priority,
                threshold=level,
                timers=uses,
            )
        )
    return out


def _ticket_owner(kb: KB, service: str | None) -> Who:
    roles = kb.program.roles
    owner = next((a.support_owner for a in roles.assignments if a.service == service), None) if roles and service else None
    if owner is not None and service is not None:
        return Who(*_person(kb, owner), f"support owner of {_service_name(kb, service)}")
    tiers = kb.program.escalation.tiers if kb.program.escalation else []
    tier = next((t for t in tiers if t.id == FALLBACK_TIER), tiers[0] if tiers else None)
    if tier is None:
        return Who("the service desk", None, "no service of content/services.yml and no content/escalation.yml")
    staff = [p for p in (roles.people if roles else []) if tier.role and tier.role in p.roles]
    names = ", ".join(p.name for p in staff)
    return Who(f"{tier.name}" + (f": {names}" if names else ""), None, f"escalation tier {tier.id} (no service of content/services.yml)")


def _breach(p: S.Placed, past: list[TimerUse], instant: datetime, clock: Clock, wh: WorkingHours) -> When:
    """When the first running timer past the threshold reaches its limit (the resolution timer when none runs)."""
    running = [u.timer for u in past if u.running] or ["resolution"]
    best: tuple[float, str] | None = None
    for name in running:
        t = p.timer(name)
        if t is not None and (best is None or t[1] - t[0] < best[0]):
            best = (t[1] - t[0], name)
    assert best is not None
    left, name = best
    if left <= 0:
        return When(None, f"breached: the {name} timer is {present.duration(-left, 'minutes')} past its limit ({clock} clock)")
    at = on_clock(instant, left, clock, wh)
    if at is None:
        return When(None, f"the {name} timer has {present.duration(left, 'minutes')} left, but the working week has no hours")
    return When(at, f"the {name} timer reaches its limit at {at:%Y-%m-%d %H:%M} if its clock runs on ({clock} clock)")


def on_clock(start: datetime, minutes: float, clock: Clock, wh: WorkingHours) -> datetime | None:
    """The first moment (to the minute) ``minutes`` of ``clock`` after ``start``: the inverse of
    :func:`kedb.core.progression.clock_minutes` (None when the clock never advances)."""
    if clock == "calendar":
        return start + timedelta(minutes=minutes)
    target = clock_minutes(start, clock, wh) + minutes
    week = clock_minutes(datetime(1970, 1, 12), clock, wh) - clock_minutes(datetime(1970, 1, 5), clock, wh)
    if week <= 0:
        return None
    lo, hi = 0, int((minutes // week + 2) * 7 * 1440)
    while lo < hi:
        mid = (lo + hi) // 2
        if clock_minutes(start + timedelta(minutes=mid), clock, wh) >= target:
            hi = mid
        else:
            lo = mid + 1
    return start + timedelta(minutes=lo)


def _next_morning(instant: datetime, wh: WorkingHours) -> datetime:
    start = wh.minutes()[0]
    for k in range(8):
        d = instant.date() + timedelta(days=k)
        at = datetime.combine(d, time()) + timedelta(minutes=start)
        if WEEKDAYS[d.weekday()] in wh.days and at >= instant:
            return at
    return instant  # every day is a working day with no hours: the review is now
